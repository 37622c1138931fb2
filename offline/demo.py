"""The whole loop offline, as `make demo` runs it, ending in `$MLOPS_HOME/demo-summary.json`.

Stages, each adding to the summary:
1. build    the build pipeline's definition, executed locally (train, evaluate, baselines, register)
2. approve  the new package, through the registry's boto3 API, as a reviewer would in Studio
3. serve    the approved package on a local endpoint with data capture; the 114 held-out rows
            replayed one request each (with inference ids), then the host stopped
4. review   the post-processing job starts one human loop per prediction the handler marked for
            review plus the audit sample; simulated reviewers answer each with its held-out label
            (their worker name and the answer's reason say so); the collector turns the answers
            into ground truth (only for the reviewed predictions) and labelled training rows
5. monitor  hourly data- and model-quality schedules from the package's drift-check baselines,
            run for every hour with captured traffic (the current one included); model quality
            merges the capture with the reviewers' ground truth
6. retrain  the build again with the labels in its training split and both quality checks
            against v1's baselines, their violations recorded rather than stopping it; v2 is
            registered PendingManualApproval
7. report   the monitoring report, `$MLOPS_HOME/report.html`
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from offline.defaults import LOCAL_REGION
from offline.home import HOME_ENV, mlops_home
from processing.atomic import atomic_write

SUMMARY_FILE = "demo-summary.json"
# Everything local state puts in a home; `--fresh` clears a home holding nothing else. `endpoints` holds the
# endpoint hosts' state files (offline/endpoint/host.py), `human-task-uis` the task UIs' templates
# (offline/aws/sagemaker/human_review.py).
HOME_MARKERS = (
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "s3",
    "jobs",
    "logs",
    "tmp",
    "endpoints",
    "human-task-uis",
    "report.html",
    SUMMARY_FILE,
)
ENDPOINT_NAME = "breast-cancer-demo"
# Simulated reviewers answer the demo's loops with the held-out labels, and say so.
REVIEWER = "simulated-reviewer"
REVIEWER_NOTE = "simulated reviewer: the offline demo answers with the held-out label of this row"

Say = Callable[[str], None]


class DemoError(RuntimeError):
    """A stage of the demo failed; the message says which and why."""


def prepare_home(fresh: bool) -> Path:
    """The demo's home: $MLOPS_HOME or ./.mlops. `fresh` clears it, but only if it holds nothing but
    local state (so a mistyped MLOPS_HOME never deletes someone's files)."""
    home = Path(os.environ.get(HOME_ENV) or ".mlops").expanduser().resolve()
    if home.exists() and any(home.iterdir()):
        foreign = sorted(p.name for p in home.iterdir() if p.name not in HOME_MARKERS and not p.name.startswith("."))
        if not fresh:
            raise DemoError(f"{home} already holds state; use --fresh to start over, or set MLOPS_HOME elsewhere")
        if foreign:
            raise DemoError(f"{home} holds files that are not local state ({', '.join(foreign[:3])}); not clearing it")
        shutil.rmtree(home)
    os.environ[HOME_ENV] = str(home)
    return mlops_home(home)


def run_demo(home: Path, say: Say = print) -> dict:
    started = time.perf_counter()
    summary: dict = {"mlops_home": str(home)}
    for stage in (build_stage, approve_stage, serve_stage, review_stage, monitor_stage, retrain_stage, report_stage):
        stage(home, summary, say)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    write_summary(home, summary)
    return summary


def build_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.executor.definition import load_definition
    from offline.executor.engine import PipelineExecution
    from offline.executor.progress import LiveProgress
    from pipelines.build.pipeline import get_pipeline

    say("1. build: executing the build pipeline's definition locally")
    pipeline = get_pipeline(target="local")
    definition = load_definition(pipeline.definition())
    progress = LiveProgress(f"pipeline {pipeline.name}")
    execution = PipelineExecution(definition, pipeline.name, home=home, listener=progress)
    with progress:
        record = execution.run()
    if record.status != "Succeeded":
        raise DemoError(f"the build pipeline execution {record.execution_id} {record.status}: {record.failure_reason}")
    steps = {s["step_name"]: s for s in execution.executions.steps(record.execution_id)}
    registered = [s["metadata"]["ModelPackageArn"] for s in steps.values() if s["step_type"] == "RegisterModel"]
    if not registered:
        raise DemoError(f"execution {record.execution_id} succeeded but registered no model package")
    outputs = steps["PreprocessData"]["metadata"]["ProcessingOutputConfig"]["Outputs"]
    traffic = next(o["S3Output"]["S3Uri"] for o in outputs if o["OutputName"] == "traffic")
    summary["pipeline_execution"] = {"id": record.execution_id, "arn": record.execution_arn, "status": record.status}
    summary["_package"], summary["_traffic"] = registered[0], traffic.rstrip("/")
    summary["_built"] = (definition, pipeline.name)  # the retrain stage runs the same definition again
    say(f"   execution {record.execution_id} Succeeded; registered {registered[0]}")


def approve_stage(home: Path, summary: dict, say: Say) -> None:
    client = _sagemaker(home)
    arn = summary["_package"]
    say(f"2. approve: {arn}")
    client.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="Approved by the offline demo"
    )
    summary["model_packages"] = [package_summary(home, client, arn)]


