"""The builds: the build pipeline's definition executed locally (v1), and the retraining build with the
reviewers' labels and both quality checks against v1's baselines (v2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from offline.demo.common import DemoError, Say
from offline.demo.stopwatch import STOPWATCH


def build(home: Path, summary: dict, say: Say, alongside: Callable[[str], object] | None = None) -> object:
    """Run the build; `alongside(group)` runs in a thread meanwhile (the execution mostly waits on its jobs'
    processes) with the model package group the build registers into; returns what it returned."""
    say("1. build: executing the build pipeline's definition locally")
    with STOPWATCH.part("build: definition (SageMaker SDK)"):
        from offline.executor.definition import load_definition
        from offline.executor.engine import PipelineExecution
        from offline.executor.progress import LiveProgress
        from pipelines.build.pipeline import get_pipeline

        pipeline = get_pipeline(target="local")
        text = pipeline.definition()
        definition = load_definition(text)
    progress = LiveProgress(f"pipeline {pipeline.name}")
    execution = PipelineExecution(definition, pipeline.name, home=home, listener=progress)
    with ThreadPoolExecutor(1, thread_name_prefix="demo-alongside") as pool:
        side = pool.submit(alongside, registered_group(json.loads(text))) if alongside else None
        with progress, STOPWATCH.part("build: execution"):
            record = execution.run()
        beside = side.result() if side else None
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
    return beside


def registered_group(definition: dict) -> str:
    """The model package group the definition's RegisterModel step (inside the AUC condition) registers into."""
    found: list[str] = []

    def visit(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ModelPackageGroupName" and isinstance(value, str):
                    found.append(value)
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(definition.get("Steps", []))
    if len(set(found)) != 1:
        raise DemoError(f"the build definition registers into {sorted(set(found)) or 'no'} model package group(s)")
    return found[0]


def retrain(home: Path, summary: dict, say: Say):
    from offline.executor.progress import LiveProgress
    from offline.retrain import FAIL_ON_VIOLATION, retrain

    say(
        "   the build again with the reviewed rows in its training split and both quality checks against v1's "
        f"baselines; the demo sets {' and '.join(FAIL_ON_VIOLATION.values())} to false, so violations are "
        "recorded, not stopping it"
    )
    progress = LiveProgress("retraining build")
    with progress, STOPWATCH.part("retrain"):
        result = retrain(
            fail_on_violation={kind: False for kind in FAIL_ON_VIOLATION},
            built=summary["_built"],
            listener=progress,
            home=home,
        )
    if result.status != "Succeeded" or result.new is None:
        raise DemoError(f"the retraining build {result.execution_id} {result.status}: {result.failure_reason}")
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
    return result
