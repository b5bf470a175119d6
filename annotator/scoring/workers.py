"""What runs on a Dask worker: the model loaded once per worker, and the task scoring one partition.

The client uploads the pickled model to every worker, present or joining later (Dask's
``UploadFile`` plugin: a worker started to replace a dead one gets it too), as a file in the
worker's own folder. The first task on a worker unpickles it into a per-process cache keyed by
its digest, builds its prediction lookups (``warm()``, as :func:`annotator.model.load_model`
does: the pickle leaves them out) and moves it out of the garbage collector's sight
(``gc.freeze``, as the local engine's forked workers do), so a task costs what the local
engine's chunks cost. Importing this module is what a worker should do when it starts
(``distributed.worker.preload``, :data:`annotator.scoring.dask.WORKER_SETTINGS`): the imports
(pandas, scikit-learn, SciPy: about 2 s of CPU) are then not paid by the first task of a run. A task writes
its output part to an anonymous temporary file (nothing left on disk if the worker dies) and
stores it in one step, then its marker.
"""
from __future__ import annotations

import gc
import glob
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass
from typing import NamedTuple

from .chunk import KEEP_ERRORS, RecordFormat, process_chunk
from .formats import csv_header, parquet_schema
from .inputs import ReaderOptions
from .partitions import Partition, plan_input
from .ranges import partition_chunks
from .storage import Folder

__all__ = ["ModelRef", "score_partition", "plan_partitions", "forget_model", "part_name", "marker_name"]

_MODELS: dict = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelRef:
    """Where a worker finds the model of a run: ``filename`` in its own folder; ``digest`` (SHA-256 of
    the pickle) keys the cache."""

    digest: str
    filename: str


def part_name(index: int, fmt: str, width: int = 5) -> str:
    return f"part-{index:0{width}d}.{fmt}"


def marker_name(index: int, width: int = 5) -> str:
    return f"_part-{index:0{width}d}.json"


def _worker():
    from distributed import get_worker  # optional: the dask extra

    return get_worker()


def worker_model(ref: ModelRef):
    """The run's model, unpickled on this worker's first task, then cached."""
    model = _MODELS.get(ref.digest)
    if model is not None:
        return model
    with _LOCK:
        if ref.digest not in _MODELS:
            path = os.path.join(_worker().local_directory, ref.filename)
            with open(path, "rb") as f:
                model = pickle.load(f)
            warm = getattr(model, "warm", None)
            if callable(warm):
                warm()  # the lookups the pickle leaves out, built once here rather than in a chunk
            _MODELS[ref.digest] = model
            gc.freeze()  # the model's objects stay out of every collection (each would walk them all)
        return _MODELS[ref.digest]


def forget_model(ref: ModelRef, dask_worker=None) -> None:
    """Drop the run's model file from this worker, and the model when no other run uses it
    (run by ``Client.run``, which passes the worker as ``dask_worker``)."""
    folder = (dask_worker or _worker()).local_directory
    try:
        os.unlink(os.path.join(folder, ref.filename))
    except FileNotFoundError:
        pass
    with _LOCK:
        if not glob.glob(os.path.join(folder, f"annotator-model-{ref.digest}-*")):
            if _MODELS.pop(ref.digest, None) is not None and not _MODELS:
                gc.unfreeze()


def plan_partitions(path: str, size: int, opts, out: Folder, name: str) -> None:
    """One Dask task: the partitions of one large input (:func:`plan_input`), stored as ``name`` in ``out``
    (read from there by the client, not gathered from the worker's memory)."""
    out.write_json(name, {"partitions": plan_input(path, size, opts)})


class PartCounts(NamedTuple):
    """What scoring one partition gave: rows, failed rows, ``[source, error]`` of the first
    :data:`KEEP_ERRORS` failed rows, rows out of scope."""

    rows: int
    failed: int
    errors: list
    out_of_scope: int


def _write_part(spool, part: Partition, model, spec: RecordFormat, reader: ReaderOptions) -> tuple:
    """Score the partition into ``spool`` chunk by chunk, as the local engine does: its :class:`PartCounts`."""
    rows = failed = out_of_scope = 0
    errors: list = []
    writer = None
    if spec.format == "parquet":
        import pyarrow.parquet as pq  # optional/lazy: only Parquet output needs it

        writer = pq.ParquetWriter(spool, parquet_schema(spec.labels))
    elif spec.format == "csv":
        spool.write(csv_header(spec.labels))
    for chunk in partition_chunks(part, reader):
        scored = process_chunk(chunk, model, spec)
        if writer is not None:
            writer.write_table(scored.payload)
        else:
            spool.write(scored.payload)
        rows += scored.rows
        failed += scored.failed
        out_of_scope += scored.out_of_scope
        errors.extend([src, err] for src, err in scored.errors[:KEEP_ERRORS - len(errors)])
    if writer is not None:
        writer.close()
    return PartCounts(rows, failed, errors, out_of_scope)


def score_partition(part: Partition, out: Folder, ref: ModelRef, spec: RecordFormat, reader: ReaderOptions,
                    width: int = 5) -> dict:
    """One Dask task: score a partition, store its output part in ``out``, then its marker; the marker.

    The part is written to an anonymous temporary file first and stored in one step (locally: a
    temporary name renamed; remotely: one upload), so a retried or resumed task never finds half
    a part.
    """
    name, marker_file = part_name(part.index, spec.format, width), marker_name(part.index, width)
    if out.has(marker_file) and out.has(name):  # done by an earlier run of this task (its result was lost)
        return out.read_json(marker_file)
    model = worker_model(ref)
    with tempfile.TemporaryFile() as spool:
        counts = _write_part(spool, part, model, spec, reader)
        out.put(name, spool)
    marker = {"index": part.index, "input": part.input, "range": None if part.kind == "file" else part.describe(),
              "part": name, "rows": counts.rows, "failed": counts.failed, "out_of_scope": counts.out_of_scope,
              "errors": counts.errors, "worker": _worker().address}
    out.write_json(marker_file, marker)
    return marker
