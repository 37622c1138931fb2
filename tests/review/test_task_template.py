"""The project's task template: one prediction per loop, everything about the dataset read from the loop's
input (so a swapped-in data contract renders unchanged), values escaped, crowd elements only, A2I's crowd
script and no other, and element names that submit exactly what `processing.review.answers` reads."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from processing.contract import DEFAULT_PATH, load_contract
from processing.review.answers import (
    AGREE,
    DISAGREE,
    LABEL_NEGATIVE,
    LABEL_POSITIVE,
    REASON,
    answer_content,
    parse_review,
)
from processing.review.task_input import build_review_input
from review.rendering import check_template, render
from review.templates import task_template

CROWD_SCRIPT = "https://assets.crowd.aws/crowd-html-elements.js"


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())

    def named(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.tags if t == tag]


def _input(contract, **changes) -> dict:
    values = [float(i) + 0.5 for i in range(len(contract.features))]
    fields = {
        "endpoint": "breast-cancer-endpoint",
        "event_id": "9f1c2b6e-0b7a-4f51-9d7e-0d6c1f1b2a3c",
        "inference_id": None,
        "inference_time": "2024-05-01T10:00:00Z",
        "row_index": 3,
        "reason": "review",
        "probability": 0.6123456,
        "predicted_label": 1,
        "features": values,
        **changes,
    }
    return build_review_input(contract, **fields)


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """Another binary-classification dataset's contract: other features, other label and class names."""
    original = json.loads(DEFAULT_PATH.read_text())
    original.update(
        dataset="churn",
        label={"column": "churn", "positive": "churned", "negative": "stayed"},
        features=["tenure <months>", 'plan "gold"', "calls & texts"],
    )
    path = tmp_path_factory.mktemp("contract") / "data_contract.json"
    path.write_text(json.dumps(original))
    return load_contract(path)


def test_the_template_parses_and_names_nothing_of_the_dataset():
    source = task_template()
    assert check_template(source) == []
    for word in ("malignant", "benign", "diagnosis", "radius", "cancer"):
        assert word not in source.lower()


def test_it_renders_every_feature_of_the_contract_in_order(contract):
    html = render(task_template(), _input(contract)).html
    page = Elements(html)
    headers = [t for t in page.text if t in contract.features]
    assert headers == list(contract.features)
    assert "0.6123" in html and "malignant (1)" in html and "Your diagnosis" in html


def test_a_swapped_in_dataset_renders_unchanged(swapped):
    rendered = render(task_template(), _input(swapped, predicted_label=0))
    assert rendered.errors == []
    page = Elements(rendered.html)
    assert [t for t in page.text if t in swapped.features] == list(swapped.features)  # escaped, unescaped by the parser
    assert "tenure &lt;months&gt;" in rendered.html and "plan &#34;gold&#34;" in rendered.html
    buttons = {b["name"]: (b["value"], b) for b in page.named("crowd-radio-button")}
    assert buttons[LABEL_POSITIVE][0] == "1" and buttons[LABEL_NEGATIVE][0] == "0"
    assert "churned (1)" in page.text and "stayed (0)" in page.text and "Your churn" in page.text
    assert "Predicted churn" in page.text and "stayed (0)" in rendered.html


def test_values_are_escaped_even_in_attributes(contract):
    hostile = _input(contract, endpoint="<script>alert(1)</script>", event_id='"><img src=x onerror=alert(2)>')
    hostile["label"]["positive"]["value"] = '1" onmouseover="alert(3)'
    html = render(task_template(), hostile).html
    page = Elements(html)
    assert [t for t, _ in page.tags].count("script") == 1 and not page.named("img")
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_crowd_elements_only_and_no_cdn_but_a2is(contract):
    page = Elements(render(task_template(), _input(contract)).html)
    tags = {t for t, _ in page.tags}
    assert {"crowd-form", "crowd-radio-group", "crowd-radio-button", "crowd-text-area"} <= tags
    assert not tags & {"form", "input", "select", "textarea", "button", "iframe", "link"}
    assert all(t.startswith("crowd-") for t in tags if "-" in t)
    assert [attrs.get("src") for attrs in page.named("script")] == [CROWD_SCRIPT]
    urls = re.findall(r"(?:src|href)\s*=\s*\"([^\"]+)\"", task_template())
    assert urls == [CROWD_SCRIPT]


def test_each_answer_element_has_a_unique_name(contract):
    page = Elements(render(task_template(), _input(contract)).html)
    names = [attrs["name"] for tag, attrs in page.tags if tag in ("crowd-radio-button", "crowd-text-area")]
    assert sorted(names) == sorted([LABEL_POSITIVE, LABEL_NEGATIVE, AGREE, DISAGREE, REASON])


def _submit(html: str, label_value: str, agreement: str, reason: str) -> dict:
    """What crowd-form submits as taskAnswers[0] (DG: each crowd-radio-button gives {name: {value: checked}},
    crowd-text-area its text), for a worker who picked these."""
    page = Elements(html)
    answer = {}
    for button in page.named("crowd-radio-button"):
        chosen = button["value"] in (label_value, agreement)
        answer[button["name"]] = {button["value"]: chosen}
    for area in page.named("crowd-text-area"):
        answer[area["name"]] = reason
    return answer


@pytest.mark.parametrize(("label", "predicted"), [(1, 1), (0, 1), (0, 0), (1, 0)])
def test_the_cli_records_exactly_what_the_form_submits(contract, label, predicted):
    task = _input(contract, predicted_label=predicted)
    html = render(task_template(), task).html
    agreement = AGREE if label == predicted else DISAGREE
    submitted = _submit(html, str(label), agreement, "texture looked irregular")
    assert submitted == answer_content(label, task, "texture looked irregular")
    said = parse_review(submitted)
    assert (said.label, said.agrees, said.reason) == (label, label == predicted, "texture looked irregular")
