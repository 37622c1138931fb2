import json

import pytest

from processing.monitoring.scala_order import hash_map_order, histogram_order, improve, java_string_hash

pytestmark = pytest.mark.image


def test_java_string_hash():
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -2147483648  # Integer.MIN_VALUE, a known case
    assert java_string_hash("😀") == 0xD83D * 31 + 0xDE00  # two UTF-16 code units


def test_improve_is_a_32_bit_mix():
    assert 0 <= improve(-1) < 2**32
    assert improve(0) != improve(1)


def test_bucket_order_of_aws_histograms(aai540):
    stats = json.loads((aai540 / "statistics.json").read_text())
    checked = 0
    for feature in stats["features"]:
        buckets = feature.get("string_statistics", {}).get("distribution", {}).get("categorical", {}).get("buckets")
        if buckets and len(buckets) > 4:
            values = [b["value"] for b in buckets]
            assert hash_map_order(reversed(values)) == values
            checked += 1
    assert checked == 2  # state (54 values) and county (83)


def test_small_histograms_follow_the_tuple_hash_and_are_deterministic():
    values = ["b", "a", "c"]
    assert sorted(histogram_order("col", values)) == sorted(values)
    assert histogram_order("col", values) == histogram_order("col", list(reversed(values)))
