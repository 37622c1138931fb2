"""`mlops teardown --aws`: moto for what it has (the stack from the template, endpoints, models, configs, job
definitions, pipelines, state machines, rules, Scheduler, S3, KMS, the tagging API), botocore's Stubber for what
it has not (SageMaker projects, monitoring schedules, flow definitions, task UIs)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner
from moto import mock_aws

from pipelines.teardown.aws import TeardownClients, Waits, dry_run_answer, teardown
from pipelines.teardown.inventory import Inventory, Resource, TeardownFailed, find
from pipelines.template.dry_run import Recorder
from tests.templates.conftest import REGION
from tests.templates.moto_stacks import launch

ACCOUNT = "123456789012"
PROJECT = "demo"
PROJECT_ID = "p-abc123"
ENDPOINT = f"{PROJECT}-prod"
TAGS = [{"Key": "sagemaker:project-name", "Value": PROJECT}, {"Key": "sagemaker:project-id", "Value": PROJECT_ID}]
FAST = Waits(seconds=5, interval=0.01)


class Split:
    """A client whose `stubbed` operations go to a Stubber'd twin (moto lacks them) and the rest to moto."""

    def __init__(self, moto_client, stubbed: tuple[str, ...]):
        self._moto = moto_client
        self._twin = boto3.client(moto_client.meta.service_model.service_name, region_name=REGION)
        self.stub = Stubber(self._twin)
        self._stubbed = stubbed

    def __getattr__(self, name):
        return getattr(self._twin if name in self._stubbed else self._moto, name)


