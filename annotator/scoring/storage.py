"""Where the Dask engine reads and writes: local paths, or fsspec URLs (``s3://``, ``gs://``, ``memory://``...).

A local path (or a ``file://`` URL) is read with ``open`` and written through :mod:`annotator.io`
(temporary file, then rename). Any other URL goes through fsspec (an optional dependency: the
``dask`` extra), each worker opening it directly with the credentials of its own environment
(``AWS_*`` variables, ``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS``...). An object is written in
one request once complete (an object store never shows half an object), so remote writes need no
temporary name.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnnotatorError
from ..io import atomic_folder, atomic_output, write_text_atomic

__all__ = ["is_url", "local_path", "filesystem", "open_input", "input_size", "url_name", "Folder"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LOCAL_SCHEMES = ("file", "local")


def is_url(path) -> bool:
    """Whether ``path`` is a URL read through fsspec (``file://`` URLs are local paths)."""
    m = _SCHEME.match(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else None
    return bool(m) and m.group(1).lower() not in _LOCAL_SCHEMES


def local_path(path) -> str:
    """A local path as a string: ``path`` itself, or the path of a ``file://`` URL."""
    s = os.fspath(path)
    m = _SCHEME.match(s)
    return s[m.end():] if m else s


def filesystem(url: str):
    """(fsspec filesystem, path within it) of a URL."""
    try:
        import fsspec  # optional: the dask extra (fsspec) reads and writes URLs
    except ImportError:
        raise AnnotatorError(f"{url}: URLs need fsspec: pip install 'annotator[dask]'") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # unknown protocol, or its package (s3fs, gcsfs...) missing
        raise AnnotatorError(f"{url}: cannot open ({exc})") from None


def open_input(path):
    """An input file opened for binary reading (seekable), local or remote."""
    if is_url(path):
        fs, p = filesystem(path)
        f = fs.open(p, "rb")
        # fsspec's buffered files read a line without a size limit: a BufferedReader gives readline(limit)
        return f if isinstance(f, io.BufferedIOBase) else io.BufferedReader(f, 2**20)
    return open(local_path(path), "rb")


def input_size(path) -> int | None:
    """Bytes of an input file, or None (a folder, or not readable)."""
    try:
        if is_url(path):
            fs, p = filesystem(path)
            info = fs.info(p)
            return int(info["size"]) if info.get("type") == "file" else None
        p = local_path(path)
        return None if os.path.isdir(p) else os.path.getsize(p)
    except (OSError, KeyError, TypeError, ValueError):
        return None


def url_name(path) -> str:
    """The last component of a path or URL (``s3://b/x/in.jsonl`` -> ``in.jsonl``)."""
    s = os.fspath(path)
    return posixpath.basename(s.rstrip("/")) if is_url(s) else Path(s).name


@dataclass(frozen=True)
class Folder:
    """A folder of output files, local or remote; picklable, so tasks on the workers write into it.

    Attributes
    ----------
    url : str
        An absolute local path, or a URL.
    """

    url: str

    @classmethod
    def of(cls, path) -> "Folder":
        """The folder at ``path`` (a local path made absolute: the workers write there, not relative
        to their own working folder)."""
        if is_url(path):
            return cls(os.fspath(path).rstrip("/"))
        return cls(os.path.abspath(local_path(path)))

    @property
    def remote(self) -> bool:
        return is_url(self.url)

    def sibling(self, suffix: str) -> "Folder":
        """The folder named like this one plus ``suffix`` (``OUT`` -> ``OUT.partial``)."""
        return Folder(self.url + suffix)

    def _fs(self):
        return filesystem(self.url)

    def child(self, name: str) -> str:
        return f"{self.url}/{name}" if self.remote else os.path.join(self.url, name)

    def exists(self) -> bool:
        if self.remote:
            fs, p = self._fs()
            return fs.exists(p)
        return os.path.exists(self.url)

    def has(self, name: str) -> bool:
        """Whether file ``name`` is in the folder."""
        if self.remote:
            fs, p = self._fs()
            return fs.exists(f"{p}/{name}")
        return os.path.isfile(self.child(name))

    def names(self) -> list:
        """Names of the files in the folder (none when it does not exist)."""
        if self.remote:
            fs, p = self._fs()
            try:
                return sorted(posixpath.basename(e.rstrip("/")) for e in fs.ls(p, detail=False))
            except FileNotFoundError:
                return []
        try:
            return sorted(os.listdir(self.url))
        except FileNotFoundError:
            return []

    def reset(self) -> None:
        """Remove the folder and what it holds, and create it empty."""
        self.remove()
        if self.remote:
            fs, p = self._fs()
            fs.makedirs(p, exist_ok=True)
        else:
            os.makedirs(self.url)

    def remove(self) -> None:
        """Remove the folder and what it holds (nothing happens when it does not exist)."""
        if self.remote:
            fs, p = self._fs()
            if fs.exists(p):
                fs.rm(p, recursive=True)
        elif os.path.isdir(self.url):
            shutil.rmtree(self.url)

    def read_json(self, name: str):
        if self.remote:
            fs, p = self._fs()
            return json.loads(fs.cat_file(f"{p}/{name}"))
        with open(self.child(name), encoding="utf-8") as f:
            return json.load(f)

    def write_json(self, name: str, data: dict) -> None:
        """Write a state, marker or summary file (JSON, indent 1, non-ASCII as escapes), atomically."""
        text = json.dumps(data, indent=1)
        if self.remote:
            fs, p = self._fs()
            fs.pipe_file(f"{p}/{name}", text.encode("ascii"))
        else:
            write_text_atomic(self.child(name), text)

    def delete(self, name: str) -> None:
        if self.remote:
            fs, p = self._fs()
            if fs.exists(f"{p}/{name}"):
                fs.rm_file(f"{p}/{name}")
        else:
            Path(self.child(name)).unlink(missing_ok=True)

    def put(self, name: str, fileobj) -> None:
        """Store the content of ``fileobj`` (read from its start) as file ``name``, all or nothing."""
        fileobj.seek(0)
        if self.remote:
            fs, p = self._fs()
            fs.pipe_file(f"{p}/{name}", fileobj.read())
            return
        with atomic_output(self.child(name)) as fh:
            shutil.copyfileobj(fileobj, fh, 2**20)

    def remove_temporary(self) -> int:
        """Remove temporary files left by writers that died (``.NAME.XXXX.tmp``); how many."""
        if self.remote:
            return 0
        n = 0
        for name in self.names():
            if name.startswith(".") and name.endswith(".tmp"):
                target = self.child(name)
                if os.path.isdir(target):
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    Path(target).unlink(missing_ok=True)
                n += 1
        return n

    def replace(self, target: "Folder") -> None:
        """This folder becomes ``target`` (what was there is replaced): locally by renames that a
        reader never sees half done; remotely by moving the objects (fsspec ``mv``)."""
        if self.remote:
            fs, p = self._fs()
            _, q = target._fs()
            if fs.exists(q):
                fs.rm(q, recursive=True)
            fs.mv(p, q, recursive=True)
            return
        with atomic_folder(target.url) as ready:
            ready.rmdir()
            os.replace(self.url, ready)  # the finished folder itself (its mode kept) takes the new folder's place
