"""Retraining on this machine: the build pipeline's definition run again with the reviewers' labels.

A retraining build is the build pipeline with both quality checks on and no new baselines registered
(docs/build-pipeline.md, "a build with the checks on"): the data and the new model are checked against
the drift-check baselines of the group's newest *approved* version, which stay the baselines v2 is
registered with. Labels reach only the training split (processing/preprocess.py), so the test metrics of
the two versions are comparable. Whether a check's violations stop the build is the pipeline parameter
`<Kind>QualityCheckFailOnViolation` (default: they stop it); when they do not, they are recorded in the
execution (the check job's ExitMessage, or the QualityCheck step's ViolationReport) and returned here.
The new version is registered PendingManualApproval.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from offline.defaults import LOCAL_REGION
from offline.home import mlops_home
from offline.store import ObjectStore

CHECKS_ON = {
    "SkipDataQualityCheck": "false",
    "SkipModelQualityCheck": "false",
    "RegisterNewDataQualityBaseline": "false",
    "RegisterNewModelQualityBaseline": "false",
}
FAIL_ON_VIOLATION = {
    "data-quality": "DataQualityCheckFailOnViolation",
    "model-quality": "ModelQualityCheckFailOnViolation",
}
CHECK_STEPS = {"data-quality": "DataQualityBaseline", "model-quality": "ModelQualityBaseline"}


class RetrainInputError(ValueError):
    """Retraining cannot start (nothing approved to compare with, a bad labels location)."""


@dataclass
class Check:
    kind: str
    fail_on_violation: bool
    status: str  # the step's status
    violations: list[dict] = field(default_factory=list)
    report_uri: str | None = None  # constraint_violations.json

    def as_json(self) -> dict:
        return {
            "fail_on_violation": self.fail_on_violation,
            "status": self.status,
            "violations": [
                {
                    "name": v.get("feature_name") or v.get("metric_name"),
                    "constraint_check_type": v.get("constraint_check_type"),
                    "description": v.get("description"),
                }
                for v in self.violations
            ],
            "report_uri": self.report_uri,
        }


@dataclass
class Version:
    """A registered version's figures: rows it was trained and tested on, and its test metrics."""

    model_package_arn: str
    train_rows: int | None
    test_rows: int | None
    metrics: dict  # evaluation.json's binary_classification_metrics


@dataclass
class RetrainResult:
    execution_id: str
    status: str
    failure_reason: str | None
    labels_uri: str
    previous: Version
    new: Version | None
    checks: list[Check]

    def summary(self) -> dict:
        """`demo-summary.json`'s `retrain`."""
        new = self.new
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "labels_uri": self.labels_uri,
            "model_package_arn": new.model_package_arn if new else None,
            "previous_model_package_arn": self.previous.model_package_arn,
            "train_rows": new.train_rows if new else None,
            "previous_train_rows": self.previous.train_rows,
            "test_rows": new.test_rows if new else None,
            "previous_test_rows": self.previous.test_rows,
            "metrics": new.metrics if new else None,
            "previous_metrics": self.previous.metrics,
            "checks": {check.kind: check.as_json() for check in self.checks},
        }


