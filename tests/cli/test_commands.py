"""Every command the lazy `mlops` group maps loads and answers --help (click's advice for lazy groups)."""

import click
import pytest
from click.testing import CliRunner

from pipelines.cli import COMMANDS, main


def _paths(command: click.Command, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    paths = [prefix]
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            paths += _paths(command.get_command(click.Context(command), name), (*prefix, name))
    return paths


def _all_paths() -> list[tuple[str, ...]]:
    paths = []
    for name in sorted(COMMANDS):
        paths += _paths(main.get_command(click.Context(main), name), (name,))
    return paths


@pytest.mark.parametrize("path", _all_paths(), ids=" ".join)
def test_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "Show this message and exit." in result.output


def test_the_root_lists_every_family():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2 and "No such command 'frobnicate'" in result.output


def test_home_reaches_the_command_and_does_not_outlive_it(tmp_path, monkeypatch):
    """--home sets MLOPS_HOME for the command (its subprocesses need it), and restores it after."""
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "before"))
    seen = {}

    @main.command("probe-home")
    def probe() -> None:
        import os

        seen["home"] = os.environ["MLOPS_HOME"]

    try:
        result = CliRunner().invoke(main, ["--home", str(tmp_path / "given"), "probe-home"])
    finally:
        main.commands.pop("probe-home")
    assert result.exit_code == 0, result.output
    assert seen["home"] == str(tmp_path / "given")
    import os

    assert os.environ["MLOPS_HOME"] == str(tmp_path / "before")
