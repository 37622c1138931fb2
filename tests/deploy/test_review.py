"""`--review a2i`: the task UI and flow definition (botocore's Stubber: moto has no A2I), named by
their content, reused when unchanged, replaced when changed (new ones first, the schedule re-pointed,
then the old ones deleted once nothing points at them), and the hourly post-processing schedule
(moto's Scheduler) whose CreateProcessingJob runs processing/start_human_loops.py."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
from datetime import datetime, timezone

import pytest

from pipelines.deploy.aws import deploy, review_spec
from pipelines.deploy.errors import DeployFailed, DeployInputError
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.names import default_endpoint_name, deployment_tags
from pipelines.deploy.review_resources import flow_definition_request, human_task_ui_request
from pipelines.deploy.review_schedule import job_name_prefix
from pipelines.deploy.scheduler_target import fill_template
from tests.deploy.conftest import (
    ACCOUNT,
    BUCKET,
    GROUP,
    REGION,
    ROLE,
    TEMPLATE,
    WORKTEAM,
    review_settings,
    settings,
    validate_request,
)

ENDPOINT = "bc-staging"
CREATED = datetime(2026, 3, 1, 5, tzinfo=timezone.utc)
CHANGED_TEMPLATE = TEMPLATE.replace("Probability of malignancy", "The model's probability of malignancy")


def deploy_settings(template: str = TEMPLATE, **review):
    return settings(endpoint_name=ENDPOINT, review=review_settings(task_template=template, **review))


def spec_of(s):
    """The ReviewSpec the deploy resolves for these settings (the report's is compared with it)."""
    endpoint = s.endpoint_name or default_endpoint_name(s.project_name, GROUP, s.stage)
    monitor = MonitorSpec(
        endpoint=endpoint, region=REGION, account=ACCOUNT, role_arn=ROLE,
        capture_destination=f"s3://{BUCKET}/datacapture", report_destination=f"s3://{BUCKET}/reports",
        ground_truth=f"s3://{BUCKET}/gt", baselines=None, tags=deployment_tags(s.stage, s.project_name, s.project_id),
    )  # fmt: skip
    return review_spec(s, monitor)


def names(review) -> tuple[str, str]:
    return human_task_ui_request(review)["HumanTaskUiName"], flow_definition_request(review)["FlowDefinitionName"]


def described_ui(review) -> dict:
    ui = human_task_ui_request(review)
    return {
        "HumanTaskUiArn": review.arn(f"human-task-ui/{ui['HumanTaskUiName']}"),
        "HumanTaskUiName": ui["HumanTaskUiName"],
        "HumanTaskUiStatus": "Active",
        "CreationTime": CREATED,
        "UiTemplate": {"Url": "https://example.invalid/template", "ContentSha256": "x"},
    }


def described_flow(review, status: str = "Active", **extra) -> dict:
    flow = flow_definition_request(review)
    return {
        "FlowDefinitionArn": review.arn(f"flow-definition/{flow['FlowDefinitionName']}"),
        "FlowDefinitionName": flow["FlowDefinitionName"],
        "FlowDefinitionStatus": status,
        "CreationTime": CREATED,
        "HumanLoopConfig": flow["HumanLoopConfig"],
        "OutputConfig": flow["OutputConfig"],
        "RoleArn": flow["RoleArn"],
        **extra,
    }


def flow_summary(review, status: str = "Active") -> dict:
    flow = described_flow(review, status)
    return {
        key: flow[key] for key in ("FlowDefinitionName", "FlowDefinitionArn", "FlowDefinitionStatus", "CreationTime")
    }


def ui_summary(review) -> dict:
    ui = described_ui(review)
    return {key: ui[key] for key in ("HumanTaskUiName", "HumanTaskUiArn", "CreationTime")}


def expect_created(aws, review, polls: list[dict] | None = None) -> None:
    """Neither exists: both created; the new flow definition is then polled, answered `polls` (default: Active)."""
    ui, flow = human_task_ui_request(review), flow_definition_request(review)
    routed = aws.routed
    routed.not_found("DescribeHumanTaskUi", {"HumanTaskUiName": ui["HumanTaskUiName"]})
    routed.respond("CreateHumanTaskUi", {"HumanTaskUiArn": described_ui(review)["HumanTaskUiArn"]}, ui)
    routed.not_found("DescribeFlowDefinition", {"FlowDefinitionName": flow["FlowDefinitionName"]})
    routed.respond("CreateFlowDefinition", {"FlowDefinitionArn": described_flow(review)["FlowDefinitionArn"]}, flow)
    for answer in [described_flow(review)] if polls is None else polls:
        routed.respond("DescribeFlowDefinition", answer, {"FlowDefinitionName": flow["FlowDefinitionName"]})


def expect_reused(aws, review) -> None:
    ui, flow = names(review)
    aws.routed.respond("DescribeHumanTaskUi", described_ui(review), {"HumanTaskUiName": ui})
    aws.routed.respond("DescribeFlowDefinition", described_flow(review), {"FlowDefinitionName": flow})


def expect_flows(aws, *flows: dict) -> None:
    aws.routed.respond("ListFlowDefinitions", {"FlowDefinitionSummaries": list(flows)}, {"MaxResults": 100})


def expect_uis(aws, *uis: dict) -> None:
    aws.routed.respond("ListHumanTaskUis", {"HumanTaskUiSummaries": list(uis)}, {"MaxResults": 100})


def expect_loops(aws, review, *statuses: str) -> None:
    arn = described_flow(review)["FlowDefinitionArn"]
    loops = [
        {"HumanLoopName": f"loop-{i}", "HumanLoopStatus": status, "CreationTime": CREATED, "FlowDefinitionArn": arn}
        for i, status in enumerate(statuses)
    ]
    aws.a2i.add_response(
        "list_human_loops",
        {"HumanLoopSummaries": loops},
        {"FlowDefinitionArn": arn, "SortOrder": "Descending", "MaxResults": 100},
    )


def expect_deletion(aws, review) -> None:
    """The old flow definition and then its task UI deleted, the flow definition awaited until gone."""
    flow = names(review)[1]
    aws.routed.respond("DeleteFlowDefinition", {}, {"FlowDefinitionName": flow})
    aws.routed.not_found("DescribeFlowDefinition", {"FlowDefinitionName": flow})


def sent_since(aws, start: int) -> list[str]:
    return [operation for _, operation, _ in aws.recorder.calls[start:]]


def review_changes(report) -> list[tuple[str, str, str]]:
    kinds = ("HumanTaskUi", "FlowDefinition")
    return [(c.kind, c.name, c.action) for c in report.changes if c.kind in kinds or c.name.endswith("-human-review")]


def first_deploy(aws, s=None):
    s = s or deploy_settings()
    review = spec_of(s)
    expect_created(aws, review)
    expect_flows(aws, flow_summary(review))
    expect_uis(aws, ui_summary(review))
    return deploy(aws.clients, s), review


def test_names_carry_a_hash_of_the_content_in_lower_case():
    review = spec_of(deploy_settings())
    ui, flow = names(review)
    assert ui.startswith("bc-staging-review-") and flow.startswith("bc-staging-review-") and ui != flow
    assert names(spec_of(deploy_settings())) == (ui, flow)  # same content, same names
    changed = names(spec_of(deploy_settings(CHANGED_TEMPLATE)))
    assert changed[0] != ui and changed[1] != flow  # the flow definition names the task UI it uses
    retitled = names(spec_of(deploy_settings(task_title="Check this prediction")))
    assert retitled[0] == ui and retitled[1] != flow
    s = settings(endpoint_name="BC-Staging-" + "x" * 52, review=review_settings())  # 63 characters, upper case
    long = spec_of(s)
    for name in names(long):
        assert len(name) <= 63 and name == name.lower(), name
    assert len(long.schedule) <= 63 and long.schedule.endswith("-human-review")
    for request, operation in ((human_task_ui_request(review), "CreateHumanTaskUi"), (flow_definition_request(review), "CreateFlowDefinition")):  # fmt: skip
        validate_request("sagemaker", operation, request)


def test_the_flow_definition_request(aws):
    s = deploy_settings(task_count=2, task_availability_seconds=7200, task_time_limit_seconds=600)
    flow = flow_definition_request(spec_of(s))
    assert flow["HumanLoopConfig"] == {
        "WorkteamArn": WORKTEAM,
        "HumanTaskUiArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-task-ui/{names(spec_of(s))[0]}",
        "TaskTitle": "Review a model prediction",
        "TaskDescription": s.review.task_description,
        "TaskCount": 2,
        "TaskAvailabilityLifetimeInSeconds": 7200,
        "TaskTimeLimitInSeconds": 600,
    }
    assert flow["OutputConfig"] == {"S3OutputPath": f"s3://{BUCKET}/human-review/{ENDPOINT}/output"}
    assert flow["RoleArn"] == ROLE
    assert "HumanLoopActivationConfig" not in flow  # custom task type: the job decides which predictions
    role = f"arn:aws:iam::{ACCOUNT}:role/a2i"
    assert flow_definition_request(spec_of(deploy_settings(role_arn=role)))["RoleArn"] == role


def test_first_deploy_creates_the_task_ui_the_flow_definition_and_the_schedule(aws, starter):
    aws.package()
    s = deploy_settings()
    review = spec_of(s)
    expect_created(aws, review, [described_flow(review, "Initializing")] * 2 + [described_flow(review)])
    ui, flow = names(review)
    expect_flows(aws, flow_summary(review))
    expect_uis(aws, ui_summary(review))

    report = deploy(aws.clients, s)

    aws.done()
    assert report.policy_inputs.review == review
    assert review_changes(report) == [
        ("HumanTaskUi", ui, "created"),
        ("FlowDefinition", flow, "created"),
        ("Schedule", f"{ENDPOINT}-human-review", "created"),
    ]
    operations = [op for op in aws.recorder.operations() if op in ("CreateHumanTaskUi", "CreateFlowDefinition", "CreateSchedule")]  # fmt: skip
    assert operations[-3:] == ["CreateHumanTaskUi", "CreateFlowDefinition", "CreateSchedule"]
    assert aws.recorder.operations().count("DescribeFlowDefinition") == 4  # absent, then polled until Active
    schedule = aws.clients.scheduler.get_schedule(Name=f"{ENDPOINT}-human-review")
    assert schedule["ScheduleExpression"] == "cron(15 * * * ? *)" and schedule["State"] == "ENABLED"
    template = json.loads(schedule["Target"]["Input"])
    flow_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:flow-definition/{flow}"
    assert template["AppSpecification"]["ContainerArguments"] == [
        "--capture-uri", f"s3://{BUCKET}/datacapture/{ENDPOINT}",
        "--scheduled-time", "<aws.scheduler.scheduled-time>",
        "--flow-definition-arn", flow_arn,
        "--audit-rate", "0.05",
        "--output-uri", f"s3://{BUCKET}/human-review/{ENDPOINT}/manifests",
        "--region", REGION,
    ]  # fmt: skip
    assert template["AppSpecification"]["ImageUri"].endswith("/sagemaker-xgboost:3.0-5")
    assert template["RoleArn"] == ROLE
    assert report.review == {
        "task_ui": ui,
        "flow_definition": flow,
        "flow_definition_arn": flow_arn,
        "schedule": f"{ENDPOINT}-human-review",
        "workteam_arn": WORKTEAM,
        "output_path": f"s3://{BUCKET}/human-review/{ENDPOINT}/output",
        "manifests": f"s3://{BUCKET}/human-review/{ENDPOINT}/manifests",
    }
    for execution_id in ("d32c5kddcf5bb8c3", "0123456789abcdef0123456789abcdef0123"):
        request = fill_template(schedule["Target"]["Input"], "2026-03-01T05:15:00Z", execution_id)
        validate_request("sagemaker", "CreateProcessingJob", request)
        assert request["ProcessingJobName"] == f"{job_name_prefix(review)}-{execution_id}"
        assert "2026-03-01T05:15:00Z" in request["AppSpecification"]["ContainerArguments"]
    code = {i["InputName"]: i["S3Input"]["S3Uri"] for i in template["ProcessingInputs"]}
    runproc = read_s3(aws, code["entrypoint"]).decode()
    assert runproc.rstrip().endswith('python start_human_loops.py "$@"')
    with tarfile.open(fileobj=io.BytesIO(read_s3(aws, code["code"]))) as tar:
        assert tar.extractfile("start_human_loops.py").read() == starter.read_bytes()
        assert "processing/names.py" in tar.getnames()
    for call in aws.recorder.calls:
        validate_request(*call)


def read_s3(aws, uri: str) -> bytes:
    bucket, key = uri[5:].split("/", 1)
    return aws.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_second_deploy_with_the_same_template_reuses_both(aws, starter):
    aws.package()
    first, review = first_deploy(aws)
    expect_reused(aws, review)
    expect_flows(aws, flow_summary(review))
    expect_uis(aws, ui_summary(review))
    start = len(aws.recorder.calls)

    again = deploy(aws.clients, deploy_settings())

    aws.done()
    assert not [op for op in sent_since(aws, start) if op.startswith(("Create", "Update", "Delete", "Put"))]
    assert {action for _, _, action in review_changes(again)} == {"unchanged"}
    assert len(review_changes(again)) == 3


def test_a_changed_template_makes_new_ones_repoints_the_schedule_then_deletes_the_old(aws, starter):
    aws.package()
    _, old = first_deploy(aws)
    old_ui, old_flow = names(old)
    new = spec_of(deploy_settings(CHANGED_TEMPLATE))
    new_ui, new_flow = names(new)
    expect_created(aws, new)
    expect_flows(aws, flow_summary(old), flow_summary(new))
    expect_loops(aws, old, "Completed", "Stopped", "Failed")
    expect_deletion(aws, old)
    expect_uis(aws, ui_summary(old), ui_summary(new))
    aws.routed.respond("DeleteHumanTaskUi", {}, {"HumanTaskUiName": old_ui})
    start = len(aws.recorder.calls)

    report = deploy(aws.clients, deploy_settings(CHANGED_TEMPLATE))

    aws.done()
    assert review_changes(report) == [
        ("HumanTaskUi", new_ui, "created"),
        ("FlowDefinition", new_flow, "created"),
        ("Schedule", f"{ENDPOINT}-human-review", "updated"),
        ("FlowDefinition", old_flow, "deleted"),
        ("HumanTaskUi", old_ui, "deleted"),
    ]
    sent = sent_since(aws, start)
    order = ["CreateHumanTaskUi", "CreateFlowDefinition", "UpdateSchedule", "DeleteFlowDefinition", "DeleteHumanTaskUi"]
    assert [op for op in sent if op in order] == order
    target = aws.clients.scheduler.get_schedule(Name=f"{ENDPOINT}-human-review")["Target"]
    assert f"flow-definition/{new_flow}" in target["Input"] and old_flow not in target["Input"]
    for call in aws.recorder.calls[start:]:
        validate_request(*call)


def test_an_old_flow_definition_with_unfinished_loops_is_kept_until_a_later_deploy(aws, starter):
    aws.package()
    _, old = first_deploy(aws)
    old_ui, old_flow = names(old)
    new = spec_of(deploy_settings(CHANGED_TEMPLATE))
    expect_created(aws, new)
    expect_flows(aws, flow_summary(old), flow_summary(new))
    expect_loops(aws, old, "InProgress", "Completed")
    expect_uis(aws, ui_summary(old), ui_summary(new))
    aws.routed.respond("DescribeFlowDefinition", described_flow(old), {"FlowDefinitionName": old_flow})
    start = len(aws.recorder.calls)

    kept = deploy(aws.clients, deploy_settings(CHANGED_TEMPLATE))

    aws.done()
    assert not [op for op in sent_since(aws, start) if op.startswith("Delete")]
    details = {c.name: (c.action, c.detail) for c in kept.changes}
    assert details[old_flow][0] == "unchanged"
    assert details[old_flow][1].startswith("kept: human loop loop-0 is not finished")
    assert details[old_ui] == (
        "unchanged",
        f"kept: flow definition {old_flow} still uses it; a later deploy deletes it",
    )
    target = aws.clients.scheduler.get_schedule(Name=f"{ENDPOINT}-human-review")["Target"]
    assert names(new)[1] in target["Input"]  # the schedule already starts new loops with the new one

    expect_reused(aws, new)  # a later deploy, the loop has ended: both go
    expect_flows(aws, flow_summary(old), flow_summary(new))
    expect_loops(aws, old, "Completed", "Completed")
    expect_deletion(aws, old)
    expect_uis(aws, ui_summary(old), ui_summary(new))
    aws.routed.respond("DeleteHumanTaskUi", {}, {"HumanTaskUiName": old_ui})

    later = deploy(aws.clients, deploy_settings(CHANGED_TEMPLATE))

    aws.done()
    assert [(c.name, c.action) for c in later.changes if c.action == "deleted"] == [(old_flow, "deleted"), (old_ui, "deleted")]  # fmt: skip


def test_a_running_post_processing_job_keeps_the_old_flow_definition(aws, starter):
    aws.package()
    _, old = first_deploy(aws)
    new = spec_of(deploy_settings(CHANGED_TEMPLATE))
    job = f"{job_name_prefix(new)}-d32c5kddcf5bb8c3"
    aws.routed.routes(("ListProcessingJobs",))
    expect_created(aws, new)
    expect_flows(aws, flow_summary(old), flow_summary(new))
    aws.routed.respond(
        "ListProcessingJobs",
        {"ProcessingJobSummaries": [{"ProcessingJobName": job, "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{job}",
                                     "CreationTime": CREATED, "ProcessingJobStatus": "InProgress"}]},
        {"NameContains": job_name_prefix(new), "StatusEquals": "InProgress", "MaxResults": 100},
    )  # fmt: skip
    expect_uis(aws, ui_summary(old), ui_summary(new))
    aws.routed.respond("DescribeFlowDefinition", described_flow(old), {"FlowDefinitionName": names(old)[1]})

    report = deploy(aws.clients, deploy_settings(CHANGED_TEMPLATE))

    aws.done()  # no ListHumanLoops, no deletion
    detail = next(c.detail for c in report.changes if c.name == names(old)[1])
    assert detail.startswith(f"kept: post-processing job {job} is running and may still start loops with it")


def test_a_refused_deletion_is_kept_with_its_reason_and_the_deploy_succeeds(aws, starter):
    aws.package()
    _, old = first_deploy(aws)
    new = spec_of(deploy_settings(CHANGED_TEMPLATE))
    expect_created(aws, new)
    expect_flows(aws, flow_summary(old), flow_summary(new))
    expect_loops(aws, old)
    aws.routed.refuse("DeleteFlowDefinition", "ResourceInUse", "Flow definition is in use")
    expect_uis(aws, ui_summary(old), ui_summary(new))
    aws.routed.respond("DescribeFlowDefinition", described_flow(old), {"FlowDefinitionName": names(old)[1]})

    report = deploy(aws.clients, deploy_settings(CHANGED_TEMPLATE))

    aws.done()
    details = {c.name: c.detail for c in report.changes}
    assert details[names(old)[1]] == (
        "kept: DeleteFlowDefinition refused (ResourceInUse: Flow definition is in use); a later deploy retries"
    )
    assert details[names(old)[0]].startswith(f"kept: flow definition {names(old)[1]} still uses it")


def test_other_endpoints_review_resources_are_left_alone(aws, starter):
    aws.package()
    s = deploy_settings()
    review = spec_of(s)
    other = spec_of(settings(endpoint_name=f"{ENDPOINT}-review", review=review_settings()))  # its stem begins like ours
    expect_created(aws, review)
    expect_flows(aws, flow_summary(review), flow_summary(other))
    expect_uis(aws, ui_summary(review), ui_summary(other))

    report = deploy(aws.clients, s)

    aws.done()  # nothing of the other endpoint listed, asked about or deleted
    assert names(other)[1].startswith(f"{review.stem}-")
    assert {c.name for c in report.changes}.isdisjoint(names(other))


def test_a_flow_definition_that_failed_stops_the_deploy_before_the_schedule(aws, starter):
    aws.package()
    s = deploy_settings()
    review = spec_of(s)
    flow = flow_definition_request(review)
    expect_created(aws, review, [described_flow(review, "Failed", FailureReason="Role cannot be assumed by SageMaker")])

    with pytest.raises(DeployFailed) as error:
        deploy(aws.clients, s)

    aws.done()
    assert str(error.value).startswith(
        f"flow definition {flow['FlowDefinitionName']} is Failed (Role cannot be assumed by SageMaker); delete it"
    )
    schedules = [x["Name"] for x in aws.clients.scheduler.list_schedules()["Schedules"]]
    assert f"{ENDPOINT}-human-review" not in schedules


def test_no_wait_points_the_schedule_without_polling(aws, starter):
    aws.package()
    s = deploy_settings()
    review = spec_of(s)
    expect_created(aws, review, polls=[])
    expect_flows(aws, flow_summary(review, "Initializing"))
    expect_uis(aws, ui_summary(review))

    deploy(aws.clients, dataclasses.replace(s, wait=False))

    aws.done()
    assert aws.recorder.operations().count("DescribeFlowDefinition") == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"workteam_arn": None}, "--review a2i needs --workteam-arn"),
        ({"workteam_arn": "reviewers"}, "--workteam-arn 'reviewers' is not a private work team's ARN"),
        (
            {"workteam_arn": "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default"},
            "public and vendor work teams are not accepted",
        ),
        (
            {"workteam_arn": "arn:aws:sagemaker:us-east-1:123:workteam/private-crowd/x"},
            "is not a private work team's ARN",
        ),
        ({"task_count": 4}, "--task-count 4: A2I sends each prediction to 1, 2 or 3 reviewers"),
        ({"task_count": 0}, "--task-count 0"),
        ({"task_title": "t" * 129}, "--task-title has 129 characters; A2I takes at most 128"),
        ({"task_title": " "}, "--task-title must not be empty"),
        ({"task_title": "bell\x07"}, "--task-title has characters A2I does not accept"),
        ({"task_description": "d" * 256}, "--task-description has 256 characters; A2I takes at most 255"),
        ({"task_description": "two\nlines"}, "--task-description must be one line"),
        ({"task_availability_seconds": 864001}, "--task-availability 864001: 1 to 864000 seconds"),
        ({"task_time_limit_seconds": 29}, "--task-time-limit 29: at least 30 s"),
        ({"audit_rate": 1.5}, "--audit-rate 1.5: a share between 0 and 1"),
        ({"output_path": "output/"}, "--review-output: Not an S3 URI"),
        ({"manifest_destination": "s3://Bad_Bucket/x"}, "--review-manifests: Invalid bucket name"),
        ({"task_template": ""}, "needs a task template"),
        ({"task_template": "x" * 128_001}, "the task template has 128001 characters; A2I takes at most 128000"),
        (
            {"task_template": "{% for row in task.input.rows %}<p>{{ row }}</p>"},
            "the task template is not valid Liquid",
        ),
    ],
)
def test_bad_review_settings(overrides, message):
    with pytest.raises(DeployInputError) as error:
        review_settings(**overrides)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"region": "eu-west-1"},
            "--workteam-arn is a work team of region us-east-1; this deploy creates the flow definition in eu-west-1",
        ),
        ({"review": review_settings(role_arn="a2i-role")}, "--review-role-arn 'a2i-role' is not an IAM role ARN"),
    ],
)
def test_bad_deploy_settings_with_review(overrides, message):
    with pytest.raises(DeployInputError) as error:
        settings(**{"review": review_settings(), **overrides})
    assert message in str(error.value)


