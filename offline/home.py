"""Where local state lives: $MLOPS_HOME, else ./.mlops (object store, state.db, logs, reports)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MLOPS_HOME"
DEFAULT_HOME = ".mlops"


def mlops_home(explicit: str | os.PathLike | None = None) -> Path:
    """The local home as an absolute path; created on first use."""
    home = Path(explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    return home
