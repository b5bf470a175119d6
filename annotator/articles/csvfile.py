"""Read articles from a CSV table (first row the header; strict quoting, one error per bad record)."""
from __future__ import annotations

import csv
import os
from collections.abc import Iterator

from ..errors import AnnotatorError
from .decoding import file_encoding
from .messages import os_reason, size_text
from .records import Article, ReadOptions

__all__ = ["read_csv"]

PathLike = str | os.PathLike


def _header(reader, name: str, stem: str, opts: ReadOptions) -> tuple[list | None, int, Article | None]:
    """(field index of each table column or None, number of fields, None) or (None, 0, error record)."""
    header = None
    try:
        while not header:
            header = next(reader)
    except StopIteration:
        return None, 0, opts.fail(stem, name, f"{name}: empty file (no header)")
    except csv.Error as exc:
        return None, 0, opts.fail(stem, name, f"{name}: invalid CSV header ({exc})")
    header = [h.strip() for h in header]
    bad = opts.columns_or_error(name, stem, header)
    if bad is not None:
        return None, 0, bad
    position = {}
    for i, column in enumerate(header):
        position.setdefault(column, i)
    return [position.get(c) if c else None for c in opts.table_columns], len(header), None


def _record_error(exc: csv.Error, source: str, first_line: int, line_num: int, opts: ReadOptions) -> Article:
    """The error record of a CSV record the reader refused (too large, unclosed or stray quote...)."""
    if "field limit" in str(exc):
        reason = f"too large (> {size_text(opts.max_bytes)} limit) (line {line_num})"
    elif "unexpected end of data" in str(exc):
        reason = (f"invalid CSV: a quoted field opened on line {first_line} never closes "
                  f"(read to the end of the file, line {line_num})")
    else:
        reason = f"invalid CSV: {exc} (line {line_num})"
    return opts.fail(source, source, f"{source}: {reason}")


def read_csv(path: PathLike, name: str, stem: str, opts: ReadOptions) -> Iterator[Article]:
    """Records of a CSV file: one per data record (``NAME:ROW``, blank lines skipped), or one file error."""
    try:
        encoding = file_encoding(path, name)
    except AnnotatorError as exc:
        yield opts.fail(stem, name, str(exc))
        return
    if csv.field_size_limit() < opts.max_bytes + 1:
        csv.field_size_limit(opts.max_bytes + 1)  # larger fields are rejected as "too large"
    row = 0
    try:
        with open(path, newline="", encoding=encoding) as f:
            reader = csv.reader(f, strict=True)  # a stray or unclosed quote is an error, not a guess
            idx, ncol, bad = _header(reader, name, stem, opts)
            if bad is not None:
                yield bad
                return
            while True:
                first_line = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    yield _record_error(exc, f"{name}:{row}", first_line, reader.line_num, opts)
                    continue
                if not fields:
                    continue
                row += 1
                if len(fields) != ncol:
                    source = f"{name}:{row}"
                    yield opts.fail(source, source,
                                    f"{source}: expected {ncol} fields, found {len(fields)} (line {reader.line_num})")
                    continue
                yield opts.table_row(name, row, *[None if i is None else fields[i] for i in idx])
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else exc
        yield opts.fail(stem, name, f"{name}: cannot read after row {row} ({reason})")
        return
    if row == 0:
        yield opts.fail(stem, name, f"{name}: empty (no data rows)")
