"""What `mlops teardown --aws` finds of a project: by its tags, then by the names derived from them.

Every resource the product template and the deploy workflow create carries the tags
`sagemaker:project-name` (and `sagemaker:project-id`); the Resource Groups Tagging API lists them
across services in one query. What a stack of the project created (its resource list's physical ids,
or the `aws:cloudformation:stack-name` tag CloudFormation adds) goes with its stack, except the kinds a stack retains, which are *data* (buckets, the
model registry's group, KMS keys, the portal's file system) and are deleted only after asking.
EventBridge Scheduler schedules carry no tags: they are found by name, `<endpoint>-…`, for the
endpoints found, and only when their target names that endpoint. Stacks are the ones whose
`SageMakerProjectName` parameter is the project (the product's, the portal's).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PROJECT_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"
STACK_TAG = "aws:cloudformation:stack-name"

# (service, resource type in the ARN) -> kind; kinds in DATA are deleted only after confirmation
KINDS = {
    ("sagemaker", "endpoint"): "Endpoint",
    ("sagemaker", "endpoint-config"): "EndpointConfig",
    ("sagemaker", "model"): "Model",
    ("sagemaker", "monitoring-schedule"): "MonitoringSchedule",
    ("sagemaker", "data-quality-job-definition"): "DataQualityJobDefinition",
    ("sagemaker", "model-quality-job-definition"): "ModelQualityJobDefinition",
    ("sagemaker", "flow-definition"): "FlowDefinition",
    ("sagemaker", "human-task-ui"): "HumanTaskUi",
    ("sagemaker", "pipeline"): "Pipeline",
    ("sagemaker", "model-package-group"): "ModelPackageGroup",
    ("states", "stateMachine"): "StateMachine",
    ("events", "rule"): "Rule",
    ("s3", ""): "Bucket",
    ("kms", "key"): "KmsKey",
    ("elasticfilesystem", "file-system"): "FileSystem",
}
DATA = ("Bucket", "ModelPackageGroup", "KmsKey", "FileSystem")
SCHEDULE_SUFFIXES = ("data-quality", "model-quality", "human-review")


class TeardownError(ValueError):
    """Bad input (exit 2)."""


class TeardownFailed(RuntimeError):
    """AWS refused a request (exit 1)."""


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    arn: str = ""
    stack: str | None = None  # the stack that created it, if any
    detail: str = ""

    @property
    def data(self) -> bool:
        return self.kind in DATA

    @property
    def with_stack(self) -> bool:
        """Deleted by deleting its stack (not data, which stacks retain)."""
        return self.stack is not None and not self.data

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "arn": self.arn, "stack": self.stack, "detail": self.detail}


@dataclass
class Inventory:
    project: str
    project_id: str | None
    sagemaker_project: dict | None = None  # DescribeProject's answer when a SageMaker project exists
    stacks: list[Resource] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)

    def of(self, kind: str) -> list[Resource]:
        """The resources of this kind that teardown deletes itself (not those that go with their stack)."""
        return [r for r in self.resources if r.kind == kind and not r.with_stack]

    def owned_by_stacks(self) -> list[Resource]:
        return [r for r in self.resources if r.with_stack]

    def as_dict(self) -> dict:
        return {
            "project": self.project,
            "project_id": self.project_id,
            "sagemaker_project": bool(self.sagemaker_project),
            "stacks": [s.as_dict() for s in self.stacks],
            "resources": [r.as_dict() for r in self.resources],
        }


def parse_arn(arn: str) -> tuple[str, str, str]:
    """(service, resource type, name) of an ARN; S3 buckets have the type ''."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise TeardownFailed(f"not an ARN: {arn!r}")
    service, resource = parts[2], parts[5]
    if service == "s3":
        return service, "", resource
    if service in ("states", "cloudwatch") and ":" in resource:
        kind, _, name = resource.partition(":")
        return service, kind, name
    kind, _, name = resource.partition("/")
    if service == "events" and "/" in name:  # rule/<bus>/<name>
        name = name.rsplit("/", 1)[1]
    return service, kind, name


