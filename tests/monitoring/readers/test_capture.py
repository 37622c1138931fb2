from datetime import datetime, timezone

import pytest

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.capture import (
    CaptureStats,
    json_rows,
    parse_time,
    read_capture,
    read_records,
)

from ..conftest import REFERENCE, capture_line, write_capture_file

pytestmark = pytest.mark.image
START = datetime(2024, 1, 19, 19, tzinfo=timezone.utc)
END = datetime(2024, 1, 19, 20, tzinfo=timezone.utc)


def _cells(batches):
    return [[b[c].values[i].as_py() for c in b.columns] for b in batches for i in range(b.num_rows)]


def test_output_columns_come_first_and_requests_split_into_rows(tmp_path):
    lines = [
        capture_line("2024-01-19T19:10:00Z", "1.5,2\n3.5,4\n", "0.9,1,1\n0.2,0,0\n", "e1"),
        capture_line("2024-01-19T19:20:00Z", "5,6", "0.5,1,1", "e2"),
    ]
    write_capture_file(tmp_path, "2024/01/19/19", lines)
    stats = CaptureStats()
    batches = list(read_capture(str(tmp_path), START, END, stats))
    assert list(batches[0].columns) == ["_c0", "_c1", "_c2", "_c3", "_c4"]
    assert _cells(batches) == [
        ["0.9", "1", "1", "1.5", "2"],
        ["0.2", "0", "0", "3.5", "4"],
        ["0.5", "1", "1", "5", "6"],
    ]
    assert (stats.records, stats.rows, stats.malformed) == (2, 3, 0)


def test_json_encoded_records(tmp_path):
    request = '{"instances": [{"features": [1, 2.50]}, {"features": [3, 4]}]}'
    response = '{"predictions": [{"score": 0.8, "predicted_label": 1, "needs_review": true}, {"score": 0.1, "predicted_label": 0, "needs_review": false}]}'
    write_capture_file(
        tmp_path, "2024/01/19/19", [capture_line("2024-01-19T19:00:00Z", request, response, "e", encoding="JSON")]
    )
    assert _cells(read_capture(str(tmp_path), START, END, CaptureStats())) == [
        ["0.8", "1", "true", "1", "2.50"],
        ["0.1", "0", "false", "3", "4"],
    ]


def test_json_payload_shapes():
    assert json_rows("[1, 2, 3]") == [["1", "2", "3"]]
    assert json_rows('{"instances": [[1, 2], [3, 4]]}') == [["1", "2"], ["3", "4"]]
    assert json_rows('{"predictions": [0.1, 0.9]}', "output") == [["0.1"], ["0.9"]]
    assert json_rows('{"a": 1, "b": "x"}') == [["1", "x"]]


def test_window_by_inference_time_and_hour_folder(tmp_path):
    write_capture_file(
        tmp_path, "2024/01/19/18", [capture_line("2024-01-19T18:59:59Z", "1", "0.1", "early")], "a.jsonl"
    )
    write_capture_file(
        tmp_path,
        "2024/01/19/19",
        [
            capture_line("2024-01-19T19:00:00Z", "2", "0.2", "in"),
            capture_line("2024-01-19T20:00:00Z", "3", "0.3", "late"),
        ],
        "b.jsonl",
    )
    write_capture_file(tmp_path, "2024/01/19/20", [capture_line("2024-01-19T20:30:00Z", "4", "0.4", "next")], "c.jsonl")
    records = list(read_records(tmp_path, START, END, CaptureStats()))
    assert [r.event_id for r in records] == ["in"]


