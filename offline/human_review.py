"""Human review on this machine: the job code of processing/ run in-process against the local services.

`mlops review start-loops` / `collect` and the demo come here. The post-processing job
(processing/start_human_loops.py) and the collector (processing/collect_reviews.py) get folders of the
object store for the `s3://` locations AWS would give them, and an in-process `sagemaker-a2i-runtime`
client of the home (`offline.aws.local_session`), so the code that runs on AWS runs here unchanged.

Locations follow `mlops deploy --aws --review a2i`'s defaults, under the local default bucket:
the capture `s3://<bucket>/datacapture/<endpoint>`, answers `…/human-review/<endpoint>/output`,
manifests `…/human-review/<endpoint>/manifests`, ground truth `s3://<bucket>/ground-truth/<endpoint>`
and labelled rows under the build pipeline's HumanLabelsUrl default.

Without a flow definition named, the endpoint's own is made (idempotently) the way the AWS deploy makes
it: the task UI of `review.templates.task_template()` and a flow definition named by their content
(`<endpoint>-review-<hash>`), sending loops to the local work team `…:workteam/private-crowd/default`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.defaults import LOCAL_BUCKET, LOCAL_REGION, LOCAL_ROLE_ARN
from offline.home import mlops_home
from offline.store import ObjectStore

CAPTURE_ROOT = f"s3://{LOCAL_BUCKET}/datacapture"
REVIEW_ROOT = f"s3://{LOCAL_BUCKET}/human-review"
GROUND_TRUTH_ROOT = f"s3://{LOCAL_BUCKET}/ground-truth"
TASK_COUNTS = (1, 2, 3)


class ReviewInputError(ValueError):
    """Bad input to a local review command (an unknown flow definition, a window, a task count)."""


@dataclass(frozen=True)
class Locations:
    """Where one endpoint's review reads and writes (s3:// URIs of the local object store)."""

    endpoint: str
    capture_uri: str
    output_path: str
    manifest_uri: str
    ground_truth_uri: str
    labels_uri: str


def locations(
    endpoint: str,
    capture_uri: str | None = None,
    ground_truth_uri: str | None = None,
    labels_uri: str | None = None,
) -> Locations:
    from pipelines.build.settings import human_labels_uri

    base = f"{REVIEW_ROOT}/{endpoint}"
    return Locations(
        endpoint=endpoint,
        capture_uri=(capture_uri or f"{CAPTURE_ROOT}/{endpoint}").rstrip("/"),
        output_path=f"{base}/output",
        manifest_uri=f"{base}/manifests",
        ground_truth_uri=(ground_truth_uri or f"{GROUND_TRUTH_ROOT}/{endpoint}").rstrip("/"),
        labels_uri=(labels_uri or human_labels_uri(LOCAL_BUCKET)).rstrip("/"),
    )


def workteam_arn(region: str = LOCAL_REGION) -> str:
    return f"arn:aws:sagemaker:{region}:{LOCAL_ACCOUNT_ID}:workteam/private-crowd/default"


def ensure_flow_definition(
    endpoint: str, *, task_count: int = 1, region: str = LOCAL_REGION, home: str | os.PathLike | None = None
) -> str:
    """The endpoint's flow definition (and task UI), created unless they exist; returns its ARN."""
    from pipelines.deploy.errors import DeployFailed, DeployInputError
    from pipelines.deploy.review_resources import (
        ensure_flow_definition as ensure_flow,
    )
    from pipelines.deploy.review_resources import (
        ensure_human_task_ui,
        flow_definition_request,
        human_task_ui_request,
    )

    if isinstance(task_count, bool) or task_count not in TASK_COUNTS:
        raise ReviewInputError(f"--task-count {task_count!r}: each prediction goes to 1, 2 or 3 reviewers")
    try:
        spec = _spec(endpoint, task_count, region)
        sagemaker = _session(home, region).client("sagemaker")
        store = ObjectStore.for_home(home)
        store.create_bucket(LOCAL_BUCKET, region)
        ensure_human_task_ui(sagemaker, human_task_ui_request(spec))
        _, arn = ensure_flow(sagemaker, flow_definition_request(spec), wait=None)
    except (DeployInputError, DeployFailed) as e:
        raise ReviewInputError(str(e)) from e
    return arn


def resolve_flow_definition(
    name_or_arn: str, *, region: str = LOCAL_REGION, home: str | os.PathLike | None = None
) -> dict:
    """DescribeFlowDefinition of a flow definition of this home, by name or ARN; ReviewInputError if unknown."""
    from botocore.exceptions import ClientError

    name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
    try:
        described = _session(home, region).client("sagemaker").describe_flow_definition(FlowDefinitionName=name)
    except ClientError as e:
        raise ReviewInputError(
            f"unknown flow definition {name_or_arn!r} in {region}: {e.response['Error'].get('Message')}"
        ) from e
    if name_or_arn.startswith("arn:") and described["FlowDefinitionArn"] != name_or_arn:
        raise ReviewInputError(
            f"unknown flow definition {name_or_arn!r}: this home has {described['FlowDefinitionArn']}"
        )
    return described


