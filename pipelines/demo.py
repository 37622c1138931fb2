"""The whole loop offline, as `make demo` runs it, ending in `$MLOPS_HOME/demo-summary.json`.

Stages, each adding to the summary: build (the build pipeline's definition, executed locally) ->
approve (the new package, through the registry's boto3 API, as a reviewer would in Studio).
Later milestones append serving, monitoring and human review stages.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.local.defaults import LOCAL_REGION
from pipelines.local.home import HOME_ENV, mlops_home

SUMMARY_FILE = "demo-summary.json"
HOME_MARKERS = ("state.db", "s3", "jobs", "logs", SUMMARY_FILE)


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


def run_demo(home: Path, say: Callable[[str], None] = print) -> dict:
    started = time.perf_counter()
    summary: dict = {"mlops_home": str(home)}
    for stage in (build_stage, approve_stage):
        stage(home, summary, say)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    write_summary(home, summary)
    return summary


def build_stage(home: Path, summary: dict, say: Callable[[str], None]) -> None:
    from pipelines.build.pipeline import get_pipeline
    from pipelines.local.executor.definition import load_definition
    from pipelines.local.executor.engine import PipelineExecution
    from pipelines.local.executor.progress import LiveProgress

    say("1. build: executing the build pipeline's definition locally")
    pipeline = get_pipeline(target="local")
    definition = load_definition(pipeline.definition())
    progress = LiveProgress(f"pipeline {pipeline.name}")
    with progress:
        record = PipelineExecution(definition, pipeline.name, home=home, listener=progress).run()
    if record.status != "Succeeded":
        raise DemoError(f"the build pipeline execution {record.execution_id} {record.status}: {record.failure_reason}")
    from pipelines.local.executor.executions import ExecutionStore
    from pipelines.local.state import StateDB

    registered = [
        s["metadata"]["ModelPackageArn"]
        for s in ExecutionStore(StateDB.for_home(home)).steps(record.execution_id)
        if s["step_type"] == "RegisterModel" and s["status"] == "Succeeded"
    ]
    if not registered:
        raise DemoError(f"execution {record.execution_id} succeeded but registered no model package")
    summary["pipeline_execution"] = {"id": record.execution_id, "arn": record.execution_arn, "status": record.status}
    summary["registered_package_arn"] = registered[0]
    say(f"   execution {record.execution_id} Succeeded; registered {registered[0]}")


def approve_stage(home: Path, summary: dict, say: Callable[[str], None]) -> None:
    from pipelines.local.aws import local_session

    client = local_session(home=home, region=LOCAL_REGION).client("sagemaker")
    arn = summary.pop("registered_package_arn")
    say(f"2. approve: {arn}")
    client.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="Approved by the offline demo"
    )
    summary["model_packages"] = [package_summary(home, client, arn)]


def package_summary(home: Path, client, arn: str) -> dict:
    from pipelines.local.store import ObjectStore

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
    path = home / SUMMARY_FILE
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    os.replace(scratch, path)
    return path
