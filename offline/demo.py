"""The whole loop offline, as `make demo` runs it, ending in `$MLOPS_HOME/demo-summary.json`.

Stages, each adding to the summary:
1. build    the build pipeline's definition, executed locally (train, evaluate, baselines, register)
2. approve  the new package, through the registry's boto3 API, as a reviewer would in Studio
3. serve    the approved package on a local endpoint with data capture; the 114 held-out rows
            replayed one request each (with inference ids), then the host stopped
4. labels   ground truth for the replayed rows, keyed by inference id, in Model Monitor's
            format; the held-out labels stand in for reviewers' answers
5. monitor  hourly data- and model-quality schedules from the package's drift-check baselines,
            run for every hour with captured traffic (the current one included)
6. report   the monitoring report, `$MLOPS_HOME/report.html`
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from offline.defaults import LOCAL_BUCKET, LOCAL_REGION
from offline.home import HOME_ENV, mlops_home
from processing.atomic import atomic_write

SUMMARY_FILE = "demo-summary.json"
HOME_MARKERS = ("state.db", "state.db-wal", "state.db-shm", "s3", "jobs", "logs", "tmp", "report.html", SUMMARY_FILE)
ENDPOINT_NAME = "breast-cancer-demo"
GROUND_TRUTH_URI = f"s3://{LOCAL_BUCKET}/ground-truth/{ENDPOINT_NAME}"

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
    for stage in (build_stage, approve_stage, serve_stage, labels_stage, monitor_stage, report_stage):
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


def labels_stage(home: Path, summary: dict, say: Say) -> None:
    """Ground truth for the replayed rows, as a labelling job would upload it (FORMATS.md §4.1)."""
    from offline.store import ObjectStore

    store = ObjectStore.for_home(home)
    labels = [
        line.split(",", 1)[0] for line in store.get_bytes(f"{summary['_traffic']}/traffic.csv").decode().splitlines()
    ]
    now = datetime.now(timezone.utc)
    records = [
        json.dumps(
            {
                "groundTruthData": {"data": str(int(float(label))), "encoding": "CSV"},
                "eventMetadata": {"eventId": f"demo-{number:06d}"},
                "eventVersion": "0",
            },
            separators=(",", ":"),
        )
        for number, label in enumerate(labels, start=1)
    ]
    uri = f"{GROUND_TRUTH_URI}/{now:%Y/%m/%d/%H}/{now:%M%S}.jsonl"
    store.put_bytes(uri, ("\n".join(records) + "\n").encode())
    summary["ground_truth_uri"] = GROUND_TRUTH_URI
    say(f"4. labels: {len(records)} ground-truth records (the held-out labels stand in for reviewers) -> {uri}")


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
        ground_truth_uri=summary["ground_truth_uri"],
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


def report_stage(home: Path, summary: dict, say: Say) -> None:
    from offline.monitoring.report import write_report

    path = write_report(summary["endpoint"]["name"], home=home)
    summary["report"] = str(path)
    for key in [k for k in summary if k.startswith("_")]:
        del summary[key]
    say(f"6. report: {path}")


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


def write_summary(home: Path, summary: dict) -> Path:
    return atomic_write(home / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")


def _sagemaker(home: Path):
    from offline.aws import local_session

    return local_session(home=home, region=LOCAL_REGION).client("sagemaker")
