"""SageMaker's human-review operations through boto3's own `sagemaker` client, in-process and over HTTP:
task UIs, flow definitions and RenderUiTemplate (the seed notebook's own template included), with
SageMaker's error codes for bad requests and nothing stored then."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from review.templates import task_template
from tests.offline.aws.a2i_helpers import BUCKET, ROLE, TEMPLATE, WORKTEAM, loop_input, make_flow

SEED_INPUT = {
    "table": "<table><tr><th>mean radius</th></tr><tr><td>17.99</td></tr></table>",
    "Pairs": [{"row": "ROW_0", "prediction": "<b>0.61</b>"}, {"row": "ROW_1", "prediction": 0.13}],
}


@pytest.fixture
def sm(aws):
    return aws.client("sagemaker")


@pytest.fixture
def unchecked(aws):
    """A client that sends what it is given, so the service's own validation answers."""
    return aws.client("sagemaker", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


def _error(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def _render(sm, task_input, **template) -> dict:
    return sm.render_ui_template(Task={"Input": json.dumps(task_input)}, RoleArn=ROLE, **template)


# -- task UIs -------------------------------------------------------------------------------------------


def test_a_task_ui_describes_its_template_by_url_and_sha256(aws, sm):
    arn = sm.create_human_task_ui(HumanTaskUiName="review-ui", UiTemplate={"Content": TEMPLATE})["HumanTaskUiArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/review-ui"
    described = sm.describe_human_task_ui(HumanTaskUiName="review-ui")
    assert (described["HumanTaskUiArn"], described["HumanTaskUiStatus"]) == (arn, "Active")
    template = described["UiTemplate"]
    assert template["ContentSha256"] == hashlib.sha256(TEMPLATE.encode()).hexdigest()
    url = urlsplit(template["Url"])
    copy = Path(url2pathname(url.path))
    assert url.scheme == "file" and copy.read_text(encoding="utf-8") == TEMPLATE
    assert copy.is_relative_to(aws.home)
    code, message = _error(sm.create_human_task_ui, HumanTaskUiName="review-ui", UiTemplate={"Content": "<p>x</p>"})
    assert code == "ResourceInUse" and "already exists" in message
    assert copy.read_text(encoding="utf-8") == TEMPLATE  # the refused create changed nothing
    assert [s["HumanTaskUiName"] for s in sm.list_human_task_uis()["HumanTaskUiSummaries"]] == ["review-ui"]
    sm.delete_human_task_ui(HumanTaskUiName="review-ui")
    assert _error(sm.describe_human_task_ui, HumanTaskUiName="review-ui")[0] == "ResourceNotFound"
    assert not copy.exists()


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"HumanTaskUiName": "Bad_Name", "UiTemplate": {"Content": "x"}}, "at 'humanTaskUiName'"),
        ({"HumanTaskUiName": "ok", "UiTemplate": {"Content": ""}}, "valid min length: 1"),
        ({"HumanTaskUiName": "ok", "UiTemplate": {"Content": "x" * 128_001}}, "length less than or equal to 128000"),
    ],
)
def test_bad_task_uis_are_validation_exceptions(sm, unchecked, request_, message):
    code, text = _error(unchecked.create_human_task_ui, **request_)
    assert code == "ValidationException" and message in text
    assert sm.list_human_task_uis()["HumanTaskUiSummaries"] == []


# -- flow definitions -----------------------------------------------------------------------------------


