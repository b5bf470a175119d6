"""Decoding token probabilities into spans: hysteresis runs, threshold tuning, span-filter candidates."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..spans import merged, span_prf_flat
from .tokens import Segments

__all__ = ["sigmoid", "Runs", "runs", "Tuned", "tune_threshold", "FILTER_SLOTS", "Candidates", "span_candidates"]

#: Token positions described by word identity for the span filter: two before the span, its first
#: and last token, two after it.
FILTER_SLOTS = 6
#: High thresholds tried by :func:`tune_threshold`, and low/high ratios.
_HIGH = (0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8)
_RATIOS = (1.0, 0.6, 0.35, 0.2)


def sigmoid(z):
    """The logistic function (arguments clipped to ±30)."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class Runs(NamedTuple):
    """Spans as token ranges: first token, end token (exclusive), mean probability."""

    first: np.ndarray
    end: np.ndarray
    score: np.ndarray


def runs(prob, threshold, low, seg: Segments) -> Runs:
    """Spans by hysteresis thresholding.

    Runs of tokens with probability ≥ ``low`` that contain at least one token ≥
    ``threshold`` become spans. Runs stop at sentence ends, line breaks, text
    starts and quote marks (``seg`` from :func:`annotator.cues.tokens.segments_flat`; a quoted
    phrase is a run of its own, inside its marks), and punctuation (and edge words) at either end
    of a span is trimmed.
    """
    low = min(low, threshold)
    on = (prob >= low) & ~seg.stop & ~seg.quote
    n = len(prob)
    empty = np.zeros(0, np.int64)
    if not on.any():
        return Runs(empty, empty, np.zeros(0))
    prev_off = np.empty(n, dtype=bool)
    prev_off[0] = True
    np.logical_not(on[:-1], out=prev_off[1:])
    prev_off |= seg.brk
    next_off = np.empty(n, dtype=bool)
    next_off[-1] = True
    np.logical_not(on[1:], out=next_off[:-1])
    next_off[:-1] |= seg.brk[1:]
    a = seg.next_word[np.flatnonzero(on & prev_off)]
    b = seg.prev_word[np.flatnonzero(on & next_off)] + 1
    keep = a < b
    a, b = a[keep], b[keep]
    high = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(prob >= threshold, out=high[1:])
    keep = high[b] > high[a]
    a, b = a[keep], b[keep]
    if not len(a):
        return Runs(empty, empty, np.zeros(0))
    p64 = np.zeros(n + 1)
    p64[:n] = prob
    sums = np.add.reduceat(p64, np.column_stack([a, b]).ravel())[::2]
    return Runs(a, b, sums / (b - a))


def _concat_segments(segs, counts) -> Segments:
    """Segment flags of several texts laid end to end; no run crosses from one text into the next."""
    if not segs:
        return Segments(*(np.zeros(0, bool) for _ in range(3)), np.zeros(0, np.int64), np.zeros(0, np.int64),
                        np.zeros(0, bool))
    first = np.cumsum([0] + counts[:-1])
    # one text's "no token" (its length, or -1) becomes the next text's first token or the previous
    # text's last, which lies outside the run as well
    seg = Segments(*(np.concatenate([getattr(sg, name) for sg in segs]) for name in ("punct", "stop", "brk")),
                   np.concatenate([sg.next_word + f for sg, f in zip(segs, first)]),
                   np.concatenate([sg.prev_word + f for sg, f in zip(segs, first)]),
                   np.concatenate([sg.quote for sg in segs]))
    seg.brk[first[np.asarray(counts) > 0]] = True
    return seg


class Tuned(NamedTuple):
    """Tuned hysteresis thresholds, their span F1 and the precision-recall curve over ``high``."""

    high: float
    low: float
    f1: float
    curve: list  # [threshold, precision, recall] rows at the best low/high ratio


