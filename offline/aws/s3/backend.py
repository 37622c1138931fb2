"""S3 state and rules over the local object store: buckets, objects, listings, multipart uploads.

No HTTP here: the service layer parses requests and calls these methods with plain values.
Multipart parts are kept under `<store>/.uploads/<upload id>/` and assembled by one atomic write on
completion, so an aborted or crashed upload never shows a partial object.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from offline.aws.s3 import errors
from offline.aws.wire import LimitedReader
from offline.store import (
    UPLOADS_DIR,
    InvalidBucketName,
    InvalidKey,
    InvalidS3Uri,
    KeyConflict,
    NoSuchObject,
    ObjectInfo,
    ObjectStore,
)
from processing.atomic import atomic_file

MIN_PART_SIZE = 5 * 1024 * 1024  # every part but the last, as S3 requires
MAX_PART_NUMBER = 10_000


@dataclass
class Listing:
    objects: list[ObjectInfo]
    common_prefixes: list[str]
    truncated: bool
    last: str | None  # the last key or common prefix returned (where the next page starts after)


class S3Backend:
    def __init__(self, store: ObjectStore):
        self.store = store

    # -- buckets ---------------------------------------------------------------------------------------

    def create_bucket(self, bucket: str, region: str) -> None:
        with _store_errors(bucket):
            created = self.store.create_bucket(bucket, region)
        if not created and region != "us-east-1":  # us-east-1 answers 200 again, as S3 does
            raise errors.BucketAlreadyOwnedByYou(bucket)

    def require_bucket(self, bucket: str) -> dict:
        with _store_errors(bucket):
            if not self.store.bucket_exists(bucket):
                raise errors.NoSuchBucket(bucket)
            return self.store.bucket_info(bucket)

    def list_buckets(self, prefix: str = "") -> list[tuple[str, float, str]]:
        return [
            (name, info["created"], info.get("region", "us-east-1"))
            for name in self.store.list_buckets()
            if name.startswith(prefix)
            for info in [self.store.bucket_info(name)]
        ]

    def delete_bucket(self, bucket: str) -> None:
        self.require_bucket(bucket)
        try:
            self.store.delete_bucket(bucket)
        except KeyConflict:
            raise errors.BucketNotEmpty("The bucket you tried to delete is not empty", BucketName=bucket) from None

    # -- objects ---------------------------------------------------------------------------------------

    def put_object(self, bucket: str, key: str, body: BinaryIO, **meta) -> ObjectInfo:
        self.require_bucket(bucket)
        with _store_errors(bucket, key):
            return self.store.put_stream(f"s3://{bucket}/{key}", body, **meta)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        self.require_bucket(bucket)
        with _store_errors(bucket, key):
            return self.store.head(f"s3://{bucket}/{key}")

    def open_range(self, info: ObjectInfo, start: int, length: int) -> BinaryIO:
        with _store_errors(info.bucket, info.key):
            handle = self.store.open(info.uri)
        handle.seek(start)
        return LimitedReader(handle, length, close_raw=True)

    def delete_object(self, bucket: str, key: str) -> None:
        self.require_bucket(bucket)
        with _store_errors(bucket, key):
            self.store.delete(f"s3://{bucket}/{key}")

    def copy_object(self, source: ObjectInfo, bucket: str, key: str, **meta) -> ObjectInfo:
        self.require_bucket(bucket)
        with _store_errors(source.bucket, source.key), self.store.open(source.uri) as src:
            return self.put_object(bucket, key, src, **meta)

    def list_objects(self, bucket: str, prefix: str, delimiter: str, max_keys: int, after: str = "") -> Listing:
        """One page of keys/common prefixes after `after`, in S3's order."""
        self.require_bucket(bucket)
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last = None
        with _store_errors(bucket):
            keys = self.store.iter_keys(bucket, prefix)
        for key in keys:
            item, is_prefix = key, False
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    item, is_prefix = key[: cut + len(delimiter)], True
            if (after and item <= after) or (is_prefix and prefixes and prefixes[-1] == item):
                continue
            if len(objects) + len(prefixes) >= max_keys:
                return Listing(objects, prefixes, True, last)
            if is_prefix:
                prefixes.append(item)
            else:
                try:
                    objects.append(self.store.head(f"s3://{bucket}/{key}"))
                except NoSuchObject:  # deleted while listing
                    continue
            last = item
        return Listing(objects, prefixes, False, last)

    # -- multipart uploads -----------------------------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str, **meta) -> str:
        self.require_bucket(bucket)
        with _store_errors(bucket, key):
            self.store.object_path(bucket, key)  # validates the key now, not at completion
        upload_id = uuid.uuid4().hex
        folder = self._upload_dir(upload_id)
        folder.mkdir(parents=True)
        (folder / "upload.json").write_text(json.dumps({"bucket": bucket, "key": key, "meta": meta}))
        return upload_id

    def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int, body: BinaryIO) -> str:
        folder = self._upload(bucket, key, upload_id)
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise errors.InvalidArgument(
                f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive",
                ArgumentName="partNumber",
                ArgumentValue=str(part_number),
            )
        md5 = hashlib.md5(usedforsecurity=False)
        with atomic_file(folder / f"{part_number:05d}.part") as out:
            while chunk := body.read(1024 * 1024):
                md5.update(chunk)
                out.write(chunk)
        etag = f'"{md5.hexdigest()}"'
        (folder / f"{part_number:05d}.etag").write_text(etag)
        return etag

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        folder = self._upload(bucket, key, upload_id)
        if not parts:
            raise errors.MalformedXML(
                "The XML you provided was not well-formed or did not validate against our published schema"
            )
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise errors.InvalidPartOrder(
                "The list of parts was not in ascending order. Parts must be ordered by part number."
            )
        digests = []
        files = []
        for i, (number, etag) in enumerate(parts):
            part, stored = folder / f"{number:05d}.part", folder / f"{number:05d}.etag"
            if not part.exists() or stored.read_text().strip('"') != etag.strip('"'):
                raise errors.InvalidPart(
                    "One or more of the specified parts could not be found. The part may not have been uploaded, "
                    "or the specified entity tag may not match the part's entity tag.",
                    PartNumber=str(number),
                )
            if i < len(parts) - 1 and part.stat().st_size < MIN_PART_SIZE:
                raise errors.EntityTooSmall("Your proposed upload is smaller than the minimum allowed object size.")
            digests.append(binascii.unhexlify(etag.strip('"')))
            files.append(part)
        etag = f'"{hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()}-{len(parts)}"'
        meta = json.loads((folder / "upload.json").read_text())["meta"]
        info = self.put_object(bucket, key, _concat(files), etag=etag, **meta)
        shutil.rmtree(folder, ignore_errors=True)
        return info

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload(bucket, key, upload_id), ignore_errors=True)

    def _upload_dir(self, upload_id: str) -> Path:
        return self.store.root / UPLOADS_DIR / upload_id

    def _upload(self, bucket: str, key: str, upload_id: str) -> Path:
        self.require_bucket(bucket)
        folder = self._upload_dir(upload_id) if upload_id.isalnum() else None
        try:
            doc = json.loads((folder / "upload.json").read_text()) if folder else None
        except (FileNotFoundError, ValueError):
            doc = None
        if not doc or doc["bucket"] != bucket or doc["key"] != key:
            raise errors.NoSuchUpload(upload_id)
        return folder


