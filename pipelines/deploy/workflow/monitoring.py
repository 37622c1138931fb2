"""The production endpoint's monitoring schedules as workflow states, one engine per state machine.

The requests are the direct deploy's (`monitor_managed`, `monitor_processing`), with the package's
drift-check baselines read at run time:

- `managed`: Create{DataQuality,ModelQuality}JobDefinition (create, else find), then per schedule
  DescribeMonitoringSchedule → absent: CreateMonitoringSchedule | running this version's definition: nothing |
  otherwise UpdateMonitoringSchedule, then the definition it ran before is deleted (best effort: one AWS still
  refuses to delete is kept, as the direct deploy does).
- `processing`: the CreateProcessingJob template of each check is assembled in a Pass state, then
  GetSchedule → UpdateSchedule, or CreateSchedule when absent, with the template as the target's Input text.
"""

from __future__ import annotations

from pipelines.deploy.monitor_managed import (
    data_quality_job_definition,
    model_quality_job_definition,
    schedule_request,
)
from pipelines.deploy.monitor_processing import processing_job_template
from pipelines.deploy.monitor_processing import schedule_request as processing_schedule
from pipelines.deploy.monitor_spec import DATA_QUALITY, MODEL_QUALITY
from pipelines.deploy.workflow.patterns import (
    NOT_FOUND,
    bind,
    catch_into,
    create_or_find,
    sdk,
    transient_retry,
    upsert_schedule,
    versioned_name,
)
from pipelines.deploy.workflow.sdk import Choice, ChoiceRule, Pass, State, Task
from pipelines.deploy.workflow.settings import WorkflowSettings
from pipelines.images import analyzer_image, xgboost_image

KINDS = (DATA_QUALITY, MODEL_QUALITY)
LABELS = {DATA_QUALITY: "data quality", MODEL_QUALITY: "model quality"}
KEYS = {DATA_QUALITY: "dataQuality", MODEL_QUALITY: "modelQuality"}
BUILDERS = {DATA_QUALITY: data_quality_job_definition, MODEL_QUALITY: model_quality_job_definition}
JOB_NOUN = {DATA_QUALITY: "DataQualityJobDefinition", MODEL_QUALITY: "ModelQualityJobDefinition"}


def job_definition_names(settings: WorkflowSettings) -> dict[str, str]:
    """`$.names` members of the managed engine's job definitions: `<schedule>-v<version>-<hash>`."""
    if settings.deploy.monitor_engine != "managed":
        return {}
    spec = settings.monitor
    names = {}
    for kind in KINDS:
        request = BUILDERS[kind](spec, analyzer_image(settings.region))
        body = {k: v for k, v in request.items() if k not in ("JobDefinitionName", "Tags")}
        names[f"{KEYS[kind]}JobDefinition.$"] = versioned_name(spec.schedule(kind), body)
    return names


def monitoring_states(settings: WorkflowSettings, failed: State, then: State) -> State:
    """The states setting up both checks' schedules; returns the first, the last goes to `then`."""
    build = _managed if settings.deploy.monitor_engine == "managed" else _processing
    first = then
    for kind in reversed(KINDS):
        first = build(settings, kind, failed, first)
    return first


