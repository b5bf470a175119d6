"""The spans' operating point: per-label score thresholds chosen on held-out articles, and applying them.

A fitted :class:`~annotator.cues.tagger.CueTagger` scores every candidate span; its
``operating_point_`` holds, per label, the lowest span score at which the held-out articles' spans
reach ``target_precision`` (partial-overlap span precision, :func:`annotator.spans.span_prf`), with
the precision and recall there. ``tag``, ``score`` and ``push`` emit only spans at or above it
unless told otherwise (:func:`span_cutoffs`: one ``min_score`` for every label, or all candidates).
"""
from __future__ import annotations

import numpy as np

from ..spans import span_prf

__all__ = ["TARGET_PRECISION", "MIN_RECALL", "choose_threshold", "span_cutoffs", "apply_cutoffs"]

#: The precision every label's operating point aims for.
TARGET_PRECISION = 0.6
#: Below this held-out recall the target costs too much: the label keeps the most precise threshold
#: that still finds this share of the gold spans, and its record says the target was not met.
MIN_RECALL = 0.1
#: At most this many thresholds are tried per label (quantiles of the held-out span scores).
_GRID = 120


def _prf_at(t, gold, pred):
    kept = [[(s, e) for s, e, sc in p if sc >= t] for p in pred]
    return span_prf(gold, kept)


def choose_threshold(gold, pred, target=TARGET_PRECISION, min_recall=MIN_RECALL) -> dict:
    """The operating point of one label on held-out articles.

    Parameters
    ----------
    gold : list of list of (start, end)
        Gold spans per article.
    pred : list of list of (start, end, score)
        Predicted spans per article (all candidates).
    target, min_recall : float
        The precision aimed for, and the least recall worth keeping.

    Returns
    -------
    dict
        ``threshold``, held-out ``precision`` and ``recall`` at it, ``target_met``, the
        ``candidates_precision`` / ``candidates_recall`` of all candidates, ``held_out_articles``,
        ``gold_spans``, and ``note`` when the target was not met.
    """
    scores = np.array([sc for p in pred for _, _, sc in p], dtype=float)
    base = span_prf(gold, [[(s, e) for s, e, _ in p] for p in pred])
    out = {"candidates_precision": round(base["precision"], 4), "candidates_recall": round(base["recall"], 4),
           "held_out_articles": len(gold), "gold_spans": sum(map(len, gold))}
    if not len(scores):
        return {**out, "threshold": 0.0, "precision": 0.0, "recall": 0.0, "target_met": False,
                "note": "no held-out spans"}
    grid = np.unique(np.quantile(scores, np.linspace(0, 1, _GRID), method="lower"))  # scores that occur
    table = [(float(t), _prf_at(t, gold, pred)) for t in grid]
    met = [(t, r) for t, r in table if r["precision"] >= target and r["recall"] >= min_recall]
    if met:
        t, r = met[0]
        note = None
    else:
        ok = [(t, r) for t, r in table if r["recall"] >= min_recall] or table[:1]
        t, r = max(ok, key=lambda tr: (tr[1]["precision"], -tr[0]))
        reach = [rr["recall"] for _, rr in table if rr["precision"] >= target]
        note = (f"precision {target} not reached at any threshold" if not reach else
                f"precision {target} only with recall {max(reach):.3f} < {min_recall}") + \
            f": threshold kept at the most precise point with recall >= {min_recall}"
    res = {**out, "threshold": round(t, 4), "precision": round(r["precision"], 4), "recall": round(r["recall"], 4),
           "target_met": note is None}
    if note:
        res["note"] = note
    return res


def span_cutoffs(tagger=None, min_score=None, all_candidates=False):
    """Per-label minimum span scores to emit, or None to emit every candidate.

    Parameters
    ----------
    tagger : CueTagger or None
        Its ``operating_point_`` gives the default thresholds (a tagger without one, or None, emits
        every candidate).
    min_score : float or None
        One threshold for every label instead of the operating point.
    all_candidates : bool
        Emit every candidate span (what ``tag`` did before the operating point).
    """
    if all_candidates:
        return None
    if min_score is not None:
        return {"*": float(min_score)}
    point = getattr(tagger, "operating_point_", None)
    if not point:
        return None
    return {lab: float(rec["threshold"]) for lab, rec in point.items()}


def apply_cutoffs(spans: list, cutoffs) -> list:
    """The span dicts whose score reaches their label's cutoff (:func:`span_cutoffs`; None keeps all)."""
    if cutoffs is None:
        return spans
    every = cutoffs.get("*")
    if every is not None:
        return [d for d in spans if d["score"] >= every]
    return [d for d in spans if d["score"] >= cutoffs.get(d["label"], 0.0)]
