"""The deploy workflow's building blocks: resource ARNs, retriers, failure states, runtime values in request
templates, and the two patterns every resource goes through.

- **Create, else find**: SageMaker has no "create if absent" and answers a second create of the same name
  with a generic ValidationException (optimised integration: `SageMaker.AmazonSageMakerException`), so a
  create that fails is followed by a Describe of the same name: found, the resource exists (its name holds a
  hash of its content and the package version, so it is the same resource) and the workflow goes on; not
  found, the create's own error ends the execution. A re-run for the same version fails on nothing.
- **Endpoint to a configuration**: Describe → (absent: CreateEndpoint | Failed: fail | busy: wait and look
  again | already serving the configuration: done | otherwise: UpdateEndpoint) → Wait/Describe until
  InService; InService on another configuration (a rolled-back update) or Failed ends the execution with
  SageMaker's FailureReason as the cause. An endpoint is never deleted.

Runtime values: request templates come from the pure builders of `pipelines.deploy` with sentinel strings
where the execution supplies a value (`Runtime`); `bind` turns each sentinel member `X` into `"X.$": path`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.deploy.names import digest, versioned_stem
from pipelines.deploy.scheduler_target import SCHEDULE_GROUP
from pipelines.deploy.workflow.sdk import Catch, Choice, ChoiceRule, FailWith, Retry, State, Task, Wait

STATES = "arn:aws:states:::"
ERROR = "$.error"  # where a caught error goes: {"Error", "Cause"}
VERSION = "$.package.ModelPackageVersion"  # the described package's version (names are made from it)
NOT_FOUND = {  # what a Describe of a missing resource answers, per service
    "sagemaker": ["SageMaker.ValidationException", "SageMaker.ResourceNotFoundException"],
    "scheduler": ["Scheduler.ResourceNotFoundException"],
}
TRANSIENT = ("ThrottlingException", "InternalFailureException", "ServiceUnavailableException", "SdkClientException")
ENDPOINT_BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed")


def sagemaker(action: str) -> str:
    """The optimised SageMaker integration (request-response)."""
    return f"{STATES}sagemaker:{action}"


def sdk(service: str, action: str) -> str:
    """An AWS SDK integration: errors are named `<Service>.<Code>Exception`, so they can be told apart."""
    return f"{STATES}aws-sdk:{service}:{action}"


def transient_retry(service: str, interval: int = 1) -> Retry:
    """Throttling and passing service faults, retried with backoff (1, 2, 4, 8, 16 s)."""
    return Retry(
        error_equals=[f"{service}.{name}" for name in TRANSIENT],
        interval_seconds=interval,
        max_attempts=5,
        backoff_rate=2.0,
    )


def failure(name: str, what: str) -> FailWith:
    """A Fail state for errors caught into `$.error`: AWS's error name, the cause prefixed with what failed."""
    return FailWith(
        name, error_path=f"{ERROR}.Error", cause_path=f"States.Format('{_literal(what)}: {{}}', {ERROR}.Cause)"
    )


def fail_with(name: str, error: str, template: str, *paths: str) -> FailWith:
    """A Fail state with a fixed error name and a cause formatted from the state's input."""
    arguments = "".join(f", {p}" for p in paths)
    return FailWith(name, error=error, cause_path=f"States.Format('{_literal(template)}'{arguments})")


def catch_into(state: State, target: State, errors: list[str] | None = None, result_path: str = ERROR) -> State:
    state.add_catch(Catch(error_equals=errors or ["States.ALL"], next_step=target, result_path=result_path))
    return state


def _literal(text: str) -> str:
    """Text inside an intrinsic function's single-quoted string: quotes and braces escaped as AWS requires."""
    return (
        text.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("{}", "\x00")
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("\x00", "{}")
    )


# -- runtime values in request templates ------------------------------------------------------------------


