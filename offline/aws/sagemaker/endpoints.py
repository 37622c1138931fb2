"""SageMaker endpoints served on this machine: CreateEndpoint, UpdateEndpoint, DescribeEndpoint, DeleteEndpoint,
ListEndpoints (and, through `hosting.py`, the models and endpoint configurations they deploy).

An endpoint is a row here plus host processes (`offline/endpoint/hosts.py`). CreateEndpoint resolves the
configuration to a model.tar.gz (`Deployment`), writes the endpoint `Creating` and a `starting` host row,
starts the host detached and returns at once. The host reports into its own row (serving, or failed with
the reason); this module reads those rows whenever an endpoint is described or listed and moves the
endpoint along, as SageMaker's control plane would:

- Creating → InService once its host serves, or Failed with the host's reason as FailureReason;
- Updating (a new host for the new configuration, beside the one serving) → InService on the new
  configuration once the new host took over (it drains the old one itself), or back to InService on the
  old configuration with a FailureReason when the new host fails its health check (the rollback);
- InService → OutOfService (FailureReason says why) when its host is no longer running: stopped with
  `mlops endpoint stop`, killed, or recorded in another folder this home was copied from. UpdateEndpoint
  starts a new host;
- Deleting (DeleteEndpoint asks the hosts to finish their requests and stop) → gone once no host runs.

Routing (sagemaker-runtime's InvokeEndpoint) reads only the host rows, so it switches the moment a new
host takes over, independently of when anyone describes the endpoint.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore import xform_name

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.protocols import Context
from offline.aws.sagemaker.backend import ModelRegistry, page_of
from offline.aws.sagemaker.errors import ResourceInUse
from offline.aws.sagemaker.errors import ValidationException as Invalid
from offline.aws.sagemaker.hosting import Deployment, HostingResources
from offline.aws.service import operation
from offline.aws.shapes import epoch_seconds, to_plain_json
from offline.endpoint.hosts import FAILED, SERVING, STOP_WAIT, STOPPED, HostRecord, HostRegistry, kill, launch
from offline.endpoint.settings import LaunchSpec

if TYPE_CHECKING:
    from offline.aws.runtime import LocalAWS

CREATING, UPDATING, IN_SERVICE, OUT_OF_SERVICE, DELETING, FAILED_STATUS = (
    "Creating",
    "Updating",
    "InService",
    "OutOfService",
    "Deleting",
    "Failed",
)
IN_PROGRESS = (CREATING, UPDATING, DELETING, "SystemUpdating", "RollingBack")
MAX_REASON = 1024  # FailureReason's length limit
_COLUMNS = (
    "arn, region, name, creation_time, last_modified, status, failure_reason, config_name, deployment, current_host,"
    " pending_config, pending_deployment, pending_host, pending_start, document"
)


class EndpointLifecycle:
    """The endpoints of one home and their hosts."""

    def __init__(self, runtime: LocalAWS, resources: HostingResources):
        self.db = runtime.db
        self.home = runtime.home
        self.resources = resources
        self.hosts = HostRegistry(runtime.db, runtime.home)

    # -- operations ------------------------------------------------------------------------------------

    def create_endpoint(self, region: str, params: dict) -> dict:
        name = params["EndpointName"]
        arn = self.resources.arn(region, "endpoint", name)
        if self._row(region, name) is not None:
            raise Invalid(f'Cannot create already existing endpoint "{arn}".')
        deployment = self.resources.deployment(region, params["EndpointConfigName"])
        with self.db.transaction() as conn:
            if self._row(region, name) is not None:
                raise Invalid(f'Cannot create already existing endpoint "{arn}".')
            self._refuse_foreground(region, name)
            host = self._new_host(region, name, deployment)
            now = time.time()
            document = to_plain_json({k: params[k] for k in ("Tags", "DeploymentConfig") if params.get(k)})
            conn.execute(
                f"INSERT INTO sm_endpoints ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    arn,
                    region,
                    name,
                    now,
                    now,
                    CREATING,
                    None,
                    deployment.endpoint_config,
                    None,
                    None,
                    deployment.endpoint_config,
                    deployment.to_json(),
                    host.id,
                    now,
                    json.dumps(document),
                ),
            )
        self._launch(host)
        return {"EndpointArn": arn}

    def update_endpoint(self, region: str, params: dict) -> dict:
        name = params["EndpointName"]
        row = self._reconciled(region, name)
        deployment = self.resources.deployment(region, params["EndpointConfigName"])
        if params.get("RetainAllVariantProperties") and row["deployment"]:
            deployment = _retained(deployment, Deployment.from_json(row["deployment"]), params)
        with self.db.transaction() as conn:
            row = self._row(region, name)
            if row is None:
                raise self._not_found(region, name)
            if row["status"] in IN_PROGRESS:
                raise Invalid(f'Cannot update in-progress endpoint "{row["arn"]}".')
            if row["status"] == FAILED_STATUS:
                raise Invalid(
                    f'Cannot update endpoint "{row["arn"]}": it is Failed ({row["failure_reason"]}). '
                    "Delete it and create it again."
                )
            self._refuse_foreground(region, row["name"])
            host = self._new_host(region, row["name"], deployment)
            now = time.time()
            document = json.loads(row["document"])
            if params.get("DeploymentConfig"):
                document["DeploymentConfig"] = to_plain_json(params["DeploymentConfig"])
            elif not params.get("RetainDeploymentConfig"):
                document.pop("DeploymentConfig", None)
            conn.execute(
                "UPDATE sm_endpoints SET status = ?, failure_reason = NULL, last_modified = ?, pending_config = ?,"
                " pending_deployment = ?, pending_host = ?, pending_start = ?, document = ? WHERE arn = ?",
                (
                    UPDATING,
                    now,
                    deployment.endpoint_config,
                    deployment.to_json(),
                    host.id,
                    now,
                    json.dumps(document),
                    row["arn"],
                ),
            )
        self._launch(host)
        return {"EndpointArn": row["arn"]}

    def describe_endpoint(self, region: str, params: dict) -> dict:
        return self._view(self._reconciled(region, params["EndpointName"]))

    def delete_endpoint(self, region: str, params: dict) -> dict:
        row = self._reconciled(region, params["EndpointName"])
        if row["status"] in (CREATING, UPDATING):
            raise Invalid(f'Cannot update in-progress endpoint "{row["arn"]}".')
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE sm_endpoints SET status = ?, last_modified = ? WHERE arn = ? AND status != ?",
                (DELETING, time.time(), row["arn"], DELETING),
            )
        self.hosts.request_stop(self.hosts.live(region, row["name"]), "the endpoint was deleted (DeleteEndpoint)")
        self._reconcile_deleting(self._row(region, row["name"]))
        return {}

    def list_endpoints(self, region: str, params: dict) -> dict:
        rows = []
        for name in [r["name"] for r in self.db.query("SELECT name FROM sm_endpoints WHERE region = ?", (region,))]:
            try:
                rows.append(self._reconciled(region, name))
            except Invalid:  # deleted meanwhile
                continue
        summaries = [
            {
                "EndpointName": row["name"],
                "EndpointArn": row["arn"],
                "CreationTime": row["creation_time"],
                "LastModifiedTime": row["last_modified"],
                "EndpointStatus": row["status"],
            }
            for row in rows
            if _listed(row, params)
        ]
        key = params.get("SortBy") or "CreationTime"
        field = {"Name": "EndpointName", "Status": "EndpointStatus", "CreationTime": "CreationTime"}[key]
        summaries.sort(key=lambda s: (s[field].lower() if field == "EndpointName" else s[field], s["CreationTime"]))
        page = page_of(summaries, {**params, "SortOrder": params.get("SortOrder") or "Descending"}, default_size=10)
        return {"Endpoints": page.items, "NextToken": page.next_token}

    # -- hosts -----------------------------------------------------------------------------------------

    def _new_host(self, region: str, name: str, deployment: Deployment) -> HostRecord:
        spec = LaunchSpec(
            model_data=deployment.model_data,
            environment=deployment.environment,
            model_source=deployment.model_source,
            variant=deployment.variant,
            workers=deployment.workers,
            capture=deployment.capture_settings,
        )
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        log = self.home / "logs" / "endpoints" / f"{name}-{stamp}-{secrets.token_hex(3)}.log"
        return self.hosts.create(
            region,
            name,
            managed=True,
            log=str(log),
            model=deployment.model_source,
            workers=deployment.workers,
            spec=spec.to_json(),
        )

    def _refuse_foreground(self, region: str, name: str) -> None:
        """A host of `mlops endpoint serve` holds the name: a managed host would replace (stop) it."""
        for record in self.hosts.live(region, name):
            if not record.managed:
                raise ResourceInUse(
                    f"Endpoint name {name} is served by `mlops endpoint serve` in this home (pid {record.pid}, "
                    f"{record.url}); stop it first or choose another name"
                )

    def _launch(self, host: HostRecord) -> None:
        try:
            launch(self.hosts, host)
        except OSError as e:
            self.hosts.finish(host.id, FAILED, f"the local host could not be started: {e}")

    # -- the state machine -----------------------------------------------------------------------------

    def _reconciled(self, region: str, name: str) -> dict:
        """The endpoint's row after applying what its hosts did since it was last read."""
        row = self._row(region, name)
        if row is None:
            raise self._not_found(region, name)
        if row["status"] in (CREATING, UPDATING):
            row = self._reconcile_pending(row)
        if row["status"] == IN_SERVICE:
            row = self._reconcile_serving(row)
        if row["status"] == DELETING:
            row = self._reconcile_deleting(row)
            if row is None:
                raise self._not_found(region, name)
        return row

    def _reconcile_pending(self, row: dict) -> dict:
        pending = self.hosts.current(row["pending_host"])
        if pending is not None and pending.state not in (STOPPED, FAILED) and pending.ready is None:
            return row  # still starting
        now = time.time()
        if pending is not None and pending.ready is not None:  # it took over: the new configuration serves
            self._compare_and_set(
                row,
                status=IN_SERVICE,
                failure_reason=None,
                config_name=row["pending_config"],
                deployment=row["pending_deployment"],
                current_host=pending.id,
                **_NO_PENDING,
                last_modified=now,
            )
            return self._row(row["region"], row["name"]) or row
        reason = _startup_failure(Deployment.from_json(row["pending_deployment"]), pending)
        if row["status"] == CREATING:
            self._compare_and_set(row, status=FAILED_STATUS, failure_reason=_clip(reason), last_modified=now)
        else:  # the rollback: the old host never stopped serving
            reason += f" The update was rolled back: the endpoint serves endpoint configuration {row['config_name']}."
            self._compare_and_set(
                row, status=IN_SERVICE, failure_reason=_clip(reason), **_NO_PENDING, last_modified=now
            )
        return self._row(row["region"], row["name"]) or row

    def _reconcile_serving(self, row: dict) -> dict:
        current = self.hosts.current(row["current_host"])
        if current is not None and current.state == SERVING:
            return row
        why = (current.reason if current is not None else None) or "it is not running"
        reason = f"The local host of this endpoint is not running: {why}. UpdateEndpoint starts a new one."
        if row["failure_reason"]:
            reason = f"{row['failure_reason']} {reason}"
        self._compare_and_set(row, status=OUT_OF_SERVICE, failure_reason=_clip(reason), last_modified=time.time())
        return self._row(row["region"], row["name"]) or row

    def _reconcile_deleting(self, row: dict | None) -> dict | None:
        if row is None or row["status"] != DELETING:
            return row
        live = self.hosts.live(row["region"], row["name"])
        if not live:
            self.db.execute("DELETE FROM sm_endpoints WHERE arn = ? AND status = ?", (row["arn"], DELETING))
            return None
        if time.time() - row["last_modified"] > STOP_WAIT:  # a host that ignores SIGTERM
            for record in live:
                kill(record)
        return row

    def _compare_and_set(self, row: dict, **values) -> None:
        """Apply a transition only if nobody applied another since `row` was read."""
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.db.execute(
            f"UPDATE sm_endpoints SET {assignments} WHERE arn = ? AND status = ? AND COALESCE(pending_host, '') = ?",
            (*values.values(), row["arn"], row["status"], row["pending_host"] or ""),
        )

    # -- output ----------------------------------------------------------------------------------------

    def _view(self, row: dict) -> dict:
        deployment = Deployment.from_json(row["deployment"])
        pending = Deployment.from_json(row["pending_deployment"]) if row["pending_host"] else None
        out = {
            "EndpointName": row["name"],
            "EndpointArn": row["arn"],
            "EndpointConfigName": row["config_name"],
            "EndpointStatus": row["status"],
            "FailureReason": row["failure_reason"],
            "CreationTime": row["creation_time"],
            "LastModifiedTime": row["last_modified"],
        }
        if deployment is not None:
            serving = row["status"] in (IN_SERVICE, UPDATING)
            out["ProductionVariants"] = [_variant_summary(deployment, serving, row["last_modified"])]
        shown = deployment or pending
        if shown is not None and shown.data_capture:
            out["DataCaptureConfig"] = _capture_summary(shown.data_capture)
        if pending is not None:
            out["PendingDeploymentSummary"] = _pending_summary(row, pending)
        document = json.loads(row["document"])
        if document.get("DeploymentConfig"):
            out["LastDeploymentConfig"] = document["DeploymentConfig"]
        return out

    # -- rows ------------------------------------------------------------------------------------------

    def _row(self, region: str, name: str) -> dict | None:
        row = self.db.query_one(
            f"SELECT {_COLUMNS} FROM sm_endpoints WHERE region = ? AND name = ? COLLATE NOCASE", (region, name)
        )
        return dict(row) if row is not None else None

    def _not_found(self, region: str, name: str) -> Invalid:
        return Invalid(f'Could not find endpoint "{self.resources.arn(region, "endpoint", name)}".')


