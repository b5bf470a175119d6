"""Batch scoring: framing risk, band, cue spans and per-label counts for every input row.

Python API
----------
:func:`score` scores one articles frame in memory; :func:`score_files` streams
files through the model and writes one record per input row (used by
``annotator score``); :func:`read_scores` reads such an output back.

Records
-------
One record per input row, in input order, with the keys

``id``, ``source``
    From the article readers (:mod:`annotator.articles`): the article id and
    ``PATH`` or ``PATH:ROW``.
``risk`` (float 0-100), ``band`` (a taxonomy rating choice)
    From the model; ``null`` on error rows.
``spans``
    List of ``{"label", "start", "end", "text", "score"}``; ``null`` on error rows.
``n_<label>``
    Number of spans per taxonomy label (labels from ``label_config/framing.xml``);
    ``null`` on error rows.
``error``
    ``null``, or a one-line reason: the reader's (empty, binary, undecodable,
    broken JSONL line...) or ``scoring failed (...)`` when the model raised on
    that row. Such rows never stop a run.

JSONL is the reference format; CSV holds the same fields (``spans`` as JSON
text, ``null`` as an empty cell) and Parquet the same fields with a fixed
schema (``spans`` as a list of structs).

Streaming, resume and engines
-----------------------------
Inputs are read in chunks of ``chunksize`` rows and scored chunk by chunk, so
memory does not grow with the input. Completed chunks are appended to a
sidecar folder ``OUT.partial/`` (data plus ``state.json``: rows done, bytes or
parts written, and fingerprints of the inputs, the model and the options),
both fsynced per chunk. When the run completes the data becomes ``OUT`` by an
atomic rename (Parquet: the chunk parts are merged into a temporary file that
is renamed). ``resume=True`` continues an interrupted run (Ctrl-C, ``kill
-9``, a crash) from ``state.json``: data written after the last recorded chunk
is cut off, the inputs are re-read and the rows already done are skipped; a
resume whose inputs, model or options differ is refused.

``engine="local"`` scores in ``jobs`` processes (``jobs=1``: in-process), the
model loaded once per worker, with a bounded number of chunks in flight;
results are written in input order. ``engine="dask"`` runs the same scoring
function on a Dask cluster (a ``LocalCluster`` by default, or ``scheduler``):
one task per input partition (a file; folders of tables and glob patterns are
expanded to their files) writing one output part, so ``OUT`` is a folder of
``part-NNNNN.<format>`` files in input order.
"""
from __future__ import annotations

import csv
import glob as _glob
import hashlib
import io
import json
import math
import os
import pickle
import shutil
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .articles import DEFAULT_MAX_BYTES, iter_articles
from .errors import AnnotatorError
from .io import atomic_output
from .taxonomy import load_taxonomy

__all__ = ["FORMATS", "ScoreSummary", "score", "score_files", "read_scores", "output_columns", "expand_inputs"]

FORMATS = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_TABLE_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet")
_SPAN_KEYS = ("label", "start", "end", "text", "score")
_SPAN_KEY_SET = frozenset(_SPAN_KEYS)
_MAX_CHUNK_CHARS = 32 * 2**20  # a chunk whose texts exceed this is split (bounded memory per task)
_MAX_ERROR = 400
_STATE_VERSION = 1


# --- scoring one frame ----------------------------------------------------------------------------


def output_columns(labels=None) -> list:
    """Record keys in order: id, source, risk, band, spans, n_<label>..., error."""
    labels = load_taxonomy().label_ids if labels is None else labels
    return ["id", "source", "risk", "band", "spans", *[f"n_{lab}" for lab in labels], "error"]


@lru_cache(maxsize=1)
def _default_model():
    return _load_model(None)


def _load_model(path):
    try:
        from .model import load_model
    except ImportError:
        raise AnnotatorError("no framing model available (annotator.model.load_model is missing)") from None
    return load_model(path)


def _resolve_model(model):
    if model is None:
        return _default_model()
    if isinstance(model, (str, os.PathLike)):
        return _load_model(model)
    if not (hasattr(model, "score") or callable(model)):
        raise TypeError(f"model must have a score(frame) method or be callable, not {type(model).__name__}")
    return model


def _call_model(model, frame: pd.DataFrame) -> pd.DataFrame:
    fn = getattr(model, "score", None)
    return fn(frame) if fn is not None else model(frame)


def _one_line(text: object, limit: int = _MAX_ERROR) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _spans(value) -> list:
    """Normalise the model's spans to plain dicts with exactly the five keys."""
    if value is None:
        return []
    if type(value) is list and all(type(d) is dict and d.keys() == _SPAN_KEY_SET and type(d["label"]) is str
                                   and type(d["start"]) is int and type(d["end"]) is int and type(d["text"]) is str
                                   and type(d["score"]) is float for d in value):
        return value  # already plain (what FramingModel gives): no copy
    out = []
    for d in list(value):
        out.append({"label": str(d["label"]), "start": int(d["start"]), "end": int(d["end"]),
                    "text": str(d["text"]), "score": float(d["score"])})
    return out


