"""The analyzer's files get the mode any other file of the job gets (0666 less the umask), not the
0600 of the temporary file they are written through."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.image
SCRIPT = Path(__file__).resolve().parents[2] / "processing" / "analyze.py"


def _job(tmp_path: Path, *args: str) -> None:
    command = ["sh", "-c", 'umask 027 && exec "$0" "$@"', sys.executable, str(SCRIPT), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def _modes(*folders: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for folder in folders for p in folder.rglob("*") if p.is_file()}


def test_output_files_have_the_umasks_mode(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(100)))
    (tmp_path / "window.csv").write_text("a,b\n" + "".join(f"{i + 50},{i % 3}\n" for i in range(100)))
    common = ["--dataset-format", '{"csv": {"header": true}}', "--message-file", str(tmp_path / "message" / "m")]
    _job(tmp_path, "--dataset-source", str(tmp_path / "data.csv"), "--output-path", str(tmp_path / "base"), *common)
    _job(
        tmp_path,
        *("--dataset-source", str(tmp_path / "window.csv"), "--output-path", str(tmp_path / "check"), *common),
        *("--baseline-constraints", str(tmp_path / "base" / "constraints.json")),
        *("--baseline-statistics", str(tmp_path / "base" / "statistics.json")),
        *("--publish-cloudwatch-metrics", "Enabled", "--metrics-path", str(tmp_path / "metrics")),
    )
    modes = _modes(tmp_path / "base", tmp_path / "check", tmp_path / "message", tmp_path / "metrics")
    assert set(modes) == {
        "statistics.json",
        "constraints.json",
        "constraint_violations.json",
        "m",
        "cloudwatch_metrics.jsonl",
    }
    assert set(modes.values()) == {0o640}
