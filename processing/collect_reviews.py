"""The review collector: completed human loops -> ground truth (model quality) and labelled rows (retraining).

It reads A2I's output.json files under `--reviews-uri` (a flow definition's output, or the
S3OutputPath holding several), decides each loop's label by consensus and writes Model Monitor's
ground-truth JSON Lines under `--ground-truth-uri` and the build pipeline's labelled rows under
`--labels-uri` (processing/review/collecting.py says how). Every location is an `s3://` prefix (read
and written with boto3, as in a Processing container) or a local folder (`mlops review collect` hands
it the object store's folders). Collecting again writes the same objects.

    collect_reviews.py --reviews-uri s3://…/human-review/<endpoint>/output \\
        --ground-truth-uri s3://…/ground-truth/<endpoint> --labels-uri s3://…/<pipeline>/human-labels \\
        [--start ISO --end ISO] [--region R]

Exit codes: 0 done (also when nothing is completed yet); 2 bad input; 1 S3 failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `processing` package beside it importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.contract import ContractError, load_contract
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.readers.capture import parse_time
from processing.review.collecting import collect
from processing.review.locations import BadLocation, Location, LocationError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reviews-uri", required=True, help="A2I's output: the flow definitions' S3OutputPath, or one's")
    p.add_argument("--ground-truth-uri", required=True, help="ground-truth JSON Lines go below it (yyyy/mm/dd/hh/)")
    p.add_argument("--labels-uri", required=True, help="the build pipeline's HumanLabelsUrl")
    p.add_argument("--start", help="collect loops created from this time (ISO-8601; whole hours)")
    p.add_argument("--end", help="… until this time, exclusive")
    p.add_argument("--region", default=None)
    p.add_argument("--contract", default=None, help="data contract JSON (default: the bundled one)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        start, end = parse_time(args.start), parse_time(args.end)
        if start and end and start >= end:
            raise MonitorInputError(f"--start ({args.start}) must be before --end ({args.end})")
        contract = load_contract(args.contract)
        s3 = _lazy(args.region)
        locations = [Location(uri, s3) for uri in (args.reviews_uri, args.ground_truth_uri, args.labels_uri)]
        report = collect(*locations, contract, start, end)
    except (MonitorInputError, ContractError, BadLocation) as e:
        print(f"collect_reviews: {e}", file=sys.stderr)
        return 2
    except LocationError as e:
        print(f"collect_reviews: {e}", file=sys.stderr)
        return 1
    if not report.outputs:
        print(f"collect_reviews: nothing to collect: no output.json under {args.reviews_uri} (no loop completed there)")
        return 0
    print(f"collect_reviews: {report.summary()}")
    for loop, status in sorted(report.without_consensus.items()):
        print(f"collect_reviews: no consensus ({status}): {loop}")
    return 0


def _lazy(region: str | None):
    """An S3 client made on first use (a collection of local folders needs none)."""
    client = []

    def s3():
        if not client:
            import boto3

            client.append(boto3.session.Session(region_name=region).client("s3"))
        return client[0]

    return s3


if __name__ == "__main__":
    sys.exit(main())
