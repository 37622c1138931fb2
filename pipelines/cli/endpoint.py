"""`mlops endpoint serve | list | stop | delete`: local SageMaker endpoints.

`serve` runs a host in the foreground; endpoints created through the local SageMaker service
(CreateEndpoint, the deploy workflow) run in the background, and `list`, `stop` and `delete` manage both.
"""

from __future__ import annotations

import json

import click

from offline.endpoint.settings import (
    CAPTURE_MODES,
    DEFAULT_CAPTURE_DESTINATION,
    HEADER_TIMEOUT,
    MAX_HEADER_TIMEOUT,
    MIN_HEADER_TIMEOUT,
)
from pipelines.cli import exit_codes


def serve_options(command):
    """The options `endpoint serve` and `deploy --local` share."""
    options = [
        click.option("--model-package", metavar="ARN", help="Model package to serve. Default: latest approved."),
        click.option("--model-package-group", metavar="NAME", help="Pick the latest approved package of this group."),
        click.option("--model-data", metavar="PATH|S3URI", help="Serve this model.tar.gz instead of a package."),
        click.option("--endpoint-name", metavar="NAME", help="Default: <model package group>-local."),
        click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = a free port."),
        click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True),
        click.option(
            "--header-timeout",
            type=click.FloatRange(MIN_HEADER_TIMEOUT, MAX_HEADER_TIMEOUT),
            default=HEADER_TIMEOUT,
            show_default=True,
            metavar="SECONDS",
            help="A request's line and headers must arrive within this time from its first byte, else 408.",
        ),
        click.option(
            "--capture-percentage", type=click.FloatRange(0, 100), default=100, show_default=True, metavar="P"
        ),
        click.option(
            "--capture-destination",
            metavar="S3URI",
            default=DEFAULT_CAPTURE_DESTINATION,
            show_default=True,
            help="Files land in the local object store: s3://b/k is $MLOPS_HOME/s3/b/k.",
        ),
        click.option("--capture-mode", type=click.Choice(CAPTURE_MODES), default="both", show_default=True),
        click.option(
            "--capture-csv-type",
            "csv_types",
            multiple=True,
            metavar="TYPE",
            help="Content type captured as CSV (repeatable). Default: text/csv. '--capture-csv-type=' for none.",
        ),
        click.option(
            "--capture-json-type",
            "json_types",
            multiple=True,
            metavar="TYPE",
            help="Content type captured as JSON (repeatable). Default: application/json.",
        ),
        click.option("--no-capture", is_flag=True, help="Turn data capture off."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def run_serve(**options) -> None:
    """Resolve the model, build the settings and serve in the foreground; errors exit non-zero."""
    from offline.endpoint.artifact import ArtifactError
    from offline.endpoint.host import HostError
    from offline.endpoint.launch import resolve_model, serve
    from offline.endpoint.settings import CaptureSettings, SettingsError, validate_name

    try:
        if options["endpoint_name"]:
            validate_name(options["endpoint_name"], "endpoint name")
        capture = CaptureSettings(
            enabled=not options["no_capture"],
            percentage=options["capture_percentage"],
            destination=options["capture_destination"],
            mode=options["capture_mode"],
            csv_content_types=_types(options["csv_types"], "text/csv"),
            json_content_types=_types(options["json_types"], "application/json"),
        )
    except SettingsError as e:
        raise click.UsageError(str(e)) from None
    try:
        spec = resolve_model(options["model_package"], options["model_data"], options["model_package_group"])
        code = serve(
            spec,
            endpoint_name=options["endpoint_name"],
            port=options["port"],
            workers=options["workers"],
            header_timeout=options["header_timeout"],
            capture=capture,
        )
    except SettingsError as e:
        raise click.UsageError(str(e)) from None
    except (ArtifactError, HostError) as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    raise SystemExit(code)


def _types(given: tuple[str, ...], default: str) -> tuple[str, ...]:
    if not given:
        return (default,)
    return tuple(t for t in given if t)  # "--capture-csv-type=" alone declares none


@click.command("serve")
@serve_options
def serve_command(**options) -> None:
    """Serve a model package on 127.0.0.1 as a SageMaker real-time endpoint, with data capture.

    Speaks the container contract (GET /ping, POST /invocations) and sagemaker-runtime's InvokeEndpoint
    (POST /endpoints/NAME/invocations), so boto3's invoke_endpoint works with endpoint_url. Prints
    "Serving NAME at URL" once every worker is ready; stops cleanly on Ctrl-C or SIGTERM.
    """
    run_serve(**options)


@click.group("endpoint")
def group() -> None:
    """Local SageMaker endpoints."""


group.add_command(serve_command)


@group.command("list")
@click.option("--region", default=None, help="Region of the local SageMaker service. Default: us-east-1.")
@click.option("--json", "as_json", is_flag=True, help="Print the endpoints as JSON.")
def list_command(region: str | None, as_json: bool) -> None:
    """Endpoints of this MLOPS_HOME with their status, URL, model and host pid.

    Status is DescribeEndpoint's (Creating, InService, Updating, OutOfService, Failed, Deleting); `Serving`
    marks a host of `mlops endpoint serve`, which has no SageMaker endpoint. URL and PID are those of the
    host that serves the endpoint now (an UpdateEndpoint moves it to a new port).
    """
    from offline.endpoint.manage import list_endpoints

    lines = list_endpoints(region=region or _default_region())
    if as_json:
        click.echo(json.dumps([line.as_dict() for line in lines], indent=2))
        return
    if not lines:
        click.echo("no endpoints")
        return
    width = max(len(line.name) for line in lines) + 2
    click.echo(f"{'NAME':<{width}}{'STATUS':<14}{'URL':<24}{'PID':<9}MODEL")
    for line in lines:
        click.echo(
            f"{line.name:<{width}}{line.status:<14}{line.url or '-':<24}{line.pid or '-'!s:<9}{line.model or '-'}"
        )
        if line.failure_reason:
            click.echo(f"{'':<{width}}{line.failure_reason}")


@group.command("stop")
@click.argument("name")
@click.option("--region", default=None, help="Region of the local SageMaker service. Default: us-east-1.")
def stop_command(name: str, region: str | None) -> None:
    """Stop the host of endpoint NAME (requests in progress finish first).

    The endpoint stays: DescribeEndpoint reads OutOfService until UpdateEndpoint starts a host again, and
    `mlops endpoint delete` removes it.
    """
    from offline.endpoint.manage import ManageError, stop_endpoint

    try:
        stopped = stop_endpoint(name, region=region or _default_region())
    except ManageError as e:
        _refuse(str(e))
    if not stopped:
        click.echo(f"{name} has no running host")
        return
    for record in stopped:
        click.echo(f"Stopped {name}: host pid {record.pid} ({record.url or 'not yet listening'})")


@group.command("delete")
@click.argument("name")
@click.option("--region", default=None, help="Region of the local SageMaker service. Default: us-east-1.")
def delete_command(name: str, region: str | None) -> None:
    """Delete endpoint NAME (DeleteEndpoint): stop its hosts and remove it.

    Its endpoint configuration and model stay, as on SageMaker.
    """
    from offline.endpoint.manage import ManageError, delete_endpoint

    try:
        delete_endpoint(name, region=region or _default_region())
    except ManageError as e:
        _refuse(str(e))
    click.echo(f"Deleted endpoint {name} (its endpoint configuration and model are kept)")


def _refuse(message: str) -> None:
    """Bad input (an unknown or malformed name, an endpoint in the wrong state): the reason, exit 2."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(exit_codes.USAGE)


def _default_region() -> str:
    from offline.defaults import LOCAL_REGION

    return LOCAL_REGION