def _concat(files: list[Path]) -> Iterator[bytes]:
    for path in files:
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                yield chunk


class Md5CheckingReader:
    """Passes a body through and raises BadDigest at its end if it does not match Content-MD5.

    Raising while the store reads the body makes the store discard the write: the old object stays.
    """

    def __init__(self, body: BinaryIO, content_md5: str):
        try:
            self._expected = base64.b64decode(content_md5, validate=True)
        except ValueError:
            raise errors.InvalidDigest("The Content-MD5 you specified was invalid.") from None
        if len(self._expected) != 16:
            raise errors.InvalidDigest("The Content-MD5 you specified was invalid.")
        self._body = body
        self._md5 = hashlib.md5(usedforsecurity=False)

    def read(self, n: int = -1) -> bytes:
        data = self._body.read(n)
        self._md5.update(data)
        if not data and self._md5.digest() != self._expected:
            raise errors.BadDigest("The Content-MD5 you specified did not match what we received.")
        return data


@contextmanager
def _store_errors(bucket: str, key: str | None = None):
    """Object-store exceptions -> S3 error codes."""
    try:
        yield
    except InvalidBucketName as e:
        raise errors.InvalidBucketName(str(e), BucketName=bucket) from None
    except InvalidKey as e:
        if "1024 bytes" in str(e):
            raise errors.KeyTooLongError("Your key is too long") from None
        raise errors.InvalidArgument(str(e)) from None
    except KeyConflict as e:
        raise errors.InvalidArgument(str(e)) from None
    except InvalidS3Uri as e:  # the store checks the whole URI's length before the key's
        if key is not None and len(key.encode("utf-8", "surrogatepass")) > 1024:
            raise errors.KeyTooLongError("Your key is too long") from None
        raise errors.InvalidArgument(str(e)) from None
    except NoSuchObject:
        raise errors.NoSuchKey(key or "") from None
