"""Cue detection: which spans of an article carry anonymous or named sourcing,
unverified claims or loaded terms.

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

Spans are dicts ``{"label", "start", "end", "text", "score"}`` with Python
string offsets into the article text (end exclusive).
"""
from __future__ import annotations

import importlib.util
from itertools import repeat
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils.validation import check_is_fitted

from .errors import AnnotatorError
from .taxonomy import LABEL_CONFIG_DIR, load_taxonomy

__all__ = [
    "Rule", "load_rules", "apply_rules", "CueTagger", "tokenize", "tag_texts", "tag_articles",
    "load_tagger", "merge_spans", "training_inputs", "RulesTagger", "DEFAULT_TAGGER",
]

#: The shipped framing model; its span tagger is the default cue tagger.
DEFAULT_TAGGER = Path(__file__).resolve().parent.parent / "models" / "framing.skops"
RULES_FILE = LABEL_CONFIG_DIR / "cues.toml"
RULES_MEASURED = LABEL_CONFIG_DIR / "rules_measured.json"
SPAN_EDGES = LABEL_CONFIG_DIR / "lexicons" / "span_edges.toml"

# ---------------------------------------------------------------------------------------------
# tokens

_TOKEN = re.compile(r"\w+(?:['’.-]\w+)*|[^\w\s]", re.UNICODE)
#: The same pattern as a capturing split: [gap, token, gap, ..., token, gap] in one regex pass.
#: (Possessive: the same tokens, with less backtracking; the split runs about 10 % faster.)
_TOKEN_SPLIT = re.compile(r"(\w++(?:['’.-]\w++)*+|[^\w\s])", re.UNICODE)
_PLAIN_SPLIT = re.compile(r"(\w+(?:['’.-]\w+)*|[^\w\s])", re.UNICODE)
_PROBE = "U.S. the. e.g. x"
if _TOKEN_SPLIT.split(_PROBE) != _PLAIN_SPLIT.split(_PROBE):
    # some CPython 3.11 releases (Debian 12's 3.11.2) repeat a possessive group wrongly and keep
    # the final "." ("U.S.", "the."): the plain pattern gives the same tokens everywhere
    _TOKEN_SPLIT = _PLAIN_SPLIT
#: Abbreviations whose following "." does not end a sentence.
_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Gov Sen Sens Rep Reps Jr Sr Gen Lt Col Sgt Prof Rev Capt Maj Adm Pres No Vol Inc Co Corp Ltd".split())


def tokenize(text: str):
    """Word and punctuation tokens of ``text``: (tokens, starts, ends).

    Every character outside a token is white space; one capturing :meth:`re.Pattern.split`
    gives the tokens and the gaps between them, and the running sum of their lengths
    gives the offsets without a Python loop over the tokens.
    """
    parts = _TOKEN_SPLIT.split(text)
    bounds = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    np.cumsum(bounds, out=bounds)
    return parts[1::2], bounds[0:-1:2], bounds[1::2]


# ---------------------------------------------------------------------------------------------
# rules


@dataclass(frozen=True)
class Rule:
    """One named cue rule (see ``label_config/cues.toml``).

    A pattern rule runs its regular expression (only on texts containing one of its
    ``triggers``, when it has any; with a ``window``, only around them); a lexicon rule
    matches lexicon entries token by token (whole words, any case).
    """

    name: str
    label: str
    regex: re.Pattern | None = None
    lexicon: dict | None = None  # first lower-case token -> tuple of entries (token tuples)
    triggers: tuple = ()
    window: tuple = ()  # (chars before, chars after) a trigger: the pattern only runs there
    description: str = ""
    source: str = ""

    def find(self, text: str):
        """(start, end) of every match in ``text``; the ``span`` group when the pattern has one."""
        for _label, s, e, _score in _matcher((self,)).apply_text(text):
            yield s, e

    def search(self, text: str, regions):
        """Pattern matches inside the (start, end) character regions of ``text``, line by line: a
        match never runs from one line or paragraph into the next."""
        grouped = "span" in self.regex.groupindex
        for a, b in regions:
            while a < b:
                nl = text.find("\n", a, b)
                stop = b if nl < 0 else nl
                if stop > a:
                    for m in self.regex.finditer(text, a, stop):
                        s, e = m.span("span") if grouped else m.span()
                        if e > s:
                            yield s, e
                a = stop + 1


class RuleMatcher:
    """Rules applied to tokenised texts, several at a time.

    Whether a token can start a lexicon entry, or contains one of a pattern rule's
    triggers (the first word of a multi-word trigger), is precomputed for every entry of
    a vocabulary (the cue tagger's) and cached for other tokens, so finding where the
    rules may match is a few array gathers; only those places are then checked, in Python
    (lexicon entries) or by the rule's regular expression (in a window around each trigger).

    Parameters
    ----------
    rules : sequence of Rule
    vocabulary : sequence of str
        Token strings with precomputed flags; token ids index into it, and
        ``len(vocabulary) + 1`` stands for "not in the vocabulary".
    """

    def __init__(self, rules, vocabulary=()):
        self.rules = tuple(rules)
        prec = rule_precision()
        self.scores = [float(prec.get(r.name, 0.5)) for r in self.rules]
        # each trigger is looked for by its longest word; a window around that word's token must
        # cover the whole trigger, so it reaches `before` more characters back and `after` more on
        self._before, self._after, keys = [], [], []
        for r in self.rules:
            before = after = 0
            words = []
            for t in r.triggers:
                parts = [(m.start(), m.group()) for m in re.finditer(r"\S+", t)]
                if not parts:
                    continue
                at, word = max(parts, key=lambda p: len(p[1]))
                before, after = max(before, at), max(after, len(t) - at - len(word))
                words.append(word)
            self._before.append(before)
            self._after.append(after)
            keys.append(tuple(dict.fromkeys(words)))
        self._keys = keys
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

    def apply_text(self, text: str, rule_names=False):
        """Spans of the rules in one text: ``[(label, start, end, score), ...]``."""
        toks, starts, ends = tokenize(text)
        ids = np.full(len(toks), self.unknown_id, dtype=np.int64)
        return self.apply([text], toks, starts, ends, np.array([0, len(toks)]), ids, rule_names)[0]

    def apply(self, texts, tokens, starts, ends, offsets, ids, rule_names=False):
        """Spans of the rules in tokenised texts.

        ``tokens``, ``starts``, ``ends`` and ``ids`` are flat over the texts (offsets within
        each text), ``offsets`` the first token of each text (plus the total). Returns one
        list per text of ``(label, start, end, score)`` tuples (plus the rule name with
        ``rule_names``).
        """
        out = [[] for _ in texts]
        if not len(tokens) or not self.rules:
            return out
        flags = self.token_flags(tokens, ids)
        for j, rule in enumerate(self.rules):
            tag = (rule.label,)
            score = (self.scores[j], rule.name) if rule_names else (self.scores[j],)
            if rule.lexicon is None and not rule.triggers:
                for a, text in enumerate(texts):
                    out[a].extend(tag + se + score for se in rule.search(text, [(0, len(text))]))
                continue
            hits = np.flatnonzero(flags[j])
            if not len(hits):
                continue
            arts = (np.searchsorted(offsets, hits, side="right") - 1).tolist()
            if rule.lexicon is not None:
                done = -1
                for g, a in zip(hits.tolist(), arts):
                    if g <= done:
                        continue
                    stop = offsets[a + 1]
                    for entry in rule.lexicon[tokens[g].lower()]:  # longest first
                        k = g + len(entry)
                        if k <= stop and (len(entry) == 1 or tuple(t.lower() for t in tokens[g:k]) == entry):
                            out[a].append(tag + (int(starts[g]), int(ends[k - 1])) + score)
                            done = k - 1
                            break
                continue
            if not rule.window:
                for a in dict.fromkeys(arts):
                    out[a].extend(tag + se + score for se in rule.search(texts[a], [(0, len(texts[a]))]))
                continue
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
                    self._search(rule, texts[cur], regions, out[cur], tag, score)
                    regions = []
                cur = a
                regions.append([s, e])
            self._search(rule, texts[cur], regions, out[cur], tag, score)
        return out

    @staticmethod
    def _search(rule, text, regions, out, tag, score):
        n = len(text)
        out.extend(tag + se + score for se in rule.search(text, [(s, min(e, n)) for s, e in regions]))


def _read_lexicon(path: Path) -> dict:
    index: dict = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entry = tuple(t.lower() for t in _TOKEN.findall(line))
            index.setdefault(entry[0], []).append(entry)
    return {k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in index.items()}


