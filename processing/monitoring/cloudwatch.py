"""CloudWatch metrics of a monitoring job, published as a monitoring schedule publishes them.

The analyzer leaves Model Monitor's BYOC metric files (JSON lines in /opt/ml/output/metrics/cloudwatch,
FORMATS.md §2.5); on a monitoring schedule SageMaker turns them into metrics. A plain Processing
job publishes nothing by itself, so `publish_metric_files` sends the same data with PutMetricData,
into the namespaces Model Monitor uses for endpoints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .readers.capture import parse_time

NAMESPACES = {
    "DATA_QUALITY": "aws/sagemaker/Endpoints/data-metrics",
    "MODEL_QUALITY": "aws/sagemaker/Endpoints/model-metrics",
}
BATCH = 500  # PutMetricData takes up to 1000 data and 1 MB a request; 500 short data stay far below both
_FIELDS = ("MetricName", "Timestamp", "Dimensions", "Value", "StatisticValues", "Unit")


class PublishError(RuntimeError):
    """CloudWatch refused the metrics; the message says which namespace and why."""


@dataclass
class Published:
    namespace: str
    metrics: int = 0
    requests: int = 0
    skipped: int = 0  # values CloudWatch cannot take (NaN, ±inf)


def read_metric_files(folder: str | Path) -> list[dict]:
    """MetricDatum dicts from every *.jsonl file of a BYOC metrics folder (name order)."""
    path = Path(folder)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else ([path] if path.is_file() else [])
    data = []
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data.append(json.loads(line))
    return data


def metric_datum(line: dict) -> dict | None:
    """One line of the file as PutMetricData's MetricDatum, or None when its value is not finite."""
    datum = {key: line[key] for key in _FIELDS if key in line}
    datum["Timestamp"] = _timestamp(datum["Timestamp"])
    if "Value" in datum:
        datum["Value"] = float(datum["Value"])
        if not math.isfinite(datum["Value"]):
            return None
    return datum


def publish(cloudwatch, namespace: str, lines: Iterable[dict]) -> Published:
    """PutMetricData in batches; non-finite values are skipped (CloudWatch rejects them) and counted."""
    from botocore.exceptions import BotoCoreError, ClientError

    result = Published(namespace)
    data = []
    for line in lines:
        datum = metric_datum(line)
        if datum is None:
            result.skipped += 1
        else:
            data.append(datum)
    for i in range(0, len(data), BATCH):
        chunk = data[i : i + BATCH]
        try:
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
        except ClientError as e:
            error = e.response.get("Error", {})
            raise PublishError(
                f"PutMetricData to {namespace} failed: {error.get('Code')}: {error.get('Message')}"
            ) from None
        except BotoCoreError as e:
            raise PublishError(f"PutMetricData to {namespace} failed: {e}") from None
        result.metrics += len(chunk)
        result.requests += 1
    return result


def publish_metric_files(cloudwatch, analysis_type: str, folder: str | Path) -> Published:
    """Publish a job's metric files into Model Monitor's namespace for its analysis type."""
    namespace = NAMESPACES.get(analysis_type.upper())
    if namespace is None:
        raise PublishError(f"no CloudWatch namespace for analysis type {analysis_type!r}")
    return publish(cloudwatch, namespace, read_metric_files(folder))


def _timestamp(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    when = parse_time(str(value))
    if when is None:
        raise PublishError("a metric line has no Timestamp")
    return when
