"""The deploy state machine as the product template embeds it: the one deploy workflow of
`pipelines/deploy/workflow` (milestone 5a), its SDK JSON, with the project's names substituted.

The template cannot run Python at launch, so `build_definition` (5a's) runs at package time, given
*sentinels* in place of the project's names, roles, buckets, key, topic and work team: values of the
right shape, so 5a's own validation passes. Each sentinel is then replaced by a `${Name}` placeholder
that the state machine's `DefinitionSubstitutions` fill from the stack's parameters and resources.
The JSON the SDK wrote is otherwise left exactly as it is.

Names 5a makes from the project name (`<project>-prod-v<version>-<hash>`, job definitions, task UIs) are
cut to SageMaker's 63 characters *when the definition is built*; the project-name sentinel is therefore
as long as the template's `SageMakerProjectName` MaxLength, so every name a real project gets fits. The
one kind 5a always cuts, the scheduled jobs' name prefix (`<endpoint, cut>-dq-<hash>`, room left for
Scheduler's execution id), cannot be cut by CloudFormation (it has no substring function): there the cut
stem becomes the project id, which is unique and fits (MAX_PROJECT_ID). Any other cut sentinel is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from pipelines.deploy.workflow.settings import PRODUCTION

ENGINES = ("managed", "processing")
REVIEWS = ("a2i", "portal", "none")
SENTINEL_ACCOUNT = "000000000000"
# The longest project name and id the product template accepts (its parameters' MaxLength): test_package
# checks they agree with templates/product.yaml.
MAX_PROJECT_NAME = 25
MAX_PROJECT_ID = 16  # SageMaker's ids are `p-` and 12 characters
CODE_PREFIX = "monitoring/code"  # under CodeBucket: the scheduled jobs' bundles (`mlops template register`)


class DefinitionError(ValueError):
    """The definition cannot be embedded (a sentinel is missing or cut, or `${` already occurs in it)."""


@dataclass(frozen=True)
class MachineOptions:
    monitor_engine: str = "processing"
    review: str = "none"

    def __post_init__(self) -> None:
        if self.monitor_engine not in ENGINES:
            raise DefinitionError(f"monitor engine {self.monitor_engine!r} is not one of {', '.join(ENGINES)}")
        if self.review not in REVIEWS:
            raise DefinitionError(f"review {self.review!r} is not one of {', '.join(REVIEWS)}")

    @property
    def key(self) -> str:
        return f"{self.monitor_engine}-{self.review}"


@dataclass(frozen=True)
class ProjectValues:
    """What the definition needs to know about the project; at package time, the sentinels below."""

    project_name: str
    project_id: str
    bucket: str
    code_bucket: str
    model_role_arn: str
    scheduler_role_arn: str
    review_role_arn: str
    workteam_arn: str
    approval_topic_arn: str
    kms_key_arn: str
    account: str

    @property
    def model_package_group(self) -> str:
        """The template's group, `${SageMakerProjectName}-${SageMakerProjectId}`."""
        return f"{self.project_name}-{self.project_id}"


def _padded(stem: str, length: int) -> str:
    return (stem + "x" * length)[:length]


def sentinels(region: str) -> dict[str, tuple[str, str]]:
    """field -> (the DefinitionSubstitutions key, the sentinel the builder is given in its place).

    Lower case (SageMaker lower-cases names in ARNs; A2I accepts only lower case), unlike any real value;
    none is part of another except the account, inside the ARNs, which are replaced first (longest first).
    """
    arn = f"arn:aws:iam::{SENTINEL_ACCOUNT}:role/cfnsub-"
    return {
        "project_name": ("ProjectName", _padded("cfnsubprojectname", MAX_PROJECT_NAME)),
        "project_id": ("ProjectId", _padded("cfnsubid", MAX_PROJECT_ID)),
        "bucket": ("ArtifactBucket", "cfnsub-artifact-bucket"),
        "code_bucket": ("CodeBucket", "cfnsub-code-bucket"),
        "model_role_arn": ("ModelRoleArn", arn + "model-role"),
        "scheduler_role_arn": ("SchedulerRoleArn", arn + "scheduler-role"),
        "review_role_arn": ("ReviewRoleArn", arn + "review-role"),
        "workteam_arn": (
            "WorkteamArn",
            f"arn:aws:sagemaker:{region}:{SENTINEL_ACCOUNT}:workteam/private-crowd/cfnsub-workteam",
        ),
        "approval_topic_arn": ("ApprovalTopicArn", f"arn:aws:sns:{region}:{SENTINEL_ACCOUNT}:cfnsub-approval-topic"),
        "kms_key_arn": (
            "KmsKeyArn",
            f"arn:aws:kms:{region}:{SENTINEL_ACCOUNT}:key/00000000-0000-0000-0000-cf0500000000",
        ),
        "account": ("AccountId", SENTINEL_ACCOUNT),
    }


def sentinel_values(region: str) -> ProjectValues:
    return ProjectValues(**{name: sentinel for name, (_, sentinel) in sentinels(region).items()})


