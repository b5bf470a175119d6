"""Read ``.txt`` articles, one file or every ``*.txt`` below a folder (seed-format date prefix understood)."""
from __future__ import annotations

import datetime as _dt
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from ..errors import AnnotatorError
from .decoding import read_text_file
from .messages import os_reason
from .records import Article, Meta, ReadOptions

__all__ = ["read_txt", "read_folder"]

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


def _find_txt(root: str) -> tuple[list[tuple[tuple[str, ...], str]], list[OSError]]:
    """(relative path parts, path) of every ``*.txt`` below ``root`` (hidden ones skipped), and walk errors."""
    walk_errors: list[OSError] = []
    found: list[tuple[tuple[str, ...], str]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=walk_errors.append):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        rel_dir = os.path.relpath(dirpath, root)
        parts = () if rel_dir == os.curdir else tuple(Path(rel_dir).parts)
        for fn in filenames:
            if fn.lower().endswith(".txt") and not fn.startswith("."):
                found.append((parts + (fn,), os.path.join(dirpath, fn)))
    return found, walk_errors


def read_folder(path: PathLike, name: str, opts: ReadOptions) -> Iterator[Article]:
    """Records of every ``*.txt`` below a folder, sorted by relative path; stems shared in the tree get paths."""
    found, walk_errors = _find_txt(os.fspath(path))
    for exc in walk_errors:
        where = exc.filename or name
        yield opts.fail(Path(where).name, os.fspath(where), f"{where}: cannot read folder ({os_reason(exc)})")
    if not found and not walk_errors:
        yield opts.fail(Path(name).name or name, name, f"{name}: no .txt files in folder")
        return
    found.sort()
    stems = Counter(Path(parts[-1]).stem for parts, _ in found)
    for parts, file_path in found:
        stem = Path(parts[-1]).stem
        ident = stem if stems[stem] == 1 else "/".join(parts[:-1] + (stem,))
        yield read_txt(file_path, file_path, ident, opts)
