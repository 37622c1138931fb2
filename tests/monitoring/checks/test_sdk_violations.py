"""The SDK's ConstraintViolations class reads our constraint_violations.json (SDK: not in the image)."""

import json

from processing.monitoring.api import suggest_baseline
from processing.monitoring.checks.api import run_data_quality_check

from ..conftest import CSV


def test_constraint_violations_load_in_the_sdk(tmp_path):
    from sagemaker.model_monitor import ConstraintViolations

    (tmp_path / "base.csv").write_text("a,b\n" + "".join(f"{i},x\n" for i in range(50)))
    suggest_baseline(tmp_path / "base.csv", CSV, tmp_path / "baseline")
    (tmp_path / "window.csv").write_text("a,b\n" + "".join(f"{i + 0.5},\n" for i in range(50)))
    result = run_data_quality_check(
        baseline_constraints=tmp_path / "baseline" / "constraints.json",
        baseline_statistics=tmp_path / "baseline" / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=tmp_path / "window.csv",
        fmt=CSV,
    )
    body = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    violations = ConstraintViolations(body_dict=body, constraint_violations_file_s3_uri="s3://bucket/report/cv.json")
    kinds = {(v["feature_name"], v["constraint_check_type"]) for v in violations.body_dict["violations"]}
    assert ("a", "data_type_check") in kinds and ("b", "completeness_check") in kinds
    assert len(kinds) == len(result.violations)
