"""Training the token classifiers: inputs, gold targets, design matrices, linear fits, score tables.

One windowed linear classifier per label learns from the features of the tokens around each
token (:class:`TokenDesign`); once fitted, its weights are folded into one score table per
window offset with a row per vocabulary entry (:meth:`TokenDesign.fold`), so prediction needs
no feature extraction for known tokens.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, SGDClassifier

from ...errors import AnnotatorError
from ...spans import merged
from ...taxonomy import load_taxonomy
from ..features import CENTER_ONLY, token_features
from ..tokens import segments, tokenize
from .context import fold_context

__all__ = ["training_inputs", "tuning_parts", "gold_span_lengths", "span_length_weights", "TrainingArticles",
           "tokenised_articles", "TokenDesign", "DesignRows", "Folded", "fit_classifiers", "repeated"]


def training_inputs(dataset, annotates: dict):
    """(texts, spans, annotated) for :meth:`CueTagger.fit` from a Dataset.

    ``annotates`` maps a corpus name to the labels it marks exhaustively; articles of
    other corpora (e.g. Label Studio projects) are taken as annotated for every label.
    """
    arts = dataset.articles
    by_article = {aid: [] for aid in arts["article_id"]}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"],
                              dataset.spans["end"]):
        by_article.setdefault(aid, []).append((lab, int(s), int(e)))
    everything = set(load_taxonomy().label_ids)
    annotated = [set(annotates.get(c, everything)) for c in arts["corpus"]]
    return arts["text"].tolist(), [by_article[a] for a in arts["article_id"]], annotated


def tuning_parts(n, tune_fraction, tune_folds, random_state) -> np.ndarray:
    """The tuning part of each of ``n`` training articles (-1: none); each part is held out once."""
    rng = np.random.RandomState(random_state)
    part = np.full(n, -1)
    if tune_fraction and n >= 10:
        order = rng.permutation(n)
        if tune_folds >= 2:
            part[order] = np.arange(n) % tune_folds
        else:
            part[order[: max(1, int(n * tune_fraction))]] = 0
    return part


def repeated(items, weight=None, index=None) -> list:
    """``items`` with each repeated by its article's weight, rounded (at least once): how the tuning
    sets weigh articles (thresholds are chosen on span counts). ``weight``: per article, None: no
    repeat; ``index``: each item's article (default: the item itself)."""
    if weight is None:
        return list(items)
    index = list(items) if index is None else list(index)
    return [x for x, i in zip(items, index) for _ in range(max(1, int(round(float(weight[i])))))]


def gold_span_lengths(starts, ends, spans, n_labels, label_index):
    """Token × label matrix: length in tokens of the (merged) gold span of that label the token is
    in, 0 outside gold spans."""
    out = np.zeros((len(starts), n_labels), dtype=np.int32)
    by_label: dict = {}
    for label, s, e in spans:
        j = label_index.get(label)
        if j is not None and e > s:
            by_label.setdefault(j, []).append((s, e))
    for j, items in by_label.items():
        for s, e in zip(*merged([s for s, _ in items], [e for _, e in items])):
            lo = np.searchsorted(ends, s, side="right")
            hi = np.searchsorted(starts, e, side="left")
            out[lo:hi, j] = hi - lo
    return out


def span_length_weights(lengths, power):
    """Sample weights for one label's tokens: tokens of an n-token gold span weigh ``n ** -power``,
    rescaled so that the positive tokens keep their total weight; other tokens weigh 1.

    The span score credits each gold span equally whatever its length, so the long spans
    (whole clauses, many function words) should not dominate what the classifier learns.
    """
    pos = lengths > 0
    w = np.ones(len(lengths))
    if power and pos.any():
        # the same bits on every machine: numpy's float power is CPU-dispatched (AVX-512 and AVX2
        # differ in the last bit) and SGD turns that into different weights; 1/sqrt is exact
        # IEEE arithmetic, math.pow is libm, and fsum is exactly rounded
        n = lengths[pos].astype(float)
        if power == 0.5:
            wp = 1.0 / np.sqrt(n)
        else:
            uniq, inv = np.unique(n, return_inverse=True)
            wp = np.array([math.pow(k, -power) for k in uniq.tolist()])[inv]
        w[pos] = wp * (int(pos.sum()) / math.fsum(wp.tolist()))
    return w


