"""`mlops registry list|approve|reject` with click's CliRunner, against a real local registry."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from offline.aws import local_session
from pipelines.cli import main

GROUP = "BreastCancerModels"


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("MLOPS_HOME", str(home))
    sm = local_session(home).client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    sm.create_model_package_group(ModelPackageGroupName="other")
    for group, description in [(GROUP, "first"), (GROUP, "second"), ("other", "elsewhere")]:
        sm.create_model_package(
            ModelPackageGroupName=group,
            ModelPackageDescription=description,
            InferenceSpecification={
                "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )
    return home


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["list"], ["approve"], ["reject"]])
def test_help(command):
    result = run("registry", *command, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_list_newest_first_as_a_table(home):
    result = run("registry", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["PACKAGE", "APPROVAL", "CREATED", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == ["other/1", f"{GROUP}/2", f"{GROUP}/1"]
    assert "PendingManualApproval" in lines[1]


def test_list_filters_and_json(home):
    result = run("registry", "list", "--group", GROUP, "--oldest-first", "--json")
    assert result.exit_code == 0, result.output
    packages = json.loads(result.output)
    assert [p["ModelPackageVersion"] for p in packages] == [1, 2]
    assert packages[0]["ModelPackageDescription"] == "first"
    run("registry", "approve", f"{GROUP}/2")
    approved = json.loads(run("registry", "list", "--status", "approved", "--json").output)
    assert [p["ModelPackageArn"].rsplit("/", 2)[-2:] for p in approved] == [["breastcancermodels", "2"]]
    assert run("registry", "list", "--status", "Rejected").output.startswith("no model packages")
    assert len(json.loads(run("registry", "list", "--limit", "1", "--json").output)) == 1


def test_approve_and_reject_by_short_name_or_arn(home):
    result = run("registry", "approve", f"{GROUP}/1", "--description", "AUC 0.99 on test")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Approved {GROUP}/1 (arn:aws:sagemaker:us-east-1:123456789012:")
    assert "was PendingManualApproval" in result.output
    assert "deploy execution" not in result.output  # a group not set up for deployment starts none
    sm = local_session(home).client("sagemaker")
    described = sm.describe_model_package(ModelPackageName=f"{GROUP}/1")
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "AUC 0.99 on test")

    result = run("registry", "reject", described["ModelPackageArn"], "-d", "drifted")
    assert result.exit_code == 0, result.output
    assert "was Approved" in result.output
    assert sm.describe_model_package(ModelPackageName=f"{GROUP}/1")["ModelApprovalStatus"] == "Rejected"


def test_unknown_packages_and_bad_arguments_exit_2(home):
    result = CliRunner().invoke(main, ["registry", "approve", f"{GROUP}/9"])
    assert result.exit_code == 2
    assert (
        "ModelPackage arn:aws:sagemaker:us-east-1:123456789012:model-package/breastcancermodels/9 does not exist"
        in (result.output)
    )
    result = CliRunner().invoke(main, ["registry", "approve", "not a package"])
    assert result.exit_code == 2 and "neither a model package ARN nor GROUP/VERSION" in result.output
    result = CliRunner().invoke(main, ["registry", "list", "--group", "missing"])
    assert result.exit_code == 2 and "does not exist" in result.output
    result = CliRunner().invoke(main, ["registry", "list", "--status", "Maybe"])
    assert result.exit_code == 2 and "Invalid value for '--status'" in result.output
    sm = local_session(home).client("sagemaker")
    assert sm.describe_model_package(ModelPackageName=f"{GROUP}/1")["ModelApprovalStatus"] == "PendingManualApproval"


def test_home_option_selects_the_registry(home, tmp_path):
    result = run("--home", str(tmp_path / "empty-home"), "registry", "list")
    assert result.exit_code == 0 and result.output.startswith("no model packages")
