"""The state machine's role allows every request the workflow makes, on the resource it makes it on, and grants
nothing no request needs; parliament finds no issue in any of the workflow's documents.

The requests are the ones the workflow really sends: executions run in the foreground here (the local
interpreter with recording clients) against the local services, for a first deploy, an update to a new
version and a re-run of that version (so the create-else-find, update and delete paths all run), with each
monitor engine; before the update a direct deploy with the other engine makes its schedules, so the update
removes them (the engine switch's deletes). What a request needs comes from AWS's authorization rules (tests/deploy/test_iam.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import threading

import pytest

from tests.deploy.test_iam import Need, check, needs_of, sagemaker_arn
from tests.deploy.workflow.conftest import GROUP, wait_for

GATE = "Approve production"


class Runs:
    """Executions of one state machine, interpreted in this process with clients that record every request."""

    def __init__(self, home, settings):
        from offline.aws.states.backend import StepFunctionsBackend
        from offline.state import StateDB
        from offline.stepfunctions.runner import local_clients, process_start
        from tests.deploy.conftest import Recorder

        self.home, self.settings = home, settings
        self.backend = StepFunctionsBackend(
            StateDB.for_home(home),
            home,
            launcher=lambda arn: self.backend.store.set_runner(arn, os.getpid(), process_start(os.getpid())),
        )
        self.recorder = Recorder()
        made = local_clients(home)

        def clients(service):
            client = made(service)
            if not getattr(client, "_recorded", False):
                self.recorder.attach(client)
                client._recorded = True
            return client

        self.clients = clients

    def run(self, package_arn: str, status: str = "SUCCEEDED") -> dict:
        from offline.aws import local_session
        from offline.stepfunctions.interpreter import run_execution
        from pipelines.deploy.workflow.trigger import INPUT_PATHS, INPUT_TEMPLATE, state_change_event, transform

        package = local_session(self.home).client("sagemaker").describe_model_package(ModelPackageName=package_arn)
        text = transform(state_change_event(package, "us-east-1", "123456789012"), INPUT_PATHS, INPUT_TEMPLATE)
        arn = self.backend.start_execution({"stateMachineArn": self.settings.state_machine_arn, "input": text})[
            "executionArn"
        ]
        failures = []

        def interpret():
            try:
                run_execution(self.backend.store, arn, self.clients)
            except Exception as e:  # re-raised below, in the test's thread
                failures.append(e)

        thread = threading.Thread(target=interpret)
        thread.start()

        def gate_or_end():
            if self.backend.describe_execution(arn)["status"] != "RUNNING":
                return "ended"
            gates = [t for t in self.backend.pending_tasks(arn) if t.state_name == GATE]
            return gates[0] if gates else None

        found = wait_for(gate_or_end, 120, "the gate or the end")
        if found != "ended":
            self.backend.send_task_success(found.token, json.dumps({"approvedBy": "test"}))
        thread.join(120)
        if failures:
            raise failures[0]
        described = self.backend.describe_execution(arn)
        assert described["status"] == status, described
        return described


def roll_back(home, endpoint: str, config: str) -> None:
    from offline.aws import local_session

    sm = local_session(home).client("sagemaker")
    sm.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)
    sm.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig={"Delay": 0.5, "MaxAttempts": 120})


def workflow_needs(calls, settings) -> list[Need]:
    """Needs of every recorded request, and of the gate's sns:Publish (offline the gate publishes nothing)."""
    found = [Need("sns:Publish", settings.topic_arn)]
    for service, operation, params in calls:
        if service == "sagemaker-runtime":
            found.append(Need(f"sagemaker:{operation}", sagemaker_arn("endpoint", params["EndpointName"])))
        else:
            found += needs_of(service, operation, params)
    return found


