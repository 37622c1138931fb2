"""Hourly Processing jobs started by EventBridge Scheduler: the pieces every scheduled job shares.

Both the `processing` monitor engine (this project's analyzer) and the human-review post-processing
job (processing/start_human_loops.py) are started the same way: a Scheduler schedule whose target is
SageMaker's CreateProcessingJob through Scheduler's universal target
(`arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob`), with the request as the target's
Input. Two of Scheduler's context attributes go into that request: `<aws.scheduler.execution-id>`
makes each job name unique and `<aws.scheduler.scheduled-time>` tells the job which hour it is, so
each execution's window is fixed by its schedule, retries included.

The schedules fire at minute 15 of each hour (`SCHEDULE_MINUTE`): data capture reaches S3 within a
few minutes of the hour's end, and Model Monitor itself runs "on the hour plus 0-20 min".
"""

from __future__ import annotations

import json

from pipelines.deploy.changes import CREATED, UNCHANGED, UPDATED, Change
from pipelines.deploy.code_bundle import CODE_DIR, ENTRYPOINT_DIR, CodeLocation
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from pipelines.deploy.names import bounded, digest

TARGET_ARN = "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"
SCHEDULE_MINUTE = 15
SCHEDULE_GROUP = "default"
# Job names are `<prefix>-<execution id>`; the id's length is not documented (the example has 16
# characters), so the prefix leaves room for a 36-character UUID within the 63-character limit.
JOB_PREFIX_MAX = 26
RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}  # Scheduler's defaults


def schedule_expression(minute: int = SCHEDULE_MINUTE) -> str:
    return f"cron({minute} * * * ? *)"


def job_name_prefix(endpoint: str, tag: str, schedule: str) -> str:
    """`<endpoint, cut>-<tag>-<hash of the schedule's name>`: short enough for the execution id, one per schedule."""
    return bounded(endpoint, f"{tag}-{digest(schedule, 4)}", JOB_PREFIX_MAX)


def schedule_request(name: str, description: str, template: dict, scheduler_role_arn: str) -> dict:
    """CreateSchedule/UpdateSchedule: hourly, UTC, the universal target with the request template."""
    return {
        "Name": name,
        "GroupName": SCHEDULE_GROUP,
        "ScheduleExpression": schedule_expression(),
        "ScheduleExpressionTimezone": "UTC",
        "Description": description,
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": TARGET_ARN,
            "RoleArn": scheduler_role_arn,
            "Input": json.dumps(template, separators=(",", ":")),
            "RetryPolicy": dict(RETRY_POLICY),
        },
    }


def fill_template(template: dict | str, scheduled_time: str, execution_id: str) -> dict:
    """What Scheduler sends for one invocation: the template with its context attributes replaced."""
    text = template if isinstance(template, str) else json.dumps(template)
    return json.loads(text.replace(SCHEDULED_TIME, scheduled_time).replace(EXECUTION_ID, execution_id))


def code_inputs(code: CodeLocation) -> list[dict]:
    """The FrameworkProcessor bundle's two inputs: sourcedir.tar.gz and the runproc.sh entry script."""
    return [
        processing_input("code", code.sourcedir_uri, CODE_DIR),
        processing_input("entrypoint", code.runproc_uri, ENTRYPOINT_DIR),
    ]


def processing_input(name: str, uri: str, local_path: str) -> dict:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def template_of(schedule: dict) -> dict | None:
    """The CreateProcessingJob template a schedule sends, or None when it starts something else."""
    target = schedule.get("Target") or {}
    if target.get("Arn") != TARGET_ARN:
        return None
    try:
        template = json.loads(target.get("Input") or "null")
    except json.JSONDecodeError:
        return None
    return template if isinstance(template, dict) else None


def ensure_schedule(scheduler, request: dict, what: str = "CreateProcessingJob") -> Change:
    """Create the schedule, update it when it differs from the request, else leave it."""
    name = request["Name"]
    current = get_schedule(scheduler, name, request["GroupName"])
    if current is None:
        _send(scheduler.create_schedule, request)
        return Change("Schedule", name, CREATED, f"{request['ScheduleExpression']} -> {what}")
    if _same(current, request):
        return Change("Schedule", name, UNCHANGED, "same expression, target and job template")
    _send(scheduler.update_schedule, request)
    return Change("Schedule", name, UPDATED, "target or expression changed")


def get_schedule(scheduler, name: str, group: str = SCHEDULE_GROUP) -> dict | None:
    try:
        return scheduler.get_schedule(Name=name, GroupName=group)
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            return None
        raise DeployFailed(f"GetSchedule {name} failed: {client_error_text(e)}") from None


def _same(current: dict, wanted: dict) -> bool:
    fields = ("ScheduleExpression", "ScheduleExpressionTimezone", "State", "Description", "FlexibleTimeWindow")
    if any(current.get(key) != wanted[key] for key in fields):
        return False
    target, goal = current.get("Target", {}), wanted["Target"]
    if any(target.get(key) != goal[key] for key in ("Arn", "RoleArn", "RetryPolicy")):
        return False
    try:
        return json.loads(target.get("Input") or "null") == json.loads(goal["Input"])
    except json.JSONDecodeError:
        return False


def _send(operation, request: dict) -> None:
    from botocore.exceptions import ParamValidationError

    try:
        operation(**request)
    except ParamValidationError as e:
        raise DeployInputError(str(e)) from None
    except Exception as e:
        if error_code(e):
            raise DeployFailed(f"{operation.__name__} {request['Name']} failed: {client_error_text(e)}") from None
        raise
