"""Distances behind baseline_drift_check (Deequ's `Distance`, FORMATS.md §3).

Numeric: the L∞ distance between the two KLL sketches' CDFs, evaluated at every item of either
sketch (`linf_simple`); "Robust" subtracts the two-sample Kolmogorov–Smirnov critical value
c(α)·sqrt((n+m)/(n·m)) with c(α) = 1.8 (α ≈ 0.003) and floors at 0, so small samples do not raise
false drift. Categorical: the same on category frequencies, or Deequ's chi-squared test (expected
counts from the baseline rescaled to the window, small categories merged until Cochran's / Yates'
conditions hold), whose p-value is the distance.
"""

from __future__ import annotations

import math

import numpy as np

from ..kll import KLLSketch

C_ALPHA = 1.8
SIMPLE, ROBUST = "Simple", "Robust"


def robust(linf: float, n: float, m: float, method: str) -> float:
    """Deequ's selectMetrics: Simple keeps linf_simple; Robust subtracts the K-S critical value."""
    if method == SIMPLE:
        return linf
    return max(0.0, linf - C_ALPHA * math.sqrt((n + m) / (n * m)))


def numeric_distance(baseline: KLLSketch, current: KLLSketch, method: str = ROBUST) -> float:
    """Deequ's numericalDistance between two sketches."""
    items1, weights1 = baseline.weighted_items()
    items2, weights2 = current.weighted_items()
    if not len(items1) or not len(items2):
        return float("nan")
    cumulative1, cumulative2 = np.cumsum(weights1), np.cumsum(weights2)
    n, m = float(cumulative1[-1]), float(cumulative2[-1])
    keys = np.union1d(items1, items2)
    cdf1 = _rank_at(items1, cumulative1, keys) / n
    cdf2 = _rank_at(items2, cumulative2, keys) / m
    return robust(float(np.max(np.abs(cdf1 - cdf2))), n, m, method)


def _rank_at(items: np.ndarray, cumulative: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Total weight of the items <= each key (getRank over the rank map)."""
    index = np.searchsorted(items, keys, side="right")
    return np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0).astype(np.float64)


def categorical_linf(baseline: dict[str, int], current: dict[str, int], method: str = ROBUST) -> float:
    """Deequ's categoricalLInfinityDistance between two frequency maps."""
    n, m = float(sum(baseline.values())), float(sum(current.values()))
    if n == 0 or m == 0:
        return float("nan")
    linf = max(abs(baseline.get(k, 0) / n - current.get(k, 0) / m) for k in set(baseline) | set(current))
    return robust(linf, n, m, method)


def categorical_chi_squared(baseline: dict[str, int], current: dict[str, int], method: str = ROBUST) -> float:
    """Deequ's categoricalChiSquareTest: the p-value (Robust) or the statistic (Simple); NaN when
    fewer than two categories remain after regrouping."""
    sample_sum = float(sum(v for k, v in current.items() if k in baseline))
    expected_sum = float(sum(baseline.values()))
    if expected_sum == 0:
        return float("nan")
    expected = {k: v / expected_sum * sample_sum for k, v in baseline.items()}
    sample = {k: float(v) for k, v in current.items()}
    sample, expected = _regroup(sample, expected)
    if len(expected) < 2:
        return float("nan")
    statistic, p_value = _chi_square_test([sample.get(k, 0.0) for k in expected], list(expected.values()))
    return statistic if method == SIMPLE else p_value


def _regroup(sample: dict[str, float], expected: dict[str, float]) -> tuple[dict, dict]:
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = 5, int(0.2 * len(expected))
        else:
            threshold, allowed = 10, 0
        if sum(1 for v in expected.values() if v < threshold) <= allowed:
            break
        smallest = min(expected, key=expected.get)
        moved_expected, moved_sample = expected.pop(smallest), sample.pop(smallest, 0.0)
        second = min(expected, key=expected.get)
        expected[second] += moved_expected
        sample[second] = sample.get(second, 0.0) + moved_sample
    return sample, expected


def _chi_square_test(observed: list[float], expected: list[float]) -> tuple[float, float]:
    """Spark's Statistics.chiSqTest(observed, expected): goodness of fit, expected rescaled to observed."""
    from scipy.stats import chi2

    obs, exp = np.asarray(observed), np.asarray(expected)
    obs_sum, exp_sum = obs.sum(), exp.sum()
    scale = 1.0 if abs(obs_sum - exp_sum) < 1e-7 else obs_sum / exp_sum
    scaled = exp * scale
    if np.any(scaled == 0):
        return float("nan"), float("nan")
    statistic = float(np.sum((obs - scaled) ** 2 / scaled))
    return statistic, float(chi2.sf(statistic, len(obs) - 1))
