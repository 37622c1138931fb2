"""The model registry's state and rules, stored durably in the state DB (no HTTP here).

Model package groups hold versioned model packages (1, 2, 3, … never reused, even after a delete);
unversioned packages stand alone. ARNs are lower-cased as SageMaker's are
(`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>`), while names keep the case
they were created with. Each record is kept as the JSON SageMaker's Describe returns, so everything a
request carries (InferenceSpecification, ModelMetrics, DriftCheckBaselines, …) comes back unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass

from offline.aws.constants import LOCAL_USER_ARN, LOCAL_USER_ID
from offline.aws.sagemaker.errors import ConflictException, ResourceLimitExceeded, ResourceNotFound
from offline.aws.sagemaker.errors import ValidationException as Invalid
from offline.aws.shapes import epoch_seconds, to_plain_json
from offline.state import StateDB, register_schema

COMPONENT = "model_registry"
MAX_TAGS = 50

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE registry_groups (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            creation_time REAL NOT NULL,
            next_version INTEGER NOT NULL DEFAULT 1,
            document TEXT NOT NULL
        );
        CREATE UNIQUE INDEX registry_groups_name ON registry_groups (region, name COLLATE NOCASE);
        CREATE TABLE registry_packages (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            group_arn TEXT REFERENCES registry_groups (arn),
            version INTEGER,
            approval_status TEXT,
            creation_time REAL NOT NULL,
            client_token TEXT,
            request_digest TEXT,
            document TEXT NOT NULL
        );
        CREATE INDEX registry_packages_group ON registry_packages (group_arn, version);
        CREATE INDEX registry_packages_region ON registry_packages (region, creation_time);
        CREATE TABLE registry_tags (
            resource_arn TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (resource_arn, key)
        );
        """
    ],
)

# Request members that are not part of the stored Describe record.
_NOT_STORED = {"ModelPackageName", "ModelPackageGroupName", "Tags", "ClientToken"}
_REPLACED_ON_UPDATE = (
    "ModelApprovalStatus",
    "ApprovalDescription",
    "InferenceSpecification",
    "SourceUri",
    "ModelCard",
    "ModelLifeCycle",
    "ModelPackageRegistrationType",
)
_CREATED_BY = {"IamIdentity": {"Arn": LOCAL_USER_ARN, "PrincipalId": LOCAL_USER_ID}}


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_token: str | None


