"""The deploy state machine, built with the Step Functions Data Science SDK.

    workflow = build_workflow(settings)          # stepfunctions.workflow.Workflow
    text = workflow.definition.to_json(pretty=True)

One execution deploys one approved model package version (input: `{"ModelPackageArn", "ModelPackageVersion",
"ModelPackageGroupName"}`, what the EventBridge rule's input transformer makes of the registry's event):

    Describe package → Check package (this group, Approved, with drift-check baselines) → Name resources
    → staging: CreateModel → CreateEndpointConfig (data capture) → create or update the endpoint → InService
    → Smoke test (InvokeEndpoint) → Check production (already this version: skip the gate)
    → Approve production (sns:publish.waitForTaskToken) → production: CreateModel → CreateEndpointConfig
    → create or update the endpoint → InService → monitoring schedules (managed or processing engine)
    → the other engine's schedules of the endpoint removed (an engine switch)
    → human review (task UI, flow definition, hourly post-processing schedule; with --review a2i) → Deployed

Resources are named `<endpoint or schedule>-v<version>-<hash of the settings>`; every error is caught into a
Fail state whose cause says what failed and why (docs/deploy-workflow.md lists them).
"""

from __future__ import annotations

import json

from pipelines.deploy import endpoint as ep
from pipelines.deploy.workflow import engine_switch, monitoring, review
from pipelines.deploy.workflow.approval import GATE
from pipelines.deploy.workflow.patterns import (
    STATES,
    VERSION,
    bind,
    catch_into,
    create_or_find,
    endpoint_to_config,
    fail_with,
    failure,
    sagemaker,
    sdk,
    transient_retry,
    versioned_name,
)
from pipelines.deploy.workflow.sdk import Choice, ChoiceRule, ExecutionInput, Pass, State, Task, Workflow
from pipelines.deploy.workflow.settings import PRODUCTION, STAGING, WorkflowSettings

INPUT_SCHEMA = {"ModelPackageArn": str, "ModelPackageVersion": int, "ModelPackageGroupName": str}
PACKAGE = "$.package"


def build_workflow(settings: WorkflowSettings, role_arn: str | None = None, client=None) -> Workflow:
    """The SDK Workflow of the deploy state machine (`client`: a stepfunctions client; none is called here)."""
    if client is None:  # the SDK wants one; an unsigned client never looks for credentials
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        client = boto3.client("stepfunctions", region_name=settings.region, config=Config(signature_version=UNSIGNED))
    execution_input = ExecutionInput(schema=INPUT_SCHEMA)
    start = _states(settings, execution_input)
    return Workflow(
        settings.machine_name,
        definition=start,
        role=role_arn or workflow_role_arn(settings),
        execution_input=execution_input,
        client=client,
    )


def definition(settings: WorkflowSettings) -> dict:
    return json.loads(build_workflow(settings).definition.to_json())


def definition_json(settings: WorkflowSettings, pretty: bool = True) -> str:
    return build_workflow(settings).definition.to_json(pretty=pretty)


def workflow_role_arn(settings: WorkflowSettings) -> str:
    """The state machine's role when none is given: `<state machine>-workflow` (mlops deploy --aws creates it)."""
    return f"arn:aws:iam::{settings.account}:role/{settings.machine_name[:55]}-workflow"


