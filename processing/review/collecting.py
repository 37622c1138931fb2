"""Completed human loops -> ground truth for model-quality monitoring and labelled rows for retraining.

Each completed loop left A2I's output.json at `<S3OutputPath>/<flow>/yyyy/mm/dd/hh/mm/ss/<loop>/output.json`
(stamped with the loop's creation time). The answers are read with the one parser
(processing/review/answers.py) and decided by consensus (processing/review/consensus.py); a loop
without a consensus (disputed, or no answer gave a label) is reported and not written.

Written, all with deterministic names and content, so collecting again rewrites the same objects and
never duplicates a record:

- ground truth, Model Monitor's JSON Lines (FORMATS.md §4.1), one record per captured request keyed by
  its inferenceId when it has one, else its eventId, under the prediction's inference hour (so a
  model-quality check of that hour merges it with the capture):
  `<ground-truth>/yyyy/mm/dd/hh/<flow>-<loop creation yyyymmddhh>.jsonl`. Model Monitor merges whole
  records, so a multi-row request gets a record only when every one of its rows has a label;
- labelled rows in the format preprocess reads from the build's HumanLabelsUrl (the label, then the
  features in the data contract's order, no header): `<labels>/<flow>/yyyy/mm/dd/hh/labels.csv`
  (the loops' creation hour).

A file holds every collected loop of its flow definition created in its hour, so a collection limited
to a window of creation times covers whole hours.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from processing.contract import DataContract
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.capture import parse_time
from processing.review.answers import parse_label
from processing.review.consensus import AGREED, consensus
from processing.review.locations import Location, LocationError
from processing.review.task_input import read_label_spec, review_input_problems

OUTPUT = "output.json"
# A2I's layout, read from the end of the key: <flow>/yyyy/mm/dd/hh/mm/ss/<loop>/output.json
OUTPUT_KEY = re.compile(
    r"(?:^|/)(?P<flow>[^/]+)/(?P<y>\d{4})/(?P<mo>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/(?P<mi>\d{2})/(?P<s>\d{2})/"
    r"(?P<loop>[^/]+)/output\.json$"
)
LABELS_FILE = "labels.csv"


@dataclass(frozen=True)
class Reviewed:
    """One completed loop whose answers agree on a label."""

    loop: str
    flow: str
    created: datetime
    label: int
    document: dict  # the review input (task_input.py)

    @property
    def merge_key(self) -> str:
        return self.document.get("inferenceId") or self.document["eventId"]


@dataclass
class CollectReport:
    outputs: int = 0  # output.json files read
    agreed: int = 0
    without_consensus: dict[str, str] = field(default_factory=dict)  # loop -> disputed | unlabelled
    not_review_input: dict[str, str] = field(default_factory=dict)  # loop or key -> why it was not used
    ground_truth_records: int = 0
    incomplete_requests: dict[str, str] = field(default_factory=dict)  # event id -> which rows have labels
    labelled_rows: int = 0
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.outputs} completed loop(s): {self.agreed} with a consensus label, "
            f"{len(self.without_consensus)} without (not written), {len(self.not_review_input)} not usable; "
            f"{self.ground_truth_records} ground-truth record(s), {self.labelled_rows} labelled row(s) in "
            f"{len(self.files)} file(s)"
        )


def collect(
    reviews: Location,
    ground_truth: Location,
    labels: Location,
    contract: DataContract,
    start: datetime | None = None,
    end: datetime | None = None,
) -> CollectReport:
    """Collect every output.json under `reviews` (created in [start, end), widened to whole hours)."""
    report = CollectReport()
    start, end = _whole_hours(start, end)
    found = []
    for key in reviews.keys(OUTPUT):
        where = OUTPUT_KEY.search(reviews.uri(key))
        if where is None:
            report.not_review_input[key] = "not in A2I's layout <flow>/yyyy/mm/dd/hh/mm/ss/<loop>/output.json"
            continue
        created = datetime(*(int(where[k]) for k in ("y", "mo", "d", "h", "mi", "s")), tzinfo=timezone.utc)
        if (start and created < start) or (end and created >= end):
            continue
        report.outputs += 1
        reviewed = _reviewed(reviews, key, where["flow"], where["loop"], created, contract, report)
        if reviewed is not None:
            found.append(reviewed)
    report.agreed = len(found)
    for relative, body in _ground_truth_files(found, report).items():
        report.files.append(ground_truth.write(relative, body, "application/jsonl"))
    for relative, body in _label_files(found, contract).items():
        report.files.append(labels.write(relative, body, "text/csv"))
    report.labelled_rows = len(found)
    return report


def ground_truth_record(merge_key: str, labels: Iterable[int]) -> str:
    """One ground-truth line (FORMATS.md §4.1): a label per row of the request, as CSV lines."""
    record = {
        "groundTruthData": {"data": "\n".join(str(int(label)) for label in labels), "encoding": "CSV"},
        "eventMetadata": {"eventId": merge_key},
        "eventVersion": "0",
    }
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def label_row(label: int, document: dict, contract: DataContract) -> str:
    """`label,f1,…,fn`: a missing feature is an empty cell (preprocess reads it as NaN, as XGBoost does)."""
    values = document["features"]
    return ",".join(
        [str(int(label)), *("" if values.get(f) is None else repr(float(values[f])) for f in contract.features)]
    )


def _reviewed(
    reviews: Location, key: str, flow: str, loop: str, created: datetime, contract: DataContract, report
) -> Reviewed | None:
    try:
        output = json.loads(reviews.read(key))
    except (LocationError, ValueError, RecursionError) as e:
        report.not_review_input[loop] = f"output.json is not readable JSON ({e})"
        return None
    if not isinstance(output, dict):
        report.not_review_input[loop] = "output.json is not a JSON object"
        return None
    # A2I's early outputs (2020) called it humanLoopInputContent (FORMATS.md §5.4)
    document = output.get("inputContent", output.get("humanLoopInputContent"))
    problems = review_input_problems(document)
    if not problems and set(document["features"]) != set(contract.features):
        problems = ["its features are not the data contract's"]
    if not problems and _time(document["inferenceTime"]) is None:
        problems = ["its inferenceTime is not an ISO-8601 time"]
    if problems:
        report.not_review_input[loop] = "not this project's review input: " + "; ".join(problems)
        return None
    spec = read_label_spec(document)
    answers = output.get("humanAnswers") if isinstance(output.get("humanAnswers"), list) else []
    decided = consensus(parse_label(a.get("answerContent") if isinstance(a, dict) else None, spec) for a in answers)
    if decided.status != AGREED:
        report.without_consensus[loop] = decided.status
        return None
    return Reviewed(loop, flow, created, decided.label, document)


def _ground_truth_files(found: list[Reviewed], report: CollectReport) -> dict[str, bytes]:
    """One record per request whose rows all have a label, in the file of its first loop's flow and hour."""
    requests: dict[tuple[str, str], list[Reviewed]] = defaultdict(list)
    for reviewed in found:
        requests[(reviewed.merge_key, reviewed.document["eventId"])].append(reviewed)
    files: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (merge_key, event_id), rows in requests.items():
        rows.sort(key=lambda r: (r.created, r.loop))
        by_row: dict[int, Reviewed] = {}
        for r in rows:
            by_row.setdefault(r.document["rowIndex"], r)  # a row reviewed twice (a loop deleted, restarted): first
        expected = _row_count(rows[0].document)
        if expected is None or sorted(by_row) != list(range(expected)):
            report.incomplete_requests[event_id] = (
                f"labels for rows {sorted(by_row)} of {expected if expected is not None else 'an unknown number'}"
            )
            continue
        first = rows[0]
        inferred = _time(first.document["inferenceTime"])
        relative = f"{inferred:%Y/%m/%d/%H}/{first.flow}-{first.created:%Y%m%d%H}.jsonl"
        files[relative].append((merge_key, ground_truth_record(merge_key, (by_row[i].label for i in range(expected)))))
    report.ground_truth_records = sum(len(records) for records in files.values())
    return {rel: "".join(line + "\n" for _, line in sorted(records)).encode() for rel, records in sorted(files.items())}


def _label_files(found: list[Reviewed], contract: DataContract) -> dict[str, bytes]:
    files: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in found:
        files[f"{r.flow}/{r.created:%Y/%m/%d/%H}/{LABELS_FILE}"].append(
            (r.loop, label_row(r.label, r.document, contract))
        )
    return {rel: "".join(row + "\n" for _, row in sorted(rows)).encode() for rel, rows in sorted(files.items())}


def _time(text: str) -> datetime | None:
    try:
        moment = parse_time(text)
    except MonitorInputError:
        return None
    return moment.astimezone(timezone.utc) if moment else None


def _row_count(document: dict) -> int | None:
    """The request's rows: `rowCount`, or 1 for an input without it that is row 0 (inputs before rowCount)."""
    count = document.get("rowCount")
    if count is not None:
        return count
    return 1 if document.get("rowIndex") == 0 else None


def _whole_hours(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    if start is not None:
        start = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    if end is not None:
        floor = end.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        end = floor if floor == end else floor + timedelta(hours=1)
    return start, end
