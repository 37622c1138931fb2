"""The build pipeline's definition: graph, parameters, condition, and every job request valid for SageMaker."""

import json

import boto3
import pytest
from botocore.validate import ParamValidator

from tests.build.conftest import all_steps, build_definition

OPERATIONS = {
    "Processing": ("CreateProcessingJob", "ProcessingJobName"),
    "Training": ("CreateTrainingJob", "TrainingJobName"),
    "RegisterModel": ("CreateModelPackage", None),
}


def _by_name(definition):
    return {s["Name"]: s for s in all_steps(definition)}


def test_steps_in_order_with_their_types(definition):
    steps = _by_name(definition)
    assert {name: s["Type"] for name, s in steps.items()} == {
        "PreprocessData": "Processing",
        "TrainModel": "Training",
        "EvaluateModel": "Processing",
        "DataQualityBaseline": "Processing",
        "ModelQualityBaseline": "Processing",
        "CheckAucEvaluation": "Condition",
        "RegisterModel-RepackModel-0": "Training",
        "RegisterModel-RegisterModel": "RegisterModel",
        "AucBelowThreshold": "Fail",
    }
    assert "Steps.PreprocessData.ProcessingOutputConfig.Outputs['train']" in json.dumps(steps["TrainModel"])
    assert "Steps.TrainModel.ModelArtifacts.S3ModelArtifacts" in json.dumps(steps["EvaluateModel"])
    assert "Steps.EvaluateModel" in json.dumps(steps["DataQualityBaseline"])
    assert steps["CheckAucEvaluation"]["DependsOn"] == ["DataQualityBaseline", "ModelQualityBaseline"]


def test_parameters_and_first_run_defaults(definition):
    params = {p["Name"]: (p["Type"], p.get("DefaultValue")) for p in definition["Parameters"]}
    assert params["ModelApprovalStatus"] == ("String", "PendingManualApproval")
    assert params["AucThreshold"] == ("Float", 0.95)
    # AWS's names, but the first-run behaviour by default: skip the check, register the new baseline.
    for kind in ("DataQuality", "ModelQuality"):
        assert params[f"Skip{kind}Check"] == ("Boolean", True)
        assert params[f"RegisterNew{kind}Baseline"] == ("Boolean", True)
        assert params[f"{kind}SuppliedStatistics"] == ("String", "")
        assert params[f"{kind}SuppliedConstraints"] == ("String", "")
    for name in ("InputDataUrl", "HumanLabelsUrl", "ProcessingInstanceType", "TrainingInstanceType", "NumRound"):
        assert name in params
    assert params["InputDataUrl"][1].startswith("s3://sagemaker-us-east-1-123456789012/BreastCancerBuild/data/")


def test_condition_gates_on_test_auc(definition):
    condition = _by_name(definition)["CheckAucEvaluation"]["Arguments"]
    [check] = condition["Conditions"]
    assert check["Type"] == "GreaterThanOrEqualTo"
    assert check["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.auc.value"
    assert check["RightValue"] == {"Get": "Parameters.AucThreshold"}
    assert [s["Name"] for s in condition["IfSteps"]] == ["RegisterModel-RepackModel-0", "RegisterModel-RegisterModel"]
    [fail] = condition["ElseSteps"]
    message = json.dumps(fail["Arguments"]["ErrorMessage"])
    assert "Test AUC" in message and "Parameters.AucThreshold" in message and "auc.value" in message


def test_training_uses_the_builtin_xgboost_3_0_5_with_the_seed_hyperparameters(definition):
    train = _by_name(definition)["TrainModel"]["Arguments"]
    assert train["AlgorithmSpecification"]["TrainingImage"].endswith("/sagemaker-xgboost:3.0-5")
    hp = train["HyperParameters"]
    assert {k: hp[k] for k in ("objective", "gamma", "min_child_weight", "subsample")} == {
        "objective": "binary:logistic",
        "gamma": "4",
        "min_child_weight": "6",
        "subsample": "0.8",
    }
    assert "silent" not in hp and hp["verbosity"] == "1"
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]
    assert all(c["ContentType"] == "text/csv" for c in train["InputDataConfig"])


