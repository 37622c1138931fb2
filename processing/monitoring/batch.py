"""One column's slice of a batch, with the derived arrays the analyzers share.

Spark reads CSV cells as strings and JSON/Parquet values with their own types; Deequ then treats the
two differently (regex type detection and text hashing for strings; the declared type and binary
hashing otherwise). A ColumnBatch carries either kind:

- `text`: raw cell text (an Arrow string array, null = missing). The type of each cell comes from
  Deequ's regexes; numbers are parsed from the text as Spark casts them.
- `integral` / `fractional` / `boolean`: typed values (int64 / float64 / bool numpy arrays with a
  validity mask), from JSON numbers and Parquet columns.

Derived arrays are computed on first use and cached, so one pass serves every analyzer.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from . import hll
from .javanum import java_double
from .textcells import BOOLEAN, FRACTIONAL, INTEGRAL, NULL, TextCells
from .xxhash64 import hash_cells, hash_int32, hash_int64

TEXT, INTEGRAL_KIND, FRACTIONAL_KIND, BOOLEAN_KIND = "text", "integral", "fractional", "boolean"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class Batch:
    """A batch of rows: its columns by name, in the dataset's column order."""

    def __init__(self, columns: list[ColumnBatch], num_rows: int):
        self.columns = {column.name: column for column in columns}
        self.num_rows = num_rows

    def __getitem__(self, name: str) -> ColumnBatch:
        return self.columns[name]

    def renamed(self, names: dict[str, str]) -> Batch:
        """The same columns, those in `names` under their new name."""
        columns = [
            ColumnBatch(names.get(c.name, c.name), c.kind, c.values, c._valid, c.width) for c in self.columns.values()
        ]
        return Batch(columns, self.num_rows)


