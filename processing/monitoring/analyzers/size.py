"""Size: the number of rows (Model Monitor's `dataset.item_count`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..batch import Batch


@dataclass(frozen=True)
class SizeState:
    rows: int = 0

    def merge(self, other: SizeState) -> SizeState:
        return SizeState(self.rows + other.rows)


class Size:
    name = "Size"
    column = None

    def compute_state(self, batch: Batch, state: SizeState | None = None) -> SizeState:
        return (state or SizeState()).merge(SizeState(batch.num_rows))

    def compute_metric(self, state: SizeState) -> int:
        return state.rows
