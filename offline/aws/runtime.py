"""One local AWS per MLOPS_HOME: picks the service a request is for and hands it over.

Both transports end here: the in-process botocore hook (which knows the service from its event name) and
the HTTP server (which tells services apart by X-Amz-Target, the SigV4 scope, or the form's Action).
New services register a factory with `register_service`, so later milestones add A2I or the endpoint
runtime without touching this module.
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
from offline.aws.wire import Request, Response
from offline.home import mlops_home

if TYPE_CHECKING:
    from offline.state import StateDB
    from offline.store import ObjectStore

# service name (botocore's, = the hyphenated service id for these) -> "module:Class"; order = HTTP claim order
SERVICES: dict[str, str] = {
    "sagemaker": "offline.aws.sagemaker.service:SageMakerService",
    "sts": "offline.aws.sts.service:STSService",
    "sfn": "offline.aws.states.service:StatesService",  # botocore service id of `stepfunctions`
    "s3": "offline.aws.s3.service:S3Service",
}
FALLBACK_SERVICE = "s3"  # S3 requests may be unsigned and carry no other marker

_REGION_IN_HOST = ("amazonaws.com",)


def register_service(name: str, factory: str) -> None:
    """Add a local service: `factory` is "module:Class", Class(runtime) builds it."""
    SERVICES[name] = factory


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

    def service(self, name: str):
        with self._lock:
            built = self._services.get(name)
        if built is not None:
            return built
        factory = SERVICES.get(name)
        if factory is None:
            return None
        module_name, class_name = factory.split(":")
        built = getattr(importlib.import_module(module_name), class_name)(self)
        with self._lock:
            return self._services.setdefault(name, built)

    def handle(self, request: Request, service: str | None = None, operation: str | None = None) -> Response:
        """Answer one request. `service`/`operation` are botocore's ids when the caller knows them."""
        region, signing_service = request.signing_scope()
        ctx = Context(region or _region_from_host(request.host) or DEFAULT_REGION, LOCAL_ACCOUNT_ID, _request_id())
        name = service or self._claim(request, signing_service)
        handler = self.service(name) if name else None
        if handler is None:
            return unknown_service_response(name or signing_service or "unknown", request, ctx, operation)
        return handler.handle(request, ctx)

    def _claim(self, request: Request, signing_service: str | None) -> str | None:
        for name, factory in SERVICES.items():
            module_name, class_name = factory.split(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            if cls.claims(request, signing_service):
                return name
        if signing_service in (None, FALLBACK_SERVICE):
            return FALLBACK_SERVICE
        return None


def unknown_service_response(service: str, request: Request, ctx: Context, operation: str | None = None) -> Response:
    """A clear NotImplemented error in the wire format the client's parser expects."""
    error: ServiceError = NotImplementedByLocalRuntime(service, operation or _operation_hint(request))
    if _protocol_of(service) in ("json", "rest-json"):
        from offline.aws.protocols.json import json_error_response

        return json_error_response(error, ctx)
    from offline.aws.protocols.query import query_error_response

    return query_error_response(error, ctx)


def _protocol_of(service: str) -> str | None:
    from offline.aws.shapes import service_model

    try:
        return service_model(service).metadata.get("protocol")
    except Exception:  # unknown to botocore: any format will do
        return None


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
