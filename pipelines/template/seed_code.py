"""seed-code.zip: the model-build repository a new project's CodePipeline checks out.

This repository is that repository (AWS's convention: `codebuild-buildspec.yml`, `setup.py`,
`pipelines/` at the root), so the seed code is the repository's files: the ones git tracks when the
checkout is a git work tree, else every file but the ignored kinds (virtualenvs, caches, local state).
The archive is reproducible (sorted entries, fixed timestamps and modes), so the same files always
give the same bytes and `mlops template register` uploads a new version only when the code changed.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import pipelines

REQUIRED = ("setup.py", "codebuild-buildspec.yml", "constraints.txt", "pipelines/__init__.py")
# Not seed code when git cannot say what is tracked (names of folders or files, anywhere in the tree).
IGNORED_NAMES = {".git", ".mlops", ".build", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist"}
IGNORED_PREFIXES = (".venv",)
IGNORED_SUFFIXES = (".pyc", ".egg-info")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class SeedCodeError(ValueError):
    """The project's files cannot be found or read."""


def project_root() -> Path:
    """The checkout this package runs from (seed code and templates live there, not in site-packages)."""
    root = Path(pipelines.__file__).resolve().parents[1]
    missing = [name for name in REQUIRED if not (root / name).is_file()]
    if missing:
        raise SeedCodeError(
            f"{root} is not a checkout of this repository ({', '.join(missing)} missing): run mlops template "
            "from a clone of the repository, installed with `pip install -e .` (make venv does)"
        )
    return root


def seed_files(root: Path) -> list[str]:
    """Relative paths (with /) of the seed code, sorted."""
    tracked = _git_files(root)
    files = tracked if tracked is not None else _walk(root)
    return sorted(f for f in files if (root / f).is_file())


def seed_zip(root: Path) -> bytes:
    """The reproducible archive of the seed files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in seed_files(root):
            path = root / name
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            mode = 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            try:
                archive.writestr(info, path.read_bytes())
            except OSError as e:
                raise SeedCodeError(f"cannot read {path}: {e}") from e
    return buffer.getvalue()


def _git_files(root: Path) -> list[str] | None:
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached"],
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git, or not usable here: fall back to the walk
    return [name for name in done.stdout.decode().split("\0") if name]


def _walk(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _ignored(d))
        for name in files:
            if not _ignored(name):
                found.append((Path(folder) / name).relative_to(root).as_posix())
    return found


def _ignored(name: str) -> bool:
    return name in IGNORED_NAMES or name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES)
