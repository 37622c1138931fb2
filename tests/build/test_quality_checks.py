"""The QualityCheck path of the build, run locally for both baseline engines' definitions.

A first build registers v1 with its own baselines; once v1 is approved, a second build with both
checks on and no new baselines registers v2 whose drift-check baselines are v1's files (byte for
byte) while its ModelMetrics are its own; a build on drifted data stops at the data-quality check
and names the violations. The drifted build uses a data contract with no built-in source, so a
run-time `InputDataUrl` alone must be enough to build and run it.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from offline.aws import local_session
from offline.store import ObjectStore
from pipelines.cli import main
from processing.contract import CONTRACT_ENV, DEFAULT_PATH

pytestmark = pytest.mark.slow
CHECKS_ON = [
    "SkipDataQualityCheck=false",
    "SkipModelQualityCheck=false",
    "RegisterNewDataQualityBaseline=false",
    "RegisterNewModelQualityBaseline=false",
]


def _run(home, engine: str, *params: str):
    args = ["--home", str(home), "pipeline", "run", "--local", "--kwargs", json.dumps({"baseline_engine": engine})]
    for param in params:
        args += ["--param", param]
    return CliRunner().invoke(main, args)


def _packages(home) -> list[dict]:
    sm = local_session(home=home).client("sagemaker")
    group = sm.list_model_package_groups()["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"]
    listed = sm.list_model_packages(ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Ascending")
    return [sm.describe_model_package(ModelPackageName=p["ModelPackageArn"]) for p in listed["ModelPackageSummaryList"]]


def _uri(package: dict, *path: str) -> str:
    value = package
    for key in path:
        value = value[key]
    return value


@pytest.fixture(scope="module", params=["processing", "managed"])
def engine(request):
    return request.param


@pytest.fixture(scope="module")
def builds(engine, tmp_path_factory):
    """v1 (first run: checks skipped, approved), then v2 (checks on, v1's baselines)."""
    home = tmp_path_factory.mktemp(f"checks-{engine}")
    first = _run(home, engine)
    assert first.exit_code == 0, first.output[-2000:]
    sm = local_session(home=home).client("sagemaker")
    v1 = _packages(home)[0]
    sm.update_model_package(ModelPackageArn=v1["ModelPackageArn"], ModelApprovalStatus="Approved")
    store = ObjectStore.for_home(home)
    v1_files = {
        (kind, part): store.get_bytes(_uri(v1, "DriftCheckBaselines", kind, part, "S3Uri"))
        for kind in ("ModelDataQuality", "ModelQuality")
        for part in ("Statistics", "Constraints")
    }
    second = _run(home, engine, *CHECKS_ON)
    return home, second, v1_files


def test_a_second_build_with_checks_on_registers_v2_on_v1s_baselines(builds):
    home, second, v1_files = builds
    assert second.exit_code == 0, second.output[-2000:]
    v1, v2 = _packages(home)
    store = ObjectStore.for_home(home)
    for (kind, part), v1_bytes in v1_files.items():
        assert store.get_bytes(_uri(v2, "DriftCheckBaselines", kind, part, "S3Uri")) == v1_bytes
        assert store.get_bytes(_uri(v1, "DriftCheckBaselines", kind, part, "S3Uri")) == v1_bytes  # unchanged
        assert _uri(v2, "ModelMetrics", kind, part, "S3Uri") != _uri(v1, "ModelMetrics", kind, part, "S3Uri")
    assert v2["ModelApprovalStatus"] == "PendingManualApproval"


def test_a_build_on_drifted_data_stops_at_the_check_and_names_the_violations(builds, engine, tmp_path, monkeypatch):
    from sklearn.datasets import load_breast_cancer

    home, second, _ = builds
    data = load_breast_cancer(as_frame=True)
    frame = data.data.copy()
    frame["mean radius"] *= 1.5
    frame.insert(0, "diagnosis", [data.target_names[t] for t in data.target])
    ObjectStore.for_home(home).put_bytes("s3://drifted-input/wdbc.csv", frame.to_csv(index=False).encode())
    # A contract with no built-in source: the run-time InputDataUrl must be enough to build and run.
    contract = json.loads(DEFAULT_PATH.read_text())
    contract["source"] = ""
    (tmp_path / "contract.json").write_text(json.dumps(contract))
    monkeypatch.setenv(CONTRACT_ENV, str(tmp_path / "contract.json"))
    before = len(_packages(home))

    result = _run(home, engine, "InputDataUrl=s3://drifted-input/wdbc.csv", *CHECKS_ON)

    assert result.exit_code != 0
    assert "DataQualityBaseline" in result.output and "violations" in result.output
    # Baselines are in the capture's shape (three output columns, then the features, header-less),
    # so 'mean radius' is _c3, as Model Monitor names it.
    assert "baseline_drift_check on '_c3'" in result.output, result.output[-2000:]
    assert len(_packages(home)) == before  # nothing registered
