"""The inputs of a run: globs and folders of tables expanded to files, their fingerprint, their chunks.

Inputs are local paths, or (for the Dask engine) fsspec URLs (:mod:`annotator.scoring.storage`).
"""
from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..articles import ARTICLE_COLUMNS, DEFAULT_MAX_BYTES, iter_articles
from ..articles.records import ReadOptions
from ..articles.text import TABLE_EXTENSIONS, folder_files
from ..errors import AnnotatorError
from .storage import filesystem, is_url

__all__ = ["expand_inputs", "inputs_fingerprint", "file_sha256", "ReaderOptions"]

_MAX_CHUNK_CHARS = 32 * 2**20  # a chunk whose texts exceed this is split (bounded memory per task)


def _hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _has_glob(p: str) -> bool:
    return any(ch in p for ch in "*?[")


def expand_inputs(inputs) -> list:
    """The input list with glob patterns and folders of tables expanded to their files, sorted.

    A folder holding ``.txt`` files stays one input (the readers' folder
    semantics); a folder without ``.txt`` files is replaced by the ``.csv``,
    ``.jsonl``, ``.ndjson`` and ``.parquet`` files below it (sorted by relative
    path; names starting with ``.`` or ``_`` skipped), e.g. a Parquet or JSONL
    dataset written by Spark or Dask. A pattern that matches nothing is kept
    as given (it becomes an error row). URLs (``s3://bucket/data/``,
    ``gs://b/*.parquet``) are expanded the same way, except that a remote
    folder of ``.txt`` files is refused.
    """
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    out = []
    for p in paths:
        s = os.fspath(p)
        if is_url(s):
            out.extend(_expand_url(s))
        elif _has_glob(s) and not os.path.exists(s):
            matches = sorted(_glob.glob(s, recursive=True))
            out.extend(expand_inputs(matches) if matches else [s])
        elif os.path.isdir(s):
            out.extend(_expand_folder(s))
        else:
            out.append(s)
    return out


def _expand_folder(folder: str) -> list:
    files = folder_files(folder)
    if files.txt or not files.tables:
        return [folder]
    return [p for _, p in files.tables]


def _expand_url(url: str) -> list:
    """A URL's files: a glob's matches, a folder's tables (sorted by relative path), else the URL."""
    fs, path = filesystem(url)
    if _has_glob(path):
        found = []
        for m in sorted(fs.glob(path)):
            found.extend(_remote_folder(fs, m, url) if fs.isdir(m) else [fs.unstrip_protocol(m)])
        return found or [url]
    if fs.isdir(path):
        return _remote_folder(fs, path, url)
    return [url]


def _remote_folder(fs, path: str, url: str) -> list:
    tables = []
    root = path.rstrip("/")
    for f in fs.find(root):
        parts = tuple(f[len(root):].strip("/").split("/"))
        if any(d.startswith(".") for d in parts[:-1]) or parts[-1].startswith("."):
            continue
        low = parts[-1].lower()
        if low.endswith(".txt"):
            raise AnnotatorError(f"{url}: a remote folder of .txt files cannot be scored; name the files, or put "
                                 f"the articles in a table (JSONL, CSV, Parquet)")
        if low.endswith(TABLE_EXTENSIONS) and not _hidden(parts[-1]):
            tables.append((parts, fs.unstrip_protocol(f)))
    return [u for _, u in sorted(tables)] or [url]


# --- fingerprints ---------------------------------------------------------------------------------


def _describe_url(url: str) -> list:
    """What identifies a remote input: its URL, size and version or modification time (as listed)."""
    fs, path = filesystem(url)
    try:
        info = fs.info(path)
    except (OSError, ValueError):
        return [url, "missing"]
    keys = ("ETag", "etag", "generation", "version_id", "LastModified", "last_modified", "mtime", "created")
    return [url, info.get("size"), *[f"{k}={info[k]}" for k in keys if info.get(k) is not None]]


def _describe(path: str) -> list:
    """What identifies an input for resume: absolute path, sizes and modification times."""
    if is_url(path):
        return _describe_url(path)
    try:
        st = os.stat(path)
    except OSError:
        return [os.path.abspath(path), "missing"]
    if not os.path.isdir(path):
        return [os.path.abspath(path), st.st_size, st.st_mtime_ns]
    files = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            if fn.startswith("."):
                continue
            try:
                fst = os.stat(os.path.join(dirpath, fn))
            except OSError:
                continue
            files.append([os.path.relpath(os.path.join(dirpath, fn), path), fst.st_size, fst.st_mtime_ns])
    return [os.path.abspath(path), files]


def inputs_fingerprint(paths: list) -> str:
    """A digest of the inputs' paths, sizes and modification times (what a resume must find again)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(json.dumps(_describe(p)).encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(2**20):
            h.update(block)
    return h.hexdigest()


# --- chunks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderOptions:
    """How inputs are read: rows per chunk and the :func:`annotator.articles.iter_articles` options."""

    chunksize: int = 128
    text_column: str = "text"
    id_column: str = "id"
    max_bytes: int = DEFAULT_MAX_BYTES

    def fingerprint(self) -> dict:
        """The options a resume must find again (the chunk size is not one of them)."""
        return {"text_column": self.text_column, "id_column": self.id_column, "max_bytes": self.max_bytes}

    def chunks(self, paths: list, skip: int = 0):
        """Article frames of ``paths`` chunk by chunk, the first ``skip`` rows left out."""
        return _split_large(iter_articles(paths, chunksize=self.chunksize, text_column=self.text_column,
                                          id_column=self.id_column, max_bytes=self.max_bytes), skip)

    def read_options(self) -> ReadOptions:
        """The options :func:`annotator.articles.iter_articles` reads with (other columns at their defaults)."""
        return ReadOptions(self.id_column or None, self.text_column, "title", "date", "outlet", "url", False,
                           self.max_bytes, self.chunksize)

    def frames(self, records):
        """Article records (:class:`annotator.articles.Article`) as frames of at most ``chunksize`` rows."""
        buf = []
        for record in records:
            buf.append(record)
            if len(buf) >= self.chunksize:
                yield from _split_large([pd.DataFrame(buf, columns=ARTICLE_COLUMNS, dtype=object)], 0)
                buf = []
        if buf:
            yield from _split_large([pd.DataFrame(buf, columns=ARTICLE_COLUMNS, dtype=object)], 0)


def _split_large(chunks, skip: int):
    """Skip the first ``skip`` rows; split chunks whose texts are very large (bounded memory per task)."""
    for chunk in chunks:
        if skip:
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            chunk = chunk.iloc[skip:]
            skip = 0
        sizes = [len(t) if isinstance(t, str) else 0 for t in chunk["text"].tolist()]
        if sum(sizes) <= _MAX_CHUNK_CHARS:
            yield chunk
            continue
        start, acc = 0, 0
        for i, n in enumerate(sizes):
            if acc and acc + n > _MAX_CHUNK_CHARS:
                yield chunk.iloc[start:i]
                start, acc = i, 0
            acc += n
        yield chunk.iloc[start:]
