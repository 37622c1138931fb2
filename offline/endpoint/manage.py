"""What `mlops endpoint list / stop / delete` do: the endpoints of a home and their hosts.

Endpoints come from the local SageMaker service through a boto3 client (`local_session`), the same calls
user code and the deploy workflow make (so statuses are the ones DescribeEndpoint gives); the URL, pid and
model of each come from its serving host's row (`hosts.py`). Hosts started with `mlops endpoint serve`
have no SageMaker endpoint; they are listed with the status `Serving`.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

from offline.defaults import LOCAL_REGION
from offline.endpoint.hosts import SERVING, STOP_WAIT, HostRecord, HostRegistry
from offline.endpoint.settings import SettingsError, validate_name
from offline.home import mlops_home

SERVE_STATUS = "Serving"  # a host of `mlops endpoint serve`: no SageMaker endpoint behind it
STOPPED_BY_CLI = "stopped with `mlops endpoint stop`"


class ManageError(ValueError):
    """A name, endpoint or state the command cannot act on; the message says why."""


@dataclass(frozen=True)
class EndpointLine:
    name: str
    status: str
    url: str | None
    model: str | None
    pid: int | None
    endpoint_config: str | None = None
    failure_reason: str | None = None
    log: str | None = None
    kind: str = "endpoint"  # or "serve"

    def as_dict(self) -> dict:
        return asdict(self)


def list_endpoints(home: str | os.PathLike | None = None, region: str = LOCAL_REGION) -> list[EndpointLine]:
    """Every endpoint of the home (newest first), then hosts of `mlops endpoint serve`."""
    sm = _sagemaker(home, region)
    hosts = HostRegistry.for_home(home)
    lines, names = [], set()
    for page in sm.get_paginator("list_endpoints").paginate(SortBy="CreationTime", SortOrder="Descending"):
        for summary in page["Endpoints"]:
            name = summary["EndpointName"]
            try:
                described = sm.describe_endpoint(EndpointName=name)
            except _client_error() as e:  # deleted meanwhile
                if _code(e) == "ValidationException":
                    continue
                raise
            host = hosts.serving(region, name)
            names.add(name.lower())
            lines.append(
                EndpointLine(
                    name=name,
                    status=described["EndpointStatus"],
                    url=host.url if host else None,
                    model=host.model if host else None,
                    pid=host.pid if host else None,
                    endpoint_config=described.get("EndpointConfigName"),
                    failure_reason=described.get("FailureReason"),
                    log=host.log if host else None,
                )
            )
    for host in hosts.live(region):
        if not host.managed and host.state == SERVING and host.endpoint.lower() not in names:
            lines.append(EndpointLine(host.endpoint, SERVE_STATUS, host.url, host.model, host.pid, kind="serve"))
    return lines


def stop_endpoint(name: str, home: str | os.PathLike | None = None, region: str = LOCAL_REGION) -> list[HostRecord]:
    """Stop every host of the endpoint (they finish requests in progress); returns the hosts stopped.

    The endpoint itself stays: DescribeEndpoint then reads OutOfService, and UpdateEndpoint starts a host again.
    """
    _check(name)
    hosts = HostRegistry.for_home(home)
    live = hosts.live(region, name)
    if not live and not _endpoint_exists(name, home, region):
        raise ManageError(f"no endpoint named {name} in {hosts.home}")
    return [record for record in hosts.stop(live, STOPPED_BY_CLI) if record is not None]


def delete_endpoint(
    name: str, home: str | os.PathLike | None = None, region: str = LOCAL_REGION, wait: float = STOP_WAIT + 5
) -> None:
    """DeleteEndpoint, then wait until the endpoint is gone and its host processes have exited.

    As on SageMaker, its endpoint configuration and model stay.
    """
    _check(name)
    sm = _sagemaker(home, region)
    hosts = HostRegistry.for_home(home)
    running = hosts.live(region, name)
    try:
        sm.delete_endpoint(EndpointName=name)
    except _client_error() as e:
        message = e.response["Error"].get("Message", str(e))
        served = [h for h in running if not h.managed]
        if served:
            message += (
                f" It is served by `mlops endpoint serve` (pid {served[0].pid}): use `mlops endpoint stop {name}`."
            )
        raise ManageError(message) from e
    deadline = time.monotonic() + wait
    while _endpoint_exists(name, home, region):
        if time.monotonic() > deadline:
            raise ManageError(f"endpoint {name} is still Deleting after {wait:.0f} s: a host did not stop")
        time.sleep(0.1)
    hosts.wait_for_exit(running, max(0.0, deadline - time.monotonic()))  # their processes too, not only their rows


def _endpoint_exists(name: str, home, region: str) -> bool:
    try:
        _sagemaker(home, region).describe_endpoint(EndpointName=name)
    except _client_error() as e:
        if _code(e) == "ValidationException":
            return False
        raise
    return True


def _check(name: str) -> None:
    try:
        validate_name(name, "endpoint name")
    except SettingsError as e:
        raise ManageError(str(e)) from e


_CLIENTS: dict = {}


def _sagemaker(home, region: str):
    from botocore.config import Config

    from offline.aws import local_session

    key = (str(mlops_home(home)), region)
    if key not in _CLIENTS:
        _CLIENTS[key] = local_session(home, region).client("sagemaker", config=Config(retries={"max_attempts": 1}))
    return _CLIENTS[key]


def _client_error():
    from botocore.exceptions import ClientError

    return ClientError


def _code(error) -> str:
    return error.response.get("Error", {}).get("Code", "")
