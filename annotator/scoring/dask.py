"""The Dask engine: inputs split into partitions by size, one task per partition writing one part, resumable.

On a Dask cluster (a ``LocalCluster`` of ``jobs`` single-threaded workers by default, or
``scheduler``): large inputs are split into partitions of about ``partition_size`` bytes
(:mod:`annotator.scoring.partitions`, planned on the workers), so every worker has work; the model
is uploaded once to every worker, present or joining later (:mod:`annotator.scoring.workers`);
each task scores its partition with the local engine's function and stores one output part
(:mod:`annotator.scoring.parts`), local or remote (:mod:`annotator.scoring.storage`). A task whose
worker dies is run again elsewhere, up to ``retries`` more times; the summary says how many
workers were lost and partitions retried. When retries run out, the other partitions still
finish, and one line names the failed ones (``--resume`` scores only those). Dask is an optional
dependency (the ``dask`` extra): it is imported only when this engine runs.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time

from ..errors import AnnotatorError
from .chunk import KEEP_ERRORS
from .job import ScoreSummary, ScoringJob
from .partitions import auto_partition_size, number_partitions
from .parts import PartsFolder
from .progress import progress_bar
from .records import one_line
from .storage import input_size
from .workers import ModelRef, forget_model, plan_partitions, score_partition

__all__ = ["run_dask", "local_cluster", "WORKER_SETTINGS"]

_SHOWN_FAILURES = 3


#: Worker settings for pure-Python CPU work (the README gives them as a config file for ``dask worker``):
#: glibc's own malloc thresholds (Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` makes scoring about 20 %
#: slower: memory handed back to the system after every large temporary array), background
#: monitors that wake up less often (the statistical profiler every 10 ms, the event loop's tick
#: every 20 ms: each wake-up takes the interpreter lock from the scoring thread, which then waits
#: for a CPU when every core is busy; with them a worker scored about half as fast as ``-j 1`` on a
#: busy machine), and the scoring code imported when a worker starts (pandas, scikit-learn, SciPy:
#: about 2 s of CPU, which the first task on a fresh worker paid otherwise; ``-j 1`` never pays it).
WORKER_SETTINGS = {"distributed.worker.preload": ["annotator.scoring.workers"],
                   "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                   "distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                   "distributed.worker.memory.monitor-interval": "1s",
                   "distributed.admin.system-monitor.interval": "5s"}


def local_cluster(n_workers: int, allowed_failures: int = 3):
    """The ``LocalCluster`` the engine starts: ``n_workers`` single-threaded worker processes on
    127.0.0.1, with :data:`WORKER_SETTINGS`; a task survives ``allowed_failures`` deaths of the
    worker running it."""
    import dask  # optional: the dask extra
    from dask.distributed import LocalCluster  # optional: the dask extra

    with dask.config.set({**WORKER_SETTINGS, "distributed.scheduler.allowed-failures": allowed_failures}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                            dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)


def _connect(job: ScoringJob):
    """(client, cluster): a client of ``job.scheduler``, or of a new LocalCluster (then also returned)."""
    try:
        from dask.distributed import Client  # optional: the dask extra
    except ImportError:
        raise AnnotatorError("the Dask engine needs dask[distributed]: pip install 'annotator[dask]'") from None
    if job.scheduler:
        try:
            return Client(job.scheduler, timeout="30s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise AnnotatorError(f"cannot connect to the Dask scheduler at {job.scheduler} ({exc})") from None
    cluster = local_cluster(job.jobs, job.retries)  # retries: worker deaths too (a scheduler has its own limit)
    return Client(cluster), cluster


class _LostWorkers:
    """Workers the scheduler lost (not retired) during the run, and the partitions they were running."""

    def __init__(self, run: str):
        self.prefix = f"annotator-score-{run}-"
        self.workers: set = set()
        self.partitions: set = set()
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        msg = event[1] if isinstance(event, tuple) and len(event) == 2 else event
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker" or msg.get("expected"):
            return
        with self._lock:
            self.workers.add(msg.get("worker"))
            self.partitions.update(k for k in msg.get("processing-tasks") or () if str(k).startswith(self.prefix))


def _plan(client, job: ScoringJob, folder: PartsFolder, run: str) -> tuple:
    """(partitions, partition size): large inputs are planned by tasks on the workers, in parallel."""
    from dask.distributed import wait  # optional: the dask extra

    sizes = [input_size(p) for p in job.inputs]
    size = job.partition_size
    if size is None:
        size = auto_partition_size(sum(s or 0 for s in sizes), sum(client.nthreads().values()) or job.jobs)
    opts = job.reader.read_options()
    plans = [[{"index": -1, "input": p}] for p in job.inputs]
    futures = {i: client.submit(plan_partitions, p, size, opts, folder.partial, f"_plan-{i}.json",
                                key=f"annotator-plan-{run}-{i}", retries=job.retries, pure=False)
               for i, (p, s) in enumerate(zip(job.inputs, sizes)) if s is not None and s > size}
    wait(list(futures.values()))
    for i, fut in futures.items():
        if fut.status in ("error", "cancelled"):
            raise AnnotatorError(f"{job.inputs[i]}: cannot split into partitions ({_failure_reason(fut)})")
        plans[i] = folder.partial.read_json(f"_plan-{i}.json")["partitions"]
        folder.partial.delete(f"_plan-{i}.json")
    return number_partitions(plans), size


def _upload_model(client, job: ScoringJob, run: str) -> tuple:
    """Send the pickled model once to every worker (and to workers that join later): (ref, plugin name)."""
    from distributed.diagnostics.plugin import UploadFile  # optional: the dask extra
    from distributed.protocol.pickle import dumps  # optional: the dask extra (pickle, else cloudpickle)

    data = dumps(job.model, protocol=5)
    digest = hashlib.sha256(data).hexdigest()[:16]
    ref = ModelRef(digest, f"annotator-model-{digest}-{run}.pkl")
    with tempfile.TemporaryDirectory(prefix="annotator-") as tmp:
        path = os.path.join(tmp, ref.filename)
        with open(path, "wb") as f:
            f.write(data)
        plugin = UploadFile(path, load=False)
    name = f"annotator-model-{run}"
    client.register_plugin(plugin, name=name)
    return ref, name


def _drop_model(client, ref: ModelRef, name: str) -> None:
    """Unregister the upload and free the model on the workers (best effort: a worker may be gone)."""
    try:
        client.unregister_worker_plugin(name)
    except Exception:
        pass
    try:
        client.run(forget_model, ref, on_error="ignore")
    except Exception:
        pass


def _failure_reason(fut) -> str:
    try:
        exc = fut.exception()
    except BaseException as cancelled:  # a cancelled future raises its CancelledError
        if isinstance(cancelled, KeyboardInterrupt):
            raise
        exc = cancelled
    return _reason(exc)


def _reason(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        tries = getattr(exc, "allowed_failures", 0) + 1
        return f"its worker died each of the {tries} times it ran (killed, or out of memory?)"
    return f"{type(exc).__name__}: {one_line(exc, 200)}"


def _run_tasks(client, job: ScoringJob, folder: PartsFolder, parts: list, todo: list, done: dict, bar,
               run: str) -> dict:
    """Score the partitions ``todo``, recording each finished one in ``done``; the failed ones' reasons."""
    from dask.distributed import as_completed  # optional: the dask extra

    ref, name = _upload_model(client, job, run)
    futures = {}
    try:
        for i in todo:
            fut = client.submit(score_partition, parts[i], folder.partial, ref, job.spec, job.reader, folder.width,
                                key=f"annotator-score-{run}-{i}", retries=job.retries, pure=False)
            futures[fut] = i
        failed = {}
        # results are not gathered from the workers: a finished task has stored its marker, which is
        # read instead (gathering a result whose worker has just died can wait for ever)
        for fut in as_completed(list(futures)):
            i = futures.pop(fut)
            if fut.status in ("error", "cancelled"):
                failed[i] = _failure_reason(fut)
            else:
                done[i] = folder.marker(i)
            fut.release()  # a finished task is not run again when its worker dies later
            if i in done:
                bar.update(1)
        return failed
    finally:
        try:
            client.cancel(list(futures))
        except Exception:
            pass
        _drop_model(client, ref, name)


