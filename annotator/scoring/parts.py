"""The Dask engine's output: ``OUT.partial/`` with its state, one part and marker per partition, then ``OUT``.

``_state.json`` records the fingerprint of the run and its partitions (so a resume reads the same
ranges whatever the cluster); each finished task stores ``part-NNNNN.<fmt>`` and then its marker
``_part-NNNNN.json``. When every partition is done, ``_summary.json`` is written, the markers and
the state removed, and the folder becomes ``OUT`` (locally by renames; remotely by moving the
objects). Local or remote alike (:class:`annotator.scoring.storage.Folder`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import AnnotatorError
from .job import ScoringJob
from .partial import STATE_VERSION, _check_state, refuse_other_engine
from .partitions import Partition
from .storage import Folder
from .workers import marker_name, part_name

__all__ = ["PartsFolder"]

_STATE = "_state.json"


class PartsFolder:
    """``OUT.partial/`` of a Dask run, and ``OUT``."""

    def __init__(self, job: ScoringJob):
        self.out = Folder.of(job.location or job.output)
        self.partial = self.out.sibling(".partial")
        self.fmt = job.format
        self.width = 5

    def open(self, job: ScoringJob) -> list | None:
        """The partitions of the interrupted run to resume (checked against ``job``), or None after
        clearing ``OUT.partial/`` for a fresh start."""
        names = set(self.partial.names())
        if job.resume and _STATE not in names and not self.partial.remote:
            refuse_other_engine(Path(self.partial.url), "state.json", "local")
        if job.resume and _STATE in names:
            state = self._state(job)
            parts = [Partition(**p) for p in state["partitions"]]
            self.width = max(5, len(str(len(parts) - 1)))
            return parts
        if names and not job.resume:
            print(f"annotator: discarding the interrupted run in {self.partial.url} (use --resume to continue it)",
                  file=sys.stderr)
        self.partial.reset()
        return None

    def _state(self, job: ScoringJob) -> dict:
        where = self.partial.url
        try:
            state = self.partial.read_json(_STATE)
        except (OSError, ValueError) as exc:
            raise AnnotatorError(f"{where}: cannot resume: unreadable state ({exc}); "
                                 f"run without --resume to start again") from None
        _check_state(state, job.fingerprint, where)
        if not isinstance(state.get("partitions"), list):
            raise AnnotatorError(f"{where}: cannot resume: written by another version of annotator; "
                                 f"run without --resume to start again")
        return state

    def start(self, job: ScoringJob, parts: list, size: int) -> None:
        """Record the fingerprint and the partitions of a fresh run."""
        self.width = max(5, len(str(len(parts) - 1)))
        self.partial.write_json(_STATE, {"version": STATE_VERSION, "fingerprint": job.fingerprint,
                                         "partition_size": size, "partitions": [p.as_dict() for p in parts]})

    def finished(self, parts: list) -> dict:
        """Markers of the partitions whose part is stored, by index."""
        names = set(self.partial.names())
        done = {}
        for p in parts:
            marker = marker_name(p.index, self.width)
            if marker in names and part_name(p.index, self.fmt, self.width) in names:
                done[p.index] = self.partial.read_json(marker)
        return done

    def marker(self, index: int) -> dict:
        """The marker a finished task stored."""
        return self.partial.read_json(marker_name(index, self.width))

    def finish(self, job: ScoringJob, parts: list, done: dict) -> dict:
        """Write ``_summary.json``, remove the markers and the state, and make ``OUT.partial/`` ``OUT``."""
        rows = [done[p.index] for p in parts]
        keys = ("input", "range", "part", "rows", "failed", "out_of_scope", "worker")
        summary = {"rows": sum(r["rows"] for r in rows), "failed": sum(r["failed"] for r in rows),
                   "out_of_scope": sum(r.get("out_of_scope", 0) for r in rows),
                   "format": job.format, "fingerprint": job.fingerprint,
                   "partitions": [{k: r.get(k) for k in keys} for r in rows]}
        self.partial.write_json("_summary.json", summary)
        for p in parts:
            self.partial.delete(marker_name(p.index, self.width))
        self.partial.delete(_STATE)
        self.partial.remove_temporary()  # temporary files of writers that died
        self.partial.replace(self.out)
        return summary

    def cleanup(self) -> int:
        """Remove temporary files that writers which died left in ``OUT.partial/``."""
        return self.partial.remove_temporary()
