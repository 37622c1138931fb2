import numpy as np
import pyarrow as pa
import pytest

from processing.monitoring import textcells
from processing.monitoring.textcells import TYPE_NAMES, TextCells

pytestmark = pytest.mark.image

CASES = {
    "1": "Integral", "-1": "Integral", "+1": "Integral", "- 1": "Integral", " 1": "Integral", "007": "Integral",
    "1.0": "Fractional", "1e5": "Fractional", "1E-5": "Fractional", "-1.5e+3": "Fractional", "+ 1.5e-7": "Fractional",
    "1.": "String", ".5": "String", "-.5": "String", "1e": "String", "1.5E": "String", "e1": "String",
    "true": "Boolean", "false": "Boolean", "True": "String", "tru": "String", "falsey": "String",
    "abc": "String", "1,0": "String", "0x10": "String", "NaN": "String", "Infinity": "String",
    "--1": "String", "12 ": "String", "١٢": "String", "\n1": "String", "1\n": "String",
}  # fmt: skip


def test_deequ_types_of_cells():
    array = pa.array([*CASES, None])
    cells = TextCells.from_arrow(array)
    codes = textcells.classify(cells, array)
    assert [TYPE_NAMES[c] for c in codes] == [*CASES.values(), "Unknown"]


def test_compiled_and_regex_paths_agree_on_random_text():
    rng = np.random.default_rng(0)
    alphabet = list("0123456789+-. eEtruefals")
    texts = ["".join(rng.choice(alphabet, size=rng.integers(1, 9))) for _ in range(5000)]
    array = pa.array(texts)
    cells = TextCells.from_arrow(array)
    assert np.array_equal(textcells.classify(cells, array), textcells._classify_regex(cells, array))


def test_views_of_sliced_and_large_string_arrays():
    array = pa.array(["x", "yy", None, "zzz"], type=pa.large_string()).slice(1)
    cells = TextCells.from_arrow(array)
    assert cells.valid.tolist() == [True, False, True]
    assert bytes(cells.data[cells.offsets[2] : cells.offsets[3]]) == b"zzz"
