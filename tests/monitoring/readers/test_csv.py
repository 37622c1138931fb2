import pytest

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers import DatasetFormat, read_dataset
from processing.monitoring.readers.csv import read_batches, spark_safe_names

pytestmark = pytest.mark.image


def _rows(path, header=True, block_size=None):
    kwargs = {"block_size": block_size} if block_size else {}
    batches = list(read_batches(path, header, **kwargs))
    names = list(batches[0].columns)
    return names, [list(row) for b in batches for row in zip(*(b[n].values.to_pylist() for n in names), strict=True)]


def test_raw_text_is_kept_and_empty_cells_are_missing(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b'a,b,c\r\n1.50,"x,y",\r\n\r\n-0,"",  7 \r\n')
    names, rows = _rows(path)
    assert names == ["a", "b", "c"]
    assert rows == [["1.50", "x,y", None], ["-0", None, "  7 "]]


def test_headerless_columns_are_numbered(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("1,2\n3,4\n")
    names, rows = _rows(path, header=False)
    assert names == ["_c0", "_c1"]
    assert rows == [["1", "2"], ["3", "4"]]


def test_spark_safe_header_names():
    assert spark_safe_names(["a", "", "A", "b"]) == ["a0", "_c1", "A2", "b"]


def test_lines_longer_than_a_block(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n1,2\n" + "a" * 500 + ",3\n4,5\n")
    _, rows = _rows(path, block_size=16)
    assert rows == [["1", "2"], ["a" * 500, "3"], ["4", "5"]]


def test_small_blocks_split_at_line_ends(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i * 2}\n" for i in range(1000)))
    _, rows = _rows(path, block_size=64)
    assert rows == [[str(i), str(i * 2)] for i in range(1000)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"a,b\n1,2\n3\n", "line 3 has 1 cells but the file has 2 columns"),
        (b"a,b\n1,2,3\n", "line 2 has 3 cells"),
        (b"a,b\n1,\xff\xfe\n", "not UTF-8 text \\(column 2"),
        (b"\xff,b\n1,2\n", "not UTF-8 text"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(MonitorInputError, match=message):
        list(read_batches(path, True))


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(MonitorInputError, match="dataset not found"):
        list(read_dataset(tmp_path / "nope.csv", DatasetFormat()))
    with pytest.raises(MonitorInputError, match="unknown dataset format 'avro'"):
        DatasetFormat.from_json('{"avro": {}}')
    with pytest.raises(MonitorInputError, match="not valid JSON"):
        DatasetFormat.from_json("{csv")


def test_dataset_format_from_model_monitor_json():
    assert DatasetFormat.from_json('{"csv": {"header": false, "output_columns_position": "START"}}') == DatasetFormat(
        "csv", False
    )
    assert DatasetFormat.from_json('{"json": {"lines": true}}').kind == "json"
    assert DatasetFormat.from_json('{"parquet": {}}').kind == "parquet"


def test_a_folder_is_read_file_by_file(tmp_path):
    (tmp_path / "part-1.csv").write_text("a\n1\n")
    (tmp_path / "part-0.csv").write_text("a\n0\n")
    (tmp_path / ".hidden.csv").write_text("a\n9\n")
    (tmp_path / "_SUCCESS").write_text("")
    values = [b["a"].values.to_pylist() for b in read_dataset(tmp_path, DatasetFormat())]
    assert values == [["0"], ["1"]]
