"""CSV as AWS's analyzer reads it: every cell kept as its raw text, streamed in bounded memory.

Spark's CSV source with the analyzer's options: all columns strings, an empty cell (quoted or not)
is null, blank lines are skipped, `""` inside quotes is a quote. Header-less columns are named
`_c0`, `_c1`, …; with a header, Spark's rules make names safe (an empty name becomes `_c<i>`, a
repeated name gets its column index appended). Unlike Spark's permissive mode, a row with the wrong
number of cells is an error, not silently padded: a baseline built from a ragged file is wrong.
A quoted cell cannot span lines (Spark's default, multiLine=false, reads line by line as well).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from ..batch import Batch, ColumnBatch
from ..errors import MonitorInputError

BLOCK_SIZE = 16 << 20  # bytes of CSV per batch: bounds memory whatever the file's size
PARSE_BLOCK = 1 << 20  # Arrow parses a batch in pieces this big (cache-friendly; faster than one piece)


def header_names(path: Path, header: bool) -> list[str]:
    """Column names: Spark-safe header names, or `_c0…` from the first row's width."""
    first = _first_row(path)
    if not header:
        return [f"_c{i}" for i in range(len(first))]
    return spark_safe_names(first)


def spark_safe_names(raw: list[str]) -> list[str]:
    """Spark CSVUtils: empty names → `_c<i>`; names seen twice (case-insensitively) → name + index."""
    lowered = [name.lower() for name in raw]
    duplicated = {name for name in lowered if lowered.count(name) > 1}
    names = []
    for i, name in enumerate(raw):
        if name == "":
            names.append(f"_c{i}")
        elif name.lower() in duplicated:
            names.append(f"{name}{i}")
        else:
            names.append(name)
    return names


def read_batches(path: Path, header: bool, block_size: int = BLOCK_SIZE) -> Iterator[Batch]:
    """Batches of raw cell text, in file order.

    The file is cut into blocks at line ends and each block parsed on its own: Spark reads CSV
    line by line too (a quoted newline does not continue a record), and memory stays at a few
    blocks whatever the file's size, unlike Arrow's streaming reader, which reads far ahead.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = header_names(path, header)
    parse_options = pacsv.ParseOptions(delimiter=",", quote_char='"', double_quote=True, ignore_empty_lines=True)
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
        check_utf8=True,
    )
    for start, block in _line_blocks(path, skip_header=header, block_size=block_size):
        read_options = pacsv.ReadOptions(column_names=names, block_size=PARSE_BLOCK, use_threads=False)
        try:
            table = pacsv.read_csv(
                pa.py_buffer(block),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        except pa.ArrowInvalid as e:
            raise MonitorInputError(_explain(path, str(e), _lines_before(path, start))) from None
        if table.num_rows:
            columns = [ColumnBatch.text(name, _single_chunk(table.column(i))) for i, name in enumerate(names)]
            yield Batch(columns, table.num_rows)


def _single_chunk(column):
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _line_blocks(path: Path, skip_header: bool, block_size: int) -> Iterator[tuple[int, memoryview]]:
    """(byte offset, bytes) of the file after the header, in blocks that end at a line end.

    One buffer is reused: each block is a view into it, valid until the next block is asked for
    (the caller parses it before that), so the file's bytes are copied once, by the read itself.
    """
    with open(path, "rb") as f:
        if skip_header:
            while not f.readline().strip():
                pass
        start, kept = f.tell(), 0
        buffer = bytearray(block_size)
        while True:
            if kept == len(buffer):  # one line longer than a block: a bigger buffer (the old may be in use)
                buffer = buffer + bytearray(len(buffer))
            with memoryview(buffer) as view:
                read = f.readinto(view[kept:])
            end = kept + read
            if read == 0:
                if bytes(buffer[:kept]).strip():
                    yield start, memoryview(bytes(buffer[:kept]))
                return
            cut = buffer.rfind(b"\n", 0, end) + 1
            if cut == 0:
                kept = end
                continue
            with memoryview(buffer) as view:
                yield start, view[:cut]
            buffer[: end - cut] = buffer[cut:end]
            kept, start = end - cut, start + cut


def _lines_before(path: Path, offset: int) -> int:
    """Lines in the file before a byte offset (only computed to name the line of an error)."""
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n")


def _first_row(path: Path) -> list[str]:
    try:
        with open(path, "rb") as f:
            raw = b""
            while not raw.strip():
                line = f.readline()
                if not line:
                    raise MonitorInputError(f"{path} is empty: no header and no rows")
                raw = line
    except OSError as e:
        raise MonitorInputError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MonitorInputError(f"{path} is not UTF-8 text (invalid byte at offset {e.start} of line 1)") from None
    text = text.lstrip("\ufeff")
    return next(csv.reader(io.StringIO(text)))


def _explain(path: Path, message: str, lines_before: int) -> str:
    """A clear reason without echoing the row's content (it may hold personal data)."""
    if "UTF8" in message or "UTF-8" in message:
        column = re.search(r"column #(\d+)", message)
        where = f" (column {int(column.group(1)) + 1} holds bytes that are not valid UTF-8)" if column else ""
        return f"{path} is not UTF-8 text{where}"
    ragged = re.search(r"(?:Row #(\d+): )?Expected (\d+) columns, got (\d+)", message)
    if ragged:
        row, expected, got = ragged.groups()
        where = f"line {lines_before + int(row)}" if row else "a line"
        return f"{path}: {where} has {got} cells but the file has {expected} columns (ragged rows are not accepted)"
    return f"cannot parse {path} as CSV: {message.splitlines()[0][:200]}"
