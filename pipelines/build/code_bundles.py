"""Clean, content-addressed copies of the code the jobs and the endpoint run.

The SDK tars whatever folder it is given (caches and all) and hashes the folder's *path* into the
S3 key of the upload. Staging only the package's source files under a path named by their content
hash makes the definition the same on every machine and every run for the same code, and keeps
`__pycache__` out of model.tar.gz.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import inference
import processing

SOURCE_SUFFIXES = (".py", ".json", ".html", ".liquid")
CONTRACT_FILE = "data_contract.json"


def processing_bundle() -> Path:
    """A folder holding a clean copy of the `processing` package (jobs run `processing/<job>.py`)."""
    package = Path(processing.__file__).resolve().parent
    return _stage({f"processing/{rel}": src for rel, src in _source_files(package).items()})


def inference_archive() -> bytes:
    """sourcedir.tar.gz of the handler and the data contract it reads (model.tar.gz's `code/`).

    Built byte for byte the same from the same files (sorted entries, zero times and owners), so
    its content hash can name its S3 key.
    """
    handler = Path(inference.__file__).resolve().parent
    files = {rel: src for rel, src in _source_files(handler).items() if rel != "__init__.py"}
    files[CONTRACT_FILE] = Path(processing.__file__).resolve().parent / CONTRACT_FILE
    return deterministic_tar(files)


def deterministic_tar(files: dict[str, Path]) -> bytes:
    """A gzipped tar of {archive name: source file} with sorted entries, zero times and owners:
    the same files give the same bytes, so a hash of the bytes can name the upload."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name, src in sorted(files.items()):
            data = src.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _source_files(package: Path) -> dict[str, Path]:
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and path.suffix in SOURCE_SUFFIXES and "__pycache__" not in rel.parts:
            files[rel.as_posix()] = path
    return files


def _stage(files: dict[str, Path]) -> Path:
    digest = hashlib.sha256()
    for rel, src in sorted(files.items()):
        digest.update(rel.encode() + b"\0" + src.read_bytes() + b"\0")
    target = Path(tempfile.gettempdir()) / "mlops-code" / digest.hexdigest()[:20]
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent))
    for rel, src in files.items():
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    try:
        os.replace(scratch, target)  # another process may have staged the same content first
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
