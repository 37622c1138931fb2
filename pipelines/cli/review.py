"""`mlops review list|show|answer`: the local human loops, and answering them without a browser.

A2I has no API for answers (workers submit them from the worker UI), so these commands work on the
home's loops directly (`offline.aws.a2i.loops`), the same state the local A2I runtime serves; `list`
spans every flow definition, which ListHumanLoops cannot. Bad input exits 2 and stores nothing.
"""

from __future__ import annotations

import json
import sys

import click

from pipelines.cli import exit_codes

STATUSES = ("InProgress", "Completed", "Stopped", "Failed")


@click.group("review")
@click.option("--region", default=None, help="The loops' region. Default: the local runtime's (us-east-1).")
@click.pass_context
def group(ctx: click.Context, region: str | None) -> None:
    """Human loops of the local A2I runtime: list them, show one, answer one."""
    from offline.aws.constants import DEFAULT_REGION

    ctx.obj = {"region": region or DEFAULT_REGION}


@group.command("list")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False), help="Only loops with this status.")
@click.option("--flow", "flow", default=None, help="Only loops of this flow definition (name or ARN).")
@click.option("--json", "as_json", is_flag=True, help="Print the loops as JSON.")
@click.pass_obj
def list_loops(obj: dict, status: str | None, flow: str | None, as_json: bool) -> None:
    """Human loops, oldest first, with how many of their workers have answered."""
    loops = _loops()
    flow_arn = None
    if flow:
        flow_arn = flow if flow.startswith("arn:") else loops.resources.arn(obj["region"], "flow-definition", flow)
    status = next((s for s in STATUSES if status and s.lower() == status.lower()), None)
    found = loops.loops(obj["region"], status, flow_arn)
    if as_json:
        click.echo(json.dumps([_info_json(i) for i in found], indent=2))
        return
    if not found:
        click.echo("no human loops" + (f" with status {status}" if status else "") + (f" of {flow}" if flow else ""))
        return
    click.echo(f"{'LOOP':<40}{'STATUS':<12}{'ANSWERS':<9}{'CREATED':<26}FLOW DEFINITION")
    for i in found:
        answers = f"{i.answers}/{i.required_answers}"
        flow_name = i.flow_definition_arn.rsplit("/", 1)[-1]
        click.echo(f"{i.name:<40}{i.status:<12}{answers:<9}{_iso(i.creation_ms):<26}{flow_name}")


@group.command("show")
@click.argument("loop")
@click.option("--json", "as_json", is_flag=True, help="Print the loop, its input and its answers as JSON.")
@click.pass_obj
def show(obj: dict, loop: str, as_json: bool) -> None:
    """One loop: its status, its input (features, probability, reason) and the answers so far."""
    from processing.review.answers import parse_review
    from processing.review.task_input import read_label_spec

    detail = _detail(obj["region"], loop)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "loop": _info_json(detail.info),
                    "input": detail.input_content,
                    "answers": [_answer_json(a) for a in detail.answers],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    info, task = detail.info, detail.input_content
    click.echo(f"loop     {info.name} ({info.status}, {info.answers}/{info.task_count} answers)")
    click.echo(f"flow     {info.flow_definition_arn}")
    click.echo(f"created  {_iso(info.creation_ms)}")
    if info.output_s3_uri:
        click.echo(f"output   {info.output_s3_uri}")
    if info.failure_reason:
        click.echo(f"failed   {info.failure_code}: {info.failure_reason}")
    try:
        spec = read_label_spec(task) if isinstance(task, dict) else None
    except ValueError:
        spec = None
    if spec is None or not isinstance(task.get("features"), dict):
        click.echo("input    (not this project's review input)")
        click.echo(json.dumps(task, indent=2, ensure_ascii=False))
    else:
        predicted = task.get("predictedLabel")
        click.echo(
            f"why      {task.get('reason')}: P({spec.positive.name}) = {task.get('probability')}, predicted "
            f"{spec.name_of(predicted) if predicted in (0, 1) else predicted} ({predicted})"
        )
        click.echo(
            f"event    {task.get('endpoint')} {task.get('eventId')} row {task.get('rowIndex')} at {task.get('inferenceTime')}"
        )
        width = max(len(name) for name in task["features"]) + 2
        click.echo("features")
        for name, value in task["features"].items():
            click.echo(f"  {name:<{width}}{'' if value is None else value}")
    if not detail.answers:
        click.echo("answers  none yet")
    for n, answer in enumerate(detail.answers, 1):
        said = parse_review(answer.answer_content, spec)
        label = "no label" if said.label is None else f"{spec.name_of(said.label) if spec else 'label'} ({said.label})"
        agreement = {True: "agrees", False: "disagrees", None: "says nothing on agreement"}[said.agrees]
        click.echo(
            f"answer {n} by {answer.worker_name} (worker {answer.worker_id}) at {_iso(answer.submission_ms)}: {label}, {agreement}"
        )
        if said.reason:
            click.echo(f"         reason: {said.reason}")
        if said.label is None and said.agrees is None:
            click.echo(f"         {json.dumps(answer.answer_content, ensure_ascii=False)}")


