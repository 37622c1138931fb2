"""Fixtures for the monitoring engine's tests: the AWS-made pairs and small datasets of our own.

Only the image's packages are imported here: these tests also run in .venv-image (no SDK, no numba).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from processing.monitoring.readers import DatasetFormat

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
SDK = "sagemaker-python-sdk/pipeline__quality_check_step__data_quality__"


@pytest.fixture(scope="session")
def aai540() -> Path:
    """AWS's baseline input and output from the aai-540 project (skip when the reference is absent)."""
    folder = REFERENCE / "aai-540"
    if not (folder / "train_data.csv").is_file():
        pytest.skip("../shared/reference/aai-540 is not present")
    return folder


@pytest.fixture(scope="session")
def sdk_pair() -> dict[str, Path]:
    """The SDK's older-format data-quality pair (header-less CSV, AWS-made statistics)."""
    files = {
        "dataset": REFERENCE / f"{SDK}baseline_dataset.csv",
        "statistics": REFERENCE / f"{SDK}statistics.json",
        "constraints": REFERENCE / f"{SDK}good_cases__constraints.json",
    }
    if not all(f.is_file() for f in files.values()):
        pytest.skip("the SDK's quality-check pair is not in ../shared/reference")
    return files


CSV = DatasetFormat("csv", header=True)
CSV_NO_HEADER = DatasetFormat("csv", header=False)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def capture_line(
    when: str,
    inputs: str,
    outputs: str,
    event_id: str,
    inference_id: str | None = None,
    encoding: str = "CSV",
) -> str:
    """One data-capture record as SageMaker writes it (FORMATS.md §1.3)."""
    import json

    content_type = "text/csv" if encoding == "CSV" else "application/json"
    meta = {"eventId": event_id, **({"inferenceId": inference_id} if inference_id else {}), "inferenceTime": when}
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": content_type,
                "mode": "INPUT",
                "data": inputs,
                "encoding": encoding,
            },
            "endpointOutput": {
                "observedContentType": content_type,
                "mode": "OUTPUT",
                "data": outputs,
                "encoding": encoding,
            },
        },
        "eventMetadata": meta,
        "eventVersion": "0",
    }
    return json.dumps(record, separators=(",", ":"))


def write_capture_file(root: Path, hour: str, lines: list[str], name: str = "00-00-000-test.jsonl") -> Path:
    """lines into {root}/endpoint/AllTraffic/yyyy/mm/dd/hh/<name>; hour is 'yyyy/mm/dd/hh'."""
    folder = root / "endpoint" / "AllTraffic" / hour
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
