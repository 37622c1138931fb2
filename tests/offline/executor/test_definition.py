import json

import pytest

from offline.executor.definition import DefinitionError, load_definition


def _step(name, kind="Fail", **extra):
    return {"Name": name, "Type": kind, "Arguments": {"ErrorMessage": "x"}, **extra}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{nope", "not valid JSON"),
        (json.dumps({"Version": "2020-12-01"}), "'Steps' list"),
        (json.dumps({"Version": "2030-01-01", "Steps": []}), "not supported"),
        (json.dumps({"Steps": [_step("A"), _step("A")]}), "two steps are named 'A'"),
        (json.dumps({"Steps": [_step("A", "EMR")]}), "type 'EMR' is not supported locally"),
        (json.dumps({"Steps": [_step("A", DependsOn=["Z"])]}), "unknown step 'Z'"),
        (json.dumps({"Steps": [{"Type": "Fail"}]}), "needs a Name and a Type"),
        (json.dumps({"Parameters": [{"Name": "P", "Type": "Decimal"}], "Steps": []}), "needs a Name and a Type"),
    ],
)
def test_bad_definitions_are_refused_with_the_reason(source, message):
    with pytest.raises(DefinitionError, match=message):
        load_definition(source)


def test_parameters_take_defaults_and_typed_overrides():
    definition = load_definition(
        {
            "Parameters": [
                {"Name": "S", "Type": "String", "DefaultValue": "a"},
                {"Name": "I", "Type": "Integer", "DefaultValue": 1},
                {"Name": "F", "Type": "Float", "DefaultValue": 0.5},
                {"Name": "B", "Type": "Boolean", "DefaultValue": True},
            ],
            "Steps": [],
        }
    )
    assert definition.parameter_values({}) == {"S": "a", "I": 1, "F": 0.5, "B": True}
    assert definition.parameter_values({"I": "7", "F": "0.25", "B": "false"}) == {
        "S": "a",
        "I": 7,
        "F": 0.25,
        "B": False,
    }
    with pytest.raises(DefinitionError, match="is Integer; 'seven' is not one"):
        definition.parameter_values({"I": "seven"})
    with pytest.raises(DefinitionError, match="is Boolean"):
        definition.parameter_values({"B": "yes"})
    with pytest.raises(DefinitionError, match="unknown parameter"):
        definition.parameter_values({"Nope": "1"})


def test_parameter_without_default_must_be_given():
    definition = load_definition({"Parameters": [{"Name": "S", "Type": "String"}], "Steps": []})
    with pytest.raises(DefinitionError, match="--param S="):
        definition.parameter_values({})


def test_condition_branches_are_flattened():
    definition = load_definition(
        {
            "Steps": [
                {
                    "Name": "C",
                    "Type": "Condition",
                    "Arguments": {"Conditions": [], "IfSteps": [_step("Y")], "ElseSteps": [_step("N")]},
                }
            ]
        }
    )
    assert definition.steps["Y"].branch_of == ("C", True)
    assert definition.steps["N"].branch_of == ("C", False)
