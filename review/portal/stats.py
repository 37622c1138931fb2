"""Review statistics of a home: how loops ended (consensus, escalations) and how far reviewers agree.

Labels are read with `processing.review.answers.parse_label` (the input's class names included), the same
reader the collector uses, so an answer that decides no label (another template's, or none chosen) counts
as an answer but gives no label to agree on.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from offline.state import StateDB
from processing.review.answers import parse_label
from processing.review.consensus import consensus
from processing.review.task_input import read_label_spec
from review.portal.agreement import Agreement, agreement


@dataclass(frozen=True)
class ReviewStats:
    answered_loops: int  # loops with at least one answer
    answers: int
    completed: int
    escalated: int  # loops whose answers tied and asked for one more reviewer
    consensus: dict[str, int]  # of completed loops: agreed / disputed / unlabelled -> count
    agreement: Agreement


def review_stats(db: StateDB, region: str, flow_arn: str | None = None) -> ReviewStats:
    sql = (
        "SELECT l.arn, l.status, l.escalations, json_extract(l.input_content, '$.label') AS label_spec,"
        " a.worker_name, a.answer_content FROM a2i_human_loops l JOIN a2i_human_answers a ON a.loop_arn = l.arn"
        " WHERE l.region = ?"
    )
    args: list = [region]
    if flow_arn is not None:
        sql += " AND l.flow_definition_arn = ?"
        args.append(flow_arn)
    labels: dict[str, dict[str, int | None]] = {}
    status: dict[str, tuple[str, int]] = {}
    specs: dict[str | None, object] = {}
    answers = 0
    for row in db.query(sql + " ORDER BY l.arn, a.seq", args):
        answers += 1
        spec = specs.get(row["label_spec"], _MISSING)
        if spec is _MISSING:
            spec = specs[row["label_spec"]] = _spec(row["label_spec"])
        labels.setdefault(row["arn"], {})[row["worker_name"]] = parse_label(json.loads(row["answer_content"]), spec)
        status[row["arn"]] = (row["status"], row["escalations"])
    outcomes = Counter(
        consensus(given.values()).status for arn, given in labels.items() if status[arn][0] == "Completed"
    )
    return ReviewStats(
        answered_loops=len(labels),
        answers=answers,
        completed=sum(1 for s, _ in status.values() if s == "Completed"),
        escalated=sum(1 for _, e in status.values() if e),
        consensus=dict(sorted(outcomes.items())),
        agreement=agreement(labels),
    )


_MISSING = object()


def _spec(label_json: str | None):
    if label_json is None:
        return None
    try:
        return read_label_spec({"label": json.loads(label_json)})
    except ValueError:
        return None
