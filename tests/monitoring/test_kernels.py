"""Small job inputs run the numpy twins (numba's load costs more than it saves); large ones keep numba."""

import sys

import pytest

from processing.monitoring import kernels

pytestmark = pytest.mark.image


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.delenv("MLOPS_NO_NUMBA", raising=False)
    monkeypatch.delitem(sys.modules, "processing.monitoring._jit", raising=False)
    return monkeypatch


def test_a_small_input_chooses_the_numpy_twins(fresh, tmp_path):
    (tmp_path / "a.csv").write_text("1,2\n" * 100)
    assert kernels.choose_for_inputs(tmp_path) is True
    import os

    assert os.environ["MLOPS_NO_NUMBA"] == "1"


def test_a_large_or_remote_input_keeps_numba(fresh, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(kernels.NUMBA_MIN_BYTES)
    assert kernels.choose_for_inputs(big) is False
    assert kernels.choose_for_inputs("s3://bucket/data.csv") is False
    import os

    assert "MLOPS_NO_NUMBA" not in os.environ


def test_an_explicit_choice_or_an_earlier_import_wins(monkeypatch, tmp_path):
    (tmp_path / "a.csv").write_text("1\n")
    monkeypatch.setenv("MLOPS_NO_NUMBA", "0")
    assert kernels.choose_for_inputs(tmp_path / "a.csv") is False
    monkeypatch.delenv("MLOPS_NO_NUMBA")
    monkeypatch.setitem(sys.modules, "processing.monitoring._jit", object())
    assert kernels.choose_for_inputs(tmp_path / "a.csv") is False
