"""Partitions by size: large JSONL and CSV inputs split at line (record) boundaries, Parquet by row groups.

A :class:`Partition` is one Dask task's share of the input: a whole input (read by
:mod:`annotator.articles`), or a byte range of a JSONL or CSV file starting on a line (record)
boundary, or a run of Parquet row groups. It records the rows before it, so the ranges read as
the whole file would (same ``id``, ``source`` and errors, in the same order). :func:`plan_input`
reads a large input once (JSONL: a byte scan for newlines; CSV: the csv module, so quoted fields
spanning lines stay whole; Parquet: the footer only) to place the boundaries.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import asdict, dataclass

from ..articles.decoding import SNIFF_BYTES
from ..articles.records import ReadOptions
from .storage import input_size, open_input, url_name

__all__ = ["Partition", "parse_size", "auto_partition_size", "plan_input", "number_partitions", "text_lines",
           "MIN_AUTO", "MAX_AUTO"]

#: The automatic partition size: about 4 partitions per worker thread, between these bounds.
MIN_AUTO, MAX_AUTO = 2**20, 32 * 2**20
_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30}
_SPLITTABLE = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
_BLOCK = 4 * 2**20


@dataclass(frozen=True)
class Partition:
    """One task's share of the inputs.

    Attributes
    ----------
    index : int
        Position in the run (output part ``part-<index>``).
    input : str
        The input path or URL, as named in ``source`` and errors.
    kind : {"file", "jsonl", "csv", "parquet"}
        ``file``: the whole input, read by :mod:`annotator.articles`; else a range of it.
    start, stop : int
        Byte offsets (JSONL, CSV) or row-group numbers (Parquet), ``stop`` excluded.
    row : int
        Rows before ``start``: JSONL lines, CSV records, Parquet rows.
    line : int
        CSV: physical lines before ``start`` (for the line numbers in messages).
    encoding : str
        CSV: the file's codec (``utf-8-sig`` or ``cp1252``).
    """

    index: int
    input: str
    kind: str = "file"
    start: int = 0
    stop: int = 0
    row: int = 0
    line: int = 0
    encoding: str = ""

    def describe(self) -> str:
        """The partition for people: ``in.jsonl`` or ``in.jsonl bytes 0-4,194,304``."""
        if self.kind == "file":
            return self.input
        unit = "row groups" if self.kind == "parquet" else "bytes"
        return f"{self.input} {unit} {self.start:,}-{self.stop:,}"

    def as_dict(self) -> dict:
        return asdict(self)


def parse_size(value) -> int | None:
    """A partition size: None for ``"auto"``, else bytes from an int or ``"64MB"``, ``"512k"``..."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError(f"partition size must be 'auto' or a size such as 64MB, not {value!r}")
        n = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if n < 1:
        raise ValueError(f"partition size must be positive, not {value!r}")
    return n


