"""Monitoring schedules on this machine: hourly checks of captured traffic, metrics, the report.

`schedules` keeps what to check (baselines, capture, ground truth, output) and every execution
with its metrics in the state DB; `catchup` runs every hour that has captured data and no
execution yet, writing Model Monitor's files where AWS writes them; `report` renders the HTML page.
"""
