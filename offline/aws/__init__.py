"""Local AWS-compatible services (S3, STS, the SageMaker model registry) for unmodified boto3 clients.

In-process: `local_session()` returns a boto3 Session answered locally through botocore's event hooks
(`attach()` does the same to an existing session or client). Over HTTP: `server.LocalAWSServer` serves the
same services on one URL for subprocesses (`endpoint_url`, `AWS_ENDPOINT_URL[_<SERVICE>]`), and
`mlops local serve` (`serve.py`) runs it in the foreground for the user's own code. `routing` holds the
table of services and decides which one answers a request.
Importing this package is light: boto3/botocore only, no SageMaker SDK.
"""

from __future__ import annotations

from offline.aws.constants import DEFAULT_REGION, LOCAL_ACCOUNT_ID
from offline.aws.hooks import attach, local_session
from offline.aws.routing import register_service
from offline.aws.runtime import LocalAWS, runtime_for

__all__ = [
    "DEFAULT_REGION",
    "LOCAL_ACCOUNT_ID",
    "LocalAWS",
    "attach",
    "local_session",
    "register_service",
    "runtime_for",
]
