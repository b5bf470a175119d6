"""The annotation dataset: one shape for Label Studio pulls and corpus imports.

A dataset is three tidy tables (pandas DataFrames):

``articles``
    ``article_id`` (str), ``text`` (str), ``title``, ``date``, ``outlet``, ``url``
    (str or missing), ``corpus`` (str: where the article came from, e.g. ``ptc``,
    ``polnear``, ``szeged``, or a Label Studio project title).
``documents``
    one row per (article, annotator) judgement: ``article_id``, ``annotator`` (str),
    ``framing_risk`` (a rating choice from the taxonomy, or missing), ``lead_time``
    (seconds, float), ``created_at``, ``updated_at`` (ISO-8601 str or missing),
    ``cancelled`` (bool).
``spans``
    ``article_id``, ``annotator``, ``label`` (taxonomy span-label id), ``start``,
    ``end`` (Python string indices into the article text, end exclusive), ``text``
    (the article text at those offsets), ``reliability`` (a reliability choice or
    missing).

On disk a dataset is a folder with ``articles.parquet``, ``documents.parquet``,
``spans.parquet`` and ``meta.json``; :func:`write_dataset` replaces the folder
atomically.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import AnnotatorError
from .io import atomic_folder

__all__ = ["Dataset", "ARTICLE_COLUMNS", "DOCUMENT_COLUMNS", "SPAN_COLUMNS", "read_dataset", "write_dataset", "concat"]

ARTICLE_COLUMNS = ["article_id", "text", "title", "date", "outlet", "url", "corpus"]
DOCUMENT_COLUMNS = ["article_id", "annotator", "framing_risk", "lead_time", "created_at", "updated_at", "cancelled"]
SPAN_COLUMNS = ["article_id", "annotator", "label", "start", "end", "text", "reliability"]

_DTYPES = {
    "articles": {c: "string" for c in ARTICLE_COLUMNS},
    "documents": {
        "article_id": "string", "annotator": "string", "framing_risk": "string", "lead_time": "float64",
        "created_at": "string", "updated_at": "string", "cancelled": "bool",
    },
    "spans": {
        "article_id": "string", "annotator": "string", "label": "string", "start": "int64", "end": "int64",
        "text": "string", "reliability": "string",
    },
}
_COLUMNS = {"articles": ARTICLE_COLUMNS, "documents": DOCUMENT_COLUMNS, "spans": SPAN_COLUMNS}


class DatasetError(AnnotatorError, ValueError):
    """A dataset folder is missing, incomplete or malformed."""


def _conform(name: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    cols = _COLUMNS[name]
    frame = pd.DataFrame(columns=cols) if frame is None else frame.copy()
    for col in cols:
        if col not in frame.columns:
            frame[col] = False if col == "cancelled" else None
    frame = frame[cols]
    if name == "documents":
        frame["cancelled"] = frame["cancelled"].fillna(False)
        frame["lead_time"] = pd.to_numeric(frame["lead_time"], errors="coerce")
    return frame.astype(_DTYPES[name]).reset_index(drop=True)


@dataclass
class Dataset:
    """Articles, document judgements and spans; see the module docstring for the schema."""

    articles: pd.DataFrame = None
    documents: pd.DataFrame = None
    spans: pd.DataFrame = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.articles = _conform("articles", self.articles)
        self.documents = _conform("documents", self.documents)
        self.spans = _conform("spans", self.spans)

    def __len__(self) -> int:
        return len(self.articles)

    def summary(self) -> dict:
        """Counts: articles, annotators, spans per label, articles per corpus."""
        return {
            "articles": int(len(self.articles)),
            "annotators": int(self.documents["annotator"].nunique()),
            "documents": int(len(self.documents)),
            "spans": int(len(self.spans)),
            "spans_per_label": {k: int(v) for k, v in self.spans["label"].value_counts().sort_index().items()},
            "articles_per_corpus": {k: int(v) for k, v in self.articles["corpus"].value_counts().sort_index().items()},
        }

    def subset(self, article_ids) -> "Dataset":
        """The dataset restricted to ``article_ids``."""
        keep = set(article_ids)
        return Dataset(
            self.articles[self.articles["article_id"].isin(keep)],
            self.documents[self.documents["article_id"].isin(keep)],
            self.spans[self.spans["article_id"].isin(keep)],
            dict(self.meta),
        )

    def check_offsets(self) -> pd.DataFrame:
        """Spans whose ``text`` differs from the article text at ``start:end``."""
        texts = dict(zip(self.articles["article_id"], self.articles["text"]))
        bad = [
            i for i, (aid, s, e, t) in enumerate(
                zip(self.spans["article_id"], self.spans["start"], self.spans["end"], self.spans["text"])
            )
            if aid not in texts or texts[aid][s:e] != t
        ]
        return self.spans.iloc[bad]


def concat(datasets) -> Dataset:
    """Stack several datasets (article ids must not collide)."""
    datasets = list(datasets)
    out = Dataset(
        pd.concat([d.articles for d in datasets], ignore_index=True),
        pd.concat([d.documents for d in datasets], ignore_index=True),
        pd.concat([d.spans for d in datasets], ignore_index=True),
        {"parts": [d.meta for d in datasets]},
    )
    dup = out.articles["article_id"].duplicated()
    if dup.any():
        raise DatasetError(f"duplicate article ids across datasets: {list(out.articles['article_id'][dup][:5])}")
    return out


def write_dataset(dataset: Dataset, path: str | os.PathLike) -> Path:
    """Write ``dataset`` to the folder ``path``, replacing it atomically."""
    path = Path(path)
    with atomic_folder(path) as tmp:
        for name in _COLUMNS:
            getattr(dataset, name).to_parquet(tmp / f"{name}.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps(dataset.meta, indent=2, default=str), encoding="utf-8")
    return path


def read_dataset(path: str | os.PathLike) -> Dataset:
    """Read a dataset folder written by :func:`write_dataset`."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path}: not a dataset folder")
    frames = {}
    for name in _COLUMNS:
        f = path / f"{name}.parquet"
        if not f.exists():
            raise DatasetError(f"{path}: missing {f.name}")
        frames[name] = pd.read_parquet(f)
    meta_file = path / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    return Dataset(frames["articles"], frames["documents"], frames["spans"], meta)
