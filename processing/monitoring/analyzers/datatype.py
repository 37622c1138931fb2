"""DataType: Deequ's type histogram of a column and the type it decides (`inferred_type`).

Deequ's `DataTypeHistogram.determineType`: all cells missing → Unknown; any String, or Boolean mixed
with numbers → String; else any Boolean → Boolean; any Fractional → Fractional; else Integral.
Columns Spark reads with a type (JSON numbers, Parquet) keep that type, as Deequ's profiler does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import TEXT, Batch
from ..textcells import TYPE_NAMES

UNKNOWN, FRACTIONAL, INTEGRAL, BOOLEAN, STRING = TYPE_NAMES
_DECLARED = {"integral": INTEGRAL, "fractional": FRACTIONAL, "boolean": BOOLEAN}


@dataclass(frozen=True)
class DataTypeState:
    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # null, fractional, integral, boolean, string
    declared: str | None = None  # the Spark type's Deequ name for typed sources

    def merge(self, other: DataTypeState) -> DataTypeState:
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return DataTypeState(counts, self.declared or other.declared)  # type: ignore[arg-type]

    @property
    def may_be_numeric(self) -> bool:
        """False once a String or Boolean cell rules out a numeric type for the whole column."""
        _, _, _, boolean, string = self.counts
        return boolean == 0 and string == 0 and self.declared in (None, FRACTIONAL, INTEGRAL)


class DataType:
    name = "DataType"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: DataTypeState | None = None) -> DataTypeState:
        column = batch[self.column]
        counts = np.bincount(column.type_codes, minlength=5)
        declared = None if column.kind == TEXT else _DECLARED[column.kind]
        own = DataTypeState(tuple(int(c) for c in counts[:5]), declared)  # type: ignore[arg-type]
        return (state or DataTypeState()).merge(own)

    def compute_metric(self, state: DataTypeState) -> str:
        if state.declared:
            return state.declared
        nulls, fractional, integral, boolean, string = state.counts
        if fractional + integral + boolean + string == 0:
            return UNKNOWN
        if string > 0 or (boolean > 0 and (integral > 0 or fractional > 0)):
            return STRING
        if boolean > 0:
            return BOOLEAN
        return FRACTIONAL if fractional > 0 else INTEGRAL
