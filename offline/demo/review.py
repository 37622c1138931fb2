"""Human review of window 1, as `mlops review start-loops` / `answer` / `collect` do it, with three simulated
reviewers.

The post-processing job starts one loop per prediction the handler marked for review plus the audit sample,
through a flow definition with TaskCount 2. Each loop goes to two of the three reviewers (the pairs rotate, so
every pair shares loops and the portal's pairwise kappa means something); a tie is escalated by the A2I
runtime's own rule (`processing.review.consensus`, the portal's escalation) and the third reviewer answers.

The reviewers are simulated and say so (their worker names, and a note in each answerContent): each answers
with the held-out label of the row, but gets it wrong with probability ERROR_RATE, drawn from a generator
seeded by the reviewer and the inference id, so a run is reproducible and the reviewers disagree now and
then, as people do (docs/demo.md, "the simulated reviewers").
"""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

from offline.defaults import LOCAL_REGION
from offline.demo.common import ENDPOINT_NAME, DemoError, Say, iso
from offline.demo.deploy import TASK_COUNT
from offline.demo.stopwatch import STOPWATCH

REVIEWERS = ("simulated-reviewer-ada", "simulated-reviewer-ben", "simulated-reviewer-cy")
ERROR_RATE = 0.12  # share of answers a simulated reviewer gets wrong (docs/demo.md)
SEED = 6  # with the inference ids, decides which answers are wrong
NOTE = (
    "simulated reviewer (offline demo): answers with the held-out label of this row, wrong on "
    f"{ERROR_RATE:.0%} of answers by a seeded draw"
)


def simulated_label(reviewer: str, inference_id: str, truth: int) -> int:
    """The label a simulated reviewer gives: the truth, flipped with probability ERROR_RATE (seeded)."""
    wrong = random.Random(f"{SEED}:{reviewer}:{inference_id}").random() < ERROR_RATE
    return 1 - truth if wrong else truth


def review_window(home: Path, window, traffic_uri: str, say: Say) -> dict:
    from offline import human_review
    from offline.aws.a2i.loops import COMPLETED, HumanLoops
    from offline.state import StateDB
    from offline.store import ObjectStore
    from processing.review.answers import answer_content
    from processing.review.consensus import consensus
    from processing.start_human_loops import NOT_ATTEMPTED
    from review.portal.stats import review_stats

    store = ObjectStore.for_home(home)
    with STOPWATCH.part("review: start loops"):
        flow_arn, started = human_review.start_loops(
            ENDPOINT_NAME, window.start, window.end, task_count=TASK_COUNT, home=home
        )
    loops = [loop for loop in started.loops if loop["outcome"] != NOT_ATTEMPTED]
    say(f"   {started.summary()}")
    held_out = held_out_labels(store, traffic_uri, window.prefix)
    reviews = HumanLoops.for_home(home)
    outputs, corrections = [], 0
    with STOPWATCH.part("review: simulated reviewers"):
        details = [reviews.detail(LOCAL_REGION, loop["humanLoopName"]) for loop in loops]
        # in the traffic's order, so which pair answers which row is the same every run
        details.sort(key=lambda d: (str(d.input_content.get("inferenceId")), d.input_content.get("rowIndex", 0)))
        for number, detail in enumerate(details):
            inference_id = detail.input_content.get("inferenceId")
            truth = held_out.get(inference_id)
            if truth is None:
                raise DemoError(f"loop {detail.info.name} reviews a prediction the demo did not send")
            order = [REVIEWERS[(number + k) % len(REVIEWERS)] for k in range(len(REVIEWERS))]
            given = []
            for reviewer in order:
                label = simulated_label(reviewer, inference_id, truth)
                info = reviews.answer(
                    LOCAL_REGION, detail.info.name, reviewer, answer_content(label, detail.input_content, NOTE)
                )
                given.append(label)
                if info.status == COMPLETED:
                    break
            if info.status != COMPLETED:
                raise DemoError(f"loop {detail.info.name} is {info.status} after {len(given)} answers")
            outputs.append(info.output_s3_uri)
            decided = consensus(given)
            corrections += decided.label is not None and decided.label != detail.input_content["predictedLabel"]
    stats = review_stats(StateDB.for_home(home), LOCAL_REGION, flow_arn)
    say(
        f"   {len(outputs)} loop(s) completed by {', '.join(REVIEWERS)} ({stats.answers} answers, {stats.escalated} "
        f"tie(s) escalated to the third reviewer); Krippendorff's alpha {_fmt(stats.agreement.alpha)}; the "
        f"reviewers corrected the model on {corrections}"
    )
    where = human_review.locations(ENDPOINT_NAME)
    with STOPWATCH.part("review: collect"):
        [collected] = human_review.collect(
            ENDPOINT_NAME, [human_review.resolve_flow_definition(flow_arn, home=home)], home=home
        )
    say(f"   collected: {collected.summary()}")
    agreement = {key: value for key, value in asdict(stats).items() if key != "agreement"}
    agreement.update(asdict(stats.agreement))
    return {
        "window": {"name": window.name, "start": iso(window.start), "end": iso(window.end)},
        "flow_definition_arn": flow_arn,
        "task_count": TASK_COUNT,
        "manifest_uri": human_review.store_uri(started.manifest_uri, home),
        "loops_started": len(loops),
        "review_loops": started.count("reason", "review"),
        "audit_loops": started.count("reason", "audit"),
        "completed": len(outputs),
        "output_uris": outputs,
        "reviewer": REVIEWERS[0].rsplit("-", 1)[0],
        "reviewers": list(REVIEWERS),
        "reviewer_error_rate": ERROR_RATE,
        "answers": stats.answers,
        "escalated": stats.escalated,
        "disputed": stats.consensus.get("disputed", 0),
        "agreement": agreement,
        "corrections": corrections,
        "ground_truth_records": collected.ground_truth_records,
        "labelled_rows": collected.labelled_rows,
        "without_consensus": len(collected.without_consensus),
        "ground_truth_uri": where.ground_truth_uri,
        "labels_uri": where.labels_uri,
    }


def held_out_labels(store, traffic_uri: str, prefix: str) -> dict[str, int]:
    """inference id -> the held-out label of the replayed row (traffic.csv: label first, row n is `<prefix>-n`)."""
    lines = store.get_bytes(f"{traffic_uri}/traffic.csv").decode().splitlines()
    return {f"{prefix}-{number:06d}": int(float(line.split(",", 1)[0])) for number, line in enumerate(lines, start=1)}


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"
