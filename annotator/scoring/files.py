"""score_files: article files scored into one output (``annotator score``), by the local or Dask engine."""
from __future__ import annotations

from ..articles import DEFAULT_MAX_BYTES
from .dask import run_dask
from .inputs import ReaderOptions
from .job import ScoreSummary, build_job
from .local import run_local

__all__ = ["score_files"]


def score_files(inputs, output, *, model=None, format=None, jobs=None, resume=False, engine=None,
                scheduler=None, chunksize=128, progress=None, text_column="text", id_column="id",
                max_bytes=DEFAULT_MAX_BYTES, partition_size="auto", retries=3, min_score=None,
                all_candidates=False, scope_check=True) -> ScoreSummary:
    """Score article files into one record per input row (``annotator score``).

    Parameters
    ----------
    inputs : path or list of paths
        Anything :func:`annotator.articles.iter_articles` reads (``.txt``,
        folders, ``.csv``, ``.jsonl``/``.ndjson``, ``.parquet``), plus glob
        patterns and folders of tables (see :func:`expand_inputs`). With the
        Dask engine also fsspec URLs (``s3://bucket/data/*.parquet``), read by
        the workers.
    output : path
        Output file (local engine) or folder (Dask engine: ``part-NNNNN.<fmt>``
        files, one per partition, in input order, and ``_summary.json``; a
        path or an fsspec URL). Replaced only when the run completes.
    model : None, path or model
        Default: the shipped model (:data:`annotator.paths.DEFAULT_MODEL`); a
        ``.skops`` path; or a fitted model / callable (``score(frame)``).
    format : {"jsonl", "csv", "parquet"}, optional
        Default: from the output extension (Dask engine: Parquet when there is none).
    jobs : int, optional
        Worker processes (default: all cores); ``1`` scores in-process. With
        the Dask engine: the number of ``LocalCluster`` workers.
    resume : bool
        Continue an interrupted run from ``OUT.partial`` (refused when the
        inputs, model or options differ); starts afresh when there is none.
        Without it, a leftover ``OUT.partial`` is discarded.
    engine : {"local", "dask"}, optional
        Default: local, or dask when ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); implies the
        Dask engine. Default: a ``LocalCluster`` on 127.0.0.1.
    chunksize : int
        Rows per chunk (unit of work, of memory, and of resume).
    progress : bool, optional
        Progress bar on stderr; default: when stderr is a terminal.
    text_column, id_column, max_bytes
        As for :func:`annotator.articles.iter_articles`.
    partition_size : "auto", int or str
        Dask engine: bytes of input per task (``"64MB"``, ``"512KB"``...): JSONL
        and CSV files larger than that are split at line (record) boundaries,
        Parquet files by row groups. ``"auto"``: about four partitions per
        worker thread, between 1 MB and 32 MB.
    retries : int
        Dask engine: how many more times a partition is tried after its task
        raised or its worker died (a ``LocalCluster``'s allowed worker deaths
        per task too; a running scheduler keeps its own setting).
    min_score : float, optional
        Keep the spans scoring at least this, whatever their label. Default: the model
        tagger's operating point (per-label thresholds, ``operating_point_``).
    all_candidates : bool
        Keep every candidate span. The ``n_<label>`` counts follow the spans kept.
    scope_check : bool
        Check each text's scope first (:mod:`annotator.articles.scope`): a text that is not
        English news prose gets status ``out_of_scope``, a ``reason`` and no risk. False:
        score every text (input known to be English news, e.g. a curated corpus).

    Returns
    -------
    ScoreSummary
        Rows written, rows scored, out of scope and failed, seconds;
        ``exit_code`` is 0 or 1 (out-of-scope rows are not failures).

    Raises
    ------
    AnnotatorError
        Fatal problems (model not loadable, output not writable, refused
        resume, a worker process died; Dask: partitions that failed after
        their retries, named in one line). Bad input rows never raise.
    KeyboardInterrupt
        On Ctrl-C; the completed chunks stay in ``OUT.partial`` for ``resume``.
    """
    reader = ReaderOptions(chunksize=chunksize, text_column=text_column, id_column=id_column, max_bytes=max_bytes)
    job = build_job(inputs, output, model=model, format=format, jobs=jobs, resume=resume, engine=engine,
                    scheduler=scheduler, progress=progress, reader=reader, partition_size=partition_size,
                    retries=retries, min_score=min_score, all_candidates=all_candidates, scope_check=scope_check)
    return run_dask(job) if job.engine == "dask" else run_local(job)
