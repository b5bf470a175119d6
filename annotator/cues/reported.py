"""Reported speech: ``X said (that) ...``, ``X told reporters ...``, ``..., X said.``, ``..., said X.``,
``according to X, ...`` and ``..., according to X.``, found on tokens, vectorised over a batch.

The verbs are those of ``label_config/lexicons/speech_verbs.txt``. Every token gets class bits
(:func:`token_codes`: clause punctuation, conjunction, adverb or auxiliary, capitalised, ...), by
vocabulary row when a tagger's tokens are at hand; around each speech verb a window of tokens
within its sentence (the tagger's sentences) is read with numpy, all verbs of a batch at once:

* the **source** before the verb: the last words of its clause (at most eight tokens, after the last
  clause punctuation or conjunction, without trailing adverbs or auxiliaries, not ending with a
  preposition or article); after an inverted verb (``..., said Smith``) or ``according to``: the
  words up to the next clause punctuation;
* the **content**: the rest of the sentence after the verb (after ``that`` or ``:`` within eight
  tokens; after the object of ``told``), or its start up to the comma before ``X said`` / ``said X`` /
  ``according to X`` at the sentence end.

:func:`reported_speech` runs it on one text; :func:`annotator.cues.voice.find_quotes` merges the
candidates with direct quotes (a verb inside a direct quote is dropped there).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ..paths import LABEL_CONFIG_DIR
from .tokens import segments, sentence_spans, tokenize

__all__ = ["SPEECH_VERBS", "SpeechVerbs", "speech_verbs", "Reported", "TokenView", "token_codes", "verb_tokens",
           "reported_tokens", "reported_speech", "verb_words", "verb_kinds", "VoiceTable",
           "voice_table", "batch_verbs"]

SPEECH_VERBS = LABEL_CONFIG_DIR / "lexicons" / "speech_verbs.txt"

MAX_SOURCE = 8  # tokens of a source
BEFORE, AFTER = 10, 12  # tokens read before and after a verb

# token class bits
CUT, COMMA, CONJ, TRAIL, NOT_LAST, THAT, CAP, WORD, CLOSE, UNKNOWN = (1 << k for k in range(10))
_CUT_CHARS = frozenset(",;:()[]\"“”„«»—–'‘’`")
_COMMA_CHARS = frozenset(",\"”“'’—–`")
_CLOSE_CHARS = frozenset(".!?\"”’')")
_CONJ = frozenset("and but or that because as while when so if since who which where though although than "
                  "said says".split())
_TRAIL = frozenset("also has have had would will could may might should once again later then previously "
                   "never not did does do just recently repeatedly reportedly further even still already "
                   "is was were are be been".split())
#: A source never ends with these (``according to reports``: "reports" is no verb of "to").
_NOT_LAST = frozenset("to the a an of in on by for with from at this that these those its their his her".split())


class Reported(NamedTuple):
    """Reported content ``[start, end)``, its source's span, and where its verb starts."""

    start: int
    end: int
    source_start: int
    source_end: int
    verb: int


class SpeechVerbs(NamedTuple):
    """The lexicon's verbs: speech, tell (take an object), cognition (believes, thinks) and the
    two-word entries by their first word (``according`` → ``to``)."""

    speech: frozenset
    tell: frozenset
    cognition: frozenset
    pairs: dict


@lru_cache(maxsize=1)
def speech_verbs() -> SpeechVerbs:
    """The sections of ``label_config/lexicons/speech_verbs.txt`` (``according to`` added)."""
    sections: dict = {}
    section = "speech"
    for line in SPEECH_VERBS.read_text(encoding="utf-8").splitlines():
        line = line.strip().lower()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif line and not line.startswith("#"):
            sections.setdefault(section, []).append(line)
    pairs = {"according": "to"}
    single = {}
    for name in ("speech", "tell", "cognition"):
        words = set()
        for w in sections.get(name, []):
            parts = w.split()
            if len(parts) == 2:
                pairs[parts[0]] = parts[1]
            else:
                words.add(w)
        single[name] = frozenset(words)
    return SpeechVerbs(single["speech"], single["tell"], single["cognition"], pairs)


class TokenView(NamedTuple):
    """What reported-speech detection reads of a flat tokenisation (texts one after the other)."""

    tokens: list
    starts: np.ndarray  # offsets within each token's text
    ends: np.ndarray
    first: np.ndarray  # first token of each token's sentence
    last: np.ndarray  # last token of it
    codes: np.ndarray  # class bits (UNKNOWN: computed from the token when read)


