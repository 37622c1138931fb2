"""EventBridge Scheduler's error codes with the HTTP status its model declares for each."""

from __future__ import annotations

from offline.aws.errors import ServiceError


class ValidationException(ServiceError):
    code, status = "ValidationException", 400


class ResourceNotFoundException(ServiceError):
    code, status = "ResourceNotFoundException", 404


class ConflictException(ServiceError):
    code, status = "ConflictException", 409
