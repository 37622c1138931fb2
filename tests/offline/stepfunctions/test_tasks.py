"""Task integrations: aws-sdk and optimised SageMaker calls answered by the local services, .sync jobs polled
(against a scripted SageMaker job service: the local runtime has no training jobs yet), resource checks."""

from __future__ import annotations

import datetime as dt
import json
import threading

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from offline.stepfunctions.clock import SystemClock
from offline.stepfunctions.tasks import java_service_name, parse_resource
from tests.offline.stepfunctions.conftest import wait_until

ROLE = "arn:aws:iam::123456789012:role/r"


def test_aws_sdk_s3_put_and_get_through_the_local_store(machines):
    definition = {
        "StartAt": "Bucket",
        "States": {
            "Bucket": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:createBucket",
                "Parameters": {"Bucket": "sfn-bucket"},
                "ResultPath": None,
                "Next": "Put",
            },
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {
                    "Bucket": "sfn-bucket",
                    "Key": "reviews/input.json",
                    "Body.$": "States.JsonToString($.doc)",
                },
                "ResultPath": "$.put",
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "sfn-bucket", "Key": "reviews/input.json"},
                "ResultSelector": {"doc.$": "States.StringToJson($.Body)", "modified.$": "$.LastModified"},
                "ResultPath": "$.got",
                "Next": "Missing",
            },
            "Missing": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "sfn-bucket", "Key": "nope"},
                "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.missing", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition, {"doc": {"label": 1, "id": "e-1"}})
    assert outcome.status == "SUCCEEDED", outcome.description
    stored = machines.home / "s3" / "sfn-bucket" / "reviews" / "input.json"
    assert json.loads(stored.read_text()) == {"label": 1, "id": "e-1"}
    output = outcome.output
    assert output["got"]["doc"] == {"label": 1, "id": "e-1"}
    assert dt.datetime.fromisoformat(output["got"]["modified"].replace("Z", "+00:00"))  # aws-sdk: ISO timestamps
    assert output["put"]["ETag"]
    assert output["missing"]["Error"] == "S3.NoSuchKeyException"
    scheduled = outcome.events_of("TaskScheduled")[1]["taskScheduledEventDetails"]
    assert scheduled == {
        "resourceType": "aws-sdk:s3",
        "resource": "putObject",
        "region": "us-east-1",
        "parameters": '{"Bucket":"sfn-bucket","Key":"reviews/input.json","Body":"{\\"label\\":1,\\"id\\":\\"e-1\\"}"}',
    }
    assert outcome.types[2:7] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
    ]


def test_aws_sdk_sagemaker_registry_and_error_names(machines):
    definition = {
        "StartAt": "Group",
        "States": {
            "Group": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModelPackageGroup",
                "Parameters": {"ModelPackageGroupName.$": "$$.Execution.Input['Group']"},
                "ResultPath": "$.created",
                "Next": "Again",
            },
            "Again": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createModelPackageGroup",
                "Parameters": {"ModelPackageGroupName.$": "$.Group"},
                "Catch": [
                    {"ErrorEquals": ["SageMaker.ValidationException"], "ResultPath": "$.duplicate", "Next": "Tags"}
                ],
                "End": True,
            },
            "Tags": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:listTags",
                "Parameters": {"ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/none"},
                "Catch": [
                    {"ErrorEquals": ["SageMaker.ResourceNotFoundException"], "ResultPath": "$.notFound", "Next": "Done"}
                ],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition, {"Group": "grp-1"})
    assert outcome.status == "SUCCEEDED", outcome.description
    output = outcome.output
    assert output["created"]["ModelPackageGroupArn"].endswith(":model-package-group/grp-1")
    assert output["duplicate"]["Error"] == "SageMaker.ValidationException"
    assert output["duplicate"]["Cause"].startswith("Model Package Group already exists")
    assert "(Service: SageMaker, Status Code: 400, Request ID: " in output["duplicate"]["Cause"]
    assert output["notFound"]["Error"] == "SageMaker.ResourceNotFoundException"
    registry = machines.clients("sagemaker")  # the group is really in the local registry
    assert registry.describe_model_package_group(ModelPackageGroupName="grp-1")["ModelPackageGroupName"] == "grp-1"