def find(clients, project: str, project_id: str | None) -> Inventory:
    """Everything of the project in the clients' account and region."""
    inventory = Inventory(project, project_id)
    inventory.sagemaker_project = _describe_project(clients.sagemaker, project)
    if inventory.sagemaker_project and not project_id:
        inventory.project_id = project_id = inventory.sagemaker_project.get("ProjectId")
    inventory.stacks = _stacks(clients.cloudformation, project)
    owners = _stack_resources(clients.cloudformation, inventory.stacks)
    for arn, tags in _tagged(clients.tagging, project, project_id):
        service, kind_in_arn, name = parse_arn(arn)
        kind = KINDS.get((service, kind_in_arn))
        if kind is None:
            continue  # deleted with its stack (roles, log groups, CodeBuild, …) or not ours to delete
        stack = tags.get(STACK_TAG) or owners.get(arn) or owners.get(name)
        inventory.resources.append(Resource(kind, name, arn, stack))
    endpoints = [r.name for r in inventory.resources if r.kind == "Endpoint"]
    inventory.resources += _schedules(clients.scheduler, endpoints)
    return inventory


def _describe_project(sagemaker, project: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return sagemaker.describe_project(ProjectName=project)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound"):
            return None
        raise TeardownFailed(f"DescribeProject {project} refused: {_text(e)}") from e


def _tagged(tagging, project: str, project_id: str | None):
    filters = [{"Key": PROJECT_TAG, "Values": [project]}]
    if project_id:
        filters.append({"Key": PROJECT_ID_TAG, "Values": [project_id]})
    for page in _paged(tagging.get_resources, "PaginationToken", "PaginationToken", TagFilters=filters):
        for mapping in page.get("ResourceTagMappingList", []):
            yield mapping["ResourceARN"], {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}


def _schedules(scheduler, endpoints: list[str]) -> list[Resource]:
    """Scheduler schedules `<endpoint>-<check>` whose job names this endpoint (both engines' and review's)."""
    found = []
    for endpoint in endpoints:
        for page in _paged(scheduler.list_schedules, "NextToken", "NextToken", NamePrefix=f"{endpoint}-"):
            for summary in page.get("Schedules", []):
                name = summary["Name"]
                if name not in {f"{endpoint}-{s}" for s in SCHEDULE_SUFFIXES}:
                    continue
                schedule = scheduler.get_schedule(Name=name, GroupName=summary.get("GroupName", "default"))
                if _targets(schedule, endpoint):
                    found.append(
                        Resource("Schedule", name, schedule.get("Arn", ""), None, schedule.get("GroupName", "default"))
                    )
    return found


def _targets(schedule: dict, endpoint: str) -> bool:
    """The schedule's job works on this endpoint (its Input names it), so it is ours and not a namesake's."""
    text = schedule.get("Target", {}).get("Input") or "{}"
    try:
        job = json.loads(text)
    except ValueError:
        return False
    environment = job.get("Environment", {}) if isinstance(job, dict) else {}
    return environment.get("sagemaker_endpoint_name") == endpoint or f"/datacapture/{endpoint}" in text


def _stacks(cloudformation, project: str) -> list[Resource]:
    found = []
    for page in _paged(cloudformation.describe_stacks, "NextToken", "NextToken"):
        for stack in page.get("Stacks", []):
            if stack.get("StackStatus") == "DELETE_COMPLETE":
                continue
            parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
            if parameters.get("SageMakerProjectName") == project:
                found.append(
                    Resource("Stack", stack["StackName"], stack.get("StackId", ""), None, stack["StackStatus"])
                )
    return found


def _stack_resources(cloudformation, stacks: list[Resource]) -> dict[str, str]:
    """Physical id (a name or an ARN) -> the stack that made it: who owns what, without relying on tags."""
    owners = {}
    for stack in stacks:
        for page in _paged(
            cloudformation.list_stack_resources, "NextToken", "NextToken", StackName=stack.arn or stack.name
        ):
            for summary in page.get("StackResourceSummaries", []):
                if summary.get("PhysicalResourceId"):
                    owners[summary["PhysicalResourceId"]] = stack.name
    return owners


def _paged(operation, token_out: str, token_in: str, **kwargs):
    from botocore.exceptions import ClientError

    token = None
    while True:
        try:
            page = operation(**kwargs, **({token_in: token} if token else {}))
        except ClientError as e:
            raise TeardownFailed(f"{e.operation_name} refused: {_text(e)}") from e
        yield page
        token = page.get(token_out)
        if not token:
            return


def _text(error) -> str:
    info = error.response.get("Error", {})
    return f"{info.get('Code')}: {info.get('Message')}"
