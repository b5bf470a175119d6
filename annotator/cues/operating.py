"""The spans' operating point: per-label score thresholds chosen on held-out articles, and applying them.

A fitted :class:`~annotator.cues.tagger.CueTagger` scores every candidate span; its
``operating_point_`` holds, per label, the lowest span score at which the held-out articles' spans
reach ``target_precision`` (partial-overlap span precision, :func:`annotator.spans.span_prf`), with
the precision and recall there. ``tag``, ``score`` and ``push`` emit only spans at or above it
unless told otherwise (:func:`span_cutoffs`: one ``min_score`` for every label, or all candidates).
"""
from __future__ import annotations

import numpy as np

from ..spans import _covered_before, merged, span_prf

__all__ = ["TARGET_PRECISION", "MIN_RECALL", "choose_threshold", "span_cutoffs", "apply_cutoffs"]

#: The precision every label's operating point aims for.
TARGET_PRECISION = 0.6
#: Below this held-out recall the target costs too much: the label keeps the most precise threshold
#: that still finds this share of the gold spans, and its record says the target was not met.
MIN_RECALL = 0.1
def _flat(gold, pred):
    """Articles laid end to end: merged gold (starts, ends), and the predictions' starts, ends, scores."""
    gs, ge, ps, pe, sc = [], [], [], [], []
    base = 0
    for g, p in zip(gold, pred):
        gs.extend(base + int(s) for s, _ in g)
        ge.extend(base + int(e) for _, e in g)
        ps.extend(base + int(s) for s, _, _ in p)
        pe.extend(base + int(e) for _, e, _ in p)
        sc.extend(float(x) for _, _, x in p)
        base += max([0] + [int(e) for _, e in g] + [int(e) for _, e, _ in p]) + 1
    gs, ge = merged(gs, ge)
    return gs, ge, np.asarray(ps, np.int64), np.asarray(pe, np.int64), np.asarray(sc, dtype=float)


def _gold_weight_before(gs, ge, x):
    """Sum over the (disjoint, sorted) gold spans of the share of each that lies before offset ``x``."""
    if not len(gs):
        return np.zeros(len(x))
    j = np.searchsorted(gs, x, side="right") - 1
    k = np.maximum(j, 0)
    part = np.clip((x - gs[k]) / (ge[k] - gs[k]), 0.0, 1.0)
    return np.where(j >= 0, k + part, 0.0)


def _sweep(gold, pred):
    """(thresholds, precision, recall) at every distinct predicted score, highest first, in one pass.

    Each prediction's precision credit and recall contribution are computed once (the spans of one
    label do not overlap once merged), so keeping the top k is a cumulative sum.
    """
    gs, ge, ps, pe, sc = _flat(gold, pred)
    keep = pe > ps
    ps, pe, sc = ps[keep], pe[keep], sc[keep]
    if not len(sc):
        return sc, sc, sc
    p_credit = (_covered_before(gs, ge, pe) - _covered_before(gs, ge, ps)) / np.maximum(pe - ps, 1)
    r_credit = _gold_weight_before(gs, ge, pe) - _gold_weight_before(gs, ge, ps)
    order = np.argsort(-sc, kind="stable")
    sc, cp, cr = sc[order], np.cumsum(p_credit[order]), np.cumsum(r_credit[order])
    last = np.flatnonzero(np.append(sc[1:] != sc[:-1], True))  # the last prediction of each distinct score
    return sc[last], cp[last] / (last + 1), cr[last] / max(len(gs), 1)


def choose_threshold(gold, pred, target=TARGET_PRECISION, min_recall=MIN_RECALL) -> dict:
    """The operating point of one label on held-out articles.

    Every distinct predicted score is tried as the threshold (one sorted pass); the figures reported
    at the chosen one are :func:`annotator.spans.span_prf`'s.

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
    base = span_prf(gold, [[(s, e) for s, e, _ in p] for p in pred])
    out = {"candidates_precision": round(base["precision"], 4), "candidates_recall": round(base["recall"], 4),
           "held_out_articles": len(gold), "gold_spans": sum(map(len, gold))}
    thresholds, precision, recall = _sweep(gold, pred)
    if not len(thresholds):
        return {**out, "threshold": 0.0, "precision": 0.0, "recall": 0.0, "target_met": False,
                "note": "no held-out spans"}
    met = np.flatnonzero((precision >= target) & (recall >= min_recall))
    note = None
    if len(met):
        k = met[-1]  # the lowest threshold (most recall) that still reaches the target
    else:
        ok = np.flatnonzero(recall >= min_recall)
        ok = ok if len(ok) else np.arange(len(thresholds))
        k = ok[np.flatnonzero(precision[ok] == precision[ok].max())[-1]]  # most precise; the lowest on ties
        reach = recall[precision >= target]
        note = (f"precision {target} not reached at any threshold" if not len(reach) else
                f"precision {target} only with recall {reach.max():.3f} < {min_recall}") + \
            f": threshold kept at the most precise point with recall >= {min_recall}"
    t = float(thresholds[k])
    r = span_prf(gold, [[(s, e) for s, e, sc in p if sc >= t] for p in pred])  # exact figures at it
    res = {**out, "threshold": t, "precision": round(r["precision"], 4), "recall": round(r["recall"], 4),
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
