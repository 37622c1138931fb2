import json

import numpy as np
import pyarrow as pa
import pytest

from processing.monitoring import hll
from processing.monitoring.textcells import TextCells

pytestmark = pytest.mark.image


def _estimate(texts):
    registers = hll.new_registers()
    array = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.string())
    hll.update_with_cells(registers, TextCells.from_arrow(array))
    return hll.estimate(registers)


def test_small_counts_are_exact_and_repeats_do_not_count():
    assert _estimate(pa.array([], type=pa.string())) == 0
    assert _estimate(["a"] * 10) == 1
    assert abs(_estimate([str(i) for i in range(100)] * 3) - 100) <= 5  # linear counting: close, not exact


def test_large_counts_are_within_the_sketch_error():
    n = 50_000  # p = 9 gives a relative standard error of about 4.6 %; allow three of them
    assert abs(_estimate([f"id-{i}" for i in range(n)]) - n) < 0.14 * n


def test_text_not_value_is_hashed():
    assert _estimate(["1.0", "1.00", "1"]) == 3


def test_numpy_and_compiled_register_updates_agree():
    cells = TextCells.from_arrow(pa.array([f"v{i}" for i in range(3000)]))
    compiled = hll.new_registers()
    hll.update_with_cells(compiled, cells)
    plain = hll.new_registers()
    saved, hll._registers_kernel = hll._registers_kernel, None
    try:
        hll.update_with_cells(plain, cells)
    finally:
        hll._registers_kernel = saved
    assert np.array_equal(compiled, plain)


def test_aws_distinct_counts_of_aai540(aai540):
    import csv

    with open(aai540 / "train_data.csv", newline="") as f:
        rows = list(csv.reader(f))
    stats = {f["name"]: f for f in json.loads((aai540 / "statistics.json").read_text())["features"]}
    for i, name in enumerate(rows[0]):
        feature = stats[name]
        expected = feature.get("numerical_statistics", {}).get("approximate_num_distinct_values")
        if expected is None:
            expected = feature["string_statistics"]["distinct_count"]
        assert _estimate([r[i] for r in rows[1:]]) == expected, name