@group.command("answer")
@click.argument("loop")
@click.option("--worker", required=True, help="Who answers (no registration needed here; one answer per worker).")
@click.option(
    "--label", type=click.Choice(["0", "1"]), default=None, help="The reviewer's label: 1 positive, 0 negative."
)
@click.option("--reason", default=None, help="Why (with --label).")
@click.option("--answer-json", "answer_json", default=None, help="The answerContent object, recorded as it is.")
@click.pass_obj
def answer(obj: dict, loop: str, worker: str, label: str | None, reason: str | None, answer_json: str | None) -> None:
    """Answer LOOP as WORKER, as the task template's form would (--label) or with any answer (--answer-json).

    The answer that makes TaskCount completes the loop and writes A2I's output.json.
    """
    region = obj["region"]
    if (label is None) == (answer_json is None):
        raise click.UsageError("give exactly one of --label and --answer-json")
    if reason is not None and label is None:
        raise click.UsageError("--reason goes with --label (put a reason inside --answer-json instead)")
    if label is not None:
        content = _label_answer(region, loop, int(label), reason)
    else:
        content = _parse_answer_json(answer_json)
    from offline.aws.errors import ServiceError

    try:
        done = _loops().answer(region, loop, worker, content)
    except ServiceError as e:
        _fail(e.message)
    click.echo(f"recorded the answer of {worker} to {loop} ({done.answers}/{done.required_answers})")
    if done.escalations and done.status == "InProgress" and done.answers == done.task_count:
        click.echo(f"{loop}: the answers tie; it waits for one more reviewer")
    if done.output_s3_uri:
        click.echo(f"{loop} is Completed: {done.output_s3_uri}")


def _label_answer(region: str, loop: str, label: int, reason: str | None) -> dict:
    """What the project's template submits for `label`: it needs this project's review input."""
    from processing.review.answers import answer_content

    detail = _detail(region, loop)
    if detail.info.status != "InProgress":
        _fail(f"human loop {loop} is {detail.info.status}; only a loop in progress takes answers")
    task = detail.input_content
    try:
        return answer_content(label, task if isinstance(task, dict) else {}, reason)
    except ValueError as e:
        _fail(f"human loop {loop} does not carry this project's review input ({e}); answer it with --answer-json")


def _parse_answer_json(text: str) -> dict:
    """The answer object, held to the limits of the runtime's JSON bodies (depth, valid Unicode)."""
    from offline.aws.errors import SerializationException
    from offline.aws.protocols.json import load_json_object

    if not text.strip():
        _fail("--answer-json is empty: give the object crowd-form submits as taskAnswers[0]")
    try:
        return load_json_object(text.encode("utf-8", "surrogatepass"), "--answer-json")
    except SerializationException as e:
        _fail(f"{e.message}: give the object crowd-form submits as taskAnswers[0]")


def _loops():
    from offline.aws.a2i.loops import HumanLoops

    return HumanLoops.for_home()


def _detail(region: str, loop: str):
    from offline.aws.errors import ServiceError

    try:
        return _loops().detail(region, loop)
    except ServiceError as e:
        _fail(e.message)


def _fail(message: str):
    click.echo(f"error: {message}", err=True)
    sys.exit(exit_codes.USAGE)


def _iso(ms: int) -> str:
    from offline.aws.a2i.output import iso_ms

    return iso_ms(ms)


