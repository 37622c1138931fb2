"""DomainCompliance: how many present values lie in a baseline's domain (categorical_values_check).

Deequ's `isContainedIn` compliance, counted in the same pass as the profile, so a column whose
window has too many distinct values for a histogram is still checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..batch import Batch


@dataclass(frozen=True)
class DomainState:
    in_domain: int = 0
    present: int = 0

    def merge(self, other: DomainState) -> DomainState:
        return DomainState(self.in_domain + other.in_domain, self.present + other.present)


class DomainCompliance:
    name = "DomainCompliance"

    def __init__(self, column: str, domain: list[str]):
        self.column = column
        self.domain = list(domain)

    def compute_state(self, batch: Batch, state: DomainState | None = None) -> DomainState:
        import pyarrow as pa
        import pyarrow.compute as pc

        values = batch[self.column].strings()
        hits = pc.is_in(values, value_set=pa.array(self.domain, type=values.type))
        own = DomainState(int(np.count_nonzero(hits.to_numpy(zero_copy_only=False))), len(values))
        return own if state is None else state.merge(own)

    def compute_metric(self, state: DomainState) -> float:
        return state.in_domain / state.present if state.present else float("nan")
