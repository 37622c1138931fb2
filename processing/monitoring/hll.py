"""Deequ's HLL++ (`StatefulHyperloglogPlus`): 512 registers over XXH64(seed 42) of each value.

Register index = the hash's top 9 bits; register value = leading zeros of (hash << 9 | 2^8) + 1;
the estimate is linear counting while it stays under the threshold (400 for p=9) and zero
registers remain, else the bias-corrected raw estimate (k=6 nearest neighbours), rounded half up
(Math.round). For CSV input the hashed value is the raw cell text, so "1.0" and "1.00" count as
two values, as in AWS's files.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from ._jit import jit
from .hll_constants import BIASES, RAW_ESTIMATES, THRESHOLD
from .textcells import TextCells, classify
from .xxhash64 import SPARK_SEED, hash_cells

P = 9
M = 1 << P
IDX_SHIFT = 64 - P
K_NEIGHBOURS = 6
ALPHA_M2 = (0.7213 / (1.0 + 1.079 / M)) * M * M


def new_registers() -> np.ndarray:
    return np.zeros(M, dtype=np.uint8)


def update_with_cells(registers: np.ndarray, cells: TextCells) -> None:
    """Add every valid cell's text to the registers (in place)."""
    update_with_hashes(registers, hash_cells(cells, SPARK_SEED))


def update_with_hashes(registers: np.ndarray, hashes: np.ndarray) -> None:
    """Add already-hashed values (uint64) to the registers (in place)."""
    if not len(hashes):
        return
    hashes = hashes.astype(np.uint64, copy=False)
    if _registers_kernel is not None:
        _registers_kernel(registers, hashes)
        return
    index = (hashes >> np.uint64(IDX_SHIFT)).astype(np.intp)
    w = (hashes << np.uint64(P)) | np.uint64(1 << (P - 1))
    rho = (64 - _bit_length(w) + 1).astype(np.uint8)
    np.maximum.at(registers, index, rho)


def estimate(registers: np.ndarray) -> int:
    """Deequ's `count`: the cardinality estimate, rounded as Math.round does."""
    z_inverse = float(np.sum(np.ldexp(1.0, -registers.astype(np.int64))))
    zeros = float(np.count_nonzero(registers == 0))
    if zeros > 0:
        linear = M * math.log(M / zeros)
        if linear <= THRESHOLD:
            return _java_round(linear)
    raw = ALPHA_M2 / z_inverse
    if raw < 5.0 * M:
        raw -= _bias(raw)
    return _java_round(raw)


def _bias(e: float) -> float:
    n = len(RAW_ESTIMATES)
    nearest = bisect.bisect_left(RAW_ESTIMATES, e)  # Java's binarySearch on distinct keys
    low = max(nearest - K_NEIGHBOURS + 1, 0)
    high = min(low + K_NEIGHBOURS, n)
    while high < n and (e - RAW_ESTIMATES[high]) ** 2 < (e - RAW_ESTIMATES[low]) ** 2:
        low += 1
        high += 1
    return sum(BIASES[low:high]) / (high - low)


def _java_round(x: float) -> int:
    return math.floor(x + 0.5)


def _bit_length(w: np.ndarray) -> np.ndarray:
    length = np.zeros(len(w), dtype=np.int64)
    v = w.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        big = v >= np.uint64(1 << shift)
        length[big] += shift
        v[big] >>= np.uint64(shift)
    return length + (v > 0)


def _registers_py(registers, hashes):  # pragma: no cover - compiled by numba
    """Deequ's register update: index = top 9 bits, value = leading zeros of (h << 9 | 2^8) + 1."""
    for h in hashes:
        index = np.int64(h >> np.uint64(IDX_SHIFT))
        w = (h << np.uint64(P)) | np.uint64(1 << (P - 1))
        rho = np.uint8(1)
        while w < np.uint64(0x8000000000000000):
            rho += np.uint8(1)
            w = w << np.uint64(1)
        if rho > registers[index]:
            registers[index] = rho


def scan_text(cells: TextCells, arrow_array=None) -> tuple[np.ndarray, np.ndarray]:
    """(Deequ type codes, HLL++ registers) of a text column's cells.

    Two compiled passes beat one fused pass here (the fused loop measured slower on this machine).
    """
    registers = new_registers()
    update_with_cells(registers, cells)
    return classify(cells, arrow_array), registers


_registers_kernel = jit(_registers_py)
