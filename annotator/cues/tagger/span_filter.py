"""The span filter: the source labels decoded together, each candidate span kept or dropped by a
span-level logistic regression, kept spans labelled named or anonymous by the importer's head test."""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from ...corpus_mapping import corpus_mapping
from ...spans import span_prf
from ..decoding import FILTER_SLOTS, sigmoid, span_candidates
from ..lexicons import is_anonymous, lexicon_regex, read_lexicon
from .training import repeated

__all__ = ["fit_span_filter", "HeadLookup", "head_lookup", "filtered_spans"]

#: Decision thresholds tried for the filter's score.
_THRESHOLDS = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


class _Article(NamedTuple):
    """One tuning article's candidates: features, targets, character offsets, gold spans."""

    dense: np.ndarray
    slots: np.ndarray
    target: np.ndarray  # more than half the candidate's characters lie in gold spans of the group
    starts: np.ndarray
    ends: np.ndarray
    gold: list


def _candidate_rows(js, td, held, segs_all, bounds_all, ids_all, starts_all, ends_all, y, labels, V, high, low):
    labs = {labels[j] for j in js}
    rows = []
    for i in td:
        ids = np.where(ids_all[i] < 0, V + 1, ids_all[i])
        a, b, dense, slots, _ = span_candidates(held[i][:, js], segs_all[i], *bounds_all[i], ids, V, high, low)
        s0, s1 = starts_all[i][a], ends_all[i][b - 1]
        gold = [(s, e) for l_, s, e in y[i] if l_ in labs]
        cov = np.zeros(len(a))
        for gs_, ge_ in gold:
            cov += np.maximum(0, np.minimum(s1, ge_) - np.maximum(s0, gs_))
        rows.append(_Article(dense, slots, cov / np.maximum(s1 - s0, 1) > 0.5, s0, s1, gold))
    return rows


def _best_threshold(lr, X, target, doc, rows, weight=None):
    """(span F1, threshold, cross-fitted scores): the decision threshold by span F1 of two-fold
    cross-fitted filter scores (folds by article). ``weight``: per candidate (None: none), and each
    article repeated by it, rounded, in the F1."""
    half = doc % 2
    score = np.zeros(len(target))
    for h in (0, 1):
        if target[half != h].min() != target[half != h].max():
            sw = None if weight is None else weight[half != h]
            score[half == h] = lr().fit(X[half != h], target[half != h], sample_weight=sw).predict_proba(
                X[half == h])[:, 1]
    best = (-1.0, 0.5)
    per_doc = None if weight is None else [weight[doc == d][0] if (doc == d).any() else 1.0 for d in range(len(rows))]
    gold = repeated([r.gold for r in rows], per_doc, range(len(rows)))
    for t in _THRESHOLDS:
        keep = score >= t
        pred = [list(zip(r.starts[keep[doc == d]].tolist(), r.ends[keep[doc == d]].tolist())) for d, r in enumerate(rows)]
        f1 = span_prf(gold, repeated(pred, per_doc, range(len(rows))))["f1"]
        if f1 > best[0]:
            best = (f1, t)
    return best + (score,)


def _head_attributes(labels, js) -> dict:
    """When the filter decodes PolNeAR's named and anonymous sources: the importer's anonymous-head
    pattern, a pattern of its words and the rows of the (named, anonymous) labels."""
    cfg = corpus_mapping().get("polnear", {})
    pair = [cfg.get("source_label"), cfg.get("anonymous_label")]
    out = {"filter_heads_": ""}
    if set(pair) == {labels[j] for j in js} and cfg.get("anonymous_lexicon"):
        out["filter_heads_"] = lexicon_regex(cfg["anonymous_lexicon"]).pattern
        words = sorted({w for entry in read_lexicon(cfg["anonymous_lexicon"]) for w in re.findall(r"\w+", entry)})
        out["filter_head_words_"] = "|".join(map(re.escape, words))
        out["filter_head_labels_"] = np.array([labels.index(x) for x in pair], dtype=np.int64)
    return out


