"""Data capture: records as SageMaker writes them (checked against real AWS lines), files, sampling."""

from __future__ import annotations

import base64
import json
import os
import re
import time

import pytest

from offline.endpoint.capture import (
    CaptureWriter,
    RecordEncoder,
    count_capture_records,
    count_records,
    iter_capture_files,
    read_records,
)
from offline.endpoint.settings import CaptureSettings
from offline.store import TMP_PREFIX, ObjectStore

from .conftest import ENDPOINT, Client, capture_root, records_by_inference_id, wait_for

FILE_NAME = re.compile(r"\d{2}-\d{2}-\d{3}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl")
LAYOUT = re.compile(r"(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/" + FILE_NAME.pattern)


def key_paths(document, prefix=()) -> list[tuple]:
    """Every key path in document order: the record's shape, key order included."""
    paths = []
    for key, value in document.items():
        paths.append((*prefix, key))
        if isinstance(value, dict):
            paths.extend(key_paths(value, (*prefix, key)))
    return paths


# -- the record ------------------------------------------------------------------------------------------------


def test_record_is_compact_json_in_sagemakers_key_order():
    encoder = RecordEncoder(CaptureSettings())
    line = encoder.encode(1650241308.9, "text/csv", b"1,2,3\n", "text/csv", b"0.5,1,1\n")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    record = json.loads(line)
    assert line.decode() == json.dumps(record, separators=(",", ":")) + "\n"  # no spaces anywhere
    assert key_paths(record) == [
        ("captureData",),
        ("captureData", "endpointInput"),
        ("captureData", "endpointInput", "observedContentType"),
        ("captureData", "endpointInput", "mode"),
        ("captureData", "endpointInput", "data"),
        ("captureData", "endpointInput", "encoding"),
        ("captureData", "endpointOutput"),
        ("captureData", "endpointOutput", "observedContentType"),
        ("captureData", "endpointOutput", "mode"),
        ("captureData", "endpointOutput", "data"),
        ("captureData", "endpointOutput", "encoding"),
        ("eventMetadata",),
        ("eventMetadata", "eventId"),
        ("eventMetadata", "inferenceTime"),
        ("eventVersion",),
    ]
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2,3\n",  # the raw body, trailing newline kept
        "encoding": "CSV",
    }
    assert record["eventMetadata"]["inferenceTime"] == "2022-04-18T00:21:48Z"
    assert re.fullmatch(r"[0-9a-f-]{36}", record["eventMetadata"]["eventId"])
    assert record["eventVersion"] == "0"


def test_inference_id_only_when_given_and_between_event_id_and_time():
    encoder = RecordEncoder(CaptureSettings())
    record = json.loads(encoder.encode(0, "text/csv", b"1", "text/csv", b"1", inference_id='id "quoted" ü'))
    assert list(record["eventMetadata"]) == ["eventId", "inferenceId", "inferenceTime"]
    assert record["eventMetadata"]["inferenceId"] == 'id "quoted" ü'


def test_encodings_follow_the_declared_content_types():
    encoder = RecordEncoder(CaptureSettings(csv_content_types=("text/csv",), json_content_types=()))
    record = json.loads(encoder.encode(0, "application/json", b'{"a": 1}', "text/csv; charset=utf-8", b"0.5\n"))
    given, answered = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert given["encoding"] == "BASE64" and base64.b64decode(given["data"]) == b'{"a": 1}'
    assert answered["encoding"] == "CSV" and answered["observedContentType"] == "text/csv; charset=utf-8"
    # Declared as text but not UTF-8: kept losslessly as base64 rather than dropped or mangled.
    record = json.loads(encoder.encode(0, "text/csv", b"\xff\xfe", "text/csv", b"1"))
    assert record["captureData"]["endpointInput"]["encoding"] == "BASE64"


@pytest.mark.parametrize(("mode", "sides"), [("input", ["endpointInput"]), ("output", ["endpointOutput"])])
def test_capture_mode_keeps_only_its_side(mode, sides):
    record = json.loads(RecordEncoder(CaptureSettings(mode=mode)).encode(0, "text/csv", b"1", "text/csv", b"2"))
    assert list(record["captureData"]) == sides


def test_record_shape_matches_real_aws_capture_records(reference_dir):
    samples = reference_dir / "notebook-outputs"
    encoder = RecordEncoder(CaptureSettings())
    for name, content_type in [
        ("mm_intro_capture_csv_xgboost_churn.jsonl", "text/csv"),
        ("clarify_endpoint_capture_json.jsonl", "application/json"),
    ]:
        real = json.loads((samples / name).read_text().splitlines()[0])
        given, answered = real["captureData"]["endpointInput"], real["captureData"]["endpointOutput"]
        ours = json.loads(
            encoder.encode(
                time.time(),
                given["observedContentType"],
                given["data"].encode(),
                answered["observedContentType"],
                answered["data"].encode(),
            )
        )
        assert key_paths(ours) == key_paths(real), name
        assert ours["captureData"] == real["captureData"], name  # same body in, same record out
        assert ours["eventVersion"] == real["eventVersion"] == "0"
        assert given["encoding"] == {"text/csv": "CSV", "application/json": "JSON"}[content_type]
        pattern = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"
        assert re.fullmatch(pattern, ours["eventMetadata"]["inferenceTime"])
        assert re.fullmatch(pattern, real["eventMetadata"]["inferenceTime"])