@lru_cache(maxsize=4)
def _load_rules_cached(path: str, mtime: float) -> tuple:
    try:
        spec = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AnnotatorError(f"{path}: cannot read cue rules: {exc}") from None
    tax = load_taxonomy()
    rules, seen = [], set()
    for i, r in enumerate(spec.get("rule", []), 1):
        name = r.get("name") or f"rule{i}"
        if name in seen:
            raise AnnotatorError(f"{path}: rule {name!r} defined twice")
        seen.add(name)
        tax.check_label(r.get("label", ""))
        common = dict(name=name, label=r["label"], description=r.get("description", ""))
        if "lexicon" in r:
            source = LABEL_CONFIG_DIR / r["lexicon"]
            try:
                rules.append(Rule(lexicon=_read_lexicon(source), source=str(source), **common))
            except OSError as exc:
                raise AnnotatorError(f"{path}: rule {name!r}: cannot read lexicon {source}: {exc.strerror}") from None
            continue
        try:
            regex = re.compile(r.get("pattern", ""))
        except re.error as exc:
            raise AnnotatorError(f"{path}: rule {name!r}: bad pattern: {exc}") from None
        triggers = tuple(t.lower() for t in r.get("triggers", ()))
        window = tuple(r.get("window", ()))
        if window and (len(window) != 2 or not triggers):
            raise AnnotatorError(f"{path}: rule {name!r}: window needs triggers and two numbers [before, after]")
        rules.append(Rule(regex=regex, triggers=triggers, window=window, source="pattern", **common))
    return tuple(rules)


def load_rules(path=None) -> tuple:
    """The cue rules, compiled, labels checked against the taxonomy."""
    p = Path(path) if path else RULES_FILE
    return _load_rules_cached(str(p), p.stat().st_mtime if p.exists() else 0.0)


@lru_cache(maxsize=1)
def rule_precision() -> dict:
    """Measured precision per rule name (``label_config/rules_measured.json``), if measured."""
    if not RULES_MEASURED.exists():
        return {}
    data = json.loads(RULES_MEASURED.read_text(encoding="utf-8"))
    return {r["rule"]: r["precision"] for r in data.get("rules", []) if r.get("precision") is not None}


def span_edge_words(path=None) -> tuple:
    """(never_first, never_last): frozensets of the lower-case words a learned span may not start
    or end with (``label_config/lexicons/span_edges.toml``)."""
    p = Path(path) if path else SPAN_EDGES
    try:
        spec = tomllib.loads(p.read_text(encoding="utf-8"))
        return tuple(frozenset(w.lower() for w in spec[key]) for key in ("never_first", "never_last"))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise AnnotatorError(f"{p}: cannot read span edge words: {exc!r}") from None


def apply_rules(text: str, rules=None) -> list:
    """Spans found by the rules in ``text`` (each with its ``rule`` name)."""
    return [{"label": lab, "start": st, "end": en, "text": text[st:en], "score": sc, "rule": name}
            for lab, st, en, sc, name in _matcher(load_rules() if rules is None else rules).apply_text(text, True)]


_MATCHERS: dict = {}


def _matcher(rules) -> RuleMatcher:
    """A vocabulary-free :class:`RuleMatcher` for a tuple of rules (kept while the tuple lives)."""
    key = id(rules)
    hit = _MATCHERS.get(key)
    if hit is None or hit[0] is not rules:
        if len(_MATCHERS) > 64:
            _MATCHERS.clear()
        hit = _MATCHERS[key] = (rules, RuleMatcher(rules))
    return hit[1]


from .spans import merge_spans, _merge  # noqa: E402,F401  (moved)


# ---------------------------------------------------------------------------------------------
# lexicon features (sentiment / subjectivity), read from installed packages' data files


def _package_file(package: str, *parts: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0], *parts)
    return p if p.exists() else None


@lru_cache(maxsize=1)
def sentiment_lexicon() -> dict:
    """Word → feature names from VADER valence and TextBlob/pattern subjectivity.

    VADER (MIT) and TextBlob's ``en-sentiment.xml`` (MIT/BSD) ship as package data.
    """
    feats: dict = {}
    vader = _package_file("vaderSentiment", "vader_lexicon.txt")
    if vader is not None:
        for line in vader.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0].isalpha():
                continue
            v = float(parts[1])
            strength = "3" if abs(v) >= 2.5 else "2" if abs(v) >= 1.5 else "1"
            feats.setdefault(parts[0].lower(), []).append(f"vader:{'neg' if v < 0 else 'pos'}{strength}")
    blob = _package_file("textblob", "en", "en-sentiment.xml")
    if blob is not None:
        subj: dict = {}
        for el in ET.parse(blob).getroot().iter("word"):
            subj.setdefault(el.get("form", "").lower(), []).append(float(el.get("subjectivity", 0)))
        for w, vals in subj.items():
            m = sum(vals) / len(vals)
            if m >= 0.5:
                feats.setdefault(w, []).append("subj:hi" if m >= 0.8 else "subj:mid")
    return feats


def _shape(tok: str) -> str:
    if tok.isalpha():
        if tok.islower():
            return "x"
        if tok.isupper():
            return "X" if len(tok) == 1 else "XX"
        return "Xx" if tok[0].isupper() else "xX"
    if tok.isdigit():
        return "d"
    if len(tok) == 1:
        return "p" + tok
    return "Xx-" if tok[0].isupper() else "x-" if tok[0].islower() else "o"


#: Feature-name prefixes used only at the token's own position (offset 0), not for its neighbours.
_CENTER_ONLY = ("c:",)


def token_features(tok: str, lexicon: dict, char_ngrams: int = 0) -> list:
    """Features of one token (independent of its neighbours).

    ``char_ngrams`` > 0 adds the token's lower-cased character n-grams of that length
    (with ``<`` and ``>`` marking its edges): unseen words share them with seen ones.
    """
    low = tok.lower()
    feats = ["w:" + low, "sh:" + _shape(tok), "suf:" + low[-3:], "pre:" + low[:4]]
    feats.extend(lexicon.get(low, ()))
    if char_ngrams and low.isalpha() and len(low) + 2 > char_ngrams:
        w = "<" + low + ">"
        feats.extend("c:" + w[k:k + char_ngrams] for k in range(len(w) - char_ngrams + 1))
    return feats


# ---------------------------------------------------------------------------------------------
# the learned tagger


def _gold_token_labels(starts, ends, spans, n_labels, label_index):
    """Token × label 0/1 matrix: token overlaps a gold span of that label."""
    y = np.zeros((len(starts), n_labels), dtype=np.int8)
    for label, s, e in spans:
        j = label_index.get(label)
        if j is None:
            continue
        lo = np.searchsorted(ends, s, side="right")
        hi = np.searchsorted(starts, e, side="left")
        y[lo:hi, j] = 1
    return y


def _gold_span_lengths(starts, ends, spans, n_labels, label_index):
    """Token × label matrix: length in tokens of the (merged) gold span of that label the token is
    in, 0 outside gold spans."""
    out = np.zeros((len(starts), n_labels), dtype=np.int32)
    by_label: dict = {}
    for label, s, e in spans:
        j = label_index.get(label)
        if j is not None and e > s:
            by_label.setdefault(j, []).append((s, e))
    for j, items in by_label.items():
        merged = []
        for s, e in sorted(items):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        for s, e in merged:
            lo = np.searchsorted(ends, s, side="right")
            hi = np.searchsorted(starts, e, side="left")
            out[lo:hi, j] = hi - lo
    return out


def _span_length_weights(lengths, power):
    """Sample weights for one label's tokens: tokens of an n-token gold span weigh ``n ** -power``,
    rescaled so that the positive tokens keep their total weight; other tokens weigh 1.

    The span score credits each gold span equally whatever its length, so the long spans
    (whole clauses, many function words) should not dominate what the classifier learns.
    """
    pos = lengths > 0
    w = np.ones(len(lengths))
    if power and pos.any():
        wp = lengths[pos].astype(float) ** -power
        w[pos] = wp * (pos.sum() / wp.sum())
    return w


def _sentence_spans(stop, brk):
    """(first, last): for each token, the first and last token of its sentence (a sentence ends
    after a sentence-final stop, or before a line break or a text start)."""
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
    return first, last


def _bag_bounds(first, last, near, far):
    """Per token, the half-open token ranges of its right bag (``near``..``far`` tokens after it)
    and left bag (as many before it), cut at its sentence (``first``/``last`` from
    :func:`_sentence_spans`): ((right_start, right_end), (left_start, left_end))."""
    t = np.arange(len(first))
    ra = np.minimum(t + near, last + 1)
    rb = np.maximum(np.minimum(t + far, last) + 1, ra)
    la = np.maximum(t - far, first)
    lb = np.maximum(t - near + 1, la)
    return (ra, rb), (la, lb)


