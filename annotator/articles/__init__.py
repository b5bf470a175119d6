"""Read news articles from text files, folders and tables into one DataFrame.

:func:`read_articles` reads everything at once; :func:`iter_articles` streams the
same rows as DataFrames of at most ``chunksize`` rows with bounded memory (CSV
and JSONL are read record by record, Parquet batch by batch).

Schema
------
One row per article (or per bad file / bad row), columns in this order, all of
``object`` dtype with ``None`` for a missing value:

``id`` (str)
    * ``.txt`` file: the file stem (``article123.txt`` -> ``article123``).
    * ``.txt`` file found in a folder: the stem too; if two or more files in the
      same folder tree share a stem, each of them gets its path relative to the
      folder, without extension and with ``/`` separators (``a/x``, ``b/x``).
    * table row: the id column's value as a string when present and not blank,
      else a content hash: the first 16 hex digits of the SHA-1 of the UTF-8
      text (stable across runs and machines; identical texts share an id).
    * bad file: the file stem; bad table row whose id is unknown: its ``source``.

    Ids are not de-duplicated across inputs.
``text`` (str, or ``None`` when ``error`` is set)
    * ``.txt``: exactly the decoded file content, neither stripped nor
      normalised, so character offsets index into the file (after a leading
      UTF-8 byte-order mark, which is removed as part of decoding).
    * Seed format: a ``.txt`` file that begins with ``" date YYYY-MM-DD "``
      (leading space included, a valid date) has that prefix removed: ``text``
      is everything after it, and offsets index into that text.
    * table row: the text column's value, unchanged.
``title``, ``date``, ``outlet``, ``url`` (str or ``None``)
    From the table's columns (blank cells are ``None``; numbers, dates and
    timestamps are turned into strings, dates in ISO format); for a ``.txt``
    file only ``date``, from the seed prefix.
``source`` (str)
    The file path as given (``os.path.join(folder, relative)`` for files in a
    folder); for a table row ``PATH:ROW`` where ROW is 1-based:

    * CSV: the data record number (header not counted, blank lines skipped), so
      ``x.csv:1`` is the first record after the header.
    * JSONL: the line number (blank lines are skipped but counted), so
      ``x.jsonl:17`` is line 17 of the file.
    * Parquet: the row number in the file.
``error`` (``None`` or str)
    A one-line message naming the file (``PATH: ...``) or the row
    (``PATH:ROW: ...``) and what is wrong.

Inputs
------
``inputs`` is one path or a list of paths: ``.txt`` files, folders (every
``*.txt`` below them, recursively, sorted by relative path; files and folders
whose name starts with ``.`` are skipped), ``.csv`` (comma separated, first row
is the header), ``.jsonl`` / ``.ndjson`` (one JSON object per line) and
``.parquet``. Only the text column is required in tables; the other column
names are options and columns that are absent give ``None``.

Decoding and bad inputs
-----------------------
Text is decoded as strict UTF-8 (a leading byte-order mark is dropped); if that
fails, as strict Windows-1252 (cp1252); if both fail the file (for JSONL: the
line) is an error. Errors are per file or per row:

* missing or unreadable path, unknown extension, not-a-Parquet file, a table
  without the text column, an empty file or a table with no data rows, bytes
  that are neither UTF-8 nor cp1252 (``.txt``, ``.csv``) and a NUL byte in the
  first 8 KB (``binary file``) are file errors;
* a CSV record with the wrong number of fields, an invalid JSONL line or one
  that is not an object, and a row whose text is missing, blank, contains a NUL
  character or is larger than ``max_bytes`` (UTF-8 bytes; for ``.txt`` the file
  size) are row errors; the other rows are still read.

With ``errors="report"`` (the default) every bad file or row becomes a row with
``error`` set and ``text`` ``None``, so every input is accounted for. With
``errors="raise"`` the first one raises :class:`annotator.errors.AnnotatorError`
with the same message.

Modules
-------
:mod:`~annotator.articles.reader` (the two readers, the chunking), one module per format
(:mod:`~annotator.articles.text` for ``.txt`` files and folders, :mod:`~annotator.articles.csvfile`,
:mod:`~annotator.articles.jsonl`, :mod:`~annotator.articles.parquet`),
:mod:`~annotator.articles.records` (the :class:`Article` record, the options and the error record),
:mod:`~annotator.articles.decoding` (UTF-8 / cp1252, empty and binary files) and
:mod:`~annotator.articles.writer` (JSON Lines).
"""
from __future__ import annotations

from .decoding import read_text_file
from .reader import iter_articles, read_articles
from .records import ARTICLE_COLUMNS, DEFAULT_MAX_BYTES, Article
from .writer import write_articles_jsonl

__all__ = [
    "ARTICLE_COLUMNS",
    "DEFAULT_MAX_BYTES",
    "Article",
    "read_articles",
    "iter_articles",
    "read_text_file",
    "write_articles_jsonl",
]
