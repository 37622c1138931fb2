"""`mlops deploy --aws`: the options and the run of the AWS deploy (pipelines/deploy).

By default it sets the deploy workflow up in the account (pipelines/deploy/workflow/aws_setup.py: the state
machine, its roles, the approvers' topic and the EventBridge rule on approvals) and starts a deploy of the
latest approved package; `--direct` makes the deploy's calls itself instead, as before the workflow existed
(pipelines/deploy/aws.py). Kept apart from `deploy --local`'s serve options: the two share `--model-package`,
`--model-package-group`, `--endpoint-name`, `--staging-endpoint-name` and `--capture-destination`; every other
option belongs to one target and is refused with the other. Human review is opt-in: `--review a2i` (with
`--workteam-arn`); the review options without it are refused, not ignored.
"""

from __future__ import annotations

import dataclasses
import json

import click

from pipelines.cli import exit_codes

ENGINES = ("managed", "processing")
LOCAL_ONLY = (
    "model_data",
    "port",
    "workers",
    "header_timeout",
    "capture_percentage",
    "capture_mode",
    "csv_types",
    "json_types",
    "no_capture",
)
AWS_ONLY = (
    "monitor_engine",
    "region",
    "role_arn",
    "scheduler_role_arn",
    "report_destination",
    "ground_truth",
    "stage",
    "instance_type",
    "project_name",
    "project_id",
    "kms_key_id",
    "no_wait",
    "dry_run",
    "as_json",
    "review_mode",
)
REVIEW_ONLY = (  # option -> ReviewSettings field
    ("workteam_arn", "workteam_arn"),
    ("review_role_arn", "role_arn"),
    ("task_template", "task_template"),
    ("task_title", "task_title"),
    ("task_description", "task_description"),
    ("task_count", "task_count"),
    ("task_availability", "task_availability_seconds"),
    ("task_time_limit", "task_time_limit_seconds"),
    ("review_output", "output_path"),
    ("review_manifests", "manifest_destination"),
    ("audit_rate", "audit_rate"),
)
WORKFLOW_AWS_ONLY = ("approval_topic_arn", "workflow_role_arn", "events_role_arn", "no_start")
DIRECT_ONLY = ("stage", "no_wait")
AWS_ONLY += tuple(option for option, _ in REVIEW_ONLY) + WORKFLOW_AWS_ONLY + ("direct",)
# serve options the deploy workflow has no use for: its endpoints run on free ports and capture input and output
# with CSV and JSON declared (monitoring needs them); `mlops endpoint serve` takes them
SERVE_ONLY = (
    "model_data",
    "port",
    "workers",
    "header_timeout",
    "capture_mode",
    "csv_types",
    "json_types",
    "no_capture",
)
DRY_RUN_ROLE = "arn:aws:iam::{account}:role/mlops-execution-role"