def tune_threshold(probs, gold, starts, ends, segs) -> Tuned:
    """The hysteresis thresholds with the best partial-overlap span F1 over articles.

    ``probs``, ``gold`` (``(start, end)`` spans), ``starts``, ``ends`` and ``segs``: one item per
    article. The articles are laid end to end once, so each candidate is one vectorised decoding
    and one vectorised scoring (:func:`annotator.spans.span_prf_flat`).
    """
    base, gs, ge = [], [], []
    at = 0
    for st, en, g in zip(starts, ends, gold):
        base.append(at)
        gs.extend(at + int(x) for x, _ in g)
        ge.extend(at + int(y) for _, y in g)
        at += max([int(en[-1]) if len(en) else 0] + [int(y) for _, y in g]) + 1
    counts = [len(x) for x in probs]
    P = np.concatenate([np.asarray(x, dtype=np.float64) for x in probs]) if probs else np.zeros(0)
    gst = np.concatenate([np.asarray(st) + b for st, b in zip(starts, base)]) if probs else np.zeros(0, np.int64)
    gen = np.concatenate([np.asarray(en) + b for en, b in zip(ends, base)]) if probs else np.zeros(0, np.int64)
    seg = _concat_segments(segs, counts)
    gold_merged = merged(gs, ge)

    best = (0.5, 0.5, -1.0, 1.0)
    table = {}
    for t in _HIGH:
        for ratio in _RATIOS:
            a, b, _ = runs(P, t, t * ratio, seg)
            res = span_prf_flat(None, None, gst[a], gen[b - 1], gold=gold_merged)
            table[t, ratio] = res
            if res["f1"] > best[2]:
                best = (t, round(t * ratio, 4), float(res["f1"]), ratio)
    curve = [[t, round(r["precision"], 4), round(r["recall"], 4)] for (t, ratio), r in table.items() if ratio == best[3]]
    return Tuned(best[0], best[1], best[2], curve)


class Candidates(NamedTuple):
    """Candidate spans of a group of labels (see :func:`span_candidates`)."""

    first: np.ndarray  # first token
    end: np.ndarray  # end token (exclusive)
    dense: np.ndarray  # n_candidates × (10 + n_labels) span features
    slots: np.ndarray  # n_candidates × FILTER_SLOTS vocabulary ids around the span
    best: np.ndarray  # the group label with the highest probability in each span


def _best_other(m, sid):
    """(best other candidate's probability, number of candidates) in each candidate's sentence
    (candidates are sorted, so a sentence's candidates are contiguous)."""
    k = len(m)
    new = np.ones(k, dtype=bool)
    new[1:] = sid[1:] != sid[:-1]
    gs = np.flatnonzero(new)
    grp = np.cumsum(new) - 1
    gmax = np.maximum.reduceat(m, gs)[grp]
    top = m >= gmax
    ntop = np.add.reduceat(top.astype(np.int64), gs)[grp]
    gsec = np.maximum.reduceat(np.where(top, -1.0, m), gs)[grp]
    other = np.where(top, np.where(ntop > 1, gmax, np.maximum(gsec, 0.0)), gmax)
    return other, np.diff(np.append(gs, k))[grp]


def span_candidates(P, seg: Segments, first, last, ids, pad_id, high, low) -> Candidates:
    """Candidate spans of a group of labels and their span-filter features.

    ``P``: token × label probabilities of the group; candidates are the hysteresis runs
    (:func:`runs`) of their maximum. ``first``/``last``: each token's sentence
    (:func:`annotator.cues.tokens.sentence_spans`); the word slots outside it hold ``pad_id``.
    """
    p = P.max(axis=1)
    a, b, mean = runs(p, high, low, seg)
    k = len(a)
    if not k:
        return Candidates(a, b, np.zeros((0, 10 + P.shape[1])), np.zeros((0, FILTER_SLOTS), np.int64), a)
    at = np.column_stack([a, b]).ravel()
    padded = np.empty((len(p) + 1, P.shape[1]), dtype=P.dtype)
    padded[:-1] = P
    padded[-1] = 0
    per_label = np.maximum.reduceat(padded, at, axis=0)[::2]
    m = per_label.max(axis=1)
    other, size = _best_other(m, first[a])
    fa, la = first[a], last[a]
    dense = np.column_stack([m, mean, np.log(b - a), other, m - other, size - 1,
                             (a - fa) / (la - fa + 1), a == fa, np.log1p(la - b + 1), m >= 0.5, per_label])
    pos = np.column_stack([a - 2, a - 1, a, b - 1, b, b + 1])
    inside = (pos >= fa[:, None]) & (pos <= la[:, None])
    slots = np.where(inside, ids[np.clip(pos, 0, len(p) - 1)], pad_id)
    return Candidates(a, b, dense, slots, per_label.argmax(axis=1))
