import numpy as np
import pytest

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.jsonl import infer_schema, read_batches

pytestmark = pytest.mark.image


def test_schema_follows_spark_inference_and_sorts_columns(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"z": 1, "a": 1.5, "flag": true, "s": "x", "mix": 1, "nested": {"k": 1}}\n'
        '{"z": 2, "a": 2, "flag": false, "s": null, "mix": "two", "nested": [1, 2]}\n'
        "\n"
    )
    assert infer_schema(path) == [
        ("a", "double"),
        ("flag", "boolean"),
        ("mix", "string"),
        ("nested", "string"),
        ("s", "string"),
        ("z", "long"),
    ]
    (batch,) = read_batches(path)
    assert list(batch.columns) == ["a", "flag", "mix", "nested", "s", "z"]
    assert batch["a"].numbers[0].tolist() == [1.5, 2.0]
    assert batch["z"].numbers[1].tolist() == [1, 2]
    assert batch["mix"].values.to_pylist() == ["1", "two"]  # the number keeps its JSON text
    assert batch["nested"].values.to_pylist() == ['{"k":1}', "[1,2]"]
    assert batch["s"].valid.tolist() == [True, False]
    assert np.array_equal(batch["flag"].type_codes, [3, 3])


def test_bad_lines_are_errors_with_their_number(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(MonitorInputError, match="line 2 is not valid JSON"):
        list(read_batches(path))
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(MonitorInputError, match="line 2 is not a JSON object"):
        list(read_batches(path))
    path.write_text('{"a": 1}\n{"a": ' + "[" * 100_000 + "\n")
    with pytest.raises(MonitorInputError, match="line 2 nests JSON deeper than 100 levels"):
        list(read_batches(path))
    path.write_text('{"a": 1}\n{"a": ' + "[" * 101 + "]" * 101 + "}\n")  # parses, but deeper than the limit
    with pytest.raises(MonitorInputError, match="line 2 nests JSON deeper than 100 levels"):
        list(read_batches(path))
    path.write_text('{"a": ' + "[" * 99 + "]" * 99 + "}\n")
    (batch,) = read_batches(path)
    assert batch["a"].values.to_pylist() == ["[" * 99 + "]" * 99]
