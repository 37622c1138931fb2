"""SageMaker data capture (JSON Lines, FORMATS.md §1) read as Model Monitor reads it.

Each record holds the request (`endpointInput`) and the response (`endpointOutput`), CSV- or
JSON-encoded. Model Monitor analyses one row per predicted instance: the response's columns first,
then the request's (`output_columns_position: START`), header-less (`_c0`, `_c1`, …). A request
of several rows pairs row i of the input with row i of the output.

Files are found under `{uri}/…/yyyy/mm/dd/hh/*.jsonl` and a record counts when its
`eventMetadata.inferenceTime` lies in [start, end) (a record without a readable one counts when its file's
hour folder does). Lines that cannot be used (not JSON, JSON nested deeper than Python's parser goes,
not a capture record, BASE64-encoded, input and output row counts that differ) are counted and
skipped, never fatal; shadow-variant records are
skipped as AWS's analyzer skips them. Rows are yielded in bounded batches.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..batch import Batch, ColumnBatch
from ..errors import MonitorInputError
from ..paths import local_path

BATCH_ROWS = 65536
NESTED_TOO_DEEPLY = "JSON nested too deeply"
_HOUR_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})(?:/|$)")


@dataclass
class CaptureStats:
    """What reading a window found: usable records and rows, and lines skipped with why."""

    files_at_location: int = 0  # every capture file under the location, whatever its hour
    files: int = 0  # those whose hour folder may hold records of the window
    records: int = 0
    rows: int = 0
    malformed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.malformed += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


@dataclass(frozen=True)
class CapturedRecord:
    event_id: str
    inference_id: str | None
    inference_time: datetime | None
    outputs: list[list[str | None]]  # one list of cells per predicted row
    inputs: list[list[str | None]]
    output_keys: tuple[str, ...] = ()  # JSON responses: the keys behind the output cells, in order

    @property
    def merge_key(self) -> str:
        """The ground-truth key: inferenceId when the caller gave one, else eventId (AWS's rule)."""
        return self.inference_id or self.event_id


def capture_root(location: str | os.PathLike) -> Path:
    """The local folder (or file) of a capture location, which must exist.

    A location that does not exist holds no capture at all (a wrong URI, an endpoint that never
    captured): an error. One that exists but has no record in the window is an empty window.
    """
    root = local_path(location, "capture location")
    if not root.exists():
        raise MonitorInputError(
            f"capture location {location} does not exist: it holds no captured data at all "
            "(an hour without traffic under an existing location is an empty window, NoData)"
        )
    return root


def parse_time(text: str | None) -> datetime | None:
    """ISO-8601 as Model Monitor writes it (`2024-01-19T19:27:57Z`), naive input read as UTC."""
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MonitorInputError(f"not an ISO-8601 time: {text!r} (expected e.g. 2024-01-19T19:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def capture_files(
    root: Path, start: datetime | None, end: datetime | None, stats: CaptureStats | None = None
) -> list[Path]:
    """*.jsonl files under root whose hour folder may hold records of [start, end)."""
    if not root.exists():
        return []
    found = [root] if root.is_file() else sorted(root.rglob("*.jsonl"))
    if stats is not None:
        stats.files_at_location += len(found)
    if root.is_file():
        return found
    files = []
    for path in found:
        hour = _hour_of(path.relative_to(root).as_posix())
        if hour is not None and start is not None and hour + timedelta(hours=1) <= start:
            continue
        if hour is not None and end is not None and hour >= end:
            continue
        files.append(path)
    return files


def read_records(
    root: Path, start: datetime | None, end: datetime | None, stats: CaptureStats
) -> Iterator[CapturedRecord]:
    """Usable records of the window, in file and line order (none when root does not exist)."""
    for path in capture_files(root, start, end, stats):
        stats.files += 1
        folder_hour = _hour_of(path.as_posix())
        try:
            with open(path, encoding="utf-8", errors="strict") as f:
                for line in f:
                    if not line.strip():
                        continue
                    record = _parse_record(line, stats)
                    if record is None:
                        continue
                    when = record.inference_time or folder_hour
                    if when is not None and ((start and when < start) or (end and when >= end)):
                        continue
                    stats.records += 1
                    yield record
        except UnicodeDecodeError:
            stats.skip("file is not UTF-8")
        except OSError as e:
            raise MonitorInputError(f"cannot read {path}: {e.strerror or e}") from None


def read_capture(
    uri: str | os.PathLike,
    start: datetime | None,
    end: datetime | None,
    stats: CaptureStats,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Batch]:
    """The window's rows as header-less text batches: output columns, then input columns.

    The location is checked at once (capture_root), before the first batch is asked for.
    """
    return _batches(capture_root(uri), start, end, stats, batch_rows)


def _batches(
    root: Path, start: datetime | None, end: datetime | None, stats: CaptureStats, batch_rows: int
) -> Iterator[Batch]:
    import pyarrow as pa

    rows: list[list[str | None]] = []
    width = 0
    for record in read_records(root, start, end, stats):
        for output, features in zip(record.outputs, record.inputs, strict=True):
            row = output + features
            width = max(width, len(row))
            rows.append(row)
            stats.rows += 1
        if len(rows) >= batch_rows:
            yield _to_batch(rows, width, pa)
            rows = []
    if rows:
        yield _to_batch(rows, width, pa)


def _to_batch(rows: list[list[str | None]], width: int, pa) -> Batch:
    """Rows shorter than the widest become null-padded, as Spark's permissive CSV reading does."""
    columns = []
    for i in range(width):
        cells = [row[i] if i < len(row) else None for row in rows]
        columns.append(ColumnBatch.text(f"_c{i}", pa.array(cells, type=pa.string())))
    return Batch(columns, len(rows))


def _parse_record(line: str, stats: CaptureStats) -> CapturedRecord | None:
    try:
        return _record(line, stats)
    except RecursionError:  # e.g. "[[[[…" 100,000 deep, in the line or in its payload: unusable, not fatal
        stats.skip(NESTED_TOO_DEEPLY)
        return None


def _record(line: str, stats: CaptureStats) -> CapturedRecord | None:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError:
        stats.skip("not JSON")
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("captureData"), dict):
        stats.skip("no captureData")
        return None
    meta = doc.get("eventMetadata") if isinstance(doc.get("eventMetadata"), dict) else {}
    if meta.get("invocationSource") == "ShadowExperiment":
        return None
    capture = doc["captureData"]
    try:
        inputs = _rows(capture.get("endpointInput"), "input")
        outputs = _rows(capture.get("endpointOutput"), "output")
        when = _record_time(meta.get("inferenceTime"))
    except ValueError as e:
        stats.skip(str(e))
        return None
    if not inputs and not outputs:
        stats.skip("no rows")
        return None
    if inputs and outputs and len(inputs) != len(outputs):
        stats.skip("input and output row counts differ")
        return None
    inputs = inputs or [[] for _ in outputs]
    outputs = outputs or [[] for _ in inputs]
    event_id = str(meta.get("eventId") or "")
    inference_id = meta.get("inferenceId")
    keys = _output_keys(capture.get("endpointOutput"))
    return CapturedRecord(event_id, str(inference_id) if inference_id else None, when, outputs, inputs, keys)


