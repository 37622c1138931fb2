"""A real endpoint host (child processes, real HTTP) serving the model the pipeline would register.

`model_tar` (tests/conftest.py) is XGBoost trained with nthread=1 on scikit-learn's breast-cancer data
through the project's preprocess, packed as the SDK's repack step packs it: `xgboost-model` at the root,
`code/inference.py` and `code/data_contract.json`.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from offline.defaults import LOCAL_BUCKET
from tests.processes import processes_of, reap  # noqa: F401  (processes_of: the endpoint tests import it from here)

ENDPOINT = "test-endpoint"


@pytest.fixture(scope="session")
def rows(splits_dir) -> list[str]:
    """The held-out traffic rows, features only, as the seed sends them."""
    return (splits_dir / "traffic" / "requests.csv").read_text().splitlines()


@pytest.fixture(scope="session")
def requests_csv(splits_dir) -> Path:
    return splits_dir / "traffic" / "requests.csv"


@pytest.fixture(scope="session")
def host_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("endpoint-home")


@pytest.fixture(scope="session")
def host(model_tar, host_home):
    """One capturing host shared by the HTTP tests; each test tags its requests with its own InferenceIds."""
    from offline.endpoint import start_endpoint

    endpoint = start_endpoint(model_data=model_tar, endpoint_name=ENDPOINT, workers=2, home=host_home)
    yield endpoint
    endpoint.stop()


def capture_root(home: Path, endpoint: str = ENDPOINT) -> Path:
    return home / "s3" / LOCAL_BUCKET / "datacapture" / endpoint


def records_by_inference_id(root: Path) -> dict[str, dict]:
    from offline.endpoint.capture import iter_capture_files, read_records

    found = {}
    for path in iter_capture_files(root):
        for record in read_records(path):
            inference_id = record["eventMetadata"].get("inferenceId")
            if inference_id is not None:
                found[inference_id] = record
    return found


def wait_for(check: Callable[[], object], timeout: float = 5.0, what: str = "condition"):
    """Poll until `check()` is truthy (capture is published at least once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Client:
    """A keep-alive HTTP/1.1 client on one connection (stdlib), as SDKs and load generators use them."""

    def __init__(self, url: str, timeout: float = 10.0):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        if isinstance(body, str):
            body = body.encode()
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def post(self, path: str, body: bytes | str, content_type: str | None = "text/csv", **headers):
        merged = dict(headers)
        if content_type is not None:
            merged["Content-Type"] = content_type
        return self.request("POST", path, body, merged)

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def client(host):
    c = Client(host.url)
    yield c
    c.close()


def error_message(body: bytes) -> str:
    document = json.loads(body)
    assert set(document) == {"code", "type", "message"}, document
    return document["message"]


# -- endpoints created through the local SageMaker service (hosts run detached, recorded in the state DB) --


@pytest.fixture(scope="session")
def model_tar_v2(tmp_path_factory, splits_dir) -> Path:
    """A second model version: 10 boosting rounds instead of 100, so its probabilities differ."""
    import io
    import tarfile

    import numpy as np
    import xgboost as xgb

    from tests.conftest import REPO, SEED_HYPERPARAMETERS

    train = np.loadtxt(splits_dir / "train" / "train.csv", delimiter=",")
    booster = xgb.train(SEED_HYPERPARAMETERS, xgb.DMatrix(train[:, 1:], label=train[:, 0]), num_boost_round=10)
    out = tmp_path_factory.mktemp("model-v2") / "model.tar.gz"
    data = bytes(booster.save_raw(raw_format="ubj"))
    with tarfile.open(out, "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        tar.add(REPO / "inference" / "inference.py", arcname="code/inference.py")
        tar.add(REPO / "processing" / "data_contract.json", arcname="code/data_contract.json")
    return out


@pytest.fixture(scope="session")
def broken_model_tar(tmp_path_factory) -> Path:
    """The real handler with an xgboost-model that is not a model: model_fn fails, the health check too."""
    import io
    import tarfile

    from tests.conftest import REPO

    out = tmp_path_factory.mktemp("model-broken") / "model.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = 12
        tar.addfile(info, io.BytesIO(b"not a model!"))
        tar.add(REPO / "inference" / "inference.py", arcname="code/inference.py")
        tar.add(REPO / "processing" / "data_contract.json", arcname="code/data_contract.json")
    return out


@pytest.fixture
def managed_home(tmp_path):
    """A home whose endpoint hosts are all stopped at the end; a process left behind fails the test."""

    from offline.endpoint.hosts import HostRegistry

    home = tmp_path / "home"
    home.mkdir()
    yield home
    registry = HostRegistry.for_home(home)
    registry.stop(registry.live(), "the test ended")
    left = reap(home, 10)
    assert not left, f"processes of {home} still running after the test: {left}"
