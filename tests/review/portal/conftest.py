"""Fixtures of the portal tests: a home with the local AWS services, workers of the default team, and a
TestClient of the portal app (in-process, the real app, state DB and object store)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from offline.aws import local_session
from review.portal.app import Portal, create_app
from review.portal.workforce import Workforce
from tests.review.portal.portal_helpers import csrf_of, login_token


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """argon2id with its smallest cost: the same algorithm and code path, without 0.3 s per hash."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("review.portal.workforce._HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def aws(home):
    return local_session(home)


@pytest.fixture
def workers(home) -> dict[str, str]:
    """ana and ben (admin) in team default, cy in team other: name -> secret."""
    workforce = Workforce.for_home(home)
    return {
        "ana": workforce.add_worker("ana").secret,
        "ben": workforce.add_worker("ben", admin=True).secret,
        "cy": workforce.add_worker("cy", "other").secret,
    }


@pytest.fixture
def portal(home) -> Portal:
    return Portal(home, threshold=0.5, page_size=3)


@pytest.fixture
def client(portal):
    return client_of(portal)


def client_of(portal: Portal):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note on httpx versions
        from starlette.testclient import TestClient

        return TestClient(create_app(portal), follow_redirects=False)


def sign_in(client, worker: str, secret: str) -> str:
    """Sign in through the form; returns the session's CSRF token."""
    token = login_token(client.get("/login").text)
    response = client.post("/login", data={"worker": worker, "secret": secret, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/tasks").text)
