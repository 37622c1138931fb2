"""S3 URIs given to a deploy: checked once, with the option's name in the message."""

from __future__ import annotations

from pipelines.deploy.errors import DeployInputError
from processing import s3uri


def parse_s3_uri(uri: str, what: str) -> tuple[str, str]:
    """`s3://bucket/prefix` → (bucket, prefix without surrounding slashes); a clear error otherwise."""
    try:
        return s3uri.parse_s3_prefix(uri)
    except s3uri.S3UriError as e:
        raise DeployInputError(f"{what}: {e}") from e


def normalize(uri: str, what: str) -> str:
    """The URI without a trailing slash, after checking it."""
    bucket, key = parse_s3_uri(uri, what)
    return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts if p)])
