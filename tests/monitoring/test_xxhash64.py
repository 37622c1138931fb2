import numpy as np
import pytest

from processing.monitoring import xxhash64
from processing.monitoring.textcells import TextCells

pytestmark = pytest.mark.image

# Reference values from the `xxhash` package (the C implementation), seed 42.
BYTES = [
    ("", 11002672306508523268),
    ("61", 9864288744972464332),
    ("616263", 1423657621850124518),
    ("302e35", 4500694816120189010),
    ("2d312e3235452d37", 7108236942959092576),
    ("5ac3bc72696368", 16246815932409060502),
    ("3132333435363738", 6863040065134489090),
    ("313233343536373839303132", 1549582498302756521),
    ("78" * 31, 16730281937987387870),
    ("79" * 32, 5202031258905353636),
    ("7a" * 33, 10035381441739362615),
    (bytes(range(100)).hex(), 9339668972473275655),
]
LONGS = [(0, 13194218611613725804), (1, 11445071438006506034), (-1, 3858142552250413010), (2**62, 8973626371093010265)]
INTS = [(0, 3614696996920510707), (1, 11748118483920312617), (-7, 4987848727247274714)]


@pytest.mark.parametrize(("payload", "expected"), BYTES)
def test_bytes_match_the_reference(payload, expected):
    assert xxhash64.hash_bytes(bytes.fromhex(payload)) == expected


def test_cells_in_one_call_numpy_and_compiled_agree():
    payloads = [bytes.fromhex(p) for p, _ in BYTES]
    offsets = np.cumsum([0] + [len(p) for p in payloads]).astype(np.int64)
    valid = np.ones(len(payloads), dtype=bool)
    valid[2] = False  # a missing cell is skipped
    cells = TextCells(offsets, np.frombuffer(b"".join(payloads), dtype=np.uint8), valid)
    expected = np.array([h for (_, h), ok in zip(BYTES, valid, strict=True) if ok], dtype=np.uint64)
    assert np.array_equal(xxhash64._hash_numpy(cells, 42), expected)
    assert np.array_equal(xxhash64.hash_cells(cells), expected)  # numba when installed


def test_typed_values_hash_like_spark():
    assert xxhash64.hash_int64(np.array([v for v, _ in LONGS])).tolist() == [h for _, h in LONGS]
    assert xxhash64.hash_int32(np.array([v for v, _ in INTS])).tolist() == [h for _, h in INTS]