def token_codes(tokens) -> np.ndarray:
    """Class bits of each token string (see the module docstring)."""
    out = np.zeros(len(tokens), dtype=np.int32)
    for i, t in enumerate(tokens):
        low = t.lower()
        c = 0
        if t in _CUT_CHARS:
            c |= CUT
        if t in _COMMA_CHARS:
            c |= COMMA
        if t in _CLOSE_CHARS:
            c |= CLOSE
        if low in _CONJ:
            c |= CONJ
        if low in _TRAIL or (low.endswith("ly") and len(low) > 3):
            c |= TRAIL
        if low in _NOT_LAST:
            c |= NOT_LAST
        if low == "that" or t == ":":
            c |= THAT
        if t[:1].isupper():
            c |= CAP
        if t[:1].isalnum():
            c |= WORD
        out[i] = c
    return out


def verb_tokens(tokens, candidates=None, cognition=False) -> tuple:
    """``(index, end, kind)`` arrays of the speech verbs among ``tokens`` (strings; only the indices
    ``candidates`` are looked at when given): ``end`` the token after the verb, ``kind`` 0 speech,
    1 tell, 2 according to."""
    verbs = speech_verbs()
    idx, end, kind = [], [], []
    for i in range(len(tokens)) if candidates is None else candidates:
        low = tokens[i].lower()
        if low in verbs.speech or low in verbs.tell or (cognition and low in verbs.cognition):
            idx.append(i)
            end.append(i + 1)
            kind.append(1 if low in verbs.tell else 0)
        elif low in verbs.pairs and i + 1 < len(tokens) and tokens[i + 1].lower() == verbs.pairs[low]:
            idx.append(i)
            end.append(i + 2)
            kind.append(2 if low == "according" else 0)
    return np.array(idx, np.int64), np.array(end, np.int64), np.array(kind, np.int64)


def verb_kinds(words) -> np.ndarray:
    """Per token string: -1 no verb, 0 speech, 1 tell, 2 the first word of a two-word entry, 3
    cognition (what :func:`verb_tokens` would decide from the token alone)."""
    v = speech_verbs()
    out = np.full(len(words), -1, dtype=np.int8)
    for i, w in enumerate(words):
        low = w.lower()
        if low in v.speech:
            out[i] = 0
        elif low in v.tell:
            out[i] = 1
        elif low in v.pairs:
            out[i] = 2
        elif low in v.cognition:
            out[i] = 3
    return out


def verb_words() -> frozenset:
    """Every word that may start a speech verb (cognition verbs included)."""
    v = speech_verbs()
    return v.speech | v.tell | v.cognition | frozenset(v.pairs)


