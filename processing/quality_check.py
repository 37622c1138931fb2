"""The `processing` baseline engine's job: what a QualityCheck step does, with this project's analyzer.

For accounts without Model Monitor, the build pipeline runs this as a Processing job on the
XGBoost 3.0-5 image (and the local runner runs it as a subprocess). It applies AWS's
QualityCheck rules:

- the new baseline (statistics.json + constraints.json) is always calculated into --calculated-dir;
- unless --skip-check, the dataset is checked against the previous baseline (the supplied files,
  else the drift-check baseline of the model package group's latest approved package) and the job
  fails when it finds violations (constraint_violations.json goes to --check-dir);
- --drift-check-dir receives the baseline future data will be checked against: the new one when
  --register-new-baseline, else the previous one.

Supplied baselines and the registry are read with boto3 (S3 URIs or local paths).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout; in a job the package sits beside it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.job import DATA_QUALITY, MODEL_QUALITY, JobConfig, run_job
from processing.s3uri import S3UriError, parse_s3_uri

CONTAINER = Path("/opt/ml/processing")
FILES = ("statistics.json", "constraints.json")
REGISTRY_KEYS = {"data-quality": "ModelDataQuality", "model-quality": "ModelQuality"}


class QualityCheckError(RuntimeError):
    """The check could not run, or found violations; the message is the job's failure reason."""


def run(args: argparse.Namespace) -> str:
    """Calculate, check, choose; returns Model Monitor's exit message."""
    calculated = Path(args.calculated_dir)
    _analyze(args, calculated)
    with tempfile.TemporaryDirectory() as scratch:
        previous = previous_baseline(args, Path(scratch))
        message = "Completed: Job completed successfully with no violations."
        if not args.skip_check:
            if previous is None:
                raise QualityCheckError(_no_baseline(args))
            violations = check(args, previous, Path(args.check_dir))
            if violations:
                raise QualityCheckError(
                    f"CompletedWithViolations: Job completed successfully with {violations} violations."
                )
        if args.register_new_baseline:
            chosen = calculated
        elif previous is not None:
            chosen = previous
        else:
            raise QualityCheckError(_no_baseline(args) + " (--register-new-baseline is false, so one is needed)")
        drift_check = Path(args.drift_check_dir)
        drift_check.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(chosen / name, drift_check / name)
    return message


def check(args: argparse.Namespace, baseline: Path, out: Path) -> int:
    """Check the dataset against `baseline`; returns the number of violations written to `out`."""
    _analyze(args, out, baseline)
    violations = out / "constraint_violations.json"
    return len(json.loads(violations.read_text()).get("violations", [])) if violations.exists() else 0


def _analyze(args: argparse.Namespace, out: Path, baseline: Path | None = None) -> None:
    """One run of the analyzer job (a baseline, or a check when `baseline` is given)."""
    config = JobConfig(
        dataset_source=args.dataset,
        dataset_format=args.dataset_format,
        output_path=str(out),
        analysis_type=DATA_QUALITY if args.kind == "data-quality" else MODEL_QUALITY,
        problem_type=args.problem_type,
        probability_attribute=args.probability_attribute if args.kind == "model-quality" else None,
        ground_truth_attribute=args.ground_truth_attribute if args.kind == "model-quality" else None,
        probability_threshold=args.probability_threshold,
        baseline_statistics=str(baseline / "statistics.json") if baseline else None,
        baseline_constraints=str(baseline / "constraints.json") if baseline else None,
    )
    if run_job(config) != 0:
        raise QualityCheckError(f"the analyzer could not {'check' if baseline else 'baseline'} {args.dataset}")


def previous_baseline(args: argparse.Namespace, scratch: Path) -> Path | None:
    """The supplied baseline files, else the group's latest approved package's drift-check baseline."""
    if args.supplied_statistics and args.supplied_constraints:
        sources = {"statistics.json": args.supplied_statistics, "constraints.json": args.supplied_constraints}
    elif args.model_package_group:
        sources = _latest_approved_baseline(args.kind, args.model_package_group)
        if sources is None:
            return None
    else:
        return None
    folder = scratch / "previous"
    folder.mkdir()
    for name, source in sources.items():
        _fetch(source, folder / name)
    return folder


def _latest_approved_baseline(kind: str, group: str) -> dict[str, str] | None:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("sagemaker")
    try:
        packages = client.list_model_packages(
            ModelPackageGroupName=group, ModelApprovalStatus="Approved", SortBy="CreationTime", SortOrder="Descending"
        )["ModelPackageSummaryList"]
    except ClientError:
        return None  # no group yet: the first build has no previous baseline
    if not packages:
        return None
    package = client.describe_model_package(ModelPackageName=packages[0]["ModelPackageArn"])
    baseline = package.get("DriftCheckBaselines", {}).get(REGISTRY_KEYS[kind], {})
    if "Statistics" not in baseline or "Constraints" not in baseline:
        return None
    return {"statistics.json": baseline["Statistics"]["S3Uri"], "constraints.json": baseline["Constraints"]["S3Uri"]}


def _fetch(source: str, target: Path) -> None:
    if source.startswith("s3://"):
        import boto3

        bucket, key = parse_s3_uri(source)
        boto3.client("s3").download_file(bucket, key, str(target))
    else:
        shutil.copyfile(source, target)


def _no_baseline(args: argparse.Namespace) -> str:
    return (
        f"no baseline to check against: no supplied statistics/constraints and no approved package with a "
        f"{REGISTRY_KEYS[args.kind]} drift-check baseline in {args.model_package_group!r}"
    )


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")
    return value == "true"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", choices=("data-quality", "model-quality"), required=True)
    p.add_argument("--dataset", default=str(CONTAINER / "input" / "baseline_dataset_input"))
    p.add_argument("--dataset-format", default='{"csv": {"header": false}}', help="Model Monitor's dataset_format")
    p.add_argument("--skip-check", type=_bool, default=True)
    p.add_argument("--register-new-baseline", type=_bool, default=True)
    p.add_argument("--supplied-statistics", default="")
    p.add_argument("--supplied-constraints", default="")
    p.add_argument("--model-package-group", default="")
    p.add_argument("--calculated-dir", default=str(CONTAINER / "output" / "calculated"))
    p.add_argument("--drift-check-dir", default=str(CONTAINER / "output" / "drift-check"))
    p.add_argument("--check-dir", default=str(CONTAINER / "output" / "check"))
    p.add_argument("--problem-type", default="BinaryClassification")
    p.add_argument("--probability-attribute", default="_c0")
    p.add_argument("--ground-truth-attribute", default="_c1")
    p.add_argument("--probability-threshold", type=float, default=0.5)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        message = run(args)
    except (QualityCheckError, MonitorInputError, S3UriError, OSError, json.JSONDecodeError) as e:
        print(f"quality check ({args.kind}): {e}", file=sys.stderr)
        return 1
    print(f"quality check ({args.kind}): {message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
