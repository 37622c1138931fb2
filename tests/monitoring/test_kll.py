"""The vectorised KLL against a line-by-line transcription of Deequ's QuantileNonSample."""

import json
import math

import numpy as np
import pytest

from processing.monitoring.kll import KLLSketch, capacities, java_sorted

pytestmark = pytest.mark.image


class ReferenceKLL:
    """Deequ 2.0.2's QuantileNonSample + NonSampleCompactor, one item at a time, for comparison."""

    def __init__(self, k=2048, c=0.64):
        self.k, self.c = k, c
        self.levels: list[list[float]] = [[]]
        self.ncomp, self.offs = [0], [0]

    def cap(self, h):
        return 2 * (math.ceil(self.k * math.pow(self.c, h) / 2) + 1)

    def update(self, item):
        self.levels[0].append(item)
        if sum(map(len, self.levels)) > sum(self.cap(h) for h in range(len(self.levels))):
            self.condense()

    def condense(self):
        for h in range(len(self.levels)):
            if len(self.levels[h]) >= self.cap(h):
                if h + 1 >= len(self.levels):
                    self.levels.append([])
                    self.ncomp.append(0)
                    self.offs.append(0)
                self.levels[h + 1].extend(self.compact(h))
                return

    def compact(self, h):
        buf = self.levels[h]
        even = len(buf) - len(buf) % 2
        if self.ncomp[h] % 2 == 1:
            self.offs[h] = 1 - self.offs[h]
        ordered = sorted(buf[:even], key=lambda x: (x, math.copysign(1, x)))  # Double.compare: -0.0 < 0.0
        out = ordered[self.offs[h] : even : 2]
        self.levels[h] = [buf[-1]] if len(buf) % 2 else []
        self.ncomp[h] += 1
        return out


def test_capacities_are_deequs():
    assert capacities(2048, 0.64, 4).tolist() == [2050, 1314, 842, 540]


def test_small_input_is_kept_in_file_order():
    sketch = KLLSketch()
    sketch.update(np.array([3.0, 1.0, 2.0]))
    assert sketch.data() == [[3.0, 1.0, 2.0]]
    assert sketch.count() == 3


@pytest.mark.parametrize("chunks", [1, 7])
def test_many_levels_match_the_reference_item_by_item(chunks):
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(size=30_000), 3)  # ties, and both -0.0 and 0.0
    values[::97] = -0.0
    values[::89] = 0.0
    reference = ReferenceKLL()
    for v in values.tolist():
        reference.update(v)
    sketch = KLLSketch()
    for part in np.array_split(values, chunks):
        sketch.update(part)
    assert len(sketch.data()) > 3
    assert [[repr(x) for x in level] for level in sketch.data()] == [[repr(x) for x in lv] for lv in reference.levels]
    assert sketch.count() == len(values)


def test_ranks_weight_items_by_level():
    sketch = KLLSketch.reconstruct(2048, 0.64, [[5.0, 1.0], [3.0]])
    assert sketch.count() == 4
    assert sketch.ranks(np.array([3.0, 5.0, 0.0]), inclusive=True).tolist() == [3, 4, 0]
    assert sketch.ranks(np.array([3.0, 5.0]), inclusive=False).tolist() == [1, 3]


def test_merge_keeps_every_item_weight():
    rng = np.random.default_rng(1)
    a, b = KLLSketch(), KLLSketch()
    a.update(rng.random(5000))
    b.update(rng.random(7000))
    merged = a.copy().merge(b)
    assert merged.count() == 12_000
    small = KLLSketch().merge(KLLSketch.reconstruct(2048, 0.64, [[2.0, 1.0]]))
    assert small.data() == [[2.0, 1.0]]


def test_java_sort_puts_negative_zero_first():
    values = np.array([0.0, -0.0, 1.0, -1.0, 0.0, -0.0] * 500)  # long enough for numpy's SIMD sort
    for runs in (False, True):
        out = java_sorted(values, runs=runs)
        assert out.tolist() == sorted(values.tolist())
        assert np.signbit(out[out == 0]).tolist() == [True] * 1000 + [False] * 1000


def test_aws_sketch_of_the_aai540_price_column(aai540):
    import csv

    with open(aai540 / "train_data.csv", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("price")
    sketch = KLLSketch()
    sketch.update(np.array([float(r[column]) for r in rows[1:]]))
    stats = json.loads((aai540 / "statistics.json").read_text())
    price = next(f for f in stats["features"] if f["name"] == "price")
    assert sketch.data() == price["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