def _output_keys(part: dict | None) -> tuple[str, ...]:
    """Keys of a JSON response's first prediction object (`score`, `predicted_label`, …)."""
    if not part or str(part.get("encoding", "")).upper() != "JSON":
        return ()
    try:
        doc = json.loads(part["data"])
    except (json.JSONDecodeError, TypeError):
        return ()
    if isinstance(doc, dict):
        doc = doc.get("predictions", doc.get("outputs", [doc]))
    first = doc[0] if isinstance(doc, list) and doc else None
    return tuple(first) if isinstance(first, dict) and "features" not in first else ()


def _record_time(text: object) -> datetime | None:
    """The record's time; an unreadable one is treated as absent (the file's hour folder decides)."""
    if text is None:
        return None
    try:
        return parse_time(str(text))
    except MonitorInputError:
        return None


def _rows(part: object, side: str) -> list[list[str | None]]:
    """The cells of each row of one side of a capture record."""
    if part is None:
        return []
    if not isinstance(part, dict) or not isinstance(part.get("data"), str):
        raise ValueError(f"{side} has no data")
    encoding = str(part.get("encoding", "")).upper()
    if encoding == "CSV":
        return csv_rows(part["data"])
    if encoding == "JSON":
        return json_rows(part["data"], side)
    raise ValueError(f"{side} encoding {encoding or 'missing'} is not CSV or JSON")


def csv_rows(text: str) -> list[list[str | None]]:
    """CSV payload → rows of raw cells (empty cell = missing), one per non-blank line."""
    lines = [line for line in text.splitlines() if line.strip()]
    if '"' not in text:
        return [[cell if cell != "" else None for cell in line.split(",")] for line in lines]
    return [[cell if cell != "" else None for cell in row] for row in csv.reader(io.StringIO("\n".join(lines)))]


def json_rows(text: str, side: str = "input") -> list[list[str | None]]:
    """JSON payload → rows of cells.

    A request is `{"instances": [...]}`, `{"features": [...]}`, a list of rows or one row; a
    response `{"predictions": [...]}` or a list, where a bare number is one row's single value.
    An instance is a list of values, `{"features": [...]}`, or an object whose values are taken in
    order (`{"score": 0.9, "predicted_label": 1}` → 0.9, 1). Numbers keep their JSON text.
    """
    from .jsonl import _compact, parse_line

    try:
        doc = parse_line(text)
    except json.JSONDecodeError:
        raise ValueError(f"{side} JSON payload is not valid JSON") from None
    if isinstance(doc, dict):
        keys = ("predictions", "outputs") if side == "output" else ("instances", "inputs", "features")
        key = next((k for k in keys if k in doc), None)
        if key == "features":
            doc = [doc[key]]
        elif key is not None:
            doc = doc[key]
        else:
            doc = [doc]
    if not isinstance(doc, list):
        doc = [doc]
    if side == "input" and doc and not any(isinstance(v, (list, dict)) for v in doc):
        doc = [doc]  # one row of values
    rows = []
    for instance in doc:
        if isinstance(instance, dict):
            instance = instance["features"] if "features" in instance else list(instance.values())
        if not isinstance(instance, list):
            instance = [instance]
        rows.append([_cell(v, _compact) for v in instance])
    return rows


def _cell(value: object, compact) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return compact(value)


def _hour_of(path: str) -> datetime | None:
    matches = list(_HOUR_PATH.finditer(path))
    if not matches:
        return None
    year, month, day, hour = (int(g) for g in matches[-1].groups())
    try:
        return datetime(year, month, day, hour, tzinfo=timezone.utc)
    except ValueError:
        return None
