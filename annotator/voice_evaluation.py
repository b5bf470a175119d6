"""Measuring :func:`annotator.cues.voice.find_quotes` against PolNeAR's attribution annotations.

Two figures, each per rule variant (direct quotes only; with reported speech; with cognition verbs
too), on all articles and on two halves split by article name (a variant is chosen on one half and
read on the other):

* **content**: is a word inside attributed content? Word-level precision/recall/F1 of "inside a
  found quote region" against "inside a PolNeAR ``Content`` span" (words: ``\\w+`` runs, counted at
  their first character), pooled over articles, with a 95 % bootstrap interval that resamples
  articles (words of one article are not independent);
* **source**: of the found quotes with a source, the share whose source overlaps the ``Source`` of
  a PolNeAR attribution whose content the quote overlaps (precision); of the PolNeAR attributions
  with a source and content, the share that such a quote finds (recall).

The first annotator of each article is used (as :func:`annotator.corpora.load_polnear` does).
"""
from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .cues.voice import find_quotes
from .corpora import polnear_annotations
from .errors import AnnotatorError
from .paths import DATA_DIR

__all__ = ["VARIANTS", "PolnearAttributions", "read_polnear_attributions", "measure_voice"]

#: Rule variants measured: name -> find_quotes keyword arguments.
VARIANTS = {"direct": {"reported": False}, "reported": {"reported": True},
            "reported+cognition": {"reported": True, "cognition": True}}

_T = re.compile(r"^T\d+\t(\S+) ([\d; ]+)\t")
_WORDS = re.compile(r"\w+")


class PolnearAttributions(NamedTuple):
    """One PolNeAR article: its text, publisher, and attributions as ``(content, source)`` pairs of
    fragment lists ``[(start, end), ...]`` (source empty when the attribution names none)."""

    name: str
    publisher: str
    text: str
    attributions: list


def _parse_ann(path: Path) -> list:
    spans, events = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _T.match(line)
        if m:
            frags = [tuple(map(int, fr.split())) for fr in m.group(2).split(";")]
            spans[line.split("\t", 1)[0]] = frags
        elif line.startswith("E"):
            events.append(dict(x.split(":", 1) for x in line.split("\t", 1)[1].split()))
    out = []
    for ev in events:
        content = spans.get(ev.get("Content"), [])
        if content:
            out.append((content, spans.get(ev.get("Source"), [])))
    return out


def read_polnear_attributions(data_dir=None, limit=None) -> list:
    """:class:`PolnearAttributions` of the PolNeAR train articles that have annotations."""
    root = Path(data_dir or DATA_DIR) / "polnear" / "train"
    if not (root / "text").is_dir():
        raise AnnotatorError(f"{root}: PolNeAR not found (set ANNOTATOR_DATA_DIR to the folder holding polnear/)")
    anns = polnear_annotations(root)
    names = [n for n in sorted(p.stem for p in (root / "text").glob("*.txt")) if n in anns][:limit]
    out = []
    for name in names:
        with open(root / "text" / f"{name}.txt", encoding="utf-8", newline="") as fh:
            text = fh.read()
        out.append(PolnearAttributions(name, name.split("_", 1)[0], text, _parse_ann(anns[name])))
    return out


def _inside(points: np.ndarray, frags) -> np.ndarray:
    """Whether each offset lies inside one of the ``(start, end)`` fragments."""
    mask = np.zeros(len(points), dtype=bool)
    for s, e in frags:
        mask |= (points >= s) & (points < e)
    return mask


def _overlaps(a, frags) -> bool:
    return any(min(a[1], e) > max(a[0], s) for s, e in frags)


def _article_counts(art: PolnearAttributions, quotes) -> np.ndarray:
    """(tp, fp, fn, sourced, sourced_correct, gold_sourced, gold_found) for one article."""
    words = np.array([m.start() for m in _WORDS.finditer(art.text)], dtype=np.int64)
    gold = _inside(words, [f for content, _ in art.attributions for f in content])
    pred = _inside(words, [(q.start, q.end) for q in quotes])
    tp, fp, fn = int((gold & pred).sum()), int((~gold & pred).sum()), int((gold & ~pred).sum())
    sourced = [q for q in quotes if q.source_start is not None]
    correct = sum(any(_overlaps((q.start, q.end), c) and _overlaps((q.source_start, q.source_end), s)
                      for c, s in art.attributions if s) for q in sourced)
    gold_src = [(c, s) for c, s in art.attributions if s]
    found = sum(any(_overlaps((q.start, q.end), c) and _overlaps((q.source_start, q.source_end), s)
                    for q in sourced) for c, s in gold_src)
    return np.array([tp, fp, fn, len(sourced), correct, len(gold_src), found], dtype=np.int64)


def _figures(counts: np.ndarray) -> dict:
    tp, fp, fn, sourced, correct, gold_src, found = counts.sum(axis=0).tolist()
    p = tp / max(tp + fp, 1)
    r = tp / max(tp + fn, 1)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(p + r, 1e-12),
            "source_precision": correct / max(sourced, 1), "source_recall": found / max(gold_src, 1)}


def _interval(counts: np.ndarray, key: str, n_boot: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    vals = [_figures(counts[rng.integers(0, len(counts), len(counts))])[key] for _ in range(n_boot)]
    return tuple(np.round(np.percentile(vals, [2.5, 97.5]), 3).tolist())


def measure_voice(data_dir=None, limit=None, variants=None, n_boot=200, seed=0, progress=None) -> pd.DataFrame:
    """Voice figures on PolNeAR (see the module docstring): one row per (variant, part), ``part``
    ``all``, ``half A``, ``half B`` (articles split by a hash of their name) or a publisher.

    Columns: variant, part, articles, precision, recall, f1 (content words), f1_ci (95 %
    bootstrap over articles, ``all`` only), source_precision, source_recall.
    """
    arts = read_polnear_attributions(data_dir, limit)
    half = np.array([zlib.crc32(a.name.encode()) % 2 for a in arts])
    pubs = np.array([a.publisher for a in arts])
    rows = []
    for name, kwargs in (variants or VARIANTS).items():
        if progress:
            progress(f"voice on PolNeAR: {name}")
        counts = np.stack([_article_counts(a, find_quotes(a.text, **kwargs)) for a in arts])
        parts = [("all", np.ones(len(arts), bool)), ("half A", half == 0), ("half B", half == 1)]
        parts += [(p, pubs == p) for p in sorted(set(pubs))]
        for part, mask in parts:
            fig = {k: round(v, 3) for k, v in _figures(counts[mask]).items()}
            ci = _interval(counts, "f1", n_boot, seed) if part == "all" else None
            rows.append({"variant": name, "part": part, "articles": int(mask.sum()), **fig, "f1_ci": ci})
    return pd.DataFrame(rows)
