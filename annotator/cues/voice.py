"""Voice: which parts of an article quote or report someone else, and who, so a span can be told
apart from the outlet's own (narrator) voice.

:func:`find_quotes` finds, in one pass of a few regular expressions and a loop over the quote marks:

* **direct quotes**: straight ``"``, curly ``“ ”``, ``„``, ``« »``, typewriter ``''``/`````` pairs
  (the New York Times' convention) and single-quote quotations where unambiguous (an opening
  ``‘``/``'`` after a space before a letter, closed on the same line within 200 characters). A
  straight mark opens or closes by its neighbours; a quote runs across line breaks (to 2,000
  characters) but never across a blank line. The newspaper convention (a paragraph that opens with
  a quote mark while the previous quote is still open continues that quote) gives one quote per
  paragraph. A quote with no closing mark ends at the end of its line, and never runs more than 600
  characters: a stray mark cannot make the rest of an article quoted.
* **reported speech** with the verbs of ``label_config/lexicons/speech_verbs.txt``: ``X said (that)
  ...``, ``X told reporters ...``, ``..., X said.``, ``..., said X.``, ``according to X, ...``,
  ``..., according to X.``; the content is the rest (or the start) of the sentence.

Each :class:`Quote` is a content region (quote marks included, as PolNeAR's content spans) with
the span of its source when one is found (``"...," Smith said.``: Smith). Regions are sorted and
never overlap: direct quotes win, reported content is cut around them.

:func:`span_voices` gives each span its :class:`Voice`: ``quoted`` when at least half of its
characters lie inside one quote's region (the quote with the largest overlap), else ``narrator``.
:func:`add_voice` writes ``voice`` and ``attributed_to`` into span dicts.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import NamedTuple

import numpy as np

from .reported import reported_speech

__all__ = ["Quote", "Voice", "find_quotes", "span_voices", "add_voice"]

MAX_QUOTE = 2000  # characters a closed direct quote may span
MAX_UNCLOSED = 600  # characters an unclosed one runs at most (to its line end)
MAX_SINGLE = 200  # characters of a single-quote quotation

_DOUBLE = re.compile(r"''|``|[\"“”„«»]")
_SINGLE = re.compile(r"(?<!['‘’])['‘’](?!['‘’])")
_OPENERS, _CLOSERS = frozenset("“„«") | {"``"}, frozenset("”»")
_BEFORE_OPEN = frozenset("([{—–-/:\n")
_AFTER_CLOSE = frozenset(".,;:!?)]}—–-\n")
_WORD = re.compile(r"\w+")
_NEWLINE = re.compile(r"\n")
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n")


class Quote(NamedTuple):
    """A content region ``[start, end)`` in someone else's voice; ``kind`` ``direct`` (inside quote
    marks) or ``reported`` (speech reported without them); the source's span when found."""

    start: int
    end: int
    kind: str
    source_start: int | None = None
    source_end: int | None = None


class Voice(NamedTuple):
    """Whose voice a span is in: ``narrator`` (the outlet's own) or ``quoted``; ``quote`` the index
    of its :class:`Quote` (None for narrator)."""

    voice: str
    quote: int | None


# --- direct quotes ----------------------------------------------------------------------------------


def _role(text, a, b, mark):
    """``open``, ``close`` or ``either`` for the quote mark at ``[a, b)``: by its neighbours where
    they are clear, else by the mark itself."""
    prev = text[a - 1] if a else "\n"
    nxt = text[b] if b < len(text) else "\n"
    opens = (prev.isspace() or prev in _BEFORE_OPEN) and not nxt.isspace()
    closes = not prev.isspace() and (nxt.isspace() or nxt in _AFTER_CLOSE)
    if opens != closes:
        return "open" if opens else "close"
    return "open" if mark in _OPENERS else "close" if mark in _CLOSERS else "either"


def _line_end(text, newlines, a):
    """The offset of the first line break at or after ``a`` (``len(text)`` when none)."""
    k = bisect_left(newlines, a)
    return newlines[k] if k < len(newlines) else len(text)


