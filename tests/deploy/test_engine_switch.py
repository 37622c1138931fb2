"""Switching an endpoint's monitor engine: the deploy removes the other engine's schedules of that
endpoint once its own are in place (the managed engine's job definitions with them), never another
endpoint's, nothing when there is nothing, and stops with the reason when AWS refuses a deletion."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from pipelines.deploy.aws import deploy
from pipelines.deploy.errors import DeployFailed
from tests.deploy.conftest import settings, validate_request
from tests.deploy.test_monitor_managed import existing

KINDS = ("data-quality", "model-quality")


def managed_deploy(aws, **overrides):
    """A deploy with the managed engine on an endpoint without Model Monitor schedules."""
    for _ in KINDS:
        aws.routed.respond("CreateMonitoringSchedule", {"MonitoringScheduleArn": "arn:aws:sagemaker:x"})
    return deploy(aws.clients, settings(monitor_engine="managed", **overrides))


def job_definitions(report) -> list[str]:
    return [c.name for c in report.changes if c.kind.endswith("JobDefinition")]


def expect_managed_removal(aws, report, polls: list[dict | None] | None = None) -> None:
    """The Stubber answers: the schedules exist, are deleted, then (polls) gone."""
    spec = report.policy_inputs.spec
    for kind, job in zip(KINDS, job_definitions(report), strict=True):
        name = {"MonitoringScheduleName": spec.schedule(kind)}
        aws.routed.respond("DescribeMonitoringSchedule", existing(spec, kind, job), name)
        aws.routed.respond("DeleteMonitoringSchedule", {}, name)
        for answer in polls or [None]:
            if answer is None:
                aws.routed.not_found("DescribeMonitoringSchedule", name)
            else:
                aws.routed.respond("DescribeMonitoringSchedule", answer, name)


def sent_since(aws, start: int) -> list[str]:
    return [op for _, op, _ in aws.recorder.calls[start:]]


def test_managed_to_processing_removes_the_schedules_and_their_job_definitions(aws):
    aws.package()
    before = managed_deploy(aws)
    spec = before.policy_inputs.spec
    expect_managed_removal(aws, before)
    start = len(aws.recorder.calls)

    after = deploy(aws.clients, settings(monitor_engine="processing"))

    aws.routed.done()
    dq, mq = job_definitions(before)
    assert [(c.kind, c.name) for c in after.changes if c.action == "deleted"] == [
        ("MonitoringSchedule", spec.schedule("data-quality")),
        ("DataQualityJobDefinition", dq),
        ("MonitoringSchedule", spec.schedule("model-quality")),
        ("ModelQualityJobDefinition", mq),
    ]
    sm = aws.clients.sagemaker
    assert sm.list_data_quality_job_definitions()["JobDefinitionSummaries"] == []
    assert sm.list_model_quality_job_definitions()["JobDefinitionSummaries"] == []
    for kind in KINDS:
        assert aws.clients.scheduler.get_schedule(Name=spec.schedule(kind))["State"]
    operations = sent_since(aws, start)
    assert operations.index("CreateSchedule") < operations.index("DeleteMonitoringSchedule")  # never unmonitored
    for call in aws.recorder.calls[start:]:
        validate_request(*call)

    start = len(aws.recorder.calls)
    again = deploy(aws.clients, settings(monitor_engine="processing"))  # the schedules are gone now

    assert not [op for op in sent_since(aws, start) if op.startswith("Delete")]
    assert {c.action for c in again.changes} == {"unchanged"}
    absent = [c.name for c in again.changes if c.kind == "MonitoringSchedule"]
    assert absent == [spec.schedule(k) for k in KINDS]


def test_processing_to_managed_removes_the_scheduler_schedules(aws):
    aws.package()
    before = deploy(aws.clients, settings())
    spec = before.policy_inputs.spec
    start = len(aws.recorder.calls)

    after = managed_deploy(aws)

    assert [(c.kind, c.name, c.action) for c in after.changes if c.kind == "Schedule"] == [
        ("Schedule", spec.schedule(kind), "deleted") for kind in KINDS
    ]
    for kind in KINDS:
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            aws.clients.scheduler.get_schedule(Name=spec.schedule(kind))
    operations = sent_since(aws, start)
    assert operations.count("DeleteSchedule") == 2
    assert operations.index("CreateMonitoringSchedule") < operations.index("DeleteSchedule")
    for call in aws.recorder.calls[start:]:
        validate_request(*call)

    for kind, job in zip(KINDS, job_definitions(after), strict=True):
        aws.routed.respond("DescribeMonitoringSchedule", existing(spec, kind, job))
    start = len(aws.recorder.calls)
    again = deploy(aws.clients, settings(monitor_engine="managed"))

    aws.routed.done()
    assert not [op for op in sent_since(aws, start) if op.startswith(("Delete", "Create", "Update"))]
    assert {c.action for c in again.changes} == {"unchanged"}


def test_another_endpoints_scheduler_schedules_are_untouched(aws):
    aws.package()
    deploy(aws.clients, settings(endpoint_name="bc-a"))
    deploy(aws.clients, settings(endpoint_name="bc-b"))
    scheduler = aws.clients.scheduler
    foreign = scheduler.get_schedule(Name="bc-a-model-quality")  # one named like bc-a's, starting bc-b's jobs
    target = {**foreign["Target"], "Input": scheduler.get_schedule(Name="bc-b-model-quality")["Target"]["Input"]}
    scheduler.update_schedule(
        Name="bc-a-model-quality", ScheduleExpression=foreign["ScheduleExpression"], FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
    )  # fmt: skip

    after = managed_deploy(aws, endpoint_name="bc-a")

    removal = [(c.name, c.action, c.detail) for c in after.changes if c.kind == "Schedule"]
    assert removal == [
        ("bc-a-data-quality", "deleted", "the managed engine runs this check now"),
        ("bc-a-model-quality", "unchanged", "kept: it monitors endpoint bc-b"),
    ]
    names = {s["Name"] for s in scheduler.list_schedules()["Schedules"]}
    assert names == {"bc-a-model-quality", "bc-b-data-quality", "bc-b-model-quality"}


def test_another_endpoints_monitoring_schedules_are_untouched(aws):
    aws.package()
    other = managed_deploy(aws, endpoint_name="bc-b")
    spec = other.policy_inputs.spec
    dq, mq = job_definitions(other)
    claimed = {
        **existing(spec, "data-quality", dq),
        "MonitoringScheduleName": "bc-a-data-quality",
        "EndpointName": "bc-b",
    }
    aws.routed.respond("DescribeMonitoringSchedule", claimed, {"MonitoringScheduleName": "bc-a-data-quality"})
    aws.routed.not_found("DescribeMonitoringSchedule", {"MonitoringScheduleName": "bc-a-model-quality"})
    start = len(aws.recorder.calls)

    after = deploy(aws.clients, settings(endpoint_name="bc-a"))

    aws.routed.done()
    removal = [(c.name, c.action, c.detail) for c in after.changes if c.kind == "MonitoringSchedule"]
    assert removal == [
        ("bc-a-data-quality", "unchanged", "kept: it monitors endpoint bc-b"),
        ("bc-a-model-quality", "unchanged", "absent: no managed schedule to remove"),
    ]
    assert not [op for op in sent_since(aws, start) if op.startswith("Delete")]
    sm = aws.clients.sagemaker
    assert [
        d["MonitoringJobDefinitionName"] for d in sm.list_data_quality_job_definitions()["JobDefinitionSummaries"]
    ] == [dq]
    assert [
        d["MonitoringJobDefinitionName"] for d in sm.list_model_quality_job_definitions()["JobDefinitionSummaries"]
    ] == [mq]


def test_a_schedule_with_an_execution_in_progress_that_refuses_deletion_stops_the_deploy(aws):
    aws.package()
    before = managed_deploy(aws)
    spec = before.policy_inputs.spec
    name = spec.schedule("data-quality")
    busy = {
        **existing(spec, "data-quality", job_definitions(before)[0]),
        "LastMonitoringExecutionSummary": {
            "MonitoringScheduleName": name,
            "ScheduledTime": datetime(2026, 3, 1, 5, tzinfo=timezone.utc),
            "CreationTime": datetime(2026, 3, 1, 5, 1, tzinfo=timezone.utc),
            "LastModifiedTime": datetime(2026, 3, 1, 5, 2, tzinfo=timezone.utc),
            "MonitoringExecutionStatus": "InProgress",
        },
    }
    aws.routed.respond("DescribeMonitoringSchedule", busy)
    aws.routed.refuse("DeleteMonitoringSchedule", "ValidationException", "an execution is in progress")

    with pytest.raises(DeployFailed) as failed:
        deploy(aws.clients, settings(monitor_engine="processing"))

    aws.routed.done()
    message = str(failed.value)
    assert message.startswith(f"cannot remove the managed engine's schedule {name}: DeleteMonitoringSchedule refused")
    assert "ValidationException: an execution is in progress" in message
    assert "scheduled for 2026-03-01T05:00:00+00:00 is InProgress: wait for it to end" in message
    assert "re-run the deploy" in message
    assert aws.clients.sagemaker.list_data_quality_job_definitions()["JobDefinitionSummaries"]  # nothing lost
    assert aws.clients.scheduler.get_schedule(Name=name)["State"]  # the new engine runs meanwhile


def test_a_slow_deletion_is_awaited_only_so_long(aws):
    aws.package()
    before = managed_deploy(aws)
    spec = before.policy_inputs.spec
    pending = {**existing(spec, "data-quality", job_definitions(before)[0]), "MonitoringScheduleStatus": "Pending"}
    expect_managed_removal(aws, before, polls=[pending] * 3)  # settings(): 3 attempts

    after = deploy(aws.clients, settings(monitor_engine="processing"))

    aws.routed.done()  # exactly three polls per schedule, then on
    assert [c.kind for c in after.changes if c.action == "deleted"] == [
        "MonitoringSchedule",
        "DataQualityJobDefinition",
        "MonitoringSchedule",
        "ModelQualityJobDefinition",
    ]


def test_a_scheduler_schedule_that_refuses_deletion_stops_the_deploy():
    import json

    import boto3
    from botocore.stub import Stubber

    from pipelines.deploy.monitor_processing import remove_processing_monitoring
    from pipelines.deploy.scheduler_target import TARGET_ARN
    from tests.deploy.test_monitor_managed import spec

    s = spec()
    scheduler = boto3.client("scheduler", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    ours = {"Environment": {"sagemaker_endpoint_name": s.endpoint}}
    with Stubber(scheduler) as stub:
        stub.add_response(
            "get_schedule",
            {"Name": s.schedule("data-quality"), "Target": {"Arn": TARGET_ARN, "RoleArn": s.role_arn, "Input": json.dumps(ours)}},
            {"Name": s.schedule("data-quality"), "GroupName": "default"},
        )  # fmt: skip
        stub.add_client_error("delete_schedule", "ConflictException", "schedule is being updated", 409)
        with pytest.raises(DeployFailed, match=r"schedule bc-staging-data-quality: DeleteSchedule refused \(Conflict"):
            remove_processing_monitoring(scheduler, s)
