"""Data capture as SageMaker writes it: one compact JSON line per sampled invocation, in hourly folders.

Record (FORMATS.md §1.3, checked against real AWS lines in ../shared/reference):
`{"captureData":{"endpointInput":{"observedContentType","mode","data","encoding"},"endpointOutput":{…}},
"eventMetadata":{"eventId","inferenceId"?,"inferenceTime"},"eventVersion":"0"}` — keys in that order,
no spaces, `data` the raw body as a string (CSV/JSON by the declared content types, else base64).
Files: `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/MM-SS-mmm-<uuid4>.jsonl` (UTC), in the local
object store's layout, so `s3://bucket/datacapture/...` is `$MLOPS_HOME/s3/bucket/datacapture/...`.

How it stays off the request path: a request builds its line (a few microseconds: string formatting,
no I/O) and appends it to a deque; one writer thread per worker wakes every `flush_interval` and publishes.

What a reader sees: every capture file in the store is, at every instant, a complete JSON Lines file.
The writer keeps the open file's bytes in memory and publishes each flush as a new version of the same key
(temp file in the same folder, then rename — the object store's own atomic write), as if it re-uploaded
the object; a reader that already opened the file keeps a consistent older version. A file is closed
(no new versions) after `max_file_seconds`, at `max_file_bytes`, or when the UTC hour changes. After a
crash of the process (SIGKILL included) the store holds every record flushed up to the last completed
flush (at most one interval lost) and no broken line; an interrupted publish leaves only a temp file,
which the store never lists. Durability against power loss: a file is fsynced when it is closed (and
every flush with `fsync_each_flush`, which costs disk bandwidth under load).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from offline.endpoint.ids import new_id
from offline.endpoint.settings import CaptureSettings
from offline.store import ObjectStore, parse_s3_uri, validate_key
from processing.atomic import TMP_PREFIX, atomic_write

# JSON string literal, C-accelerated; non-ASCII stays UTF-8 (no \uXXXX), as AWS's writer (Jackson) does.
_encode_string = json.encoder.encode_basestring


@dataclass
class CaptureStats:
    submitted: int = 0  # records handed to the writer
    written: int = 0  # records published in a complete file
    dropped: int = 0  # records refused because publishing kept failing (disk full, …)
    files: int = 0


class RecordEncoder:
    """Builds capture lines for one endpoint; cheap enough to run on the request path."""

    def __init__(self, settings: CaptureSettings):
        self._csv = {_media_type(t) for t in settings.csv_content_types}
        self._json = {_media_type(t) for t in settings.json_content_types}
        self._input = settings.mode in ("input", "both")
        self._output = settings.mode in ("output", "both")
        self._encodings: dict[str, str] = {}
        self._second = -1
        self._stamp = ""

    def encode(
        self,
        when: float,
        input_type: str,
        input_body: bytes,
        output_type: str,
        output_body: bytes,
        inference_id: str | None = None,
    ) -> bytes:
        parts = []
        if self._input:
            parts.append('"endpointInput":' + self._field(input_type, input_body, "INPUT"))
        if self._output:
            parts.append('"endpointOutput":' + self._field(output_type, output_body, "OUTPUT"))
        second = int(when)
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        inference = "" if inference_id is None else ',"inferenceId":' + _encode_string(inference_id)
        return (
            '{"captureData":{'
            + ",".join(parts)
            + '},"eventMetadata":{"eventId":"'
            + new_id()
            + '"'
            + inference
            + ',"inferenceTime":"'
            + self._stamp
            + '"},"eventVersion":"0"}\n'
        ).encode("utf-8")

    def _field(self, content_type: str, body: bytes, mode: str) -> str:
        encoding = self._encodings.get(content_type)
        if encoding is None:
            encoding = self._encoding_of(content_type)
        if encoding == "BASE64":
            data = base64.b64encode(body).decode("ascii")
        else:
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError:  # declared as text but is not: keep it, losslessly
                encoding, data = "BASE64", base64.b64encode(body).decode("ascii")
        return (
            '{"observedContentType":'
            + _encode_string(content_type)
            + ',"mode":"'
            + mode
            + '","data":'
            + _encode_string(data)
            + ',"encoding":"'
            + encoding
            + '"}'
        )

    def _encoding_of(self, content_type: str) -> str:
        media = _media_type(content_type)
        encoding = "CSV" if media in self._csv else "JSON" if media in self._json else "BASE64"
        if len(self._encodings) < 256:  # clients choose these strings: keep the cache bounded
            self._encodings[content_type] = encoding
        return encoding


class CaptureWriter:
    """One worker's capture files: batches lines in memory and publishes them at least every interval."""

    def __init__(
        self,
        directory: Path,
        settings: CaptureSettings,
        *,
        fsync_each_flush: bool = False,
        clock=time.time,
        log=None,
    ):
        self.directory = Path(directory)
        self.settings = settings
        self.stats = CaptureStats()
        self._fsync = fsync_each_flush
        self._clock = clock
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._queue: deque[tuple[float, bytes]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: _OpenFile | None = None
        self._failing_since: float | None = None

    # -- request path ------------------------------------------------------------------------------------

    def submit(self, when: float, line: bytes) -> None:
        """Queue one record; never blocks and never touches the disk."""
        self._queue.append((when, line))
        self.stats.submitted += 1

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> CaptureStats:
        """Publish everything queued so far and stop the writer thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self.flush()
        self._seal(self._file)
        return self.stats

    def _run(self) -> None:
        interval = self.settings.flush_interval
        deadline = time.monotonic() + interval
        while True:
            stopping = self._stop.wait(max(0.0, deadline - time.monotonic()))
            deadline = time.monotonic() + interval
            try:
                self.flush()
            except Exception as e:  # keep capturing; the next flush retries what is still pending
                self._log(f"data capture: flush failed: {e}")
            if stopping:
                return

    # -- writing -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Publish the queued lines (called by the writer thread; tests may call it directly)."""
        now = self._clock()
        count = len(self._queue)
        current = self._file
        if count == 0:
            if current is not None and current.pending:
                self._try_publish(current, now)  # the last publish failed: try again
            elif current is not None and self._expired(current, now):
                self._seal(current)
                self._file = None
            return
        batch = [self._queue.popleft() for _ in range(count)]
        start = 0
        for i in range(1, count + 1):  # one chunk per UTC hour, so each record lands in its hour's folder
            if i == count or int(batch[i][0] // 3600) != int(batch[start][0] // 3600):
                chunk = batch[start:i]
                self._append(chunk[0][0], b"".join(line for _, line in chunk), len(chunk), now)
                start = i

    def _append(self, first: float, data: bytes, records: int, now: float) -> None:
        hour = int(first // 3600)
        current = self._file
        # Never rotate away from a file whose last version failed to publish: its records would be lost.
        if current is None or (
            not current.pending
            and (
                current.hour != hour
                or self._expired(current, now)
                or (current.size and current.size + len(data) > self.settings.max_file_bytes)
            )
        ):
            self._seal(current)
            current = self._file = self._new_file(hour, first, now)
        if self._failing_since is not None and current.size > 4 * self.settings.max_file_bytes:
            self.stats.dropped += records  # publishing has failed for a while: do not grow without bound
            return
        current.content += data
        current.pending += records
        self._try_publish(current, now)

    def _try_publish(self, current: _OpenFile, now: float) -> None:
        try:
            self._publish(current)
        except OSError as e:
            if self._failing_since is None:
                self._failing_since = now
                self._log(f"data capture: cannot write {current.path}: {e}; retrying every flush")
            return
        if self._failing_since is not None:
            self._log("data capture: writing again")
            self._failing_since = None
        self.stats.written += current.pending
        current.pending = 0

    def _new_file(self, hour: int, first: float, now: float) -> _OpenFile:
        when = now if int(now // 3600) == hour else first  # name it inside its hour, as AWS does
        parts = time.gmtime(when)
        folder = self.directory / time.strftime("%Y/%m/%d/%H", parts)
        millis = int(when * 1000) % 1000
        name = f"{time.strftime('%M-%S', parts)}-{millis:03d}-{uuid.uuid4()}.jsonl"
        self.stats.files += 1
        return _OpenFile(path=folder / name, hour=hour, opened=now)

    def _expired(self, current: _OpenFile, now: float) -> bool:
        return (
            now - current.opened >= self.settings.max_file_seconds
            or current.size >= self.settings.max_file_bytes
            or int(now // 3600) != current.hour
        )

    def _seal(self, current: _OpenFile | None) -> None:
        """A file gets no more versions: make its last one durable (fsync), once."""
        if current is None or self._fsync or current.size == 0 or current.pending:
            return
        with contextlib.suppress(OSError):
            fd = os.open(current.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _publish(self, current: _OpenFile) -> None:
        """Replace the file with its new, longer version in one rename: readers never see a torn line."""
        atomic_write(current.path, current.content, durable=self._fsync)


@dataclass
class _OpenFile:
    path: Path
    hour: int
    opened: float
    content: bytearray = None  # type: ignore[assignment]
    pending: int = 0  # records in `content` not yet published

    def __post_init__(self) -> None:
        if self.content is None:
            self.content = bytearray()

    @property
    def size(self) -> int:
        return len(self.content)


def capture_directory(
    settings: CaptureSettings, endpoint: str, variant: str, home: str | os.PathLike | None = None
) -> Path:
    """Where `<destination>/<endpoint>/<variant>/` lives in the local object store (validated as S3 keys)."""
    bucket, prefix = parse_s3_uri(settings.destination_uri)
    key = "/".join(p for p in (prefix.strip("/"), endpoint, variant) if p)
    validate_key(key + "/2000/01/01/00/00-00-000-x.jsonl")
    store = ObjectStore.for_home(home)
    return store.bucket_path(bucket).joinpath(*key.split("/"))


def endpoint_capture_uri(settings: CaptureSettings, endpoint: str) -> str:
    """The s3:// prefix of one endpoint's capture files (all variants)."""
    return f"{settings.destination_uri}/{endpoint}"


def iter_capture_files(directory: str | os.PathLike) -> Iterator[Path]:
    """Capture files below a folder, oldest name first; temp files of in-flight writes are skipped."""
    root = Path(directory)
    if not root.is_dir():
        return iter(())
    files = [p for p in root.rglob("*.jsonl") if not p.name.startswith(TMP_PREFIX)]
    return iter(sorted(files))


def read_records(path: str | os.PathLike) -> Iterator[dict]:
    """The records of one capture file; a line that is not a JSON object is skipped, as readers should."""
    with open(path, "rb") as f:
        for line in f:
            if not line.endswith(b"\n"):
                continue  # cannot happen with this writer; a reader of other files should do the same
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    yield record


def count_records(directory: str | os.PathLike) -> int:
    """How many capture records lie below a folder (e.g. one endpoint's capture prefix)."""
    return sum(1 for path in iter_capture_files(directory) for _ in read_records(path))


def count_capture_records(capture_uri: str, home: str | os.PathLike | None = None) -> int:
    """Records under an s3:// capture prefix of the local object store (e.g. `LocalEndpoint.capture_uri`)."""
    return count_records(ObjectStore.for_home(home).path(capture_uri.rstrip("/")))


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
