"""Applying cue rules to tokenised texts, several rules and texts at a time (:class:`RuleMatcher`)."""
from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from .quotemarks import cut_at_quotes, text_quote_tokens
from .tokens import tokenize

__all__ = ["RuleHit", "RuleMatcher"]


class RuleHit(NamedTuple):
    """One match of a rule: its label, character offsets, span score and rule name."""

    label: str
    start: int
    end: int
    score: float
    rule: str


def _trigger_keys(rule):
    """(chars before, chars after, words): each trigger is looked for by its longest word; a window
    around that word's token must cover the whole trigger, so it reaches ``before`` more characters
    back and ``after`` more on."""
    before = after = 0
    words = []
    for t in rule.triggers:
        parts = [(m.start(), m.group()) for m in re.finditer(r"\S+", t)]
        if not parts:
            continue
        at, word = max(parts, key=lambda p: len(p[1]))
        before, after = max(before, at), max(after, len(t) - at - len(word))
        words.append(word)
    return before, after, tuple(dict.fromkeys(words))


class RuleMatcher:
    """Rules applied to tokenised texts, several at a time.

    Whether a token can start a lexicon entry, or contains one of a pattern rule's
    triggers (the first word of a multi-word trigger), is precomputed for every entry of
    a vocabulary (the cue tagger's) and cached for other tokens, so finding where the
    rules may match is a few array gathers; only those places are then checked, in Python
    (lexicon entries) or by the rule's regular expression (in a window around each trigger).

    Parameters
    ----------
    rules : sequence of annotator.cues.rules.Rule
    scores : sequence of float
        The span score of each rule's matches (its measured precision).
    vocabulary : sequence of str
        Token strings with precomputed flags; token ids index into it, and
        ``len(vocabulary) + 1`` stands for "not in the vocabulary".
    """

    def __init__(self, rules, scores, vocabulary=()):
        self.rules = tuple(rules)
        self.scores = [float(s) for s in scores]
        keys = [_trigger_keys(r) for r in self.rules]
        self._before = [k[0] for k in keys]
        self._after = [k[1] for k in keys]
        self._keys = keys = [k[2] for k in keys]
        # tokens outside the vocabulary: one regex finds which trigger words they contain
        every = sorted({w for ws in keys for w in ws}, key=len, reverse=True)
        self._any_key = re.compile("|".join(map(re.escape, every))) if every else None
        words = [w.lower() for w in vocabulary]
        self.unknown_id = len(words) + 1
        self.flags = np.zeros((len(self.rules), len(words) + 2), dtype=bool)
        joined = "\n".join(words)
        word_starts = np.cumsum([0] + [len(w) + 1 for w in words[:-1]]) if words else np.zeros(0, np.int64)
        for j, rule in enumerate(self.rules):
            if not words:
                break
            if rule.lexicon is not None:
                self.flags[j, :len(words)] = np.fromiter(map(rule.lexicon.__contains__, words), bool, len(words))
            for w in keys[j]:
                pos = [m.start() for m in re.finditer(re.escape(w), joined)]
                if pos:
                    self.flags[j, np.searchsorted(word_starts, pos, side="right") - 1] = True
        self._other: dict = {}

    def _token_flags(self, tok: str):
        low = tok.lower()
        row = [r.lexicon is not None and low in r.lexicon for r in self.rules]
        if self._any_key is not None and self._any_key.search(low):
            for j, ws in enumerate(self._keys):
                row[j] = row[j] or any(w in low for w in ws)
        return row

    def token_flags(self, tokens, ids):
        """Rules × tokens boolean matrix: the token may start a match of the rule."""
        flags = self.flags[:, ids]
        other = np.flatnonzero(ids >= self.unknown_id)
        if len(other):
            cache = self._other
            if len(cache) > 200_000:
                cache.clear()
            rows = []
            for i in other.tolist():
                tok = tokens[i]
                row = cache.get(tok)
                if row is None:
                    row = cache[tok] = self._token_flags(tok)
                rows.append(row)
            flags[:, other] = np.array(rows, dtype=bool).T
        return flags

    def apply_text(self, text: str) -> list:
        """The rules' matches in one text (:class:`RuleHit` records)."""
        toks, starts, ends = tokenize(text)
        ids = np.full(len(toks), self.unknown_id, dtype=np.int64)
        return self.apply([text], toks, starts, ends, np.array([0, len(toks)]), ids)[0]

    def apply(self, texts, tokens, starts, ends, offsets, ids, quote=None) -> list:
        """The rules' matches in tokenised texts: one list of :class:`RuleHit` per text, cut at the
        quote marks inside them (:func:`~annotator.cues.quotemarks.cut_at_quotes`).

        ``tokens``, ``starts``, ``ends`` and ``ids`` are flat over the texts (offsets within
        each text), ``offsets`` the first token of each text (plus the total); ``quote``: whether
        each token is a quote mark, when known (:attr:`annotator.cues.tokens.Segments.quote`).
        """
        out = [[] for _ in texts]
        if not len(tokens) or not self.rules:
            return out
        self._matches(texts, tokens, starts, ends, offsets, ids, out)
        if any(out):
            q = text_quote_tokens(texts, starts, ends, offsets) if quote is None else np.asarray(quote)
            at = np.flatnonzero(q)
            cut = np.searchsorted(at, offsets).tolist()
            marks = np.asarray(starts)[at].tolist()
            for a, hits in enumerate(out):
                if hits and cut[a + 1] > cut[a]:
                    out[a] = cut_at_quotes(hits, marks[cut[a]:cut[a + 1]], texts[a])
        return out

    def _matches(self, texts, tokens, starts, ends, offsets, ids, out):
        """The rules' matches, uncut, appended to ``out`` (one list per text)."""
        flags = self.token_flags(tokens, ids)
        for j, rule in enumerate(self.rules):
            hit = _hit_maker(rule, self.scores[j])
            if rule.lexicon is None and not rule.triggers:
                for a, text in enumerate(texts):
                    out[a].extend(hit(s, e) for s, e in rule.search(text, [(0, len(text))]))
                continue
            hits = np.flatnonzero(flags[j])
            if not len(hits):
                continue
            arts = (np.searchsorted(offsets, hits, side="right") - 1).tolist()
            if rule.lexicon is not None:
                _lexicon_hits(rule, hit, hits, arts, tokens, starts, ends, offsets, out)
            elif not rule.window:
                for a in dict.fromkeys(arts):
                    out[a].extend(hit(s, e) for s, e in rule.search(texts[a], [(0, len(texts[a]))]))
            else:
                self._window_hits(j, rule, hit, hits, arts, texts, starts, ends, out)

    def _window_hits(self, j, rule, hit, hits, arts, texts, starts, ends, out):
        """A pattern rule's matches in the windows around its trigger tokens (merged per text)."""
        before, after = rule.window
        lo = np.maximum(starts[hits] - (self._before[j] + before), 0).tolist()
        hi = (ends[hits] + (self._after[j] + after)).tolist()
        regions: list = []
        cur = -1
        for a, s, e in zip(arts, lo, hi):
            if a == cur and s <= regions[-1][1]:
                if e > regions[-1][1]:
                    regions[-1][1] = e
                continue
            if regions and cur >= 0 and a != cur:
                _search(rule, texts[cur], regions, out[cur], hit)
                regions = []
            cur = a
            regions.append([s, e])
        _search(rule, texts[cur], regions, out[cur], hit)


def _hit_maker(rule, score):
    label, name = rule.label, rule.name
    return lambda s, e: RuleHit(label, s, e, score, name)


def _lexicon_hits(rule, hit, hits, arts, tokens, starts, ends, offsets, out):
    """A lexicon rule's matches starting at the flagged tokens ``hits`` (longest entry first)."""
    done = -1
    for g, a in zip(hits.tolist(), arts):
        if g <= done:
            continue
        stop = offsets[a + 1]
        for entry in rule.lexicon[tokens[g].lower()]:  # longest first
            k = g + len(entry)
            if k <= stop and (len(entry) == 1 or tuple(t.lower() for t in tokens[g:k]) == entry):
                out[a].append(hit(int(starts[g]), int(ends[k - 1])))
                done = k - 1
                break


def _search(rule, text, regions, out, hit):
    n = len(text)
    out.extend(hit(s, e) for s, e in rule.search(text, [(s, min(e, n)) for s, e in regions]))
