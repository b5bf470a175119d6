"""The resumable state of a run: completed chunks in ``OUT.partial/`` and its state file.

Completed chunks are appended to ``OUT.partial/data.<fmt>`` (Parquet: one ``part-NNNNNN.parquet``
per chunk) and ``state.json`` records rows done, bytes or parts written and the fingerprints of the
inputs, the model and the options; both are fsynced per chunk. A resume cuts off data written after
the last recorded chunk; one whose fingerprint differs is refused. When the run completes the data
becomes ``OUT`` by an atomic rename (Parquet: the parts are merged into a file written atomically).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..errors import AnnotatorError
from ..io import atomic_output, fsync_dir, write_text_atomic
from .chunk import RecordFormat, ScoredChunk
from .formats import csv_header, parquet_schema

__all__ = ["STATE_VERSION", "Partial", "partial_dir", "write_json", "load_state", "refuse_other_engine"]

STATE_VERSION = 1


def write_json(path: Path, data: dict) -> None:
    """Write a state, marker or summary file atomically (JSON, indent 1, non-ASCII as escapes)."""
    write_text_atomic(path, json.dumps(data, indent=1))


def partial_dir(output: Path) -> Path:
    """Where the completed chunks of an unfinished run writing ``output`` are kept."""
    return output.with_name(output.name + ".partial")


def refuse_other_engine(pdir: Path, other_state: str, other: str) -> None:
    """Refuse a resume of a run that the other engine started (its state file is ``other_state``)."""
    if (pdir / other_state).is_file():
        raise AnnotatorError(f"{pdir}: cannot resume: the interrupted run used --engine {other}; "
                             f"resume it with --engine {other}, or run without --resume to start again")


def _check_state(state: dict, fingerprint: dict, where: Path) -> None:
    if state.get("version") != STATE_VERSION:
        raise AnnotatorError(f"{where}: cannot resume: written by another version of annotator; "
                             f"run without --resume to start again")
    old = state.get("fingerprint", {})
    what = [name for name in ("engine", "inputs", "model", "options") if old.get(name) != fingerprint.get(name)]
    if what:
        detail = {"engine": "a different engine", "inputs": "different inputs (paths, sizes or modification times)",
                  "model": "a different model", "options": "different options (format, columns, size limit)"}
        raise AnnotatorError(f"{where}: cannot resume: the interrupted run had {', '.join(detail[w] for w in what)}; "
                             f"run without --resume to start again")


def load_state(state_path: Path, fingerprint: dict) -> dict:
    """The state of an interrupted run, refused when unreadable or when its fingerprint differs."""
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnnotatorError(f"{state_path}: cannot resume: unreadable state ({exc}); "
                             f"run without --resume to start again") from None
    _check_state(state, fingerprint, state_path.parent)
    return state


class Partial:
    """Completed chunks of a local run in ``OUT.partial/`` and its ``state.json``."""

    def __init__(self, output: Path, spec: RecordFormat):
        self.output, self.fmt, self.labels = output, spec.format, spec.labels
        self.dir = partial_dir(output)
        self.state_path = self.dir / "state.json"
        self.data_path = self.dir / f"data.{self.fmt}"
        self.fh = None
        self.state: dict = {}

    def exists(self) -> bool:
        """Whether an interrupted run left its state here."""
        return self.state_path.is_file()

    def start(self, fingerprint: dict) -> None:
        """Start afresh: an empty ``OUT.partial/`` (what was there is removed)."""
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.state = {"version": STATE_VERSION, "fingerprint": fingerprint, "rows": 0, "failed": 0, "out_of_scope": 0, "bytes": 0,
                      "parts": 0, "seconds": 0.0, "complete": False}
        if self.fmt != "parquet":
            self.fh = open(self.data_path, "wb")
            if self.fmt == "csv":
                self.fh.write(csv_header(self.labels))
                self.fh.flush()
                os.fsync(self.fh.fileno())
                self.state["bytes"] = self.fh.tell()
        fsync_dir(self.dir.parent)
        write_json(self.state_path, self.state)

    def resume(self, fingerprint: dict) -> None:
        """Continue after the last recorded chunk (what was written after it is cut off)."""
        self.state = load_state(self.state_path, fingerprint)
        if self.fmt == "parquet":
            for p in self.dir.glob("part-*.parquet"):
                if int(p.stem.split("-")[1]) >= self.state["parts"]:
                    p.unlink()  # written after the last recorded chunk
            return
        try:
            self.fh = open(self.data_path, "r+b")
        except OSError as exc:
            raise AnnotatorError(f"{self.data_path}: cannot resume: {exc.strerror}; "
                                 f"run without --resume to start again") from None
        size = os.fstat(self.fh.fileno()).st_size
        if size < self.state["bytes"]:
            raise AnnotatorError(f"{self.data_path}: cannot resume: shorter than recorded "
                                 f"({size} < {self.state['bytes']} bytes); run without --resume to start again")
        self.fh.truncate(self.state["bytes"])  # cut a chunk written after the last recorded one
        self.fh.seek(self.state["bytes"])

    def append(self, chunk: ScoredChunk, seconds: float) -> None:
        """Add a scored chunk durably (data and state fsynced), ``seconds`` being the run's time so far."""
        st = self.state
        if self.fmt == "parquet":
            import pyarrow.parquet as pq  # optional/lazy: only Parquet output needs it

            part = self.dir / f"part-{st['parts']:06d}.parquet"
            pq.write_table(chunk.payload, part)
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            st["parts"] += 1
        else:
            self.fh.write(chunk.payload)
            self.fh.flush()
            os.fsync(self.fh.fileno())
            st["bytes"] += len(chunk.payload)
        st["rows"] += chunk.rows
        st["failed"] += chunk.failed
        st["out_of_scope"] = st.get("out_of_scope", 0) + chunk.out_of_scope
        st["seconds"] = round(seconds, 3)
        write_json(self.state_path, st)

    def close(self) -> None:
        """Close the data file (the state stays for a resume)."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def finish(self) -> None:
        """The run is complete: the data becomes ``OUT`` and ``OUT.partial/`` is removed."""
        self.close()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "parquet":
            self._merge_parquet()
        else:
            os.replace(self.data_path, self.output)  # fsynced chunk by chunk: renamed, not copied
            fsync_dir(self.output.parent)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _merge_parquet(self, row_group: int = 16_384) -> None:
        import pyarrow as pa  # optional/lazy: only Parquet output needs it
        import pyarrow.parquet as pq  # optional/lazy: only Parquet output needs it

        schema = parquet_schema(self.labels)
        with atomic_output(self.output) as fh:
            writer = pq.ParquetWriter(fh, schema)
            buf, n = [], 0
            for i in range(self.state["parts"]):
                table = pq.read_table(self.dir / f"part-{i:06d}.parquet", schema=schema)
                buf.append(table)
                n += table.num_rows
                if n >= row_group:
                    writer.write_table(pa.concat_tables(buf), row_group_size=max(n, 1))
                    buf, n = [], 0
            if buf or self.state["parts"] == 0:
                writer.write_table(pa.concat_tables(buf) if buf else schema.empty_table())
            writer.close()
