"""numba's on-disk cache for job code, kept from one job sandbox to the next.

numba files a `cache=True` kernel under the *folder* its source sits in. Every local job unpacks its
code bundle into a new sandbox folder, so every job compiled its kernels again: 4.5 s of CPU in
each monitoring-analyzer job, for a few hundred rows. Jobs get a locator that files the cache by
*content* instead (job_site/mlops_numba_locator.py), under a per-user folder that outlives jobs and
homes (`$XDG_CACHE_HOME/mlops/numba`, or `NUMBA_CACHE_DIR` when the user set one): the same code
finds its kernels wherever it was unpacked.

The key is the digest of every `.py` file of the package the kernel's module belongs to, not only
of that module: numba inlines helpers from sibling modules into a kernel, and an edit there must
not reuse a stale kernel. numba still checks its own keys (signature, CPU, bytecode) inside.
Each version of the code adds a folder (a few hundred kB); delete the cache folder to reclaim it.

The locator reaches jobs through numba's `NUMBA_CACHE_LOCATOR_CLASSES` (numba >= 0.62; older
versions ignore the variable and compile as before) and a PYTHONPATH entry for job_site/, so it
imports whatever the job's working directory. When the cache folder cannot be written, numba's
own locators decide, as without it.
"""

from __future__ import annotations

import os
from pathlib import Path

from offline.executor import job_site

JOB_SITE = Path(job_site.__file__).resolve().parent
LOCATOR = "mlops_numba_locator.ContentKeyedLocator"


def cache_root() -> Path:
    """The per-user folder for compiled kernels (NUMBA_CACHE_DIR wins when set)."""
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlops" / "numba"


def job_environment() -> dict[str, str]:
    """What a job's environment needs for its kernels to be compiled once per user, not once per job."""
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {
        "NUMBA_CACHE_DIR": str(cache_root()),
        "NUMBA_CACHE_LOCATOR_CLASSES": LOCATOR,
        "PYTHONPATH": os.pathsep.join([*path, str(JOB_SITE)]),
    }
