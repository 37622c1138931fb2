"""KLLSketch: Deequ's KLL distribution of a numeric column (`distribution.kll`).

The metric is 10 equal-width buckets between the sketch's global min and max, each counted from
the sketch's ranks (`rankExclusive(hi) - rankExclusive(lo)`, the last bucket with the inclusive rank
of its upper bound), plus the sketch itself. As in Deequ's StatefulKLLSketch, the global min and max
start at Int.MaxValue and Int.MinValue, so a column entirely above 2147483647 gets that as its first
lower bound, as AWS's would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..batch import Batch
from ..kll import DEFAULT_C, DEFAULT_K, KLLSketch

BUCKETS = 10
_INT_MAX, _INT_MIN = 2147483647.0, -2147483648.0


@dataclass
class KllState:
    sketch: KLLSketch = field(default_factory=KLLSketch)
    global_min: float = _INT_MAX
    global_max: float = _INT_MIN

    def merge(self, other: KllState) -> KllState:
        merged = self.sketch.copy().merge(other.sketch)
        return KllState(merged, min(self.global_min, other.global_min), max(self.global_max, other.global_max))


@dataclass(frozen=True)
class KllMetric:
    buckets: list[tuple[float, float, float]]  # lower, upper, count
    k: int
    c: float
    data: list[list[float]]


class KLLSketchAnalyzer:
    name = "KLLSketch"

    def __init__(self, column: str, k: int = DEFAULT_K, c: float = DEFAULT_C):
        self.column = column
        self.k, self.c = k, c

    def compute_state(self, batch: Batch, state: KllState | None = None) -> KllState:
        state = state or KllState(KLLSketch(self.k, self.c))
        doubles, _, _ = batch[self.column].numbers
        if len(doubles):
            state.sketch.update(doubles)
            state.global_min = min(state.global_min, float(np.min(doubles)))
            state.global_max = max(state.global_max, float(np.max(doubles)))
        return state

    def compute_metric(self, state: KllState) -> KllMetric:
        return KllMetric(buckets(state), state.sketch.k, state.sketch.c, state.sketch.data())


def buckets(state: KllState, count: int = BUCKETS) -> list[tuple[float, float, float]]:
    """Deequ's KLLSketch.computeMetricFrom bucket list."""
    start, end = state.global_min, state.global_max
    lows = [start + (end - start) * i / float(count) for i in range(count)]
    highs = [start + (end - start) * (i + 1) / float(count) for i in range(count)]
    exclusive = state.sketch.ranks(np.array(lows + highs), inclusive=False)
    last_inclusive = int(state.sketch.ranks(np.array([highs[-1]]), inclusive=True)[0])
    out = []
    for i in range(count):
        upper_rank = last_inclusive if i == count - 1 else int(exclusive[count + i])
        out.append((lows[i], highs[i], float(upper_rank - int(exclusive[i]))))
    return out
