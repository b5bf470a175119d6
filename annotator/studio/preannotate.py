"""Pre-annotators: what fills a task's prediction, a cue tagger (spans) or a framing model (spans, risk, band).

Two kinds of object pre-annotate, told apart by what they offer:

* a **cue tagger** (``model_version`` and ``tag(texts) -> list of span lists``:
  :class:`annotator.cues.CueTagger`, :class:`annotator.cues.RulesTagger`): spans only;
* a **framing model** (``model_version``, ``tagger_`` and ``score(frame)`` returning
  ``spans``, ``risk`` and ``band`` per article: :class:`annotator.model.FramingModel`):
  spans plus the document's 0-100 risk and its band, which pre-fill the
  framing-risk rating, and the prediction's score: the model's confidence,
  ``1 - informativeness`` (:mod:`annotator.studio.informativeness`), the number the
  review queue orders by, so Label Studio's order is right from the first push.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..cues.operating import apply_cutoffs, span_cutoffs
from ..errors import AnnotatorError
from ..paths import DEFAULT_MODEL
from .informativeness import confidence, scored_informativeness

__all__ = ["Preannotation", "is_framing_model", "holds_framing_model", "preannotate", "version_suffix"]


class Preannotation(NamedTuple):
    """What one article's prediction is made from."""

    #: span dicts (``label``, ``start``, ``end``, ``score``), Python offsets into the text
    spans: list
    #: the framing model's 0-100 risk (``None`` for a tagger)
    risk: float | None = None
    #: the framing model's band, one of the rating choices (``None`` for a tagger)
    band: str | None = None
    #: the prediction's score, the model's confidence ``1 - informativeness`` (``None`` for a tagger)
    score: float | None = None


def is_framing_model(predictor) -> bool:
    """Whether ``predictor`` is a framing model (``score`` and ``tagger_``) rather than a cue tagger."""
    return callable(getattr(predictor, "score", None)) and hasattr(predictor, "tagger_") \
        and not callable(getattr(predictor, "tag", None))


def holds_framing_model(path: str | os.PathLike | None = None) -> bool:
    """Whether the skops file ``path`` (default: the shipped model) holds a framing model, read from
    its list of types without loading it (``False`` when unreadable: loading it then says why)."""
    import skops.io as sio  # optional: skops loads only when a model file is read (start-up time)

    try:
        types = sio.get_untrusted_types(file=Path(path) if path is not None else DEFAULT_MODEL)
    except Exception:  # missing, not a zip, another schema: the loader reports it
        return False
    return any(t.rsplit(".", 1)[-1] == "FramingModel" for t in types)


def version_suffix(min_score=None, all_candidates=False) -> str:
    """What a push appends to the ``model_version`` of its predictions when they are not the
    operating point's spans (``@all-candidates``, ``@min-score-0.3``), so that they are told apart."""
    if all_candidates:
        return "@all-candidates"
    return "" if min_score is None else f"@min-score-{float(min_score):g}"


def preannotate(predictor, texts: list[str], min_score=None, all_candidates=False) -> list[Preannotation]:
    """One :class:`Preannotation` per text, from a cue tagger or a framing model (see the module docstring).

    Spans: those at or above the tagger's operating point (``operating_point_``, per label), or
    ``min_score`` for every label, or every candidate (``all_candidates``); see
    :func:`annotator.cues.operating.span_cutoffs`.
    """
    framing = is_framing_model(predictor)
    cut = span_cutoffs(getattr(predictor, "tagger_", None) if framing else predictor, min_score, all_candidates)
    return [p._replace(spans=apply_cutoffs(p.spans, cut)) for p in _preannotate(predictor, texts, framing)]


def _preannotate(predictor, texts, framing) -> list[Preannotation]:
    if framing:
        scored, info = scored_informativeness(
            predictor, pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": list(texts)}))
        if len(scored) != len(texts):
            raise AnnotatorError(f"framing model returned {len(scored)} rows for {len(texts)} texts")
        return [Preannotation(list(spans), None, None) if risk is None or math.isnan(risk)
                else Preannotation(list(spans), float(risk), str(band), confidence(inf))
                for spans, risk, band, inf in zip(scored["spans"], scored["risk"], scored["band"],
                                                  info["informativeness"])]
    spans = predictor.tag(texts)
    if len(spans) != len(texts):
        raise AnnotatorError(f"tagger returned {len(spans)} span lists for {len(texts)} texts")
    return [Preannotation(list(s)) for s in spans]
