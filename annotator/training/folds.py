"""The worker processes a training run fits its span cross-validation's folds in, beside the final fit.

The final fit, the document model and the checks run in the training process, one after the
other: they are the build's critical path. The folds are independent of them and of each other,
so they run in worker processes meanwhile, and any CPU the training process leaves idle goes to
them. Two things keep the critical path short on a machine with fewer cores than processes:

* the workers run at a lower priority (:data:`WORKER_NICENESS`): on 2 cores the training
  process keeps a core to itself while the three folds share the other, instead of a quarter of
  the machine each, and the folds take both cores once it waits for them;
* they are forked from a fork server that imports the fitting code once (:data:`PRELOAD`), started
  before the corpora are loaded, instead of each spawned worker importing pandas, SciPy and
  scikit-learn again (where there is no fork server, e.g. Windows, they are spawned).

Each fold is deterministic: where and at what priority it runs does not change its figures.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager

__all__ = ["cv_workers", "fold_pool", "in_background", "WORKER_NICENESS", "PRELOAD"]

#: Niceness the fold workers add to their own (weight 335 against the training process's 1024 in
#: Linux's scheduler: three of them weigh about as much as it does, so on 2 cores it keeps one).
WORKER_NICENESS = 5
#: Modules the fork server imports before forking the workers (what a fold needs: the tagger's fit).
PRELOAD = ("annotator.evaluation",)


def cv_workers(span_cv, n_jobs) -> int:
    """Worker processes for the span cross-validation's folds (0: none, the folds run here after the fit).

    By default one per CPU and one more, at most one per fold: the three folds of the build run at
    once beside the final fit and end together, rather than two workers taking the third fold after
    the first two.
    """
    if not span_cv or n_jobs == 1:
        return 0
    return max(1, min(span_cv, n_jobs if n_jobs and n_jobs > 0 else (os.cpu_count() or 1) + 1))


def _context():
    """A fork server that has imported :data:`PRELOAD` (started now, so its imports overlap the
    caller's work until the first worker is needed), or fresh interpreters where there is none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))  # no effect when this process's server runs already
    multiprocessing.forkserver.ensure_running()
    return ctx


def _lower_priority(niceness: int) -> None:
    """Worker initializer: run below the training process (see the module docstring)."""
    try:
        os.nice(niceness)
    except (AttributeError, OSError):  # no os.nice (Windows), or not allowed: the same figures, later
        pass


@contextmanager
def fold_pool(workers: int, niceness: int | None = None):
    """A pool of ``workers`` processes at ``niceness`` (default :data:`WORKER_NICENESS`) below this
    one, or None for none. Enter it early (before loading the data): the workers' imports then
    overlap the loading."""
    if not workers:
        yield None
        return
    niceness = WORKER_NICENESS if niceness is None else niceness
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_lower_priority,
                             initargs=(niceness,)) as pool:
        yield pool


def in_background(fn, *args) -> Future:
    """``fn(*args)`` in a thread of its own; the Future of its result. What submits the folds: the
    first worker's start waits until the fork server has imported :data:`PRELOAD`, the caller need not."""
    future: Future = Future()

    def run():
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=run, name="fold-submit", daemon=True).start()
    return future
