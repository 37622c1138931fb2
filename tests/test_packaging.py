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
