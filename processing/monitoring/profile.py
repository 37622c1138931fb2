"""One pass over a dataset: every analyzer of every column, state by state (Deequ's profiler).

Deequ's ColumnProfiler makes three passes (generic statistics and types; numeric statistics of
the columns typed numeric; histograms of the low-cardinality ones). Because every state here can
be continued and the histogram state is bounded, one pass does the work of all three: numeric
analyzers stop feeding once a column shows a String or Boolean cell (it can no longer be numeric),
and histograms stop once a column has too many distinct values to need one.

Columns are analysed in parallel threads: the heavy kernels (numba, Arrow, numpy sorts) release
the GIL, and each column's states only ever see that column's rows, in file order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from queue import Empty, Queue

from .analyzers import (
    ApproxCountDistinct,
    Completeness,
    DataType,
    DomainCompliance,
    Histogram,
    KllMetric,
    KLLSketchAnalyzer,
    Maximum,
    Mean,
    Minimum,
    Size,
    StandardDeviation,
    Sum,
)
from .analyzers.datatype import FRACTIONAL, INTEGRAL, UNKNOWN
from .batch import Batch
from .scala_order import histogram_order

CARDINALITY_THRESHOLD = 120  # Deequ ColumnProfiler.DEFAULT_CARDINALITY_THRESHOLD
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)


@dataclass(frozen=True)
class ColumnProfile:
    """What Model Monitor reports about one column."""

    name: str
    inferred_type: str
    num_present: int
    num_missing: int
    completeness: float
    approx_distinct: int
    mean: float | None = None
    sum: float | None = None
    std_dev: float | None = None
    min: float | None = None
    max: float | None = None
    kll: KllMetric | None = None
    histogram: list[tuple[str, int]] | None = None  # in AWS's order; only for low-cardinality columns
    type_counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # null, fractional, integral, boolean, string
    domain_match: float | None = None  # share of present values in the baseline's domain, when given

    @property
    def is_numeric(self) -> bool:
        return self.inferred_type in NUMERIC_TYPES


@dataclass(frozen=True)
class DatasetProfile:
    item_count: int
    columns: list[ColumnProfile]


class ColumnAnalysis:
    """The analyzers of one column and their states so far."""

    def __init__(self, name: str, domain: list[str] | None = None):
        self.name = name
        self.domain = DomainCompliance(name, domain) if domain is not None else None
        self.datatype = DataType(name)
        self.generic = [Completeness(name), ApproxCountDistinct(name)]
        self.numeric = [Minimum(name), Maximum(name), Sum(name), StandardDeviation(name)]
        self.mean = Mean(name)  # reads the Sum state: the sum is computed once
        self.kll = KLLSketchAnalyzer(name)
        self.histogram = Histogram(name)
        self.states: dict[str, object] = {}

    def update(self, batch: Batch) -> None:
        states = self.states
        states["DataType"] = self.datatype.compute_state(batch, states.get("DataType"))
        for analyzer in self.generic:
            states[analyzer.name] = analyzer.compute_state(batch, states.get(analyzer.name))
        if states["DataType"].may_be_numeric:
            for analyzer in (*self.numeric, self.kll):
                states[analyzer.name] = analyzer.compute_state(batch, states.get(analyzer.name))
        states["Histogram"] = self.histogram.compute_state(batch, states.get("Histogram"))
        if self.domain is not None:
            states["DomainCompliance"] = self.domain.compute_state(batch, states.get("DomainCompliance"))

    def merge(self, other: ColumnAnalysis) -> ColumnAnalysis:
        for name, state in other.states.items():
            mine = self.states.get(name)
            self.states[name] = state if mine is None else mine.merge(state)
        return self

    def profile(self) -> ColumnProfile:
        states = self.states
        inferred = self.datatype.compute_metric(states["DataType"])
        completeness_state = states["Completeness"]
        distinct = self.generic[1].compute_metric(states["ApproxCountDistinct"])
        numeric: dict = {}
        if inferred in NUMERIC_TYPES and states.get("Sum") is not None and states["Sum"].count:
            minimum, maximum, total, std = (a.compute_metric(states[a.name]) for a in self.numeric)
            numeric = {
                "mean": self.mean.compute_metric(states["Sum"]),
                "sum": total,
                "std_dev": std,
                "min": minimum,
                "max": maximum,
                "kll": self.kll.compute_metric(states["KLLSketch"]),
            }
        histogram = None
        counts = self.histogram.compute_metric(states["Histogram"])
        if inferred != UNKNOWN and distinct <= CARDINALITY_THRESHOLD and counts is not None:
            histogram = [(value, counts[value]) for value in histogram_order(self.name, counts)]
        return ColumnProfile(
            name=self.name,
            inferred_type=inferred,
            num_present=completeness_state.present,
            num_missing=completeness_state.missing,
            completeness=self.generic[0].compute_metric(completeness_state),
            approx_distinct=distinct,
            histogram=histogram,
            type_counts=states["DataType"].counts,
            domain_match=self.domain.compute_metric(states["DomainCompliance"]) if self.domain else None,
            **numeric,
        )


class Profiler:
    """Feeds batches to every column's analyzers; `result()` gives the dataset's profile."""

    def __init__(self, threads: int | None = None, domains: dict[str, list[str]] | None = None):
        self.domains = domains or {}
        self.size = Size()
        self.size_state = None
        self.columns: dict[str, ColumnAnalysis] = {}
        self.threads = threads or min(4, os.cpu_count() or 1)

    def update(self, batch: Batch, pool: ThreadPoolExecutor | None = None) -> None:
        if list(batch.columns) != list(self.columns):
            batch = self._aligned(batch)
        self.size_state = self.size.compute_state(batch, self.size_state)
        if pool is None:
            for analysis in self.columns.values():
                analysis.update(batch)
        else:
            list(pool.map(lambda analysis: analysis.update(batch), self.columns.values()))

    def _aligned(self, batch: Batch) -> Batch:
        """A batch with every column seen so far (missing ones all null); a column that appears
        only now gets null rows for the batches before it. Captured requests can change width:
        this is reading them as rows padded with missing cells, as Spark's permissive CSV does."""
        import pyarrow as pa

        from .batch import ColumnBatch

        rows_before = self.item_count
        for name in batch.columns:
            if name not in self.columns:
                analysis = ColumnAnalysis(name, self.domains.get(name))
                if rows_before:
                    nulls = ColumnBatch.text(name, pa.nulls(rows_before, type=pa.string()))
                    analysis.update(Batch([nulls], rows_before))
                self.columns[name] = analysis
        columns = [
            batch.columns.get(name) or ColumnBatch.text(name, pa.nulls(batch.num_rows, type=pa.string()))
            for name in self.columns
        ]
        return Batch(columns, batch.num_rows)

    def update_all(self, batches: Iterable[Batch]) -> Profiler:
        if self.threads <= 1:
            for batch in batches:
                self.update(batch)
            return self
        with ThreadPoolExecutor(self.threads) as pool:
            for batch in prefetched(batches):
                self.update(batch, pool)
        return self

    def merge(self, other: Profiler) -> Profiler:
        self.size_state = other.size_state if self.size_state is None else self.size_state.merge(other.size_state)
        for name, analysis in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(analysis)
            else:
                self.columns[name] = analysis
        return self

    @property
    def item_count(self) -> int:
        return 0 if self.size_state is None else self.size.compute_metric(self.size_state)

    def result(self) -> DatasetProfile:
        return DatasetProfile(self.item_count, [analysis.profile() for analysis in self.columns.values()])


def prefetched(batches: Iterable[Batch], depth: int = 2) -> Iterator[Batch]:
    """The same batches, read ahead by a background thread (at most `depth` waiting in memory).

    Parsing the next block (Arrow, outside the GIL) then overlaps with analysing this one.
    """
    queue: Queue = Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(batch)
        except BaseException as e:  # handed to the consumer, raised there
            queue.put(_Failure(e))
        finally:
            queue.put(done)

    thread = threading.Thread(target=produce, name="monitor-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                thread.join(0.05)


@dataclass(frozen=True)
class _Failure:
    error: BaseException


def profile_batches(
    batches: Iterable[Batch], threads: int | None = None, domains: dict[str, list[str]] | None = None
) -> DatasetProfile:
    """The profile of a dataset given as batches in file order (with domain compliance when given)."""
    return Profiler(threads, domains).update_all(batches).result()