def endpoint_flow_definitions(
    endpoint: str, *, region: str = LOCAL_REGION, home: str | os.PathLike | None = None
) -> list[dict]:
    """The endpoint's flow definitions (`<endpoint>-review-<hash>`), oldest first, as DescribeFlowDefinition."""
    from pipelines.deploy.names import is_content_name, review_stem

    sagemaker = _session(home, region).client("sagemaker")
    stem = review_stem(endpoint)
    names = [
        summary["FlowDefinitionName"]
        for page in sagemaker.get_paginator("list_flow_definitions").paginate(SortOrder="Ascending")
        for summary in page["FlowDefinitionSummaries"]
        if is_content_name(summary["FlowDefinitionName"], stem)
    ]
    return [sagemaker.describe_flow_definition(FlowDefinitionName=name) for name in names]


def start_loops(
    endpoint: str,
    start: datetime,
    end: datetime,
    *,
    flow: str | None = None,
    task_count: int = 1,
    audit_rate: float = 0.05,
    capture_uri: str | None = None,
    region: str = LOCAL_REGION,
    home: str | os.PathLike | None = None,
):
    """processing/start_human_loops.py's job for the window, with the object store's folders and the local
    A2I runtime in-process, through `flow` (a name or ARN; default the endpoint's own, made unless it
    exists). Bad input is refused before anything is created. Returns (the flow's ARN, the StartReport)."""
    from botocore import UNSIGNED
    from botocore.config import Config

    from processing.review.locations import Location
    from processing.review.starting import retry_config
    from processing.start_human_loops import start_loops as run_job

    where = locations(endpoint, capture_uri)
    store = ObjectStore.for_home(home)
    capture = _folder(store, where.capture_uri, "--capture-uri")
    if not capture.exists():
        raise ReviewInputError(
            f"capture location {where.capture_uri} does not exist: it holds no captured data at all (has endpoint "
            f"{endpoint!r} served with data capture? an hour without traffic is an empty window, not this)"
        )
    if flow:
        flow_arn = resolve_flow_definition(flow, region=region, home=home)["FlowDefinitionArn"]
    else:
        flow_arn = ensure_flow_definition(endpoint, task_count=task_count, region=region, home=home)
    # The local runtime checks no signature: skipping SigV4 saves a fifth of each in-process call.
    config = retry_config().merge(Config(signature_version=UNSIGNED))
    a2i = _session(home, region).client("sagemaker-a2i-runtime", config=config)
    report = run_job(
        a2i,
        capture=capture,
        capture_uri=where.capture_uri,
        start=start,
        end=end,
        flow_definition_arn=flow_arn,
        audit_rate=audit_rate,
        manifests=Location(store.path(where.manifest_uri)),
        endpoint=endpoint,
    )
    return flow_arn, report


def collect(
    endpoint: str,
    flows: list[dict],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    ground_truth_uri: str | None = None,
    labels_uri: str | None = None,
    home: str | os.PathLike | None = None,
):
    """processing/collect_reviews.py's job over the answers of `flows` (DescribeFlowDefinition documents),
    reading and writing the object store's folders. Returns one CollectReport per flow definition."""
    from processing.contract import load_contract
    from processing.review.collecting import collect as run_job
    from processing.review.locations import Location

    where = locations(endpoint, ground_truth_uri=ground_truth_uri, labels_uri=labels_uri)
    store = ObjectStore.for_home(home)
    ground_truth = Location(_folder(store, where.ground_truth_uri, "--ground-truth-uri"))
    labels = Location(_folder(store, where.labels_uri, "--labels-uri"))
    contract = load_contract()
    reports = []
    for flow in flows:
        answers = f"{flow['OutputConfig']['S3OutputPath'].rstrip('/')}/{flow['FlowDefinitionName']}"
        reports.append(run_job(Location(store.path(answers)), ground_truth, labels, contract, start, end))
    return reports


def _folder(store: ObjectStore, uri: str, what: str) -> Path:
    """The object store's folder of an s3:// prefix given as an option."""
    try:
        return store.path(uri)
    except ValueError as e:
        raise ReviewInputError(f"{what} {uri}: {e}") from e


def store_uri(path: str, home: str | os.PathLike | None = None) -> str:
    """The s3:// URI of a path the jobs wrote into the object store's folder."""
    root = ObjectStore.for_home(home).root
    return "s3://" + Path(path).resolve().relative_to(root).as_posix()


def _spec(endpoint: str, task_count: int, region: str):
    from pipelines.deploy.review_spec import ReviewSettings, ReviewSpec
    from review.templates import task_template

    where = locations(endpoint)
    settings = ReviewSettings(
        workteam_arn=workteam_arn(region), task_template=task_template(), role_arn=LOCAL_ROLE_ARN, task_count=task_count
    )
    return ReviewSpec(
        settings=settings,
        endpoint=endpoint,
        region=region,
        account=LOCAL_ACCOUNT_ID,
        flow_role_arn=LOCAL_ROLE_ARN,
        job_role_arn=LOCAL_ROLE_ARN,
        capture_uri=where.capture_uri,
        output_path=where.output_path,
        manifest_uri=where.manifest_uri,
    )


def _session(home: str | os.PathLike | None, region: str):
    from offline.aws import local_session

    return local_session(home=mlops_home(home), region=region)