def test_a_flow_definition_is_active_and_describes_what_it_was_given(sm):
    arn = make_flow(sm, TaskTimeLimitInSeconds=600, TaskAvailabilityLifetimeInSeconds=3600, TaskKeywords=["review"])
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/review-flow"
    described = sm.describe_flow_definition(FlowDefinitionName="review-flow")
    assert described["FlowDefinitionStatus"] == "Active" and described["FlowDefinitionArn"] == arn
    assert described["HumanLoopConfig"]["TaskCount"] == 1 and described["HumanLoopConfig"]["TaskKeywords"] == ["review"]
    assert described["OutputConfig"] == {"S3OutputPath": f"s3://{BUCKET}/out"} and described["RoleArn"] == ROLE
    code, message = _error(make_flow, sm, ui=described["HumanLoopConfig"]["HumanTaskUiArn"])
    assert code == "ResourceInUse" and "already exists" in message


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"FlowDefinitionName": "Bad_Flow"}, "ValidationException", "at 'flowDefinitionName'"),
        ({"HumanLoopConfig.TaskCount": 4}, "ValidationException", "less than or equal to 3"),
        (
            {"HumanLoopConfig.HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/none"},
            "ValidationException",
            "does not exist",
        ),
        (
            {"OutputConfig.S3OutputPath": "https://bucket.s3.amazonaws.com/out"},
            "ValidationException",
            "writes to s3:// paths",
        ),
        ({"OutputConfig.S3OutputPath": "s3://Bad_Bucket/out"}, "ValidationException", "OutputConfig.S3OutputPath"),
        ({"RoleArn": "arn:aws:iam::123456789012:user/someone"}, "ValidationException", "at 'roleArn'"),
        (
            {"HumanLoopRequestSource": {"AwsManagedHumanLoopRequestSource": "AWS/Textract/AnalyzeDocument/Forms/V1"}},
            "ValidationException",
            "built-in task types",
        ),
    ],
)
def test_bad_flow_definitions_are_refused_and_store_nothing(sm, unchecked, change, code, message):
    ui = sm.create_human_task_ui(HumanTaskUiName="ui", UiTemplate={"Content": TEMPLATE})["HumanTaskUiArn"]
    request = {
        "FlowDefinitionName": "flow",
        "RoleArn": ROLE,
        "HumanLoopConfig": {
            "WorkteamArn": WORKTEAM,
            "HumanTaskUiArn": ui,
            "TaskCount": 1,
            "TaskTitle": "t",
            "TaskDescription": "d",
        },
        "OutputConfig": {"S3OutputPath": "s3://bucket/out"},
    }
    for key, value in change.items():
        outer, _, inner = key.partition(".")
        if inner:
            request[outer][inner] = value
        else:
            request[outer] = value
    got_code, text = _error(unchecked.create_flow_definition, **request)
    assert got_code == code and message in text
    assert sm.list_flow_definitions()["FlowDefinitionSummaries"] == []


def test_flow_definitions_list_newest_first_in_pages(sm):
    ui = sm.create_human_task_ui(HumanTaskUiName="ui", UiTemplate={"Content": TEMPLATE})["HumanTaskUiArn"]
    for i in range(12):
        make_flow(sm, name=f"flow-{i:02d}", ui=ui)
    pages = list(sm.get_paginator("list_flow_definitions").paginate(PaginationConfig={"PageSize": 5}))
    names = [s["FlowDefinitionName"] for page in pages for s in page["FlowDefinitionSummaries"]]
    assert [len(p["FlowDefinitionSummaries"]) for p in pages] == [5, 5, 2]
    assert names == [f"flow-{i:02d}" for i in reversed(range(12))]
    ascending = sm.list_flow_definitions(SortOrder="Ascending", MaxResults=2)["FlowDefinitionSummaries"]
    assert [s["FlowDefinitionName"] for s in ascending] == ["flow-00", "flow-01"]
    assert set(ascending[0]) == {"FlowDefinitionName", "FlowDefinitionArn", "FlowDefinitionStatus", "CreationTime"}


def test_deleting_a_flow_definition_deletes_its_loops_unless_workers_started_on_them(aws, sm):
    from offline.aws.a2i.loops import HumanLoops

    flow = make_flow(sm, aws.client("s3"), task_count=2)
    a2i = aws.client("sagemaker-a2i-runtime")
    for name in ("untouched", "half-done"):
        a2i.start_human_loop(HumanLoopName=name, FlowDefinitionArn=flow, HumanLoopInput=loop_input(name=name))
    HumanLoops.for_home(aws.home).answer("us-east-1", "half-done", "ana", {"n": 1})
    code, message = _error(sm.delete_flow_definition, FlowDefinitionName="review-flow")
    assert code == "ResourceInUse" and "half-done" in message
    assert len(a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]) == 2
    a2i.stop_human_loop(HumanLoopName="half-done")
    sm.delete_flow_definition(FlowDefinitionName="review-flow")
    assert _error(sm.describe_flow_definition, FlowDefinitionName="review-flow")[0] == "ResourceNotFound"
    assert _error(a2i.describe_human_loop, HumanLoopName="untouched")[0] == "ResourceNotFoundException"
    assert HumanLoops.for_home(aws.home).loops() == []
    assert _error(sm.delete_flow_definition, FlowDefinitionName="review-flow")[0] == "ResourceNotFound"


