"""Decode article bytes: strict UTF-8 (BOM dropped), else strict cp1252; sniff empty and binary files."""
from __future__ import annotations

import codecs
import os

from ..errors import AnnotatorError
from .messages import os_reason, size_text, too_large

__all__ = ["SNIFF_BYTES", "decode", "check_head", "file_encoding", "read_text_file"]

#: Bytes read at the start of a file to tell an empty or binary file.
SNIFF_BYTES = 8192
_READ_BLOCK = 2**20

PathLike = str | os.PathLike


def decode(data: bytes, where: str) -> str:
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


def check_head(head: bytes, name: str) -> None:
    """Raise when the first :data:`SNIFF_BYTES` of file ``name`` show it empty or binary (a NUL byte)."""
    if not head:
        raise AnnotatorError(f"{name}: empty file")
    if b"\x00" in head:
        raise AnnotatorError(f"{name}: binary file (NUL byte in the first 8 KB)")


def file_encoding(path: PathLike, name: str) -> str:
    """Check a whole file decodes as UTF-8 (else cp1252), streaming; return the codec name."""
    try:
        with open(path, "rb") as f:
            check_head(f.read(SNIFF_BYTES), name)
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
        raise AnnotatorError(f"{name}: cannot read ({os_reason(exc)})") from None
    raise AnnotatorError(f"{name}: not UTF-8 or cp1252 text (invalid UTF-8 near byte offset {bad})")


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
                    raise AnnotatorError(f"{name}: {too_large(size, max_bytes)}")
                data = f.read(max_bytes + 1)
                if len(data) > max_bytes:
                    raise AnnotatorError(f"{name}: too large (> {size_text(max_bytes)} limit)")
            else:
                data = f.read()
    except OSError as exc:
        raise AnnotatorError(f"{name}: cannot read ({os_reason(exc)})") from None
    if b"\x00" in data:
        raise AnnotatorError(f"{name}: binary file (contains NUL bytes)")
    return decode(data, name)
