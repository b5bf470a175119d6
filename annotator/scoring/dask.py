"""The Dask engine: one task per input partition, each writing one output part, resumable by part.

The scoring function is the local engine's (:func:`annotator.scoring.chunk.process_chunk`), run on
a Dask cluster (a ``LocalCluster`` by default, or ``scheduler``). Folders of tables and glob
patterns are expanded to their files, one partition each, so ``OUT`` is a folder of
``part-NNNNN.<format>`` files in input order plus ``_summary.json``. Dask is an optional
dependency (the ``dask`` extra): it is imported only when this engine runs.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from ..errors import AnnotatorError
from ..io import atomic_folder, atomic_output
from .chunk import RecordFormat, process_chunk
from .formats import csv_header, parquet_schema
from .inputs import ReaderOptions
from .job import ScoreSummary, ScoringJob
from .partial import STATE_VERSION, load_state, partial_dir, refuse_other_engine, write_json
from .progress import progress_bar
from .records import one_line

__all__ = ["run_dask"]


def _part_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{fmt}"


def _marker(outdir: Path, index: int) -> Path:
    return outdir / f"_part-{index:05d}.json"


def _score_partition(index, path, outdir, model, spec: RecordFormat, reader: ReaderOptions):
    """One Dask task: read one input partition, score it chunk by chunk, write one output part.

    The part is written to a temporary file and renamed; then its marker
    ``_part-NNNNN.json`` (rows, failed) records it as done, so a retried or
    resumed task never leaves a half-written part.
    """
    outdir = Path(outdir)
    part = outdir / _part_name(index, spec.format)
    rows = failed = 0
    with atomic_output(part) as fh:
        writer = None
        if spec.format == "parquet":
            import pyarrow.parquet as pq  # optional/lazy: only Parquet output needs it

            writer = pq.ParquetWriter(fh, parquet_schema(spec.labels))
        elif spec.format == "csv":
            fh.write(csv_header(spec.labels))
        for chunk in reader.chunks([path]):
            scored = process_chunk(chunk, model, spec)
            if writer is not None:
                writer.write_table(scored.payload)
            else:
                fh.write(scored.payload)
            rows += scored.rows
            failed += scored.failed
        if writer is not None:
            writer.close()
    result = {"index": index, "input": path, "part": part.name, "rows": rows, "failed": failed}
    write_json(_marker(outdir, index), result)
    return result


def _connect(scheduler, jobs):
    """(client, cluster): a client of ``scheduler``, or of a new LocalCluster (then also returned)."""
    try:
        from dask.distributed import Client, LocalCluster  # optional: the dask extra
    except ImportError:
        raise AnnotatorError("the Dask engine needs dask[distributed]: pip install 'annotator[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise AnnotatorError(f"cannot connect to the Dask scheduler at {scheduler} ({exc})") from None
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _open_state(pdir: Path, job: ScoringJob) -> None:
    """Check the state of the interrupted run to resume, or start ``OUT.partial/`` afresh."""
    state_path = pdir / "_state.json"
    if job.resume and not state_path.is_file():
        refuse_other_engine(pdir, "state.json", "local")
    if job.resume and state_path.is_file():
        load_state(state_path, job.fingerprint)
        return
    if pdir.exists():
        if not job.resume:
            print(f"annotator: discarding the interrupted run in {pdir} (use --resume to continue it)",
                  file=sys.stderr)
        shutil.rmtree(pdir)
    pdir.mkdir(parents=True)
    write_json(state_path, {"version": STATE_VERSION, "fingerprint": job.fingerprint,
                            "partitions": len(job.inputs)})


def _finished_parts(pdir: Path, fmt: str, n: int) -> dict:
    """Markers of the partitions whose part is written, by index."""
    done = {}
    for i in range(n):
        marker = _marker(pdir, i)
        if marker.is_file() and (pdir / _part_name(i, fmt)).is_file():
            done[i] = json.loads(marker.read_text(encoding="utf-8"))
    return done


def _run_tasks(job: ScoringJob, pdir: Path, todo: list, done: dict, bar) -> None:
    """Score the partitions ``todo`` on the cluster, recording each finished one in ``done``."""
    client, cluster = _connect(job.scheduler, job.jobs)
    futures = []
    try:
        model_future = client.scatter(job.model, broadcast=True, hash=False)
        futures = [client.submit(_score_partition, i, job.inputs[i], os.fspath(pdir), model_future, job.spec,
                                 job.reader, pure=False, key=f"annotator-score-{i}-{os.urandom(6).hex()}")
                   for i in todo]
        from dask.distributed import as_completed  # optional: the dask extra

        for fut in as_completed(futures):
            try:
                res = fut.result()
            except Exception as exc:
                i = todo[futures.index(fut)]
                raise AnnotatorError(f"{job.inputs[i]}: scoring task failed ({type(exc).__name__}: "
                                     f"{one_line(exc)}); finished partitions are kept: run again with "
                                     f"--resume") from None
            done[res["index"]] = res
            bar.update(1)
    finally:
        bar.close()
        try:
            client.cancel(futures)
        except Exception:
            pass
        client.close()
        if cluster is not None:
            cluster.close()


def _finish(job: ScoringJob, pdir: Path, done: dict, output: Path) -> dict:
    """Write ``_summary.json``, remove the markers and state, and swap ``OUT.partial/`` in as ``OUT``."""
    parts = [done[i] for i in range(len(job.inputs))]
    summary = {"rows": sum(p["rows"] for p in parts), "failed": sum(p["failed"] for p in parts),
               "format": job.format, "fingerprint": job.fingerprint,
               "partitions": [{"input": p["input"], "part": p["part"], "rows": p["rows"], "failed": p["failed"]}
                              for p in parts]}
    write_json(pdir / "_summary.json", summary)
    for i in range(len(job.inputs)):
        _marker(pdir, i).unlink(missing_ok=True)
    (pdir / "_state.json").unlink(missing_ok=True)
    for leftover in pdir.glob(".*.tmp"):  # temporary files of tasks that were retried elsewhere
        leftover.unlink(missing_ok=True)
    with atomic_folder(output) as ready:
        ready.rmdir()
        os.replace(pdir, ready)  # the finished folder itself (its mode kept) takes the new folder's place
    return summary


def run_dask(job: ScoringJob) -> ScoreSummary:
    """Run ``job`` on a Dask cluster, one task per input partition, resumable by partition."""
    t0 = time.perf_counter()
    output = job.output.absolute()  # the workers write here: not relative to their working folder
    pdir = partial_dir(output)
    _open_state(pdir, job)
    done = _finished_parts(pdir, job.format, len(job.inputs))
    resumed_rows = sum(d["rows"] for d in done.values())
    todo = [i for i in range(len(job.inputs)) if i not in done]
    bar = progress_bar(job.progress, len(job.inputs), len(done), " partitions")
    if todo:
        _run_tasks(job, pdir, todo, done, bar)
    bar.close()
    summary = _finish(job, pdir, done, output)
    return ScoreSummary(os.fspath(output), job.format, "dask", summary["rows"], summary["failed"],
                        time.perf_counter() - t0, resumed_rows=resumed_rows, partitions=len(job.inputs),
                        jobs=job.jobs)
