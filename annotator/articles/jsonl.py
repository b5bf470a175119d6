"""Read articles from JSON Lines (one object per line; a bad line is an error for that line only)."""
from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator

from ..errors import AnnotatorError
from .decoding import SNIFF_BYTES, check_head, decode
from .messages import os_reason, size_text
from .records import JSON_TYPES, Article, ReadOptions, scalar_str

__all__ = ["read_jsonl"]

PathLike = str | os.PathLike


def _invalid_json(source: str, exc: json.JSONDecodeError) -> str:
    """``SOURCE: invalid JSON (WHAT at column N)``; json's own message may already end in "at"."""
    what = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg
    return f"{source}: invalid JSON ({what} at column {exc.colno})"


def _line_record(line: bytes, name: str, lineno: int, columns: tuple, opts: ReadOptions) -> Article:
    """The record of one non-blank line: the object's row (fields ``columns``), or what is wrong with the line."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        source = f"{name}:{lineno}"
        try:
            obj = json.loads(decode(line, source))
        except AnnotatorError as exc:
            return opts.fail(source, source, str(exc))
        except json.JSONDecodeError as exc:
            return opts.fail(source, source, _invalid_json(source, exc))
    except json.JSONDecodeError as exc:
        source = f"{name}:{lineno}"
        return opts.fail(source, source, _invalid_json(source, exc))
    if type(obj) is not dict:
        source = f"{name}:{lineno}"
        kind = JSON_TYPES.get(type(obj), type(obj).__name__)
        return opts.fail(source, source, f"{source}: not a JSON object ({kind})")
    if opts.text_column not in obj:
        source = f"{name}:{lineno}"
        keys = ", ".join(repr(k) for k in list(obj)[:20])
        ident = scalar_str(obj.get(opts.id_column)) if opts.id_column else None
        return opts.fail(ident or source, source, f"{source}: no '{opts.text_column}' field (fields: {keys or 'none'})")
    get = obj.get
    return opts.table_row(name, lineno, *[get(c) if c else None for c in columns])


def read_jsonl(path: PathLike, name: str, stem: str, opts: ReadOptions) -> Iterator[Article]:
    """Records of a JSONL file: one per non-blank line (``NAME:LINE``), or one file error."""
    columns = opts.table_columns
    line_limit = 8 * opts.max_bytes + 2**20  # JSON escapes can make a line much longer than its text
    lineno = rows = 0
    try:
        with open(path, "rb") as f:
            try:
                check_head(f.read(SNIFF_BYTES), name)
            except AnnotatorError as exc:
                yield opts.fail(stem, name, str(exc))
                return
            f.seek(0)
            readline = f.readline
            while line := readline(line_limit):
                lineno += 1
                if len(line) == line_limit and not line.endswith(b"\n"):
                    while (rest := readline(line_limit)) and not rest.endswith(b"\n"):
                        pass
                    rows += 1
                    source = f"{name}:{lineno}"
                    yield opts.fail(source, source, f"{source}: line too large (> {size_text(line_limit)})")
                    continue
                if lineno == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
                if not line.strip():
                    continue
                rows += 1
                yield _line_record(line, name, lineno, columns, opts)
    except OSError as exc:
        yield opts.fail(stem, name, f"{name}: cannot read after line {lineno} ({os_reason(exc)})")
        return
    if rows == 0:
        yield opts.fail(stem, name, f"{name}: empty (no JSON lines)")
