"""A run of ``annotator score`` as one record: the job (resolved and checked) and its summary."""
from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AnnotatorError
from ..paths import DEFAULT_MODEL
from ..taxonomy import load_taxonomy
from .chunk import RecordFormat
from .formats import resolve_format
from .inputs import ReaderOptions, expand_inputs, file_sha256, inputs_fingerprint
from .partitions import parse_size
from .records import resolve_model, span_cutoff_pairs
from .storage import is_url, local_path

__all__ = ["ScoringJob", "ScoreSummary", "build_job"]

ENGINES = ("local", "dask")


@dataclass(frozen=True)
class ScoringJob:
    """What an engine is given: inputs, output, the loaded model, the output spec and the options.

    Attributes
    ----------
    inputs : tuple of str
        The input paths, globs and folders of tables expanded (:func:`expand_inputs`).
    output : Path
        The output file (Dask: folder).
    location : str
        The output as given: a path, or (Dask) an fsspec URL.
    engine : {"local", "dask"}
    model : object
        The loaded model (``score(frame)`` or a callable).
    model_path : Path or None
        The file the model was loaded from (None when it was given as an object): what a worker
        that cannot receive the model loads, and what identifies the model for a resume.
    spec : RecordFormat
        Output format, taxonomy labels and rating choices.
    reader : ReaderOptions
        Rows per chunk and the article readers' options.
    jobs : int
        Worker processes (Dask: ``LocalCluster`` workers).
    resume : bool
    scheduler : str or None
        Address of a running Dask scheduler.
    progress : bool or None
        Progress bar (None: when stderr is a terminal).
    fingerprint : dict
        Engine, inputs, model and options, as recorded for a resume.
    partition_size : int or None
        Dask: bytes of input per partition (None: about four partitions per worker thread).
    retries : int
        Dask: how many more times a partition is tried after its task failed or its worker died.
    """

    inputs: tuple
    output: Path
    engine: str
    model: Any
    model_path: Path | None
    spec: RecordFormat
    reader: ReaderOptions
    jobs: int = 1
    resume: bool = False
    scheduler: str | None = None
    progress: bool | None = None
    fingerprint: dict = field(default_factory=dict)
    location: str = ""
    partition_size: int | None = None
    retries: int = 3

    @property
    def format(self) -> str:
        return self.spec.format


@dataclass
class ScoreSummary:
    """What a :func:`score_files` run did.

    ``errors`` holds ``(source, error)`` of the first failed rows the engine noted (up to three, of
    the rows this run scored, in input order; the Dask engine reads them from its partitions'
    markers; empty when not collected).
    """

    output: str
    format: str
    engine: str
    rows: int = 0
    failed: int = 0
    seconds: float = 0.0
    resumed_rows: int = 0
    partitions: int | None = None
    jobs: int = 1
    errors: tuple = ()
    workers_lost: int = 0
    retried: int = 0
    out_of_scope: int = 0

    @property
    def scored(self) -> int:
        """Rows the model scored (status ``scored``): neither failed nor out of scope."""
        return self.rows - self.failed - self.out_of_scope

    @property
    def exit_code(self) -> int:
        """0 when every row was scored, 1 when any row has ``error`` set."""
        return 1 if self.failed else 0

    def line(self, show: int = 3) -> str:
        """The summary ``annotator score`` prints: one line, then why the first ``show`` failed rows failed.

        The reasons come from ``errors`` (``(source, error)`` of the first failed rows this run
        scored); the rest are counted, with where to read them (the ``error`` column of the output).
        """
        rate = (self.rows - self.resumed_rows) / self.seconds if self.seconds > 0 else 0.0
        resumed = f"; {self.resumed_rows:,} of them from the interrupted run" if self.resumed_rows else ""
        lines = [f"annotator: {self.rows:,} rows: {self.scored:,} scored, {self.out_of_scope:,} out of scope, "
                 f"{self.failed:,} failed, "
                 f"in {self.seconds:.1f} s ({rate:,.0f} rows/s{resumed}), written to {self.output}{self._lost()}"]
        shown = [err if err.startswith(str(src)) else f"{src}: {err}" for src, err in self.errors[:show]]
        lines += [f"annotator: failed: {_cut(reason)}" for reason in shown]
        if self.failed > len(shown):
            more = f"... and {self.failed - len(shown):,} more" if shown else f"{self.failed:,} failed row{'s' * (self.failed != 1)}"
            lines.append(f"annotator: {more}; see the error column of {self.output}")
        return "\n".join(lines)

    def _lost(self) -> str:
        """Dask: ``; 1 worker lost; 2 partitions retried`` when workers died during the run."""
        if not self.workers_lost:
            return ""
        return (f"; {self.workers_lost:,} worker{'s' * (self.workers_lost != 1)} lost; "
                f"{self.retried:,} partition{'s' * (self.retried != 1)} retried")


