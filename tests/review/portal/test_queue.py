"""A worker's queue walks the index page by page: every page must be exactly the slice of the full order
(|probability - threshold|, creation time, name; inputs without a probability last, oldest first),
whatever the ties, the flows and the page size."""

from __future__ import annotations

import random

import pytest

from offline.aws.a2i.loops import HumanLoops
from tests.review.portal.portal_helpers import label_answer, make_flow, review_input, start


@pytest.mark.parametrize("page_size", [1, 3, 7, 50])
def test_pages_are_slices_of_the_full_order(aws, home, page_size):
    rng = random.Random(page_size)
    flows = [make_flow(aws, "first"), make_flow(aws, "second")]
    loops = HumanLoops.for_home(home)
    probabilities = {}
    for n in range(40):
        p = rng.choice([None, 0.5, 0.3, 0.7, round(rng.random(), 1)])  # many exact ties, both sides
        name = f"loop-{n:02d}"
        content = review_input(eventId=name, probability=p) if p is not None else {"text": name}
        start(aws, name, flows[n % 2], content)
        probabilities[name] = p
    for name in rng.sample(sorted(probabilities), 8):
        loops.answer("us-east-1", name, "ana", label_answer(1))
    created = {i.name: i.creation_ms for i in loops.loops("us-east-1")}
    answered = {i.name for i in loops.loops("us-east-1") if i.answers}

    def key(name):
        p = probabilities[name]
        return (0, abs(p - 0.5), created[name], name) if p is not None else (1, 0.0, created[name], name)

    expected = sorted((n for n in probabilities if n not in answered), key=key)
    got, offset = [], 0
    while True:
        total, items = loops.open_for("us-east-1", flows, "ana", threshold=0.5, limit=page_size, offset=offset)
        assert total == len(expected)
        if not items:
            break
        got += [i.name for i in items]
        offset += page_size
    assert got == expected
    assert loops.open_for("us-east-1", flows[:1], "ben", threshold=0.5, limit=100, count=False)[0] is None
