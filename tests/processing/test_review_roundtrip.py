"""The whole review path on real components: captured window -> loops in the local A2I runtime -> answers ->
the collector -> the real model-quality analyzer merging the ground truth with the same capture."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from processing.monitoring.checks.api import run_model_quality_check
from processing.monitoring.model_quality import ModelQualityAttributes, constraints_document, statistics_document
from processing.review.answers import answer_content
from processing.review.collecting import collect
from processing.review.locations import Location
from processing.review.starting import retry_config
from processing.start_human_loops import start_loops
from tests.offline.aws.a2i_helpers import make_flow
from tests.processing.review.captures import csv_record, row_features, window, write_window

START, END = datetime(2024, 5, 1, 10, tzinfo=timezone.utc), datetime(2024, 5, 1, 11, tzinfo=timezone.utc)


def test_collected_ground_truth_merges_with_the_capture_in_the_model_quality_check(tmp_path, contract):
    home = tmp_path / "home"
    session = local_session(home)
    flow = make_flow(session.client("sagemaker"), session.client("s3"))
    multi = csv_record(
        "2d7f0c1e-aaaa-4bbb-8ccc-00000000000f",
        30,
        [(row_features(contract, 1), 0.45, 1), (row_features(contract, 2), 0.7, 1)],
        inference_id="multi-request",
    )
    capture = write_window(tmp_path / "capture", [*window(contract, 40, inference_ids=True), multi])
    report = start_loops(
        session.client("sagemaker-a2i-runtime", config=retry_config()),
        capture=capture,
        start=START,
        end=END,
        flow_definition_arn=flow,
        audit_rate=0.1,
        manifests=Location(tmp_path / "manifests"),
    )
    loops = HumanLoops.for_home(home)
    truth = {}
    for n, entry in enumerate(report.loops):
        document = loops.detail("us-east-1", entry["humanLoopName"]).input_content
        truth[entry["humanLoopName"]] = label = (n + document["predictedLabel"]) % 2  # the reviewer disagrees often
        loops.answer("us-east-1", entry["humanLoopName"], "ana", answer_content(label, document))

    collected = collect(
        Location(tmp_path / "home/s3/review-output/out"),
        Location(tmp_path / "gt"),
        Location(tmp_path / "labels"),
        contract,
    )
    assert collected.agreed == len(report.loops) == collected.labelled_rows
    assert collected.ground_truth_records == len(report.loops) - 1  # the two-row request is one record

    labels = [truth[e["humanLoopName"]] for e in report.loops]
    probabilities = [e["probability"] for e in report.loops]
    baseline = tmp_path / "constraints.json"
    baseline.write_text(json.dumps(constraints_document(statistics_document(labels, probabilities, 0.5))))
    result = run_model_quality_check(
        baseline_constraints=baseline,
        output_dir=tmp_path / "check",
        attributes=ModelQualityAttributes(ground_truth_attribute="label", probability_attribute="0"),
        capture_uri=str(capture),
        ground_truth_uri=str(tmp_path / "gt"),
        start=START,
        end=END,
    )
    assert result.item_count == len(report.loops)  # every reviewed row merged with its captured prediction
    assert f"{len(report.loops)} of 42 captured rows have ground truth" in result.notes
    statistics = json.loads((tmp_path / "check" / "statistics.json").read_text())
    matrix = statistics["binary_classification_metrics"]["confusion_matrix"]
    assert sum(matrix[actual][predicted] for actual in matrix for predicted in matrix[actual]) == len(report.loops)
    assert result.violations == []  # the window is exactly the baseline's labels and probabilities
