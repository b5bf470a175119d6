"""The article record, the reading options and the one-line error record they make for a bad file or row."""
from __future__ import annotations

import datetime as _dt
import hashlib
import math
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd

from ..errors import AnnotatorError
from .decoding import decode
from .messages import one_line, too_large

__all__ = ["ARTICLE_COLUMNS", "DEFAULT_MAX_BYTES", "Article", "Meta", "NO_META", "ReadOptions", "JSON_TYPES",
           "scalar_str", "content_id"]

DEFAULT_MAX_BYTES = 20 * 2**20
"""Default per-article size limit: 20 MB (MB = 2**20 bytes)."""

#: JSON type names for messages about a value of the wrong type.
JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class Article(NamedTuple):
    """One row of the articles frame (see :mod:`annotator.articles` for what each field holds)."""

    id: str | None
    text: str | None
    title: str | None
    date: str | None
    outlet: str | None
    url: str | None
    source: str
    error: str | None


class Meta(NamedTuple):
    """The optional fields of a table row, kept on its error record too."""

    title: str | None = None
    date: str | None = None
    outlet: str | None = None
    url: str | None = None


NO_META = Meta()
ARTICLE_COLUMNS = list(Article._fields)


def scalar_str(value: object) -> str | None:
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


def content_id(text: str) -> str:
    """The id of a table row without one: the first 16 hex digits of the SHA-1 of its UTF-8 text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ReadOptions:
    """Column names, the error mode and the size limit of one read."""

    id_column: str | None
    text_column: str
    title_column: str | None
    date_column: str | None
    outlet_column: str | None
    url_column: str | None
    raise_errors: bool
    max_bytes: int
    batch_size: int

    @property
    def table_columns(self) -> tuple:
        """The column names of a table row, in :meth:`table_row`'s argument order (None: not read)."""
        return (self.id_column, self.text_column, self.title_column, self.date_column, self.outlet_column,
                self.url_column)

    def fail(self, ident: str, source: str, message: str, meta: Meta = NO_META) -> Article:
        """The error record of a bad file or row (with ``errors="raise"``: raise its one-line message)."""
        message = one_line(message)
        if self.raise_errors:
            raise AnnotatorError(message)
        return Article(ident, None, *meta, source, message)

    def table_row(self, name: str, row: int, ident, text, title, date, outlet, url) -> Article:
        """One table row -> record (or error record)."""
        source = f"{name}:{row}"
        ident = scalar_str(ident)
        title, date, outlet, url = scalar_str(title), scalar_str(date), scalar_str(outlet), scalar_str(url)
        problem = None
        if not isinstance(text, str):
            text, problem = self._as_text(text, source)
        if problem is None:
            limit = self.max_bytes
            if len(text) * 4 > limit and (size := len(text.encode("utf-8", "surrogatepass"))) > limit:
                problem = f"{source}: {too_large(size, limit)}"
            elif "\x00" in text:
                problem = f"{source}: binary text (contains NUL characters)"
            elif not text.strip():
                problem = f"{source}: empty text"
        if problem is not None:
            return self.fail(ident or source, source, problem, Meta(title, date, outlet, url))
        return Article(ident or content_id(text), text, title, date, outlet, url, source, None)

    def _as_text(self, value, source: str) -> tuple[str | None, str | None]:
        """A text cell that is not a str: (decoded bytes, None) or (None, what is wrong)."""
        if isinstance(value, (bytes, bytearray)):
            try:
                text = decode(bytes(value), source)
            except AnnotatorError as exc:
                return None, str(exc)
            return text, None
        if scalar_str(value) is None:
            return None, f"{source}: empty text (no '{self.text_column}' value)"
        kind = JSON_TYPES.get(type(value), type(value).__name__)
        return None, f"{source}: '{self.text_column}' is not a string ({kind})"

    def columns_or_error(self, name: str, stem: str, found: list[str]) -> Article | None:
        """None when the table has the text column, else the error record of file ``name``."""
        if self.text_column in found:
            return None
        shown = ", ".join(repr(c) for c in found[:20]) + (", ..." if len(found) > 20 else "")
        return self.fail(stem, name, f"{name}: no '{self.text_column}' column (columns found: {shown or 'none'})")
