"""Fitting the document score: a text ridge stacked under a ridge on the dense features, grouped folds.

The score is one linear model over ``[word/bigram TF-IDF | standardised dense features]``, built in
two steps so that the many TF-IDF columns cannot drown the few dense ones: a ridge on the TF-IDF
gives one number per article (out of fold within the training folds), and a second ridge weighs
that number beside the dense features. The two compose into one weight vector.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

__all__ = ["StackedFit", "fit_stacked", "grouped_splits", "length_slope"]


@dataclass
class StackedFit:
    """A fitted stack: TF-IDF weights, scaler of the dense features, and the composed weights."""

    tfidf: TfidfTransformer
    scaler: StandardScaler
    coef: np.ndarray  # (n_words + n_dense,): on [TF-IDF | scaled dense]
    intercept: float

    def raw(self, bow, dense):
        """Raw outputs for count rows ``bow`` and dense rows ``dense``."""
        n_words = bow.shape[1]
        words = self.tfidf.transform(bow) @ self.coef[:n_words]
        return np.asarray(words).ravel() + self.scaler.transform(dense) @ self.coef[n_words:] + self.intercept


def grouped_splits(groups, n_splits, random_state):
    """Train/test index pairs with whole groups (sites, articles) held out."""
    groups = np.asarray(groups)
    n_splits = min(n_splits, len(np.unique(groups)))
    return list(GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
                .split(np.zeros(len(groups)), groups=groups))


def _text_ridge(bow, y, w, alpha):
    tfidf = TfidfTransformer(sublinear_tf=True).fit(bow)
    return tfidf, Ridge(alpha=alpha).fit(tfidf.transform(bow), y, sample_weight=w)


def fit_stacked(bow, dense, y, w, groups, *, alpha, stack_alpha, inner_cv=3, random_state=0) -> StackedFit:
    """Fit the two ridges: the text ridge's out-of-fold outputs (``inner_cv`` grouped folds) train the
    stacking ridge beside the standardised dense features; the text ridge is then refitted on all rows."""
    text_oof = np.zeros(len(y))
    for tr, te in grouped_splits(groups, inner_cv, random_state):
        tfidf, ridge = _text_ridge(bow[tr], y[tr], w[tr], alpha)
        text_oof[te] = ridge.predict(tfidf.transform(bow[te]))
    scaler = StandardScaler().fit(dense)
    stack = Ridge(alpha=stack_alpha).fit(np.c_[scaler.transform(dense), text_oof], y, sample_weight=w)
    tfidf, ridge = _text_ridge(bow, y, w, alpha)
    a_text = float(stack.coef_[-1])
    coef = np.concatenate([a_text * np.asarray(ridge.coef_).ravel(), np.asarray(stack.coef_[:-1])])
    return StackedFit(tfidf, scaler, coef, float(stack.intercept_) + a_text * float(ridge.intercept_))


def length_slope(raw, log_tokens) -> float:
    """Least-squares slope of raw outputs on log length (what the length-neutral score takes out)."""
    x = np.asarray(log_tokens, float)
    x = x - x.mean()
    return float(x @ (np.asarray(raw, float) - np.mean(raw)) / max(float(x @ x), 1e-12))
