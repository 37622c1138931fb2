"""The post-processing job: one human loop per captured prediction that needs a person's label.

It reads a window of an endpoint's data capture, selects every prediction the inference handler marked
for review plus an audit sample of confident ones (processing/review/selection.py), and starts one
A2I human loop per prediction (a multi-row request gives one per row), named from the event id and the
row index, with the review input of processing/review/task_input.py. Re-running it starts nothing
twice: A2I answers a name in use with the same loop (same input) or ConflictException (other input).
A manifest of the window's loops goes to `<output-uri>/yyyy/mm/dd/hh/manifest.json` (the window
start's hour), counting the loops this run started apart from those an earlier run had started. To
tell them apart without a DescribeHumanLoop per loop, the job describes the first loop of each capture
file: a run starts a file's loops in order (capture files never change once written), so if that one
does not exist no earlier run started any loop of the file; if it exists, each loop of the file is
described before it is started. (A re-run with a higher --audit-rate can count an earlier run's loop
as started; it never starts a loop twice.)

On AWS (scheduled hourly by `mlops deploy --aws --review a2i`, on the XGBoost 3.0-5 image):

    start_human_loops.py --capture-uri s3://…/datacapture/<endpoint> --scheduled-time <ISO>
        --flow-definition-arn ARN --audit-rate 0.05 --output-uri s3://…/human-review/<endpoint>/manifests
        --region R

checks the full hour before the scheduled time, staging that hour's capture objects from S3 as the
scheduled analyzer does; `--start`/`--end` give another window. Locally `mlops review start-loops`
calls `start_loops` with folders of the object store and an in-process A2I client.

Exit codes: 0 done (also when the window holds nothing to review); 2 bad input (options, a capture
location that does not exist, a flow definition A2I refuses); 1 A2I or S3 failed after retries (the
manifest still records what was started).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the `processing` package beside it importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.contract import ContractError, DataContract, load_contract
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.capture import CaptureStats, capture_files, capture_root, parse_time, read_records
from processing.review.locations import BadLocation, Location, LocationError
from processing.review.selection import AUDIT, REVIEW, Chosen, Tally, check_audit_rate, choose, predictions
from processing.review.starting import (
    ALREADY_STARTED,
    CONFLICT,
    STARTED,
    StartFailed,
    StartRefused,
    loop_exists,
    retry_config,
    start_loop,
)
from processing.review.task_input import build_review_input

MANIFEST = "manifest.json"
NOT_ATTEMPTED = "not-attempted"  # a run that failed part-way never asked A2I for these
STAGING = "/opt/ml/processing/staging"


class StartInputError(ValueError):
    """An option or input the job cannot work with; the message says which and why (exit 2)."""


@dataclass
class StartReport:
    """What one run found and did; `document()` is the manifest."""

    endpoint: str
    capture_uri: str
    flow_definition_arn: str
    start: datetime
    end: datetime
    audit_rate: float
    records: int = 0
    rows: int = 0
    skipped: Counter = field(default_factory=Counter)
    loops: list[dict] = field(default_factory=list)
    error: str | None = None
    manifest_uri: str | None = None

    def count(self, key: str, value: str) -> int:
        return sum(1 for loop in self.loops if loop[key] == value)

    @property
    def started(self) -> int:
        return self.count("outcome", STARTED)

    def summary(self) -> str:
        if not self.loops and not self.error:
            return (
                f"nothing to review in [{_iso(self.start)}, {_iso(self.end)}): {self.rows} prediction(s) in "
                f"{self.records} captured record(s), none marked for review or drawn for the audit"
            )
        return (
            f"{len(self.loops)} loop(s) for [{_iso(self.start)}, {_iso(self.end)}) "
            f"({self.count('reason', REVIEW)} review, {self.count('reason', AUDIT)} audit) of {self.rows} "
            f"prediction(s): {self.started} started, {self.count('outcome', ALREADY_STARTED)} already started, "
            f"{self.count('outcome', CONFLICT)} already started with other input (ConflictException)"
        )

    def document(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "captureUri": self.capture_uri,
            "window": {"start": _iso(self.start), "end": _iso(self.end)},
            "flowDefinitionArn": self.flow_definition_arn,
            "auditRate": self.audit_rate,
            "capturedRecords": self.records,
            "predictions": self.rows,
            "skipped": dict(sorted(self.skipped.items())),
            "reviewLoops": self.count("reason", REVIEW),
            "auditLoops": self.count("reason", AUDIT),
            "started": self.started,
            "alreadyStarted": self.count("outcome", ALREADY_STARTED),
            "conflicts": self.count("outcome", CONFLICT),
            "error": self.error,
            "loops": self.loops,
        }


def start_loops(
    a2i: Any,
    *,
    capture: str | Path,
    start: datetime,
    end: datetime,
    flow_definition_arn: str,
    audit_rate: float,
    manifests: Location,
    endpoint: str | None = None,
    capture_uri: str | None = None,
    contract: DataContract | None = None,
) -> StartReport:
    """Start the window's loops with `a2i` (a boto3 `sagemaker-a2i-runtime` client) and write the manifest.

    `capture` is the endpoint's capture folder (`…/<endpoint>`, variants beneath it); `capture_uri` is
    what the manifest calls it (default: the folder). Raises StartInputError for bad input, StartRefused
    when A2I refuses the requests themselves, StartFailed when A2I fails (the manifest is written first).
    """
    if start >= end:
        raise StartInputError(f"the window's start ({_iso(start)}) must be before its end ({_iso(end)})")
    try:
        audit_rate = check_audit_rate(audit_rate)
        root = capture_root(capture)
    except (ValueError, MonitorInputError) as e:
        raise StartInputError(str(e)) from e
    contract = contract or load_contract()
    endpoint = endpoint or Path(str(capture_uri or capture).rstrip("/")).name
    report = StartReport(endpoint, str(capture_uri or capture), flow_definition_arn, start, end, audit_rate)
    stats, tally = CaptureStats(), Tally()
    by_file = [
        list(choose(predictions(read_records(path, start, end, stats), contract, tally), audit_rate))
        for path in capture_files(root, start, end)
    ]
    report.records, report.rows, report.skipped = stats.records, tally.rows, tally.skipped
    for reason, n in stats.reasons.items():
        report.skipped[f"capture line: {reason}"] += n
    report.loops = [_manifest_entry(item, None, NOT_ATTEMPTED) for chosen in by_file for item in chosen]
    done = 0
    try:
        for chosen in by_file:
            # A run starts a file's loops in order: when the file's first loop does not exist, no earlier run
            # started any of them, and the rest need no DescribeHumanLoop (see the module docstring).
            earlier = bool(chosen) and loop_exists(a2i, chosen[0].prediction.loop_name)
            for n, item in enumerate(chosen):
                entry = report.loops[done]
                existed = earlier if n == 0 else (None if earlier else False)
                document = _input(contract, endpoint, item)
                started = start_loop(a2i, entry["humanLoopName"], flow_definition_arn, document, existed)
                entry["humanLoopArn"], entry["outcome"] = started.arn, started.outcome
                done += 1
    except (StartRefused, StartFailed) as e:
        report.error = str(e)
        if isinstance(e, StartFailed) or any(entry["outcome"] != NOT_ATTEMPTED for entry in report.loops):
            report.manifest_uri = _write_manifest(manifests, report)  # what this run did, before it fails
        raise
    report.manifest_uri = _write_manifest(manifests, report)
    return report


def _input(contract: DataContract, endpoint: str, item: Chosen) -> dict:
    p = item.prediction
    return build_review_input(
        contract,
        endpoint=endpoint,
        event_id=p.event_id,
        inference_id=p.inference_id,
        inference_time=_iso(p.inference_time),
        row_index=p.row_index,
        row_count=p.row_count,
        reason=item.reason,
        probability=p.probability,
        predicted_label=p.predicted_label,
        features=p.features,
    )


def _manifest_entry(item: Chosen, arn: str | None, outcome: str) -> dict:
    p = item.prediction
    return {
        "humanLoopName": p.loop_name,
        "humanLoopArn": arn,
        "outcome": outcome,
        "reason": item.reason,
        "eventId": p.event_id,
        "inferenceId": p.inference_id,
        "inferenceTime": _iso(p.inference_time),
        "rowIndex": p.row_index,
        "probability": p.probability,
        "predictedLabel": p.predicted_label,
    }


def _write_manifest(manifests: Location, report: StartReport) -> str:
    body = json.dumps(report.document(), indent=2, ensure_ascii=False) + "\n"
    return manifests.write(f"{report.start:%Y/%m/%d/%H}/{MANIFEST}", body.encode(), "application/json")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the container's command line ---------------------------------------------------------------------


def window_of(scheduled_time: str | None, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[start, end): the full hour before --scheduled-time, or --start and --end as given."""
    try:
        if scheduled_time is not None:
            if start is not None or end is not None:
                raise StartInputError("give --scheduled-time or --start and --end, not both")
            when = parse_time(scheduled_time)
            if when is None:
                raise StartInputError("--scheduled-time is empty")
            hour = when.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
            return hour - timedelta(hours=1), hour
        if start is None or end is None:
            raise StartInputError("give --scheduled-time, or both --start and --end")
        begin, finish = parse_time(start), parse_time(end)
    except MonitorInputError as e:
        raise StartInputError(str(e)) from e
    if begin is None or finish is None:
        raise StartInputError("--start and --end must not be empty")
    if begin >= finish:
        raise StartInputError(f"--start ({start}) must be before --end ({end})")
    return begin, finish


