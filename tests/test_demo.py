"""`mlops demo`: the whole loop offline, and the safety of its --fresh."""

import json

import pytest
from click.testing import CliRunner

from pipelines.cli import main


@pytest.mark.slow
def test_the_demo_runs_the_whole_loop_and_writes_its_summary(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MLOPS_HOME", str(home))
    result = CliRunner().invoke(main, ["demo", "--fresh"])
    assert result.exit_code == 0, result.output[-3000:]
    summary = json.loads((home / "demo-summary.json").read_text())
    package, retrained = summary["model_packages"]
    assert package["approval_status"] == "Approved" and package["test_auc"] >= 0.95
    assert retrained["approval_status"] == "PendingManualApproval" and retrained["version"] == 2
    assert package["model_data_uri"].startswith("s3://") and package["evaluation_uri"].endswith("evaluation.json")
    endpoint = summary["endpoint"]
    assert endpoint["requests"] == endpoint["captured_records"] == 114
    predictions = summary["predictions"]
    assert predictions["total"] == 114 and (predictions["lower"], predictions["upper"]) == (0.1, 0.9)
    assert predictions["above_upper"] + predictions["below_lower"] + predictions["needs_review"] == 114
    kinds = {m["kind"] for m in summary["monitoring"]}
    assert kinds == {"data-quality", "model-quality"}
    for window in summary["monitoring"]:
        assert window["report_uri"].startswith("s3://") and isinstance(window["violations"], list)
    review = summary["human_review"]
    assert review["review_loops"] == predictions["needs_review"] and review["audit_loops"] >= 1
    assert review["loops_started"] == review["review_loops"] + review["audit_loops"] == review["completed"]
    assert len(review["output_uris"]) == review["completed"] and review["window"]["start"] < review["window"]["end"]
    assert review["ground_truth_records"] == review["labelled_rows"] == review["completed"]
    assert "simulated" in review["reviewer"]
    output = json.loads((home / "s3" / review["output_uris"][0][len("s3://") :]).read_text())
    assert "simulated reviewer" in output["humanAnswers"][0]["answerContent"]["reason"]
    [quality] = [m for m in summary["monitoring"] if m["kind"] == "model-quality"]
    assert quality["status"] in ("Completed", "CompletedWithViolations") and quality["items"] == review["completed"]
    retrain = summary["retrain"]
    assert retrain["model_package_arn"] == retrained["arn"] and retrain["previous_model_package_arn"] == package["arn"]
    assert retrain["train_rows"] == retrain["previous_train_rows"] + review["labelled_rows"]
    assert retrain["test_rows"] == retrain["previous_test_rows"]
    assert retrain["metrics"]["auc"]["value"] == retrained["test_auc"]
    assert {c["fail_on_violation"] for c in retrain["checks"].values()} == {False}
    assert (home / "report.html").is_file() and summary["wall_seconds"] > 0
    assert not any(key.startswith("_") for key in summary)
    # everything the demo leaves is local state: a second `make demo` (--fresh) may clear it
    from offline.demo import prepare_home

    assert prepare_home(fresh=True) == home.resolve() and not (home / "demo-summary.json").exists()


def test_fresh_refuses_a_folder_that_is_not_local_state(tmp_path, monkeypatch):
    home = tmp_path / "precious"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    monkeypatch.setenv("MLOPS_HOME", str(home))
    result = CliRunner().invoke(main, ["demo", "--fresh"])
    assert result.exit_code == 1 and "not clearing it" in result.output
    assert (home / "thesis.tex").read_text() == "years of work"


def test_an_existing_home_needs_fresh(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "s3").mkdir(parents=True)
    monkeypatch.setenv("MLOPS_HOME", str(home))
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 1 and "--fresh" in result.output
