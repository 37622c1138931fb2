"""Human-loop names: one per prediction, derived from the capture's event id and the row's index.

A2I's rule for a HumanLoopName is `^[a-z0-9](-*[a-z0-9])*$`, at most 63 characters, unique per account
and region. SageMaker's event ids are lower-case UUIDs, so `<event id>-<row>` is both valid and easy to
trace back to the capture; any other event id (upper case, other characters, too long) is named by a
hash of it instead. Either way the same prediction always gets the same name, so a re-run of the
post-processing job asks A2I for the same loop again and starts no duplicate.
"""

from __future__ import annotations

import hashlib
import re

A2I_NAME = re.compile(r"[a-z0-9](-*[a-z0-9])*")
MAX_NAME = 63
HASHED_PREFIX = "e"  # `e<32 hex digits>-<row>`: an event id that cannot be a name as it is


def loop_name(event_id: str, row_index: int) -> str:
    """The human loop of row `row_index` of the captured request `event_id`."""
    if not isinstance(event_id, str) or not event_id:
        raise ValueError("a loop name needs the capture's event id")
    if isinstance(row_index, bool) or not isinstance(row_index, int) or row_index < 0:
        raise ValueError(f"row index {row_index!r} is not a non-negative integer")
    suffix = f"-{row_index}"
    if A2I_NAME.fullmatch(event_id) and len(event_id) + len(suffix) <= MAX_NAME:
        return event_id + suffix
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{HASHED_PREFIX}{digest}{suffix}"


def is_loop_name(name: object) -> bool:
    """Whether A2I accepts `name` as a HumanLoopName."""
    return isinstance(name, str) and len(name) <= MAX_NAME and A2I_NAME.fullmatch(name) is not None