def _model_rows(res, n: int, labels, choices) -> list:
    """Per-row results from the model's frame: dicts, or an error string for an invalid row."""
    if not isinstance(res, pd.DataFrame):
        raise TypeError(f"model returned {type(res).__name__}, not a DataFrame")
    if len(res) != n:
        raise ValueError(f"model returned {len(res)} rows for {n}")
    for col in ("risk", "band", "spans"):
        if col not in res.columns:
            raise ValueError(f"model output has no '{col}' column")
    risks, bands, spans = res["risk"].tolist(), res["band"].tolist(), res["spans"].tolist()
    counts = [res[f"n_{lab}"].tolist() if f"n_{lab}" in res.columns else None for lab in labels]
    rows = []
    for i in range(n):
        try:
            risk = float(risks[i])
            if not (math.isfinite(risk) and 0.0 <= risk <= 100.0):
                raise ValueError(f"risk {risk!r} is not within 0-100")
            band = bands[i]
            if band not in choices:
                raise ValueError(f"band {band!r} is not one of {', '.join(choices)}")
            sp = _spans(spans[i])
            row = {"risk": risk, "band": band, "spans": sp}
            for lab, col in zip(labels, counts):
                row[f"n_{lab}"] = int(col[i]) if col is not None else sum(d["label"] == lab for d in sp)
            rows.append(row)
        except Exception as exc:  # one bad row of model output: an error row, not a failed chunk
            rows.append(f"invalid model output ({type(exc).__name__}: {exc})")
    return rows


def _score_block(model, ids, texts, labels, choices) -> list:
    """Score rows; when the model raises, bisect so only the rows that fail become errors."""
    frame = pd.DataFrame({"id": pd.Series(ids, dtype=object), "text": pd.Series(texts, dtype=object)})
    try:
        return _model_rows(_call_model(model, frame), len(ids), labels, choices)
    except Exception as exc:
        if len(ids) == 1:
            return [f"scoring failed ({type(exc).__name__}: {exc})"]
    half = len(ids) // 2
    return (_score_block(model, ids[:half], texts[:half], labels, choices)
            + _score_block(model, ids[half:], texts[half:], labels, choices))


def _score_records(frame: pd.DataFrame, model, labels, choices) -> list:
    """Records (plain Python values, None for missing) for every row of an articles frame."""
    n = len(frame)
    ids = [None if _missing(v) else str(v) for v in frame["id"].tolist()] if "id" in frame else [None] * n
    texts = frame["text"].tolist() if "text" in frame else [None] * n
    sources = [None if _missing(v) else str(v) for v in frame["source"].tolist()] if "source" in frame else [None] * n
    errors = [None if _missing(v) else str(v) for v in frame["error"].tolist()] if "error" in frame else [None] * n
    todo = []
    for i in range(n):
        if errors[i] is None and not isinstance(texts[i], str):
            errors[i] = f"{sources[i] or ids[i]}: no text"
        if errors[i] is None:
            todo.append(i)
    results = _score_block(model, [ids[i] for i in todo], [texts[i] for i in todo], labels, choices) if todo else []
    scored = dict(zip(todo, results))
    empty = {"risk": None, "band": None, "spans": None, **{f"n_{lab}": None for lab in labels}}
    records = []
    for i in range(n):
        r = scored.get(i)
        if isinstance(r, str):
            errors[i] = _one_line(f"{sources[i] or ids[i]}: {r}")
            r = None
        records.append({"id": ids[i], "source": sources[i], **(r or empty), "error": errors[i]})
    return records


def _records_frame(records: list, labels, index=None) -> pd.DataFrame:
    cols = output_columns(labels)
    data = {c: pd.Series([r[c] for r in records], dtype=object) for c in cols}
    data["risk"] = pd.Series([r["risk"] for r in records], dtype="float64")
    for lab in labels:
        data[f"n_{lab}"] = pd.Series([r[f"n_{lab}"] for r in records], dtype="Int64")
    out = pd.DataFrame(data, columns=cols)
    if index is not None:
        out.index = index
    return out


