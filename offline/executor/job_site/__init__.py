"""Modules that job subprocesses import by top-level name: the runner puts this folder on their PYTHONPATH.

A job may run with another working directory and another `PYTHONPATH` than the runner, so it cannot
count on importing `offline`; what it needs from the runner lives here, self-contained.
"""
