"""The deploy workflow's definition: what the Step Functions SDK emits is valid ASL for statelint and for
cfn-lint's E3601, and its Task states send the direct deploy's requests (the same builders fill them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from statelint.linter import Linter

from pipelines.deploy.aws import DeploySettings
from pipelines.deploy.workflow.settings import WorkflowSettings
from tests.deploy.conftest import REGION, ROLE, SCHEDULER_ROLE, review_settings

ACCOUNT = "123456789012"
PACKAGE = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/breastcancerpackagegroup/7"
BASELINES = {
    "ModelDataQuality": {
        "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/v7/dq/statistics.json"},
        "Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/v7/dq/constraints.json"},
    },
    "ModelQuality": {"Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/v7/mq/constraints.json"}},
}


def settings(engine: str = "managed", review: bool = False, **overrides) -> WorkflowSettings:
    deploy = DeploySettings(
        role_arn=ROLE,
        region=REGION,
        monitor_engine=engine,
        scheduler_role_arn=SCHEDULER_ROLE,
        review=review_settings() if review else None,
    )
    return WorkflowSettings(deploy, account=ACCOUNT, **overrides)


def definition_of(s: WorkflowSettings) -> dict:
    from pipelines.deploy.workflow.definition import definition

    return definition(s)


@pytest.mark.parametrize("review", [False, True], ids=["no-review", "review"])
@pytest.mark.parametrize("engine", ["managed", "processing"])
def test_statelint_accepts_the_sdks_definition(engine, review, request):
    if review:
        request.getfixturevalue("starter")
    document = definition_of(settings(engine, review))
    assert Linter.validate(json.dumps(document)) == []
    resources = {state.get("Resource", "") for state in document["States"].values()}
    assert {"arn:aws:states:::sagemaker:createModel", "arn:aws:states:::sagemaker:createEndpointConfig",
            "arn:aws:states:::sagemaker:createEndpoint", "arn:aws:states:::sagemaker:updateEndpoint",
            "arn:aws:states:::sns:publish.waitForTaskToken"} <= resources  # fmt: skip
    assert ("arn:aws:states:::aws-sdk:sagemaker:createFlowDefinition" in resources) == review


def test_statelint_would_find_a_broken_state():
    document = definition_of(settings())
    document["States"]["Wait for staging endpoint"]["Seconds"] = "1"
    document["States"]["Deployed"]["Next"] = "Nowhere"
    problems = Linter.validate(json.dumps(document))
    assert any("Seconds" in p for p in problems) and any("Nowhere" in p for p in problems)


def test_cfn_lint_e3601_accepts_the_workflow_in_a_template_and_finds_a_planted_error(tmp_path):
    from pipelines.deploy.workflow.definition import build_workflow

    template = build_workflow(settings()).get_cloudformation_template("deploy workflow")
    good = tmp_path / "workflow.yaml"
    good.write_text(template)
    bad = tmp_path / "broken.yaml"
    bad.write_text(template.replace('"Type": "Wait"', '"Type": "Wiat"', 1))
    lint = [os.path.join(os.path.dirname(sys.executable), "cfn-lint"), "--format", "parseable"]
    clean = subprocess.run([*lint, str(good)], capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    broken = subprocess.run([*lint, str(bad)], capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0 and "E3601" in broken.stdout, broken.stdout


def test_data_capture_is_the_sdks_data_capture_config():
    from sagemaker.model_monitor import DataCaptureConfig
    from sagemaker.session import Session

    s = settings()
    document = definition_of(s)
    sdk = DataCaptureConfig(
        enable_capture=True,
        sampling_percentage=100,
        destination_s3_uri=f"s3://sagemaker-{REGION}-{ACCOUNT}/datacapture",
        capture_options=["REQUEST", "RESPONSE"],
        csv_content_types=["text/csv"],
        json_content_types=["application/json"],
        sagemaker_session=Session(boto_session=_offline_session()),
    )._to_request_dict()
    for name in ("Create staging endpoint config", "Create production endpoint config"):
        assert document["States"][name]["Parameters"]["DataCaptureConfig"] == sdk


def _offline_session():
    import boto3

    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)


def evaluate(parameters: dict, version: int = 7, **state) -> dict:
    """What a Task state sends for this input, resolved by the offline interpreter's path rules."""
    from offline.stepfunctions.paths import payload

    package = {
        "ModelPackageArn": PACKAGE,
        "ModelPackageVersion": version,
        "ModelPackageGroupName": "BreastCancerPackageGroup",
        "ModelApprovalStatus": "Approved",
        "DriftCheckBaselines": BASELINES,
    }
    data = {"package": package, **state}
    context = {"Execution": {"Input": {"ModelPackageArn": PACKAGE}}}
    return payload(parameters, data, context)


def names_of(document: dict, version: int = 7) -> dict:
    return evaluate(document["States"]["Name resources"]["Parameters"], version)


