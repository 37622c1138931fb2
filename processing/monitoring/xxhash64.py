"""XXH64 (seed 42 in Spark's HLL++) of many short byte strings at once.

Spark's `XxHash64Function` hashes a string's UTF-8 bytes, a long's 8 little-endian bytes and an
int's 4, all with the standard XXH64. `hash_cells` hashes every valid cell of a TextCells column:
compiled with numba when available, else with numpy over groups of equal-length cells (each group
runs the same fixed sequence of 64-bit operations, so it vectorises exactly).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from .textcells import TextCells

P1 = np.uint64(11400714785074694791)
P2 = np.uint64(14029467366897019727)
P3 = np.uint64(1609587929392839161)
P4 = np.uint64(9650029242287828579)
P5 = np.uint64(2870177450012600261)
SPARK_SEED = 42


def hash_cells(cells: TextCells, seed: int = SPARK_SEED) -> np.ndarray:
    """XXH64 of each valid cell's bytes, in cell order (invalid cells are skipped)."""
    if _hash_kernel is not None:
        return _hash_kernel(cells.offsets, cells.data, cells.valid, np.uint64(seed))
    return _hash_numpy(cells, seed)


def hash_bytes(payload: bytes, seed: int = SPARK_SEED) -> int:
    """XXH64 of one byte string (a reference for tests and small inputs)."""
    cells = TextCells(
        offsets=np.array([0, len(payload)], dtype=np.int64),
        data=np.frombuffer(payload, dtype=np.uint8),
        valid=np.ones(1, dtype=bool),
    )
    return int(_hash_numpy(cells, seed)[0])


def hash_int64(values: np.ndarray, seed: int = SPARK_SEED) -> np.ndarray:
    """Spark's `hashLong`: XXH64 of each int64's 8 little-endian bytes."""
    return _hash_fixed(np.ascontiguousarray(values, dtype="<i8").view(np.uint8).reshape(-1, 8), seed)


def hash_int32(values: np.ndarray, seed: int = SPARK_SEED) -> np.ndarray:
    """Spark's `hashInt`: XXH64 of each int32's 4 little-endian bytes."""
    return _hash_fixed(np.ascontiguousarray(values, dtype="<i4").view(np.uint8).reshape(-1, 4), seed)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _round(acc: np.ndarray, lane: np.ndarray) -> np.ndarray:
    return _rotl(acc + lane * P2, 31) * P1


def _words64(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block).view("<u8")[:, 0]


def _words32(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block).view("<u4")[:, 0].astype(np.uint64)


def _hash_fixed(rows: np.ndarray, seed: int) -> np.ndarray:
    """XXH64 of each row of an (n, L) uint8 matrix: all inputs have the same length L."""
    n, length = rows.shape
    seed64 = np.uint64(seed)
    with np.errstate(over="ignore"):
        pos = 0
        if length >= 32:
            v1 = np.full(n, seed64 + P1 + P2, dtype=np.uint64)
            v2 = np.full(n, seed64 + P2, dtype=np.uint64)
            v3 = np.full(n, seed64, dtype=np.uint64)
            v4 = np.full(n, seed64 - P1, dtype=np.uint64)
            while pos + 32 <= length:
                v1 = _round(v1, _words64(rows[:, pos : pos + 8]))
                v2 = _round(v2, _words64(rows[:, pos + 8 : pos + 16]))
                v3 = _round(v3, _words64(rows[:, pos + 16 : pos + 24]))
                v4 = _round(v4, _words64(rows[:, pos + 24 : pos + 32]))
                pos += 32
            h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
            for v in (v1, v2, v3, v4):
                h = (h ^ _round(np.zeros(n, dtype=np.uint64), v)) * P1 + P4
        else:
            h = np.full(n, seed64 + P5, dtype=np.uint64)
        h = h + np.uint64(length)
        while pos + 8 <= length:
            h ^= _round(np.zeros(n, dtype=np.uint64), _words64(rows[:, pos : pos + 8]))
            h = _rotl(h, 27) * P1 + P4
            pos += 8
        if pos + 4 <= length:
            h ^= _words32(rows[:, pos : pos + 4]) * P1
            h = _rotl(h, 23) * P2 + P3
            pos += 4
        while pos < length:
            h ^= rows[:, pos].astype(np.uint64) * P5
            h = _rotl(h, 11) * P1
            pos += 1
        h ^= h >> np.uint64(33)
        h *= P2
        h ^= h >> np.uint64(29)
        h *= P3
        h ^= h >> np.uint64(32)
    return h


