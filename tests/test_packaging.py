"""What installing the package guarantees: the Step Functions SDK imports, and leaves logging alone."""

from __future__ import annotations

import logging
from importlib.metadata import requires

from packaging.requirements import Requirement


def test_setuptools_is_held_below_82_where_stepfunctions_needs_pkg_resources():
    # stepfunctions 2.3.0 imports pkg_resources, which setuptools 82 removed; venvs of Python >= 3.12
    # and upgraded venvs get setuptools >= 82 unless the package itself says otherwise.
    wanted = {Requirement(r).name: Requirement(r) for r in requires("sagemaker-mlops-drift-review")}
    assert "82.0.0" not in wanted["setuptools"].specifier
    assert "81.0.0" in wanted["setuptools"].specifier
    import pkg_resources  # noqa: F401  (what stepfunctions needs)


def test_importing_stepfunctions_leaves_the_root_logger_level_alone():
    from pipelines.quiet_sdk import import_stepfunctions

    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.INFO)
    try:
        module = import_stepfunctions()
        assert module.__name__ == "stepfunctions"
        assert root.level == logging.INFO
    finally:
        root.setLevel(before)


def test_a_wheel_holds_every_folder_of_code():
    """setup.py's find_packages skips folders without __init__.py; the editable venv hides that, a wheel (the
    portal image's install) would not hold them. Every folder of .py files under the packages must be a package."""
    from pathlib import Path

    from setuptools import find_packages

    root = Path(__file__).resolve().parents[1]
    tops = ("pipelines", "offline", "processing", "inference", "review")
    found = set(find_packages(str(root), include=[p for t in tops for p in (t, f"{t}.*")]))
    folders = {
        ".".join(path.parent.relative_to(root).parts)
        for top in tops
        for path in (root / top).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert folders - found == set()
