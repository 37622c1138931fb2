"""What a local endpoint serves and how it captures: plain data, validated once, passed to every worker.

The names follow the SageMaker API they stand for: `CaptureSettings` is an endpoint config's
DataCaptureConfig (InitialSamplingPercentage, DestinationS3Uri, CaptureOptions, CaptureContentTypeHeader),
with the SageMaker Python SDK's defaults (text/csv declared as CSV, application/json as JSON).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_BUCKET, LOCAL_REGION
from processing.names import InvalidName, check_name

DEFAULT_CAPTURE_DESTINATION = f"s3://{LOCAL_BUCKET}/datacapture"
# What the SageMaker SDK sets for a model whose handler is code/inference.py (framework mode of the image).
DEFAULT_ENVIRONMENT = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
DEFAULT_VARIANT = "AllTraffic"  # the SDK's default production variant name
CAPTURE_MODES = ("input", "output", "both")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's Body limit and the container's MAX_CONTENT_LENGTH
# Seconds from a request's first byte to the end of its headers, then 408 (nginx allows 60, Apache 20-40).
HEADER_TIMEOUT = 20.0
MIN_HEADER_TIMEOUT, MAX_HEADER_TIMEOUT = 0.1, 300.0
# EndpointName / VariantName in botocore's sagemaker-runtime model: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*, at most 63.
_DESTINATION_RE = re.compile(r"s3://([^/]+)(/.*)?")


class SettingsError(ValueError):
    """A setting that cannot work; the message says which and why."""


@dataclass(frozen=True)
class CaptureSettings:
    """Data capture as DataCaptureConfig describes it, plus how often the local writer flushes."""

    enabled: bool = True
    percentage: float = 100.0
    destination: str = DEFAULT_CAPTURE_DESTINATION
    mode: str = "both"
    csv_content_types: tuple[str, ...] = ("text/csv",)
    json_content_types: tuple[str, ...] = ("application/json",)
    flush_interval: float = 1.0  # seconds; a crash loses at most this much
    # A capture file is closed at this size, at this age (AWS writes about one file a minute) or when the
    # UTC hour ends. Each flush republishes the open file whole, so the size bounds the rewriting: under
    # heavy load files close about every second instead of writing each byte many times.
    max_file_bytes: int = 1024 * 1024
    max_file_seconds: float = 60.0

    def __post_init__(self) -> None:
        if not 0 <= self.percentage <= 100:
            raise SettingsError(f"capture percentage must be between 0 and 100, got {self.percentage}")
        if self.mode not in CAPTURE_MODES:
            raise SettingsError(f"capture mode must be one of {', '.join(CAPTURE_MODES)}, got {self.mode!r}")
        match = _DESTINATION_RE.fullmatch(self.destination or "")
        if not match:
            raise SettingsError(f"capture destination must be an s3:// URI, got {self.destination!r}")
        if not 0.05 <= self.flush_interval <= 1.0:
            raise SettingsError(f"capture flush interval must be between 0.05 and 1 second, got {self.flush_interval}")
        if self.max_file_bytes < 1024 or self.max_file_seconds <= 0:
            raise SettingsError("capture files need at least 1 KiB and a positive age before rotation")
        for kind in (self.csv_content_types, self.json_content_types):
            if len(kind) > 10:
                raise SettingsError("DataCaptureConfig allows at most 10 content types per encoding")

    @property
    def destination_uri(self) -> str:
        return self.destination.rstrip("/")

    @classmethod
    def from_dict(cls, fields_: dict) -> CaptureSettings:
        """The settings back from `dataclasses.asdict` / JSON (content types as lists)."""
        types = {k: tuple(fields_[k]) for k in ("csv_content_types", "json_content_types") if k in fields_}
        return cls(**{**fields_, **types})

    @classmethod
    def from_data_capture_config(cls, config: dict | None) -> CaptureSettings:
        """An endpoint config's DataCaptureConfig, read as SageMaker reads it.

        No config: no capture. `EnableCapture` defaults to true. `CaptureOptions` Input, Output, both, or
        InputAndOutput. Without `CaptureContentTypeHeader` no content type is declared, so every payload is
        captured base64-encoded, as SageMaker does (the SDK's DataCaptureConfig always declares text/csv and
        application/json). Raises SettingsError for a destination the local store cannot hold.
        """
        if not config:
            return cls(enabled=False)
        modes = {option.get("CaptureMode") for option in config.get("CaptureOptions") or ()}
        if "InputAndOutput" in modes or {"Input", "Output"} <= modes:
            mode = "both"
        elif modes == {"Input"}:
            mode = "input"
        elif modes == {"Output"}:
            mode = "output"
        else:
            raise SettingsError("CaptureOptions must name Input, Output or InputAndOutput")
        header = config.get("CaptureContentTypeHeader") or {}
        return cls(
            enabled=config.get("EnableCapture", True),
            percentage=float(config.get("InitialSamplingPercentage", 100)),
            destination=config.get("DestinationS3Uri", ""),
            mode=mode,
            csv_content_types=tuple(header.get("CsvContentTypes") or ()),
            json_content_types=tuple(header.get("JsonContentTypes") or ()),
        )


@dataclass(frozen=True)
class EndpointSettings:
    """One endpoint: its name, where its model was extracted, and how the host serves it."""

    name: str
    model_dir: str  # model.tar.gz extracted: xgboost-model at the root, the handler under code/
    environment: dict[str, str] = field(default_factory=dict)  # the model's container Environment
    variant: str = DEFAULT_VARIANT
    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 2
    header_timeout: float = HEADER_TIMEOUT
    capture: CaptureSettings = field(default_factory=CaptureSettings)
    account: str = LOCAL_ACCOUNT_ID
    region: str = LOCAL_REGION
    home: str | None = None  # $MLOPS_HOME, where the object store lives
    model_source: str = ""  # what was loaded (package ARN or model data URI), for messages only

    def __post_init__(self) -> None:
        validate_name(self.name, "endpoint name")
        validate_name(self.variant, "variant name")
        if not 1 <= self.workers <= 64:
            raise SettingsError(f"workers must be between 1 and 64, got {self.workers}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be between 0 and 65535, got {self.port}")
        if not MIN_HEADER_TIMEOUT <= self.header_timeout <= MAX_HEADER_TIMEOUT:
            raise SettingsError(
                f"header timeout must be between {MIN_HEADER_TIMEOUT:g} and {MAX_HEADER_TIMEOUT:g} seconds, "
                f"got {self.header_timeout:g}"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> EndpointSettings:
        raw = json.loads(text)
        return cls(capture=CaptureSettings.from_dict(raw.pop("capture")), **raw)


@dataclass(frozen=True)
class LaunchSpec:
    """What a managed host serves: the model's container, the variant and its capture, as plain data."""

    model_data: str  # s3:// URI in the local object store
    environment: dict[str, str] = field(default_factory=dict)
    model_source: str = ""  # the package ARN or the model data, for `mlops endpoint list` and the log
    variant: str = "AllTraffic"
    workers: int = 1
    capture: CaptureSettings = field(default_factory=lambda: CaptureSettings(enabled=False))
    header_timeout: float = HEADER_TIMEOUT

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LaunchSpec:
        raw = json.loads(text)
        return cls(capture=CaptureSettings.from_dict(raw.pop("capture")), **raw)


def validate_name(name: str, what: str) -> str:
    try:
        return check_name(name, what)
    except InvalidName as e:
        raise SettingsError(str(e)) from e
