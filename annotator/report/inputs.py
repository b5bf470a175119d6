"""Check that a scoring report's input is ``annotator score`` output, and read it (one-line errors otherwise)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from ..articles.messages import one_line
from ..errors import AnnotatorError
from ..scoring.formats import EXTENSIONS, read_scores
from ..scoring.records import output_columns
from ..taxonomy import load_taxonomy

__all__ = ["read_score_output", "score_columns", "LATER_COLUMNS"]

#: Fields that output written before the scope check (issue 15) lacks: read as missing (status from ``error``).
LATER_COLUMNS = ("status", "reason", "confidence", "risk_low", "risk_high")

PEEK_BYTES = 16 * 2**20  # the first line of a JSONL output read to find its fields (a line is one article)


def _jsonl_fields(path: Path) -> list[str]:
    with open(path, "rb") as f:
        for lineno, line in enumerate(iter(lambda: f.readline(PEEK_BYTES), b""), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8-sig"))
            except UnicodeDecodeError:
                raise AnnotatorError(f"{path}:{lineno}: not UTF-8 text, so not 'annotator score' output") from None
            except json.JSONDecodeError as exc:
                raise AnnotatorError(f"{path}:{lineno}: invalid JSON ({exc.msg.removesuffix(' at')} at column "
                                     f"{exc.colno}), so not 'annotator score' output") from None
            if type(obj) is not dict:
                raise AnnotatorError(f"{path}:{lineno}: not a JSON object, so not 'annotator score' output")
            return list(obj)
    return []


def _csv_fields(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AnnotatorError(f"{path}: not a UTF-8 CSV table ({one_line(exc)}), so not 'annotator score' "
                             f"output") from None


def _parquet_fields(path: Path) -> list[str]:
    import pyarrow.parquet as pq  # optional/lazy: only Parquet inputs need it

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise AnnotatorError(f"{path}: not a Parquet file ({one_line(exc)})") from None


def _fields(path: Path) -> list[str]:
    """The field names of a score output file (of its first record, for JSONL)."""
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise AnnotatorError(f"{path}: not a report input: give 'annotator score' output (.jsonl, .csv, "
                             f".parquet, or an --engine dask folder) or a model (.skops)")
    return {"jsonl": _jsonl_fields, "csv": _csv_fields, "parquet": _parquet_fields}[fmt](path)


def score_columns(path) -> list[str]:
    """The fields of ``path`` (a file or the first part of a Dask output folder), checked.

    Raises :class:`AnnotatorError` naming the file and what to do when it is not
    ``annotator score`` output: an articles file (it has ``text`` but no ``risk``: score it
    first), another table, or a file of another format.
    """
    p = Path(path)
    first = p
    if p.is_dir():
        parts = sorted(f for f in p.iterdir() if f.name.startswith("part-") and f.suffix.lower() in EXTENSIONS)
        if not parts:
            raise AnnotatorError(f"{p}: a folder without part-NNNNN files: give the output of 'annotator score' "
                                 f"(a file, or the folder of --engine dask) or a model (.skops)")
        first = parts[0]
    try:
        found = _fields(first)
    except OSError as exc:
        raise AnnotatorError(f"{first}: cannot read ({exc.strerror or one_line(exc)})") from None
    if not found:
        return found  # empty output: no rows to check
    missing = [c for c in output_columns(load_taxonomy().label_ids) if c not in found and c not in LATER_COLUMNS]
    if "risk" in missing and "text" in found:
        raise AnnotatorError(f"{p}: an articles file, not 'annotator score' output (it has 'text', no 'risk'): "
                             f"score it first: 'annotator score {p} -o scores.jsonl', then "
                             f"'annotator report scores.jsonl --articles {p} -o report.html'")
    if missing:
        shown = ", ".join(repr(c) for c in found[:12]) + (", ..." if len(found) > 12 else "")
        raise AnnotatorError(f"{first}: not 'annotator score' output (no {', '.join(repr(c) for c in missing)} "
                             f"field; fields: {shown}): give a file written by 'annotator score', "
                             f"or a model (.skops)")
    return found


def read_score_output(path) -> pd.DataFrame:
    """:func:`annotator.scoring.read_scores` of ``path`` after :func:`score_columns`; one-line errors."""
    score_columns(path)
    try:
        return read_scores(path)
    except AnnotatorError:
        raise
    except OSError as exc:
        raise AnnotatorError(f"{getattr(exc, 'filename', None) or path}: cannot read "
                             f"({exc.strerror or one_line(exc)})") from None
    except (ValueError, KeyError, TypeError) as exc:  # a later row that is not a score record
        what = f"a row has no {exc} field" if isinstance(exc, KeyError) else one_line(exc)
        raise AnnotatorError(f"{path}: not 'annotator score' output ({what}): give a file written by "
                             f"'annotator score'") from None
