"""Label Studio export JSON -> the dataset tables (articles, documents, spans) and the span-text mismatches.

The rules (which annotation counts, drafts, cancellations, offsets) are listed
in :func:`annotator.studio.pull.pull`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..corpus_mapping import corpus_mapping
from ..dataset import Dataset
from ..taxonomy import Taxonomy
from .offsets import ls_to_py_offsets, same_text

__all__ = ["tasks_to_dataset", "span_mismatches", "MISMATCH_COLUMNS"]

MISMATCH_COLUMNS = ["article_id", "annotator", "label", "start", "end", "stored_text", "article_text"]


@dataclass
class _Tables:
    """The rows gathered so far, and the counts that go into the dataset's meta."""

    taxonomy: Taxonomy
    unit: str
    counts: dict
    articles: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    spans: list = field(default_factory=list)
    mismatches: list = field(default_factory=list)

    def __post_init__(self):
        self.label_set = set(self.taxonomy.label_ids)


def tasks_to_dataset(tasks: list[dict], taxonomy: Taxonomy, corpus: str, *, unit: str = "codepoint",
                     meta: dict | None = None) -> Dataset:
    """Label Studio export JSON -> :class:`Dataset` (rules in :func:`annotator.studio.pull.pull`)."""
    tables = _Tables(taxonomy, unit, {"tasks": len(tasks), "annotations": 0, "cancelled": 0, "drafts_excluded": 0,
                                      "duplicate_annotations_dropped": 0, "unknown_labels": 0})
    for t in tasks:
        _add_task(tables, t, corpus)
    meta = dict(meta or {})
    meta.update(tables.counts)
    meta["offset_unit"] = unit
    meta["span_mismatches"] = tables.mismatches
    return Dataset(pd.DataFrame(tables.articles), pd.DataFrame(tables.documents), pd.DataFrame(tables.spans), meta)


def span_mismatches(dataset: Dataset) -> pd.DataFrame:
    """Spans whose text stored by Label Studio differs from the article at their offsets (from ``pull``)."""
    return pd.DataFrame(dataset.meta.get("span_mismatches") or [], columns=MISMATCH_COLUMNS)


def _add_task(tables: _Tables, t: dict, corpus: str) -> None:
    data = t.get("data") or {}
    aid = data.get("article_id")
    aid = str(aid) if aid is not None else f"task-{t['id']}"
    text = data.get(tables.taxonomy.text_field)
    text = text if isinstance(text, str) else ""
    # a task whose data names a corpus (an import of corpus articles, e.g. bench/learning_curve.py) keeps it:
    # its annotation then counts for the labels that corpus marks (label_config/corpora.toml), not all
    named = data.get("corpus")
    corpus = named if isinstance(named, str) and named in corpus_mapping() else corpus
    tables.articles.append({"article_id": aid, "text": text, "title": data.get("title"), "date": data.get("date"),
                            "outlet": data.get("outlet"), "url": data.get("url"), "corpus": corpus})
    tables.counts["drafts_excluded"] += len(t.get("drafts") or [])
    for who, a in _latest_per_annotator(t.get("annotations") or [], tables.counts).items():
        _add_annotation(tables, aid, text, who, a)


def _annotator(completed_by) -> str:
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id"))
    return str(completed_by)


def _latest_per_annotator(annotations: list[dict], counts: dict) -> dict[str, dict]:
    """One annotation per annotator: the latest ``updated_at`` wins; the others are counted as dropped."""
    latest: dict[str, dict] = {}
    for a in annotations:
        who = _annotator(a.get("completed_by"))
        prev = latest.get(who)
        if prev is not None:
            counts["duplicate_annotations_dropped"] += 1
            if str(a.get("updated_at") or "") < str(prev.get("updated_at") or ""):
                continue
        latest[who] = a
    return latest


def _choices(result: list[dict], taxonomy: Taxonomy) -> tuple[str | None, dict]:
    """``(rating, {region id: reliability choice})`` of an annotation's result."""
    rating = None
    reliability = {}
    for r in result:
        v = r.get("value") or {}
        if r.get("from_name") == taxonomy.rating_from_name and v.get("choices"):
            rating = v["choices"][0]
        elif r.get("from_name") == taxonomy.reliability_from_name and v.get("choices"):
            reliability[r.get("id")] = v["choices"][0]
    return rating, reliability


def _add_annotation(tables: _Tables, aid: str, text: str, who: str, a: dict) -> None:
    tables.counts["annotations"] += 1
    cancelled = bool(a.get("was_cancelled"))
    tables.counts["cancelled"] += cancelled
    result = a.get("result") or []
    rating, reliability = _choices(result, tables.taxonomy)
    lt = a.get("lead_time")
    tables.documents.append({"article_id": aid, "annotator": who, "framing_risk": None if cancelled else rating,
                             "lead_time": float(lt) if lt is not None else math.nan,
                             "created_at": a.get("created_at"), "updated_at": a.get("updated_at"),
                             "cancelled": cancelled})
    if cancelled:
        return
    for r in result:
        if r.get("from_name") != tables.taxonomy.span_from_name:
            continue
        v = r.get("value") or {}
        if "start" not in v or "end" not in v:
            continue
        s, e = ls_to_py_offsets(text, v["start"], v["end"], tables.unit)
        piece = text[s:e]
        for label in v.get("labels") or []:
            if label not in tables.label_set:
                tables.counts["unknown_labels"] += 1
            tables.spans.append({"article_id": aid, "annotator": who, "label": label, "start": s, "end": e,
                                 "text": piece, "reliability": reliability.get(r.get("id"))})
            stored = v.get("text")
            if isinstance(stored, str) and not same_text(stored, piece):
                tables.mismatches.append({"article_id": aid, "annotator": who, "label": label, "start": s, "end": e,
                                          "stored_text": stored, "article_text": piece})
