"""The reviewer portal: a small Starlette app that shows A2I task templates to a local work team.

It renders each human loop's task UI as A2I would (`review.rendering`), with this project's own crowd
elements instead of AWS's script, records answers through the local A2I runtime (`offline.aws.a2i.loops`),
so what it leaves behind is what `mlops review answer` leaves, and adds what free review tools lack:
several reviewers per item with escalation of ties, agreement statistics and an audit trail.
See docs/human-review.md, "The reviewer portal".
"""
