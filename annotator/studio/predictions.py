"""Pre-annotations: spans, reliability and framing risk -> a Label Studio prediction (``model_version``, ``score``, ``result``).

A prediction fills every field of the label config it can:

* each span becomes a ``labels`` region with its own score and, when the span has one, its voice
  as the region's ``meta`` note (``voice: quoted (attributed to Smith)``): Label Studio shows a
  region's meta in its details panel; a per-region choice would change the label config;
* a region whose label pre-fills a reliability (the ``reliability`` attribute of
  its ``<Label>`` in the XML: an anonymous source is ``anonymous`` by definition)
  gets that per-region choice; other source regions are left to the annotator;
* with a framing model, the document's band pre-fills the framing-risk rating, whose
  ``meta`` note holds the 0-100 risk (``framing risk 72.4``), and the prediction's ``score``
  is the model's confidence, ``1 - informativeness``
  (:func:`annotator.studio.informativeness.confidence`): the one meaning every writer (push,
  the ML backend, the queue) gives it, which Label Studio's ordering and the review queue use.
  Without one (a tagger or the rules) there is no rating and no score.
"""
from __future__ import annotations

import math

from ..errors import AnnotatorError
from ..taxonomy import Taxonomy
from .offsets import py_to_ls_offsets

__all__ = ["build_prediction"]


def _voice_note(span: dict) -> str:
    """The region note of a span's voice: ``voice: quoted (attributed to Smith)`` or ``voice: narrator``."""
    src = span.get("attributed_to") or {}
    return f"voice: {span['voice']}" + (f" (attributed to {src['text']})" if src.get("text") else "")


def build_prediction(text: str, spans: list[dict], model_version: str, taxonomy: Taxonomy,
                     unit: str = "codepoint", *, risk: float | None = None, band: str | None = None,
                     score: float | None = None) -> dict:
    """A Label Studio prediction ``{"model_version", "result"[, "score"]}`` for one article.

    Parameters
    ----------
    text : str
        The article text (as in the task data).
    spans : list of dict
        ``label``, ``start``, ``end`` (Python offsets into ``text``) and ``score``.
    model_version : str
    taxonomy : Taxonomy
    unit : str
        Offset unit of the server (:func:`annotator.studio.offsets.py_to_ls_offsets`).
    risk, band : optional
        A framing model's 0-100 risk and band (a rating choice): the band pre-fills the
        framing-risk rating, the risk is that rating's note (``meta``).
    score : float, optional
        The prediction's score in [0, 1]: the model's confidence (module docstring).

    Returns
    -------
    dict
        Spans as ``labels`` regions (``value.text`` is the article text at the
        span), pre-filled reliability choices on those regions, the rating.
    """
    result = []
    prefill = taxonomy.reliability_prefill
    for i, sp in enumerate(spans):
        label = taxonomy.check_label(sp["label"])
        s, e = int(sp["start"]), int(sp["end"])
        if not 0 <= s < e <= len(text):
            raise AnnotatorError(f"tagger span {label} [{s}, {e}) is outside the article ({len(text)} characters)")
        ls_s, ls_e = py_to_ls_offsets(text, s, e, unit)
        where = {"start": ls_s, "end": ls_e, "text": text[s:e]}
        region = {"id": f"p{i}", "from_name": taxonomy.span_from_name, "to_name": taxonomy.to_name,
                  "type": "labels", "score": float(sp.get("score", 1.0)), "value": {**where, "labels": [label]}}
        if sp.get("voice"):  # shown in the region's meta (notes) box; not a field of the label config
            region["meta"] = {"text": [_voice_note(sp)]}
        result.append(region)
        if label in prefill:
            result.append({"id": f"p{i}", "from_name": taxonomy.reliability_from_name, "to_name": taxonomy.to_name,
                           "type": "choices", "value": {**where, "choices": [prefill[label]]}})
    prediction = {"model_version": str(model_version), "result": result}
    if band is not None:
        if band not in taxonomy.rating_choices:
            raise AnnotatorError(f"band {band!r} is not a framing-risk rating ({', '.join(taxonomy.rating_choices)})")
        rating = {"id": "document", "from_name": taxonomy.rating_from_name, "to_name": taxonomy.to_name,
                  "type": "choices", "value": {"choices": [band]}}
        if risk is not None and not math.isnan(risk):
            rating["meta"] = {"text": [f"framing risk {float(risk):.1f}"]}
        result.append(rating)
    if score is not None and not math.isnan(score):
        if not 0.0 <= score <= 1.0:
            raise AnnotatorError(f"prediction score {score!r} is outside [0, 1]")
        prediction["score"] = round(float(score), 6)
    return prediction
