"""EventBridge Scheduler's schedules, kept in the state DB. Nothing fires them on a timer offline.

What a recorded schedule does is run by the commands that emulate its target:
- a schedule starting this project's analyzer (the `processing` monitor engine: a CreateProcessingJob target
  whose job environment names an analysis type, an endpoint and a monitoring schedule) is also written as a
  local monitoring schedule, so `mlops monitor schedule --endpoint E` runs its hours, as for the managed engine;
- the human-review post-processing schedule (`<endpoint>-human-review`) is run by `mlops review start-loops`.

Only the `default` schedule group exists (this project creates no other). Schedule expressions are checked
for their form (`at(...)`, `rate(...)`, `cron(...)` with six fields), not evaluated.
"""

from __future__ import annotations

import json
import re
import time

from offline.aws.sagemaker.backend import page_of
from offline.aws.scheduler.errors import ConflictException, ResourceNotFoundException, ValidationException
from offline.aws.shapes import to_plain_json
from offline.monitoring.schedules import DATA_QUALITY, MODEL_QUALITY, Schedule, ScheduleStore
from offline.state import StateDB, register_schema

COMPONENT = "scheduler"
DEFAULT_GROUP = "default"
PROCESSING_JOB_TARGET = "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
ANALYSES = {"DATA_QUALITY": DATA_QUALITY, "MODEL_QUALITY": MODEL_QUALITY}
_EXPRESSION = re.compile(r"at\([0-9T:-]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\((\S+ ){5}\S+\)")
_STORED = (
    "ScheduleExpression",
    "StartDate",
    "EndDate",
    "Description",
    "ScheduleExpressionTimezone",
    "State",
    "KmsKeyArn",
    "Target",
    "FlexibleTimeWindow",
    "ActionAfterCompletion",
)

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE scheduler_schedules (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            group_name TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_date REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX scheduler_schedules_group ON scheduler_schedules (region, group_name, name);
        """
    ],
)


class Schedules:
    def __init__(self, db: StateDB, account_id: str):
        self.db = db
        self.account_id = account_id
        self.monitoring = ScheduleStore(db)
        db.ensure(COMPONENT)

    def arn(self, region: str, group: str, name: str) -> str:
        return f"arn:aws:scheduler:{region}:{self.account_id}:schedule/{group}/{name}"

    def create(self, region: str, params: dict) -> str:
        group = _group(params.get("GroupName"))
        arn = self.arn(region, group, params["Name"])
        document = self._document(arn, group, params, created=time.time())
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM scheduler_schedules WHERE arn = ?", (arn,)).fetchone():
                raise ConflictException(f"Schedule {params['Name']} already exists.")
            conn.execute(
                "INSERT INTO scheduler_schedules (arn, region, group_name, name, creation_date, document)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (arn, region, group, params["Name"], document["CreationDate"], json.dumps(document)),
            )
        self._mirror(document)
        return arn

    def update(self, region: str, params: dict) -> str:
        current = self.get(region, params["Name"], params.get("GroupName"))
        document = self._document(current["Arn"], current["GroupName"], params, created=current["CreationDate"])
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE scheduler_schedules SET document = ? WHERE arn = ?", (json.dumps(document), current["Arn"])
            )
        self._mirror(document, previous=current)
        return current["Arn"]

    def get(self, region: str, name: str, group: str | None) -> dict:
        group = _group(group)
        row = self.db.query_one(
            "SELECT document FROM scheduler_schedules WHERE arn = ?", (self.arn(region, group, name),)
        )
        if row is None:
            raise ResourceNotFoundException(f"Schedule {name} does not exist.")
        return json.loads(row["document"])

    def delete(self, region: str, name: str, group: str | None) -> None:
        current = self.get(region, name, group)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM scheduler_schedules WHERE arn = ?", (current["Arn"],))
        mirrored = monitoring_schedule_of(current)
        if mirrored is not None:
            self.monitoring.delete(mirrored.name)

    def list(self, region: str, params: dict) -> dict:
        sql, args = "SELECT document FROM scheduler_schedules WHERE region = ?", [region]
        if params.get("GroupName"):
            sql += " AND group_name = ?"
            args.append(_group(params["GroupName"]))
        documents = [json.loads(r["document"]) for r in self.db.query(sql + " ORDER BY group_name, name", args)]
        items = [
            {
                "Arn": d["Arn"],
                "Name": d["Name"],
                "GroupName": d["GroupName"],
                "State": d["State"],
                "CreationDate": d["CreationDate"],
                "LastModificationDate": d["LastModificationDate"],
                "Target": {"Arn": d["Target"]["Arn"]},
            }
            for d in documents
            if d["Name"].startswith(params.get("NamePrefix") or "") and params.get("State") in (None, d["State"])
        ]
        page = page_of(items, params, default_size=100)
        return {"Schedules": page.items, "NextToken": page.next_token}

    @staticmethod
    def _document(arn: str, group: str, params: dict, created: float) -> dict:
        if not _EXPRESSION.fullmatch(params["ScheduleExpression"]):
            raise ValidationException(
                f"Invalid Schedule Expression {params['ScheduleExpression']}: use at(...), rate(...) or cron(...)"
            )
        target = params["Target"]
        if target["Arn"] == PROCESSING_JOB_TARGET:
            try:
                json.loads(target.get("Input") or "{}")
            except ValueError as e:
                raise ValidationException(f"Target.Input of a {PROCESSING_JOB_TARGET} target is not JSON: {e}") from e
        stored = to_plain_json({k: params[k] for k in _STORED if k in params})
        stored.setdefault("State", "ENABLED")
        stored.setdefault("ScheduleExpressionTimezone", "UTC")
        stored.setdefault("ActionAfterCompletion", "NONE")
        return {
            "Arn": arn,
            "Name": params["Name"],
            "GroupName": group,
            **stored,
            "CreationDate": created,
            "LastModificationDate": time.time(),
        }

    def _mirror(self, document: dict, previous: dict | None = None) -> None:
        """Keep the local monitoring schedule of an analyzer's schedule in step with it."""
        wanted = monitoring_schedule_of(document)
        before = monitoring_schedule_of(previous) if previous else None
        if before is not None and (wanted is None or wanted.name != before.name):
            self.monitoring.delete(before.name)
        if wanted is not None:
            self.monitoring.save(wanted)


def monitoring_schedule_of(schedule: dict) -> Schedule | None:
    """The local monitoring schedule an analyzer's Scheduler schedule stands for, or None for any other target."""
    target = schedule.get("Target") or {}
    if target.get("Arn") != PROCESSING_JOB_TARGET or schedule.get("State") == "DISABLED":
        return None
    job = json.loads(target.get("Input") or "{}")
    environment = job.get("Environment") or {}
    kind = ANALYSES.get(environment.get("analysis_type"))
    endpoint = environment.get("sagemaker_endpoint_name")
    name = environment.get("sagemaker_monitoring_schedule_name")
    if kind is None or not endpoint or not name:
        return None
    inputs = {i.get("InputName"): i.get("S3Input", {}).get("S3Uri") for i in job.get("ProcessingInputs", [])}
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or [{}]
    report = (outputs[0].get("S3Output") or {}).get("S3Uri", "").rstrip("/")
    capture = environment.get("dataset_source", "").rstrip("/")
    return Schedule(
        name=name,
        endpoint=endpoint,
        kind=kind,
        baseline_constraints=inputs.get("baseline_constraints") or "",
        baseline_statistics=inputs.get("baseline_statistics"),
        capture_uri=capture.removesuffix(f"/{endpoint}"),  # the job reads <destination>/<endpoint>
        output_uri=report.removesuffix(f"/{endpoint}/{name}"),  # it uploads to <reports>/<endpoint>/<schedule>
        ground_truth_uri=environment.get("ground_truth_source"),
        probability_attribute=str(environment.get("probability_attribute", "0")),
        probability_threshold=float(environment.get("probability_threshold_attribute", 0.5)),
    )


def _group(name: str | None) -> str:
    group = name or DEFAULT_GROUP
    if group != DEFAULT_GROUP:
        raise ResourceNotFoundException(f"Schedule group {group} does not exist.")
    return group
