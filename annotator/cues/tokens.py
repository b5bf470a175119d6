"""Tokens: the tokenizer, texts tokenised end to end, and the sentence and segment flags decoding uses.

Offsets are Python string indices (end exclusive). Every character outside a token is white
space, so one capturing :meth:`re.Pattern.split` gives the tokens and the gaps between them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .quotemarks import quote_tokens

__all__ = ["TOKEN", "TOKEN_SPLIT", "PLAIN_SPLIT", "ABBREVIATIONS", "Tokens", "tokenize", "FlatTokens",
           "tokenize_flat", "Segments", "segments_flat", "segments", "Sentences", "sentence_spans"]

#: One token: a word (with inner apostrophes, dots and hyphens) or one other non-space character.
TOKEN = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]", re.UNICODE)
#: The same pattern as a capturing split: [gap, token, gap, ..., token, gap] in one regex pass.
#: (Possessive: the same tokens, with less backtracking; the split runs about 10 % faster.)
TOKEN_SPLIT = re.compile(r"(\w++(?:['’.-]\w++)*+|[^\w\s])", re.UNICODE)
PLAIN_SPLIT = re.compile(r"(\w+(?:['’.-]\w+)*|[^\w\s])", re.UNICODE)
_PROBE = "U.S. the. e.g. x"
if TOKEN_SPLIT.split(_PROBE) != PLAIN_SPLIT.split(_PROBE):
    # some CPython 3.11 releases (Debian 12's 3.11.2) repeat a possessive group wrongly and keep
    # the final "." ("U.S.", "the."): the plain pattern gives the same tokens everywhere
    TOKEN_SPLIT = PLAIN_SPLIT
#: Abbreviations whose following "." does not end a sentence.
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Gov Sen Sens Rep Reps Jr Sr Gen Lt Col Sgt Prof Rev Capt Maj Adm Pres No Vol Inc Co Corp Ltd".split())


class Tokens(NamedTuple):
    """The tokens of one text and their offsets."""

    tokens: list
    starts: np.ndarray
    ends: np.ndarray


def tokenize(text: str) -> Tokens:
    """Word and punctuation tokens of ``text``: (tokens, starts, ends).

    The running sum of the lengths of the split's parts gives the offsets without a Python loop
    over the tokens.
    """
    parts = TOKEN_SPLIT.split(text)
    bounds = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    np.cumsum(bounds, out=bounds)
    return Tokens(parts[1::2], bounds[0:-1:2], bounds[1::2])


@dataclass
class FlatTokens:
    """Several texts tokenised one after the other.

    Text ``i`` owns tokens ``offsets[i]:offsets[i + 1]``; ``art`` is the text of each token;
    ``starts``/``ends`` are offsets within its text, ``gstarts``/``gends`` offsets into the texts
    joined with nothing between them.
    """

    tokens: list
    offsets: np.ndarray
    art: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    gstarts: np.ndarray
    gends: np.ndarray


def tokenize_flat(texts: list) -> FlatTokens:
    """:func:`tokenize` over several texts at once (one split per text, offsets vectorised)."""
    tokens, lens = [], []
    counts = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        parts = TOKEN_SPLIT.split(text)
        tokens.extend(parts[1::2])
        lens.extend(map(len, parts))
        counts[i] = len(parts) >> 1
    n = len(tokens)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    art = np.repeat(np.arange(len(texts)), counts)
    bounds = np.fromiter(lens, dtype=np.int64, count=len(lens))
    np.cumsum(bounds, out=bounds)
    at = 2 * np.arange(n) + 1 + art  # token g of text a is part 2g + 1 + a of the concatenated splits
    gends = bounds[at]
    gstarts = bounds[at - 1]
    text_start = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        np.cumsum(np.fromiter(map(len, texts[:-1]), dtype=np.int64, count=len(texts) - 1), out=text_start[1:])
    return FlatTokens(tokens, offsets, art, gstarts - text_start[art], gends - text_start[art], gstarts, gends)


class Segments(NamedTuple):
    """Token flags for decoding (see :func:`segments_flat`)."""

    punct: np.ndarray  # punctuation token
    stop: np.ndarray  # sentence end
    brk: np.ndarray  # a line break or a text start before the token
    next_word: np.ndarray  # first token at or after each token that may start a span
    prev_word: np.ndarray  # last token at or before each token that may end a span
    quote: np.ndarray  # a quote mark (annotator.cues.quotemarks): no span crosses one


def _punctuation(codes, tokens, starts, ends):
    """(punct, single, first code point) per token: a one-character token that is not a letter or digit."""
    single = (ends - starts) == 1
    first = codes[starts] if len(tokens) else np.zeros(0, np.uint32)
    ascii_word = ((first >= 48) & (first <= 57)) | ((first >= 65) & (first <= 90)) | \
                 ((first >= 97) & (first <= 122)) | (first == 95)
    punct = single & ~ascii_word
    for i in np.flatnonzero(punct & (first > 127)).tolist():  # non-ASCII single characters: letters are not punctuation
        punct[i] = not tokens[i].isalnum()
    return punct, single, first


def _sentence_stops(tokens, single, first, text_first, ids, abbreviation):
    """Sentence-final ``.``/``!``/``?`` tokens; a "." after an abbreviation of the same text ends no sentence."""
    stop = single & ((first == 46) | (first == 33) | (first == 63))
    after = np.flatnonzero(stop & ~text_first)
    if len(after):
        if ids is not None and abbreviation is not None:
            prev = ids[after - 1]
            known = prev < len(abbreviation) - 1
            stop[after[known & abbreviation[np.minimum(prev, len(abbreviation) - 1)]]] = False
            after = after[~known]
        for i in after.tolist():
            if tokens[i - 1] in ABBREVIATIONS:
                stop[i] = False
    return stop


def segments_flat(joined, tokens, starts, ends, offsets, ids=None, abbreviation=None, edges=None) -> Segments:
    """Token flags for decoding, over texts laid end to end in ``joined`` (``starts``/``ends``
    index into it; ``offsets`` the first token of each text).

    ``ids`` and ``abbreviation`` (optional): vocabulary rows of the tokens and, per row, whether
    the entry is an abbreviation (faster than looking each token up). ``edges``: optional pair of
    boolean token arrays, the words a span may not start with and may not end with
    (:func:`annotator.cues.lexicons.span_edge_words`); punctuation never starts or ends a span,
    and no span crosses a quote mark (:func:`annotator.cues.quotemarks.quote_tokens`).
    """
    n = len(tokens)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    punct, single, first = _punctuation(codes, tokens, starts, ends)
    brk = np.zeros(n, dtype=bool)
    newlines = np.flatnonzero(codes == 10)
    if len(newlines) and n > 1:
        brk[1:] = np.searchsorted(newlines, starts[1:]) > np.searchsorted(newlines, ends[:-1])
    text_first = np.zeros(n, dtype=bool)
    text_first[offsets[:-1][offsets[:-1] < offsets[1:]]] = True
    brk |= text_first
    stop = _sentence_stops(tokens, single, first, text_first, ids, abbreviation)
    idx = np.arange(n)
    no_first = punct if edges is None else punct | edges[0]
    no_last = punct if edges is None else punct | edges[1]
    next_word = np.minimum.accumulate(np.where(no_first, n, idx)[::-1])[::-1] if n else idx
    prev_word = np.maximum.accumulate(np.where(no_last, -1, idx)) if n else idx
    return Segments(punct, stop, brk, next_word, prev_word, quote_tokens(codes, starts, single, first, offsets))


def segments(text, toks, starts, ends, edges=None) -> Segments:
    """:func:`segments_flat` for one text; ``edges`` a pair of word sets (``span_edge_words``)."""
    flags = None if edges is None else tuple(
        np.fromiter((t.lower() in words for t in toks), dtype=bool, count=len(toks)) for words in edges)
    return segments_flat(text, toks, np.asarray(starts), np.asarray(ends), np.array([0, len(toks)]), edges=flags)


class Sentences(NamedTuple):
    """For each token, the first and the last token of its sentence."""

    first: np.ndarray
    last: np.ndarray


def sentence_spans(stop, brk) -> Sentences:
    """(first, last) token of each token's sentence (a sentence ends after a sentence-final stop,
    or before a line break or a text start)."""
    n = len(stop)
    idx = np.arange(n)
    new = np.asarray(brk, dtype=bool).copy()
    if n:
        new[0] = True
        new[1:] |= np.asarray(stop, dtype=bool)[:-1]
    end = np.ones(n, dtype=bool)
    end[:-1] = new[1:]
    first = np.maximum.accumulate(np.where(new, idx, 0)) if n else idx
    last = np.minimum.accumulate(np.where(end, idx, n)[::-1])[::-1] if n else idx
    return Sentences(first, last)
