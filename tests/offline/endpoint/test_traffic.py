"""Traffic replay: the drift grammar, the data checks, and a real replay against the host."""

from __future__ import annotations

import time

import pytest

from offline.traffic import TrafficError, drift_row, load_rows, parse_drift, replay

from .conftest import ENDPOINT, capture_root, records_by_inference_id, wait_for

FEATURES = ["mean radius", "mean texture", "worst area"]


def test_drift_grammar():
    changes = parse_drift(" Mean Radius :+20%, mean texture:*1.5,worst area:-100,*:=0", FEATURES)
    assert [(c.feature, c.index, c.op, c.value, c.percent) for c in changes] == [
        ("mean radius", 0, "+", 20.0, True),
        ("mean texture", 1, "*", 1.5, False),
        ("worst area", 2, "-", 100.0, False),
        ("*", None, "=", 0.0, False),
    ]
    assert drift_row(["10", "2", "500"], changes[:3]) == ["12", "3", "400"]
    assert drift_row(["10", "", "500"], parse_drift("*:-10%", FEATURES)) == ["9", "", "450"]  # missing stays missing
    assert drift_row(["10", "2", "500"], changes) == ["0", "0", "0"]  # items apply left to right


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("mean radus:+20%", "did you mean 'mean radius'"),
        ("mean radius", "FEATURE:CHANGE"),
        ("mean radius:20%", "must start with"),
        ("mean radius:*20%", "% goes with"),
        ("mean radius:+abc", "not a number"),
        ("mean radius:+-5", "non-negative"),
        ("mean radius:+inf", "finite"),
        ("mean radius:+1,", "empty item"),
        (":+1", "FEATURE:CHANGE"),
    ],
)
def test_bad_drift_specs_say_what_is_wrong(spec, words):
    with pytest.raises(TrafficError, match=words):
        parse_drift(spec, FEATURES)


def test_data_files_are_checked_when_features_matter(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("1,2,3\n\n4,5,6\n")
    assert load_rows(good, FEATURES) == ["1,2,3", "4,5,6"]
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("0,1,2,3\n")
    with pytest.raises(TrafficError, match="label column"):
        load_rows(labelled, FEATURES)
    header = tmp_path / "header.csv"
    header.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(TrafficError, match="header row"):
        load_rows(header, FEATURES)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    with pytest.raises(TrafficError, match="no rows"):
        load_rows(empty)
    with pytest.raises(TrafficError, match="does not exist"):
        load_rows(tmp_path / "missing.csv")


def test_replay_sends_every_row_and_summarises(host, host_home, requests_csv, rows):
    summary = replay(ENDPOINT, requests_csv, home=host_home, inference_id="replay-test")
    assert summary["requests"] == summary["ok"] == len(rows) == 114
    assert summary["errors"] == 0 and summary["url"] == host.url
    predictions = summary["predictions"]
    assert predictions["total"] == 114
    assert predictions["above_upper"] + predictions["below_lower"] + predictions["needs_review"] == 114
    assert (predictions["lower"], predictions["upper"]) == (0.1, 0.9)
    latency = summary["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    # Every request carried InferenceId replay-test-<row>, and data capture recorded it.
    root = capture_root(host_home)
    found = wait_for(
        lambda: (r := records_by_inference_id(root)) and all(f"replay-test-{i:06d}" in r for i in (1, 114)) and r,
        what="replayed records",
    )
    scores = [
        float(found[f"replay-test-{i:06d}"]["captureData"]["endpointOutput"]["data"].split(",")[0])
        for i in range(1, 115)
    ]
    assert sum(s >= 0.9 for s in scores) == predictions["above_upper"]
    first = found["replay-test-000001"]["captureData"]["endpointInput"]["data"]
    assert first == rows[0]


def test_drift_moves_the_features_sent(host, host_home, requests_csv, rows):
    summary = replay(ENDPOINT, requests_csv, home=host_home, drift="mean radius:*2", limit=3, inference_id="drift-t")
    assert summary["requests"] == 3 and summary["drift"] == "mean radius:*2"
    record = wait_for(lambda: records_by_inference_id(capture_root(host_home)).get("drift-t-000002"), what="record")
    sent = record["captureData"]["endpointInput"]["data"].split(",")
    original = rows[1].split(",")
    assert float(sent[0]) == pytest.approx(2 * float(original[0]))
    assert sent[1:] == original[1:]


def test_rate_limits_the_pace(host, host_home, requests_csv):
    started = time.perf_counter()
    summary = replay(ENDPOINT, requests_csv, home=host_home, rate=40, limit=10)
    assert time.perf_counter() - started >= 9 / 40
    assert summary["requests"] == 10 and summary["rate_rps"] <= 45


def test_failed_requests_are_counted_by_code(host, host_home, tmp_path):
    data = tmp_path / "short.csv"
    data.write_text("1,2,3\n")  # three features: the handler answers 400, AWS reports ModelError
    summary = replay(ENDPOINT, data, home=host_home)
    assert summary["errors"] == 1 and summary["ok"] == 0
    assert summary["error_codes"] == {"ModelError (400)": 1}
    assert summary["predictions"]["total"] == 0


def test_no_endpoint_no_replay(tmp_path, requests_csv, host):
    with pytest.raises(TrafficError, match="no local endpoint named ghost"):
        replay("ghost", requests_csv, home=tmp_path)
    with pytest.raises(TrafficError, match="refused the first request: Endpoint ghost"):
        replay("ghost", requests_csv, url=host.url)
    with pytest.raises(TrafficError, match="cannot reach"):
        replay("ghost", requests_csv, url="http://127.0.0.1:9")


def test_endpoint_names_are_checked_before_they_become_paths(tmp_path, requests_csv):
    from offline.endpoint.host import read_state
    from offline.endpoint.settings import SettingsError

    with pytest.raises(TrafficError, match="endpoint name '../../x' is not a valid SageMaker name"):
        replay("../../x", requests_csv, home=tmp_path)
    with pytest.raises(TrafficError, match="is not a valid SageMaker name"):
        replay("a/b", requests_csv, url="http://127.0.0.1:9")  # the name goes into the URL path too
    with pytest.raises(SettingsError, match="is not a valid SageMaker name"):
        read_state("../x", tmp_path)
