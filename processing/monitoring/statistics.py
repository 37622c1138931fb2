"""statistics.json in Model Monitor's schema (FORMATS.md §2.2), from a dataset profile.

Key order and value types follow AWS's files exactly: counts are ints, `distinct_count` and bucket
counts are doubles, `approximate_num_distinct_values` is an int. Numeric columns carry the KLL
distribution; String (and Boolean) columns carry categorical buckets when they have a histogram.
"""

from __future__ import annotations

from .profile import ColumnProfile, DatasetProfile

VERSION = 0.0


def statistics_document(profile: DatasetProfile) -> dict:
    return {
        "version": VERSION,
        "dataset": {"item_count": profile.item_count},
        "features": [feature_statistics(column) for column in profile.columns],
    }


def feature_statistics(column: ColumnProfile) -> dict:
    common = {"num_present": column.num_present, "num_missing": column.num_missing}
    if column.is_numeric and column.kll is not None:
        return {
            "name": column.name,
            "inferred_type": column.inferred_type,
            "numerical_statistics": {
                "common": common,
                "mean": column.mean,
                "sum": column.sum,
                "std_dev": column.std_dev,
                "min": column.min,
                "max": column.max,
                "approximate_num_distinct_values": column.approx_distinct,
                "completeness": column.completeness,
                "distribution": {"kll": _kll(column)},
            },
        }
    strings: dict = {"common": common, "distinct_count": float(column.approx_distinct)}
    strings["completeness"] = column.completeness
    if column.histogram is not None:
        buckets = [{"value": value, "count": count} for value, count in column.histogram]
        strings["distribution"] = {"categorical": {"buckets": buckets}}
    return {"name": column.name, "inferred_type": column.inferred_type, "string_statistics": strings}


def _kll(column: ColumnProfile) -> dict:
    kll = column.kll
    assert kll is not None
    return {
        "buckets": [{"lower_bound": lo, "upper_bound": hi, "count": n} for lo, hi, n in kll.buckets],
        "sketch": {"parameters": {"c": kll.c, "k": float(kll.k)}, "data": kll.data},
    }