@dataclass
class TrainingArticles:
    """The training articles, tokenised: per article its tokens, offsets, gold span lengths per
    label (:func:`gold_span_lengths`), segment flags, and (with context bags) vocabulary
    rows and sentence bounds; ``docs`` the articles each label learns from."""

    y: list
    tokens: list
    starts: list
    ends: list
    lengths: list
    segs: list
    docs: list
    part: np.ndarray
    ids: list | None = None
    bounds: list | None = None
    weight: np.ndarray | None = None  # per article (``CueTagger.fit``'s ``sample_weight``); None: all 1


def tokenised_articles(texts, y, labels, annotated, part, edges):
    """The tokenised training articles, and the labels that cannot be learned (one class only).

    ``part``: the tuning part of each article (:func:`tuning_parts`); ``edges``: the span edge words.
    """
    label_index = {lab: j for j, lab in enumerate(labels)}
    arts = TrainingArticles(y, [], [], [], [], [], [], part)
    for text, spans in zip(texts, y):
        toks, starts, ends = tokenize(text)
        arts.tokens.append(toks)
        arts.starts.append(starts)
        arts.ends.append(ends)
        arts.lengths.append(gold_span_lengths(starts, ends, spans, len(labels), label_index))
        arts.segs.append(segments(text, toks, starts, ends, edges))
    arts.docs = [[i for i in range(len(texts)) if lab in annotated[i]] for lab in labels]
    skipped = {}
    for j, lab in enumerate(labels):
        if arts.docs[j]:
            yj = np.concatenate([arts.lengths[i][:, j] for i in arts.docs[j]]) > 0
            if yj.min() == yj.max():  # no span of this label (or nothing but): it cannot be learned
                skipped[lab] = "only one class in the training data: never predicted"
                arts.docs[j] = []
    if len(skipped) == len(labels):
        raise AnnotatorError("training data has only one class for every label (no spans, or every token): "
                             "nothing to learn")
    return arts, skipped


class Folded(NamedTuple):
    """The fitted weights in prediction form (the ``CueTagger`` attributes of the same names)."""

    tables: np.ndarray
    feature_names: str
    feature_weights: np.ndarray
    context_tables: np.ndarray | None