def _managed(settings: WorkflowSettings, kind: str, failed: State, then: State) -> State:
    spec, label, key = settings.monitor, LABELS[kind], KEYS[kind]
    name_path = f"$.names.{key}JobDefinition"
    request = BUILDERS[kind](spec, analyzer_image(settings.region))
    request["JobDefinitionName"] = settings.runtime.value(f"{key}-job", name_path)
    noun = JOB_NOUN[kind]
    create, find = create_or_find(
        Task(
            f"Create {label} job definition",
            resource=sdk("sagemaker", f"create{noun}"),
            parameters=bind(request, settings.runtime),
            result_path=None,
        ),
        sdk("sagemaker", f"describe{noun}"),
        {"JobDefinitionName.$": name_path},
        failed,
        f"{label} job definition",
    )
    schedule = spec.schedule(kind)
    current = f"$.schedules.{key}"
    describe = Task(
        f"Describe {label} schedule",
        resource=sdk("sagemaker", "describeMonitoringSchedule"),
        parameters={"MonitoringScheduleName": schedule},
        result_path=current,
    )
    describe.add_retry(transient_retry("SageMaker"))
    wanted = schedule_request(spec, kind, settings.runtime.value(f"{key}-job", name_path))
    create_schedule = Task(
        f"Create {label} schedule",
        resource=sdk("sagemaker", "createMonitoringSchedule"),
        parameters=bind(wanted, settings.runtime),
        result_path=None,
    )
    update = Task(
        f"Update {label} schedule",
        resource=sdk("sagemaker", "updateMonitoringSchedule"),
        parameters=bind({k: v for k, v in wanted.items() if k != "Tags"}, settings.runtime),
        result_path=None,
        comment="The schedule runs this version's job definition from its next execution on",
    )
    previous = Task(
        f"Delete replaced {label} job definition",
        resource=sdk("sagemaker", f"delete{noun}"),
        parameters={"JobDefinitionName.$": f"{current}.MonitoringScheduleConfig.MonitoringJobDefinitionName"},
        result_path=None,
        comment="Best effort: a definition AWS still refuses to delete is kept (a later deploy leaves it too)",
    )
    catch_into(describe, create_schedule, NOT_FOUND["sagemaker"], result_path="$.lookup")
    catch_into(describe, failed)
    for task in (create_schedule, update):
        catch_into(task, failed)
    catch_into(previous, then, result_path="$.cleanup")
    choice = Choice(f"{label.capitalize()} schedule current?")
    choice.add_choice(
        ChoiceRule.StringEqualsPath(f"{current}.MonitoringScheduleConfig.MonitoringJobDefinitionName", name_path),
        then,
    )
    choice.default_choice(update)
    create.next(describe)
    find.next(describe)
    describe.next(choice)
    update.next(previous)
    previous.next(then)
    create_schedule.next(then)
    return create


def _processing(settings: WorkflowSettings, kind: str, failed: State, then: State) -> State:
    spec, label, key = settings.monitor, LABELS[kind], KEYS[kind]
    template = processing_job_template(spec, kind, settings.analyzer_code, xgboost_image(settings.region))
    environment = template["Environment"]
    for name, uri in (
        ("baseline_constraints", _constraints(settings, kind)),
        ("baseline_statistics", settings.baselines.data_quality_statistics if kind == DATA_QUALITY else None),
    ):
        if uri is not None:  # the file name inside the job is the baseline object's own
            folder = environment[name].rsplit("/", 1)[0]
            environment[name] = settings.runtime.value(f"{key}-{name}", _in_folder(folder, settings.runtime.paths[uri]))
    job_path = f"$.jobs.{key}"
    prepare = Pass(
        f"Prepare {label} job",
        parameters=bind(template, settings.runtime),
        result_path=job_path,
        comment="The CreateProcessingJob request the schedule sends, with this package's baselines",
    )
    request = processing_schedule(spec, kind, {}, settings.scheduler_role)
    request["Target"]["Input"] = settings.runtime.value(f"{key}-input", f"States.JsonToString({job_path})")
    parameters = bind(request, settings.runtime)
    prepare.next(upsert_schedule(label, request["Name"], parameters, failed, then))
    return prepare


def _constraints(settings: WorkflowSettings, kind: str) -> str:
    baselines = settings.baselines
    return baselines.data_quality_constraints if kind == DATA_QUALITY else baselines.model_quality_constraints


def _in_folder(folder: str, uri_path: str) -> str:
    """`<folder>/<the S3 object's file name>` as an intrinsic: SageMaker downloads an input object under its own name."""
    parts = f"States.StringSplit({uri_path}, '/')"
    last = f"States.ArrayGetItem({parts}, States.MathAdd(States.ArrayLength({parts}), -1))"
    return f"States.Format('{folder}/{{}}', {last})"
