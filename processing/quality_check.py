"""The `processing` baseline engine's job: what a QualityCheck step does, with this project's analyzer.

For accounts without Model Monitor, the build pipeline runs this as a Processing job on the
XGBoost 3.0-5 image (and the local runner runs it as a subprocess). It applies AWS's
QualityCheck rules:

- the new baseline (statistics.json + constraints.json) is always calculated into --calculated-dir;
- unless --skip-check, the dataset is checked against the previous baseline (the supplied files,
  else the drift-check baseline of the model package group's latest approved package) and, with
  --fail-on-violation (the default, as QualityCheck's fail_on_violation), the job fails naming the
  violations (constraint_violations.json goes to --check-dir); without it the job completes and its
  exit message (--message-file, SageMaker's /opt/ml/output/message -> the job's ExitMessage) names them;
- --drift-check-dir receives the baseline future data will be checked against: the new one when
  --register-new-baseline, else the previous one.

`apply_rules` and `previous_baseline_uris` are the one home of these rules: the offline runner's
QualityCheck step (the `managed` engine, emulated) applies them too. Supplied baselines and the
registry are read with boto3 (S3 URIs or local paths).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

if __package__ in (None, ""):  # run as a script from a checkout; in a job the package sits beside it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.atomic import atomic_write
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.job import DATA_QUALITY, MODEL_QUALITY, JobConfig, run_job
from processing.monitoring.kernels import choose_for_inputs
from processing.registry import DRIFT_CHECK_KEYS, check_kind, drift_check_baseline, latest_approved_package
from processing.s3uri import S3UriError, parse_s3_uri

CONTAINER = Path("/opt/ml/processing")
FILES = ("statistics.json", "constraints.json")


class QualityCheckError(RuntimeError):
    """The check could not run, or found violations; the message is the job's failure reason."""


T = TypeVar("T")


def apply_rules(
    *,
    kind: str,
    group: str | None,
    skip_check: bool,
    register_new_baseline: bool,
    fail_on_violation: bool,
    calculated: T,
    previous: T | None,
    check: Callable[[T], list[dict]],
) -> tuple[T, list[dict]]:
    """AWS's QualityCheck rules, the one home for both engines (this job and the local QualityCheck step).

    Returns (the baseline future data is checked against, the violations found). `check(previous)`
    runs the analyzer against the previous baseline and returns its violations.
    """
    violations: list[dict] = []
    if not skip_check:
        if previous is None:
            raise QualityCheckError(no_baseline_message(kind, group))
        violations = check(previous)
        if violations and fail_on_violation:
            raise QualityCheckError(
                f"CompletedWithViolations: Job completed successfully with {len(violations)} violations: "
                + describe_violations(violations)
            )
    if register_new_baseline:
        return calculated, violations
    if previous is None:
        raise QualityCheckError(no_baseline_message(kind, group) + " (RegisterNewBaseline is false, so one is needed)")
    return previous, violations


def previous_baseline_uris(
    kind: str,
    group: str | None,
    sagemaker_client: Callable[[], Any],
    supplied_statistics: str | None = None,
    supplied_constraints: str | None = None,
) -> dict[str, str] | None:
    """{"statistics", "constraints"}: the supplied pair, else the group's latest approved package's
    drift-check baseline; None only when nothing is approved yet. A registry call that fails (AccessDenied,
    throttling) fails the check: it is not a first run."""
    from botocore.exceptions import ClientError

    if supplied_statistics and supplied_constraints:
        return {"statistics": supplied_statistics, "constraints": supplied_constraints}
    if not group:
        return None
    client = sagemaker_client()
    try:
        arn = latest_approved_package(client, group)
        if arn is None:
            return None
        baseline = drift_check_baseline(client.describe_model_package(ModelPackageName=arn), kind)
    except ClientError as e:
        raise QualityCheckError(f"cannot read the model registry for group {group!r}: {e}") from e
    if baseline is None or "statistics" not in baseline:
        return None
    return baseline


