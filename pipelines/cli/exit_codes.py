"""Named exit codes shared by every command (as pip's status_codes)."""

SUCCESS = 0
FAILURE = 1  # the operation ran and failed: a failed execution, violations found with --fail-on-violation
USAGE = 2  # bad arguments or input; click uses 2 for usage errors too
