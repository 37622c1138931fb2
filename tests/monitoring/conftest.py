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
