"""S3 URIs: the one home of `s3://bucket/key` parsing and S3's bucket-naming rules.

Job code, the deploy and the local object store all read URIs through `parse_s3_uri`; each wraps
`S3UriError` in its own error type (keeping it as the cause) so its message names the option.
"""

from __future__ import annotations

import ipaddress
import re

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BAD_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_URI_LENGTH = 1024 + len("s3://") + 63 + 1


class S3UriError(ValueError):
    """Not an s3://bucket/key URI, or the bucket breaks S3's naming rules."""


class InvalidBucketName(S3UriError):
    pass


def parse_s3_uri(uri: object) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key) as written; the key may be empty (`s3://bucket`, `s3://bucket/`)."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise S3UriError(f"Not an S3 URI (expected s3://bucket/key): {uri!r}")
    if len(uri) > MAX_URI_LENGTH:
        raise S3UriError(f"S3 URI is longer than {MAX_URI_LENGTH} characters")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise S3UriError(f"S3 URI has no bucket: {uri!r}")
    validate_bucket_name(bucket)
    return bucket, key


def parse_s3_prefix(uri: object) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> (bucket, "some/prefix"): no empty, '.' or '..' segments."""
    bucket, key = parse_s3_uri(uri)
    key = key.rstrip("/")
    if key and any(part in ("", ".", "..") for part in key.split("/")):
        raise S3UriError(f"S3 URI {uri!r} has an empty or relative path segment")
    return bucket, key


def validate_bucket_name(bucket: str) -> None:
    """S3's naming rules for general purpose buckets."""
    problem = None
    if not 3 <= len(bucket) <= 63:
        problem = "must be between 3 and 63 characters long"
    elif not _BUCKET_RE.fullmatch(bucket):
        problem = "may contain only lowercase letters, digits, dots and hyphens, and must begin and end with a "
        problem += "letter or digit"
    elif ".." in bucket:
        problem = "must not contain two adjacent periods"
    elif _is_ip_address(bucket):
        problem = "must not be formatted as an IP address"
    elif bucket.startswith(_BAD_BUCKET_PREFIXES) or bucket.endswith(_BAD_BUCKET_SUFFIXES):
        problem = "uses a prefix or suffix that S3 reserves"
    if problem:
        raise InvalidBucketName(f"Invalid bucket name {bucket!r}: a bucket name {problem}")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
