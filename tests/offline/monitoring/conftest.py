"""A small endpoint's world: a baseline in the store and capture files written as SageMaker writes them."""

import json
import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from offline.monitoring.schedules import Schedule
from offline.store import ObjectStore

BUCKET = "s3://sagemaker-us-east-1-123456789012"
CAPTURE = f"{BUCKET}/datacapture"
ENDPOINT = "ep"


def capture_line(features: list[float], probability: float, when: datetime, inference_id: str | None = None) -> str:
    metadata = {"eventId": str(uuid.uuid4())}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": ",".join(map(repr, features)),
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": f"{probability!r},{int(probability >= 0.5)}\n",
                "encoding": "CSV",
            },
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }
    return json.dumps(record, separators=(",", ":"))


def write_capture(store: ObjectStore, hour: datetime, lines: list[str]) -> str:
    uri = f"{CAPTURE}/{ENDPOINT}/AllTraffic/{hour:%Y/%m/%d/%H}/{hour:%M}-00-000-{uuid.uuid4()}.jsonl"
    store.put_bytes(uri, ("\n".join(lines) + "\n").encode())
    return uri


def rows(n: int, shift: float = 0.0, seed: int = 0) -> list[tuple[list[float], float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a, b = rng.normal(10 + shift, 2), rng.normal(5, 1)
        out.append(([round(a, 4), round(b, 4)], round(float(1 / (1 + np.exp(-(a - 10)))), 6)))
    return out


@pytest.fixture
def world(tmp_path):
    """A home with a data-quality baseline (built by the analyzer from 'training' rows) and a schedule."""
    from processing.monitoring.api import suggest_baseline
    from processing.monitoring.readers import DatasetFormat

    store = ObjectStore.for_home(tmp_path)
    dataset = tmp_path / "baseline.csv"
    dataset.write_text("".join(f"{p!r},{int(p >= 0.5)},{f[0]!r},{f[1]!r}\n" for f, p in rows(400, seed=1)))
    suggest_baseline(dataset, DatasetFormat("csv", header=False), tmp_path / "baseline")
    for name in ("statistics.json", "constraints.json"):
        store.put_file(f"{BUCKET}/baselines/{name}", tmp_path / "baseline" / name)
    schedule = Schedule(
        name="ep-data-quality",
        endpoint=ENDPOINT,
        kind="data-quality",
        baseline_constraints=f"{BUCKET}/baselines/constraints.json",
        baseline_statistics=f"{BUCKET}/baselines/statistics.json",
        capture_uri=CAPTURE,
        output_uri=f"{BUCKET}/monitoring/reports",
    )
    now = datetime.now(timezone.utc).replace(minute=30, second=0, microsecond=0)
    return {"home": tmp_path, "store": store, "schedule": schedule, "now": now, "hour": timedelta(hours=1)}
