"""numba as an optional accelerator: `jit` compiles when numba is importable, else returns None.

Every compiled kernel in this package has an exact numpy/Python twin that gives the same bits;
the twin runs when numba is missing (the XGBoost image has none) or when MLOPS_NO_NUMBA=1, which
the tests use to check that both paths agree.
"""

from __future__ import annotations

import os
from collections.abc import Callable

try:  # pragma: no cover - depends on the environment
    if os.environ.get("MLOPS_NO_NUMBA") == "1":
        raise ImportError("numba disabled by MLOPS_NO_NUMBA=1")
    import numba as _numba
except ImportError:  # pragma: no cover
    _numba = None

HAVE_NUMBA = _numba is not None


def jit(fn: Callable, inline: bool = False) -> Callable | None:
    """Compile `fn` with numba (cached on disk, GIL released) or give None when numba is absent.

    `inline=True` is for small helpers called per cell from other kernels: numba inlines them into
    the caller's IR instead of making a call per cell.
    """
    if _numba is None:
        return None
    if inline:
        return _numba.njit(inline="always", nogil=True)(fn)
    return _numba.njit(cache=True, nogil=True)(fn)
