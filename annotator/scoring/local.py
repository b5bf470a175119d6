"""The local engine: chunks scored in a pool of worker processes, written in input order, resumable.

The model is loaded once per worker; a bounded number of chunks is in flight; each completed chunk
is appended to ``OUT.partial/`` (:mod:`annotator.scoring.partial`) so Ctrl-C, ``kill -9`` or a
crash lose at most the chunks in flight. Workers end when their parent dies, ``kill -9`` included.
"""
from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import pickle
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..errors import AnnotatorError
from ..model import load_model
from .chunk import KEEP_ERRORS, RecordFormat, process_chunk
from .job import ScoreSummary, ScoringJob
from .partial import Partial, refuse_other_engine
from .progress import cheap_total, progress_bar

__all__ = ["run_local"]

# --- worker processes -----------------------------------------------------------------------------

_WORKER: dict = {}
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 0.5  # how often a worker checks that its parent is alive


def _watch_parent(parent: int) -> None:
    """Exit this worker as soon as its parent is gone (it is then adopted: its parent pid changes)."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _die_with_parent(parent: int | None) -> None:
    """Make this worker end when its parent process dies, even by ``kill -9``.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also watches the parent pid. ``parent`` is the pid the parent
    should have (None: whatever it is now, e.g. the fork server's).
    """
    current = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no libc prctl: the watchdog alone
    if os.getppid() != (current if parent is None else parent):
        os._exit(1)  # the parent died before the signal was set up
    threading.Thread(target=_watch_parent, args=(current,), name="annotator-parent-watch", daemon=True).start()


def _init_worker(model, model_path, spec: RecordFormat, parent: int | None = None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    _die_with_parent(parent)
    _WORKER.update(model=load_model(model_path) if model is None else model, spec=spec)


def _work(frame):
    return process_chunk(frame, _WORKER["model"], _WORKER["spec"])


def _pool(job: ScoringJob):
    """A process pool whose workers hold the model (loaded once per worker, by the initializer).

    On Linux, when this process runs no other thread, workers are forked: they
    start at once and share the loaded model. Otherwise (threads, macOS,
    Windows) they start from a fork server or are spawned, and get the model
    pickled (much faster than re-reading the skops file), or its path when it
    cannot be pickled.
    """
    model = job.model
    methods = mp.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        ctx = mp.get_context("fork")  # the model is inherited by the fork, not pickled
    else:
        if job.model_path is not None:
            try:
                pickle.dumps(model)
            except Exception:
                model = None  # each worker loads it from job.model_path
        if "forkserver" in methods:
            # workers are forked from a server process that has already imported these
            ctx = mp.get_context("forkserver")
            preload = ["annotator.scoring", "annotator.cues", "annotator.model"]
            if model is not None and type(model).__module__ not in ("__main__", "builtins"):
                preload.append(type(model).__module__)
            ctx.set_forkserver_preload(preload)
        else:
            ctx = mp.get_context("spawn")
    parent = None if ctx.get_start_method() == "forkserver" else os.getpid()  # else the fork server's
    return ProcessPoolExecutor(job.jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(model, job.model_path, job.spec, parent))


def _stop_pool(ex):
    """Stop a pool now: cancel queued chunks and terminate the workers."""
    ex.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for p in list((getattr(ex, "_processes", None) or {}).values()):
        try:
            p.terminate()
        except Exception:
            pass


def _scored_chunks(chunks, job: ScoringJob):
    """A :class:`ScoredChunk` per chunk, in input order; ``job.jobs`` processes, bounded in flight."""
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        return
    second = next(it, None)
    if job.jobs <= 1 or second is None:  # one chunk: not worth starting processes
        for chunk in (first, *(() if second is None else (second,)), *it):
            yield process_chunk(chunk, job.model, job.spec)
        return
    # objects that exist now move out of the collector's sight while workers live: a forked
    # worker's first collection would otherwise touch (and so copy) every page holding the model
    gc.freeze()
    try:
        yield from _pooled((first, second), it, job)
    finally:
        gc.unfreeze()


def _pooled(head, it, job: ScoringJob):
    ex = _pool(job)
    pending: deque = deque()
    limit = 2 * job.jobs
    try:
        for chunk in head:
            pending.append(ex.submit(_work, chunk))
        for chunk in it:
            while len(pending) >= limit:
                yield pending.popleft().result()
            pending.append(ex.submit(_work, chunk))
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        _stop_pool(ex)
        raise AnnotatorError("a worker process died (killed, or out of memory?); the rows done so far are kept: "
                             "run the same command with --resume to continue") from None
    except BaseException:
        _stop_pool(ex)
        raise
    ex.shutdown(wait=True)


# --- the run --------------------------------------------------------------------------------------


def _open_partial(job: ScoringJob) -> Partial:
    """``OUT.partial/`` resumed (``job.resume`` and an interrupted run is there) or started afresh."""
    partial = Partial(job.output, job.spec)
    if job.resume and not partial.exists():
        refuse_other_engine(partial.dir, "_state.json", "dask")
    try:
        if job.resume and partial.exists():
            partial.resume(job.fingerprint)
        else:
            if partial.dir.exists() and not job.resume:
                print(f"annotator: discarding the interrupted run in {partial.dir} (use --resume to continue it)",
                      file=sys.stderr)
            partial.start(job.fingerprint)
    except OSError as exc:
        raise AnnotatorError(f"{partial.dir}: cannot write ({exc.strerror or exc})") from None
    return partial


def run_local(job: ScoringJob) -> ScoreSummary:
    """Run ``job`` in this process (``jobs=1``) or a process pool, resumable from ``OUT.partial/``."""
    t0 = time.perf_counter()
    partial = _open_partial(job)
    done, prev_seconds = partial.state["rows"], partial.state.get("seconds", 0.0)
    enabled = sys.stderr.isatty() if job.progress is None else job.progress
    bar = progress_bar(enabled, cheap_total(job.inputs) if enabled else None, done, " rows")
    chunks = job.reader.chunks(job.inputs, done)
    errors: list = []  # (source, error) of the first failed rows, for the summary
    try:
        for chunk in _scored_chunks(chunks, job):
            partial.append(chunk, prev_seconds + time.perf_counter() - t0)
            bar.update(chunk.rows)
            errors.extend(chunk.errors[:KEEP_ERRORS - len(errors)])
        bar.close()
        partial.finish()
    except OSError as exc:
        raise AnnotatorError(f"{getattr(exc, 'filename', None) or job.output}: cannot write "
                             f"({exc.strerror or exc})") from None
    finally:
        bar.close()
        partial.close()
    st = partial.state
    return ScoreSummary(os.fspath(job.output), job.format, "local", st["rows"], st["failed"],
                        time.perf_counter() - t0, out_of_scope=st.get("out_of_scope", 0), resumed_rows=done, jobs=job.jobs, errors=tuple(errors))