@dataclass
class Runtime:
    """Sentinel strings standing for values the execution supplies, and the path each one reads."""

    paths: dict[str, str] = field(default_factory=dict)

    def value(self, name: str, path: str) -> str:
        sentinel = f"<<{name}>>"
        self.paths[sentinel] = path
        return sentinel


def bind(template, runtime: Runtime):
    """The template with every member whose value is a sentinel written as `"Member.$": path`."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if isinstance(value, str) and value in runtime.paths:
                out[f"{key}.$"] = runtime.paths[value]
            else:
                out[key] = bind(value, runtime)
        return out
    if isinstance(template, list):
        return [bind(item, runtime) for item in template]
    if isinstance(template, str) and any(sentinel in template for sentinel in runtime.paths):
        raise ValueError(f"a runtime value inside a longer string cannot be bound: {template!r}")
    return template


def versioned_name(stem: str, content: object) -> str:
    """`States.Format('<stem>-v{}-<hash>', version)`: a name per package version and per content of the
    settings (the hash), within SageMaker's 63 characters for versions up to 999,999."""
    return f"States.Format('{versioned_stem(stem)}-v{{}}-{digest(content)}', {VERSION})"


# -- create, else find ------------------------------------------------------------------------------------


def create_or_find(
    create: Task, describe_resource: str, describe_parameters: dict, failed: State, label: str
) -> tuple[Task, Task]:
    """`create`, and on any error a Describe of the same resource: found, go on; absent, fail with the
    create's error. Returns (create, find); link both to the next state."""
    find = Task(
        f"Find {label}",
        resource=describe_resource,
        parameters=describe_parameters,
        result_path=None,
        comment=f"The create failed: the {label} may exist already (same name, same content)",
    )
    service = describe_resource.split(":")[-2]
    find.add_retry(transient_retry(_java(service)))
    catch_into(find, failed, result_path="$.lookup")  # $.error keeps the create's error
    catch_into(create, find)
    return create, find


def upsert_schedule(label: str, name: str, parameters: dict, failed: State, then: State) -> Task:
    """An EventBridge Scheduler schedule made to match `parameters`: GetSchedule, then UpdateSchedule when it
    exists or CreateSchedule when it does not (Scheduler has no upsert); any other error ends in `failed`.
    Returns the GetSchedule state to enter it by."""
    find = Task(
        f"Find {label} schedule",
        resource=sdk("scheduler", "getSchedule"),
        parameters={"Name": name, "GroupName": SCHEDULE_GROUP},
        result_path=None,
    )
    find.add_retry(transient_retry("Scheduler"))
    create, update = (
        Task(f"{verb} {label} schedule", resource=sdk("scheduler", action), parameters=parameters, result_path=None)
        for verb, action in (("Create", "createSchedule"), ("Update", "updateSchedule"))
    )
    for task in (create, update):
        catch_into(task, failed)
        task.next(then)
    catch_into(find, create, NOT_FOUND["scheduler"], result_path="$.lookup")
    catch_into(find, failed)
    find.next(update)
    return find


def _java(service: str) -> str:
    return {"sagemaker": "SageMaker", "scheduler": "Scheduler", "sagemakerruntime": "SageMakerRuntime"}[service]


# -- an endpoint brought to a configuration --------------------------------------------------------------


@dataclass(frozen=True)
class EndpointStates:
    first: State  # Describe, the entry
    done_when: Choice  # link its InService-and-current choice to the next state with `then`
    settled: Choice


