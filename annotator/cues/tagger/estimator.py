"""The cue tagger estimator (:class:`CueTagger`): its parameters, ``fit``, and the prediction API.

The work is done in the modules beside it: :mod:`.training` (token classifiers),
:mod:`.context` (context bags), :mod:`.span_filter`, :mod:`.prediction` (token scores and
spans); the rules it adds are frozen into it at fit (:mod:`annotator.cues.rules`).
"""
from __future__ import annotations

import hashlib

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ...corpus_mapping import corpus_mapping
from ...errors import AnnotatorError
from ...taxonomy import load_taxonomy
from ..features import sentiment_lexicon
from ..lexicons import span_edge_words
from ..operating import TARGET_PRECISION
from ..rules import RuleSet, builtins_digest, live_rule_set
from ..tokens import sentence_spans
from .context import context_design, select_context
from ..vetting import live_vetting
from .heldout import operating_point, tune_thresholds
from .prediction import TaggedBatch, analyze_batch, heads, lookups, rule_matcher, token_ids, token_scores
from .span_filter import fit_span_filter
from .training import TokenDesign, fit_classifiers, tokenised_articles, tuning_parts

__all__ = ["CueTagger", "TRUSTED_TYPES"]


class CueTagger(BaseEstimator, TransformerMixin):
    """Span tagger: one windowed linear token classifier per taxonomy label.

    Parameters
    ----------
    labels : sequence of str or None
        Labels to learn; None means every span label of the taxonomy.
    window : int
        Tokens on each side whose features describe a token.
    min_count : int
        Vocabulary entries (exact token strings) seen fewer times are treated as unknown.
    alpha : float
        L2 regularisation of the logistic regressions (fitted by averaged SGD).
    epochs : int
        Passes over the training tokens.
    class_weight : dict, 'balanced' or None
        Passed to each classifier.
    use_rules : bool
        Add the rules' spans to the predictions: the rules of ``label_config/cues.toml`` (with
        their lexicons and measured precision) as they were at fit time (``rules_``).
    tune_fraction : float
        Share of training articles held out to tune each label's decision threshold
        (span F1 with partial-overlap credit); 0 keeps ``threshold``. Used when
        ``tune_folds`` < 2.
    span_length_power : float
        Tokens of an n-token gold span weigh ``n ** -span_length_power`` in training (rescaled
        so the positive tokens keep their total weight): the span score credits every gold span
        equally, however long. 0 weighs every token alike.
    tune_folds : int
        When ≥ 2, tune the thresholds by cross-fitting instead: every training article is
        scored by a model fitted without its part (``tune_folds`` extra fits), and the
        thresholds are tuned on all of them (``tune_fraction`` > 0 only switches tuning on).
    threshold : float
        Default decision threshold on the token probability.
    random_state : int
        Seed for the tuning split.
    char_ngrams : int
        Length of the character n-grams describing each token itself (0: none). Neighbours in
        the window are described by their word-level features only.
    solver : str
        ``"liblinear"`` (or another :class:`~sklearn.linear_model.LogisticRegression` solver):
        the L2 logistic regression solved to convergence with ``C = 1 / (alpha * n_tokens)``;
        ``"sgd"``: averaged SGD for ``epochs`` passes (faster, less accurate).
    context : (int, int) or None
        ``(near, far)``: besides its window, a token is described by the words ``near`` to ``far``
        tokens away on either side within its sentence (two bags of words, one per side), e.g.
        the reporting verb a few tokens after a source ("Sen. John McCain, R-Ariz., said").
        At prediction each side is one table gather and a running sum. None: no context bags.
    context_words : int
        Per label and side, the vocabulary entries whose presence at that distance is most
        associated (chi-square) with the label's tokens; the union of them is used in the bags.
    context_labels : sequence of str or None
        Labels whose classifiers use the context bags. None: the source labels (PolNeAR's
        ``source_label`` and ``anonymous_label`` in ``label_config/corpora.toml``), which are
        told apart from other mentions by a reporting verb further away; loaded terms lose
        precision with them (PTC 5-fold span F1 0.354 -> 0.338).
    span_filter : (float, float) or None
        ``(high, low)``: the spans of the ``context_labels`` are decoded together, as candidate
        runs of their highest probability at these hysteresis thresholds, and each candidate is
        kept or dropped by a span-level logistic regression (its probabilities, the best other
        candidate of its sentence, its length and position, the words at its edges), fitted on
        the tuning articles' held-out scores; its label is the group's most probable one. None
        (or no tuning split): each label decoded on its own.
    target_precision : float
        The held-out span precision each label's operating point aims for (``operating_point_``).

    Attributes
    ----------
    labels_ : list of str
    vocabulary_ : str
        Vocabulary entries (exact token strings), one per line; line i is row i of ``tables_``.
    tables_ : ndarray of shape (n_labels, 2 * window + 1, n_vocab + 2)
        Folded per-offset score contributions of each vocabulary entry (last two rows:
        padding and unknown token).
    feature_names_ : str
        Names of the features kept for unknown tokens, one per line.
    feature_weights_ : ndarray of shape (n_features, n_labels, 2 * window + 1)
        Their weights (features of tokens not in the vocabulary are summed at prediction).
    lexicon_ : str
        The sentiment/subjectivity lexicon used at fit time (``word<TAB>features`` lines).
    edge_words_ : str
        Two lines: the words a decoded span may not start with, and those it may not end with
        (:func:`~annotator.cues.lexicons.span_edge_words` at fit time; space-separated).
    intercepts_ : ndarray of shape (n_labels,)
    context_tables_ : ndarray of shape (n_labels, 2, n_vocab + 2) or None
        Weights of the vocabulary entries in the right (0) and left (1) context bags.
    filter_labels_ : ndarray of int or None
        Rows of ``labels_`` decoded by the span filter (None: no span filter).
    filter_coef_, filter_intercept_, filter_threshold_ : ndarray, float, float
        The span filter's weights of the dense features, intercept and decision threshold.
    filter_words_ : ndarray of shape (6, n_vocab + 2)
        Its weights of the vocabulary entries at each word slot around a candidate.
    filter_heads_ : str
        When the span filter decodes PolNeAR's named and anonymous sources: the importer's
        anonymous-head pattern (``label_config/corpora.toml``), which labels the kept spans
        (``filter_head_labels_``: the named and the anonymous label's rows); else empty.
        ``filter_head_words_``: a pattern of the lexicon's words, which a span must contain
        (any case, as part of a token) before the full pattern is tried on it.
    fit_report_ : dict
        Per label: tuned thresholds, the held-out span F1, and ``pr_curve`` (``[threshold,
        precision, recall]`` rows on the held-out articles, partial-overlap credit).
    thresholds_, low_thresholds_ : ndarray of shape (n_labels,)
        Hysteresis decoding: runs of tokens above the low threshold that reach the
        high one become spans.
    rules_ : dict
        The cue rules copied at fit time as plain builtins
        (:meth:`~annotator.cues.rules.RuleSet.to_builtins`: each rule's pattern or lexicon entries,
        and its span score from ``label_config/rules_measured.json``). Prediction uses only this
        copy, so editing the live rule files does not change a fitted tagger's spans. A tagger
        fitted before the rules were frozen into it has no ``rules_``: it copies the live files'
        rules on first use (:meth:`frozen_rules`) and keeps them from then on (its stored
        ``model_version`` is left as it was).
    vetting_ : dict
        The span vetting tests copied at fit (:func:`~annotator.cues.vetting.live_vetting`: identity
        descriptors never form a loaded term, pronouns never a named source); prediction uses only
        this copy. A tagger fitted before it has none and vets nothing.
    operating_point_ : dict
        Per label: the lowest span score (``threshold``) at which the spans of the held-out tuning
        articles (held-out token scores, the span filter's cross-fitted scores, the frozen rules,
        vetting: what prediction emits) reach ``target_precision``, with the held-out ``precision``
        and ``recall`` there (:func:`~annotator.cues.operating.choose_threshold`). Empty without a
        tuning split. ``tag``, ``score`` and ``push`` emit only spans at or above it by default.
    model_version : str
        ``cue-tagger-`` and a hash of the score tables, the frozen rules, the edge words, the
        vetting tests and the operating point.
    """

    def __init__(self, labels=None, window=2, min_count=2, alpha=1e-5, epochs=8, class_weight=None,
                 use_rules=True, tune_fraction=0.2, threshold=0.5, random_state=0, char_ngrams=4,
                 solver="sgd", tune_folds=0, span_length_power=0.5, context=(3, 8), context_words=300,
                 context_labels=None, span_filter=(0.2, 0.07), target_precision=TARGET_PRECISION):
        self.labels = labels
        self.target_precision = target_precision
        self.span_filter = span_filter
        self.context_labels = context_labels
        self.context = context
        self.context_words = context_words
        self.window = window
        self.char_ngrams = char_ngrams
        self.solver = solver
        self.tune_folds = tune_folds
        self.span_length_power = span_length_power
        self.min_count = min_count
        self.alpha = alpha
        self.epochs = epochs
        self.class_weight = class_weight
        self.use_rules = use_rules
        self.tune_fraction = tune_fraction
        self.threshold = threshold
        self.random_state = random_state

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y, annotated=None, sample_weight=None):
        """Learn from article texts and their gold spans.

        Parameters
        ----------
        X : sequence of str
            Article texts.
        y : sequence of sequences of (label, start, end)
            Gold spans per article.
        annotated : sequence of collections of str, optional
            Labels each article is annotated for; an article is a training example
            for label L only if L is in its set. None: every article, every label.
        sample_weight : array-like of float, optional
            Weight per article: multiplies its tokens' weights in every fit (the token classifiers,
            the span filter's candidates) and repeats it, rounded, in the threshold tuning sets.
            None (the default): every article weighs 1, exactly as without the argument.
        """
        texts = list(X)
        y = list(y)
        if len(texts) != len(y):
            raise ValueError("X and y have different lengths")
        if not texts:
            raise AnnotatorError("cannot train the cue tagger on an empty dataset")
        labels = list(self.labels) if self.labels is not None else list(load_taxonomy().label_ids)
        annotated = [set(labels)] * len(texts) if annotated is None else [set(a) for a in annotated]
        part = tuning_parts(len(texts), self.tune_fraction, self.tune_folds, self.random_state)
        lex = {w: list(f) for w, f in sentiment_lexicon().items()}
        self.lexicon_ = "\n".join(f"{w}\t{' '.join(f)}" for w, f in sorted(lex.items()))
        self.labels_ = labels
        edges = span_edge_words()
        self.edge_words_ = "\n".join(" ".join(sorted(words)) for words in edges)
        arts, skipped = tokenised_articles(texts, y, labels, annotated, part, edges)
        if sample_weight is not None:
            arts.weight = np.asarray(sample_weight, dtype=float)
            if arts.weight.shape != (len(texts),) or not (arts.weight > 0).all():
                raise ValueError("sample_weight needs one positive weight per article")
        design = TokenDesign(arts.tokens, lex, self.window, self.char_ngrams, self.min_count)
        context_j, context_cols, Xdoc = self._design(arts, design)
        L = len(labels)
        self.thresholds_ = np.full(L, float(self.threshold))
        self.low_thresholds_ = self.thresholds_.copy()
        self.fit_report_ = {}
        held = tune_thresholds(self, arts, Xdoc, context_j, design.window_cols) if (part >= 0).any() else None
        self.filter_labels_ = None
        filter_held = None
        if self.span_filter and context_j and (part >= 0).any():
            filter_held = self._fit_span_filter(arts, held, context_j, len(design.vocab))
        coefs, self.intercepts_ = fit_classifiers(self, Xdoc, arts.lengths, arts.docs, context_j, design.window_cols,
                                                  arts.weight)
        self.fit_report_.update(skipped)
        folded = design.fold(coefs, L, context_cols if context_j else None)
        self.tables_, self.feature_names_, self.feature_weights_, self.context_tables_ = folded
        self.vocabulary_ = "\n".join(design.words)
        self.rules_ = live_rule_set().to_builtins()
        self.vetting_ = live_vetting()
        self.__dict__.pop("_lookup_cache", None)
        self.operating_point_ = {} if held is None else operating_point(self, texts, arts, held, filter_held)
        self.model_version = self._version()
        return self

    def _design(self, arts, design):
        """(labels with context bags, bag column per vocabulary row, design matrix per article)."""
        context_labels = self.context_labels
        if context_labels is None:
            cfg = corpus_mapping().get("polnear", {})
            context_labels = {cfg.get("source_label"), cfg.get("anonymous_label")}
        context_j = {j for j, lab in enumerate(self.labels_) if self.context and lab in context_labels}
        if not context_j:
            return context_j, None, design.matrix_all(arts.tokens)
        arts.ids = [design.ids(toks) for toks in arts.tokens]
        arts.bounds = [sentence_spans(sg.stop, sg.brk) for sg in arts.segs]
        cols = select_context(self.context, self.context_words, len(design.vocab), arts.ids, arts.bounds,
                              arts.lengths, arts.docs, context_j)
        # every article's context bags at once: sentence bounds never cross articles, so shifting
        # each article's token positions by its offset gives each row the same entries
        shift = np.repeat(np.cumsum([0] + [len(ids) for ids in arts.ids[:-1]]), [len(ids) for ids in arts.ids])
        first = np.concatenate([bd[0] for bd in arts.bounds]).astype(np.int64) + shift if arts.ids else shift
        last = np.concatenate([bd[1] for bd in arts.bounds]).astype(np.int64) + shift if arts.ids else shift
        ids = np.concatenate(arts.ids) if arts.ids else np.zeros(0, np.int64)
        bags = context_design(self.context, cols, ids, (first, last))
        return context_j, cols, design.matrix_all(arts.tokens, arts.ids, bags)

    def _fit_span_filter(self, arts, held, context_j, n_vocab):
        """Fit the span filter of the context labels on the tuning articles' held-out scores."""
        js = sorted(j for j in context_j if arts.docs[j])
        td = sorted({i for j in js for i in arts.docs[j] if arts.part[i] >= 0})
        if not (js and td):
            return
        fitted = fit_span_filter(self, n_vocab, js, td, held, arts.segs, arts.bounds, arts.ids, arts.starts,
                                 arts.ends, arts.y, arts.weight)
        if fitted is None:
            return None
        attrs, self.fit_report_["span_filter"], held_scores = fitted
        for name, value in attrs.items():
            setattr(self, name, value)
        return held_scores

    def _version(self) -> str:
        """``cue-tagger-`` and a hash of the score tables, the frozen rules, the edge words, the vetting
        tests and the operating point."""
        digest = hashlib.sha1(np.ascontiguousarray(self.tables_).tobytes())
        digest.update(builtins_digest({"rules": self.rules_, "edge_words": self.edge_words_,
                                       "vetting": self.vetting_,
                                       # thresholds only, rounded above the span filter's last-bit noise
                                       "operating_point": {lab: round(float(r["threshold"]), 4)
                                                           for lab, r in self.operating_point_.items()}}).encode())
        return f"cue-tagger-{digest.hexdigest()[:10]}"

    # -- the frozen rules ---------------------------------------------------------------------
    def frozen_rules(self) -> RuleSet:
        """The rules this tagger adds to its spans (``rules_``).

        A tagger fitted before the rules were frozen into it has no ``rules_``: on first use it
        copies the rules of the live files (``label_config/cues.toml``, its lexicons,
        ``rules_measured.json``), exactly what it used to read at every prediction, and keeps them.
        """
        if getattr(self, "rules_", None) is None:
            self.rules_ = live_rule_set().to_builtins()
        return RuleSet.from_builtins(self.rules_)

    # -- prediction ---------------------------------------------------------------------------
    def __getstate__(self):
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k != "_lookup_cache"}

    def warm(self):
        """Build the prediction lookups now (e.g. before forking workers that share them)."""
        check_is_fitted(self, "tables_")
        lookups(self)
        if self.use_rules:
            rule_matcher(self)
        if getattr(self, "filter_heads_", ""):
            heads(self)
        return self

    def token_ids(self, toks):
        """Vocabulary row of each token (``n_vocab + 1`` for unknown tokens)."""
        return token_ids(self, toks)

    def token_scores(self, toks, ids=None, offsets=None, bounds=None):
        """Probability per token and label, shape (n_tokens, n_labels).

        ``toks`` may hold several articles one after the other, ``offsets`` giving the
        first token of each (plus the total): windows do not cross articles. ``bounds``:
        the (first, last) token of each token's sentence (:func:`~annotator.cues.tokens.sentence_spans`),
        for the context bags; by default sentences end at ``.``/``!``/``?`` tokens and text starts.
        """
        check_is_fitted(self, "tables_")
        return token_scores(self, toks, ids, offsets, bounds)

    def analyze_batch(self, texts) -> TaggedBatch:
        """One vectorised pass over several texts: tokens, vocabulary ids, token probabilities
        and spans (decoded, with rules, merged) of each; see :class:`~.prediction.TaggedBatch`."""
        check_is_fitted(self, "tables_")
        return analyze_batch(self, list(texts))

    def analyze(self, text):
        """Everything one pass over ``text`` gives: a dict with ``tokens``, ``starts``, ``ends``,
        ``ids`` (vocabulary rows), ``probs`` (token × label) and ``spans`` (merged, with rules)."""
        return self.analyze_batch([text]).article(0)

    def predict_spans(self, X, batch_size=256):
        """Spans per article: a list of span dicts for each text in ``X``."""
        X = list(X)
        out = []
        for i in range(0, len(X), batch_size):
            out.extend(self.analyze_batch(X[i:i + batch_size]).spans)
        return out

    def tag(self, texts):
        """Alias of :meth:`predict_spans` (the pre-annotation contract)."""
        return self.predict_spans(texts)

    def transform(self, X):
        """Cue features per article: spans per 1,000 words for each label, and mean span score.

        Returns an array of shape (n_articles, 2 * n_labels).
        """
        spans = self.predict_spans(X)
        L = len(self.labels_)
        out = np.zeros((len(spans), 2 * L))
        index = {lab: j for j, lab in enumerate(self.labels_)}
        for i, (text, ss) in enumerate(zip(X, spans)):
            words = max(1, len(text.split()))
            for d in ss:
                j = index.get(d["label"])
                if j is None:
                    continue
                out[i, j] += 1000.0 / words
                out[i, L + j] += d["score"]
            counts = out[i, :L] * words / 1000.0
            out[i, L:] = np.divide(out[i, L:], counts, out=np.zeros(L), where=counts > 0)
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "labels_")
        return np.array([f"{lab}_per_1k_words" for lab in self.labels_] + [f"{lab}_mean_score" for lab in self.labels_])


#: The class paths a model loader trusts for the tagger (files older than the split: ``annotator.cues.CueTagger``).
TRUSTED_TYPES = ["annotator.cues.CueTagger", f"{CueTagger.__module__}.{CueTagger.__qualname__}"]