class ColumnBatch:
    """A column's values for one batch of rows."""

    def __init__(self, name: str, kind: str, values, valid: np.ndarray | None = None, width: int = 64):
        self.name = name
        self.kind = kind
        self.values = values  # Arrow string array for text; numpy array otherwise
        self._valid = valid
        self.width = width  # bits of a typed number: Spark hashes int32/float32 as 4 bytes

    @classmethod
    def text(cls, name: str, array) -> ColumnBatch:
        return cls(name, TEXT, array)

    def __len__(self) -> int:
        return len(self.values)

    @cached_property
    def valid(self) -> np.ndarray:
        if self.kind == TEXT:
            return self.cells.valid
        return np.ones(len(self.values), dtype=bool) if self._valid is None else self._valid

    @cached_property
    def cells(self) -> TextCells:
        return TextCells.from_arrow(self.values)

    @cached_property
    def _text_scan(self) -> tuple[np.ndarray, np.ndarray]:
        return hll.scan_text(self.cells, self.values)

    @cached_property
    def registers(self) -> np.ndarray:
        """This batch's own HLL++ registers (text columns: computed together with the cell types)."""
        if self.kind == TEXT:
            return self._text_scan[1]
        registers = hll.new_registers()
        hll.update_with_hashes(registers, self.hashes)
        return registers

    @cached_property
    def type_codes(self) -> np.ndarray:
        """Deequ's per-cell type: NULL, FRACTIONAL, INTEGRAL, BOOLEAN or STRING (uint8)."""
        if self.kind == TEXT:
            return self._text_scan[0]
        code = {INTEGRAL_KIND: INTEGRAL, FRACTIONAL_KIND: FRACTIONAL, BOOLEAN_KIND: BOOLEAN}[self.kind]
        return np.where(self.valid, np.uint8(code), np.uint8(NULL)).astype(np.uint8)

    @cached_property
    def numbers(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(doubles, longs, any_fractional) of the numeric cells in row order, as Spark casts them.

        Cells typed Integral are parsed as longs (Spark casts an Integral column to LongType; a
        cell out of the long range or of the form "- 5" becomes null); Fractional cells as
        doubles. `longs` holds the long value of each returned cell that came from an Integral
        cell (0 for the others), for the exact long sum.
        """
        if self.kind == INTEGRAL_KIND:
            longs = np.asarray(self.values, dtype=np.int64)[self.valid]
            return longs.astype(np.float64), longs, False
        if self.kind == FRACTIONAL_KIND:
            doubles = np.asarray(self.values, dtype=np.float64)[self.valid]
            return doubles, np.zeros(len(doubles), dtype=np.int64), bool(len(doubles))
        if self.kind == BOOLEAN_KIND:
            empty = np.zeros(0)
            return empty, empty.astype(np.int64), False
        return _parse_numbers(self.values, self.type_codes)

    @cached_property
    def hashes(self) -> np.ndarray:
        """Spark's XXH64 (seed 42) of each present value, as its HLL++ hashes it."""
        if self.kind == TEXT:
            return hash_cells(self.cells)
        values = np.asarray(self.values)[self.valid]
        if self.kind == INTEGRAL_KIND:
            return hash_int32(values) if self.width == 32 else hash_int64(values)
        if self.kind == FRACTIONAL_KIND:
            if self.width == 32:
                return hash_int32(values.astype(np.float32).view(np.int32))
            return hash_int64(values.astype(np.float64).view(np.int64))
        return hash_int32(values.astype(np.int32))

    def strings(self):
        """Each present value as Spark's `toString` writes it (for histograms), as an Arrow array."""
        import pyarrow as pa

        if self.kind == TEXT:
            return self.values.drop_null()
        values = np.asarray(self.values)[self.valid]
        if self.kind == BOOLEAN_KIND:
            return pa.array(np.where(values, "true", "false"))
        if self.kind == INTEGRAL_KIND:
            return pa.array([str(int(v)) for v in values])
        return pa.array([java_double(float(v)) for v in values])


def _parse_numbers(array, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    import pyarrow as pa

    fractional = codes == FRACTIONAL
    integral = codes == INTEGRAL
    numeric = fractional | integral
    if not numeric.any():
        empty = np.zeros(0)
        return empty, empty.astype(np.int64), False
    if np.array_equal(fractional, array_valid := codes != NULL):  # the common case: one cast, no filter
        fast = _cast_or_none(array, pa.float64())
        if fast is not None:
            doubles = fast[array_valid] if not array_valid.all() else fast
            return doubles, np.zeros(len(doubles), dtype=np.int64), True
    doubles = np.full(len(codes), np.nan)
    longs = np.zeros(len(codes), dtype=np.int64)
    ok = numeric.copy()
    if fractional.any():
        cells = array.filter(pa.array(fractional))
        doubles[fractional], parsed = _cast(cells, pa.float64(), _java_double_or_none)
        ok[np.flatnonzero(fractional)[~parsed]] = False
    if integral.any():
        cells = array.filter(pa.array(integral))
        values, parsed = _cast(cells, pa.int64(), _java_long_or_none)
        values = values.astype(np.int64)
        longs[integral] = values
        doubles[integral] = values.astype(np.float64)
        ok[np.flatnonzero(integral)[~parsed]] = False
    return doubles[ok], longs[ok], bool(fractional[ok].any())


def _cast_or_none(cells, arrow_type) -> np.ndarray | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        return pc.cast(cells, arrow_type).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _cast(cells, arrow_type, parse_one) -> tuple[np.ndarray, np.ndarray]:
    """Arrow's fast cast; on any cell it refuses, parse cell by cell as the JVM would."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(cells, arrow_type).to_numpy(zero_copy_only=False)
        return values, np.ones(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = [parse_one(text) for text in cells.to_pylist()]
        ok = np.array([p is not None for p in parsed], dtype=bool)
        dtype = np.float64 if arrow_type == pa.float64() else np.int64
        return np.array([p if p is not None else 0 for p in parsed], dtype=dtype), ok


def _java_double_or_none(text: str) -> float | None:
    """java.lang.Double.parseDouble on a cell Deequ typed Fractional (it trims blanks)."""
    try:
        return float(text.strip())
    except ValueError:
        return None


def _java_long_or_none(text: str) -> int | None:
    """Spark's string-to-long cast on a cell Deequ typed Integral: trimmed, null out of range."""
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if _INT64_MIN <= value <= _INT64_MAX else None
