"""Reported speech: ``X said (that) ...``, ``X told reporters ...``, ``..., X said.``, ``..., said X.``,
``according to X, ...`` and ``..., according to X.``, with the verbs of
``label_config/lexicons/speech_verbs.txt``.

:func:`reported_speech` gives content regions (the rest, or the start, of the verb's sentence) with
the span of their source; :func:`annotator.cues.voice.find_quotes` merges them with direct quotes.
A verb inside a direct quote is skipped; sources are the last words of the clause before the verb
(at most six, without a leading conjunction or trailing adverbs and auxiliaries), or the words
after an inverted verb or ``according to``.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import NamedTuple

from ..paths import LABEL_CONFIG_DIR
from .tokens import ABBREVIATIONS

__all__ = ["SPEECH_VERBS", "SpeechVerbs", "speech_verbs", "Reported", "reported_speech"]

SPEECH_VERBS = LABEL_CONFIG_DIR / "lexicons" / "speech_verbs.txt"

MAX_SOURCE_WORDS = 6
MAX_SENTENCE = 400  # characters either side of a speech verb that reported speech is looked for in

_SENT_END = re.compile(r"[.!?]+[\"”’')]*(?=\s)|\n")
_WORD = re.compile(r"[\w][\w.'’-]*")
_CUT = re.compile(r"[,;:()\[\]\"“”„«»—–]|''")
_CONJ = frozenset("and but or that because as while when so if since who which where though although than "
                  "said says".split())
_TRAIL = frozenset("also has have had would will could may might should once again later then previously "
                   "never not did does do just recently repeatedly reportedly further even still already "
                   "is was were are be been".split())
_THAT = re.compile(r"\bthat\b|:", re.I)
#: A source never ends with these (``according to reports``: "reports" is no verb of "to").
_NOT_LAST = frozenset("to the a an of in on by for with from at this that these those its their his her".split())


class Reported(NamedTuple):
    """Reported content ``[start, end)`` and its source's span."""

    start: int
    end: int
    source_start: int
    source_end: int


class SpeechVerbs(NamedTuple):
    """The speech verbs as one pattern (group 1: ``according to``), and those that take an object."""

    pattern: re.Pattern
    tell: frozenset


@lru_cache(maxsize=4)
def speech_verbs(cognition: bool = False) -> SpeechVerbs:
    """The speech verbs as one whole-word pattern (also ``according to``), and the verbs that take an
    object before their content (``told reporters``); cognition verbs only when ``cognition``."""
    sections: dict = {}
    section = "speech"
    for line in SPEECH_VERBS.read_text(encoding="utf-8").splitlines():
        line = line.strip().lower()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            sections.setdefault(section, []).append(line)
    words = sections.get("speech", []) + sections.get("tell", []) + (sections.get("cognition", []) if cognition else [])
    alts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(set(words), key=len, reverse=True))
    return SpeechVerbs(re.compile(r"(?<![\w'’-])(?:(according\s+to)|" + alts + r")(?![\w'’-])", re.I),
                       frozenset(sections.get("tell", [])))


def _sentence_bounds(text) -> list:
    """Sentence end offsets (after the stop and any closing marks); abbreviations and initials are not ends."""
    ends = []
    for m in _SENT_END.finditer(text):
        a = m.start()
        if text[a] == ".":
            w = a
            while w > 0 and text[w - 1].isalpha():
                w -= 1
            word = text[w:a]
            if word in ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue
        ends.append(m.end())
    return ends


def _source_before(text, lo, v):
    """The source's span just before a verb at ``v`` (within the sentence from ``lo``), or None:
    the last words of the clause, without a leading conjunction or trailing adverbs/auxiliaries."""
    lo = max(lo, v - 120)
    cut = lo
    for c in _CUT.finditer(text, lo, v):
        cut = c.end()
    words = [w for w in _WORD.finditer(text, cut, v)]
    for k in range(len(words) - 1, -1, -1):
        if words[k].group().lower() in _CONJ:
            words = words[k + 1:]
            break
    while words and (words[-1].group().lower() in _TRAIL or words[-1].group().lower().endswith("ly")):
        words.pop()
    if not words or len(words) > MAX_SOURCE_WORDS or words[-1].group().lower() in _NOT_LAST:
        return None
    return words[0].start(), words[-1].end()