def _states(settings: WorkflowSettings, execution_input: ExecutionInput) -> State:
    package_failed = failure("Package unusable", "the model package cannot be read")
    staging_failed = failure("Staging deploy failed", f"staging endpoint {settings.staging}")
    smoke_failed = failure("Smoke test failed", f"InvokeEndpoint on staging endpoint {settings.staging}")
    not_approved = failure("Production not approved", "the production gate")
    production_failed = failure("Production deploy failed", f"production endpoint {settings.production}")
    monitoring_failed = failure("Monitoring not set up", f"monitoring of {settings.production}")
    review_failed = failure("Review not set up", f"human review of {settings.production}")
    other = engine_switch.other_engine(settings)
    switch_failed = failure(
        "Other engine not removed",
        f"the {other} engine's schedules of {settings.production} (both engines run until they are removed; "
        "re-run the deploy)",
    )

    describe = Task(
        "Describe package",
        resource=sdk("sagemaker", "describeModelPackage"),
        parameters={"ModelPackageName": execution_input["ModelPackageArn"]},
        result_path=PACKAGE,
    )
    describe.add_retry(transient_retry("SageMaker"))
    catch_into(describe, package_failed)

    staging_model, staging_config, staging_names = _stage_requests(settings, STAGING, settings.staging)
    production_model, production_config, production_names = _stage_requests(settings, PRODUCTION, settings.production)
    names = Pass(
        "Name resources",
        parameters={**staging_names, **production_names, **monitoring.job_definition_names(settings)},
        result_path="$.names",
        comment="<endpoint or schedule>-v<package version>-<hash of the settings>: a re-run finds what it made",
    )
    describe.next(_check_package(settings)).default_choice(names)

    deployed = _deployed(settings)
    review_first = review.review_states(settings, review_failed, deployed)
    switch_first = engine_switch.removal_states(settings, switch_failed, review_first)
    monitoring_first = monitoring.monitoring_states(settings, monitoring_failed, switch_first)

    production = endpoint_to_config(
        "production",
        settings.production,
        "$.names.productionConfig",
        settings.tags(PRODUCTION),
        settings.poll_seconds,
        production_failed,
        monitoring_first,
    )
    production_resources = _create_chain(
        [
            (production_model, "Create production model", "model", "production model"),
            (production_config, "Create production endpoint config", "endpointConfig", "production endpoint config"),
        ],
        settings,
        production_failed,
        production.first,
    )
    gate = _gate(settings, not_approved)
    gate.next(production_resources)
    check_production = _check_production(settings, gate, monitoring_first, production_failed)

    smoke = Task(
        "Smoke test staging",
        resource=sdk("sagemakerruntime", "invokeEndpoint"),
        parameters={
            "EndpointName": settings.staging,
            "ContentType": "text/csv",
            "Accept": "text/csv",
            "Body": settings.smoke_test,
        },
        result_path="$.smokeTest",
        comment="One prediction from the staging endpoint before production is asked for",
    )
    smoke.add_retry(transient_retry("SageMakerRuntime"))
    catch_into(smoke, smoke_failed)
    smoke.next(check_production)

    staging = endpoint_to_config(
        "staging",
        settings.staging,
        "$.names.stagingConfig",
        settings.tags(STAGING),
        settings.poll_seconds,
        staging_failed,
        smoke,
    )
    names.next(
        _create_chain(
            [
                (staging_model, "Create staging model", "model", "staging model"),
                (staging_config, "Create staging endpoint config", "endpointConfig", "staging endpoint config"),
            ],
            settings,
            staging_failed,
            staging.first,
        )
    )
    return describe


def _stage_requests(settings: WorkflowSettings, stage: str, endpoint: str) -> tuple[dict, dict, dict]:
    """CreateModel and CreateEndpointConfig of one stage (the direct deploy's builders) and their names."""
    deploy, runtime = settings.deploy, settings.runtime
    key = "staging" if stage == STAGING else "production"
    model_path, config_path = f"$.names.{key}Model", f"$.names.{key}Config"
    model = ep.model_request(endpoint, settings.package_arn, deploy.role_arn, settings.tags(stage))
    model_name = versioned_name(endpoint, _body(model, "ModelName"))
    model["ModelName"] = runtime.value(f"{key}-model", model_path)
    capture = ep.data_capture_config(
        settings.monitor.capture_destination, deploy.kms_key_id, settings.sampling_percentage
    )
    config = ep.endpoint_config_request(
        endpoint, model["ModelName"], capture, deploy.instance_type, deploy.instance_count, settings.tags(stage)
    )
    config_name = versioned_name(endpoint, _body(config, "EndpointConfigName"))
    config["EndpointConfigName"] = runtime.value(f"{key}-config", config_path)
    return bind(model, runtime), bind(config, runtime), {f"{key}Model.$": model_name, f"{key}Config.$": config_name}


def _body(request: dict, name_key: str) -> dict:
    return {k: v for k, v in request.items() if k not in (name_key, "Tags")}


def _create_chain(items: list[tuple[dict, str, str, str]], settings: WorkflowSettings, failed: State, then: State):
    """CreateModel / CreateEndpointConfig, each created else found, in order, then `then`."""
    describe = {
        "model": ("describeModel", "ModelName"),
        "endpointConfig": ("describeEndpointConfig", "EndpointConfigName"),
    }
    first, previous = None, []
    for parameters, name, kind, label in items:
        action, member = describe[kind]
        create, find = create_or_find(
            Task(name, resource=sagemaker(f"create{action[8:]}"), parameters=parameters, result_path=None),
            sdk("sagemaker", action),
            {f"{member}.$": parameters[f"{member}.$"]},
            failed,
            label,
        )
        for state in previous:
            state.next(create)
        previous = [create, find]
        first = first or create
    for state in previous:
        state.next(then)
    return first


