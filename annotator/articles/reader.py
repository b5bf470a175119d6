"""Read articles from any mix of inputs: all at once (:func:`read_articles`) or in chunks (:func:`iter_articles`)."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from .csvfile import read_csv
from .jsonl import read_jsonl
from .messages import os_reason
from .parquet import read_parquet
from .records import ARTICLE_COLUMNS, DEFAULT_MAX_BYTES, Article, ReadOptions
from .text import folder_files, read_folder, read_txt

__all__ = ["read_articles", "iter_articles"]

_EXTENSIONS = ".txt, .csv, .jsonl, .ndjson, .parquet or a folder"

PathLike = str | os.PathLike


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
        Columns :data:`ARTICLE_COLUMNS` (see :mod:`annotator.articles`).

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
        folders (every ``*.txt`` below, recursively, sorted; a folder without
        ``.txt`` files: its tables, sorted; a table beside ``.txt`` files is an
        error record, not read), in order.
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
        source, error`` (see :mod:`annotator.articles` for their meaning).

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


def _prepare(inputs, id_column, text_column, title_column, date_column, outlet_column, url_column,
             errors, max_bytes, batch_size) -> tuple[list, ReadOptions]:
    """Check the arguments; the list of input paths and the options of the read."""
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
    opts = ReadOptions(id_column or None, text_column, title_column or None, date_column or None,
                       outlet_column or None, url_column or None, errors == "raise", max_bytes, batch_size)
    return paths, opts


def _frame(records: list[Article], start: int) -> pd.DataFrame:
    index = pd.RangeIndex(start, start + len(records))
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in ARTICLE_COLUMNS}, index=index)
    return pd.DataFrame(records, columns=ARTICLE_COLUMNS, dtype=object, index=index)


def _chunks(records: Iterator[Article], chunksize: int) -> Iterator[pd.DataFrame]:
    buf: list[Article] = []
    start = 0
    for record in records:
        buf.append(record)
        if len(buf) >= chunksize:
            yield _frame(buf, start)
            start += len(buf)
            buf = []
    if buf:
        yield _frame(buf, start)


def _records(paths: list, opts: ReadOptions) -> Iterator[Article]:
    for path in paths:
        yield from _read_input(path, opts)


def _read_input(path: PathLike, opts: ReadOptions) -> Iterator[Article]:
    """Records of one input: a folder, or a file read by the reader of its extension."""
    name = os.fspath(path)
    p = Path(path)
    stem = p.stem or name
    try:
        st = os.stat(path)
    except OSError as exc:
        yield opts.fail(stem, name, f"{name}: cannot read ({os_reason(exc)})")
        return
    if stat.S_ISDIR(st.st_mode):
        files = folder_files(path)
        if files.txt or files.errors or not files.tables:
            yield from read_folder(path, name, opts)
        else:  # a table dataset (e.g. Parquet parts written by Spark or Dask): every table in order
            for _, table in files.tables:
                yield from _read_input(table, opts)
        return
    ext = p.suffix.lower()
    if ext == ".txt":
        yield read_txt(path, name, stem, opts)
    elif ext == ".csv":
        yield from read_csv(path, name, stem, opts)
    elif ext in (".jsonl", ".ndjson"):
        yield from read_jsonl(path, name, stem, opts)
    elif ext == ".parquet":
        yield from read_parquet(path, name, stem, opts)
    else:
        yield opts.fail(stem, name, f"{name}: unsupported file type '{ext or p.name}' (expected {_EXTENSIONS})")