def _window_sum(values, first, last, near, far, side=0):
    """Sum of ``values`` rows (n × k) over the tokens ``near``..``far`` after (side 0) or before
    (side 1) each token, not beyond its sentence (``first``/``last`` from :func:`_sentence_spans`)."""
    c = np.zeros((len(values) + 1,) + values.shape[1:])
    np.cumsum(values, axis=0, out=c[1:])
    a, b = _bag_bounds(first, last, near, far)[side]
    return c[b] - c[a]


#: Token positions described by word identity for the span filter: two before the span, its first
#: and last token, two after it.
_FILTER_SLOTS = 6


def _span_candidates(P, seg, first, last, ids, pad_id, high, low):
    """Candidate spans of a group of labels and their span-filter features.

    ``P``: token × label probabilities of the group; candidates are the hysteresis runs
    (:func:`_runs`) of their maximum. Returns (a, b, dense, slots, best): token ranges, dense
    features (n_candidates × (10 + n_labels)), vocabulary ids at the :data:`_FILTER_SLOTS`
    positions (``pad_id`` outside the sentence) and the group label with the highest
    probability in each span.
    """
    p = P.max(axis=1)
    a, b, mean = _runs(p, high, low, seg)
    k = len(a)
    nd = 10 + P.shape[1]
    if not k:
        return a, b, np.zeros((0, nd)), np.zeros((0, _FILTER_SLOTS), np.int64), a
    at = np.column_stack([a, b]).ravel()
    padded = np.empty((len(p) + 1, P.shape[1]), dtype=P.dtype)
    padded[:-1] = P
    padded[-1] = 0
    per_label = np.maximum.reduceat(padded, at, axis=0)[::2]
    m = per_label.max(axis=1)
    # the best other candidate of the same sentence (candidates are sorted, so sentences are contiguous)
    sid = first[a]
    new = np.ones(k, dtype=bool)
    new[1:] = sid[1:] != sid[:-1]
    gs = np.flatnonzero(new)
    grp = np.cumsum(new) - 1
    gmax = np.maximum.reduceat(m, gs)[grp]
    top = m >= gmax
    ntop = np.add.reduceat(top.astype(np.int64), gs)[grp]
    gsec = np.maximum.reduceat(np.where(top, -1.0, m), gs)[grp]
    other = np.where(top, np.where(ntop > 1, gmax, np.maximum(gsec, 0.0)), gmax)
    size = np.diff(np.append(gs, k))[grp]
    fa, la = first[a], last[a]
    dense = np.column_stack([m, mean, np.log(b - a), other, m - other, size - 1,
                             (a - fa) / (la - fa + 1), a == fa, np.log1p(la - b + 1), m >= 0.5, per_label])
    pos = np.column_stack([a - 2, a - 1, a, b - 1, b, b + 1])
    inside = (pos >= fa[:, None]) & (pos <= la[:, None])
    slots = np.where(inside, ids[np.clip(pos, 0, len(p) - 1)], pad_id)
    return a, b, dense, slots, per_label.argmax(axis=1)


