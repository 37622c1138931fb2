"""Where the review jobs read and write: a local folder, or an `s3://` prefix read and written with boto3.

In a Processing container the jobs talk to S3 themselves (the hourly starter has no ProcessingOutputs:
its manifest is one small object); locally the CLI hands them folders of the object store, so the job
code never maps an `s3://` URI to a folder itself. Local writes are atomic (temp file + rename).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from processing.atomic import atomic_write
from processing.s3uri import S3UriError, parse_s3_prefix


class LocationError(RuntimeError):
    """A location could not be read or written; the message names it."""


class BadLocation(LocationError, ValueError):
    """Not an s3:// URI or a local path (a bad option, not a failed request)."""


class Location:
    """A folder or an S3 prefix; keys below it are relative, `/`-separated."""

    def __init__(self, location: str | os.PathLike, s3: Callable[[], Any] | None = None):
        self.text = os.fspath(location).rstrip("/") or "/"
        self.is_s3 = self.text.startswith("s3://")
        self._s3_factory = s3
        self._s3 = None
        if self.is_s3:
            try:
                self.bucket, self.prefix = parse_s3_prefix(self.text)
            except S3UriError as e:
                raise BadLocation(str(e)) from e
        elif "://" in self.text:
            raise BadLocation(f"{self.text!r} is neither an s3:// URI nor a local path")
        else:
            self.folder = Path(self.text)

    def uri(self, relative: str) -> str:
        return f"{self.text}/{relative}"

    def write(self, relative: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Write one object (replacing it); returns its URI or path."""
        if not self.is_s3:
            return str(atomic_write(self.folder / relative, data, durable=True))
        key = self._key(relative)
        self._call("write", f"s3://{self.bucket}/{key}", "put_object", Bucket=self.bucket, Key=key, Body=data,
                   ContentType=content_type)  # fmt: skip
        return f"s3://{self.bucket}/{key}"

    def read(self, relative: str) -> bytes:
        if not self.is_s3:
            try:
                return (self.folder / relative).read_bytes()
            except OSError as e:
                raise LocationError(f"cannot read {self.folder / relative}: {e.strerror or e}") from e
        key = self._key(relative)
        body = self._call("read", f"s3://{self.bucket}/{key}", "get_object", Bucket=self.bucket, Key=key)["Body"]
        return body.read()

    def keys(self, suffix: str = "") -> Iterator[str]:
        """Relative keys of every object below the location that end with `suffix`, in key order."""
        if not self.is_s3:
            if not self.folder.is_dir():
                return
            found = (p.relative_to(self.folder).as_posix() for p in self.folder.rglob(f"*{suffix}") if p.is_file())
            yield from sorted(k for k in found if not any(part.startswith(".") for part in k.split("/")))
            return
        root = f"{self.prefix}/" if self.prefix else ""
        pages = self._call("list", self.text, "get_paginator", "list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    if item["Key"].endswith(suffix):
                        yield item["Key"][len(root) :]
        except self._errors() as e:
            raise LocationError(f"cannot list {self.text}: {_describe(e)}") from e

    def exists(self) -> bool:
        """Whether anything is there at all (a folder, or at least one object under the prefix)."""
        if not self.is_s3:
            return self.folder.exists()
        root = f"{self.prefix}/" if self.prefix else ""
        page = self._call("list", self.text, "list_objects_v2", Bucket=self.bucket, Prefix=root, MaxKeys=1)
        return bool(page.get("KeyCount") or page.get("Contents"))

    @property
    def s3(self):
        """The S3 client (made on first use)."""
        if self._s3 is None:
            if self._s3_factory is None:
                raise LocationError(f"{self.text} is in S3, and no S3 client was given")
            self._s3 = self._s3_factory()
        return self._s3

    def _key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def _call(self, what: str, uri: str, method: str, *args, **kwargs):
        try:
            return getattr(self.s3, method)(*args, **kwargs)
        except self._errors() as e:
            raise LocationError(f"cannot {what} {uri}: {_describe(e)}") from e

    @staticmethod
    def _errors() -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (ClientError, BotoCoreError)

    def __str__(self) -> str:
        return self.text


def _describe(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        details = response.get("Error", {})
        return f"{details.get('Code')}: {details.get('Message')}"
    return str(error)
