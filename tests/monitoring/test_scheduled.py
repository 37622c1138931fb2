"""A scheduled execution of the analyzer: its window, the hour-by-hour S3 reads, the CloudWatch
publisher, and the whole run (botocore's Stubber stands in for S3 and CloudWatch; image packages only)."""

from __future__ import annotations

import io
import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from processing.monitoring.cloudwatch import PublishError, publish
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.s3_source import S3ReadError, stage_hours
from processing.monitoring.schedule_window import parse_offset, window_for

pytestmark = pytest.mark.image
UTC = timezone.utc


def stubbed(service: str):
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-PT1H", timedelta(hours=-1)),
        ("-PT0H", timedelta(0)),
        ("-P1D", timedelta(days=-1)),
        ("-P1DT2H30M", -timedelta(days=1, hours=2, minutes=30)),
        ("PT90S", timedelta(seconds=90)),
        ("-P2W", timedelta(weeks=-2)),
    ],
)
def test_offsets(text, expected):
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["", "P", "-PT", "1H", "-P1Y", "-PT1.5H", "PT-1H"])
def test_bad_offsets(text):
    with pytest.raises(MonitorInputError, match="not an ISO-8601 duration"):
        parse_offset(text)


def test_window_of_an_hourly_execution():
    window = window_for("2026-03-01T05:15:42Z")
    assert window.scheduled == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert (window.start, window.end) == (datetime(2026, 3, 1, 4, tzinfo=UTC), datetime(2026, 3, 1, 5, tzinfo=UTC))
    assert window.folder == "2026/03/01/05"
    late = window_for("2026-03-01T05:00:00Z", "-P1D", "-PT1H")
    assert (late.start, late.end) == (datetime(2026, 2, 28, 5, tzinfo=UTC), datetime(2026, 3, 1, 4, tzinfo=UTC))


@pytest.mark.parametrize(
    "start, end, message",
    [("-PT1H", "-PT2H", "is empty"), ("-PT1H", "PT1H", "points after the scheduled time")],
)
def test_bad_windows(start, end, message):
    with pytest.raises(MonitorInputError, match=message):
        window_for("2026-03-01T05:00:00Z", start, end)


def listing(keys: list[str]) -> dict:
    return {"Contents": [{"Key": k, "Size": 3} for k in keys], "IsTruncated": False, "KeyCount": len(keys)}


def test_stage_hours_lists_only_the_windows_hour_prefixes(tmp_path):
    s3, stubber = stubbed("s3")
    root = "datacapture/ep"
    stubber.add_response(
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": f"{root}/AllTraffic/"}, {"Prefix": f"{root}/Shadow/"}], "IsTruncated": False},
        {"Bucket": "bkt", "Prefix": f"{root}/", "Delimiter": "/"},
    )
    for variant in ("AllTraffic", "Shadow"):
        for hour in ("03", "04"):
            prefix = f"{root}/{variant}/2026/03/01/{hour}/"
            keys = [f"{prefix}00-00-000-a.jsonl", f"{prefix}notes.txt"] if variant == "AllTraffic" else []
            stubber.add_response("list_objects_v2", listing(keys), {"Bucket": "bkt", "Prefix": prefix})
            for key in keys[:1]:
                from botocore.response import StreamingBody

                stubber.add_response(
                    "get_object", {"Body": StreamingBody(io.BytesIO(b"{}\n"), 3)}, {"Bucket": "bkt", "Key": key}
                )
    start, end = datetime(2026, 3, 1, 3, 30, tzinfo=UTC), datetime(2026, 3, 1, 5, tzinfo=UTC)

    staged = stage_hours(s3, "s3://bkt/datacapture/ep", start, end, tmp_path / "endpoint")

    stubber.assert_no_pending_responses()
    assert (staged.prefixes, staged.objects) == (4, 2)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "endpoint/AllTraffic/2026/03/01/03/00-00-000-a.jsonl",
        "endpoint/AllTraffic/2026/03/01/04/00-00-000-a.jsonl",
    ]


def test_stage_hours_reports_s3_refusals_and_escaping_keys(tmp_path):
    s3, stubber = stubbed("s3")
    stubber.add_client_error("list_objects_v2", "AccessDenied", "no", 403)
    hour = datetime(2026, 3, 1, 4, tzinfo=UTC)
    with pytest.raises(S3ReadError, match="cannot list s3://bkt/gt: AccessDenied"):
        stage_hours(s3, "s3://bkt/gt", hour, hour + timedelta(hours=1), tmp_path)
    stubber.add_response("list_objects_v2", {"CommonPrefixes": [{"Prefix": "gt/2026/"}], "IsTruncated": False})
    stubber.add_response("list_objects_v2", listing(["gt/2026/03/01/04/../../../../../../evil.jsonl"]))
    with pytest.raises(S3ReadError, match="outside the staging folder"):
        stage_hours(s3, "s3://bkt/gt", hour, hour + timedelta(hours=1), tmp_path / "x")
    with pytest.raises(MonitorInputError, match="Invalid bucket name"):
        stage_hours(s3, "s3://Not_A_Bucket/x", hour, hour, tmp_path)


