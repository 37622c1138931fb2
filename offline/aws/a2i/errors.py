"""The A2I runtime's error codes, with the HTTP status its model declares for each (botocore maps them back
to the same ClientError a real call gives)."""

from __future__ import annotations

from offline.aws.errors import ServiceError


class ValidationException(ServiceError):
    code, status = "ValidationException", 400


class ResourceNotFoundException(ServiceError):
    code, status = "ResourceNotFoundException", 404


class ConflictException(ServiceError):
    code, status = "ConflictException", 409


class ThrottlingException(ServiceError):
    code, status = "ThrottlingException", 429


class ServiceQuotaExceededException(ServiceError):
    code, status = "ServiceQuotaExceededException", 402


class InternalServerException(ServiceError):
    code, status = "InternalServerException", 500
