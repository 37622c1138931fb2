"""suggest_baseline end to end: AWS's own outputs, and datasets built to exercise every statistic."""

from __future__ import annotations

import csv
import json
import math
import statistics as pystats
from collections import Counter

import numpy as np
import pytest

from processing.monitoring.api import suggest_baseline
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.scala_order import hash_map_order

from .conftest import CSV, CSV_NO_HEADER
from .test_kll import ReferenceKLL

pytestmark = pytest.mark.image


def test_aai540_is_byte_for_byte_identical(aai540, tmp_path):
    suggest_baseline(aai540 / "train_data.csv", CSV, tmp_path)
    for name in ("statistics.json", "constraints.json"):
        assert (tmp_path / name).read_bytes() == (aai540 / name).read_bytes(), name


def _subset(ours, theirs):
    """ours restricted to the keys AWS's older container wrote."""
    if isinstance(theirs, dict):
        return {k: _subset(ours[k], v) for k, v in theirs.items()}
    if isinstance(theirs, list):
        return [_subset(a, b) for a, b in zip(ours, theirs, strict=True)]
    return ours


def test_sdk_pair_values_are_equal(sdk_pair, tmp_path):
    suggest_baseline(sdk_pair["dataset"], CSV_NO_HEADER, tmp_path)  # the SDK's file has no header
    for ours, theirs in (("statistics.json", "statistics"), ("constraints.json", "constraints")):
        mine = json.loads((tmp_path / ours).read_text())
        aws = json.loads(sdk_pair[theirs].read_text())
        assert _subset(mine, aws) == aws
    newer = json.loads((tmp_path / "statistics.json").read_text())["features"][0]["numerical_statistics"]
    assert {"approximate_num_distinct_values", "completeness"} <= set(newer)


ROWS = 3000  # more than one KLL level (2050)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A dataset with every kind of column the AWS pairs lack, and its baseline."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("made")
    header = ["neg_sci", "with_missing", "integral", "flag", "low_card", "high_card", "quoted", "mixed"]
    rows = []
    for i in range(ROWS):
        x = rng.normal(0, 1000)
        neg_sci = f"{x:.3e}" if i % 3 == 0 else repr(round(x, 4))
        rows.append(
            [
                neg_sci,
                "" if i % 10 == 0 else str(int(rng.integers(-50, 50))),
                str(i),
                "true" if i % 4 else "false",
                "" if i % 50 == 0 else ["red", "green", "blue", "cyan", "magenta", "yellow"][i % 6],
                f"id-{i:05d}",
                f"{i % 3},{i % 7}" if i % 2 else f"{i % 11}.5",
                "n/a" if i == ROWS - 1 else str(i % 9),
            ]
        )
    path = folder / "made.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)  # quotes the cells that hold commas
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
    out = folder / "out"
    suggest_baseline(path, CSV, out)
    stats = {f["name"]: f for f in json.loads((out / "statistics.json").read_text())["features"]}
    constraints = {f["name"]: f for f in json.loads((out / "constraints.json").read_text())["features"]}
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    return stats, constraints, columns, json.loads((out / "statistics.json").read_text())


def test_types(made):
    stats, _, _, doc = made
    assert doc["dataset"]["item_count"] == ROWS
    types = {name: f["inferred_type"] for name, f in stats.items()}
    assert types == {
        "neg_sci": "Fractional",
        "with_missing": "Integral",
        "integral": "Integral",
        "flag": "Boolean",
        "low_card": "String",
        "high_card": "String",
        "quoted": "String",
        "mixed": "String",
    }


def _spark_moments(values):
    n = avg = m2 = 0.0
    for x in values:
        n += 1
        d = x - avg
        dn = d / n
        avg += dn
        m2 += d * (d - dn)
    return math.sqrt(m2 / n)


