"""Deploy targets: the local counterpart of the EventBridge rule that starts the deploy workflow.

One per model package group and region: the state machine an approval starts, and the rule's event pattern
and input transformer (`pipelines.deploy.workflow.trigger`), stored as the rule's target stores them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from offline.state import StateDB, register_schema

COMPONENT = "deploy_targets"

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE deploy_targets (
            region TEXT NOT NULL,
            group_name TEXT NOT NULL,
            state_machine_arn TEXT NOT NULL,
            event_pattern TEXT NOT NULL,
            input_paths TEXT NOT NULL,
            input_template TEXT NOT NULL,
            settings TEXT NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            PRIMARY KEY (region, group_name)
        );
        """
    ],
)


@dataclass(frozen=True)
class DeployTarget:
    region: str
    group: str
    state_machine_arn: str
    event_pattern: dict
    input_paths: dict
    input_template: str
    settings: dict  # what the state machine was built from (shown by `mlops deploy executions`)


class TargetStore:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure(COMPONENT)

    def put(self, target: DeployTarget) -> None:
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO deploy_targets (region, group_name, state_machine_arn, event_pattern, input_paths,"
                " input_template, settings, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (region, group_name) DO UPDATE SET state_machine_arn = excluded.state_machine_arn,"
                " event_pattern = excluded.event_pattern, input_paths = excluded.input_paths,"
                " input_template = excluded.input_template, settings = excluded.settings, updated = excluded.updated",
                (
                    target.region,
                    target.group,
                    target.state_machine_arn,
                    json.dumps(target.event_pattern),
                    json.dumps(target.input_paths),
                    target.input_template,
                    json.dumps(target.settings),
                    now,
                    now,
                ),
            )

    def get(self, region: str, group: str) -> DeployTarget | None:
        row = self.db.query_one(
            "SELECT * FROM deploy_targets WHERE region = ? AND group_name = ? COLLATE NOCASE", (region, group)
        )
        return _target(row) if row else None

    def list(self) -> list[DeployTarget]:
        return [_target(row) for row in self.db.query("SELECT * FROM deploy_targets ORDER BY region, group_name")]

    def delete(self, region: str, group: str) -> bool:
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM deploy_targets WHERE region = ? AND group_name = ? COLLATE NOCASE", (region, group)
            )
        return cursor.rowcount > 0


def _target(row) -> DeployTarget:
    return DeployTarget(
        region=row["region"],
        group=row["group_name"],
        state_machine_arn=row["state_machine_arn"],
        event_pattern=json.loads(row["event_pattern"]),
        input_paths=json.loads(row["input_paths"]),
        input_template=row["input_template"],
        settings=json.loads(row["settings"]),
    )