def endpoint_to_config(
    label: str,
    endpoint: str,
    config_path: str,
    tags: list[dict],
    poll_seconds: int,
    failed: State,
    then: State,
) -> EndpointStates:
    """The states bringing `endpoint` to the configuration at `config_path`, then going to `then`."""
    key = f"$.endpoints.{label}"
    describe = _describe_endpoint(f"Describe {label} endpoint", endpoint, key)
    create = Task(
        f"Create {label} endpoint",
        resource=sagemaker("createEndpoint"),
        parameters={"EndpointName": endpoint, "EndpointConfigName.$": config_path, "Tags": tags},
        result_path=None,
    )
    update = Task(
        f"Update {label} endpoint",
        resource=sagemaker("updateEndpoint"),
        parameters={"EndpointName": endpoint, "EndpointConfigName.$": config_path},
        result_path=None,
        comment="A new configuration: SageMaker starts it beside the old one and switches when it is healthy",
    )
    catch_into(describe, create, NOT_FOUND["sagemaker"], result_path="$.lookup")
    catch_into(describe, failed)
    catch_into(create, failed)
    catch_into(update, failed)

    wait_settle = Wait(f"Wait for {label} endpoint to settle", seconds=poll_seconds)
    wait_settle.next(describe)
    is_failed = fail_with(
        f"{label.capitalize()} endpoint is Failed",
        "Deploy.EndpointFailed",
        f"endpoint {endpoint} is Failed ({{}}); delete it (mlops endpoint delete, or aws sagemaker delete-endpoint) "
        "and run the deploy again",
        f"{key}.FailureReason",
    )
    settled = Choice(f"{label.capitalize()} endpoint found")
    status = f"{key}.EndpointStatus"
    settled.add_choice(ChoiceRule.StringEquals(status, "Failed"), is_failed)
    settled.add_choice(ChoiceRule.Or([ChoiceRule.StringEquals(status, s) for s in ENDPOINT_BUSY]), wait_settle)
    settled.add_choice(
        ChoiceRule.And(
            [
                ChoiceRule.StringEquals(status, "InService"),
                ChoiceRule.StringEqualsPath(f"{key}.EndpointConfigName", config_path),
            ]
        ),
        then,
    )
    settled.default_choice(update)
    describe.next(settled)

    wait = Wait(f"Wait for {label} endpoint", seconds=poll_seconds)
    poll = _describe_endpoint(f"Poll {label} endpoint", endpoint, key)
    catch_into(poll, failed)
    create.next(wait)
    update.next(wait)
    wait.next(poll)
    in_service = Choice(f"{label.capitalize()} endpoint in service?")
    current = ChoiceRule.StringEqualsPath(f"{key}.EndpointConfigName", config_path)
    in_service.add_choice(ChoiceRule.And([ChoiceRule.StringEquals(status, "InService"), current]), then)
    in_service.add_choice(
        ChoiceRule.And(
            [ChoiceRule.StringEquals(status, "InService"), ChoiceRule.IsPresent(f"{key}.FailureReason", True)]
        ),
        fail_with(
            f"{label.capitalize()} update rolled back",
            "Deploy.UpdateRolledBack",
            f"endpoint {endpoint} kept configuration {{}}: {{}}",
            f"{key}.EndpointConfigName",
            f"{key}.FailureReason",
        ),
    )
    in_service.add_choice(
        ChoiceRule.StringEquals(status, "InService"),
        fail_with(
            f"{label.capitalize()} endpoint replaced",
            "Deploy.EndpointReplaced",
            f"endpoint {endpoint} serves configuration {{}}, not {{}}: another deploy changed it meanwhile",
            f"{key}.EndpointConfigName",
            config_path,
        ),
    )
    in_service.add_choice(
        ChoiceRule.Or([ChoiceRule.StringEquals(status, s) for s in ("Failed", "OutOfService")]),
        fail_with(
            f"{label.capitalize()} endpoint failed",
            "Deploy.EndpointFailed",
            f"endpoint {endpoint} is {{}}: {{}}",
            status,
            f"{key}.FailureReason",
        ),
    )
    in_service.default_choice(wait)
    poll.next(in_service)
    return EndpointStates(describe, in_service, settled)


def _describe_endpoint(name: str, endpoint: str, result_path: str) -> Task:
    task = Task(
        name,
        resource=sdk("sagemaker", "describeEndpoint"),
        parameters={"EndpointName": endpoint},
        result_path=result_path,
    )
    task.add_retry(transient_retry("SageMaker"))
    return task
