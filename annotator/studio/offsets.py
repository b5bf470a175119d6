"""Span offsets between Python ``str`` indices and Label Studio ``<Text>`` offsets, and span-text comparison.

Label Studio 1.23's ``<Text>`` tag counts offsets in Unicode code points (its
frontend ``domManager`` splits the text with ``[...text]``), which equal Python
``str`` indices: verified in Chromium against a 1.23.2 server, both for a span
selected with the mouse after emoji and astral characters and for a prediction
highlighted from Python offsets. Older frontends counted UTF-16 code units. All
conversions go through :func:`py_to_ls_offsets` / :func:`ls_to_py_offsets`
(``unit="codepoint"`` by default, ``"utf16"`` for such servers). The ``text``
Label Studio stores for a span selected across a line break has ``\\n``
spelled as a backslash and ``n`` and runs of spaces collapsed:
:func:`same_text` compares texts with whitespace normalised.
"""
from __future__ import annotations

__all__ = ["py_to_ls_offsets", "ls_to_py_offsets", "same_text"]


def py_to_ls_offsets(text: str, start: int, end: int, unit: str = "codepoint") -> tuple[int, int]:
    """Python ``str`` indices -> Label Studio ``<Text>`` offsets.

    ``unit="codepoint"`` (Label Studio >= 1.x with the ``domManager`` frontend,
    verified on 1.23.2) is the identity; ``unit="utf16"`` counts UTF-16 code
    units, as older frontends did (an emoji outside the BMP counts 2).
    """
    if unit == "codepoint":
        return start, end
    if unit == "utf16":
        s = _utf16_len(text[:start])
        return s, s + _utf16_len(text[start:end])
    raise ValueError(f"unknown offset unit {unit!r} (codepoint or utf16)")


def ls_to_py_offsets(text: str, start: int, end: int, unit: str = "codepoint") -> tuple[int, int]:
    """Label Studio ``<Text>`` offsets -> Python ``str`` indices (inverse of :func:`py_to_ls_offsets`)."""
    if unit == "codepoint":
        return int(start), int(end)
    if unit == "utf16":
        units = text.encode("utf-16-le")
        s = len(units[: 2 * int(start)].decode("utf-16-le", errors="ignore"))
        e = len(units[: 2 * int(end)].decode("utf-16-le", errors="ignore"))
        return s, e
    raise ValueError(f"unknown offset unit {unit!r} (codepoint or utf16)")


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


def same_text(stored: str, piece: str) -> bool:
    """Whether the text Label Studio stored for a span is ``piece`` (the article at its offsets).

    Label Studio spells a line break inside a selected span's text as backslash-n
    and collapses runs of whitespace: texts are compared modulo whitespace.
    """
    return stored == piece or _norm_ws(stored) == _norm_ws(piece)


def _norm_ws(s: str) -> str:
    return " ".join(s.replace("\\n", "\n").split())
