"""`mlops deploy definition | executions | describe | approve | reject`: the deploy workflow's subcommands.

They talk to the local `states` service of MLOPS_HOME by default and to Step Functions with `--aws`, through
the same boto3 calls (the approval locally reads the pending token from the state DB; on AWS from the
execution's history, or `--task-token` as the approvers' SNS message gives it).
"""

from __future__ import annotations

import getpass
import json
import re

import click

from pipelines.cli import exit_codes
from pipelines.cli.deploy_aws import ENGINES, REVIEW_ONLY, review_options

ASL_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _refuse(message: str, code: int = exit_codes.USAGE) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


def _aws_option(command):
    command = click.option("--region", metavar="REGION", help="With --aws: default, the AWS configuration's.")(command)
    return click.option("--aws", "on_aws", is_flag=True, help="Step Functions in your AWS account (default: local).")(
        command
    )


def _stepfunctions(on_aws: bool, region: str | None):
    if not on_aws:
        if region:
            raise click.UsageError("--region: only with --aws (the local service's region is us-east-1)")
        from offline.aws import local_session

        return local_session().client("stepfunctions")
    import boto3

    session = boto3.Session(region_name=region) if region else boto3.Session()
    if not session.region_name:
        _refuse("no AWS region: pass --region or configure one (AWS_REGION, ~/.aws/config)")
    if session.get_credentials() is None:
        _refuse("no AWS credentials found")
    return session.client("stepfunctions")


def _call(func, *args, **kwargs):
    """A Step Functions call: a refusal is exit 2 (bad input) or 1, with AWS's message."""
    from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code

    try:
        return func(*args, **kwargs)
    except DeployInputError as e:
        _refuse(str(e))
    except DeployFailed as e:
        _refuse(str(e), exit_codes.FAILURE)
    except Exception as e:
        code = error_code(e)
        if not code:
            raise
        bad = code in ("ExecutionDoesNotExist", "StateMachineDoesNotExist", "InvalidArn", "ValidationException")
        _refuse(client_error_text(e), exit_codes.USAGE if bad else exit_codes.FAILURE)


def _with(options: list):
    def apply(command):
        for option in reversed(options):
            command = option(command)
        return command

    return apply


# -- definition -----------------------------------------------------------------------------------------


@click.command("definition")
@click.option("--model-package-group", metavar="NAME", help="Default: BreastCancerPackageGroup.")
@click.option("--monitor-engine", type=click.Choice(ENGINES), default="processing", show_default=True)
@click.option("--region", metavar="REGION", help="Default: the AWS configuration's (AWS_DEFAULT_REGION, ...).")
@click.option("--account", metavar="ID", help="The account the ARNs and bucket names name. Default: 123456789012.")
@click.option("--role-arn", metavar="ARN", help="Model and monitoring role. Default: <account>'s mlops-execution-role.")
@click.option("--scheduler-role-arn", metavar="ARN", help="The role Scheduler assumes. Default: --role-arn.")
@click.option("--endpoint-name", metavar="NAME", help="The production endpoint. Default: <project or group>-prod.")
@click.option("--staging-endpoint-name", metavar="NAME", help="Default: <project or group>-staging.")
@click.option("--project-name", metavar="NAME")
@click.option("--project-id", metavar="ID")
@click.option("--capture-destination", metavar="S3URI")
@click.option("--report-destination", metavar="S3URI")
@click.option("--ground-truth", metavar="S3URI")
@click.option("--instance-type", default="ml.m5.large", show_default=True)
@click.option("--kms-key-id", metavar="KEY", help="KMS key (key ID or key ARN) for captured data.")
@click.option("--approval-topic-arn", metavar="ARN")
@click.option("--local", "for_local", is_flag=True, help="The definition `mlops deploy --local` runs for the group.")
@click.option("--compact", is_flag=True, help="One line of JSON instead of an indented document.")
@_with(review_options())
@click.pass_context
def definition_command(ctx: click.Context, **options) -> None:
    """Print the deploy state machine's JSON (Amazon States Language); needs no AWS access, only a region."""
    from pipelines.deploy.errors import DeployInputError
    from pipelines.deploy.workflow.definition import definition_json

    try:
        settings = _definition_settings(ctx, options)
        text = definition_json(settings, pretty=not options["compact"])
    except DeployInputError as e:
        _refuse(str(e))
    click.echo(text)


def _definition_settings(ctx: click.Context, options: dict):
    from pipelines.cli.deploy_aws import DRY_RUN_ROLE, given
    from pipelines.deploy.aws import DEFAULT_GROUP, DeploySettings
    from pipelines.deploy.errors import DeployInputError
    from pipelines.deploy.workflow.settings import WorkflowSettings

    group = options["model_package_group"] or DEFAULT_GROUP
    if options["for_local"]:
        allowed = ("for_local", "compact", "model_package_group", "endpoint_name", "staging_endpoint_name")
        others = [name for name in ctx.params if name not in allowed and given(ctx, name)]
        if others:
            raise click.UsageError(
                f"--local takes only --model-package-group, --endpoint-name and --staging-endpoint-name "
                f"(not {', '.join('--' + n.replace('_', '-') for n in others)})"
            )
        from offline.deploy.local import local_settings

        return local_settings(
            group, staging_endpoint=options["staging_endpoint_name"], production_endpoint=options["endpoint_name"]
        )
    region = options["region"]
    if not region:
        import boto3

        region = boto3.Session().region_name
    if not region:
        raise DeployInputError("no AWS region: pass --region or set AWS_DEFAULT_REGION (the definition names it)")
    account = options["account"] or "123456789012"
    if not re.fullmatch(r"\d{12}", account):
        raise DeployInputError(f"--account {account!r} is not a 12-digit AWS account id")
    review = None
    if options["review_mode"] == "a2i":
        from pipelines.cli.deploy_aws import _review

        review = _review(ctx, options)
    else:
        stray = [option for option, _ in REVIEW_ONLY if given(ctx, option)]
        if stray:
            raise click.UsageError(f"{', '.join('--' + s.replace('_', '-') for s in stray)}: only with --review a2i")
    deploy = DeploySettings(
        role_arn=options["role_arn"] or DRY_RUN_ROLE.format(account=account),
        region=region,
        monitor_engine=options["monitor_engine"],
        model_package_group=group,
        capture_destination=options["capture_destination"],
        report_destination=options["report_destination"],
        ground_truth=options["ground_truth"],
        scheduler_role_arn=options["scheduler_role_arn"],
        kms_key_id=options["kms_key_id"],
        instance_type=options["instance_type"],
        project_name=options["project_name"],
        project_id=options["project_id"],
        review=review,
    )
    return WorkflowSettings(
        deploy,
        account=account,
        staging_endpoint=options["staging_endpoint_name"],
        production_endpoint=options["endpoint_name"],
        approval_topic_arn=options["approval_topic_arn"],
    )


# -- executions and describe ---------------------------------------------------------------------------


