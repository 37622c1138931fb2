import json
import os

import pytest


def build_definition(home, **kwargs) -> dict:
    """The pipeline definition built for the local target in `home` (MLOPS_HOME restored afterwards)."""
    from pipelines.build.pipeline import get_pipeline

    previous = os.environ.get("MLOPS_HOME")
    os.environ["MLOPS_HOME"] = str(home)
    try:
        return json.loads(get_pipeline(**kwargs).definition())
    finally:
        if previous is None:
            os.environ.pop("MLOPS_HOME", None)
        else:
            os.environ["MLOPS_HOME"] = previous


def all_steps(definition: dict) -> list[dict]:
    out = []
    for step in definition["Steps"]:
        out.append(step)
        if step["Type"] == "Condition":
            out += step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"]
    return out


@pytest.fixture(scope="session")
def definition_home(tmp_path_factory):
    return tmp_path_factory.mktemp("definition-home")


@pytest.fixture(scope="session")
def definition(definition_home):
    return build_definition(definition_home)


@pytest.fixture(scope="session")
def managed_definition(definition_home):
    return build_definition(definition_home, baseline_engine="managed")