def test_registration_carries_handler_metrics_and_baselines(definition):
    steps = _by_name(definition)
    repack = steps["RegisterModel-RepackModel-0"]["Arguments"]
    assert json.loads(repack["HyperParameters"]["inference_script"]) == "inference.py"
    register = steps["RegisterModel-RegisterModel"]["Arguments"]
    [container] = register["InferenceSpecification"]["Containers"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    assert container["ModelDataUrl"] == {"Get": "Steps.RegisterModel-RepackModel-0.ModelArtifacts.S3ModelArtifacts"}
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    metrics = json.dumps(register["ModelMetrics"])
    assert "evaluation.json" in metrics and "DataQualityBaseline" in metrics and "ModelQualityBaseline" in metrics
    drift = register["DriftCheckBaselines"]
    assert set(drift) >= {"ModelDataQuality", "ModelQuality"}
    assert "drift-check" in json.dumps(drift)


@pytest.mark.parametrize("engine", ["processing", "managed"])
def test_every_job_request_is_valid_for_sagemaker(engine, definition, managed_definition):
    d = definition if engine == "processing" else managed_definition
    params = {p["Name"]: p["DefaultValue"] for p in d["Parameters"]}
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    checked = 0
    for step in all_steps(d):
        op = OPERATIONS.get(step["Type"])
        if not op:
            continue
        args = _substitute(step["Arguments"], params)
        if op[1]:
            args[op[1]] = "job"
        report = ParamValidator().validate(args, client.meta.service_model.operation_model(op[0]).input_shape)
        assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"
        checked += 1
    assert checked == (7 if engine == "processing" else 5)


def test_managed_engine_uses_quality_check_steps(managed_definition):
    checks = [s for s in all_steps(managed_definition) if s["Type"] == "QualityCheck"]
    assert [(s["Name"], s["CheckType"]) for s in checks] == [
        ("DataQualityBaseline", "DATA_QUALITY"),
        ("ModelQualityBaseline", "MODEL_QUALITY"),
    ]
    model_quality = checks[1]
    assert model_quality["SkipCheck"] == {"Get": "Parameters.SkipModelQualityCheck"}
    env = model_quality["Arguments"]["Environment"]
    assert (env["problem_type"], env["probability_attribute"], env["ground_truth_attribute"]) == (
        "BinaryClassification",
        "_c0",
        "_c1",
    )
    assert "sagemaker-model-monitor-analyzer" in model_quality["Arguments"]["AppSpecification"]["ImageUri"]
    assert "BaselineUsedForDriftCheckStatistics" in json.dumps(managed_definition)


def test_the_definition_is_the_same_every_build(definition, definition_home):
    assert build_definition(definition_home) == definition


def test_project_tags_reach_every_job(definition_home):
    d = build_definition(definition_home, sagemaker_project_name="demo", sagemaker_project_id="p-abc123")
    jobs = [s for s in all_steps(d) if s["Type"] in ("Processing", "Training") and "Repack" not in s["Name"]]
    for step in jobs:
        assert {"Key": "sagemaker:project-name", "Value": "demo"} in step["Arguments"]["Tags"], step["Name"]
        assert {"Key": "sagemaker:project-id", "Value": "p-abc123"} in step["Arguments"]["Tags"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline_engine": "spark"}, "baseline_engine must be one of"),
        ({"colour": "red"}, "unknown get_pipeline argument"),
        ({"pipeline_name": "has spaces"}, "must match"),
        ({"auc_threshold": 1.5}, "auc_threshold"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    from pipelines.build.pipeline import get_pipeline

    with pytest.raises(ValueError, match=message):
        get_pipeline(**kwargs)


def _substitute(value, params):
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            ref = value["Get"]
            return params.get(ref.split(".", 1)[1], "x") if ref.startswith("Parameters.") else "s3://placeholder/ref"
        if set(value) & {"Std:Join", "Std:JsonGet"}:
            return "s3://placeholder/join"
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    return value


def test_whether_violations_stop_the_build_is_a_parameter_per_check(definition, managed_definition):
    params = {p["Name"]: (p["Type"], p.get("DefaultValue")) for p in definition["Parameters"]}
    assert params["DataQualityCheckFailOnViolation"] == ("Boolean", True)  # as QualityCheck's fail_on_violation
    assert params["ModelQualityCheckFailOnViolation"] == ("Boolean", True)
    managed = _by_name(managed_definition)
    for step, kind in (("DataQualityBaseline", "DataQuality"), ("ModelQualityBaseline", "ModelQuality")):
        assert managed[step]["FailOnViolation"] == {"Get": f"Parameters.{kind}CheckFailOnViolation"}
        arguments = _by_name(definition)[step]["Arguments"]["AppSpecification"]["ContainerArguments"]
        flag = arguments[arguments.index("--fail-on-violation") + 1]
        assert json.dumps({"Get": f"Parameters.{kind}CheckFailOnViolation"}) in json.dumps(flag)
        assert arguments[arguments.index("--message-file") + 1] == "/opt/ml/output/message"
