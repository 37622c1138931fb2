"""QualityCheck steps (the `managed` baseline engine), emulated with this project's analyzer.

On AWS a QualityCheck step runs the Model Monitor analyzer image as a processing job. Here that job
runs locally (see steps/processing.py), then the step applies AWS's rules, whose one home is
`processing.quality_check.apply_rules` (the `processing` engine's job applies the same):
- the new baseline (statistics.json, constraints.json) is always calculated;
- unless SkipCheck, the dataset is checked against the supplied baseline, else the latest approved
  package's drift-check baseline, and violations fail the step when FailOnViolation;
- BaselineUsedForDriftCheck* is the new baseline when RegisterNewBaseline, else the previous one;
- `ViolationReport` (QualityCheckStepMetadata's field) is the check's constraint_violations.json when a
  check ran, so violations that did not stop the build (FailOnViolation false) stay on record.
"""

from __future__ import annotations

import copy

from offline.executor.context import ExecutionContext, StepFailed
from offline.executor.definition import Step
from offline.executor.steps.processing import run_processing
from processing.quality_check import QualityCheckError, apply_rules, previous_baseline_uris
from processing.registry import check_kind

BASELINE_DIR = "/opt/ml/processing/baseline"


def run_quality_check(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    check = {key: ctx.resolver.resolve(step.raw.get(key)) for key in _FIELDS}
    output = _output_uri(args)
    calculated = {"statistics": f"{output}/statistics.json", "constraints": f"{output}/constraints.json"}
    job = run_processing(ctx, step, args)
    kind, group = check_kind(check["CheckType"]), check.get("ModelPackageGroupName")

    report: dict[str, str] = {}

    def run_check(baseline: dict[str, str]) -> list[dict]:
        nonlocal job
        job = run_processing(ctx, _named(step, "check"), _check_arguments(args, baseline))
        report["ViolationReport"] = f"{output}/constraint_violations.json"
        return _violations(ctx, output)

    skip_check, register_new = _true(check["SkipCheck"]), _true(check["RegisterNewBaseline"])
    try:
        previous = (
            previous_baseline_uris(
                kind,
                group,
                ctx.sagemaker,
                check.get("SuppliedBaselineStatistics"),
                check.get("SuppliedBaselineConstraints"),
            )
            if not skip_check or not register_new  # needed only to check, or to keep it
            else None
        )
        used, _ = apply_rules(
            kind=kind,
            group=group,
            skip_check=skip_check,
            register_new_baseline=register_new,
            fail_on_violation=_true(check["FailOnViolation"]),
            calculated=calculated,
            previous=previous,
            check=run_check,
        )
    except QualityCheckError as e:
        raise StepFailed(
            f"ClientError: the {kind} check: {e} (see {output}/constraint_violations.json)", {**job, **report}
        ) from e
    return {
        **job,
        **report,
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


def _violations(ctx: ExecutionContext, output: str) -> list[dict]:
    import json

    uri = f"{output}/constraint_violations.json"
    return json.loads(ctx.store.get_bytes(uri)).get("violations", []) if ctx.store.exists(uri) else []


def _output_uri(args: dict) -> str:
    outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
    if not outputs:
        raise StepFailed("ClientError: a QualityCheck step needs a ProcessingOutputConfig output")
    return outputs[0]["S3Output"]["S3Uri"].rstrip("/")


def _named(step: Step, suffix: str) -> Step:
    return Step(name=f"{step.name}-{suffix}", type=step.type, arguments=step.arguments, raw=step.raw)


def _true(value: object) -> bool:
    return value is True or str(value).lower() == "true"
