"""ApproxCountDistinct: HLL++ estimate (`approximate_num_distinct_values` / `distinct_count`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import hll
from ..batch import Batch


@dataclass(frozen=True)
class HllState:
    registers: np.ndarray = field(default_factory=hll.new_registers)

    def merge(self, other: HllState) -> HllState:
        return HllState(np.maximum(self.registers, other.registers))


class ApproxCountDistinct:
    name = "ApproxCountDistinct"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: HllState | None = None) -> HllState:
        own = HllState(batch[self.column].registers)
        return own if state is None else state.merge(own)

    def compute_metric(self, state: HllState) -> int:
        return hll.estimate(state.registers)
