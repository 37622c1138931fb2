"""Traffic windows: the held-out rows sent to the deployed endpoint, each window with its own explicit start and
end (whole seconds, as captured `inferenceTime` is), its own inference-id prefix and its own report location,
and the data-quality check of exactly that window against the deployed version's baselines.

Window 2 sends the same rows with a documented shift of a few features (docs/demo.md, "the shift"): a
measurement drift a data-quality monitor should catch. The check flags the shifted features and, as expected,
the output columns they move (the probability and the review flag).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from offline.demo.common import ENDPOINT_NAME, DemoError, Say, iso
from offline.demo.stopwatch import STOPWATCH

# The documented shift of window 2 (docs/demo.md, "the shift"): texture, area and concavity read larger, as
# after a change of imaging settings; enough to move the model's answers too. `mlops traffic replay --drift`
# takes the same spec.
DRIFT = "mean texture:+40%,worst area:+80%,worst concave points:+60%"
CAPTURE_WAIT = 15.0  # seconds for a window's records to reach the store (the hosts flush every second)


@dataclass(frozen=True)
class Window:
    name: str
    prefix: str
    start: datetime
    end: datetime
    replayed: dict  # offline.traffic.replay's summary


def send(home: Path, name: str, prefix: str, requests_file: Path, drift: str | None, after: datetime | None, say: Say):
    """Replay the rows one request each to the endpoint, from a start at least one second after `after`."""
    from offline.deploy.local import serving_url
    from offline.traffic import replay

    url = serving_url(ENDPOINT_NAME, home)
    if url is None:
        raise DemoError(f"nothing serves {ENDPOINT_NAME}: the deploy left no host running")
    if after is not None:  # inferenceTime has one-second resolution: windows must not share a second
        time.sleep(max(0.0, (after - datetime.now(timezone.utc)).total_seconds()))
    start = datetime.now(timezone.utc).replace(microsecond=0)
    if after is not None and start < after:
        start = after
    with STOPWATCH.part(f"{name}: replay"):
        replayed = replay(ENDPOINT_NAME, requests_file, url=url, inference_id=prefix, drift=drift, home=home)
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
    if replayed["errors"]:
        raise DemoError(
            f"{name}: {replayed['errors']} of {replayed['requests']} requests failed: {replayed['error_codes']}"
        )
    p = replayed["predictions"]
    say(
        f"   {name}: {replayed['requests']} requests in [{iso(start)}, {iso(end)}), inference ids {prefix}-NNNNNN"
        f"{f', drift {drift}' if drift else ', no drift'}; {p['needs_review']} predictions need review"
    )
    return Window(name, prefix, start, end, replayed)


def wait_for_capture(home: Path, capture_uri: str, window: Window) -> int:
    """Poll until every request of the window is in the capture (the hosts publish every second)."""
    deadline = time.monotonic() + CAPTURE_WAIT
    while (found := captured(home, capture_uri, window.prefix)) < window.replayed["requests"]:
        if time.monotonic() > deadline:
            raise DemoError(
                f"{window.name}: {found} of {window.replayed['requests']} requests reached the capture in "
                f"{CAPTURE_WAIT:.0f} s"
            )
        time.sleep(0.1)
    return found


def captured(home: Path, capture_uri: str, prefix: str | None = None) -> int:
    """Captured records under the endpoint's capture location (with an inference-id prefix: that window's)."""
    from offline.store import ObjectStore

    root = ObjectStore.for_home(home).path(capture_uri)
    count = 0
    for path in root.rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            if prefix is None or json.loads(line)["eventMetadata"].get("inferenceId", "").startswith(f"{prefix}-"):
                count += 1
    return count


def check(home: Path, window: Window, kind: str, say: Say) -> dict:
    """Run the endpoint's `kind` schedule (made by the deploy) over exactly this window."""
    from offline.monitoring.catchup import run_explicit
    from offline.monitoring.schedules import ScheduleStore
    from offline.monitoring.setup import schedule_name
    from offline.state import StateDB

    try:
        schedule = ScheduleStore(StateDB.for_home(home)).get(schedule_name(ENDPOINT_NAME, kind))
    except LookupError as e:
        raise DemoError(f"the deploy made no {kind} schedule for {ENDPOINT_NAME}: {e}") from e
    with STOPWATCH.part(f"{window.name}: {kind} check"):
        execution = run_explicit(schedule, window.start, window.end, home=home)
    if execution.status == "Failed":
        raise DemoError(f"{schedule.name} over {window.name}: {execution.message}")
    names = column_names(schedule.baseline_constraints, home) if kind == "data-quality" else {}
    violations = [
        {
            "feature_name": names.get(v.get("feature_name"), v.get("feature_name")) or v.get("metric_name"),
            "constraint_check_type": v["constraint_check_type"],
            "description": v.get("description", ""),
        }
        for v in execution.violations
    ]
    found = ", ".join(f"{v['feature_name']} {v['constraint_check_type']}" for v in violations) or "no violation"
    say(f"   {kind} check of {window.name} ({execution.item_count} rows): {found}")
    return {
        "window": window.name,
        "kind": kind,
        "start": execution.window_start,
        "end": execution.window_end,
        "status": execution.status,
        "items": execution.item_count,
        "violations": violations,
        "report_uri": execution.report_uri,
        "baseline_statistics_uri": schedule.baseline_statistics,
        "baseline_constraints_uri": schedule.baseline_constraints,
        "model_package_arn": schedule.model_package_arn,
    }


def column_names(constraints_uri: str, home: Path) -> dict[str, str]:
    """The analyzer's names of the baseline's columns (`_cN`) → the data contract's names, by the report's rule
    (`offline.monitoring.report_data.column_labels`: the answer's columns first, then the features)."""
    from offline.monitoring.report_data import column_labels
    from offline.store import ObjectStore
    from processing.contract import load_contract

    constraints = json.loads(ObjectStore.for_home(home).get_bytes(constraints_uri))
    columns = [feature["name"] for feature in constraints.get("features", [])]
    labels = column_labels(columns, load_contract().features)
    return {column: label for column, label in zip(columns, labels, strict=True) if label}


def shifted_features(drift: str | None) -> list[str]:
    """The contract's names of the features a drift spec changes."""
    from offline.traffic import parse_drift
    from processing.contract import load_contract

    if not drift:
        return []
    features = load_contract().features
    changes = parse_drift(drift, features)
    return list(dict.fromkeys(name for c in changes for name in (features if c.index is None else [c.feature])))


def window_summary(window: Window, drift: str | None, checked: dict) -> dict:
    drift_features = sorted(
        {v["feature_name"] for v in checked["violations"] if v["constraint_check_type"] == "baseline_drift_check"}
    )
    return {
        "name": window.name,
        "start": iso(window.start),
        "end": iso(window.end),
        "inference_id_prefix": window.prefix,
        "requests": window.replayed["requests"],
        "drift_spec": drift,
        "shifted_features": shifted_features(drift),
        "drift_features": drift_features,
        "violations": checked["violations"],
        "status": checked["status"],
        "items": checked["items"],
        "predictions": window.replayed["predictions"],
        "latency_ms": window.replayed["latency_ms"],
        "report_uri": checked["report_uri"],
        "baseline_statistics_uri": checked["baseline_statistics_uri"],
        "baseline_constraints_uri": checked["baseline_constraints_uri"],
    }
