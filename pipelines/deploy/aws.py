"""Deploy an approved model package to a SageMaker endpoint with data capture and monitoring.

    clients = AwsClients.from_session(boto3.Session(region_name="eu-west-1"))
    report = deploy(clients, DeploySettings(role_arn=..., region="eu-west-1", monitor_engine="processing"))
    for change in report.changes: print(change)

Steps: resolve the package (given, or the group's latest approved) and its drift-check baselines →
CreateModel → CreateEndpointConfig (DataCaptureConfig) → CreateEndpoint / UpdateEndpoint → wait for
InService → monitoring by the chosen engine (`managed`: Model Monitor schedules; `processing`:
EventBridge Scheduler schedules that start this project's analyzer as Processing jobs) → removal of
the other engine's schedules of this endpoint, if any → with `review` (`--review a2i`): the A2I task
UI and flow definition and the hourly post-processing schedule that starts the human loops
(pipelines/deploy/review.py). Every step is idempotent: a re-run with the same inputs reports each
resource `unchanged`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.deploy import endpoint as ep
from pipelines.deploy.changes import Change
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.names import default_endpoint_name, deployment_tags, validate_name
from pipelines.deploy.registry import ModelPackage, describe, latest_approved
from pipelines.deploy.review_spec import ReviewSettings, ReviewSpec
from pipelines.deploy.s3uri import join, normalize

ENGINES = ("managed", "processing")
DEFAULT_GROUP = "BreastCancerPackageGroup"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"


SERVICES = ("sagemaker", "s3", "scheduler", "sts", "sagemaker-a2i-runtime")


@dataclass(frozen=True)
class AwsClients:
    sagemaker: object
    s3: object
    scheduler: object
    sts: object
    a2i: object  # sagemaker-a2i-runtime: ListHumanLoops, before a replaced flow definition is deleted

    @classmethod
    def from_session(cls, session) -> AwsClients:
        return cls(*(session.client(name) for name in SERVICES))


@dataclass(frozen=True)
class DeploySettings:
    role_arn: str  # the model's and the monitoring jobs' execution role
    region: str
    monitor_engine: str = "processing"
    model_package_arn: str | None = None
    model_package_group: str = DEFAULT_GROUP
    endpoint_name: str | None = None
    stage: str = "staging"
    capture_destination: str | None = None  # default s3://sagemaker-<region>-<account>/datacapture
    report_destination: str | None = None  # default s3://sagemaker-<region>-<account>/monitoring/reports
    ground_truth: str | None = None  # default s3://sagemaker-<region>-<account>/ground-truth/<endpoint>
    code_destination: str | None = None  # processing engine: default s3://sagemaker-<region>-<account>/monitoring/code
    scheduler_role_arn: str | None = None  # processing engine: the role Scheduler assumes; default role_arn
    kms_key_id: str | None = None
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    project_name: str | None = None
    project_id: str | None = None
    probability_threshold: float | None = None  # default: the data contract's decision threshold
    wait: bool = True
    waiter_config: dict = field(default_factory=lambda: {"Delay": 30, "MaxAttempts": 120})
    # engine switch: how long a deleted Model Monitor schedule is awaited before its job definition is deleted;
    # review: how long a deleted flow definition is awaited before its task UI is deleted
    deletion_wait: dict = field(default_factory=lambda: {"Delay": 5, "MaxAttempts": 36})
    review: ReviewSettings | None = None  # `--review a2i`; None: `--review none` (no review resources touched)
    review_wait: dict = field(default_factory=lambda: {"Delay": 5, "MaxAttempts": 60})  # a new flow until Active

    def __post_init__(self) -> None:
        import re

        if self.monitor_engine not in ENGINES:
            raise DeployInputError(
                f"unknown monitor engine {self.monitor_engine!r}; choose one of {', '.join(ENGINES)}"
            )
        for what, arn in (("--role-arn", self.role_arn), ("--scheduler-role-arn", self.scheduler_role_arn)):
            if arn is not None and not re.match(ROLE_ARN, arn):
                raise DeployInputError(f"{what} {arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        if self.endpoint_name is not None:
            validate_name(self.endpoint_name, "endpoint name")
        if self.kms_key_id is not None:
            from pipelines.deploy.iam import kms_key_arn

            kms_key_arn(self.kms_key_id, self.region, "000000000000")  # its form; the account comes later
        if self.instance_count < 1:
            raise DeployInputError("the endpoint needs at least one instance")
        if self.review is not None:
            self._check_review(self.review)
        for what, uri in (
            ("--capture-destination", self.capture_destination),
            ("--report-destination", self.report_destination),
            ("--ground-truth", self.ground_truth),
            ("code destination", self.code_destination),
        ):
            if uri is not None:
                normalize(uri, what)

    def _check_review(self, review: ReviewSettings) -> None:
        import re

        if not isinstance(review, ReviewSettings):
            raise DeployInputError("review must be ReviewSettings (or None for no human review)")
        if review.role_arn is not None and not re.match(ROLE_ARN, review.role_arn):
            raise DeployInputError(
                f"--review-role-arn {review.role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
            )
        if review.workteam_region != self.region:
            raise DeployInputError(
                f"--workteam-arn is a work team of region {review.workteam_region}; this deploy creates the flow "
                f"definition in {self.region}, and a flow definition can only use a work team of its own region"
            )


@dataclass
class DeployReport:
    model_package_arn: str
    endpoint_name: str
    monitor_engine: str
    capture_uri: str
    report_uris: dict[str, str]
    changes: list[Change] = field(default_factory=list)
    policy_inputs: object = None  # iam.PolicyInputs of what was deployed
    review: dict | None = None  # --review a2i: the task UI, flow definition, schedule and S3 locations

    def iam_policies(self) -> dict:
        """The least-privilege IAM documents for this deploy's roles (pipelines/deploy/iam.py)."""
        from pipelines.deploy.iam import policies

        return policies(self.policy_inputs)

    def as_dict(self) -> dict:
        return {
            "model_package_arn": self.model_package_arn,
            "endpoint_name": self.endpoint_name,
            "monitor_engine": self.monitor_engine,
            "capture_uri": self.capture_uri,
            "report_uris": self.report_uris,
            "review": self.review,
            "changes": [c.as_dict() for c in self.changes],
        }


