"""Retry (counts, backoff on the injected clock) and Catch, with AWS's wildcard rules for States.ALL,
States.TaskFailed, States.Timeout and States.Runtime. Failing tasks are real calls to the local services."""

from __future__ import annotations

import pytest

from offline.stepfunctions.errors import StatesError, matches

GET_MISSING = {
    "Type": "Task",
    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
    "Parameters": {"Bucket": "no-such-bucket", "Key.$": "States.Format('k{}', $$.State.RetryCount)"},
}


def _task(**fields):
    return {**GET_MISSING, **fields}


def test_retry_counts_and_exponential_backoff_then_catch(machines):
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": _task(
                Retry=[
                    {
                        "ErrorEquals": ["S3.NoSuchBucketException"],
                        "IntervalSeconds": 2,
                        "MaxAttempts": 3,
                        "BackoffRate": 3.0,
                    }
                ],
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
                End=True,
            ),
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    outcome = machines.run(definition, {"keep": 1})
    assert outcome.status == "SUCCEEDED"
    assert machines.clock.sleeps == [2, 6, 18]
    assert outcome.types.count("TaskScheduled") == 4
    assert outcome.types.count("TaskFailed") == 4
    keys = [e["taskScheduledEventDetails"]["parameters"] for e in outcome.events_of("TaskScheduled")]
    assert [k.split('"Key":"')[1][:2] for k in keys] == ["k0", "k1", "k2", "k3"]  # $$.State.RetryCount
    error = outcome.output["error"]
    assert outcome.output["keep"] == 1
    assert error["Error"] == "S3.NoSuchBucketException"
    assert "(Service: S3, Status Code: 404, Request ID: " in error["Cause"]
    failed = outcome.events_of("TaskFailed")[0]["taskFailedEventDetails"]
    assert failed["resourceType"] == "aws-sdk:s3" and failed["resource"] == "getObject"
    assert outcome.types[-4:] == ["TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_max_delay_and_the_first_matching_retrier_decides(machines):
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": _task(
                Retry=[
                    {"ErrorEquals": ["S3.OtherException"], "MaxAttempts": 5},
                    {
                        "ErrorEquals": ["States.TaskFailed"],
                        "IntervalSeconds": 10,
                        "MaxAttempts": 3,
                        "MaxDelaySeconds": 15,
                    },
                    {"ErrorEquals": ["States.ALL"], "MaxAttempts": 9},
                ],
                End=True,
            )
        },
    }
    outcome = machines.run(definition)
    assert outcome.status == "FAILED"
    assert machines.clock.sleeps == [10, 15, 15]  # 10 * 2 ** n, capped; States.ALL's retrier never consulted
    assert outcome.description["error"] == "S3.NoSuchBucketException"


def test_max_attempts_zero_never_retries(machines):
    definition = {
        "StartAt": "Get",
        "States": {"Get": _task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}], End=True)},
    }
    outcome = machines.run(definition)
    assert outcome.types.count("TaskScheduled") == 1
    assert outcome.types[-2:] == ["TaskFailed", "ExecutionFailed"]  # no TaskStateExited when nothing catches


def test_states_all_does_not_catch_states_runtime(machines):
    definition = {
        "StartAt": "Lambda",
        "States": {
            "Lambda": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "Retry": [{"ErrorEquals": ["States.ALL"]}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition)
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.Runtime"
    assert "arn:aws:states:::lambda:invoke" in outcome.description["cause"]
    assert "is not supported by the local Step Functions runtime" in outcome.description["cause"]
    assert machines.clock.sleeps == []
    assert "TaskScheduled" not in outcome.types


def test_states_task_failed_catches_the_optimised_sagemaker_error(machines):
    definition = {
        "StartAt": "Create model",
        "States": {
            "Create model": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {
                    "ModelName": "m",
                    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
                    "PrimaryContainer": {"Image": "i"},
                },
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Failed"}],
                "End": True,
            },
            "Failed": {"Type": "Fail", "Error": "Deploy.Failed"},
        },
    }
    outcome = machines.run(definition)
    assert outcome.description["error"] == "Deploy.Failed"
    failed = outcome.events_of("TaskFailed")[0]["taskFailedEventDetails"]
    assert failed["error"] == "SageMaker.AmazonSageMakerException"
    assert failed["resourceType"] == "sagemaker" and failed["resource"] == "createModel"
    assert failed["cause"].startswith("ModelDataUrl must be specified: ")  # the local service's refusal
    assert (
        "(Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException; Request ID: " in failed["cause"]
    )
    assert failed["cause"].endswith("; Proxy: null)")


@pytest.mark.parametrize(
    ("error", "error_equals", "expected"),
    [
        (StatesError("SageMaker.AmazonSageMakerException"), ["States.ALL"], True),
        (StatesError("SageMaker.AmazonSageMakerException"), ["States.TaskFailed"], True),
        (StatesError("S3.NoSuchKeyException"), ["S3.NoSuchKeyException"], True),
        (StatesError("S3.NoSuchKeyException"), ["S3.NoSuchBucketException"], False),
        (StatesError("States.Timeout"), ["States.TaskFailed"], False),
        (StatesError("States.Timeout"), ["States.ALL"], True),
        (StatesError("States.Timeout", heartbeat=True), ["States.HeartbeatTimeout"], True),
        (StatesError("States.Timeout"), ["States.HeartbeatTimeout"], False),
        (StatesError("States.Runtime"), ["States.ALL"], False),
        (StatesError("States.Runtime"), ["States.TaskFailed"], False),
        (StatesError("States.Runtime"), ["States.Runtime"], False),
        (StatesError("States.DataLimitExceeded"), ["States.ALL"], False),
        (StatesError(""), ["States.ALL"], True),  # SendTaskFailure without an error name
    ],
)
def test_error_matching_rules(error, error_equals, expected):
    assert matches(error_equals, error) is expected


def test_retry_and_catch_on_parallel(machines):
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Custom.Error", "Cause": "c"}}}
                ],
                "Retry": [{"ErrorEquals": ["Custom.Error"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["Custom.Error"], "ResultPath": "$.caught", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition, {"in": 1})
    assert outcome.output == {"in": 1, "caught": {"Error": "Custom.Error", "Cause": "c"}}
    assert outcome.types.count("ParallelStateStarted") == 2
    assert outcome.types.count("ParallelStateFailed") == 2
    assert machines.clock.sleeps == [1]


def test_catch_result_path_that_cannot_apply_fails(machines):
    definition = {
        "StartAt": "Get",
        "States": {
            "Get": _task(
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.text.error", "Next": "Done"}], End=True
            ),
            "Done": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition, {"text": "a string"})
    assert outcome.description["error"] == "States.ResultPathMatchFailure"
