"""Model files: skops only, loaded against an explicit list of trusted types."""
from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from .errors import AnnotatorError

__all__ = ["save_skops", "load_skops", "TRUSTED_TYPES"]

#: Types (beyond what skops trusts by default) that a model file may contain.
TRUSTED_TYPES = [
    "annotator.cues.CueTagger",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.pipeline.Pipeline",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "builtins.set",
]


def save_skops(obj, path) -> Path:
    """Write ``obj`` to ``path`` with skops, atomically (temporary file, then rename)."""
    import skops.io as sio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        sio.dump(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_skops(path, extra_trusted=()):
    """Load a skops file, refusing pickles and any type not explicitly trusted."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise AnnotatorError(f"{path}: model file not found")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80" or not zipfile.is_zipfile(path):
        raise AnnotatorError(f"{path}: not a skops model file (pickle and joblib files are refused)")
    trusted = set(TRUSTED_TYPES) | set(extra_trusted)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # corrupt archive, wrong schema
        raise AnnotatorError(f"{path}: unreadable skops file: {exc}") from None
    refused = sorted(set(untrusted) - trusted)
    if refused:
        raise AnnotatorError(f"{path}: refusing to load untrusted types: {', '.join(refused)}")
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise AnnotatorError(f"{path}: cannot load model: {exc}") from None


# ---------------------------------------------------------------------------------------------
# the framing-risk model

import hashlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.base import BaseEstimator, clone  # noqa: E402
from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

#: Band edges on the 0-100 scale: low < 33 <= elevated < 67 <= high.
BAND_EDGES = (33.0, 67.0)
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "framing.skops"


def band_of(risk, choices=None):
    """Band name(s) for risk value(s): the taxonomy's rating choices, lowest first."""
    from .taxonomy import load_taxonomy

    choices = choices or load_taxonomy().rating_choices
    idx = np.searchsorted(np.asarray(BAND_EDGES), np.asarray(risk, dtype=float), side="right")
    return np.asarray(choices, dtype=object)[idx]


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
        percentile × 100): centred isotonic regression, i.e. the isotonic fit's blocks, each
        placed at the mean ridge output of its articles and joined by straight lines (extended
        beyond the outer knots at the average slope, clipped to 0-100). Unlike the step
        function of plain isotonic regression it is strictly increasing, so articles with
        different ridge outputs never share a score.
    feature_names_ : list of str
        Names of the dense cue features.
    metrics_ : dict
        Cross-validated figures (see :func:`annotator.training.train`).
    model_version : str
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
            from sklearn.feature_extraction.text import HashingVectorizer

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
        n_wb = bow.shape[1]
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
        from .cues import CueTagger

        y = np.asarray(y, dtype=float)
        has = np.isfinite(y)
        if len(X) == 0:
            raise AnnotatorError("cannot train on an empty dataset")
        if has.sum() < 2 * max(2, self.cv) or len(np.unique(y[has])) < 2:
            raise AnnotatorError(f"need document targets with at least two distinct values on {2 * max(2, self.cv)}+ "
                                 f"articles (have {int(has.sum())} with {len(np.unique(y[has]))} distinct values)")
        texts = X["text"].tolist()
        self.tagger_ = clone(self.tagger if self.tagger is not None else CueTagger(random_state=self.random_state))
        self.tagger_.fit(texts, X["spans"].tolist(), annotated=X["annotated"].tolist() if "annotated" in X else None)
        idx = np.flatnonzero(has)
        bow, cues = self._features(self.tagger_.analyze_batch([texts[i] for i in idx]), fit=True)
        target = y[idx]
        # out-of-fold predictions: honest metrics, and what the calibration is fitted on
        oof = np.zeros(len(idx))
        folds = KFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        for tr, te in folds.split(idx):
            model = clone(self).set_params(tagger=None)
            model.tagger_ = self.tagger_
            model.__dict__["_char_matrix"] = self._chars()
            Xtr = model._design(bow[tr], cues[tr], fit=True)
            ridge = Ridge(alpha=self.alpha).fit(Xtr, target[tr])
            oof[te] = ridge.predict(model._design(bow[te], cues[te]))
        self.ridge_ = Ridge(alpha=self.alpha).fit(self._design(bow, cues, fit=True), target)
        self._fold_chars()
        self.calib_x_, self.calib_y_ = _centred_isotonic(oof, 100 * target)
        self.feature_names_ = [f"{lab}_per_1k_words" for lab in self.tagger_.labels_] + \
                              [f"{lab}_mean_probability" for lab in self.tagger_.labels_]
        ids = X["article_id"].astype(str).tolist() if "article_id" in X else [str(i) for i in range(len(X))]
        self.oof_ = {"risk": self._calibrate(oof), "target": 100 * target, "article_id": [ids[i] for i in idx]}
        from .taxonomy import load_taxonomy

        self.label_config_hash = load_taxonomy().config_hash
        digest = hashlib.sha1(np.asarray(self.ridge_.coef_).tobytes())
        digest.update(np.asarray(self.calib_x_).tobytes() + np.asarray(self.calib_y_).tobytes())
        self.model_version = "framing-" + digest.hexdigest()[:10]
        return self

    # -- prediction -------------------------------------------------------------------------
    def _calibrate(self, raw):
        """Ridge outputs → 0-100: linear between the knots ``calib_x_``/``calib_y_``; beyond them at
        the calibration's average slope (an end segment between two close knots can be very steep),
        clipped."""
        x, y = self.calib_x_, self.calib_y_
        raw = np.asarray(raw, dtype=float)
        if len(x) < 2:
            return np.full(raw.shape, float(y[0]) if len(y) else 50.0)
        slope = (y[-1] - y[0]) / (x[-1] - x[0])
        out = np.interp(raw, x, y)
        lo, hi = raw < x[0], raw > x[-1]
        out[lo] = y[0] + (raw[lo] - x[0]) * slope
        out[hi] = y[-1] + (raw[hi] - x[-1]) * slope
        return np.clip(out, 0.0, 100.0)

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


