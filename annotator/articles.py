"""Read news articles from text files, folders and tables into one DataFrame.

:func:`read_articles` reads everything at once; :func:`iter_articles` streams the
same rows as DataFrames of at most ``chunksize`` rows with bounded memory (CSV
and JSONL are read record by record, Parquet batch by batch).

Schema
------
One row per article (or per bad file / bad row), columns in this order, all of
``object`` dtype with ``None`` for a missing value:

``id`` (str)
    * ``.txt`` file: the file stem (``article123.txt`` -> ``article123``).
    * ``.txt`` file found in a folder: the stem too; if two or more files in the
      same folder tree share a stem, each of them gets its path relative to the
      folder, without extension and with ``/`` separators (``a/x``, ``b/x``).
    * table row: the id column's value as a string when present and not blank,
      else a content hash: the first 16 hex digits of the SHA-1 of the UTF-8
      text (stable across runs and machines; identical texts share an id).
    * bad file: the file stem; bad table row whose id is unknown: its ``source``.

    Ids are not de-duplicated across inputs.
``text`` (str, or ``None`` when ``error`` is set)
    * ``.txt``: exactly the decoded file content, neither stripped nor
      normalised, so character offsets index into the file (after a leading
      UTF-8 byte-order mark, which is removed as part of decoding).
    * Seed format: a ``.txt`` file that begins with ``" date YYYY-MM-DD "``
      (leading space included, a valid date) has that prefix removed: ``text``
      is everything after it, and offsets index into that text.
    * table row: the text column's value, unchanged.
``title``, ``date``, ``outlet``, ``url`` (str or ``None``)
    From the table's columns (blank cells are ``None``; numbers, dates and
    timestamps are turned into strings, dates in ISO format); for a ``.txt``
    file only ``date``, from the seed prefix.
``source`` (str)
    The file path as given (``os.path.join(folder, relative)`` for files in a
    folder); for a table row ``PATH:ROW`` where ROW is 1-based:

    * CSV: the data record number (header not counted, blank lines skipped), so
      ``x.csv:1`` is the first record after the header.
    * JSONL: the line number (blank lines are skipped but counted), so
      ``x.jsonl:17`` is line 17 of the file.
    * Parquet: the row number in the file.
``error`` (``None`` or str)
    A one-line message naming the file (``PATH: ...``) or the row
    (``PATH:ROW: ...``) and what is wrong.

Inputs
------
``inputs`` is one path or a list of paths: ``.txt`` files, folders (every
``*.txt`` below them, recursively, sorted by relative path; files and folders
whose name starts with ``.`` are skipped), ``.csv`` (comma separated, first row
is the header), ``.jsonl`` / ``.ndjson`` (one JSON object per line) and
``.parquet``. Only the text column is required in tables; the other column
names are options and columns that are absent give ``None``.

Decoding and bad inputs
-----------------------
Text is decoded as strict UTF-8 (a leading byte-order mark is dropped); if that
fails, as strict Windows-1252 (cp1252); if both fail the file (for JSONL: the
line) is an error. Errors are per file or per row:

* missing or unreadable path, unknown extension, not-a-Parquet file, a table
  without the text column, an empty file or a table with no data rows, bytes
  that are neither UTF-8 nor cp1252 (``.txt``, ``.csv``) and a NUL byte in the
  first 8 KB (``binary file``) are file errors;
* a CSV record with the wrong number of fields, an invalid JSONL line or one
  that is not an object, and a row whose text is missing, blank, contains a NUL
  character or is larger than ``max_bytes`` (UTF-8 bytes; for ``.txt`` the file
  size) are row errors; the other rows are still read.

With ``errors="report"`` (the default) every bad file or row becomes a row with
``error`` set and ``text`` ``None``, so every input is accounted for. With
``errors="raise"`` the first one raises :class:`annotator.errors.AnnotatorError`
with the same message.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import hashlib
import json
import math
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import AnnotatorError
from .io import atomic_output

__all__ = [
    "ARTICLE_COLUMNS",
    "DEFAULT_MAX_BYTES",
    "read_articles",
    "iter_articles",
    "read_text_file",
    "write_articles_jsonl",
]

ARTICLE_COLUMNS = ["id", "text", "title", "date", "outlet", "url", "source", "error"]
DEFAULT_MAX_BYTES = 20 * 2**20
"""Default per-article size limit: 20 MB (MB = 2**20 bytes)."""

_SNIFF_BYTES = 8192
_READ_BLOCK = 2**20
_SEED = re.compile(r" date (\d{4}-\d{2}-\d{2}) ")
_EXTENSIONS = ".txt, .csv, .jsonl, .ndjson, .parquet or a folder"
_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}

PathLike = str | os.PathLike


# --- helpers ------------------------------------------------------------------------------------


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def _too_large(n: int, limit: int) -> str:
    return f"too large ({_size(n)} > {_size(limit)} limit)"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or _one_line(exc) or type(exc).__name__


def _decode(data: bytes, where: str) -> str:
    """Decode ``data`` as UTF-8 (dropping a BOM), else cp1252; else raise naming ``where``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first = exc
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    raise AnnotatorError(
        f"{where}: not UTF-8 or cp1252 text (invalid byte 0x{data[first.start]:02x} at offset {first.start})"
    )


