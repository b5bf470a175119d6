"""One unit of work of every engine: a chunk of articles scored and encoded in the output format."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .formats import encode
from .records import OUT_OF_SCOPE, score_records

__all__ = ["KEEP_ERRORS", "RecordFormat", "ScoredChunk", "process_chunk"]


@dataclass(frozen=True)
class RecordFormat:
    """What a chunk becomes: records with a count per label, bands among ``choices``, encoded as ``format``;
    ``cutoffs``: ``(label, min score)`` pairs of the spans kept (``("*", x)``: every label), None: all;
    ``scope_check``: texts out of the model's scope are not scored (status ``out_of_scope``)."""

    format: str
    labels: tuple
    choices: tuple
    cutoffs: tuple | None = None
    scope_check: bool = True


#: Failed rows of a chunk whose (source, error) a :class:`ScoredChunk` keeps, for the run's summary.
KEEP_ERRORS = 3


class ScoredChunk(NamedTuple):
    """A scored chunk: its encoded records (bytes, or a pyarrow Table for Parquet), rows, failed rows and
    rows out of scope.

    ``errors`` holds ``(source, error)`` of its first :data:`KEEP_ERRORS` failed rows.
    """

    payload: Any
    rows: int
    failed: int
    errors: tuple = ()
    out_of_scope: int = 0


def process_chunk(frame, model, spec: RecordFormat) -> ScoredChunk:
    """Score one chunk of articles with ``model`` and encode its records."""
    records = score_records(frame, model, spec.labels, spec.choices, spec.cutoffs, spec.scope_check)
    bad = [r for r in records if r["error"] is not None]
    errors = tuple((r["source"] or r["id"], r["error"]) for r in bad[:KEEP_ERRORS])
    out = sum(r["status"] == OUT_OF_SCOPE for r in records)
    return ScoredChunk(encode(records, spec.format, spec.labels), len(records), len(bad), errors, out)
