"""Writing the analyzer's files: all or nothing, each file atomically (temp file + rename).

Every document is computed before the first byte is written, so a bad input leaves the output
folder as it was; the files are then written under temporary names and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import jackson

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"


def write_documents(output_dir: str | os.PathLike, documents: dict[str, dict]) -> list[Path]:
    """Write {file name: document} into output_dir in Jackson's layout; returns the paths."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {name: jackson.dumps(document) for name, document in documents.items()}
    staged: list[tuple[Path, Path]] = []
    try:
        for name, text in texts.items():
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            staged.append((Path(temp), folder / name))
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()
    return [final for _, final in staged]


def write_text(path: str | os.PathLike, text: str) -> None:
    """One text file, atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(temp, target)
