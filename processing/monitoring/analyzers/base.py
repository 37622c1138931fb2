"""The contracts every analyzer follows, as Deequ's `Analyzer[S, M]` and `State[S]`.

A State is a sufficient statistic that merges with another of its kind (a commutative semigroup,
up to floating-point rounding where noted). An Analyzer computes its state from a batch
(`compute_state`) and its metric from a state (`compute_metric`). Unlike Deequ's, `compute_state`
can continue from an earlier state: AWS's analyzer reads a file as one Spark partition, so
order-dependent statistics (KLL, running sums, streaming moments) must be continued row by row
rather than merged, to reproduce AWS's bits. Merging is for combining independent parts.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from ..batch import Batch

S = TypeVar("S", bound="State")


class State(Protocol):
    def merge(self: S, other: S) -> S:
        """This state combined with another computed on other rows."""
        ...


class Analyzer(Protocol):
    name: str
    column: str | None

    def compute_state(self, batch: Batch, state: Any = None) -> Any:
        """The state of `batch`, continuing from `state` (rows before it) when given."""
        ...

    def compute_metric(self, state: Any) -> Any:
        """The metric value of a state."""
        ...
