"""The deploy state machine as the product template embeds it: the SDK's JSON, project names substituted.

One seam, `deploy_definition(region, options, values)`, returns the state machine's definition (ASL)
built by Python for one choice of the template's options (monitor engine, review). The template
cannot run Python at launch, so the definition is built at package time with *sentinels* in place
of the project's names and roles (values of the right shape, so the builder's own validation
passes), and each sentinel is then replaced by a `${Name}` placeholder that the state machine's
`DefinitionSubstitutions` fill from the stack's parameters and resources. The JSON the SDK wrote is
otherwise left exactly as it is.

Until the deploy workflow of milestone 5a (`pipelines/deploy`, `mlops deploy definition`) is in
this checkout, `deploy_definition` builds an interim workflow with the same SDK and the deploy's
own request builders (`pipelines.deploy.endpoint`): create model → endpoint config with data capture
→ create (or update) the endpoint → with A2I review, the flow definition. It is replaced by the call
to 5a's builder, and nothing else here changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

ENGINES = ("managed", "processing")
REVIEWS = ("a2i", "portal", "none")
STAGE = "prod"  # the endpoint the interim workflow deploys: `<project>-prod`
# Where the model-package state-change event carries the approved package (EventBridge → StartExecution input).
PACKAGE_PATH = "$.detail.ModelPackageArn"


class DefinitionError(ValueError):
    """The definition cannot be embedded (a sentinel is missing or `${` already occurs in it)."""


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
    model_package_group: str
    model_role_arn: str
    monitoring_role_arn: str
    scheduler_role_arn: str
    review_role_arn: str
    workteam_arn: str
    human_task_ui_arn: str
    kms_key_arn: str
    account: str

    @property
    def endpoint(self) -> str:
        return f"{self.project_name}-{STAGE}"


# field -> (the DefinitionSubstitutions key, the sentinel the builder is given in its place). Sentinels are
# lower case (SageMaker lower-cases names), unlike any real value, and no one is part of another
# except the account, which is substituted last.
SENTINELS: dict[str, tuple[str, str]] = {
    "project_name": ("ProjectName", "cfnsub-project-name"),
    "project_id": ("ProjectId", "cfnsub-project-id"),
    "bucket": ("ArtifactBucket", "cfnsub-artifact-bucket"),
    "model_package_group": ("ModelPackageGroup", "cfnsub-model-package-group"),
    "model_role_arn": ("ModelRoleArn", "arn:aws:iam::000000000000:role/cfnsub-model-role"),
    "monitoring_role_arn": ("MonitoringRoleArn", "arn:aws:iam::000000000000:role/cfnsub-monitoring-role"),
    "scheduler_role_arn": ("SchedulerRoleArn", "arn:aws:iam::000000000000:role/cfnsub-scheduler-role"),
    "review_role_arn": ("ReviewRoleArn", "arn:aws:iam::000000000000:role/cfnsub-review-role"),
    "workteam_arn": (
        "WorkteamArn",
        "arn:aws:sagemaker:us-east-1:000000000000:workteam/private-crowd/cfnsub-workteam",
    ),
    "human_task_ui_arn": (
        "HumanTaskUiArn",
        "arn:aws:sagemaker:us-east-1:000000000000:human-task-ui/cfnsub-human-task-ui",
    ),
    "kms_key_arn": (
        "KmsKeyArn",
        "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-cf0500000000",
    ),
    "account": ("AccountId", "000000000000"),
}
assert {f.name for f in fields(ProjectValues)} == set(SENTINELS)


def sentinel_values() -> ProjectValues:
    return ProjectValues(**{name: sentinel for name, (_, sentinel) in SENTINELS.items()})


def deploy_definition(region: str, options: MachineOptions, values: ProjectValues) -> dict:
    """THE SEAM: the deploy state machine's definition for these build options, as its builder emits it."""
    return _interim_definition(region, options, values)


