"""SageMaker's error codes. SageMaker answers every client error with HTTP 400 (its model declares no
other status), and reports a missing model package as a ValidationException, not ResourceNotFound."""

from __future__ import annotations

from offline.aws.errors import ServiceError


class ValidationException(ServiceError):
    code, status = "ValidationException", 400


class ResourceNotFound(ServiceError):
    code, status = "ResourceNotFound", 400


class ConflictException(ServiceError):
    code, status = "ConflictException", 400


class ResourceLimitExceeded(ServiceError):
    code, status = "ResourceLimitExceeded", 400


class ResourceInUse(ServiceError):
    code, status = "ResourceInUse", 400
