"""The output formats: records encoded as JSONL, CSV or Parquet, and read back by :func:`read_scores`.

JSONL is the reference format; CSV holds the same fields (``spans`` as JSON text, ``null`` as an
empty cell) and Parquet the same fields with a fixed schema (``spans`` as a list of structs).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path, PurePosixPath

import orjson
import pandas as pd

from ..errors import AnnotatorError
from ..taxonomy import load_taxonomy
from .records import output_columns, records_frame
from .storage import filesystem, is_url, open_input

__all__ = ["FORMATS", "EXTENSIONS", "resolve_format", "parquet_schema", "csv_header", "encode", "read_scores"]

FORMATS = ("jsonl", "csv", "parquet")
#: Output formats by file extension.
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def resolve_format(output, fmt, engine) -> str:
    """The output format: ``fmt`` when given, else from the extension of ``output`` (Dask: Parquet)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise AnnotatorError(f"unknown output format {fmt!r} (expected {', '.join(FORMATS)})")
        return fmt
    ext = Path(output).suffix.lower()
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    if engine == "dask":
        return "parquet"
    raise AnnotatorError(f"{output}: cannot tell the output format from the extension '{ext or Path(output).name}' "
                         f"(use .jsonl, .csv or .parquet, or --format)")


# --- encoding -------------------------------------------------------------------------------------


def parquet_schema(labels):
    """The fixed Parquet schema of records with these labels."""
    import pyarrow as pa  # optional/lazy: only Parquet output needs it

    source = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])
    span = pa.struct([("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()),
                      ("score", pa.float64()), ("voice", pa.string()), ("attributed_to", source)])
    return pa.schema([("id", pa.string()), ("source", pa.string()), ("status", pa.string()), ("reason", pa.string()),
                      ("risk", pa.float64()), ("band", pa.string()), ("confidence", pa.string()),
                      ("risk_low", pa.float64()), ("risk_high", pa.float64()),
                      ("spans", pa.list_(span)), *[(f"n_{lab}", pa.int64()) for lab in labels],
                      ("error", pa.string())])


def _no_surrogates(value):
    """Lone surrogates (from JSON ``\\ud800`` escapes) as backslash escapes, for UTF-8-only formats."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_no_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_surrogates(v) for k, v in value.items()}
    return value


def csv_header(labels) -> bytes:
    """The CSV header line of records with these labels."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(output_columns(labels))
    return buf.getvalue().encode("utf-8")


def _encode_jsonl(records: list) -> bytes:
    try:
        return b"".join([orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records])
    except TypeError:  # lone surrogates (not UTF-8): keep them as JSON escapes
        return "".join(json.dumps(r) + "\n" for r in records).encode("ascii")


def _encode_csv(records: list, labels) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = output_columns(labels)
    for r in records:
        row = []
        for c in cols:
            v = r[c]
            if v is None:
                row.append("")
            elif c == "spans":
                row.append(json.dumps(v, ensure_ascii=False))
            elif isinstance(v, float):
                row.append(repr(v))
            else:
                row.append(v)
        w.writerow(row)
    text = buf.getvalue()
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _encode_parquet(records: list, labels):
    import pyarrow as pa  # optional/lazy: only Parquet output needs it

    schema = parquet_schema(labels)
    try:
        return pa.Table.from_pylist(records, schema=schema)
    except (UnicodeEncodeError, pa.ArrowException):
        return pa.Table.from_pylist(_no_surrogates(records), schema=schema)


def encode(records: list, fmt: str, labels):
    """Records as bytes (JSONL, CSV rows without header) or a pyarrow Table (Parquet)."""
    if fmt == "jsonl":
        return _encode_jsonl(records)
    if fmt == "csv":
        return _encode_csv(records, labels)
    if fmt == "parquet":
        return _encode_parquet(records, labels)
    raise ValueError(f"unknown format {fmt!r}")


# --- reading outputs back -------------------------------------------------------------------------


def _read_csv(f, labels) -> list:
    records = []
    counts = {f"n_{lab}" for lab in labels}
    for row in csv.DictReader(f):
        r = {}
        for k, v in row.items():
            if v == "":
                r[k] = None
            elif k == "spans":
                r[k] = json.loads(v)
            elif k in ("risk", "risk_low", "risk_high"):
                r[k] = float(v)
            elif k in counts:
                r[k] = int(v)
            else:
                r[k] = v
        records.append(r)
    return records


def _optional_span_keys(records: list) -> list:
    """Parquet's fixed span struct gives every span ``voice`` and ``attributed_to``: drop them where
    null, as the other formats never write them."""
    for r in records:
        for d in r.get("spans") or ():
            for k in ("voice", "attributed_to"):
                if k in d and d[k] is None:
                    del d[k]
    return records


def _read_records(f, fmt: str, labels) -> list:
    """The records of one output file, from a binary file object."""
    if fmt == "jsonl":
        return [json.loads(line) for line in io.TextIOWrapper(f, encoding="utf-8") if line.strip()]
    if fmt == "parquet":
        import pyarrow.parquet as pq  # optional/lazy: only Parquet output needs it

        return _optional_span_keys(pq.read_table(f).to_pylist())
    return _read_csv(io.TextIOWrapper(f, encoding="utf-8", newline=""), labels)


def _output_files(path) -> list:
    """The files of an output: itself, or a Dask output folder's ``part-*`` files in order."""
    if is_url(path):
        fs, p = filesystem(path)
        if not fs.isdir(p):
            return [path]
        return [fs.unstrip_protocol(f) for f in sorted(fs.ls(p, detail=False))
                if PurePosixPath(f).name.startswith("part-") and PurePosixPath(f).suffix.lstrip(".") in FORMATS]
    p = Path(path)
    if p.is_dir():
        return sorted(f for f in p.iterdir() if f.name.startswith("part-") and f.suffix.lstrip(".") in FORMATS)
    return [p]


def read_scores(path, format=None) -> pd.DataFrame:
    """Read a :func:`score_files` output (a file, or a Dask output folder of parts) into a frame.

    ``path`` is a local path or (Dask outputs) an fsspec URL. Same columns and dtypes as
    :func:`score`; ``spans`` are lists of dicts whatever the format.
    """
    labels = load_taxonomy().label_ids
    records = []
    for f in _output_files(path):
        fmt = format or EXTENSIONS.get(PurePosixPath(os.fspath(f)).suffix.lower())
        if fmt is None:
            raise AnnotatorError(f"{f}: cannot tell the format from the extension (give format=)")
        with open_input(f) as fh:
            records.extend(_read_records(fh, fmt, labels))
    return records_frame(records, labels)
