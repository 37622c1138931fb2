"""A column of raw cell text as flat buffers, and Deequ's per-cell type of each cell.

AWS's analyzer reads every CSV cell as a string and decides its type with Deequ's regexes
(`StatefulDataType`, matched against the whole cell):

    FRACTIONAL ^(-|\\+)? ?\\d+((\\.\\d+)|((?:\\.\\d+)?[Ee][-+]?\\d+))$
    INTEGRAL   ^(-|\\+)? ?\\d+$
    BOOLEAN    ^(true|false)$

tried in that order, anything else being a String and a missing cell Unknown. `classify` runs the
same three patterns as one small automaton over the bytes (numba), or with Arrow's RE2 when numba is
absent; both give the same codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._jit import jit

NULL, FRACTIONAL, INTEGRAL, BOOLEAN, STRING = 0, 1, 2, 3, 4
TYPE_NAMES = ("Unknown", "Fractional", "Integral", "Boolean", "String")

FRACTIONAL_RE = r"^(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))$"
INTEGRAL_RE = r"^(-|\+)? ?\d+$"
BOOLEAN_RE = r"^(true|false)$"


@dataclass(frozen=True)
class TextCells:
    """Cells of one column: cell i is data[offsets[i]:offsets[i+1]] (UTF-8) when valid[i]."""

    offsets: np.ndarray  # int64, len n+1
    data: np.ndarray  # uint8
    valid: np.ndarray  # bool, len n

    def __len__(self) -> int:
        return len(self.valid)

    @classmethod
    def from_arrow(cls, array) -> TextCells:
        """Views over an Arrow string or large_string array (no copy of the text)."""
        import pyarrow as pa

        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if array.type == pa.string():
            offset_type = np.int32
        elif array.type == pa.large_string():
            offset_type = np.int64
        else:
            raise TypeError(f"expected a string array, got {array.type}")
        n = len(array)
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype=offset_type)[array.offset : array.offset + n + 1].astype(np.int64)
        data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
        if array.null_count:
            valid = array.is_valid().to_numpy(zero_copy_only=False)
        else:
            valid = np.ones(n, dtype=bool)
        return cls(offsets=offsets, data=data, valid=valid)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def classify(cells: TextCells, arrow_array=None) -> np.ndarray:
    """Deequ's type code (NULL, FRACTIONAL, INTEGRAL, BOOLEAN, STRING) of every cell, as uint8."""
    if _classify is not None:
        return _classify(cells.offsets, cells.data, cells.valid, BYTE_CLASS, TRANSITIONS, ACCEPT)
    return _classify_regex(cells, arrow_array)


def _classify_regex(cells: TextCells, arrow_array) -> np.ndarray:
    import pyarrow.compute as pc

    if arrow_array is None:
        arrow_array = _arrow_from_cells(cells)
    codes = np.full(len(cells), STRING, dtype=np.uint8)
    for code, pattern in ((BOOLEAN, BOOLEAN_RE), (INTEGRAL, INTEGRAL_RE), (FRACTIONAL, FRACTIONAL_RE)):
        hit = pc.match_substring_regex(arrow_array, pattern).fill_null(False).to_numpy(zero_copy_only=False)
        codes[hit] = code  # later patterns win, so FRACTIONAL > INTEGRAL > BOOLEAN as Deequ tries them
    codes[~cells.valid] = NULL
    return codes


def _arrow_from_cells(cells: TextCells):
    import pyarrow as pa

    mask = pa.py_buffer(np.packbits(cells.valid, bitorder="little").tobytes())
    return pa.Array.from_buffers(
        pa.large_string(),
        len(cells),
        [mask, pa.py_buffer(cells.offsets.tobytes()), pa.py_buffer(cells.data.tobytes())],
    )


# The three regexes as one automaton over byte classes: 0 other, 1 digit, 2 sign, 3 space, 4 '.', 5 'e'/'E'.
# States: 0 start, 1 after sign, 2 after the optional space, 3 integer digits (accept: Integral),
# 4 after '.', 5 fraction digits (accept: Fractional), 6 after 'e', 7 after its sign,
# 8 exponent digits (accept: Fractional), 9 reject.
BYTE_CLASS = np.zeros(256, dtype=np.uint8)
BYTE_CLASS[ord("0") : ord("9") + 1] = 1
BYTE_CLASS[[ord("+"), ord("-")]] = 2
BYTE_CLASS[ord(" ")] = 3
BYTE_CLASS[ord(".")] = 4
BYTE_CLASS[[ord("e"), ord("E")]] = 5
TRANSITIONS = np.full((10, 6), 9, dtype=np.uint8)
for _state, _cls, _next in (
    (0, 1, 3), (0, 2, 1), (0, 3, 2), (1, 1, 3), (1, 3, 2), (2, 1, 3), (3, 1, 3), (3, 4, 4), (3, 5, 6),
    (4, 1, 5), (5, 1, 5), (5, 5, 6), (6, 1, 8), (6, 2, 7), (7, 1, 8), (8, 1, 8),
):  # fmt: skip
    TRANSITIONS[_state, _cls] = _next
TRANSITIONS = TRANSITIONS.reshape(-1)
ACCEPT = np.full(10, STRING, dtype=np.uint8)
ACCEPT[3] = INTEGRAL
ACCEPT[[5, 8]] = FRACTIONAL


def _cell_type_py(data, start, end, byte_class, transitions, accept):  # pragma: no cover - numba
    """Deequ's type code of one non-null cell: the automaton written as predictable loops."""
    j = start
    if j < end and (data[j] == 43 or data[j] == 45):  # sign
        j += 1
    if j < end and data[j] == 32:  # one optional space
        j += 1
    first = j
    while j < end and 48 <= data[j] <= 57:
        j += 1
    if j > first:
        if j == end:
            return 2  # INTEGRAL
        if data[j] == 46:  # '.' digits
            j += 1
            first = j
            while j < end and 48 <= data[j] <= 57:
                j += 1
            if j == first:
                return 4
            if j == end:
                return 1  # FRACTIONAL
        if data[j] == 101 or data[j] == 69:  # exponent
            j += 1
            if j < end and (data[j] == 43 or data[j] == 45):
                j += 1
            first = j
            while j < end and 48 <= data[j] <= 57:
                j += 1
            if j > first and j == end:
                return 1
        return 4
    length = end - start
    true = length == 4 and data[start] == 116 and data[start + 1] == 114 and data[start + 2] == 117
    false = length == 5 and data[start] == 102 and data[start + 1] == 97 and data[start + 2] == 108
    if (true and data[start + 3] == 101) or (false and data[start + 3] == 115 and data[start + 4] == 101):
        return 3  # BOOLEAN
    return 4  # STRING


def _classify_py(offsets, data, valid, byte_class, transitions, accept):  # pragma: no cover - numba
    n = len(valid)
    out = np.empty(n, dtype=np.uint8)
    for i in range(n):
        out[i] = _cell_type(data, offsets[i], offsets[i + 1], byte_class, transitions, accept) if valid[i] else 0
    return out


_cell_type = jit(_cell_type_py, inline=True)
_classify = jit(_classify_py) if _cell_type is not None else None
