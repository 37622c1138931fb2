"""Minimum and Maximum of a numeric column (`min`, `max`), with Spark's ordering (NaN largest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import Batch


@dataclass(frozen=True)
class ExtremeState:
    value: float | None = None
    largest: bool = False

    def merge(self, other: ExtremeState) -> ExtremeState:
        values = [v for v in (self.value, other.value) if v is not None]
        if not values:
            return self
        return ExtremeState(_pick(np.array(values), self.largest), self.largest)


def _pick(values: np.ndarray, largest: bool) -> float:
    if largest:
        return float(values.max())  # NaN wins, as in Spark
    finite = values[~np.isnan(values)]
    return float(finite.min()) if len(finite) else float("nan")


class _Extreme:
    name = ""
    largest = False

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: ExtremeState | None = None) -> ExtremeState:
        doubles, _, _ = batch[self.column].numbers
        own = ExtremeState(_pick(doubles, self.largest) if len(doubles) else None, self.largest)
        return (state or ExtremeState(None, self.largest)).merge(own)

    def compute_metric(self, state: ExtremeState) -> float:
        return float("nan") if state.value is None else state.value


class Minimum(_Extreme):
    name = "Minimum"


class Maximum(_Extreme):
    name = "Maximum"
    largest = True
