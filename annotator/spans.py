"""Spans as intervals: merging them (offsets, or labelled records) and their precision, recall and F1.

Span scores follow SemEval-2020 Task 11 span identification: a predicted span
earns credit for the share of its characters that overlap gold spans
(precision), a gold span for the share of its characters that predicted spans
cover (recall). Overlapping spans of one label are merged first.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

__all__ = ["merged", "merge_spans", "span_prf", "span_prf_flat", "exact_prf", "sentence_prf"]


def merged(starts, ends):
    """Union of (start, end) arrays: sorted, overlapping or touching spans merged, empty ones dropped."""
    starts, ends = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if not len(starts):
        return starts, ends
    order = np.lexsort((ends, starts))
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > reach[:-1]
    first = np.flatnonzero(new)
    return starts[first], np.maximum.reduceat(ends, first)


def _covered_before(starts, ends, x):
    """Characters of merged (sorted, disjoint) spans that lie before each offset in ``x``."""
    if not len(starts):
        return np.zeros(len(x), dtype=np.int64)
    total = np.cumsum(ends - starts)
    i = np.searchsorted(starts, x, side="right") - 1  # the last span starting before x
    ok = i >= 0
    j = np.maximum(i, 0)
    return np.where(ok, total[j] - np.maximum(0, ends[j] - x), 0)


def span_prf_flat(gold_starts, gold_ends, pred_starts, pred_ends, gold=None) -> dict:
    """:func:`span_prf` on arrays of offsets into one long text (articles laid end to end with at
    least one character between them, so spans of two articles never touch).

    ``gold`` may hold the merged gold spans from :func:`merged` (when scoring many predictions
    against the same gold); ``gold_starts`` and ``gold_ends`` are then ignored.
    """
    gs, ge = merged(gold_starts, gold_ends) if gold is None else gold
    ps, pe = merged(pred_starts, pred_ends)
    p_num = float(np.sum((_covered_before(gs, ge, pe) - _covered_before(gs, ge, ps)) / (pe - ps))) if len(ps) else 0.0
    r_num = float(np.sum((_covered_before(ps, pe, ge) - _covered_before(ps, pe, gs)) / (ge - gs))) if len(gs) else 0.0
    precision = p_num / len(ps) if len(ps) else 0.0
    recall = r_num / len(gs) if len(gs) else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_gold": len(gs), "n_pred": len(ps)}


def span_prf(gold, pred) -> dict:
    """Partial-overlap precision / recall / F1 over articles.

    Parameters
    ----------
    gold, pred : sequence (one item per article) of sequences of (start, end)
    """
    flat = {"gold": ([], []), "pred": ([], [])}
    base = 0
    for g, p in zip(gold, pred):
        end = 0
        for kind, spans in (("gold", g), ("pred", p)):
            for s, e in spans:
                flat[kind][0].append(base + int(s))
                flat[kind][1].append(base + int(e))
                end = max(end, int(e))
        base += end + 1
    return span_prf_flat(*flat["gold"], *flat["pred"])


def _merged_set(spans) -> set:
    starts, ends = merged([s for s, _ in spans], [e for _, e in spans])
    return set(zip(starts.tolist(), ends.tolist()))


def exact_prf(gold, pred) -> dict:
    """Exact-match span precision / recall / F1."""
    tp = n_pred = n_gold = 0
    for g, p in zip(gold, pred):
        g, p = _merged_set(g), _merged_set(p)
        tp += len(g & p)
        n_pred += len(p)
        n_gold += len(g)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_gold": n_gold, "n_pred": n_pred}


def _sentence_bounds(text):
    pos = 0
    for line in text.split("\n"):
        yield pos, pos + len(line)
        pos += len(line) + 1


def sentence_prf(texts, gold, pred) -> dict:
    """Sentence-level P/R/F1: a line is positive when a span overlaps it."""
    y_true, y_pred = [], []
    for text, g, p in zip(texts, gold, pred):
        for s, e in _sentence_bounds(text):
            if e == s:
                continue
            y_true.append(any(a < e and b > s for a, b in g))
            y_pred.append(any(a < e and b > s for a, b in p))
    p_, r_, f_, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    return {"precision": float(p_), "recall": float(r_), "f1": float(f_), "n_sentences": len(y_true),
            "n_positive": int(sum(y_true))}


def merge_spans(spans: list, text: str) -> list:
    """Union overlapping spans of the same label (score: the highest); sorted by start."""
    return _merge(((d["label"], int(d["start"]), int(d["end"]), float(d["score"])) for d in spans), text)


def _merge(items, text: str) -> list:
    """:func:`merge_spans` on ``(label, start, end, score)`` tuples."""
    out = []
    cur = None
    for label, s, e, score in sorted(items):
        if cur is not None and label == cur[0] and s < cur[2]:
            if e > cur[2]:
                cur[2] = e
            if score > cur[3]:
                cur[3] = score
        else:
            if cur is not None:
                out.append(cur)
            cur = [label, s, e, score]
    if cur is not None:
        out.append(cur)
    out.sort(key=lambda c: (c[1], c[2], c[0]))
    return [{"label": lab, "start": s, "end": e, "text": text[s:e], "score": round(score, 4)} for lab, s, e, score in out]
