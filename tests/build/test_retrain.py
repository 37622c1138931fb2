"""`mlops retrain` on real local builds: reviewed rows join the training split only (validation and test stay
byte for byte), the checks run against the approved version's baselines, and a check's violations stop the
build by default or, with FailOnViolation off, are recorded in the execution and in retrain's output."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from offline.aws import local_session
from offline.defaults import LOCAL_BUCKET
from offline.executor.executions import ExecutionStore
from offline.state import StateDB
from offline.store import ObjectStore
from pipelines.build.settings import human_labels_uri
from pipelines.cli import main

pytestmark = pytest.mark.slow
LABELS = human_labels_uri(LOCAL_BUCKET)
REVIEWED = 40


def _mlops(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def _splits(home, execution_id: str) -> dict[str, bytes]:
    store = ObjectStore.for_home(home)
    steps = {s["step_name"]: s for s in ExecutionStore(StateDB.for_home(home)).steps(execution_id)}
    outputs = steps["PreprocessData"]["metadata"]["ProcessingOutputConfig"]["Outputs"]
    uris = {o["OutputName"]: o["S3Output"]["S3Uri"].rstrip("/") for o in outputs}
    return {name: store.get_bytes(f"{uris[name]}/{name}.csv") for name in ("train", "validation", "test", "traffic")}


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    """A home with v1 built and approved; returns (home, v1's execution id, v1's splits)."""
    home = tmp_path_factory.mktemp("retrain")
    first = _mlops(home, "pipeline", "run", "--local", "--json")
    assert first.exit_code == 0, first.output[-2000:]
    execution = json.loads(first.output[first.output.index("{") :])["PipelineExecutionId"]
    sm = local_session(home=home).client("sagemaker")
    [v1] = sm.list_model_packages(ModelPackageGroupName="BreastCancerPackageGroup")["ModelPackageSummaryList"]
    sm.update_model_package(ModelPackageArn=v1["ModelPackageArn"], ModelApprovalStatus="Approved")
    return home, execution, _splits(home, execution)


def test_reviewed_rows_join_the_training_split_only(approved):
    home, v1_execution, v1 = approved
    reviewed = v1["traffic"].decode().splitlines()[:REVIEWED]  # held-out traffic, labelled by "reviewers"
    ObjectStore.for_home(home).put_bytes(f"{LABELS}/review-flow/2024/05/01/10/labels.csv", "\n".join(reviewed).encode())

    result = _mlops(home, "retrain", "--no-fail-on-violation", "--json")

    assert result.exit_code == 0, result.output[-2000:]
    summary = json.loads(result.output[result.output.index("{\n") :])
    v2 = _splits(home, summary["execution_id"])
    assert v2["validation"] == v1["validation"] and v2["test"] == v1["test"]  # byte for byte
    train = v2["train"].decode().splitlines()
    assert train[: len(v1["train"].decode().splitlines())] == v1["train"].decode().splitlines()
    assert len(train) == len(v1["train"].decode().splitlines()) + REVIEWED
    held = set(v2["validation"].decode().splitlines()) | set(v2["test"].decode().splitlines())
    for row in reviewed:
        values = [float(v) for v in row.split(",")]
        assert any([float(v) for v in t.split(",")] == values for t in train[-REVIEWED:])
        assert not any([float(v) for v in h.split(",")] == values for h in held)
    assert summary["train_rows"] == summary["previous_train_rows"] + REVIEWED
    assert summary["test_rows"] == summary["previous_test_rows"] == len(v1["test"].decode().splitlines())
    assert summary["previous_model_package_arn"].endswith("/1") and summary["model_package_arn"].endswith("/2")
    sm = local_session(home=home).client("sagemaker")
    assert sm.describe_model_package(ModelPackageName=summary["model_package_arn"])["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )
    assert summary["metrics"]["auc"]["value"] > 0.9 and set(summary["checks"]) == {"data-quality", "model-quality"}
    assert v1_execution != summary["execution_id"]


def test_violations_stop_the_build_by_default_and_are_recorded_when_they_do_not(approved):
    home, _, v1 = approved
    # Reviewed rows far from the training data: 'mean radius' (first feature) x3 on many rows: drift.
    drifted = []
    for row in v1["train"].decode().splitlines()[:150]:
        values = row.split(",")
        values[1] = repr(float(values[1]) * 3)
        drifted.append(",".join(values))
    ObjectStore.for_home(home).put_bytes("s3://drifted-reviews/labels/labels.csv", "\n".join(drifted).encode())
    sm = local_session(home=home).client("sagemaker")
    before = len(sm.list_model_packages(ModelPackageGroupName="BreastCancerPackageGroup")["ModelPackageSummaryList"])

    recorded = _mlops(home, "retrain", "--labels-uri", "s3://drifted-reviews/labels", "--no-fail-on-violation")
    stopped = _mlops(home, "retrain", "--labels-uri", "s3://drifted-reviews/labels")

    assert recorded.exit_code == 0, recorded.output[-2000:]
    assert "data-quality check (Succeeded): " in recorded.output and "baseline_drift_check on _c3" in recorded.output
    assert "violations are recorded, the build goes on" in recorded.output and "registered arn:" in recorded.output
    execution = recorded.output.split("retraining build ", 1)[1].split(":", 1)[0]
    described = _mlops(home, "pipeline", "describe", execution)
    assert "CompletedWithViolations: Job completed successfully with" in described.output
    assert "baseline_drift_check on '_c3'" in described.output
    steps = json.loads(_mlops(home, "pipeline", "describe", execution, "--json").output)["Steps"]
    [check] = [s for s in steps if s["StepName"] == "DataQualityBaseline"]
    assert check["StepStatus"] == "Succeeded" and check["Metadata"]["ExitMessage"].startswith("CompletedWithViolations")

    assert stopped.exit_code == 1
    assert "DataQualityBaseline" in stopped.output and "violations" in stopped.output
    after = len(sm.list_model_packages(ModelPackageGroupName="BreastCancerPackageGroup")["ModelPackageSummaryList"])
    assert after == before + 1  # the recorded build registered, the stopped one did not


def test_retraining_needs_an_approved_version(tmp_path):
    result = _mlops(tmp_path / "empty", "retrain")
    assert result.exit_code == 2 and "no approved model package in 'BreastCancerPackageGroup'" in result.output


def test_a_labels_location_must_be_an_s3_uri(tmp_path):
    result = _mlops(tmp_path / "empty", "retrain", "--labels-uri", "/tmp/labels")
    assert result.exit_code == 2 and "is not an s3:// URI" in result.output
