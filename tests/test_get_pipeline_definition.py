"""`get-pipeline-definition` as a user runs it: no AWS configuration, no network, AWS's arguments."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)


def _offline_command(argv: list[str]) -> list[str]:
    """Without any network namespace where the machine allows it (as the acceptance check runs it)."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn", *argv]
    return argv


def _run(tmp_path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    env.update(HOME=str(tmp_path / "home"), MLOPS_HOME=str(tmp_path / "mlops"))
    script = Path(sys.executable).parent / "get-pipeline-definition"
    return subprocess.run(
        _offline_command([str(script), *args]), env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path
    )


@pytest.mark.slow
def test_writes_the_definition_offline_with_no_aws_configuration(tmp_path):
    out = tmp_path / "definition.json"
    result = _run(tmp_path, "-f", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    definition = json.loads(out.read_text())
    assert {s["Name"] for s in definition["Steps"]} >= {"PreprocessData", "TrainModel", "CheckAucEvaluation"}
    # The code it references landed in the local object store, where the local runner looks.
    store = tmp_path / "mlops" / "s3" / "sagemaker-us-east-1-123456789012" / "BreastCancerBuild" / "code"
    assert any(store.rglob("sourcedir.tar.gz")) and any(store.rglob("runproc.sh"))
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_stdout_is_the_definition_alone_and_the_sdk_stays_quiet(tmp_path):
    """`get-pipeline-definition | jq` works: no config INFO lines, banners or upload chatter anywhere,
    even where the SDK's own v2-warning switch is not set."""
    env = {k: v for k, v in os.environ.items() if k not in (*AWS_VARIABLES, "SAGEMAKER_SUPPRESS_V2_WARNING")}
    env.update(HOME=str(tmp_path / "home"), MLOPS_HOME=str(tmp_path / "mlops"))
    script = Path(sys.executable).parent / "get-pipeline-definition"
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["Steps"]
    for noise in ("sagemaker.config INFO", "SDK v2", "DeprecationWarning", "UserWarning", "Uploaded None", "INFO"):
        assert noise not in result.stderr + result.stdout, noise


def test_bad_arguments_exit_2(tmp_path):
    from pipelines import get_pipeline_definition

    assert get_pipeline_definition.main(["--kwargs", "{not json"]) == 2
    assert get_pipeline_definition.main(["--kwargs", "[1, 2]"]) == 2
    assert get_pipeline_definition.main(["-n", "pipelines.no_such_module"]) == 2
    assert get_pipeline_definition.main(["--kwargs", '{"baseline_engine": "spark"}']) == 2


def test_prints_the_definition_to_stdout(tmp_path, monkeypatch, capsys):
    from pipelines import get_pipeline_definition

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    assert get_pipeline_definition.main(["--kwargs", "{'pipeline_name': 'Other'}"]) == 0  # a Python literal, as AWS's
    printed = json.loads(capsys.readouterr().out)
    assert printed["Parameters"][0]["DefaultValue"].startswith("s3://sagemaker-us-east-1-123456789012/Other/data/")
