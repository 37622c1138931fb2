"""Engine `processing`: EventBridge Scheduler schedules (moto) whose universal target sends a
CreateProcessingJob request template; the analyzer's code bundle."""

from __future__ import annotations

import io
import json
import re
import tarfile

from pipelines.deploy.code_bundle import CodeLocation, analyzer_bundle, upload_bundle
from pipelines.deploy.monitor_processing import ensure_processing_monitoring, processing_job_template
from pipelines.deploy.scheduler_target import TARGET_ARN, fill_template
from tests.deploy.conftest import BUCKET, SCHEDULER_ROLE, validate_request
from tests.deploy.test_monitor_managed import spec

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
CODE = CodeLocation(f"s3://{BUCKET}/code/a/sourcedir.tar.gz", f"s3://{BUCKET}/code/b/runproc.sh")
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def test_one_hourly_schedule_per_check_starting_a_processing_job(aws):
    s = spec()
    changes = ensure_processing_monitoring(aws.clients.scheduler, s, CODE, SCHEDULER_ROLE, IMAGE)

    assert [(c.name, c.action) for c in changes] == [
        ("bc-staging-data-quality", "created"),
        ("bc-staging-model-quality", "created"),
    ]
    for kind in ("data-quality", "model-quality"):
        schedule = aws.clients.scheduler.get_schedule(Name=s.schedule(kind))
        assert schedule["ScheduleExpression"] == "cron(15 * * * ? *)"
        assert schedule["ScheduleExpressionTimezone"] == "UTC"
        target = schedule["Target"]
        assert target["Arn"] == TARGET_ARN == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
        assert target["RoleArn"] == SCHEDULER_ROLE
        template = json.loads(target["Input"])
        assert template == processing_job_template(s, kind, CODE, IMAGE)
        env = template["Environment"]
        assert env["scheduled_time"] == "<aws.scheduler.scheduled-time>"
        assert template["ProcessingJobName"].endswith("-<aws.scheduler.execution-id>")
        assert env["dataset_source"] == f"s3://{BUCKET}/datacapture/bc-staging"
        assert env["publish_cloudwatch_metrics"] == "Enabled"
        assert env["sagemaker_monitoring_schedule_name"] == s.schedule(kind)
        output = template["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
        assert output["S3Uri"] == f"s3://{BUCKET}/monitoring/reports/bc-staging/{s.schedule(kind)}"
        assert template["AppSpecification"]["ContainerEntrypoint"] == [
            "/bin/bash",
            "/opt/ml/processing/input/entrypoint/runproc.sh",
        ]
    mq = json.loads(aws.clients.scheduler.get_schedule(Name=s.schedule("model-quality"))["Target"]["Input"])
    assert mq["Environment"]["probability_attribute"] == "0"
    assert mq["Environment"]["ground_truth_source"] == s.ground_truth
    assert (mq["Environment"]["start_time_offset"], mq["Environment"]["end_time_offset"]) == ("-P1D", "-PT1H")
    for service, operation, params in aws.recorder.calls:
        validate_request(service, operation, params)


def test_the_filled_template_is_a_valid_create_processing_job_request():
    s = spec()
    for kind in ("data-quality", "model-quality"):
        template = processing_job_template(s, kind, CODE, IMAGE)
        for execution_id in ("d32c5kddcf5bb8c3", "0123456789abcdef0123456789abcdef0123"):  # the doc's, and a long one
            request = fill_template(json.dumps(template), "2026-03-01T05:15:00Z", execution_id)
            validate_request("sagemaker", "CreateProcessingJob", request)
            assert JOB_NAME.match(request["ProcessingJobName"]), request["ProcessingJobName"]
            assert request["Environment"]["scheduled_time"] == "2026-03-01T05:15:00Z"
            assert all(len(v) <= 256 for v in request["Environment"].values())


def test_an_unchanged_schedule_is_left_and_a_changed_one_updated(aws):
    s = spec("v1")
    ensure_processing_monitoring(aws.clients.scheduler, s, CODE, SCHEDULER_ROLE, IMAGE)
    again = ensure_processing_monitoring(aws.clients.scheduler, s, CODE, SCHEDULER_ROLE, IMAGE)
    assert {c.action for c in again} == {"unchanged"}

    changed = ensure_processing_monitoring(aws.clients.scheduler, spec("v2"), CODE, SCHEDULER_ROLE, IMAGE)

    assert {c.action for c in changed} == {"updated"}
    target = aws.clients.scheduler.get_schedule(Name="bc-staging-data-quality")["Target"]
    assert "baselines/v2/data-quality/constraints.json" in target["Input"]


def test_the_bundle_is_a_framework_processor_bundle(aws):
    import boto3
    from sagemaker import Session
    from sagemaker.xgboost import XGBoostProcessor

    bundle = analyzer_bundle()
    assert analyzer_bundle() == bundle  # same sources, same bytes
    session = Session(boto_session=boto3.Session(region_name="us-east-1"), default_bucket=BUCKET)
    processor = XGBoostProcessor(
        framework_version="3.0-5", role="arn:aws:iam::123456789012:role/x", instance_type="ml.m5.xlarge",
        instance_count=1, sagemaker_session=session,
    )  # fmt: skip
    assert bundle.runproc.decode() == processor._generate_framework_script("analyze.py")
    with tarfile.open(fileobj=io.BytesIO(bundle.sourcedir)) as tar:
        names = tar.getnames()
    assert "analyze.py" in names
    assert {"processing/monitoring/scheduled.py", "processing/monitoring/s3_source.py"} <= set(names)
    # runproc.sh pip-installs a root requirements.txt; there is none, so the job installs nothing at run time and
    # runs on the image's packages (docs/projects-template.md, "The analyzer on AWS").
    assert [n for n in names if "/" not in n] == ["analyze.py"]
    assert not [n for n in names if "__pycache__" in n]

    location, changes = upload_bundle(aws.clients.s3, bundle, f"s3://{BUCKET}/monitoring/code")
    assert [c.action for c in changes] == ["uploaded", "uploaded"]
    _, again = upload_bundle(aws.clients.s3, bundle, f"s3://{BUCKET}/monitoring/code")
    assert [c.action for c in again] == ["unchanged", "unchanged"]
    key = location.sourcedir_uri.split(f"{BUCKET}/", 1)[1]
    assert aws.clients.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == bundle.sourcedir
