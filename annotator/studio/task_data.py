"""An article row -> the ``data`` of its Label Studio task: text, title, outlet, url, date and ``article_id``.

The label config shows ``title`` as the task's header and ``outlet``, ``date``
and ``url`` under it. An article without a title (plain ``.txt`` files, the
seeds) gets the first non-blank line of its text, cut at a word boundary to
:data:`TITLE_CHARS` characters with an ellipsis.
"""
from __future__ import annotations

import datetime as _dt
import math

import pandas as pd

__all__ = ["TITLE_CHARS", "METADATA", "json_value", "title_of", "task_data"]

#: The longest title made from an article's first line.
TITLE_CHARS = 120
#: The article columns copied into task data besides the text (``title`` falls back to the first line).
METADATA = ("title", "date", "outlet", "url")


def json_value(v):
    """A cell as a JSON value: missing values -> ``None``, dates -> ISO strings, numpy scalars -> Python."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (pd.Timestamp, _dt.date, _dt.datetime)):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def title_of(title, text: str) -> str | None:
    """``title`` when it is a non-blank string, else the first non-blank line of ``text`` (shortened)."""
    title = json_value(title)
    if isinstance(title, str) and title.strip():
        return title
    line = next((ln.strip() for ln in str(text or "").splitlines() if ln.strip()), "")
    if not line:
        return None
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_CHARS // 2 else cut).rstrip(" ,;:-") + "…"


def task_data(rec, text_field: str) -> dict:
    """The task data of one article (a row with ``article_id``, ``text`` and the :data:`METADATA` columns)."""
    data = {text_field: rec.text}
    for col in METADATA:
        data[col] = json_value(getattr(rec, col))
    data["title"] = title_of(data["title"], rec.text)
    data["article_id"] = str(rec.article_id)
    return data