def score(frame: pd.DataFrame, model=None) -> pd.DataFrame:
    """Score an articles frame in memory.

    Parameters
    ----------
    frame : DataFrame
        Columns ``id`` and ``text`` (e.g. from :func:`annotator.articles.read_articles`);
        ``source`` and ``error`` are used when present (rows with ``error`` set
        are passed through as error rows).
    model : optional
        A fitted model (``model.score(frame)``, see :mod:`annotator.model`) or a
        callable with the same contract, or a model file path. Default: the
        shipped model, loaded once per process.

    Returns
    -------
    DataFrame
        One row per input row, same index and order, columns
        :func:`output_columns`: ``id, source, risk, band, spans, n_<label>...,
        error``. ``risk`` is float (NaN on error rows), ``n_<label>`` nullable
        ``Int64``, the others objects with ``None`` for missing. A row on which
        the model raises gets ``error`` set; it does not raise.
    """
    model = _resolve_model(model)
    tax = load_taxonomy()
    records = _score_records(frame, model, tax.label_ids, tax.rating_choices)
    return _records_frame(records, tax.label_ids, frame.index)


# --- encoding records -------------------------------------------------------------------------------


def _parquet_schema(labels):
    import pyarrow as pa

    span = pa.struct([("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()),
                      ("score", pa.float64())])
    return pa.schema([("id", pa.string()), ("source", pa.string()), ("risk", pa.float64()), ("band", pa.string()),
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


def _csv_header(labels) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(output_columns(labels))
    return buf.getvalue().encode("utf-8")


def _encode(records: list, fmt: str, labels):
    """Records as bytes (JSONL, CSV rows without header) or a pyarrow Table (Parquet)."""
    if fmt == "jsonl":
        import orjson

        try:
            return b"".join([orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records])
        except TypeError:  # lone surrogates (not UTF-8): keep them as JSON escapes
            return "".join(json.dumps(r) + "\n" for r in records).encode("ascii")
    if fmt == "csv":
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
    if fmt == "parquet":
        import pyarrow as pa

        schema = _parquet_schema(labels)
        try:
            return pa.Table.from_pylist(records, schema=schema)
        except (UnicodeEncodeError, pa.ArrowException):
            return pa.Table.from_pylist(_no_surrogates(records), schema=schema)
    raise ValueError(f"unknown format {fmt!r}")


def _process_chunk(frame, model, fmt, labels, choices):
    """Score one chunk and encode it: (payload, rows, failed)."""
    records = _score_records(frame, model, labels, choices)
    failed = sum(r["error"] is not None for r in records)
    return _encode(records, fmt, labels), len(records), failed


# --- worker processes (local engine) ----------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(model_spec, fmt, labels, choices):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    kind, value = model_spec
    _WORKER.update(model=_load_model(value) if kind == "path" else value, fmt=fmt, labels=labels, choices=choices)


def _work(frame):
    w = _WORKER
    return _process_chunk(frame, w["model"], w["fmt"], w["labels"], w["choices"])


def _pool(jobs, model, model_spec, fmt, labels, choices):
    """A process pool whose workers hold the model (loaded once per worker, by the initializer).

    On Linux, when this process runs no other thread, workers are forked: they
    start at once and share the loaded model. Otherwise (threads, macOS,
    Windows) they start from a fork server or are spawned, and get the model
    pickled (much faster than re-reading the skops file), or its path when it
    cannot be pickled.
    """
    import multiprocessing as mp
    import threading
    from concurrent.futures import ProcessPoolExecutor

    methods = mp.get_all_start_methods()
    if "fork" in methods and sys.platform.startswith("linux") and threading.active_count() == 1:
        ctx = mp.get_context("fork")
        spec = ("object", model)  # inherited by the fork, not pickled
    else:
        try:
            pickle.dumps(model)
            spec = ("object", model)
        except Exception:
            spec = model_spec
        if "forkserver" in methods:
            # workers are forked from a server process that has already imported these
            ctx = mp.get_context("forkserver")
            preload = ["annotator.scoring", "annotator.cues", "annotator.model"]
            if spec[0] == "object" and type(model).__module__ not in ("__main__", "builtins"):
                preload.append(type(model).__module__)
            ctx.set_forkserver_preload(preload)
        else:
            ctx = mp.get_context("spawn")
    return ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=(spec, fmt, labels, choices))


def _stop_pool(ex):
    """Stop a pool now: cancel queued chunks and terminate the workers."""
    ex.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for p in list((getattr(ex, "_processes", None) or {}).values()):
        try:
            p.terminate()
        except Exception:
            pass


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _scored_chunks(chunks, jobs, model, model_spec, fmt, labels, choices):
    """(payload, rows, failed) per chunk, in input order; ``jobs`` processes, bounded in flight."""
    it = iter(chunks)
    first = next(it, None)
    if first is None:
        return
    second = next(it, None)
    if jobs <= 1 or second is None:  # one chunk: not worth starting processes
        for chunk in (first, *(() if second is None else (second,)), *it):
            yield _process_chunk(chunk, model, fmt, labels, choices)
        return
    import gc

    # objects that exist now move out of the collector's sight while workers live: a forked
    # worker's first collection would otherwise touch (and so copy) every page holding the model
    gc.freeze()
    try:
        yield from _pooled((first, second), it, jobs, model, model_spec, fmt, labels, choices)
    finally:
        gc.unfreeze()


def _pooled(head, it, jobs, model, model_spec, fmt, labels, choices):
    from concurrent.futures.process import BrokenProcessPool

    ex = _pool(jobs, model, model_spec, fmt, labels, choices)
    pending: deque = deque()
    limit = 2 * jobs
    try:
        for chunk in head:
            pending.append(ex.submit(_work, chunk))
        for chunk in it:
            while len(pending) >= limit:
                yield pending.popleft().result()
            pending.append(ex.submit(_work, chunk))
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        _stop_pool(ex)
        raise AnnotatorError("a worker process died (killed, or out of memory?); the rows done so far are kept: "
                             "run the same command with --resume to continue") from None
    except BaseException:
        _stop_pool(ex)
        raise
    ex.shutdown(wait=True)


# --- inputs, fingerprints ---------------------------------------------------------------------------


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
    as given (it becomes an error row).
    """
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    out = []
    for p in paths:
        s = os.fspath(p)
        if _has_glob(s) and not os.path.exists(s):
            matches = sorted(_glob.glob(s, recursive=True))
            out.extend(expand_inputs(matches) if matches else [s])
        elif os.path.isdir(s):
            out.extend(_expand_folder(s))
        else:
            out.append(s)
    return out


def _expand_folder(folder: str) -> list:
    txt, tables = False, []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in filenames:
            low = fn.lower()
            if low.endswith(".txt") and not fn.startswith("."):
                txt = True
            elif low.endswith(_TABLE_EXTENSIONS) and not _hidden(fn):
                rel = os.path.relpath(os.path.join(dirpath, fn), folder)
                tables.append((Path(rel).parts, os.path.join(dirpath, fn)))
    if txt or not tables:
        return [folder]
    return [p for _, p in sorted(tables)]


def _describe(path: str) -> list:
    """What identifies an input for resume: absolute path, sizes and modification times."""
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


def _inputs_fingerprint(paths: list) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(json.dumps(_describe(p)).encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


def _file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(2**20):
            h.update(block)
    return h.hexdigest()


def _default_model_path():
    try:
        from . import model as _m
    except ImportError:
        return None
    for name in ("DEFAULT_MODEL", "DEFAULT_MODEL_PATH", "MODEL_PATH"):
        if getattr(_m, name, None):
            return Path(getattr(_m, name))
    return Path(__file__).resolve().parent.parent / "models" / "framing.skops"


def _model_fingerprint(model, path) -> str:
    if path is not None and os.path.isfile(path):
        return "sha256:" + _file_sha256(path)
    version = getattr(model, "model_version", None) or getattr(model, "version", None)
    if isinstance(version, str) and version:
        return f"{type(model).__qualname__}:{version}"
    try:
        return "pickle-sha256:" + hashlib.sha256(pickle.dumps(model)).hexdigest()
    except Exception:
        return f"{type(model).__module__}.{type(model).__qualname__}"


def _count_lines(path) -> int | None:
    """Lines of a file (a last line without newline counts), by a byte scan; None if unreadable."""
    n, last = 0, b"\n"
    try:
        with open(path, "rb") as f:
            while block := f.read(1 << 22):
                n += block.count(b"\n")
                last = block[-1:]
    except OSError:
        return None
    return n + (last != b"\n")


def _cheap_total(paths: list):
    """Number of input rows when known without parsing the data (.txt, folders, Parquet metadata,
    JSONL lines; only asked for when a progress bar is shown), else None."""
    total = 0
    for p in paths:
        low = p.lower()
        if os.path.isdir(p):
            n = 0
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                n += sum(fn.lower().endswith(".txt") and not fn.startswith(".") for fn in filenames)
            total += max(n, 1)
        elif low.endswith(".txt"):
            total += 1
        elif low.endswith(".parquet"):
            try:
                import pyarrow.parquet as pq

                total += max(pq.ParquetFile(p).metadata.num_rows, 1)
            except Exception:
                total += 1
        elif low.endswith((".jsonl", ".ndjson")):
            n = _count_lines(p)
            if n is None:
                return None
            total += max(n, 1)
        elif low.endswith(".csv"):  # quoted fields may span lines: rows are not lines
            return None
        else:
            total += 1
    return total


def _resolve_format(output, fmt, engine) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise AnnotatorError(f"unknown output format {fmt!r} (expected {', '.join(FORMATS)})")
        return fmt
    ext = Path(output).suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if engine == "dask":
        return "jsonl"
    raise AnnotatorError(f"{output}: cannot tell the output format from the extension '{ext or Path(output).name}' "
                         f"(use .jsonl, .csv or .parquet, or --format)")


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


# --- partial output and state (local engine) -------------------------------------------------------


def _fsync_dir(path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _partial_dir(output: Path) -> Path:
    return output.with_name(output.name + ".partial")


def _refuse_other_engine(pdir: Path, other_state: str, other: str) -> None:
    if (pdir / other_state).is_file():
        raise AnnotatorError(f"{pdir}: cannot resume: the interrupted run used --engine {other}; "
                             f"resume it with --engine {other}, or run without --resume to start again")


def _check_state(state: dict, fingerprint: dict, where: Path) -> None:
    if state.get("version") != _STATE_VERSION:
        raise AnnotatorError(f"{where}: cannot resume: written by another version of annotator; "
                             f"run without --resume to start again")
    old = state.get("fingerprint", {})
    what = [name for name in ("engine", "inputs", "model", "options") if old.get(name) != fingerprint.get(name)]
    if what:
        detail = {"engine": "a different engine", "inputs": "different inputs (paths, sizes or modification times)",
                  "model": "a different model", "options": "different options (format, columns, size limit)"}
        raise AnnotatorError(f"{where}: cannot resume: the interrupted run had {', '.join(detail[w] for w in what)}; "
                             f"run without --resume to start again")


class _Partial:
    """Completed chunks of a local run in ``OUT.partial/`` and its ``state.json``."""

    def __init__(self, output: Path, fmt: str, labels):
        self.output, self.fmt, self.labels = output, fmt, labels
        self.dir = _partial_dir(output)
        self.state_path = self.dir / "state.json"
        self.data_path = self.dir / f"data.{fmt}"
        self.fh = None
        self.state: dict = {}

    def exists(self) -> bool:
        return self.state_path.is_file()

    def start(self, fingerprint: dict) -> None:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.state = {"version": _STATE_VERSION, "fingerprint": fingerprint, "rows": 0, "failed": 0, "bytes": 0,
                      "parts": 0, "seconds": 0.0, "complete": False}
        if self.fmt != "parquet":
            self.fh = open(self.data_path, "wb")
            if self.fmt == "csv":
                self.fh.write(_csv_header(self.labels))
                self.fh.flush()
                os.fsync(self.fh.fileno())
                self.state["bytes"] = self.fh.tell()
        _fsync_dir(self.dir.parent)
        _write_json_atomic(self.state_path, self.state)

    def resume(self, fingerprint: dict) -> None:
        try:
            self.state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AnnotatorError(f"{self.state_path}: cannot resume: unreadable state ({exc}); "
                                 f"run without --resume to start again") from None
        _check_state(self.state, fingerprint, self.dir)
        if self.fmt == "parquet":
            for p in self.dir.glob("part-*.parquet"):
                if int(p.stem.split("-")[1]) >= self.state["parts"]:
                    p.unlink()  # written after the last recorded chunk
        else:
            try:
                self.fh = open(self.data_path, "r+b")
            except OSError as exc:
                raise AnnotatorError(f"{self.data_path}: cannot resume: {exc.strerror}; "
                                     f"run without --resume to start again") from None
            size = os.fstat(self.fh.fileno()).st_size
            if size < self.state["bytes"]:
                raise AnnotatorError(f"{self.data_path}: cannot resume: shorter than recorded "
                                     f"({size} < {self.state['bytes']} bytes); run without --resume to start again")
            self.fh.truncate(self.state["bytes"])  # cut a chunk written after the last recorded one
            self.fh.seek(self.state["bytes"])

    def append(self, payload, rows: int, failed: int, seconds: float) -> None:
        st = self.state
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            part = self.dir / f"part-{st['parts']:06d}.parquet"
            pq.write_table(payload, part)
            with open(part, "rb") as f:
                os.fsync(f.fileno())
            st["parts"] += 1
        else:
            self.fh.write(payload)
            self.fh.flush()
            os.fsync(self.fh.fileno())
            st["bytes"] += len(payload)
        st["rows"] += rows
        st["failed"] += failed
        st["seconds"] = round(seconds, 3)
        _write_json_atomic(self.state_path, st)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def finish(self) -> None:
        self.close()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "parquet":
            self._merge_parquet()
        else:
            os.replace(self.data_path, self.output)
            _fsync_dir(self.output.parent)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _merge_parquet(self, row_group: int = 16_384) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = _parquet_schema(self.labels)
        with atomic_output(self.output) as fh:
            writer = pq.ParquetWriter(fh, schema)
            buf, n = [], 0
            for i in range(self.state["parts"]):
                table = pq.read_table(self.dir / f"part-{i:06d}.parquet", schema=schema)
                buf.append(table)
                n += table.num_rows
                if n >= row_group:
                    writer.write_table(pa.concat_tables(buf), row_group_size=max(n, 1))
                    buf, n = [], 0
            if buf or self.state["parts"] == 0:
                writer.write_table(pa.concat_tables(buf) if buf else schema.empty_table())
            writer.close()


# --- the run ------------------------------------------------------------------------------------------


@dataclass
class ScoreSummary:
    """What a :func:`score_files` run did."""

    output: str
    format: str
    engine: str
    rows: int = 0
    failed: int = 0
    seconds: float = 0.0
    resumed_rows: int = 0
    partitions: int | None = None
    jobs: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def scored(self) -> int:
        return self.rows - self.failed

    @property
    def exit_code(self) -> int:
        """0 when every row was scored, 1 when any row has ``error`` set."""
        return 1 if self.failed else 0

    def line(self) -> str:
        rate = (self.rows - self.resumed_rows) / self.seconds if self.seconds > 0 else 0.0
        resumed = f"; {self.resumed_rows:,} of them from the interrupted run" if self.resumed_rows else ""
        return (f"annotator: {self.rows:,} rows: {self.scored:,} scored, {self.failed:,} failed, "
                f"in {self.seconds:.1f} s ({rate:,.0f} rows/s{resumed}), written to {self.output}")


def _progress_bar(enabled, total, initial, unit):
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread: worker processes can then be forked safely

    tty = sys.stderr.isatty()
    enabled = tty if enabled is None else bool(enabled)
    return Bar(total=total, initial=initial, unit=unit, file=sys.stderr, disable=not enabled, dynamic_ncols=True,
               smoothing=0.1, desc="scoring", mininterval=0.1 if tty else 10.0)


def score_files(inputs, output, *, model=None, format=None, jobs=None, resume=False, engine="local",
                scheduler=None, chunksize=128, progress=None, text_column="text", id_column="id",
                max_bytes=DEFAULT_MAX_BYTES) -> ScoreSummary:
    """Score article files into one record per input row (``annotator score``).

    Parameters
    ----------
    inputs : path or list of paths
        Anything :func:`annotator.articles.iter_articles` reads (``.txt``,
        folders, ``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``), plus glob
        patterns and folders of tables (see :func:`expand_inputs`).
    output : path
        Output file (local engine) or folder (Dask engine: ``part-NNNNN.<fmt>``
        files, one per input partition, in input order, and ``_summary.json``).
        Replaced only when the run completes.
    model : None, path or model
        Default: the shipped model (``annotator.model.load_model()``); a
        ``.skops`` path; or a fitted model / callable (``score(frame)``).
    format : {"jsonl", "csv", "parquet"}, optional
        Default: from the output extension (Dask engine: JSONL when there is none).
    jobs : int, optional
        Worker processes (default: all cores); ``1`` scores in-process. With
        the Dask engine: the number of ``LocalCluster`` workers.
    resume : bool
        Continue an interrupted run from ``OUT.partial`` (refused when the
        inputs, model or options differ); starts afresh when there is none.
        Without it, a leftover ``OUT.partial`` is discarded.
    engine : {"local", "dask"}
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); implies the
        Dask engine. Default: a ``LocalCluster`` on 127.0.0.1.
    chunksize : int
        Rows per chunk (unit of work, of memory, and of resume).
    progress : bool, optional
        Progress bar on stderr; default: when stderr is a terminal.
    text_column, id_column, max_bytes
        As for :func:`annotator.articles.iter_articles`.

    Returns
    -------
    ScoreSummary
        Rows written, failed rows, seconds; ``exit_code`` is 0 or 1.

    Raises
    ------
    AnnotatorError
        Fatal problems (model not loadable, output not writable, refused
        resume, a worker process died). Bad input rows never raise.
    KeyboardInterrupt
        On Ctrl-C; the completed chunks stay in ``OUT.partial`` for ``resume``.
    """
    if scheduler is not None and engine in (None, "local"):
        if engine == "local":
            raise AnnotatorError("--scheduler needs --engine dask")
        engine = "dask"
    engine = engine or "local"
    if engine not in ("local", "dask"):
        raise AnnotatorError(f"unknown engine {engine!r} (expected local or dask)")
    if not isinstance(chunksize, int) or chunksize < 1:
        raise AnnotatorError(f"chunksize must be a positive integer, not {chunksize!r}")
    jobs = _default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise AnnotatorError(f"jobs must be at least 1, not {jobs}")
    output = Path(output)
    fmt = _resolve_format(output, format, engine)
    paths = expand_inputs(inputs)
    if not paths:
        raise AnnotatorError("no inputs")
    if isinstance(model, (str, os.PathLike)) or model is None:
        model_path = Path(model) if model is not None else _default_model_path()
        model_obj = _resolve_model(model)
        model_spec = ("path", None if model is None else os.fspath(model))
    else:
        model_path, model_obj = None, _resolve_model(model)
        model_spec = ("object", model_obj)
    tax = load_taxonomy()
    labels, choices = tax.label_ids, tax.rating_choices
    fingerprint = {
        "engine": engine,
        "inputs": _inputs_fingerprint(paths),
        "model": _model_fingerprint(model_obj, model_path),
        "options": {"format": fmt, "text_column": text_column, "id_column": id_column, "max_bytes": max_bytes,
                    "labels": list(labels), "choices": list(choices)},
    }
    reader = {"text_column": text_column, "id_column": id_column, "max_bytes": max_bytes}
    if engine == "dask":
        return _run_dask(paths, output, fmt, model_obj, labels, choices, fingerprint, reader, jobs, resume, scheduler,
                         chunksize, progress)
    return _run_local(paths, output, fmt, model_obj, model_spec, labels, choices, fingerprint, reader, jobs, resume,
                      chunksize, progress)


def _run_local(paths, output, fmt, model, model_spec, labels, choices, fingerprint, reader, jobs, resume, chunksize,
               progress) -> ScoreSummary:
    t0 = time.perf_counter()
    partial = _Partial(output, fmt, labels)
    if resume and not partial.exists():
        _refuse_other_engine(partial.dir, "_state.json", "dask")
    try:
        if resume and partial.exists():
            partial.resume(fingerprint)
        else:
            if partial.dir.exists() and not resume:
                print(f"annotator: discarding the interrupted run in {partial.dir} (use --resume to continue it)",
                      file=sys.stderr)
            partial.start(fingerprint)
    except OSError as exc:
        raise AnnotatorError(f"{partial.dir}: cannot write ({exc.strerror or exc})") from None
    done, prev_seconds = partial.state["rows"], partial.state.get("seconds", 0.0)
    enabled = sys.stderr.isatty() if progress is None else progress
    bar = _progress_bar(enabled, _cheap_total(paths) if enabled else None, done, " rows")
    chunks = _split_large(iter_articles(paths, chunksize=chunksize, **reader), done)
    try:
        for payload, rows, failed in _scored_chunks(chunks, jobs, model, model_spec, fmt, labels, choices):
            partial.append(payload, rows, failed, prev_seconds + time.perf_counter() - t0)
            bar.update(rows)
        bar.close()
        partial.finish()
    except OSError as exc:
        raise AnnotatorError(f"{getattr(exc, 'filename', None) or output}: cannot write "
                             f"({exc.strerror or exc})") from None
    finally:
        bar.close()
        partial.close()
    st = partial.state
    return ScoreSummary(os.fspath(output), fmt, "local", st["rows"], st["failed"], time.perf_counter() - t0,
                        resumed_rows=done, jobs=jobs)


# --- Dask engine -----------------------------------------------------------------------------------


def _part_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{fmt}"


def _score_partition(index, path, outdir, fmt, model, labels, choices, chunksize, reader):
    """One Dask task: read one input partition, score it chunk by chunk, write one output part.

    The part is written to a temporary file and renamed; then its marker
    ``_part-NNNNN.json`` (rows, failed) records it as done, so a retried or
    resumed task never leaves a half-written part.
    """
    outdir = Path(outdir)
    part = outdir / _part_name(index, fmt)
    rows = failed = 0
    with atomic_output(part) as fh:
        writer = None
        if fmt == "parquet":
            import pyarrow.parquet as pq

            writer = pq.ParquetWriter(fh, _parquet_schema(labels))
        elif fmt == "csv":
            fh.write(_csv_header(labels))
        for chunk in _split_large(iter_articles([path], chunksize=chunksize, **reader), 0):
            payload, n, f = _process_chunk(chunk, model, fmt, labels, choices)
            if writer is not None:
                writer.write_table(payload)
            else:
                fh.write(payload)
            rows += n
            failed += f
        if writer is not None:
            writer.close()
    result = {"index": index, "input": path, "part": part.name, "rows": rows, "failed": failed}
    _write_json_atomic(outdir / f"_part-{index:05d}.json", result)
    return result


def _connect(scheduler, jobs):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise AnnotatorError("the Dask engine needs dask[distributed]: pip install 'annotator[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise AnnotatorError(f"cannot connect to the Dask scheduler at {scheduler} ({exc})") from None
    import logging

    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def _swap_in(ready: Path, output: Path) -> None:
    """Move the finished folder ``ready`` to ``output``, replacing what was there."""
    old = None
    if output.exists() or output.is_symlink():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(output, old)
    os.replace(ready, output)
    _fsync_dir(output.parent)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _run_dask(paths, output, fmt, model, labels, choices, fingerprint, reader, jobs, resume, scheduler, chunksize,
              progress) -> ScoreSummary:
    t0 = time.perf_counter()
    output = output.absolute()  # the workers write here: not relative to their working folder
    pdir = _partial_dir(output)
    state_path = pdir / "_state.json"
    if resume and not state_path.is_file():
        _refuse_other_engine(pdir, "state.json", "local")
    if resume and state_path.is_file():
        try:
            state = json.loads(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AnnotatorError(f"{state_path}: cannot resume: unreadable state ({exc}); "
                                 f"run without --resume to start again") from None
        _check_state(state, fingerprint, pdir)
    else:
        if pdir.exists():
            if not resume:
                print(f"annotator: discarding the interrupted run in {pdir} (use --resume to continue it)",
                      file=sys.stderr)
            shutil.rmtree(pdir)
        pdir.mkdir(parents=True)
        _write_json_atomic(state_path, {"version": _STATE_VERSION, "fingerprint": fingerprint,
                                        "partitions": len(paths)})
    done = {}
    for i in range(len(paths)):
        marker = pdir / f"_part-{i:05d}.json"
        if marker.is_file() and (pdir / _part_name(i, fmt)).is_file():
            done[i] = json.loads(marker.read_text(encoding="utf-8"))
    resumed_rows = sum(d["rows"] for d in done.values())
    todo = [i for i in range(len(paths)) if i not in done]
    bar = _progress_bar(progress, len(paths), len(done), " partitions")
    if todo:
        client, cluster = _connect(scheduler, jobs)
        futures = []
        try:
            model_future = client.scatter(model, broadcast=True, hash=False)
            futures = [client.submit(_score_partition, i, paths[i], os.fspath(pdir), fmt, model_future, labels,
                                     choices, chunksize, reader, pure=False, key=f"annotator-score-{i}-{os.urandom(6).hex()}")
                       for i in todo]
            from dask.distributed import as_completed

            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:
                    i = todo[futures.index(fut)]
                    raise AnnotatorError(f"{paths[i]}: scoring task failed ({type(exc).__name__}: "
                                         f"{_one_line(exc)}); finished partitions are kept: run again with "
                                         f"--resume") from None
                done[res["index"]] = res
                bar.update(1)
        finally:
            bar.close()
            try:
                client.cancel(futures)
            except Exception:
                pass
            client.close()
            if cluster is not None:
                cluster.close()
    bar.close()
    parts = [done[i] for i in range(len(paths))]
    summary = {"rows": sum(p["rows"] for p in parts), "failed": sum(p["failed"] for p in parts), "format": fmt,
               "fingerprint": fingerprint, "partitions": [{"input": p["input"], "part": p["part"], "rows": p["rows"], "failed": p["failed"]}
                              for p in parts]}
    _write_json_atomic(pdir / "_summary.json", summary)
    for i in range(len(paths)):
        (pdir / f"_part-{i:05d}.json").unlink(missing_ok=True)
    state_path.unlink(missing_ok=True)
    for leftover in pdir.glob(".*.tmp"):  # temporary files of tasks that were retried elsewhere
        leftover.unlink(missing_ok=True)
    _swap_in(pdir, output)
    return ScoreSummary(os.fspath(output), fmt, "dask", summary["rows"], summary["failed"],
                        time.perf_counter() - t0, resumed_rows=resumed_rows, partitions=len(paths), jobs=jobs)


# --- reading outputs back --------------------------------------------------------------------------


def _read_records(path: Path, fmt: str, labels) -> list:
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    records = []
    counts = {f"n_{lab}" for lab in labels}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            r = {}
            for k, v in row.items():
                if v == "":
                    r[k] = None
                elif k == "spans":
                    r[k] = json.loads(v)
                elif k == "risk":
                    r[k] = float(v)
                elif k in counts:
                    r[k] = int(v)
                else:
                    r[k] = v
            records.append(r)
    return records


def read_scores(path, format=None) -> pd.DataFrame:
    """Read a :func:`score_files` output (a file, or a Dask output folder of parts) into a frame.

    Same columns and dtypes as :func:`score`; ``spans`` are lists of dicts
    whatever the format.
    """
    p = Path(path)
    labels = load_taxonomy().label_ids
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.name.startswith("part-") and f.suffix.lstrip(".") in FORMATS)
    else:
        files = [p]
    records = []
    for f in files:
        fmt = format or _EXTENSIONS.get(f.suffix.lower())
        if fmt is None:
            raise AnnotatorError(f"{f}: cannot tell the format from the extension (give format=)")
        records.extend(_read_records(f, fmt, labels))
    return _records_frame(records, labels)
