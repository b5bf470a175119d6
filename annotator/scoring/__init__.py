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
``status``, ``reason``
    ``scored``; ``out_of_scope`` when the scope check (:mod:`annotator.articles.scope`)
    finds the text is not English news prose, ``reason`` saying why (``language: zh``,
    ``too short: 3 words``, ``not prose: ...``); or ``error``. ``reason`` is ``null``
    unless out of scope.
``risk`` (float 0-100), ``band`` (a taxonomy rating choice), ``confidence``, ``risk_low``, ``risk_high``
    From the model; ``null`` unless scored. ``confidence`` (``low``, ``medium``, ``high``) says
    how far the score could move, ``risk_low``-``risk_high`` the interval (:mod:`annotator.model.confidence`).
``spans``
    List of ``{"label", "start", "end", "text", "score", "voice"}`` (and ``attributed_to`` for
    quoted spans whose source is found); ``null`` unless scored.
``n_<label>``
    Number of spans per taxonomy label (labels from ``label_config/framing.xml``);
    ``null`` unless scored.
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

``engine="local"`` (:mod:`annotator.scoring.local`) scores in ``jobs`` processes
(``jobs=1``: in-process), the model loaded once per worker, with a bounded number of chunks in
flight; results are written in input order. ``engine="dask"`` (:mod:`annotator.scoring.dask`) runs
the same scoring function on a Dask cluster (a ``LocalCluster`` by default, or ``scheduler``):
inputs split into partitions of about ``partition_size`` bytes (JSONL and CSV at line boundaries,
Parquet by row groups), one task per partition writing one output part, so ``OUT`` is a folder of
``part-NNNNN.<format>`` files in input order (Parquet by default); the model is uploaded once to
every worker; a task whose worker dies is retried; inputs and ``OUT`` may be fsspec URLs.

Modules
-------
``records`` (the model's output as records, :func:`score`), ``formats`` (JSONL/CSV/Parquet,
:func:`read_scores`), ``chunk`` (one unit of work), ``inputs`` (expansion, fingerprints, chunks),
``progress`` (the bar), ``partial`` (the resumable ``OUT.partial/``), ``job`` (the job record and the
summary), ``local`` and ``dask`` (the engines), ``files`` (:func:`score_files`); for the Dask engine
``storage`` (local paths and fsspec URLs), ``partitions`` (splitting by size), ``ranges`` (reading a
partition), ``workers`` (the model and the task on a worker), ``parts`` (its output folder).
"""
from __future__ import annotations

from .files import score_files
from .formats import FORMATS, read_scores
from .inputs import expand_inputs
from .job import ScoreSummary, ScoringJob
from .records import output_columns, score

__all__ = ["FORMATS", "ScoreSummary", "ScoringJob", "score", "score_files", "read_scores", "output_columns",
           "expand_inputs"]