def _audit_rate(text: str) -> float:
    try:
        return check_audit_rate(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1 (e.g. 0.05)") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--capture-uri", required=True, help="the endpoint's capture location (s3://… or a folder)")
    p.add_argument("--scheduled-time", help="ISO-8601; the job checks the full hour before it")
    p.add_argument("--start", help="window start, ISO-8601 (with --end, instead of --scheduled-time)")
    p.add_argument("--end", help="window end, ISO-8601, exclusive")
    p.add_argument("--flow-definition-arn", required=True)
    p.add_argument("--audit-rate", type=_audit_rate, default=0.05, help="share of confident predictions reviewed")
    p.add_argument("--output-uri", required=True, help="manifests go to <output-uri>/yyyy/mm/dd/hh/manifest.json")
    p.add_argument("--region", default=None)
    p.add_argument("--endpoint", default=None, help="the endpoint's name (default: the capture location's last part)")
    p.add_argument("--contract", default=None, help="data contract JSON (default: the bundled one)")
    p.add_argument("--staging-path", default=STAGING, help="where an S3 window is downloaded")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        start, end = window_of(args.scheduled_time, args.start, args.end)
        contract = load_contract(args.contract)
        session, a2i = _clients(args.region)
        manifests = Location(args.output_uri, lambda: session.client("s3"))
        with tempfile.TemporaryDirectory(dir=_scratch(args.staging_path)) as scratch:
            capture = _capture_folder(session, args.capture_uri, start, end, Path(scratch))
            report = start_loops(
                a2i,
                capture=capture,
                start=start,
                end=end,
                flow_definition_arn=args.flow_definition_arn,
                audit_rate=args.audit_rate,
                manifests=manifests,
                endpoint=args.endpoint,
                capture_uri=args.capture_uri,
                contract=contract,
            )
    except (StartInputError, ContractError, StartRefused, BadLocation) as e:
        print(f"start_human_loops: {e}", file=sys.stderr)
        return 2
    except (StartFailed, LocationError) as e:
        print(f"start_human_loops: {e}", file=sys.stderr)
        return 1
    print(f"start_human_loops: {report.summary()}; manifest {report.manifest_uri}")
    return 0


