"""Consensus: the majority label over a loop's answers; a tie is disputed and gives no ground truth."""

from __future__ import annotations

import pytest

from processing.review.consensus import AGREED, DISPUTED, UNLABELLED, consensus

pytestmark = pytest.mark.image


@pytest.mark.parametrize(
    ("labels", "label", "status", "votes", "unanimous"),
    [
        ([1], 1, AGREED, {1: 1}, True),
        ([0, 0], 0, AGREED, {0: 2}, True),
        ([1, 0], None, DISPUTED, {0: 1, 1: 1}, False),
        ([1, 1, 0], 1, AGREED, {0: 1, 1: 2}, False),
        ([0, 1, 0], 0, AGREED, {0: 2, 1: 1}, False),
        ([1, None], 1, AGREED, {1: 1}, False),  # an answer without a label does not vote
        ([1, 0, None], None, DISPUTED, {0: 1, 1: 1}, False),
        ([None, None], None, UNLABELLED, {}, False),
        ([], None, UNLABELLED, {}, False),
    ],
)
def test_majority_and_ties(labels, label, status, votes, unanimous):
    result = consensus(labels)
    assert (result.label, result.status, result.votes, result.answers) == (label, status, votes, len(labels))
    assert result.unanimous is unanimous


def test_it_takes_any_iterable_once():
    assert consensus(iter([0, 0, 1])).label == 0