@pytest.mark.parametrize("engine", ["managed", "processing"])
def test_the_tasks_send_the_direct_deploys_requests(engine):
    """Resolved with a package, each Task's parameters are the request the direct deploy builds for it."""
    from pipelines.deploy import endpoint as ep
    from pipelines.deploy import monitor_managed, monitor_processing
    from pipelines.deploy.aws import monitor_spec
    from pipelines.deploy.registry import ModelPackage, drift_check_baselines

    s = settings(engine)
    document = definition_of(s)
    states = document["States"]
    names = names_of(document)
    model = evaluate(states["Create production model"]["Parameters"], names=names)
    assert model == {
        **ep.model_request(s.production, PACKAGE, ROLE, s.tags("prod")),
        "ModelName": names["productionModel"],
    }
    config = evaluate(states["Create production endpoint config"]["Parameters"], names=names)
    capture = ep.data_capture_config(f"s3://sagemaker-{REGION}-{ACCOUNT}/datacapture")
    built = ep.endpoint_config_request(
        s.production, names["productionModel"], capture, "ml.m5.large", 1, s.tags("prod")
    )
    assert config == {**built, "EndpointConfigName": names["productionConfig"]}
    package = ModelPackage(PACKAGE, s.group, "Approved", drift_check_baselines({"DriftCheckBaselines": BASELINES}))
    spec = monitor_spec(s.deploy, package, ACCOUNT, s.production, s.tags("prod"))
    if engine == "managed":
        from pipelines.images import analyzer_image

        sent = evaluate(states["Create data quality job definition"]["Parameters"], names=names)
        built = monitor_managed.data_quality_job_definition(spec, analyzer_image(REGION))
        assert sent == {**built, "JobDefinitionName": names["dataQualityJobDefinition"]}
        sent = evaluate(states["Create model quality schedule"]["Parameters"], names=names)
        assert sent == monitor_managed.schedule_request(spec, "model-quality", names["modelQualityJobDefinition"])
    else:
        from pipelines.images import xgboost_image

        job = evaluate(states["Prepare data quality job"]["Parameters"])
        assert job == monitor_processing.processing_job_template(
            spec, "data-quality", s.analyzer_code, xgboost_image(REGION)
        )
        assert job["Environment"]["baseline_constraints"] == "/opt/ml/processing/baseline/constraints/constraints.json"
        sent = evaluate(states["Create data quality schedule"]["Parameters"], jobs={"dataQuality": job})
        built = monitor_processing.schedule_request(spec, "data-quality", job, SCHEDULER_ROLE)
        assert {**sent, "Target": {**sent["Target"], "Input": json.loads(sent["Target"]["Input"])}} == {
            **built,
            "Target": {**built["Target"], "Input": json.loads(built["Target"]["Input"])},
        }


def test_names_come_from_the_version_and_the_settings():
    s = settings()
    document = definition_of(s)
    v7, v8 = names_of(document, 7), names_of(document, 8)
    assert v7["stagingModel"].startswith(f"{s.staging}-v7-") and v8["stagingModel"].startswith(f"{s.staging}-v8-")
    assert v7["productionConfig"].startswith(f"{s.production}-v7-")
    assert all(len(name) <= 63 for name in [*v7.values(), *names_of(document, 999_999).values()])
    other = names_of(definition_of(settings(poll_seconds=5)))
    assert other == v7  # polling is not content: the same resources
    changed = WorkflowSettings(
        DeploySettings(role_arn=ROLE, region=REGION, monitor_engine="managed", instance_type="ml.c5.xlarge"),
        account=ACCOUNT,
    )
    assert names_of(definition_of(changed))["productionConfig"] != v7["productionConfig"]
    assert names_of(definition_of(changed))["productionModel"] == v7["productionModel"]


def test_every_error_ends_in_a_fail_state_naming_its_cause():
    document = definition_of(settings("managed"))
    states = document["States"]
    for name, state in states.items():
        for catcher in state.get("Catch", []):
            target = states[catcher["Next"]]
            assert target["Type"] in ("Fail", "Task", "Choice", "Pass"), (name, catcher)
        if state["Type"] == "Fail":
            assert "CausePath" in state and ("ErrorPath" in state or "Error" in state), name
    gate = states["Approve production"]
    assert gate["Parameters"]["Message"]["TaskToken.$"] == "$$.Task.Token"
    assert states[gate["Catch"][0]["Next"]]["Type"] == "Fail"


def test_mlops_deploy_definition_prints_only_json_offline(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_DEFAULT_REGION": "eu-west-1"}
    mlops = os.path.join(os.path.dirname(sys.executable), "mlops")
    done = subprocess.run(
        [mlops, "deploy", "definition", "--compact"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert Linter.validate(done.stdout) == []
    topic = document["States"]["Approve production"]["Parameters"]["TopicArn"]
    assert topic.startswith("arn:aws:sns:eu-west-1:")
    assert done.stdout.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--monitor-engine", "clarify"], "'clarify' is not one of"),
        (["--endpoint-name", "bad_name"], "is not a valid SageMaker name"),
        (["--endpoint-name", "same", "--staging-endpoint-name", "SAME"], "must differ"),
        (["--account", "12"], "is not a 12-digit AWS account id"),
        (["--approval-topic-arn", "topic"], "is not an SNS topic ARN"),
        (["--task-count", "2"], "only with --review a2i"),
        (["--local", "--region", "eu-west-1"], "--local takes only"),
    ],
)
def test_definition_refuses_bad_input_with_exit_2(args, message):
    from click.testing import CliRunner

    from pipelines.cli import main

    result = CliRunner().invoke(main, ["deploy", "definition", "--region", "us-east-1", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_definition_needs_a_region(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    mlops = os.path.join(os.path.dirname(sys.executable), "mlops")
    done = subprocess.run([mlops, "deploy", "definition"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no AWS region" in done.stderr and done.stdout == ""
