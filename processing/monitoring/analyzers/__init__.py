"""One analyzer per statistic, each with a mergeable state (Deequ's Analyzer/State split).

Adding a statistic means one file here and one line in `ColumnAnalysis` (profile.py).
"""

from .approx_distinct import ApproxCountDistinct, HllState
from .completeness import Completeness, CompletenessState
from .datatype import DataType, DataTypeState
from .domain import DomainCompliance, DomainState
from .histogram import FrequencyState, Histogram
from .kll_sketch import KllMetric, KLLSketchAnalyzer, KllState
from .minmax import ExtremeState, Maximum, Minimum
from .size import Size, SizeState
from .stddev import MomentsState, StandardDeviation
from .sums import Mean, Sum, SumState

__all__ = [
    "ApproxCountDistinct",
    "Completeness",
    "CompletenessState",
    "DataType",
    "DataTypeState",
    "DomainCompliance",
    "DomainState",
    "ExtremeState",
    "FrequencyState",
    "Histogram",
    "HllState",
    "KLLSketchAnalyzer",
    "KllMetric",
    "KllState",
    "Maximum",
    "Mean",
    "Minimum",
    "MomentsState",
    "Size",
    "SizeState",
    "StandardDeviation",
    "Sum",
    "SumState",
]
