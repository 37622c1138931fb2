"""SageMaker's side of human review, kept durably in the state DB: worker task templates (human task UIs),
flow definitions (human review workflows) and RenderUiTemplate. No HTTP here.

A task UI's template is stored in the DB (the truth) and copied, atomically, to
`$MLOPS_HOME/human-task-uis/<region>/<name>.liquid.html`, the `file://` URL DescribeHumanTaskUi gives as
`UiTemplate.Url` (on AWS a presigned S3 URL of the same text). Flow definitions are Active as soon as they
exist (nothing to provision locally). Human loops (the A2I runtime, `offline.aws.a2i`) read their flow
definition through `flow_for_loops`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from offline.aws.sagemaker.backend import Page, page_of
from offline.aws.sagemaker.errors import ResourceInUse, ResourceNotFound, ValidationException
from offline.aws.shapes import epoch_seconds, to_plain_json
from offline.state import StateDB, register_schema
from offline.store import ObjectStore
from processing.atomic import atomic_write
from processing.s3uri import S3UriError, parse_s3_prefix
from review.rendering import Rendered, render

COMPONENT = "human_review_resources"
FLOW_TABLE = "sm_flow_definitions"  # human loops read their flow definition's settings from it when they start
UI_DIR = "human-task-uis"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")  # the region is part of a file path here

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE sm_human_task_uis (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            content TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            url TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_human_task_uis_name ON sm_human_task_uis (region, name);
        CREATE TABLE sm_flow_definitions (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            status TEXT NOT NULL,
            human_task_ui_arn TEXT NOT NULL,
            task_count INTEGER NOT NULL,
            availability_seconds INTEGER,
            s3_output_path TEXT NOT NULL,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sm_flow_definitions_name ON sm_flow_definitions (region, name);
        """
    ],
)


@dataclass(frozen=True)
class FlowDefinition:
    """What a human loop needs of its flow definition."""

    arn: str
    name: str
    region: str
    status: str
    task_count: int
    availability_seconds: int | None  # TaskAvailabilityLifetimeInSeconds: unanswered loops expire after it
    s3_output_path: str
    human_task_ui_arn: str