# -- RenderUiTemplate -----------------------------------------------------------------------------------


def test_the_seed_notebooks_own_template_renders(sm, reference_dir):
    path = reference_dir / "a2i" / "tabular_review_template.liquid.html"
    if not path.exists():
        pytest.skip("the seed's template is not in the reference folder")
    rendered = _render(sm, SEED_INPUT, UiTemplate={"Content": path.read_text()})
    assert rendered["Errors"] == []
    html = rendered["RenderedContent"]
    assert '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>' in html
    assert SEED_INPUT["table"] in html  # skip_autoescape: the caller's table, as it is
    assert "&lt;b&gt;0.61&lt;/b&gt;" in html and "<b>0.61</b>" not in html  # autoescape elsewhere
    for name in ("predicted1", "predicted2", "rating1", "rating2", "ROW_0", "ROW_1"):
        assert name in html
    assert html.count('name="True Prediction"') == 2  # the seed's bug, rendered as A2I renders it


def test_the_projects_template_renders_from_a_task_ui(sm):
    arn = sm.create_human_task_ui(HumanTaskUiName="project-ui", UiTemplate={"Content": task_template()})[
        "HumanTaskUiArn"
    ]
    task = {
        "endpoint": "ep",
        "eventId": "e-1",
        "inferenceId": None,
        "inferenceTime": "2024-05-01T10:00:00Z",
        "rowIndex": 0,
        "reason": "review",
        "probability": 0.4,
        "predictedLabel": 0,
        "features": {"mean radius": 14.2},
        "label": {
            "name": "diagnosis",
            "positive": {"value": 1, "name": "malignant"},
            "negative": {"value": 0, "name": "benign"},
        },
    }
    rendered = _render(sm, task, HumanTaskUiArn=arn)
    assert rendered["Errors"] == [] and "<th>mean radius</th>" in rendered["RenderedContent"]
    assert "benign (0)" in rendered["RenderedContent"]


def test_templates_that_do_not_parse_or_render_come_back_as_errors(sm):
    broken = _render(sm, {"text": "x"}, UiTemplate={"Content": "<p>{{ task.input.text }}</p>{% if task.input %}"})
    assert broken["RenderedContent"] == "" and broken["Errors"][0]["Code"] == "LiquidSyntaxError"
    assert "if" in broken["Errors"][0]["Message"]
    unknown = _render(sm, {"text": "x"}, UiTemplate={"Content": "{{ task.input.text | no_such_filter }}"})
    assert unknown["Errors"][0]["Code"] == "UnknownFilterError"


def test_a2is_filters_and_autoescape(sm):
    content = (
        "{{ task.input.html }}|{{ task.input.html | skip_autoescape }}|{{ task.input.obj | to_json }}|"
        "{{ task.input.obj | to_json | skip_autoescape }}|{{ task.input.image | grant_read_access }}|"
        "{{ task.input.web | grant_read_access }}|{{ task.input.missing }}"
    )
    task = {"html": "<i>x</i>", "obj": {"a": "<b>"}, "image": f"s3://{BUCKET}/img/1.png", "web": "https://x/y"}
    parts = _render(sm, task, UiTemplate={"Content": content})["RenderedContent"].split("|")
    assert parts[:4] == ["&lt;i&gt;x&lt;/i&gt;", "<i>x</i>", "{&#34;a&#34;: &#34;&lt;b&gt;&#34;}", '{"a": "<b>"}']
    assert parts[4].startswith("file://") and parts[4].endswith(f"/s3/{BUCKET}/img/1.png")
    assert parts[5:] == ["https://x/y", ""]


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            {"UiTemplate": {"Content": "x"}, "Task": {"Input": "not json"}},
            "ValidationException",
            "Task.Input is not valid JSON",
        ),
        ({"Task": {"Input": "{}"}}, "ValidationException", "exactly one of UiTemplate and HumanTaskUiArn"),
        (
            {
                "UiTemplate": {"Content": "x"},
                "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/u",
                "Task": {"Input": "{}"},
            },
            "ValidationException",
            "exactly one of",
        ),
        (
            {"HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/none", "Task": {"Input": "{}"}},
            "ResourceNotFound",
            "does not exist",
        ),
    ],
)
def test_bad_render_requests_get_sagemakers_errors(unchecked, request_, code, message):
    got, text = _error(unchecked.render_ui_template, RoleArn=ROLE, **request_)
    assert got == code and message in text
