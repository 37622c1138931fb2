"""Readers that stream a dataset as Batches of columns, as AWS's analyzer reads each format.

`DatasetFormat` is Model Monitor's `dataset_format` (`{"csv": {"header": true}}`,
`{"json": {"lines": true}}`, `{"parquet": {}}`); captured endpoint data has its own reader
(capture.py). A directory is read file by file in name order, skipping hidden files, as Spark does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..batch import Batch
from ..errors import MonitorInputError
from ..paths import local_path

FORMATS = ("csv", "json", "parquet")


@dataclass(frozen=True)
class DatasetFormat:
    kind: str = "csv"  # csv | json | parquet
    header: bool = True  # CSV only

    @property
    def has_names(self) -> bool:
        """Whether the data names its columns (else they are `_c0`, `_c1`, … by position)."""
        return self.kind != "csv" or self.header

    @classmethod
    def from_json(cls, text: str | dict) -> DatasetFormat:
        """Parse Model Monitor's `dataset_format` environment value."""
        try:
            spec = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError as e:
            raise MonitorInputError(f"dataset_format is not valid JSON: {e.msg}") from None
        if not isinstance(spec, dict) or len(spec) != 1:
            raise MonitorInputError('dataset_format must name one format, e.g. {"csv": {"header": true}}')
        ((kind, options),) = spec.items()
        options = options or {}
        if kind == "csv":
            return cls("csv", bool(options.get("header", True)))
        if kind == "json":
            if options.get("lines", True) is False:
                raise MonitorInputError('only JSON Lines is supported: use {"json": {"lines": true}}')
            return cls("json")
        if kind == "parquet":
            return cls("parquet")
        raise MonitorInputError(f"unknown dataset format {kind!r}; expected one of csv, json, parquet")


def dataset_files(path: Path) -> list[Path]:
    """The files of a dataset: the path itself, or a directory's visible files in name order."""
    if not path.exists():
        raise MonitorInputError(f"dataset not found: {path}")
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
    if not files:
        raise MonitorInputError(f"dataset folder {path} holds no files")
    return files


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def read_dataset(path: str | Path, fmt: DatasetFormat) -> Iterator[Batch]:
    """Every batch of every file of the dataset, in order."""
    if fmt.kind not in FORMATS:
        raise MonitorInputError(f"unknown dataset format {fmt.kind!r}; expected one of {', '.join(FORMATS)}")
    files = dataset_files(local_path(path, "dataset"))
    names: list[str] | None = None
    for file in files:
        for batch in _read_file(file, fmt):
            if names is None:
                names = list(batch.columns)
            elif list(batch.columns) != names:
                raise MonitorInputError(f"{file} does not have the same columns as the dataset's first file")
            yield batch


def _read_file(file: Path, fmt: DatasetFormat) -> Iterator[Batch]:
    if fmt.kind == "csv":
        from .csv import read_batches

        return read_batches(file, fmt.header)
    if fmt.kind == "json":
        from .jsonl import read_batches as read_json

        return read_json(file)
    from .parquet import read_batches as read_parquet

    return read_parquet(file)
