"""Deequ's KLL sketch (`QuantileNonSample`, k=2048, c=0.64), exactly as Deequ 2.0.2 updates it.

This is not Apache DataSketches' KLL: Deequ's compactor never samples. Level h holds at most
capacity(h) = 2·(ceil(k·c^h/2)+1) items before it compacts; a compaction happens when the sketch
holds more items than the levels' total capacity, on the first level at capacity: its first
even-count items are sorted, every second one (starting at the level's offset, which flips on every
odd-numbered compaction: 0,1,1,0,0,1,…) moves up a level, and an odd leftover (the last, unsorted
item) stays. AWS's sketch for a file read as one Spark partition is this update applied in file
order. `update` applies it exactly but vectorised: between two compactions Deequ only appends to
level 0, so the values up to the next compaction are appended as one slice (faster than a compiled
per-item loop, whose sorts are slower than numpy's).

`merge` is Deequ's merge (concatenate levels, then condense); a merged sketch is a valid sketch
of the union but its layout differs from a sequential one, as in Deequ.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_K = 2048
DEFAULT_C = 0.64
_INITIAL_WIDTH = 4096  # items; a level's buffer doubles when it needs more


def capacities(k: int, c: float, levels: int) -> np.ndarray:
    """capacity(h) for h < levels, as Deequ computes it (Math.ceil of k·c^h/2, in doubles)."""
    return np.array([2 * (math.ceil(k * math.pow(c, h) / 2) + 1) for h in range(levels)], dtype=np.int64)


class KLLSketch:
    """A mutable Deequ KLL sketch over doubles (levels as growable numpy buffers)."""

    def __init__(self, k: int = DEFAULT_K, c: float = DEFAULT_C):
        self.k = int(k)
        self.c = float(c)
        self._caps = capacities(self.k, self.c, 64).tolist()
        self.levels: list[np.ndarray] = []
        self.lens: list[int] = []
        self.ncomp: list[int] = []  # Deequ's numOfCompress per level
        self.offs: list[int] = []  # Deequ's offset per level
        self.actual = 0  # items held
        self.total = 0  # capacity of the levels so far
        self._expand()

    @property
    def nlevels(self) -> int:
        return len(self.levels)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def reconstruct(cls, k: float, c: float, data: list[list[float]]) -> KLLSketch:
        """Deequ's `reconstruct`: levels from a statistics.json sketch, compaction counters reset."""
        sketch = cls(int(k), float(c))
        for h, level in enumerate(data):
            if h:
                sketch._expand()
            sketch._append(h, np.asarray(level, dtype=np.float64))
        return sketch

    def copy(self) -> KLLSketch:
        other = KLLSketch(self.k, self.c)
        other.levels = [level.copy() for level in self.levels]
        other.lens, other.ncomp, other.offs = list(self.lens), list(self.ncomp), list(self.offs)
        other.actual, other.total = self.actual, self.total
        return other

    # -- updates ------------------------------------------------------------------------------
    def update(self, values: np.ndarray) -> None:
        """Feed values in order, as Deequ's `update(item)` one at a time."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        i, n = 0, len(values)
        while i < n:
            take = min(self.total - self.actual + 1, n - i)  # appends until Deequ's update condenses
            self._append(0, values[i : i + take])
            i += take
            if self.actual > self.total:
                self._condense()

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Deequ's `merge`: this sketch absorbs `other` (whose compaction counters are ignored)."""
        while self.nlevels < other.nlevels:
            self._expand()
        for h in range(other.nlevels):
            self._append(h, other.levels[h][: other.lens[h]])
        while self.actual >= self.total:
            self._condense()
        return self

    # -- queries ------------------------------------------------------------------------------
    def count(self) -> int:
        """Total weight: the number of values fed."""
        return sum(n << h for h, n in enumerate(self.lens))

    def data(self) -> list[list[float]]:
        """Each level's items in buffer order: the `sketch.data` of statistics.json."""
        return [level[:n].tolist() for level, n in zip(self.levels, self.lens, strict=True)]

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """Items sorted ascending with their weights (2^level)."""
        items = np.concatenate([level[:n] for level, n in zip(self.levels, self.lens, strict=True)])
        weights = np.concatenate([np.full(n, 1 << h, dtype=np.int64) for h, n in enumerate(self.lens)])
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def ranks(self, points: np.ndarray, inclusive: bool) -> np.ndarray:
        """Deequ's getRank (items <= x) or getRankExclusive (items < x) for each point."""
        items, weights = self.weighted_items()
        cumulative = np.concatenate([[0], np.cumsum(weights)])
        side = "right" if inclusive else "left"
        return cumulative[np.searchsorted(items, np.asarray(points, dtype=np.float64), side=side)]

    # -- internals ----------------------------------------------------------------------------
    def _expand(self) -> None:
        self.levels.append(np.empty(_INITIAL_WIDTH, dtype=np.float64))
        self.lens.append(0)
        self.ncomp.append(0)
        self.offs.append(0)
        self.total += self._caps[len(self.levels) - 1]

    def _append(self, h: int, values: np.ndarray) -> None:
        n, m = self.lens[h], len(values)
        level = self.levels[h]
        if n + m > len(level):
            grown = np.empty(max(2 * len(level), n + m), dtype=np.float64)
            grown[:n] = level[:n]
            self.levels[h] = level = grown
        level[n : n + m] = values
        self.lens[h] = n + m
        self.actual += m

    def _condense(self) -> None:
        for h in range(self.nlevels):
            if self.lens[h] >= self._caps[h]:
                if h + 1 >= self.nlevels:
                    self._expand()
                self._append(h + 1, self._compact(h))
                return

    def _compact(self, h: int) -> np.ndarray:
        items = self.lens[h]
        even = items - items % 2
        if self.ncomp[h] % 2 == 1:
            self.offs[h] = 1 - self.offs[h]
        level = self.levels[h]
        output = java_sorted(level[:even], runs=h > 0)[self.offs[h] : even : 2]
        if items % 2:
            level[0] = level[items - 1]
        self.lens[h] = items % 2
        self.actual -= even
        self.ncomp[h] += 1
        return output


def java_sorted(values: np.ndarray, runs: bool = False) -> np.ndarray:
    """Ascending as Java's Double.compare orders: -0.0 before 0.0, NaN last.

    `runs=True` uses timsort (numpy's "stable"), which merges presorted runs in linear time: the
    upper levels are concatenations of sorted compaction outputs; level 0 is random, where numpy's
    default (SIMD) sort is faster. numpy treats -0.0 and 0.0 as equal, so when zeros are present
    they are rewritten from the count of negative zeros in the input.
    """
    ordered = np.sort(values, kind="stable" if runs else None)
    first, last = int(np.searchsorted(ordered, 0.0, "left")), int(np.searchsorted(ordered, 0.0, "right"))
    if last > first:
        negative = int(np.count_nonzero((values == 0.0) & np.signbit(values)))
        run = ordered[first:last]
        run[:negative] = -0.0
        run[negative:] = 0.0
    return ordered
