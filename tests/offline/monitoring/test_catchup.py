from datetime import datetime

from offline.monitoring.catchup import captured_hours, run_due
from offline.monitoring.schedules import ScheduleStore
from offline.state import StateDB
from tests.offline.monitoring.conftest import CAPTURE, ENDPOINT, capture_line, rows, write_capture


def _fill(world, hours_ago: int, shift: float = 0.0, extra: list[str] | None = None) -> datetime:
    hour = world["now"].replace(minute=0) - hours_ago * world["hour"]
    when = hour.replace(minute=10)
    lines = [capture_line(f, p, when) for f, p in rows(150, shift=shift, seed=hours_ago + 10)] + (extra or [])
    write_capture(world["store"], hour, lines)
    return hour


def test_runs_each_completed_hour_with_data_once(world):
    home, schedule = world["home"], world["schedule"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    older, old = _fill(world, 3), _fill(world, 1)
    current = _fill(world, 0)
    assert captured_hours(world["store"], CAPTURE, ENDPOINT) == [older, old, current]

    ran = run_due(schedule, home=home, now=world["now"])
    assert [e.window_start for e in ran] == [f"{h:%Y-%m-%dT%H}:00:00Z" for h in (older, old)]
    assert [(e.status, e.item_count, e.violations) for e in ran] == [("Completed", 150, [])] * 2
    assert run_due(schedule, home=home, now=world["now"]) == []  # idempotent
    [now_run] = run_due(schedule, home=home, now=world["now"], include_current_hour=True)
    assert now_run.window_start == f"{current:%Y-%m-%dT%H}:00:00Z"


def test_outputs_follow_model_monitors_layout_and_metrics_are_stored(world):
    home, schedule, store = world["home"], world["schedule"], world["store"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    hour = _fill(world, 2)
    [execution] = run_due(schedule, home=home, now=world["now"])
    expected = f"{schedule.output_uri}/{ENDPOINT}/{schedule.name}/{hour:%Y/%m/%d/%H}"
    assert execution.report_uri == expected
    assert [u.rsplit("/", 1)[1] for u in store.list(expected + "/")] == [
        "constraint_violations.json",
        "constraints.json",
        "statistics.json",
    ]
    metrics = ScheduleStore(StateDB.for_home(home)).metrics(schedule.name, execution.window_start)
    assert {"feature_baseline_drift__c2", "feature_non_null__c2", "feature_data__c2"} <= set(metrics)
    assert metrics["feature_non_null__c2"] == 1.0


def test_a_shifted_hour_raises_drift_and_malformed_lines_are_counted_not_fatal(world):
    home, schedule = world["home"], world["schedule"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    _fill(world, 2, shift=4.0, extra=["{not json", '{"captureData": {}}'])
    [execution] = run_due(schedule, home=home, now=world["now"])
    assert execution.status == "CompletedWithViolations"
    drifted = {v["feature_name"] for v in execution.violations if v["constraint_check_type"] == "baseline_drift_check"}
    assert "_c2" in drifted and "_c3" not in drifted
    assert any("skipped 2 capture line" in note for note in execution.notes)


def test_a_failed_hour_runs_again_once_the_problem_is_fixed(world):
    home, schedule, store = world["home"], world["schedule"], world["store"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    _fill(world, 2)
    saved = store.get_bytes(schedule.baseline_constraints)
    store.delete(schedule.baseline_constraints)
    [failed] = run_due(schedule, home=home, now=world["now"])
    assert failed.status == "Failed" and "baseline constraints not found" in failed.message
    store.put_bytes(schedule.baseline_constraints, saved)
    [retried] = run_due(schedule, home=home, now=world["now"])
    assert retried.status == "Completed"
    assert [e.status for e in ScheduleStore(StateDB.for_home(home)).executions(schedule.name)] == ["Completed"]


def test_model_quality_schedule_merges_ground_truth_by_inference_id(world):
    import json

    from offline.monitoring.schedules import Schedule
    from processing.monitoring.model_quality import constraints_document, statistics_document

    home, store = world["home"], world["store"]
    hour = world["now"].replace(minute=0) - 2 * world["hour"]
    data = rows(120, seed=5)
    write_capture(store, hour, [capture_line(f, p, hour.replace(minute=5), f"id-{i}") for i, (f, p) in enumerate(data)])
    truth = [
        {
            "groundTruthData": {"data": str(int(f[0] > 10)), "encoding": "CSV"},
            "eventMetadata": {"eventId": f"id-{i}"},
            "eventVersion": "0",
        }
        for i, (f, _) in enumerate(data)
    ]
    store.put_bytes(
        f"s3://sagemaker-us-east-1-123456789012/gt/{hour:%Y/%m/%d/%H}/0000.jsonl",
        ("\n".join(json.dumps(t) for t in truth) + "\n").encode(),
    )
    baseline = statistics_document([0, 1, 1, 0] * 10, [0.1, 0.9, 0.8, 0.2] * 10, 0.5)
    store.put_bytes(
        "s3://sagemaker-us-east-1-123456789012/mq/constraints.json", json.dumps(constraints_document(baseline)).encode()
    )
    schedule = Schedule(
        name="ep-model-quality",
        endpoint="ep",
        kind="model-quality",
        baseline_constraints="s3://sagemaker-us-east-1-123456789012/mq/constraints.json",
        capture_uri=CAPTURE,
        output_uri=world["schedule"].output_uri,
        ground_truth_uri="s3://sagemaker-us-east-1-123456789012/gt",
    )
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    [execution] = run_due(schedule, home=home, now=world["now"])
    assert execution.item_count == 120 and execution.status in ("Completed", "CompletedWithViolations")
    statistics = json.loads(store.get_bytes(f"{execution.report_uri}/statistics.json"))
    assert statistics["dataset"]["item_count"] == 120
    assert "auc" in statistics["binary_classification_metrics"]


def test_explicit_windows_in_one_hour_keep_their_own_reports_and_read_across_hours(world):
    """Two windows of one clock hour never overwrite each other; a window spanning an hour boundary reads
    both hours whole; explicit windows never count as the hour's catch-up result."""
    from datetime import timedelta

    from offline.monitoring.catchup import run_explicit

    home, schedule, store = world["home"], world["schedule"], world["store"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    hour = world["now"].replace(minute=0) - 2 * world["hour"]
    first = [capture_line(f, p, hour.replace(minute=10)) for f, p in rows(60, seed=3)]
    second = [capture_line(f, p, hour.replace(minute=20)) for f, p in rows(90, shift=4.0, seed=4)]
    write_capture(world["store"], hour, first + second)
    late = hour + world["hour"]
    write_capture(world["store"], late, [capture_line(f, p, late.replace(minute=5)) for f, p in rows(40, seed=5)])

    one = run_explicit(schedule, hour.replace(minute=10), hour.replace(minute=10, second=1), home=home)
    two = run_explicit(schedule, hour.replace(minute=20), hour.replace(minute=20, second=1), home=home)
    across = run_explicit(schedule, hour.replace(minute=20), late.replace(minute=6), home=home)
    assert (one.item_count, two.item_count, across.item_count) == (60, 90, 130)
    assert one.status == "Completed" and two.status == "CompletedWithViolations"
    assert len({one.report_uri, two.report_uri, across.report_uri}) == 3
    for execution in (one, two):
        assert store.list(execution.report_uri + "/"), execution.report_uri
        assert f"{hour:%Y/%m/%d/%H}" not in execution.report_uri
    recorded = {e.window_start for e in ScheduleStore(StateDB.for_home(home)).executions(schedule.name)}
    assert {one.window_start, two.window_start} <= recorded
    # the hours themselves are still due for the hourly schedule
    assert [e.window_start for e in run_due(schedule, home=home, now=world["now"])] == [
        f"{h:%Y-%m-%dT%H}:00:00Z" for h in (hour, late)
    ]
    assert run_explicit(schedule, hour, hour + timedelta(hours=1), home=home).item_count == 150


def test_an_explicit_window_must_be_whole_seconds_and_not_empty(world):
    import pytest

    from offline.monitoring.catchup import run_explicit

    start = world["now"]
    with pytest.raises(ValueError, match="before it starts"):
        run_explicit(world["schedule"], start, start, home=world["home"])
    with pytest.raises(ValueError, match="whole seconds"):
        run_explicit(world["schedule"], start.replace(microsecond=5), start.replace(second=1), home=world["home"])


def test_mlops_monitor_schedule_checks_an_explicit_window_and_refuses_a_bad_one(world, monkeypatch):
    from click.testing import CliRunner

    from pipelines.cli import main

    home, schedule = world["home"], world["schedule"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    hour = _fill(world, 2)
    monkeypatch.setenv("MLOPS_HOME", str(home))
    start, end = f"{hour:%Y-%m-%dT%H}:10:00Z", f"{hour:%Y-%m-%dT%H}:10:01Z"
    ok = CliRunner().invoke(main, ["monitor", "schedule", "--endpoint", ENDPOINT, "--start", start, "--end", end])
    assert ok.exit_code == 0, ok.output
    assert f"{schedule.name} {start}: " in ok.output
    for args, message in (
        (["--start", start], "both --start and --end"),
        (["--start", end, "--end", start], "is not after"),
        (["--start", "yesterday", "--end", end], "not an ISO-8601 time"),
        (["--start", start, "--end", end, "--include-current-hour"], "explicit window says its own end"),
    ):
        bad = CliRunner().invoke(main, ["monitor", "schedule", "--endpoint", ENDPOINT, *args])
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert len(ScheduleStore(StateDB.for_home(home)).executions(schedule.name)) == 1
