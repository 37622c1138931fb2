"""`mlops traffic replay`: send rows to an endpoint, one request each, optionally drifted."""

from __future__ import annotations

import json

import click

from pipelines.cli import exit_codes

DRIFT_HELP = (
    "Shift features before sending: 'FEATURE:CHANGE[,...]' with CHANGE +N% | -N% | +N | -N | *N | =N and "
    "FEATURE a data-contract feature name or '*', e.g. 'mean radius:+20%,mean texture:*1.5'."
)


@click.group("traffic")
def group() -> None:
    """Production-like traffic for an endpoint."""


@group.command("replay")
@click.option("--endpoint", "endpoint_name", required=True, metavar="NAME", help="Endpoint name.")
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV without header or label: one request per row.",
)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), metavar="R", help="At most R requests/s.")
@click.option("--drift", metavar="SPEC", help=DRIFT_HELP)
@click.option("--inference-id", is_flag=True, help="Send an InferenceId per request: <prefix>-<row number>.")
@click.option("--inference-id-prefix", metavar="TEXT", help="Prefix of the InferenceIds (implies --inference-id).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N", help="Send only the first N rows.")
@click.option("--url", metavar="URL", help="Endpoint host URL. Default: the running local endpoint of that name.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def replay_command(
    endpoint_name: str,
    data: str,
    rate: float | None,
    drift: str | None,
    inference_id: bool,
    inference_id_prefix: str | None,
    limit: int | None,
    url: str | None,
    as_json: bool,
) -> None:
    """Replay DATA against an endpoint and summarise latencies and predictions.

    Exits 1 if any request failed, 2 if the data, the drift spec or the endpoint is unusable.
    """
    from offline.traffic import TrafficError, replay

    try:
        summary = replay(
            endpoint_name,
            data,
            url=url,
            rate=rate,
            drift=drift,
            inference_id=inference_id_prefix or inference_id,
            limit=limit,
        )
    except TrafficError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    click.echo(json.dumps(summary, indent=2) if as_json else describe(summary))
    if summary["errors"]:
        raise SystemExit(exit_codes.FAILURE)


def describe(summary: dict) -> str:
    latency, predictions = summary["latency_ms"], summary["predictions"]
    lines = [
        f"Replayed {summary['requests']} rows of {summary['data']} to {summary['endpoint']} at {summary['url']} "
        f"in {summary['elapsed_s']:.2f} s ({summary['rate_rps']:.1f} requests/s)",
        f"  answered: {summary['ok']} ok, {summary['errors']} errors"
        + (f" {summary['error_codes']}" if summary["errors"] else ""),
    ]
    if latency["p50"] is not None:
        lines.append(
            f"  latency ms: p50 {latency['p50']:.2f}  p90 {latency['p90']:.2f}  p99 {latency['p99']:.2f}  "
            f"max {latency['max']:.2f}"
        )
    lines.append(
        f"  predictions: {predictions['total']} in all, {predictions['above_upper']} >= {predictions['upper']:g}, "
        f"{predictions['below_lower']} <= {predictions['lower']:g}, {predictions['needs_review']} need review"
    )
    if summary["drift"]:
        lines.append(f"  drift: {summary['drift']}")
    if summary["inference_id_prefix"]:
        lines.append(f"  inference ids: {summary['inference_id_prefix']}-000001 ...")
    return "\n".join(lines)
