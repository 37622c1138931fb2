"""The processing engine's job, run for real: the schedule's CreateProcessingJob template, filled as
Scheduler fills it for 2026-03-01T05:15Z, executed by the local executor's processing step runner.

The code bundle sits in the local object store, the job's boto3 reads the window's hour prefixes of
the capture from the local S3 over HTTP, and its PutMetricData goes to moto's CloudWatch over HTTP.
The files must land in `<report>/<endpoint>/<schedule>/2026/03/01/05/` and the metrics carry Model
Monitor's names, namespaces and dimensions.
"""

from __future__ import annotations

import json
import random

import pytest

from pipelines.deploy.code_bundle import analyzer_bundle, upload_bundle
from pipelines.deploy.monitor_processing import processing_job_template
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.registry import Baselines
from pipelines.deploy.scheduler_target import fill_template
from tests.deploy.conftest import ACCOUNT, REGION, ROLE

BUCKET = "sagemaker-us-east-1-123456789012"
ENDPOINT = "bc-staging"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
SCHEDULED = "2026-03-01T05:15:00Z"
# Model Monitor's binary-classification CloudWatch metric names (the SDK's model-quality dashboard,
# sagemaker/dashboard/model_quality_dashboard.py BINARY_CLASSIFICATION_MODEL_QUALITY_METRICS).
MODEL_QUALITY_METRICS = {
    "accuracy", "accuracy_best_constant_classifier", "precision", "precision_best_constant_classifier",
    "recall", "recall_best_constant_classifier", "f0_5", "f0_5_best_constant_classifier", "f1",
    "f1_best_constant_classifier", "f2", "f2_best_constant_classifier", "true_positive_rate",
    "true_negative_rate", "false_positive_rate", "false_negative_rate", "au_prc", "auc",
}  # fmt: skip


def capture_record(event_id: str, when: str, features: list[float], probability: float) -> str:
    """One record as SageMaker captures this project's endpoint (CSV out: probability,label,needs_review)."""
    output = f"{probability},{int(probability >= 0.5)},{int(0.1 < probability < 0.9)}\n"
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": ",".join(map(str, features)), "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": output,
                                   "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": event_id, "inferenceTime": when},
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )  # fmt: skip


def rows(rng: random.Random, n: int, shift: float = 0.0) -> list[tuple[list[float], float]]:
    out = []
    for _ in range(n):
        features = [round(rng.gauss(10 + shift, 2), 3), round(rng.gauss(5, 1), 3), round(rng.uniform(0, 1), 3)]
        out.append((features, round(rng.uniform(0, 1), 4)))
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A local home with baselines, capture in three hours, ground truth, and the code bundle."""
    from offline.aws import local_session
    from offline.store import ObjectStore
    from processing.monitoring.api import suggest_baseline
    from processing.monitoring.model_quality import ModelQualityAttributes, suggest_model_quality_baseline
    from processing.monitoring.readers import DatasetFormat

    home = tmp_path_factory.mktemp("home")
    store = ObjectStore.for_home(home)
    store.create_bucket(BUCKET)
    rng = random.Random(7)
    work = tmp_path_factory.mktemp("baselines")
    train = rows(rng, 400)
    (work / "dq.csv").write_text(
        "".join(f"{p},{int(p >= 0.5)},{int(0.1 < p < 0.9)},{','.join(map(str, f))}\n" for f, p in train)
    )
    suggest_baseline(work / "dq.csv", DatasetFormat("csv", header=False), work / "dq")
    (work / "mq.csv").write_text("".join(f"{p},{int(rng.random() < p)}\n" for _, p in train))
    suggest_model_quality_baseline(
        work / "mq.csv",
        DatasetFormat("csv", header=False),
        work / "mq",
        ModelQualityAttributes(ground_truth_attribute="_c1", probability_attribute="_c0"),
    )
    for kind in ("dq", "mq"):
        for name in ("statistics.json", "constraints.json"):
            store.put_file(f"s3://{BUCKET}/baselines/{kind}/{name}", work / kind / name)

    capture = f"s3://{BUCKET}/datacapture/{ENDPOINT}/AllTraffic/2026/03/01"
    hours = {"02": rows(rng, 60), "04": rows(rng, 80, shift=6.0), "05": rows(rng, 30)}
    truth = []
    for hour, data in hours.items():
        lines = [
            capture_record(f"{hour}-{i}", f"2026-03-01T{hour}:{10 + i % 40:02d}:00Z", f, p)
            for i, (f, p) in enumerate(data)
        ]
        store.put_bytes(f"{capture}/{hour}/10-00-000-{hour}.jsonl", ("\n".join(lines) + "\n").encode())
        if hour == "02":
            truth = [(f"{hour}-{i}", int(rng.random() < p)) for i, (_, p) in enumerate(data)]
    ground_truth = "\n".join(
        json.dumps({"groundTruthData": {"data": str(label), "encoding": "CSV"}, "eventMetadata": {"eventId": key},
                    "eventVersion": "0"})
        for key, label in truth
    )  # fmt: skip
    store.put_bytes(f"s3://{BUCKET}/ground-truth/{ENDPOINT}/2026/03/01/03/0000.jsonl", (ground_truth + "\n").encode())
    s3 = local_session(home=home, region=REGION).client("s3")
    code, _ = upload_bundle(s3, analyzer_bundle(), f"s3://{BUCKET}/monitoring/code")
    spec = MonitorSpec(
        endpoint=ENDPOINT,
        region=REGION,
        account=ACCOUNT,
        role_arn=ROLE,
        capture_destination=f"s3://{BUCKET}/datacapture",
        report_destination=f"s3://{BUCKET}/monitoring/reports",
        ground_truth=f"s3://{BUCKET}/ground-truth/{ENDPOINT}",
        baselines=Baselines(
            f"s3://{BUCKET}/baselines/dq/statistics.json",
            f"s3://{BUCKET}/baselines/dq/constraints.json",
            f"s3://{BUCKET}/baselines/mq/constraints.json",
        ),
    )
    return {"home": home, "store": store, "spec": spec, "code": code, "hours": hours}


@pytest.fixture(scope="module")
def cloudwatch():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def run_scheduled_job(world, cloudwatch, kind: str) -> dict:
    """Fill the schedule's template as Scheduler would and run it with the local processing runner."""
    from offline.aws.server import LocalAWSServer
    from offline.executor.context import ExecutionContext
    from offline.executor.definition import Step
    from offline.executor.engine import _job_environment
    from offline.executor.steps.processing import run_processing

    template = processing_job_template(world["spec"], kind, world["code"], IMAGE)
    request = fill_template(json.dumps(template), SCHEDULED, "d32c5kddcf5bb8c3")
    with LocalAWSServer(world["home"]) as aws:
        context = ExecutionContext(
            execution_id="scheduler",
            execution_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/x",
            pipeline_name="schedules",
            home=world["home"],
            store=world["store"],
            resolver=None,
            job_env={
                **_job_environment(world["home"]),
                **aws.client_env(REGION),
                "AWS_ENDPOINT_URL_CLOUDWATCH": cloudwatch,
            },
        )
        step = Step(name=request["ProcessingJobName"], type="Processing", arguments=request, raw={})
        properties = run_processing(context, step, request)
    log = context.log_path(step.name).read_text()
    return {"properties": properties, "log": log, "sandbox": context.home / "jobs" / "scheduler" / step.name}