def test_parameters_the_api_does_not_know_fail_before_scheduling(machines):
    definition = {
        "StartAt": "Bad",
        "States": {
            "Bad": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "b", "Key": "k", "S3Operations": {}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition)
    assert outcome.description["error"] == "States.Runtime"
    assert "S3Operations" in outcome.description["cause"]
    assert outcome.types == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:states:::sagemaker:createModel", ("sagemaker", "sagemaker", "createModel")),
        ("arn:aws:states:::sagemaker:createTrainingJob.sync", ("sagemaker", "sagemaker", "createTrainingJob.sync")),
        ("arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", ("aws-sdk:sagemaker", "sagemaker", "describeEndpoint")),
        ("arn:aws:states:::aws-sdk:sfn:startExecution", ("aws-sdk:sfn", "stepfunctions", "startExecution")),
        (
            "arn:aws:states:::aws-sdk:sagemakerruntime:invokeEndpoint",
            ("aws-sdk:sagemakerruntime", "sagemaker-runtime", "invokeEndpoint"),
        ),
        ("arn:aws:states:::aws-sdk:s3:putObject.waitForTaskToken", ("aws-sdk:s3", "s3", "putObject.waitForTaskToken")),
        ("arn:aws:states:::sns:publish.waitForTaskToken", ("sns", "sns", "publish.waitForTaskToken")),
    ],
)
def test_supported_resources(arn, expected):
    resource = parse_resource(arn)
    assert (resource.resource_type, resource.service, resource.resource) == expected


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::sagemaker:createModel.sync",
        "arn:aws:states:::sagemaker:createEndpoint.waitForTaskToken",
        "arn:aws:states:::aws-sdk:s3:getObject.sync",
        "arn:aws:states:::aws-sdk:nosuchservice:doIt",
        "arn:aws:states:::sns:subscribe",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
    ],
)
def test_unsupported_resources_are_states_runtime(arn):
    with pytest.raises(Exception) as failure:
        parse_resource(arn)
    assert failure.value.error == "States.Runtime"
    assert arn in failure.value.cause


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("SageMaker", "SageMaker"),
        ("S3", "S3"),
        ("SFN", "Sfn"),
        ("ACM PCA", "AcmPca"),
        ("DynamoDB", "DynamoDb"),
        ("EC2", "Ec2"),
    ],
)
def test_java_service_names(service_id, name):
    assert java_service_name(service_id) == name


class JobService:
    """A scripted SageMaker training-job API on a real boto3 client (botocore's before-call event): jobs stay
    InProgress for `polls` describes, then end with `final`; StopTrainingJob stops them."""

    def __init__(self, polls: int, final: str = "Completed"):
        self.polls, self.final = polls, final
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.stopped = False
        self.client = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1").client(
            "sagemaker"
        )
        self.client.meta.events.register("before-call.sagemaker", self._answer)

    def _answer(self, model, params, **kwargs):
        params = json.loads(params["body"])  # the serialized request (json protocol)
        with self.lock:
            self.calls.append((model.name, params))
            describes = sum(1 for name, _ in self.calls if name == "DescribeTrainingJob")
        name = params.get("TrainingJobName")
        if model.name == "CreateTrainingJob":
            parsed = {"TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"}
        elif model.name == "StopTrainingJob":
            self.stopped, parsed = True, {}
        else:
            status = "Stopped" if self.stopped else ("InProgress" if describes <= self.polls else self.final)
            parsed = {
                "TrainingJobName": name,
                "TrainingJobStatus": status,
                "CreationTime": dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
                "ModelArtifacts": {"S3ModelArtifacts": f"s3://b/{name}/output/model.tar.gz"},
            }
            if status == "Failed":
                parsed["FailureReason"] = "AlgorithmError: boom"
        return AWSResponse("https://local", 200, {}, None), parsed

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


