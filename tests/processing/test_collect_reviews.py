"""The collector on A2I's output.json files: consensus decides, loops without one are reported, ground truth
is keyed and placed as Model Monitor merges it, labelled rows are what preprocess reads, and collecting
again writes the same files."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from processing.collect_reviews import main
from processing.preprocess import add_reviewed_rows, load_raw, split, to_model_frame
from processing.review.answers import answer_content
from processing.review.collecting import collect
from processing.review.locations import Location
from processing.review.task_input import build_review_input

pytestmark = pytest.mark.image
FLOW = "bc-review-0123456789"
CREATED = datetime(2024, 5, 1, 11, 15, 7, tzinfo=timezone.utc)


def _input(contract, event: str, row: int = 0, rows: int = 1, inference_id: str | None = None, **changes) -> dict:
    fields = {
        "endpoint": "bc",
        "event_id": event,
        "inference_id": inference_id,
        "inference_time": "2024-05-01T10:42:00Z",
        "row_index": row,
        "row_count": rows,
        "reason": "review",
        "probability": 0.55,
        "predicted_label": 1,
        "features": [float(i) + row for i in range(len(contract.features))],
        **changes,
    }
    return build_review_input(contract, **fields)


def _output(root: Path, document: dict, labels: list, created: datetime = CREATED, loop: str | None = None) -> Path:
    """output.json as A2I writes it for a completed loop, one answer per label (None: no label chosen)."""
    loop = loop or f"{document['eventId']}-{document.get('rowIndex', 0)}"
    answers = []
    for n, label in enumerate(labels):
        content = answer_content(label, document) if label is not None else {"reason": "cannot tell"}
        answers.append(
            {
                "acceptanceTime": "2024-05-01T11:20:00.000Z",
                "answerContent": content,
                "submissionTime": "2024-05-01T11:21:00.000Z",
                "timeSpentInSeconds": 60.0,
                "workerId": f"{n:016x}",
                "workerMetadata": {"identityData": {"identityProviderType": "Oidc", "issuer": "urn:x", "sub": "s"}},
            }
        )
    path = root / FLOW / f"{created:%Y/%m/%d/%H/%M/%S}" / loop / "output.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "flowDefinitionArn": f"arn:aws:sagemaker:us-east-1:123456789012:flow-definition/{FLOW}",
                "humanAnswers": answers,
                "humanLoopName": loop,
                "inputContent": document,
            },
            sort_keys=True,
        )
    )
    return path


def _collect(tmp_path, contract, **window):
    return collect(
        Location(tmp_path / "out"), Location(tmp_path / "gt"), Location(tmp_path / "labels"), contract, **window
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _ground_truth(tmp_path) -> list[dict]:
    return [json.loads(line) for f in sorted((tmp_path / "gt").rglob("*.jsonl")) for line in f.read_text().splitlines()]


def test_agreed_loops_become_ground_truth_keyed_as_the_capture_and_labelled_rows(tmp_path, contract):
    _output(tmp_path / "out", _input(contract, "ev-1", inference_id="req-1"), [1])
    _output(tmp_path / "out", _input(contract, "ev-2"), [0])
    report = _collect(tmp_path, contract)
    assert (report.outputs, report.agreed, report.ground_truth_records, report.labelled_rows) == (2, 2, 2, 2)
    # the prediction's inference hour, the flow definition and the loops' creation hour
    gt = tmp_path / "gt/2024/05/01/10" / f"{FLOW}-2024050111.jsonl"
    assert gt.read_text().splitlines() == [
        '{"groundTruthData":{"data":"0","encoding":"CSV"},"eventMetadata":{"eventId":"ev-2"},"eventVersion":"0"}',
        '{"groundTruthData":{"data":"1","encoding":"CSV"},"eventMetadata":{"eventId":"req-1"},"eventVersion":"0"}',
    ]
    rows = (tmp_path / "labels" / FLOW / "2024/05/01/11/labels.csv").read_text().splitlines()
    width = 1 + len(contract.features)
    assert [row.split(",")[0] for row in rows] == ["1", "0"] and all(len(r.split(",")) == width for r in rows)
    assert rows[0].split(",")[1:4] == ["0.0", "1.0", "2.0"]


def test_collecting_again_writes_the_same_files_and_never_duplicates(tmp_path, contract):
    _output(tmp_path / "out", _input(contract, "ev-1"), [1])
    _collect(tmp_path, contract)
    first = {**_files(tmp_path / "gt"), **_files(tmp_path / "labels")}
    _collect(tmp_path, contract)
    assert {**_files(tmp_path / "gt"), **_files(tmp_path / "labels")} == first
    _output(tmp_path / "out", _input(contract, "ev-3"), [0])  # completes later, same hour
    _collect(tmp_path, contract)
    assert [r["eventMetadata"]["eventId"] for r in _ground_truth(tmp_path)] == ["ev-1", "ev-3"]
    assert len(_files(tmp_path / "gt")) == 1


def test_consensus_decides_and_loops_without_one_are_reported_not_written(tmp_path, contract):
    out = tmp_path / "out"
    _output(out, _input(contract, "majority"), [1, 0, 1])
    _output(out, _input(contract, "tie"), [1, 0])
    _output(out, _input(contract, "nobody"), [None, None])
    report = _collect(tmp_path, contract)
    assert report.agreed == 1 and report.without_consensus == {"tie-0": "disputed", "nobody-0": "unlabelled"}
    assert [(r["eventMetadata"]["eventId"], r["groundTruthData"]["data"]) for r in _ground_truth(tmp_path)] == [
        ("majority", "1")
    ]
    assert report.labelled_rows == 1


def test_a_multi_row_request_gets_ground_truth_once_every_row_has_a_label(tmp_path, contract):
    out = tmp_path / "out"
    for row, label in ((0, 1), (2, 1)):
        _output(out, _input(contract, "multi", row=row, rows=3), [label])
    report = _collect(tmp_path, contract)
    assert report.ground_truth_records == 0 and report.incomplete_requests == {"multi": "labels for rows [0, 2] of 3"}
    assert report.labelled_rows == 2  # the rows themselves still train the next model
    _output(
        out, _input(contract, "multi", row=1, rows=3), [0], created=datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc)
    )
    report = _collect(tmp_path, contract)
    assert report.incomplete_requests == {}
    [record] = _ground_truth(tmp_path)
    assert record["groundTruthData"]["data"] == "1\n0\n1"  # one label per row, as the capture's rows
    # in the file of its first loop's creation hour
    assert (tmp_path / "gt/2024/05/01/10" / f"{FLOW}-2024050111.jsonl").is_file()


def test_outputs_that_are_not_this_projects_review_are_reported(tmp_path, contract):
    out = tmp_path / "out"
    other = _output(out, _input(contract, "ok"), [1], loop="other-template")
    document = json.loads(other.read_text())
    document["inputContent"] = {"text": "another template's input"}
    other.write_text(json.dumps(document))
    broken = _output(out, _input(contract, "broken"), [1])
    broken.write_text("{not json")
    stray = out / "not-a2i-layout" / "output.json"
    stray.parent.mkdir(parents=True)
    stray.write_text("{}")
    report = _collect(tmp_path, contract)
    assert set(report.not_review_input) == {"other-template", "broken-0", "not-a2i-layout/output.json"}
    assert "not this project's review input" in report.not_review_input["other-template"]
    assert report.ground_truth_records == 0 and not (tmp_path / "gt").exists()


def test_a_window_of_creation_times_covers_whole_hours(tmp_path, contract):
    out = tmp_path / "out"
    _output(out, _input(contract, "early"), [1], created=datetime(2024, 5, 1, 11, 5, tzinfo=timezone.utc))
    _output(out, _input(contract, "late"), [1], created=datetime(2024, 5, 1, 12, 55, tzinfo=timezone.utc))
    report = _collect(
        tmp_path, contract, start=datetime(2024, 5, 1, 11, 30, tzinfo=timezone.utc),
        end=datetime(2024, 5, 1, 11, 40, tzinfo=timezone.utc),
    )  # fmt: skip
    assert report.outputs == 1 and [r["eventMetadata"]["eventId"] for r in _ground_truth(tmp_path)] == ["early"]


def test_preprocess_adds_the_labelled_rows_to_training_only(tmp_path, contract):
    out = tmp_path / "out"
    for n in range(5):
        _output(out, _input(contract, f"ev-{n}"), [n % 2])
    _collect(tmp_path, contract)
    splits = split(to_model_frame(load_raw(contract, None), contract), contract)
    train = add_reviewed_rows(splits.train, tmp_path / "labels", contract)
    assert len(train) == len(splits.train) + 5
    added = train.tail(5)
    assert list(added["label"]) == [0, 1, 0, 1, 0] and added.iloc[0, 1:4].tolist() == [0.0, 1.0, 2.0]


def test_the_command_line_collects_local_folders_and_refuses_bad_input(tmp_path, contract, capsys):
    _output(tmp_path / "out", _input(contract, "ev-1"), [1])
    _output(tmp_path / "out", _input(contract, "tie"), [1, 0])
    args = ["--reviews-uri", str(tmp_path / "out"), "--ground-truth-uri", str(tmp_path / "gt")]
    args += ["--labels-uri", str(tmp_path / "labels")]
    assert main(args) == 0
    said = capsys.readouterr().out
    assert (
        "2 completed loop(s): 1 with a consensus label, 1 without" in said and "no consensus (disputed): tie-0" in said
    )
    assert main([*args[:1], str(tmp_path / "nothing"), *args[2:]]) == 0
    assert "nothing to collect" in capsys.readouterr().out
    assert main([*args, "--start", "tuesday"]) == 2
    assert "not an ISO-8601 time: 'tuesday'" in capsys.readouterr().err
    assert main([*args, "--start", "2024-05-01T12:00:00Z", "--end", "2024-05-01T11:00:00Z"]) == 2
    assert main([*args[:3], "ftp://x/gt", *args[4:]]) == 2
    assert "neither an s3:// URI nor a local path" in capsys.readouterr().err