def retrain(
    *,
    labels_uri: str | None = None,
    fail_on_violation: dict[str, bool] | None = None,
    pipeline_kwargs: dict | None = None,
    built: tuple | None = None,
    listener=None,
    stop_request=None,
    home: str | os.PathLike | None = None,
) -> RetrainResult:
    """Run the retraining build; `fail_on_violation` per check kind (default True for both).

    `built`: (the loaded definition, the pipeline's name) when the caller has them (the demo built the same
    pipeline a moment ago); else the pipeline is built with `pipeline_kwargs`.
    """
    from botocore.exceptions import ClientError

    from offline.executor.definition import load_definition
    from offline.executor.engine import PipelineExecution
    from pipelines.build.pipeline import get_pipeline
    from processing.registry import latest_approved_package

    home = mlops_home(home)
    stops = {kind: True for kind in FAIL_ON_VIOLATION} | (fail_on_violation or {})
    if built is None:
        pipeline = get_pipeline(**{"target": "local", **(pipeline_kwargs or {})})
        built = (load_definition(pipeline.definition()), pipeline.name)
    definition, pipeline_name = built
    group = _group(definition)
    sagemaker = _sagemaker(home)
    try:
        previous_arn = latest_approved_package(sagemaker, group)
    except ClientError as e:
        raise RetrainInputError(f"cannot read the model registry: {e}") from e
    if previous_arn is None:
        raise RetrainInputError(
            f"no approved model package in {group!r}: retraining checks the new version against the approved "
            "one's baselines; approve one first (mlops registry approve)"
        )
    parameters = {**CHECKS_ON, **{FAIL_ON_VIOLATION[k]: str(v).lower() for k, v in stops.items()}}
    if labels_uri:
        parameters["HumanLabelsUrl"] = labels_uri
    labels = labels_uri or _default(definition, "HumanLabelsUrl")
    execution = PipelineExecution(
        definition, pipeline_name, parameters, home=home, listener=listener, stop_request=stop_request
    )
    record = execution.run()
    steps = {s["step_name"]: s for s in execution.executions.steps(record.execution_id)}
    store = ObjectStore.for_home(home)
    registered = next(
        (s["metadata"]["ModelPackageArn"] for s in steps.values() if s["step_type"] == "RegisterModel"), None
    )
    new = None
    if registered:
        new = _version(store, sagemaker, registered, _train_rows(store, steps))
    previous = _version(store, sagemaker, previous_arn, _train_rows(store, _steps_of(home, previous_arn)))
    checks = [_check(store, kind, stops[kind], steps.get(step)) for kind, step in CHECK_STEPS.items()]
    return RetrainResult(record.execution_id, record.status, record.failure_reason, labels, previous, new, checks)


def _group(definition) -> str | None:
    for step in _all_steps(definition.raw):
        if step.get("Type") == "RegisterModel":
            return step["Arguments"].get("ModelPackageGroupName")
    return None


def _all_steps(raw: dict) -> list[dict]:
    found = []
    for step in raw.get("Steps", []):
        found.append(step)
        if step.get("Type") == "Condition":
            found += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])
    return found


def _default(definition, name: str) -> str | None:
    return next((p.get("DefaultValue") for p in definition.raw.get("Parameters", []) if p["Name"] == name), None)


def _version(store: ObjectStore, sagemaker, arn: str, train_rows: int | None) -> Version:
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    evaluation = json.loads(store.get_bytes(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]))
    return Version(arn, train_rows, evaluation["dataset"]["item_count"], evaluation["binary_classification_metrics"])


def _train_rows(store: ObjectStore, steps: dict[str, dict] | None) -> int | None:
    """Rows of the training split the execution's preprocess wrote (label first, no header)."""
    preprocess = (steps or {}).get("PreprocessData")
    if not preprocess:
        return None
    outputs = preprocess["metadata"]["ProcessingOutputConfig"]["Outputs"]
    train = next(o["S3Output"]["S3Uri"] for o in outputs if o["OutputName"] == "train").rstrip("/")
    with store.open(f"{train}/train.csv") as f:
        return sum(1 for line in f if line.strip())


def _steps_of(home: Path, model_package_arn: str) -> dict[str, dict] | None:
    """The steps of the local execution that registered the package (None: registered elsewhere)."""
    from offline.executor.executions import ExecutionStore
    from offline.state import StateDB

    executions = ExecutionStore(StateDB.for_home(home))
    for record in executions.list(limit=1000):
        steps = {s["step_name"]: s for s in executions.steps(record.execution_id)}
        if any(s["metadata"].get("ModelPackageArn") == model_package_arn for s in steps.values()):
            return steps
    return None


def _check(store: ObjectStore, kind: str, fail_on_violation: bool, step: dict | None) -> Check:
    if step is None:
        return Check(kind, fail_on_violation, "NotRun")
    metadata = step["metadata"]
    report = metadata.get("ViolationReport")  # the managed engine's QualityCheck step
    if report is None:  # the processing engine's job writes it to its `check` output
        outputs = metadata.get("ProcessingOutputConfig", {}).get("Outputs", [])
        check = next((o["S3Output"]["S3Uri"] for o in outputs if o["OutputName"] == "check"), None)
        report = f"{check.rstrip('/')}/constraint_violations.json" if check else None
    if not report or not store.exists(report):
        return Check(kind, fail_on_violation, step["status"])
    violations = json.loads(store.get_bytes(report)).get("violations", [])
    return Check(kind, fail_on_violation, step["status"], violations, report)


def _sagemaker(home: Path):
    from offline.aws import local_session

    return local_session(home=home, region=LOCAL_REGION).client("sagemaker")
