"""The task templates this project gives A2I (and the local runtime): Liquid with crowd elements only."""

from __future__ import annotations

from importlib import resources

TASK_TEMPLATE = "human_review.liquid.html"


def task_template() -> str:
    """The human-review task template: one prediction per loop (its input: docs/human-review.md).

    The AWS deploy sends this text as CreateHumanTaskUi's `UiTemplate.Content`; the local runtime and
    the reviewer portal render the same text.
    """
    return resources.files(__package__).joinpath(TASK_TEMPLATE).read_text(encoding="utf-8")
