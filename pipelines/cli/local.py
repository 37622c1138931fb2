"""`mlops local serve`: the local AWS-compatible services on one URL, for the user's own boto3 code."""

from __future__ import annotations

import ipaddress

import click

DEFAULT_PORT = 4599


def _address(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An IP address to listen on ("localhost" means 127.0.0.1); names are not resolved."""
    if value == "localhost":
        return "127.0.0.1"
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an IP address; use 127.0.0.1 (the default), ::1, or 0.0.0.0 to listen on every address"
        ) from None


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_address,
    help="Address to listen on. Anything but loopback exposes services that check no credentials.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="0 picks a free port."
)
def serve_command(host: str, port: int) -> None:
    """Serve the local AWS services (S3, SageMaker, STS, …) of $MLOPS_HOME on one URL.

    Prints "Serving … on http://HOST:PORT" and the lines to export: with AWS_ENDPOINT_URL set, every
    boto3 client (a notebook, a script, the SageMaker SDK) talks to the local services. Requests are told
    apart by their SigV4 signature and X-Amz-Target, as AWS's front ends do. Other mlops commands may
    use the same home meanwhile. Runs until Ctrl-C or SIGTERM.
    """
    from offline.aws.serve import ServeError, open_server, run_foreground

    try:
        server = open_server(None, host, port)
    except ServeError as e:
        raise click.UsageError(str(e)) from None
    raise SystemExit(run_foreground(server, echo=click.echo, warn=lambda text: click.echo(text, err=True)))


@click.group("local")
def group() -> None:
    """The local AWS-compatible services."""


group.add_command(serve_command)