class HumanReviewResources:
    def __init__(self, db: StateDB, store: ObjectStore, home: Path, account_id: str):
        self.db = db
        self.store = store
        self.home = Path(home)
        self.account_id = account_id
        db.ensure(COMPONENT)

    def arn(self, region: str, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self.account_id}:{kind}/{name}"

    # -- human task UIs --------------------------------------------------------------------------------

    def create_task_ui(self, region: str, params: dict) -> str:
        name, content = params["HumanTaskUiName"], params["UiTemplate"]["Content"]
        if not _REGION.fullmatch(region):
            raise ValidationException(f"{region!r} is not an AWS region name")
        arn = self.arn(region, "human-task-ui", name)
        path = self.home / UI_DIR / region / f"{name}.liquid.html"
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sm_human_task_uis WHERE arn = ?", (arn,)).fetchone():
                raise ResourceInUse(f"HumanTaskUi {arn} already exists.")
            atomic_write(path, content.encode("utf-8"), durable=True)
            try:
                conn.execute(
                    "INSERT INTO sm_human_task_uis (arn, region, name, creation_time, content, content_sha256, url)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (arn, region, name, time.time(), content, _sha256(content), path.as_uri()),
                )
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return arn

    def describe_task_ui(self, region: str, name: str) -> dict:
        row = self._task_ui_row(self.arn(region, "human-task-ui", name))
        return {
            "HumanTaskUiArn": row["arn"],
            "HumanTaskUiName": row["name"],
            "HumanTaskUiStatus": "Active",
            "CreationTime": row["creation_time"],
            "UiTemplate": {"Url": row["url"], "ContentSha256": row["content_sha256"]},
        }

    def list_task_uis(self, region: str, params: dict) -> Page:
        rows = self.db.query(
            "SELECT arn, name, creation_time FROM sm_human_task_uis WHERE region = ? ORDER BY creation_time, name",
            (region,),
        )
        items = [
            {"HumanTaskUiName": r["name"], "HumanTaskUiArn": r["arn"], "CreationTime": r["creation_time"]}
            for r in rows
            if _created_in(r["creation_time"], params)
        ]
        return page_of(items, _newest_first(params), default_size=10)

    def delete_task_ui(self, region: str, name: str) -> None:
        row = self._task_ui_row(self.arn(region, "human-task-ui", name))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sm_human_task_uis WHERE arn = ?", (row["arn"],))
        (self.home / UI_DIR / region / f"{row['name']}.liquid.html").unlink(missing_ok=True)

    def task_ui_content(self, arn: str) -> str:
        """The template text of a task UI (what RenderUiTemplate and the reviewer portal render)."""
        return self._task_ui_row(arn)["content"]

    def _task_ui_row(self, arn: str):
        row = self.db.query_one("SELECT * FROM sm_human_task_uis WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFound(f"HumanTaskUi {arn} does not exist.")
        return row

    # -- flow definitions ------------------------------------------------------------------------------

    def create_flow_definition(self, region: str, params: dict) -> str:
        name = params["FlowDefinitionName"]
        arn = self.arn(region, "flow-definition", name)
        config, output = params["HumanLoopConfig"], params["OutputConfig"]
        if params.get("HumanLoopRequestSource") or params.get("HumanLoopActivationConfig"):
            raise ValidationException(
                "HumanLoopRequestSource and HumanLoopActivationConfig are for AWS's built-in task types "
                "(Textract, Rekognition); the local runtime serves custom task types only"
            )
        path = output["S3OutputPath"]
        try:
            parse_s3_prefix(path)
        except S3UriError as e:
            raise ValidationException(f"OutputConfig.S3OutputPath: the local runtime writes to s3:// paths; {e}") from e
        now = time.time()
        document = {
            **to_plain_json({k: v for k, v in params.items() if k != "Tags"}),
            "FlowDefinitionArn": arn,
            "FlowDefinitionStatus": "Active",
            "CreationTime": now,
        }
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM sm_flow_definitions WHERE arn = ?", (arn,)).fetchone():
                raise ResourceInUse(f"FlowDefinition {arn} already exists.")
            ui = config["HumanTaskUiArn"]
            if not conn.execute("SELECT 1 FROM sm_human_task_uis WHERE arn = ?", (ui,)).fetchone():
                raise ValidationException(f"HumanTaskUi {ui} does not exist.")
            conn.execute(
                "INSERT INTO sm_flow_definitions (arn, region, name, creation_time, status, human_task_ui_arn,"
                " task_count, availability_seconds, s3_output_path, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    arn,
                    region,
                    name,
                    now,
                    "Active",
                    ui,
                    config["TaskCount"],
                    config.get("TaskAvailabilityLifetimeInSeconds"),
                    path,
                    json.dumps(document),
                ),
            )
        return arn

    def describe_flow_definition(self, region: str, name: str) -> dict:
        return json.loads(self._flow_row(self.arn(region, "flow-definition", name))["document"])

    def list_flow_definitions(self, region: str, params: dict) -> Page:
        rows = self.db.query(
            "SELECT document FROM sm_flow_definitions WHERE region = ? ORDER BY creation_time, name", (region,)
        )
        items = []
        for row in rows:
            doc = json.loads(row["document"])
            if _created_in(doc["CreationTime"], params):
                items.append(
                    {
                        k: doc[k]
                        for k in ("FlowDefinitionName", "FlowDefinitionArn", "FlowDefinitionStatus", "CreationTime")
                    }
                )
        return page_of(items, _newest_first(params), default_size=10)

    def delete_flow_definition(self, region: str, name: str) -> None:
        """Delete it and its human loops, as A2I does; refused while a loop of it has answers but is not done
        (on AWS the workflow stays Deleting until such tasks finish). Output already in S3 stays."""
        from offline.aws.a2i.loops import delete_loops_of_flow, loops_being_answered

        arn = self.arn(region, "flow-definition", name)
        with self.db.transaction() as conn:
            if not conn.execute("SELECT 1 FROM sm_flow_definitions WHERE arn = ?", (arn,)).fetchone():
                raise ResourceNotFound(f"FlowDefinition {arn} does not exist.")
            busy = loops_being_answered(conn, arn)
            if busy:
                raise ResourceInUse(
                    f"FlowDefinition {arn} has {len(busy)} human loop(s) in progress that workers have started "
                    f"answering (e.g. {busy[0]}); stop them first"
                )
            delete_loops_of_flow(conn, arn)
            conn.execute("DELETE FROM sm_flow_definitions WHERE arn = ?", (arn,))

    def flow_for_loops(self, conn, arn: str) -> FlowDefinition | None:
        """The flow definition with this ARN (inside the caller's transaction), or None."""
        row = conn.execute("SELECT * FROM sm_flow_definitions WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            return None
        return FlowDefinition(
            arn=row["arn"],
            name=row["name"],
            region=row["region"],
            status=row["status"],
            task_count=row["task_count"],
            availability_seconds=row["availability_seconds"],
            s3_output_path=row["s3_output_path"],
            human_task_ui_arn=row["human_task_ui_arn"],
        )

    def _flow_row(self, arn: str):
        row = self.db.query_one("SELECT * FROM sm_flow_definitions WHERE arn = ?", (arn,))
        if row is None:
            raise ResourceNotFound(f"FlowDefinition {arn} does not exist.")
        return row

    # -- previews --------------------------------------------------------------------------------------

    def render_ui_template(self, params: dict) -> dict:
        """RenderUiTemplate: a template (given, or a task UI's) rendered for one task input.

        A template that does not parse or render is answered with `Errors`, as SageMaker does; a task
        input that is not JSON is a ValidationException (no template can render it).
        """
        given, ui_arn = params.get("UiTemplate"), params.get("HumanTaskUiArn")
        if bool(given) == bool(ui_arn):
            raise ValidationException("Give exactly one of UiTemplate and HumanTaskUiArn.")
        content = given["Content"] if given else self.task_ui_content(ui_arn)
        try:
            task_input = json.loads(params["Task"]["Input"])
        except ValueError as e:
            raise ValidationException(f"Task.Input is not valid JSON: {e}") from e
        rendered: Rendered = render(content, task_input, grant_read_access=self.local_url)
        return {"RenderedContent": rendered.html, "Errors": [e.as_aws() for e in rendered.errors]}

    def local_url(self, uri: str) -> str:
        """`grant_read_access` locally: an s3:// object becomes the file:// URL of its copy in the object
        store (A2I presigns an HTTPS URL); anything else is kept."""
        if not uri.startswith("s3://"):
            return uri
        try:
            return self.store.path(uri).as_uri()
        except ValueError:
            return uri


def _sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _created_in(created: float, params: dict) -> bool:
    """CreationTimeAfter is inclusive, CreationTimeBefore exclusive (as SageMaker's list docs say)."""
    after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
    return (after is None or created >= epoch_seconds(after)) and (before is None or created < epoch_seconds(before))


def _newest_first(params: dict) -> dict:
    return {**params, "SortOrder": params.get("SortOrder") or "Descending"}
