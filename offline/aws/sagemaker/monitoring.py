"""Model Monitor's API offline: data-quality and model-quality job definitions and monitoring schedules, kept in
the state DB and mapped onto the local schedules `mlops monitor schedule` runs (`offline.monitoring.schedules`).

The managed engine's requests (the deploy workflow's, `mlops deploy --aws --direct --monitor-engine managed`'s)
work here unchanged. A schedule's executions are this project's analyzer, run hour by hour by
`mlops monitor schedule --endpoint E` (the local QualityCheck steps emulate Model Monitor's image the same
way); nothing runs on a timer. CreateMonitoringSchedule / UpdateMonitoringSchedule resolve what the analyzer
needs, as Model Monitor does when a schedule runs: the endpoint's capture destination (its endpoint
configuration's DataCaptureConfig), the job definition's baselines, output and (model quality) ground truth,
probability attribute and threshold. Only DataQuality and ModelQuality schedules of a job definition are run
locally; an inline MonitoringJobDefinition and other monitoring types are refused with a reason.
"""

from __future__ import annotations

import json
import time

from offline.aws.sagemaker.backend import Page, page_of
from offline.aws.sagemaker.errors import ResourceInUse, ResourceNotFound
from offline.aws.sagemaker.errors import ValidationException as Invalid
from offline.aws.shapes import epoch_seconds, to_plain_json
from offline.monitoring.schedules import DATA_QUALITY, MODEL_QUALITY, Schedule, ScheduleStore
from offline.state import StateDB, register_schema