TRAIN = {
    "StartAt": "Train",
    "States": {
        "Train": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
            "Parameters": {
                "TrainingJobName.$": "$$.Execution.Input['JobName']",
                "AlgorithmSpecification": {"TrainingImage": "xgb:3.0-5", "TrainingInputMode": "File"},
                "RoleArn": ROLE,
                "OutputDataConfig": {"S3OutputPath": "s3://b/"},
                "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            },
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Model",
        },
        "Model": {
            "Type": "Pass",
            "Parameters": {"ModelDataUrl.$": "$['ModelArtifacts']['S3ModelArtifacts']"},
            "End": True,
        },
        "Failed": {"Type": "Fail", "Error": "Train.Failed"},
    },
}


def test_sync_job_polls_describe_until_completed(machines):
    jobs = JobService(polls=3)
    outcome = machines.run(TRAIN, {"JobName": "job-1"}, clients=lambda name: jobs.client, poll_seconds=30)
    assert outcome.status == "SUCCEEDED", outcome.description
    assert jobs.names() == ["CreateTrainingJob"] + ["DescribeTrainingJob"] * 4
    assert jobs.calls[0][1]["TrainingJobName"] == "job-1"
    assert jobs.calls[0][1]["ResourceConfig"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "VolumeSizeInGB": 5,
    }
    assert machines.clock.sleeps == [30, 30, 30]
    assert outcome.output == {"ModelDataUrl": "s3://b/job-1/output/model.tar.gz"}
    types = outcome.types
    assert types[1:6] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(outcome.events_of("TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"])
    assert submitted == {"TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1"}
    succeeded = json.loads(outcome.events_of("TaskSucceeded")[0]["taskSucceededEventDetails"]["output"])
    assert succeeded["CreationTime"] == 1767323045678  # the optimised integration: epoch milliseconds
    assert outcome.events_of("TaskSucceeded")[0]["taskSucceededEventDetails"]["resource"] == "createTrainingJob.sync"


def test_sync_job_that_fails_is_states_task_failed_with_the_description(machines):
    jobs = JobService(polls=1, final="Failed")
    outcome = machines.run(TRAIN, {"JobName": "job-2"}, clients=lambda name: jobs.client, poll_seconds=1)
    assert outcome.description["error"] == "Train.Failed"
    failed = outcome.events_of("TaskFailed")[0]["taskFailedEventDetails"]
    assert failed["error"] == "States.TaskFailed"
    cause = json.loads(failed["cause"])
    assert cause["TrainingJobStatus"] == "Failed" and cause["FailureReason"] == "AlgorithmError: boom"


def test_sync_job_times_out_and_is_stopped(machines):
    definition = json.loads(json.dumps(TRAIN))
    definition["States"]["Train"]["TimeoutSeconds"] = 60
    definition["States"]["Train"]["Catch"] = [
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Failed"}
    ]
    jobs = JobService(polls=1000)
    outcome = machines.run(definition, {"JobName": "job-3"}, clients=lambda name: jobs.client, poll_seconds=25)
    assert "StopTrainingJob" in jobs.names()
    timed_out = outcome.events_of("TaskTimedOut")[0]["taskTimedOutEventDetails"]
    assert timed_out == {"resourceType": "sagemaker", "resource": "createTrainingJob.sync", "error": "States.Timeout"}
    assert outcome.events_of("TaskScheduled")[0]["taskScheduledEventDetails"]["timeoutInSeconds"] == 60
    assert outcome.description["error"] == "Train.Failed"


def test_stopping_the_execution_stops_its_sync_job(machines):
    jobs = JobService(polls=10**6)
    arn = machines.start(TRAIN, {"JobName": "job-4"})
    runner = threading.Thread(
        target=machines.finish, args=(arn,), kwargs={"clients": lambda name: jobs.client, "clock": SystemClock()}
    )
    runner.start()
    wait_until(lambda: "DescribeTrainingJob" in jobs.names())
    machines.backend.stop_execution({"executionArn": arn, "error": "Operator.Stop", "cause": "changed my mind"})
    runner.join(10)
    assert not runner.is_alive()
    assert "StopTrainingJob" in jobs.names()
    outcome = machines.outcome(arn)
    assert outcome.status == "ABORTED"
    assert outcome.events[-1]["type"] == "ExecutionAborted"
    assert outcome.events[-1]["executionAbortedEventDetails"] == {"error": "Operator.Stop", "cause": "changed my mind"}
