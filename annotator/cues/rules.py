"""The cue rules as data: :class:`Rule`, loading ``label_config/cues.toml``, and the frozen rule set.

Each rule is named, has a taxonomy label, and either a regular expression or a lexicon (a
phrase list under ``label_config/``). ``annotator rules`` measures each rule's precision on the
shared corpora (``label_config/rules_measured.json``); a rule's span score is that precision
(0.5 when unmeasured). :class:`RuleSet` holds rules with their scores and converts them to and
from plain builtins: that is the copy a fitted cue tagger keeps (``CueTagger.rules_``).
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import AnnotatorError
from ..paths import LABEL_CONFIG_DIR
from ..taxonomy import load_taxonomy
from .lexicons import index_entries, read_token_entries
from .matching import RuleMatcher

__all__ = ["RULES_FILE", "RULES_MEASURED", "Rule", "RuleSet", "load_rules", "rule_precision", "live_rule_set",
           "apply_rules"]

RULES_FILE = LABEL_CONFIG_DIR / "cues.toml"
RULES_MEASURED = LABEL_CONFIG_DIR / "rules_measured.json"
#: Span score of a rule that ``annotator rules`` has not measured.
UNMEASURED_SCORE = 0.5


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
    lexicon: dict | None = None  # first lower-case token -> tuple of entries (token tuples), longest first
    triggers: tuple = ()
    window: tuple = ()  # (chars before, chars after) a trigger: the pattern only runs there
    description: str = ""
    source: str = ""  # the lexicon file (under label_config/), or "pattern"

    def find(self, text: str):
        """(start, end) of every match in ``text``; the ``span`` group when the pattern has one."""
        for hit in _matcher((self,)).apply_text(text):
            yield hit.start, hit.end

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


def _pattern_rule(path, r, common) -> Rule:
    try:
        regex = re.compile(r.get("pattern", ""))
    except re.error as exc:
        raise AnnotatorError(f"{path}: rule {common['name']!r}: bad pattern: {exc}") from None
    triggers = tuple(t.lower() for t in r.get("triggers", ()))
    window = tuple(r.get("window", ()))
    if window and (len(window) != 2 or not triggers):
        raise AnnotatorError(f"{path}: rule {common['name']!r}: window needs triggers and two numbers [before, after]")
    return Rule(regex=regex, triggers=triggers, window=window, source="pattern", **common)


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
        if "lexicon" not in r:
            rules.append(_pattern_rule(path, r, common))
            continue
        source = LABEL_CONFIG_DIR / r["lexicon"]
        try:
            entries = read_token_entries(source)
        except OSError as exc:
            raise AnnotatorError(f"{path}: rule {name!r}: cannot read lexicon {source}: {exc.strerror}") from None
        rules.append(Rule(lexicon=index_entries(entries), source=r["lexicon"], **common))
    return tuple(rules)


def load_rules(path=None) -> tuple:
    """The cue rules (live ``label_config/cues.toml`` by default), compiled, labels checked against
    the taxonomy (re-read when the file changes)."""
    p = Path(path) if path else RULES_FILE
    return _load_rules_cached(str(p), p.stat().st_mtime if p.exists() else 0.0)


@lru_cache(maxsize=1)
def rule_precision() -> dict:
    """Measured precision per rule name (``label_config/rules_measured.json``), if measured."""
    if not RULES_MEASURED.exists():
        return {}
    data = json.loads(RULES_MEASURED.read_text(encoding="utf-8"))
    return {r["rule"]: r["precision"] for r in data.get("rules", []) if r.get("precision") is not None}


def _scores(rules) -> tuple:
    prec = rule_precision()
    return tuple(float(prec.get(r.name, UNMEASURED_SCORE)) for r in rules)


def _rule_record(rule: Rule, score: float) -> dict:
    """One rule as plain builtins (its lexicon's entries included)."""
    out = {"name": rule.name, "label": rule.label, "description": rule.description, "score": float(score)}
    if rule.lexicon is not None:
        out["lexicon"] = rule.source
        out["entries"] = sorted([list(e) for v in rule.lexicon.values() for e in v])
    else:
        out.update(pattern=rule.regex.pattern, triggers=list(rule.triggers), window=list(rule.window))
    return out


def _rule_from_record(r: dict) -> Rule:
    common = dict(name=r["name"], label=r["label"], description=r["description"])
    if "entries" in r:
        return Rule(lexicon=index_entries(r["entries"]), source=r["lexicon"], **common)
    return Rule(regex=re.compile(r["pattern"]), triggers=tuple(r["triggers"]), window=tuple(r["window"]),
                source="pattern", **common)


@dataclass(frozen=True)
class RuleSet:
    """Rules and the span score of each (their measured precision): what tagging with rules needs."""

    rules: tuple
    scores: tuple

    def to_builtins(self) -> dict:
        """The rules, their lexicons' entries and their scores as dicts, lists, str and float only
        (what a model file stores; no compiled pattern)."""
        return {"rules": [_rule_record(r, s) for r, s in zip(self.rules, self.scores)]}

    @classmethod
    def from_builtins(cls, data: dict) -> "RuleSet":
        """The rule set :meth:`to_builtins` gave, patterns compiled again."""
        records = data["rules"]
        return cls(tuple(_rule_from_record(r) for r in records), tuple(float(r["score"]) for r in records))

    def digest(self) -> str:
        """A hash of the rules, lexicon entries and scores (not of where the files are)."""
        return builtins_digest(self.to_builtins())

    def matcher(self, vocabulary=()) -> RuleMatcher:
        """A :class:`~annotator.cues.matching.RuleMatcher` of these rules (flags precomputed for ``vocabulary``)."""
        return RuleMatcher(self.rules, self.scores, vocabulary)


def builtins_digest(data) -> str:
    """SHA-256 of plain builtins, as canonical JSON."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def live_rule_set(path=None) -> RuleSet:
    """The rules of the live ``label_config`` files with their measured precision."""
    rules = load_rules(path)
    return RuleSet(rules, _scores(rules))


def apply_rules(text: str, rules=None) -> list:
    """Spans found by the rules (default: the live ``label_config/cues.toml``) in ``text``, each with
    its ``rule`` name."""
    return [{"label": h.label, "start": h.start, "end": h.end, "text": text[h.start:h.end], "score": h.score,
             "rule": h.rule} for h in _matcher(load_rules() if rules is None else rules).apply_text(text)]


_MATCHERS: dict = {}


def _matcher(rules) -> RuleMatcher:
    """A vocabulary-free :class:`RuleMatcher` for a tuple of rules, scored by the live measured
    precision (kept while the tuple lives)."""
    key = id(rules)
    hit = _MATCHERS.get(key)
    if hit is None or hit[0] is not rules:
        if len(_MATCHERS) > 64:
            _MATCHERS.clear()
        hit = _MATCHERS[key] = (rules, RuleMatcher(rules, _scores(rules)))
    return hit[1]
