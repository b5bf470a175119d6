"""Read articles from a Parquet table, batch by batch."""
from __future__ import annotations

import os
from collections.abc import Iterator

from ..errors import AnnotatorError
from .records import Article, ReadOptions

__all__ = ["read_parquet"]

PathLike = str | os.PathLike


def read_parquet(path: PathLike, name: str, stem: str, opts: ReadOptions) -> Iterator[Article]:
    """Records of a Parquet file: one per row (``NAME:ROW``), or one file error."""
    import pyarrow.parquet as pq  # heavy: only Parquet inputs need pyarrow

    try:
        pf = pq.ParquetFile(path)
        found = list(pf.schema_arrow.names)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError... for non-Parquet bytes
        yield opts.fail(stem, name, f"{name}: not a readable Parquet file ({exc})")
        return
    bad = opts.columns_or_error(name, stem, found)
    if bad is not None:
        yield bad
        return
    if pf.metadata.num_rows == 0:
        yield opts.fail(stem, name, f"{name}: empty (no data rows)")
        return
    names = [c if c in found else None for c in opts.table_columns]
    columns = list(dict.fromkeys(c for c in names if c))
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=opts.batch_size, columns=columns):
            data = batch.to_pydict()
            cols = [data[c] if c else None for c in names]
            for i in range(batch.num_rows):
                row += 1
                yield opts.table_row(name, row, *[None if c is None else c[i] for c in cols])
    except AnnotatorError:
        raise
    except Exception as exc:
        yield opts.fail(stem, name, f"{name}: cannot read Parquet after row {row} ({exc})")
