"""One partition's article rows on a worker, as the whole input would give them (same ids, sources, errors).

A whole local input is read by :func:`annotator.articles.iter_articles`; a whole remote one is
copied into the worker's scratch folder and read by the readers of :mod:`annotator.articles`
under its URL. A range of a JSONL file is read line by line from its byte offset, of a CSV file
record by record (the header read from the file's start), of a Parquet file row group by row
group; each numbers its rows from the rows before it, so ``source`` (``PATH:ROW``) and the
messages are those of the whole-file readers. An input that cannot be read while a range is
read raises (the task is retried) instead of becoming an error row.
"""
from __future__ import annotations

import codecs
import csv
import os
import tempfile
from pathlib import PurePosixPath

from ..articles.csvfile import _record_error, read_csv
from ..articles.jsonl import _line_record, read_jsonl
from ..articles.messages import os_reason, size_text
from ..articles.parquet import read_parquet
from ..articles.records import ReadOptions
from ..articles.text import read_txt
from .inputs import ReaderOptions
from .partitions import Partition, text_lines
from .storage import filesystem, is_url, local_path, open_input, url_name

__all__ = ["partition_chunks"]

_EXPECTED = ".txt, .csv, .jsonl, .ndjson, .parquet or a folder"


def partition_chunks(part: Partition, reader: ReaderOptions):
    """Article frames of a partition, at most ``reader.chunksize`` rows each."""
    if part.kind == "file" and not is_url(part.input):
        return reader.chunks([local_path(part.input)])
    return reader.frames(_records(part, reader.read_options()))


def _records(part: Partition, opts: ReadOptions):
    if part.kind == "file":
        yield from _remote_file(part.input, opts)
        return
    with open_input(part.input) as f:
        if part.kind == "jsonl":
            yield from _jsonl_range(f, part, opts)
        elif part.kind == "csv":
            yield from _csv_range(f, part, opts)
        else:
            yield from _parquet_range(f, part, opts)


def _stem(name: str) -> str:
    return PurePosixPath(url_name(name)).stem or name


# --- a whole remote input -----------------------------------------------------------------------------


def _scratch() -> str:
    """The worker's own folder (Dask removes what a dead worker left there), else the temporary folder."""
    try:
        from distributed import get_worker  # optional: the dask extra

        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def _remote_file(url: str, opts: ReadOptions):
    """Records of a whole remote input: a copy in the worker's scratch folder read under its URL."""
    name, stem = url, _stem(url)
    ext = os.path.splitext(url_name(url))[1].lower()
    readers = {".txt": lambda p: [read_txt(p, name, stem, opts)], ".csv": lambda p: read_csv(p, name, stem, opts),
               ".jsonl": lambda p: read_jsonl(p, name, stem, opts), ".ndjson": lambda p: read_jsonl(p, name, stem, opts),
               ".parquet": lambda p: read_parquet(p, name, stem, opts)}
    if ext not in readers:
        yield opts.fail(stem, name, f"{name}: unsupported file type '{ext or url_name(url)}' (expected {_EXPECTED})")
        return
    fs, path = filesystem(url)
    with tempfile.TemporaryDirectory(prefix="annotator-", dir=_scratch()) as tmp:
        copy = os.path.join(tmp, "input" + ext)
        try:
            fs.get_file(path, copy)
        except FileNotFoundError as exc:
            yield opts.fail(stem, name, f"{name}: cannot read ({os_reason(exc)})")
            return
        yield from readers[ext](copy)


# --- ranges -------------------------------------------------------------------------------------------


def _jsonl_range(f, part: Partition, opts: ReadOptions):
    """The records of the lines in ``[start, stop)``, numbered from ``row`` (as ``read_jsonl``)."""
    name, columns = part.input, opts.table_columns
    line_limit = 8 * opts.max_bytes + 2**20  # as read_jsonl
    f.seek(part.start)
    pos, lineno = part.start, part.row
    readline = f.readline
    while pos < part.stop and (line := readline(line_limit)):
        pos += len(line)
        lineno += 1
        if len(line) == line_limit and not line.endswith(b"\n"):
            while (rest := readline(line_limit)) and not rest.endswith(b"\n"):
                pos += len(rest)
            pos += len(rest)
            source = f"{name}:{lineno}"
            yield opts.fail(source, source, f"{source}: line too large (> {size_text(line_limit)})")
            continue
        if lineno == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[3:]
        if not line.strip():
            continue
        yield _line_record(line, name, lineno, columns, opts)


def _csv_header(part: Partition, opts: ReadOptions) -> tuple:
    """(field index of each table column or None, number of fields) from the header at the file's start."""
    with open_input(part.input) as f:
        bom = part.encoding == "utf-8-sig" and f.read(3) == codecs.BOM_UTF8
        f.seek(3 if bom else 0)
        header = None
        for header in csv.reader(text_lines(f, _codec(part), [0]), strict=True):
            if header:
                break
    header = [h.strip() for h in header]
    position = {}
    for i, column in enumerate(header):
        position.setdefault(column, i)
    return [position.get(c) if c else None for c in opts.table_columns], len(header)


def _codec(part: Partition) -> str:
    return "utf-8" if part.encoding == "utf-8-sig" else part.encoding  # a BOM only at the file's start


def _csv_range(f, part: Partition, opts: ReadOptions):
    """The records in ``[start, stop)``, numbered from ``row``, lines from ``line`` (as ``read_csv``)."""
    if csv.field_size_limit() < opts.max_bytes + 1:
        csv.field_size_limit(opts.max_bytes + 1)  # as read_csv: larger fields are "too large"
    idx, ncol = _csv_header(part, opts)
    name, row, lines = part.input, part.row, part.line
    consumed = [part.start]
    f.seek(part.start)
    reader = csv.reader(text_lines(f, _codec(part), consumed), strict=True)
    while consumed[0] < part.stop:
        first_line = lines + reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row += 1
            yield _record_error(exc, f"{name}:{row}", first_line, lines + reader.line_num, opts)
            continue
        if not fields:
            continue
        row += 1
        if len(fields) != ncol:
            source = f"{name}:{row}"
            yield opts.fail(source, source, f"{source}: expected {ncol} fields, found {len(fields)} "
                                            f"(line {lines + reader.line_num})")
            continue
        yield opts.table_row(name, row, *[None if i is None else fields[i] for i in idx])


def _parquet_range(f, part: Partition, opts: ReadOptions):
    """The rows of row groups ``[start, stop)``, numbered from ``row`` (as ``read_parquet``)."""
    import pyarrow.parquet as pq  # heavy: only Parquet inputs need pyarrow

    name = part.input
    pf = pq.ParquetFile(f)
    found = list(pf.schema_arrow.names)
    names = [c if c in found else None for c in opts.table_columns]
    columns = list(dict.fromkeys(c for c in names if c))
    row = part.row
    try:
        for batch in pf.iter_batches(batch_size=opts.batch_size, columns=columns,
                                     row_groups=list(range(part.start, part.stop))):
            data = batch.to_pydict()
            cols = [data[c] if c else None for c in names]
            for i in range(batch.num_rows):
                row += 1
                yield opts.table_row(name, row, *[None if c is None else c[i] for c in cols])
    except Exception as exc:  # as read_parquet: a corrupt row group ends the rows with an error row
        if is_url(name) and isinstance(exc, OSError):
            raise  # a remote read that failed: the task is retried
        yield opts.fail(_stem(name), name, f"{name}: cannot read Parquet after row {row} ({exc})")
