"""Schedules for an endpoint from its model package's drift-check baselines (what a deploy creates)."""

from __future__ import annotations

import os

from offline.defaults import LOCAL_BUCKET, LOCAL_REGION
from offline.home import mlops_home
from offline.monitoring.schedules import DATA_QUALITY, MODEL_QUALITY, Schedule, ScheduleStore
from offline.state import StateDB
from processing.registry import DRIFT_CHECK_KEYS, drift_check_baseline

DEFAULT_CAPTURE_URI = f"s3://{LOCAL_BUCKET}/datacapture"
DEFAULT_OUTPUT_URI = f"s3://{LOCAL_BUCKET}/monitoring/reports"
DEFAULT_GROUND_TRUTH_URI = f"s3://{LOCAL_BUCKET}/ground-truth"


class SetupError(ValueError):
    """The package or the arguments do not allow a schedule; the message says why."""


def schedule_name(endpoint: str, kind: str) -> str:
    return f"{endpoint}-{kind}"


def create_schedules(
    endpoint: str,
    model_package_arn: str,
    kinds: tuple[str, ...] = (DATA_QUALITY,),
    *,
    capture_uri: str = DEFAULT_CAPTURE_URI,
    output_uri: str = DEFAULT_OUTPUT_URI,
    ground_truth_uri: str | None = None,
    probability_threshold: float = 0.5,
    home: str | os.PathLike | None = None,
) -> list[Schedule]:
    """Create (or update) the endpoint's schedules with the package's drift-check baselines."""
    from botocore.exceptions import ClientError

    from offline.aws import local_session

    home = mlops_home(home)
    client = local_session(home=home, region=LOCAL_REGION).client("sagemaker")
    try:
        package = client.describe_model_package(ModelPackageName=model_package_arn)
    except ClientError as e:
        raise SetupError(f"cannot read model package {model_package_arn}: {e.response['Error']['Message']}") from e
    store = ScheduleStore(StateDB.for_home(home))
    created = []
    for kind in kinds:
        baseline = drift_check_baseline(package, kind)
        if baseline is None:
            raise SetupError(f"model package {model_package_arn} has no {DRIFT_CHECK_KEYS[kind]} drift-check baseline")
        if kind == MODEL_QUALITY and not ground_truth_uri:
            raise SetupError("a model-quality schedule needs the ground-truth location")
        schedule = Schedule(
            name=schedule_name(endpoint, kind),
            endpoint=endpoint,
            kind=kind,
            baseline_constraints=baseline["constraints"],
            baseline_statistics=baseline.get("statistics"),
            capture_uri=capture_uri,
            output_uri=output_uri,
            ground_truth_uri=ground_truth_uri if kind == MODEL_QUALITY else None,
            probability_threshold=probability_threshold,
            model_package_arn=model_package_arn,
        )
        created.append(store.save(schedule))
    return created
