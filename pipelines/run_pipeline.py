"""`run-pipeline`: create or update the pipeline in SageMaker, start it and wait (AWS's convention).

This is the CodeBuild job's command (codebuild-buildspec.yml). It targets AWS by default; to run
the same definition on this machine instead, use `mlops pipeline run --local`.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback

from pipelines._utils import (
    DEFAULT_MODULE,
    CliError,
    get_pipeline_custom_tags,
    get_pipeline_driver,
    parse_struct,
    validate_tags,
)
from pipelines.quiet_sdk import quiet_sdk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser("run-pipeline", description="Creates or updates and runs the pipeline.")
    parser.add_argument("-n", "--module-name", dest="module_name", default=DEFAULT_MODULE, help="pipeline module")
    parser.add_argument("--role-arn", dest="role_arn", default=None, help="the pipeline's execution role ARN")
    parser.add_argument("--tags", dest="tags", default=None, help='JSON list of {"Key": ..., "Value": ...}')
    parser.add_argument("--kwargs", dest="kwargs", default=None, help="JSON object of get_pipeline keyword args")
    parser.add_argument("--description", dest="description", default=None, help="pipeline description")
    args = parser.parse_args(argv)
    quiet_sdk()
    if not args.role_arn:
        parser.print_help(sys.stderr)
        print("run-pipeline: --role-arn is required", file=sys.stderr)
        return 2
    try:
        kwargs = {"target": "aws", **parse_struct(args.kwargs, "--kwargs", dict)}
        tags = validate_tags(parse_struct(args.tags, "--tags", list))
    except CliError as e:
        print(f"run-pipeline: {e}", file=sys.stderr)
        return 2
    try:
        pipeline = get_pipeline_driver(args.module_name, kwargs)
        print("###### Creating/updating a SageMaker Pipeline with the following definition:")
        print(json.dumps(json.loads(pipeline.definition()), indent=2, sort_keys=True))
        all_tags = get_pipeline_custom_tags(args.module_name, kwargs, tags)
        upsert = pipeline.upsert(role_arn=args.role_arn, description=args.description, tags=all_tags)
        print(f"\n###### Created/Updated SageMaker Pipeline: Response received:\n{upsert}")
        execution = pipeline.start()
        print(f"\n###### Execution started with PipelineExecutionArn: {execution.arn}")
        print("Waiting for the execution to finish...")
        execution.wait(delay=60, max_attempts=120)
        print("\n#####Execution completed. Execution step details:")
        print(_steps(execution))
    except CliError as e:
        print(f"run-pipeline: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # AWS's template prints the trace and exits 1 on any failure
        print(f"Exception: {e}", file=sys.stderr)
        traceback.print_exc()
        return 1
    return 0


def _steps(execution) -> object:
    """The execution's steps; some SageMaker look-alikes (moto) do not implement ListPipelineExecutionSteps."""
    try:
        return execution.list_steps()
    except Exception as e:  # the run itself has already finished; only the listing failed
        return f"(step list unavailable: {e})"


if __name__ == "__main__":
    sys.exit(main())
