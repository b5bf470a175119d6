"""CPU of this process and every process under it, over time: who is busy when (Linux ``/proc``).

``ProcessClock`` samples the user + system CPU seconds of this process and of its descendants
(the fold workers, the fork server they come from, spawned workers) every ``interval`` seconds in
a thread. It gives the run's total CPU, workers included wherever they were started from (a fork
server's workers are not this process's children: ``RUSAGE_CHILDREN`` never sees them), and a
timeline: per bucket of seconds, the cores each role kept busy, so that stretches where a core
idled (on a quiet machine) show up. Where there is no ``/proc``, :attr:`ProcessClock.available` is
False and the callers fall back to ``resource``.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

__all__ = ["ProcessClock"]

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int):
    """(parent pid, CPU seconds) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _role(pid: int, root: int, parent: dict) -> str:
    if pid == root:
        return "main"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmd = ""
    if "forkserver import main" in cmd and parent.get(pid) == root:
        return "fork server"
    if "resource_tracker" in cmd:
        return "other"
    return "workers"


class ProcessClock:
    """Samples the CPU of this process tree (see the module docstring); use as a context manager."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self.root = os.getpid()
        self.available = Path(f"/proc/{self.root}/stat").exists()
        self.cpu: dict = {}  # pid -> last CPU seconds seen
        self.roles: dict = {}
        self.samples: list = []  # (seconds since start, {pid: CPU seconds})
        self._stop = threading.Event()
        self._thread = None
        self.t0 = time.perf_counter()

    def _tree(self) -> dict:
        parent = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                st = _stat(int(entry.name))
                if st is not None:
                    parent[int(entry.name)] = st[0]
        out, todo = {}, [self.root]
        kids: dict = {}
        for pid, ppid in parent.items():
            kids.setdefault(ppid, []).append(pid)
        while todo:
            pid = todo.pop()
            out[pid] = parent.get(pid)
            todo.extend(kids.get(pid, []))
        return out

    def sample(self) -> None:
        tree = self._tree()
        now = {}
        for pid in tree:
            st = _stat(pid)
            if st is not None:
                now[pid] = st[1]
                if pid not in self.roles:
                    self.roles[pid] = _role(pid, self.root, tree)
        self.cpu.update(now)
        self.samples.append((time.perf_counter() - self.t0, now))

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        if self.available:
            self.t0 = time.perf_counter()
            self.sample()
            self._thread = threading.Thread(target=self._run, name="process-clock", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.sample()

    def total(self, role: str | None = None) -> float:
        """CPU seconds of the tree (or of one role) since it started (processes that ended between two
        samples lose at most ``interval`` seconds each)."""
        return sum(c for pid, c in self.cpu.items() if role is None or self.roles.get(pid) == role)

    def timeline(self, bucket: float = 5.0) -> list:
        """Rows ``(start s, {role: cores kept busy})`` per ``bucket`` seconds."""
        rows: dict = {}
        last: dict = dict(self.samples[0][1]) if self.samples else {}  # what ran before the clock started
        for t, now in self.samples[1:]:
            b = int(t // bucket)
            for pid, c in now.items():
                role = self.roles.get(pid, "workers")
                slot = rows.setdefault(b, {})
                slot[role] = slot.get(role, 0.0) + (c - last.get(pid, 0.0)) / bucket
                last[pid] = c
        return [(b * bucket, rows[b]) for b in sorted(rows)]

    def print_timeline(self, bucket: float = 5.0, cores: int | None = None, out=None) -> None:
        """The timeline as text: cores busy per role, and idle cores (of ``cores``) per bucket."""
        cores = cores or os.cpu_count() or 1
        roles = ("main", "workers", "fork server")
        print(f"{'from s':>7}" + "".join(f"{r:>13}" for r in roles) + f"{'idle cores':>12}", file=out)
        idle_total = 0.0
        for start, busy in self.timeline(bucket):
            used = sum(busy.values())
            idle = max(0.0, cores - used)
            idle_total += idle * bucket
            print(f"{start:7.0f}" + "".join(f"{busy.get(r, 0.0):13.2f}" for r in roles) + f"{idle:12.2f}", file=out)
        print(f"idle core-seconds: {idle_total:.0f} (cores {cores}; meaningful on a quiet machine only)", file=out)
