import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.parquet import read_batches

pytestmark = pytest.mark.image


def test_typed_columns(tmp_path):
    path = tmp_path / "d.parquet"
    table = pa.table(
        {
            "i32": pa.array([1, None, 3], type=pa.int32()),
            "f64": pa.array([0.5, 1.5, None]),
            "b": pa.array([True, False, None]),
            "s": pa.array(["x", None, "z"]),
            "d": pa.array([1, 2, 3], type=pa.date32()),
        }
    )
    pq.write_table(table, path)
    (batch,) = read_batches(path)
    assert batch["i32"].kind == "integral" and batch["i32"].width == 32
    assert batch["i32"].numbers[1].tolist() == [1, 3]
    assert batch["f64"].numbers[0].tolist() == [0.5, 1.5]
    assert batch["b"].kind == "boolean"
    assert batch["s"].values.to_pylist() == ["x", None, "z"]
    assert batch["d"].values.to_pylist() == ["1970-01-02", "1970-01-03", "1970-01-04"]
    assert np.array_equal(batch["i32"].valid, [True, False, True])


def test_not_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(MonitorInputError, match="cannot read .* as Parquet"):
        list(read_batches(path))
