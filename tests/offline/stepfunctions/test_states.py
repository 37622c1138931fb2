"""Each state type on its own, through the store and the interpreter, with the history it writes."""

from __future__ import annotations

import pytest

from offline.stepfunctions.clock import SystemClock
from tests.offline.stepfunctions.conftest import lint


def test_pass_result_and_result_path(machines):
    outcome = machines.run(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": True}}},
        {"a": 1},
    )
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == {"a": 1, "r": {"x": 1}}
    assert outcome.types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    entered, exited = outcome.events[1], outcome.events[2]
    assert entered["stateEnteredEventDetails"] == {
        "name": "P",
        "input": '{"a":1}',
        "inputDetails": {"truncated": False},
    }
    assert exited["stateExitedEventDetails"]["output"] == '{"a":1,"r":{"x":1}}'
    assert [e["previousEventId"] for e in outcome.events] == [0, 1, 2, 3]


def test_pass_parameters_input_path_output_path(machines):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "InputPath": "$.job",
                "Parameters": {"name.$": "$.name", "fixed": [1, {"id.$": "$$.Execution.Name"}]},
                "ResultPath": "$.params",
                "OutputPath": "$.params",
                "End": True,
            }
        },
    }
    arn = machines.start(definition, {"job": {"name": "j"}}, name="run-1")
    assert machines.finish(arn).output == {"name": "j", "fixed": [1, {"id": "run-1"}]}


def test_null_input_path_and_result_path(machines):
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "InputPath": None, "Result": "dropped", "ResultPath": None, "End": True}},
    }
    assert machines.run(definition, {"keep": True}).output == {"keep": True}


def test_wait_seconds_and_seconds_path_use_the_clock(machines):
    definition = {
        "StartAt": "W1",
        "States": {
            "W1": {"Type": "Wait", "Seconds": 30, "Next": "W2"},
            "W2": {"Type": "Wait", "SecondsPath": "$.delay", "End": True},
        },
    }
    outcome = machines.run(definition, {"delay": 90})
    assert outcome.status == "SUCCEEDED"
    assert machines.clock.sleeps == [30, 90]
    assert outcome.types[1:5] == ["WaitStateEntered", "WaitStateExited", "WaitStateEntered", "WaitStateExited"]
    w1_entered, w1_exited = outcome.events[1]["timestamp"], outcome.events[2]["timestamp"]
    assert round(w1_exited - w1_entered) == 30


def test_wait_timestamp_path(machines):
    target = (machines.clock.now().replace(microsecond=0)).isoformat().replace("+00:00", "Z")
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}}
    assert machines.run(definition, {"at": target}).status == "SUCCEEDED"
    assert machines.clock.sleeps == [0.0] or machines.clock.sleeps == []


def test_wait_seconds_path_not_an_integer_fails_with_states_runtime(machines):
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.delay", "End": True}}}
    outcome = machines.run(definition, {"delay": "soon"})
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.Runtime"
    assert "'W' (entered at the event id #2)" in outcome.description["cause"]


CHOICE = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.Endpoint", "IsPresent": True},
                        {"Variable": "$['Endpoint']['EndpointStatus']", "StringEquals": "InService"},
                    ],
                    "Next": "Ready",
                },
                {
                    "And": [
                        {"Variable": "$.n", "IsPresent": True},
                        {"Variable": "$.n", "NumericGreaterThan": 1},
                        {"Variable": "$.n", "NumericLessThanEqualsPath": "$.max"},
                    ],
                    "Next": "InRange",
                },
                {"Not": {"Variable": "$.flag", "IsPresent": True}, "Next": "NoFlag"},
                {"Variable": "$.name", "StringMatches": "model-*-v\\*", "Next": "Matched"},
                {"Variable": "$.when", "TimestampGreaterThan": "2020-01-01T00:00:00Z", "Next": "Later"},
            ],
            "Default": "Other",
        },
        "Ready": {"Type": "Succeed"},
        "InRange": {"Type": "Succeed"},
        "NoFlag": {"Type": "Succeed"},
        "Matched": {"Type": "Succeed"},
        "Later": {"Type": "Succeed"},
        "Other": {"Type": "Succeed"},
    },
}


def _chosen(outcome):
    return next(e["stateEnteredEventDetails"]["name"] for e in outcome.events_of("SucceedStateEntered"))


def test_choice_rules(machines):
    cases = [
        ({"Endpoint": {"EndpointStatus": "InService"}, "flag": 1}, "Ready"),
        ({"n": 3, "max": 3, "flag": 1}, "InRange"),
        ({"n": 4, "max": 3, "flag": 1, "name": "x", "when": "2019-01-01T00:00:00Z"}, "Other"),
        ({}, "NoFlag"),
        ({"flag": 1, "name": "model-a-v*"}, "Matched"),
        ({"flag": 1, "name": "model-a-v2", "when": "2019-01-01T00:00:00Z"}, "Other"),
        ({"flag": 1, "name": "x", "when": "2021-06-01T10:00:00.5+02:00"}, "Later"),
    ]
    for data, expected in cases:
        outcome = machines.run(CHOICE, data)
        assert outcome.status == "SUCCEEDED", (data, outcome.description)
        assert _chosen(outcome) == expected, data
        assert outcome.types[1:3] == ["ChoiceStateEntered", "ChoiceStateExited"]


