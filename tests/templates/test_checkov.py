"""checkov 3.3.30 on the packaged templates (and, in test_portal_image.py, the portal's Dockerfile), offline, from its
own venv (it pins an old boto3): `make checkov-venv`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.template import cfn_yaml

CHECKOV = Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"


def checkov(folder: Path, framework: str = "cloudformation") -> subprocess.CompletedProcess:
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is missing: `make checkov-venv` builds it (make test does)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder.parent), "LANG": "C.UTF-8"}
    return subprocess.run(
        [
            str(CHECKOV),
            "--skip-download",
            "--framework",
            framework,
            "--quiet",
            "--compact",
            "-o",
            "json",
            "-d",
            str(folder),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def results(done: subprocess.CompletedProcess) -> list[dict]:
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


@pytest.fixture(scope="module")
def copied(packaged, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("checkov") / "templates"
    folder.mkdir()
    for name in ("product.yaml", "launch-role.yaml", "portal.yaml"):
        shutil.copy(packaged.path(name), folder / name)
    return folder


def waivers(folder: Path) -> list[tuple[str, str, str]]:
    """(resource, check, comment) of every `Metadata.checkov.skip` entry."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        for name, resource in cfn_yaml.loads(path.read_text())["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                found.append((f"{path.name}:{name}", skip["id"], skip.get("comment", "")))
    return found


def test_checkov_passes_with_every_waiver_justified(copied):
    done = checkov(copied)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summaries = [r["summary"] for r in results(done)]
    assert sum(s["failed"] for s in summaries) == 0
    assert sum(s["passed"] for s in summaries) > 100
    found = waivers(copied)
    assert sum(s["skipped"] for s in summaries) == len(found) > 0, "each waiver in Metadata is one skipped check"
    for where, check, comment in found:
        assert len(comment) > 60, f"{where} waives {check} without saying why"


def test_without_its_waiver_checkov_fails(copied, tmp_path):
    """The waivers are what pass: removing one brings its finding back, so the check can fail."""
    folder = tmp_path / "templates"
    folder.mkdir()
    template = cfn_yaml.loads((copied / "product.yaml").read_text())
    del template["Resources"]["AccessLogsBucket"]["Metadata"]
    (folder / "product.yaml").write_text(cfn_yaml.dumps(template))
    done = checkov(folder)
    assert done.returncode == 1
    failed = [c["check_id"] for r in results(done) for c in r["results"]["failed_checks"]]
    assert failed == ["CKV_AWS_18"]
