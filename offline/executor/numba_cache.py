"""numba's on-disk cache for job code, kept from one job sandbox to the next.

numba files a `cache=True` kernel under the *folder* its source sits in. Every local job unpacks its
code bundle into a new sandbox folder, so every job compiled its kernels again: 4.5 s of CPU in
each monitoring-analyzer job, for a few hundred rows. This locator files the cache by *content*
instead, under a per-user folder that outlives jobs and homes (`$XDG_CACHE_HOME/mlops/numba`, or
`NUMBA_CACHE_DIR` when the user set one): the same code finds its kernels wherever it was unpacked.

The key is the digest of every `.py` file of the package the kernel's module belongs to, not only
of that module: numba inlines helpers from sibling modules into a kernel, and an edit there must
not reuse a stale kernel. numba still checks its own keys (signature, CPU, bytecode) inside.

Jobs get it through numba's `NUMBA_CACHE_LOCATOR_CLASSES` (numba >= 0.62; older versions ignore
the variable and compile as before). When the folder cannot be written, numba's own locators
decide, as without this module.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

LOCATOR = f"{__name__}.ContentKeyedLocator"


def cache_root() -> Path:
    """The per-user folder for compiled kernels (NUMBA_CACHE_DIR wins when set)."""
    explicit = os.environ.get("NUMBA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlops" / "numba"


def job_environment() -> dict[str, str]:
    """What a job's environment needs for its kernels to be compiled once per user, not once per job."""
    return {"NUMBA_CACHE_DIR": str(cache_root()), "NUMBA_CACHE_LOCATOR_CLASSES": LOCATOR}


@functools.cache
def source_digest(root: str) -> str:
    """Digest of the names and bytes of a module, or of every .py file under a package folder."""
    top = Path(root)
    files = sorted(top.rglob("*.py")) if top.is_dir() else [top]
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(top).as_posix() if top.is_dir() else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def source_root(source: Path) -> Path:
    """The outermost package folder holding a module, or the module itself when it is in no package."""
    if not (source.parent / "__init__.py").is_file():
        return source
    folder = source.parent
    while (folder.parent / "__init__.py").is_file():
        folder = folder.parent
    return folder


def _locator_class():
    # numba is imported only by a job that compiles; this module must import without it.
    from numba.core import caching, config

    class ContentKeyedLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        """numba cache locator: `<cache root>/<package>-<content digest>/<module's folder in the package>`."""

        def __init__(self, py_func, py_file: str):
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            source = Path(py_file).resolve()
            root = source_root(source)
            where = source.parent.relative_to(root) if root.is_dir() else Path()
            self._cache_path = str(Path(config.CACHE_DIR) / f"{root.stem}-{source_digest(str(root))}" / where)

        def get_cache_path(self) -> str:
            return self._cache_path

        @classmethod
        def from_function(cls, py_func, py_file: str):
            if config.CACHE_DIR and os.path.isfile(py_file):
                locator = cls(py_func, py_file)
                try:
                    locator.ensure_cache_path()
                    return locator
                except OSError:
                    pass  # not writable: numba's own choice below
            for fallback in caching.CacheImpl._locator_classes:
                locator = fallback.from_function(py_func, py_file)
                if locator is not None:
                    return locator
            return None

    return ContentKeyedLocator


def __getattr__(name: str):
    if name == "ContentKeyedLocator":
        cls = _locator_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
