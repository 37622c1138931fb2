"""An optional rate limit on StartHumanLoop, so code written for A2I meets the ThrottlingException it will
meet on AWS (and its retries are exercised) before it runs there.

Off unless configured: `MLOPS_A2I_START_RATE` (loops per second, > 0) and `MLOPS_A2I_START_BURST` (how many
may start at once after a pause; default the rate, at least 1), read when the service starts. The bucket
belongs to one home's service in one process: `mlops local serve` and an in-process session each have one.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

RATE_ENV = "MLOPS_A2I_START_RATE"
BURST_ENV = "MLOPS_A2I_START_BURST"


class ThrottleConfigError(ValueError):
    """The rate-limit variables hold something that is not a limit; the message names the variable."""


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `take()` spends one if there is one."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        if not (math.isfinite(rate) and rate > 0) or not (math.isfinite(burst) and burst >= 1):
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, not rate={rate}, burst={burst}")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens, self._last = burst, clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


def bucket_from_env(env: dict[str, str] | None = None) -> TokenBucket | None:
    """The configured StartHumanLoop limit, or None (no limit)."""
    env = os.environ if env is None else env
    raw_rate, raw_burst = env.get(RATE_ENV, "").strip(), env.get(BURST_ENV, "").strip()
    if not raw_rate:
        if raw_burst:
            raise ThrottleConfigError(f"{BURST_ENV} is set but {RATE_ENV} is not; set both, or neither")
        return None
    rate = _number(RATE_ENV, raw_rate, minimum=0, inclusive=False)
    burst = _number(BURST_ENV, raw_burst, minimum=1, inclusive=True) if raw_burst else max(1.0, rate)
    return TokenBucket(rate, burst)


def _number(name: str, text: str, minimum: float, inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ThrottleConfigError(f"{name}={text!r} is not a number") from None
    if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
        bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
        raise ThrottleConfigError(f"{name}={text!r} must be a finite number {bound}")
    return value