def _failure(parts: list, failed: dict, folder: PartsFolder) -> str:
    shown = "; ".join(f"{parts[i].describe()}: {failed[i]}" for i in sorted(failed)[:_SHOWN_FAILURES])
    more = f"; and {len(failed) - _SHOWN_FAILURES} more" if len(failed) > _SHOWN_FAILURES else ""
    return (f"{len(failed)} of {len(parts)} partitions failed ({shown}{more}); the others are kept in "
            f"{folder.partial.url}: run the same command with --resume to score the rest")


def _score(client, job: ScoringJob, folder: PartsFolder, parts, run: str, lost: _LostWorkers) -> tuple:
    """(partitions, finished markers by index, indices of the resumed ones, failed partitions' reasons)."""
    if parts is None:
        parts, size = _plan(client, job, folder, run)
        folder.start(job, parts, size)
    done = folder.finished(parts)
    resumed = set(done)
    todo = [p.index for p in parts if p.index not in done]
    bar = progress_bar(job.progress, len(parts), len(done), " partitions")
    failed = {}
    try:
        if todo:
            client.subscribe_topic("all", lost)
            failed = _run_tasks(client, job, folder, parts, todo, done, bar, run)
    finally:
        bar.close()
    return parts, done, resumed, failed


def _row_errors(parts: list, done: dict, resumed: set) -> tuple:
    """``(source, error)`` of the first failed rows this run scored, in input order (as the local engine)."""
    errors = []
    for p in parts:
        if p.index not in resumed:
            errors.extend(tuple(e) for e in done[p.index].get("errors", ())[:KEEP_ERRORS - len(errors)])
    return tuple(errors)


def run_dask(job: ScoringJob) -> ScoreSummary:
    """Run ``job`` on a Dask cluster, one task per partition, resumable by partition."""
    t0 = time.perf_counter()
    folder = PartsFolder(job)
    parts = folder.open(job)
    run = os.urandom(4).hex()
    lost = _LostWorkers(run)
    client, cluster = _connect(job)
    try:
        parts, done, resumed, failed = _score(client, job, folder, parts, run, lost)
    finally:
        try:
            client.unsubscribe_topic("all")
        except Exception:
            pass
        client.close()
        if cluster is not None:
            cluster.close()
        folder.cleanup()  # no temporary file outlives the run, whatever its end
    if failed:
        raise AnnotatorError(_failure(parts, failed, folder))
    errors = _row_errors(parts, done, resumed)
    summary = folder.finish(job, parts, done)
    return ScoreSummary(folder.out.url, job.format, "dask", summary["rows"], summary["failed"],
                        time.perf_counter() - t0, resumed_rows=sum(done[i]["rows"] for i in resumed),
                        partitions=len(parts), jobs=job.jobs, errors=errors, workers_lost=len(lost.workers),
                        retried=len(lost.partitions), out_of_scope=summary["out_of_scope"])