def deploy(clients: AwsClients, settings: DeploySettings) -> DeployReport:
    """Run the whole deploy; DeployInputError for bad input, DeployFailed when AWS refuses or fails."""
    package = resolve_package(clients.sagemaker, settings)
    account = account_id(clients.sts)
    endpoint = settings.endpoint_name or default_endpoint_name(
        settings.project_name, package.group or settings.model_package_group, settings.stage
    )
    tags = deployment_tags(settings.stage, settings.project_name, settings.project_id)
    spec = monitor_spec(settings, package, account, endpoint, tags)
    review = review_spec(settings, spec) if settings.review else None
    starter = None
    if review is not None:  # built before anything is created: a checkout without the starter stops here
        from pipelines.deploy.code_bundle import starter_bundle

        starter = starter_bundle()
    report = DeployReport(
        package.arn,
        endpoint,
        settings.monitor_engine,
        spec.capture_uri,
        {kind: spec.report_uri(kind) for kind in ("data-quality", "model-quality")},
        review=review_summary(review) if review else None,
    )
    report.policy_inputs = policy_inputs(settings, package, spec, account, review)
    report.changes += deploy_endpoint(clients.sagemaker, settings, package, spec, tags)
    report.changes += deploy_monitoring(clients, settings, spec, account)
    if review is not None:
        from pipelines.deploy.review import deploy_review

        report.changes += deploy_review(
            clients,
            review,
            starter,
            code_prefix(settings, account),
            scheduler_role(settings),
            settings.review_wait if settings.wait else None,
            settings.deletion_wait,
        )
    return report


def review_spec(settings: DeploySettings, spec: MonitorSpec) -> ReviewSpec:
    """`--review a2i` resolved for this endpoint and account (a work team of another account: exit 2)."""
    review = settings.review
    if review.workteam_account != spec.account:
        raise DeployInputError(
            f"--workteam-arn is a work team of account {review.workteam_account}; this deploy runs in account "
            f"{spec.account}, and a flow definition can only use a private work team of its own account"
        )
    base = join(default_bucket(settings.region, spec.account), "human-review", spec.endpoint)
    return ReviewSpec(
        settings=review,
        endpoint=spec.endpoint,
        region=settings.region,
        account=spec.account,
        flow_role_arn=review.role_arn or settings.role_arn,
        job_role_arn=settings.role_arn,
        capture_uri=spec.capture_uri,
        output_path=normalize(review.output_path or join(base, "output"), "--review-output"),
        manifest_uri=normalize(review.manifest_destination or join(base, "manifests"), "--review-manifests"),
        tags=spec.tags,
    )


def review_summary(review: ReviewSpec) -> dict:
    from pipelines.deploy.review_resources import flow_definition_request, human_task_ui_request

    flow = flow_definition_request(review)["FlowDefinitionName"]
    return {
        "task_ui": human_task_ui_request(review)["HumanTaskUiName"],
        "flow_definition": flow,
        "flow_definition_arn": review.arn(f"flow-definition/{flow}"),
        "schedule": review.schedule,
        "workteam_arn": review.settings.workteam_arn,
        "output_path": review.output_path,
        "manifests": review.manifest_uri,
    }


def scheduler_role(settings: DeploySettings) -> str:
    """The role EventBridge Scheduler assumes to start the scheduled jobs."""
    return settings.scheduler_role_arn or settings.role_arn


