"""The local work team: workers, the teams they belong to, and their secrets (argon2-hashed).

A work team is private-crowd's: `arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<team>`.
A flow definition names one in its HumanLoopConfig.WorkteamArn, and a worker sees that flow's loops
when they belong to the team it names (in the local account and the flow's region). A secret is shown
once, when it is made; only its hash is kept.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from offline.aws.a2i.loops import valid_worker_name
from offline.defaults import LOCAL_ACCOUNT_ID
from offline.state import StateDB
from pipelines.deploy.review_spec import WORKTEAM_ARN
from review.portal.schema import COMPONENT

DEFAULT_TEAM = "default"
SECRET_BYTES = 20  # 160 random bits, 27 URL-safe characters
_HASHER = PasswordHasher()  # RFC 9106's second recommended setting: argon2id, 64 MiB, 3 passes


class WorkforceError(ValueError):
    """A bad worker or team name, or a change that cannot be made; the message says which."""


@dataclass(frozen=True)
class Worker:
    name: str
    teams: tuple[str, ...]
    admin: bool


@dataclass(frozen=True)
class Added:
    """What add_worker did: a new worker (with their one-time secret), a team joined, or a secret renewed."""

    worker: Worker
    team: str
    secret: str | None  # shown once; None when an existing worker kept theirs
    created: bool
    joined: bool


def team_arn(region: str, team: str, account: str = LOCAL_ACCOUNT_ID) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:workteam/private-crowd/{team}"


def check_team(team: str) -> str:
    if not isinstance(team, str) or not WORKTEAM_ARN.fullmatch(team_arn("us-east-1", team)):
        raise WorkforceError(
            f"team {team!r}: 1-63 letters, digits and hyphens, starting and ending with a letter or digit"
        )
    return team


def team_of(workteam_arn: object, region: str) -> str | None:
    """The local team a flow definition's WorkteamArn names, or None (another account or region, or not
    a private team: nobody here sees those loops)."""
    match = WORKTEAM_ARN.fullmatch(workteam_arn) if isinstance(workteam_arn, str) else None
    if match is None or match["region"] != region or match["account"] != LOCAL_ACCOUNT_ID:
        return None
    return match["name"]


class Workforce:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure(COMPONENT)

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> Workforce:
        return cls(StateDB.for_home(home))

    def add_worker(
        self, name: str, team: str = DEFAULT_TEAM, *, admin: bool = False, new_secret: bool = False
    ) -> Added:
        """Add a worker to a team. A new worker gets a secret; an existing one joins the team and keeps
        theirs unless `new_secret` (which also signs them out everywhere). Already a member, with nothing
        else asked: WorkforceError."""
        if not valid_worker_name(name):
            raise WorkforceError(
                f"worker {name!r}: 1-64 letters, digits and . _ @ + -, starting with a letter or digit"
            )
        check_team(team)
        now = _now_ms()
        secret = _new_secret()
        digest = _HASHER.hash(secret)  # outside the write lock: hashing takes tens of milliseconds
        with self.db.transaction() as conn:
            row = conn.execute("SELECT admin FROM portal_workers WHERE name = ?", (name,)).fetchone()
            created = row is None
            member = (
                not created
                and conn.execute(
                    "SELECT 1 FROM portal_team_members WHERE team = ? AND worker = ?", (team, name)
                ).fetchone()
                is not None
            )
            if member and not new_secret and not (admin and not row["admin"]):
                raise WorkforceError(f"worker {name} is already a member of team {team}")
            if created:
                conn.execute(
                    "INSERT INTO portal_workers (name, secret_hash, admin, created_ms) VALUES (?, ?, ?, ?)",
                    (name, digest, int(admin), now),
                )
            else:
                if new_secret:
                    conn.execute("UPDATE portal_workers SET secret_hash = ? WHERE name = ?", (digest, name))
                    conn.execute("DELETE FROM portal_sessions WHERE worker = ?", (name,))
                if admin:
                    conn.execute("UPDATE portal_workers SET admin = 1 WHERE name = ?", (name,))
            if not member:
                conn.execute(
                    "INSERT INTO portal_team_members (team, worker, added_ms) VALUES (?, ?, ?)", (team, name, now)
                )
        shown = secret if created or new_secret else None
        return Added(self.worker(name), team, shown, created, not member)

    def worker(self, name: str) -> Worker | None:
        row = self.db.query_one("SELECT name, admin FROM portal_workers WHERE name = ?", (name,))
        if row is None:
            return None
        teams = self.db.query("SELECT team FROM portal_team_members WHERE worker = ? ORDER BY team", (name,))
        return Worker(row["name"], tuple(t["team"] for t in teams), bool(row["admin"]))

    def workers(self) -> list[Worker]:
        names = self.db.query("SELECT name FROM portal_workers ORDER BY name")
        return [w for w in (self.worker(r["name"]) for r in names) if w is not None]

    def verify(self, name: str, secret: str) -> Worker | None:
        """The worker when the secret is theirs, else None. An unknown name costs a hash check too, so the
        time taken does not tell which names exist."""
        row = None
        if valid_worker_name(name):
            row = self.db.query_one("SELECT secret_hash FROM portal_workers WHERE name = ?", (name,))
        digest = row["secret_hash"] if row is not None else _dummy_hash()
        try:
            _HASHER.verify(digest, secret)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _HASHER.check_needs_rehash(digest):
            with self.db.transaction() as conn:
                conn.execute("UPDATE portal_workers SET secret_hash = ? WHERE name = ?", (_HASHER.hash(secret), name))
        return self.worker(name)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(_new_secret()))
    return _DUMMY[0]


def _new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
