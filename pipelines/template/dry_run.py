"""boto3 clients whose requests are validated against botocore's service model, recorded, and answered here.

What `mlops template register --dry-run` and `mlops teardown --aws --dry-run` use: each call goes
through botocore's own parameter validation (the step that raises ParamValidationError), is recorded,
and is answered by `answer(service, operation, params)`: a dict is the response, an `Error` is
raised as the ClientError AWS would send, and `SEND` lets the request go to AWS (teardown's dry run
sends its reads, to find what exists, and answers its deletions itself). `Recorder.client` makes
clients that never connect and need no credentials; `Recorder.attach` hooks an existing client.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

DRY_RUN_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class Error:
    code: str
    status: int = 400
    message: str = "dry run"


SEND = None  # an answer that lets the request go to AWS
Answer = Callable[[str, str, dict], "dict | Error | None"]


class Recorder:
    def __init__(self, region: str, answer: Answer):
        self.region = region
        self.requests: list[dict] = []
        self._answer = answer
        self._pending: dict[int, dict] = {}

    def client(self, service: str):
        """A client that never connects (dummy credentials); `answer` must answer every request."""
        import boto3

        session = boto3.Session(aws_access_key_id="dry-run", aws_secret_access_key="dry-run", region_name=self.region)
        return self.attach(session.client(service))

    def attach(self, client):
        client.meta.events.register("before-parameter-build.*.*", self._record)
        client.meta.events.register("before-call.*.*", self._respond)
        return client

    def operations(self) -> list[str]:
        return [f"{r['service']}:{r['operation']}" for r in self.requests]

    def _record(self, params: dict, model, context: dict, **_kwargs) -> None:
        self._pending[id(context)] = {
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": printable(copy.deepcopy(params)),
        }

    def _respond(self, model, context: dict, **_kwargs):
        """botocore validated the request: keep it and answer it here."""
        from botocore.awsrequest import AWSResponse

        service = model.service_model.service_name
        entry = self._pending.pop(id(context), {"service": service, "operation": model.name, "params": {}})
        answer = self._answer(service, model.name, entry["params"])
        entry["sent"] = answer is SEND
        self.requests.append(entry)
        if answer is SEND:
            return None
        if isinstance(answer, Error):
            error = {"Error": {"Code": answer.code, "Message": answer.message}}
            return AWSResponse(None, answer.status, {}, None), error
        return AWSResponse(None, 200, {}, None), answer


def printable(value):
    """Request params as JSON: bytes become their size and SHA-256, datetimes ISO strings."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if hasattr(value, "read"):
        return {"stream": True}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value
