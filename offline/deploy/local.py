"""The deploy workflow on this machine: set a group up for deployment, start executions, answer the gate.

    settings = local_settings("BreastCancerPackageGroup")
    set_up(settings, home)                         # state machine + deploy target (the local EventBridge rule)
    arn = start(settings, package_arn, home)       # what approving the package does by itself once set up
    answer_gate(arn, approve=True, by="me", reason="looks good", home=home)

Offline the workflow is built like on AWS with these differences (docs/deploy-workflow.md): the account,
region, bucket and role are the local ones; endpoints are polled every second; monitoring uses the `managed`
engine's requests (the local SageMaker service maps Model Monitor schedules onto `mlops monitor schedule`);
human review uses the local work team (`private-crowd/default`) and the review package's template, so the
task UI and flow definition are the ones `mlops review start-loops` makes too.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_BUCKET, LOCAL_REGION, LOCAL_ROLE_ARN
from offline.deploy.targets import DeployTarget, TargetStore
from offline.home import mlops_home

LOCAL_POLL_SECONDS = 1
LOCAL_WORKTEAM = f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:workteam/private-crowd/default"
GATE_POLL = 0.2


class LocalDeployError(RuntimeError):
    """The local deploy could not go on; the message says why (and names the execution when there is one)."""


@dataclass(frozen=True)
class SetUp:
    target: DeployTarget
    action: str  # created | updated | unchanged (the state machine)


def local_settings(
    group: str,
    *,
    staging_endpoint: str | None = None,
    production_endpoint: str | None = None,
    capture_destination: str | None = None,
    sampling_percentage: int = 100,
    review: bool = True,
    task_count: int = 1,
):
    """The workflow settings of a local deploy of `group` (`task_count`: reviewers per prediction)."""
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.workflow.settings import WorkflowSettings

    review_settings = None
    if review:
        from pipelines.deploy.review_spec import ReviewSettings
        from review.templates import task_template

        review_settings = ReviewSettings(
            workteam_arn=LOCAL_WORKTEAM, task_template=task_template(), task_count=task_count
        )
    deploy = DeploySettings(
        role_arn=LOCAL_ROLE_ARN,
        region=LOCAL_REGION,
        monitor_engine="managed",
        model_package_group=group,
        capture_destination=capture_destination,
        review=review_settings,
    )
    return WorkflowSettings(
        deploy,
        account=LOCAL_ACCOUNT_ID,
        staging_endpoint=staging_endpoint,
        production_endpoint=production_endpoint,
        poll_seconds=LOCAL_POLL_SECONDS,
        sampling_percentage=sampling_percentage,
    )


def set_up(settings, home: str | os.PathLike | None = None) -> SetUp:
    """Create or update the group's state machine, ship the scheduled jobs' code, record the deploy target."""
    from botocore.exceptions import ClientError

    from offline.aws import local_session
    from pipelines.deploy.code_bundle import analyzer_bundle, starter_bundle, upload_bundle
    from pipelines.deploy.workflow.definition import build_workflow, workflow_role_arn
    from pipelines.deploy.workflow.trigger import INPUT_PATHS, INPUT_TEMPLATE, event_pattern

    home = mlops_home(home)
    session = local_session(home=home, region=settings.region)
    s3 = session.client("s3")
    try:
        s3.create_bucket(Bucket=LOCAL_BUCKET)
    except ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if settings.analyzer_code is not None:
        upload_bundle(s3, analyzer_bundle(), settings.code_prefix)
    if settings.starter_code is not None:
        upload_bundle(s3, starter_bundle(), settings.code_prefix)
    sfn = session.client("stepfunctions")
    workflow = build_workflow(settings, client=sfn)
    text = workflow.definition.to_json(pretty=True)
    role = workflow_role_arn(settings)
    arn = settings.state_machine_arn
    try:
        current = sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as e:
        if e.response["Error"]["Code"] != "StateMachineDoesNotExist":
            raise
        sfn.create_state_machine(name=settings.machine_name, definition=text, roleArn=role)
        action = "created"
    else:
        action = "unchanged"
        if (json.loads(current["definition"]), current["roleArn"]) != (json.loads(text), role):
            sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role)
            action = "updated"
    target = DeployTarget(
        region=settings.region,
        group=settings.group,
        state_machine_arn=arn,
        event_pattern=event_pattern(settings.group),
        input_paths=dict(INPUT_PATHS),
        input_template=INPUT_TEMPLATE,
        settings=summary(settings),
    )
    TargetStore(_db(home)).put(target)
    return SetUp(target, action)


def summary(settings) -> dict:
    return {
        "staging_endpoint": settings.staging,
        "production_endpoint": settings.production,
        "monitor_engine": settings.deploy.monitor_engine,
        "capture_destination": settings.monitor.capture_destination,
        "sampling_percentage": settings.sampling_percentage,
        "review": settings.review is not None,
    }


def start(settings, package_arn: str, home: str | os.PathLike | None = None) -> str:
    """Start a deploy of `package_arn` with the input the approval event would give it; the execution's ARN."""
    from botocore.exceptions import ClientError

    from offline.aws import local_session
    from pipelines.deploy.workflow.trigger import INPUT_PATHS, INPUT_TEMPLATE, state_change_event, transform

    session = local_session(home=mlops_home(home), region=settings.region)
    try:
        package = session.client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    except ClientError as e:
        raise LocalDeployError(f"model package {package_arn}: {e.response['Error'].get('Message')}") from e
    text = transform(state_change_event(package, settings.region, LOCAL_ACCOUNT_ID), INPUT_PATHS, INPUT_TEMPLATE)
    started = session.client("stepfunctions").start_execution(stateMachineArn=settings.state_machine_arn, input=text)
    return started["executionArn"]


