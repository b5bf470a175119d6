"""The training queue: webhooks only enqueue, debounced; one job at a time in a subprocess; the new model swapped in.

:meth:`Trainer.enqueue` records that a project wants a retrain and returns at once (a webhook
answers in milliseconds). A project is trained ``debounce`` seconds after its last event (at most
``max_wait`` after its first, so a busy team still gets retrains). One worker thread runs one job
at a time as a subprocess (:mod:`annotator.backend.job`: it holds no lock of the server, and a
crash of either side cannot leave a half-written model). Predictions keep coming from the served
model meanwhile. When the job succeeds, the model is listed in the registry, loaded, swapped in
(:meth:`ModelHolder.swap`), and the project's ML backend in Label Studio is retitled to the new
version (:func:`annotator.backend.link.rename_backend`). When Label Studio is unreachable the job
is retried with backoff; every outcome is kept in the registry for ``annotator backend status``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..io import write_json_atomic
from ..studio.client import connect
from ..studio.errors import StudioError
from ..studio.files import read_json, utc_now
from .link import rename_backend
from .models import ModelHolder
from .registry import Registry, VersionEntry

__all__ = ["Trainer", "RETRY_DELAYS"]

#: Seconds before each retry of a job that could not reach Label Studio.
RETRY_DELAYS = (5, 15, 45, 120, 300)


class Trainer:
    """One background training worker for every project the backend serves.

    Parameters
    ----------
    data_dir : path
    holder : ModelHolder
    connection : callable(project_id) -> (url, api_key) or None
        Where the project's Label Studio is (``None``: unknown yet, the job fails and says so).
    debounce, max_wait : float
        Seconds after a project's last event (and at most after its first) before it trains.
    options : dict
        Training options for the job (``budget_chars``: characters fitted, ``base_corpora``, ``data_dir``).
    on_new_model : list of callable(project_id, version, url, api_key)
        Called after a new model is served and Label Studio told (e.g. to refresh a review queue);
        a failure is logged in the registry's last training, never raised.
    """

    def __init__(self, data_dir, holder: ModelHolder, connection, *, debounce: float = 10.0,
                 max_wait: float | None = None, options: dict | None = None, retry_delays=RETRY_DELAYS,
                 on_new_model=()):
        self.data_dir = Path(data_dir)
        self.holder = holder
        self.connection = connection
        self.debounce = float(debounce)
        self.max_wait = float(max_wait if max_wait is not None else max(60.0, 6 * self.debounce))
        self.options = dict(options or {})
        self.retry_delays = tuple(retry_delays)
        self.on_new_model = list(on_new_model)
        self._cv = threading.Condition()
        self._due: dict[int, float] = {}
        self._first: dict[int, float] = {}
        self._attempts: dict[int, int] = {}
        self._stop = False
        self.running: dict | None = None
        self.studio: dict = {"reachable": None, "checked_at": None, "message": None}
        self._thread = threading.Thread(target=self._loop, name="trainer", daemon=True)

    def start(self) -> "Trainer":
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
            proc = (self.running or {}).get("proc")
        if proc is not None and proc.poll() is None:
            proc.terminate()

    # the queue
    def enqueue(self, project_id: int, *, delay: float | None = None) -> dict:
        """Queue a retrain of ``project_id`` (debounced); returns at once."""
        now = time.monotonic()
        with self._cv:
            first = self._first.setdefault(project_id, now)
            due = now + (self.debounce if delay is None else delay)
            self._due[project_id] = min(due, first + self.max_wait) if delay is None else due
            self._cv.notify_all()
            return {"queued": project_id, "in_seconds": round(self._due[project_id] - now, 1)}

    def queue(self) -> list[dict]:
        now = time.monotonic()
        with self._cv:
            return [{"project_id": p, "in_seconds": round(max(0.0, d - now), 1),
                     "attempt": self._attempts.get(p, 0)} for p, d in sorted(self._due.items(), key=lambda x: x[1])]

    def status(self) -> dict:
        run = self.running
        running = None if run is None else {k: v for k, v in run.items() if k != "proc"} | {
            "seconds": round(time.monotonic() - run["t0"], 1)}
        if running:
            running.pop("t0", None)
        return {"queue": self.queue(), "running": running, "label_studio": dict(self.studio)}

    def _next(self) -> int | None:
        with self._cv:
            while not self._stop:
                now = time.monotonic()
                if self._due:
                    pid, due = min(self._due.items(), key=lambda x: x[1])
                    if due <= now:
                        del self._due[pid]
                        self._first.pop(pid, None)
                        return pid
                    self._cv.wait(due - now)
                else:
                    self._cv.wait()
        return None

    def _loop(self) -> None:
        while (pid := self._next()) is not None:
            try:
                self._train(pid)
            except Exception as exc:  # never let one project's failure stop the worker
                Registry(self.data_dir, pid).record_training(
                    {"status": "failed", "message": f"{exc.__class__.__name__}: {str(exc)[:200]}"})
            finally:
                self.running = None

    # one job
    def _train(self, pid: int) -> None:
        reg = Registry(self.data_dir, pid)
        reg.sweep()
        where = self.connection(pid)
        if where is None:
            reg.record_training({"status": "failed", "message": "no Label Studio known for this project yet: "
                                 "connect it (annotator push --project NAME) or set LABEL_STUDIO_URL"})
            return
        url, api_key = where
        version = reg.next_version()
        jobs = reg.root / "jobs"
        jobs.mkdir(parents=True, exist_ok=True)
        spec_path, result_path = jobs / f"{version}.spec.json", jobs / f"{version}.result.json"
        result_path.unlink(missing_ok=True)
        spec = {"project_id": pid, "url": url, "version": version, "out": str(reg.model_path(version)),
                "result": str(result_path), "base_model": str(self.holder.base_path) if self.holder.base_path else None,
                "options": self.options, "parent_pid": os.getpid()}
        write_json_atomic(spec_path, spec)
        env = {k: v for k, v in os.environ.items() if k not in ("ANNOTATOR_BACKEND_PASSWORD",)}
        env["LABEL_STUDIO_API_KEY"] = api_key or ""
        with open(jobs / f"{version}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "annotator.backend.job", str(spec_path)], env=env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.running = {"project_id": pid, "version": version, "pid": proc.pid, "started_at": utc_now(),
                        "t0": time.monotonic(), "proc": proc}
        rc = proc.wait()
        result = read_json(result_path) or {"status": "failed", "message": f"the job ended with status {rc} "
                                            f"and no result (log: {jobs / f'{version}.log'})"}
        spec_path.unlink(missing_ok=True)
        self._finish(pid, reg, result, url, api_key)

    def _finish(self, pid: int, reg: Registry, result: dict, url: str, api_key: str | None) -> None:
        status = result.get("status")
        if status == "unreachable":
            self.studio = {"reachable": False, "checked_at": utc_now(), "message": result.get("message")}
            attempt = self._attempts.get(pid, 0)
            if attempt < len(self.retry_delays):
                self._attempts[pid] = attempt + 1
                self.enqueue(pid, delay=self.retry_delays[attempt])
                result = {**result, "retry": f"{attempt + 1} of {len(self.retry_delays)} in "
                                             f"{self.retry_delays[attempt]} s"}
            reg.record_training(result)
            return
        self._attempts.pop(pid, None)
        self.studio = {"reachable": True, "checked_at": utc_now(), "message": None}
        if status != "ok":
            reg.sweep()
            reg.record_training(result)
            return
        old = self.holder.version(pid)
        entry = VersionEntry(result["version"], f"models/{result['file']}", utc_now(), result.get("counts") or {},
                             result.get("figures") or {}, float(result.get("seconds") or 0))
        reg.add(entry)
        self.holder.swap(pid, entry.version)
        result = {**result, "renamed": self.retitle(pid, url, api_key, old, entry.version)}
        for hook in self.on_new_model:
            try:
                hook(pid, entry.version, url, api_key)
            except Exception as exc:  # a hook (a queue refresh) must not undo the swap
                result.setdefault("hooks", []).append(f"{getattr(hook, '__name__', hook)}: "
                                                      f"{exc.__class__.__name__}: {str(exc)[:200]}")
        reg.record_training(result)

    def retitle(self, pid: int, url: str, api_key: str | None, old: str, new: str) -> str:
        """Retitle the project's ML backend to the new version, retried with backoff; what happened."""
        last = ""
        for attempt, pause in enumerate((0, 1, 3, 9)):
            time.sleep(pause)
            try:
                n = rename_backend(connect(url, api_key, timeout=30), pid, old, new)
                return f"{n} ML backend(s) retitled {old} -> {new}"
            except StudioError as exc:
                last = str(exc)
                self.studio = {"reachable": False, "checked_at": utc_now(), "message": last}
        return f"not retitled after 4 tries ({last}); 'annotator push --project NAME' reconnects"