class CueTagger(BaseEstimator, TransformerMixin):
    """Span tagger: one windowed linear token classifier per taxonomy label.

    Parameters
    ----------
    labels : sequence of str or None
        Labels to learn; None means every span label of the taxonomy.
    window : int
        Tokens on each side whose features describe a token.
    min_count : int
        Vocabulary entries (exact token strings) seen fewer times are treated as unknown.
    alpha : float
        L2 regularisation of the logistic regressions (fitted by averaged SGD).
    epochs : int
        Passes over the training tokens.
    class_weight : dict, 'balanced' or None
        Passed to each classifier.
    use_rules : bool
        Add the data-driven rules' spans (``label_config/cues.toml``) to the predictions.
    tune_fraction : float
        Share of training articles held out to tune each label's decision threshold
        (span F1 with partial-overlap credit); 0 keeps ``threshold``. Used when
        ``tune_folds`` < 2.
    span_length_power : float
        Tokens of an n-token gold span weigh ``n ** -span_length_power`` in training (rescaled
        so the positive tokens keep their total weight): the span score credits every gold span
        equally, however long. 0 weighs every token alike.
    tune_folds : int
        When ≥ 2, tune the thresholds by cross-fitting instead: every training article is
        scored by a model fitted without its part (``tune_folds`` extra fits), and the
        thresholds are tuned on all of them (``tune_fraction`` > 0 only switches tuning on).
    threshold : float
        Default decision threshold on the token probability.
    random_state : int
        Seed for the tuning split.
    char_ngrams : int
        Length of the character n-grams describing each token itself (0: none). Neighbours in
        the window are described by their word-level features only.
    solver : str
        ``"liblinear"`` (or another :class:`~sklearn.linear_model.LogisticRegression` solver):
        the L2 logistic regression solved to convergence with ``C = 1 / (alpha * n_tokens)``;
        ``"sgd"``: averaged SGD for ``epochs`` passes (faster, less accurate).
    context : (int, int) or None
        ``(near, far)``: besides its window, a token is described by the words ``near`` to ``far``
        tokens away on either side within its sentence (two bags of words, one per side), e.g.
        the reporting verb a few tokens after a source ("Sen. John McCain, R-Ariz., said").
        At prediction each side is one table gather and a running sum. None: no context bags.
    context_words : int
        Per label and side, the vocabulary entries whose presence at that distance is most
        associated (chi-square) with the label's tokens; the union of them is used in the bags.
    context_labels : sequence of str or None
        Labels whose classifiers use the context bags. None: the source labels (PolNeAR's
        ``source_label`` and ``anonymous_label`` in ``label_config/corpora.toml``), which are
        told apart from other mentions by a reporting verb further away; loaded terms lose
        precision with them (PTC 5-fold span F1 0.354 -> 0.338).
    span_filter : (float, float) or None
        ``(high, low)``: the spans of the ``context_labels`` are decoded together, as candidate
        runs of their highest probability at these hysteresis thresholds, and each candidate is
        kept or dropped by a span-level logistic regression (its probabilities, the best other
        candidate of its sentence, its length and position, the words at its edges), fitted on
        the tuning articles' held-out scores; its label is the group's most probable one. None
        (or no tuning split): each label decoded on its own.

    Attributes
    ----------
    labels_ : list of str
    vocabulary_ : str
        Vocabulary entries (exact token strings), one per line; line i is row i of ``tables_``.
    tables_ : ndarray of shape (n_labels, 2 * window + 1, n_vocab + 2)
        Folded per-offset score contributions of each vocabulary entry (last two rows:
        padding and unknown token).
    feature_names_ : str
        Names of the features kept for unknown tokens, one per line.
    feature_weights_ : ndarray of shape (n_features, n_labels, 2 * window + 1)
        Their weights (features of tokens not in the vocabulary are summed at prediction).
    lexicon_ : str
        The sentiment/subjectivity lexicon used at fit time (``word<TAB>features`` lines).
    edge_words_ : str
        Two lines: the words a decoded span may not start with, and those it may not end with
        (:func:`span_edge_words` at fit time; space-separated).
    intercepts_ : ndarray of shape (n_labels,)
    context_tables_ : ndarray of shape (n_labels, 2, n_vocab + 2) or None
        Weights of the vocabulary entries in the right (0) and left (1) context bags.
    filter_labels_ : ndarray of int or None
        Rows of ``labels_`` decoded by the span filter (None: no span filter).
    filter_coef_, filter_intercept_, filter_threshold_ : ndarray, float, float
        The span filter's weights of the dense features, intercept and decision threshold.
    filter_words_ : ndarray of shape (6, n_vocab + 2)
        Its weights of the vocabulary entries at each word slot around a candidate.
    filter_heads_ : str
        When the span filter decodes PolNeAR's named and anonymous sources: the importer's
        anonymous-head pattern (``label_config/corpora.toml``), which labels the kept spans
        (``filter_head_labels_``: the named and the anonymous label's rows); else empty.
        ``filter_head_words_``: a pattern of the lexicon's words, which a span must contain
        (any case, as part of a token) before the full pattern is tried on it.
    fit_report_ : dict
        Per label: tuned thresholds, the held-out span F1, and ``pr_curve`` (``[threshold,
        precision, recall]`` rows on the held-out articles, partial-overlap credit).
    thresholds_, low_thresholds_ : ndarray of shape (n_labels,)
        Hysteresis decoding: runs of tokens above the low threshold that reach the
        high one become spans.
    model_version : str
    """

    def __init__(self, labels=None, window=2, min_count=2, alpha=1e-5, epochs=8, class_weight=None,
                 use_rules=True, tune_fraction=0.2, threshold=0.5, random_state=0, char_ngrams=4,
                 solver="sgd", tune_folds=0, span_length_power=0.5, context=(3, 8), context_words=300,
                 context_labels=None, span_filter=(0.2, 0.07)):
        self.labels = labels
        self.span_filter = span_filter
        self.context_labels = context_labels
        self.context = context
        self.context_words = context_words
        self.window = window
        self.char_ngrams = char_ngrams
        self.solver = solver
        self.tune_folds = tune_folds
        self.span_length_power = span_length_power
        self.min_count = min_count
        self.alpha = alpha
        self.epochs = epochs
        self.class_weight = class_weight
        self.use_rules = use_rules
        self.tune_fraction = tune_fraction
        self.threshold = threshold
        self.random_state = random_state

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y, annotated=None):
        """Learn from article texts and their gold spans.

        Parameters
        ----------
        X : sequence of str
            Article texts.
        y : sequence of sequences of (label, start, end)
            Gold spans per article.
        annotated : sequence of collections of str, optional
            Labels each article is annotated for; an article is a training example
            for label L only if L is in its set. None: every article, every label.
        """
        texts = list(X)
        y = list(y)
        if len(texts) != len(y):
            raise ValueError("X and y have different lengths")
        if not texts:
            raise AnnotatorError("cannot train the cue tagger on an empty dataset")
        labels = list(self.labels) if self.labels is not None else list(load_taxonomy().label_ids)
        annotated = [set(labels)] * len(texts) if annotated is None else [set(a) for a in annotated]
        rng = np.random.RandomState(self.random_state)
        # tuning parts: each is held out once, the thresholds are tuned on the out-of-part scores
        part = np.full(len(texts), -1)
        if self.tune_fraction and len(texts) >= 10:
            order = rng.permutation(len(texts))
            if self.tune_folds >= 2:
                part[order] = np.arange(len(texts)) % self.tune_folds
            else:
                part[order[: max(1, int(len(texts) * self.tune_fraction))]] = 0

        self._lex = {w: list(f) for w, f in sentiment_lexicon().items()}
        self.lexicon_ = "\n".join(f"{w}\t{' '.join(f)}" for w, f in sorted(self._lex.items()))
        self.labels_ = labels
        edges = span_edge_words()
        self.edge_words_ = "\n".join(" ".join(sorted(words)) for words in edges)
        label_index = {lab: j for j, lab in enumerate(labels)}
        toks_all, starts_all, ends_all, yy = [], [], [], []
        for text, spans in zip(texts, y):
            toks, starts, ends = tokenize(text)
            toks_all.append(toks)
            starts_all.append(starts)
            ends_all.append(ends)
            yy.append(_gold_span_lengths(starts, ends, spans, len(labels), label_index))

        self._build_vocab(toks_all)
        segs_all = [_segments(text, toks, st, en, edges) for text, toks, st, en in zip(texts, toks_all, starts_all, ends_all)]
        L = len(labels)
        docs_j = [[i for i in range(len(texts)) if lab in annotated[i]] for lab in labels]
        skipped = {}
        for j, lab in enumerate(labels):
            if docs_j[j]:
                yj = np.concatenate([yy[i][:, j] for i in docs_j[j]]) > 0
                if yj.min() == yj.max():  # no span of this label (or nothing but): it cannot be learned
                    skipped[lab] = "only one class in the training data: never predicted"
                    docs_j[j] = []
        self._window_cols = (2 * self.window + 1) * len(self.feature_index_)
        context_labels = self.context_labels
        if context_labels is None:
            from .corpora import corpus_mapping

            cfg = corpus_mapping().get("polnear", {})
            context_labels = {cfg.get("source_label"), cfg.get("anonymous_label")}
        self._context_j = {j for j, lab in enumerate(labels) if self.context and lab in context_labels}
        if self._context_j:
            ids_all = [np.array([self._vocab.get(t, -1) for t in toks], dtype=np.int64) for toks in toks_all]
            bounds_all = [_sentence_spans(sg[1], sg[2]) for sg in segs_all]
            self._select_context(ids_all, bounds_all, yy, docs_j)
            Xdoc = [self._design(toks, self._context_design(ids, bd)) for toks, ids, bd in zip(toks_all, ids_all, bounds_all)]
        else:
            Xdoc = [self._design(toks) for toks in toks_all]
        if len(skipped) == L:
            raise AnnotatorError("training data has only one class for every label (no spans, or every token): "
                                 "nothing to learn")
        self.thresholds_ = np.full(L, float(self.threshold))
        self.low_thresholds_ = self.thresholds_.copy()
        self.fit_report_ = {}
        if (part >= 0).any():
            # fit without each part, score it; tune each label's hysteresis thresholds on those scores
            held = [None] * len(texts)
            for k in range(part.max() + 1):
                coefs, icpt = self._fit_pass1(Xdoc, yy, [[i for i in d if part[i] != k] for d in docs_j])
                for i in np.flatnonzero(part == k):
                    held[i] = _sigmoid(np.asarray(Xdoc[i] @ coefs.T) + icpt)
            for j, lab in enumerate(labels):
                td = [i for i in docs_j[j] if part[i] >= 0]
                if not td:
                    continue
                probs = [held[i][:, j] for i in td]
                gold = [[(s, e) for (l_, s, e) in y[i] if l_ == lab] for i in td]
                high, low, f1, curve = _tune_threshold(
                    probs, gold, [starts_all[i] for i in td], [ends_all[i] for i in td],
                    [segs_all[i] for i in td])
                self.thresholds_[j], self.low_thresholds_[j] = high, low
                self.fit_report_[lab] = {"threshold": high, "low_threshold": low, "tune_f1": round(f1, 4),
                                         "train_articles": len(docs_j[j]), "tune_articles": len(td),
                                         "pr_curve": curve}
        self.filter_labels_ = None
        if self.span_filter and self._context_j and (part >= 0).any():
            js = sorted(j for j in self._context_j if docs_j[j])
            td = sorted({i for j in js for i in docs_j[j] if part[i] >= 0})
            if js and td:
                self._fit_span_filter(js, td, held, segs_all, bounds_all, ids_all, starts_all, ends_all, y)
        coefs, self.intercepts_ = self._fit_pass1(Xdoc, yy, docs_j)
        self.fit_report_.update(skipped)
        self._fold(coefs)
        del self.feature_index_, self._context_j, self._window_cols
        return self

    def _fit_span_filter(self, js, td, held, segs_all, bounds_all, ids_all, starts_all, ends_all, y):
        """Fit the span filter on the candidates of the tuning articles (held-out token scores)."""
        from .evaluation import span_prf

        high, low = self.span_filter
        V = len(self._vocab)
        labs = {self.labels_[j] for j in js}
        rows = []
        for i in td:
            ids = np.where(ids_all[i] < 0, V + 1, ids_all[i])
            a, b, dense, slots, _ = _span_candidates(held[i][:, js], segs_all[i], *bounds_all[i], ids, V, high, low)
            s0, s1 = starts_all[i][a], ends_all[i][b - 1]
            gold = [(s, e) for l_, s, e in y[i] if l_ in labs]
            cov = np.zeros(len(a))
            for gs_, ge_ in gold:
                cov += np.maximum(0, np.minimum(s1, ge_) - np.maximum(s0, gs_))
            rows.append((dense, slots, cov / np.maximum(s1 - s0, 1) > 0.5, s0, s1, gold))
        dense = np.vstack([r[0] for r in rows])
        slots = np.vstack([r[1] for r in rows])
        target = np.concatenate([r[2] for r in rows])
        doc = np.repeat(np.arange(len(rows)), [len(r[0]) for r in rows])
        if len(target) < 10 or target.min() == target.max():
            return
        mu, sd = dense.mean(axis=0), dense.std(axis=0) + 1e-6
        nw = V + 2
        onehot = sp.csr_matrix((np.ones(slots.size), (np.repeat(np.arange(len(slots)), _FILTER_SLOTS),
                                                      (slots + nw * np.arange(_FILTER_SLOTS)).ravel())),
                               shape=(len(slots), _FILTER_SLOTS * nw))
        X = sp.hstack([sp.csr_matrix((dense - mu) / sd), onehot], format="csr")

        def lr():
            return LogisticRegression(C=0.3, solver="liblinear", random_state=self.random_state)

        # the decision threshold: span F1 of two-fold cross-fitted filter scores (by article)
        half = doc % 2
        score = np.zeros(len(target))
        for h in (0, 1):
            if target[half != h].min() != target[half != h].max():
                score[half == h] = lr().fit(X[half != h], target[half != h]).predict_proba(X[half == h])[:, 1]
        best = (-1.0, 0.5)
        gold = [r[5] for r in rows]
        for t in (0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            keep = score >= t
            pred = [list(zip(r[3][keep[doc == d]].tolist(), r[4][keep[doc == d]].tolist())) for d, r in enumerate(rows)]
            f1 = span_prf(gold, pred)["f1"]
            if f1 > best[0]:
                best = (f1, t)
        clf = lr().fit(X, target)
        w = clf.coef_[0]
        self.filter_labels_ = np.array(js, dtype=np.int64)
        self.filter_coef_ = w[:dense.shape[1]] / sd
        self.filter_intercept_ = float(clf.intercept_[0] - np.sum(w[:dense.shape[1]] * mu / sd))
        self.filter_words_ = w[dense.shape[1]:].reshape(_FILTER_SLOTS, nw).astype(np.float32)
        self.filter_threshold_ = float(best[1])
        # sources decoded together are told named from anonymous as the PolNeAR importer tells gold
        # ones apart (the anonymous-head lexicon), not by the two classifiers
        from .corpora import _lexicon_regex, corpus_mapping, read_lexicon

        cfg = corpus_mapping().get("polnear", {})
        pair = [cfg.get("source_label"), cfg.get("anonymous_label")]
        self.filter_heads_ = ""
        if set(pair) == {self.labels_[j] for j in js} and cfg.get("anonymous_lexicon"):
            self.filter_heads_ = _lexicon_regex(cfg["anonymous_lexicon"]).pattern
            words = sorted({w for entry in read_lexicon(cfg["anonymous_lexicon"]) for w in re.findall(r"\w+", entry)})
            self.filter_head_words_ = "|".join(map(re.escape, words))
            self.filter_head_labels_ = np.array([self.labels_.index(x) for x in pair], dtype=np.int64)
        self.fit_report_["span_filter"] = {"labels": [self.labels_[j] for j in js], "candidates": int(len(target)),
                                           "threshold": best[1], "tune_f1": round(best[0], 4)}

    def _select_context(self, ids_all, bounds_all, yy, docs_j):
        """Choose the context-bag words: per label and side, the ``context_words`` vocabulary entries
        whose occurrence ``near``..``far`` tokens from a token of the label (same sentence) deviates
        most from chance (chi-square); sets ``_context_cols`` (vocabulary row -> bag column)."""
        near, far = self.context
        V = len(self._vocab)
        chosen = set()
        for j, docs in enumerate(docs_j):
            if not docs or j not in self._context_j:
                continue
            ids = np.concatenate([ids_all[i] for i in docs])
            pos = np.concatenate([yy[i][:, j] > 0 for i in docs]).astype(np.float64)
            first = np.concatenate([bounds_all[i][0] for i in docs])
            last = np.concatenate([bounds_all[i][1] for i in docs])
            # offsets of the concatenation: windows stay inside sentences, hence inside articles
            shift = np.repeat(np.cumsum([0] + [len(ids_all[i]) for i in docs[:-1]]), [len(ids_all[i]) for i in docs])
            first, last = first + shift, last + shift
            known = ids >= 0
            n_w = np.bincount(ids[known], minlength=V).astype(np.float64)
            for side in (0, 1):
                # side 0 (right bag of a token t): word u has a label token at u - far .. u - near
                hit = _window_sum(pos[:, None], first, last, near, far, side=1 - side)[:, 0] > 0
                s_w = np.bincount(ids[known], weights=hit[known], minlength=V)
                p = s_w.sum() / max(n_w.sum(), 1.0)
                if not 0 < p < 1:
                    continue
                score = (s_w - n_w * p) ** 2 / (n_w * p * (1 - p) + 1e-9)
                score[n_w < 5] = 0
                top = np.argsort(-score)[: self.context_words]
                chosen.update(top[score[top] > 0].tolist())
        cols = np.full(V + 2, -1, dtype=np.int64)
        keep = np.array(sorted(chosen), dtype=np.int64)
        cols[keep] = np.arange(len(keep))
        self._context_cols = cols

    def _context_design(self, ids, bounds):
        """Sparse token × (2 · n_context_words) counts of the context-bag words on each side."""
        near, far = self.context
        cols = self._context_cols
        M = int(cols.max()) + 1
        first, last = bounds
        n = len(ids)
        t = np.arange(n)
        rows, cc = [], []
        for side, sign, lim in ((0, 1, last), (1, -1, first)):
            for d in range(near, far + 1):
                u = t + sign * d
                ok = (u <= lim) if sign > 0 else (u >= lim)
                c = np.where(ok, cols[np.where(ok, ids[np.clip(u, 0, max(n - 1, 0))], -1)], -1) if n else u
                ok = c >= 0
                rows.append(t[ok])
                cc.append(c[ok] + side * M)
        rows, cc = (np.concatenate(rows), np.concatenate(cc)) if rows else (np.zeros(0, int), np.zeros(0, int))
        return sp.csr_matrix((np.ones(len(rows)), (rows, cc)), shape=(n, 2 * M))

    def _fit_pass1(self, Xdoc, yy, docs_j):
        """One windowed linear classifier per label on its documents: (coefs, intercepts)."""
        L = len(docs_j)
        coefs = np.zeros((L, Xdoc[0].shape[1]))
        icpt = np.full(L, -10.0)  # a label with no training documents never fires
        for j, docs in enumerate(docs_j):
            if docs:
                # labels without context bags: only the window columns
                ncols = Xdoc[0].shape[1] if j in self._context_j else self._window_cols
                clf = self._fit_one([Xdoc[i] for i in docs], [yy[i][:, j] for i in docs], ncols)  # span lengths
                coefs[j, :ncols], icpt[j] = clf.coef_[0], clf.intercept_[0]
        return coefs, icpt

    def _fit_one(self, Xs, lengths, ncols=None):
        X, lengths = sp.vstack(Xs, format="csr"), np.concatenate(lengths)
        if ncols is not None and ncols < X.shape[1]:
            X = X[:, :ncols]
        y = (lengths > 0).astype(np.int8)
        w = _span_length_weights(lengths, self.span_length_power)
        if self.solver == "sgd":
            clf = SGDClassifier(loss="log_loss", alpha=self.alpha, max_iter=self.epochs, tol=None, average=True,
                                class_weight=self.class_weight, random_state=self.random_state)
        else:  # the same L2 objective solved exactly: C = 1 / (alpha * n_samples)
            clf = LogisticRegression(C=1.0 / (self.alpha * X.shape[0]), solver=self.solver, max_iter=300,
                                     class_weight=self.class_weight, random_state=self.random_state)
        return clf.fit(X, y, sample_weight=w)

    def _build_vocab(self, toks_all):
        counts: dict = {}
        for toks in toks_all:
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        words = sorted(t for t, c in counts.items() if c >= self.min_count)
        self._vocab = {t: i for i, t in enumerate(words)}
        self.vocabulary_ = "\n".join(words)
        feature_index: dict = {}
        rows, cols = [], []
        for i, t in enumerate(words):
            for f in token_features(t, self._lex, self.char_ngrams):
                rows.append(i)
                cols.append(feature_index.setdefault(f, len(feature_index)))
        pad, unk = len(words), len(words) + 1
        rows += [pad, unk]
        cols += [feature_index.setdefault("<pad>", len(feature_index)), feature_index.setdefault("<unk>", len(feature_index))]
        self.feature_index_ = feature_index
        self._vocab_features = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words) + 2, len(feature_index)))
        # neighbours (offsets other than 0) are described by their word-level features only;
        # the character n-grams describe the token itself (on neighbours they overfit)
        nb = np.array([not f.startswith(_CENTER_ONLY) for f in feature_index], dtype=float)
        self._neighbour_mask = sp.diags(nb, format="csr")

    def _design(self, toks, extra_block=None):
        """Sparse token × (offset, feature) design matrix for one article (``extra_block``: more
        columns to append, e.g. the context bags)."""
        ids = np.array([self._vocab.get(t, -1) for t in toks], dtype=np.int64)
        unknown = ids < 0
        n, nfeat, w = len(toks), len(self.feature_index_), self.window
        V = self._vocab_features
        if unknown.any():
            # unknown tokens: their own (non-word) features, not the vocabulary row
            rows, cols = [], []
            for r, t in enumerate(toks):
                if unknown[r]:
                    for f in token_features(t, self._lex, self.char_ngrams):
                        c = self.feature_index_.get(f)
                        if c is not None:
                            rows.append(r)
                            cols.append(c)
            extra = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, nfeat))
        else:
            extra = None
        F = V[np.where(unknown, len(self._vocab) + 1, ids)]
        if extra is not None:
            F = F + extra
        pad = V[[len(self._vocab)] * w] if w else None
        padded = sp.vstack([pad, F, pad], format="csr") if w else F
        blocks = [padded[k:k + n] if k == w else padded[k:k + n] @ self._neighbour_mask for k in range(2 * w + 1)]
        if extra_block is not None:
            blocks.append(extra_block)
        return sp.hstack(blocks, format="csr")

    def _fold(self, coefs):
        """Fold feature weights into per-vocabulary-entry tables for fast prediction."""
        K, L = 2 * self.window + 1, len(self.labels_)
        nfeat = len(self.feature_index_)
        self.context_tables_ = None
        if self._context_j:
            cols = self._context_cols
            M = int(cols.max()) + 1
            bags = coefs[:, K * nfeat:].reshape(L, 2, M)
            self.context_tables_ = np.zeros((L, 2, len(cols)), dtype=np.float32)
            sel = np.flatnonzero(cols >= 0)
            self.context_tables_[:, :, sel] = bags[:, :, cols[sel]]
            coefs = coefs[:, :K * nfeat]
            del self._context_cols
        W = coefs.reshape(L, K, nfeat)
        V = self._vocab_features
        self.tables_ = np.stack([np.asarray((V @ W[j].T)).T for j in range(L)]).astype(np.float32)
        names = [None] * nfeat
        for f, c in self.feature_index_.items():
            names[c] = f
        keep = np.abs(W).max(axis=(0, 1)) > 1e-3
        kept = np.flatnonzero(keep)
        self.feature_names_ = "\n".join(names[c] for c in kept)
        self.feature_weights_ = np.ascontiguousarray(W[:, :, kept].transpose(2, 0, 1), dtype=np.float32)
        self._fw = {names[c]: i for i, c in enumerate(kept)}
        for cache in self._CACHES:
            self.__dict__.pop(cache, None)
        self.model_version = f"cue-tagger-{_fingerprint(self.tables_)}"

    # -- prediction ---------------------------------------------------------------------------
    _CACHES = ("_vocab", "_lex", "_fw", "_vocab_features", "_neighbour_mask", "_lookup_cache")

    def __getstate__(self):
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k not in self._CACHES}

    def _lookups(self) -> dict:
        """Lookups rebuilt from the stored strings and arrays (not saved in model files)."""
        cache = self.__dict__.get("_lookup_cache")
        if cache is None:
            words = self.vocabulary_.split("\n") if self.vocabulary_ else []
            lex = {}
            for line in self.lexicon_.split("\n"):
                if line:
                    w, _, f = line.partition("\t")
                    lex[w] = f.split()
            names = self.feature_names_.split("\n") if self.feature_names_ else []
            abbreviation = np.zeros(self.tables_.shape[2], dtype=bool)
            abbreviation[[i for i, w in enumerate(words) if w in _ABBREVIATIONS]] = True
            edges = None  # per vocabulary row: may not start a span, may not end one
            if getattr(self, "edge_words_", ""):
                lower = [w.lower() for w in words]
                edges = np.zeros((2, self.tables_.shape[2]), dtype=bool)
                for k, line in enumerate(self.edge_words_.split("\n")):
                    edges[k, :len(words)] = np.isin(lower, line.split())
            cache = {"vocab": {t: i for i, t in enumerate(words)}, "lex": lex,
                     "fw": {n: i for i, n in enumerate(names)},
                     # per window offset, one element per vocabulary row holding its labels' scores
                     # (a gather of whole rows as opaque elements is several times faster)
                     "tables": [np.ascontiguousarray(t, dtype=np.float32).view(np.dtype((np.void, 4 * t.shape[1]))).ravel()
                                for t in self.tables_.transpose(1, 2, 0)],
                     "abbreviation": abbreviation, "edges": edges, "unknown": {}, "rules": {},
                     "context": None if getattr(self, "context_tables_", None) is None else
                     self._context_lookup()}
            self.__dict__["_lookup_cache"] = cache
        return cache

    def _head_lookups(self):
        """The anonymous-head pattern, and per vocabulary row whether the entry contains one of its
        words (unknown tokens: True, they are checked on the text)."""
        lookup = self._lookups()
        if "heads" not in lookup:
            words = re.compile(self.filter_head_words_, re.I)
            vocab = self.vocabulary_.split("\n") if self.vocabulary_ else []
            flags = np.ones(len(vocab) + 2, dtype=bool)
            flags[:len(vocab)] = np.fromiter((words.search(w) is not None for w in vocab), bool, len(vocab))
            flags[len(vocab)] = False
            lookup["heads"] = (re.compile(self.filter_heads_, re.I), flags)
        return lookup["heads"]

    def _context_lookup(self):
        """(labels with context bags, (2 * their number, n_vocab + 2) table: right-bag weights, then left)."""
        ctx = self.context_tables_
        js = np.flatnonzero(np.abs(ctx).max(axis=(1, 2)) > 0)
        return js, np.ascontiguousarray(ctx[js].transpose(1, 0, 2).reshape(-1, ctx.shape[2]), dtype=np.float32)

    def warm(self):
        """Build the prediction lookups now (e.g. before forking workers that share them)."""
        check_is_fitted(self, "tables_")
        self._lookups()
        if self.use_rules:
            self._rule_matcher()
        if getattr(self, "filter_heads_", ""):
            self._head_lookups()
        return self

    def _rule_matcher(self):
        rules = load_rules()
        cache = self._lookups()["rules"]
        hit = cache.get(id(rules))
        if hit is None or hit[0] is not rules:
            cache.clear()
            words = self.vocabulary_.split("\n") if self.vocabulary_ else []
            hit = cache[id(rules)] = (rules, RuleMatcher(rules, words))
        return hit[1]

    def _unknown_deltas(self, toks) -> np.ndarray:
        """Score change (tokens × labels × offsets) of out-of-vocabulary tokens over the generic
        unknown row: the weights of their own features (cached per token string)."""
        lookup = self._lookups()
        cache = lookup["unknown"]
        if len(cache) > 100_000:
            cache.clear()
        new = [t for t in dict.fromkeys(toks) if t not in cache]
        if new:
            fw, lex = lookup["fw"], lookup["lex"]
            rows, cols = [], []
            for r, tok in enumerate(new):
                for f in token_features(tok, lex, self.char_ngrams):
                    c = fw.get(f)
                    if c is not None:
                        rows.append(r)
                        cols.append(c)
            F = self.feature_weights_
            onehot = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(new), F.shape[0]))
            deltas = np.asarray(onehot @ F.reshape(F.shape[0], -1), dtype=np.float32).reshape((len(new),) + F.shape[1:])
            cache.update(zip(new, deltas))
        return np.stack([cache[t] for t in toks])

    def token_ids(self, toks):
        """Vocabulary row of each token (``n_vocab + 1`` for unknown tokens)."""
        vocab = self._lookups()["vocab"]
        return np.fromiter(map(vocab.get, toks, repeat(len(vocab) + 1)), dtype=np.int64, count=len(toks))

    def token_scores(self, toks, ids=None, offsets=None, bounds=None):
        """Probability per token and label, shape (n_tokens, n_labels).

        ``toks`` may hold several articles one after the other, ``offsets`` giving the
        first token of each (plus the total): windows do not cross articles. ``bounds``:
        the (first, last) token of each token's sentence (:func:`_sentence_spans`), for the
        context bags; by default sentences end at ``.``/``!``/``?`` tokens and text starts.
        """
        check_is_fitted(self, "tables_")
        n = len(toks)
        L, K = self.tables_.shape[:2]
        if n == 0:
            return np.zeros((0, L), np.float32)
        ids = self.token_ids(toks) if ids is None else ids
        offsets = np.array([0, n]) if offsets is None else np.asarray(offsets)
        tables = self._lookups()["tables"]
        pad = self.tables_.shape[2] - 2
        w = self.window
        # each article padded with w pad tokens on either side, in one array; scores are summed
        # over every position between the outer pads (slices, no index arithmetic), then the
        # tokens' rows taken
        art = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        pos = np.arange(n) + w * (art + 1)
        padded = np.full(n + w * len(offsets), pad, dtype=np.int64)
        padded[pos] = ids
        m = len(padded) - 2 * w
        z = np.empty((m, L), dtype=np.float32)
        z[:] = self.intercepts_.astype(np.float32)
        for k in range(K):
            z += tables[k][padded[k:k + m]].view(np.float32).reshape(m, L)
        z = z[pos - w] if m != n else z
        unknown = np.flatnonzero(ids == pad + 1)
        if len(unknown):
            delta = self._unknown_deltas([toks[r] for r in unknown.tolist()])
            token_at = np.full(len(padded), -1, dtype=np.int64)
            token_at[pos] = np.arange(n)
            for k in range(K):  # unknown token r is at offset k of token r - (k - w)
                target = token_at[pos[unknown] - (k - w)]
                ok = target >= 0
                np.add.at(z, target[ok], delta[ok, :, k])
        ctx = getattr(self, "context_tables_", None)
        if ctx is not None:
            if bounds is None:
                stop = np.fromiter((t in (".", "!", "?") for t in toks), dtype=bool, count=n)
                brk = np.zeros(n, dtype=bool)
                brk[offsets[:-1][offsets[:-1] < n]] = True
                bounds = _sentence_spans(stop, brk)
            near, far = self.context
            first, last = bounds
            js, table = self._lookups()["context"]
            m = len(js)
            sides = _bag_bounds(first, last, near, far)
            c = np.zeros(n + 1)  # running sums, one column at a time (float64: exact over long batches)
            bag = np.zeros((m, n))
            for col in range(2 * m):
                np.cumsum(table[col].take(ids), out=c[1:])
                a, b = sides[col // m]
                bag[col % m] += c.take(b)
                bag[col % m] -= c.take(a)
            z[:, js] += bag.T
        return _sigmoid(z)

    def analyze_batch(self, texts) -> "TaggedBatch":
        """One vectorised pass over several texts: tokens, vocabulary ids, token probabilities
        and spans (decoded, with rules, merged) of each; see :class:`TaggedBatch`."""
        check_is_fitted(self, "tables_")
        texts = list(texts)
        tokens, lens = [], []
        counts = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            parts = _TOKEN_SPLIT.split(text)
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
        starts = gstarts - text_start[art]
        ends = gends - text_start[art]
        ids = self.token_ids(tokens)
        lookup = self._lookups()
        edges = None if lookup["edges"] is None else (lookup["edges"][0].take(ids), lookup["edges"][1].take(ids))
        seg = _segments_flat("".join(texts), tokens, gstarts, gends, offsets, ids, lookup["abbreviation"], edges)
        bounds = _sentence_spans(seg[1], seg[2])
        probs = self.token_scores(tokens, ids, offsets, bounds)
        items = [[] for _ in texts]
        group = getattr(self, "filter_labels_", None)
        for j, lab in enumerate(self.labels_):
            if group is not None and j in group:
                continue
            a, b, score = _runs(probs[:, j], self.thresholds_[j], self.low_thresholds_[j], seg)
            for t, s, e, sc in zip(art[a].tolist(), starts[a].tolist(), ends[b - 1].tolist(), score.tolist()):
                items[t].append((lab, s, e, sc))
        if group is not None:
            high, low = self.span_filter
            a, b, dense, slots, best = _span_candidates(probs[:, group], seg, *bounds, ids, self.tables_.shape[2] - 2,
                                                        high, low)
            z = dense @ self.filter_coef_ + self.filter_intercept_
            for k in range(_FILTER_SLOTS):
                z += self.filter_words_[k][slots[:, k]]
            score = _sigmoid(z)
            keep = score >= self.filter_threshold_
            a, b, score, best = a[keep], b[keep], score[keep], group[best[keep]]
            heads = getattr(self, "filter_heads_", "")
            if heads:
                from .corpora import _anonymous

                heads, flags = self._head_lookups()
                # only spans with a token containing a lexicon word (or an unknown token) can be anonymous
                maybe = np.zeros(n + 1, dtype=np.int64)
                np.cumsum(flags.take(ids), out=maybe[1:])
                named, anon = (self.labels_[j] for j in self.filter_head_labels_)
                for t, s, e, sc, mb in zip(art[a].tolist(), starts[a].tolist(), ends[b - 1].tolist(), score.tolist(),
                                           (maybe[b] > maybe[a]).tolist()):
                    items[t].append((anon if mb and _anonymous(texts[t][s:e], heads) else named, s, e, sc))
            else:
                for t, s, e, sc, j in zip(art[a].tolist(), starts[a].tolist(), ends[b - 1].tolist(), score.tolist(),
                                          best.tolist()):
                    items[t].append((self.labels_[j], s, e, sc))
        if self.use_rules:
            # rules' spans are added to the span filter's too: with the source rules' precision at
            # 0.8-1.0 on PolNeAR this adds 0.003 to the sources' span F1 (when a rule of precision
            # 0.31 was among them, merging cost 0.04)
            for t, found in enumerate(self._rule_matcher().apply(texts, tokens, starts, ends, offsets, ids)):
                items[t].extend(found)
        spans = [_merge(it, text) for it, text in zip(items, texts)]
        return TaggedBatch(offsets, tokens, starts, ends, ids, probs, spans)

    def analyze(self, text):
        """Everything one pass over ``text`` gives: a dict with ``tokens``, ``starts``, ``ends``,
        ``ids`` (vocabulary rows), ``probs`` (token × label) and ``spans`` (merged, with rules)."""
        return self.analyze_batch([text]).article(0)

    def predict_spans(self, X, batch_size=256):
        """Spans per article: a list of span dicts for each text in ``X``."""
        X = list(X)
        out = []
        for i in range(0, len(X), batch_size):
            out.extend(self.analyze_batch(X[i:i + batch_size]).spans)
        return out

    def tag(self, texts):
        """Alias of :meth:`predict_spans` (the pre-annotation contract)."""
        return self.predict_spans(texts)

    def transform(self, X):
        """Cue features per article: spans per 1,000 words for each label, and mean span score.

        Returns an array of shape (n_articles, 2 * n_labels).
        """
        spans = self.predict_spans(X)
        L = len(self.labels_)
        out = np.zeros((len(spans), 2 * L))
        index = {lab: j for j, lab in enumerate(self.labels_)}
        for i, (text, ss) in enumerate(zip(X, spans)):
            words = max(1, len(text.split()))
            for d in ss:
                j = index.get(d["label"])
                if j is None:
                    continue
                out[i, j] += 1000.0 / words
                out[i, L + j] += d["score"]
            counts = out[i, :L] * words / 1000.0
            out[i, L:] = np.divide(out[i, L:], counts, out=np.zeros(L), where=counts > 0)
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "labels_")
        return np.array([f"{lab}_per_1k_words" for lab in self.labels_] + [f"{lab}_mean_score" for lab in self.labels_])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def training_inputs(dataset, annotates: dict):
    """(texts, spans, annotated) for :meth:`CueTagger.fit` from a Dataset.

    ``annotates`` maps a corpus name to the labels it marks exhaustively; articles of
    other corpora (e.g. Label Studio projects) are taken as annotated for every label.
    """
    arts = dataset.articles
    by_article = {aid: [] for aid in arts["article_id"]}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"],
                              dataset.spans["end"]):
        by_article.setdefault(aid, []).append((lab, int(s), int(e)))
    everything = set(load_taxonomy().label_ids)
    annotated = [set(annotates.get(c, everything)) for c in arts["corpus"]]
    return arts["text"].tolist(), [by_article[a] for a in arts["article_id"]], annotated


