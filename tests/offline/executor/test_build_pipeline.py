"""The real build pipeline, executed locally end to end on the real data."""

import io
import json
import tarfile

import boto3
import pytest
import xgboost as xgb
from click.testing import CliRunner
from moto import mock_aws

from offline.aws import local_session
from offline.store import ObjectStore
from pipelines.cli import main

pytestmark = pytest.mark.slow
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("build-home")


@pytest.fixture(scope="module")
def definition_via_moto(home, tmp_path_factory):
    """The definition built for the local target, stored in (moto's) SageMaker and read back."""
    import os

    os.environ["MLOPS_HOME"] = str(home)
    from pipelines.build.pipeline import get_pipeline

    built = get_pipeline(target="local").definition()
    with mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        sm.create_pipeline(PipelineName="BreastCancerBuild", PipelineDefinition=built, RoleArn=ROLE)
        fetched = sm.describe_pipeline(PipelineName="BreastCancerBuild")["PipelineDefinition"]
    assert fetched == built
    path = tmp_path_factory.mktemp("definition") / "BreastCancerBuild.json"
    path.write_text(fetched)
    return path


@pytest.fixture(scope="module")
def succeeded(home, definition_via_moto):
    result = CliRunner().invoke(
        main, ["--home", str(home), "pipeline", "run", "--local", "--definition", str(definition_via_moto), "--json"]
    )
    assert result.exit_code == 0, result.output[-3000:]
    return json.loads(result.output[result.output.index("{") :])


def test_the_fetched_definition_runs_every_step(succeeded):
    assert succeeded["PipelineExecutionStatus"] == "Succeeded"
    succeeded_steps = [s["StepName"] for s in succeeded["Steps"] if s["StepStatus"] == "Succeeded"]
    # The two baselines run in parallel, so their relative order varies; every other step is ordered.
    assert succeeded_steps[:3] == ["PreprocessData", "TrainModel", "EvaluateModel"]
    assert set(succeeded_steps[3:5]) == {"DataQualityBaseline", "ModelQualityBaseline"}
    assert succeeded_steps[5:] == ["CheckAucEvaluation", "RegisterModel-RepackModel-0", "RegisterModel-RegisterModel"]


def test_the_registered_package_holds_a_loadable_model_and_the_handler(home, succeeded):
    sm = local_session(home=home).client("sagemaker")
    [summary] = sm.list_model_packages(ModelPackageGroupName="BreastCancerPackageGroup")["ModelPackageSummaryList"]
    package = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    store = ObjectStore.for_home(home)
    archive = store.get_bytes(package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"])
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
        model = tar.extractfile("xgboost-model").read()
        handler = tar.extractfile("code/inference.py").read().decode()
    assert {"xgboost-model", "code/inference.py", "code/data_contract.json"} <= set(names)
    booster = xgb.Booster()
    booster.load_model(bytearray(model))
    assert booster.num_features() == 30 and "def model_fn" in handler
    evaluation = json.loads(store.get_bytes(package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]))
    assert evaluation["binary_classification_metrics"]["auc"]["value"] >= 0.95
    for kind in ("ModelDataQuality", "ModelQuality"):
        for name in ("Statistics", "Constraints"):
            assert store.exists(package["DriftCheckBaselines"][kind][name]["S3Uri"]), (kind, name)


def test_list_and_describe_show_the_execution(home, succeeded):
    runner = CliRunner()
    listed = runner.invoke(main, ["--home", str(home), "pipeline", "list"])
    assert listed.exit_code == 0 and succeeded["PipelineExecutionId"] in listed.output
    described = runner.invoke(main, ["--home", str(home), "pipeline", "describe", succeeded["PipelineExecutionId"][:5]])
    assert described.exit_code == 0 and "RegisterModel-RegisterModel" in described.output
    missing = runner.invoke(main, ["--home", str(home), "pipeline", "describe", "nope"])
    assert missing.exit_code == 2 and "no pipeline execution" in missing.output


def test_an_impossible_auc_threshold_fails_at_the_fail_step_and_registers_nothing(tmp_path):
    result = CliRunner().invoke(
        main, ["--home", str(tmp_path), "pipeline", "run", "--local", "--param", "AucThreshold=1.01", "--json"]
    )
    assert result.exit_code == 1, result.output[-2000:]
    execution = json.loads(result.output[result.output.index("{") :])
    assert execution["PipelineExecutionStatus"] == "Failed"
    assert execution["FailureReason"].startswith("Test AUC 0.9") and execution["FailureReason"].endswith(
        "is below the AucThreshold 1.01"
    )
    steps = {s["StepName"]: s["StepStatus"] for s in execution["Steps"]}
    assert steps["AucBelowThreshold"] == "Failed" and "RegisterModel-RegisterModel" not in steps
    sm = local_session(home=tmp_path).client("sagemaker")
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_bad_run_arguments(tmp_path):
    runner = CliRunner()
    no_local = runner.invoke(main, ["--home", str(tmp_path), "pipeline", "run"])
    assert no_local.exit_code == 2 and "run-pipeline" in no_local.output
    bad_param = runner.invoke(main, ["--home", str(tmp_path), "pipeline", "run", "--local", "--param", "Nope"])
    assert bad_param.exit_code == 2 and "NAME=VALUE" in bad_param.output
    definition = tmp_path / "d.json"
    definition.write_text("{broken")
    bad_file = runner.invoke(
        main, ["--home", str(tmp_path), "pipeline", "run", "--local", "--definition", str(definition)]
    )
    assert bad_file.exit_code == 2 and "not valid JSON" in bad_file.output


def test_the_managed_engine_runs_quality_check_steps_locally(tmp_path):
    result = CliRunner().invoke(
        main,
        ["--home", str(tmp_path), "pipeline", "run", "--local", "--kwargs", '{"baseline_engine": "managed"}', "--json"],
    )
    assert result.exit_code == 0, result.output[-2000:]
    steps = json.loads(result.output[result.output.index("{") :])["Steps"]
    checks = {s["StepName"]: s for s in steps if s["StepType"] == "QualityCheck"}
    assert set(checks) == {"DataQualityBaseline", "ModelQualityBaseline"}
    # The analyzer wrote its exit message inside each job's sandbox, not to the real /opt/ml.
    messages = sorted(tmp_path.glob("jobs/*/*/opt/ml/output/message"))
    assert [m.read_text().split(":")[0] for m in messages] == ["Completed", "Completed"]
    store = ObjectStore.for_home(tmp_path)
    for step in checks.values():
        metadata = step["Metadata"]
        assert metadata["BaselineUsedForDriftCheckStatistics"] == metadata["CalculatedBaselineStatistics"]
        assert json.loads(store.get_bytes(metadata["CalculatedBaselineConstraints"]))["version"] == 0.0
