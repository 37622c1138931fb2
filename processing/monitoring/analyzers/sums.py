"""Sum and Mean (`sum`, `mean`), with Spark's arithmetic.

An Integral column is cast to LongType, so its sum is an exact long sum (wrapping at 2^64, as
Spark's non-ANSI long addition does) converted to a double; a Fractional column's sum is the double
sum left to right in file order. Mean = sum / count, as Deequ's MeanState. The state keeps both sums
because a column's type is only known after its last row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import Batch
from ..moments import running_sum

_WRAP = 1 << 64


def _as_long(x: int) -> int:
    x %= _WRAP
    return x - _WRAP if x >= 1 << 63 else x


@dataclass(frozen=True)
class SumState:
    double_sum: float = 0.0
    long_sum: int = 0
    count: int = 0
    any_fractional: bool = False

    def merge(self, other: SumState) -> SumState:
        return SumState(
            self.double_sum + other.double_sum,
            _as_long(self.long_sum + other.long_sum),
            self.count + other.count,
            self.any_fractional or other.any_fractional,
        )

    @property
    def value(self) -> float:
        return self.double_sum if self.any_fractional else float(self.long_sum)


class Sum:
    name = "Sum"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: SumState | None = None) -> SumState:
        state = state or SumState()
        doubles, longs, fractional = batch[self.column].numbers
        if not len(doubles):
            return state
        return SumState(
            running_sum(state.double_sum, doubles),
            _as_long(state.long_sum + int(np.sum(longs, dtype=np.int64))),
            state.count + len(doubles),
            state.any_fractional or fractional,
        )

    def compute_metric(self, state: SumState) -> float:
        return state.value


class Mean(Sum):
    """sum / count of Sum's state (Deequ's MeanState holds the same two): a profiler that runs Sum
    reads the mean from that state instead of summing the column a second time."""

    name = "Mean"

    def compute_metric(self, state: SumState) -> float:
        return state.value / state.count if state.count else float("nan")