def serve_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.endpoint import start_endpoint
    from offline.store import ObjectStore
    from offline.traffic import replay

    requests_file = home / "tmp" / "requests.csv"
    requests_file.parent.mkdir(parents=True, exist_ok=True)
    ObjectStore.for_home(home).download(f"{summary['_traffic']}/requests.csv", requests_file)
    say(f"3. serve: {ENDPOINT_NAME} with data capture; replaying the held-out rows one request each")
    endpoint = start_endpoint(model_package=summary["_package"], endpoint_name=ENDPOINT_NAME, home=home)
    try:
        replayed = replay(endpoint.name, requests_file, url=endpoint.url, inference_id="demo", home=home)
    finally:
        host = endpoint.stop()
    if replayed["errors"]:
        raise DemoError(f"{replayed['errors']} of {replayed['requests']} requests failed: {replayed['error_codes']}")
    summary["endpoint"] = {
        "name": endpoint.name,
        "requests": host["requests"],
        "captured_records": host["captured"],
        "capture_uri": host["capture_uri"],
    }
    summary["predictions"] = replayed["predictions"]
    summary["latency_ms"] = replayed["latency_ms"]
    p = replayed["predictions"]
    say(f"   {host['requests']} requests, {host['captured']} captured; {p['needs_review']} need human review")


def review_stage(home: Path, summary: dict, say: Say) -> None:
    """Human review of the replayed window, as `mlops review start-loops` / `answer` / `collect` do it."""
    from offline import human_review
    from offline.aws.a2i.loops import HumanLoops
    from offline.monitoring.catchup import captured_hours
    from offline.store import ObjectStore
    from processing.review.answers import answer_content
    from processing.start_human_loops import NOT_ATTEMPTED

    store = ObjectStore.for_home(home)
    endpoint = summary["endpoint"]["name"]
    hours = captured_hours(store, summary["endpoint"]["capture_uri"].rsplit("/", 1)[0], endpoint)
    if not hours:
        raise DemoError(f"{endpoint} captured nothing to review")
    start, end = hours[0], hours[-1] + timedelta(hours=1)
    say(f"4. review: human loops for {endpoint}'s predictions in [{_iso(start)}, {_iso(end)})")
    flow_arn, started = human_review.start_loops(endpoint, start, end, home=home)
    loops = [loop for loop in started.loops if loop["outcome"] != NOT_ATTEMPTED]
    say(f"   {started.summary()}")
    held_out = _held_out_labels(store, summary["_traffic"], "demo")
    reviews, outputs = HumanLoops.for_home(home), []
    for loop in loops:
        detail = reviews.detail(LOCAL_REGION, loop["humanLoopName"])
        label = held_out.get(detail.input_content.get("inferenceId"))
        if label is None:
            raise DemoError(f"loop {loop['humanLoopName']} reviews a prediction the demo did not send")
        done = reviews.answer(
            LOCAL_REGION, loop["humanLoopName"], REVIEWER, answer_content(label, detail.input_content, REVIEWER_NOTE)
        )
        outputs.append(done.output_s3_uri)
    completed = [uri for uri in outputs if uri]
    say(f"   {len(completed)} loop(s) answered by {REVIEWER} (the held-out labels stand in for reviewers)")
    where = human_review.locations(endpoint)
    [collected] = human_review.collect(endpoint, [human_review.resolve_flow_definition(flow_arn, home=home)], home=home)
    say(f"   collected: {collected.summary()}")
    summary["human_review"] = {
        "window": {"start": _iso(start), "end": _iso(end)},
        "flow_definition_arn": flow_arn,
        "manifest_uri": human_review.store_uri(started.manifest_uri, home),
        "loops_started": len(loops),
        "review_loops": started.count("reason", "review"),
        "audit_loops": started.count("reason", "audit"),
        "completed": len(completed),
        "output_uris": completed,
        "reviewer": REVIEWER,
        "ground_truth_records": collected.ground_truth_records,
        "labelled_rows": collected.labelled_rows,
        "without_consensus": len(collected.without_consensus),
        "ground_truth_uri": where.ground_truth_uri,
        "labels_uri": where.labels_uri,
    }


