"""Our files through the SageMaker SDK's own classes (the SDK is not in the image: no image mark)."""

import json

import pytest

from processing.monitoring.api import suggest_baseline

from .conftest import CSV


@pytest.fixture
def baseline(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,x,0.5\n2,y,1.5\n3,x,\n")
    suggest_baseline(path, CSV, tmp_path / "out")
    return tmp_path / "out"


def test_statistics_and_constraints_load_in_the_sdk(baseline):
    from sagemaker.model_monitor import Constraints, Statistics

    stats = Statistics(
        body_dict=json.loads((baseline / "statistics.json").read_text()), statistics_file_s3_uri="s3://b/s"
    )
    assert [f["name"] for f in stats.body_dict["features"]] == ["a", "b", "c"]
    constraints = Constraints(
        body_dict=json.loads((baseline / "constraints.json").read_text()), constraints_file_s3_uri="s3://b/c"
    )
    constraints.set_monitoring(False, feature_name="b")  # the SDK edits our file as it edits AWS's
    constraints.set_monitoring(False)
    assert constraints.body_dict["monitoring_config"]["evaluate_constraints"] == "Disabled"
    feature_b = constraints.body_dict["features"][1]
    assert feature_b["monitoring_config_overrides"] == {"evaluate_constraints": "Disabled"}
    assert feature_b["string_constraints"]["domains"] in (["x", "y"], ["y", "x"])
