"""The deploy state machine's IAM policy, derived from the Task states of its definition.

Each Task's `Resource` names a service integration (`arn:aws:states:::sagemaker:createModel`,
`arn:aws:states:::aws-sdk:sagemaker:createFlowDefinition`, optionally `.sync` or `.waitForTaskToken`);
INTEGRATIONS says which IAM actions it needs on which resources, scoped to the project's names.
Roles the definition hands on (a `${...RoleArn}` placeholder as the value of a `…RoleArn` parameter)
get an `iam:PassRole` limited to the service of the task passing them. An integration missing from
the table stops packaging with a message saying so: a new call in the workflow must come with its
permissions, never with a wider grant.

Resources are `Fn::Sub` strings over the product template's parameters; SageMaker writes names in
ARNs in lower case, which the template guarantees by allowing only lower-case project names.
"""

from __future__ import annotations

import re

from pipelines.template.state_machine import task_resources

_ARN = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
_NAMED = "${SageMakerProjectName}-*"
MODEL = f"{_ARN}:model/{_NAMED}"
ENDPOINT_CONFIG = f"{_ARN}:endpoint-config/{_NAMED}"
ENDPOINT = f"{_ARN}:endpoint/{_NAMED}"
STAGING_ENDPOINT = f"{_ARN}:endpoint/${{SageMakerProjectName}}-staging"  # the smoke test's only target
FLOW_DEFINITION = f"{_ARN}:flow-definition/{_NAMED}"
HUMAN_TASK_UI = f"{_ARN}:human-task-ui/{_NAMED}"
MONITORING_SCHEDULE = f"{_ARN}:monitoring-schedule/{_NAMED}"
DATA_QUALITY_JOB = f"{_ARN}:data-quality-job-definition/{_NAMED}"
MODEL_QUALITY_JOB = f"{_ARN}:model-quality-job-definition/{_NAMED}"
MODEL_PACKAGE = f"{_ARN}:model-package/${{SageMakerProjectName}}-${{SageMakerProjectId}}/*"
SCHEDULE = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/default/${SageMakerProjectName}-*"
KMS_KEY = "${KmsKey.Arn}"
APPROVAL_TOPIC = (
    "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:sagemaker-${SageMakerProjectName}-${SageMakerProjectId}"
    "-approvals"
)  # templates/product.yaml's ApprovalTopic


def _job_definition(noun: str, resource: str) -> dict[str, list]:
    return {
        f"aws-sdk:sagemaker:create{noun}": [((f"sagemaker:Create{noun}", "sagemaker:AddTags"), (resource,))],
        f"aws-sdk:sagemaker:describe{noun}": [((f"sagemaker:Describe{noun}",), (resource,))],
        f"aws-sdk:sagemaker:delete{noun}": [((f"sagemaker:Delete{noun}",), (resource,))],
    }


# "service:api" (as in the Task's Resource) -> [(IAM actions, resources)]
INTEGRATIONS: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "aws-sdk:sagemaker:describeModelPackage": [(("sagemaker:DescribeModelPackage",), (MODEL_PACKAGE,))],
    "sagemaker:createModel": [(("sagemaker:CreateModel", "sagemaker:AddTags"), (MODEL,))],
    "aws-sdk:sagemaker:describeModel": [(("sagemaker:DescribeModel",), (MODEL,))],
    "sagemaker:createEndpointConfig": [
        (("sagemaker:CreateEndpointConfig", "sagemaker:AddTags"), (ENDPOINT_CONFIG,)),
        # An endpoint config's KmsKeyId: the caller lets SageMaker use the key (a grant) for the instances' volumes.
        (("kms:CreateGrant", "kms:DescribeKey"), (KMS_KEY,)),
    ],
    "aws-sdk:sagemaker:describeEndpointConfig": [(("sagemaker:DescribeEndpointConfig",), (ENDPOINT_CONFIG,))],
    "sagemaker:createEndpoint": [(("sagemaker:CreateEndpoint", "sagemaker:AddTags"), (ENDPOINT, ENDPOINT_CONFIG))],
    "sagemaker:updateEndpoint": [(("sagemaker:UpdateEndpoint",), (ENDPOINT, ENDPOINT_CONFIG))],
    "aws-sdk:sagemaker:describeEndpoint": [(("sagemaker:DescribeEndpoint",), (ENDPOINT,))],
    "aws-sdk:sagemakerruntime:invokeEndpoint": [(("sagemaker:InvokeEndpoint",), (STAGING_ENDPOINT,))],
    # The production gate: the task token to the approvers' topic, encrypted with the project's key.
    "sns:publish": [(("sns:Publish",), (APPROVAL_TOPIC,)), (("kms:Decrypt", "kms:GenerateDataKey"), (KMS_KEY,))],
    "aws-sdk:sagemaker:createHumanTaskUi": [(("sagemaker:CreateHumanTaskUi", "sagemaker:AddTags"), (HUMAN_TASK_UI,))],
    "aws-sdk:sagemaker:describeHumanTaskUi": [(("sagemaker:DescribeHumanTaskUi",), (HUMAN_TASK_UI,))],
    "aws-sdk:sagemaker:createFlowDefinition": [
        (("sagemaker:CreateFlowDefinition", "sagemaker:AddTags"), (FLOW_DEFINITION,))
    ],
    "aws-sdk:sagemaker:describeFlowDefinition": [(("sagemaker:DescribeFlowDefinition",), (FLOW_DEFINITION,))],
    "aws-sdk:sagemaker:createMonitoringSchedule": [
        (("sagemaker:CreateMonitoringSchedule", "sagemaker:AddTags"), (MONITORING_SCHEDULE,))
    ],
    "aws-sdk:sagemaker:updateMonitoringSchedule": [(("sagemaker:UpdateMonitoringSchedule",), (MONITORING_SCHEDULE,))],
    "aws-sdk:sagemaker:describeMonitoringSchedule": [
        (("sagemaker:DescribeMonitoringSchedule",), (MONITORING_SCHEDULE,))
    ],
    **_job_definition("DataQualityJobDefinition", DATA_QUALITY_JOB),
    **_job_definition("ModelQualityJobDefinition", MODEL_QUALITY_JOB),
    "aws-sdk:scheduler:createSchedule": [(("scheduler:CreateSchedule",), (SCHEDULE,))],
    "aws-sdk:scheduler:updateSchedule": [(("scheduler:UpdateSchedule",), (SCHEDULE,))],
    "aws-sdk:scheduler:getSchedule": [(("scheduler:GetSchedule",), (SCHEDULE,))],
    # engine switch: the other engine's schedules of the endpoint are removed
    "aws-sdk:scheduler:deleteSchedule": [(("scheduler:DeleteSchedule",), (SCHEDULE,))],
    "aws-sdk:sagemaker:deleteMonitoringSchedule": [(("sagemaker:DeleteMonitoringSchedule",), (MONITORING_SCHEDULE,))],
}
# The service principal a role is passed to, by the integration's service.
PASSED_TO = {"sagemaker": "sagemaker.amazonaws.com", "scheduler": "scheduler.amazonaws.com"}
# Placeholder name -> the template's value for it (the role's ARN), for PassRole statements.
ROLE_ARNS = {
    "ModelRoleArn": "${ModelExecutionRole.Arn}",
    "SchedulerRoleArn": "${SchedulerRole.Arn}",
    "ReviewRoleArn": "${ReviewRole.Arn}",
}
_SUFFIXES = (".sync", ".waitForTaskToken")
_PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")