def metrics(cloudwatch: str, namespace: str) -> list[dict]:
    import boto3

    client = boto3.client(
        "cloudwatch", region_name=REGION, endpoint_url=cloudwatch, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client.list_metrics(Namespace=namespace)["Metrics"]


@pytest.mark.slow
def test_data_quality_job_reads_only_its_window_and_writes_model_monitors_layout(world, cloudwatch):
    job = run_scheduled_job(world, cloudwatch, "data-quality")

    assert job["properties"]["ProcessingJobStatus"] == "Completed", job["log"]
    assert "read 1 capture object(s)" in job["log"]  # hour 04 only: not 02, not 05
    folder = f"s3://{BUCKET}/monitoring/reports/{ENDPOINT}/{ENDPOINT}-data-quality/2026/03/01/05"
    store = world["store"]
    for name in ("statistics.json", "constraints.json", "constraint_violations.json"):
        assert store.exists(f"{folder}/{name}"), name
    statistics = json.loads(store.get_bytes(f"{folder}/statistics.json"))
    assert statistics["dataset"]["item_count"] == len(world["hours"]["04"])
    violations = json.loads(store.get_bytes(f"{folder}/constraint_violations.json"))["violations"]
    assert {"feature_name": "_c3", "constraint_check_type": "baseline_drift_check"}.items() <= next(
        v for v in violations if v["feature_name"] == "_c3"
    ).items()
    message = (job["sandbox"] / "opt/ml/output/message").read_text()
    assert message.startswith("CompletedWithViolations: Job completed successfully with")

    published = metrics(cloudwatch, "aws/sagemaker/Endpoints/data-metrics")
    names = {m["MetricName"] for m in published}
    features = [f"_c{i}" for i in range(6)]
    assert {f"feature_non_null_{f}" for f in features} <= names
    assert {f"feature_baseline_drift_{f}" for f in features} <= names
    assert {f"feature_data_{f}" for f in features} <= names
    for metric in published:
        assert metric["Dimensions"] == [
            {"Name": "Endpoint", "Value": ENDPOINT},
            {"Name": "MonitoringSchedule", "Value": f"{ENDPOINT}-data-quality"},
        ]


@pytest.mark.slow
def test_model_quality_job_merges_its_window_with_ground_truth(world, cloudwatch):
    job = run_scheduled_job(world, cloudwatch, "model-quality")

    assert job["properties"]["ProcessingJobStatus"] == "Completed", job["log"]
    # window [02-28T05:00, 03-01T04:00) holds hour 02 only; ground truth from the window's start up to 05
    assert "read 1 capture object(s)" in job["log"] and "read 1 ground-truth object(s)" in job["log"]
    folder = f"s3://{BUCKET}/monitoring/reports/{ENDPOINT}/{ENDPOINT}-model-quality/2026/03/01/05"
    statistics = json.loads(world["store"].get_bytes(f"{folder}/statistics.json"))
    assert statistics["dataset"]["item_count"] == len(world["hours"]["02"])
    assert world["store"].exists(f"{folder}/constraint_violations.json")

    published = metrics(cloudwatch, "aws/sagemaker/Endpoints/model-metrics")
    names = {m["MetricName"] for m in published}
    # au_prc is on the SDK's dashboard but not in FORMATS.md §4.4's metric list, so the analyzer has none
    assert MODEL_QUALITY_METRICS - {"au_prc"} <= names
    metric_values = statistics["binary_classification_metrics"]
    assert names == {k for k, v in metric_values.items() if isinstance(v, dict) and isinstance(v.get("value"), float)}
    assert all(
        m["Dimensions"]
        == [
            {"Name": "Endpoint", "Value": ENDPOINT},
            {"Name": "MonitoringSchedule", "Value": f"{ENDPOINT}-model-quality"},
        ]
        for m in published
    )