def _clients(region: str | None):
    """A boto3 session and its A2I runtime client (region: --region, else the container's AWS_REGION)."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=region)
        return session, session.client("sagemaker-a2i-runtime", config=retry_config())
    except BotoCoreError as e:
        raise StartInputError(f"cannot make the A2I runtime client: {e} (give --region)") from e


def _scratch(path: str) -> str | None:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # not in a container: the system's temporary folder
    return str(folder)


def _capture_folder(session, capture_uri: str, start: datetime, end: datetime, scratch: Path) -> str:
    """A local capture location as it is; an S3 one staged hour prefix by hour prefix into scratch."""
    if not capture_uri.startswith("s3://"):
        return capture_uri
    from processing.monitoring.s3_source import S3ReadError, stage_hours

    s3 = session.client("s3")
    location = Location(capture_uri, lambda: s3)
    if not location.exists():
        raise StartInputError(
            f"capture location {capture_uri} does not exist: it holds no captured data at all "
            "(check the endpoint name and the capture destination)"
        )
    try:
        staged = stage_hours(s3, capture_uri, start, end, scratch / "capture")
    except (S3ReadError, MonitorInputError) as e:
        raise LocationError(str(e)) from e
    print(f"start_human_loops: read {staged.objects} capture object(s) from {staged.prefixes} hour prefix(es)")
    return str(staged.folder)


if __name__ == "__main__":
    sys.exit(main())
