"""What a deploy workflow is built from: the deploy's settings (`DeploySettings`, shared with the direct
deploy), the account, the two endpoints and the production gate.

Everything here is known when the state machine is created; what each execution brings (the package, its
version and its drift-check baselines) is read by the workflow itself (DescribeModelPackage), so one
definition serves every version of a model package group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from pipelines.deploy.aws import DeploySettings, code_prefix, default_bucket, monitor_spec, review_spec
from pipelines.deploy.code_bundle import CodeLocation, analyzer_bundle, starter_bundle
from pipelines.deploy.errors import DeployInputError
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.names import bounded, default_endpoint_name, deployment_tags, validate_name
from pipelines.deploy.registry import Baselines, ModelPackage
from pipelines.deploy.review_spec import ReviewSpec
from pipelines.deploy.workflow.patterns import Runtime

STAGING, PRODUCTION = "staging", "prod"
PACKAGE = "$.package"
BASELINES = f"{PACKAGE}.DriftCheckBaselines"
WEEK = 7 * 24 * 3600
MAX_APPROVAL_SECONDS = 365 * 24 * 3600  # a standard execution lasts at most a year
_TOPIC = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}")
_STATE_MACHINE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True)
class WorkflowSettings:
    deploy: DeploySettings  # role, region, engine, group, locations, instances, project, review
    account: str
    staging_endpoint: str | None = None  # default <project or group>-staging
    production_endpoint: str | None = None  # default <project or group>-prod
    approval_topic_arn: str | None = None  # default arn:aws:sns:<region>:<account>:<state machine>-approvals
    approval_timeout_seconds: int = WEEK  # an unanswered gate fails the execution after this long
    poll_seconds: int = 30  # between DescribeEndpoint / DescribeFlowDefinition calls
    sampling_percentage: int = 100  # of the endpoints' requests captured
    smoke_test_body: str | None = None  # default: one CSV row of zeros, as many as the data contract's features
    state_machine_name: str | None = None  # default <group>-deploy
    runtime: Runtime = field(default_factory=Runtime, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{12}", self.account or ""):
            raise DeployInputError(f"account {self.account!r} is not a 12-digit AWS account id")
        for endpoint in (self.staging_endpoint, self.production_endpoint):
            if endpoint is not None:
                validate_name(endpoint, "endpoint name")
        if self.staging and self.staging.lower() == self.production.lower():
            raise DeployInputError(f"the staging and production endpoints must differ (both are {self.production})")
        if self.approval_topic_arn is not None and not _TOPIC.fullmatch(self.approval_topic_arn):
            raise DeployInputError(f"--approval-topic-arn {self.approval_topic_arn!r} is not an SNS topic ARN")
        if (
            isinstance(self.sampling_percentage, bool)
            or not isinstance(self.sampling_percentage, int)
            or not (0 <= self.sampling_percentage <= 100)
        ):
            raise DeployInputError("the capture sampling percentage must be a whole number from 0 to 100")
        if not isinstance(self.poll_seconds, int) or not 1 <= self.poll_seconds <= 3600:
            raise DeployInputError("the endpoint polling interval must be 1 to 3600 whole seconds")
        if not isinstance(self.approval_timeout_seconds, int) or not (
            60 <= self.approval_timeout_seconds <= MAX_APPROVAL_SECONDS
        ):
            raise DeployInputError("the approval timeout must be 60 s to 365 days")
        if not _STATE_MACHINE_NAME.fullmatch(self.machine_name):
            raise DeployInputError(f"state machine name {self.machine_name!r}: 1-80 letters, digits, - or _")

    # -- names ------------------------------------------------------------------------------------------

    @property
    def region(self) -> str:
        return self.deploy.region

    @property
    def group(self) -> str:
        return self.deploy.model_package_group

    @property
    def staging(self) -> str:
        return self.staging_endpoint or default_endpoint_name(self.deploy.project_name, self.group, STAGING)

    @property
    def production(self) -> str:
        return self.production_endpoint or default_endpoint_name(self.deploy.project_name, self.group, PRODUCTION)

    @property
    def machine_name(self) -> str:
        return self.state_machine_name or bounded(self.group, "deploy", 80)

    @property
    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{self.machine_name}"

    @property
    def topic_arn(self) -> str:
        name = bounded(self.machine_name, "approvals", 256)
        return self.approval_topic_arn or f"arn:aws:sns:{self.region}:{self.account}:{name}"

    def tags(self, stage: str) -> list[dict]:
        return deployment_tags(stage, self.deploy.project_name, self.deploy.project_id)

    # -- what the execution supplies, and the specs the request builders take ----------------------------

    @cached_property
    def baselines(self) -> Baselines:
        """The package's drift-check baselines, as sentinels the workflow reads from DescribeModelPackage."""
        value = self.runtime.value
        return Baselines(
            data_quality_statistics=value("dq-statistics", f"{BASELINES}.ModelDataQuality.Statistics.S3Uri"),
            data_quality_constraints=value("dq-constraints", f"{BASELINES}.ModelDataQuality.Constraints.S3Uri"),
            model_quality_constraints=value("mq-constraints", f"{BASELINES}.ModelQuality.Constraints.S3Uri"),
        )

    @cached_property
    def package_arn(self) -> str:
        return self.runtime.value("package", f"{PACKAGE}.ModelPackageArn")

    @cached_property
    def monitor(self) -> MonitorSpec:
        """The production endpoint's monitoring (engine, locations, schedules) with runtime baselines."""
        package = ModelPackage(self.package_arn, self.group, "Approved", self.baselines)
        return monitor_spec(self.deploy, package, self.account, self.production, self.tags(PRODUCTION))

    @cached_property
    def review(self) -> ReviewSpec | None:
        return review_spec(self.deploy, self.monitor) if self.deploy.review else None

    @property
    def code_prefix(self) -> str:
        return code_prefix(self.deploy, self.account)

    @cached_property
    def analyzer_code(self) -> CodeLocation | None:
        """Where the processing engine's analyzer bundle is (the setup uploads it there)."""
        if self.deploy.monitor_engine != "processing":
            return None
        keys = analyzer_bundle().keys(self.code_prefix)
        return CodeLocation(keys["sourcedir.tar.gz"], keys["runproc.sh"])

    @cached_property
    def starter_code(self) -> CodeLocation | None:
        """Where the human-review post-processing job's bundle is (the setup uploads it there)."""
        if self.review is None:
            return None
        keys = starter_bundle().keys(self.code_prefix)
        return CodeLocation(keys["sourcedir.tar.gz"], keys["runproc.sh"])

    @property
    def scheduler_role(self) -> str:
        return self.deploy.scheduler_role_arn or self.deploy.role_arn

    @property
    def smoke_test(self) -> str:
        if self.smoke_test_body is not None:
            return self.smoke_test_body
        from processing.contract import load_contract

        return ",".join("0" for _ in load_contract().features)

    @property
    def bucket(self) -> str:
        return default_bucket(self.region, self.account)

    @property
    def execution_input_example(self) -> dict:
        """An execution's input, as the EventBridge rule's input transformer makes it."""
        return {
            "ModelPackageArn": f"arn:aws:sagemaker:{self.region}:{self.account}:model-package/{self.group.lower()}/1",
            "ModelPackageVersion": 1,
            "ModelPackageGroupName": self.group,
        }
