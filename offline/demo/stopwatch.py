"""Where the demo's time goes: wall and CPU seconds (this process) per stage, printed at the end."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator


class Stopwatch:
    def __init__(self) -> None:
        self.parts: list[tuple[str, float, float]] = []  # name, wall s, CPU s

    def reset(self) -> None:
        self.parts.clear()

    @contextlib.contextmanager
    def part(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.parts.append((name, time.perf_counter() - wall, time.process_time() - cpu))

    def as_json(self) -> list[dict]:
        return [{"stage": n, "wall_seconds": round(w, 2), "cpu_seconds": round(c, 2)} for n, w, c in self.parts]


STOPWATCH = Stopwatch()
