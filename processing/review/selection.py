"""Which captured predictions go to human review: every one the handler marked, plus an audit sample.

The inference handler answers `probability,label,flag` per row (CSV) or
`{"predictions": [{"score", "predicted_label", "needs_review"}]}` (JSON), the flag being 0/1
(inference/inference.py). A response without the flag (another handler) falls back on the data
contract's thresholds, the rule the handler applies: lower < p < upper.

The audit sample: a confident prediction is audited when a hash of its merge key (the inferenceId when
the caller gave one, else the eventId, as Model Monitor merges ground truth) and its row index falls
below the audit rate, so re-runs choose the same predictions, and the sample does not depend on the
model's answer (model-quality estimates stay unbiased among confident predictions).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

from processing.contract import DataContract
from processing.monitoring.readers.capture import CapturedRecord
from processing.review.loop_names import loop_name

REVIEW, AUDIT = "review", "audit"
# The handler's JSON keys (inference/inference.py); a CSV answer holds the same values in this order.
SCORE, LABEL, FLAG = "score", "predicted_label", "needs_review"
_HASH_SPAN = 1 << 64


@dataclass(frozen=True)
class Prediction:
    """One predicted row of a captured request."""

    event_id: str
    inference_id: str | None
    inference_time: datetime
    row_index: int
    row_count: int
    probability: float
    predicted_label: int
    marked: bool  # the handler marked it for human review
    features: tuple[float | None, ...]  # the contract's order; None: missing

    @property
    def merge_key(self) -> str:
        """The ground-truth key: the inferenceId when the capture has one, else the eventId."""
        return self.inference_id or self.event_id

    @property
    def loop_name(self) -> str:
        return loop_name(self.event_id, self.row_index)


@dataclass
class Tally:
    """Predicted rows read, and those that could not be reviewed, by why."""

    rows: int = 0
    skipped: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Chosen:
    prediction: Prediction
    reason: str  # REVIEW or AUDIT


def predictions(records: Iterable[CapturedRecord], contract: DataContract, tally: Tally) -> Iterator[Prediction]:
    """Every usable predicted row of the records; a row that cannot be reviewed is counted in
    `tally.skipped` by why (no event id or time, no probability, not the contract's features)."""
    width = len(contract.features)
    skipped = tally.skipped
    for record in records:
        tally.rows += len(record.outputs)
        if not record.event_id or record.inference_time is None:
            skipped["a record without eventId or inferenceTime"] += len(record.outputs)
            continue
        rows = len(record.outputs)
        for index, (output, inputs) in enumerate(zip(record.outputs, record.inputs, strict=True)):
            answer = _answer(output, record.output_keys, contract)
            if answer is None:
                skipped["a response row without a probability from 0 to 1"] += 1
                continue
            if len(inputs) != width:
                skipped[f"a request row without the data contract's {width} features"] += 1
                continue
            features = _features(inputs)
            if features is None:
                skipped["a request row with a feature that is not a number"] += 1
                continue
            probability, label, marked = answer
            yield Prediction(
                event_id=record.event_id,
                inference_id=record.inference_id,
                inference_time=record.inference_time.astimezone(timezone.utc),
                row_index=index,
                row_count=rows,
                probability=probability,
                predicted_label=label,
                marked=marked,
                features=features,
            )


def choose(found: Iterable[Prediction], audit_rate: float) -> Iterator[Chosen]:
    """The marked predictions (reason `review`) and the audited confident ones (`audit`), in capture order."""
    check_audit_rate(audit_rate)
    for prediction in found:
        if prediction.marked:
            yield Chosen(prediction, REVIEW)
        elif audited(prediction.merge_key, prediction.row_index, audit_rate):
            yield Chosen(prediction, AUDIT)


def audited(merge_key: str, row_index: int, rate: float) -> bool:
    """Whether a confident prediction is in the audit sample: SHA-256 of `<key>/<row>`, read as a number
    in [0, 1), is below the rate. Deterministic, so a re-run audits the same predictions."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{merge_key}/{row_index}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") < rate * _HASH_SPAN


def check_audit_rate(rate: object) -> float:
    """The audit rate as a float; ValueError unless it is a number from 0 to 1."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or not 0 <= rate <= 1:
        raise ValueError(f"the audit rate must be a number from 0 to 1, not {rate!r}")
    return float(rate)


def _answer(cells: list[str | None], keys: tuple[str, ...], contract: DataContract) -> tuple[float, int, bool] | None:
    """(probability, predicted label, marked) of one response row; None when it has no usable probability."""
    if keys:
        position = {key: keys.index(key) for key in (SCORE, LABEL, FLAG) if key in keys}
    else:
        position = {SCORE: 0, LABEL: 1, FLAG: 2}
    probability = _number(_cell(cells, position.get(SCORE)))
    if probability is None or not 0 <= probability <= 1:
        return None
    label = _flag(_cell(cells, position.get(LABEL)))
    if label is None:
        label = int(probability >= contract.decision_threshold)
    marked = _flag(_cell(cells, position.get(FLAG)))
    if marked is None:
        marked = int(contract.review_lower < probability < contract.review_upper)
    return probability, label, bool(marked)


def _cell(cells: list[str | None], index: int | None) -> str | None:
    return cells[index] if index is not None and index < len(cells) else None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag(text: str | None) -> int | None:
    """A 0/1 cell (the handler writes 0 and 1; `true`/`false` and `1.0` read the same); None otherwise."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in ("1", "1.0", "true"):
        return 1
    if value in ("0", "0.0", "false"):
        return 0
    return None


def _features(cells: list[str | None]) -> tuple[float | None, ...] | None:
    values = []
    for cell in cells:
        if cell is None or not cell.strip():
            values.append(None)
            continue
        number = _number(cell)
        if number is None:
            return None
        values.append(number)
    return tuple(values)