def _centred_isotonic(x, y):
    """Knots (x, y) of a centred isotonic regression of ``y`` on ``x`` (Oron & Flournoy 2017):
    each block of the isotonic fit becomes one knot at its points' mean ``x``; adjacent blocks
    have different values, so the knots increase strictly in both coordinates."""
    x = np.asarray(x, dtype=float)
    fitted = IsotonicRegression(y_min=0.0, y_max=100.0).fit(x, y).predict(x)
    order = np.argsort(x, kind="stable")
    xs, fs = x[order], fitted[order]
    new = np.ones(len(xs), dtype=bool)
    new[1:] = fs[1:] != fs[:-1]
    first = np.flatnonzero(new)
    size = np.diff(np.append(first, len(xs)))
    return np.add.reduceat(xs, first) / size, fs[first]


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


MODEL_TRUSTED = TRUSTED_TYPES + [
    "annotator.model.FramingModel",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.model_selection._split.KFold",
]


def load_model(path=None) -> FramingModel:
    """Load a framing model (default: the shipped ``models/framing.skops``).

    Refuses pickles, untrusted types, and models built for another label config.
    """
    from .taxonomy import load_taxonomy

    path = Path(path) if path is not None else DEFAULT_MODEL
    model = load_skops(path, extra_trusted=MODEL_TRUSTED)
    if not isinstance(model, FramingModel):
        raise AnnotatorError(f"{path}: not a framing model (found {type(model).__name__})")
    ours = load_taxonomy().config_hash
    if getattr(model, "label_config_hash", None) != ours:
        raise AnnotatorError(f"{path}: built for another label config (hash {str(getattr(model, 'label_config_hash', None))[:12]}, "
                             f"ours {ours[:12]}): retrain it with `annotator train`")
    if not hasattr(model, "calib_x_"):
        raise AnnotatorError(f"{path}: made by an older version of annotator (step calibration): "
                             "retrain it with `annotator train`")
    return model.warm()


def write_model_card(model, path) -> Path:
    """A Markdown model card beside the model file (``NAME.md``)."""
    from .io import write_text_atomic

    m = getattr(model, "metrics_", {})
    d = m.get("document", {})
    lines = [
        f"# Model card: {Path(path).name}", "",
        f"- model_version: `{model.model_version}`",
        f"- label config hash: `{model.label_config_hash[:16]}`",
        f"- package versions: {json.dumps(getattr(model, 'versions_', {}))}",
        f"- training data: {json.dumps(getattr(model, 'data_summary_', {}))}", "",
        "## What the score means",
        "A 0-100 framing-risk score. Trained on the shared corpora without annotator ratings, it is the",
        "estimated percentile of the article's propaganda density (share of characters inside any",
        "SemEval-2020 Task 11 technique span) among the PTC training articles, calibrated out of fold.",
        "Bands: low < 33 <= elevated < 67 <= high.", "",
        "## Cross-validated figures",
        f"- document: Spearman {d.get('spearman', float('nan')):.3f}, MAE {d.get('mae', float('nan')):.1f} points, "
        f"band accuracy {d.get('band_accuracy', float('nan')):.2f} (n={d.get('n')})",
    ]
    for row in m.get("spans", []):
        if row["metric"] in ("span", "sentence"):
            lines.append(f"- {row['corpus']} {row['label']} {row['metric']}: P {row['precision']:.3f} "
                         f"R {row['recall']:.3f} F1 {row['f1']:.3f}")
    lines += ["", "## Data and licences",
              "PTC SemEval-2020 Task 11 (CC BY 4.0), PolNeAR (research corpus), Szeged WikiWeasel (CC BY-SA);",
              "VADER (MIT) and TextBlob (MIT) lexicons.", "",
              "## Limits",
              "English news only; the target is PTC's notion of propaganda, not a truth judgement; scores of",
              "articles far from the training genres (wire copy, encyclopaedic text) are less reliable."]
    out = Path(path).with_suffix(".md")
    write_text_atomic(out, "\n".join(lines) + "\n")
    return out
