"""One unit of work of every engine: a chunk of articles scored and encoded in the output format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .formats import encode
from .records import score_records

__all__ = ["RecordFormat", "ScoredChunk", "process_chunk"]


@dataclass(frozen=True)
class RecordFormat:
    """What a chunk becomes: records with a count per label, bands among ``choices``, encoded as ``format``."""

    format: str
    labels: tuple
    choices: tuple


class ScoredChunk(NamedTuple):
    """A scored chunk: its encoded records (bytes, or a pyarrow Table for Parquet), rows and failed rows."""

    payload: Any
    rows: int
    failed: int


def process_chunk(frame, model, spec: RecordFormat) -> ScoredChunk:
    """Score one chunk of articles with ``model`` and encode its records."""
    records = score_records(frame, model, spec.labels, spec.choices)
    failed = sum(r["error"] is not None for r in records)
    return ScoredChunk(encode(records, spec.format, spec.labels), len(records), failed)
