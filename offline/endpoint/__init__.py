"""The local endpoint host: a SageMaker real-time endpoint with data capture, on 127.0.0.1.

Public API (see docs/serving.md):
- `start_endpoint(...) -> LocalEndpoint` (background; `.name`, `.url`, `.capture_uri`, `.stop() -> dict`)
- `serve(spec, ...)` (foreground, what `mlops endpoint serve` runs) and `resolve_model(...)`
- `CaptureSettings`, `EndpointSettings`; `count_capture_records(s3_uri, home)`, `count_records(path)`,
  `read_records(path)` for capture files

Names load on first use, so the local SageMaker service can import the host's records and settings
(`offline.endpoint.hosts`, `.settings`) without the HTTP server and capture writer.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CaptureSettings": "offline.endpoint.settings",
    "EndpointSettings": "offline.endpoint.settings",
    "LocalEndpoint": "offline.endpoint.launch",
    "count_capture_records": "offline.endpoint.capture",
    "count_records": "offline.endpoint.capture",
    "iter_capture_files": "offline.endpoint.capture",
    "read_records": "offline.endpoint.capture",
    "resolve_model": "offline.endpoint.launch",
    "serve": "offline.endpoint.launch",
    "start_endpoint": "offline.endpoint.launch",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
