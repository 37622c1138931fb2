"""Which kernels a job process runs: numba's compiled ones, or their exact numpy twins.

Both give the same bits (`_jit`'s contract, tested), so this is only about time: loading numba and
its cached kernels costs about 1.4 s per process, which the compiled kernels win back only on large
inputs (measured: a 455-row baseline 2.5 s with numba vs 1.1 s without; 13 MB 2.7 vs 2.0 s; 65 MB
4.5 vs 6.0 s). Job entry points call `choose_for_inputs` before the analyzer is imported; it never
imports numba itself, and it leaves an explicit MLOPS_NO_NUMBA alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NUMBA_MIN_BYTES = 32 * 1024 * 1024
_SWITCH = "MLOPS_NO_NUMBA"


def choose_for_inputs(*paths: str | os.PathLike | None) -> bool:
    """In a job process, below NUMBA_MIN_BYTES of local input use the numpy twins; True when chosen."""
    if _SWITCH in os.environ or "processing.monitoring._jit" in sys.modules:
        return False  # decided already (by the caller, or by an earlier import in this process)
    total = 0
    for path in paths:
        if path is None or "://" in str(path):
            return False  # a remote input's size is unknown here: keep numba
        total += _size(Path(path))
        if total >= NUMBA_MIN_BYTES:
            return False
    os.environ[_SWITCH] = "1"
    return True


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return 0
