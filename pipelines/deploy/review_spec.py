"""Human review with Amazon A2I: what the user chooses (ReviewSettings, checked on construction) and
what a deploy resolves it to (ReviewSpec: names, locations, roles), one place for both.

Only private work teams are accepted (`…:workteam/private-crowd/<name>`): the predictions carry
patient records, which must not go to Mechanical Turk, and a vendor work team is a contract this
template does not set up. A work team belongs to one account and region; the flow definition is
created in the deploy's region and account, so the work team must be there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.deploy.errors import DeployInputError
from pipelines.deploy.names import review_schedule_name, review_stem
from pipelines.deploy.s3uri import normalize

REVIEW_MODES = ("a2i", "none")
WORKTEAM_ARN = re.compile(
    r"arn:aws[a-z\-]*:sagemaker:(?P<region>[a-z0-9\-]+):(?P<account>[0-9]{12}):"
    r"workteam/private-crowd/(?P<name>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})"
)
# botocore's shapes (FlowDefinitionTaskTitle / TaskDescription / TaskCount / UiTemplate.Content) and
# A2I's documented limits: a task stays available at most 10 days; a worker gets at least 30 s.
MAX_TITLE, MAX_DESCRIPTION, MAX_TEMPLATE = 128, 255, 128_000
TASK_COUNTS = range(1, 4)
MAX_AVAILABILITY = 864_000
MIN_TIME_LIMIT = 30
TITLE_CHARACTERS = re.compile("[\t\n\r -\ud7ff\ue000-\ufffd]*")
DEFAULT_TITLE = "Review a model prediction"
DEFAULT_DESCRIPTION = (
    "The model was unsure about this record (or it was drawn for an audit). "
    "Read the features and the model's answer, then give the label you believe is right."
)


@dataclass(frozen=True)
class ReviewSettings:
    """The `--review a2i` options; every value is checked here, before anything is sent."""

    workteam_arn: str | None
    task_template: str | None  # the Liquid worker template (review.templates.task_template() by default in the CLI)
    role_arn: str | None = None  # the flow definition's role (A2I writes the answers with it); default --role-arn
    task_title: str = DEFAULT_TITLE
    task_description: str = DEFAULT_DESCRIPTION
    task_count: int = 1  # reviewers per prediction
    task_availability_seconds: int = MAX_AVAILABILITY  # a loop nobody takes within this expires
    task_time_limit_seconds: int = 3600  # per reviewer, once taken (A2I's default)
    output_path: str | None = None  # default s3://sagemaker-<region>-<account>/human-review/<endpoint>/output
    manifest_destination: str | None = None  # default …/human-review/<endpoint>/manifests
    audit_rate: float = 0.05  # share of confident predictions also sent for review
    instance_type: str = "ml.t3.medium"  # the hourly post-processing job's
    volume_size_gb: int = 5

    def __post_init__(self) -> None:
        if not self.workteam_arn:
            raise DeployInputError(
                "--review a2i needs --workteam-arn: the private work team whose members review the predictions "
                "(arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<name>)"
            )
        if not WORKTEAM_ARN.fullmatch(self.workteam_arn):
            raise DeployInputError(
                f"--workteam-arn {self.workteam_arn!r} is not a private work team's ARN "
                "(arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<name>; "
                "public and vendor work teams are not accepted: the predictions carry patient records)"
            )
        self._check_template()
        self._check_text("--task-title", self.task_title, MAX_TITLE)
        if not TITLE_CHARACTERS.fullmatch(self.task_title):
            raise DeployInputError("--task-title has characters A2I does not accept (control characters)")
        self._check_text("--task-description", self.task_description, MAX_DESCRIPTION)
        if "\n" in self.task_description or "\r" in self.task_description:
            raise DeployInputError("--task-description must be one line (A2I's pattern `.+` has no line breaks)")
        if not _is_int(self.task_count) or self.task_count not in TASK_COUNTS:
            raise DeployInputError(
                f"--task-count {self.task_count!r}: A2I sends each prediction to 1, 2 or 3 reviewers"
            )
        if not _is_int(self.task_availability_seconds) or not 1 <= self.task_availability_seconds <= MAX_AVAILABILITY:
            raise DeployInputError(
                f"--task-availability {self.task_availability_seconds!r}: 1 to {MAX_AVAILABILITY} seconds (10 days)"
            )
        if not _is_int(self.task_time_limit_seconds) or self.task_time_limit_seconds < MIN_TIME_LIMIT:
            raise DeployInputError(f"--task-time-limit {self.task_time_limit_seconds!r}: at least {MIN_TIME_LIMIT} s")
        if isinstance(self.audit_rate, bool) or not isinstance(self.audit_rate, (int, float)):
            raise DeployInputError(f"--audit-rate {self.audit_rate!r} is not a number")
        if not 0.0 <= float(self.audit_rate) <= 1.0:
            raise DeployInputError(f"--audit-rate {self.audit_rate!r}: a share between 0 and 1")
        for what, uri in (("--review-output", self.output_path), ("--review-manifests", self.manifest_destination)):
            if uri is not None:
                normalize(uri, what)
        if not _is_int(self.volume_size_gb) or self.volume_size_gb < 1:
            raise DeployInputError("the post-processing job needs a volume of at least 1 GB")

    @property
    def workteam_region(self) -> str:
        return WORKTEAM_ARN.fullmatch(self.workteam_arn or "")["region"]

    @property
    def workteam_account(self) -> str:
        return WORKTEAM_ARN.fullmatch(self.workteam_arn or "")["account"]

    def _check_template(self) -> None:
        if not isinstance(self.task_template, str) or not self.task_template.strip():
            raise DeployInputError("--review a2i needs a task template (--task-template PATH); the one given is empty")
        if len(self.task_template) > MAX_TEMPLATE:
            raise DeployInputError(
                f"the task template has {len(self.task_template)} characters; A2I takes at most {MAX_TEMPLATE}"
            )
        from liquid import parse
        from liquid.exceptions import LiquidError

        try:
            parse(self.task_template)
        except LiquidError as e:
            raise DeployInputError(f"the task template is not valid Liquid: {e}") from e

    @staticmethod
    def _check_text(what: str, value: object, limit: int) -> None:
        if not isinstance(value, str) or not value.strip():
            raise DeployInputError(f"{what} must not be empty")
        if len(value) > limit:
            raise DeployInputError(f"{what} has {len(value)} characters; A2I takes at most {limit}")


@dataclass(frozen=True)
class ReviewSpec:
    """A review deploy, resolved: names, locations and roles for one endpoint in one account."""

    settings: ReviewSettings
    endpoint: str
    region: str
    account: str
    flow_role_arn: str  # passed to CreateFlowDefinition: A2I writes the reviewers' answers with it
    job_role_arn: str  # the post-processing job's execution role
    capture_uri: str  # <capture destination>/<endpoint>, read hour by hour by the job
    output_path: str  # the flow definition's S3OutputPath
    manifest_uri: str  # the job writes <manifest_uri>/yyyy/mm/dd/hh/manifest.json
    tags: list[dict] = field(default_factory=list)

    @property
    def stem(self) -> str:
        """Task UIs and flow definitions of this endpoint are `<stem>-<hash>`."""
        return review_stem(self.endpoint)

    @property
    def schedule(self) -> str:
        return review_schedule_name(self.endpoint)

    def arn(self, resource: str) -> str:
        """A SageMaker ARN in the work team's partition (aws, aws-cn, aws-us-gov)."""
        partition = (self.settings.workteam_arn or "arn:aws").split(":")[1]
        return f"arn:{partition}:sagemaker:{self.region}:{self.account}:{resource}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
