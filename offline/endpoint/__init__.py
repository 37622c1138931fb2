"""The local endpoint host: a SageMaker real-time endpoint with data capture, on 127.0.0.1.

Public API (see docs/serving.md):
- `start_endpoint(...) -> LocalEndpoint` (background; `.name`, `.url`, `.capture_uri`, `.stop() -> dict`)
- `serve(spec, ...)` (foreground, what `mlops endpoint serve` runs) and `resolve_model(...)`
- `CaptureSettings`, `EndpointSettings`; `count_capture_records(s3_uri, home)`, `count_records(path)`,
  `read_records(path)` for capture files
"""

from __future__ import annotations

from offline.endpoint.capture import count_capture_records, count_records, iter_capture_files, read_records
from offline.endpoint.launch import LocalEndpoint, resolve_model, serve, start_endpoint
from offline.endpoint.settings import CaptureSettings, EndpointSettings

__all__ = [
    "CaptureSettings",
    "EndpointSettings",
    "LocalEndpoint",
    "count_capture_records",
    "count_records",
    "iter_capture_files",
    "read_records",
    "resolve_model",
    "serve",
    "start_endpoint",
]