def _file_encoding(path: PathLike, name: str) -> str:
    """Check a whole file decodes as UTF-8 (else cp1252), streaming; return the codec name."""
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
            if not head:
                raise AnnotatorError(f"{name}: empty file")
            if b"\x00" in head:
                raise AnnotatorError(f"{name}: binary file (NUL byte in the first 8 KB)")
            for codec in ("utf-8-sig", "cp1252"):
                f.seek(0)
                decoder = codecs.getincrementaldecoder(codec)("strict")
                offset = 0
                try:
                    while block := f.read(_READ_BLOCK):
                        decoder.decode(block)
                        offset += len(block)
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    if codec == "utf-8-sig":
                        bad = offset + max(exc.start, 0)
                    continue
                return codec
    except OSError as exc:
        raise AnnotatorError(f"{name}: cannot read ({_os_reason(exc)})") from None
    raise AnnotatorError(f"{name}: not UTF-8 or cp1252 text (invalid UTF-8 near byte offset {bad})")


def _scalar_str(value: object) -> str | None:
    """A table cell as a string, or None when missing or blank."""
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return value if value.strip() else None
    return str(value)


def _content_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class _Options:
    id_column: str | None
    text_column: str
    title_column: str | None
    date_column: str | None
    outlet_column: str | None
    url_column: str | None
    raise_errors: bool
    max_bytes: int
    batch_size: int

    def fail(self, ident: str, source: str, message: str, meta: tuple = (None, None, None, None)) -> tuple:
        message = _one_line(message)
        if self.raise_errors:
            raise AnnotatorError(message)
        return (ident, None, *meta, source, message)

    def table_row(self, name: str, row: int, ident, text, title, date, outlet, url) -> tuple:
        """One table row -> record (or error record)."""
        source = f"{name}:{row}"
        ident = _scalar_str(ident)
        meta = (_scalar_str(title), _scalar_str(date), _scalar_str(outlet), _scalar_str(url))
        if not isinstance(text, str):
            if isinstance(text, (bytes, bytearray)):
                try:
                    text = _decode(bytes(text), source)
                except AnnotatorError as exc:
                    return self.fail(ident or source, source, str(exc), meta)
            elif _scalar_str(text) is None:
                return self.fail(ident or source, source, f"{source}: empty text (no '{self.text_column}' value)", meta)
            else:
                kind = _JSON_TYPES.get(type(text), type(text).__name__)
                message = f"{source}: '{self.text_column}' is not a string ({kind})"
                return self.fail(ident or source, source, message, meta)
        if len(text) * 4 > self.max_bytes:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > self.max_bytes:
                return self.fail(ident or source, source, f"{source}: {_too_large(size, self.max_bytes)}", meta)
        if "\x00" in text:
            return self.fail(ident or source, source, f"{source}: binary text (contains NUL characters)", meta)
        if not text.strip():
            return self.fail(ident or source, source, f"{source}: empty text", meta)
        return (ident or _content_id(text), text, *meta, source, None)

    def columns_or_error(self, name: str, stem: str, found: list[str]) -> tuple | None:
        if self.text_column in found:
            return None
        shown = ", ".join(repr(c) for c in found[:20]) + (", ..." if len(found) > 20 else "")
        return self.fail(stem, name, f"{name}: no '{self.text_column}' column (columns found: {shown or 'none'})")