def _info_json(info) -> dict:
    return {
        "HumanLoopName": info.name,
        "HumanLoopArn": info.arn,
        "HumanLoopStatus": info.status,
        "CreationTime": _iso(info.creation_ms),
        "FlowDefinitionArn": info.flow_definition_arn,
        "TaskCount": info.task_count,
        "Answers": info.answers,
        "OutputS3Uri": info.output_s3_uri,
        "FailureCode": info.failure_code,
        "FailureReason": info.failure_reason,
    }


def _answer_json(answer) -> dict:
    return {
        "workerName": answer.worker_name,
        "workerId": answer.worker_id,
        "acceptanceTime": _iso(answer.acceptance_ms),
        "submissionTime": _iso(answer.submission_ms),
        "answerContent": answer.answer_content,
    }


# -- the post-processing job and the collector, run locally ----------------------------------------------


@group.command("start-loops")
@click.option("--endpoint", required=True, help="The endpoint whose captured predictions are reviewed.")
@click.option("--start", required=True, help="Window start, ISO-8601 (e.g. 2024-05-01T10:00:00Z), inclusive.")
@click.option("--end", required=True, help="Window end, ISO-8601, exclusive.")
@click.option(
    "--audit-rate",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of confident predictions also reviewed (chosen by hashing their id: re-runs choose the same).",
)
@click.option(
    "--flow-definition", "flow", default=None, help="Flow definition (name or ARN). Default: the endpoint's own."
)
@click.option(
    "--task-count", type=click.IntRange(1, 3), default=1, show_default=True, help="Reviewers per prediction "
    "(for the endpoint's own flow definition)."
)  # fmt: skip
@click.option(
    "--capture-uri", default=None, help="The endpoint's capture (default s3://<bucket>/datacapture/<endpoint>)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_obj
def start_loops_command(
    obj: dict,
    endpoint: str,
    start: str,
    end: str,
    audit_rate: float,
    flow: str | None,
    task_count: int,
    capture_uri: str | None,
    as_json: bool,
) -> None:
    """Start one human loop per prediction of the window the handler marked for review, plus an audit sample.

    The post-processing job AWS runs hourly (processing/start_human_loops.py), run here against the local
    A2I runtime. Re-running starts nothing twice. Exit 0 also when there is nothing to review; 2 for bad
    input; 1 when the runtime fails.
    """
    from offline import human_review
    from processing.review.starting import StartFailed, StartRefused
    from processing.start_human_loops import StartInputError, window_of

    region = obj["region"]
    try:
        begin, finish = window_of(None, start, end)
        flow_arn, report = human_review.start_loops(
            endpoint,
            begin,
            finish,
            flow=flow,
            task_count=task_count,
            audit_rate=audit_rate,
            capture_uri=capture_uri,
            region=region,
        )
    except (StartInputError, StartRefused, human_review.ReviewInputError) as e:
        _fail(str(e))
    except StartFailed as e:
        click.echo(f"error: {e} (the manifest records what was started; run again to go on)", err=True)
        sys.exit(exit_codes.FAILURE)
    manifest = human_review.store_uri(report.manifest_uri)
    if as_json:
        click.echo(json.dumps({"manifest": manifest, **report.document()}, indent=2, ensure_ascii=False))
        return
    click.echo(report.summary())
    click.echo(f"flow definition {flow_arn}")
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"skipped {count}: {reason}")
    click.echo(f"manifest {manifest}")