class DesignRows:
    """The design matrices of the training articles stacked in one CSR matrix: article ``i`` is rows
    ``offsets[i]:offsets[i + 1]`` (``rows[i]``, as :meth:`TokenDesign.matrix` builds it)."""

    def __init__(self, X, offsets):
        self.X, self.offsets = X, np.asarray(offsets, dtype=np.int64)

    def __len__(self):
        return len(self.offsets) - 1

    @property
    def shape(self):
        return self.X.shape

    def __getitem__(self, i):
        return self.X[int(self.offsets[i]):int(self.offsets[i + 1])]

    def stack(self, docs):
        """The rows of articles ``docs``, one after the other (as ``sp.vstack`` of theirs)."""
        o = self.offsets
        docs = np.asarray(docs, dtype=np.int64)
        if len(docs) == len(self) and (docs == np.arange(len(self))).all():
            return self.X
        counts = o[docs + 1] - o[docs]
        rows = np.repeat(o[docs] - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        return self.X[rows]


class TokenDesign:
    """The vocabulary of the training tokens, the features of each entry, and design matrices.

    Parameters
    ----------
    toks_all : list of list of str
        Tokens of every training article.
    lex : dict
        Sentiment/subjectivity lexicon (word → feature names).
    window, char_ngrams, min_count : int
        As in ``CueTagger``.
    """

    def __init__(self, toks_all, lex, window, char_ngrams, min_count):
        counts: dict = {}
        for toks in toks_all:
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        self.words = words = sorted(t for t, c in counts.items() if c >= min_count)
        self.vocab = {t: i for i, t in enumerate(words)}
        self.lex, self.window, self.char_ngrams = lex, window, char_ngrams
        feature_index: dict = {}
        rows, cols = [], []
        for i, t in enumerate(words):
            for f in token_features(t, lex, char_ngrams):
                rows.append(i)
                cols.append(feature_index.setdefault(f, len(feature_index)))
        pad, unk = len(words), len(words) + 1
        rows += [pad, unk]
        cols += [feature_index.setdefault("<pad>", len(feature_index)), feature_index.setdefault("<unk>", len(feature_index))]
        self.feature_index = feature_index
        self.vocab_features = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words) + 2, len(feature_index)))
        # neighbours (offsets other than 0) are described by their word-level features only;
        # the character n-grams describe the token itself (on neighbours they overfit)
        nb = np.array([not f.startswith(CENTER_ONLY) for f in feature_index], dtype=float)
        self.neighbour_mask = sp.diags(nb, format="csr")
        #: Columns of the window features (the context bags, if any, come after them).
        self.window_cols = (2 * window + 1) * len(feature_index)

    def ids(self, toks) -> np.ndarray:
        """Vocabulary row of each token, -1 for tokens outside the vocabulary."""
        return np.array([self.vocab.get(t, -1) for t in toks], dtype=np.int64)

    def _unknown_features(self, toks, unknown):
        """Token × feature counts of the tokens outside the vocabulary (their own features)."""
        rows, cols = [], []
        for r, t in enumerate(toks):
            if unknown[r]:
                for f in token_features(t, self.lex, self.char_ngrams):
                    c = self.feature_index.get(f)
                    if c is not None:
                        rows.append(r)
                        cols.append(c)
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(toks), len(self.feature_index)))

    def matrix(self, toks, extra_block=None):
        """Sparse token × (offset, feature) design matrix for one article (``extra_block``: more
        columns to append, e.g. the context bags)."""
        ids = self.ids(toks)
        unknown = ids < 0
        n, w = len(toks), self.window
        V = self.vocab_features
        F = V[np.where(unknown, len(self.vocab) + 1, ids)]
        if unknown.any():
            F = F + self._unknown_features(toks, unknown)
        pad = V[[len(self.vocab)] * w] if w else None
        padded = sp.vstack([pad, F, pad], format="csr") if w else F
        blocks = [padded[k:k + n] if k == w else padded[k:k + n] @ self.neighbour_mask for k in range(2 * w + 1)]
        if extra_block is not None:
            blocks.append(extra_block)
        return sp.hstack(blocks, format="csr")

    def matrix_all(self, toks_all, ids_all=None, extra_block=None) -> DesignRows:
        """The rows of :meth:`matrix` for every article at once (identical rows, in one matrix).

        ``ids_all``: each article's :meth:`ids` when already known; ``extra_block``: more columns
        for all the articles' tokens at once (e.g. the context bags). Each article is padded with
        ``window`` pad rows on either side as in :meth:`matrix`, so no window crosses articles;
        every operation below works row by row, so each row has the same entries in the same
        order as the article-by-article build (what makes the fitted classifiers bit-identical).
        """
        counts = np.array([len(t) for t in toks_all], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        toks = [t for ts in toks_all for t in ts]
        ids = (np.concatenate(ids_all) if ids_all is not None and len(ids_all) else self.ids(toks)).astype(np.int64)
        w, nv, V = self.window, len(self.vocab), self.vocab_features
        art = np.repeat(np.arange(len(counts)), counts)
        pos = np.arange(len(toks)) + w * (2 * art + 1)  # row of each token in the padded sequence
        padded_ids = np.full(len(toks) + 2 * w * len(counts), nv, dtype=np.int64)  # pad rows
        padded_ids[pos] = np.where(ids < 0, nv + 1, ids)
        F = V[padded_ids]
        unknown = np.flatnonzero(ids < 0)
        if len(unknown):
            rows, cols = [], []
            for k in unknown.tolist():
                for f in token_features(toks[k], self.lex, self.char_ngrams):
                    c = self.feature_index.get(f)
                    if c is not None:
                        rows.append(pos[k])
                        cols.append(c)
            F = F + sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=F.shape)
        blocks = [F[pos + (k - w)] if k == w else F[pos + (k - w)] @ self.neighbour_mask for k in range(2 * w + 1)]
        if extra_block is not None:
            blocks.append(extra_block)
        return DesignRows(sp.hstack(blocks, format="csr"), offsets)

    def fold(self, coefs, n_labels, context_cols=None) -> Folded:
        """Fold feature weights into per-vocabulary-entry tables for fast prediction.

        ``context_cols``: the context-bag column of each vocabulary row when the classifiers have
        context-bag columns (after the window's), else None.
        """
        K, L = 2 * self.window + 1, n_labels
        nfeat = len(self.feature_index)
        context_tables = None
        if context_cols is not None:
            context_tables = fold_context(coefs[:, K * nfeat:], context_cols, L)
            coefs = coefs[:, :K * nfeat]
        W = coefs.reshape(L, K, nfeat)
        V = self.vocab_features
        tables = np.stack([np.asarray((V @ W[j].T)).T for j in range(L)]).astype(np.float32)
        names = [None] * nfeat
        for f, c in self.feature_index.items():
            names[c] = f
        kept = np.flatnonzero(np.abs(W).max(axis=(0, 1)) > 1e-3)
        return Folded(tables, "\n".join(names[c] for c in kept),
                      np.ascontiguousarray(W[:, :, kept].transpose(2, 0, 1), dtype=np.float32), context_tables)


