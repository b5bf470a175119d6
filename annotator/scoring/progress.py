"""The progress bar of a run on stderr, and its total when the inputs tell it without being parsed."""
from __future__ import annotations

import os
import sys

from tqdm import tqdm

__all__ = ["progress_bar", "cheap_total"]


class _Bar(tqdm):
    monitor_interval = 0  # no monitor thread: worker processes can then be forked safely


def progress_bar(enabled, total, initial, unit):
    """A bar on stderr, shown when ``enabled`` (None: when stderr is a terminal; off a terminal it
    is redrawn every 10 s)."""
    tty = sys.stderr.isatty()
    enabled = tty if enabled is None else bool(enabled)
    return _Bar(total=total, initial=initial, unit=unit, file=sys.stderr, disable=not enabled, dynamic_ncols=True,
                smoothing=0.1, desc="scoring", mininterval=0.1 if tty else 10.0)


def _count_lines(path) -> int | None:
    """Lines of a file (a last line without newline counts), by a byte scan; None if unreadable."""
    n, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 22):
                n += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return None
    return n + (last != b"\n")


def _parquet_rows(path) -> int:
    try:
        import pyarrow.parquet as pq  # optional/lazy: only Parquet inputs need it

        return max(pq.ParquetFile(path).metadata.num_rows, 1)
    except Exception:
        return 1


def cheap_total(paths: list):
    """Number of input rows when known without parsing the data (.txt, folders, Parquet metadata,
    JSONL lines; only asked for when a progress bar is shown), else None."""
    total = 0
    for p in paths:
        low = p.lower()
        if os.path.isdir(p):
            n = 0
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                n += sum(fn.lower().endswith(".txt") and not fn.startswith(".") for fn in filenames)
            total += max(n, 1)
        elif low.endswith(".txt"):
            total += 1
        elif low.endswith(".parquet"):
            total += _parquet_rows(p)
        elif low.endswith((".jsonl", ".ndjson")):
            n = _count_lines(p)
            if n is None:
                return None
            total += max(n, 1)
        elif low.endswith(".csv"):  # quoted fields may span lines: rows are not lines
            return None
        else:
            total += 1
    return total
