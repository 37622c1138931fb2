"""Fixtures shared across the suite. Only the image's packages are imported here (no SageMaker
SDK, no moto), because the `image` tests also run in .venv-image."""

from __future__ import annotations

import importlib.util
import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
SEED_HYPERPARAMETERS = {
    "max_depth": 5,
    "eta": 0.2,
    "gamma": 4,
    "min_child_weight": 6,
    "subsample": 0.8,
    "objective": "binary:logistic",
    "nthread": 1,
    "verbosity": 0,
}


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """AWS-made artifacts in ../shared/reference; tests that need them skip when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present")
    return REFERENCE


@pytest.fixture(scope="session")
def contract():
    from processing.contract import load_contract

    return load_contract()


@pytest.fixture(scope="session")
def splits_dir(tmp_path_factory, contract) -> Path:
    """The real WDBC data through preprocess: <dir>/{train,validation,test,traffic}/<name>.csv."""
    from processing.preprocess import run

    root = tmp_path_factory.mktemp("splits")
    run(contract, None, None, {name: root / name for name in ("train", "validation", "test", "traffic")})
    return root


@pytest.fixture(scope="session")
def model_tar(tmp_path_factory, splits_dir) -> Path:
    """model.tar.gz as the pipeline registers it: xgboost-model at the root, the handler in code/."""
    import xgboost as xgb

    train = np.loadtxt(splits_dir / "train" / "train.csv", delimiter=",")
    booster = xgb.train(SEED_HYPERPARAMETERS, xgb.DMatrix(train[:, 1:], label=train[:, 0]), num_boost_round=100)
    out = tmp_path_factory.mktemp("model") / "model.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        _add_bytes(tar, "xgboost-model", bytes(booster.save_raw(raw_format="ubj")))
        tar.add(REPO / "inference" / "inference.py", arcname="code/inference.py")
        tar.add(REPO / "processing" / "data_contract.json", arcname="code/data_contract.json")
    return out


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


IMAGE_VENV = importlib.util.find_spec("sagemaker") is None  # .venv-image has no SageMaker SDK


def pytest_ignore_collect(collection_path, config):
    """In .venv-image, collect only the modules that hold `image` tests (the others import the SDK), and
    skip whole folders without any, so their conftest.py (which may import test-only packages) never loads."""
    if not IMAGE_VENV:
        return None
    if collection_path.is_dir() and collection_path.name != "tests":
        return not any(_has_image_tests(f) for f in collection_path.rglob("test_*.py"))
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return not _has_image_tests(collection_path)
    return None


def _has_image_tests(path: Path) -> bool:
    return "mark.image" in path.read_text(encoding="utf-8", errors="ignore")
