"""What a tagger being fitted learns from its held-out tuning articles: decision thresholds, and the operating point."""
from __future__ import annotations

import numpy as np

from ..decoding import sigmoid, tune_threshold
from ..operating import choose_threshold
from .prediction import held_out_spans
from .training import fit_classifiers, repeated

__all__ = ["operating_point", "tune_thresholds"]


def tune_thresholds(est, arts, Xdoc, context_j, window_cols):
    """Fit without each tuning part and score it; tune each label's hysteresis thresholds on those
    held-out scores (``est.thresholds_``, ``low_thresholds_``, ``fit_report_``), each tuning article
    repeated by its weight (``arts.weight``). Returns the held-out token probabilities (None outside
    the tuning parts)."""
    part = arts.part
    held = [None] * len(Xdoc)
    for k in range(part.max() + 1):
        docs = [[i for i in d if part[i] != k] for d in arts.docs]
        coefs, icpt = fit_classifiers(est, Xdoc, arts.lengths, docs, context_j, window_cols, arts.weight)
        for i in np.flatnonzero(part == k):
            held[i] = sigmoid(np.asarray(Xdoc[i] @ coefs.T) + icpt)
    for j, lab in enumerate(est.labels_):
        td = [i for i in arts.docs[j] if part[i] >= 0]
        if not td:
            continue
        tw = repeated(td, arts.weight)
        gold = [[(s, e) for (l_, s, e) in arts.y[i] if l_ == lab] for i in tw]
        high, low, f1, curve = tune_threshold([held[i][:, j] for i in tw], gold, [arts.starts[i] for i in tw],
                                              [arts.ends[i] for i in tw], [arts.segs[i] for i in tw])
        est.thresholds_[j], est.low_thresholds_[j] = high, low
        est.fit_report_[lab] = {"threshold": high, "low_threshold": low, "tune_f1": round(f1, 4),
                                "train_articles": len(arts.docs[j]), "tune_articles": len(td), "pr_curve": curve}
    return held


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
        td = repeated([i for i in arts.docs[j] if arts.part[i] >= 0], getattr(arts, "weight", None))
        if td:
            gold = [[(s, e) for l_, s, e in arts.y[i] if l_ == lab] for i in td]
            pred = [[(d["start"], d["end"], d["score"]) for d in spans[i] if d["label"] == lab] for i in td]
            point[lab] = choose_threshold(gold, pred, est.target_precision)
    return point
