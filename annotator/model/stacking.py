"""Fitting the document score: a text ridge stacked under a ridge on the dense features, grouped folds.

The score is one linear model over ``[word/bigram TF-IDF | standardised dense features]``, built in
two steps so that the many TF-IDF columns cannot drown the few dense ones: a ridge on the TF-IDF
gives one number per article (out of fold within the training folds), and a second ridge weighs
that number beside the dense features. The two compose into one weight vector. When several text
ridge penalties are given, the one whose out-of-fold outputs have the least weighted squared error
(the same inner grouped folds) is used: the choice never sees the articles being predicted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

__all__ = ["StackedFit", "fit_stacked", "grouped_splits", "length_slope", "text_weights", "text_rows"]


@dataclass
class StackedFit:
    """A fitted stack: TF-IDF weights, scaler of the dense features, and the composed weights."""

    tfidf: TfidfTransformer
    scaler: StandardScaler
    coef: np.ndarray  # (n_words + n_dense,): on [TF-IDF | scaled dense]
    intercept: float
    alpha: float  # the text ridge's penalty used

    def raw(self, bow, dense, shrink):
        """Raw outputs for count rows ``bow``, dense rows ``dense`` and text weights ``shrink``."""
        n_words = bow.shape[1]
        words = text_rows(self.tfidf, bow, shrink) @ self.coef[:n_words]
        return np.asarray(words).ravel() + self.scaler.transform(dense) @ self.coef[n_words:] + self.intercept


def grouped_splits(groups, n_splits, random_state):
    """Train/test index pairs with whole groups (sites, articles) held out."""
    groups = np.asarray(groups)
    n_splits = min(n_splits, len(np.unique(groups)))
    return list(GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
                .split(np.zeros(len(groups)), groups=groups))


def text_weights(n_tokens, prior_tokens) -> np.ndarray:
    """How much of its text evidence an article keeps: ``n / (n + prior_tokens)`` (a one-line text's
    few words get large TF-IDF weights; this shrinks them as the rates are shrunk)."""
    n = np.asarray(n_tokens, dtype=float)
    return n / (n + float(prior_tokens))


def text_rows(tfidf, bow, shrink):
    """TF-IDF rows of ``bow``, each scaled by its text weight."""
    return sp.diags(np.asarray(shrink, dtype=float)) @ tfidf.transform(bow)


def _text_ridge(bow, y, w, alpha, shrink):
    tfidf = TfidfTransformer(sublinear_tf=True).fit(bow)
    return tfidf, Ridge(alpha=alpha).fit(text_rows(tfidf, bow, shrink), y, sample_weight=w)


def _text_out_of_fold(bow, y, w, groups, shrink, alphas, inner_cv, random_state):
    """(out-of-fold text ridge outputs, penalty): for each penalty in ``alphas`` the ``inner_cv`` grouped
    folds' outputs, and the penalty with the least weighted squared error on them."""
    oof = np.zeros((len(alphas), len(y)))
    for tr, te in grouped_splits(groups, inner_cv, random_state):
        tfidf = TfidfTransformer(sublinear_tf=True).fit(bow[tr])
        train_rows, test_rows = text_rows(tfidf, bow[tr], shrink[tr]), text_rows(tfidf, bow[te], shrink[te])
        for k, alpha in enumerate(alphas):
            oof[k, te] = Ridge(alpha=alpha).fit(train_rows, y[tr], sample_weight=w[tr]).predict(test_rows)
    best = int(np.argmin(((oof - y) ** 2 * w).sum(axis=1)))
    return oof[best], float(alphas[best])


def fit_stacked(bow, dense, y, w, groups, shrink, *, alpha, stack_alpha, inner_cv=3, random_state=0) -> StackedFit:
    """Fit the two ridges: the text ridge's out-of-fold outputs (``inner_cv`` grouped folds) train the
    stacking ridge beside the standardised dense features; the text ridge is then refitted on all rows.
    ``shrink`` holds each row's text weight (:func:`text_weights`); ``alpha`` is the text ridge's
    penalty, or a sequence of candidates chosen among on the inner folds."""
    text_oof, alpha = _text_out_of_fold(bow, y, w, groups, shrink, np.atleast_1d(np.asarray(alpha, float)), inner_cv,
                                        random_state)
    scaler = StandardScaler().fit(dense)
    spread = float(np.std(text_oof)) or 1.0  # the text output standardised like the dense features
    stack = Ridge(alpha=stack_alpha).fit(np.c_[scaler.transform(dense), text_oof / spread], y, sample_weight=w)
    tfidf, ridge = _text_ridge(bow, y, w, alpha, shrink)
    a_text = float(stack.coef_[-1]) / spread
    coef = np.concatenate([a_text * np.asarray(ridge.coef_).ravel(), np.asarray(stack.coef_[:-1])])
    return StackedFit(tfidf, scaler, coef, float(stack.intercept_) + a_text * float(ridge.intercept_), alpha)


def length_slope(raw, log_tokens) -> float:
    """Least-squares slope of raw outputs on log length (what the length-neutral score takes out)."""
    x = np.asarray(log_tokens, float)
    x = x - x.mean()
    return float(x @ (np.asarray(raw, float) - np.mean(raw)) / max(float(x @ x), 1e-12))
