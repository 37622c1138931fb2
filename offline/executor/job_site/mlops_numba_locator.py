"""numba cache locator for job code: the cache is filed by the code's content, not by its folder.

numba imports it by name (`NUMBA_CACHE_LOCATOR_CLASSES=mlops_numba_locator.ContentKeyedLocator`,
set by offline/executor/numba_cache.py, which explains why). Self-contained: stdlib and numba only.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from numba.core import caching, config


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


class ContentKeyedLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """`<NUMBA_CACHE_DIR>/<package>-<content digest>/<module's folder in the package>`."""

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
