"""Checks of a window of data against a baseline, as Model Monitor's monitoring jobs run them.

`data_quality.py` holds the six data-quality checks, `drift.py` the distances behind
baseline_drift_check, `model_quality.py` the metric comparisons, `violations.py` the output shape,
and `api.py` the entry points (a dataset or a capture window in, files out).
"""
