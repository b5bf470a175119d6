"""The framing model: cue spans plus a 0-100 framing-risk score for each article, with its interval."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..cues import CueTagger
from ..errors import AnnotatorError
from ..taxonomy import load_taxonomy
from .calibration import CentredIsotonicCalibration, band_of
from .confidence import confidence_of, half_width, interval_table, prefix_texts
from .features import (WORD_CLASSES, bag_of_words, dense_names, dense_parts, dense_rates, headline_prior,
                       n_bigram_columns, word_class_table)
from .stacking import fit_stacked, grouped_splits, length_slope, text_rows, text_weights
from .version import version_digest

__all__ = ["FramingModel"]


class FramingModel(BaseEstimator):
    """Cue spans plus a 0-100 framing-risk score for each article.

    The score is a linear model over the article's word/bigram TF-IDF and its dense, topic-neutral
    features (:mod:`annotator.model.features`: cue rates, the share of anonymous or unverified
    attributions, wording and headline features), fitted in two steps (:mod:`annotator.model.stacking`),
    with the linear trend on log length taken out (``length_neutral``), then calibrated to 0-100.

    Parameters
    ----------
    tagger : CueTagger or None
        Unfitted span tagger to train (None: ``CueTagger()`` with default parameters).
    alpha : float or tuple of float
        Ridge regularisation of the TF-IDF (text) part, or candidates: the one with the least error
        on inner grouped folds of the training rows is used (``text_alpha_``). Measured with whole
        sites held out (5 fold seeds), the default grid against 1.0 alone: PTC Spearman +0.016,
        hyperpartisan AUC -0.006, each within the seed-to-seed spread.
    stack_alpha : float
        Ridge regularisation of the ridge that weighs the text part beside the dense features.
    bigram_bits : int or None
        Hashed word-bigram features: ``2 ** bigram_bits`` columns; None (the default): none. Measured with
        whole sites held out, bigrams (2 ** 18) cost PTC Spearman 0.03 and hyperpartisan AUC 0.01 and put
        more Wikipedia texts high: they learn outlets and topics.
    prior_tokens : int
        Rates are shrunk towards the training articles' rates as if every article had this many
        more tokens at those rates, so one cue in a one-line text is weak evidence.
    length_neutral : bool
        Take the linear trend of the (out-of-fold) raw score on log length out of the score, so long
        articles do not score higher for being long.
    interval_quantile : float
        Quantile of the score moves measured on cut training articles that the interval half-width
        keeps (see :mod:`annotator.model.confidence`).
    cv : int
        Folds, whole groups held out (column ``group`` of the training frame: a site, an article),
        for the cross-validated document metrics and the out-of-fold outputs the calibration is
        fitted on.
    random_state : int

    Attributes
    ----------
    tagger_ : CueTagger
    tfidf_ : TfidfTransformer
        Word (unigram + hashed bigram) TF-IDF weights (sublinear, L2).
    scaler_ : StandardScaler
        Standardises the dense features.
    text_alpha_ : float
        The text part's regularisation used (chosen among ``alpha`` on inner grouped folds).
    ridge_ : Ridge
        The composed linear model over ``[word TF-IDF | hashed bigram TF-IDF | scaled dense features]``
        (its ``coef_`` and ``intercept_``; what evidence and the model report read).
    cue_prior_ : ndarray
        Training rates (span counts, token probabilities, word classes per token) the rates shrink towards.
    class_rows_, class_cols_ : ndarray
        The vocabulary × word-class indicator matrix (:func:`~annotator.model.features.word_class_table`).
    length_slope_ : float
        The slope on log length taken out of the raw score (0 unless ``length_neutral``).
    headline_prior_ : ndarray
        The training articles' mean headline feature columns: those of a one-line text (it has no headline).
    length_range_ : ndarray of shape (2,)
        The training articles' 5th and 95th percentile of log(tokens + 10): the length feature is clipped to it.
    calib_x_, calib_y_ : ndarray
        Knots of the calibration, out-of-fold raw output → 0-100 (:class:`CentredIsotonicCalibration`).
    interval_tokens_, interval_width_ : ndarray
        The interval table: half-width in score points by token count.
    feature_names_ : list of str
        Names of the dense features.
    metrics_ : dict
        Cross-validated figures (see :func:`annotator.training.train`).
    oof_ : dict
        Out-of-fold ``risk``, ``target``, ``article_id``, ``source`` and ``tokens`` of the targets.
    model_version : str
    label_config_hash : str
    """

    def __init__(self, tagger=None, alpha=(0.1, 0.3, 1.0, 3.0), stack_alpha=10.0, bigram_bits=None, prior_tokens=100,
                 length_neutral=True, interval_quantile=0.8, cv=5, random_state=0):
        self.tagger = tagger
        self.alpha = alpha
        self.stack_alpha = stack_alpha
        self.bigram_bits = bigram_bits
        self.prior_tokens = prior_tokens
        self.length_neutral = length_neutral
        self.interval_quantile = interval_quantile
        self.cv = cv
        self.random_state = random_state

    _CACHES = ("_class_matrix",)

    def __getstate__(self):
        state = super().__getstate__()
        for cache in self._CACHES:
            state.pop(cache, None)
        return state

    def _classes(self):
        """The vocabulary × word-class indicator matrix (sparse, built once from the stored indices)."""
        cached = self.__dict__.get("_class_matrix")
        if cached is None:
            n_vocab = self.tagger_.tables_.shape[2]
            cached = sp.csr_matrix((np.ones(len(self.class_rows_)), (self.class_rows_, self.class_cols_)),
                                   shape=(n_vocab, len(WORD_CLASSES)))
            self.__dict__["_class_matrix"] = cached
        return cached

    def warm(self):
        """Build the lookups prediction needs now (load time, and before forking workers that share them)."""
        check_is_fitted(self, "ridge_")
        self.tagger_.warm()
        self._classes()
        return self

    # -- features ---------------------------------------------------------------------------
    def _features(self, batch, texts, fit=False):
        """(bag of words, dense features, text weights) of a TaggedBatch of ``texts``. The log token count
        (the length correction's input) is clipped to the training articles' 5th-95th percentile range,
        so the correction never extrapolates to texts far shorter or longer than those."""
        n_vocab = self.tagger_.tables_.shape[2]
        bow = bag_of_words(batch, n_vocab, self.bigram_bits)
        if fit:
            words = self.tagger_.vocabulary_.split("\n") if self.tagger_.vocabulary_ else []
            self.class_rows_, self.class_cols_ = word_class_table(words, n_vocab)
            self.__dict__.pop("_class_matrix", None)
        parts = dense_parts(batch, texts, bow, self.tagger_.labels_, self._classes())
        if fit:
            self.cue_prior_ = parts.totals.sum(axis=0) / max(1, int(parts.counts.sum()))
            self.length_range_ = np.percentile(np.log(parts.counts + 10.0), [5, 95])
            self.headline_prior_ = headline_prior(parts)
        dense = dense_rates(parts, self.cue_prior_, self.prior_tokens, self.tagger_.labels_,
                            getattr(self, "headline_prior_", None))  # None: a model fitted before it
        dense[:, -1] = np.clip(dense[:, -1], *self.length_range_)
        return bow, dense, text_weights(parts.counts, self.prior_tokens)

    def _contributions(self, bow, dense, shrink):
        """(raw outputs, per-feature contributions): word/bigram TF-IDF entries (scaled by the text
        weights), then the dense features."""
        coef = np.asarray(self.ridge_.coef_).ravel()
        words = text_rows(self.tfidf_, bow, shrink).tocsr()
        words.data *= coef[words.indices]
        contrib = sp.hstack([words, sp.csr_matrix(self.scaler_.transform(dense) * coef[bow.shape[1]:])],
                            format="csr")
        raw = np.asarray(contrib.sum(axis=1)).ravel() + float(self.ridge_.intercept_)
        return raw, contrib

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit on a training frame.

        Parameters
        ----------
        X : DataFrame
            Columns ``text``, ``spans`` (gold (label, start, end) per article), ``annotated``
            (labels each article is annotated for), and optionally ``group`` (CV groups: whole
            groups are held out; default the article), ``target_source`` (each source of document
            targets weighs the same in the fit; default one source) and ``article_id``.
        y : array-like of float
            Document target in [0, 1] (a percentile or a band centre), NaN where an article has none.
        sample_weight : array-like of float, optional
            Weight per article: passed to the tagger's fit, and the document targets weigh by it within
            their ``target_source`` (each source still weighs the same). None: all 1, as without it.
        """
        y = np.asarray(y, dtype=float)
        has = np.isfinite(y)
        if len(X) == 0:
            raise AnnotatorError("cannot train on an empty dataset")
        if has.sum() < 2 * max(2, self.cv) or len(np.unique(y[has])) < 2:
            raise AnnotatorError(f"need document targets with at least two distinct values on {2 * max(2, self.cv)}+ "
                                 f"articles (have {int(has.sum())} with {len(np.unique(y[has]))} distinct values)")
        # one BLAS thread: a multi-threaded dot product sums in an order that depends on the machine's
        # thread count, so the weights would differ in their last bits from machine to machine
        with threadpool_limits(limits=1, user_api="blas"):
            texts = X["text"].tolist()
            self.tagger_ = clone(self.tagger if self.tagger is not None else CueTagger(random_state=self.random_state))
            self.tagger_.fit(texts, X["spans"].tolist(), annotated=X["annotated"].tolist() if "annotated" in X else None,
                             sample_weight=sample_weight)
            ids = X["article_id"].astype(str).to_numpy() if "article_id" in X else np.arange(len(X)).astype(str)
            idx = np.flatnonzero(has)
            groups = X["group"].astype(str).to_numpy()[idx] if "group" in X else ids[idx]
            source = X["target_source"].astype(str).to_numpy()[idx] if "target_source" in X else np.zeros(len(idx), str)
            sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)[idx]
            self._fit_document([texts[i] for i in idx], y[idx], groups, source, ids[idx], sw)
            self.label_config_hash = load_taxonomy().structure_hash
        self.model_version = self._version()
        return self

    def _fit_document(self, texts, target, groups, source, ids, sample_weight=None):
        """The document score on a fitted tagger: features, out-of-fold outputs (whole groups held
        out), the composed weights, the length correction, the calibration and the interval table."""
        batch = self.tagger_.analyze_batch(texts)
        bow, dense, shrink = self._features(batch, texts, fit=True)
        weight = _balanced(source, sample_weight)
        oof = self._out_of_fold(bow, dense, shrink, target, weight, groups)
        fit = fit_stacked(bow, dense, target, weight, groups, shrink, alpha=self.alpha, stack_alpha=self.stack_alpha,
                          random_state=self.random_state)
        self.tfidf_, self.scaler_, self.text_alpha_ = fit.tfidf, fit.scaler, fit.alpha
        log_tokens = dense[:, -1]
        self.length_slope_ = length_slope(oof, log_tokens) if self.length_neutral else 0.0
        oof = oof - self.length_slope_ * (log_tokens - self.scaler_.mean_[-1])
        coef = fit.coef.copy()
        coef[-1] -= self.length_slope_ * self.scaler_.scale_[-1]
        self.ridge_ = _linear(coef, fit.intercept)
        calibration = CentredIsotonicCalibration().fit(oof, 100 * target)
        self.calib_x_, self.calib_y_ = calibration.knots_x_, calibration.knots_y_
        self.feature_names_ = dense_names(self.tagger_.labels_)
        self.oof_ = {"risk": self._calibrate(oof), "target": 100 * target, "article_id": list(ids),
                     "source": list(source), "tokens": np.diff(batch.offsets).tolist()}
        self._fit_intervals(texts, batch)

    def _out_of_fold(self, bow, dense, shrink, target, weight, groups):
        """Out-of-fold raw outputs, whole groups held out: honest metrics, and what the calibration is fitted on."""
        oof = np.zeros(len(target))
        for tr, te in grouped_splits(groups, self.cv, self.random_state):
            fit = fit_stacked(bow[tr], dense[tr], target[tr], weight[tr], groups[tr], shrink[tr], alpha=self.alpha,
                              stack_alpha=self.stack_alpha, random_state=self.random_state)
            oof[te] = fit.raw(bow[te], dense[te], shrink[te])
        return oof

    def _fit_intervals(self, texts, batch, n_articles=150):
        """The interval table: up to ``n_articles`` training articles cut at several lengths and scored."""
        rng = np.random.default_rng(self.random_state)
        pick = np.sort(rng.permutation(len(texts))[:n_articles])
        ends = [batch.ends[batch.offsets[i]:batch.offsets[i + 1]] for i in pick]
        cuts, size, source = prefix_texts([texts[i] for i in pick], ends)
        full = self._risk([texts[i] for i in pick])
        scored = self._risk(cuts) if cuts else np.zeros(0)
        self.interval_tokens_, self.interval_width_ = interval_table(size, scored, full[source],
                                                                     quantile=self.interval_quantile)

    def _risk(self, texts):
        """Calibrated scores of texts (no rounding, no evidence)."""
        if not len(texts):
            return np.zeros(0)
        raw, _contrib = self._contributions(*self._features(self.tagger_.analyze_batch(texts), texts))
        return self._calibrate(raw)

    def _version(self) -> str:
        """``framing-`` and :func:`~annotator.model.version.version_digest` of what the model computes
        with (tagger tables, thresholds, frozen rules, composed weights, calibration knots), rounded above
        the last-bit differences between machines."""
        return "framing-" + version_digest(self)[:10]

    # -- prediction -------------------------------------------------------------------------
    def calibration(self) -> CentredIsotonicCalibration:
        """The fitted 0-100 calibration, built from the stored knots ``calib_x_``/``calib_y_``."""
        check_is_fitted(self, "calib_x_")
        return CentredIsotonicCalibration.from_knots(self.calib_x_, self.calib_y_)

    def _calibrate(self, raw):
        """Raw outputs → 0-100 (see :class:`CentredIsotonicCalibration`)."""
        return self.calibration().predict(raw)

    def predict(self, X):
        """Framing-risk scores (0-100) for texts (a sequence of str or a frame with ``text``)."""
        return self.score(_as_frame(X))["risk"].to_numpy(dtype=float)

    def score(self, frame, evidence=5, *, batch=None):
        """Score an articles frame (``id``, ``text``; rows with ``error`` set are passed through).
        ``batch``: the tagger's ``analyze_batch`` of the texts of the rows without ``error``, when the caller has it.

        Returns a frame in the same order and index: ``id``, ``risk`` (0-100, one decimal),
        ``band``, ``risk_low`` and ``risk_high`` (the interval the score could move within if there
        were more of the text, see :mod:`annotator.model.confidence`), ``confidence`` (``low``,
        ``medium``, ``high``), ``spans``, ``n_<label>`` per label, ``evidence`` (the features that
        pushed the score up most: ``{"feature", "contribution"}`` in score points) and ``error``.
        """
        check_is_fitted(self, "ridge_")
        frame = _as_frame(frame)
        labels = list(self.tagger_.labels_)
        ok = frame["error"].isna().to_numpy() if "error" in frame else np.ones(len(frame), bool)
        texts = frame["text"].tolist()
        n = len(frame)
        risk, width = np.full(n, np.nan), np.full(n, np.nan)
        spans = [[] for _ in range(n)]
        evid = [[] for _ in range(n)]
        idx = np.flatnonzero(ok)
        counts = np.zeros((n, len(labels)), dtype=np.int64)
        if len(idx):
            batch_texts = [texts[i] for i in idx]
            batch = self.tagger_.analyze_batch(batch_texts) if batch is None else batch
            raw, contrib = self._contributions(*self._features(batch, batch_texts))
            risk[idx] = np.round(self._calibrate(raw), 1)
            width[idx] = half_width(np.diff(batch.offsets), self.interval_tokens_, self.interval_width_)
            index = {lab: j for j, lab in enumerate(labels)}
            for k, i in enumerate(idx.tolist()):
                spans[i] = batch.spans[k]
                for d in spans[i]:
                    counts[i, index[d["label"]]] += 1
            for k, ev in enumerate(self._evidence(contrib, batch, evidence)):
                evid[idx[k]] = ev
        out = pd.DataFrame({
            "id": pd.Series(frame["id"].astype(str).tolist() if "id" in frame else [str(i) for i in range(n)], dtype=object),
            "risk": risk,
            "band": pd.Series([b if ok[i] else None for i, b in enumerate(band_of(np.nan_to_num(risk)))], dtype=object),
            "risk_low": np.round(np.clip(risk - width, 0, 100), 1),
            "risk_high": np.round(np.clip(risk + width, 0, 100), 1),
            "confidence": pd.Series([c if ok[i] else None for i, c in enumerate(confidence_of(np.nan_to_num(width)))],
                                    dtype=object),
        })
        out["spans"] = pd.Series(spans, dtype=object)
        for j, lab in enumerate(labels):
            out[f"n_{lab}"] = counts[:, j]
        out["evidence"] = pd.Series(evid, dtype=object)
        errors = frame["error"].tolist() if "error" in frame else [None] * n
        out["error"] = pd.Series([None if ok[i] else errors[i] for i in range(n)], dtype=object)
        out.index = frame.index
        return out

    def _evidence(self, contrib, batch, top):
        """Per row of the contributions (:meth:`_contributions`): the ``top`` features that pushed
        the score up most, in score points (those under 0.005 points, shown as 0.0, left out)."""
        points = contrib.data * 100.0  # the ridge predicts a percentile in [0, 1]
        # sort only the clearly positive entries; a row with fewer than `top` of those takes
        # all its entries above 0.005 points
        keep = np.flatnonzero(points >= 0.05)
        rows = np.searchsorted(contrib.indptr, keep, side="right") - 1
        few = np.flatnonzero(np.bincount(rows, minlength=contrib.shape[0]) < top)
        if len(few):
            more = np.concatenate([np.arange(contrib.indptr[k], contrib.indptr[k + 1]) for k in few.tolist()])
            more = more[(points[more] >= 0.005) & (points[more] < 0.05)]
            keep = np.concatenate([keep, more])
            rows = np.searchsorted(contrib.indptr, keep, side="right") - 1
        order = np.lexsort((-points[keep], rows))  # by row, largest first
        keep, rows = keep[order], rows[order]
        first = np.searchsorted(rows, np.arange(contrib.shape[0] + 1))
        n_vocab = self.tagger_.tables_.shape[2]
        n_wb = n_vocab + n_bigram_columns(self.bigram_bits)
        words = self.tagger_.vocabulary_.split("\n")
        out = []
        for k in range(contrib.shape[0]):
            ids = batch.ids[batch.offsets[k]:batch.offsets[k + 1]]
            ev = []
            for t in keep[first[k]:min(first[k + 1], first[k] + top)].tolist():
                c = int(contrib.indices[t])
                if c < n_vocab:
                    name = f"word:{words[c]}" if c < len(words) else "word:<unknown>"
                elif c < n_wb:
                    name = "bigram:" + _bigram_name(ids, c - n_vocab, words, self.bigram_bits)
                elif self.feature_names_[c - n_wb] == "log_tokens":
                    continue  # the length correction (length_neutral) is not evidence about the text
                else:
                    name = "cue:" + self.feature_names_[c - n_wb]
                ev.append({"feature": name, "contribution": round(float(points[t]), 2)})
            out.append(ev)
        return out


