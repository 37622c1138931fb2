"""numba kernels compiled by one job are found by the next, wherever its code was unpacked."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offline.executor import numba_cache

pytest.importorskip("numba")

KERNEL = """
import numba
from pkg.helpers import OFFSET

@numba.njit(cache=True)
def add(a, b):
    return a + b + OFFSET
"""
MAIN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pkg.kernels import add
value = add(2, 3)
print(json.dumps({"value": value, "hits": sum(add.stats.cache_hits.values()), "misses": sum(add.stats.cache_misses.values())}))
"""


def _package(folder: Path, offset: int = 0) -> Path:
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "helpers.py").write_text(f"OFFSET = {offset}\n")
    (folder / "pkg" / "kernels.py").write_text(KERNEL)
    return folder


def _run(code_dir: Path, cache: Path) -> dict:
    env = {**numba_cache.job_environment(), "NUMBA_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(  # from another folder, as a job runs: the locator must not need `offline`
        [sys.executable, "-c", MAIN, str(code_dir)],
        env=env,
        cwd=code_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_kernel_compiled_in_one_sandbox_is_loaded_in_another(tmp_path):
    cache = tmp_path / "cache"
    first = _run(_package(tmp_path / "job-1"), cache)
    second = _run(_package(tmp_path / "job-2"), cache)  # same code, another folder
    assert (first["hits"], first["misses"]) == (0, 1)
    assert (second["hits"], second["misses"]) == (1, 0) and second["value"] == 5
    assert not list((tmp_path / "job-2").rglob("*.nb[ic]"))  # nothing compiled beside the code


def test_an_edit_anywhere_in_the_package_compiles_again(tmp_path):
    cache = tmp_path / "cache"
    _run(_package(tmp_path / "job-1"), cache)
    edited = _run(_package(tmp_path / "job-2", offset=10), cache)  # only helpers.py differs
    assert (edited["hits"], edited["misses"]) == (0, 1) and edited["value"] == 15
    assert len(list(cache.iterdir())) == 2


def test_an_unwritable_cache_folder_falls_back_to_numbas_own_choice(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = _run(_package(tmp_path / "job"), blocker / "cache")
    assert result["value"] == 5
    assert any((tmp_path / "job" / "pkg" / "__pycache__").glob("*.nbi"))  # numba's in-tree cache


def test_the_cache_is_per_user_and_numba_cache_dir_wins(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert numba_cache.cache_root() == tmp_path / "xdg" / "mlops" / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_cache.job_environment()["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")
