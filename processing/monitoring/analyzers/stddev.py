"""StandardDeviation: population standard deviation from Spark's streaming moments (`std_dev`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..batch import Batch
from ..moments import central_moments, merge_moments


@dataclass(frozen=True)
class MomentsState:
    n: float = 0.0
    avg: float = 0.0
    m2: float = 0.0

    def merge(self, other: MomentsState) -> MomentsState:
        return MomentsState(*merge_moments((self.n, self.avg, self.m2), (other.n, other.avg, other.m2)))


class StandardDeviation:
    name = "StandardDeviation"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: MomentsState | None = None) -> MomentsState:
        state = state or MomentsState()
        doubles, _, _ = batch[self.column].numbers
        return MomentsState(*central_moments(state.n, state.avg, state.m2, doubles))

    def compute_metric(self, state: MomentsState) -> float:
        return math.sqrt(state.m2 / state.n) if state.n else float("nan")
