"""templates/portal/Dockerfile: checkov's Dockerfile checks, agreement with portal.yaml's task definition and
target group, and the portal running on the packages the image installs (templates/portal/requirements.txt)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from packaging.requirements import Requirement

from pipelines.template import cfn_yaml
from tests.templates.test_checkov import checkov, results

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "templates" / "portal"
PROJECT_PACKAGES = {"pipelines", "offline", "processing", "inference", "review"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        word, _, rest = pending.strip().partition(" ")
        found.append((word.upper(), rest.strip()))
        pending = ""
    return found


def one(found: list[tuple[str, str]], word: str) -> str:
    values = [rest for name, rest in found if name == word]
    assert len(values) == 1, f"the Dockerfile has {len(values)} {word} instructions"
    return values[0]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions((IMAGE / "Dockerfile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def portal() -> dict:
    return cfn_yaml.loads((ROOT / "templates" / "portal.yaml").read_text(encoding="utf-8"))["Resources"]


def test_dockerfile_agrees_with_portal_yaml(dockerfile, portal):
    container = portal["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    target_group = portal["TargetGroup"]["Properties"]
    (port,) = [m["ContainerPort"] for m in container["PortMappings"]]
    # The command: the task definition's Command overrides CMD, so the two must be the same list.
    assert json.loads(one(dockerfile, "CMD")) == container["Command"]
    assert one(dockerfile, "EXPOSE") == str(port) == str(target_group["Port"])
    assert container["Command"][container["Command"].index("--port") + 1] == str(port)
    # The health check: the target group's path on the container's port, answered without signing in.
    health = json.loads(re.sub(r"^(--\S+\s+)*CMD\s+", "", one(dockerfile, "HEALTHCHECK")))
    (url,) = re.findall(r"'(http://[^']+)'", health[-1])
    assert urlsplit(url).port == port and urlsplit(url).path == target_group["HealthCheckPath"]
    # The user and the state folder: the EFS access point's owner, mounted where MLOPS_HOME points.
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    posix = portal["AccessPoint"]["Properties"]["PosixUser"]
    assert one(dockerfile, "USER") == container["User"] == f"{posix['Uid']}:{posix['Gid']}"
    (mount,) = container["MountPoints"]
    image_env = dict(shlex.split(rest)[0].split("=", 1) for name, rest in dockerfile if name == "ENV" and "=" in rest)
    assert image_env["MLOPS_HOME"] == env["MLOPS_HOME"] == mount["ContainerPath"]
    assert json.loads(one(dockerfile, "VOLUME")) == [mount["ContainerPath"]]


def test_dockerfile_pins_its_base_and_installs_with_the_constraints(dockerfile):
    base = one(dockerfile, "FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base), base
    installs = [rest for name, rest in dockerfile if name == "RUN" and "pip install" in rest]
    assert any("-c constraints.txt -r requirements.txt" in r for r in installs)
    assert any("--no-deps" in r for r in installs), "the project without its install_requires"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for name, rest in dockerfile:
        if name == "COPY":
            for source in shlex.split(rest)[:-1]:
                assert f"!{source}" in ignored or f"!{source}/" in ignored, f".dockerignore leaves {source} out"


def test_checkov_passes_the_dockerfile(tmp_path):
    folder = tmp_path / "portal"
    shutil.copytree(IMAGE, folder)
    done = checkov(folder, "dockerfile")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summaries = [r["summary"] for r in results(done)]
    assert sum(s["failed"] for s in summaries) == 0
    assert sum(s["skipped"] for s in summaries) == 0
    assert sum(s["passed"] for s in summaries) > 40


def test_checkov_fails_a_dockerfile_without_user_or_healthcheck(tmp_path):
    """The check can fail: the same file without its USER and HEALTHCHECK brings both findings."""
    folder = tmp_path / "portal"
    folder.mkdir()
    kept = [
        line
        for line in (IMAGE / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if not line.startswith(("USER", "HEALTHCHECK", "    CMD"))
    ]
    (folder / "Dockerfile").write_text("\n".join(kept) + "\n")
    done = checkov(folder, "dockerfile")
    assert done.returncode == 1
    failed = sorted(c["check_id"] for r in results(done) for c in r["results"]["failed_checks"])
    assert failed == ["CKV_DOCKER_2", "CKV_DOCKER_3"]


# -- the portal on the image's packages ---------------------------------------------------------------------


def image_distributions() -> set[str]:
    """templates/portal/requirements.txt and everything they require (as installed here), normalised names."""
    wanted = [
        Requirement(line.split("#")[0].strip())
        for line in (IMAGE / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.split("#")[0].strip()
    ]
    found: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = _normal(requirement.name)
        if name in found:
            continue
        found.add(name)
        for text in metadata.distribution(requirement.name).requires or []:
            nested = Requirement(text)
            if nested.marker is None or nested.marker.evaluate({"extra": ""}):
                wanted.append(nested)
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def allowed_modules() -> set[str]:
    distributions = image_distributions()
    allowed = {
        module
        for module, names in metadata.packages_distributions().items()
        if any(_normal(n) in distributions for n in names)
    }
    return allowed | PROJECT_PACKAGES | set(sys.stdlib_module_names)


# Run in a child: any import outside the image's packages fails as it would in the image (optional imports, such
# as uvicorn's uvloop, fall back as they would there).
CHILD = """
import importlib.abc, json, sys
ALLOWED = set(json.loads(sys.argv[1]))

