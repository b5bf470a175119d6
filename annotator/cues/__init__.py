"""Cue detection: which spans of an article carry anonymous or named sourcing, unverified claims or loaded terms.

Two layers, combined by :func:`tag_texts`:

(a) **Rules kept as data** (``label_config/cues.toml`` and the lexicons beside it):
    each rule is named, has a taxonomy label, and its coverage and precision on
    the shared corpora are measured by ``annotator rules``
    (``label_config/rules_measured.json``); a rule's span score is its measured
    precision.
(b) **A learned span tagger** (:class:`CueTagger`, a scikit-learn estimator):
    one linear token classifier per label over features of the tokens in a
    window around each token (lower-cased word, shape, affixes, sentiment and
    subjectivity lexicon buckets). At prediction time the linear model is
    folded into per-vocabulary-entry score tables, so tagging is one regex
    tokenisation, one dictionary lookup per token and a few vectorised numpy
    gathers. Consecutive tokens above the label's tuned threshold form a span.
    The rules are copied into the tagger when it is fitted (``CueTagger.rules_``):
    a fitted tagger's spans do not change when the rule files do.

Spans are dicts ``{"label", "start", "end", "text", "score", "voice"}`` (and ``attributed_to``
for a quoted span whose speaker was found) with Python string offsets into the article text (end
exclusive).

Where things are:

* :mod:`.tokens`: the tokenizer, sentence and segment flags;
* :mod:`.lexicons`: the lexicon files, the anonymous-head test, the span-edge words;
* :mod:`.rules`: the rules as data (:class:`Rule`, loading, the frozen :class:`RuleSet`);
* :mod:`.matching`: applying rules to tokenised texts (:class:`~.matching.RuleMatcher`);
* :mod:`.measure`: precision, coverage, overlaps and conflicts of the rules on corpora;
* :mod:`.features`: token features and the sentiment lexicon;
* :mod:`.tagger`: the learned tagger (estimator, training, context bags, span filter, prediction);
* :mod:`.decoding`: token probabilities to spans (hysteresis runs, threshold tuning, candidates);
* :mod:`.tagging`: :func:`tag_texts`, :func:`tag_articles`, :class:`RulesTagger`;
* :mod:`.voice`: quoted and reported speech (:func:`~.voice.find_quotes`), each span's ``voice``
  (``narrator``/``quoted``) and ``attributed_to``; :mod:`.reported`: reported speech on tokens.

Model files store the tagger's class path; those written before this was a package name
``annotator.cues.CueTagger``, which stays importable from here. :data:`TRUSTED_TYPES` lists the
class paths a model loader must trust for the tagger.
"""
from __future__ import annotations

from ..spans import merge_spans
from .lexicons import span_edge_words
from .measure import measure_rules, rule_analysis
from .rules import RULES_FILE, RULES_MEASURED, Rule, RuleSet, apply_rules, live_rule_set, load_rules, rule_precision
from .tagger import TRUSTED_TYPES, CueTagger, TaggedBatch, training_inputs
from .tagging import RulesTagger, tag_articles, tag_texts
from .tokens import tokenize

__all__ = [
    "Rule", "RuleSet", "load_rules", "live_rule_set", "rule_precision", "apply_rules", "span_edge_words",
    "measure_rules", "rule_analysis", "CueTagger", "TaggedBatch", "TRUSTED_TYPES", "tokenize", "tag_texts",
    "tag_articles", "merge_spans", "training_inputs", "RulesTagger", "RULES_FILE", "RULES_MEASURED",
]