def embedded_definition(region: str, options: MachineOptions) -> tuple[dict, list[str]]:
    """The definition with `${Name}` placeholders, and the substitution names it uses (sorted)."""
    definition = deploy_definition(region, options, sentinel_values())
    text = json.dumps(definition)
    if "${" in text:
        raise DefinitionError("the definition already holds '${', which DefinitionSubstitutions would rewrite")
    used = []
    for key, sentinel in sorted(SENTINELS.values(), key=lambda pair: -len(pair[1])):
        if sentinel in text:
            used.append(key)
            text = text.replace(sentinel, "${" + key + "}")
    return json.loads(text), sorted(used)


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


def _interim_definition(region: str, options: MachineOptions, values: ProjectValues) -> dict:
    """Until 5a's workflow is here: the endpoint with data capture, and A2I's flow definition."""
    from pipelines.deploy.endpoint import VARIANT, data_capture_config
    from pipelines.quiet_sdk import import_stepfunctions, quiet_sdk

    quiet_sdk()
    import_stepfunctions()
    from stepfunctions import steps
    from stepfunctions.steps.states import Graph

    tags = [
        {"Key": "sagemaker:project-name", "Value": values.project_name},
        {"Key": "sagemaker:project-id", "Value": values.project_id},
    ]
    # `<endpoint>-<first 8 characters of the execution's name>`: unique per deploy, within 63 characters.
    unique = (
        f"States.Format('{values.endpoint}-{{}}', States.ArrayGetItem(States.StringSplit($$.Execution.Name, '-'), 0))"
    )
    model = steps.Task(
        "CreateModel",
        resource="arn:aws:states:::sagemaker:createModel",
        parameters={
            "ModelName.$": unique,
            "Containers": [{"ModelPackageName.$": PACKAGE_PATH}],
            "ExecutionRoleArn": values.model_role_arn,
            "Tags": tags,
        },
        result_path=None,
    )
    capture = data_capture_config(f"s3://{values.bucket}/datacapture", values.kms_key_arn)
    config = steps.Task(
        "CreateEndpointConfig",
        resource="arn:aws:states:::sagemaker:createEndpointConfig",
        parameters={
            "EndpointConfigName.$": unique,
            "ProductionVariants": [
                {
                    "VariantName": VARIANT,
                    "ModelName.$": unique,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1,
                }
            ],
            "DataCaptureConfig": capture,
            "KmsKeyId": values.kms_key_arn,
            "Tags": tags,
        },
        result_path=None,
    )
    update = steps.Task(
        "UpdateEndpoint",
        resource="arn:aws:states:::sagemaker:updateEndpoint",
        parameters={"EndpointName": values.endpoint, "EndpointConfigName.$": unique},
        result_path=None,
    )
    create = steps.Task(
        "CreateEndpoint",
        resource="arn:aws:states:::sagemaker:createEndpoint",
        parameters={"EndpointName": values.endpoint, "EndpointConfigName.$": unique, "Tags": tags},
        result_path=None,
    )
    create.add_catch(steps.Catch(error_equals=["SageMaker.AmazonSageMakerException"], next_step=update))
    chain = [model, config, create]
    if options.review == "a2i":
        flow = steps.Task(
            "CreateFlowDefinition",
            resource="arn:aws:states:::aws-sdk:sagemaker:createFlowDefinition",
            parameters={
                "FlowDefinitionName": f"{values.endpoint}-review",
                "HumanLoopConfig": {
                    "WorkteamArn": values.workteam_arn,
                    "HumanTaskUiArn": values.human_task_ui_arn,
                    "TaskTitle": "Review an uncertain prediction",
                    "TaskDescription": "Label the case the model was unsure about",
                    "TaskCount": 1,
                },
                "OutputConfig": {
                    "S3OutputPath": f"s3://{values.bucket}/human-review/{values.endpoint}/output",
                    "KmsKeyId": values.kms_key_arn,
                },
                "RoleArn": values.review_role_arn,
                "Tags": tags,
            },
            result_path=None,
        )
        flow.add_catch(steps.Catch(error_equals=["SageMaker.ResourceInUseException"], next_step=steps.Succeed("Done")))
        update.next(flow)
        chain.append(flow)
    definition = json.loads(Graph(steps.Chain(chain)).to_json())
    definition["Comment"] = f"Deploy an approved model package of {values.model_package_group}"
    del region  # the interim workflow names no regional resource; 5a's (image URIs) will
    return definition