class OnlyTheImagesPackages(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in ALLOWED and not top.startswith("_"):
            raise ModuleNotFoundError(f"{top} is not installed in the portal image", name=top)
        return None

sys.meta_path.insert(0, OnlyTheImagesPackages())
from pipelines.cli import main
main(sys.argv[2:], prog_name="mlops")
"""


def mlops(allowed: set[str], home: Path, *args: str, **popen) -> subprocess.Popen:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MLOPS_HOME": str(home), "LANG": "C.UTF-8"}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(sorted(allowed)), *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        **popen,
    )


def test_the_portal_runs_on_the_images_packages_alone(tmp_path):
    allowed = allowed_modules()
    assert not {"sagemaker", "xgboost", "numba", "pandas", "matplotlib"} & allowed, "the image stays light"
    home = tmp_path / "home"
    added = mlops(allowed, home, "review", "add-worker", "alice", "--team", "default")
    out, err = added.communicate(timeout=120)
    assert added.returncode == 0, err
    assert "worker alice added" in out
    server = mlops(allowed, home, "review", "serve", "--host", "127.0.0.1", "--port", "0")
    try:
        line = server.stdout.readline()
        assert line.startswith("Serving the review portal on http://127.0.0.1:"), line + server.stderr.read()
        url = line.split(" on ", 1)[1].strip()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"{url}/login", timeout=5) as response:
                    assert response.status == 200
                    assert b"Sign in" in response.read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_the_admin_task_adds_workers_on_the_portals_home_and_logs_nothing(portal):
    """`mlops review add-worker` prints a new worker's secret: the admin task (ECS Exec) shares the portal's image,
    user and home, but has no log configuration (ECS Exec logs sessions only through it) and no port."""
    (served,) = portal["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    admin_task = portal["AdminTaskDefinition"]["Properties"]
    (admin,) = admin_task["ContainerDefinitions"]
    assert admin_task["Volumes"] == portal["TaskDefinition"]["Properties"]["Volumes"]
    for key in ("Image", "User", "MountPoints"):
        assert admin[key] == served[key], key
    assert {e["Name"]: e["Value"] for e in admin["Environment"]}["MLOPS_HOME"] == served["MountPoints"][0][
        "ContainerPath"
    ]
    assert "LogConfiguration" not in admin and "PortMappings" not in admin
    assert admin["Command"][0] == "sleep" and int(admin["Command"][1]) <= 3600, "it stops by itself"
    assert portal["Service"]["Properties"]["TaskDefinition"] == {"Ref": "TaskDefinition"}
    (policy,) = portal["AdminTaskRole"]["Properties"]["Policies"]
    actions = sorted(a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"])
    assert actions == sorted(
        [
            "elasticfilesystem:ClientMount",
            "elasticfilesystem:ClientWrite",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ]
    )
