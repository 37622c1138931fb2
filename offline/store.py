"""The local object store: S3's bucket/key namespace mirrored as files under `$MLOPS_HOME/s3/<bucket>/<key>`.

Local jobs read and write the files directly; the local S3 service and the pipeline executor go through
this class. Every write is atomic (a temp file in the target directory, fsync, os.replace), so a crash or
a failed upload never leaves a half-written object and readers see the old object or the new one.

A filesystem is not a key-value store, so keys that cannot map to a file are rejected with a clear error:
empty segments (`a//b`), `.`/`..` segments, a trailing `/`, and a key that is also a "folder" of other
keys (`a/b` and `a/b/c` cannot both exist). Bookkeeping lives in dot-directories at the root (`.meta`,
`.uploads`); bucket names cannot start with a dot, so they never collide.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from offline.home import mlops_home
from processing import s3uri
from processing.atomic import TMP_PREFIX, atomic_file, atomic_write

META_DIR = ".meta"
UPLOADS_DIR = ".uploads"
DEFAULT_CONTENT_TYPE = "binary/octet-stream"  # what S3 stores when a PUT names no Content-Type
_CHUNK = 1024 * 1024


class ObjectStoreError(Exception):
    """Base class of every error the object store raises."""


class InvalidS3Uri(ObjectStoreError, ValueError):
    pass


class InvalidBucketName(ObjectStoreError, ValueError):
    pass


class InvalidKey(ObjectStoreError, ValueError):
    pass


class KeyConflict(ObjectStoreError, ValueError):
    """The key collides with a "folder" of other keys (or the reverse), which a filesystem cannot hold."""


class NoSuchObject(ObjectStoreError, FileNotFoundError):
    pass


class NoSuchBucketError(ObjectStoreError, FileNotFoundError):
    pass


@dataclass(frozen=True)
class ObjectInfo:
    """What S3 reports about an object (HeadObject)."""

    bucket: str
    key: str
    size: int
    last_modified: float  # epoch seconds
    etag: str  # quoted, as S3 returns it
    content_type: str = DEFAULT_CONTENT_TYPE
    metadata: dict[str, str] = field(default_factory=dict)  # user metadata (x-amz-meta-*)
    extra: dict[str, str] = field(default_factory=dict)  # stored system headers: Content-Encoding, Cache-Control…

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); the key may be empty (`s3://bucket` or `s3://bucket/`)."""
    try:
        return s3uri.parse_s3_uri(uri)
    except s3uri.InvalidBucketName as e:
        raise InvalidBucketName(str(e)) from e
    except s3uri.S3UriError as e:
        raise InvalidS3Uri(str(e)) from e


def validate_bucket_name(bucket: str) -> None:
    """S3's naming rules for general purpose buckets."""
    try:
        s3uri.validate_bucket_name(bucket)
    except s3uri.S3UriError as e:
        raise InvalidBucketName(str(e)) from e