def _held_out_labels(store, traffic_uri: str, prefix: str) -> dict[str, int]:
    """inference id -> the held-out label of the replayed row (traffic.csv: label first, row n is `<prefix>-n`)."""
    lines = store.get_bytes(f"{traffic_uri}/traffic.csv").decode().splitlines()
    return {f"{prefix}-{number:06d}": int(float(line.split(",", 1)[0])) for number, line in enumerate(lines, start=1)}


def monitor_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.monitoring.catchup import run_due
    from offline.monitoring.schedules import DATA_QUALITY, MODEL_QUALITY
    from offline.monitoring.setup import create_schedules

    say("5. monitor: hourly data- and model-quality checks of the captured traffic")
    capture_root = summary["endpoint"]["capture_uri"].rsplit("/", 1)[0]
    schedules = create_schedules(
        summary["endpoint"]["name"],
        summary["_package"],
        (DATA_QUALITY, MODEL_QUALITY),
        capture_uri=capture_root,
        ground_truth_uri=summary["human_review"]["ground_truth_uri"],
        home=home,
    )
    summary["monitoring"] = []
    for schedule in schedules:
        for execution in run_due(schedule, home=home, include_current_hour=True):
            if execution.status == "Failed":
                raise DemoError(f"{schedule.name} {execution.window_start}: {execution.message}")
            summary["monitoring"].append(
                {
                    "window": execution.window_start,
                    "kind": schedule.kind,
                    "status": execution.status,
                    "items": execution.item_count,
                    "violations": [
                        {
                            "feature_name": v.get("feature_name") or v.get("metric_name"),
                            "constraint_check_type": v["constraint_check_type"],
                        }
                        for v in execution.violations
                    ],
                    "report_uri": execution.report_uri,
                }
            )
            say(f"   {schedule.kind} {execution.window_start}: {execution.message}")


def retrain_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.executor.progress import LiveProgress
    from offline.retrain import FAIL_ON_VIOLATION, retrain

    say(
        "6. retrain: the build with the reviewed rows in its training split and both quality checks against "
        f"v1's baselines; the demo sets {' and '.join(FAIL_ON_VIOLATION.values())} to false, so violations are "
        "recorded, not stopping it"
    )
    progress = LiveProgress("retraining build")
    with progress:
        result = retrain(
            fail_on_violation={kind: False for kind in FAIL_ON_VIOLATION},
            built=summary["_built"],
            listener=progress,
            home=home,
        )
    if result.status != "Succeeded" or result.new is None:
        raise DemoError(f"the retraining build {result.execution_id} {result.status}: {result.failure_reason}")
    summary["retrain"] = result.summary()
    summary["model_packages"].append(package_summary(home, _sagemaker(home), result.new.model_package_arn))
    for check in result.checks:
        found = ", ".join(
            f"{v.get('feature_name') or v.get('metric_name')} {v.get('constraint_check_type')}"
            for v in check.violations
        )
        say(f"   {check.kind} check: {len(check.violations)} violation(s) recorded{': ' + found if found else ''}")
    say(
        f"   registered {result.new.model_package_arn} (PendingManualApproval): {result.new.train_rows} training rows "
        f"(v1 {result.previous.train_rows}), test AUC {result.new.metrics['auc']['value']:.4f} "
        f"(v1 {result.previous.metrics['auc']['value']:.4f})"
    )


def report_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.monitoring.report import write_report

    path = write_report(summary["endpoint"]["name"], home=home)
    summary["report"] = str(path)
    for key in [k for k in summary if k.startswith("_")]:
        del summary[key]
    say(f"7. report: {path}")


def package_summary(home: Path, client, arn: str) -> dict:
    from offline.store import ObjectStore

    package = client.describe_model_package(ModelPackageName=arn)
    evaluation_uri = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    metrics = json.loads(ObjectStore.for_home(home).get_bytes(evaluation_uri))["binary_classification_metrics"]
    return {
        "arn": arn,
        "version": package["ModelPackageVersion"],
        "approval_status": package["ModelApprovalStatus"],
        "model_data_uri": package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"],
        "evaluation_uri": evaluation_uri,
        "test_auc": metrics["auc"]["value"],
        "test_accuracy": metrics["accuracy"]["value"],
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_summary(home: Path, summary: dict) -> Path:
    return atomic_write(home / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")


def _sagemaker(home: Path):
    from offline.aws import local_session

    return local_session(home=home, region=LOCAL_REGION).client("sagemaker")
