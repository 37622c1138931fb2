"""Writing the analyzer's files: all or nothing, each file atomically (temp file + rename).

Every document is computed before the first byte is written, so a bad input leaves the output
folder as it was; each file is then written under a temporary name and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import atomic_write
from . import jackson
from .paths import local_path

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"


def write_documents(output_dir: str | os.PathLike, documents: dict[str, dict]) -> list[Path]:
    """Write {file name: document} into output_dir in Jackson's layout; returns the paths."""
    folder = local_path(output_dir, "output folder")
    texts = {name: jackson.dumps(document) for name, document in documents.items()}  # render all, then write
    return [atomic_write(folder / name, text) for name, text in texts.items()]


def write_text(path: str | os.PathLike, text: str) -> None:
    """One text file, atomically."""
    atomic_write(path, text)
