import pytest

from processing.monitoring.analyzers import KLLSketchAnalyzer

pytestmark = pytest.mark.image


def test_ten_buckets_between_min_and_max(batch_of):
    analyzer = KLLSketchAnalyzer("c")
    metric = analyzer.compute_metric(analyzer.compute_state(batch_of(["1", "2", "2", "3", "10"])))
    assert len(metric.buckets) == 10
    assert metric.buckets[0][:2] == (1.0, 1.9) and metric.buckets[-1][1] == 10.0
    assert [b[2] for b in metric.buckets] == [1.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert metric.data == [[1.0, 2.0, 2.0, 3.0, 10.0]] and (metric.k, metric.c) == (2048, 0.64)


def test_bounds_start_from_int_limits_as_deequ(batch_of):
    analyzer = KLLSketchAnalyzer("c")
    metric = analyzer.compute_metric(analyzer.compute_state(batch_of(["3000000000", "4000000000"])))
    assert metric.buckets[0][0] == 2147483647.0  # Deequ's global min starts at Int.MaxValue
