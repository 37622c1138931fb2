"""Workers and teams: a new worker's one-time secret (stored as an argon2id hash), joining more teams,
renewing a secret, the names allowed, and which flow definitions' loops a team sees."""

from __future__ import annotations

import pytest

from offline.state import StateDB
from review.portal.workforce import Workforce, WorkforceError, team_arn, team_of


@pytest.fixture
def workforce(home) -> Workforce:
    return Workforce.for_home(home)


def test_a_new_worker_gets_a_secret_that_is_stored_only_as_an_argon2_hash(workforce, home):
    added = workforce.add_worker("ana")
    assert added.created and added.joined and added.team == "default"
    assert len(added.secret) >= 24
    assert workforce.verify("ana", added.secret).teams == ("default",)
    assert workforce.verify("ana", added.secret + "x") is None
    assert workforce.verify("nobody", added.secret) is None
    stored = StateDB.for_home(home).query_one("SELECT secret_hash FROM portal_workers WHERE name = 'ana'")[0]
    assert stored.startswith("$argon2id$") and added.secret not in stored


def test_an_existing_worker_joins_another_team_and_keeps_their_secret(workforce):
    secret = workforce.add_worker("ana").secret
    joined = workforce.add_worker("ana", "oncology")
    assert joined.secret is None and joined.joined and not joined.created
    assert workforce.worker("ana").teams == ("default", "oncology")
    assert workforce.verify("ana", secret) is not None


def test_a_new_secret_replaces_the_old_one_and_ends_sessions(workforce, home):
    from review.portal.sessions import Sessions

    old = workforce.add_worker("ana").secret
    token, _ = Sessions(StateDB.for_home(home)).open("ana")
    new = workforce.add_worker("ana", new_secret=True).secret
    assert new and new != old
    assert workforce.verify("ana", old) is None and workforce.verify("ana", new) is not None
    assert Sessions(StateDB.for_home(home)).get(token) is None


def test_adding_a_member_again_or_bad_names_is_refused_and_stores_nothing(workforce):
    workforce.add_worker("ana")
    with pytest.raises(WorkforceError, match="already a member of team default"):
        workforce.add_worker("ana")
    for name, team, message in (
        ("", "default", "worker ''"),
        ("-ana", "default", "worker '-ana'"),
        ("a" * 65, "default", "1-64 letters"),
        ("ben", "", "team ''"),
        ("ben", "bad team", "team 'bad team'"),
        ("ben", "-x", "team '-x'"),
        ("ben", "t" * 64, "1-63 letters"),
    ):
        with pytest.raises(WorkforceError, match=message):
            workforce.add_worker(name, team)
    assert [w.name for w in workforce.workers()] == ["ana"]


def test_a_flow_definitions_work_team_is_a_local_private_team_of_its_region():
    assert team_arn("us-east-1", "default") == "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/default"
    assert team_of(team_arn("us-east-1", "reviewers"), "us-east-1") == "reviewers"
    assert team_of(team_arn("eu-west-1", "reviewers"), "us-east-1") is None  # another region's team
    assert team_of("arn:aws:sagemaker:us-east-1:210987654321:workteam/private-crowd/default", "us-east-1") is None
    assert team_of("arn:aws:sagemaker:us-east-1:123456789012:workteam/public-crowd/default", "us-east-1") is None
    assert team_of(None, "us-east-1") is None
