"""Sessions and sign-in limits: tokens kept as hashes, expiry, closing, and the sliding failure window."""

from __future__ import annotations

import hashlib

from offline.state import StateDB
from review.portal.sessions import Sessions, SignInLimiter, same_token
from review.portal.workforce import Workforce


def test_a_session_is_found_by_its_token_until_it_expires_or_closes(home):
    Workforce.for_home(home).add_worker("ana")
    db = StateDB.for_home(home)
    token, session = Sessions(db).open("ana")
    assert Sessions(db).get(token) == session
    assert db.query_one("SELECT token_sha256 FROM portal_sessions")[0] == hashlib.sha256(token.encode()).hexdigest()
    assert (
        Sessions(db).get(token + "x") is None and Sessions(db).get("") is None and Sessions(db).get("x" * 500) is None
    )
    Sessions(db).close(token)
    assert Sessions(db).get(token) is None
    expired, _ = Sessions(db, lifetime_seconds=0).open("ana")
    assert Sessions(db).get(expired) is None


def test_the_limiter_counts_failures_in_a_sliding_window_per_key():
    now = [100.0]
    limiter = SignInLimiter(max_failures=2, window_seconds=10.0, clock=lambda: now[0])
    keys = ["addr:127.0.0.1", "worker:ana"]
    assert limiter.retry_after(keys) == 0
    limiter.failed(keys)
    now[0] = 104.0
    limiter.failed(keys)
    assert limiter.retry_after(keys) == 6.0  # until the first failure is 10 s old
    assert limiter.retry_after(["addr:127.0.0.2", "worker:ben"]) == 0
    assert limiter.retry_after(["worker:ana"]) == 6.0  # another address, the same worker: still refused
    now[0] = 110.5  # the first failure has left the window
    assert limiter.retry_after(keys) == 0
    limiter.failed(keys)
    assert limiter.retry_after(keys) == 3.5
    limiter.succeeded("worker:ana")  # a success clears the worker's count, not the address's
    assert limiter.retry_after(["worker:ana"]) == 0
    assert limiter.retry_after(keys) == 3.5
    now[0] = 114.5
    assert limiter.retry_after(keys) == 0


def test_tokens_compare_only_when_equal_and_present():
    assert same_token("abc", "abc")
    assert not same_token("abd", "abc") and not same_token("", "") and not same_token(None, "abc")
    assert not same_token(["abc"], "abc")