class PolicyError(ValueError):
    """The definition calls something this module has no permissions for."""


def integration(resource: str) -> tuple[str, str]:
    """`arn:aws:states:::aws-sdk:sagemaker:createFlowDefinition.sync` -> ("aws-sdk:sagemaker:createFlowDefinition", ".sync")."""
    prefix = "arn:aws:states:::"
    if not resource.startswith(prefix):
        raise PolicyError(f"Task resource {resource!r} is not a Step Functions service integration")
    name = resource[len(prefix) :]
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


def policy_document(definition: dict) -> dict:
    """The least-privilege policy (Fn::Sub resources) for every Task state of this definition."""
    grants: dict[tuple[str, ...], set[str]] = {}
    for resource in task_resources(definition):
        name, suffix = integration(resource)
        if suffix == ".sync":
            raise PolicyError(f"{resource}: .sync integrations need their polling permissions added here first")
        if name not in INTEGRATIONS:
            raise PolicyError(
                f"the deploy workflow calls {name}, which pipelines/template/machine_policy.py does not know: "
                "add its IAM actions and resources to INTEGRATIONS"
            )
        for actions, resources in INTEGRATIONS[name]:
            grants.setdefault(tuple(sorted(actions)), set()).update(resources)
    statements = [
        {
            "Sid": _sid(actions),
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": [{"Fn::Sub": r} for r in sorted(resources)],
        }
        for actions, resources in sorted(grants.items())
    ]
    statements += _pass_roles(definition)
    return {"Version": "2012-10-17", "Statement": statements}


def _pass_roles(definition: dict) -> list[dict]:
    passed: dict[str, set[str]] = {}

    def walk(value, service: str | None, key: str = "") -> None:
        if isinstance(value, dict):
            if value.get("Type") == "Task" and "Resource" in value:
                service = integration(value["Resource"])[0].removeprefix("aws-sdk:").split(":")[0]
            for k, v in value.items():
                walk(v, service, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, service, key)
        elif isinstance(value, str) and key.endswith("RoleArn") and service:
            match = _PLACEHOLDER.match(value)
            if not match or match.group(1) not in ROLE_ARNS:
                raise PolicyError(f"the workflow passes role {value!r}, which is not one of the template's roles")
            if service not in PASSED_TO:
                raise PolicyError(f"the workflow passes a role to {service}, which PASSED_TO does not name")
            passed.setdefault(PASSED_TO[service], set()).add(ROLE_ARNS[match.group(1)])

    walk(definition["States"], None)
    return [
        {
            "Sid": "PassRolesTo" + re.sub(r"\W", "", principal.split(".")[0].title()),
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [{"Fn::Sub": r} for r in sorted(roles)],
            "Condition": {"StringEquals": {"iam:PassedToService": principal}},
        }
        for principal, roles in sorted(passed.items())
    ]


def _sid(actions: tuple[str, ...]) -> str:
    return "".join(a.split(":")[1] for a in actions if not a.endswith(":AddTags"))[:100] or "Tagging"
