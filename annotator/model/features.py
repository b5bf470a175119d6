"""The document model's features: word/bigram counts and the dense, topic-neutral features of an article.

The dense features are rates and shares that mean the same thing whatever the outlet or topic:

* **cue rates** — per span label, spans per 1,000 tokens and the mean token probability, and the
  spans in the outlet's own (narrator) voice per 1,000 tokens (:mod:`annotator.cues.voice`: a loaded
  term inside a quote is someone else's wording);
* **attribution** — the share of attributions that are anonymous or unverified, and the named
  sources per 1,000 tokens (which is among the cue rates);
* **wording** — per 1,000 tokens: strongly/moderately/mildly negative and positive words (VADER),
  highly and moderately subjective words (TextBlob/pattern), first and second person pronouns
  ("we", "you"), exclamation marks, question marks, quotation marks;
* **headline** — the text's first line: loaded-term spans in it, its share of capital letters,
  its ``!``/``?`` and quotation marks, its words in capitals. A text of one line has no headline
  (a sentence, a paragraph pasted without its title): its headline features are the training
  articles' mean (:func:`headline_prior`, ``FramingModel.headline_prior_``), so they add nothing to its score, where
  before they read the whole text as a headline (every loaded term in it, its capitals share);
* **length** — the log number of tokens; the document model uses it to take the effect of length
  out of the score (see :class:`~annotator.model.framing.FramingModel`), never to add it.

Every rate is shrunk towards the training articles' rate as if the article had ``prior_tokens``
more tokens at that rate, so one cue in a one-line text is weak evidence.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..cues.features import sentiment_lexicon
from ..errors import AnnotatorError
from ..paths import LABEL_CONFIG_DIR
from ..taxonomy import load_taxonomy
from .naming import BIGRAM_PRIME

__all__ = ["WORD_CLASSES", "HEADLINE_FEATURES", "DenseParts", "n_bigram_columns", "bag_of_words", "word_class_table", "dense_parts",
           "dense_rates", "headline_prior", "dense_names", "LabelRoles", "label_roles"]

#: Word classes counted per vocabulary entry (lexicon buckets, pronouns, punctuation tokens).
WORD_CLASSES = ("vader:neg3", "vader:neg2", "vader:neg1", "vader:pos3", "vader:pos2", "vader:pos1", "subj:hi",
                "subj:mid", "pronoun:first_second_person", "punct:exclamation", "punct:question", "punct:quote")
_PRONOUNS = frozenset({"i", "we", "you", "me", "us", "my", "our", "your", "yours", "ours"})
_PUNCT = {"!": "punct:exclamation", "?": "punct:question", '"': "punct:quote", "“": "punct:quote",
          "”": "punct:quote"}
class LabelRoles(NamedTuple):
    """The span labels the document features read (``label_config/document_features.toml``)."""

    weak: tuple  # attributions that are anonymous or unverified
    named: tuple  # on-record attributions
    loaded: str  # loaded terms (headline feature, subjectivity check)


@lru_cache(maxsize=None)
def label_roles() -> LabelRoles:
    """:class:`LabelRoles` from ``label_config/document_features.toml``, checked against the label config."""
    path = LABEL_CONFIG_DIR / "document_features.toml"
    with open(path, "rb") as f:
        data = tomllib.load(f)
    roles = LabelRoles(tuple(data["attribution"]["weak"]), tuple(data["attribution"]["named"]), data["loaded"]["label"])
    unknown = sorted({*roles.weak, *roles.named, roles.loaded} - set(load_taxonomy().label_ids))
    if unknown:
        raise AnnotatorError(f"{path}: {', '.join(unknown)} not a span label of framing.xml")
    return roles


#: The headline features, in order (the text's first line).
HEADLINE_FEATURES = ("headline_loaded_terms", "headline_capitals_share", "headline_exclamation_question",
                     "headline_quotes", "headline_words_in_capitals")
_QUOTES = ('"', "“", "”", "‘", "’")


@dataclass
class DenseParts:
    """Per article, before shrinkage: counts that become rates, headline features, token counts."""

    totals: np.ndarray  # (n, 3 * n_labels + n_classes): span counts, summed probabilities, word-class counts,
    #                     narrator-voice span counts
    headline: np.ndarray  # (n, len(HEADLINE_FEATURES))
    counts: np.ndarray  # (n,) tokens
    has_headline: np.ndarray  # (n,) bool: the text has more than one line


def n_bigram_columns(bigram_bits) -> int:
    """Hashed bigram columns: ``2 ** bigram_bits``, none when ``bigram_bits`` is None."""
    return 0 if bigram_bits is None else 1 << int(bigram_bits)


def bag_of_words(batch, n_vocab: int, bigram_bits):
    """Unigram (vocabulary rows) + hashed bigram counts (none when ``bigram_bits`` is None), one row per
    article of a TaggedBatch."""
    nb = n_bigram_columns(bigram_bits)
    ids = batch.ids
    counts = np.diff(batch.offsets)
    rows = np.repeat(np.arange(len(counts)), counts)
    if not nb:
        m = sp.csr_matrix((np.ones(len(ids)), (rows, ids)), shape=(len(counts), n_vocab))
        m.sum_duplicates()
        return m
    same = rows[:-1] == rows[1:]  # bigrams within an article
    big = (ids[:-1][same] * BIGRAM_PRIME + ids[1:][same]) % nb + n_vocab
    m = sp.csr_matrix((np.ones(len(ids) + len(big)), (np.concatenate([rows, rows[:-1][same]]),
                                                     np.concatenate([ids, big]))), shape=(len(counts), n_vocab + nb))
    m.sum_duplicates()
    return m


def word_class_table(vocabulary: list, n_vocab: int):
    """(rows, cols) of a vocabulary × :data:`WORD_CLASSES` indicator matrix, as int32 arrays."""
    lex = sentiment_lexicon()
    index = {c: j for j, c in enumerate(WORD_CLASSES)}
    rows, cols = [], []
    for i, word in enumerate(vocabulary[:n_vocab]):
        low = word.lower()  # the vocabulary keeps case: "We" opening a sentence is "we"
        classes = [f for f in lex.get(low, ()) if f in index]
        if low in _PRONOUNS:
            classes.append("pronoun:first_second_person")
        if word in _PUNCT:
            classes.append(_PUNCT[word])
        for c in classes:
            rows.append(i)
            cols.append(index[c])
    return np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int32)


def _headline(text: str, spans: list) -> list:
    first = text.lstrip().split("\n", 1)[0][:300]
    skip = len(text) - len(text.lstrip())
    letters = [c for c in first if c.isalpha()]
    loaded = label_roles().loaded
    return [sum(1 for s in spans if s["label"] == loaded and s["start"] < skip + len(first)),
            sum(c.isupper() for c in letters) / max(1, len(letters)),
            first.count("!") + first.count("?"),
            sum(first.count(q) for q in _QUOTES),
            sum(1 for w in first.split() if len(w) > 1 and w.isupper())]


def dense_parts(batch, texts, bow, labels, classes) -> DenseParts:
    """Counts of the dense features for a TaggedBatch (of ``texts``) and its :func:`bag_of_words` rows.

    ``classes`` is the vocabulary × word-class sparse matrix (:func:`word_class_table`).
    """
    counts = np.diff(batch.offsets)
    L = len(labels)
    index = {lab: j for j, lab in enumerate(labels)}
    n_classes = classes.shape[1]
    totals = np.zeros((len(counts), 3 * L + n_classes))
    narrator = 2 * L + n_classes
    for i, ss in enumerate(batch.spans):
        for s in ss:
            j = index[s["label"]]
            totals[i, j] += 1.0
            if s.get("voice", "narrator") == "narrator":
                totals[i, narrator + j] += 1.0
    nonempty = np.flatnonzero(counts)
    if len(nonempty):
        totals[nonempty, L:2 * L] = np.add.reduceat(batch.probs.astype(np.float64), batch.offsets[nonempty], axis=0)
    totals[:, 2 * L:narrator] = (bow[:, :classes.shape[0]] @ classes).toarray()
    head = np.zeros((len(counts), len(HEADLINE_FEATURES)))
    if len(counts):
        head[:] = [_headline(t, ss) for t, ss in zip(texts, batch.spans)]
    return DenseParts(totals, head, counts, np.array(["\n" in t.strip() for t in texts], dtype=bool))


def _headline_values(headline) -> np.ndarray:
    """The headline feature columns: counts as log(1 + count), the capitals share as it is."""
    head = np.array(headline, dtype=float)
    head[:, [0, 2, 3, 4]] = np.log1p(head[:, [0, 2, 3, 4]])
    return head


def headline_prior(parts: DenseParts) -> np.ndarray:
    """The mean headline feature columns of the texts that have a headline (zeros when none has):
    what a one-line text gets (see :func:`dense_rates`)."""
    if not parts.has_headline.any():
        return np.zeros(len(HEADLINE_FEATURES))
    return _headline_values(parts.headline[parts.has_headline]).mean(axis=0)


def dense_rates(parts: DenseParts, prior, prior_tokens: float, labels, headline_prior=None) -> np.ndarray:
    """The dense feature matrix (columns as :func:`dense_names`): shrunk rates, the attribution share,
    the headline features and the log token count. A one-line text has no headline: with
    ``headline_prior`` (:func:`headline_prior` of the training texts) its headline columns are that mean,
    so they add nothing to its score (None: read from its only line, as models before issue 15 did)."""
    n0 = float(prior_tokens)
    L = len(labels)
    rates = (parts.totals + n0 * prior) / (parts.counts[:, None] + n0)
    rates[:, :L] *= 1000.0
    rates[:, 2 * L:] *= 1000.0
    col = {lab: j for j, lab in enumerate(labels)}
    t = parts.totals
    roles = label_roles()
    unsure = sum(t[:, col[k]] for k in roles.weak if k in col)
    named = sum(t[:, col[k]] for k in roles.named if k in col)
    share = (unsure + 0.5) / (unsure + named + 2.0)  # a prior of half a weak and 1.5 named attributions
    head = _headline_values(parts.headline)
    if headline_prior is not None:
        head[~parts.has_headline] = headline_prior
    return np.hstack([rates, share[:, None], head, np.log(parts.counts + 10.0)[:, None]])


def dense_names(labels) -> list:
    """Names of the dense feature columns, in order."""
    return ([f"{lab}_per_1k_words" for lab in labels] + [f"{lab}_mean_probability" for lab in labels]
            + [f"{c}_per_1k_words" for c in WORD_CLASSES] + [f"{lab}_narrator_voice_per_1k_words" for lab in labels]
            + ["anonymous_or_unverified_share_of_attributions"]
            + list(HEADLINE_FEATURES) + ["log_tokens"])