def _bigram_name(ids, h, words, bits):
    """The first bigram of the article whose hashed column is ``h``."""
    hit = np.flatnonzero((ids[:-1] * 1_000_003 + ids[1:]) % (1 << bits) == h)
    if not len(hit):
        return "?"
    a, b = ids[hit[0]], ids[hit[0] + 1]
    return f"{words[a] if a < len(words) else '<unk>'} {words[b] if b < len(words) else '<unk>'}"


def _as_frame(X):
    if isinstance(X, pd.DataFrame):
        return X
    texts = list(X)
    return pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts})


def _balanced(source, sample_weight=None) -> np.ndarray:
    """Sample weights under which every target source weighs the same (mean weight 1); within a source,
    rows weigh by ``sample_weight`` (None: alike)."""
    names, inverse, size = np.unique(np.asarray(source), return_inverse=True, return_counts=True)
    if sample_weight is None:
        return (len(inverse) / (len(names) * size))[inverse]
    return len(inverse) * sample_weight / (len(names) * np.bincount(inverse, weights=sample_weight)[inverse])


def _linear(coef, intercept) -> Ridge:
    """A Ridge holding composed weights (``coef_``, ``intercept_``): the form evidence and reports read."""
    out = Ridge()
    out.coef_, out.intercept_ = np.asarray(coef, dtype=float), float(intercept)
    out.n_features_in_ = len(coef)
    return out