class ModelRegistry:
    def __init__(self, db: StateDB, account_id: str):
        self.db = db
        self.account_id = account_id
        # called with (region, package document) when a package becomes Approved (the deploy trigger)
        self.on_approved: list = []
        db.ensure(COMPONENT)

    # -- ARNs ------------------------------------------------------------------------------------------

    def group_arn(self, region: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self.account_id}:model-package-group/{name.lower()}"

    def package_arn(self, region: str, name: str, version: int | None = None) -> str:
        suffix = f"{name}/{version}" if version is not None else name
        return f"arn:aws:sagemaker:{region}:{self.account_id}:model-package/{suffix.lower()}"

    def resolve_package_arn(self, region: str, identifier: str) -> str:
        """An ARN, `group/version`, or an unversioned package name -> the package's ARN."""
        if identifier.startswith("arn:"):
            return identifier.lower()
        name, _, version = identifier.partition("/")
        return self.package_arn(region, name, int(version) if version.isdigit() else None)

    # -- groups ----------------------------------------------------------------------------------------

    def create_group(self, region: str, params: dict) -> str:
        name = params["ModelPackageGroupName"]
        arn = self.group_arn(region, name)
        now = time.time()
        document = {
            **to_plain_json({k: v for k, v in params.items() if k != "Tags"}),
            "ModelPackageGroupArn": arn,
            "CreationTime": now,
            "CreatedBy": _CREATED_BY,
            "ModelPackageGroupStatus": "Completed",
        }
        with self.db.transaction() as conn:
            exists = conn.execute(
                "SELECT 1 FROM registry_groups WHERE region = ? AND name = ? COLLATE NOCASE", (region, name)
            ).fetchone()
            if exists:
                raise Invalid(f"Model Package Group already exists: {arn}")
            conn.execute(
                "INSERT INTO registry_groups (arn, region, name, creation_time, document) VALUES (?, ?, ?, ?, ?)",
                (arn, region, name, now, json.dumps(document)),
            )
            self._put_tags(conn, arn, params.get("Tags") or [])
        return arn

    def describe_group(self, region: str, name_or_arn: str) -> dict:
        return json.loads(self._group_row(region, name_or_arn)["document"])

    def list_groups(self, region: str, params: dict) -> Page:
        rows = self.db.query("SELECT document FROM registry_groups WHERE region = ?", (region,))
        groups = [json.loads(r["document"]) for r in rows]
        groups = [g for g in groups if _created_in(g, params) and _name_contains(g["ModelPackageGroupName"], params)]
        by_name = params.get("SortBy") == "Name"
        groups.sort(key=lambda g: (g["ModelPackageGroupName"] if by_name else g["CreationTime"], g["CreationTime"]))
        return page_of(groups, params, default_size=10)

    def delete_group(self, region: str, name_or_arn: str) -> None:
        row = self._group_row(region, name_or_arn)
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM registry_packages WHERE group_arn = ? LIMIT 1", (row["arn"],)).fetchone():
                raise ConflictException(
                    f"Model Package Group {row['arn']} cannot be deleted because it contains model packages"
                )
            conn.execute("DELETE FROM registry_tags WHERE resource_arn = ?", (row["arn"],))
            conn.execute("DELETE FROM registry_groups WHERE arn = ?", (row["arn"],))

    def _group_row(self, region: str, name_or_arn: str):
        if name_or_arn.startswith("arn:"):
            row = self.db.query_one("SELECT * FROM registry_groups WHERE arn = ?", (name_or_arn.lower(),))
            arn = name_or_arn
        else:
            row = self.db.query_one(
                "SELECT * FROM registry_groups WHERE region = ? AND name = ? COLLATE NOCASE", (region, name_or_arn)
            )
            arn = self.group_arn(region, name_or_arn)
        if row is None:
            raise Invalid(f"ModelPackageGroup {arn} does not exist.")
        return row

    # -- packages --------------------------------------------------------------------------------------

    def create_package(self, region: str, params: dict) -> str:
        group, name = params.get("ModelPackageGroupName"), params.get("ModelPackageName")
        if group and name:
            raise Invalid(
                "Both ModelPackageName and ModelPackageGroupName are provided in the input. "
                "Cannot determine which one to use."
            )
        if not group and not name:
            raise Invalid(
                "Missing ARN: give ModelPackageGroupName (a versioned package) or ModelPackageName (unversioned)."
            )
        stored = to_plain_json({k: v for k, v in params.items() if k not in _NOT_STORED})
        digest = hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()
        with self.db.transaction() as conn:
            if group:
                row = self._group_for_create(conn, region, group)
                name, version, group_arn = row["name"], row["next_version"], row["arn"]
            else:
                version, group_arn = None, None
            arn = self.package_arn(region, name, version)
            token = params.get("ClientToken")
            if token:
                earlier = self._by_client_token(conn, region, group_arn, name, token)
                if earlier is not None:
                    if earlier["request_digest"] != digest:
                        raise ConflictException(f"ClientToken {token} was already used with different parameters")
                    return earlier["arn"]
            if conn.execute("SELECT 1 FROM registry_packages WHERE arn = ?", (arn,)).fetchone():
                raise Invalid(f"ModelPackage {arn} already exists.")
            now = time.time()
            document = {
                "ModelPackageName": name,
                **({"ModelPackageGroupName": name, "ModelPackageVersion": version} if group_arn else {}),
                "ModelPackageArn": arn,
                "CreationTime": now,
                "ModelPackageStatus": "Completed",
                "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
                "CertifyForMarketplace": False,
                "CreatedBy": _CREATED_BY,
                **stored,
            }
            if group_arn and "ModelApprovalStatus" not in document:
                document["ModelApprovalStatus"] = "PendingManualApproval"
            conn.execute(
                "INSERT INTO registry_packages (arn, region, name, group_arn, version, approval_status,"
                " creation_time, client_token, request_digest, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    arn,
                    region,
                    name,
                    group_arn,
                    version,
                    document.get("ModelApprovalStatus"),
                    now,
                    token,
                    digest,
                    json.dumps(document),
                ),
            )
            if group_arn:
                conn.execute("UPDATE registry_groups SET next_version = ? WHERE arn = ?", (version + 1, group_arn))
            self._put_tags(conn, arn, params.get("Tags") or [])
        return arn

    def _group_for_create(self, conn, region: str, group: str):
        if group.startswith("arn:"):
            row = conn.execute("SELECT * FROM registry_groups WHERE arn = ?", (group.lower(),)).fetchone()
        else:
            row = conn.execute(
                "SELECT * FROM registry_groups WHERE region = ? AND name = ? COLLATE NOCASE", (region, group)
            ).fetchone()
        if row is None:
            raise Invalid(f"Model Package Group does not exist: {group}")
        return row

    def _by_client_token(self, conn, region: str, group_arn: str | None, name: str, token: str):
        if group_arn:
            sql, args = "group_arn = ?", (group_arn,)
        else:
            sql, args = "group_arn IS NULL AND name = ?", (name,)
        return conn.execute(
            f"SELECT arn, request_digest FROM registry_packages WHERE region = ? AND client_token = ? AND {sql}",
            (region, token, *args),
        ).fetchone()

    def describe_package(self, region: str, identifier: str) -> dict:
        return json.loads(self._package_row(region, identifier)["document"])

    def list_packages(self, region: str, params: dict) -> Page:
        group = params.get("ModelPackageGroupName")
        kind = params.get("ModelPackageType") or ("Versioned" if group else "Unversioned")
        sql, args = "SELECT document FROM registry_packages WHERE region = ?", [region]
        if group:
            if not self._group_exists(region, group):
                return Page([], None)
            sql += " AND group_arn = ?"
            args.append(self._group_row(region, group)["arn"])
        if kind == "Versioned":
            sql += " AND group_arn IS NOT NULL"
        elif kind == "Unversioned":
            sql += " AND group_arn IS NULL"
        if params.get("ModelApprovalStatus"):
            sql += " AND approval_status = ?"
            args.append(params["ModelApprovalStatus"])
        packages = [json.loads(r["document"]) for r in self.db.query(sql, args)]
        packages = [p for p in packages if _created_in(p, params) and _name_contains(p["ModelPackageName"], params)]
        by_name = params.get("SortBy") == "Name"
        packages.sort(
            key=lambda p: (
                p["ModelPackageName"].lower() if by_name else p["CreationTime"],
                p["CreationTime"],
                p.get("ModelPackageVersion") or 0,
            )
        )
        return page_of([_summary(p) for p in packages], params, default_size=10)

    def update_package(self, region: str, params: dict) -> str:
        row = self._package_row(region, params["ModelPackageArn"])
        document = json.loads(row["document"])
        changes = to_plain_json({k: v for k, v in params.items() if k not in ("ModelPackageArn", "ClientToken")})
        for name in _REPLACED_ON_UPDATE:
            if name in changes:
                document[name] = changes[name]
        if "CustomerMetadataProperties" in changes:
            document["CustomerMetadataProperties"] = {
                **document.get("CustomerMetadataProperties", {}),
                **changes["CustomerMetadataProperties"],
            }
        for key in changes.get("CustomerMetadataPropertiesToRemove", []):
            document.get("CustomerMetadataProperties", {}).pop(key, None)
        if changes.get("AdditionalInferenceSpecificationsToAdd"):
            document["AdditionalInferenceSpecifications"] = [
                *document.get("AdditionalInferenceSpecifications", []),
                *changes["AdditionalInferenceSpecificationsToAdd"],
            ]
        document["LastModifiedTime"] = time.time()
        document["LastModifiedBy"] = _CREATED_BY
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE registry_packages SET document = ?, approval_status = ? WHERE arn = ?",
                (json.dumps(document), document.get("ModelApprovalStatus"), row["arn"]),
            )
        if row["approval_status"] != "Approved" and document.get("ModelApprovalStatus") == "Approved":
            for listener in self.on_approved:  # EventBridge's "Model Package State Change", locally
                listener(region, document)
        return row["arn"]

    def delete_package(self, region: str, identifier: str) -> None:
        row = self._package_row(region, identifier)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM registry_tags WHERE resource_arn = ?", (row["arn"],))
            conn.execute("DELETE FROM registry_packages WHERE arn = ?", (row["arn"],))

    def _package_row(self, region: str, identifier: str):
        arn = self.resolve_package_arn(region, identifier)
        row = self.db.query_one("SELECT * FROM registry_packages WHERE arn = ?", (arn,))
        if row is None:
            raise Invalid(f"ModelPackage {arn} does not exist.")
        return row

    def _group_exists(self, region: str, group: str) -> bool:
        try:
            self._group_row(region, group)
        except Invalid:
            return False
        return True

    # -- tags ------------------------------------------------------------------------------------------

    def add_tags(self, arn: str, tags: list[dict]) -> list[dict]:
        with self.db.transaction() as conn:
            self._require_resource(conn, arn)
            self._put_tags(conn, arn.lower(), tags)
        return tags

    def list_tags(self, arn: str, params: dict) -> Page:
        self._require_resource(self.db.conn, arn)
        rows = self.db.query("SELECT key, value FROM registry_tags WHERE resource_arn = ? ORDER BY seq", (arn.lower(),))
        return page_of([{"Key": r["key"], "Value": r["value"]} for r in rows], params, default_size=50)

    def delete_tags(self, arn: str, keys: list[str]) -> None:
        with self.db.transaction() as conn:
            self._require_resource(conn, arn)
            conn.executemany(
                "DELETE FROM registry_tags WHERE resource_arn = ? AND key = ?", [(arn.lower(), k) for k in keys]
            )

    def _require_resource(self, conn, arn: str) -> None:
        arn = arn.lower()
        found = (
            conn.execute("SELECT 1 FROM registry_groups WHERE arn = ?", (arn,)).fetchone()
            or conn.execute("SELECT 1 FROM registry_packages WHERE arn = ?", (arn,)).fetchone()
        )
        if not found:
            raise ResourceNotFound(f"Resource {arn} does not exist.")

    def _put_tags(self, conn, arn: str, tags: list[dict]) -> None:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM registry_tags WHERE resource_arn = ?", (arn,)).fetchone()[
            0
        ]
        for tag in tags:
            seq += 1
            conn.execute(
                "INSERT INTO registry_tags (resource_arn, key, value, seq) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value",
                (arn, tag["Key"], tag["Value"], seq),
            )
        count = conn.execute("SELECT COUNT(*) FROM registry_tags WHERE resource_arn = ?", (arn,)).fetchone()[0]
        if count > MAX_TAGS:
            raise ResourceLimitExceeded(f"A resource can have at most {MAX_TAGS} tags; {arn} would have {count}.")


