"""Wire protocols of the AWS services answered locally: each parses requests and serializes responses
and errors for its protocol family, from botocore's model, independent of the transport."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    """Who is calling where: taken from the request (SigV4 scope) or the runtime's defaults."""

    region: str
    account_id: str
    request_id: str