def other_engine_schedules(home, registry, settings) -> None:
    """The endpoint's schedules of the engine not chosen, as a direct deploy before an engine switch left them
    (the direct deploy's own functions, v1's baselines): the workflow's next run removes them."""
    from offline.aws import local_session
    from pipelines.deploy.monitor_managed import ensure_managed_monitoring
    from pipelines.deploy.monitor_processing import ensure_processing_monitoring
    from pipelines.deploy.registry import describe

    session = local_session(home)
    sagemaker = session.client("sagemaker")
    spec = dataclasses.replace(settings.monitor, baselines=describe(sagemaker, registry.versions["v1"]).baselines)
    if settings.deploy.monitor_engine == "processing":
        ensure_managed_monitoring(sagemaker, spec)
        return
    other = with_engine(settings, "processing")
    ensure_processing_monitoring(session.client("scheduler"), spec, other.analyzer_code, other.scheduler_role)


def with_engine(settings, engine: str):
    return dataclasses.replace(settings, deploy=dataclasses.replace(settings.deploy, monitor_engine=engine))


def deployed(request, engine: str, review: bool):
    """A home, a registry with v1 and v2 approved, and the group set up with `engine` (and review)."""
    from offline.deploy.local import local_settings, set_up

    home, registry, model = (request.getfixturevalue(f) for f in ("deploy_home", "registry", "model_tar"))
    if review:
        request.getfixturevalue("starter")
    for tag in ("v1", "v2"):
        registry.register(tag, model)
        registry.approve(tag)  # before the set-up: no target yet, nothing starts by itself
    settings = with_engine(local_settings(GROUP, review=review), engine)
    set_up(settings, home)
    return home, registry, settings


@pytest.mark.parametrize(("engine", "review"), [("managed", True), ("processing", False)])
def test_the_workflow_role_is_exactly_what_the_state_machine_sends(request, engine, review):
    from pipelines.deploy.iam import WorkflowPolicyInputs, workflow_policy

    home, registry, settings = deployed(request, engine, review)
    runs = Runs(home, settings)
    first = json.loads(runs.run(registry.versions["v1"])["output"])  # the other engine's schedules: none
    other_engine_schedules(home, registry, settings)  # the next run removes them (an engine switch's deletes)
    runs.run(registry.versions["v2"])  # UpdateEndpoint, schedules updated (managed: the replaced definitions deleted)
    roll_back(home, settings.production, first["ProductionEndpointConfig"])  # production put back on v1 by hand
    again = runs.run(registry.versions["v2"])  # every create finds its resource; the gate; production updated
    assert json.loads(again["output"])["ProductionEndpoint"] == settings.production
    operations = {op for _, op, _ in runs.recorder.calls}
    assert {"DescribeModel", "DescribeEndpointConfig", "UpdateEndpoint", "InvokeEndpoint"} <= operations
    inputs = WorkflowPolicyInputs.of(settings, "arn:aws:iam::123456789012:role/wf", "arn:aws:iam::123456789012:role/ev")
    policy = workflow_policy(inputs)
    needs = workflow_needs(runs.recorder.calls, settings)
    check(policy, needs)
    removed = ("Models", "SmokeTest", "ApprovalGate", "ReadModelPackages") + (
        ("MonitoringSchedules", "CreateFlowDefinitions", "RemoveProcessingSchedules")
        if engine == "managed"
        else ("Schedules", "RemoveManagedSchedules", "RemoveDataQualityJobDefinitions")
    )
    for sid in removed:  # the check fails when a needed grant is missing
        trimmed = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != sid]}
        with pytest.raises(AssertionError, match="not allowed"):
            check(trimmed, needs)


