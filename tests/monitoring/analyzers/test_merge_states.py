"""metric(merge(state(A), state(B))) == metric(A ∪ B), as Deequ's StateAggregationTests.

Exact for counts, types, HLL registers, extremes, histograms and integral sums. Where the algorithm
is order-dependent the merge differs in the way Deequ's does, and the test checks what holds:
double sums, means and standard deviations agree to rounding (a different order of additions);
a merged KLL sketch has another layout than a sequential one, but it holds every item's weight,
the same extremes, and is identical while no compaction happened (at most 2050 values).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.monitoring.analyzers import (
    ApproxCountDistinct,
    Completeness,
    DataType,
    Histogram,
    KLLSketchAnalyzer,
    Maximum,
    Mean,
    Minimum,
    Size,
    StandardDeviation,
    Sum,
)

from .conftest import text_batch

pytestmark = pytest.mark.image

numbers = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
)
cells = st.one_of(numbers, st.sampled_from(["true", "false", "x", "y", "Unknown"]), st.none())
numeric_cells = st.one_of(numbers, st.none())

EXACT = [Size(), Completeness("c"), DataType("c"), ApproxCountDistinct("c"), Histogram("c")]
NUMERIC_EXACT = [Minimum("c"), Maximum("c")]
NUMERIC_ROUNDED = [Sum("c"), Mean("c"), StandardDeviation("c")]


def _merged_and_whole(analyzer, a, b):
    merged = analyzer.compute_state(text_batch(a)).merge(analyzer.compute_state(text_batch(b)))
    whole = analyzer.compute_state(text_batch(a + b))
    return analyzer.compute_metric(merged), analyzer.compute_metric(whole)


@settings(max_examples=60, deadline=None)
@given(st.lists(cells, max_size=40), st.lists(cells, max_size=40))
def test_exact_states_merge_exactly(a, b):
    for analyzer in EXACT:
        merged, whole = _merged_and_whole(analyzer, a, b)
        assert merged == whole or (merged != merged and whole != whole), analyzer.name


@settings(max_examples=60, deadline=None)
@given(st.lists(numeric_cells, max_size=40), st.lists(numeric_cells, max_size=40))
def test_numeric_states_merge(a, b):
    for analyzer in NUMERIC_EXACT:
        merged, whole = _merged_and_whole(analyzer, a, b)
        assert merged == whole or (math.isnan(merged) and math.isnan(whole)), analyzer.name
    for analyzer in NUMERIC_ROUNDED:
        merged, whole = _merged_and_whole(analyzer, a, b)
        if math.isnan(whole):
            assert math.isnan(merged)
        else:
            assert merged == pytest.approx(whole, rel=1e-9, abs=1e-6), analyzer.name


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-100, 100).map(str), max_size=40), st.lists(st.integers(-100, 100).map(str), max_size=40))
def test_integral_sums_merge_exactly(a, b):
    merged, whole = _merged_and_whole(Sum("c"), a, b)
    assert merged == whole or (math.isnan(merged) and math.isnan(whole))


@settings(max_examples=30, deadline=None)
@given(st.lists(numbers, min_size=1, max_size=60), st.lists(numbers, min_size=1, max_size=60))
def test_small_kll_sketches_merge_into_the_same_sketch(a, b):
    merged, whole = _merged_and_whole(KLLSketchAnalyzer("c"), a, b)
    assert merged == whole


def test_large_kll_sketches_keep_weight_and_extremes():
    a = [repr(x * 0.37) for x in range(3000)]
    b = [repr(-x * 0.11) for x in range(2500)]
    analyzer = KLLSketchAnalyzer("c")
    merged_state = analyzer.compute_state(text_batch(a)).merge(analyzer.compute_state(text_batch(b)))
    whole_state = analyzer.compute_state(text_batch(a + b))
    assert merged_state.sketch.count() == whole_state.sketch.count() == 5500
    merged, whole = analyzer.compute_metric(merged_state), analyzer.compute_metric(whole_state)
    assert merged.buckets[0][0] == whole.buckets[0][0] and merged.buckets[-1][1] == whole.buckets[-1][1]
    assert sum(c for _, _, c in merged.buckets) == sum(c for _, _, c in whole.buckets) == 5500
    assert merged.data != whole.data  # the layout differs, as in Deequ
