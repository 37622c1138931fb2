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
_INITIAL_WIDTH = 4096


def capacities(k: int, c: float, levels: int) -> np.ndarray:
    """capacity(h) for h < levels, as Deequ computes it (Math.ceil of k·c^h/2, in doubles)."""
    return np.array([2 * (math.ceil(k * math.pow(c, h) / 2) + 1) for h in range(levels)], dtype=np.int64)


class KLLSketch:
    """A mutable Deequ KLL sketch over doubles."""

    def __init__(self, k: int = DEFAULT_K, c: float = DEFAULT_C):
        self.k = int(k)
        self.c = float(c)
        self._caps = capacities(self.k, self.c, 64)
        self.buf = np.zeros((1, _INITIAL_WIDTH), dtype=np.float64)
        self.lens = np.zeros(1, dtype=np.int64)
        self.ncomp = np.zeros(1, dtype=np.int64)
        self.offs = np.zeros(1, dtype=np.int64)
        self.nlevels = 1

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def reconstruct(cls, k: float, c: float, data: list[list[float]]) -> KLLSketch:
        """Deequ's `reconstruct`: levels from a statistics.json sketch, compaction counters reset."""
        sketch = cls(int(k), float(c))
        levels = max(len(data), 1)
        width = max([_INITIAL_WIDTH, *(len(level) + 2 for level in data)])
        sketch._ensure(levels, width)
        for h, level in enumerate(data):
            sketch.buf[h, : len(level)] = np.asarray(level, dtype=np.float64)
            sketch.lens[h] = len(level)
        sketch.nlevels = levels
        return sketch

    def copy(self) -> KLLSketch:
        other = KLLSketch(self.k, self.c)
        other.buf, other.lens = self.buf.copy(), self.lens.copy()
        other.ncomp, other.offs = self.ncomp.copy(), self.offs.copy()
        other.nlevels = self.nlevels
        return other

    # -- updates ------------------------------------------------------------------------------
    def update(self, values: np.ndarray) -> None:
        """Feed values in order, as Deequ's `update(item)` one at a time."""
        values = np.ascontiguousarray(values, dtype=np.float64)
        i, n = 0, len(values)
        while i < n:
            room = self._total() - self._actual() + 1  # appends until Deequ's update condenses
            take = min(room, n - i)
            length = int(self.lens[0])
            self._ensure(self.nlevels, length + take + 2)
            self.buf[0, length : length + take] = values[i : i + take]
            self.lens[0] = length + take
            i += take
            if self._actual() > self._total():
                self._condense()

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Deequ's `merge`: this sketch absorbs `other` (whose compaction counters are ignored)."""
        while self.nlevels < other.nlevels:
            self._expand()
        width = int(max(self.lens[: self.nlevels].max(initial=0) + other.lens.max(initial=0) + 2, self.buf.shape[1]))
        self._ensure(self.nlevels, width)
        for h in range(other.nlevels):
            n, m = int(self.lens[h]), int(other.lens[h])
            self.buf[h, n : n + m] = other.buf[h, :m]
            self.lens[h] = n + m
        while self._actual() >= self._total():
            self._condense()
        return self

    # -- queries ------------------------------------------------------------------------------
    def count(self) -> int:
        """Total weight: the number of values fed."""
        return int(sum(int(self.lens[h]) << h for h in range(self.nlevels)))

    def data(self) -> list[list[float]]:
        """Each level's items in buffer order: the `sketch.data` of statistics.json."""
        return [self.buf[h, : self.lens[h]].tolist() for h in range(self.nlevels)]

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """Items sorted ascending with their weights (2^level)."""
        items = np.concatenate([self.buf[h, : self.lens[h]] for h in range(self.nlevels)])
        weights = np.concatenate([np.full(self.lens[h], 1 << h, dtype=np.int64) for h in range(self.nlevels)])
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def ranks(self, points: np.ndarray, inclusive: bool) -> np.ndarray:
        """Deequ's getRank (items <= x) or getRankExclusive (items < x) for each point."""
        items, weights = self.weighted_items()
        cumulative = np.concatenate([[0], np.cumsum(weights)])
        side = "right" if inclusive else "left"
        return cumulative[np.searchsorted(items, np.asarray(points, dtype=np.float64), side=side)]

    # -- internals ----------------------------------------------------------------------------
    def _actual(self) -> int:
        return int(self.lens[: self.nlevels].sum())

    def _total(self) -> int:
        return int(self._caps[: self.nlevels].sum())

    def _ensure(self, levels: int, width: int) -> None:
        rows, cols = self.buf.shape
        if levels <= rows and width <= cols:
            return
        new_rows, new_cols = max(rows, levels), max(cols, width)
        buf = np.zeros((new_rows, new_cols), dtype=np.float64)
        buf[:rows, :cols] = self.buf
        self.buf = buf
        for name in ("lens", "ncomp", "offs"):
            old = getattr(self, name)
            grown = np.zeros(new_rows, dtype=np.int64)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def _expand(self) -> None:
        self._ensure(self.nlevels + 1, self.buf.shape[1])
        self.lens[self.nlevels] = self.ncomp[self.nlevels] = self.offs[self.nlevels] = 0
        self.nlevels += 1

    def _condense(self) -> None:
        for h in range(self.nlevels):
            if self.lens[h] >= self._caps[h]:
                if h + 1 >= self.nlevels:
                    self._expand()
                output = self._compact(h)
                n = int(self.lens[h + 1])
                self._ensure(self.nlevels, n + len(output) + 2)
                self.buf[h + 1, n : n + len(output)] = output
                self.lens[h + 1] = n + len(output)
                return

    def _compact(self, h: int) -> np.ndarray:
        items = int(self.lens[h])
        even = items - items % 2
        if self.ncomp[h] % 2 == 1:
            self.offs[h] = 1 - self.offs[h]
        ordered = java_sorted(self.buf[h, :even])
        output = ordered[int(self.offs[h]) : even : 2].copy()
        if items % 2:
            self.buf[h, 0] = self.buf[h, items - 1]
            self.lens[h] = 1
        else:
            self.lens[h] = 0
        self.ncomp[h] += 1
        return output


def java_sorted(values: np.ndarray) -> np.ndarray:
    """Ascending as Java's Double.compare orders: -0.0 before 0.0, NaN last.

    numpy's SIMD sort treats -0.0 and 0.0 as equal and may hand back either bit pattern for them,
    so the zeros are rewritten afterwards from the count of negative zeros in the input.
    """
    zero = values == 0.0
    negative = int(np.count_nonzero(zero & np.signbit(values))) if zero.any() else 0
    ordered = np.sort(values)
    if zero.any():
        first = int(np.searchsorted(ordered, 0.0, "left"))
        run = ordered[first : first + int(np.count_nonzero(zero))]
        run[:negative] = -0.0
        run[negative:] = 0.0
    return ordered
