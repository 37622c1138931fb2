import pytest

from processing.monitoring.analyzers import Histogram
from processing.monitoring.analyzers.histogram import MAX_TRACKED

pytestmark = pytest.mark.image


def test_counts_with_missing_as_null_value(batch_of):
    analyzer = Histogram("c")
    state = analyzer.compute_state(batch_of(["a", "b", "a", None]))
    assert analyzer.compute_metric(state) == {"a": 2, "b": 1, "NullValue": 1}


def test_stops_counting_beyond_the_bound(batch_of):
    analyzer = Histogram("c")
    state = analyzer.compute_state(batch_of([str(i) for i in range(MAX_TRACKED + 1)]))
    assert state.overflowed and analyzer.compute_metric(state) is None
    assert analyzer.compute_state(batch_of(["x"]), state) is state
