"""`mlops teardown --aws`: remove what the product template and the deploy workflow created for a project.

Order: what could start new work stops first (running deploy executions, the deploy workflow's own
rules), then what the deploy workflow created outside any stack (monitoring schedules, Scheduler
schedules, flow definitions and task UIs, endpoints, their configs and models, job definitions, the
build's SageMaker Pipeline, state machines), then the project (DeleteProject terminates its
provisioned product, the stack) and any other stack of the project (the portal's), and last the
data the stacks retain (buckets with every object version, the model registry's group and packages,
the portal's file system, then the KMS keys that encrypt them), only after `confirm` says yes and
only once the stacks are gone. A dry run sends the reads (to find what exists) and answers every
other request itself, after botocore has validated it; data is never deleted in a dry run.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.teardown.inventory import Inventory, Resource, TeardownFailed

SERVICES = ("sagemaker", "scheduler", "stepfunctions", "events", "cloudformation", "s3", "kms", "efs", "tagging")
# Error codes that mean "it is not there"; SageMaker says it with a ValidationException, told apart by its message.
NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException", "NoSuchBucket", "NotFoundException", "FileSystemNotFound")
NOT_FOUND_WORDS = ("not found", "does not exist", "could not find", "cannot find")
READS = ("Describe", "List", "Get", "Head", "Search")
KEY_DELETION_DAYS = 30


@dataclass
class TeardownClients:
    sagemaker: object
    scheduler: object
    stepfunctions: object
    events: object
    cloudformation: object
    s3: object
    kms: object
    efs: object
    tagging: object

    @classmethod
    def from_session(cls, session) -> TeardownClients:
        names = {"tagging": "resourcegroupstaggingapi"}
        return cls(*(session.client(names.get(s, s)) for s in SERVICES))

    def all(self) -> list:
        return [getattr(self, s) for s in SERVICES]


@dataclass(frozen=True)
class Waits:
    """How long to wait for a deletion AWS finishes later (stacks, projects), and how often to look."""

    seconds: float = 3600.0
    interval: float = 15.0
    enabled: bool = True


@dataclass
class Report:
    dry_run: bool
    steps: list[dict] = field(default_factory=list)

    def add(self, resource: Resource, action: str, detail: str = "") -> None:
        self.steps.append({"kind": resource.kind, "name": resource.name, "action": action, "detail": detail})

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "steps": list(self.steps)}


def teardown(
    clients: TeardownClients,
    inventory: Inventory,
    confirm: Callable[[list[Resource]], bool],
    waits: Waits = Waits(),
    dry_run: bool = False,
) -> Report:
    report = Report(dry_run)
    deleted = "would delete" if dry_run else "deleted"
    machines = [r for r in inventory.resources if r.kind == "StateMachine"]
    for machine in machines:
        _stop_executions(clients.stepfunctions, machine, report, dry_run)
    for rule in inventory.of("Rule"):
        targets = _call(clients.events.list_targets_by_rule, Rule=rule.name).get("Targets", [])
        if targets:
            _call(clients.events.remove_targets, Rule=rule.name, Ids=[t["Id"] for t in targets])
        _delete(clients.events.delete_rule, rule, report, deleted, Name=rule.name)
    sm = clients.sagemaker
    for schedule in inventory.of("MonitoringSchedule"):
        _delete(sm.delete_monitoring_schedule, schedule, report, deleted, MonitoringScheduleName=schedule.name)
    for schedule in inventory.of("Schedule"):
        _delete(
            clients.scheduler.delete_schedule, schedule, report, deleted, Name=schedule.name, GroupName=schedule.detail
        )
    for flow in inventory.of("FlowDefinition"):
        _delete(sm.delete_flow_definition, flow, report, deleted, FlowDefinitionName=flow.name)
    for ui in inventory.of("HumanTaskUi"):
        _delete(sm.delete_human_task_ui, ui, report, deleted, HumanTaskUiName=ui.name)
    for endpoint in inventory.of("Endpoint"):
        _delete(sm.delete_endpoint, endpoint, report, deleted, EndpointName=endpoint.name)
    for config in inventory.of("EndpointConfig"):
        _delete(sm.delete_endpoint_config, config, report, deleted, EndpointConfigName=config.name)
    for model in inventory.of("Model"):
        _delete(sm.delete_model, model, report, deleted, ModelName=model.name)
    for definition in inventory.of("DataQualityJobDefinition"):
        _delete(sm.delete_data_quality_job_definition, definition, report, deleted, JobDefinitionName=definition.name)
    for definition in inventory.of("ModelQualityJobDefinition"):
        _delete(sm.delete_model_quality_job_definition, definition, report, deleted, JobDefinitionName=definition.name)
    for pipeline in inventory.of("Pipeline"):
        token = hashlib.sha256(f"teardown {pipeline.arn or pipeline.name}".encode()).hexdigest()  # 32-128 characters
        _delete(sm.delete_pipeline, pipeline, report, deleted, PipelineName=pipeline.name, ClientRequestToken=token)
    for machine in inventory.of("StateMachine"):
        _delete(clients.stepfunctions.delete_state_machine, machine, report, deleted, stateMachineArn=machine.arn)
    stacks_gone = _delete_stacks(clients, inventory, report, waits, dry_run)
    _delete_data(clients, inventory, report, confirm, stacks_gone, dry_run)
    return report


# ---------------------------------------------------------------- executions, stacks


def _stop_executions(stepfunctions, machine: Resource, report: Report, dry_run: bool) -> None:
    pages = _pages(
        lambda **kw: stepfunctions.list_executions(stateMachineArn=machine.arn, statusFilter="RUNNING", **kw),
        "nextToken",
        "nextToken",
    )
    for page in pages:
        for execution in page.get("executions", []):
            _call(
                stepfunctions.stop_execution,
                executionArn=execution["executionArn"],
                error="Teardown",
                cause="mlops teardown --aws removes this project",
            )
            report.steps.append(
                {
                    "kind": "Execution",
                    "name": execution["executionArn"].rsplit(":", 1)[-1],
                    "action": "would stop" if dry_run else "stopped",
                    "detail": machine.name,
                }
            )


def _delete_stacks(clients: TeardownClients, inventory: Inventory, report: Report, waits: Waits, dry_run: bool) -> bool:
    """Delete the project (its provisioned product's stack) and the project's other stacks; True once all are gone."""
    pending = list(inventory.stacks)
    project = inventory.sagemaker_project
    if project:
        name = project["ProjectName"]
        product = project.get("ServiceCatalogProvisionedProductDetails", {}).get("ProvisionedProductId", "")
        _call(clients.sagemaker.delete_project, ProjectName=name)
        report.steps.append(
            {
                "kind": "Project",
                "name": name,
                "action": "would delete" if dry_run else "deleted",
                "detail": f"terminates provisioned product {product} and its stack",
            }
        )
        if not dry_run and waits.enabled:
            _wait(lambda: _project_gone(clients.sagemaker, name), waits, f"project {name} to be deleted")
        # The product's stack goes with the project; a stack that remains is another one of the project's.
        pending = [s for s in pending if not s.name.startswith("SC-")]
    for stack in pending:
        _delete(
            clients.cloudformation.delete_stack,
            stack,
            report,
            "would delete" if dry_run else "deleted",
            StackName=stack.arn or stack.name,
        )
    if dry_run or not waits.enabled:
        return False
    for stack in pending:
        _wait(lambda s=stack: _stack_gone(clients.cloudformation, s), waits, f"stack {stack.name} to be deleted")
    return True


def _project_gone(sagemaker, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        status = sagemaker.describe_project(ProjectName=name).get("ProjectStatus")
    except ClientError as e:
        if _gone(e):
            return True
        raise TeardownFailed(f"DescribeProject {name} refused: {_code(e)}") from e
    if status == "DeleteFailed":
        raise TeardownFailed(f"SageMaker could not delete project {name} (DeleteFailed); see its stack's events")
    return status == "DeleteCompleted"


def _stack_gone(cloudformation, stack: Resource) -> bool:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack.arn or stack.name)["Stacks"]
    except ClientError as e:
        if _code(e) == "ValidationError":
            return True
        raise TeardownFailed(f"DescribeStacks {stack.name} refused: {_code(e)}") from e
    status = stacks[0]["StackStatus"] if stacks else "DELETE_COMPLETE"
    if status == "DELETE_FAILED":
        reason = stacks[0].get("StackStatusReason", "")
        raise TeardownFailed(f"stack {stack.name} could not be deleted: {reason}")
    return status == "DELETE_COMPLETE"


def _wait(done: Callable[[], bool], waits: Waits, what: str) -> None:
    deadline = time.monotonic() + waits.seconds
    while not done():
        if time.monotonic() > deadline:
            raise TeardownFailed(f"gave up waiting for {what} after {waits.seconds:.0f} s; run teardown again later")
        time.sleep(waits.interval)


# ---------------------------------------------------------------- data


def _delete_data(clients, inventory: Inventory, report: Report, confirm, stacks_gone: bool, dry_run: bool) -> None:
    data = [r for r in inventory.resources if r.data]
    if not data:
        return
    if dry_run:
        for resource in data:
            report.add(resource, "kept", "data: deleted only after confirmation, never in a dry run")
        return
    if not stacks_gone:
        for resource in data:
            report.add(
                resource, "kept", "data: the stacks are still being deleted; run teardown again when they are gone"
            )
        return
    if not confirm(data):
        for resource in data:
            report.add(resource, "kept", "not confirmed")
        return
    for group in [r for r in data if r.kind == "ModelPackageGroup"]:
        _delete_package_group(clients.sagemaker, group, report)
    for bucket in [r for r in data if r.kind == "Bucket"]:
        _empty_bucket(clients.s3, bucket.name)
        _delete(clients.s3.delete_bucket, bucket, report, "deleted", Bucket=bucket.name)
    for file_system in [r for r in data if r.kind == "FileSystem"]:
        _delete(clients.efs.delete_file_system, file_system, report, "deleted", FileSystemId=file_system.name)
    for key in [r for r in data if r.kind == "KmsKey"]:
        _delete(
            clients.kms.schedule_key_deletion,
            key,
            report,
            f"scheduled for deletion in {KEY_DELETION_DAYS} days",
            KeyId=key.name,  # the key id (ARNs name keys key/<id>)
            PendingWindowInDays=KEY_DELETION_DAYS,
        )


def _delete_package_group(sagemaker, group: Resource, report: Report) -> None:
    pages = _pages(
        lambda **kw: sagemaker.list_model_packages(ModelPackageGroupName=group.name, **kw), "NextToken", "NextToken"
    )
    for page in pages:
        for package in page.get("ModelPackageSummaryList", []):
            _call(sagemaker.delete_model_package, ModelPackageName=package["ModelPackageArn"])
            report.steps.append(
                {"kind": "ModelPackage", "name": package["ModelPackageArn"], "action": "deleted", "detail": ""}
            )
    _delete(sagemaker.delete_model_package_group, group, report, "deleted", ModelPackageGroupName=group.name)


def _empty_bucket(s3, bucket: str) -> None:
    """Every object version and delete marker, 1,000 per request (a versioned bucket keeps them all)."""
    for page in _pages(lambda **kw: s3.list_object_versions(Bucket=bucket, **kw), None, None):
        objects = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(objects), 1000):
            answer = _call(
                s3.delete_objects, Bucket=bucket, Delete={"Objects": objects[start : start + 1000], "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise TeardownFailed(
                    f"could not empty bucket {bucket}: {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )


# ---------------------------------------------------------------- helpers


def _delete(operation, resource: Resource, report: Report, action: str, **kwargs) -> None:
    """One deletion; a resource already gone counts as deleted (a re-run resumes)."""
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        operation(**kwargs)
    except ParamValidationError as e:
        raise TeardownFailed(f"invalid request to delete {resource.kind} {resource.name}: {e}") from e
    except ClientError as e:
        if _gone(e):
            report.add(resource, "already gone")
            return
        raise TeardownFailed(f"{e.operation_name} {resource.name} refused: {_code(e)}: {_message(e)}") from e
    report.add(resource, action)


def _pages(operation, token_out: str | None, token_in: str | None):
    """Pages of a list operation; S3's ListObjectVersions pages with two markers (token_out None)."""
    kwargs: dict = {}
    while True:
        page = _call(operation, **kwargs)
        yield page
        if token_out is None:
            if not page.get("IsTruncated"):
                return
            kwargs = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
            continue
        token = page.get(token_out)
        if not token:
            return
        kwargs = {token_in: token}


def _call(operation, **kwargs):
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        return operation(**kwargs)
    except ParamValidationError as e:
        raise TeardownFailed(f"invalid request: {e}") from e
    except ClientError as e:
        raise TeardownFailed(f"{e.operation_name} refused: {_code(e)}: {_message(e)}") from e


def _gone(error) -> bool:
    code = _code(error)
    return code in NOT_FOUND or (
        code == "ValidationException" and any(w in _message(error).lower() for w in NOT_FOUND_WORDS)
    )


def _code(error) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _message(error) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def dry_run_answer(service: str, operation: str, params: dict):
    """Teardown's dry run: reads go to AWS; everything else is validated, recorded and answered here."""
    from pipelines.template.dry_run import SEND

    if operation.startswith(READS):
        return SEND
    return {}
