"""The local EventBridge Scheduler: schedules recorded with botocore's validation and Scheduler's errors; a
schedule starting this project's analyzer is also a local monitoring schedule (`mlops monitor schedule` runs it)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from offline.monitoring.schedules import ScheduleStore
from offline.state import StateDB
from pipelines.deploy.scheduler_target import schedule_request

ROLE = "arn:aws:iam::123456789012:role/scheduler"
ANALYZER_JOB = {
    "ProcessingJobName": "ep-dq-1a2b-<aws.scheduler.execution-id>",
    "Environment": {
        "analysis_type": "DATA_QUALITY",
        "sagemaker_endpoint_name": "ep",
        "sagemaker_monitoring_schedule_name": "ep-data-quality",
        "dataset_source": "s3://bucket/datacapture/ep",
    },
    "ProcessingInputs": [
        {"InputName": "baseline_constraints", "S3Input": {"S3Uri": "s3://bucket/baselines/constraints.json"}},
        {"InputName": "baseline_statistics", "S3Input": {"S3Uri": "s3://bucket/baselines/statistics.json"}},
    ],
    "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://bucket/reports/ep/ep-data-quality"}}]},
}


def error(call) -> dict:
    with pytest.raises(ClientError) as e:
        call()
    return {"code": e.value.response["Error"]["Code"], "status": e.value.response["ResponseMetadata"]["HTTPStatusCode"],
            "message": e.value.response["Error"]["Message"]}  # fmt: skip


def test_create_get_update_list_delete(aws):
    scheduler = aws.client("scheduler")
    request = schedule_request("ep-data-quality", "the check", ANALYZER_JOB, ROLE)
    arn = scheduler.create_schedule(**request)["ScheduleArn"]
    assert arn == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/ep-data-quality"
    got = scheduler.get_schedule(Name="ep-data-quality")
    assert got["ScheduleExpression"] == "cron(15 * * * ? *)" and json.loads(got["Target"]["Input"]) == ANALYZER_JOB
    assert got["State"] == "ENABLED" and got["GroupName"] == "default"
    local = ScheduleStore(StateDB.for_home(aws.home)).get("ep-data-quality")
    assert (local.endpoint, local.kind, local.capture_uri, local.output_uri) == (
        "ep", "data-quality", "s3://bucket/datacapture", "s3://bucket/reports"
    )  # fmt: skip
    assert local.baseline_statistics == "s3://bucket/baselines/statistics.json"
    assert error(lambda: scheduler.create_schedule(**request))["code"] == "ConflictException"
    scheduler.update_schedule(**{**request, "State": "DISABLED"})
    assert scheduler.get_schedule(Name="ep-data-quality")["State"] == "DISABLED"
    assert ScheduleStore(StateDB.for_home(aws.home)).list() == []  # a disabled schedule does not run
    assert [s["Name"] for s in scheduler.list_schedules(NamePrefix="ep-")["Schedules"]] == ["ep-data-quality"]
    scheduler.delete_schedule(Name="ep-data-quality")
    assert error(lambda: scheduler.get_schedule(Name="ep-data-quality")) == {
        "code": "ResourceNotFoundException", "status": 404, "message": "Schedule ep-data-quality does not exist."
    }  # fmt: skip


def test_bad_requests_are_refused_with_schedulers_errors(aws):
    scheduler = aws.client("scheduler")
    request = schedule_request("s", "d", {"ProcessingJobName": "x"}, ROLE)
    assert error(lambda: scheduler.create_schedule(**{**request, "ScheduleExpression": "every hour"}))["code"] == (
        "ValidationException"
    )
    assert error(lambda: scheduler.create_schedule(**{**request, "GroupName": "other"}))["status"] == 404
    bad = {**request, "Target": {**request["Target"], "Input": "{not json"}}
    assert "is not JSON" in error(lambda: scheduler.create_schedule(**bad))["message"]
    assert error(lambda: scheduler.delete_schedule(Name="nothing"))["code"] == "ResourceNotFoundException"
    assert scheduler.list_schedules()["Schedules"] == []
