"""`mlops demo`: the whole loop offline (milestone 6), run twice in one home, and the safety of its --fresh."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from offline.process_identity import ProcessIdentity
from pipelines.cli import main
from tests.processes import processes_of


def _local(home: Path, uri: str) -> Path:
    assert uri.startswith("s3://"), uri
    return home / "s3" / uri[len("s3://") :]


@pytest.mark.slow
def test_the_demo_runs_the_whole_loop_twice_in_one_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MLOPS_HOME", str(home))
    first = CliRunner().invoke(main, ["demo", "--fresh"])
    assert first.exit_code == 0, first.output[-3000:]
    _check_summary(home, first.output)
    first_execution = json.loads((home / "demo-summary.json").read_text())["deploy"]["execution_arn"]
    # the printed way to keep the endpoint up works, and leaves hosts running ...
    kept = CliRunner().invoke(main, ["deploy", "--local", "--endpoint-name", "breast-cancer-demo"])
    assert kept.exit_code == 0 and "Serving breast-cancer-demo at http://127.0.0.1:" in kept.output, kept.output
    from offline.endpoint.hosts import HostRegistry

    left = HostRegistry.for_home(home).live()
    assert left and processes_of(home.resolve())
    # ... which a second run in the same home stops before it starts clean (--fresh)
    second = CliRunner().invoke(main, ["demo", "--fresh"])
    assert second.exit_code == 0, second.output[-3000:]
    assert not any(ProcessIdentity.of(host.pid) for host in left)
    summary = _check_summary(home, second.output)
    assert summary["deploy"]["execution_arn"] != first_execution
    from offline.demo import prepare_home

    # everything the demo leaves is local state: a third `make demo` (--fresh) may clear it
    assert prepare_home(fresh=True) == home.resolve() and not (home / "demo-summary.json").exists()


def _check_summary(home: Path, output: str) -> dict:
    summary = json.loads((home / "demo-summary.json").read_text())
    assert not any(key.startswith("_") for key in summary)
    package, retrained = summary["model_packages"]
    assert package["approval_status"] == "Approved" and package["test_auc"] >= 0.95
    assert retrained["approval_status"] == "Approved" and retrained["version"] == 2
    assert package["model_data_uri"].startswith("s3://") and package["evaluation_uri"].endswith("evaluation.json")

    # deploys: both through the state machine, started by the approval, gate answered by the demo
    v1, v2 = summary["deploys"]
    assert summary["deploy"] == {k: v1[k] for k in ("execution_arn", "status", "states", "endpoint")}
    assert (v1["status"], v2["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert (v1["model_package_arn"], v2["model_package_arn"]) == (package["arn"], retrained["arn"])
    assert v2["model_package_arn"] == summary["retrain"]["model_package_arn"]
    for deploy in (v1, v2):
        assert {"Smoke test staging", "Approve production", "Deployed"} <= set(deploy["states"])
        assert deploy["gate_approved_by"] == "mlops demo" and deploy["endpoint"] == summary["endpoint"]["name"]
    assert "production gate approved by mlops demo" in output
    assert summary["endpoint"]["serving_model_package_arn"] == retrained["arn"]

    # windows: explicit, one second apart at least, own prefixes and report locations; window 2 drifts
    one, two = summary["windows"]
    assert one["end"] <= two["start"] and one["start"] < one["end"] and two["start"] < two["end"]
    assert (one["inference_id_prefix"], two["inference_id_prefix"]) == ("w1", "w2")
    assert one["report_uri"] != two["report_uri"] and one["requests"] == two["requests"] == 114
    from processing.contract import load_contract

    features = set(load_contract().features)
    assert one["shifted_features"] == [] and not set(one["drift_features"]) & features
    assert two["shifted_features"] and set(two["shifted_features"]) <= features
    assert set(two["shifted_features"]) <= set(two["drift_features"])
    for window in (one, two):
        assert not [f for f in window["drift_features"] + window["shifted_features"] if f.startswith("_c")]
        assert _local(home, window["report_uri"] + "/constraint_violations.json").is_file()
        assert window["baseline_constraints_uri"].endswith("constraints.json")
        assert window["baseline_statistics_uri"].endswith("statistics.json")
        for violation in window["violations"]:
            assert set(violation) == {"feature_name", "constraint_check_type", "description"}
    endpoint = summary["endpoint"]
    assert endpoint["requests"] == endpoint["captured_records"] == 228

    # human review of window 1: loops == marked + audit, every loop completed by >= 2 reviewers
    review, predictions = summary["human_review"], summary["predictions"]
    assert review["window"] == {"name": "window 1", "start": one["start"], "end": one["end"]}
    assert predictions["total"] == 114 and (predictions["lower"], predictions["upper"]) == (0.1, 0.9)
    assert review["review_loops"] == predictions["needs_review"] and review["audit_loops"] >= 1
    assert review["loops_started"] == review["review_loops"] + review["audit_loops"] == review["completed"]
    assert review["task_count"] == 2 and len(review["reviewers"]) == 3
    assert all("simulated" in name for name in review["reviewers"]) and "simulated" in review["reviewer"]
    assert review["answers"] == 2 * review["completed"] + review["escalated"]
    assert review["agreement"]["reviewers"] == sorted(review["reviewers"])
    assert {"alpha", "alpha_items", "pairs", "answers", "escalated", "consensus"} <= set(review["agreement"])
    assert review["disputed"] == 0 and review["ground_truth_records"] == review["labelled_rows"] == review["completed"]
    assert 0 <= review["corrections"] <= review["completed"]
    assert len(review["output_uris"]) == review["completed"]
    escalated = 0
    for uri in review["output_uris"]:
        answers = json.loads(_local(home, uri).read_text())["humanAnswers"]
        workers = {a["workerMetadata"]["identityData"]["sub"] for a in answers}
        assert len(answers) in (2, 3) and len(workers) == len(answers)
        assert all("simulated reviewer" in a["answerContent"]["reason"] for a in answers)
        escalated += len(answers) == 3
    assert escalated == review["escalated"]

    # model quality on the human labels, of exactly window 1
    [quality] = [m for m in summary["monitoring"] if m["kind"] == "model-quality"]
    assert quality["status"] in ("Completed", "CompletedWithViolations") and quality["items"] == review["completed"]
    assert (quality["start"], quality["end"]) == (one["start"], one["end"])

    # retrain with the human labels, checks against v1's baselines with fail-on-violation off
    retrain = summary["retrain"]
    assert retrain["previous_model_package_arn"] == package["arn"]
    assert retrain["train_rows"] == retrain["previous_train_rows"] + review["labelled_rows"]
    assert retrain["test_rows"] == retrain["previous_test_rows"]
    assert retrain["metrics"]["auc"]["value"] == retrained["test_auc"]
    assert {c["fail_on_violation"] for c in retrain["checks"].values()} == {False}

    # shadow: both versions on the reviewed rows
    shadow = summary["shadow"]
    assert shadow["rows"] == review["labelled_rows"]
    for name in ("v1", "v2"):
        assert {"accuracy", "auc", "precision", "recall", "f1"} <= set(shadow[name])
        assert all(0 <= shadow[name][k] <= 1 for k in ("accuracy", "auc", "precision", "recall", "f1"))

    assert Path(summary["report"]).is_file() and summary["wall_seconds"] > 0
    assert "mlops deploy --local --endpoint-name" in output and "mlops demo: the whole loop" in output
    # nothing keeps running after the demo
    from offline.endpoint.hosts import HostRegistry

    assert HostRegistry.for_home(home).live() == []
    assert processes_of(home.resolve()) == []
    return summary


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


def test_simulated_reviewers_err_at_the_documented_rate_and_reproducibly():
    from offline.demo.review import ERROR_RATE, REVIEWERS, simulated_label

    ids = [f"w1-{n:06d}" for n in range(1, 2001)]
    for reviewer in REVIEWERS:
        wrong = sum(simulated_label(reviewer, i, 1) == 0 for i in ids) / len(ids)
        assert abs(wrong - ERROR_RATE) < 0.03
        assert [simulated_label(reviewer, i, 0) for i in ids[:50]] == [
            simulated_label(reviewer, i, 0) for i in ids[:50]
        ]
    assert [simulated_label(REVIEWERS[0], i, 1) for i in ids] != [simulated_label(REVIEWERS[1], i, 1) for i in ids]


def test_a_second_demo_is_refused_while_one_runs_in_the_home(tmp_path, monkeypatch):
    """The running demo holds the home's lock: another one (another process) is refused and clears nothing."""
    import subprocess
    import sys

    home = tmp_path / "home"
    (home / "s3" / "bucket").mkdir(parents=True)
    (home / "s3" / "bucket" / "object").write_text("stored")
    monkeypatch.setenv("MLOPS_HOME", str(home))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
            str(home / ".mlops-demo.lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(main, ["demo", "--fresh"])
        assert result.exit_code == 1 and "another `mlops demo` is running" in result.output
        assert (home / "s3" / "bucket" / "object").read_text() == "stored"
    finally:
        holder.kill()
        holder.wait()
