"""S3 URIs given to a deploy: checked once, with the option's name in the message."""

from __future__ import annotations

import re

from pipelines.deploy.errors import DeployInputError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def parse_s3_uri(uri: str, what: str) -> tuple[str, str]:
    """`s3://bucket/prefix` → (bucket, prefix without surrounding slashes); a clear error otherwise."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise DeployInputError(f"{what} must be an s3://bucket/prefix URI, not {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket or _IP.match(bucket):
        raise DeployInputError(f"{what} {uri!r} does not name a valid S3 bucket")
    key = key.rstrip("/")
    if key.startswith("/") or "//" in key or any(part in (".", "..") for part in key.split("/")):
        raise DeployInputError(f"{what} {uri!r} has an empty or relative path segment")
    if len(uri) > 512:
        raise DeployInputError(f"{what} is longer than 512 characters")
    return bucket, key


def normalize(uri: str, what: str) -> str:
    """The URI without a trailing slash, after checking it."""
    bucket, key = parse_s3_uri(uri, what)
    return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts if p)])
