"""The packaged templates, built once per session (about 4 s: the SDK builds every deploy definition)."""

from __future__ import annotations

from pathlib import Path

import pytest

REGION = "us-east-1"


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    from pipelines.template.package import package

    return package(tmp_path_factory.mktemp("packaged"), REGION)


@pytest.fixture(scope="session")
def templates(packaged) -> dict[str, dict]:
    """name -> the packaged template as data (intrinsics in their long form)."""
    from pipelines.template import cfn_yaml

    return {
        path.name: cfn_yaml.loads(path.read_text(encoding="utf-8"))
        for path in sorted(Path(packaged.folder).glob("*.yaml"))
    }


@pytest.fixture(scope="session")
def product(templates) -> dict:
    return templates["product.yaml"]