def _summary(package: dict) -> dict:
    summary = {
        k: package[k]
        for k in (
            "ModelPackageGroupName",
            "ModelPackageVersion",
            "ModelPackageArn",
            "ModelPackageDescription",
            "CreationTime",
            "ModelPackageStatus",
            "ModelApprovalStatus",
            "ModelLifeCycle",
            "ModelPackageRegistrationType",
        )
        if k in package
    }
    if "ModelPackageVersion" not in package:  # SageMaker names only unversioned packages in summaries
        summary["ModelPackageName"] = package["ModelPackageName"]
    return summary


def _created_in(record: dict, params: dict) -> bool:
    created = record["CreationTime"]
    after, before = params.get("CreationTimeAfter"), params.get("CreationTimeBefore")
    return (after is None or created > epoch_seconds(after)) and (before is None or created < epoch_seconds(before))


def _name_contains(name: str, params: dict) -> bool:
    needle = params.get("NameContains")
    return needle is None or needle.lower() in name.lower()


def page_of(items: list[dict], params: dict, default_size: int) -> Page:
    """Sort order, then one page: NextToken is an opaque offset into the same query."""
    if params.get("SortOrder") == "Descending":
        items.reverse()
    start = _decode_token(params["NextToken"]) if params.get("NextToken") else 0
    size = params.get("MaxResults") or default_size
    page = items[start : start + size]
    more = start + size < len(items)
    return Page(page, _encode_token(start + size) if more else None)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_token(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise Invalid(f"Invalid pagination token: {token}") from None
    if not isinstance(offset, int) or offset < 0:
        raise Invalid(f"Invalid pagination token: {token}")
    return offset
