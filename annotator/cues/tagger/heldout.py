"""The operating point of a tagger being fitted, from the spans of its held-out tuning articles."""
from __future__ import annotations

import numpy as np

from ..operating import choose_threshold
from .prediction import held_out_spans

__all__ = ["operating_point"]


def operating_point(est, texts, arts, held, filter_held) -> dict:
    """Each label's operating point (``CueTagger.operating_point_``) on the tuning articles.

    The spans are what prediction would emit for those articles had they not been trained on: their
    held-out token scores (``held``, from the tuning fits), the span filter's two-fold cross-fitted
    scores of their candidates (``filter_held``: tuning article -> scores, or None), the frozen rules
    and the vetting. ``arts``: the tokenised training articles (``part``, ``docs``, ``y``).
    """
    tune = np.flatnonzero(arts.part >= 0).tolist()
    filter_held = filter_held or {}
    spans = {}
    for batch in (sorted(filter_held), [i for i in tune if i not in filter_held]):
        if not batch:
            continue
        scores = np.concatenate([filter_held[i] for i in batch]) if batch[0] in filter_held else None
        found = held_out_spans(est, [texts[i] for i in batch], [held[i] for i in batch], scores)
        spans.update(zip(batch, found))
    point = {}
    for j, lab in enumerate(est.labels_):
        td = [i for i in arts.docs[j] if arts.part[i] >= 0]
        if td:
            gold = [[(s, e) for l_, s, e in arts.y[i] if l_ == lab] for i in td]
            pred = [[(d["start"], d["end"], d["score"]) for d in spans[i] if d["label"] == lab] for i in td]
            point[lab] = choose_threshold(gold, pred, est.target_precision)
    return point