def validate_key(key: str) -> None:
    """Keys that S3 accepts *and* that map to exactly one file below the bucket directory."""
    if not key:
        raise InvalidKey("Object key must not be empty")
    if len(key.encode("utf-8")) > 1024:
        raise InvalidKey("Object key is longer than S3's limit of 1024 bytes")
    if "\x00" in key:
        raise InvalidKey(f"Object key must not contain NUL characters: {key!r}")
    if key.startswith("/"):
        raise InvalidKey(f"Object key must be relative (no leading '/'): {key!r}")
    if key.endswith("/"):
        raise InvalidKey(f"Object key must not end with '/' (folder markers are not stored locally): {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(f"Object key must not contain empty, '.' or '..' segments: {key!r}")
        if segment.startswith(TMP_PREFIX):
            raise InvalidKey(f"Object key uses the reserved segment prefix {TMP_PREFIX!r}: {key!r}")
        if len(segment.encode("utf-8")) > 255:
            raise InvalidKey(f"Object key segment longer than 255 bytes cannot be stored locally: {key!r}")


class ObjectStore:
    """S3 semantics over a directory tree; thread- and process-safe for whole-object reads and writes."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> ObjectStore:
        return cls(mlops_home(home) / "s3")

    # -- locations -------------------------------------------------------------------------------------

    def path(self, uri: str) -> Path:
        """Where the object (or, for `s3://bucket`, the bucket) lives on disk; validates the URI."""
        bucket, key = parse_s3_uri(uri)
        return self.object_path(bucket, key) if key else self.bucket_path(bucket)

    def bucket_path(self, bucket: str) -> Path:
        validate_bucket_name(bucket)
        return self.root / bucket

    def object_path(self, bucket: str, key: str) -> Path:
        validate_key(key)
        base = self.bucket_path(bucket)
        path = base.joinpath(*key.split("/"))
        # Belt and braces: the segment rules above already forbid escaping, symlinks must not either.
        if not _is_within(path, base):
            raise InvalidKey(f"Object key escapes its bucket: {key!r}")
        return path

    def _meta_path(self, bucket: str, key: str) -> Path:
        return self.root / META_DIR / "objects" / bucket / (key + ".json")

    # -- buckets ---------------------------------------------------------------------------------------

    def create_bucket(self, bucket: str, region: str = "us-east-1") -> bool:
        """Create the bucket directory; False if it already existed."""
        path = self.bucket_path(bucket)
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        info = self.root / META_DIR / "buckets" / f"{bucket}.json"
        if not existed or not info.exists():
            atomic_write(info, json.dumps({"region": region, "created": time.time()}).encode(), durable=True)
        return not existed

    def bucket_exists(self, bucket: str) -> bool:
        return self.bucket_path(bucket).is_dir()

    def bucket_info(self, bucket: str) -> dict:
        """{"region", "created"} of an existing bucket (buckets made by a direct write default to us-east-1)."""
        path = self.bucket_path(bucket)
        if not path.is_dir():
            raise NoSuchBucketError(f"The bucket does not exist: {bucket}")
        with contextlib.suppress(FileNotFoundError, ValueError):
            return json.loads((self.root / META_DIR / "buckets" / f"{bucket}.json").read_text())
        return {"region": "us-east-1", "created": path.stat().st_mtime}

    def list_buckets(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def delete_bucket(self, bucket: str) -> None:
        path = self.bucket_path(bucket)
        if any(self.iter_keys(bucket)):
            raise KeyConflict(f"The bucket {bucket} is not empty")
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(self.root / META_DIR / "objects" / bucket, ignore_errors=True)
        (self.root / META_DIR / "buckets" / f"{bucket}.json").unlink(missing_ok=True)

    # -- writes ----------------------------------------------------------------------------------------

    def put_bytes(self, uri: str, data: bytes, **meta) -> ObjectInfo:
        return self.put_stream(uri, _BytesReader(data), **meta)

    def put_file(self, uri: str, src: str | os.PathLike, **meta) -> ObjectInfo:
        with open(src, "rb") as f:
            return self.put_stream(uri, f, **meta)

    def put_dir(self, prefix_uri: str, src_dir: str | os.PathLike) -> list[str]:
        """Upload every file below `src_dir` under the prefix, keeping the relative layout; returns the URIs."""
        bucket, prefix = parse_s3_uri(prefix_uri)
        src = Path(src_dir)
        if not src.is_dir():
            raise NotADirectoryError(f"Not a directory: {src}")
        prefix = prefix.rstrip("/")
        uris = []
        for file in sorted(p for p in src.rglob("*") if p.is_file()):
            rel = file.relative_to(src).as_posix()
            uri = f"s3://{bucket}/{prefix}/{rel}" if prefix else f"s3://{bucket}/{rel}"
            self.put_file(uri, file)
            uris.append(uri)
        return uris

    def put_stream(
        self,
        uri: str,
        stream: BinaryIO | Iterable[bytes],
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        etag: str | None = None,
    ) -> ObjectInfo:
        """Write the object from a readable stream (or an iterable of chunks) atomically.

        If reading the stream raises, the old object (if any) is left exactly as it was.
        """
        bucket, key = self._object_of(uri)
        target = self.object_path(bucket, key)
        self._make_parent(target, key)
        if target.is_dir():
            raise KeyConflict(f"Cannot store {uri}: other objects use it as a folder (s3://{bucket}/{key}/...)")
        md5 = hashlib.md5(usedforsecurity=False)
        with atomic_file(target, durable=True) as out:
            for chunk in _chunks(stream):
                md5.update(chunk)
                out.write(chunk)
        stat = target.stat()
        info = ObjectInfo(
            bucket=bucket,
            key=key,
            size=stat.st_size,
            last_modified=stat.st_mtime,
            etag=etag or f'"{md5.hexdigest()}"',
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            metadata=dict(metadata or {}),
            extra=dict(extra or {}),
        )
        self._write_meta(info, stat)
        return info

    def delete(self, uri: str) -> bool:
        """Delete the object; False if it did not exist (S3's DeleteObject succeeds either way)."""
        bucket, key = self._object_of(uri)
        path = self.object_path(bucket, key)
        try:
            if path.is_dir():
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        self._meta_path(bucket, key).unlink(missing_ok=True)
        _prune_empty_dirs(path.parent, self.bucket_path(bucket))
        _prune_empty_dirs(self._meta_path(bucket, key).parent, self.root / META_DIR / "objects" / bucket)
        return True

    # -- reads -----------------------------------------------------------------------------------------

    def exists(self, uri: str) -> bool:
        bucket, key = parse_s3_uri(uri)
        if not key:
            return self.bucket_exists(bucket)
        return self.object_path(bucket, key).is_file()

    def get_bytes(self, uri: str) -> bytes:
        with self.open(uri) as f:
            return f.read()

    def open(self, uri: str) -> BinaryIO:
        """Open the object for reading; the handle keeps seeing this version even if it is replaced."""
        bucket, key = self._object_of(uri)
        try:
            return open(self.object_path(bucket, key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NoSuchObject(f"The specified key does not exist: {uri}") from None

    def head(self, uri: str) -> ObjectInfo:
        bucket, key = self._object_of(uri)
        path = self.object_path(bucket, key)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NoSuchObject(f"The specified key does not exist: {uri}") from None
        if not path.is_file():
            raise NoSuchObject(f"The specified key does not exist: {uri}")
        meta = self._read_meta(bucket, key, stat)
        if meta is None:  # written by a local job directly: derive what S3 would report, once
            info = ObjectInfo(bucket, key, stat.st_size, stat.st_mtime, f'"{_md5_file(path)}"')
            with contextlib.suppress(OSError):
                self._write_meta(info, stat)
            return info
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=stat.st_size,
            last_modified=stat.st_mtime,
            etag=meta["etag"],
            content_type=meta.get("content_type") or DEFAULT_CONTENT_TYPE,
            metadata=meta.get("metadata") or {},
            extra=meta.get("extra") or {},
        )

    def list(self, prefix_uri: str) -> list[str]:
        """URIs of every object whose key starts with the prefix (a plain string prefix, as S3), sorted."""
        bucket, prefix = parse_s3_uri(prefix_uri)
        return [f"s3://{bucket}/{key}" for key in self.iter_keys(bucket, prefix)]

    def iter_keys(self, bucket: str, prefix: str = "", start_after: str = "") -> Iterator[str]:
        """Keys in S3's order (UTF-8 byte order) starting with `prefix` and greater than `start_after`."""
        base = self.bucket_path(bucket)
        # Only walk the deepest directory the prefix names; keys outside it cannot match.
        walk_root = base.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else base
        if not _is_within(walk_root, base) or not walk_root.is_dir():
            return iter(())
        keys = []
        for dirpath, dirnames, filenames in os.walk(walk_root):
            dirnames[:] = [d for d in dirnames if not d.startswith(TMP_PREFIX)]
            rel_dir = Path(dirpath).relative_to(base).as_posix()
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix) and key > start_after:
                    keys.append(key)
        keys.sort(key=lambda k: k.encode("utf-8"))
        return iter(keys)

    def download(self, uri_or_prefix: str, dest: str | os.PathLike) -> list[Path]:
        """Copy objects to local files the way SageMaker's S3 input download does.

        An exact object goes into `dest` under its basename if `dest` is an existing directory, else to
        the file `dest`. Otherwise the URI is a prefix: every object below it lands in `dest` at its key
        relative to the prefix. Returns the files written (empty if nothing matched).
        """
        bucket, key = parse_s3_uri(uri_or_prefix)
        dest = Path(dest)
        if key and not key.endswith("/") and self.exists(uri_or_prefix):
            target = dest / key.rsplit("/", 1)[-1] if dest.is_dir() else dest
            self._copy_out(uri_or_prefix, target)
            return [target]
        written = []
        for found in self.iter_keys(bucket, key):
            rel = found[len(key) :].lstrip("/")
            target = dest.joinpath(*rel.split("/"))
            if not _is_within(target, dest):
                raise InvalidKey(f"Refusing to write outside {dest}: {found!r}")
            self._copy_out(f"s3://{bucket}/{found}", target)
            written.append(target)
        return written

    # -- helpers ---------------------------------------------------------------------------------------

    def _object_of(self, uri: str) -> tuple[str, str]:
        bucket, key = parse_s3_uri(uri)
        validate_key(key)
        return bucket, key

    def _make_parent(self, target: Path, key: str) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise KeyConflict(
                f"Cannot store key {key!r}: a parent 'folder' of it is already an object in this bucket"
            ) from None

    def _copy_out(self, uri: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.open(uri) as src, atomic_file(target) as out:
            shutil.copyfileobj(src, out, _CHUNK)

    def _write_meta(self, info: ObjectInfo, stat: os.stat_result) -> None:
        doc = {
            "etag": info.etag,
            "content_type": info.content_type,
            "metadata": info.metadata,
            "extra": info.extra,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
        }
        path = self._meta_path(info.bucket, info.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(doc).encode(), durable=False)

    def _read_meta(self, bucket: str, key: str, stat: os.stat_result) -> dict | None:
        try:
            doc = json.loads(self._meta_path(bucket, key).read_bytes())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        # A job that rewrote the file directly makes the sidecar stale: ignore it.
        if doc.get("size") != stat.st_size or doc.get("mtime_ns") != stat.st_mtime_ns:
            return None
        return doc


class _BytesReader:
    def __init__(self, data: bytes):
        self._data = memoryview(data)
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else self._pos + n
        chunk = self._data[self._pos : end].tobytes()
        self._pos += len(chunk)
        return chunk


def _chunks(stream) -> Iterator[bytes]:
    if hasattr(stream, "read"):
        while chunk := stream.read(_CHUNK):
            yield chunk
    else:
        for chunk in stream:
            if chunk:
                yield bytes(chunk)


def _md5_file(path: Path) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            md5.update(chunk)
    return md5.hexdigest()


def _is_within(path: Path, base: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True


def _prune_empty_dirs(start: Path, stop: Path) -> None:
    """Remove now-empty directories from `start` up to (not including) `stop`."""
    current = start
    while current != stop and _is_within(current, stop):
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent
