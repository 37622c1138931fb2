"""The definition check CreateStateMachine runs: AWS's problem codes, with where each problem is."""

from __future__ import annotations

import json

import pytest

from offline.stepfunctions.definition import DefinitionError, load, problems

PASS_END = {"Type": "Pass", "End": True}


def machine(**states) -> dict:
    return {"StartAt": next(iter(states)), "States": states}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"States": {"A": PASS_END}}, "These fields are required: [StartAt] at /"),
        (
            {"StartAt": "B", "States": {"A": PASS_END}},
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /StartAt",
        ),
        (machine(A={"Type": "Pass"}), "Exactly one of 'Next' or 'End' is required at /States/A"),
        (
            machine(A={"Type": "Pass", "Next": "A", "End": True}),
            "Exactly one of 'Next' or 'End' is required at /States/A",
        ),
        (machine(A={"Type": "Task", "End": True}), "These fields are required: [Resource] at /States/A"),
        (machine(A={"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}), "Exactly one of Seconds"),
        (machine(A={"Type": "Choice", "Choices": []}), "These fields are required: [Choices] at /States/A"),
        (
            machine(A={"Type": "Choice", "Choices": [{"Variable": "$.x", "Next": "A"}]}),
            "needs a Variable and one comparison operator at /States/A/Choices[0]",
        ),
        (
            machine(A={"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Z"}]}),
            "Missing 'Next' target: Z at /States/A/Choices[0]/Next",
        ),
        (
            machine(A={"Type": "Parallel", "Branches": [machine(B={"Type": "Pass", "Next": "Outside"})], "End": True}),
            "Missing 'Next' target: Outside at /States/A/Branches[0]/States/B/Next",
        ),
        (
            machine(
                A={
                    "Type": "Task",
                    "Resource": "r",
                    "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "A"}],
                    "End": True,
                }
            ),
            "States.ALL must appear alone in the last Catch at /States/A/Catch[0]",
        ),
        (
            machine(A={"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": []}], "End": True}),
            "These fields are required: [ErrorEquals] at /States/A/Retry[0]",
        ),
        (
            machine(A={"Type": "Map", "ItemReader": {}, "ItemProcessor": machine(P=PASS_END), "End": True}),
            "Only inline Map states run locally",
        ),
        ({"QueryLanguage": "JSONata", **machine(A=PASS_END)}, "Only the JSONPath query language"),
        (machine(A={"Type": "Loop", "End": True}), "Value is not one of"),
    ],
)
def test_problems(definition, expected):
    found = problems(definition)
    assert any(expected in problem for problem in found), found


def test_load_lists_every_problem_and_accepts_a_valid_machine():
    with pytest.raises(DefinitionError, match="INVALID_JSON_DESCRIPTION"):
        load("{nope")
    broken = machine(A={"Type": "Pass", "Next": "X"}, B={"Type": "Fail", "Next": "A"})
    with pytest.raises(DefinitionError) as failure:
        load(json.dumps(broken))
    assert "Missing 'Next' target: X at /States/A/Next" in str(failure.value)
    valid = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Succeed"})
    assert load(json.dumps(valid)) == valid
