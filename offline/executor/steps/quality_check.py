"""QualityCheck steps (the `managed` baseline engine), emulated with this project's analyzer.

On AWS a QualityCheck step runs the Model Monitor analyzer image as a processing job. Here that job
runs locally (see steps/processing.py), then the step applies the same rules:
- the new baseline (statistics.json, constraints.json) is always calculated;
- unless SkipCheck, the dataset is checked against the supplied baseline, else the latest approved
  package's drift-check baseline, and violations fail the step when FailOnViolation;
- BaselineUsedForDriftCheck* is the new baseline when RegisterNewBaseline, else the previous one.
"""

from __future__ import annotations

import copy

from offline.executor.context import ExecutionContext, StepFailed
from offline.executor.definition import Step
from offline.executor.steps.processing import run_processing

BASELINE_DIR = "/opt/ml/processing/baseline"
REGISTRY_KEYS = {"DATA_QUALITY": "ModelDataQuality", "MODEL_QUALITY": "ModelQuality"}


def run_quality_check(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    check = {key: ctx.resolver.resolve(step.raw.get(key)) for key in _FIELDS}
    output = _output_uri(args)
    calculated = {"statistics": f"{output}/statistics.json", "constraints": f"{output}/constraints.json"}
    job = run_processing(ctx, step, args)
    previous = _previous_baseline(ctx, check)

    if not _true(check["SkipCheck"]):
        if previous is None:
            raise StepFailed(_no_baseline(check), job)
        job = run_processing(ctx, _named(step, "check"), _check_arguments(args, previous))
        violations = _violation_count(ctx, output)
        if violations and _true(check["FailOnViolation"]):
            raise StepFailed(
                f"ClientError: the {check['CheckType'].lower().replace('_', '-')} check found {violations} violations "
                f"against the baseline; see {output}/constraint_violations.json",
                job,
            )
    if _true(check["RegisterNewBaseline"]):
        used = calculated
    elif previous is not None:
        used = previous
    else:
        raise StepFailed(_no_baseline(check) + " (RegisterNewBaseline is false, so one is needed)", job)
    return {
        **job,
        "CalculatedBaselineStatistics": calculated["statistics"],
        "CalculatedBaselineConstraints": calculated["constraints"],
        "BaselineUsedForDriftCheckStatistics": used["statistics"],
        "BaselineUsedForDriftCheckConstraints": used["constraints"],
    }


_FIELDS = (
    "CheckType",
    "ModelPackageGroupName",
    "SkipCheck",
    "RegisterNewBaseline",
    "FailOnViolation",
    "SuppliedBaselineStatistics",
    "SuppliedBaselineConstraints",
)


def _previous_baseline(ctx: ExecutionContext, check: dict) -> dict[str, str] | None:
    """The supplied baseline, else the drift-check baseline of the group's latest approved package."""
    statistics, constraints = check.get("SuppliedBaselineStatistics"), check.get("SuppliedBaselineConstraints")
    if statistics and constraints:
        return {"statistics": statistics, "constraints": constraints}
    group = check.get("ModelPackageGroupName")
    if not group:
        return None
    client = ctx.sagemaker()
    try:
        packages = client.list_model_packages(
            ModelPackageGroupName=group, ModelApprovalStatus="Approved", SortBy="CreationTime", SortOrder="Descending"
        )["ModelPackageSummaryList"]
    except Exception:
        return None
    if not packages:
        return None
    described = client.describe_model_package(ModelPackageName=packages[0]["ModelPackageArn"])
    baseline = described.get("DriftCheckBaselines", {}).get(REGISTRY_KEYS[check["CheckType"]], {})
    if "Statistics" in baseline and "Constraints" in baseline:
        return {"statistics": baseline["Statistics"]["S3Uri"], "constraints": baseline["Constraints"]["S3Uri"]}
    return None


def _check_arguments(args: dict, baseline: dict[str, str]) -> dict:
    check_args = copy.deepcopy(args)
    for name in ("statistics", "constraints"):
        check_args.setdefault("ProcessingInputs", []).append(
            {
                "InputName": f"baseline_{name}",
                "S3Input": {
                    "S3Uri": baseline[name],
                    "LocalPath": f"{BASELINE_DIR}/{name}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        )
        file_name = baseline[name].rsplit("/", 1)[-1]
        check_args.setdefault("Environment", {})[f"baseline_{name}"] = f"{BASELINE_DIR}/{name}/{file_name}"
    return check_args


def _violation_count(ctx: ExecutionContext, output: str) -> int:
    import json

    uri = f"{output}/constraint_violations.json"
    if not ctx.store.exists(uri):
        return 0
    return len(json.loads(ctx.store.get_bytes(uri)).get("violations", []))


def _output_uri(args: dict) -> str:
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    if not outputs:
        raise StepFailed("ClientError: a QualityCheck step needs a ProcessingOutputConfig output")
    return outputs[0]["S3Output"]["S3Uri"].rstrip("/")


def _named(step: Step, suffix: str) -> Step:
    return Step(name=f"{step.name}-{suffix}", type=step.type, arguments=step.arguments, raw=step.raw)


def _true(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def _no_baseline(check: dict) -> str:
    return (
        f"ClientError: no baseline to check against: no SuppliedBaseline* and no approved package with a "
        f"{REGISTRY_KEYS[check['CheckType']]} drift-check baseline in {check.get('ModelPackageGroupName')!r}"
    )
