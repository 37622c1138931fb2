"""Service errors: one class per AWS error code, turned into wire form by the protocol's one serializer.

A service raises e.g. `ValidationException("…")`; the protocol layer (json, query, rest-xml) knows how AWS
spells that on the wire. HTTP status codes come from the class (taken from botocore's service model where
it declares one), so the parsers in botocore map them back to the same `ClientError` a real call gives.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An AWS error response. Subclasses set `code` and `status`; `fields` adds S3-style extra elements."""

    code: str = "InternalFailure"
    status: int = 400

    def __init__(self, message: str = "", **fields: str):
        super().__init__(message)
        self.message = message
        self.fields = fields

    @property
    def sender_fault(self) -> bool:
        return self.status < 500

    @classmethod
    def of(cls, code: str, message: str, status: int = 400, **fields: str) -> ServiceError:
        """An error for a code that has no class of its own (protocol-level codes)."""
        error = cls(message, **fields)
        error.code = code
        error.status = status
        return error

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.status}, {self.message!r})"


class NotImplementedByLocalRuntime(ServiceError):
    """An operation or service this runtime does not answer: a clear error, never a network call."""

    code = "NotImplemented"
    status = 501  # not retried by botocore (it retries 500/502/503/504)

    def __init__(self, service: str, operation: str | None):
        what = f"{operation} ({service})" if operation else f"The {service} service"
        super().__init__(f"{what} is not implemented by the local runtime")


class InternalFailure(ServiceError):
    code = "InternalFailure"
    status = 500


class SerializationException(ServiceError):
    code = "SerializationException"
    status = 400
