import pytest

from processing.monitoring.analyzers import DataType

pytestmark = pytest.mark.image


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([None, None], "Unknown"),
        (["1", "2", None], "Integral"),
        (["1", "2.5"], "Fractional"),
        (["true", "false", None], "Boolean"),
        (["true", "1"], "String"),  # Boolean mixed with numbers
        (["1.5", "Unknown"], "String"),  # one word is enough
        (["3.0"], "Fractional"),
    ],
)
def test_determine_type(batch_of, cells, expected):
    analyzer = DataType("c")
    assert analyzer.compute_metric(analyzer.compute_state(batch_of(cells))) == expected


def test_state_counts_and_continuation(batch_of):
    analyzer = DataType("c")
    state = analyzer.compute_state(batch_of(["1", None]))
    state = analyzer.compute_state(batch_of(["x", "true", "2.0"]), state)
    assert state.counts == (1, 1, 1, 1, 1)
    assert not state.may_be_numeric
