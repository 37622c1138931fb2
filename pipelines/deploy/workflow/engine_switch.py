"""The other monitor engine's schedules of the production endpoint, removed once the chosen engine's are in place.

The direct deploy does the same (`remove_other_engine`: `remove_processing_monitoring`,
`remove_managed_monitoring`); the names are the same builders' (`MonitorSpec.schedule`). These states run after
the chosen engine's schedules, so the endpoint is never left unmonitored; until they run both engines check it.

- `managed` chosen: DeleteSchedule of the two Scheduler schedules (absent: fine).
- `processing` chosen, per check: DescribeMonitoringSchedule (absent: done) → kept when it monitors another
  endpoint → DeleteMonitoringSchedule (absent: done) → when the job definition it ran is this schedule's
  (`<schedule>-…`, of its monitoring type): DescribeMonitoringSchedule until it is gone, at most the deploy's
  `deletion_wait` attempts, then the definition is deleted, best effort (one AWS still refuses is kept, as the
  direct deploy keeps it).
"""

from __future__ import annotations

import math

from pipelines.deploy.monitor_managed import MONITORING_TYPES, job_definition_patterns
from pipelines.deploy.scheduler_target import SCHEDULE_GROUP
from pipelines.deploy.workflow.monitoring import JOB_NOUN, KEYS, KINDS, LABELS
from pipelines.deploy.workflow.patterns import NOT_FOUND, catch_into, sdk, transient_retry
from pipelines.deploy.workflow.sdk import Choice, ChoiceRule, Pass, State, Task, Wait
from pipelines.deploy.workflow.settings import WorkflowSettings


def other_engine(settings: WorkflowSettings) -> str:
    return "processing" if settings.deploy.monitor_engine == "managed" else "managed"


def removal_states(settings: WorkflowSettings, failed: State, then: State) -> State:
    """The states removing both checks' schedules of the other engine; returns the first, the last goes to `then`."""
    build = _remove_processing if settings.deploy.monitor_engine == "managed" else _remove_managed
    first = then
    for kind in reversed(KINDS):
        first = build(settings, kind, failed, first)
    return first


def _remove_processing(settings: WorkflowSettings, kind: str, failed: State, then: State) -> State:
    delete = Task(
        f"Remove processing {LABELS[kind]} schedule",
        resource=sdk("scheduler", "deleteSchedule"),
        parameters={"Name": settings.monitor.schedule(kind), "GroupName": SCHEDULE_GROUP},
        result_path=None,
        comment="The managed engine runs this check now; absent: nothing to remove",
    )
    delete.add_retry(transient_retry("Scheduler"))
    catch_into(delete, then, NOT_FOUND["scheduler"], result_path="$.lookup")
    catch_into(delete, failed)
    delete.next(then)
    return delete


def _remove_managed(settings: WorkflowSettings, kind: str, failed: State, then: State) -> State:
    spec, label, key = settings.monitor, LABELS[kind], KEYS[kind]
    name = spec.schedule(kind)
    found = f"$.removed.{key}"
    definition = f"{found}.MonitoringScheduleConfig.MonitoringJobDefinitionName"
    describe = Task(
        f"Look for managed {label} schedule",
        resource=sdk("sagemaker", "describeMonitoringSchedule"),
        parameters={"MonitoringScheduleName": name},
        result_path=found,
    )
    describe.add_retry(transient_retry("SageMaker"))
    catch_into(describe, then, NOT_FOUND["sagemaker"], result_path="$.lookup")
    catch_into(describe, failed)

    delete = Task(
        f"Remove managed {label} schedule",
        resource=sdk("sagemaker", "deleteMonitoringSchedule"),
        parameters={"MonitoringScheduleName": name},
        result_path=None,
        comment="The processing engine runs this check now (the delete also stops the schedule)",
    )
    delete.add_retry(transient_retry("SageMaker"))
    catch_into(delete, then, ["SageMaker.ResourceNotFoundException"], result_path="$.lookup")
    catch_into(delete, failed)
    ours = Choice(f"Managed {label} schedule this endpoint's?")
    endpoint = f"{found}.EndpointName"
    # rules in order: an absent member is never compared (AWS fails a comparison with a missing path)
    ours.add_choice(ChoiceRule.IsPresent(endpoint, False), delete)
    ours.add_choice(ChoiceRule.StringEquals(endpoint, spec.endpoint), delete)
    ours.default_choice(then)  # kept: another endpoint's schedule that happens to have this name
    describe.next(ours)

    remove_definition = Task(
        f"Remove managed {label} job definition",
        resource=sdk("sagemaker", f"delete{JOB_NOUN[kind]}"),
        parameters={"JobDefinitionName.$": definition},
        result_path=None,
        comment="Best effort: a definition AWS still refuses to delete is kept (the direct deploy keeps it too)",
    )
    remove_definition.add_retry(transient_retry("SageMaker"))
    catch_into(remove_definition, then, result_path="$.cleanup")
    remove_definition.next(then)

    wait = settings.deploy.deletion_wait
    polls = f"$.removing.{key}"
    start = Pass(f"Start polling managed {label} schedule", parameters={"count": 0}, result_path=polls)
    poll = Task(
        f"Poll managed {label} schedule",
        resource=sdk("sagemaker", "describeMonitoringSchedule"),
        parameters={"MonitoringScheduleName": name},
        result_path=None,
        comment="A deleted schedule locks its job definition until it is gone",
    )
    poll.add_retry(transient_retry("SageMaker"))
    catch_into(poll, remove_definition, NOT_FOUND["sagemaker"], result_path="$.lookup")
    catch_into(poll, failed)
    again = Choice(f"Poll managed {label} schedule again?")
    pause = Wait(f"Wait for managed {label} schedule to go", seconds=max(1, math.ceil(wait["Delay"])))
    count = Pass(
        f"Count managed {label} schedule polls",
        parameters={"count.$": f"States.MathAdd({polls}.count, 1)"},
        result_path=polls,
    )
    again.add_choice(ChoiceRule.NumericLessThan(f"{polls}.count", int(wait["MaxAttempts"]) - 1), pause)
    again.default_choice(remove_definition)  # tried anyway: refused while still locked, kept
    start.next(poll)
    poll.next(again)
    pause.next(count)
    count.next(poll)

    frees = Choice(f"Managed {label} job definition this schedule's?")
    monitoring_type = f"{found}.MonitoringScheduleConfig.MonitoringType"
    for path in (definition, monitoring_type):
        frees.add_choice(ChoiceRule.IsPresent(path, False), then)
    frees.add_choice(
        ChoiceRule.And(
            [
                ChoiceRule.StringEquals(monitoring_type, MONITORING_TYPES[kind]),
                ChoiceRule.Or([ChoiceRule.StringMatches(definition, p) for p in job_definition_patterns(name)]),
            ]
        ),
        start,
    )
    frees.default_choice(then)
    delete.next(frees)
    return describe
