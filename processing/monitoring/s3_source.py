"""Captured data and ground truth read straight from S3, one hour prefix at a time.

A monitoring schedule gets its window downloaded into the container; a Processing job started by
a schedule of this project's own gets the S3 prefix instead and fetches only the hours its window
touches (`{prefix}/{variant}/yyyy/mm/dd/hh/`, FORMATS.md §1.2), never the endpoint's whole history.
The objects are staged on the job's volume under the same relative keys, so the local readers (and
their per-record time filter) read them exactly as they read a downloaded capture.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..atomic import atomic_file
from ..s3uri import S3UriError, parse_s3_prefix
from .errors import MonitorInputError
from .schedule_window import hours

_YEAR = re.compile(r"^\d{4}$")
SUFFIX = ".jsonl"


class S3ReadError(RuntimeError):
    """S3 refused a request (access, throttling, a missing bucket); the message names the URI."""


@dataclass
class Staged:
    folder: Path
    prefixes: int = 0  # hour prefixes listed
    objects: int = 0
    bytes: int = 0


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → ("bucket", "some/prefix") with a valid bucket name."""
    try:
        return parse_s3_prefix(uri)
    except S3UriError as e:
        raise MonitorInputError(str(e)) from e


def stage_hours(s3, uri: str, start: datetime, end: datetime, folder: str | os.PathLike) -> Staged:
    """Download the `*.jsonl` objects of every hour in [start, end) under uri into folder.

    uri is an endpoint's capture prefix (`…/<endpoint>`, variants beneath it), a variant's, or a
    ground-truth prefix (hours directly beneath it).
    """
    bucket, prefix = split_s3_uri(uri)
    staged = Staged(Path(folder))
    staged.folder.mkdir(parents=True, exist_ok=True)
    for base in _hour_roots(s3, bucket, prefix, uri):
        for hour in hours(start, end):
            hour_prefix = f"{base}{hour:%Y/%m/%d/%H}/"
            staged.prefixes += 1
            for key, size in _list(s3, bucket, hour_prefix, uri):
                if not key.endswith(SUFFIX):
                    continue
                _download(s3, bucket, key, _inside(staged.folder, key[len(prefix) :].lstrip("/")), uri)
                staged.objects += 1
                staged.bytes += size
    return staged


def _hour_roots(s3, bucket: str, prefix: str, uri: str) -> list[str]:
    """The prefixes whose children are years: uri itself, or each of its children (variants)."""
    root = f"{prefix}/" if prefix else ""
    pages = _pages(s3, bucket, root, uri, delimiter="/")
    children = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    names = [child[len(root) :].rstrip("/") for child in children]
    if not children or any(_YEAR.match(name) for name in names):
        return [root]
    return sorted(children)


def _inside(folder: Path, relative: str) -> Path:
    """The staging path of a key; a key that would land outside the folder (`../`) is refused."""
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder.resolve()):
        raise S3ReadError(f"refusing object key {relative!r}: it points outside the staging folder")
    return target


def _list(s3, bucket: str, prefix: str, uri: str):
    for page in _pages(s3, bucket, prefix, uri):
        for item in page.get("Contents", []):
            yield item["Key"], int(item.get("Size", 0))


def _pages(s3, bucket: str, prefix: str, uri: str, delimiter: str | None = None):
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if delimiter:
        kwargs["Delimiter"] = delimiter
    try:
        yield from s3.get_paginator("list_objects_v2").paginate(**kwargs)
    except ClientError as e:
        error = e.response.get("Error", {})
        raise S3ReadError(f"cannot list {uri}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as e:
        raise S3ReadError(f"cannot list {uri}: {e}") from None


def _download(s3, bucket: str, key: str, target: Path, uri: str) -> None:
    """Stream one object to target (temp file + rename: a failed download leaves nothing behind)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        with atomic_file(target) as out:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
            shutil.copyfileobj(body, out, 1024 * 1024)
    except ClientError as e:
        error = e.response.get("Error", {})
        raise S3ReadError(f"cannot read s3://{bucket}/{key} (under {uri}): {error.get('Code')}") from e
    except BotoCoreError as e:
        raise S3ReadError(f"cannot read s3://{bucket}/{key} (under {uri}): {e}") from e
