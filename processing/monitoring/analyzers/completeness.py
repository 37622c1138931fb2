"""Completeness: present cells over all rows (`common.num_present`, `num_missing`, `completeness`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import Batch


@dataclass(frozen=True)
class CompletenessState:
    present: int = 0
    rows: int = 0

    def merge(self, other: CompletenessState) -> CompletenessState:
        return CompletenessState(self.present + other.present, self.rows + other.rows)

    @property
    def missing(self) -> int:
        return self.rows - self.present


class Completeness:
    name = "Completeness"

    def __init__(self, column: str):
        self.column = column

    def compute_state(self, batch: Batch, state: CompletenessState | None = None) -> CompletenessState:
        column = batch[self.column]
        present = int(np.count_nonzero(column.valid))
        return (state or CompletenessState()).merge(CompletenessState(present, len(column)))

    def compute_metric(self, state: CompletenessState) -> float:
        return state.present / state.rows if state.rows else float("nan")
