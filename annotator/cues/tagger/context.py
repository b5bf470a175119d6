"""Context bags: the words a few tokens away within a token's sentence, e.g. a source's reporting verb.

Besides its window, a token of a context label is described by two bags of words, those
``near`` to ``far`` tokens after it and those as far before it, cut at its sentence. Which words
go in the bags is chosen by chi-square at fit (:func:`select_context`); at prediction each side
is one table gather and a running sum (:func:`context_scores`).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["Bags", "bag_bounds", "window_sum", "select_context", "context_design", "fold_context", "context_lookup",
           "context_scores"]


class Bags(NamedTuple):
    """Per token, the half-open token ranges of its right and left bags: ((start, end), (start, end))."""

    right: tuple
    left: tuple


def bag_bounds(first, last, near, far) -> Bags:
    """Per token, its right bag (``near``..``far`` tokens after it) and left bag (as many before
    it), cut at its sentence (``first``/``last`` from :func:`annotator.cues.tokens.sentence_spans`)."""
    t = np.arange(len(first))
    ra = np.minimum(t + near, last + 1)
    rb = np.maximum(np.minimum(t + far, last) + 1, ra)
    la = np.maximum(t - far, first)
    lb = np.maximum(t - near + 1, la)
    return Bags((ra, rb), (la, lb))


def window_sum(values, first, last, near, far, side=0):
    """Sum of ``values`` rows (n × k) over the tokens ``near``..``far`` after (side 0) or before
    (side 1) each token, not beyond its sentence."""
    c = np.zeros((len(values) + 1,) + values.shape[1:])
    np.cumsum(values, axis=0, out=c[1:])
    a, b = bag_bounds(first, last, near, far)[side]
    return c[b] - c[a]


def select_context(context, n_words, n_vocab, ids_all, bounds_all, yy, docs_j, context_j):
    """Choose the context-bag words: per context label (``context_j``) and side, the ``n_words``
    vocabulary entries whose occurrence ``near``..``far`` tokens from a token of the label (same
    sentence) deviates most from chance (chi-square).

    Returns the bag column of each vocabulary row (-1: not in the bags), length ``n_vocab + 2``.
    """
    near, far = context
    V = n_vocab
    chosen = set()
    for j, docs in enumerate(docs_j):
        if not docs or j not in context_j:
            continue
        ids = np.concatenate([ids_all[i] for i in docs])
        pos = np.concatenate([yy[i][:, j] > 0 for i in docs]).astype(np.float64)
        first = np.concatenate([bounds_all[i][0] for i in docs])
        last = np.concatenate([bounds_all[i][1] for i in docs])
        # offsets of the concatenation: windows stay inside sentences, hence inside articles
        shift = np.repeat(np.cumsum([0] + [len(ids_all[i]) for i in docs[:-1]]), [len(ids_all[i]) for i in docs])
        first, last = first + shift, last + shift
        known = ids >= 0
        n_w = np.bincount(ids[known], minlength=V).astype(np.float64)
        for side in (0, 1):
            # side 0 (right bag of a token t): word u has a label token at u - far .. u - near
            hit = window_sum(pos[:, None], first, last, near, far, side=1 - side)[:, 0] > 0
            s_w = np.bincount(ids[known], weights=hit[known], minlength=V)
            p = s_w.sum() / max(n_w.sum(), 1.0)
            if not 0 < p < 1:
                continue
            score = (s_w - n_w * p) ** 2 / (n_w * p * (1 - p) + 1e-9)
            score[n_w < 5] = 0
            top = np.argsort(-score, kind="stable")[:n_words]  # ties in one order on every machine
            chosen.update(top[score[top] > 0].tolist())
    cols = np.full(V + 2, -1, dtype=np.int64)
    keep = np.array(sorted(chosen), dtype=np.int64)
    cols[keep] = np.arange(len(keep))
    return cols


def context_design(context, cols, ids, bounds):
    """Sparse token × (2 · n_context_words) counts of the context-bag words on each side (``cols``
    from :func:`select_context`; ``ids`` the tokens' vocabulary rows, -1 unknown)."""
    near, far = context
    M = int(cols.max()) + 1
    first, last = bounds
    n = len(ids)
    t = np.arange(n)
    rows, cc = [], []
    for side, sign, lim in ((0, 1, last), (1, -1, first)):
        for d in range(near, far + 1):
            u = t + sign * d
            ok = (u <= lim) if sign > 0 else (u >= lim)
            c = np.where(ok, cols[np.where(ok, ids[np.clip(u, 0, max(n - 1, 0))], -1)], -1) if n else u
            ok = c >= 0
            rows.append(t[ok])
            cc.append(c[ok] + side * M)
    rows, cc = (np.concatenate(rows), np.concatenate(cc)) if rows else (np.zeros(0, int), np.zeros(0, int))
    return sp.csr_matrix((np.ones(len(rows)), (rows, cc)), shape=(n, 2 * M))


def fold_context(coefs, cols, n_labels):
    """Bag weights of the fitted classifiers (``coefs`` columns after the window's) per vocabulary
    row: (n_labels, 2, n_vocab + 2) float32, right bag then left."""
    M = int(cols.max()) + 1
    bags = coefs.reshape(n_labels, 2, M)
    tables = np.zeros((n_labels, 2, len(cols)), dtype=np.float32)
    sel = np.flatnonzero(cols >= 0)
    tables[:, :, sel] = bags[:, :, cols[sel]]
    return tables


def context_lookup(ctx):
    """(labels with context bags, (2 * their number, n_vocab + 2) table: right-bag weights, then left)
    from ``CueTagger.context_tables_``."""
    js = np.flatnonzero(np.abs(ctx).max(axis=(1, 2)) > 0)
    return js, np.ascontiguousarray(ctx[js].transpose(1, 0, 2).reshape(-1, ctx.shape[2]), dtype=np.float32)


def context_scores(lookup, context, ids, bounds):
    """Score added by the context bags: (labels, (n_tokens, n_bag_labels) scores)."""
    js, table = lookup
    near, far = context
    first, last = bounds
    n, m = len(ids), len(js)
    sides = bag_bounds(first, last, near, far)
    c = np.zeros(n + 1)  # running sums, one column at a time (float64: exact over long batches)
    bag = np.zeros((m, n))
    for col in range(2 * m):
        np.cumsum(table[col].take(ids), out=c[1:])
        a, b = sides[col // m]
        bag[col % m] += c.take(b)
        bag[col % m] -= c.take(a)
    return js, bag.T