def test_a_work_team_of_another_account_is_refused_before_anything_is_created(aws, starter):
    aws.package()
    foreign = WORKTEAM.replace(ACCOUNT, "999999999999")
    start = len(aws.recorder.calls)
    with pytest.raises(DeployInputError, match="work team of account 999999999999; this deploy runs in account 1234"):
        deploy(aws.clients, deploy_settings(workteam_arn=foreign))
    assert sent_since(aws, start) == ["ListModelPackages", "DescribeModelPackage", "GetCallerIdentity"]


def test_a_checkout_without_the_starter_script_is_refused_before_anything_is_created(aws, monkeypatch, tmp_path):
    from pipelines.deploy import code_bundle

    (tmp_path / "processing").mkdir()
    monkeypatch.setattr(code_bundle, "processing_package", lambda: tmp_path / "processing")
    aws.package()
    start = len(aws.recorder.calls)
    with pytest.raises(
        DeployInputError, match=r"processing/start_human_loops.py is not in this checkout.*--review none"
    ):
        deploy(aws.clients, deploy_settings())
    assert sent_since(aws, start) == ["ListModelPackages", "DescribeModelPackage", "GetCallerIdentity"]


def test_a_refused_listing_fails_the_deploy_after_the_schedule_points_at_the_new_flow(aws, starter):
    aws.package()
    s = deploy_settings()
    review = spec_of(s)
    expect_created(aws, review)
    aws.routed.refuse("ListFlowDefinitions", "AccessDeniedException", "not authorized to ListFlowDefinitions")

    with pytest.raises(DeployFailed) as error:
        deploy(aws.clients, s)

    aws.done()
    assert str(error.value) == (
        "ListFlowDefinitions failed: AccessDeniedException: not authorized to ListFlowDefinitions. "
        "The review resources are in place; removing the ones they replaced did not run: re-run the deploy"
    )
    target = aws.clients.scheduler.get_schedule(Name=f"{ENDPOINT}-human-review")["Target"]
    assert names(review)[1] in target["Input"]
