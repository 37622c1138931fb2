"""What the demo's stages share: the summary, its names, the error they raise, small helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from offline.defaults import LOCAL_REGION
from processing.atomic import atomic_write

SUMMARY_FILE = "demo-summary.json"
REPORT_FILE = "report.html"  # offline.demo_report writes it there by default
ENDPOINT_NAME = "breast-cancer-demo"
APPROVER = "mlops demo"  # who answers the production gate, and approves the packages

Say = Callable[[str], None]


class DemoError(RuntimeError):
    """A stage of the demo failed; the message says which and why."""


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_summary(home: Path, summary: dict) -> Path:
    return atomic_write(home / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")


def sagemaker(home: Path):
    from offline.aws import local_session

    return local_session(home=home, region=LOCAL_REGION).client("sagemaker")


def package_summary(home: Path, client, arn: str) -> dict:
    """A registered version as the summary lists it: approval, model, and its test metrics."""
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
