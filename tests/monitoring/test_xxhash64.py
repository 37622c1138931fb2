"""XXH64 against the `xxhash` package (the C reference implementation) over generated inputs.

Every length class of the algorithm is reached: under 4, 8 and 32 bytes, exact multiples of the
32-byte stripe and the tails after it; the cells' numpy path and the compiled one (numba, when
installed) both. The `xxhash` package is a test extra: these tests skip where it is absent (the
XGBoost image's venv), and the numpy path runs there through the other monitoring tests.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processing.monitoring import xxhash64
from processing.monitoring.textcells import TextCells

xxhash = pytest.importorskip("xxhash")
pytestmark = pytest.mark.image
SEEDS = st.one_of(st.just(xxhash64.SPARK_SEED), st.integers(0, 2**64 - 1))
PAYLOADS = st.one_of(st.binary(max_size=40), st.binary(min_size=32, max_size=300))


def _cells(payloads: list[bytes], valid: list[bool]) -> TextCells:
    offsets = np.cumsum([0] + [len(p) for p in payloads]).astype(np.int64)
    return TextCells(offsets, np.frombuffer(b"".join(payloads), dtype=np.uint8), np.array(valid, dtype=bool))


@settings(max_examples=300, deadline=None)
@given(PAYLOADS, SEEDS)
def test_one_byte_string(payload, seed):
    assert xxhash64.hash_bytes(payload, seed) == xxhash.xxh64_intdigest(payload, seed)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(PAYLOADS, st.booleans()), max_size=40), SEEDS)
def test_cells_numpy_and_compiled(cells, seed):
    payloads, valid = [p for p, _ in cells], [ok for _, ok in cells]
    text = _cells(payloads, valid)
    expected = np.array([xxhash.xxh64_intdigest(p, seed) for p, ok in cells if ok], dtype=np.uint64)
    assert np.array_equal(xxhash64._hash_numpy(text, seed), expected)
    assert np.array_equal(xxhash64.hash_cells(text, seed), expected)  # compiled when numba is installed


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=30))
def test_longs_and_ints_hash_their_little_endian_bytes_as_spark_does(longs, ints):
    seed = xxhash64.SPARK_SEED
    expected_longs = [xxhash.xxh64_intdigest(v.to_bytes(8, "little", signed=True), seed) for v in longs]
    expected_ints = [xxhash.xxh64_intdigest(v.to_bytes(4, "little", signed=True), seed) for v in ints]
    assert xxhash64.hash_int64(np.array(longs, dtype=np.int64)).tolist() == expected_longs
    assert xxhash64.hash_int32(np.array(ints, dtype=np.int32)).tolist() == expected_ints