def test_malformed_lines_are_counted_not_fatal(tmp_path):
    good = capture_line("2024-01-19T19:00:00Z", "1,2", "0.5", "ok")
    base64 = good.replace('"encoding":"CSV"', '"encoding":"BASE64"')
    shadow = good.replace('"eventId":"ok"', '"eventId":"s","invocationSource":"ShadowExperiment"')
    mismatch = capture_line("2024-01-19T19:00:00Z", "1,2\n3,4", "0.5", "rows")
    lines = [good, "not json", '{"eventVersion":"0"}', base64, shadow, mismatch, good[: len(good) // 2]]
    write_capture_file(tmp_path, "2024/01/19/19", lines)
    stats = CaptureStats()
    assert len(_cells(read_capture(str(tmp_path), START, END, stats))) == 1
    assert stats.malformed == 5
    assert stats.reasons == {
        "not JSON": 2,
        "no captureData": 1,
        "input encoding BASE64 is not CSV or JSON": 1,
        "input and output row counts differ": 1,
    }


def test_deeply_nested_json_is_a_skipped_line_not_a_crash(tmp_path):
    good = capture_line("2024-01-19T19:00:00Z", "1,2", "0.5", "ok")
    in_payload = capture_line("2024-01-19T19:00:00Z", "[" * 100_000, "[0.5]", "deep", encoding="JSON")
    # parses, but is deeper than rebuilding the cells' text can follow
    almost = capture_line("2024-01-19T19:00:00Z", "[" * 990 + "]" * 990, "[0.5]", "almost", encoding="JSON")
    write_capture_file(tmp_path, "2024/01/19/19", [good, "[" * 100_000, in_payload, almost, good])
    stats = CaptureStats()
    assert len(_cells(read_capture(str(tmp_path), START, END, stats))) == 2
    assert stats.reasons == {"JSON nested too deeply": 3}


def test_an_empty_window_yields_nothing(tmp_path):
    write_capture_file(tmp_path, "2024/01/19/18", [capture_line("2024-01-19T18:00:00Z", "1,2", "0.5", "early")])
    stats = CaptureStats()
    assert list(read_capture(str(tmp_path), START, END, stats)) == []
    assert (stats.files_at_location, stats.files, stats.records) == (1, 0, 0)
    (tmp_path / "empty").mkdir()
    stats = CaptureStats()
    assert list(read_capture(str(tmp_path / "empty"), START, END, stats)) == []
    assert stats.files_at_location == 0


def test_a_location_that_does_not_exist_is_an_error_at_once(tmp_path):
    with pytest.raises(MonitorInputError, match="does not exist: it holds no captured data at all"):
        read_capture(str(tmp_path / "nothing"), START, END, CaptureStats())  # before the first batch


def test_s3_uris_are_not_resolved_by_the_job_code(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    write_capture_file(tmp_path / "s3" / "bucket" / "data-capture", "2024/01/19/19", [])
    with pytest.raises(MonitorInputError, match="is an S3 URI, and this job reads and writes local paths only"):
        read_capture("s3://bucket/data-capture/endpoint", START, END, CaptureStats())
    with pytest.raises(MonitorInputError, match="unsupported URI scheme"):
        read_capture("gs://bucket/x", START, END, CaptureStats())


def test_times():
    assert parse_time("2024-01-19T19:27:57Z") == datetime(2024, 1, 19, 19, 27, 57, tzinfo=timezone.utc)
    assert parse_time("2024-01-19T19:00:00") == START
    with pytest.raises(MonitorInputError, match="not an ISO-8601 time"):
        parse_time("yesterday")


def test_real_capture_samples():
    sample = REFERENCE / "notebook-outputs" / "mm_intro_capture_csv_xgboost_churn.jsonl"
    if not sample.is_file():
        pytest.skip("reference capture samples are absent")
    stats = CaptureStats()
    rows = _cells(read_capture(str(sample), None, None, stats))
    assert len(rows) == 3 and len(rows[0]) == 70 and rows[0][0] == "0.036397725343704224"
    json_sample = REFERENCE / "notebook-outputs" / "clarify_endpoint_capture_json.jsonl"
    rows = _cells(read_capture(str(json_sample), None, None, CaptureStats()))
    assert len(rows) == 3 and rows[0][:3] == ["0.9899773597717285", "1", "28"]


def test_requests_of_changing_width_are_padded_across_batches(tmp_path):
    from processing.monitoring.profile import profile_batches

    narrow = [capture_line("2024-01-19T19:00:00Z", "1,2", "0.5", f"n{i}") for i in range(3)]
    wide = [capture_line("2024-01-19T19:30:00Z", "1,2,3", "0.5", f"w{i}") for i in range(2)]
    write_capture_file(tmp_path, "2024/01/19/19", narrow + wide + narrow[:1])
    batches = read_capture(str(tmp_path), START, END, CaptureStats(), batch_rows=2)
    profile = profile_batches(batches, threads=1)
    assert profile.item_count == 6
    assert [c.name for c in profile.columns] == ["_c0", "_c1", "_c2", "_c3"]
    assert [(c.num_present, c.num_missing) for c in profile.columns][-1] == (2, 4)