@pytest.mark.parametrize("name", ["neg_sci", "with_missing", "integral"])
def test_numeric_statistics(made, name):
    stats, constraints, columns, _ = made
    cells = [c for c in columns[name] if c != ""]
    values = [float(c) for c in cells]
    numeric = stats[name]["numerical_statistics"]
    assert numeric["common"] == {"num_present": len(cells), "num_missing": ROWS - len(cells)}
    running = 0.0
    for v in values:
        running += v
    expected_sum = running if name == "neg_sci" else float(sum(int(c) for c in cells))
    assert numeric["sum"] == expected_sum
    assert numeric["mean"] == expected_sum / len(values)
    assert numeric["std_dev"] == _spark_moments(values)
    assert numeric["std_dev"] == pytest.approx(pystats.pstdev(values), rel=1e-9)
    assert (numeric["min"], numeric["max"]) == (min(values), max(values))
    assert numeric["completeness"] == len(cells) / ROWS
    assert constraints[name]["num_constraints"] == {"is_non_negative": min(values) >= 0}
    kll = numeric["distribution"]["kll"]
    reference = ReferenceKLL()
    for v in values:
        reference.update(v)
    assert kll["sketch"]["data"] == reference.levels
    assert len(kll["sketch"]["data"]) > 1
    assert sum(b["count"] for b in kll["buckets"]) == len(values)
    assert kll["buckets"][0]["lower_bound"] == min(values) and kll["buckets"][-1]["upper_bound"] == max(values)


def test_distinct_counts(made):
    stats, _, columns, _ = made
    assert stats["low_card"]["string_statistics"]["distinct_count"] == 6.0
    assert abs(stats["high_card"]["string_statistics"]["distinct_count"] - ROWS) < 0.14 * ROWS
    assert stats["integral"]["numerical_statistics"]["approximate_num_distinct_values"] == pytest.approx(ROWS, rel=0.14)


def test_low_cardinality_strings_get_buckets_and_domains(made):
    stats, constraints, columns, _ = made
    buckets = stats["low_card"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    counts = Counter(c if c else "NullValue" for c in columns["low_card"])
    assert {b["value"]: b["count"] for b in buckets} == counts
    assert [b["value"] for b in buckets] == hash_map_order(counts)
    domains = constraints["low_card"]["string_constraints"]["domains"]
    assert domains == [b["value"] for b in buckets if b["value"] != "NullValue"]
    assert stats["low_card"]["string_statistics"]["common"]["num_missing"] == ROWS // 50


def test_high_cardinality_strings_have_no_buckets(made):
    stats, constraints, _, _ = made
    assert "distribution" not in stats["high_card"]["string_statistics"]
    assert "string_constraints" not in constraints["high_card"]


def test_quoted_cells_keep_their_commas(made):
    stats, _, columns, _ = made
    buckets = stats["quoted"]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert {b["value"]: b["count"] for b in buckets} == Counter(columns["quoted"])
    assert any("," in b["value"] for b in buckets)


def test_boolean_and_mixed_columns(made):
    stats, constraints, _, _ = made
    flag = stats["flag"]["string_statistics"]
    assert {b["value"]: b["count"] for b in flag["distribution"]["categorical"]["buckets"]} == {
        "true": ROWS * 3 // 4,
        "false": ROWS // 4,
    }
    assert constraints["flag"]["string_constraints"]["domains"] in (["true", "false"], ["false", "true"])
    assert "numerical_statistics" not in stats["mixed"]  # one "n/a" makes the column a String


def test_all_missing_column_is_unknown(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,\n2,\n")
    suggest_baseline(path, CSV, tmp_path / "out")
    features = json.loads((tmp_path / "out" / "statistics.json").read_text())["features"]
    assert features[1]["inferred_type"] == "Unknown"
    assert features[1]["string_statistics"]["common"] == {"num_present": 0, "num_missing": 2}


def test_nothing_is_written_on_bad_input(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "statistics.json").write_text("previous")
    with pytest.raises(MonitorInputError, match="line 3 has 1 cells but the file has 2 columns"):
        suggest_baseline(path, CSV, out)
    assert (out / "statistics.json").read_text() == "previous"
    assert sorted(p.name for p in out.iterdir()) == ["statistics.json"]
