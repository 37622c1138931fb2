import pytest

from offline.executor import paths
from offline.executor.expressions import ExpressionError, Resolver, json_path, references

PROPERTIES = {
    "Pre": {
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
                {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
            ]
        }
    },
    "Train": {"ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"}, "FinalMetricDataList": []},
}
REPORT = {"binary_classification_metrics": {"auc": {"value": 0.97}}, "items": [{"v": 1}, {"v": 2}]}


@pytest.fixture
def resolver():
    def step(name):
        if name not in PROPERTIES:
            raise ExpressionError(f"step {name} has not run")
        return PROPERTIES[name]

    return Resolver(
        parameters={"Threshold": 0.95, "Flag": True, "Name": "x"},
        execution={"PipelineExecutionId": "abc123"},
        step_properties=step,
        property_file=lambda s, f: REPORT,
    )


def test_gets_joins_and_json_gets(resolver):
    value = {
        "Uri": {"Get": "Steps.Pre.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
        "Joined": {
            "Std:Join": {
                "On": "/",
                "Values": ["s3:/", "b", {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.Flag"}],
            }
        },
        "Auc": {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                "Path": "binary_classification_metrics.auc.value",
            }
        },
        "List": [{"Get": "Parameters.Name"}, 3],
    }
    assert resolver.resolve(value) == {
        "Uri": "s3://b/train",
        "Joined": "s3://b/abc123/true",
        "Auc": 0.97,
        "List": ["x", 3],
    }


def test_conditions(resolver):
    auc = {
        "Std:JsonGet": {
            "PropertyFile": "Steps.Eval.PropertyFiles.Report",
            "Path": "binary_classification_metrics.auc.value",
        }
    }
    ge = {"Type": "GreaterThanOrEqualTo", "LeftValue": auc, "RightValue": {"Get": "Parameters.Threshold"}}
    assert resolver.condition(ge)
    assert not resolver.condition({"Type": "Not", "Condition": ge})
    assert resolver.condition({"Type": "Or", "Conditions": [{"Type": "Not", "Condition": ge}, ge]})
    assert resolver.condition({"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["y", "x"]})
    assert resolver.condition({"Type": "Equals", "LeftValue": "0.5", "RightValue": 0.5})
    assert not resolver.condition({"Type": "LessThan", "LeftValue": auc, "RightValue": 0.5})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Get": "Parameters.Missing"}, "unknown parameter 'Missing'"),
        ({"Get": "Execution.Nope"}, "unknown execution variable"),
        ({"Get": "Steps.Later.ModelArtifacts"}, "has not run"),
        ({"Get": "Steps.Pre.ProcessingOutputConfig.Outputs['nope'].S3Output"}, "no element named 'nope'"),
        ({"Get": "Steps.Train.Nope"}, "no Nope"),
        ({"Std:JsonGet": {"PropertyFile": "Steps.E.PropertyFiles.R", "Path": "a.b"}}, "has no 'a'"),
        ({"Std:JsonGet": {"PropertyFile": "Parameters.X", "Path": "a"}}, "needs a step's property file"),
    ],
)
def test_unresolvable_values_say_why(resolver, value, message):
    with pytest.raises(ExpressionError, match=message):
        resolver.resolve(value)


def test_unknown_condition_type(resolver):
    with pytest.raises(ExpressionError, match="not supported"):
        resolver.condition({"Type": "Between", "LeftValue": 1, "RightValue": 2})


def test_json_path_indexes_lists():
    assert json_path(REPORT, "items[1].v") == 2


def test_references_find_every_step_read():
    value = {
        "a": [{"Get": "Steps.Pre.X"}, {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.R"}}}],
        "b": {"Get": "Parameters.P"},
    }
    assert sorted(set(references(value))) == ["Eval", "Pre"]


def test_property_paths():
    assert paths.parse("A.B['x'][0].C[\"y\"]") == ["A", "B", "x", 0, "C", "y"]
    with pytest.raises(paths.PathError, match="cannot parse"):
        paths.parse("A..B")
