import pytest

from processing.monitoring.analyzers import Mean, StandardDeviation, Sum

pytestmark = pytest.mark.image


def test_fractional_sum_is_left_to_right(batch_of):
    cells = ["1e16", "1", "-1e16", "1"]
    analyzer = Sum("c")
    total = analyzer.compute_metric(analyzer.compute_state(batch_of(cells)))
    assert total == ((1e16 + 1.0) + -1e16) + 1.0  # == 1.0, where an exact or pairwise sum gives 2.0


def test_integral_sum_is_exact_long_arithmetic(batch_of):
    cells = [str(2**53), "1", "1"]
    analyzer = Sum("c")
    assert analyzer.compute_metric(analyzer.compute_state(batch_of(cells))) == float(2**53 + 2)


def test_long_sum_wraps_like_java(batch_of):
    analyzer = Sum("c")
    state = analyzer.compute_state(batch_of([str(2**63 - 1), "1"]))
    assert analyzer.compute_metric(state) == float(-(2**63))


def test_cells_spark_cannot_cast_are_skipped(batch_of):
    cells = ["- 5", "+5", " 7", "99999999999999999999"]  # all Integral by regex; Spark casts only +5 and 7
    analyzer = Mean("c")
    state = analyzer.compute_state(batch_of(cells))
    assert state.count == 2 and analyzer.compute_metric(state) == 6.0


def test_standard_deviation_is_population(batch_of):
    analyzer = StandardDeviation("c")
    assert analyzer.compute_metric(analyzer.compute_state(batch_of(["2", "4", "4", "4", "5", "5", "7", "9"]))) == 2.0