def describe_violations(violations: list[dict], most: int = 5) -> str:
    """`check on feature (description)`, for the first few violations: what a failed step's reason names."""
    parts = [
        f"{v.get('constraint_check_type')} on {v.get('feature_name')!r} ({v.get('description', '')})"
        for v in violations[:most]
    ]
    if len(violations) > most:
        parts.append(f"and {len(violations) - most} more")
    return "; ".join(parts)


def read_violations(path: Path) -> list[dict]:
    """The violations of a constraint_violations.json (none when the analyzer wrote no such file)."""
    return json.loads(path.read_text()).get("violations", []) if path.exists() else []


def no_baseline_message(kind: str, group: str | None) -> str:
    return (
        f"no baseline to check against: no supplied statistics/constraints and no approved package with a "
        f"{DRIFT_CHECK_KEYS[check_kind(kind)]} drift-check baseline in {group!r}"
    )


def run(args: argparse.Namespace) -> str:
    """Calculate, check, choose; returns Model Monitor's exit message."""
    calculated = Path(args.calculated_dir)
    _analyze(args, calculated)
    with tempfile.TemporaryDirectory() as scratch:
        # The previous baseline is needed only to check, or to keep it: skip the registry otherwise.
        needed = not args.skip_check or not args.register_new_baseline
        previous = _fetch_previous(args, Path(scratch)) if needed else None
        chosen, violations = apply_rules(
            kind=args.kind,
            group=args.model_package_group,
            skip_check=args.skip_check,
            register_new_baseline=args.register_new_baseline,
            fail_on_violation=args.fail_on_violation,
            calculated=calculated,
            previous=previous,
            check=lambda baseline: check(args, baseline, Path(args.check_dir)),
        )
        drift_check = Path(args.drift_check_dir)
        drift_check.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(chosen / name, drift_check / name)
    if violations:
        return (
            f"CompletedWithViolations: Job completed successfully with {len(violations)} violations: "
            + describe_violations(violations)
        )
    return "Completed: Job completed successfully with no violations."


def check(args: argparse.Namespace, baseline: Path, out: Path) -> list[dict]:
    """Check the dataset against `baseline`; returns the violations written to `out`."""
    _analyze(args, out, baseline)
    return read_violations(out / "constraint_violations.json")


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


def _fetch_previous(args: argparse.Namespace, scratch: Path) -> Path | None:
    """The previous baseline's two files, copied into scratch/previous (None on a first run)."""
    import boto3

    uris = previous_baseline_uris(
        args.kind,
        args.model_package_group,
        lambda: boto3.client("sagemaker"),
        args.supplied_statistics,
        args.supplied_constraints,
    )
    if uris is None:
        return None
    folder = scratch / "previous"
    folder.mkdir()
    for name in ("statistics", "constraints"):
        _fetch(uris[name], folder / f"{name}.json")
    return folder


def _fetch(source: str, target: Path) -> None:
    if source.startswith("s3://"):
        import boto3
        from botocore.exceptions import ClientError

        bucket, key = parse_s3_uri(source)
        try:
            boto3.client("s3").download_file(bucket, key, str(target))
        except ClientError as e:
            raise QualityCheckError(f"cannot read the previous baseline {source}: {e}") from e
    else:
        shutil.copyfile(source, target)


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
    p.add_argument("--fail-on-violation", type=_bool, default=True)
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
    p.add_argument("--message-file", default="", help="where the exit message goes (/opt/ml/output/message)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    choose_for_inputs(args.dataset)
    try:
        message = run(args)
    except (QualityCheckError, MonitorInputError, S3UriError, OSError, json.JSONDecodeError) as e:
        print(f"quality check ({args.kind}): {e}", file=sys.stderr)
        _exit_message(args.message_file, str(e))
        return 1
    print(f"quality check ({args.kind}): {message}")
    _exit_message(args.message_file, message)
    return 0


def _exit_message(path: str, message: str) -> None:
    """The job's exit message, which SageMaker Processing reports as ExitMessage (its first KB)."""
    if path:
        atomic_write(path, message)


if __name__ == "__main__":
    sys.exit(main())