def test_parliament_finds_nothing_in_the_workflows_documents(starter):
    from parliament import analyze_policy_string

    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.iam import WorkflowPolicyInputs, workflow_policies
    from pipelines.deploy.workflow.settings import WorkflowSettings
    from tests.deploy.conftest import REGION, ROLE, SCHEDULER_ROLE, review_settings

    for engine in ("managed", "processing"):
        deploy = DeploySettings(
            role_arn=ROLE,
            region=REGION,
            monitor_engine=engine,
            scheduler_role_arn=SCHEDULER_ROLE,
            review=review_settings(),
        )
        settings = WorkflowSettings(deploy, account="123456789012")
        roles = ("arn:aws:iam::123456789012:role/x-workflow", "arn:aws:iam::123456789012:role/x-events")
        documents = workflow_policies(WorkflowPolicyInputs.of(settings, *roles, create_roles=roles))
        assert {
            "workflow",
            "events",
            "setup",
            "approver",
            "model",
            "monitoring",
            "scheduler",
            "review_job",
            "review",
        } <= set(documents)
        for name, document in documents.items():
            findings = analyze_policy_string(json.dumps(document["policy"]), ignore_private_auditors=True).findings
            assert not findings, (engine, name, [(f.issue, f.detail) for f in findings])
            assert "*" not in [a for st in document["policy"]["Statement"] for a in st["Action"]]
        assert documents["events"]["policy"]["Statement"] == [
            {
                "Sid": "StartDeploy",
                "Effect": "Allow",
                "Action": ["states:StartExecution"],
                "Resource": [settings.state_machine_arn],
            }
        ]
        assert documents["workflow"]["trust"]["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
        assert documents["events"]["trust"]["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _workflow_and_deployer(kms_key_id):
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.iam import WorkflowPolicyInputs, deployer_policy, workflow_policies
    from pipelines.deploy.workflow.settings import WorkflowSettings
    from tests.deploy.conftest import REGION, ROLE, SCHEDULER_ROLE

    deploy = DeploySettings(role_arn=ROLE, region=REGION, scheduler_role_arn=SCHEDULER_ROLE, kms_key_id=kms_key_id)
    settings = WorkflowSettings(deploy, account="123456789012")
    roles = ("arn:aws:iam::123456789012:role/x-workflow", "arn:aws:iam::123456789012:role/x-events")
    inputs = WorkflowPolicyInputs.of(settings, *roles, create_roles=roles)
    return workflow_policies(inputs)["workflow"]["policy"], deployer_policy(inputs.production)


def _kms(policy: dict) -> list[dict]:
    return [s for s in policy["Statement"] if any(a.startswith("kms:") for a in s["Action"])]


@pytest.mark.parametrize("kms_key_id", [KEY, "1234abcd-12ab-34cd-56ef-1234567890ab"])
def test_a_capture_key_is_granted_to_sagemaker_only(kms_key_id):
    """The workflow's CreateEndpointConfig carries DataCaptureConfig.KmsKeyId (as the direct deploy's does): its
    role may create a grant on that key for SageMaker's use and nothing more; parliament finds nothing."""
    from parliament import analyze_policy_string

    for policy in _workflow_and_deployer(kms_key_id):
        grant, describe = _kms(policy)
        assert grant["Action"] == ["kms:CreateGrant"] and describe["Action"] == ["kms:DescribeKey"]
        for statement in (grant, describe):
            assert statement["Resource"] == [KEY]
            assert statement["Condition"]["StringEquals"] == {"kms:ViaService": "sagemaker.us-east-1.amazonaws.com"}
        assert grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
        findings = analyze_policy_string(json.dumps(policy), ignore_private_auditors=True).findings
        assert not findings, [(f.issue, f.detail) for f in findings]


def test_without_a_capture_key_no_kms_grant():
    for policy in _workflow_and_deployer(None):
        assert _kms(policy) == []


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("my-key", False),
        ("alias/capture", True),
        ("arn:aws:kms:us-east-1:123456789012:alias/capture", True),
        ("arn:aws:kms:us-east-1:123456789012:key/nope", False),
    ],
)
def test_a_kms_key_id_other_than_a_key_id_or_arn_is_refused(bad, hint):
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.errors import DeployInputError
    from tests.deploy.conftest import REGION, ROLE

    with pytest.raises(DeployInputError, match="is not a KMS key ID or key ARN") as refused:
        DeploySettings(role_arn=ROLE, region=REGION, kms_key_id=bad)
    assert ("aws kms describe-key --key-id" in str(refused.value)) is hint
