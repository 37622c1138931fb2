"""Each window's predicted probabilities, read from the endpoint's data capture.

The capture is read with Model Monitor's reader (`processing.monitoring.readers.capture`) and each row's
answer with the human-loop starter's (`processing.review.selection.predictions`, CSV or JSON answers), so
the chart shows the predictions the review and the checks saw. A record belongs to the window whose
inference-id prefix is the longest one its `eventMetadata.inferenceId` starts with.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from processing.contract import DataContract
from processing.monitoring.readers.capture import CaptureStats, read_records
from processing.review.selection import Tally, predictions


def probabilities_by_prefix(root: Path, prefixes: Sequence[str], contract: DataContract) -> dict[str, list[float]]:
    """prefix -> the probabilities of the captured rows under `root` whose inference id starts with it."""
    found: dict[str, list[float]] = {prefix: [] for prefix in prefixes}
    longest_first = sorted(found, key=len, reverse=True)
    records = read_records(root, None, None, CaptureStats())
    for prediction in predictions(records, contract, Tally()):
        inference_id = prediction.inference_id or ""
        prefix = next((p for p in longest_first if inference_id.startswith(p)), None)
        if prefix is not None:
            found[prefix].append(prediction.probability)
    return found
