"""Transport-independent HTTP request and response, shared by the in-process hook and the HTTP server.

Bodies are streams, not bytes, so a multi-gigabyte upload or download never has to sit in memory:
request bodies are readable file-like objects (with botocore's `aws-chunked` framing removed and its
trailing checksum verified), response bodies are bytes or an open file limited to a byte range.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from offline.aws.errors import ServiceError


class Headers(dict):
    """Case-insensitive header map (keys stored lower-case)."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None):
        super().__init__()
        for key, value in items.items() if isinstance(items, Mapping) else items or []:
            self[key] = value

    def __setitem__(self, key: str, value) -> None:
        super().__setitem__(key.lower(), value.decode("latin-1") if isinstance(value, bytes) else str(value))

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default=None):
        return super().get(key.lower(), default)

    def pop(self, key: str, *default):
        return super().pop(key.lower(), *default)


@dataclass
class Request:
    method: str
    url: str  # full URL as sent (scheme://host[:port]/path?query)
    headers: Headers
    body: BinaryIO = field(default_factory=io.BytesIO)
    body_length: int | None = None  # decoded length when known

    @property
    def host(self) -> str:
        return self.headers.get("host") or urlsplit(self.url).netloc

    @property
    def raw_path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.url).query, keep_blank_values=True)

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    def read_body(self, limit: int = 64 * 1024 * 1024) -> bytes:
        data = self.body.read(limit + 1)
        if len(data) > limit:
            raise ServiceError.of("InvalidRequest", f"Request body larger than {limit} bytes", 400)
        return data

    def signing_scope(self) -> tuple[str | None, str | None]:
        """(region, service) from the SigV4 credential scope, if the request is signed."""
        auth = self.headers.get("authorization", "")
        credential = ""
        if "Credential=" in auth:
            credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
        else:
            credential = self.query_dict().get("X-Amz-Credential", "")
        parts = credential.split("/")
        if len(parts) >= 5:
            return parts[2], parts[3]
        return None, None


@dataclass
class Response:
    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes | BinaryIO = b""
    length: int | None = None  # bytes the body stream will yield (required when body is a stream)

    @property
    def content_length(self) -> int:
        return len(self.body) if isinstance(self.body, bytes) else int(self.length or 0)

    def iter_body(self, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        if isinstance(self.body, bytes):
            if self.body:
                yield self.body
            return
        try:
            while data := self.body.read(chunk):
                yield data
        finally:
            self.body.close()


class LimitedReader(io.RawIOBase):
    """At most `length` bytes of an underlying stream (a socket's rfile, an open file at an offset)."""

    def __init__(self, raw: BinaryIO, length: int, close_raw: bool = False):
        self._raw = raw
        self._left = length
        self._close_raw = close_raw

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._raw.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(1024 * 1024):
            pass

    def close(self) -> None:
        if self._close_raw and not self.closed:
            self._raw.close()
        super().close()


class AwsChunkedReader(io.RawIOBase):
    """Decodes botocore's `Content-Encoding: aws-chunked` framing and checks its trailing checksum.

    Frame: `<hex size>[;chunk-signature=…]\\r\\n<data>\\r\\n` … `0\\r\\n<trailer lines>\\r\\n\\r\\n`.
    A checksum mismatch raises at end of stream, so the object store discards the write.
    """

    _CHECKERS: ClassVar[dict] = {
        "x-amz-checksum-crc32": lambda: _Crc32(),
        "x-amz-checksum-sha1": lambda: _Hashlib("sha1"),
        "x-amz-checksum-sha256": lambda: _Hashlib("sha256"),
    }

    def __init__(self, raw: BinaryIO, expected_trailer: str | None = None):
        self._raw = _LineReader(raw)
        self._left_in_chunk = 0
        self._done = False
        checker = self._CHECKERS.get((expected_trailer or "").lower())
        self._checker = checker() if checker else None
        self.trailers: dict[str, str] = {}

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while not self._done and (n is None or n < 0 or len(out) < n):
            if self._left_in_chunk == 0:
                self._next_chunk_header()
                continue
            want = self._left_in_chunk if n is None or n < 0 else min(self._left_in_chunk, n - len(out))
            data = self._raw.read(want)
            if not data:
                raise _bad_body("aws-chunked body ended in the middle of a chunk")
            out += data
            if self._checker is not None:
                self._checker.update(data)
            self._left_in_chunk -= len(data)
            if self._left_in_chunk == 0 and self._raw.read(2) != b"\r\n":
                raise _bad_body("aws-chunked chunk not terminated by CRLF")
        return bytes(out)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _next_chunk_header(self) -> None:
        line = self._raw.readline(4096)
        if not line.endswith(b"\r\n"):
            raise _bad_body("malformed aws-chunked chunk header")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _bad_body("malformed aws-chunked chunk size") from None
        if size:
            self._left_in_chunk = size
            return
        while (line := self._raw.readline(8192)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            self.trailers[name.strip().lower()] = value.strip()
        self._done = True
        self._verify()

    def _verify(self) -> None:
        if self._checker is None:
            return
        for name, value in self.trailers.items():
            if name in self._CHECKERS and value != self._checker.b64digest():
                algorithm = name[len("x-amz-checksum-") :].upper()
                message = f"The {algorithm} you specified did not match the calculated checksum."
                raise ServiceError.of("BadDigest", message, 400)


class _LineReader:
    """readline/read over any object with read() (botocore's AwsChunkedWrapper has no readline)."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._buffer = b""

    def _fill(self) -> bool:
        data = self._raw.read(64 * 1024)
        self._buffer += data
        return bool(data)

    def readline(self, limit: int = 65536) -> bytes:
        while b"\n" not in self._buffer and len(self._buffer) < limit and self._fill():
            pass
        end = self._buffer.find(b"\n")
        end = min(limit, len(self._buffer)) if end < 0 else min(end + 1, limit)
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        return line

    def read(self, n: int) -> bytes:
        if not self._buffer:
            self._fill()
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data


class _Crc32:
    def __init__(self):
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def b64digest(self) -> str:
        return base64.b64encode(self.value.to_bytes(4, "big")).decode()


class _Hashlib:
    def __init__(self, name: str):
        self.hash = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self.hash.update(data)

    def b64digest(self) -> str:
        return base64.b64encode(self.hash.digest()).decode()


def _bad_body(message: str) -> ServiceError:
    return ServiceError.of("IncompleteBody", message, 400)


def decoded_body(headers: Headers, raw: BinaryIO, length: int | None) -> tuple[BinaryIO, int | None]:
    """The request body with transfer framing removed: (stream, decoded length if known)."""
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",") if e.strip()]
    if "aws-chunked" in encodings:
        decoded = headers.get("x-amz-decoded-content-length")
        reader = AwsChunkedReader(raw, headers.get("x-amz-trailer"))
        return reader, int(decoded) if decoded and decoded.isdigit() else None
    return raw, length