@click.command("executions")
@click.option("--group", "group_name", metavar="NAME", help="Only this model package group's deploys.")
@click.option("--status", type=click.Choice(ASL_STATUSES), help="Only executions with this status.")
@_aws_option
@click.option("--json", "as_json", is_flag=True)
def executions_command(group_name: str | None, status: str | None, on_aws: bool, region: str | None, as_json: bool):
    """Deploy executions, newest first: status, package version, and where a running one is."""
    sfn = _stepfunctions(on_aws, region)
    machines = _deploy_machines(sfn, on_aws, group_name)
    rows = []
    for machine in machines:
        request = {"stateMachineArn": machine, **({"statusFilter": status} if status else {})}
        pages = _call(lambda r=request: list(sfn.get_paginator("list_executions").paginate(**r)))
        for page in pages:
            for execution in page["executions"]:
                rows.append(_execution_row(sfn, execution))
    rows.sort(key=lambda r: r["startDate"], reverse=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no deploy executions" + (f" of {group_name}" if group_name else ""))
        return
    click.echo(f"{'EXECUTION':<38}{'STATUS':<11}{'STARTED':<22}{'VERSION':<9}WHERE")
    for row in rows:
        started = row["startDate"].strftime("%Y-%m-%d %H:%M:%S") if hasattr(row["startDate"], "strftime") else ""
        click.echo(f"{row['name']:<38}{row['status']:<11}{started:<22}{row['version']!s:<9}{row['where']}")
    click.echo("(mlops deploy describe EXECUTION_ARN for its states; ARNs with --json)")


def _deploy_machines(sfn, on_aws: bool, group: str | None) -> list[str]:
    """The deploy state machines: the local deploy targets', or on AWS those named `<group>-deploy`."""
    if not on_aws:
        from offline.deploy.targets import TargetStore
        from offline.state import StateDB

        targets = TargetStore(StateDB.for_home()).list()
        return [t.state_machine_arn for t in targets if group is None or t.group.lower() == group.lower()]
    pages = _call(lambda: list(sfn.get_paginator("list_state_machines").paginate()))
    names = [m for page in pages for m in page["stateMachines"]]
    wanted = f"{group}-deploy".lower() if group else None
    return [
        m["stateMachineArn"]
        for m in names
        if (m["name"].lower() == wanted if wanted else m["name"].endswith("-deploy"))
    ]


def _execution_row(sfn, execution: dict) -> dict:
    described = _call(sfn.describe_execution, executionArn=execution["executionArn"])
    try:
        version = json.loads(described.get("input") or "{}").get("ModelPackageVersion")
    except ValueError:
        version = None
    where = ""
    if described["status"] == "RUNNING":
        from pipelines.deploy.workflow.approval import GATE, history

        entered = [e for e in _call(history, sfn, execution["executionArn"]) if e["type"].endswith("StateEntered")]
        state = entered[-1]["stateEnteredEventDetails"]["name"] if entered else "starting"
        where = "waiting at the production gate" if state == GATE else f"in {state}"
    elif described["status"] != "SUCCEEDED":
        where = f"{described.get('error')}: {(described.get('cause') or '')[:80]}"
    return {
        "executionArn": execution["executionArn"],
        "name": execution["name"],
        "status": described["status"],
        "startDate": described["startDate"],
        "stopDate": described.get("stopDate"),
        "version": version,
        "where": where,
    }


@click.command("describe")
@click.argument("execution")
@_aws_option
@click.option("--json", "as_json", is_flag=True)
def describe_command(execution: str, on_aws: bool, region: str | None, as_json: bool) -> None:
    """An execution: status, input, the states it went through, its error and cause or its output."""
    from pipelines.deploy.workflow.approval import GATE, history

    sfn = _stepfunctions(on_aws, region)
    described = _call(sfn.describe_execution, executionArn=execution)
    events = _call(history, sfn, execution)
    states = []
    for event in events:
        if event["type"].endswith("StateEntered"):
            states.append({"state": event["stateEnteredEventDetails"]["name"], "entered": event["timestamp"]})
    if as_json:
        click.echo(json.dumps({"execution": described, "states": states}, indent=2, default=str))
        return
    click.echo(f"{described['executionArn']}: {described['status']}")
    click.echo(f"  input  {described.get('input')}")
    for item in states:
        click.echo(f"  {item['entered'].strftime('%H:%M:%S.%f')[:12]}  {item['state']}")
    if described["status"] == "RUNNING" and states and states[-1]["state"] == GATE:
        click.echo(f"  waiting for an approver: mlops deploy approve {execution}{' --aws' if on_aws else ''}")
    if described.get("error") or described.get("cause"):
        click.echo(f"  error  {described.get('error')}")
        click.echo(f"  cause  {described.get('cause')}")
    if described.get("output"):
        click.echo(f"  output {described['output']}")


# -- approve and reject --------------------------------------------------------------------------------


def _gate_command(approve: bool):
    verb = "approve" if approve else "reject"

    @click.command(verb)
    @click.argument("execution")
    @click.option("--reason", metavar="TEXT", required=not approve, help="Why (recorded in the execution).")
    @click.option("--task-token", metavar="TOKEN", help="With --aws: the token of the approvers' SNS message.")
    @_aws_option
    def gate_command(execution: str, reason: str | None, task_token: str | None, on_aws: bool, region: str | None):
        from pipelines.deploy.workflow import approval

        by = _user()
        if on_aws:
            sfn = _stepfunctions(True, region)
            token = task_token or _call(approval.pending_gate_token, sfn, execution)
            _call(approval.answer, sfn, token, approve, by, reason)
        else:
            if task_token:
                raise click.UsageError("--task-token: only with --aws (locally the execution's pending token is read)")
            if region:
                raise click.UsageError("--region: only with --aws")
            _answer_local(execution, approve, by, reason)
        done = "approved: production is deployed next" if approve else "rejected: the execution fails"
        click.echo(f"Production gate of {execution} {done} (by {by})")

    gate_command.help = (
        "Approve the production gate of a deploy EXECUTION (SendTaskSuccess)."
        if approve
        else "Reject the production gate of a deploy EXECUTION (SendTaskFailure Deploy.Rejected; --reason required)."
    )
    return gate_command


def _answer_local(execution: str, approve: bool, by: str, reason: str | None) -> None:
    from offline.aws.errors import ServiceError
    from offline.deploy.local import LocalDeployError, answer_gate

    try:
        answer_gate(execution, approve, by, reason)
    except LocalDeployError as e:
        _refuse(str(e))
    except ServiceError as e:
        _refuse(f"{e.code}: {e.message}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


SUBCOMMANDS = (
    definition_command,
    executions_command,
    describe_command,
    _gate_command(True),
    _gate_command(False),
)