def test_file_names_match_real_aws_capture_keys(reference_dir):
    keys = (reference_dir / "notebook-outputs" / "mm_intro_capture_s3_keys.txt").read_text().split()
    keys += (reference_dir / "notebook-outputs" / "clarify_endpoint_capture_s3_keys.txt").read_text().split()
    real = [k for k in keys if k.endswith(".jsonl")]
    assert real
    for key in real:
        tail = "/".join(key.split("/")[-7:])
        assert LAYOUT.fullmatch(tail), key


# -- the writer ------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def lines(count: int, when: float, tag: str = "r") -> list[bytes]:
    encoder = RecordEncoder(CaptureSettings())
    return [encoder.encode(when, "text/csv", f"{tag},{i}".encode(), "text/csv", b"0.5") for i in range(count)]


def test_writer_publishes_complete_files_in_hourly_folders(tmp_path):
    clock = Clock(1_700_000_000.5)  # 2023-11-14T22:13:20.5Z
    writer = CaptureWriter(tmp_path, CaptureSettings(), clock=clock)
    for line in lines(3, clock.now):
        writer.submit(clock.now, line)
    writer.flush()
    files = list(iter_capture_files(tmp_path))
    assert [p.relative_to(tmp_path).parent.as_posix() for p in files] == ["2023/11/14/22"]
    assert FILE_NAME.fullmatch(files[0].name) and files[0].name.startswith("13-20-500-")
    assert len(list(read_records(files[0]))) == 3
    # The next flush publishes a longer version of the same file, never a torn one.
    for line in lines(2, clock.now + 1):
        writer.submit(clock.now + 1, line)
    clock.now += 1
    writer.flush()
    assert list(iter_capture_files(tmp_path)) == files
    assert len(list(read_records(files[0]))) == 5
    assert writer.stats.written == 5 and writer.stats.submitted == 5
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TMP_PREFIX)]


def test_writer_rotates_by_age_size_and_hour(tmp_path):
    clock = Clock(1_700_002_790.0)  # 22:59:50
    writer = CaptureWriter(tmp_path, CaptureSettings(max_file_seconds=5, max_file_bytes=4096), clock=clock)
    writer.submit(clock.now, lines(1, clock.now)[0])
    writer.flush()
    clock.now += 6  # older than max_file_seconds: a new file
    writer.submit(clock.now, lines(1, clock.now)[0])
    writer.flush()
    assert writer.stats.files == 2
    big = lines(20, clock.now)  # over 4 KiB: the next batch starts another file
    for line in big:
        writer.submit(clock.now, line)
    writer.flush()
    assert writer.stats.files == 3
    late, early = clock.now + 4.5, clock.now + 3  # 23:00:00.5 and 22:59:59: each record in its own hour
    writer.submit(early, lines(1, early, "early")[0])
    writer.submit(late, lines(1, late, "late")[0])
    clock.now = late
    writer.flush()
    hours = {p.relative_to(tmp_path).parent.as_posix() for p in iter_capture_files(tmp_path)}
    assert hours == {"2023/11/14/22", "2023/11/14/23"}
    assert count_records(tmp_path) == 24 == writer.stats.written


def test_writer_thread_flushes_within_the_interval_and_fully_on_close(tmp_path):
    writer = CaptureWriter(tmp_path, CaptureSettings(flush_interval=0.2))
    writer.start()
    now = time.time()
    for line in lines(10, now):
        writer.submit(now, line)
    wait_for(lambda: count_records(tmp_path) == 10, timeout=2, what="a timed flush")
    for line in lines(7, now):
        writer.submit(now, line)
    stats = writer.close()
    assert count_records(tmp_path) == 17 == stats.written


def test_writer_survives_a_failing_disk_and_catches_up(tmp_path):
    if os.geteuid() == 0:
        blocked = tmp_path / "blocked"
        blocked.write_text("a file where the capture folder should be")
        directory = blocked / "capture"
    else:  # pragma: no cover - permissions stop non-root users
        directory = tmp_path / "ro"
        directory.mkdir()
        directory.chmod(0o500)
    messages = []
    writer = CaptureWriter(directory, CaptureSettings(), log=messages.append)
    now = time.time()
    for line in lines(3, now):
        writer.submit(now, line)
    writer.flush()  # cannot write: logged once, kept for the next flush
    assert writer.stats.written == 0 and len(messages) == 1
    if os.geteuid() == 0:
        blocked.unlink()
    else:  # pragma: no cover
        directory.chmod(0o700)
    writer.flush()  # nothing new queued: the pending records are published on their own
    assert writer.stats.written == 3 and messages[-1] == "data capture: writing again"
    writer.submit(now, lines(1, now)[0])
    writer.flush()
    assert writer.stats.written == 4 and count_records(directory) == 4 and writer.stats.dropped == 0