def fit_classifiers(est, Xdoc, yy, docs_j, context_j, window_cols, weight=None):
    """One windowed linear classifier per label on its documents ``docs_j[j]``: (coefs, intercepts).

    ``est``: the ``CueTagger`` whose hyperparameters (solver, alpha, ...) apply; ``Xdoc``: the
    articles' design matrices (:class:`DesignRows`, or a list of one matrix per article). Labels not
    in ``context_j`` use only the first ``window_cols`` columns (no context bags). ``weight``: a
    weight per article multiplying its tokens' sample weights (None: none, the fit is unchanged).
    """
    L = len(docs_j)
    width = Xdoc[0].shape[1]
    # the transpose of a C-ordered array: the held-out scores ``X @ coefs.T`` use ``coefs.T`` as it is, where
    # scipy would copy a transposed C-ordered array (every weight) at each product, once per article
    coefs = np.zeros((width, L)).T
    icpt = np.full(L, -10.0)  # a label with no training documents never fires
    for j, docs in enumerate(docs_j):
        if docs:
            ncols = width if j in context_j else window_cols
            lengths = np.concatenate([yy[i][:, j] for i in docs])  # span lengths
            if (lengths > 0).all() or not (lengths > 0).any():  # one class here (a small tuning part): constant
                icpt[j] = 10.0 if (lengths > 0).all() else -10.0
                continue
            X = Xdoc.stack(docs) if isinstance(Xdoc, DesignRows) else sp.vstack([Xdoc[i] for i in docs], format="csr")
            tw = None if weight is None else np.repeat(np.asarray(weight, float)[docs], [len(yy[i]) for i in docs])
            clf = _fit_one(est, X, lengths, ncols, tw)
            coefs[j, :ncols], icpt[j] = clf.coef_[0], clf.intercept_[0]
    return coefs, icpt


def _fit_one(est, X, lengths, ncols=None, token_weight=None):
    if ncols is not None and ncols < X.shape[1]:
        X = X[:, :ncols]
    y = (lengths > 0).astype(np.int8)
    w = span_length_weights(lengths, est.span_length_power)
    if token_weight is not None:
        w = w * token_weight
    if est.solver == "sgd":
        clf = SGDClassifier(loss="log_loss", alpha=est.alpha, max_iter=est.epochs, tol=None, average=True,
                            class_weight=est.class_weight, random_state=est.random_state)
    else:  # the same L2 objective solved exactly: C = 1 / (alpha * n_samples)
        clf = LogisticRegression(C=1.0 / (est.alpha * X.shape[0]), solver=est.solver, max_iter=300,
                                 class_weight=est.class_weight, random_state=est.random_state)
    return clf.fit(X, y, sample_weight=w)