def wait_for_gate(execution_arn: str, home: str | os.PathLike | None = None, timeout: float = 600):
    """The execution's pending production gate (a PendingTask), or None once the execution ended without one."""
    from offline.aws.states.backend import StepFunctionsBackend
    from pipelines.deploy.workflow.approval import GATE

    backend = StepFunctionsBackend.for_home(home)
    deadline = time.monotonic() + timeout
    while True:
        gates = [t for t in backend.pending_tasks(execution_arn) if t.state_name == GATE]
        if gates:
            return gates[0]
        if backend.describe_execution(execution_arn)["status"] != "RUNNING":
            return None
        if time.monotonic() > deadline:
            raise LocalDeployError(
                f"execution {execution_arn} did not reach the production gate within {timeout:.0f} s"
            )
        time.sleep(GATE_POLL)


def answer_gate(
    execution_arn: str, approve: bool, by: str, reason: str | None = None, home: str | os.PathLike | None = None
) -> None:
    """SendTaskSuccess (approve) or SendTaskFailure (`Deploy.Rejected`) on the execution's pending gate."""
    from offline.aws.states.backend import StepFunctionsBackend
    from pipelines.deploy.workflow.approval import GATE

    backend = StepFunctionsBackend.for_home(home)
    gates = [t for t in backend.pending_tasks(execution_arn) if t.state_name == GATE]
    if not gates:
        status = backend.describe_execution(execution_arn)["status"]
        raise LocalDeployError(f"execution {execution_arn} is {status} and waits at no production gate")
    if approve:
        backend.send_task_success(gates[0].token, json.dumps({"approvedBy": by, "reason": reason or ""}))
    else:
        backend.send_task_failure(gates[0].token, "Deploy.Rejected", f"rejected by {by}: {reason or 'no reason given'}")


def wait_until_done(execution_arn: str, home: str | os.PathLike | None = None, timeout: float = 900) -> dict:
    """DescribeExecution once the execution has ended."""
    from offline.aws.states.backend import StepFunctionsBackend

    backend = StepFunctionsBackend.for_home(home)
    deadline = time.monotonic() + timeout
    while (described := backend.describe_execution(execution_arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise LocalDeployError(f"execution {execution_arn} is still running after {timeout:.0f} s")
        time.sleep(GATE_POLL)
    return described


def serving_url(endpoint: str, home: str | os.PathLike | None = None, region: str = LOCAL_REGION) -> str | None:
    """The URL of the host serving the endpoint now."""
    from offline.endpoint.hosts import HostRegistry

    host = HostRegistry.for_home(home).serving(region, endpoint)
    return host.url if host else None


def _db(home: Path):
    from offline.state import StateDB

    return StateDB.for_home(home)
