"""The order in which Scala 2.12's immutable maps iterate, which is the order of AWS's buckets.

Deequ 2.0.2's profiler collects the categorical histogram into an immutable `Map`. Up to four
entries that is a Map1..Map4, which keeps insertion order; from five on it is a `HashTrieMap`,
whose iteration order follows the key's improved hash read as 5-bit digits from the least
significant end (verified on AWS outputs with 54 and 83 categories, FORMATS.md §0).

The insertion order for small maps comes from the profiler's `countByKey` map, keyed by the
(column, value) tuple: a HashTrieMap too whenever the profiled columns have more than four
(column, value) pairs together, which is what this module assumes (UNVERIFIED, see
docs/monitoring.md).
"""

from __future__ import annotations

from collections.abc import Iterable

_MASK = 0xFFFFFFFF
_PRODUCT_SEED = 0xCAFEBABE


def _int32(x: int) -> int:
    x &= _MASK
    return x - (1 << 32) if x & 0x80000000 else x


def java_string_hash(text: str) -> int:
    """`String.hashCode()`: 31-polynomial over UTF-16 code units, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] | (data[i + 1] << 8))) & _MASK
    return _int32(h)


def improve(hcode: int) -> int:
    """Scala 2.12 `immutable.HashMap.improve`: spreads the hash before the trie uses its bits."""
    h = (hcode + ~(hcode << 9)) & _MASK
    h ^= h >> 14
    h = (h + (h << 4)) & _MASK
    h ^= h >> 10
    return h  # unsigned 32-bit: the trie reads it as bit groups


def _trie_key(improved: int) -> tuple[int, ...]:
    return tuple((improved >> shift) & 0x1F for shift in range(0, 32, 5))


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _MASK


def _mix_last(h: int, k: int) -> int:
    k = (k * 0xCC9E2D51) & _MASK
    k = _rotl32(k, 15)
    k = (k * 0x1B873593) & _MASK
    return h ^ k


def _mix(h: int, k: int) -> int:
    h = _mix_last(h, k)
    h = _rotl32(h, 13)
    return (h * 5 + 0xE6546B64) & _MASK


def _finalize(h: int, length: int) -> int:
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def tuple2_hash(first: str, second: str) -> int:
    """`(first, second).hashCode` in Scala 2.12: MurmurHash3.productHash of the two strings."""
    h = _PRODUCT_SEED
    h = _mix(h, java_string_hash(first) & _MASK)
    h = _mix(h, java_string_hash(second) & _MASK)
    return _int32(_finalize(h, 2))


def hash_map_order(keys: Iterable[str]) -> list[str]:
    """Keys in the order a Scala 2.12 immutable HashMap (more than four entries) iterates them."""
    return sorted(keys, key=lambda k: _trie_key(improve(java_string_hash(k))))


def histogram_order(column: str, values: Iterable[str]) -> list[str]:
    """Values of one column's histogram in the order Deequ 2.0.2's profiler emits them."""
    values = list(values)
    if len(values) > 4:
        return hash_map_order(values)
    return sorted(values, key=lambda v: _trie_key(improve(tuple2_hash(column, v))))
