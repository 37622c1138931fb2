import math

import numpy as np
import pytest
from scipy import stats

from processing.monitoring.checks.drift import (
    categorical_chi_squared,
    categorical_linf,
    numeric_distance,
    robust,
)
from processing.monitoring.kll import KLLSketch

pytestmark = pytest.mark.image


def _sketch(values):
    sketch = KLLSketch()
    sketch.update(np.asarray(values, dtype=np.float64))
    return sketch


def test_simple_distance_is_the_two_sample_ks_statistic_while_the_sketches_are_exact():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 1500), rng.normal(0.3, 1, 1800)  # below 2050: no compaction yet
    expected = stats.ks_2samp(a, b).statistic
    assert numeric_distance(_sketch(a), _sketch(b), "Simple") == pytest.approx(expected, abs=1e-12)


def test_distance_of_compacted_sketches_stays_close_to_ks():
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 200_000), rng.normal(0.2, 1, 150_000)
    assert abs(numeric_distance(_sketch(a), _sketch(b), "Simple") - stats.ks_2samp(a, b).statistic) < 0.01


def test_robust_subtracts_the_ks_critical_value():
    assert robust(0.3, 100, 100, "Simple") == 0.3
    assert robust(0.3, 100, 100, "Robust") == pytest.approx(0.3 - 1.8 * math.sqrt(200 / 10000))
    assert robust(0.1, 100, 100, "Robust") == 0.0


def test_categorical_linf():
    base, cur = {"a": 50, "b": 50}, {"a": 80, "b": 10, "c": 10}
    assert categorical_linf(base, cur, "Simple") == pytest.approx(0.4)
    assert categorical_linf(base, cur, "Robust") == pytest.approx(0.4 - 1.8 * math.sqrt(200 / 10000))


def test_chi_squared_p_value_matches_scipy():
    base = {"a": 400, "b": 300, "c": 300}
    cur = {"a": 50, "b": 20, "c": 30}
    expected = np.array([400, 300, 300]) / 1000 * 100
    result = stats.chisquare([50, 20, 30], expected)
    assert categorical_chi_squared(base, cur, "Robust") == pytest.approx(result.pvalue)
    assert categorical_chi_squared(base, cur, "Simple") == pytest.approx(result.statistic)


def test_chi_squared_regroups_small_categories():
    # c and d expect 1 of 100: c merges into d (2 expected), then d, still under 5, into b
    base = {"a": 600, "b": 380, "c": 10, "d": 10}
    cur = {"a": 70, "b": 26, "c": 2, "d": 2}
    assert categorical_chi_squared(base, cur) == pytest.approx(stats.chisquare([70, 30], [60, 40]).pvalue)
    assert math.isnan(categorical_chi_squared({"a": 10}, {"a": 3}))  # one category: no test
