"""Spark's order-dependent aggregates: the running sum and the streaming central moments.

Spark sums a double column left to right (`sum + x`, starting from 0.0) and updates `stddev_pop`'s
state per row as `n += 1; d = x - avg; dn = d / n; avg += dn; m2 += d * (d - dn)`. Both depend
on the order of the rows in the last bit, so AWS's values are reproduced by applying them in file
order: a numba loop, or (without numba) numpy's sequential cumulative sum and a Python loop.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


def running_sum(start: float, values: np.ndarray) -> float:
    """start + v0 + v1 + … added strictly left to right."""
    if not len(values):
        return start
    if _sum_kernel is not None:
        return float(_sum_kernel(start, values))
    return float(np.cumsum(np.concatenate(([start], values)))[-1])  # add.accumulate is sequential


def central_moments(n: float, avg: float, m2: float, values: np.ndarray) -> tuple[float, float, float]:
    """Spark's CentralMomentAgg update (order 2) over values, continuing from (n, avg, m2)."""
    if not len(values):
        return n, avg, m2
    if _moments_kernel is not None:
        n2, avg2, m22 = _moments_kernel(n, avg, m2, values)
        return float(n2), float(avg2), float(m22)
    return _moments_loop(n, avg, m2, values.tolist())  # the same loop over Python floats


def merge_moments(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    """Deequ's StandardDeviationState.sum: Chan's parallel combination of two partial states."""
    n1, avg1, m21 = a
    n2, avg2, m22 = b
    n = n1 + n2
    delta = avg2 - avg1
    delta_n = 0.0 if n == 0.0 else delta / n
    return n, avg1 + delta_n * n2, m21 + m22 + delta * delta_n * n1 * n2


def _sum_loop(start, values):  # pragma: no cover - compiled by numba
    s = start
    for x in values:
        s += x
    return s


def _moments_loop(n, avg, m2, values):  # compiled by numba; run as Python without it
    for x in values:
        n += 1.0
        delta = x - avg
        delta_n = delta / n
        avg += delta_n
        m2 += delta * (delta - delta_n)
    return n, avg, m2


_sum_kernel = jit(_sum_loop)
_moments_kernel = jit(_moments_loop)