def workflow_settings(region: str, options: MachineOptions, values: ProjectValues):
    """5a's WorkflowSettings for a project: every location in the project's buckets (none in the SDK's
    default bucket), the model role for the endpoints and jobs, the template's approvers' topic."""
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.names import default_endpoint_name
    from pipelines.deploy.review_spec import ReviewSettings
    from pipelines.deploy.workflow.settings import WorkflowSettings

    bucket = f"s3://{values.bucket}"
    group = values.model_package_group
    production = default_endpoint_name(values.project_name, group, PRODUCTION)
    review = None
    if options.review == "a2i":
        from review.templates import task_template

        review = ReviewSettings(
            workteam_arn=values.workteam_arn,
            task_template=task_template(),
            role_arn=values.review_role_arn,
            output_path=f"{bucket}/human-review/{production}/output",
            manifest_destination=f"{bucket}/human-review/{production}/manifests",
        )
    deploy = DeploySettings(
        role_arn=values.model_role_arn,
        region=region,
        monitor_engine=options.monitor_engine,
        model_package_group=group,
        capture_destination=f"{bucket}/datacapture",
        report_destination=f"{bucket}/monitoring/reports",
        ground_truth=f"{bucket}/ground-truth/{production}",
        code_destination=f"s3://{values.code_bucket}/{CODE_PREFIX}",
        scheduler_role_arn=values.scheduler_role_arn,
        kms_key_id=values.kms_key_arn,
        project_name=values.project_name,
        project_id=values.project_id,
        review=review,
    )
    return WorkflowSettings(
        deploy,
        account=values.account,
        approval_topic_arn=values.approval_topic_arn,
        state_machine_name=f"sagemaker-{group}-deploy",
    )


def deploy_definition(region: str, options: MachineOptions, values: ProjectValues) -> dict:
    """The deploy state machine's definition for these options, as 5a's builder emits it."""
    from pipelines.deploy.workflow.definition import definition

    return definition(workflow_settings(region, options, values))


def embedded_definition(region: str, options: MachineOptions) -> tuple[dict, list[str]]:
    """The definition with `${Name}` placeholders, and the substitution names it uses (sorted)."""
    text, used = _substituted(region, options, MAX_PROJECT_NAME)
    # Built again for a short project name: the same but for the hashes (of content holding the sentinels), or a
    # name was cut for the long one (`<project>-pro-v…`), which CloudFormation could not reproduce.
    short, _ = _substituted(region, options, len("cfnsubpn"))
    if _skeleton(text) != _skeleton(short):
        raise DefinitionError(
            "the definition cut or changed a sentinel: a name made from the longest project name would not fit "
            "SageMaker's 63 characters; lower SageMakerProjectName's MaxLength (and MAX_PROJECT_NAME)"
        )
    return json.loads(text), sorted(used)


def _substituted(region: str, options: MachineOptions, name_length: int) -> tuple[str, list[str]]:
    table = sentinels(region)
    table["project_name"] = ("ProjectName", _padded("cfnsubprojectname", name_length))
    values = ProjectValues(**{name: sentinel for name, (_, sentinel) in table.items()})
    text = json.dumps(deploy_definition(region, options, values))
    if "${" in text:
        raise DefinitionError("the definition already holds '${', which DefinitionSubstitutions would rewrite")
    default_bucket = f"sagemaker-{region}-{SENTINEL_ACCOUNT}"
    if default_bucket in text:
        raise DefinitionError(f"the definition names the SDK's default bucket ({default_bucket}), not the project's")
    used = []
    for key, sentinel in sorted(table.values(), key=lambda pair: -len(pair[1])):
        if sentinel in text:
            used.append(key)
            text = text.replace(sentinel, "${" + key + "}")
    text = _cut_names_to_project_id(text, table["project_name"][1], used)
    if "cfnsub" in text or SENTINEL_ACCOUNT in text:
        cut = text[max(text.find("cfnsub"), 0) :][:80]
        raise DefinitionError(f"the definition cut or changed a sentinel ({cut!r}): lower MAX_PROJECT_NAME")
    return text, used


def _skeleton(text: str) -> str:
    """The text without content hashes, and with the jobs' name stem (`<project>-prod` uncut, the id when cut)
    written one way."""
    import re

    text = re.sub(r"\b[0-9a-f]{10}\b|\b[0-9a-f]{4}\b", "#", text)
    return re.sub(r"\$\{Project(?:Name\}-prod|Id\})-(?=[a-z]{2}-#-)", "JOB-", text)


def _cut_names_to_project_id(text: str, name_sentinel: str, used: list[str]) -> str:
    """The scheduled jobs' name prefix, `<project-name sentinel, cut>-dq-<hash>-<execution id>`: the cut stem ->
    `${ProjectId}` (it fits where the stem did). A sentinel cut anywhere else stays, and is refused."""
    import re

    from pipelines.deploy.scheduler_target import EXECUTION_ID

    job_name = re.compile(r"([a-z]+)(?=-[a-z]{2}-[0-9a-f]{4}-" + re.escape(EXECUTION_ID) + ")")

    def stem(match: re.Match) -> str:
        cut = match.group(1)
        if cut == name_sentinel or not name_sentinel.startswith(cut) or len(cut) < MAX_PROJECT_ID or len(cut) < 12:
            return cut
        if "ProjectId" not in used:
            used.append("ProjectId")
        return "${ProjectId}"

    return job_name.sub(stem, text)


def task_resources(definition: dict) -> list[str]:
    """Every Task state's Resource, in Parallel branches and Map iterators too."""
    found = []

    def walk(states: dict) -> None:
        for state in states.values():
            if state.get("Type") == "Task":
                found.append(state["Resource"])
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    walk(state[key]["States"])

    walk(definition["States"])
    return found


assert {f.name for f in fields(ProjectValues)} == set(sentinels("us-east-1"))
