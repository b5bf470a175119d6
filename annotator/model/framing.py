"""The framing model: cue spans plus a 0-100 framing-risk score for each article."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..cues import CueTagger
from ..errors import AnnotatorError
from ..taxonomy import load_taxonomy
from .calibration import CentredIsotonicCalibration, band_of
from .version import version_digest

__all__ = ["FramingModel"]


class FramingModel(BaseEstimator):
    """Cue spans plus a 0-100 framing-risk score for each article.

    Parameters
    ----------
    tagger : CueTagger or None
        Unfitted span tagger to train (None: ``CueTagger()`` with default parameters).
    alpha : float
        Ridge regularisation of the document score.
    bigram_bits : int
        Hashed word-bigram features: ``2 ** bigram_bits`` columns.
    char_ngrams : tuple of int
        Lengths of the within-word character n-grams.
    char_bits : int
        Hashed character n-gram features: ``2 ** char_bits`` columns.
    char_weight : float
        Weight of the L1-normalised character n-gram block relative to the word TF-IDF block.
    cue_weight : float
        Weight of the standardised cue features relative to the TF-IDF blocks.
    prior_tokens : int
        Cue rates are shrunk towards the training articles' rates as if every article had this
        many more tokens at those rates, so one cue in a one-line text is weak evidence (a
        raw rate per 1,000 tokens would make it extreme).
    cv : int
        Folds (grouped by article) for the cross-validated document metrics and the
        out-of-fold predictions the calibration is fitted on.
    random_state : int

    Attributes
    ----------
    tagger_ : CueTagger
    tfidf_, char_tfidf_ : TfidfTransformer
        Word (unigram + hashed bigram) TF-IDF weights (sublinear, L2), and character n-gram
        IDF weights. The character n-grams of an article are those of its vocabulary words
        (as ``char_wb``), each word counted ``1 + log(count)`` times; that block is
        L1-normalised, so it folds into two numbers per vocabulary entry.
    cue_prior_ : ndarray of shape (2 * n_labels,)
        Training rates (spans per token, mean token probability) the cue features shrink towards.
    char_coef_, char_mass_ : ndarray of shape (n_vocab + 2,)
        The character block folded per vocabulary entry: an article's contribution is
        ``x @ char_coef_ / (x @ char_mass_)`` with ``x`` its sublinear word counts.
    scaler_ : StandardScaler
    ridge_ : Ridge
    calib_x_, calib_y_ : ndarray
        Knots of the calibration, out-of-fold ridge output → 0-100 scale (the target
        percentile × 100), fitted by :class:`CentredIsotonicCalibration` (strictly increasing,
        so articles with different ridge outputs never share a score); :meth:`calibration`
        rebuilds that estimator from them.
    feature_names_ : list of str
        Names of the dense cue features.
    metrics_ : dict
        Cross-validated figures (see :func:`annotator.training.train`).
    model_version : str
        ``framing-`` and a digest of the ridge weights, the calibration and the tagger's
        ``model_version`` (a file keeps the version it was saved with).
    label_config_hash : str
    """

    def __init__(self, tagger=None, alpha=0.3, bigram_bits=18, char_ngrams=(2, 5), char_bits=19, char_weight=100.0,
                 cue_weight=0.1, prior_tokens=100, cv=5, random_state=0):
        self.tagger = tagger
        self.alpha = alpha
        self.bigram_bits = bigram_bits
        self.char_ngrams = char_ngrams
        self.char_bits = char_bits
        self.char_weight = char_weight
        self.cue_weight = cue_weight
        self.prior_tokens = prior_tokens
        self.cv = cv
        self.random_state = random_state

    _CACHES = ("_char_matrix",)

    def __getstate__(self):
        state = super().__getstate__()
        for cache in self._CACHES:
            state.pop(cache, None)
        return state

    def _chars(self):
        """Vocabulary × hashed character n-gram matrix (within words, as ``char_wb``); fitting only."""
        cached = self.__dict__.get("_char_matrix")
        if cached is None:
            words = self.tagger_.vocabulary_.split("\n") if self.tagger_.vocabulary_ else []
            hv = HashingVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams), n_features=1 << self.char_bits,
                                   alternate_sign=False, norm=None, lowercase=True)
            n_vocab = self.tagger_.tables_.shape[2]
            cached = sp.vstack([hv.transform(words), sp.csr_matrix((n_vocab - len(words), 1 << self.char_bits))], format="csr")
            self.__dict__["_char_matrix"] = cached
        return cached

    def warm(self):
        """Build the lookups prediction needs now (load time, and before forking workers that share them)."""
        check_is_fitted(self, "ridge_")
        self.tagger_.warm()
        return self

    # -- features ---------------------------------------------------------------------------
    def _bow(self, batch, n_vocab):
        """Unigram (vocabulary rows) + hashed bigram counts, one row per article of a TaggedBatch."""
        nb = 1 << self.bigram_bits
        ids = batch.ids
        counts = np.diff(batch.offsets)
        rows = np.repeat(np.arange(len(counts)), counts)
        same = rows[:-1] == rows[1:]  # bigrams within an article
        big = (ids[:-1][same] * 1_000_003 + ids[1:][same]) % nb + n_vocab
        m = sp.csr_matrix((np.ones(len(ids) + len(big)), (np.concatenate([rows, rows[:-1][same]]), np.concatenate([ids, big]))),
                          shape=(len(counts), n_vocab + nb))
        m.sum_duplicates()
        return m

    def _cue_totals(self, batch, labels):
        """Per article: span count per label, then summed token probability per label; and tokens."""
        counts = np.diff(batch.offsets)
        L = len(labels)
        totals = np.zeros((len(counts), 2 * L))
        index = {lab: j for j, lab in enumerate(labels)}
        for i, ss in enumerate(batch.spans):
            for s in ss:
                totals[i, index[s["label"]]] += 1.0
        nonempty = np.flatnonzero(counts)
        if len(nonempty):
            totals[nonempty, L:] = np.add.reduceat(batch.probs.astype(np.float64), batch.offsets[nonempty], axis=0)
        return totals, counts

    def _cue_rates(self, totals, counts):
        """Dense cue features: per label, spans per 1,000 tokens and the mean token probability,
        both shrunk towards the training rates ``cue_prior_`` (see ``prior_tokens``)."""
        n0 = float(self.prior_tokens)
        rates = (totals + n0 * self.cue_prior_) / (counts[:, None] + n0)
        rates[:, :totals.shape[1] // 2] *= 1000.0
        return rates

    def _features(self, batch, fit=False):
        n_vocab = self.tagger_.tables_.shape[2]
        totals, counts = self._cue_totals(batch, self.tagger_.labels_)
        if fit:  # the training articles' rates
            self.cue_prior_ = totals.sum(axis=0) / max(1, int(counts.sum()))
        return self._bow(batch, n_vocab), self._cue_rates(totals, counts)

    def _word_weights(self, bow):
        """Sublinear counts (1 + log count) of the vocabulary entries: what the character block sums."""
        x = bow[:, :self.tagger_.tables_.shape[2]].astype(np.float64)
        x.data = 1.0 + np.log(x.data)
        return x

    def _design(self, bow, cues, fit=False):
        """[word TF-IDF | character n-gram TF-IDF (L1) × char_weight | scaled cue features × cue_weight]."""
        chars = self._word_weights(bow) @ self._chars()
        if fit:
            self.tfidf_ = TfidfTransformer(sublinear_tf=True).fit(bow)
            self.char_tfidf_ = TfidfTransformer(norm="l1").fit(chars)
            self.scaler_ = StandardScaler().fit(cues)
        return sp.hstack([self.tfidf_.transform(bow), self.char_tfidf_.transform(chars) * self.char_weight,
                          sp.csr_matrix(self.scaler_.transform(cues) * self.cue_weight)], format="csr")

    def _fold_chars(self):
        """Fold the character block's ridge weights into per-vocabulary-entry vectors."""
        n_vocab = self.tagger_.tables_.shape[2]
        lo = n_vocab + (1 << self.bigram_bits)
        w = np.asarray(self.ridge_.coef_).ravel()[lo:lo + (1 << self.char_bits)]
        idf = self.char_tfidf_.idf_
        C = self._chars()
        self.char_coef_ = np.asarray(C @ (idf * w)).ravel() * self.char_weight
        self.char_mass_ = np.asarray(C @ idf).ravel()

    def _contributions(self, bow, cues):
        """(raw ridge outputs, per-feature contributions): word/bigram TF-IDF entries, then one
        column per vocabulary entry for the character block, then the cue features."""
        coef = np.asarray(self.ridge_.coef_).ravel()
        words = self.tfidf_.transform(bow)
        words.data *= coef[words.indices]
        x = self._word_weights(bow)
        mass = x @ self.char_mass_
        chars = x.multiply(self.char_coef_[None, :]).tocsr()
        chars = sp.diags(np.divide(1.0, mass, out=np.zeros_like(mass), where=mass > 0)) @ chars
        cue = self.scaler_.transform(cues) * self.cue_weight * coef[len(coef) - cues.shape[1]:]
        contrib = sp.hstack([words, chars, sp.csr_matrix(cue)], format="csr")
        raw = np.asarray(contrib.sum(axis=1)).ravel() + float(self.ridge_.intercept_)
        return raw, contrib

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit on a training frame.

        Parameters
        ----------
        X : DataFrame
            Columns ``text``, ``spans`` (gold (label, start, end) per article), ``annotated``
            (labels each article is annotated for) and optionally ``group`` (CV groups).
        y : array-like of float
            Document target in [0, 1] (a percentile), NaN where an article has none.
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
            self.tagger_.fit(texts, X["spans"].tolist(), annotated=X["annotated"].tolist() if "annotated" in X else None)
            idx = np.flatnonzero(has)
            bow, cues = self._features(self.tagger_.analyze_batch([texts[i] for i in idx]), fit=True)
            target = y[idx]
            oof = self._out_of_fold(bow, cues, target)
            self.ridge_ = Ridge(alpha=self.alpha).fit(self._design(bow, cues, fit=True), target)
            self._fold_chars()
            calibration = CentredIsotonicCalibration().fit(oof, 100 * target)
            self.calib_x_, self.calib_y_ = calibration.knots_x_, calibration.knots_y_
            self.feature_names_ = [f"{lab}_per_1k_words" for lab in self.tagger_.labels_] + \
                                  [f"{lab}_mean_probability" for lab in self.tagger_.labels_]
            ids = X["article_id"].astype(str).tolist() if "article_id" in X else [str(i) for i in range(len(X))]
            self.oof_ = {"risk": self._calibrate(oof), "target": 100 * target, "article_id": [ids[i] for i in idx]}
            self.label_config_hash = load_taxonomy().structure_hash
        self.model_version = self._version()
        return self

    def _out_of_fold(self, bow, cues, target):
        """Out-of-fold ridge outputs: honest metrics, and what the calibration is fitted on."""
        oof = np.zeros(len(target))
        folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        for tr, te in folds.split(oof):
            model = clone(self).set_params(tagger=None)
            model.tagger_ = self.tagger_
            model.__dict__["_char_matrix"] = self._chars()
            Xtr = model._design(bow[tr], cues[tr], fit=True)
            ridge = Ridge(alpha=self.alpha).fit(Xtr, target[tr])
            oof[te] = ridge.predict(model._design(bow[te], cues[te]))
        return oof

    def _version(self) -> str:
        """``framing-`` and :func:`~annotator.model.version.version_digest` of what the model computes
        with (tagger tables, thresholds, frozen rules, ridge weights, calibration knots), rounded above
        the last-bit differences between machines."""
        return "framing-" + version_digest(self)[:10]

    # -- prediction -------------------------------------------------------------------------
    def calibration(self) -> CentredIsotonicCalibration:
        """The fitted 0-100 calibration, built from the stored knots ``calib_x_``/``calib_y_``
        (model files keep only the knots, so files from before the estimator existed load as is)."""
        check_is_fitted(self, "calib_x_")
        return CentredIsotonicCalibration.from_knots(self.calib_x_, self.calib_y_)

    def _calibrate(self, raw):
        """Ridge outputs → 0-100 (see :class:`CentredIsotonicCalibration`)."""
        return self.calibration().predict(raw)

    def predict(self, X):
        """Framing-risk scores (0-100) for texts (a sequence of str or a frame with ``text``)."""
        return self.score(_as_frame(X))["risk"].to_numpy(dtype=float)

    def score(self, frame, evidence=5):
        """Score an articles frame (``id``, ``text``; rows with ``error`` set are passed through).

        Returns a frame in the same order and index: ``id``, ``risk`` (0-100, one decimal),
        ``band``, ``spans``, ``n_<label>`` per label, ``evidence`` (the features that pushed
        the score up most: ``{"feature", "contribution"}`` in score points) and ``error``.
        """
        check_is_fitted(self, "ridge_")
        frame = _as_frame(frame)
        labels = list(self.tagger_.labels_)
        ok = frame["error"].isna().to_numpy() if "error" in frame else np.ones(len(frame), bool)
        texts = frame["text"].tolist()
        n = len(frame)
        risk = np.full(n, np.nan)
        spans = [[] for _ in range(n)]
        evid = [[] for _ in range(n)]
        idx = np.flatnonzero(ok)
        counts = np.zeros((n, len(labels)), dtype=np.int64)
        if len(idx):
            batch = self.tagger_.analyze_batch([texts[i] for i in idx])
            raw, contrib = self._contributions(*self._features(batch))
            r = np.round(self._calibrate(raw), 1)
            index = {lab: j for j, lab in enumerate(labels)}
            for k, i in enumerate(idx.tolist()):
                risk[i] = r[k]
                spans[i] = batch.spans[k]
                for d in spans[i]:
                    counts[i, index[d["label"]]] += 1
            for k, ev in enumerate(self._evidence(contrib, batch, evidence)):
                evid[idx[k]] = ev
        out = pd.DataFrame({
            "id": pd.Series(frame["id"].astype(str).tolist() if "id" in frame else [str(i) for i in range(n)], dtype=object),
            "risk": risk,
            "band": pd.Series([b if ok[i] else None for i, b in enumerate(band_of(np.nan_to_num(risk)))], dtype=object),
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
        n_wb = n_vocab + (1 << self.bigram_bits)
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
                elif c < n_wb + n_vocab:
                    name = f"characters:in '{words[c - n_wb]}'" if c - n_wb < len(words) else "characters:?"
                else:
                    name = "cue:" + self.feature_names_[c - n_wb - n_vocab]
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
