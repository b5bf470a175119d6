"""Quote marks: which tokens are quote marks, so that no span crosses one (and none starts or ends on one).

A span that runs across an opening or closing quote mark (``argument as "ludicrous``) mixes the
outlet's words with someone else's, and its voice cannot be told. Decoding
(:func:`annotator.cues.decoding.runs`) therefore stops every run at a quote-mark token, and rule
matches are cut there (:func:`cut_at_quotes`). A quoted phrase ("fake news cartel") still forms one
span inside its marks.

Quote marks are one-character tokens (the tokenizer keeps an apostrophe between letters inside its
word: ``don't``, ``Biden’s``):

* always: straight ``"``, curly ``“ ”``, ``„``, ``« »``, ``‹ ›``, the backtick (```` `` ```` and a
  lone `````), and the typewriter ``''`` (two straight apostrophes in a row);
* single ``'``, ``‘``, ``’`` only when they act as quotes: an *opener* (after a space, the text or
  line start, a bracket, a dash or another quote mark, before a letter or digit) together with the
  first *closer* after it (after a letter, digit or ``.,!?``, before no letter or digit) on the same
  line within :data:`MAX_SINGLE` characters. A single mark between two letters or digits, an
  elision or possessive with no such partner (``the senators' argument``), is no quote mark.
"""
from __future__ import annotations

from bisect import bisect_left

import numpy as np

__all__ = ["DOUBLE_MARKS", "SINGLE_MARKS", "MAX_SINGLE", "quote_tokens", "text_quote_tokens", "cut_at_quotes"]

#: Characters that are a quote mark wherever they stand as a token of their own.
DOUBLE_MARKS = '"“”„«»‹›`'
#: Characters that are a quote mark only when paired (see the module docstring).
SINGLE_MARKS = "'‘’"
#: Characters a single-quote quotation may span (as :mod:`annotator.cues.voice`).
MAX_SINGLE = 200

_DOUBLE_CODES = np.array(sorted(map(ord, DOUBLE_MARKS)), dtype=np.uint32)
_SINGLE_CODES = np.array(sorted(map(ord, SINGLE_MARKS)), dtype=np.uint32)
_APOSTROPHE = ord("'")
_BEFORE_OPEN = frozenset(map(ord, " \t\r\n\u00a0([{—–-/" + DOUBLE_MARKS + SINGLE_MARKS))
_BEFORE_CLOSE = frozenset(map(ord, ".,!?"))


def _alnum(code: int) -> bool:
    """Whether the code point is a letter or digit."""
    return chr(code).isalnum()


def _single_roles(codes, cand, starts, text_first, text_last):
    """(openers, closers): the token indices among the single-mark tokens ``cand`` that may open or
    close a quotation (by the characters either side; the text's start and end count as a space)."""
    openers, closers = [], []
    for i in cand.tolist():
        s = int(starts[i])
        prev = 32 if text_first[i] else int(codes[s - 1])
        nxt = 32 if text_last[i] else int(codes[s + 1])
        if _alnum(nxt) and prev in _BEFORE_OPEN:
            openers.append(i)
        elif not _alnum(nxt) and (_alnum(prev) or prev in _BEFORE_CLOSE):
            closers.append(i)
    return openers, closers


def quote_tokens(codes, starts, single, first, offsets) -> np.ndarray:
    """Whether each token is a quote mark (see the module docstring), over texts laid end to end.

    ``codes``: the code points of the joined texts; ``starts``: each token's offset into them;
    ``single``/``first``: one-character token, its code point; ``offsets``: the first token of each
    text (plus the total). Vectorised, except for a loop over the few lone single marks.
    """
    quote = single & np.isin(first, _DOUBLE_CODES)
    cand = single & np.isin(first, _SINGLE_CODES)
    if not cand.any():
        return quote
    # the typewriter '' : two straight apostrophes in a row
    apo = cand & (first == _APOSTROPHE)
    offsets = np.asarray(offsets)
    starts_text = np.zeros(len(starts), dtype=bool)
    starts_text[offsets[:-1][offsets[:-1] < len(starts)]] = True
    pair = apo[:-1] & apo[1:] & (starts[1:] == starts[:-1] + 1) & ~starts_text[1:]
    quote[:-1] |= pair
    quote[1:] |= pair
    cand &= ~quote
    idx = np.flatnonzero(cand)
    if not len(idx):
        return quote
    art = np.searchsorted(offsets, idx, side="right") - 1
    text_first = idx == offsets[art]
    text_last = idx == offsets[art + 1] - 1
    first_of = dict(zip(idx.tolist(), text_first.tolist()))
    last_of = dict(zip(idx.tolist(), text_last.tolist()))
    openers, closers = _single_roles(codes, idx, starts, first_of, last_of)
    if not openers or not closers:
        return quote
    newlines = np.flatnonzero(codes == 10)
    art_of = dict(zip(idx.tolist(), art.tolist()))
    cpos = [int(starts[c]) for c in closers]
    for o in openers:
        s = int(starts[o])
        k = bisect_left(cpos, s)
        if k == len(cpos):
            continue
        c, e = closers[k], cpos[k]
        same_line = np.searchsorted(newlines, s) == np.searchsorted(newlines, e)
        if art_of[c] == art_of[o] and e - s <= MAX_SINGLE and same_line:
            quote[o] = quote[c] = True
    return quote


def text_quote_tokens(texts, starts, ends, offsets) -> np.ndarray:
    """:func:`quote_tokens` for tokenised ``texts`` whose token ``starts``/``ends`` are offsets
    within each text (``offsets``: the first token of each text, plus the total)."""
    n = len(starts)
    if not n:
        return np.zeros(0, dtype=bool)
    joined = "".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    offsets = np.asarray(offsets)
    counts = np.diff(offsets)
    base = np.zeros(len(texts), dtype=np.int64)
    if len(texts) > 1:
        np.cumsum([len(t) for t in texts[:-1]], out=base[1:])
    g = np.asarray(starts) + np.repeat(base, counts)
    single = (np.asarray(ends) - np.asarray(starts)) == 1
    return quote_tokens(codes, g, single, codes[g], offsets)


def cut_at_quotes(spans, marks, text) -> list:
    """Spans cut at the quote marks inside them.

    ``spans``: records with ``start`` and ``end`` (NamedTuples, e.g. rule hits); ``marks``: sorted
    offsets of the text's quote-mark characters. A span holding none is kept as it is; else each
    piece between marks, stripped of white space, is kept when it holds a letter or digit (with the
    span's other fields).
    """
    if not marks:
        return list(spans)
    out = []
    for sp in spans:
        k = bisect_left(marks, sp.start)
        if k == len(marks) or marks[k] >= sp.end:
            out.append(sp)
            continue
        cuts = [sp.start - 1]
        while k < len(marks) and marks[k] < sp.end:
            cuts.append(marks[k])
            k += 1
        cuts.append(sp.end)
        for a, b in zip(cuts[:-1], cuts[1:]):
            a += 1
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if any(ch.isalnum() for ch in text[a:b]):
                out.append(sp._replace(start=a, end=b))
    return out
