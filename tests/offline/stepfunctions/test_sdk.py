"""The Step Functions Data Science SDK's objects, unchanged, against the local service: a workflow built with
the SDK is created, executed by a background runner, and followed (output, events, executions)."""

from __future__ import annotations

import json

import pytest

from offline.aws import local_session
from pipelines.quiet_sdk import import_stepfunctions, quiet_sdk
from tests.offline.stepfunctions.conftest import ROLE, lint


@pytest.fixture(scope="module")
def sdk():
    quiet_sdk()
    return import_stepfunctions()


def build_workflow(sdk, client, sagemaker_session):
    from sagemaker.model import Model
    from sagemaker.model_monitor import DataCaptureConfig
    from stepfunctions import steps
    from stepfunctions.inputs import ExecutionInput
    from stepfunctions.workflow import Workflow

    execution_input = ExecutionInput(schema={"Group": str, "ModelName": str})
    create_group = steps.Task(
        "Create group",
        resource="arn:aws:states:::aws-sdk:sagemaker:createModelPackageGroup",
        parameters={"ModelPackageGroupName": execution_input["Group"]},
        result_path="$.created",
    )
    describe_group = steps.Task(
        "Describe group",
        resource="arn:aws:states:::aws-sdk:sagemaker:describeModelPackageGroup",
        parameters={"ModelPackageGroupName": execution_input["Group"]},
        result_path="$.group",
    )
    describe_group.add_retry(
        steps.Retry(error_equals=["SageMaker.ThrottlingException"], interval_seconds=1, max_attempts=2)
    )
    check = steps.Choice("Group ready?")
    model = Model(
        model_data="s3://bucket/model.tar.gz", image_uri="xgboost:3.0-5", role=ROLE, sagemaker_session=sagemaker_session
    )
    model_step = steps.ModelStep("Create model", model=model, model_name=execution_input["ModelName"])
    config_step = steps.EndpointConfigStep(
        "Create endpoint config",
        endpoint_config_name=execution_input["ModelName"],
        model_name=execution_input["ModelName"],
        initial_instance_count=1,
        instance_type="ml.m5.large",
        data_capture_config=DataCaptureConfig(
            enable_capture=True,
            sampling_percentage=100,
            destination_s3_uri="s3://bucket/capture",
            csv_content_types=["text/csv"],
            json_content_types=["application/json"],
            sagemaker_session=sagemaker_session,
        ),
    )
    handled = steps.Pass(
        "Deploy not available locally",
        parameters={"Message.$": "States.Format('{} failed: {}', $.group.ModelPackageGroupName, $.error.Error)"},
    )
    failed = steps.Fail("Group not ready", error="Deploy.GroupNotReady")
    for step in (model_step, config_step):
        step.add_catch(steps.Catch(error_equals=["States.TaskFailed"], next_step=handled, result_path="$.error"))
    check.add_choice(
        steps.ChoiceRule.StringEquals(
            variable=describe_group.output()["group"]["ModelPackageGroupStatus"], value="Completed"
        ),
        next_step=model_step,
    )
    check.default_choice(failed)
    model_step.next(config_step)
    config_step.next(steps.Succeed("Deployed"))
    handled.next(steps.Succeed("Done"))
    definition = steps.Chain([create_group, describe_group, check])
    return Workflow("deploy-local", definition=definition, role=ROLE, client=client, execution_input=execution_input)


def test_sdk_workflow_runs_unchanged(sdk, home):
    import sagemaker

    session = local_session(home)
    client = session.client("stepfunctions")
    workflow = build_workflow(sdk, client, sagemaker.session.Session(boto_session=session, default_bucket="bucket"))
    definition = json.loads(workflow.definition.to_json())
    assert lint(definition) == []
    assert definition["States"]["Create group"]["Parameters"] == {
        "ModelPackageGroupName.$": "$$.Execution.Input['Group']"
    }
    assert definition["States"]["Group ready?"]["Choices"][0]["Variable"] == "$['group']['ModelPackageGroupStatus']"

    arn = workflow.create()
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:deploy-local"
    assert workflow.create() == arn  # the SDK's own "already exists" path
    execution = workflow.execute(inputs={"Group": "grp-sdk", "ModelName": "model-1"})
    output = execution.get_output(wait=True)
    assert execution.describe()["status"] == "SUCCEEDED"
    assert output["Message"] == "grp-sdk failed: SageMaker.AmazonSageMakerException"  # CreateModel: not local yet
    events = execution.list_events()
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert types.count("TaskScheduled") == 3 and types.count("TaskFailed") == 1
    assert [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")] == [
        "Create group", "Describe group", "Group ready?", "Create model", "Deploy not available locally", "Done",
    ]  # fmt: skip
    executions = workflow.list_executions()
    assert [e.execution_arn for e in executions] == [execution.execution_arn]
    attached = sdk.workflow.Workflow.attach(arn, client=client)
    assert json.loads(attached.definition.to_json()) == definition
    assert session.client("sagemaker").describe_model_package_group(ModelPackageGroupName="grp-sdk")


def test_sdk_stop_and_update(sdk, home):
    from stepfunctions import steps
    from stepfunctions.workflow import Workflow

    client = local_session(home).client("stepfunctions")
    workflow = Workflow(
        "waits",
        definition=steps.Chain([steps.Wait("Hold", seconds=3600), steps.Succeed("End")]),
        role=ROLE,
        client=client,
    )
    workflow.create()
    execution = workflow.execute(inputs={})
    execution.stop(cause="not needed")
    assert execution.get_output(wait=True) is None
    assert execution.describe()["status"] == "ABORTED"
    workflow.update(definition=steps.Chain([steps.Pass("Quick"), steps.Succeed("End")]))
    assert workflow.execute(inputs={"x": 1}).get_output(wait=True) == {"x": 1}
