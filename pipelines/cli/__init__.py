"""`mlops`: this project's command line, a click group with one module per command family.

Subcommands load lazily from the explicit map below (click's LazyGroup pattern), so `mlops --help`
does not import the SageMaker SDK, XGBoost or numba.
"""

from __future__ import annotations

import importlib
import os

import click

# name -> "module:attribute"; each module holds one command family.
COMMANDS: dict[str, str] = {
    "demo": "pipelines.cli.demo:command",
    "deploy": "pipelines.cli.deploy:command",
    "endpoint": "pipelines.cli.endpoint:group",
    "local": "pipelines.cli.local:group",
    "monitor": "pipelines.cli.monitor:group",
    "pipeline": "pipelines.cli.pipeline:group",
    "registry": "pipelines.cli.registry:group",
    "retrain": "pipelines.cli.retrain:command",
    "review": "pipelines.cli.review:group",
    "teardown": "pipelines.cli.teardown:command",
    "template": "pipelines.cli.template:group",
    "traffic": "pipelines.cli.traffic:group",
}


class LazyGroup(click.Group):
    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module_name}:{attribute} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS)
@click.option(
    "--home",
    envvar="MLOPS_HOME",
    type=click.Path(file_okay=False),
    help="Local state folder (object store, state.db). Default: $MLOPS_HOME or ./.mlops",
)
@click.version_option(package_name="sagemaker-mlops-drift-review")
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """SageMaker MLOps template with drift monitoring and human review, online and offline."""
    from pipelines.quiet_sdk import quiet_sdk

    quiet_sdk()
    if home:
        # For the command's lifetime only (it must reach the local jobs it starts as subprocesses);
        # restored afterwards, so invoking the group in-process (tests, notebooks) leaks nothing.
        previous = os.environ.get("MLOPS_HOME")
        os.environ["MLOPS_HOME"] = home
        ctx.call_on_close(lambda: _restore_env("MLOPS_HOME", previous))


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