def aws_options(command):
    """The options only `--aws` takes."""
    options = [
        click.option(
            "--monitor-engine",
            type=click.Choice(ENGINES),
            default=None,
            help="managed: Model Monitor schedules; processing: this project's analyzer as scheduled "
            "Processing jobs (works without Model Monitor). Default: processing.",
        ),
        click.option("--region", metavar="REGION", help="Default: the AWS configuration's region."),
        click.option("--role-arn", metavar="ARN", help="Execution role of the model and the monitoring jobs."),
        click.option(
            "--scheduler-role-arn",
            metavar="ARN",
            help="processing engine: the role Scheduler assumes. Default: --role-arn.",
        ),
        click.option(
            "--report-destination",
            metavar="S3URI",
            help="Default: s3://sagemaker-<region>-<account>/monitoring/reports.",
        ),
        click.option(
            "--ground-truth",
            metavar="S3URI",
            help="Default: s3://sagemaker-<region>-<account>/ground-truth/<endpoint>.",
        ),
        click.option("--stage", default="staging", show_default=True, help="Deployment stage (names and tags)."),
        click.option("--instance-type", default="ml.m5.large", show_default=True),
        click.option("--project-name", metavar="NAME", help="SageMaker project name (tags, default endpoint name)."),
        click.option("--project-id", metavar="ID", help="SageMaker project id (tags)."),
        click.option("--kms-key-id", metavar="KEY", help="KMS key (key ID or key ARN) for captured data."),
        click.option("--no-wait", is_flag=True, help="Do not wait for the endpoint to be InService."),
        click.option("--dry-run", is_flag=True, help="Print every request (validated by botocore), send none."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        *review_options(),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def workflow_options(command):
    """The deploy workflow's own options (`--staging-endpoint-name` for both targets, the rest `--aws` only)."""
    options = [
        click.option(
            "--staging-endpoint-name",
            metavar="NAME",
            help="The staging endpoint. Default: <project or group>-staging (with --endpoint-name N: N-staging).",
        ),
        click.option(
            "--approval-topic-arn",
            metavar="ARN",
            help="SNS topic the production gate publishes its task token to. Default: <state machine>-approvals, "
            "created.",
        ),
        click.option(
            "--workflow-role-arn",
            metavar="ARN",
            help="The state machine's role. Default: <state machine>-workflow, created.",
        ),
        click.option(
            "--events-role-arn",
            metavar="ARN",
            help="The EventBridge rule's role. Default: <state machine>-events, created.",
        ),
        click.option("--no-start", is_flag=True, help="Only set the workflow up; the next approval starts a deploy."),
        click.option(
            "--direct",
            is_flag=True,
            help="Make the deploy's calls from here instead of through the workflow (one endpoint, no gate).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def review_options() -> list:
    """`--review a2i` and its settings (pipelines/deploy/review_spec.py checks every value)."""
    return [
        click.option(
            "--review",
            "review_mode",
            type=click.Choice(("a2i", "none")),
            default=None,
            help="a2i: human review of uncertain predictions with Amazon A2I (task UI, flow definition, hourly "
            "post-processing job); needs --workteam-arn. none (default): no review resource is created or removed.",
        ),
        click.option(
            "--workteam-arn",
            metavar="ARN",
            help="The private work team reviewing: arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<name>.",
        ),
        click.option("--review-role-arn", metavar="ARN", help="The flow definition's role. Default: --role-arn."),
        click.option(
            "--task-template",
            type=click.Path(exists=True, dir_okay=False),
            help="The Liquid worker template. Default: the review package's (review.templates.task_template()).",
        ),
        click.option("--task-title", metavar="TEXT", help="Up to 128 characters."),
        click.option("--task-description", metavar="TEXT", help="One line, up to 255 characters."),
        click.option("--task-count", type=int, metavar="N", help="Reviewers per prediction, 1-3. Default: 1."),
        click.option(
            "--task-availability",
            type=int,
            metavar="SECONDS",
            help="How long a loop waits for a reviewer. Default: 864000.",
        ),
        click.option("--task-time-limit", type=int, metavar="SECONDS", help="Per reviewer, >= 30. Default: 3600."),
        click.option(
            "--review-output",
            metavar="S3URI",
            help="A2I's answers. Default: s3://<bucket>/human-review/<endpoint>/output.",
        ),
        click.option(
            "--review-manifests",
            metavar="S3URI",
            help="The job's hourly manifests. Default: s3://<bucket>/human-review/<endpoint>/manifests.",
        ),
        click.option(
            "--audit-rate",
            type=float,
            metavar="RATE",
            help="Share of confident predictions reviewed too. Default: 0.05.",
        ),
    ]


def check_targets(ctx: click.Context, target: str) -> None:
    """Options given for the other target are a usage error, not silently ignored."""
    if target == "local":
        unused = [name for name in SERVE_ONLY if given(ctx, name)]
        if unused:
            raise click.UsageError(
                f"{flags_of(ctx, unused)}: only for mlops endpoint serve (mlops deploy --local runs the deploy "
                "workflow: its endpoints run on free ports and capture input and output, CSV and JSON declared)"
            )
    wrong = LOCAL_ONLY if target == "aws" else AWS_ONLY
    found = [name for name in wrong if given(ctx, name)]
    if found:
        raise click.UsageError(f"{flags_of(ctx, found)}: only for {'--local' if target == 'aws' else '--aws'}")
    if target == "aws" and ctx.params.get("review_mode") != "a2i":
        found = [option for option, _ in REVIEW_ONLY if given(ctx, option)]
        if found:
            raise click.UsageError(f"{flags_of(ctx, found)}: only with --review a2i (human review is opt-in)")
    if target == "aws":
        direct = ctx.params.get("direct")
        found = [n for n in ((*WORKFLOW_AWS_ONLY, "staging_endpoint_name") if direct else DIRECT_ONLY) if given(ctx, n)]
        if found:
            where = (
                "the deploy workflow (without --direct)"
                if direct
                else "--direct (the workflow deploys staging and prod)"
            )
            raise click.UsageError(f"{flags_of(ctx, found)}: only for {where}")


def flags_of(ctx: click.Context, names: list[str]) -> str:
    """The options' flags as the user types them (`review_mode` is `--review`)."""
    flags = {param.name: param.opts[0] for param in ctx.command.params}
    return ", ".join(flags.get(name, "--" + name.replace("_", "-")) for name in names)


def run_aws(ctx: click.Context, **options) -> None:
    """Set the workflow up in AWS, or deploy directly with --direct (or print the plan with --dry-run);
    exit 2 on bad input, 1 when AWS fails."""
    from pipelines.deploy.errors import DeployFailed, DeployInputError

    try:
        if not options["direct"]:
            from pipelines.cli.deploy_aws_workflow import run_workflow_setup

            run_workflow_setup(ctx, options)
            return
        if options["dry_run"]:
            _dry_run(ctx, options)
            return
        clients, settings = _real(ctx, options)
        from pipelines.deploy.aws import deploy

        report = deploy(clients, settings)
    except DeployInputError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    except DeployFailed as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    if options["as_json"]:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(
        f"Deployed {report.model_package_arn} to endpoint {report.endpoint_name} ({report.monitor_engine} monitoring)"
    )
    for change in report.changes:
        click.echo(f"  {change}")
    click.echo(f"captured data: {report.capture_uri}")
    for kind, uri in report.report_uris.items():
        click.echo(f"{kind} reports: {uri}/yyyy/mm/dd/hh/")
    if report.review:
        click.echo(
            f"human review: flow definition {report.review['flow_definition']}, schedule {report.review['schedule']}"
        )
        click.echo(
            f"review answers: {report.review['output_path']}/  manifests: {report.review['manifests']}/yyyy/mm/dd/hh/"
        )


def deploy_settings(ctx: click.Context, options: dict, region: str, role_arn: str):
    from pipelines.deploy.aws import DEFAULT_GROUP, DeploySettings

    return DeploySettings(
        role_arn=role_arn,
        region=region,
        monitor_engine=options["monitor_engine"] or "processing",
        model_package_arn=options["model_package"],
        model_package_group=options["model_package_group"] or DEFAULT_GROUP,
        endpoint_name=options["endpoint_name"],
        stage=options["stage"],
        capture_destination=options["capture_destination"] if given(ctx, "capture_destination") else None,
        report_destination=options["report_destination"],
        ground_truth=options["ground_truth"],
        scheduler_role_arn=options["scheduler_role_arn"],
        kms_key_id=options["kms_key_id"],
        instance_type=options["instance_type"],
        project_name=options["project_name"],
        project_id=options["project_id"],
        wait=not options["no_wait"] and not options["dry_run"],
        review=_review(ctx, options),
    )


def _review(ctx: click.Context, options: dict):
    """ReviewSettings from the options given (the rest keep their defaults); None without --review a2i."""
    if options["review_mode"] != "a2i":
        return None
    from pipelines.deploy.review_spec import ReviewSettings

    values = {field: options[option] for option, field in REVIEW_ONLY if given(ctx, option)}
    values.setdefault("workteam_arn", None)
    # the template is loaded once the work team is there: a missing work team is the error to report first
    values["task_template"] = _template(options["task_template"]) if values["workteam_arn"] else None
    return ReviewSettings(**values)


def _template(path: str | None) -> str:
    """The --task-template file's text, else the review package's template (imported only when needed)."""
    from pipelines.deploy.errors import DeployInputError

    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise DeployInputError(f"--task-template {path}: cannot read it as UTF-8 text ({e})") from e
    try:
        from review.templates import task_template
    except ImportError as e:
        raise DeployInputError(
            "--review a2i needs a task template: pass --task-template PATH "
            f"(the review package's default template cannot be loaded: {e})"
        ) from e
    return task_template()


def aws_session(options: dict):
    """A boto3 session with a region and credentials (DeployInputError otherwise) and --role-arn given."""
    import boto3

    from pipelines.deploy.errors import DeployInputError

    session = boto3.Session(region_name=options["region"]) if options["region"] else boto3.Session()
    if not session.region_name:
        raise DeployInputError("no AWS region: pass --region or configure one (AWS_REGION, ~/.aws/config)")
    if session.get_credentials() is None:
        raise DeployInputError("no AWS credentials found; configure them, or use --dry-run to see the requests")
    if not options["role_arn"]:
        raise DeployInputError("--role-arn is required: the execution role of the model and the monitoring jobs")
    return session


def _real(ctx: click.Context, options: dict):
    from pipelines.deploy.aws import AwsClients

    session = aws_session(options)
    return AwsClients.from_session(session), deploy_settings(ctx, options, session.region_name, options["role_arn"])


def _dry_run(ctx: click.Context, options: dict) -> None:
    import boto3

    from pipelines.deploy.aws import deploy
    from pipelines.deploy.dry_run import DRY_RUN_ACCOUNT, DryRun, engine_switch_plan, review_replacement_plan
    from pipelines.deploy.errors import DeployInputError

    region = options["region"] or boto3.Session().region_name
    if not region:
        raise DeployInputError("no AWS region: pass --region (a dry run needs to know the region's image URIs)")
    settings = deploy_settings(
        ctx, options, region, options["role_arn"] or DRY_RUN_ROLE.format(account=DRY_RUN_ACCOUNT)
    )
    # a private work team is of the deploy's own account: the plan assumes the work team's
    run = DryRun(region, settings.review.workteam_account if settings.review else DRY_RUN_ACCOUNT)
    if not options["role_arn"]:
        role = DRY_RUN_ROLE.format(account=run.account)
        settings = dataclasses.replace(settings, role_arn=role)
        run.assumptions.append(f"the execution role is {role} (no --role-arn given)")
    report = deploy(run.clients(), settings)
    plan = {
        "dry_run": True,
        "requests": run.requests,
        "assumptions": run.assumptions,
        "result": report.as_dict(),
        "engine_switch": engine_switch_plan(region, settings, report.policy_inputs.spec),
        "iam_policies": report.iam_policies(),
    }
    if settings.review:
        plan["review_replacement"] = review_replacement_plan(
            region, report.policy_inputs.review, settings.deletion_wait
        )
    click.echo(json.dumps(plan, indent=2))


def given(ctx: click.Context, name: str) -> bool:
    from click.core import ParameterSource

    source = ctx.get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)
