"""Unique ids in UUID form for event ids and request ids, ten times cheaper than uuid.uuid4().

Each process draws a random 80-bit prefix (laid out as a version-4, RFC 4122 variant UUID) and counts
the last 48 bits from a random start, so ids never repeat within a process and collide across processes
with negligible probability. uuid4() reads the OS's random source every time (~2.5 µs); this is ~0.3 µs,
which matters on a request path of ~250 µs that needs two of them.
"""

from __future__ import annotations

import itertools
import secrets

_LOW48 = (1 << 48) - 1


class IdFactory:
    def __init__(self) -> None:
        a, b, c, d = secrets.randbits(32), secrets.randbits(16), secrets.randbits(12), 0x8000 | secrets.randbits(14)
        self._prefix = f"{a:08x}-{b:04x}-4{c:03x}-{d:04x}-"
        self._counter = itertools.count(secrets.randbits(48))

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & _LOW48:012x}"


new_id = IdFactory()