@group.command("collect")
@click.option("--endpoint", required=True, help="The endpoint whose reviews are collected.")
@click.option(
    "--flow-definition", "flow", default=None, help="Only this flow definition's loops. Default: all of the endpoint's."
)
@click.option("--start", default=None, help="Only loops created from this time (ISO-8601; widened to whole hours).")
@click.option("--end", default=None, help="… until this time, exclusive.")
@click.option("--ground-truth-uri", default=None, help="Default s3://<bucket>/ground-truth/<endpoint>.")
@click.option("--labels-uri", default=None, help="Default the build pipeline's HumanLabelsUrl.")
@click.option("--json", "as_json", is_flag=True, help="Print what was collected as JSON.")
@click.pass_obj
def collect_command(
    obj: dict,
    endpoint: str,
    flow: str | None,
    start: str | None,
    end: str | None,
    ground_truth_uri: str | None,
    labels_uri: str | None,
    as_json: bool,
) -> None:
    """Completed loops -> ground truth (Model Monitor's JSON Lines) and labelled rows for retraining.

    The collector (processing/collect_reviews.py) run locally. Loops without a consensus are reported,
    not written; collecting again writes the same files. Exit 2 for bad input.
    """
    from offline import human_review
    from processing.monitoring.errors import MonitorInputError
    from processing.review.locations import LocationError

    region = obj["region"]
    try:
        begin, finish = _times(start, end)
        if flow:
            flows = [human_review.resolve_flow_definition(flow, region=region)]
        else:
            flows = human_review.endpoint_flow_definitions(endpoint, region=region)
            if not flows:
                raise human_review.ReviewInputError(
                    f"endpoint {endpoint!r} has no flow definition of its own: start its loops first "
                    "(mlops review start-loops), or name one with --flow-definition"
                )
        where = human_review.locations(endpoint, ground_truth_uri=ground_truth_uri, labels_uri=labels_uri)
        reports = human_review.collect(
            endpoint, flows, start=begin, end=finish, ground_truth_uri=where.ground_truth_uri,
            labels_uri=where.labels_uri,
        )  # fmt: skip
    except (MonitorInputError, human_review.ReviewInputError, LocationError) as e:
        _fail(str(e))
    results = [
        {
            "flow_definition_arn": f["FlowDefinitionArn"],
            "completed": r.outputs,
            "agreed": r.agreed,
            "without_consensus": r.without_consensus,
            "not_usable": r.not_review_input,
            "ground_truth_records": r.ground_truth_records,
            "incomplete_requests": r.incomplete_requests,
            "labelled_rows": r.labelled_rows,
            "files": [human_review.store_uri(p) for p in r.files],
        }
        for f, r in zip(flows, reports, strict=True)
    ]
    if as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for result, report in zip(results, reports, strict=True):
        click.echo(f"{result['flow_definition_arn'].rsplit('/', 1)[-1]}: {report.summary()}")
        for loop, status in sorted(report.without_consensus.items()):
            click.echo(f"  no consensus ({status}), not written: {loop}")
        for loop, why in sorted(report.not_review_input.items()):
            click.echo(f"  not used: {loop}: {why}")
        for event, why in sorted(report.incomplete_requests.items()):
            click.echo(f"  no ground truth for request {event} yet: {why}")
    click.echo(f"ground truth  {where.ground_truth_uri}")
    click.echo(f"labelled rows {where.labels_uri}")


def _times(start: str | None, end: str | None):
    """Optional --start / --end (ISO-8601); start before end when both are given."""
    from processing.monitoring.errors import MonitorInputError
    from processing.monitoring.readers.capture import parse_time

    begin, finish = parse_time(start), parse_time(end)
    if begin and finish and begin >= finish:
        raise MonitorInputError(f"--start ({start}) must be before --end ({end})")
    return begin, finish