def fit_span_filter(est, V, js, td, held, segs_all, bounds_all, ids_all, starts_all, ends_all, y, weight=None):
    """Fit the span filter of labels ``js`` on the candidates of the tuning articles ``td``
    (``held``: their held-out token scores; ``V``: the vocabulary size; ``weight``: per training
    article, its candidates' sample weight, None: none).

    Returns the fitted attributes (``filter_labels_``, ``filter_coef_``, ...), the
    ``fit_report_["span_filter"]`` entry and the cross-fitted score of each candidate per tuning
    article (a dict), or None when there are too few candidates or one class.
    """
    high, low = est.span_filter
    rows = _candidate_rows(js, td, held, segs_all, bounds_all, ids_all, starts_all, ends_all, y, est.labels_, V,
                           high, low)
    dense = np.vstack([r.dense for r in rows])
    slots = np.vstack([r.slots for r in rows])
    target = np.concatenate([r.target for r in rows])
    doc = np.repeat(np.arange(len(rows)), [len(r.dense) for r in rows])
    if len(target) < 10 or target.min() == target.max():
        return None
    mu, sd = dense.mean(axis=0), dense.std(axis=0) + 1e-6
    nw = V + 2
    onehot = sp.csr_matrix((np.ones(slots.size), (np.repeat(np.arange(len(slots)), FILTER_SLOTS),
                                                  (slots + nw * np.arange(FILTER_SLOTS)).ravel())),
                           shape=(len(slots), FILTER_SLOTS * nw))
    X = sp.hstack([sp.csr_matrix((dense - mu) / sd), onehot], format="csr")

    def lr():
        return LogisticRegression(C=0.3, solver="liblinear", random_state=est.random_state)

    cw = None if weight is None else np.asarray(weight, dtype=float)[np.asarray(td, dtype=np.int64)][doc]
    best = _best_threshold(lr, X, target, doc, rows, cw)
    clf = lr().fit(X, target, sample_weight=cw)
    w = clf.coef_[0]
    attrs = {"filter_labels_": np.array(js, dtype=np.int64), "filter_coef_": w[:dense.shape[1]] / sd,
             "filter_intercept_": float(clf.intercept_[0] - np.sum(w[:dense.shape[1]] * mu / sd)),
             "filter_words_": w[dense.shape[1]:].reshape(FILTER_SLOTS, nw).astype(np.float32),
             "filter_threshold_": float(best[1])}
    # sources decoded together are told named from anonymous as the PolNeAR importer tells gold
    # ones apart (the anonymous-head lexicon), not by the two classifiers
    attrs.update(_head_attributes(est.labels_, js))
    report = {"labels": [est.labels_[j] for j in js], "candidates": int(len(target)), "threshold": best[1],
              "tune_f1": round(best[0], 4)}
    held_scores = {i: best[2][doc == d] for d, i in enumerate(td)}
    return attrs, report, held_scores


class HeadLookup(NamedTuple):
    """The anonymous-head pattern, and per vocabulary row whether the entry contains one of its words
    (unknown tokens: True, they are checked on the text)."""

    pattern: re.Pattern
    flags: np.ndarray


def head_lookup(est) -> HeadLookup:
    """:class:`HeadLookup` of a fitted tagger whose span filter labels sources by the head test."""
    words = re.compile(est.filter_head_words_, re.I)
    vocab = est.vocabulary_.split("\n") if est.vocabulary_ else []
    flags = np.ones(len(vocab) + 2, dtype=bool)
    flags[:len(vocab)] = np.fromiter((words.search(w) is not None for w in vocab), bool, len(vocab))
    flags[len(vocab)] = False
    return HeadLookup(re.compile(est.filter_heads_, re.I), flags)


def filtered_spans(est, heads, probs, seg, bounds, ids, flat, texts, items, scores=None):
    """Decode the filter's labels together, keep the candidates the filter accepts, and append them
    to ``items`` (per text, ``(label, start, end, score)``); ``heads``: :func:`head_lookup` or None.

    ``flat``: the texts' :class:`~annotator.cues.tokens.FlatTokens`; ``scores``: the filter's score
    of each candidate, used instead of its own when given and of the right length (e.g. cross-fitted
    scores of its training candidates, for a held-out operating point).
    """
    group = est.filter_labels_
    high, low = est.span_filter
    a, b, dense, slots, best = span_candidates(probs[:, group], seg, *bounds, ids, est.tables_.shape[2] - 2, high, low)
    z = dense @ est.filter_coef_ + est.filter_intercept_
    for k in range(FILTER_SLOTS):
        z += est.filter_words_[k][slots[:, k]]
    score = sigmoid(z)
    if scores is not None and len(scores) == len(score):
        score = np.asarray(scores, dtype=float)
    keep = score >= est.filter_threshold_
    a, b, score, best = a[keep], b[keep], score[keep], group[best[keep]]
    spans = zip(flat.art[a].tolist(), flat.starts[a].tolist(), flat.ends[b - 1].tolist(), score.tolist())
    if heads is None:
        for (t, s, e, sc), j in zip(spans, best.tolist()):
            items[t].append((est.labels_[j], s, e, sc))
        return
    # only spans with a token containing a lexicon word (or an unknown token) can be anonymous
    maybe = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(heads.flags.take(ids), out=maybe[1:])
    named, anon = (est.labels_[j] for j in est.filter_head_labels_)
    for (t, s, e, sc), mb in zip(spans, (maybe[b] > maybe[a]).tolist()):
        items[t].append((anon if mb and is_anonymous(texts[t][s:e], heads.pattern) else named, s, e, sc))
