"""The whole loop offline, as `make demo` runs it, ending in `$MLOPS_HOME/demo-summary.json`.

Stages, each adding to the summary (docs/demo.md tells the story with a real run's figures):
1. build     the build pipeline's definition, executed locally (train, evaluate, baselines, register v1)
2. deploy    the group set up for deployment (as `mlops deploy --local` does); approving v1 starts the deploy
             state machine; the demo answers its production gate; the endpoint is InService with capture
3. window 1  the 114 held-out rows, no drift, ids `w1-…`, its explicit start and end; the data-quality check
             of exactly that window against v1's baselines
4. review    one human loop per uncertain prediction plus the audit sample (TaskCount 2); three simulated
             reviewers answer, ties escalated to the third; collection; model-quality check on their labels
5. window 2  the same rows with a documented shift of a few features, ids `w2-…`; its own check flags them
6. retrain   the build with the reviewers' labels, both checks against v1's baselines (recorded, not fatal)
7. shadow    v1 and v2 scored on the reviewed rows with their own handlers
8. deploy v2 approving v2 starts its deploy; gate answered by the demo; the endpoint serves v2
9. stop      everything the demo started (endpoint hosts, deploy runners); then the report page, rendered
             from the summary by `offline.demo_report.write_demo_report`
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from offline.demo.common import (
    ENDPOINT_NAME,
    REPORT_FILE,
    SUMMARY_FILE,
    DemoError,
    Say,
    package_summary,
    sagemaker,
    write_summary,
)
from offline.demo.home import HOME_MARKERS, prepare_home, stop_everything
from offline.demo.stopwatch import STOPWATCH

__all__ = ["HOME_MARKERS", "SUMMARY_FILE", "DemoError", "prepare_home", "run_demo"]


def run_demo(home: Path, say: Say = print) -> dict:
    STOPWATCH.reset()
    started = time.perf_counter()
    summary: dict = {"mlops_home": str(home)}
    try:
        _run(home, summary, say)
    finally:
        with STOPWATCH.part("stop"):
            summary["stopped"] = stop_everything(home, "the demo ended; `mlops deploy --local` serves it again")
    _count_capture(home, summary)
    for key in [k for k in summary if k.startswith("_")]:
        del summary[key]
    summary["report"] = str(home / REPORT_FILE)
    _timings(summary, started)
    with STOPWATCH.part("report"):  # the page renders the summary (its times up to here), so it comes last
        from offline.demo_report import write_demo_report

        write_demo_report(home, summary)
    say(f"9. report: {summary['report']} (stopped {summary['stopped']['hosts']} endpoint host(s) first)")
    _timings(summary, started)
    write_summary(home, summary)
    return summary


def _timings(summary: dict, started: float) -> None:
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    summary["cpu_seconds"] = round(time.process_time(), 2)
    children = os.times()  # subprocesses waited for: the build's jobs, the deploy runners (not endpoint hosts)
    summary["cpu_seconds_children"] = round(children.children_user + children.children_system, 2)
    summary["stages"] = STOPWATCH.as_json()


def _run(home: Path, summary: dict, say: Say) -> None:
    from offline.demo import build, deploy, review, shadow, windows
    from offline.store import ObjectStore

    # the group is set up for deployment while the build's jobs run
    settings, action = build.build(home, summary, say, alongside=lambda group: deploy.set_up(home, group))
    client = sagemaker(home)
    group = client.describe_model_package(ModelPackageName=summary["_package"])["ModelPackageGroupName"]
    if group != settings.group:
        raise DemoError(f"the build registered into {group}, not the group it declares ({settings.group})")
    say(f"2. deploy v1: approving {summary['_package']} starts the deploy state machine")
    say(f"   approvals of {group} start {settings.machine_name} (state machine {action})")
    first = deploy.approve_and_deploy(home, settings, summary["_package"], say)
    summary["model_packages"] = [package_summary(home, client, summary["_package"])]
    summary["deploy"] = {k: first[k] for k in ("execution_arn", "status", "states", "endpoint")}
    summary["deploys"] = [first]
    capture_uri = first["capture_uri"]
    if not capture_uri:
        raise DemoError(f"deploy execution {first['execution_arn']} ended without naming its capture location")

    requests_file = home / "tmp" / "requests.csv"
    requests_file.parent.mkdir(parents=True, exist_ok=True)
    ObjectStore.for_home(home).download(f"{summary['_traffic']}/requests.csv", requests_file)
    say("3. window 1: the held-out rows, no drift")
    one = windows.send(home, "window 1", "w1", requests_file, None, None, say)
    windows.wait_for_capture(home, capture_uri, one)
    checks = [windows.check(home, one, "data-quality", say)]
    summary["predictions"], summary["latency_ms"] = one.replayed["predictions"], one.replayed["latency_ms"]

    say("4. review: human loops for window 1's uncertain predictions and the audit sample")
    summary["human_review"] = review.review_window(home, one, summary["_traffic"], say)
    checks.append(windows.check(home, one, "model-quality", say))

    say(f"5. window 2: the same rows with a documented shift: {windows.DRIFT}")
    two = windows.send(home, "window 2", "w2", requests_file, windows.DRIFT, one.end, say)
    windows.wait_for_capture(home, capture_uri, two)
    checks.append(windows.check(home, two, "data-quality", say))
    summary["monitoring"] = checks
    summary["windows"] = [
        windows.window_summary(one, None, checks[0]),
        windows.window_summary(two, windows.DRIFT, checks[2]),
    ]

    say("6. retrain")
    result = build.retrain(home, summary, say)
    summary["retrain"] = result.summary()
    summary["model_packages"].append(package_summary(home, client, result.new.model_package_arn))

    say("7. shadow: v1 and v2 on the reviewed rows (the reviewers' labels)")
    flow_name = summary["human_review"]["flow_definition_arn"].rsplit("/", 1)[-1]
    summary["shadow"] = shadow.compare(
        home,
        summary["human_review"]["labels_uri"],
        flow_name,
        {"v1": summary["model_packages"][0]["model_data_uri"], "v2": summary["model_packages"][1]["model_data_uri"]},
    )
    v1, v2 = summary["shadow"]["v1"], summary["shadow"]["v2"]
    say(
        f"   {summary['shadow']['rows']} rows: accuracy v1 {v1['accuracy']:.3f} / v2 {v2['accuracy']:.3f}, "
        f"AUC v1 {v1['auc']:.3f} / v2 {v2['auc']:.3f}"
    )

    say(f"8. deploy v2: approving {result.new.model_package_arn}")
    second = deploy.approve_and_deploy(home, settings, result.new.model_package_arn, say)
    summary["deploys"].append(second)
    summary["model_packages"][1] = package_summary(home, client, result.new.model_package_arn)
    summary["endpoint"] = {
        "name": ENDPOINT_NAME,
        "capture_uri": capture_uri,
        "serving_model_package_arn": deploy.serving_package(home, ENDPOINT_NAME),
    }


def _count_capture(home: Path, summary: dict) -> None:
    """Requests sent to the production endpoint and records captured there, every window counted (after the
    hosts stopped, so every record is flushed)."""
    from offline.demo.windows import captured

    if "endpoint" not in summary:
        return
    summary["endpoint"]["requests"] = sum(w["requests"] for w in summary["windows"])
    summary["endpoint"]["captured_records"] = captured(home, summary["endpoint"]["capture_uri"])
