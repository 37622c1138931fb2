"""Histogram: exact value counts of a low-cardinality column (`distribution.categorical`).

Deequ's profiler counts every value of a column whose HLL estimate is at most 120, missing cells
as the value "NullValue". To stay in bounded memory the state stops counting once a column shows
more than MAX_TRACKED distinct values; such a column's HLL estimate is then far above 120, so no
histogram is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..batch import Batch

NULL_VALUE = "NullValue"
MAX_TRACKED = 4096


@dataclass
class FrequencyState:
    counts: dict[str, int] = field(default_factory=dict)
    overflowed: bool = False

    def merge(self, other: FrequencyState) -> FrequencyState:
        if self.overflowed or other.overflowed:
            return FrequencyState({}, True)
        counts = dict(self.counts)
        for value, n in other.counts.items():
            counts[value] = counts.get(value, 0) + n
        return _capped(counts)


def _capped(counts: dict[str, int]) -> FrequencyState:
    return FrequencyState({}, True) if len(counts) > MAX_TRACKED else FrequencyState(counts)


class Histogram:
    name = "Histogram"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: FrequencyState | None = None) -> FrequencyState:
        import pyarrow.compute as pc

        state = state or FrequencyState()
        if state.overflowed:
            return state
        column = batch[self.column]
        pairs = pc.value_counts(column.strings())
        if len(pairs) > MAX_TRACKED:
            return FrequencyState({}, True)
        counts = dict(state.counts)
        values = pairs.field("values").to_pylist()
        for value, n in zip(values, pairs.field("counts").to_numpy(), strict=True):
            counts[value] = counts.get(value, 0) + int(n)
        missing = int(len(column) - np.count_nonzero(column.valid))
        if missing:
            counts[NULL_VALUE] = counts.get(NULL_VALUE, 0) + missing
        return _capped(counts)

    def compute_metric(self, state: FrequencyState) -> dict[str, int] | None:
        return None if state.overflowed else dict(state.counts)