def _hash_numpy(cells: TextCells, seed: int) -> np.ndarray:
    starts = cells.offsets[:-1][cells.valid]
    lengths = (cells.offsets[1:] - cells.offsets[:-1])[cells.valid]
    out = np.empty(len(starts), dtype=np.uint64)
    for length in np.unique(lengths):
        members = np.flatnonzero(lengths == length)
        index = starts[members, None] + np.arange(int(length), dtype=np.int64)
        rows = cells.data[index] if length else np.zeros((len(members), 0), dtype=np.uint8)
        out[members] = _hash_fixed(rows, seed)
    return out


def _hash_one_py(data, pos, end, seed):  # pragma: no cover - compiled by numba
    """XXH64 of data[pos:end]."""
    p1 = np.uint64(11400714785074694791)
    p2 = np.uint64(14029467366897019727)
    p3 = np.uint64(1609587929392839161)
    p4 = np.uint64(9650029242287828579)
    p5 = np.uint64(2870177450012600261)
    length = end - pos
    if length >= 32:
        v1 = seed + p1 + p2
        v2 = seed + p2
        v3 = seed
        v4 = seed - p1
        while pos + 32 <= end:
            lanes = np.empty(4, dtype=np.uint64)
            for lane in range(4):
                w = np.uint64(0)
                for b in range(8):
                    w |= np.uint64(data[pos + lane * 8 + b]) << np.uint64(8 * b)
                lanes[lane] = w
            v1 = v1 + lanes[0] * p2
            v1 = ((v1 << np.uint64(31)) | (v1 >> np.uint64(33))) * p1
            v2 = v2 + lanes[1] * p2
            v2 = ((v2 << np.uint64(31)) | (v2 >> np.uint64(33))) * p1
            v3 = v3 + lanes[2] * p2
            v3 = ((v3 << np.uint64(31)) | (v3 >> np.uint64(33))) * p1
            v4 = v4 + lanes[3] * p2
            v4 = ((v4 << np.uint64(31)) | (v4 >> np.uint64(33))) * p1
            pos += 32
        h = (
            ((v1 << np.uint64(1)) | (v1 >> np.uint64(63)))
            + ((v2 << np.uint64(7)) | (v2 >> np.uint64(57)))
            + ((v3 << np.uint64(12)) | (v3 >> np.uint64(52)))
            + ((v4 << np.uint64(18)) | (v4 >> np.uint64(46)))
        )
        for v in (v1, v2, v3, v4):
            r = v * p2
            r = ((r << np.uint64(31)) | (r >> np.uint64(33))) * p1
            h = (h ^ r) * p1 + p4
    else:
        h = seed + p5
    h = h + np.uint64(length)
    while pos + 8 <= end:
        w = np.uint64(0)
        for b in range(8):
            w |= np.uint64(data[pos + b]) << np.uint64(8 * b)
        r = w * p2
        r = ((r << np.uint64(31)) | (r >> np.uint64(33))) * p1
        h ^= r
        h = ((h << np.uint64(27)) | (h >> np.uint64(37))) * p1 + p4
        pos += 8
    if pos + 4 <= end:
        w = np.uint64(0)
        for b in range(4):
            w |= np.uint64(data[pos + b]) << np.uint64(8 * b)
        h ^= w * p1
        h = ((h << np.uint64(23)) | (h >> np.uint64(41))) * p2 + p3
        pos += 4
    while pos < end:
        h ^= np.uint64(data[pos]) * p5
        h = ((h << np.uint64(11)) | (h >> np.uint64(53))) * p1
        pos += 1
    h ^= h >> np.uint64(33)
    h *= p2
    h ^= h >> np.uint64(29)
    h *= p3
    h ^= h >> np.uint64(32)
    return h


def _hash_loop(offsets, data, valid, seed):  # pragma: no cover - compiled by numba
    out = np.empty(np.count_nonzero(valid), dtype=np.uint64)
    k = 0
    for i in range(len(valid)):
        if valid[i]:
            out[k] = _hash_one(data, offsets[i], offsets[i + 1], seed)
            k += 1
    return out


_hash_one = jit(_hash_one_py, inline=True)
_hash_kernel = jit(_hash_loop) if _hash_one is not None else None