def _fingerprint(arr) -> str:
    import hashlib

    return hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:10]


@dataclass
class TaggedBatch:
    """What :meth:`CueTagger.analyze_batch` finds in several texts.

    Token arrays are flat, text after text; text ``i`` owns tokens
    ``offsets[i]:offsets[i + 1]``. ``starts``/``ends`` are offsets within each text.
    """

    offsets: np.ndarray
    tokens: list
    starts: np.ndarray
    ends: np.ndarray
    ids: np.ndarray
    probs: np.ndarray  # (n_tokens, n_labels)
    spans: list  # per text: span dicts

    def article(self, i: int) -> dict:
        """Text ``i`` as a dict: ``tokens``, ``starts``, ``ends``, ``ids``, ``probs``, ``spans``."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return {"tokens": self.tokens[a:b], "starts": self.starts[a:b], "ends": self.ends[a:b],
                "ids": self.ids[a:b], "probs": self.probs[a:b], "spans": self.spans[i]}


def _segments_flat(joined, tokens, starts, ends, offsets, ids=None, abbreviation=None, edges=None):
    """Token flags for decoding, over texts laid end to end in ``joined`` (``starts``/``ends``
    index into it; ``offsets`` the first token of each text).

    ``edges``: optional pair of boolean token arrays, the words a span may not start with and
    may not end with (:func:`span_edge_words`); punctuation never starts or ends a span.

    Returns (punct, stop, brk, next_word, prev_word): punctuation token; sentence end; a
    line break or a text start before the token; the index of the first token at or after each
    token that may start a span, and of the last one at or before it that may end one.
    """
    n = len(tokens)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    single = (ends - starts) == 1
    first = codes[starts] if n else np.zeros(0, np.uint32)
    ascii_word = ((first >= 48) & (first <= 57)) | ((first >= 65) & (first <= 90)) | \
                 ((first >= 97) & (first <= 122)) | (first == 95)
    punct = single & ~ascii_word
    for i in np.flatnonzero(punct & (first > 127)).tolist():  # non-ASCII single characters: letters are not punctuation
        punct[i] = not tokens[i].isalnum()
    brk = np.zeros(n, dtype=bool)
    newlines = np.flatnonzero(codes == 10)
    if len(newlines) and n > 1:
        brk[1:] = np.searchsorted(newlines, starts[1:]) > np.searchsorted(newlines, ends[:-1])
    text_first = np.zeros(n, dtype=bool)
    text_first[offsets[:-1][offsets[:-1] < offsets[1:]]] = True
    brk |= text_first
    stop = single & ((first == 46) | (first == 33) | (first == 63))
    after = np.flatnonzero(stop & ~text_first)  # a "." after an abbreviation of the same text ends no sentence
    if len(after):
        if ids is not None and abbreviation is not None:
            prev = ids[after - 1]
            known = prev < len(abbreviation) - 1
            stop[after[known & abbreviation[np.minimum(prev, len(abbreviation) - 1)]]] = False
            after = after[~known]
        for i in after.tolist():
            if tokens[i - 1] in _ABBREVIATIONS:
                stop[i] = False
    idx = np.arange(n)
    no_first = punct if edges is None else punct | edges[0]
    no_last = punct if edges is None else punct | edges[1]
    next_word = np.minimum.accumulate(np.where(no_first, n, idx)[::-1])[::-1] if n else idx
    prev_word = np.maximum.accumulate(np.where(no_last, -1, idx)) if n else idx
    return punct, stop, brk, next_word, prev_word


def _segments(text, toks, starts, ends, edges=None):
    """:func:`_segments_flat` for one text; ``edges`` a pair of word sets (:func:`span_edge_words`)."""
    flags = None if edges is None else tuple(
        np.fromiter((t.lower() in words for t in toks), dtype=bool, count=len(toks)) for words in edges)
    return _segments_flat(text, toks, np.asarray(starts), np.asarray(ends), np.array([0, len(toks)]), edges=flags)


def _runs(prob, threshold, low, seg):
    """Spans as token ranges by hysteresis thresholding: (first, end, mean probability) arrays.

    Runs of tokens with probability ≥ ``low`` that contain at least one token ≥
    ``threshold`` become spans. Runs stop at sentence ends, line breaks and text
    starts (``seg`` from :func:`_segments_flat`), and punctuation at either end of a span is
    trimmed.
    """
    punct, stop, brk, next_word, prev_word = seg
    low = min(low, threshold)
    on = (prob >= low) & ~stop
    n = len(prob)
    empty = np.zeros(0, np.int64)
    if not on.any():
        return empty, empty, np.zeros(0)
    prev_off = np.empty(n, dtype=bool)
    prev_off[0] = True
    np.logical_not(on[:-1], out=prev_off[1:])
    prev_off |= brk
    next_off = np.empty(n, dtype=bool)
    next_off[-1] = True
    np.logical_not(on[1:], out=next_off[:-1])
    next_off[:-1] |= brk[1:]
    a = next_word[np.flatnonzero(on & prev_off)]
    b = prev_word[np.flatnonzero(on & next_off)] + 1
    keep = a < b
    a, b = a[keep], b[keep]
    high = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(prob >= threshold, out=high[1:])
    keep = high[b] > high[a]
    a, b = a[keep], b[keep]
    if not len(a):
        return empty, empty, np.zeros(0)
    p64 = np.zeros(n + 1)
    p64[:n] = prob
    sums = np.add.reduceat(p64, np.column_stack([a, b]).ravel())[::2]
    return a, b, sums / (b - a)


def _decode(prob, threshold, starts, ends, low=None, seg=None):
    """Spans ``(start, end, mean probability)`` of one text from token probabilities
    (:func:`_runs`; ``seg`` from :func:`_segments`, or None for no sentence/punctuation rules)."""
    n = len(prob)
    if seg is None:
        seg = (np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool), np.arange(n), np.arange(n))
    a, b, score = _runs(prob, threshold, threshold if low is None else low, seg)
    return list(zip(np.asarray(starts)[a].tolist(), np.asarray(ends)[b - 1].tolist(), score.tolist()))


def _tune_threshold(probs, gold, starts, ends, segs):
    """(high, low, F1, curve): the hysteresis thresholds with the best partial-overlap span F1, and
    the precision-recall curve over the high threshold at the best low/high ratio.

    The articles are laid end to end once, so each candidate is one vectorised decoding and one
    vectorised scoring (:func:`annotator.evaluation.span_prf_flat`).
    """
    from .evaluation import merged, span_prf_flat

    base, gs, ge = [], [], []
    at = 0
    for st, en, g in zip(starts, ends, gold):
        base.append(at)
        gs.extend(at + int(x) for x, _ in g)
        ge.extend(at + int(y) for _, y in g)
        at += max([int(en[-1]) if len(en) else 0] + [int(y) for _, y in g]) + 1
    counts = [len(x) for x in probs]
    P = np.concatenate([np.asarray(x, dtype=np.float64) for x in probs]) if probs else np.zeros(0)
    gst = np.concatenate([np.asarray(st) + b for st, b in zip(starts, base)]) if probs else np.zeros(0, np.int64)
    gen = np.concatenate([np.asarray(en) + b for en, b in zip(ends, base)]) if probs else np.zeros(0, np.int64)
    first = np.cumsum([0] + counts[:-1])
    # one text's "no token" (its length, or -1) becomes the next text's first token or the previous
    # text's last, which lies outside the run as well
    seg = tuple(np.concatenate([sg[k] + f if k >= 3 else sg[k] for sg, f in zip(segs, first)]) if probs
                else np.zeros(0, bool if k < 3 else np.int64) for k in range(5))
    seg[2][first[np.asarray(counts) > 0]] = True  # no run crosses from one article into the next
    gold_merged = merged(gs, ge)

    best = (0.5, 0.5, -1.0, 1.0)
    table = {}
    for t in (0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8):
        for ratio in (1.0, 0.6, 0.35, 0.2):
            a, b, _ = _runs(P, t, t * ratio, seg)
            res = span_prf_flat(None, None, gst[a], gen[b - 1], gold=gold_merged)
            table[t, ratio] = res
            if res["f1"] > best[2]:
                best = (t, round(t * ratio, 4), float(res["f1"]), ratio)
    curve = [[t, round(r["precision"], 4), round(r["recall"], 4)] for (t, ratio), r in table.items() if ratio == best[3]]
    return best[0], best[1], best[2], curve


# ---------------------------------------------------------------------------------------------
# loading and the public tagging functions

#: Types a cue-tagger file may contain besides numpy/sklearn basics.
TRUSTED_TYPES = ["annotator.cues.CueTagger"]


def load_tagger(path=None) -> CueTagger:
    """Load a cue tagger, or the tagger inside a framing model, from a skops file
    (default: the shipped ``models/framing.skops``)."""
    from .model import MODEL_TRUSTED, load_skops

    obj = load_skops(path or DEFAULT_TAGGER, extra_trusted=TRUSTED_TYPES + MODEL_TRUSTED)
    if isinstance(obj, CueTagger):
        return obj
    tagger = getattr(obj, "tagger_", None) or getattr(obj, "named_steps", {}).get("cues")
    if isinstance(tagger, CueTagger):
        return tagger
    raise AnnotatorError(f"{path}: not a cue tagger or framing model")


class RulesTagger:
    """The cue rules alone as a tagger (``model_version``, ``tag``), e.g. for pre-annotations."""

    def __init__(self):
        import hashlib

        self.model_version = "cue-rules-" + hashlib.sha256(repr(load_rules()).encode()).hexdigest()[:12]

    def tag(self, texts):
        return tag_texts(list(texts), tagger=False)


def tag_texts(texts, tagger=None) -> list:
    """Spans for each text: the learned tagger plus rules, or rules only when ``tagger`` is False."""
    if tagger is False:
        return [merge_spans(apply_rules(t), t) for t in texts]
    tagger = load_tagger() if tagger is None else tagger
    return tagger.predict_spans(list(texts))


def tag_articles(articles: pd.DataFrame, tagger=None) -> pd.DataFrame:
    """Tag an articles frame (``annotator.articles`` schema).

    Returns a DataFrame with columns ``id``, ``spans`` (list of span dicts) and
    ``error`` (the reader's error for rows that could not be read, else None).
    """
    ok = articles["error"].isna() if "error" in articles else pd.Series(True, index=articles.index)
    spans = pd.Series([[]] * len(articles), index=articles.index, dtype=object)
    if ok.any():
        spans[ok] = pd.Series(tag_texts(articles.loc[ok, "text"].tolist(), tagger), index=articles.index[ok])
    errors = [None if good else e for good, e in zip(ok, articles["error"] if "error" in articles else ok)]
    return pd.DataFrame({"id": pd.Series(articles["id"].astype(str).tolist(), dtype=object),
                         "spans": pd.Series(spans.tolist(), dtype=object),
                         "error": pd.Series(errors, dtype=object)}).set_axis(articles.index)