def _unclosed_end(text, newlines, a):
    """Where a quote opened at ``a`` and never closed ends: its line end, at most :data:`MAX_UNCLOSED`
    characters on (then after the last sentence end before that, if any)."""
    end = _line_end(text, newlines, a)
    if end - a > MAX_UNCLOSED:
        cut = max(text.rfind(p, a, a + MAX_UNCLOSED) for p in ".!?")
        end = cut + 1 if cut > a else a + MAX_UNCLOSED
    while end > a and text[end - 1].isspace():
        end -= 1
    return end


def _double_quotes(text) -> list:
    """Direct quotes in double marks: ``(start, end)`` pairs, marks included."""
    blanks = [m.start() for m in _BLANK.finditer(text)]
    newlines = [m.start() for m in _NEWLINE.finditer(text)]
    out = []
    open_at = None
    for m in _DOUBLE.finditer(text):
        a, b = m.span()
        role = _role(text, a, b, m.group())
        if open_at is not None:
            far = a > _line_end(text, newlines, open_at)
            crosses = far and (bisect_right(blanks, a) > bisect_right(blanks, open_at - 1)
                               or a - open_at > MAX_QUOTE)
            if role == "open" or (far and role == "either" and text[a - 1] == "\n") or crosses:
                out.append((open_at, _unclosed_end(text, newlines, open_at)))
                open_at = None
            else:
                out.append((open_at, b))
                open_at = None
                continue
        if role != "close":
            open_at = a
    if open_at is not None:
        out.append((open_at, _unclosed_end(text, newlines, open_at)))
    return [q for q in out if q[1] > q[0] + 1]


def _single_quotes(text, doubles) -> list:
    """Single-quote quotations outside double ones, where unambiguous (see the module docstring)."""
    out = []
    starts = [q[0] for q in doubles]
    open_at = None
    for m in _SINGLE.finditer(text):
        a, b = m.span()
        prev = text[a - 1] if a else " "
        nxt = text[b] if b < len(text) else " "
        if open_at is not None and (a - open_at > MAX_SINGLE or "\n" in text[open_at:a]):
            open_at = None
        if open_at is None:
            if m.group() != "’" and (prev.isspace() or prev in "([—–") and nxt.isalpha():
                k = bisect_right(starts, a) - 1
                if k < 0 or doubles[k][1] <= a:
                    open_at = a
        elif m.group() != "‘" and (prev.isalnum() or prev in ".,!?") and not nxt.isalnum():
            k = bisect_right(starts, a) - 1
            if k < 0 or doubles[k][1] <= open_at:
                out.append((open_at, b))
            open_at = None
    return out


def _subtract(start, end, taken, taken_starts):
    """Pieces of ``[start, end)`` not inside any interval of sorted ``taken``."""
    pieces = []
    k = max(bisect_right(taken_starts, start) - 1, 0)
    cur = start
    while k < len(taken) and taken[k][0] < end:
        s, e = taken[k][:2]
        if e > cur:
            if s > cur:
                pieces.append((cur, s))
            cur = max(cur, e)
        k += 1
    if cur < end:
        pieces.append((cur, end))
    return pieces


def _chain_sources(text, found):
    """Direct quotes without a source take a neighbour's: the next quote's when only white space
    lies between them (a quote continued in the next paragraph), the previous quote's when only its
    attribution lies between (``"...," Smith said. "..."``)."""
    for k in range(len(found) - 2, -1, -1):
        if found[k][2] is None and found[k + 1][2] is not None and not text[found[k][1]:found[k + 1][0]].strip():
            found[k][2:] = found[k + 1][2:]
    for k in range(1, len(found)):
        prev, cur = found[k - 1], found[k]
        if (cur[2] is None and prev[2] is not None and prev[1] <= prev[2] and prev[3] <= cur[0]
                and cur[0] - prev[1] <= 80 and "\n" not in text[prev[1]:cur[0]]):
            cur[2:] = prev[2:]


