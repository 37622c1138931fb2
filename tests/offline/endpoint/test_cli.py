"""`mlops endpoint serve`, `mlops deploy --local`'s refusals and `mlops traffic replay` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from offline.defaults import LOCAL_BUCKET
from pipelines.cli import main

from .conftest import ENDPOINT, Client

GROUP = "BreastCancerModels"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "command", [["endpoint"], ["endpoint", "serve"], ["traffic"], ["traffic", "replay"], ["deploy"]]
)
def test_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_deploy_needs_a_target():
    result = run("deploy")
    assert result.exit_code == 2 and "--local or --aws" in result.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--capture-percentage", "101"], 2, "101"),
        (["--capture-destination", "/tmp/x"], 2, "must be an s3:// URI"),
        (["--capture-mode", "all"], 2, "all"),
        (["--workers", "0"], 2, "0"),
        (["--header-timeout", "0"], 2, "not in the range 0.1<=x<=300.0"),
        (["--endpoint-name", "bad_name"], 2, "is not a valid SageMaker name"),
        (["--model-data", "/no/such/model.tar.gz"], 1, "is not a file"),
        (["--model-package-group", "nothing-here"], 1, "no approved model package"),
        (["--model-data", "x.tar.gz", "--model-package", "arn:p"], 1, "not both"),
    ],
)
def test_serve_refuses_bad_options_with_a_reason(tmp_path, monkeypatch, args, code, words):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    result = run("endpoint", "serve", *args)
    assert result.exit_code == code, result.output
    assert words in result.output


def handler_archive(path: Path, tag: str) -> Path:
    """A model.tar.gz whose handler answers its tag, to see which artifact is served."""
    code = path.parent / f"src-{tag}" / "code"
    code.mkdir(parents=True)
    (code / "inference.py").write_text(
        textwrap.dedent(
            f"""
            def model_fn(model_dir):
                return open(model_dir + "/xgboost-model").read()

            def transform_fn(model, data, content_type, accept):
                return "{tag}:" + model + "\\n", "text/plain"
            """
        )
    )
    (code.parent / "xgboost-model").write_text(f"model-{tag}")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(code.parent / "xgboost-model", arcname="xgboost-model")
        tar.add(code, arcname="code")
    return path


@pytest.fixture
def registry_home(tmp_path):
    """A local registry with an old approved, a newer approved and a newest pending package."""
    from offline.aws import local_session
    from offline.store import ObjectStore

    home = tmp_path / "home"
    store = ObjectStore.for_home(home)
    sm = local_session(home).client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = {}
    for tag, status in [("old", "Approved"), ("new", "Approved"), ("pending", "PendingManualApproval")]:
        uri = f"s3://{LOCAL_BUCKET}/models/{tag}/model.tar.gz"
        store.put_file(uri, handler_archive(tmp_path / f"{tag}.tar.gz", tag))
        arns[tag] = sm.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
                        "ModelDataUrl": uri,
                        "Environment": {
                            "SAGEMAKER_PROGRAM": "inference.py",
                            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                        },
                    }
                ],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        time.sleep(0.01)  # distinct creation times
    return home, arns


def serve(home: Path, *args: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "MLOPS_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from pipelines.cli import main; main()", *args, "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    first = process.stdout.readline()
    assert first.startswith("Serving "), first + process.stderr.read()
    process.banner = first + process.stdout.readline() + process.stdout.readline()  # capture and model lines
    return process, first.split(" at ", 1)[1].strip()


def test_serve_defaults_to_the_latest_approved_package(registry_home):
    home, arns = registry_home
    process, url = serve(home, "endpoint", "serve")
    try:
        status, headers, body = Client(url).post("/invocations", "x", "text/csv")
        assert (status, body) == (200, b"new:model-new\n")  # the handler of the newest *approved* artifact
        status, _, body = Client(url).post(f"/endpoints/{GROUP}-local/invocations", "x", "text/csv")
        assert status == 200  # default name: <model package group>-local
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"Model: {arns['new']}" in process.banner
    assert "Stopped BreastCancerModels-local: 2 requests answered (2 ok), 2 records captured" in out


def test_deploy_local_refuses_a_package_without_drift_check_baselines(registry_home, monkeypatch):
    """`mlops deploy --local` runs the deploy workflow (tests/deploy/workflow), which monitors what it deploys."""
    home, arns = registry_home
    monkeypatch.setenv("MLOPS_HOME", str(home))
    result = run("deploy", "--local", "--model-package", arns["old"], "--endpoint-name", "staging")
    assert result.exit_code == 2 and "has no drift-check baseline" in result.output


def test_traffic_replay_command(host, host_home, requests_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(host_home))
    result = run("traffic", "replay", "--endpoint", ENDPOINT, "--data", str(requests_csv), "--limit", "5", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["requests"] == 5
    result = run("traffic", "replay", "--endpoint", ENDPOINT, "--data", str(requests_csv), "--limit", "2")
    assert result.exit_code == 0 and "Replayed 2 rows" in result.output and "need review" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n")
    result = run("traffic", "replay", "--endpoint", ENDPOINT, "--data", str(bad))
    assert result.exit_code == 1 and "ModelError (400)" in result.output
    result = run("traffic", "replay", "--endpoint", ENDPOINT, "--data", str(bad), "--drift", "mean radius:+5%")
    assert result.exit_code == 2 and "the data contract lists 30 features" in result.output
    result = run("traffic", "replay", "--endpoint", "ghost", "--data", str(requests_csv))
    assert result.exit_code == 2 and "no local endpoint named ghost" in result.output


@pytest.mark.parametrize("name", ["../../x", "a/b", "x" * 64, "-x", "x_y", ""])
def test_traffic_replay_refuses_a_name_sagemaker_would_refuse(host, requests_csv, tmp_path, monkeypatch, name):
    home = tmp_path / "home"
    (home / "endpoints").mkdir(parents=True)
    # What "../../x" would have reached: a state file outside $MLOPS_HOME/endpoints naming a live endpoint.
    (tmp_path / "x.json").write_text(json.dumps({"url": host.url, "pid": os.getpid()}))
    monkeypatch.setenv("MLOPS_HOME", str(home))
    result = run("traffic", "replay", "--endpoint", name, "--data", str(requests_csv), "--limit", "1")
    assert result.exit_code == 2, result.output
    assert f"endpoint name {name!r} is not a valid SageMaker name" in result.output
    assert "Replayed" not in result.output