def auto_partition_size(total_bytes: int, threads: int) -> int:
    """About four partitions per worker thread, within [:data:`MIN_AUTO`, :data:`MAX_AUTO`]."""
    return int(min(MAX_AUTO, max(MIN_AUTO, total_bytes // max(4 * threads, 1))))


def number_partitions(plans: list) -> list:
    """The partitions of every input (lists of dicts from :func:`plan_input`), numbered in input order."""
    out = []
    for plan in plans:
        for p in plan:
            out.append(Partition(**{**p, "index": len(out)}))
    return out


def plan_input(path: str, size: int, opts: ReadOptions) -> list:
    """The partitions of one input (dicts, numbered later): ranges of about ``size`` bytes when the
    input is a JSONL, CSV or Parquet file larger than that, else the whole input.

    A file the readers would refuse as a whole (empty, binary, undecodable, no text column, no
    rows) stays whole, so its one error row is the reader's.
    """
    whole = [{"index": -1, "input": path}]
    kind = _SPLITTABLE.get(os.path.splitext(url_name(path))[1].lower())
    total = input_size(path)
    if kind is None or total is None or total <= size:
        return whole
    planner = {"jsonl": _plan_jsonl, "csv": _plan_csv, "parquet": _plan_parquet}[kind]
    try:
        with open_input(path) as f:
            ranges = planner(f, size, opts)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error):
        return whole
    if ranges is None or len(ranges) < 2:
        return whole
    return [{"index": -1, "input": path, "kind": kind, **r} for r in ranges]


# --- JSONL: newlines ----------------------------------------------------------------------------------


def _plan_jsonl(f, size: int, opts: ReadOptions) -> list | None:
    """Byte ranges ending after a newline, with the lines before each (None: keep the file whole)."""
    head = f.read(SNIFF_BYTES)
    if not head or b"\x00" in head:
        return None  # empty or binary: the reader's one error row
    f.seek(0)
    ranges, start, start_line = [], 0, 0
    pos = lines = 0
    target = size
    content = False
    while block := f.read(_BLOCK):
        if not content:
            content = bool((block[3:] if pos == 0 and block.startswith(codecs.BOM_UTF8) else block).strip())
        j = max(target - pos, 0)
        while (nl := block.find(b"\n", j)) >= 0:
            cut = pos + nl + 1
            n = lines + block.count(b"\n", 0, nl + 1)
            ranges.append({"start": start, "stop": cut, "row": start_line})
            start, start_line, target = cut, n, cut + size
            j = target - pos
            if j >= len(block):
                break
        lines += block.count(b"\n")
        pos += len(block)
    if not content:
        return None  # blank lines only: the reader's "empty" row
    if start < pos:
        ranges.append({"start": start, "stop": pos, "row": start_line})
    return ranges


# --- CSV: records (quoted fields may span lines) ------------------------------------------------------


def _codec(f) -> str | None:
    """The codec the CSV reader would use (UTF-8, else cp1252), or None (neither, or binary)."""
    head = f.read(SNIFF_BYTES)
    if not head or b"\x00" in head:
        return None
    for codec in ("utf-8-sig", "cp1252"):
        f.seek(0)
        decoder = codecs.getincrementaldecoder(codec)("strict")
        try:
            while block := f.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return codec
    return None


def text_lines(f, codec: str, consumed: list):
    """Lines of a binary file as text (universal newlines kept, as ``open(newline="")`` gives them),
    adding the bytes of each line to ``consumed[0]``."""
    text = io.TextIOWrapper(f, encoding=codec, newline="")
    encode = codecs.getencoder("utf-8" if codec == "utf-8-sig" else codec)
    for line in text:
        consumed[0] += len(encode(line)[0])
        yield line


def _plan_csv(f, size: int, opts: ReadOptions) -> list | None:
    """Byte ranges ending on a record boundary, with the records and lines before each."""
    codec = _codec(f)
    if codec is None:
        return None
    f.seek(0)
    bom = f.read(3) == codecs.BOM_UTF8 and codec == "utf-8-sig"
    f.seek(3 if bom else 0)
    consumed = [3 if bom else 0]
    if csv.field_size_limit() < opts.max_bytes + 1:
        csv.field_size_limit(opts.max_bytes + 1)  # as the reader: larger fields are "too large"
    reader = csv.reader(text_lines(f, "utf-8" if bom else codec, consumed), strict=True)
    header = None
    try:
        while not header:
            header = next(reader)
    except (StopIteration, csv.Error):
        return None
    if opts.text_column not in [h.strip() for h in header]:
        return None
    ranges, start, start_row, start_line = [], consumed[0], 0, reader.line_num
    row = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            fields = [None]
        if fields:
            row += 1
        if consumed[0] - start >= size:
            ranges.append({"start": start, "stop": consumed[0], "row": start_row, "line": start_line,
                           "encoding": codec})
            start, start_row, start_line = consumed[0], row, reader.line_num
    if row == 0:
        return None
    if consumed[0] > start:
        ranges.append({"start": start, "stop": consumed[0], "row": start_row, "line": start_line, "encoding": codec})
    return ranges


# --- Parquet: row groups ------------------------------------------------------------------------------


def _plan_parquet(f, size: int, opts: ReadOptions) -> list | None:
    """Runs of row groups of about ``size`` compressed bytes, with the rows before each."""
    import pyarrow.parquet as pq  # heavy: only Parquet inputs need pyarrow

    try:
        meta = pq.ParquetFile(f).metadata
    except Exception:  # not Parquet: the reader's error row
        return None
    if meta.num_rows == 0 or opts.text_column not in meta.schema.to_arrow_schema().names:
        return None
    ranges, start, start_row, acc, rows = [], 0, 0, 0, 0
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        acc += sum(rg.column(c).total_compressed_size for c in range(rg.num_columns))
        rows += rg.num_rows
        if acc >= size:
            ranges.append({"start": start, "stop": g + 1, "row": start_row})
            start, start_row, acc = g + 1, rows, 0
    if start < meta.num_row_groups:
        ranges.append({"start": start, "stop": meta.num_row_groups, "row": start_row})
    return ranges
