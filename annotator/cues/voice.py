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
* **reported speech** (:mod:`.reported`, on tokens): ``X said (that) ...``, ``X told reporters
  ...``, ``..., X said.``, ``..., said X.``, ``according to X, ...``, ``..., according to X.``; the
  content is the rest (or the start) of the sentence.

Each :class:`Quote` is a content region (quote marks included, as PolNeAR's content spans) with
the span of its source when one is found (``"...," Smith said.``: Smith). Regions are sorted and
never overlap: direct quotes win, reported content is cut around them.

:func:`span_voices` gives each span its :class:`Voice`: ``quoted`` when at least half of its
characters lie inside one quote's region (the quote with the largest overlap), else ``narrator``.
:func:`add_voice` writes ``voice`` and ``attributed_to`` into span dicts. :func:`batch_quotes` is
what the tagger runs on a batch: reported speech read from its own tokens and sentences, all texts
at once (the same quotes as :func:`find_quotes`, which tokenises the text itself, except where a
speech verb is not in the tagger's vocabulary).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import NamedTuple

import numpy as np

from .reported import TokenView, VoiceTable, batch_verbs, reported_speech, reported_tokens

__all__ = ["Quote", "Voice", "find_quotes", "span_voices", "add_voice", "batch_quotes"]

MAX_QUOTE = 2000  # characters a closed direct quote may span
MAX_UNCLOSED = 600  # characters an unclosed one runs at most (to its line end)
MAX_SINGLE = 200  # characters of a single-quote quotation

_DOUBLE_CHARS = '"“”„«»'
_SINGLE_MARKS = "'‘’"
_BEFORE_SINGLE = frozenset(" \n\t\r([—–")
_OPENERS, _CLOSERS = frozenset("“„«") | {"``"}, frozenset("”»")
_BEFORE_OPEN = frozenset("([{—–-/:\n")
_AFTER_CLOSE = frozenset(".,;:!?)]}—–-\n")


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


def _finds(text, ch) -> list:
    """Offsets of every ``ch`` in ``text`` (``str.find``: a memchr scan, no regex pass)."""
    out = []
    i = text.find(ch)
    while i >= 0:
        out.append(i)
        i = text.find(ch, i + 1)
    return out


def _marks(text):
    """(sorted ``(offset, mark)`` of the double quote marks, offsets of the single marks that may
    open a quotation). ``''`` and ``````: a double mark; a lone ``'``/``‘`` may open one after a
    space, a bracket or a dash, before a letter."""
    doubles = [(i, ch) for ch in _DOUBLE_CHARS for i in _finds(text, ch)]
    singles = []
    for ch, twin in (("'", "''"), ("`", "``"), ("‘", None)):
        pos = _finds(text, ch)
        k = 0
        while k < len(pos):
            i = pos[k]
            if twin and k + 1 < len(pos) and pos[k + 1] == i + 1:
                doubles.append((i, twin))
                k += 2
                continue
            if ch != "`" and (i == 0 or text[i - 1] in _BEFORE_SINGLE) and i + 1 < len(text) and text[i + 1].isalpha():
                singles.append(i)
            k += 1
    doubles.sort()
    singles.sort()
    return doubles, singles


def _line_end(text, a, limit):
    """The offset of the first line break at or after ``a``, looked for up to ``a + limit``
    (``min(len(text), a + limit)`` when none)."""
    i = text.find("\n", a, a + limit)
    return i if i >= 0 else min(len(text), a + limit)


def _blank_between(text, a, b):
    """Whether a blank line (a paragraph break) lies between offsets ``a`` and ``b``."""
    i = text.find("\n", a, b)
    while i >= 0:
        j = text.find("\n", i + 1, b)
        if j >= 0 and not text[i + 1:j].strip():
            return True
        i = j
    return False


def _unclosed_end(text, a):
    """Where a quote opened at ``a`` and never closed ends: its line end, at most :data:`MAX_UNCLOSED`
    characters on (then after the last sentence end before that, if any)."""
    end = _line_end(text, a, MAX_UNCLOSED + 1)
    if end - a > MAX_UNCLOSED:
        cut = max(text.rfind(p, a, a + MAX_UNCLOSED) for p in ".!?")
        end = cut + 1 if cut > a else a + MAX_UNCLOSED
    while end > a and text[end - 1].isspace():
        end -= 1
    return end


def _double_quotes(text, marks) -> list:
    """Direct quotes in double ``marks`` (:func:`_marks`): ``(start, end)`` pairs, marks included."""
    out = []
    open_at = None
    for a, mark in marks:
        b = a + len(mark)
        role = _role(text, a, b, mark)
        if open_at is not None:
            far = a > _line_end(text, open_at, MAX_QUOTE + 1)
            crosses = far and (a - open_at > MAX_QUOTE or _blank_between(text, open_at, a))
            if role == "open" or (far and role == "either" and text[a - 1] == "\n") or crosses:
                out.append((open_at, _unclosed_end(text, open_at)))
                open_at = None
            else:
                out.append((open_at, b))
                open_at = None
                continue
        if role != "close":
            open_at = a
    if open_at is not None:
        out.append((open_at, _unclosed_end(text, open_at)))
    return [q for q in out if q[1] > q[0] + 1]


def _single_closer(text, a):
    """The end of the single-quote quotation opened at ``a``: after the first closing ``'``/``’`` on
    its line within :data:`MAX_SINGLE` characters (after a letter or ``.,!?``, before no letter),
    or -1."""
    hi = _line_end(text, a, MAX_SINGLE)
    found = -1
    for mark in ("'", "’"):
        i = text.find(mark, a + 2, hi)
        while i >= 0:
            nxt = text[i + 1] if i + 1 < len(text) else " "
            prev = text[i - 1]
            if (prev.isalnum() or prev in ".,!?") and not nxt.isalnum() and nxt not in _SINGLE_MARKS \
                    and prev not in _SINGLE_MARKS:
                hi = found = i
                break
            i = text.find(mark, i + 1, hi)
    return found + 1 if found >= 0 else -1


def _single_quotes(text, doubles, openers) -> list:
    """Single-quote quotations outside double ones, where unambiguous (see the module docstring):
    only the few marks that can open one (``openers``: :func:`_marks`) are looked at."""
    out = []
    starts = [q[0] for q in doubles]
    last = -1
    for a in openers:
        if a < last:
            continue
        k = bisect_right(starts, a) - 1
        if k >= 0 and doubles[k][1] > a:
            continue
        end = _single_closer(text, a)
        if end > 0 and (k + 1 >= len(starts) or starts[k + 1] >= end):
            out.append((a, end))
            last = end
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


def find_quotes(text: str, reported: bool = True, cognition: bool = False, candidates=None) -> list:
    """Direct quotes and (``reported``) reported speech in ``text``: sorted, non-overlapping
    :class:`Quote` regions (see the module docstring). Linear in the text's length.

    ``reported=False`` leaves reported speech out (direct quotes still get their sources);
    ``cognition`` adds the cognition verbs (believes, thinks). The defaults are the variant chosen
    on PolNeAR (README, "Voice"). ``candidates``: this text's
    :class:`~annotator.cues.reported.Reported` candidates when already found for a batch
    (:func:`batch_quotes`); by default they are found here.
    """
    if not text:
        return []
    dmarks, openers = _marks(text)
    doubles = _double_quotes(text, dmarks)
    direct = sorted(doubles + _single_quotes(text, doubles, openers))
    found = [[s, e, None, None] for s, e in direct]
    cands = reported_speech(text, cognition) if candidates is None else candidates
    extra = _merge_reported(text, found, cands)
    if not reported:
        extra = []
    _chain_sources(text, found)
    out = [Quote(s, e, "direct", ss, se) for s, e, ss, se in found]
    last = 0  # reported pieces are already outside direct quotes; later ones are cut after earlier ones
    for a, b, ss, se in sorted(extra):
        if a < last:
            a = last
        if b - a > 1:
            out.append(Quote(a, b, "reported", ss, se))
            last = b
    if extra:
        out.sort()
    return out


def _merge_reported(text, found, cands) -> list:
    """Reported candidates against the direct quotes ``found`` (``[start, end, source_start,
    source_end]`` lists, updated in place): a verb inside a quote is dropped; a quote the content
    overlaps takes its source; returns the content pieces outside the quotes."""
    starts = [q[0] for q in found]
    extra = []
    for cs, ce, ss, se, verb in cands:
        k = bisect_right(starts, verb) - 1
        if k >= 0 and found[k][1] > verb:
            continue  # a verb inside a direct quote
        k = max(bisect_right(starts, cs) - 1, 0)
        inside = False
        while k < len(found) and found[k][0] < ce:
            if found[k][1] > cs:
                inside = True
                if found[k][2] is None and not (found[k][0] <= ss < found[k][1]):
                    found[k][2:] = [ss, se]
            k += 1
        if not inside and not (cs < se and ss < ce):
            extra.append((cs, ce, ss, se))  # the usual case: no direct quote or source inside
        else:
            extra.extend((a, b, ss, se) for a, b in _pieces(text, cs, ce, ss, se, found, starts))
    return extra


def _pieces(text, cs, ce, ss, se, found, starts):
    """The parts of reported content ``[cs, ce)`` outside direct quotes and before its own source,
    trimmed of spaces and clause punctuation, with at least two words."""
    for a, b in _subtract(cs, ce, found, starts):
        if a < se and ss < b:  # a piece holding its own source ("..., Al Jazeera reported"): cut before it
            b = min(b, ss)
        while a < b and (text[a].isspace() or text[a] in ",;:"):
            a += 1
        while b > a and (text[b - 1].isspace() or text[b - 1] in ",;:"):
            b -= 1
        if len(text[a:b].split(None, 2)) >= 2:
            yield a, b


def span_voices(starts, ends, quotes) -> list:
    """The :class:`Voice` of each span ``[starts[i], ends[i])`` given sorted, non-overlapping
    ``quotes``: ``quoted`` when at least half its characters lie inside one quote (the quote with
    the largest overlap; ties to the earlier), else ``narrator``. A bisection per span:
    O(n log m) for n spans and m quotes (plus the few quotes a span overlaps)."""
    narrator = Voice("narrator", None)
    if not quotes:
        return [narrator] * len(starts)
    qe = [q.end for q in quotes]
    out = []
    for s, e in zip(starts, ends):
        s, e = int(s), int(e)
        k = bisect_right(qe, s)  # the first quote ending after the span starts
        best, which = 0, None
        while k < len(quotes) and quotes[k].start < e:
            ov = min(e, quotes[k].end) - max(s, quotes[k].start)
            if ov > best:
                best, which = ov, k
            k += 1
        out.append(Voice("quoted", which) if which is not None and 2 * best >= max(e - s, 1) else narrator)
    return out


def add_voice(spans: list, text: str, quotes=None) -> list:
    """Set ``voice`` (as :func:`span_voices` decides) and, for quoted spans whose source was found,
    ``attributed_to`` (``{"start", "end", "text"}``) on each span dict (in place); returns ``spans``."""
    if not spans:
        return spans
    quotes = find_quotes(text) if quotes is None else quotes
    if not quotes:
        for d in spans:
            d["voice"] = "narrator"
        return spans
    for d, v in zip(spans, span_voices([d["start"] for d in spans], [d["end"] for d in spans], quotes)):
        d["voice"] = v.voice
        if v.quote is not None:
            q = quotes[v.quote]
            if q.source_start is not None:
                d["attributed_to"] = {"start": q.source_start, "end": q.source_end,
                                      "text": text[q.source_start:q.source_end]}
    return spans


def batch_quotes(texts, flat, ids, sentences, table: VoiceTable) -> list:
    """:func:`find_quotes` for each text of a tagger's batch, reported speech found for all texts at
    once from its tokenisation (``flat``: :class:`~annotator.cues.tokens.FlatTokens`; ``ids``:
    vocabulary rows, the last row unknown; ``sentences``: the tagger's
    :class:`~annotator.cues.tokens.Sentences`)."""
    view = TokenView(flat.tokens, flat.starts, flat.ends, sentences.first, sentences.last, table.codes.take(ids))
    found = reported_tokens(view, *batch_verbs(flat.tokens, ids, table))
    art = flat.art[found[:, 0]]
    order = np.lexsort((found[:, 2], found[:, 1], art))
    found, art = found[order], art[order]
    found[:, 0] = flat.starts[found[:, 0]]
    rows = [tuple(r[1:]) + (r[0],) for r in found.tolist()]  # (start, end, source_start, source_end, verb)
    cut = np.searchsorted(art, np.arange(len(texts) + 1)).tolist()
    return [find_quotes(t, candidates=rows[cut[i]:cut[i + 1]]) for i, t in enumerate(texts)]
