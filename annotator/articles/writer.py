"""Write articles frames as JSON Lines (UTF-8), to a file replaced atomically or to a stream."""
from __future__ import annotations

import json
import os
from collections.abc import Iterable

import pandas as pd

from ..io import atomic_output

__all__ = ["write_articles_jsonl"]

PathLike = str | os.PathLike


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
