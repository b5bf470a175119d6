"""Neutral text to measure spans on: PolNeAR's narrator sentences and CheckThat!'s objective sentences.

* :func:`polnear_narrator_regions`: per PolNeAR article (one annotator, as
  :func:`annotator.corpora.load_polnear`), the sentences that hold no part of an attribution
  (no ``Source``, ``Cue`` or ``Content`` span): what the outlet says in its own voice.
* :func:`objective_sentences`: the sentences of ``checkthat2025-subjectivity-dev`` labelled
  objective (label 0). That set is for measuring only (CC BY-NC-SA): never train on it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .corpora import polnear_annotations
from .errors import AnnotatorError
from .paths import DATA_DIR

__all__ = ["sentence_bounds", "polnear_narrator_regions", "objective_sentences", "CHECKTHAT_SET"]

CHECKTHAT_SET = "checkthat2025-subjectivity-dev"
_BRAT_T = re.compile(r"^(T\d+)\t(\S+) ([\d; ]+)\t")
_ATTRIBUTION_ROLES = {"Source", "Cue", "Content"}
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+|\n+")


def sentence_bounds(text: str) -> list:
    """``(start, end)`` of each sentence of ``text``: split at line breaks and after ``.``/``!``/``?``
    (and a closing quote or bracket) followed by white space."""
    out, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return out


def _attributed(ann: Path) -> list:
    spans = []
    for line in ann.read_text(encoding="utf-8").splitlines():
        m = _BRAT_T.match(line)
        if m and m.group(2) in _ATTRIBUTION_ROLES:
            for frag in m.group(3).split(";"):
                s, e = map(int, frag.split())
                spans.append((s, e))
    return spans


def polnear_narrator_regions(data_dir=None, limit=None) -> dict:
    """``polnear/<name>`` -> the narrator sentences of that article as ``(start, end)`` offsets.

    Articles without an attribution file are left out (nothing says which sentences are attributed).
    """
    root = Path(data_dir or DATA_DIR) / "polnear" / "train"
    if not (root / "text").is_dir():
        raise AnnotatorError(f"{root}: PolNeAR not found (set ANNOTATOR_DATA_DIR)")
    anns = polnear_annotations(root)
    out = {}
    for name in sorted(p.stem for p in (root / "text").glob("*.txt"))[:limit]:
        if name not in anns:
            continue
        with open(root / "text" / f"{name}.txt", encoding="utf-8", newline="") as fh:
            text = fh.read()
        parts = _attributed(anns[name])
        out[f"polnear/{name}"] = [(s, e) for s, e in sentence_bounds(text)
                                  if not any(a < e and b > s for a, b in parts)]
    return out


def objective_sentences(data_dir=None) -> list:
    """The objective (label 0) sentences of the CheckThat! 2025 subjectivity set (measuring only)."""
    path = Path(data_dir or DATA_DIR) / CHECKTHAT_SET / "sentences.jsonl"
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise AnnotatorError(f"{path}: cannot read the subjectivity sentences: {exc}") from None
    return [r["text"] for r in rows if int(r["label"]) == 0]
