"""In-process transport: a botocore `before-send` handler answers every request locally, as moto does.

botocore builds, serializes and signs the request as usual; the handler turns the prepared request into a
`wire.Request`, lets the local services answer, and returns a botocore `AWSResponse` carrying the real
wire format, so botocore's own parsers, error mapping and waiters run unchanged. Any service or operation
the runtime does not answer gets a `NotImplemented` error naming it — never a network call.
"""

from __future__ import annotations

import io
import os
from typing import Any

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from offline.aws.constants import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.runtime import LocalAWS, runtime_for
from offline.aws.wire import Headers, Request, Response, decoded_body

_HOOK_ID = "mlops-local-aws"


def local_session(home: str | os.PathLike | None = None, region: str = DEFAULT_REGION) -> boto3.Session:
    """A boto3 Session whose clients and resources are all answered by the local services of `home`.

    It carries dummy credentials (the local services do not check them) and never reaches the network.
    """
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader(core))
    session = boto3.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=region,
        botocore_session=core,
    )
    attach(session, home)
    return session


_LOADER = None


def _shared_loader(core: botocore.session.Session):
    """One model loader for every local session: parsing SageMaker's model costs ~0.1 s per new session."""
    global _LOADER
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    return _LOADER


def attach(target: Any, home: str | os.PathLike | None = None) -> None:
    """Route a boto3 Session's (future) clients, a botocore Session's, or one client's calls locally.

    A session without explicit credentials gets the dummy ones (so creating clients never runs the
    credential chain, whose last step probes the network); a client without credentials sends unsigned.
    Clients created from a session *before* the call keep talking to AWS: attach first.
    """
    runtime = runtime_for(home)
    handler = _Handler(runtime)
    if isinstance(target, boto3.Session):
        target = target._session
    if isinstance(target, botocore.session.Session):
        events = target.get_component("event_emitter")
        # Set, not resolve: resolving runs the provider chain, which ends in a network probe (IMDS).
        if getattr(target, "_credentials", None) is None:
            target.set_credentials(DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY)
    elif hasattr(target, "meta") and hasattr(target.meta, "events"):
        events = target.meta.events
        if getattr(target._request_signer, "_credentials", None) is None:
            events.register("choose-signer", _unsigned, unique_id=f"{_HOOK_ID}-signer")
    else:
        raise TypeError(f"Cannot attach local AWS services to {type(target).__name__}")
    events.register("before-send", handler, unique_id=_HOOK_ID)


def _unsigned(**kwargs) -> Any:
    return UNSIGNED


class _Handler:
    def __init__(self, runtime: LocalAWS):
        self.runtime = runtime

    def __call__(self, request: AWSPreparedRequest, event_name: str = "", **kwargs) -> AWSResponse:
        parts = event_name.split(".")
        service_id, operation = (parts[1], parts[2]) if len(parts) >= 3 else (None, None)
        response = self.runtime.handle(to_wire_request(request), service=service_id, operation=operation)
        return AWSResponse(request.url, response.status, dict(response.headers), _RawBody(response))


def to_wire_request(request: AWSPreparedRequest) -> Request:
    headers = Headers({k: v for k, v in request.headers.items()})
    body = request.body
    if body is None:
        stream, length = io.BytesIO(), 0
    elif isinstance(body, (bytes, bytearray)):
        stream, length = io.BytesIO(bytes(body)), len(body)
    elif isinstance(body, str):
        data = body.encode("utf-8")
        stream, length = io.BytesIO(data), len(data)
    else:  # a file-like body (uploads); botocore rewinds it before every attempt
        declared = headers.get("content-length")
        stream, length = body, int(declared) if declared and declared.isdigit() else None
    stream, length = decoded_body(headers, stream, length)
    return Request(request.method, request.url, headers, stream, length)


class _RawBody:
    """What botocore reads a response from: `read(amt)` for streaming bodies, `stream()` for the rest."""

    def __init__(self, response: Response):
        self._source = io.BytesIO(response.body) if isinstance(response.body, bytes) else response.body

    def read(self, amt: int | None = None, **kwargs) -> bytes:
        return self._source.read() if amt is None else self._source.read(amt)

    def stream(self, amt: int = 64 * 1024, **kwargs):
        try:
            while chunk := self._source.read(amt):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._source.close()

    def readable(self) -> bool:
        return True
