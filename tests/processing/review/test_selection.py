"""Which captured predictions go to review: the handler's marks, an audit sample chosen by hash, one per row."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone

import pytest

from processing.monitoring.readers.capture import CaptureStats, read_records
from processing.review.selection import AUDIT, REVIEW, Tally, audited, check_audit_rate, choose, predictions
from tests.monitoring.conftest import capture_line
from tests.processing.review.captures import csv_record, json_record, row_features, window, write_window

pytestmark = pytest.mark.image
START, END = datetime(2024, 5, 1, 10, tzinfo=timezone.utc), datetime(2024, 5, 1, 11, tzinfo=timezone.utc)


def _predictions(root, contract):
    tally = Tally()
    return list(predictions(read_records(root, START, END, CaptureStats()), contract, tally)), tally


def test_marked_predictions_and_an_audit_sample(tmp_path, contract):
    root = write_window(tmp_path, window(contract, 200, inference_ids=True))
    found, tally = _predictions(root, contract)
    assert tally.rows == 200 and not tally.skipped
    chosen = list(choose(found, 0.05))
    review = [c for c in chosen if c.reason == REVIEW]
    audit = [c for c in chosen if c.reason == AUDIT]
    assert len(review) == 50 and all(c.prediction.marked for c in review)
    assert all(not c.prediction.marked for c in audit)
    assert [c.prediction for c in audit] == [p for p in found if not p.marked and audited(p.merge_key, 0, 0.05)]
    assert 1 <= len(audit) <= 20  # about 5 % of 150
    assert [c.prediction.event_id for c in chosen] == [c.prediction.event_id for c in choose(found, 0.05)]  # again


def test_the_audit_hash_reads_the_inference_id_when_the_capture_has_one(tmp_path, contract):
    features = row_features(contract, 1)
    # a caller id and a rate at which the caller id is audited and the event id would not be
    caller, rate = next(
        (f"caller-{n}", r / 1000)
        for n in range(100)
        for r in range(1, 1000)
        if audited(f"caller-{n}", 0, r / 1000) and not audited("event-a", 0, r / 1000)
    )
    line = csv_record("event-a", 1, [(features, 0.99, 0)], inference_id=caller)
    [p], _ = _predictions(write_window(tmp_path, [line]), contract)
    assert p.merge_key == caller
    assert [c.reason for c in choose([p], rate)] == [AUDIT]
    no_id = csv_record("event-a", 1, [(features, 0.99, 0)])
    [q], _ = _predictions(write_window(tmp_path / "other", [no_id]), contract)
    assert q.merge_key == "event-a" and list(choose([q], rate)) == []


def test_the_audit_share_follows_the_rate_and_its_bounds():
    keys = [f"key-{n}" for n in range(20_000)]
    for rate in (0.01, 0.05, 0.3):
        share = sum(audited(k, 0, rate) for k in keys) / len(keys)
        assert abs(share - rate) < 4 * (rate * (1 - rate) / len(keys)) ** 0.5 + 1e-9
    assert not any(audited(k, 0, 0.0) for k in keys[:100]) and all(audited(k, 0, 1.0) for k in keys[:100])
    # the row index takes part: a multi-row request is not all-or-nothing
    assert len({audited("one-request", row, 0.5) for row in range(64)}) == 2


@pytest.mark.parametrize("rate", [-0.01, 1.01, float("nan"), float("inf"), "0.05", True, None])
def test_an_audit_rate_outside_0_to_1_is_refused(rate):
    with pytest.raises(ValueError, match="audit rate must be a number from 0 to 1"):
        check_audit_rate(rate)


@pytest.mark.parametrize("encoding", ["CSV", "JSON"])
def test_a_multi_row_request_gives_one_prediction_per_row(tmp_path, contract, encoding):
    rows = [(row_features(contract, r), p, flag) for r, (p, flag) in enumerate([(0.5, 1), (0.99, 0), (0.3, 1)])]
    make = csv_record if encoding == "CSV" else json_record
    found, _ = _predictions(write_window(tmp_path, [make("multi", 5, rows)]), contract)
    assert [(p.row_index, p.row_count, p.marked, p.probability) for p in found] == [
        (0, 3, True, 0.5),
        (1, 3, False, 0.99),
        (2, 3, True, 0.3),
    ]
    assert found[2].features == tuple(row_features(contract, 2)) and found[1].predicted_label == 1
    assert [c.prediction.loop_name for c in choose(found, 0.0)] == ["multi-0", "multi-2"]


def test_a_response_without_the_flag_falls_back_on_the_contracts_thresholds(tmp_path, contract):
    features = ",".join(repr(v) for v in row_features(contract, 1))
    lines = [
        capture_line("2024-05-01T10:00:00Z", features, f"{p}\n", f"plain-{i}")
        for i, p in enumerate([0.05, 0.1, 0.5, 0.9, 0.95])
    ]
    found, _ = _predictions(write_window(tmp_path, lines), contract)
    assert [(p.marked, p.predicted_label) for p in found] == [
        (False, 0),
        (False, 0),
        (True, 1),
        (False, 1),
        (False, 1),
    ]


def test_rows_that_cannot_be_reviewed_are_counted_by_why(tmp_path, contract):
    good = row_features(contract, 1)
    lines = [
        csv_record("ok", 1, [(good, 0.5, 1)]),
        csv_record("short", 1, [(good[:-1], 0.5, 1)]),
        csv_record("text", 1, [([*good[:-1], "abc"], 0.5, 1)]),
        capture_line("2024-05-01T10:00:00Z", ",".join(map(str, good)), "not-a-number,1,1\n", "no-p"),
        capture_line("2024-05-01T10:00:00Z", ",".join(map(str, good)), "1.7,1,1\n", "p-above-1"),
        json.dumps({"captureData": {}, "eventMetadata": {}}),
    ]
    found, tally = _predictions(write_window(tmp_path, lines), contract)
    assert [p.event_id for p in found] == ["ok"]
    assert tally.rows == 5
    assert tally.skipped == Counter(
        {
            f"a request row without the data contract's {len(contract.features)} features": 1,
            "a request row with a feature that is not a number": 1,
            "a response row without a probability from 0 to 1": 2,
        }
    )


def test_a_missing_feature_value_is_kept_as_missing(tmp_path, contract):
    values = [repr(v) for v in row_features(contract, 1)]
    values[3] = ""
    line = capture_line("2024-05-01T10:00:00Z", ",".join(values), "0.5,1,1\n", "gap")
    [p], _ = _predictions(write_window(tmp_path, [line]), contract)
    assert p.features[3] is None and p.features[4] == row_features(contract, 1)[4]
