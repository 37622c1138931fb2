"""Parquet with its own column types, as Spark reads it: ints and floats are typed numbers (Spark
hashes 32-bit ones as 4 bytes), booleans stay booleans, strings are text; other types (dates,
decimals, nested) are read as their text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..batch import BOOLEAN_KIND, FRACTIONAL_KIND, INTEGRAL_KIND, TEXT, Batch, ColumnBatch
from ..errors import MonitorInputError

BATCH_ROWS = 65536


def read_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(str(path))
        names = parquet.schema_arrow.names
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            columns = [_column(name, record_batch.column(i)) for i, name in enumerate(names)]
            yield Batch(columns, record_batch.num_rows)
    except (pa.ArrowInvalid, OSError) as e:
        raise MonitorInputError(f"cannot read {path} as Parquet: {str(e).splitlines()[0][:200]}") from None


def _column(name: str, array) -> ColumnBatch:
    import pyarrow as pa
    import pyarrow.types as t

    valid = array.is_valid().to_numpy(zero_copy_only=False)
    kind = array.type
    if t.is_integer(kind):
        values = array.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        return ColumnBatch(name, INTEGRAL_KIND, values, valid, width=64 if kind.bit_width == 64 else 32)
    if t.is_floating(kind):
        values = array.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
        return ColumnBatch(name, FRACTIONAL_KIND, values, valid, width=32 if kind.bit_width <= 32 else 64)
    if t.is_boolean(kind):
        return ColumnBatch(name, BOOLEAN_KIND, array.fill_null(False).to_numpy(zero_copy_only=False), valid)
    if t.is_string(kind) or t.is_large_string(kind):
        return ColumnBatch(name, TEXT, array)
    return ColumnBatch(name, TEXT, array.cast(pa.string()))