def test_readers_skip_lines_that_are_not_whole_records(tmp_path):
    path = tmp_path / "x.jsonl"
    good = lines(2, 0)
    path.write_bytes(good[0] + b"not json\n" + good[1] + b'{"captureData":')
    assert len(list(read_records(path))) == 2


# -- capture through the running host --------------------------------------------------------------------------


def test_host_captures_each_answered_request_with_its_inference_id(host, host_home, rows):
    client = Client(host.url)
    path = f"/endpoints/{ENDPOINT}/invocations"
    answers = {}
    for i, row in enumerate(rows[:6]):
        status, _, body = client.post(path, row + "\n", **{"X-Amzn-SageMaker-Inference-Id": f"capture-{i}"})
        assert status == 200
        answers[f"capture-{i}"] = (row + "\n", body.decode())
    status, _, _ = client.post(path, "1,2", **{"X-Amzn-SageMaker-Inference-Id": "capture-failed"})
    assert status == 424
    root = capture_root(host_home)
    found = wait_for(
        lambda: (r := records_by_inference_id(root)) and all(k in r for k in answers) and r, what="capture records"
    )
    assert "capture-failed" not in found  # a failed invocation is not captured
    for inference_id, (sent, answered) in answers.items():
        record = found[inference_id]["captureData"]
        assert record["endpointInput"] == {
            "observedContentType": "text/csv",
            "mode": "INPUT",
            "data": sent,
            "encoding": "CSV",
        }
        assert record["endpointOutput"]["data"] == answered
        assert record["endpointOutput"]["encoding"] == "CSV"
    store = ObjectStore.for_home(host_home)
    keys = store.list(host.capture_uri)
    assert keys and all(LAYOUT.fullmatch(k.split("/datacapture/", 1)[1]) for k in keys)
    assert {k.split("/")[5] for k in keys} == {"AllTraffic"}


def test_json_requests_are_captured_as_json(host, host_home, rows):
    client = Client(host.url)
    body = json.dumps({"instances": [[float(v) for v in rows[2].split(",")]]})
    status, _, answer = client.post(
        f"/endpoints/{ENDPOINT}/invocations", body, "application/json", **{"X-Amzn-SageMaker-Inference-Id": "json-1"}
    )
    assert status == 200
    record = wait_for(lambda: records_by_inference_id(capture_root(host_home)).get("json-1"), what="json record")
    assert record["captureData"]["endpointInput"]["encoding"] == "JSON"
    assert json.loads(record["captureData"]["endpointInput"]["data"]) == json.loads(body)
    assert record["captureData"]["endpointOutput"]["data"] == answer.decode()


@pytest.fixture(scope="module")
def sampled_host(model_tar, tmp_path_factory):
    """Half of the requests, input only, nothing declared as JSON (so JSON is captured as base64)."""
    from offline.endpoint import start_endpoint

    home = tmp_path_factory.mktemp("sampled-home")
    endpoint = start_endpoint(
        model_data=model_tar,
        endpoint_name="sampled",
        workers=1,
        home=home,
        capture_percentage=50,
        capture_mode="input",
        json_content_types=(),
    )
    yield endpoint, home
    endpoint.stop()


def test_sampling_percentage_mode_and_base64(sampled_host, rows):
    endpoint, home = sampled_host
    client = Client(endpoint.url)
    body = json.dumps([[float(v) for v in rows[0].split(",")]])
    sent = 400
    for i in range(sent):
        status, _, _ = client.post(
            "/endpoints/sampled/invocations", body, "application/json", **{"X-Amzn-SageMaker-Inference-Id": f"s-{i}"}
        )
        assert status == 200
    summary = endpoint.stop()
    records = records_by_inference_id(capture_root(home, "sampled"))
    assert summary["captured"] == len(records) == count_capture_records(endpoint.capture_uri, home)
    assert 140 <= len(records) <= 260  # Binomial(400, 0.5): 10 standard deviations either side
    for record in records.values():
        assert list(record["captureData"]) == ["endpointInput"]
        given = record["captureData"]["endpointInput"]
        assert given["encoding"] == "BASE64" and base64.b64decode(given["data"]).decode() == body


def test_capture_uri_is_the_endpoints_prefix_in_the_local_store(host, host_home, rows):
    assert host.capture_uri == "s3://sagemaker-us-east-1-123456789012/datacapture/" + ENDPOINT
    assert Client(host.url).post("/invocations", rows[0])[0] == 200  # the container path is captured too
    store = ObjectStore.for_home(host_home)
    wait_for(lambda: store.list(host.capture_uri), what="capture objects under the endpoint's prefix")