# -- the reviewer portal: serve, add-worker, stats, audit ---------------------------------------------------
def _portal_address(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from pipelines.cli.local import _address

    return _address(ctx, param, value)


def _is_loopback(host: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(host).is_loopback


@group.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=_portal_address,
    help="Address to listen on. Anything but loopback lets other machines reach the sign-in page.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8088, show_default=True, help="0 picks a free port.")
@click.pass_obj
def serve(obj: dict, host: str, port: int) -> None:
    """Serve the reviewer portal: workers sign in and answer the loops of their work teams in a browser.

    Prints "Serving the review portal on http://HOST:PORT" and runs until Ctrl-C or SIGTERM.
    """
    from review.portal.app import Portal, create_app
    from review.portal.server import BindError, bind, url_of
    from review.portal.server import serve as run

    try:
        sock = bind(host, port)
    except BindError as e:
        raise click.UsageError(str(e)) from None
    app = create_app(Portal(region=obj["region"]))
    click.echo(f"Serving the review portal on {url_of(sock)}")
    if not _is_loopback(host):
        click.echo(f"Warning: listening on {host}, reachable from other machines; use HTTPS in front of it.", err=True)
    run(app, sock)


@group.command("add-worker")
@click.argument("name")
@click.option("--team", default="default", show_default=True, help="The private work team the worker joins.")
@click.option("--admin", is_flag=True, help="May see the statistics page (/admin).")
@click.option("--new-secret", is_flag=True, help="Give an existing worker a new secret (signs them out).")
@click.pass_obj
def add_worker(obj: dict, name: str, team: str, admin: bool, new_secret: bool) -> None:
    """Add NAME to a work team of the local workforce; a new worker's secret is printed once, last.

    Flow definitions whose WorkteamArn is the team's ARN (printed) send their loops to its members.
    """
    from review.portal.audit import WORKER_ADDED, AuditLog
    from review.portal.workforce import Workforce, WorkforceError, team_arn

    workforce = Workforce.for_home()
    try:
        added = workforce.add_worker(name, team, admin=admin, new_secret=new_secret)
    except WorkforceError as e:
        _fail(str(e))
    AuditLog(workforce.db).append(WORKER_ADDED, name, detail=f"team {team}" + (", new secret" if new_secret else ""))
    what = "added" if added.created else "joined" if added.joined else "updated"
    click.echo(f"worker {name} {what}: team {team} ({team_arn(obj['region'], team)})")
    if added.secret is None:
        click.echo(f"{name} keeps their secret (--new-secret makes another)")
        return
    click.echo(f"{name}'s secret, shown only now (sign in with it at the portal):")
    click.echo(added.secret)


@group.command("stats")
@click.option("--flow", "flow", default=None, help="Only loops of this flow definition (name or ARN).")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_obj
def stats(obj: dict, flow: str | None, as_json: bool) -> None:
    """Consensus, escalations and agreement: Cohen's kappa per reviewer pair, Krippendorff's alpha overall."""
    from dataclasses import asdict

    from review.portal.stats import review_stats

    loops = _loops()
    flow_arn = None
    if flow:
        flow_arn = flow if flow.startswith("arn:") else loops.resources.arn(obj["region"], "flow-definition", flow)
    found = review_stats(loops.db, obj["region"], flow_arn)
    if as_json:
        click.echo(json.dumps(asdict(found), indent=2))
        return
    click.echo(
        f"{found.answered_loops} loops answered ({found.answers} answers), {found.completed} completed, "
        f"{found.escalated} escalated after a tie"
    )
    outcome = ", ".join(f"{k} {v}" for k, v in found.consensus.items()) or "none completed yet"
    click.echo(f"consensus of completed loops: {outcome}")
    agreement = found.agreement
    alpha = "undefined" if agreement.alpha is None else f"{agreement.alpha:.3f}"
    click.echo(f"Krippendorff's alpha (nominal): {alpha} over {agreement.alpha_items} loops with two or more labels")
    if not agreement.pairs:
        click.echo("Cohen's kappa: no two reviewers have labelled the same loop")
        return
    click.echo("Cohen's kappa per reviewer pair:")
    for pair in agreement.pairs:
        kappa = "undefined" if pair.kappa is None else f"{pair.kappa:.3f}"
        observed = "-" if pair.observed is None else f"{pair.observed:.3f}"
        click.echo(f"  {pair.first} and {pair.second}: kappa {kappa}, agreement {observed} over {pair.items} loops")


@group.command("audit")
@click.option("--loop", "loop", default=None, help="Only this loop (name or ARN).")
@click.option("--worker", default=None, help="Only this worker.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@click.pass_obj
def audit(obj: dict, loop: str | None, worker: str | None, as_json: bool) -> None:
    """The portal's audit trail, oldest first: who signed in, opened and answered which loop, and when."""
    from review.portal.audit import AuditLog

    loops = _loops()
    loop_arn = None
    if loop:
        loop_arn = loop if loop.startswith("arn:") else loops.arn(obj["region"], loop)
    entries = AuditLog(loops.db).entries(loop_arn=loop_arn, worker=worker)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "time": _iso(e.at_ms),
                        "worker": e.worker,
                        "action": e.action,
                        "loop": e.loop_arn,
                        "detail": e.detail,
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    if not entries:
        click.echo(
            "no audit entries" + (f" of loop {loop}" if loop else "") + (f" of worker {worker}" if worker else "")
        )
        return
    for e in entries:
        name = e.loop_arn.rsplit("/", 1)[-1] if e.loop_arn else "-"
        click.echo(f"{_iso(e.at_ms)}  {e.worker or '-':<20} {e.action:<16} {name:<40} {e.detail or ''}".rstrip())
