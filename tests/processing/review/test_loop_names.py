"""Loop names: one per prediction, within A2I's rule, the same on every run."""

from __future__ import annotations

import uuid

import pytest

from processing.review.loop_names import A2I_NAME, MAX_NAME, is_loop_name, loop_name

pytestmark = pytest.mark.image


def test_a_sagemaker_event_id_names_its_rows_readably():
    event = "9f1c2b6e-0d4c-4e8e-9b1d-3c1f0a2b4c5d"
    assert [loop_name(event, row) for row in range(3)] == [f"{event}-0", f"{event}-1", f"{event}-2"]


@pytest.mark.parametrize(
    "event",
    ["9F1C2B6E-0D4C-4E8E-9B1D-3C1F0A2B4C5D", "demo_000001", "a/b c", "ü" * 10, "x" * 200, "-leading", "trailing-"],
)
def test_any_other_event_id_is_named_by_its_hash(event):
    name = loop_name(event, 7)
    assert is_loop_name(name) and name.endswith("-7") and name.startswith("e") and len(name) <= MAX_NAME
    assert loop_name(event, 7) == name  # deterministic
    assert loop_name(event, 8) != name and loop_name(event + "x", 7) != name


def test_names_are_unique_and_valid_for_many_predictions():
    events = [str(uuid.uuid4()) for _ in range(500)] + [f"Event-{n}" for n in range(500)]
    names = {loop_name(event, row) for event in events for row in (0, 1, 12)}
    assert len(names) == 3000
    assert all(A2I_NAME.fullmatch(name) and len(name) <= MAX_NAME for name in names)


def test_the_longest_row_index_still_fits():
    event = "a" * 60
    assert is_loop_name(loop_name(event, 0)) and loop_name(event, 0) == "a" * 60 + "-0"
    assert is_loop_name(loop_name(event, 12345)) and loop_name(event, 12345).startswith("e")


@pytest.mark.parametrize(("event", "row"), [("", 0), (None, 0), ("e", -1), ("e", True), ("e", 1.0)])
def test_bad_parts_are_refused(event, row):
    with pytest.raises(ValueError):
        loop_name(event, row)
