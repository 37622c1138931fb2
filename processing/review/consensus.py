"""Consensus over one loop's answers (TaskCount workers): the majority label is the ground truth; a tie is
disputed and yields none. Escalation wraps it: a tie when a loop's required answers are in asks for one
more reviewer, once per loop (MAX_ESCALATIONS), so `consensus()` over all the answers decides after the
extra vote (1-1 becomes 2-1); a tie that remains after it stays disputed, and the loop completes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

AGREED = "agreed"  # one label has more votes than any other
DISPUTED = "disputed"  # two labels tie for the most votes
UNLABELLED = "unlabelled"  # no answer gave a label
MAX_ESCALATIONS = 1  # one extra reviewer per loop: TaskCount (1-3, as A2I allows) + 1 answers at most


@dataclass(frozen=True)
class Consensus:
    label: int | None  # the ground truth; None unless AGREED
    status: str
    votes: dict[int, int]  # label -> number of answers that gave it
    answers: int  # answers counted, those without a label included

    @property
    def unanimous(self) -> bool:
        """Every answer gave the same label."""
        return self.status == AGREED and self.votes.get(self.label, 0) == self.answers


def consensus(labels: Iterable[int | None]) -> Consensus:
    """Majority over the answers' labels (`processing.review.answers.parse_label` of each; None: no label given)."""
    labels = list(labels)
    votes = Counter(label for label in labels if label is not None)
    ranked = votes.most_common()
    if not ranked:
        return Consensus(None, UNLABELLED, {}, len(labels))
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return Consensus(None, DISPUTED, dict(sorted(votes.items())), len(labels))
    return Consensus(ranked[0][0], AGREED, dict(sorted(votes.items())), len(labels))


def needs_escalation(labels: Iterable[int | None], escalations: int) -> bool:
    """Whether a loop whose required answers are all in (these labels) should ask for one more answer.

    Only a tie does (an unlabelled loop gains nothing from another vote), and only while the loop has had
    fewer than MAX_ESCALATIONS escalations, so a loop always completes after TaskCount + 1 answers at most.
    """
    return escalations < MAX_ESCALATIONS and consensus(labels).status == DISPUTED
