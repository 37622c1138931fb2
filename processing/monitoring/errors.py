"""Errors a caller can act on, kept apart from bugs so entry points can map them to exit code 2."""

from __future__ import annotations


class MonitorInputError(ValueError):
    """The input (a dataset, a baseline file, an option) is not what the analyzer can read."""
