"""Pre-annotations: tagger spans -> a Label Studio prediction (``model_version``, ``score``, ``result``)."""
from __future__ import annotations

from ..errors import AnnotatorError
from ..taxonomy import Taxonomy
from .offsets import py_to_ls_offsets

__all__ = ["build_prediction", "checked_tags"]


def build_prediction(text: str, spans: list[dict], model_version: str, taxonomy: Taxonomy,
                     unit: str = "codepoint") -> dict:
    """A Label Studio prediction ``{"model_version", "score", "result"}`` from tagger spans.

    Each span becomes a ``labels`` region (``value.text`` is the article text at
    the span, offsets converted with :func:`annotator.studio.offsets.py_to_ls_offsets`);
    the score is the mean span score, 0 with no span.
    """
    result = []
    scores = []
    for i, sp in enumerate(spans):
        label = taxonomy.check_label(sp["label"])
        s, e = int(sp["start"]), int(sp["end"])
        if not 0 <= s < e <= len(text):
            raise AnnotatorError(f"tagger span {label} [{s}, {e}) is outside the article ({len(text)} characters)")
        ls_s, ls_e = py_to_ls_offsets(text, s, e, unit)
        score = float(sp.get("score", 1.0))
        scores.append(score)
        result.append({
            "id": f"p{i}", "from_name": taxonomy.span_from_name, "to_name": taxonomy.to_name, "type": "labels",
            "score": score, "value": {"start": ls_s, "end": ls_e, "text": text[s:e], "labels": [label]},
        })
    score = sum(scores) / len(scores) if scores else 0.0
    return {"model_version": str(model_version), "score": round(score, 6), "result": result}


def checked_tags(tagger, texts: list[str]) -> list[list[dict]]:
    """``tagger.tag(texts)``, checked to give one span list per text."""
    spans = tagger.tag(texts)
    if len(spans) != len(texts):
        raise AnnotatorError(f"tagger returned {len(spans)} span lists for {len(texts)} texts")
    return spans
