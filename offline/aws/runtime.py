"""One local AWS per MLOPS_HOME: builds the registered services and hands each request to its service.

Both transports end here: the in-process botocore hook (which knows the service from botocore's event
name) and the HTTP server (which does not: `routing` decides, from the SigV4 credential scope,
X-Amz-Target, the form's Action or the path). New services register in `routing` (`register_service`),
so later milestones add A2I or Step Functions without touching this module.
"""

from __future__ import annotations

import importlib
import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from offline.aws.constants import DEFAULT_REGION, LOCAL_ACCOUNT_ID
from offline.aws.errors import NotImplementedByLocalRuntime, ServiceError
from offline.aws.protocols import Context
from offline.aws.routing import SERVICES, register_service, router
from offline.aws.wire import Request, Response
from offline.home import mlops_home

if TYPE_CHECKING:
    from offline.aws.service import Service
    from offline.state import StateDB
    from offline.store import ObjectStore

__all__ = ["SERVICES", "LocalAWS", "error_response", "register_service", "runtime_for"]

_REGION_IN_HOST = ("amazonaws.com",)


class LocalAWS:
    """The local services of one home; thread-safe, services built on first use."""

    def __init__(self, home: str | os.PathLike | None = None):
        self.home = mlops_home(home)
        self._services: dict[str, object] = {}
        self._lock = threading.Lock()
        self._store = None
        self._db = None

    @property
    def store(self) -> ObjectStore:
        from offline.store import ObjectStore

        with self._lock:
            if self._store is None:
                self._store = ObjectStore(self.home / "s3")
            return self._store

    @property
    def db(self) -> StateDB:
        from offline.state import StateDB

        with self._lock:
            if self._db is None:
                self._db = StateDB(self.home / "state.db")
            return self._db

    def service(self, name: str) -> Service | None:
        """The registered service `name`, built on first use; None if no such service is registered."""
        with self._lock:
            built = self._services.get(name)
        if built is not None:
            return built
        entry = SERVICES.get(name)
        if entry is None:
            return None
        module_name, class_name = entry.factory.split(":")
        built = getattr(importlib.import_module(module_name), class_name)(self)
        with self._lock:
            return self._services.setdefault(name, built)

    def handle(self, request: Request, service: str | None = None, operation: str | None = None) -> Response:
        """Answer one request. `service` (botocore's service name or event-name id) and `operation` are
        given when the caller knows them (the in-process hook); otherwise the request is routed."""
        region, signing_service = request.signing_scope()
        ctx = Context(region or _region_from_host(request.host) or DEFAULT_REGION, LOCAL_ACCOUNT_ID, _request_id())
        try:
            if service is not None:
                name = service if service in SERVICES else router().known(service)
                if name is None:
                    raise NotImplementedByLocalRuntime(service, operation or _operation_hint(request))
            else:
                name = router().route(request, signing_service)
            handler = self.service(name)
        except ServiceError as error:
            return error_response(error, request, ctx, service or signing_service)
        return handler.handle(request, ctx)

    def close(self) -> None:
        """End whatever the services started (their `close()`), e.g. before `mlops local serve` exits."""
        with self._lock:
            services = list(self._services.values())
        for built in services:
            close = getattr(built, "close", None)
            if close is not None:
                close()


def error_response(error: ServiceError, request: Request, ctx: Context, service: str | None = None) -> Response:
    """An error in the wire format the client's parser expects, for a request no service has taken.

    The format is that of `service` when botocore knows it; else the request tells: JSON for an
    X-Amz-Target or a JSON body, query XML for a form, S3's XML for anything else (unsigned requests).
    """
    from offline.aws.protocols.json import json_error_response
    from offline.aws.protocols.query import query_error_response
    from offline.aws.protocols.rest_xml import rest_xml_error_response

    protocol = _protocol_of(service) if service else None
    if protocol is None:
        content_type = request.headers.get("content-type", "").lower()
        if "x-amz-target" in request.headers or "json" in content_type:
            protocol = "json"
        elif content_type.startswith("application/x-www-form-urlencoded"):
            protocol = "query"
        else:
            protocol = "rest-xml"
    if protocol in ("json", "rest-json"):
        content_type = request.headers.get("content-type", "")
        return json_error_response(error, ctx, content_type if "json" in content_type else "application/json")
    if protocol == "rest-xml":
        return rest_xml_error_response(error, ctx, request)
    return query_error_response(error, ctx)


def _protocol_of(service: str) -> str | None:
    from offline.aws.shapes import is_service, service_model

    return service_model(service).metadata.get("protocol") if is_service(service) else None


def _operation_hint(request: Request) -> str | None:
    target = request.headers.get("x-amz-target", "")
    return target.rpartition(".")[2] or None


def _region_from_host(host: str) -> str | None:
    name = host.split(":")[0]
    if not name.endswith(_REGION_IN_HOST):
        return None
    for part in name.split("."):
        if part.count("-") >= 2 and part[-1].isdigit():
            return part
    return None


def _request_id() -> str:
    return str(uuid.uuid4())


_RUNTIMES: dict[Path, LocalAWS] = {}
_RUNTIMES_LOCK = threading.Lock()


def runtime_for(home: str | os.PathLike | None = None) -> LocalAWS:
    """The shared LocalAWS of a home (one per process, so SQLite connections and caches are reused)."""
    path = mlops_home(home)
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.get(path)
        if runtime is None:
            runtime = _RUNTIMES[path] = LocalAWS(path)
        return runtime


def forget_runtime(home: str | os.PathLike | None = None) -> None:
    """Close and drop the home's shared LocalAWS, before its home is cleared: the services cache what the home
    held (SQLite connections, schemas known to be applied), which a new home in the same folder does not hold."""
    path = mlops_home(home)
    with _RUNTIMES_LOCK:
        runtime = _RUNTIMES.pop(path, None)
    if runtime is not None:
        runtime.close()
