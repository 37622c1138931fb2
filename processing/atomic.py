"""Atomic file writes: a temp file beside the target, then one rename. The one home of that rule.

Readers see the old file or the new one, never a torn one, and a failed write leaves the old file
as it was and no temp file behind. The temp file is created by `mkstemp` (mode 0600); the published
file gets the mode an ordinary `open()` would give it (0666 less the umask), so outputs are as
readable as every other file a job writes. Lives in `processing/` because job code in containers
uses it too; the offline runtime imports it from here.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

TMP_PREFIX = ".~mlops-tmp-"  # never a published name: listings skip it, the object store refuses it as a key


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_MODE = _default_mode()


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, durable: bool = False, mode: int | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file to write; on a clean exit it replaces `path` in one rename.

    durable: fsync the data and the directory entry, for state that must survive a power loss.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
            os.fchmod(out.fileno(), _MODE if mode is None else mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(target.parent)


def atomic_write(
    path: str | os.PathLike, data: bytes | str | Iterable[bytes], *, durable: bool = False, mode: int | None = None
) -> Path:
    """Write bytes, text (UTF-8) or an iterable of byte chunks to `path` atomically; returns the path."""
    with atomic_file(path, durable=durable, mode=mode) as out:
        if isinstance(data, str):
            out.write(data.encode("utf-8"))
        elif isinstance(data, (bytes, bytearray, memoryview)):
            out.write(data)
        else:
            for chunk in data:
                out.write(chunk)
    return Path(path)


def fsync_dir(path: str | os.PathLike) -> None:
    """Persist a rename itself (POSIX); harmless where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
