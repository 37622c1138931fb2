"""What every local service shares: route to an operation, parse, validate, call the backend, serialize.

A service subclasses `Service`, names its botocore model and protocol, and marks one method per
operation with `@operation("CreateModelPackage")`. Each method takes the parsed parameters (and the call
context) and returns a plain dict shaped like the operation's output (or a ready `Response`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.model import OperationModel

from offline.aws.errors import InternalFailure, NotImplementedByLocalRuntime, ServiceError
from offline.aws.protocols import Context
from offline.aws.shapes import service_model
from offline.aws.wire import Request, Response

log = logging.getLogger(__name__)


def operation(name: str) -> Callable:
    """Mark a Service method as the handler of an AWS operation."""

    def mark(func: Callable) -> Callable:
        func._aws_operation = name  # type: ignore[attr-defined]
        return func

    return mark


class Service:
    name: ClassVar[str]  # botocore service name
    handlers: ClassVar[dict[str, str]]  # operation -> method name, filled by __init_subclass__

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.handlers = {
            attr._aws_operation: attr_name
            for klass in reversed(cls.__mro__)
            for attr_name, attr in vars(klass).items()
            if callable(attr) and hasattr(attr, "_aws_operation")
        }

    def __init__(self, protocol: Any):
        self.model = service_model(self.name)
        self.protocol = protocol

    def handle(self, request: Request, ctx: Context) -> Response:
        try:
            name = self.protocol.operation(request)
            method = self.handlers.get(name)
            if method is None:
                raise NotImplementedByLocalRuntime(self.name, name)
            op = self.model.operation_model(name)
            params = self.protocol.parse(request, op)
            self.validate(op, params)
            result = getattr(self, method)(params, ctx)
            if isinstance(result, Response):
                return result
            return self.protocol.serialize(op, result, ctx)
        except ServiceError as error:
            return self.protocol.serialize_error(error, ctx, request)
        except Exception:
            log.exception("local %s service failed on %s %s", self.name, request.method, request.raw_path)
            return self.protocol.serialize_error(InternalFailure("The local service failed; see its log"), ctx, request)

    def validate(self, op: OperationModel, params: dict) -> None:
        """Check the parsed request against the model; services override it with their own rules."""

    def close(self) -> None:
        """End anything the service started (processes, threads); called when its runtime closes."""
