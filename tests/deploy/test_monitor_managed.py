"""Engine `managed`: job definitions in moto, monitoring schedules through botocore's Stubber (moto
has none), created, left when current, and updated (the old job definition deleted) when not."""

from __future__ import annotations

from pipelines.deploy.monitor_managed import (
    data_quality_job_definition,
    ensure_managed_monitoring,
    model_quality_job_definition,
    schedule_request,
)
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.registry import Baselines
from tests.deploy.conftest import ACCOUNT, BUCKET, REGION, ROLE, validate_request

IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def spec(version: str = "v1") -> MonitorSpec:
    base = f"s3://{BUCKET}/baselines/{version}"
    return MonitorSpec(
        endpoint="bc-staging",
        region=REGION,
        account=ACCOUNT,
        role_arn=ROLE,
        capture_destination=f"s3://{BUCKET}/datacapture",
        report_destination=f"s3://{BUCKET}/monitoring/reports",
        ground_truth=f"s3://{BUCKET}/ground-truth/bc-staging",
        baselines=Baselines(
            f"{base}/data-quality/statistics.json",
            f"{base}/data-quality/constraints.json",
            f"{base}/model-quality/constraints.json",
        ),
        tags=[{"Key": "sagemaker:deployment-stage", "Value": "staging"}],
    )


def expect_new_schedules(aws, s: MonitorSpec) -> None:
    for kind, build in (("data-quality", data_quality_job_definition), ("model-quality", model_quality_job_definition)):
        name = s.schedule(kind)
        job = build(s, IMAGE)["JobDefinitionName"]
        aws.routed.not_found("DescribeMonitoringSchedule", {"MonitoringScheduleName": name})
        aws.routed.respond(
            "CreateMonitoringSchedule",
            {"MonitoringScheduleArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{name}"},
            schedule_request(s, kind, job),
        )


def existing(s: MonitorSpec, kind: str, job: str) -> dict:
    return {
        "MonitoringScheduleArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{s.schedule(kind)}",
        "MonitoringScheduleName": s.schedule(kind),
        "MonitoringScheduleStatus": "Scheduled",
        "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "MonitoringScheduleConfig": schedule_request(s, kind, job)["MonitoringScheduleConfig"],
    }


def test_creates_job_definitions_and_hourly_schedules(aws):
    s = spec()
    expect_new_schedules(aws, s)

    changes = ensure_managed_monitoring(aws.clients.sagemaker, s, IMAGE)

    assert [(c.kind, c.action) for c in changes] == [
        ("DataQualityJobDefinition", "created"),
        ("MonitoringSchedule", "created"),
        ("ModelQualityJobDefinition", "created"),
        ("MonitoringSchedule", "created"),
    ]
    aws.routed.done()
    sm = aws.clients.sagemaker
    dq = sm.describe_data_quality_job_definition(JobDefinitionName=changes[0].name)
    assert dq["DataQualityBaselineConfig"]["StatisticsResource"]["S3Uri"] == s.baselines.data_quality_statistics
    assert dq["DataQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == s.baselines.data_quality_constraints
    assert dq["DataQualityAppSpecification"]["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}
    assert dq["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == "bc-staging"
    assert dq["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"] == s.report_destination
    mq = sm.describe_model_quality_job_definition(JobDefinitionName=changes[2].name)
    endpoint_input = mq["ModelQualityJobInput"]["EndpointInput"]
    assert endpoint_input["ProbabilityAttribute"] == "0"
    assert endpoint_input["ProbabilityThresholdAttribute"] == 0.5
    assert (endpoint_input["StartTimeOffset"], endpoint_input["EndTimeOffset"]) == ("-P1D", "-PT1H")
    assert mq["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == s.ground_truth
    assert mq["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    assert mq["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == s.baselines.model_quality_constraints
    schedules = [p for _, op, p in aws.recorder.calls if op == "CreateMonitoringSchedule"]
    assert [p["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] for p in schedules] == [
        "cron(0 * ? * * *)"
    ] * 2
    for service, operation, params in aws.recorder.calls:
        validate_request(service, operation, params)


def test_current_schedules_are_left_alone(aws):
    s = spec()
    expect_new_schedules(aws, s)
    first = ensure_managed_monitoring(aws.clients.sagemaker, s, IMAGE)
    for kind, change in (("data-quality", first[0]), ("model-quality", first[2])):
        aws.routed.respond("DescribeMonitoringSchedule", existing(s, kind, change.name))

    again = ensure_managed_monitoring(aws.clients.sagemaker, s, IMAGE)

    assert {c.action for c in again} == {"unchanged"}
    aws.routed.done()


def test_new_baselines_update_the_schedules_and_remove_the_old_definitions(aws):
    old = spec("v1")
    expect_new_schedules(aws, old)
    first = ensure_managed_monitoring(aws.clients.sagemaker, old, IMAGE)
    new = spec("v2")
    for kind, change, build in (
        ("data-quality", first[0], data_quality_job_definition),
        ("model-quality", first[2], model_quality_job_definition),
    ):
        aws.routed.respond("DescribeMonitoringSchedule", existing(old, kind, change.name))
        wanted = schedule_request(new, kind, build(new, IMAGE)["JobDefinitionName"])
        aws.routed.respond(
            "UpdateMonitoringSchedule",
            {"MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/x"},
            {
                "MonitoringScheduleName": wanted["MonitoringScheduleName"],
                "MonitoringScheduleConfig": wanted["MonitoringScheduleConfig"],
            },
        )

    changes = ensure_managed_monitoring(aws.clients.sagemaker, new, IMAGE)

    assert [(c.kind, c.action) for c in changes] == [
        ("DataQualityJobDefinition", "created"),
        ("MonitoringSchedule", "updated"),
        ("DataQualityJobDefinition", "deleted"),
        ("ModelQualityJobDefinition", "created"),
        ("MonitoringSchedule", "updated"),
        ("ModelQualityJobDefinition", "deleted"),
    ]
    aws.routed.done()
    names = [
        d["MonitoringJobDefinitionName"]
        for d in aws.clients.sagemaker.list_data_quality_job_definitions()["JobDefinitionSummaries"]
    ]
    assert names == [changes[0].name]