def find_quotes(text: str, reported: bool = True, cognition: bool = False) -> list:
    """Direct quotes and (``reported``) reported speech in ``text``: sorted, non-overlapping
    :class:`Quote` regions (see the module docstring). Linear in the text's length.

    ``reported=False`` leaves reported speech out (direct quotes still get their sources);
    ``cognition`` adds the cognition verbs (believes, thinks). The defaults are the variant chosen
    on PolNeAR (README, "Voice").
    """
    if not text:
        return []
    doubles = _double_quotes(text)
    direct = sorted(doubles + _single_quotes(text, doubles))
    found = [[s, e, None, None] for s, e in direct]
    starts = [q[0] for q in found]
    extra = []
    for cs, ce, ss, se in reported_speech(text, direct, cognition):
        # quotes this content holds (or that start where it starts) take its source
        k = max(bisect_right(starts, cs) - 1, 0)
        while k < len(found) and found[k][0] < ce:
            if found[k][1] > cs and found[k][2] is None and not (found[k][0] <= ss < found[k][1]):
                found[k][2:] = [ss, se]
            k += 1
        for a, b in _subtract(cs, ce, found, starts):
            if a < se and ss < b:  # a piece holding its own source ("..., Al Jazeera reported"): cut before it
                b = min(b, ss)
            while a < b and (text[a].isspace() or text[a] in ",;:"):
                a += 1
            while b > a and (text[b - 1].isspace() or text[b - 1] in ",;:"):
                b -= 1
            if len(_WORD.findall(text, a, b)) >= 2:
                extra.append((a, b, ss, se))
    _chain_sources(text, found)
    out = [Quote(s, e, "direct", ss, se) for s, e, ss, se in found]
    last = 0  # reported pieces are already outside direct quotes; later ones are cut after earlier ones
    for a, b, ss, se in sorted(extra) if reported else ():
        a = max(a, last)
        if b - a > 1:
            out.append(Quote(a, b, "reported", ss, se))
            last = b
    out.sort()
    return out


# --- spans --------------------------------------------------------------------------------------------


def span_voices(starts, ends, quotes) -> list:
    """The :class:`Voice` of each span ``[starts[i], ends[i])`` given sorted, non-overlapping
    ``quotes``: ``quoted`` when at least half its characters lie inside one quote (the quote with
    the largest overlap; ties to the earlier), else ``narrator``. Vectorised: O((n + m) log m)."""
    s = np.asarray(starts, dtype=np.int64)
    e = np.asarray(ends, dtype=np.int64)
    if not len(s):
        return []
    if not quotes:
        return [Voice("narrator", None)] * len(s)
    qs = np.fromiter((q.start for q in quotes), np.int64, len(quotes))
    qe = np.fromiter((q.end for q in quotes), np.int64, len(quotes))
    first = np.searchsorted(qe, s, side="right")  # the first quote ending after the span starts
    best = np.zeros(len(s), dtype=np.int64)
    which = np.full(len(s), -1, dtype=np.int64)
    for off in (0, 1, 2):  # a span meets at most a few quotes with more than half of it
        k = first + off
        ok = k < len(qs)
        kk = np.where(ok, k, 0)
        ov = np.where(ok, np.minimum(e, qe[kk]) - np.maximum(s, qs[kk]), 0)
        better = ov > best
        best = np.where(better, ov, best)
        which = np.where(better, kk, which)
    quoted = (best > 0) & (2 * best >= np.maximum(e - s, 1))
    return [Voice("quoted", int(w)) if q else Voice("narrator", None) for q, w in zip(quoted.tolist(), which.tolist())]


def add_voice(spans: list, text: str, quotes=None) -> list:
    """Set ``voice`` and, for quoted spans whose source was found, ``attributed_to``
    (``{"start", "end", "text"}``) on each span dict (in place); returns ``spans``."""
    if not spans:
        return spans
    quotes = find_quotes(text) if quotes is None else quotes
    voices = span_voices([d["start"] for d in spans], [d["end"] for d in spans], quotes)
    for d, v in zip(spans, voices):
        d["voice"] = v.voice
        if v.quote is not None:
            q = quotes[v.quote]
            if q.source_start is not None:
                d["attributed_to"] = {"start": q.source_start, "end": q.source_end,
                                      "text": text[q.source_start:q.source_end]}
    return spans
