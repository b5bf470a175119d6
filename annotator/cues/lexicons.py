"""The lexicon files under ``label_config/``: phrase lists, the anonymous-head test, the span-edge words.

* phrase lists (one entry per line, ``#`` comments): read as lower-case strings
  (:func:`read_lexicon`), as a whole-word regular expression (:func:`lexicon_regex`), or as
  token tuples indexed by their first token for the lexicon rules (:func:`read_token_entries`,
  :func:`index_entries`);
* the anonymous-head test (:func:`is_anonymous`) by which the PolNeAR importer tells anonymous
  from named gold sources, and the cue tagger its predicted ones;
* ``lexicons/span_edges.toml``: the words a learned span may not start or end with.
"""
from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from ..errors import AnnotatorError
from ..paths import LABEL_CONFIG_DIR
from .tokens import TOKEN

__all__ = ["SPAN_EDGES", "read_lexicon", "lexicon_regex", "is_anonymous", "read_token_entries", "index_entries",
           "EdgeWords", "span_edge_words"]

SPAN_EDGES = LABEL_CONFIG_DIR / "lexicons" / "span_edges.toml"


@lru_cache(maxsize=16)
def read_lexicon(relpath: str) -> tuple:
    """Entries of a lexicon file under ``label_config/`` (one per line, ``#`` comments), lower-case."""
    lines = (LABEL_CONFIG_DIR / relpath).read_text(encoding="utf-8").splitlines()
    return tuple(x.strip().lower() for x in lines if x.strip() and not x.lstrip().startswith("#"))


def lexicon_regex(relpath: str) -> re.Pattern:
    """Any entry of a lexicon file as a whole word or phrase (any case, any white space between words)."""
    words = sorted(read_lexicon(relpath), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")(?!\w)", re.I)


def is_anonymous(text: str, heads: re.Pattern) -> bool:
    """A source span names no one: it contains an anonymous head (``heads``: :func:`lexicon_regex`
    of the anonymous-head lexicon) and no capitalised word after its first."""
    if not heads.search(text):
        return False
    words = text.split()
    return not any(w[:1].isupper() for w in words[1:])


def read_token_entries(path: Path) -> list:
    """The entries of a phrase list as sorted, distinct tuples of lower-case tokens."""
    entries = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entries.add(tuple(t.lower() for t in TOKEN.findall(line)))
    return sorted(entries)


def index_entries(entries) -> dict:
    """Entries (token tuples) by their first token, longest first: how a lexicon rule looks them up."""
    index: dict = {}
    for entry in sorted(set(map(tuple, entries))):
        index.setdefault(entry[0], []).append(entry)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in index.items()}


class EdgeWords(NamedTuple):
    """The lower-case words a learned span may not start with, and those it may not end with."""

    never_first: frozenset
    never_last: frozenset


def span_edge_words(path=None) -> EdgeWords:
    """(never_first, never_last) from ``label_config/lexicons/span_edges.toml``."""
    p = Path(path) if path else SPAN_EDGES
    try:
        spec = tomllib.loads(p.read_text(encoding="utf-8"))
        return EdgeWords(*(frozenset(w.lower() for w in spec[key]) for key in ("never_first", "never_last")))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise AnnotatorError(f"{p}: cannot read span edge words: {exc!r}") from None