def test_choice_without_match_or_default_fails(machines):
    definition = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "S"}]},
            "S": {"Type": "Succeed"},
        },
    }
    outcome = machines.run(definition, {"x": False})
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.NoChoiceMatched"
    assert outcome.types[-2:] == ["ChoiceStateEntered", "ExecutionFailed"]


def test_choice_on_a_missing_variable_is_a_runtime_error(machines):
    outcome = machines.run(CHOICE, {"flag": 1, "n": 2})  # $.max is missing for NumericLessThanEqualsPath
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.Runtime"
    assert "$.max" in outcome.description["cause"]


def test_succeed_and_fail(machines):
    succeed = {"StartAt": "S", "States": {"S": {"Type": "Succeed", "OutputPath": "$.keep"}}}
    outcome = machines.run(succeed, {"keep": {"k": 1}, "drop": 2})
    assert outcome.output == {"k": 1}
    assert outcome.types == ["ExecutionStarted", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]

    fail = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Deploy.Rejected", "Cause": "no"}}}
    outcome = machines.run(fail)
    assert outcome.status == "FAILED"
    assert (outcome.description["error"], outcome.description["cause"]) == ("Deploy.Rejected", "no")
    assert outcome.types == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert outcome.events[-1]["executionFailedEventDetails"] == {"error": "Deploy.Rejected", "cause": "no"}


def test_parallel_branches_and_events(machines):
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "dq", "End": True}}},
                    {
                        "StartAt": "B",
                        "States": {
                            "B": {"Type": "Wait", "Seconds": 5, "Next": "B2"},
                            "B2": {"Type": "Pass", "Result": "mq", "End": True},
                        },
                    },
                ],
                "ResultPath": "$.par",
                "End": True,
            }
        },
    }
    outcome = machines.run(definition, {"x": 1})
    assert outcome.output == {"x": 1, "par": ["dq", "mq"]}
    types = outcome.types
    assert types[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    started_id = outcome.events[2]["id"]
    branch_starts = [
        e for e in outcome.events if e["type"] == "PassStateEntered" and e["previousEventId"] == started_id
    ]
    branch_starts += [e for e in outcome.events if e["type"] == "WaitStateEntered"]
    assert {e["previousEventId"] for e in branch_starts} == {started_id}


def test_choice_compares_only_values_of_its_type(machines):
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 3, "Next": "Three"}],
                "Default": "Other",
            },
            "Three": {"Type": "Succeed"},
            "Other": {"Type": "Succeed"},
        },
    }
    assert _chosen(machines.run(definition, {"n": 3})) == "Three"
    assert _chosen(machines.run(definition, {"n": "3"})) == "Other"  # a string is not numeric: false, no error


def test_parallel_failure_fails_the_state_with_the_branch_error(machines):
    definition = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100000, "End": True}}},
                    {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "b"}}},
                ],
                "End": True,
            }
        },
    }
    outcome = machines.run(definition, clock=SystemClock())  # the slow branch really waits, until cancelled
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "Branch.Broke"
    assert "ParallelStateFailed" in outcome.types
    assert "WaitStateExited" not in outcome.types  # the slow branch was cut short


def test_map_with_item_selector_context_and_concurrency(machines):
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "Parameters": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "tag.$": "$.tag"},
                "Iterator": {
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {"i.$": "$.index", "label.$": "States.Format('{}-{}', $.tag, $.value)"},
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }
    outcome = machines.run(definition, {"items": ["a", "b", "c"], "tag": "t"})
    assert outcome.output["results"] == [{"i": 0, "label": "t-a"}, {"i": 1, "label": "t-b"}, {"i": 2, "label": "t-c"}]
    assert outcome.events_of("MapStateStarted")[0]["mapStateStartedEventDetails"] == {"length": 3}
    iterations = outcome.events_of("MapIterationStarted")
    assert [e["mapIterationStartedEventDetails"] for e in iterations] == [{"name": "M", "index": i} for i in range(3)]
    assert outcome.types[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


def test_map_iteration_failure(machines):
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Iterator": {
                    "StartAt": "C",
                    "States": {
                        "C": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "F"}],
                            "Default": "OK",
                        },
                        "F": {"Type": "Fail", "Error": "Item.Bad"},
                        "OK": {"Type": "Succeed"},
                    },
                },
                "MaxConcurrency": 1,
                "End": True,
            }
        },
    }
    outcome = machines.run(definition, [1, 2, 3])
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "Item.Bad"
    assert outcome.events_of("MapIterationFailed")[0]["mapIterationFailedEventDetails"] == {"name": "M", "index": 1}
    assert "MapStateFailed" in outcome.types


def test_map_items_must_be_an_array(machines):
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    outcome = machines.run(definition, {"not": "a list"})
    assert outcome.description["error"] == "States.Runtime"


def test_execution_timeout_seconds(machines):
    definition = {"StartAt": "W", "TimeoutSeconds": 10, "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    outcome = machines.run(definition)
    assert outcome.status == "TIMED_OUT"
    assert outcome.types[-1] == "ExecutionTimedOut"
    assert outcome.description["error"] == "States.Timeout"
    assert machines.clock.sleeps == [pytest.approx(10, abs=1)]


def test_statelint_accepts_only_valid_definitions():
    assert lint({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}) == []
    problems = lint({"StartAt": "P", "States": {"P": {"Type": "Wait", "Seconds": "30", "Next": "Missing"}}})
    assert any("Missing" in p for p in problems) and any("Seconds" in p for p in problems)