def _cut(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- building a job -------------------------------------------------------------------------------


def _default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _engine(engine, scheduler) -> str:
    if scheduler is not None and engine in (None, "local"):
        if engine == "local":
            raise AnnotatorError("--scheduler needs --engine dask")
        engine = "dask"
    engine = engine or "local"
    if engine not in ENGINES:
        raise AnnotatorError(f"unknown engine {engine!r} (expected local or dask)")
    return engine


def _model_fingerprint(model, path) -> str:
    if path is not None and os.path.isfile(path):
        return "sha256:" + file_sha256(path)
    version = getattr(model, "model_version", None) or getattr(model, "version", None)
    if isinstance(version, str) and version:
        return f"{type(model).__qualname__}:{version}"
    try:
        return "pickle-sha256:" + hashlib.sha256(pickle.dumps(model)).hexdigest()
    except Exception:
        return f"{type(model).__module__}.{type(model).__qualname__}"


def _dask_options(partition_size, retries) -> tuple:
    try:
        size = parse_size(partition_size)
    except ValueError as exc:
        raise AnnotatorError(str(exc)) from None
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise AnnotatorError(f"retries must be a whole number, 0 or more, not {retries!r}")
    return size, retries


def _no_urls(engine, output, paths) -> None:
    """URLs are read and written by the Dask engine's workers only."""
    if engine == "dask":
        return
    for p in [output, *paths]:
        if is_url(p):
            raise AnnotatorError(f"{p}: URLs are read and written by the Dask engine: use --engine dask")


def build_job(inputs, output, *, model=None, format=None, jobs=None, resume=False, engine=None, scheduler=None,
              progress=None, reader: ReaderOptions = ReaderOptions(), partition_size="auto",
              retries=3, min_score=None, all_candidates=False, scope_check=True) -> ScoringJob:
    """Check the options of :func:`score_files`, expand the inputs, load the model: the job.

    ``model`` is None (the shipped :data:`annotator.paths.DEFAULT_MODEL`), a model file, or a
    loaded model. ``min_score`` / ``all_candidates``: which spans the records keep
    (:func:`~annotator.scoring.records.span_cutoff_pairs`; default the model's operating point).
    Raises :class:`AnnotatorError` on bad options, no inputs or an unloadable model.
    """
    engine = _engine(engine, scheduler)
    if not isinstance(reader.chunksize, int) or reader.chunksize < 1:
        raise AnnotatorError(f"chunksize must be a positive integer, not {reader.chunksize!r}")
    jobs = _default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise AnnotatorError(f"jobs must be at least 1, not {jobs}")
    size, retries = _dask_options(partition_size, retries)
    location = os.fspath(output)
    inputs = [os.fspath(p) for p in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    _no_urls(engine, location, inputs)
    if engine == "dask":  # file:// URLs are local paths
        inputs = [p if is_url(p) else local_path(p) for p in inputs]
    output = Path(output)
    fmt = resolve_format(output, format, engine)
    paths = tuple(expand_inputs(inputs))
    if not paths:
        raise AnnotatorError("no inputs")
    if model is None or isinstance(model, (str, os.PathLike)):
        model_path = DEFAULT_MODEL if model is None else Path(model)
    else:
        model_path = None
    model = resolve_model(model)
    tax = load_taxonomy()
    spec = RecordFormat(fmt, tax.label_ids, tax.rating_choices, span_cutoff_pairs(model, min_score, all_candidates),
                        bool(scope_check))
    fingerprint = {
        "engine": engine,
        "inputs": inputs_fingerprint(paths),
        "model": _model_fingerprint(model, model_path),
        "options": {"format": fmt, **reader.fingerprint(), "labels": list(spec.labels),
                    "choices": list(spec.choices), "span_cutoffs": spec.cutoffs and [list(c) for c in spec.cutoffs],
                    "scope_check": spec.scope_check},
    }
    return ScoringJob(paths, output, engine, model, model_path, spec, reader, jobs=jobs, resume=resume,
                      scheduler=scheduler, progress=progress, fingerprint=fingerprint, location=location,
                      partition_size=size, retries=retries)
