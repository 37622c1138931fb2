"""Local Amazon EventBridge Scheduler (`scheduler`): schedules are recorded, not fired (see schedules.py)."""
