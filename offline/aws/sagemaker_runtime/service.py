"""Local sagemaker-runtime (rest-json): InvokeEndpoint answered by the host that serves the endpoint.

`boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName=…, ContentType="text/csv", Body=…)`, in
process (`offline.aws.local_session`) or through `mlops local serve`, reaches this service, which looks up
the endpoint's route (its serving host, `offline/endpoint/hosts.py`) and forwards the request to that
host's own InvokeEndpoint API (`offline/endpoint/runtime_api.py`). The host's answer comes back as it is:
status, body, Content-Type, `x-amzn-RequestId`, `x-Amzn-Invoked-Production-Variant`, and its errors
(ValidationError for bad headers, ModelError 424 for container errors) keep their code and fields.

Answered here, before any host: a name SageMaker would refuse (ValidationError), an endpoint that no host
serves — unknown, still Creating, Failed, OutOfService, deleted — as AWS answers an endpoint it cannot
route to (`ValidationError: Endpoint X of account 123456789012 not found.`), a body over 6 MiB (413), the
other runtime operations (NotImplemented, 501).

Bodies are at most 6 MiB each way (InvokeEndpoint's limit), so both are held in memory: the request body
is needed again if the request has to be retried on the endpoint's new host (`proxy.py`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from offline.aws.errors import NotImplementedByLocalRuntime, ServiceError
from offline.aws.protocols import Context
from offline.aws.protocols.json import json_error_response
from offline.aws.sagemaker_runtime.proxy import HostProxy
from offline.aws.shapes import service_model, validation_errors
from offline.aws.wire import Headers, Request, Response, is_count
from offline.endpoint import runtime_api
from offline.endpoint.hosts import HostRegistry
from offline.endpoint.settings import MAX_PAYLOAD_BYTES

_PATH = re.compile(r"^/endpoints/([^/]+)(/[^/]+)$")


class SageMakerRuntimeService:
    name = "sagemaker-runtime"

    def __init__(self, runtime):
        self.model = service_model(self.name)
        self.invoke = self.model.operation_model("InvokeEndpoint")
        self.operations = {  # "/invocations" -> "InvokeEndpoint", "/async-invocations" -> …
            "/" + self.model.operation_model(op).http["requestUri"].rsplit("/", 1)[1]: op
            for op in self.model.operation_names
            if self.model.operation_model(op).http["requestUri"].startswith("/endpoints/{EndpointName}/")
        }
        self.proxy = HostProxy(HostRegistry(runtime.db, runtime.home))

    def handle(self, request: Request, ctx: Context) -> Response:
        try:
            name = self._endpoint_name(request)
            problem = validation_errors(self.invoke.input_shape, {"EndpointName": name, "Body": b""})
            if problem:
                return _wire(runtime_api.validation_error(problem), ctx)
            declared = request.headers.get("content-length")
            size = request.body_length if request.body_length is not None else None
            if size is None and declared and is_count(declared):
                size = int(declared)
            if size is not None and size > MAX_PAYLOAD_BYTES:
                return _wire(runtime_api.validation_error(_too_large(), status=413), ctx)
            body = request.body.read(MAX_PAYLOAD_BYTES + 1)
            if len(body) > MAX_PAYLOAD_BYTES:
                return _wire(runtime_api.validation_error(_too_large(), status=413), ctx)
            answer = self.proxy.invoke(ctx.region, ctx.account_id, name, body, request.headers)
        except ServiceError as error:
            return json_error_response(error, ctx)
        if answer.error is not None:
            return _wire(answer.error, ctx)
        return Response(answer.status, answer.headers, answer.body)

    def _endpoint_name(self, request: Request) -> str:
        match = _PATH.match(request.raw_path)
        operation = self.operations.get(match.group(2)) if match else None
        if operation is None or request.method != "POST":
            raise ServiceError.of(
                "UnknownOperationException",
                f"{request.method} {request.raw_path} is no sagemaker-runtime operation",
                404,
            )
        if operation != "InvokeEndpoint":
            raise NotImplementedByLocalRuntime(self.name, operation)
        return unquote(match.group(1))

    def close(self) -> None:
        self.proxy.close()


def _too_large() -> str:
    return f"the request body is larger than {MAX_PAYLOAD_BYTES} bytes (6 MiB), the limit for InvokeEndpoint"


def _wire(error: runtime_api.WireError, ctx: Context) -> Response:
    headers = Headers(
        {
            "Content-Type": "application/json",
            "Content-Length": str(len(error.body)),
            "x-amzn-RequestId": ctx.request_id,
            "x-amzn-ErrorType": error.code,
        }
    )
    return Response(error.status, headers, error.body)
