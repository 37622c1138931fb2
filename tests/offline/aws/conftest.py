"""Every service test runs twice, as moto runs its suite: in-process (botocore hook) and against the
HTTP server (endpoint_url), with real boto3 clients both times."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from offline.aws import local_session
from offline.aws.constants import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.server import LocalAWSServer


@dataclass
class LocalAWSTarget:
    mode: str
    home: Path
    session: boto3.Session
    endpoint_url: str | None = None

    def client(self, service: str, **kwargs):
        if self.endpoint_url:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("config", Config(retries={"max_attempts": 1}))
        return self.session.client(service, **kwargs)

    def resource(self, service: str, **kwargs):
        if self.endpoint_url:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        return self.session.resource(service, **kwargs)


@pytest.fixture(params=["in-process", "server"])
def aws(request, tmp_path) -> LocalAWSTarget:
    home = tmp_path / "home"
    if request.param == "in-process":
        yield LocalAWSTarget("in-process", home, local_session(home))
        return
    with LocalAWSServer(home) as server:
        session = boto3.Session(
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            region_name="us-east-1",
        )
        yield LocalAWSTarget("server", home, session, server.endpoint_url)
