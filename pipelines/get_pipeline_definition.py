"""`get-pipeline-definition`: print or write the build pipeline's definition JSON.

With no arguments it builds this project's pipeline against the local runtime: code uploads and
`default_bucket()` are answered by the local object store, so it needs no AWS configuration, no
credentials and no network. `--kwargs '{"target": "aws", "region": ..., "default_bucket": ...}'`
builds it against AWS instead.
"""

from __future__ import annotations

import argparse
import json
import sys

from pipelines._utils import DEFAULT_MODULE, CliError, get_pipeline_driver, parse_struct
from pipelines.quiet_sdk import quiet_sdk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser("get-pipeline-definition", description="Gets the pipeline definition.")
    parser.add_argument("-n", "--module-name", dest="module_name", default=DEFAULT_MODULE, help="pipeline module")
    parser.add_argument("-f", "--file-name", dest="file_name", default=None, help="write the definition here")
    parser.add_argument("--kwargs", dest="kwargs", default=None, help="JSON object of get_pipeline keyword args")
    args = parser.parse_args(argv)
    quiet_sdk()  # stdout holds the definition JSON alone
    try:
        kwargs = parse_struct(args.kwargs, "--kwargs", dict)
        definition = get_pipeline_driver(args.module_name, kwargs).definition()
    except (CliError, ValueError) as e:
        print(f"get-pipeline-definition: {e}", file=sys.stderr)
        return 2
    parsed = json.loads(definition)
    if args.file_name:
        with open(args.file_name, "w", encoding="utf-8") as f:
            json.dump(parsed, f, indent=2)
            f.write("\n")
    else:
        print(json.dumps(parsed, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
