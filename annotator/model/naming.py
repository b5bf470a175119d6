"""Names of the framing model's document features: words, word bigrams, character n-grams, cue rates.

The ridge of :class:`~annotator.model.framing.FramingModel` has one column per vocabulary entry
(word TF-IDF), ``2 ** bigram_bits`` hashed word-bigram columns (none when ``bigram_bits`` is None),
``2 ** char_bits`` hashed character n-gram columns (none in models since issue 15) and the dense
features, in that order. Words and cue rates are named
from the model itself; character n-grams are recovered by hashing the n-grams of the vocabulary
words again; bigrams only where the model recorded them at training (``bigram_names_``, written by
:func:`annotator.training.train` from the training texts), since the pairs a hashed column saw are
not stored otherwise.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

__all__ = ["BIGRAM_PRIME", "FeatureLayout", "bigram_columns", "record_bigram_names", "name_columns",
           "EDGE_MARK"]

#: How a word pair is hashed to a bigram column: ``(a * BIGRAM_PRIME + b) % 2 ** bigram_bits`` for
#: the vocabulary ids ``a``, ``b`` (as ``FramingModel._bow``; tests/test_training.py checks they agree).
BIGRAM_PRIME = 1_000_003
#: Shown for the space ``char_wb`` puts at a word's start and end ("_terr": "terr" starting a word).
EDGE_MARK = "_"


@dataclass(frozen=True)
class FeatureLayout:
    """Where each kind of document feature starts among the ridge's columns."""

    n_vocab: int
    n_bigram: int
    n_char: int
    cue_names: tuple

    @classmethod
    def of(cls, model) -> "FeatureLayout":
        n_vocab = int(model.tagger_.tables_.shape[2])
        coef = np.asarray(model.ridge_.coef_).ravel()
        names = tuple(getattr(model, "feature_names_", ()))
        n_bigram = 0 if model.bigram_bits is None else 1 << int(model.bigram_bits)
        return cls(n_vocab, n_bigram, len(coef) - n_vocab - n_bigram - len(names), names)

    def kind(self, column: int) -> tuple[str, int]:
        """(kind, index within its block): ``word``, ``bigram``, ``characters`` or ``cue rate``."""
        for kind, size in (("word", self.n_vocab), ("bigram", self.n_bigram), ("characters", self.n_char)):
            if column < size:
                return kind, column
            column -= size
        return "cue rate", column


def bigram_columns(ids: np.ndarray, offsets: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column, first id, second id) of every word pair within an article of a tagged batch."""
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.diff(offsets)
    rows = np.repeat(np.arange(len(counts)), counts)
    same = rows[:-1] == rows[1:]
    a, b = ids[:-1][same], ids[1:][same]
    return (a * BIGRAM_PRIME + b) % (1 << bits), a, b


def record_bigram_names(model, texts, top=400) -> dict:
    """``{column: "w1 w2"}`` for the ``top`` bigram columns of largest weight: the pair seen most often
    in ``texts`` (the training articles) with that column, and how many other pairs shared it."""
    layout = FeatureLayout.of(model)
    if not layout.n_bigram:
        return {}
    coef = np.asarray(model.ridge_.coef_).ravel()[layout.n_vocab:layout.n_vocab + layout.n_bigram]
    wanted = np.argsort(-np.abs(coef))[:top]
    wanted = wanted[coef[wanted] != 0]
    batch = model.tagger_.analyze_batch(list(texts))
    cols, a, b = bigram_columns(batch.ids, batch.offsets, int(model.bigram_bits))
    keep = np.isin(cols, wanted)
    pairs = Counter(zip(cols[keep].tolist(), a[keep].tolist(), b[keep].tolist()))
    words = model.tagger_.vocabulary_.split("\n") if model.tagger_.vocabulary_ else []
    best, others = {}, Counter()
    for (col, x, y), n in pairs.most_common():
        if col in best:
            others[col] += 1
            continue
        best[col] = f"{_word(words, x)} {_word(words, y)}"
    return {str(col): name + (f" (+{others[col]} other pair{'s' * (others[col] > 1)})" if others[col] else "")
            for col, name in best.items()}


def _word(words, i) -> str:
    return words[i] if i < len(words) else "<rare word>"


def _char_names(model, wanted: set) -> dict:
    """``{bucket: name}`` of the wanted character n-gram buckets, from the vocabulary words' n-grams."""
    if not wanted:
        return {}
    words = model.tagger_.vocabulary_.split("\n") if model.tagger_.vocabulary_ else []
    char_wb = HashingVectorizer(analyzer="char_wb", ngram_range=tuple(model.char_ngrams), lowercase=True)
    analyse = char_wb.build_analyzer()
    seen = Counter()
    for w in words:
        seen.update(set(analyse(w)))
    grams = list(seen)
    # the same hashing as the model's character block: each n-gram alone through a HashingVectorizer
    single = HashingVectorizer(analyzer=lambda g: [g], n_features=1 << int(model.char_bits), alternate_sign=False,
                               norm=None)
    buckets = single.transform(grams).indices
    found = {}
    for g, bucket in zip(grams, buckets.tolist()):
        if bucket in wanted:
            found.setdefault(bucket, []).append(g)
    out = {}
    for bucket, gs in found.items():
        gs.sort(key=lambda g: -seen[g])
        shown = gs[0].replace(" ", EDGE_MARK)
        more = f" (+{len(gs) - 1} other{'s' * (len(gs) > 2)})" if len(gs) > 1 else ""
        out[bucket] = f'"{shown}" in {seen[gs[0]]:,} words{more}'
    return out


def _cue_name(name: str) -> str:
    for suffix, say in (("_per_1k_words", "spans per 1,000 words"), ("_mean_probability", "mean token probability")):
        if name.endswith(suffix):
            return f"{name[:-len(suffix)]}: {say}"
    return name


def name_columns(model, columns) -> list:
    """``(kind, name)`` of each ridge column; name None for a bigram the model did not record."""
    layout = FeatureLayout.of(model)
    words = model.tagger_.vocabulary_.split("\n") if model.tagger_.vocabulary_ else []
    bigrams = getattr(model, "bigram_names_", None) or {}
    where = [layout.kind(int(c)) for c in columns]
    chars = _char_names(model, {i for kind, i in where if kind == "characters"})
    out = []
    for kind, i in where:
        if kind == "word":
            out.append((kind, words[i] if i < len(words) else "<unknown word>"))
        elif kind == "bigram":
            out.append((kind, bigrams.get(str(i))))
        elif kind == "characters":
            out.append(("character n-gram", chars.get(i, "(no vocabulary word has it)")))
        else:
            out.append((kind, _cue_name(layout.cue_names[i])))
    return out