_NO_PENDING = {"pending_config": None, "pending_deployment": None, "pending_host": None, "pending_start": None}


def _startup_failure(deployment: Deployment | None, host: HostRecord | None) -> str:
    variant = deployment.variant if deployment else "AllTraffic"
    if host is None:
        return f"The local host for production variant {variant} has no record."
    why = _one_line(host.reason or "it exited")
    if host.log and host.log not in why:
        why += f"; its log: {host.log}"
    if host.state == STOPPED:
        return f"The local host for production variant {variant} was stopped before it was ready: {why}."
    return f"The primary container for production variant {variant} did not pass the ping health check: {why}."


def _retained(new: Deployment, current: Deployment, params: dict) -> Deployment:
    """RetainAllVariantProperties: keep the serving variant's count, weight and capture unless excluded."""
    from dataclasses import replace

    excluded = {p["VariantPropertyType"] for p in params.get("ExcludeRetainedVariantProperties") or ()}
    changes = {}
    if "DesiredInstanceCount" not in excluded:
        per_instance = new.workers // new.instance_count
        changes.update(instance_count=current.instance_count, workers=current.instance_count * per_instance)
    if "DesiredWeight" not in excluded:
        changes["weight"] = current.weight
    if "DataCaptureConfig" not in excluded:
        changes.update(data_capture=current.data_capture, capture=current.capture)
    return replace(new, **changes)