# --- public API ---------------------------------------------------------------------------------


def read_text_file(path: PathLike, *, max_bytes: int | None = None) -> str:
    """Read a text file: strict UTF-8 (BOM dropped), falling back to strict cp1252.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_bytes : int, optional
        Refuse files larger than this many bytes (checked before reading).

    Returns
    -------
    str
        The decoded content, otherwise unchanged (not stripped or normalised);
        ``""`` for an empty file.

    Raises
    ------
    AnnotatorError
        One line naming the file: unreadable (missing, permission...), binary
        (contains a NUL byte), neither UTF-8 nor cp1252, or too large.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as f:
            if max_bytes is not None:
                size = os.fstat(f.fileno()).st_size
                if size > max_bytes:
                    raise AnnotatorError(f"{name}: {_too_large(size, max_bytes)}")
                data = f.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise AnnotatorError(f"{name}: too large (> {_size(max_bytes)} limit)")
            else:
                data = f.read()
    except OSError as exc:
        raise AnnotatorError(f"{name}: cannot read ({_os_reason(exc)})") from None
    if b"\x00" in data:
        raise AnnotatorError(f"{name}: binary file (contains NUL bytes)")
    return _decode(data, name)


def iter_articles(
    inputs: PathLike | Iterable[PathLike],
    *,
    chunksize: int = 10_000,
    id_column: str | None = "id",
    text_column: str = "text",
    title_column: str | None = "title",
    date_column: str | None = "date",
    outlet_column: str | None = "outlet",
    url_column: str | None = "url",
    errors: str = "report",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[pd.DataFrame]:
    """Stream articles as DataFrames of at most ``chunksize`` rows.

    Same rows, in the same order, as :func:`read_articles`; memory stays bounded
    by the chunk size (plus one Parquet batch), whatever the size of the inputs.
    Chunks are filled across inputs (one chunk may hold rows of several files),
    only the last may be shorter, and their indexes continue one another, so
    ``pd.concat(iter_articles(x))`` equals ``read_articles(x)``.

    Parameters
    ----------
    inputs, id_column, text_column, title_column, date_column, outlet_column, url_column, errors, max_bytes
        As for :func:`read_articles`.
    chunksize : int, default 10_000
        Maximum rows per DataFrame (also the Parquet batch size).

    Yields
    ------
    pandas.DataFrame
        Columns :data:`ARTICLE_COLUMNS` (see the module docstring).

    Raises
    ------
    AnnotatorError
        With ``errors="raise"``, at the first bad file or row (while iterating).
    ValueError
        For invalid arguments (raised at the call, before iterating).
    """
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive integer, not {chunksize!r}")
    paths, opts = _prepare(inputs, id_column, text_column, title_column, date_column, outlet_column, url_column,
                           errors, max_bytes, batch_size=chunksize)
    return _chunks(_records(paths, opts), chunksize)


def read_articles(
    inputs: PathLike | Iterable[PathLike],
    *,
    id_column: str | None = "id",
    text_column: str = "text",
    title_column: str | None = "title",
    date_column: str | None = "date",
    outlet_column: str | None = "outlet",
    url_column: str | None = "url",
    errors: str = "report",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> pd.DataFrame:
    """Read articles from ``.txt`` files, folders, CSV, JSONL and Parquet tables.

    Parameters
    ----------
    inputs : str, os.PathLike or list of them
        Files (``.txt``, ``.csv``, ``.jsonl``, ``.ndjson``, ``.parquet``) and
        folders (every ``*.txt`` below, recursively, sorted), read in order.
    id_column, text_column, title_column, date_column, outlet_column, url_column : str
        Column (or JSON field) names in tables. Only ``text_column`` is
        required; ``None`` or an absent column gives ``None`` values (for ids:
        a content hash).
    errors : {"report", "raise"}, default "report"
        ``"report"``: a bad file or row becomes a row with ``error`` set.
        ``"raise"``: raise :class:`~annotator.errors.AnnotatorError` at the first.
    max_bytes : int, default 20 MB
        Largest article text accepted, in UTF-8 bytes (for ``.txt`` files,
        the file size).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ARTICLE_COLUMNS`: ``id, text, title, date, outlet, url,
        source, error`` (see the module docstring for their meaning).

    Raises
    ------
    AnnotatorError
        With ``errors="raise"``, at the first bad file or row; the message is
        one line naming the file (and row).
    ValueError
        For invalid arguments.

    Examples
    --------
    >>> df = read_articles(["seeds/", "extra.jsonl"])  # doctest: +SKIP
    >>> df.loc[df.error.isna(), ["id", "date", "text"]]  # doctest: +SKIP
    """
    paths, opts = _prepare(inputs, id_column, text_column, title_column, date_column, outlet_column, url_column,
                           errors, max_bytes, batch_size=65_536)
    return _frame(list(_records(paths, opts)), 0)


def write_articles_jsonl(articles: pd.DataFrame | Iterable[pd.DataFrame], output: PathLike | None = None,
                         *, stream=None) -> tuple[int, int]:
    """Write articles as JSON Lines (UTF-8), one object per row with the schema's keys.

    Parameters
    ----------
    articles : DataFrame or iterable of DataFrames
        From :func:`read_articles` or :func:`iter_articles`.
    output : str or os.PathLike, optional
        File to write; it is replaced atomically (temporary file in the same
        folder, then :func:`os.replace`), so on failure it is left untouched.
    stream : binary file object, optional
        Where to write when ``output`` is None (e.g. ``sys.stdout.buffer``).

    Returns
    -------
    (int, int)
        Rows written, and how many of them have ``error`` set.
    """
    frames = [articles] if isinstance(articles, pd.DataFrame) else articles
    if output is None:
        if stream is None:
            raise ValueError("give output or stream")
        return _write_jsonl(frames, stream)
    with atomic_output(output, "wb") as f:
        return _write_jsonl(frames, f)


# --- internals ----------------------------------------------------------------------------------


def _write_jsonl(frames: Iterable[pd.DataFrame], f) -> tuple[int, int]:
    rows = bad = 0
    for frame in frames:
        records = frame.to_dict("records")
        if not records:
            continue
        bad += sum(r.get("error") is not None for r in records)
        rows += len(records)
        try:
            data = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (from JSON "\ud800" escapes): keep them as escapes
            data = "".join(json.dumps(r, default=str) + "\n" for r in records).encode("ascii")
        f.write(data)
    return rows, bad


def _prepare(inputs, id_column, text_column, title_column, date_column, outlet_column, url_column,
             errors, max_bytes, batch_size) -> tuple[list, _Options]:
    if errors not in ("report", "raise"):
        raise ValueError(f"errors must be 'report' or 'raise', not {errors!r}")
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, not {max_bytes!r}")
    if not isinstance(text_column, str) or not text_column:
        raise ValueError(f"text_column must be a non-empty string, not {text_column!r}")
    if isinstance(inputs, (str, os.PathLike)):
        paths = [inputs]
    else:
        paths = list(inputs)
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise ValueError(f"inputs must be paths (str or os.PathLike), not {type(p).__name__}")
    opts = _Options(id_column or None, text_column, title_column or None, date_column or None,
                    outlet_column or None, url_column or None, errors == "raise", max_bytes, batch_size)
    return paths, opts


def _frame(records: list[tuple], start: int) -> pd.DataFrame:
    index = pd.RangeIndex(start, start + len(records))
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in ARTICLE_COLUMNS}, index=index)
    return pd.DataFrame(records, columns=ARTICLE_COLUMNS, dtype=object, index=index)


def _chunks(records: Iterator[tuple], chunksize: int) -> Iterator[pd.DataFrame]:
    buf: list[tuple] = []
    start = 0
    for record in records:
        buf.append(record)
        if len(buf) >= chunksize:
            yield _frame(buf, start)
            start += len(buf)
            buf = []
    if buf:
        yield _frame(buf, start)


def _records(paths: list, opts: _Options) -> Iterator[tuple]:
    for path in paths:
        yield from _read_input(path, opts)


def _read_input(path: PathLike, opts: _Options) -> Iterator[tuple]:
    name = os.fspath(path)
    p = Path(path)
    stem = p.stem or name
    try:
        st = os.stat(path)
    except OSError as exc:
        yield opts.fail(stem, name, f"{name}: cannot read ({_os_reason(exc)})")
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _read_folder(path, name, opts)
        return
    ext = p.suffix.lower()
    if ext == ".txt":
        yield _read_txt(path, name, stem, opts)
    elif ext == ".csv":
        yield from _read_csv(path, name, stem, opts)
    elif ext in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path, name, stem, opts)
    elif ext == ".parquet":
        yield from _read_parquet(path, name, stem, opts)
    else:
        yield opts.fail(stem, name, f"{name}: unsupported file type '{ext or p.name}' (expected {_EXTENSIONS})")


def _read_txt(path: PathLike, name: str, ident: str, opts: _Options) -> tuple:
    try:
        text = read_text_file(path, max_bytes=opts.max_bytes)
    except AnnotatorError as exc:
        return opts.fail(ident, name, str(exc))
    if not text:
        return opts.fail(ident, name, f"{name}: empty file")
    date = None
    m = _SEED.match(text)
    if m:
        try:
            _dt.date.fromisoformat(m.group(1))
        except ValueError:
            pass
        else:
            date, text = m.group(1), text[m.end():]
    if not text.strip():
        return opts.fail(ident, name, f"{name}: empty text (whitespace only)", (None, date, None, None))
    return (ident, text, None, date, None, None, name, None)


def _read_folder(path: PathLike, name: str, opts: _Options) -> Iterator[tuple]:
    walk_errors: list[OSError] = []
    found: list[tuple[tuple[str, ...], str]] = []
    root = os.fspath(path)
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_errors.append):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, root)
        parts = () if rel_dir == os.curdir else tuple(Path(rel_dir).parts)
        for fn in filenames:
            if fn.lower().endswith(".txt") and not fn.startswith("."):
                found.append((parts + (fn,), os.path.join(dirpath, fn)))
    for exc in walk_errors:
        where = exc.filename or name
        yield opts.fail(Path(where).name, os.fspath(where), f"{where}: cannot read folder ({_os_reason(exc)})")
    if not found and not walk_errors:
        yield opts.fail(Path(name).name or name, name, f"{name}: no .txt files in folder")
        return
    found.sort()
    stems = Counter(Path(parts[-1]).stem for parts, _ in found)
    for parts, file_path in found:
        stem = Path(parts[-1]).stem
        ident = stem if stems[stem] == 1 else "/".join(parts[:-1] + (stem,))
        yield _read_txt(file_path, file_path, ident, opts)


def _table_names(opts: _Options) -> tuple:
    return (opts.id_column, opts.text_column, opts.title_column, opts.date_column, opts.outlet_column, opts.url_column)


def _read_csv(path: PathLike, name: str, stem: str, opts: _Options) -> Iterator[tuple]:
    try:
        encoding = _file_encoding(path, name)
    except AnnotatorError as exc:
        yield opts.fail(stem, name, str(exc))
        return
    if csv.field_size_limit() < opts.max_bytes + 1:
        csv.field_size_limit(opts.max_bytes + 1)  # larger fields are rejected as "too large"
    row = 0
    try:
        with open(path, newline="", encoding=encoding) as f:
            reader = csv.reader(f, strict=True)  # a stray or unclosed quote is an error, not a guess
            header = None
            try:
                while not header:
                    header = next(reader)
            except StopIteration:
                yield opts.fail(stem, name, f"{name}: empty file (no header)")
                return
            except csv.Error as exc:
                yield opts.fail(stem, name, f"{name}: invalid CSV header ({exc})")
                return
            header = [h.strip() for h in header]
            bad = opts.columns_or_error(name, stem, header)
            if bad is not None:
                yield bad
                return
            position = {}
            for i, column in enumerate(header):
                position.setdefault(column, i)
            idx = [position.get(c) if c else None for c in _table_names(opts)]
            ncol = len(header)
            while True:
                first_line = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    source = f"{name}:{row}"
                    if "field limit" in str(exc):
                        reason = f"too large (> {_size(opts.max_bytes)} limit) (line {reader.line_num})"
                    elif "unexpected end of data" in str(exc):
                        reason = (f"invalid CSV: a quoted field opened on line {first_line} never closes "
                                  f"(read to the end of the file, line {reader.line_num})")
                    else:
                        reason = f"invalid CSV: {exc} (line {reader.line_num})"
                    yield opts.fail(source, source, f"{source}: {reason}")
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
        reason = _os_reason(exc) if isinstance(exc, OSError) else exc
        yield opts.fail(stem, name, f"{name}: cannot read after row {row} ({reason})")
        return
    if row == 0:
        yield opts.fail(stem, name, f"{name}: empty (no data rows)")


def _read_jsonl(path: PathLike, name: str, stem: str, opts: _Options) -> Iterator[tuple]:
    names = _table_names(opts)
    text_column = opts.text_column
    line_limit = 8 * opts.max_bytes + 2**20  # JSON escapes can make a line much longer than its text
    lineno = rows = 0
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
            if not head:
                yield opts.fail(stem, name, f"{name}: empty file")
                return
            if b"\x00" in head:
                yield opts.fail(stem, name, f"{name}: binary file (NUL byte in the first 8 KB)")
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
                    yield opts.fail(source, source, f"{source}: line too large (> {_size(line_limit)})")
                    continue
                if lineno == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[3:]
                if not line.strip():
                    continue
                rows += 1
                try:
                    obj = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError:
                    source = f"{name}:{lineno}"
                    try:
                        obj = json.loads(_decode(line, source))
                    except AnnotatorError as exc:
                        yield opts.fail(source, source, str(exc))
                        continue
                    except json.JSONDecodeError as exc:
                        yield opts.fail(source, source, f"{source}: invalid JSON ({exc.msg} at column {exc.colno})")
                        continue
                except json.JSONDecodeError as exc:
                    source = f"{name}:{lineno}"
                    yield opts.fail(source, source, f"{source}: invalid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if type(obj) is not dict:
                    source = f"{name}:{lineno}"
                    kind = _JSON_TYPES.get(type(obj), type(obj).__name__)
                    yield opts.fail(source, source, f"{source}: not a JSON object ({kind})")
                    continue
                if text_column not in obj:
                    source = f"{name}:{lineno}"
                    keys = ", ".join(repr(k) for k in list(obj)[:20])
                    ident = _scalar_str(obj.get(opts.id_column)) if opts.id_column else None
                    message = f"{source}: no '{text_column}' field (fields: {keys or 'none'})"
                    yield opts.fail(ident or source, source, message)
                    continue
                get = obj.get
                yield opts.table_row(name, lineno, *[get(c) if c else None for c in names])
    except OSError as exc:
        yield opts.fail(stem, name, f"{name}: cannot read after line {lineno} ({_os_reason(exc)})")
        return
    if rows == 0:
        yield opts.fail(stem, name, f"{name}: empty (no JSON lines)")


def _read_parquet(path: PathLike, name: str, stem: str, opts: _Options) -> Iterator[tuple]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        found = list(pf.schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for non-Parquet bytes
        yield opts.fail(stem, name, f"{name}: not a readable Parquet file ({exc})")
        return
    bad = opts.columns_or_error(name, stem, found)
    if bad is not None:
        yield bad
        return
    if pf.metadata.num_rows == 0:
        yield opts.fail(stem, name, f"{name}: empty (no data rows)")
        return
    names = [c if c in found else None for c in _table_names(opts)]
    columns = list(dict.fromkeys(c for c in names if c))
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=opts.batch_size, columns=columns):
            data = batch.to_pydict()
            cols = [data[c] if c else None for c in names]
            for i in range(batch.num_rows):
                row += 1
                yield opts.table_row(name, row, *[None if c is None else c[i] for c in cols])
    except AnnotatorError:
        raise
    except Exception as exc:
        yield opts.fail(stem, name, f"{name}: cannot read Parquet after row {row} ({exc})")