def test_publish_batches_and_skips_values_cloudwatch_rejects():
    cloudwatch, stubber = stubbed("cloudwatch")
    dims = [{"Name": "Endpoint", "Value": "ep"}, {"Name": "MonitoringSchedule", "Value": "ep-data-quality"}]
    lines = [
        {"MetricName": f"feature_non_null__c{i}", "Timestamp": "2026-03-01T05:00:00Z", "Dimensions": dims, "Value": 1.0, "Unit": "None"}
        for i in range(501)
    ]  # fmt: skip
    lines.append({**lines[0], "MetricName": "feature_baseline_drift__c9", "Value": math.nan})
    when = datetime(2026, 3, 1, 5, tzinfo=UTC)
    for chunk in (lines[:500], lines[500:501]):
        expected = [{**line, "Timestamp": when} for line in chunk]
        stubber.add_response(
            "put_metric_data", {}, {"Namespace": "aws/sagemaker/Endpoints/data-metrics", "MetricData": expected}
        )

    result = publish(cloudwatch, "aws/sagemaker/Endpoints/data-metrics", lines)

    stubber.assert_no_pending_responses()
    assert (result.metrics, result.requests, result.skipped) == (501, 2, 1)
    stubber.add_client_error("put_metric_data", "InvalidParameterValue", "bad", 400)
    with pytest.raises(PublishError, match="PutMetricData to ns failed: InvalidParameterValue"):
        publish(cloudwatch, "ns", lines[:1])


def test_a_scheduled_run_writes_the_hours_folder_and_publishes(tmp_path, capsys):
    from processing.analyze import main
    from processing.monitoring.api import suggest_baseline
    from processing.monitoring.readers import DatasetFormat

    data = "".join(f"0.{i % 9 + 1},{i % 2},{i * 0.5},{10 - i % 3}\n" for i in range(60))
    (tmp_path / "train.csv").write_text(data)
    suggest_baseline(tmp_path / "train.csv", DatasetFormat("csv", header=False), tmp_path / "baseline")
    capture = tmp_path / "capture" / "AllTraffic" / "2026" / "03" / "01"
    for hour, count in (("04", 12), ("05", 5)):
        (capture / hour).mkdir(parents=True)
        records = [
            {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": f"{i},9", "encoding": "CSV"},
             "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5,1", "encoding": "CSV"}},
             "eventMetadata": {"eventId": f"{hour}-{i}", "inferenceTime": f"2026-03-01T{hour}:0{i % 10}:00Z"}, "eventVersion": "0"}
            for i in range(count)
        ]  # fmt: skip
        (capture / hour / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    cloudwatch, stubber = stubbed("cloudwatch")
    stubber.add_response("put_metric_data", {})
    import processing.monitoring.scheduled as scheduled

    settings_env = {
        "scheduled_time": "2026-03-01T05:20:00Z",
        "dataset_source": str(tmp_path / "capture"),
        "dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
        "output_path": str(tmp_path / "out"),
        "baseline_constraints": str(tmp_path / "baseline" / "constraints.json"),
        "baseline_statistics": str(tmp_path / "baseline" / "statistics.json"),
        "publish_cloudwatch_metrics": "Enabled",
        "metrics_path": str(tmp_path / "metrics"),
        "message_file": str(tmp_path / "message"),
        "sagemaker_endpoint_name": "ep",
        "sagemaker_monitoring_schedule_name": "ep-data-quality",
    }
    original = scheduled._client
    scheduled._client = lambda service: cloudwatch
    try:
        code = main([f"--{k.replace('_', '-')}={v}" for k, v in settings_env.items()])
    finally:
        scheduled._client = original

    assert code == 0
    stubber.assert_no_pending_responses()
    folder = tmp_path / "out" / "2026" / "03" / "01" / "05"
    statistics = json.loads((folder / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 12  # hour 04 only
    assert (folder / "constraint_violations.json").is_file()
    assert "published" in capsys.readouterr().out


def test_a_scheduled_run_with_a_bad_offset_fails_with_a_message(tmp_path):
    from processing.analyze import main

    code = main(["--scheduled-time=2026-03-01T05:00:00Z", "--start-time-offset=yesterday",
                 f"--message-file={tmp_path / 'message'}", "--dataset-source=x", "--output-path=y"])  # fmt: skip
    assert code == 2
    assert (tmp_path / "message").read_text().startswith("Failed: not an ISO-8601 duration: 'yesterday'")
