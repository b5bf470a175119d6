"""Read ``.txt`` articles, one file or every ``*.txt`` below a folder (seed-format date prefix understood)."""
from __future__ import annotations

import datetime as _dt
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ..errors import AnnotatorError, AnnotatorWarning
from .decoding import read_text_file
from .messages import os_reason
from .records import Article, Meta, ReadOptions

__all__ = ["read_txt", "read_folder", "folder_files", "FolderFiles", "TABLE_EXTENSIONS"]

_SEED = re.compile(r" date (\d{4}-\d{2}-\d{2}) ")

PathLike = str | os.PathLike


def read_txt(path: PathLike, name: str, ident: str, opts: ReadOptions) -> Article:
    """The record of one ``.txt`` file (its text after a valid seed prefix ``" date YYYY-MM-DD "``)."""
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
        return opts.fail(ident, name, f"{name}: empty text (whitespace only)", Meta(date=date))
    return Article(ident, text, None, date, None, None, name, None)


#: Table files a folder may hold besides ``.txt`` files (read by their own readers).
TABLE_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet")


class FolderFiles(NamedTuple):
    """What a folder holds: ``.txt`` files and table files, as (relative path parts, path), and walk errors.

    Hidden names are skipped (``.txt`` files starting with ``.``; tables starting with ``.`` or
    ``_``, the marker files of Spark and Dask datasets).
    """

    txt: list
    tables: list
    errors: list


def folder_files(root: PathLike) -> FolderFiles:
    """The ``.txt`` and table files below ``root`` (recursively, hidden folders skipped), sorted."""
    root = os.fspath(root)
    out = FolderFiles([], [], [])
    for dirpath, dirnames, filenames in os.walk(root, onerror=out.errors.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root)
        parts = () if rel_dir == os.curdir else tuple(Path(rel_dir).parts)
        for fn in filenames:
            low = fn.lower()
            if low.endswith(".txt") and not fn.startswith("."):
                out.txt.append((parts + (fn,), os.path.join(dirpath, fn)))
            elif low.endswith(TABLE_EXTENSIONS) and not fn.startswith((".", "_")):
                out.tables.append((parts + (fn,), os.path.join(dirpath, fn)))
    out.txt.sort()
    out.tables.sort()
    return out


def read_folder(path: PathLike, name: str, opts: ReadOptions) -> Iterator[Article]:
    """Records of every ``*.txt`` below a folder, sorted by relative path; stems shared in the tree get paths.

    A table file beside them is not read (a folder is either ``.txt`` articles or a table
    dataset, and a folder of articles often holds their annotations): an
    :class:`~annotator.errors.AnnotatorWarning` names them rather than skipping them unseen.
    """
    files = folder_files(path)
    for exc in files.errors:
        where = exc.filename or name
        yield opts.fail(Path(where).name, os.fspath(where), f"{where}: cannot read folder ({os_reason(exc)})")
    if not files.txt and not files.errors:
        yield opts.fail(Path(name).name or name, name, f"{name}: no .txt files in folder")
        return
    stems = Counter(Path(parts[-1]).stem for parts, _ in files.txt)
    for parts, file_path in files.txt:
        stem = Path(parts[-1]).stem
        ident = stem if stems[stem] == 1 else "/".join(parts[:-1] + (stem,))
        yield read_txt(file_path, file_path, ident, opts)
    if files.tables:
        names = ", ".join(os.path.join(*parts) for parts, _ in files.tables[:3])
        more = f" and {len(files.tables) - 3} more" if len(files.tables) > 3 else ""
        warnings.warn(f"{name}: {len(files.tables)} table file(s) beside the .txt files not read ({names}{more}); "
                      "give a table as its own input to read it", AnnotatorWarning, stacklevel=2)