@pytest.fixture
def session(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def account(session, templates):
    """A project as the template and a deploy leave it, and another project's look-alikes."""
    cloudformation = session.client("cloudformation")
    launch(cloudformation, "launch", templates["launch-role.yaml"], {})
    parameters = {"SageMakerProjectName": PROJECT, "SageMakerProjectId": PROJECT_ID, "SeedCodeBucket": "sagemaker-seed"}
    launch(cloudformation, "SC-1-pp-abc", templates["product.yaml"], parameters)
    sm = session.client("sagemaker")
    for project, tags in ((PROJECT, TAGS), ("other", [{"Key": "sagemaker:project-name", "Value": "other"}])):
        endpoint = f"{project}-prod"
        container = {"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1", "ModelDataUrl": "s3://b/m.tar.gz"}
        sm.create_model(
            ModelName=f"{endpoint}-1",
            PrimaryContainer=container,
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
            Tags=tags,
        )
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": f"{endpoint}-1",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
        }
        sm.create_endpoint_config(EndpointConfigName=f"{endpoint}-1", ProductionVariants=[variant], Tags=tags)
        sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-1", Tags=tags)
        sm.create_model_package_group(ModelPackageGroupName=f"{project}-{PROJECT_ID}", Tags=tags)
        session.client("scheduler").create_schedule(
            Name=f"{endpoint}-data-quality",
            ScheduleExpression="cron(15 * * * ? *)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
                "Input": json.dumps({"Environment": {"sagemaker_endpoint_name": endpoint}}),
            },
        )
    sm.create_model_package(
        ModelPackageGroupName=f"{PROJECT}-{PROJECT_ID}",
        InferenceSpecification={
            "Containers": [{"Image": "123.dkr.ecr.us-east-1.amazonaws.com/x:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )
    pipeline = {"Version": "2020-12-01", "Steps": []}
    sm.create_pipeline(
        PipelineName=f"{PROJECT}-{PROJECT_ID}",
        PipelineDefinition=json.dumps(pipeline),
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
        Tags=TAGS,
    )
    bucket = f"sagemaker-{PROJECT_ID}-{REGION}-artifacts"
    s3 = session.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=bucket, Key="datacapture/demo-prod/x.jsonl", Body=body)
    s3.delete_object(Bucket=bucket, Key="datacapture/demo-prod/x.jsonl")  # a delete marker too
    sfn = session.client("stepfunctions")
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    sfn.start_execution(stateMachineArn=machine, input="{}")
    # moto 5.2.5 keeps an endpoint config's ARN as a 1-tuple (`self.arn = (…,)`), which its tagging API then
    # returns as "('arn:…',)"; AWS returns the ARN.
    from moto.sagemaker.models import sagemaker_backends

    for config in sagemaker_backends[ACCOUNT][REGION].endpoint_configs.values():
        config.arn = config.endpoint_config_arn
    # moto 5.2.5 keeps a CloudFormation key's KeyPolicy as the template's dict (models.py: policy=properties[
    # "KeyPolicy"]) and its DescribeKey then fails to json.loads it; AWS stores the policy as a JSON document.
    from moto.kms.models import kms_backends

    for key in kms_backends[ACCOUNT][REGION].keys.values():
        if isinstance(key.policy, dict):
            key.policy = json.dumps(key.policy)
    return session


def clients(session, sagemaker_stubbed: tuple[str, ...] = ("describe_project",)) -> TeardownClients:
    made = TeardownClients.from_session(session)
    made.sagemaker = Split(made.sagemaker, sagemaker_stubbed)
    return made


def no_project(split: Split, times: int = 1) -> None:
    for _ in range(times):
        split.stub.add_client_error("describe_project", "ValidationException", "Project demo does not exist")


def test_find_sees_the_project_and_not_its_namesakes(account):
    made = clients(account)
    no_project(made.sagemaker)
    with made.sagemaker.stub:
        inventory = find(made, PROJECT, None)
    kinds = {(r.kind, r.name) for r in inventory.resources}
    assert {("Endpoint", ENDPOINT), ("EndpointConfig", f"{ENDPOINT}-1"), ("Model", f"{ENDPOINT}-1")} <= kinds
    assert {("Schedule", f"{ENDPOINT}-data-quality"), ("Pipeline", f"{PROJECT}-{PROJECT_ID}")} <= kinds
    assert ("Bucket", f"sagemaker-{PROJECT_ID}-{REGION}-artifacts") in kinds
    assert not [r for r in inventory.resources if r.name.startswith("other")]
    assert [s.name for s in inventory.stacks] == ["SC-1-pp-abc"]
    owned = {r.kind for r in inventory.owned_by_stacks()}
    assert owned == {"StateMachine"}, "the stack's state machine goes with it; its buckets and key are data"
    assert {r.kind for r in inventory.resources if r.data} == {"Bucket", "KmsKey", "ModelPackageGroup"}


def test_a_dry_run_sends_no_deletion(account):
    made = clients(account)
    no_project(made.sagemaker)
    recorder = Recorder(REGION, dry_run_answer)
    for client in made.all():
        recorder.attach(getattr(client, "_moto", client))
    asked = []
    with made.sagemaker.stub:
        inventory = find(made, PROJECT, None)
        report = teardown(made, inventory, lambda data: asked.append(data) or True, FAST, dry_run=True)
    assert not asked, "a dry run never asks to delete data, and never deletes it"
    sm = account.client("sagemaker")
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    assert account.client("cloudformation").describe_stacks(StackName="SC-1-pp-abc")["Stacks"]
    not_sent = [(r["service"], r["operation"]) for r in recorder.requests if not r["sent"]]
    assert ("sagemaker", "DeleteEndpoint") in not_sent and ("cloudformation", "DeleteStack") in not_sent
    assert ("stepfunctions", "StopExecution") in not_sent and ("scheduler", "DeleteSchedule") in not_sent
    assert not [op for _, op in not_sent if op.startswith(("DeleteBucket", "ScheduleKeyDeletion", "DeleteObjects"))]
    assert all(r["sent"] for r in recorder.requests if r["operation"].startswith(("List", "Describe", "Get")))
    kept = [s for s in report.steps if s["action"] == "kept"]
    assert {s["kind"] for s in kept} == {"Bucket", "KmsKey", "ModelPackageGroup"}


def test_teardown_removes_the_project_and_asks_before_its_data(account):
    sm = account.client("sagemaker")
    group = f"{PROJECT}-{PROJECT_ID}"
    (package,) = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    made = clients(account, ("describe_project", "delete_model_package", "delete_model_package_group"))
    no_project(made.sagemaker)
    stub = made.sagemaker.stub
    stub.add_response("delete_model_package", {}, {"ModelPackageName": package["ModelPackageArn"]})
    stub.add_response("delete_model_package_group", {}, {"ModelPackageGroupName": group})
    asked = []
    with stub:
        inventory = find(made, PROJECT, None)
        report = teardown(made, inventory, lambda data: asked.append([r.kind for r in data]) or True, FAST)
        stub.assert_no_pending_responses()  # moto has no DeleteModelPackage(Group): the registry's data went by them
    assert sorted(asked[0]) == ["Bucket", "Bucket", "KmsKey", "ModelPackageGroup"]
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["other-prod"]
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == ["other-prod-1"]
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == ["other-prod-1"]
    assert sm.list_pipelines()["PipelineSummaries"] == []
    names = [s["Name"] for s in account.client("scheduler").list_schedules()["Schedules"]]
    assert names == ["other-prod-data-quality"]
    stacks = [s["StackName"] for s in account.client("cloudformation").describe_stacks()["Stacks"]]
    assert stacks == ["launch"]
    buckets = [b["Name"] for b in account.client("s3").list_buckets()["Buckets"]]
    assert not [b for b in buckets if PROJECT_ID in b]
    key = next(r for r in inventory.resources if r.kind == "KmsKey")
    assert account.client("kms").describe_key(KeyId=key.name)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    stopped = [s for s in report.steps if s["kind"] == "Execution"]
    assert len(stopped) == 1 and stopped[0]["action"] == "stopped"
    assert report.steps.index(stopped[0]) < next(i for i, s in enumerate(report.steps) if s["kind"] == "Endpoint")


def test_unconfirmed_data_is_kept_and_a_second_run_resumes(account):
    made = clients(account)
    no_project(made.sagemaker, times=2)
    with made.sagemaker.stub:
        report = teardown(made, find(made, PROJECT, None), lambda data: False, FAST)
        assert {s["action"] for s in report.steps if s["kind"] == "Bucket"} == {"kept"}
        assert account.client("s3").head_bucket(Bucket=f"sagemaker-{PROJECT_ID}-{REGION}-artifacts")
        again = find(made, PROJECT, None)
    assert {r.kind for r in again.resources} == {"Bucket", "KmsKey", "ModelPackageGroup"}
    assert again.stacks == []


def test_a_sagemaker_project_is_deleted_through_sagemaker(account):
    """DeleteProject terminates the provisioned product (its stack); other stacks of the project go by DeleteStack."""
    made = clients(account, ("describe_project", "delete_project"))
    project = {
        "ProjectName": PROJECT,
        "ProjectId": PROJECT_ID,
        "ProjectArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:project/{PROJECT}",
        "ProjectStatus": "CreateCompleted",
        "ServiceCatalogProvisioningDetails": {"ProductId": "prod-1"},
        "ServiceCatalogProvisionedProductDetails": {"ProvisionedProductId": "pp-abc"},
        "CreationTime": "2026-01-01T00:00:00Z",
    }
    stub = made.sagemaker.stub
    stub.add_response("describe_project", project, {"ProjectName": PROJECT})
    stub.add_response("delete_project", {}, {"ProjectName": PROJECT})
    stub.add_response("describe_project", {**project, "ProjectStatus": "DeleteInProgress"}, {"ProjectName": PROJECT})
    stub.add_client_error(
        "describe_project",
        "ValidationException",
        "Project demo does not exist",
        expected_params={"ProjectName": PROJECT},
    )
    with stub:
        inventory = find(made, PROJECT, None)
        report = teardown(made, inventory, lambda data: False, FAST)
        stub.assert_no_pending_responses()
    assert inventory.project_id == PROJECT_ID
    assert {
        "kind": "Project",
        "name": PROJECT,
        "action": "deleted",
        "detail": "terminates provisioned product pp-abc and its stack",
    } in report.steps
    assert not [s for s in report.steps if s["kind"] == "Stack"], "the product's stack is SageMaker's to delete"


def test_what_moto_lacks_is_deleted_too():
    """Monitoring schedules, flow definitions and task UIs (Stubber): each deleted; one already gone is fine."""
    sagemaker = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sagemaker)
    stub.add_response("delete_monitoring_schedule", {}, {"MonitoringScheduleName": f"{ENDPOINT}-data-quality"})
    stub.add_response("delete_flow_definition", {}, {"FlowDefinitionName": f"{ENDPOINT}-review-0123456789"})
    stub.add_client_error(
        "delete_human_task_ui",
        "ResourceNotFound",
        "not found",
        expected_params={"HumanTaskUiName": f"{ENDPOINT}-review-ui"},
    )
    stub.add_response(
        "delete_data_quality_job_definition", {}, {"JobDefinitionName": f"{ENDPOINT}-data-quality-0123456789"}
    )
    inventory = Inventory(PROJECT, PROJECT_ID)
    inventory.resources = [
        Resource("MonitoringSchedule", f"{ENDPOINT}-data-quality"),
        Resource("FlowDefinition", f"{ENDPOINT}-review-0123456789"),
        Resource("HumanTaskUi", f"{ENDPOINT}-review-ui"),
        Resource("DataQualityJobDefinition", f"{ENDPOINT}-data-quality-0123456789"),
        Resource("HumanTaskUi", f"{PROJECT}-review-abc", stack="SC-1-pp-abc"),  # the stack's: goes with it
    ]
    made = TeardownClients(sagemaker, *[None] * 8)
    with stub:
        report = teardown(made, inventory, lambda data: False, FAST)
        stub.assert_no_pending_responses()
    assert [(s["kind"], s["action"]) for s in report.steps] == [
        ("MonitoringSchedule", "deleted"),
        ("FlowDefinition", "deleted"),
        ("HumanTaskUi", "already gone"),
        ("DataQualityJobDefinition", "deleted"),
    ]


def test_a_refusal_stops_the_teardown_with_aws_words():
    sagemaker = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(sagemaker)
    stub.add_client_error("delete_endpoint", "AccessDeniedException", "not authorized to sagemaker:DeleteEndpoint")
    inventory = Inventory(PROJECT, PROJECT_ID, resources=[Resource("Endpoint", ENDPOINT)])
    with (
        stub,
        pytest.raises(TeardownFailed, match="DeleteEndpoint demo-prod refused: AccessDeniedException: not authorized"),
    ):
        teardown(TeardownClients(sagemaker, *[None] * 8), inventory, lambda data: True, FAST)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["teardown"], "choose what to tear down"),
        (["teardown", "--aws"], "--aws needs --project NAME"),
        (["teardown", "--local", "--project", "x"], "--project: only with --aws"),
        (["teardown", "--local", "--yes"], "--yes: only with --aws"),
    ],
)
def test_bad_arguments_are_usage_errors(arguments, message):
    from pipelines.cli import main

    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2 and message in result.output


def test_the_cli_dry_run_lists_and_sends_no_deletion(account, monkeypatch):
    """Through the command: DescribeProject is not in moto, so it answers as AWS does for a missing project."""
    from botocore.awsrequest import AWSResponse

    from pipelines.cli import main

    def missing_project(model, **_kwargs):
        if model.name == "DescribeProject":
            return AWSResponse(None, 400, {}, None), {
                "Error": {"Code": "ValidationException", "Message": "does not exist"}
            }
        return None

    real_client = boto3.Session.client

    def client(self, name, *args, **kwargs):
        made = real_client(self, name, *args, **kwargs)
        if name == "sagemaker":
            made.meta.events.register("before-call.sagemaker.DescribeProject", missing_project)
        return made

    monkeypatch.setattr(boto3.Session, "client", client)
    result = CliRunner().invoke(main, ["teardown", "--aws", "--project", PROJECT, "--region", REGION, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would delete: Endpoint {ENDPOINT}" in result.output
    assert "would delete: Stack SC-1-pp-abc" in result.output
    assert f"kept: Bucket sagemaker-{PROJECT_ID}-{REGION}-artifacts" in result.output
    assert "requests validated and not sent" in result.output
    assert account.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