def _source_after(text, v, hi):
    """The source's span right after a verb (``..., said Smith, the ...``), up to a comma or the end."""
    stop = hi
    c = _CUT.search(text, v, hi)
    if c:
        stop = c.start()
    words = list(_WORD.finditer(text, v, stop))
    if not words or len(words) > MAX_SOURCE_WORDS:
        return None
    end = words[-1].end()
    while end > words[0].start() + 1 and text[end - 1] in ".'’":
        end -= 1  # "said Smith." : the sentence's stop is not the source's
    return words[0].start(), end


def _content_after(text, v, hi, tell):
    """Where reported content after a verb at ``[.., v)`` starts: after ``that``/``:`` within eight
    words, else after a ``tell`` verb's object, else right after the verb."""
    window = text[v:min(hi, v + 60)]
    m = _THAT.search(window)
    if m and len(window[:m.start()].split()) <= 8:
        return v + m.end()
    if tell:
        words = list(_WORD.finditer(text, v, hi))
        k = 0
        while k < len(words) and (k == 0 or words[k].group()[0].isupper()):
            k += 1
        return words[k - 1].end() if k else v
    return v


def reported_speech(text, quotes, cognition=False) -> list:
    """:class:`Reported` candidates in ``text`` outside the sorted direct ``quotes`` (``(start, end)``
    pairs), in sentence order; they may overlap each other and the quotes."""
    verbs = speech_verbs(cognition)
    ends = _sentence_bounds(text)
    qstarts = [q[0] for q in quotes]
    out = []
    for m in verbs.pattern.finditer(text):
        vs, ve = m.span()
        k = bisect_right(qstarts, vs) - 1
        if k >= 0 and quotes[k][1] > vs:
            continue  # a verb inside a direct quote
        i = bisect_right(ends, vs)
        lo = max(ends[i - 1] if i else 0, vs - MAX_SENTENCE)
        hi = min(ends[i] if i < len(ends) else len(text), ve + MAX_SENTENCE)
        while lo < vs and text[lo].isspace():
            lo += 1
        while hi > ve and text[hi - 1] in " \t\r\n.!?\"”’')":
            hi -= 1
        head = text[lo:vs].rstrip()
        if m.group(1):  # according to X
            src = _source_after(text, ve, hi)
            if src is None:
                continue
            if not head or head[-1] not in ",;—–":
                if head:
                    out.append(Reported(lo, vs, *src))
                elif _CUT.search(text, src[1], min(hi, src[1] + 2)):
                    cs = src[1] + 1
                    while cs < hi and text[cs].isspace():
                        cs += 1
                    out.append(Reported(cs, hi, *src))
            else:
                out.append(Reported(lo, lo + len(head) - 1, *src))
            continue
        tail = text[ve:hi]
        if head.endswith((",", "\"", "”", "''", "—")):  # "..., said Smith."
            src = _source_after(text, ve, hi)
            if src and head[:-1].strip():
                out.append(Reported(lo, lo + len(head), *src))
            continue
        src = _source_before(text, lo, vs)
        if src is None:
            continue
        pre = text[lo:src[0]].rstrip()
        if pre.endswith((",", "\"", "”", "''", "—")) and len(tail.split()) <= 6 and not _THAT.search(tail):
            out.append(Reported(lo, lo + len(pre), *src))  # "..., Smith said."
            continue
        cs = _content_after(text, ve, hi, m.group().lower() in verbs.tell)
        while cs < hi and text[cs] in " \t,:":
            cs += 1
        if len(text[cs:hi].split()) >= 3:
            out.append(Reported(cs, hi, *src))
    return out