def _listed(row: dict, params: dict) -> bool:
    if params.get("StatusEquals") and row["status"] != params["StatusEquals"]:
        return False
    if params.get("NameContains") and params["NameContains"].lower() not in row["name"].lower():
        return False
    for member, column, after in (
        ("CreationTimeAfter", "creation_time", True),
        ("CreationTimeBefore", "creation_time", False),
        ("LastModifiedTimeAfter", "last_modified", True),
        ("LastModifiedTimeBefore", "last_modified", False),
    ):
        if params.get(member) is not None:
            bound = epoch_seconds(params[member])
            if (after and not row[column] > bound) or (not after and not row[column] < bound):
                return False
    return True


def _variant_summary(deployment: Deployment, serving: bool, deployed_at: float) -> dict:
    summary = {
        "VariantName": deployment.variant,
        "CurrentWeight": deployment.weight,
        "DesiredWeight": deployment.weight,
    }
    if deployment.image:
        summary["DeployedImages"] = [
            {"SpecifiedImage": deployment.image, "ResolvedImage": deployment.image, "ResolutionTime": deployed_at}
        ]
    if deployment.serverless:
        summary["CurrentServerlessConfig"] = deployment.serverless
        summary["DesiredServerlessConfig"] = deployment.serverless
    else:
        summary["CurrentInstanceCount"] = deployment.instance_count if serving else 0
        summary["DesiredInstanceCount"] = deployment.instance_count
    return summary


