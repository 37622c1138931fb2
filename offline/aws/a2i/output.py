"""A2I's output.json: where a completed human loop's result goes and what it holds.

Key (DG:a2i-output-data, and the real URIs in reference/a2i): `<S3OutputPath>/<flow-definition name>/
YYYY/MM/DD/hh/mm/ss/<human-loop name>/output.json`, stamped with the loop's creation time in UTC.
Document (custom task types, as the real outputs): `flowDefinitionArn`, `humanAnswers` (one per worker,
in submission order: `acceptanceTime`, `answerContent`, `submissionTime`, `timeSpentInSeconds`, `workerId`,
`workerMetadata.identityData {identityProviderType, issuer, sub}`), `humanLoopName`, and `inputContent`
(the loop's InputContent, parsed). Keys are alphabetical at every level and timestamps are ISO 8601 with
milliseconds and `Z`, as in AWS's files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    """One worker's answer as stored."""

    worker_id: str
    worker_name: str
    acceptance_ms: int
    submission_ms: int
    answer_content: dict
    identity: dict  # workerMetadata.identityData


def output_uri(s3_output_path: str, flow_name: str, loop_name: str, creation_ms: int) -> str:
    stamp = dt.datetime.fromtimestamp(creation_ms / 1000, dt.timezone.utc).strftime("%Y/%m/%d/%H/%M/%S")
    return f"{s3_output_path.rstrip('/')}/{flow_name}/{stamp}/{loop_name}/output.json"


def output_document(flow_arn: str, loop_name: str, input_content: Any, answers: list[Answer]) -> dict:
    return {
        "flowDefinitionArn": flow_arn,
        "humanAnswers": [
            {
                "acceptanceTime": iso_ms(a.acceptance_ms),
                "answerContent": a.answer_content,
                "submissionTime": iso_ms(a.submission_ms),
                "timeSpentInSeconds": round((a.submission_ms - a.acceptance_ms) / 1000, 3),
                "workerId": a.worker_id,
                "workerMetadata": {"identityData": a.identity},
            }
            for a in answers
        ],
        "humanLoopName": loop_name,
        "inputContent": input_content,
    }


def encode(document: dict) -> bytes:
    """output.json's bytes: keys sorted at every level, UTF-8 (the whitespace of AWS's files is unknown)."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def iso_ms(ms: int) -> str:
    """2021-02-17T19:20:52.563Z"""
    moment = dt.datetime.fromtimestamp(ms // 1000, dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def worker_id(issuer: str, subject: str) -> str:
    """A worker's 16-hex-digit id, stable for one identity (A2I's ids have this shape)."""
    return hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]
