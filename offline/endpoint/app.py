"""What the endpoint answers: the container contract and the InvokeEndpoint wire API on one port.

Routes:
- `GET /ping` and `POST /invocations`: the container contract, answered as the XGBoost image's model
  server answers with the same handler (handler errors keep their status, with a JSON message);
- `POST /endpoints/<name>/invocations`: sagemaker-runtime's InvokeEndpoint, so
  `boto3.client("sagemaker-runtime", endpoint_url=url).invoke_endpoint(...)` works unchanged: header
  validation from botocore's model, `x-Amzn-Invoked-Production-Variant` and `x-amzn-RequestId` on
  answers, container errors as ModelError (424), an unknown endpoint name as ValidationError.
Bodies over 6 MiB get 413 from `preflight`, before any of the body is read.

This class knows nothing of sockets: `server.py` parses HTTP and calls `preflight` once the headers are
in, then `handle` once the body is. Every successful invocation that the sampling picks queues its
capture record *before* its answer is written, so every answered request has its record.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass

from offline.endpoint import runtime_api
from offline.endpoint.capture import CaptureWriter, RecordEncoder
from offline.endpoint.handler import Answer, ContainerHandler, error_answer
from offline.endpoint.ids import new_id
from offline.endpoint.settings import MAX_PAYLOAD_BYTES, EndpointSettings

_JSON = b"application/json"
_PING_BODY = b'{"status":"Healthy"}'
_PREFIX, _SUFFIX = "/endpoints/", "/invocations"
_CONTAINER, _RUNTIME, _PING = 1, 2, 3


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: bytes = _JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()
    close: bool = False  # close the connection after this answer (the rest of the body is not read)


class Endpoint:
    """One worker's endpoint; `stats` counts answers to invocation requests by status (pings excluded)."""

    def __init__(
        self,
        handler: ContainerHandler,
        settings: EndpointSettings,
        writer: CaptureWriter | None = None,
        encoder: RecordEncoder | None = None,
    ):
        self.handler = handler
        self.settings = settings
        self.writer = writer if settings.capture.enabled else None
        self.encoder = encoder if self.writer is not None else None
        self.stats: Counter[int] = Counter()
        self._percentage = settings.capture.percentage
        self._rules = runtime_api.header_rules()
        self._variant = settings.variant.encode("latin-1")
        self._name = settings.name

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        if self.writer is not None:
            self.writer.start()

    def close(self) -> None:
        """Publish every queued capture record (each answered request queued its record before answering)."""
        if self.writer is not None:
            self.writer.close()

    # -- requests ----------------------------------------------------------------------------------------

    def preflight(self, method: bytes, path: str, headers: dict[bytes, bytes]) -> Reply | None:
        """A refusal that needs no body (a declared length over 6 MiB), or None to read the body."""
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_PAYLOAD_BYTES:
            kind, _ = _route(path)
            if kind in (_CONTAINER, _RUNTIME) and method == b"POST":
                return self.too_large(kind == _RUNTIME)
        return None

    def handle(self, method: bytes, path: str, headers: dict[bytes, bytes], body: bytes) -> Reply:
        """The answer to one complete request; `path` is percent-decoded, header names lower-case."""
        kind, endpoint = _route(path)
        if kind == _PING:
            if method == b"GET":
                return Reply(200, _PING_BODY)
            return _container_error(405, "MethodNotAllowed", "use GET /ping")
        if kind is None:
            return self._count(_container_error(404, "ResourceNotFound", f"no route for {method.decode()} {path}"))
        if method != b"POST":
            return self._count(_container_error(405, "MethodNotAllowed", f"use POST {path}"))
        if kind == _RUNTIME:
            refusal = self._refuse_runtime_request(endpoint, headers)
            if refusal is not None:
                return self._count(_wire_reply(refusal))
        return self._invoke(body, headers, kind == _RUNTIME)

    def too_large(self, runtime: bool) -> Reply:
        message = f"the request body is larger than {MAX_PAYLOAD_BYTES} bytes (6 MiB), the limit for InvokeEndpoint"
        if runtime:
            return self._count(_wire_reply(runtime_api.validation_error(message, status=413), close=True))
        answer = error_answer(413, "RequestEntityTooLarge", message)
        return self._count(Reply(413, answer.body, close=True))

    # -- invocation --------------------------------------------------------------------------------------

    def _invoke(self, body: bytes, headers: dict[bytes, bytes], runtime: bool) -> Reply:
        content_type = headers.get(b"content-type")
        accept = headers.get(b"accept")
        content_type = content_type.decode("latin-1") if content_type is not None else None
        answer = self.handler.invoke(body, content_type, accept.decode("latin-1") if accept is not None else None)
        if answer.status == 200:
            if self.writer is not None and (self._percentage >= 100 or random.random() * 100 < self._percentage):
                self._capture(body, content_type, headers, answer)
        elif runtime:
            error = runtime_api.model_error(answer, self._name, self.settings.account, self.settings.region)
            return self._count(_wire_reply(error))
        self.stats[answer.status] += 1
        content = answer.content_type.encode("latin-1")
        if runtime:
            extra = ((b"x-amzn-requestid", _request_id()), (b"x-amzn-invoked-production-variant", self._variant))
            return Reply(answer.status, answer.body, content, extra)
        return Reply(answer.status, answer.body, content)

    def _capture(self, body: bytes, content_type: str | None, headers: dict[bytes, bytes], answer: Answer) -> None:
        when = time.time()
        inference_id = headers.get(b"x-amzn-sagemaker-inference-id")
        line = self.encoder.encode(
            when,
            content_type or "",
            body,
            answer.content_type,
            answer.body,
            inference_id.decode("latin-1") if inference_id is not None else None,
        )
        self.writer.submit(when, line)

    def _refuse_runtime_request(self, endpoint: str, headers: dict[bytes, bytes]) -> runtime_api.WireError | None:
        if endpoint != self._name:
            return runtime_api.endpoint_not_found(endpoint, self.settings.account)
        refusal = runtime_api.validate_headers(self._rules, headers)
        if refusal is not None:
            return refusal
        variant = headers.get(b"x-amzn-sagemaker-target-variant")
        if variant is not None and variant != self._variant:
            return runtime_api.validation_error(
                f"Target variant {variant.decode('latin-1')} is not a production variant of endpoint {endpoint}."
            )
        if b"x-amzn-sagemaker-target-model" in headers:
            return runtime_api.validation_error(f"Endpoint {endpoint} is not a multi-model endpoint.")
        return None

    def _count(self, reply: Reply) -> Reply:
        self.stats[reply.status] += 1
        return reply

    def summary(self) -> dict:
        capture = self.writer.stats if self.writer is not None else None
        return {
            "requests": sum(self.stats.values()),
            "answered_ok": self.stats.get(200, 0),
            "statuses": {str(k): v for k, v in sorted(self.stats.items())},
            "captured": capture.written if capture else 0,
            "capture_dropped": capture.dropped if capture else 0,
            "capture_files": capture.files if capture else 0,
        }


def _route(path: str) -> tuple[int | None, str | None]:
    if path == "/invocations":
        return _CONTAINER, None
    if path.startswith(_PREFIX) and path.endswith(_SUFFIX) and len(path) > len(_PREFIX) + len(_SUFFIX):
        return _RUNTIME, path[len(_PREFIX) : -len(_SUFFIX)]
    if path == "/ping":
        return _PING, None
    return None, None


def _container_error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, error_answer(status, kind, message).body)


def _wire_reply(error: runtime_api.WireError, close: bool = False) -> Reply:
    headers = ((b"x-amzn-requestid", _request_id()), (b"x-amzn-errortype", error.code.encode("ascii")))
    return Reply(error.status, error.body, _JSON, headers, close)


def _request_id() -> bytes:
    return new_id().encode("ascii")