def _capture_summary(config: dict) -> dict:
    enabled = config.get("EnableCapture", True)
    summary = {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": config["InitialSamplingPercentage"],
        "DestinationS3Uri": config["DestinationS3Uri"],
    }
    if config.get("KmsKeyId"):
        summary["KmsKeyId"] = config["KmsKeyId"]
    return summary


def _pending_summary(row: dict, pending: Deployment) -> dict:
    status = "Creating" if row["status"] == CREATING else "Updating"
    variant = {
        "VariantName": pending.variant,
        "DesiredWeight": pending.weight,
        "VariantStatus": [{"Status": status, "StartTime": row["pending_start"]}],
    }
    if pending.serverless:
        variant["DesiredServerlessConfig"] = pending.serverless
    else:
        variant.update(CurrentInstanceCount=0, DesiredInstanceCount=pending.instance_count)
        if pending.instance_type:
            variant["InstanceType"] = pending.instance_type
    return {
        "EndpointConfigName": row["pending_config"],
        "ProductionVariants": [variant],
        "StartTime": row["pending_start"],
    }


def _one_line(text: str) -> str:
    """A reason without the native stack trace XGBoost appends to its errors, on one line."""
    return " ".join(text.split("\nStack trace:", 1)[0].split())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


# -- the service's operations ----------------------------------------------------------------------------


class Hosting:
    """What the SageMaker service's hosting operations call: models and configs, and endpoints."""

    def __init__(self, runtime: LocalAWS, registry: ModelRegistry):
        self.resources = HostingResources(runtime.db, registry, runtime.store, LOCAL_ACCOUNT_ID)
        self.endpoints = EndpointLifecycle(runtime, self.resources)

    def handler(self, method: str) -> Callable[[str, dict], dict]:
        return getattr(self.resources, method, None) or getattr(self.endpoints, method)


def hosting_operation(name: str) -> Callable:
    """A SageMaker service method for operation `name`, answered by the service's `hosting` (a Hosting).

    In `SageMakerService`: `create_endpoint = hosting_operation("CreateEndpoint")`.
    """
    method = xform_name(name)

    @operation(name)
    def handle(self, params: dict, ctx: Context) -> dict:
        return self.hosting.handler(method)(ctx.region, params)

    handle.__name__ = handle.__qualname__ = method
    handle.__doc__ = f"{name}: offline/aws/sagemaker/endpoints.py"
    return handle
