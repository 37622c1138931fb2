"""A deploy as a Step Functions execution, run by the offline interpreter against the local services: the
optimised SageMaker integrations create the model, the endpoint config (with data capture) and the endpoint,
then a Wait/describeEndpoint/Choice loop waits for InService, as the deploy workflow does on AWS."""

from __future__ import annotations

import json
import time

from botocore.config import Config

from offline.aws import local_session
from offline.store import ObjectStore

from .test_lifecycle import CAPTURE, IMAGE

ROLE = "arn:aws:iam::123456789012:role/deploy"
DEPLOY = {
    "StartAt": "Create model",
    "States": {
        "Create model": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createModel",
            "Parameters": {
                "ModelName.$": "$.Name",
                "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl.$": "$.ModelDataUrl"},
                "ExecutionRoleArn": ROLE,
            },
            "ResultPath": "$.model",
            "Next": "Create endpoint config",
        },
        "Create endpoint config": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
            "Parameters": {
                "EndpointConfigName.$": "$.Name",
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "ModelName.$": "$.Name",
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                    }
                ],
                "DataCaptureConfig": CAPTURE,
            },
            "ResultPath": "$.config",
            "Next": "Create endpoint",
        },
        "Create endpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createEndpoint",
            "Parameters": {"EndpointName.$": "$.Endpoint", "EndpointConfigName.$": "$.Name"},
            "ResultPath": "$.endpoint",
            "Next": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Describe endpoint"},
        "Describe endpoint": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            "Parameters": {"EndpointName.$": "$.Endpoint"},
            "ResultPath": "$.status",
            "Next": "In service?",
        },
        "In service?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.status.EndpointStatus", "StringEquals": "InService", "Next": "Deployed"},
                {"Variable": "$.status.EndpointStatus", "StringEquals": "Failed", "Next": "Deploy failed"},
            ],
            "Default": "Wait",
        },
        "Deployed": {"Type": "Succeed"},
        "Deploy failed": {"Type": "Fail", "Error": "Deploy.Failed"},
    },
}


def test_a_state_machine_deploys_an_endpoint_that_answers(managed_home, model_tar, rows):
    ObjectStore.for_home(managed_home).put_file("s3://models/v1/model.tar.gz", model_tar)
    session = local_session(managed_home)
    sfn = session.client("stepfunctions")
    machine = sfn.create_state_machine(name="deploy", definition=json.dumps(DEPLOY), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=machine,
        input=json.dumps({"Name": "v1", "Endpoint": "deployed", "ModelDataUrl": "s3://models/v1/model.tar.gz"}),
    )["executionArn"]
    deadline = time.monotonic() + 120
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the deploy did not finish"
        time.sleep(0.2)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["status"]["EndpointStatus"] == "InService"
    assert output["status"]["DataCaptureConfig"]["CaptureStatus"] == "Started"
    runtime = session.client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))
    answer = runtime.invoke_endpoint(EndpointName="deployed", ContentType="text/csv", Body=rows[0])
    assert answer["Body"].read().count(b",") == 2
