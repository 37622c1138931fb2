"""S3's error codes (status codes as S3 documents them)."""

from __future__ import annotations

from offline.aws.errors import ServiceError


class NoSuchBucket(ServiceError):
    code, status = "NoSuchBucket", 404

    def __init__(self, bucket: str):
        super().__init__("The specified bucket does not exist", BucketName=bucket)


class NoSuchKey(ServiceError):
    code, status = "NoSuchKey", 404

    def __init__(self, key: str):
        super().__init__("The specified key does not exist.", Key=key)


class NoSuchUpload(ServiceError):
    code, status = "NoSuchUpload", 404

    def __init__(self, upload_id: str):
        super().__init__(
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
            "aborted or completed.",
            UploadId=upload_id,
        )


class BucketAlreadyOwnedByYou(ServiceError):
    code, status = "BucketAlreadyOwnedByYou", 409

    def __init__(self, bucket: str):
        super().__init__(
            "Your previous request to create the named bucket succeeded and you already own it.", BucketName=bucket
        )


class BucketNotEmpty(ServiceError):
    code, status = "BucketNotEmpty", 409


class InvalidBucketName(ServiceError):
    code, status = "InvalidBucketName", 400


class InvalidLocationConstraint(ServiceError):
    code, status = "InvalidLocationConstraint", 400


class InvalidArgument(ServiceError):
    code, status = "InvalidArgument", 400


class KeyTooLongError(ServiceError):
    code, status = "KeyTooLongError", 400


class AccessDenied(ServiceError):
    code, status = "AccessDenied", 403


class InvalidRange(ServiceError):
    code, status = "InvalidRange", 416


class PreconditionFailed(ServiceError):
    code, status = "PreconditionFailed", 412


class NotModified(ServiceError):
    code, status = "NotModified", 304


class BadDigest(ServiceError):
    code, status = "BadDigest", 400


class InvalidDigest(ServiceError):
    code, status = "InvalidDigest", 400


class InvalidPart(ServiceError):
    code, status = "InvalidPart", 400


class InvalidPartOrder(ServiceError):
    code, status = "InvalidPartOrder", 400


class EntityTooSmall(ServiceError):
    code, status = "EntityTooSmall", 400


class MalformedXML(ServiceError):
    code, status = "MalformedXML", 400