def _check_package(settings: WorkflowSettings) -> Choice:
    group = f"{PACKAGE}.ModelPackageGroupName"
    arn = f"{PACKAGE}.ModelPackageArn"
    status = f"{PACKAGE}.ModelApprovalStatus"
    baselines = f"{PACKAGE}.DriftCheckBaselines"
    check = Choice("Check package")
    check.add_choice(
        ChoiceRule.Not(ChoiceRule.IsPresent(group, True)),
        fail_with("Package not versioned", "Deploy.WrongPackage", "model package {} belongs to no group", arn),
    )
    check.add_choice(
        ChoiceRule.Not(ChoiceRule.StringEquals(group, settings.group)),
        fail_with(
            "Package of another group",
            "Deploy.WrongPackage",
            f"model package {{}} is of group {{}}; this state machine deploys group {settings.group}",
            arn,
            group,
        ),
    )
    check.add_choice(
        ChoiceRule.Not(ChoiceRule.StringEquals(status, "Approved")),
        fail_with(
            "Package not approved",
            "Deploy.PackageNotApproved",
            "model package {} is {}; only Approved packages deploy",
            arn,
            status,
        ),
    )
    check.add_choice(
        ChoiceRule.Not(
            ChoiceRule.And(
                [
                    ChoiceRule.IsPresent(f"{baselines}.ModelDataQuality.Statistics.S3Uri", True),
                    ChoiceRule.IsPresent(f"{baselines}.ModelDataQuality.Constraints.S3Uri", True),
                    ChoiceRule.IsPresent(f"{baselines}.ModelQuality.Constraints.S3Uri", True),
                ]
            )
        ),
        fail_with(
            "Package without baselines",
            "Deploy.NoDriftCheckBaselines",
            "model package {} has no drift-check baselines (DriftCheckBaselines.ModelDataQuality.Statistics and "
            "Constraints, ModelQuality.Constraints): register it with the build pipeline's baselines to monitor it",
            arn,
        ),
    )
    return check


def _check_production(settings: WorkflowSettings, gate: State, current: State, failed: State) -> State:
    """Production already serving this version's configuration (a re-run): no gate, straight to monitoring."""
    describe = Task(
        "Check production endpoint",
        resource=sdk("sagemaker", "describeEndpoint"),
        parameters={"EndpointName": settings.production},
        result_path="$.endpoints.production",
    )
    describe.add_retry(transient_retry("SageMaker"))
    catch_into(describe, gate, ["SageMaker.ValidationException", "SageMaker.ResourceNotFoundException"], "$.lookup")
    catch_into(describe, failed)
    choice = Choice("Production already current?")
    endpoint = "$.endpoints.production"
    choice.add_choice(
        ChoiceRule.And(
            [
                ChoiceRule.StringEquals(f"{endpoint}.EndpointStatus", "InService"),
                ChoiceRule.StringEqualsPath(f"{endpoint}.EndpointConfigName", "$.names.productionConfig"),
            ]
        ),
        current,
    )
    choice.default_choice(gate)
    describe.next(choice)
    return describe


def _gate(settings: WorkflowSettings, not_approved: State) -> Task:
    """The production gate: the approvers' topic gets the task token; SendTaskSuccess lets production be deployed,
    SendTaskFailure (`mlops deploy reject`) or the timeout ends the execution."""
    gate = Task(
        GATE,
        resource=f"{STATES}sns:publish.waitForTaskToken",
        parameters={
            "TopicArn": settings.topic_arn,
            "Subject": f"Approve the production deploy of {settings.production}"[:100],
            "Message": {
                "TaskToken.$": "$$.Task.Token",
                "Execution.$": "$$.Execution.Id",
                "ModelPackageArn.$": f"{PACKAGE}.ModelPackageArn",
                "ModelPackageVersion.$": VERSION,
                "StagingEndpoint": settings.staging,
                "ProductionEndpoint": settings.production,
                "Approve": "mlops deploy approve --aws EXECUTION (or: aws stepfunctions send-task-success "
                "--task-token TOKEN --task-output '{}')",
                "Reject": "mlops deploy reject --aws EXECUTION --reason TEXT",
            },
        },
        timeout_seconds=settings.approval_timeout_seconds,
        result_path="$.approval",
        comment="Production waits for an approver: AWS's deploy template gates production with a manual approval",
    )
    catch_into(gate, not_approved)
    return gate


def _deployed(settings: WorkflowSettings) -> Pass:
    monitor = settings.monitor
    output = {
        "ModelPackageArn.$": f"{PACKAGE}.ModelPackageArn",
        "ModelPackageVersion.$": VERSION,
        "StagingEndpoint": settings.staging,
        "StagingEndpointConfig.$": "$.names.stagingConfig",
        "ProductionEndpoint": settings.production,
        "ProductionEndpointConfig.$": "$.names.productionConfig",
        "MonitorEngine": settings.deploy.monitor_engine,
        "MonitoringSchedules": [monitor.schedule(kind) for kind in monitoring.KINDS],
        "CaptureUri": f"{monitor.capture_destination}/{settings.production}",
    }
    if settings.review is not None:
        output["ReviewSchedule"] = settings.review.schedule
    return Pass("Deployed", parameters=output, comment="What this execution deployed")
