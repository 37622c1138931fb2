"""Transport-independent HTTP request and response, shared by the in-process hook and the HTTP server.

Bodies are streams, not bytes, so a multi-gigabyte upload or download never has to sit in memory:
request bodies are readable file-like objects (with botocore's `aws-chunked` framing removed and its
trailing checksum verified), response bodies are bytes or an open file limited to a byte range.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

from offline.aws.errors import ServiceError

_READ_SIZE = 1024 * 1024
# chunk-size [BWS ; chunk-ext] CRLF (RFC 9112 §7.1): hexadecimal digits only; no sign, prefix or underscores
_CHUNK_SIZE_RE = re.compile(rb"^([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n$")


def is_count(text: str) -> bool:
    """A header that holds a byte count: ASCII digits only (str.isdigit also takes '²')."""
    return text.isascii() and text.isdigit()


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
    _form: dict[str, str] | None = field(default=None, repr=False, compare=False)

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

    def form(self) -> dict[str, str]:
        """The query string plus, for a url-encoded POST, the form in the body (read once, then kept)."""
        if self._form is None:
            form = dict(self.query)
            content_type = self.headers.get("content-type", "").lower()
            if self.method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
                form.update(parse_qsl(self.read_body().decode("utf-8", "replace"), keep_blank_values=True))
            self._form = form
        return self._form

    def signing_scope(self) -> tuple[str | None, str | None]:
        """(region, service) from the SigV4 credential scope, if the request is signed.

        `Credential=AKID/date/region/service/aws4_request` in the Authorization header or a presigned URL's
        X-Amz-Credential; SigV4a scopes have no region (`AKID/date/service/aws4_request`).
        """
        auth = self.headers.get("authorization", "")
        if "Credential=" in auth:
            credential = auth.split("Credential=", 1)[1].split(",", 1)[0].strip()
        else:
            credential = self.query_dict().get("X-Amz-Credential", "")
        parts = credential.split("/")
        if len(parts) >= 5 and parts[-1] == "aws4_request":
            return parts[-3] or None, parts[-2] or None
        if len(parts) == 4 and parts[-1] == "aws4_request":
            return None, parts[2] or None
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
    """At most `length` bytes of an underlying stream (a socket's rfile, an open file at an offset).

    `exact=True` is for request bodies: a stream that ends before `length` bytes is an `IncompleteBody`
    error (S3's code), so a client that hangs up mid-upload never leaves a shortened object behind.
    """

    def __init__(self, raw: BinaryIO, length: int, close_raw: bool = False, exact: bool = False):
        self._raw = raw
        self._left = length
        self._close_raw = close_raw
        self._exact = exact

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(_READ_SIZE), b""))
        data = self._raw.read(min(n, self._left))
        if not data and n and self._exact:
            raise ServiceError.of(
                "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header"
            )
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(_READ_SIZE):
            pass

    def close(self) -> None:
        if self._close_raw and not self.closed:
            self._raw.close()
        super().close()


class ChunkedReader(io.RawIOBase):
    """Decodes chunked framing: HTTP/1.1's `Transfer-Encoding: chunked` and botocore's
    `Content-Encoding: aws-chunked` (the same frames, with `;chunk-signature=` extensions and checksum
    trailers).

    Frame: `<hex size>[;ext]\\r\\n<data>\\r\\n` … `0\\r\\n<trailer lines>\\r\\n`. Bad framing is
    `InvalidRequest`, a body that ends early `IncompleteBody`; a checksum trailer that does not match is
    `BadDigest`, and a body longer or shorter than `x-amz-decoded-content-length` declares is refused.
    Every check raises before end of stream is reported, so the object store discards the write.
    """

    _CHECKERS: ClassVar[dict] = {
        "x-amz-checksum-crc32": lambda: _Crc32(),
        "x-amz-checksum-sha1": lambda: _Hashlib("sha1"),
        "x-amz-checksum-sha256": lambda: _Hashlib("sha256"),
    }
    _MAX_TRAILERS = 64

    def __init__(
        self,
        raw: BinaryIO,
        expected_trailer: str | None = None,
        declared_length: str | None = None,
        framing: str = "aws-chunked",
    ):
        self._raw = raw if hasattr(raw, "readline") else _LineReader(raw)
        self._left_in_chunk = 0
        self._done = False
        self._framing = framing
        self._declared = declared_length
        self._decoded = 0
        self._failed: ServiceError | None = None
        checker = self._CHECKERS.get((expected_trailer or "").lower())
        self._checker = checker() if checker else None
        self.trailers: dict[str, str] = {}

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._failed is not None:  # a broken stream stays broken: never resynchronise on its data
            raise self._failed
        try:
            return self._read(n)
        except ServiceError as error:
            self._failed = error
            raise

    def _read(self, n: int) -> bytes:
        out = bytearray()
        while not self._done and (n is None or n < 0 or len(out) < n):
            if self._left_in_chunk == 0:
                self._next_chunk_header()
                continue
            want = self._left_in_chunk if n is None or n < 0 else min(self._left_in_chunk, n - len(out))
            data = self._raw.read(min(want, _READ_SIZE))
            if not data:
                raise _incomplete(f"{self._framing} body ended in the middle of a chunk")
            out += data
            if self._checker is not None:
                self._checker.update(data)
            self._left_in_chunk -= len(data)
            self._count(len(data))
            if self._left_in_chunk == 0 and self._raw.read(2) != b"\r\n":
                raise _malformed(f"{self._framing} chunk not terminated by CRLF")
        return bytes(out)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(_READ_SIZE):
            pass

    def _next_chunk_header(self) -> None:
        line = self._raw.readline(4096)
        if not line:
            raise _incomplete(f"{self._framing} body ended before its last chunk")
        match = _CHUNK_SIZE_RE.match(line)
        if match is None:
            raise _malformed(f"malformed {self._framing} chunk size line (a hexadecimal size, then CRLF)")
        size = int(match.group(1), 16)
        if size:
            self._left_in_chunk = size
            return
        for _ in range(self._MAX_TRAILERS):
            line = self._raw.readline(8192)
            if line == b"\r\n":
                break
            if not line.endswith(b"\r\n"):
                raise _incomplete(f"{self._framing} body ended in its trailers")
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not name.strip():
                raise _malformed(f"malformed {self._framing} trailer line")
            self.trailers[name.strip().lower()] = value.strip()
        else:
            raise _malformed(f"more than {self._MAX_TRAILERS} {self._framing} trailer lines")
        self._done = True
        self._count(0, final=True)
        self._verify()

    def _count(self, added: int, final: bool = False) -> None:
        """Hold the body to x-amz-decoded-content-length, which S3 needs and botocore always sends."""
        if self._declared is None:
            return
        if not is_count(self._declared):
            raise ServiceError.of(
                "InvalidArgument",
                "x-amz-decoded-content-length must be a non-negative integer",
                ArgumentName="x-amz-decoded-content-length",
            )
        self._decoded += added
        declared = int(self._declared)
        if self._decoded > declared:
            raise _malformed(
                f"the {self._framing} body holds more than the {declared} bytes x-amz-decoded-content-length declares"
            )
        if final and self._decoded < declared:
            raise _incomplete(
                f"You did not provide the number of bytes specified by x-amz-decoded-content-length ({declared})"
            )

    def _verify(self) -> None:
        if self._checker is None:
            return
        for name, value in self.trailers.items():
            if name in self._CHECKERS and value != self._checker.b64digest():
                algorithm = name[len("x-amz-checksum-") :].upper()
                message = f"The {algorithm} you specified did not match the calculated checksum."
                raise ServiceError.of("BadDigest", message, 400)


AwsChunkedReader = ChunkedReader


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


def _incomplete(message: str) -> ServiceError:
    return ServiceError.of("IncompleteBody", message, 400)


def _malformed(message: str) -> ServiceError:
    return ServiceError.of("InvalidRequest", message, 400)


def decoded_body(headers: Headers, raw: BinaryIO, length: int | None) -> tuple[BinaryIO, int | None]:
    """The request body with transfer framing removed: (stream, decoded length if known)."""
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",") if e.strip()]
    if "aws-chunked" in encodings:
        decoded = headers.get("x-amz-decoded-content-length")
        reader = ChunkedReader(raw, headers.get("x-amz-trailer"), decoded)
        return reader, int(decoded) if decoded and is_count(decoded) else None
    return raw, length