def policy_inputs(
    settings: DeploySettings, package: ModelPackage, spec: MonitorSpec, account: str, review: ReviewSpec | None = None
):
    from pipelines.deploy.iam import PolicyInputs
    from pipelines.deploy.monitor_processing import job_name_prefix
    from pipelines.deploy.review_schedule import job_name_prefix as review_job_prefix
    from pipelines.images import analyzer_image, xgboost_image

    processing = settings.monitor_engine == "processing"
    scheduled = processing or review is not None  # Scheduler starts jobs: the monitoring checks, the starter
    return PolicyInputs(
        spec=spec,
        engine=settings.monitor_engine,
        model_package_group=package.group or settings.model_package_group,
        model_data_url=package.model_data_url or "",
        model_image=package.image or xgboost_image(settings.region),
        monitoring_image=xgboost_image(settings.region) if processing else analyzer_image(settings.region),
        model_role_arn=settings.role_arn,
        scheduler_role_arn=scheduler_role(settings) if scheduled else None,
        code_prefix=code_prefix(settings, account) if scheduled else None,
        job_name_prefixes=tuple(job_name_prefix(spec, kind) for kind in ("data-quality", "model-quality"))
        if processing
        else (),
        review=review,
        review_job_prefix=review_job_prefix(review) if review else None,
        job_image=xgboost_image(settings.region),
        kms_key_id=settings.kms_key_id,
    )


def code_prefix(settings: DeploySettings, account: str) -> str:
    """Where the scheduled jobs' code bundles live (the analyzer's, the human-loop starter's)."""
    uri = settings.code_destination or join(default_bucket(settings.region, account), "monitoring", "code")
    return normalize(uri, "code destination")


def resolve_package(sagemaker, settings: DeploySettings) -> ModelPackage:
    arn = settings.model_package_arn or latest_approved(sagemaker, settings.model_package_group)
    return describe(sagemaker, arn)


def account_id(sts) -> str:
    try:
        return sts.get_caller_identity()["Account"]
    except Exception as e:
        raise DeployFailed(
            f"cannot tell which AWS account this is (GetCallerIdentity): {client_error_text(e)}"
        ) from None


def default_bucket(region: str, account: str) -> str:
    """The SageMaker SDK's default bucket name."""
    return f"s3://sagemaker-{region}-{account}"


def monitor_spec(
    settings: DeploySettings, package: ModelPackage, account: str, endpoint: str, tags: list
) -> MonitorSpec:
    bucket = default_bucket(settings.region, account)
    threshold = settings.probability_threshold
    if threshold is None:
        from processing.contract import load_contract

        threshold = load_contract().decision_threshold
    return MonitorSpec(
        endpoint=endpoint,
        region=settings.region,
        account=account,
        role_arn=settings.role_arn,
        capture_destination=normalize(
            settings.capture_destination or join(bucket, "datacapture"), "--capture-destination"
        ),
        report_destination=normalize(
            settings.report_destination or join(bucket, "monitoring", "reports"), "--report-destination"
        ),
        ground_truth=normalize(settings.ground_truth or join(bucket, "ground-truth", endpoint), "--ground-truth"),
        baselines=package.baselines,
        tags=tags,
        probability_threshold=float(threshold),
    )


def deploy_endpoint(
    sagemaker, settings: DeploySettings, package: ModelPackage, spec: MonitorSpec, tags: list
) -> list[Change]:
    model = ep.model_request(spec.endpoint, package.arn, settings.role_arn, tags)
    capture = ep.data_capture_config(spec.capture_destination, settings.kms_key_id)
    config = ep.endpoint_config_request(
        spec.endpoint, model["ModelName"], capture, settings.instance_type, settings.instance_count, tags
    )
    changes = [ep.ensure_model(sagemaker, model), ep.ensure_endpoint_config(sagemaker, config)]
    changes.append(
        ep.ensure_endpoint(sagemaker, spec.endpoint, config["EndpointConfigName"], tags, settings.waiter_config)
    )
    if settings.wait:
        ep.wait_in_service(sagemaker, spec.endpoint, settings.waiter_config)
    return changes


def deploy_monitoring(clients: AwsClients, settings: DeploySettings, spec: MonitorSpec, account: str) -> list[Change]:
    """The chosen engine's schedules first, then the other engine's removed: the endpoint is never left
    unmonitored (a refused create keeps the old engine running), and never monitored twice after a deploy."""
    if settings.monitor_engine == "managed":
        from pipelines.deploy.monitor_managed import ensure_managed_monitoring

        changes = ensure_managed_monitoring(clients.sagemaker, spec)
    else:
        from pipelines.deploy.code_bundle import analyzer_bundle, upload_bundle
        from pipelines.deploy.monitor_processing import ensure_processing_monitoring

        code, changes = upload_bundle(clients.s3, analyzer_bundle(), code_prefix(settings, account))
        changes += ensure_processing_monitoring(clients.scheduler, spec, code, scheduler_role(settings))
    return changes + remove_other_engine(clients, settings, spec)


def remove_other_engine(clients: AwsClients, settings: DeploySettings, spec: MonitorSpec) -> list[Change]:
    """Delete this endpoint's schedules of the engine not chosen (absent ones: nothing sent, `unchanged`)."""
    if settings.monitor_engine == "managed":
        from pipelines.deploy.monitor_processing import remove_processing_monitoring

        return remove_processing_monitoring(clients.scheduler, spec)
    from pipelines.deploy.monitor_managed import remove_managed_monitoring

    return remove_managed_monitoring(clients.sagemaker, spec, settings.deletion_wait)
