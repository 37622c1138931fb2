"""Signed-in sessions and the limits on signing in.

A session is a random token in an HttpOnly, SameSite=Strict cookie; the DB keeps its SHA-256 beside the
worker, the session's CSRF token and its expiry (SESSION_SECONDS after sign-in, whatever the activity).
Sign-in failures are counted per client address and per worker name in a sliding window: past
MAX_FAILURES in WINDOW_SECONDS, sign-in is refused (429) until the oldest failure leaves the window.
The counts live in the serving process (a restart forgets them; one portal process serves a home).
"""

from __future__ import annotations

import collections
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from offline.state import StateDB
from review.portal.schema import COMPONENT

SESSION_SECONDS = 8 * 3600
MAX_FAILURES = 5
WINDOW_SECONDS = 300.0
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Session:
    worker: str
    csrf_token: str
    expires_ms: int


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def same_token(given: object, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one (empty never matches)."""
    return isinstance(given, str) and bool(given) and secrets.compare_digest(given.encode(), expected.encode())


class Sessions:
    def __init__(self, db: StateDB, lifetime_seconds: int = SESSION_SECONDS):
        self.db = db
        self.lifetime_ms = lifetime_seconds * 1000
        db.ensure(COMPONENT)

    def open(self, worker: str) -> tuple[str, Session]:
        """A new session for a signed-in worker: (the cookie's token, the session). Expired ones go."""
        token, now = new_token(), _now_ms()
        session = Session(worker, new_token(), now + self.lifetime_ms)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM portal_sessions WHERE expires_ms <= ?", (now,))
            conn.execute(
                "INSERT INTO portal_sessions (token_sha256, worker, csrf_token, created_ms, expires_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (_digest(token), worker, session.csrf_token, now, session.expires_ms),
            )
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 128:
            return None
        row = self.db.query_one(
            "SELECT worker, csrf_token, expires_ms FROM portal_sessions WHERE token_sha256 = ? AND expires_ms > ?",
            (_digest(token), _now_ms()),
        )
        return Session(row["worker"], row["csrf_token"], row["expires_ms"]) if row else None

    def close(self, token: str | None) -> None:
        if token:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM portal_sessions WHERE token_sha256 = ?", (_digest(token),))


class SignInLimiter:
    """Sliding-window failure counts per key (a client address, a worker name)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS, clock=time.monotonic):
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, keys: list[str]) -> float:
        """Seconds until sign-in is allowed again for these keys (0: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        times = self._failures.setdefault(key, collections.deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(self._failures) > 10_000:  # a flood of distinct keys: forget the quiet ones
            for stale in [k for k, v in self._failures.items() if not v and k != key]:
                del self._failures[stale]
        return times


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
