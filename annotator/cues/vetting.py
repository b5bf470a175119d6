"""Spans the tagger never emits: identity descriptors as loaded terms, pronouns as named sources.

``label_config/lexicons/span_vetting.toml`` names the label of each test and its word lists
(``identity_terms.txt``, ``identity_neutral_words.txt``, ``source_pronouns.txt``). A fitted tagger
keeps a copy of them (``CueTagger.vetting_``, :func:`live_vetting` at fit), as it keeps its rules.
:func:`identity_occurrences` finds the identity words of a text, to measure how many end up inside
loaded-term spans (``annotator evaluate``).
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import NamedTuple

from .. import paths
from ..errors import AnnotatorError
from ..taxonomy import load_taxonomy

__all__ = ["VETTING_FILE", "Vetting", "live_vetting", "vet_spans", "identity_occurrences"]

#: Where the tests and their word lists are named (relative to the label config folder).
VETTING_FILE = Path("lexicons") / "span_vetting.toml"
#: A word as the vetting sees it (hyphenated compounds and possessives kept whole).
_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
_PARTS = re.compile(r"[-.'’]")
_LOWER_WORDS = re.compile(r"\w+")
_OTHER, _NEUTRAL, _IDENTITY = 0, 1, 2


def _words(config_dir: Path, rel: str) -> list:
    path = config_dir / rel
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AnnotatorError(f"{path}: cannot read the word list: {exc.strerror or exc}") from None
    return sorted({x.strip().lower() for x in lines if x.strip() and not x.lstrip().startswith("#")})


def live_vetting(config_dir=None) -> dict:
    """The vetting tests of the live label config as plain builtins (what a tagger freezes at fit)."""
    config_dir = Path(config_dir) if config_dir is not None else paths.LABEL_CONFIG_DIR
    path = config_dir / VETTING_FILE
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        identity, pronouns = spec["identity"], spec["pronouns"]
        out = {"identity_label": str(identity["label"]), "identity": _words(config_dir, identity["words"]),
               "neutral": _words(config_dir, identity["neutral"]), "pronoun_label": str(pronouns["label"]),
               "pronouns": _words(config_dir, pronouns["words"])}
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise AnnotatorError(f"{path}: cannot read the span vetting tests: {exc!r}") from None
    known = set(load_taxonomy().label_ids)
    for key in ("identity_label", "pronoun_label"):
        if out[key] not in known:
            raise AnnotatorError(f"{path}: label {out[key]!r} is not a label of framing.xml")
    return out


class Vetting(NamedTuple):
    """The vetting tests in the form prediction uses (:meth:`from_builtins` of :func:`live_vetting`)."""

    identity_label: str
    identity: frozenset
    neutral: frozenset
    pronoun_label: str
    pronouns: frozenset
    probe: frozenset  # identity words and the parts of compound ones: a span without any is left alone
    longest_pronoun: int

    @classmethod
    def from_builtins(cls, data: dict) -> "Vetting":
        identity = frozenset(data["identity"])
        probe = identity | {p for w in identity for p in _PARTS.split(w) if p}
        pronouns = frozenset(data["pronouns"])
        return cls(data["identity_label"], identity, frozenset(data["neutral"]), data["pronoun_label"], pronouns,
                   probe, max(map(len, pronouns), default=0))

    def kind(self, word: str) -> int:
        """2: an identity descriptor (every part of a hyphenated compound is one); 1: a neutral word
        (or a compound of identity and neutral words); 0: any other word."""
        w = word.lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if w in self.identity:
            return _IDENTITY
        if w in self.neutral:
            return _NEUTRAL
        parts = [p for p in re.split(r"[-.']", w) if p]
        if len(parts) > 1 and all(p in self.identity for p in parts):
            return _IDENTITY
        if len(parts) > 1 and all(p in self.identity or p in self.neutral for p in parts):
            return _NEUTRAL
        return _OTHER


def _trim_identity(span: dict, text: str, v: Vetting):
    """``span`` trimmed of identity and neutral words at both edges when it holds an identity word;
    None when nothing else is left; unchanged without an identity word."""
    if v.probe.isdisjoint(_LOWER_WORDS.findall(span["text"].lower())):
        return span
    words = list(_WORD.finditer(span["text"]))
    kinds = [v.kind(m.group()) for m in words]
    if _IDENTITY not in kinds:
        return span
    keep = [k for k, kind in enumerate(kinds) if kind == _OTHER]
    if not keep:
        return None
    s = span["start"] + words[keep[0]].start()
    e = span["start"] + words[keep[-1]].end()
    if (s, e) == (span["start"], span["end"]):
        return span
    return {**span, "start": s, "end": e, "text": text[s:e]}


def vet_spans(spans: list, text: str, v: Vetting) -> list:
    """``spans`` (span dicts of ``text``) without identity-only loaded terms and pronoun-only named
    sources; loaded terms that hold identity words beside others are trimmed to the others."""
    out = []
    for d in spans:
        if d["label"] == v.identity_label:
            d = _trim_identity(d, text, v)
            if d is None:
                continue
        elif d["label"] == v.pronoun_label and d["end"] - d["start"] <= 3 * (v.longest_pronoun + 1):
            words = _WORD.findall(d["text"])
            if words and all(w.lower() in v.pronouns for w in words):
                continue
        out.append(d)
    return out


def identity_occurrences(text: str, v: Vetting) -> list:
    """``(start, end)`` of every identity descriptor in ``text``."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if v.kind(m.group()) == _IDENTITY]
