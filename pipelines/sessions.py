"""SageMaker SDK sessions for the two targets: AWS, and the local runtime.

A local session's boto3 clients are answered in-process by this project's local services (object
store, STS, model registry), so building a definition uploads code into `$MLOPS_HOME/s3/...`
where the local runner finds it, with no credentials, no configuration files and no network.
"""

from __future__ import annotations

from offline.defaults import LOCAL_BUCKET, LOCAL_REGION
from pipelines.quiet_sdk import quiet_sdk


def pipeline_session(target: str, region: str | None = None, default_bucket: str | None = None):
    """A PipelineSession for `target` "aws" (the default credential chain) or "local"."""
    quiet_sdk()
    import boto3
    from sagemaker.workflow.pipeline_context import PipelineSession

    if target == "local":
        from offline.aws import local_session

        _disable_telemetry()
        boto_session = local_session(region=region or LOCAL_REGION)
        return PipelineSession(boto_session=boto_session, default_bucket=default_bucket or LOCAL_BUCKET)
    boto_session = boto3.Session(region_name=region) if region else boto3.Session()
    return PipelineSession(boto_session=boto_session, default_bucket=default_bucket)


def _disable_telemetry() -> None:
    """The SDK's telemetry is a plain HTTPS GET to an AWS bucket, outside boto3: no local session
    may send it. Opting out through an SDK config makes every config lookup re-validate a JSON
    schema (seconds per definition), so the emitter is switched off in this process instead."""
    from sagemaker.telemetry import telemetry_logging

    telemetry_logging._send_telemetry_request = _no_telemetry


def _no_telemetry(*_args, **_kwargs) -> None:
    return None