def _first_true(mask):
    """Per row, the first column where ``mask`` holds (the number of columns when none)."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), mask.shape[1])


def _window(view, at, lo, hi, step, width):
    """Codes of ``width`` tokens from ``at`` in direction ``step`` (rows); outside ``[lo, hi]``: CUT."""
    pos = at[:, None] + step * np.arange(width)
    ok = (pos >= lo[:, None]) & (pos <= hi[:, None])
    pos = np.clip(pos, 0, max(len(view.codes) - 1, 0))
    unknown = np.unique(pos[ok & (view.codes[pos] & UNKNOWN != 0)])
    if len(unknown):  # out-of-vocabulary tokens near a verb: classed from their strings
        view.codes[unknown] = token_codes([view.tokens[i] for i in unknown.tolist()])
    return np.where(ok, view.codes[pos], CUT)


def reported_tokens(view: TokenView, verbs, ends, kinds) -> np.ndarray:
    """Reported-speech candidates, an int64 array of rows ``(verb token, start, end, source_start,
    source_end)`` (character offsets within the verb's text) for the verbs at token ``verbs``
    (``ends``: the token after each; ``kinds``: see :func:`verb_tokens`)."""
    if not len(verbs):
        return np.zeros((0, 5), dtype=np.int64)
    f, l = view.first[verbs], view.last[verbs]
    for _ in range(3):  # the sentence's final stop and closing marks are not content
        l = np.where((l >= ends) & (view.codes[l] & CLOSE != 0), l - 1, l)
    before = _window(view, verbs - 1, f, l, -1, BEFORE)
    after = _window(view, ends, f, l, 1, AFTER)
    cut = _first_true(before & CUT != 0)
    limit = np.minimum(cut, _first_true(before & CONJ != 0))
    tk = _first_true(before & TRAIL == 0)
    rows = np.arange(len(verbs))
    tk_code = before[rows, np.minimum(tk, BEFORE - 1)]
    has_src = (tk < limit) & (limit - tk <= MAX_SOURCE) & (tk_code & NOT_LAST == 0) & (tk_code & WORD != 0)
    acut = _first_true(after & CUT != 0)
    src_after = (acut >= 1) & (acut <= MAX_SOURCE) & (after[:, 0] & WORD != 0)
    prev_comma = (verbs - 1 > f) & (before[:, 0] & COMMA != 0)
    n_tail = l - ends + 1
    that = _first_true(after & THAT != 0)
    out = []

    def add(mask, cs, ce, ss, se):
        ok = mask & (ce > cs)
        out.append(np.stack([verbs[ok], cs[ok], ce[ok], ss[ok], se[ok]], axis=1))

    S, E = view.starts, view.ends
    acc = kinds == 2
    a_ss, a_se = S[np.minimum(ends, len(S) - 1)], E[np.clip(ends + acut - 1, 0, len(E) - 1)]
    # according to X, CONTENT | CONTENT, according to X | CONTENT according to X
    comma_after = np.minimum(ends + acut, len(S) - 1)
    lead = acc & src_after & (verbs == f) & (view.codes[comma_after] & COMMA != 0) & (ends + acut < l)
    add(lead, S[np.minimum(comma_after + 1, len(S) - 1)], E[l], a_ss, a_se)
    add(acc & src_after & (verbs > f) & prev_comma, S[f], E[np.maximum(verbs - 2, 0)], a_ss, a_se)
    add(acc & src_after & (verbs > f) & ~prev_comma, S[f], E[np.maximum(verbs - 1, 0)], a_ss, a_se)
    # CONTENT, said X.
    inv = ~acc & prev_comma
    add(inv & src_after, S[f], E[verbs - 1], a_ss, a_se)
    rest = ~acc & ~inv & has_src
    b_ss, b_se = S[np.maximum(verbs - limit, 0)], E[np.maximum(verbs - 1 - tk, 0)]
    # CONTENT, X said.
    cut_tok = np.maximum(verbs - 1 - cut, 0)
    post = rest & (limit == cut) & (cut < BEFORE) & (cut_tok > f) & (view.codes[cut_tok] & COMMA != 0) \
        & (n_tail <= 6) & (that >= np.maximum(n_tail, 0))
    add(post, S[f], E[cut_tok], b_ss, b_se)
    # X said (that) CONTENT; X told reporters CONTENT
    skip = np.where(that < 8, that + 1, 0)
    obj = 1 + _first_true(after[:, 1:] & CAP == 0)
    skip = np.where((that >= 8) & (kinds == 1) & (after[:, 0] & WORD != 0), obj, skip)
    cs = ends + skip
    for _ in range(2):
        cs = np.where((cs <= l) & (view.codes[np.minimum(cs, len(S) - 1)] & (COMMA | THAT) != 0), cs + 1, cs)
    pre = rest & ~post & (l - cs + 1 >= 3)
    add(pre, S[np.minimum(cs, len(S) - 1)], E[l], b_ss, b_se)
    return np.concatenate(out).astype(np.int64)


def reported_speech(text, cognition=False) -> list:
    """:class:`Reported` candidates in one text (tokenised here), sorted; they may overlap each
    other and direct quotes."""
    toks = tokenize(text)
    if not toks.tokens:
        return []
    seg = segments(text, toks.tokens, toks.starts, toks.ends)
    sent = sentence_spans(seg.stop, seg.brk)
    view = TokenView(toks.tokens, toks.starts, toks.ends, sent.first, sent.last, token_codes(toks.tokens))
    verbs, ends, kinds = verb_tokens(toks.tokens, cognition=cognition)
    found = reported_tokens(view, verbs, ends, kinds)
    found[:, 0] = toks.starts[found[:, 0]]
    return sorted(Reported(cs, ce, ss, se, v) for v, cs, ce, ss, se in found.tolist())


class VoiceTable(NamedTuple):
    """Per vocabulary row of a tagger (and two more: padding, unknown), the token class bits of
    :func:`token_codes` and the verb kind of
    :func:`verb_kinds` (the unknown row: no verb; every speech verb is a
    common word, in any tagger's vocabulary)."""

    codes: np.ndarray
    kinds: np.ndarray


def voice_table(words) -> VoiceTable:
    """The :class:`VoiceTable` of a vocabulary (``words``, a list of token strings)."""
    codes = np.zeros(len(words) + 2, dtype=np.int32)
    codes[:len(words)] = token_codes(words)
    codes[-1] = UNKNOWN
    kinds = np.full(len(words) + 2, -1, dtype=np.int8)
    kinds[:len(words)] = verb_kinds(words)
    return VoiceTable(codes, kinds)


def batch_verbs(tokens, ids, table):
    """(index, end, kind) of the speech verbs of a flat tokenisation, by vocabulary row; two-word
    entries are decided on their strings."""
    kind = table.kinds.take(ids)
    plain = np.flatnonzero((kind == 0) | (kind == 1))
    other = np.flatnonzero(kind == 2).tolist()
    v2, e2, k2 = verb_tokens(tokens, other)
    idx = np.concatenate([plain, v2])
    order = np.argsort(idx, kind="stable")
    return (idx[order], np.concatenate([plain + 1, e2])[order],
            np.concatenate([kind[plain].astype(np.int64), k2])[order])