COMPONENT = "sagemaker_monitoring"
KINDS = {"DataQuality": DATA_QUALITY, "ModelQuality": MODEL_QUALITY}
NOUNS = {"DataQuality": "data-quality-job-definition", "ModelQuality": "model-quality-job-definition"}
STATUSES = {"Completed": "Completed", "CompletedWithViolations": "CompletedWithViolations", "Failed": "Failed"}

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE sm_job_definitions (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_job_definitions_name ON sm_job_definitions (region, type, name);
        CREATE TABLE sm_monitoring_schedules (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            last_modified REAL NOT NULL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_monitoring_schedules_name ON sm_monitoring_schedules (region, name);
        """
    ],
)


class MonitoringResources:
    """Job definitions and monitoring schedules of one home; `hosting` resolves endpoints to their capture."""

    def __init__(self, db: StateDB, hosting, account_id: str):
        self.db = db
        self.hosting = hosting  # offline.aws.sagemaker.endpoints.Hosting
        self.account_id = account_id
        self.schedules = ScheduleStore(db)
        db.ensure(COMPONENT)

    def arn(self, region: str, noun: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self.account_id}:{noun}/{name.lower()}"

    # -- job definitions -------------------------------------------------------------------------------

    def create_job_definition(self, kind: str, region: str, params: dict) -> dict:
        name = params["JobDefinitionName"]
        arn = self.arn(region, NOUNS[kind], name)
        _check_job_definition(kind, params)
        document = {
            **to_plain_json({k: v for k, v in params.items() if k != "Tags"}),
            "JobDefinitionArn": arn,
            "CreationTime": time.time(),
        }
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sm_job_definitions WHERE arn = ?", (arn,)).fetchone():
                raise ResourceInUse(f"Job definition {arn} already exists.")
            conn.execute(
                "INSERT INTO sm_job_definitions (arn, region, type, name, creation_time, document)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (arn, region, kind, name, document["CreationTime"], json.dumps(document)),
            )
        return {"JobDefinitionArn": arn}

    def describe_job_definition(self, kind: str, region: str, params: dict) -> dict:
        return self._job_definition(kind, region, params["JobDefinitionName"])

    def delete_job_definition(self, kind: str, region: str, params: dict) -> dict:
        definition = self._job_definition(kind, region, params["JobDefinitionName"])
        for schedule in self._schedule_documents(region):
            config = schedule["MonitoringScheduleConfig"]
            if (
                config.get("MonitoringType") == kind
                and config.get("MonitoringJobDefinitionName") == (definition["JobDefinitionName"])
            ):
                raise ResourceInUse(
                    f"Job definition {definition['JobDefinitionArn']} is used by monitoring schedule "
                    f"{schedule['MonitoringScheduleName']}; delete the schedule or point it at another definition first."
                )
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sm_job_definitions WHERE arn = ?", (definition["JobDefinitionArn"],))
        return {}

    def list_job_definitions(self, kind: str, region: str, params: dict) -> dict:
        rows = self.db.query("SELECT document FROM sm_job_definitions WHERE region = ? AND type = ?", (region, kind))
        items = []
        for row in rows:
            document = json.loads(row["document"])
            endpoint = _endpoint_input(kind, document).get("EndpointName")
            if params.get("EndpointName") and endpoint != params["EndpointName"]:
                continue
            if (
                params.get("NameContains")
                and params["NameContains"].lower() not in document["JobDefinitionName"].lower()
            ):
                continue
            items.append(
                {
                    "MonitoringJobDefinitionName": document["JobDefinitionName"],
                    "MonitoringJobDefinitionArn": document["JobDefinitionArn"],
                    "CreationTime": document["CreationTime"],
                    "EndpointName": endpoint,
                }
            )
        page = _sorted_page(items, params, "MonitoringJobDefinitionName")
        return {"JobDefinitionSummaries": page.items, "NextToken": page.next_token}

    def _job_definition(self, kind: str, region: str, name: str) -> dict:
        row = self.db.query_one(
            "SELECT document FROM sm_job_definitions WHERE arn = ?", (self.arn(region, NOUNS[kind], name),)
        )
        if row is None:
            raise ResourceNotFound(f"Could not find job definition {self.arn(region, NOUNS[kind], name)}.")
        return json.loads(row["document"])

    # -- monitoring schedules --------------------------------------------------------------------------

    def create_schedule(self, region: str, params: dict) -> dict:
        name = params["MonitoringScheduleName"]
        arn = self.arn(region, "monitoring-schedule", name)
        config = params["MonitoringScheduleConfig"]
        local = self._local_schedule(region, name, config)
        now = time.time()
        document = {
            "MonitoringScheduleArn": arn,
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": config["MonitoringType"],
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringScheduleConfig": to_plain_json(config),
            "EndpointName": local.endpoint,
        }
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sm_monitoring_schedules WHERE arn = ?", (arn,)).fetchone():
                raise ResourceInUse(f"Monitoring schedule {arn} already exists.")
            conn.execute(
                "INSERT INTO sm_monitoring_schedules (arn, region, name, creation_time, last_modified, document)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (arn, region, name, now, now, json.dumps(document)),
            )
        self.schedules.save(local)
        return {"MonitoringScheduleArn": arn}

    def update_schedule(self, region: str, params: dict) -> dict:
        document = self._schedule(region, params["MonitoringScheduleName"])
        config = params["MonitoringScheduleConfig"]
        local = self._local_schedule(region, document["MonitoringScheduleName"], config)
        document.update(
            MonitoringScheduleConfig=to_plain_json(config),
            MonitoringType=config["MonitoringType"],
            LastModifiedTime=time.time(),
            EndpointName=local.endpoint,
        )
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE sm_monitoring_schedules SET document = ?, last_modified = ? WHERE arn = ?",
                (json.dumps(document), document["LastModifiedTime"], document["MonitoringScheduleArn"]),
            )
        self.schedules.save(local)
        return {"MonitoringScheduleArn": document["MonitoringScheduleArn"]}

    def describe_schedule(self, region: str, params: dict) -> dict:
        document = self._schedule(region, params["MonitoringScheduleName"])
        last = self._last_execution(document)
        if last:
            document["LastMonitoringExecutionSummary"] = last
        return document

    def delete_schedule(self, region: str, params: dict) -> dict:
        document = self._schedule(region, params["MonitoringScheduleName"])
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sm_monitoring_schedules WHERE arn = ?", (document["MonitoringScheduleArn"],))
        self.schedules.delete(document["MonitoringScheduleName"])
        return {}

    def list_schedules(self, region: str, params: dict) -> dict:
        items = []
        for document in self._schedule_documents(region):
            if params.get("EndpointName") and document.get("EndpointName") != params["EndpointName"]:
                continue
            if (
                params.get("NameContains")
                and params["NameContains"].lower() not in document["MonitoringScheduleName"].lower()
            ):
                continue
            if params.get("StatusEquals") and document["MonitoringScheduleStatus"] != params["StatusEquals"]:
                continue
            if params.get("MonitoringTypeEquals") and document["MonitoringType"] != params["MonitoringTypeEquals"]:
                continue
            if params.get("MonitoringJobDefinitionName") and (
                document["MonitoringScheduleConfig"].get("MonitoringJobDefinitionName")
                != params["MonitoringJobDefinitionName"]
            ):
                continue
            items.append(
                {
                    key: document[key]
                    for key in (
                        "MonitoringScheduleName",
                        "MonitoringScheduleArn",
                        "CreationTime",
                        "LastModifiedTime",
                        "MonitoringScheduleStatus",
                        "EndpointName",
                        "MonitoringType",
                    )
                }
                | {"MonitoringJobDefinitionName": document["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"]}
            )
        page = _sorted_page(items, params, "MonitoringScheduleName")
        return {"MonitoringScheduleSummaries": page.items, "NextToken": page.next_token}

    def _schedule(self, region: str, name: str) -> dict:
        arn = self.arn(region, "monitoring-schedule", name)
        row = self.db.query_one("SELECT document FROM sm_monitoring_schedules WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFound(f"Could not find monitoring schedule {arn}.")
        return json.loads(row["document"])

    def _schedule_documents(self, region: str) -> list[dict]:
        rows = self.db.query("SELECT document FROM sm_monitoring_schedules WHERE region = ?", (region,))
        return [json.loads(r["document"]) for r in rows]

    def _last_execution(self, document: dict) -> dict | None:
        executions = self.schedules.executions(schedule=document["MonitoringScheduleName"])
        if not executions:
            return None
        last = executions[-1]
        return {
            "MonitoringScheduleName": document["MonitoringScheduleName"],
            "ScheduledTime": epoch_seconds(last.window_end),
            "CreationTime": epoch_seconds(last.started_at),
            "LastModifiedTime": epoch_seconds(last.ended_at),
            "MonitoringExecutionStatus": STATUSES.get(last.status, "Completed"),
            "EndpointName": document.get("EndpointName"),
            "MonitoringType": document["MonitoringType"],
            **({"FailureReason": last.message[:1024]} if last.status == "Failed" else {}),
        }

    def _local_schedule(self, region: str, name: str, config: dict) -> Schedule:
        """The local schedule a Model Monitor schedule stands for: what the analyzer reads and writes."""
        kind = config.get("MonitoringType")
        if config.get("MonitoringJobDefinition") or not config.get("MonitoringJobDefinitionName"):
            raise Invalid(
                "The local runtime runs schedules of a job definition: give MonitoringJobDefinitionName and "
                "MonitoringType (an inline MonitoringJobDefinition is not supported)"
            )
        if kind not in KINDS:
            raise Invalid(
                f"MonitoringType {kind!r} is not supported by the local runtime: it runs DataQuality and ModelQuality"
            )
        definition = self._job_definition(kind, region, config["MonitoringJobDefinitionName"])
        endpoint_input = _endpoint_input(kind, definition)
        endpoint = endpoint_input["EndpointName"]
        capture, package = self._capture_of(region, endpoint)
        output = _output_uri(kind, definition)
        if kind == "DataQuality":
            baseline = definition.get("DataQualityBaselineConfig") or {}
            return Schedule(
                name=name,
                endpoint=endpoint,
                kind=DATA_QUALITY,
                baseline_constraints=_required(baseline, "ConstraintsResource", definition),
                baseline_statistics=_required(baseline, "StatisticsResource", definition),
                capture_uri=capture,
                output_uri=output,
                model_package_arn=package,
            )
        baseline = definition.get("ModelQualityBaselineConfig") or {}
        threshold = endpoint_input.get("ProbabilityThresholdAttribute")
        return Schedule(
            name=name,
            endpoint=endpoint,
            kind=MODEL_QUALITY,
            baseline_constraints=_required(baseline, "ConstraintsResource", definition),
            capture_uri=capture,
            output_uri=output,
            ground_truth_uri=definition["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"],
            probability_attribute=str(endpoint_input.get("ProbabilityAttribute", "0")),
            probability_threshold=float(threshold) if threshold is not None else 0.5,
            model_package_arn=package,
        )

    def _capture_of(self, region: str, endpoint: str) -> tuple[str, str | None]:
        """The endpoint's capture destination (what the analyzer reads) and the package it serves, if any."""
        described = self.hosting.endpoints.describe_endpoint(region, {"EndpointName": endpoint})
        capture = described.get("DataCaptureConfig") or {}
        if not capture.get("EnableCapture") or not capture.get("DestinationS3Uri"):
            raise Invalid(f"Endpoint {endpoint} does not capture data: a monitoring schedule needs data capture.")
        config = self.hosting.resources.describe_endpoint_config(
            region, {"EndpointConfigName": described["EndpointConfigName"]}
        )
        model = self.hosting.resources.describe_model(
            region, {"ModelName": config["ProductionVariants"][0]["ModelName"]}
        )
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        return capture["DestinationS3Uri"].rstrip("/"), container.get("ModelPackageName")


def _check_job_definition(kind: str, params: dict) -> None:
    prefix = kind
    job_input = params[f"{prefix}JobInput"]
    if "EndpointInput" not in job_input:
        raise Invalid(
            f"{prefix}JobInput.BatchTransformInput is not supported by the local runtime: it monitors endpoints"
        )
    outputs = params[f"{prefix}JobOutputConfig"]["MonitoringOutputs"]
    if len(outputs) != 1:
        raise Invalid(f"{prefix}JobOutputConfig needs exactly one MonitoringOutput locally (got {len(outputs)})")
    if kind == "ModelQuality" and not (job_input.get("GroundTruthS3Input") or {}).get("S3Uri"):
        raise Invalid("ModelQualityJobInput.GroundTruthS3Input.S3Uri is required: model quality needs ground truth")


def _endpoint_input(kind: str, definition: dict) -> dict:
    return definition[f"{kind}JobInput"].get("EndpointInput") or {}


def _output_uri(kind: str, definition: dict) -> str:
    return definition[f"{kind}JobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"].rstrip("/")


def _required(baseline: dict, member: str, definition: dict) -> str:
    uri = (baseline.get(member) or {}).get("S3Uri")
    if not uri:
        raise Invalid(
            f"job definition {definition['JobDefinitionName']} has no baseline {member}: the local analyzer "
            "checks against the package's baselines"
        )
    return uri


def _sorted_page(items: list[dict], params: dict, name_key: str) -> Page:
    by = params.get("SortBy") or "CreationTime"
    key = {"Name": name_key, "CreationTime": "CreationTime", "Status": "MonitoringScheduleStatus"}.get(
        by, "CreationTime"
    )
    items.sort(key=lambda item: (item.get(key) or "", item["CreationTime"]))
    return page_of(items, {**params, "SortOrder": params.get("SortOrder") or "Descending"}, default_size=10)
