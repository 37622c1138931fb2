"""The portal in Debian's Chromium (Playwright), against a real `mlops review serve` process: signing in,
reviewing with the keyboard and the mouse, output.json, the seed notebook's own template, two reviewers'
consensus, a tie's escalation, refusals (a wrong secret, a POST without its CSRF token) and values that
must show as text and run nothing. Screenshots of the task page are kept in test-artifacts/.

Skipped, saying why, where /usr/bin/chromium is absent (`make browser` installs it); CI installs it and
sets MLOPS_BROWSER_TESTS=required, which turns that skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offline.aws import local_session
from review.portal.workforce import Workforce
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.conftest import REPO
from tests.review.portal.portal_helpers import label_answer, make_flow, review_input, start

ARTIFACTS = Path(os.environ.get("MLOPS_TEST_ARTIFACTS", REPO / "test-artifacts"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A home with flows on team default (TaskCount 1 and 2), four workers, and the portal serving it."""
    require_chromium()
    home = tmp_path_factory.mktemp("portal") / "home"
    aws = local_session(home)
    flows = {"single": make_flow(aws, "single", task_count=1), "double": make_flow(aws, "double", task_count=2)}
    workforce = Workforce.for_home(home)
    secrets = {name: workforce.add_worker(name).secret for name in ("ana", "ben", "cy", "dee")}
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlops"), "review", "serve", "--port", "0"],
            env={**os.environ, "MLOPS_HOME": str(home), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = _wait_for_url(log, process)
        yield {"home": home, "aws": aws, "flows": flows, "secrets": secrets, "url": url, "log": log}
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert not any(secret in log.read_text() for secret in secrets.values()), "a secret reached the portal's log"


def _wait_for_url(log: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Serving the review portal on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"mlops review serve ended: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise AssertionError("mlops review serve printed no URL within 60 s")


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Reviewer:
    """One worker's browser context: signs in through the form, records dialogs and page errors."""

    def __init__(self, browser, site, worker: str, **context):
        self.site, self.worker = site, worker
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def sign_in(self, secret: str | None = None):
        page = self.page
        page.goto(f"{self.site['url']}/login")
        page.fill("input[name=worker]", self.worker)
        page.fill("input[name=secret]", secret or self.site["secrets"][self.worker])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        return page

    def open(self, loop: str):
        self.page.goto(f"{self.site['url']}/tasks/{loop}")
        self.page.wait_for_load_state()
        return self.page

    def submit(self, loop: str) -> int:
        with self.page.expect_response(lambda r: r.request.method == "POST" and f"/tasks/{loop}" in r.url) as sent:
            self.page.get_by_role("button", name=re.compile("submit", re.I)).click()
        self.page.wait_for_load_state()
        return sent.value.status

    def close(self):
        self.context.close()


def _describe(site, loop: str) -> dict:
    return site["aws"].client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName=loop)


def _output(site, loop: str) -> dict:
    uri = _describe(site, loop)["HumanLoopOutput"]["OutputS3Uri"]
    return json.loads((site["home"] / "s3" / uri[len("s3://") :]).read_bytes())


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def test_sign_in_review_with_the_keyboard_and_submit_writes_output_json(site, browser):
    start(site["aws"], "keys-1", site["flows"]["single"], review_input(probability=0.51))
    ana = Reviewer(browser, site, "ana", viewport={"width": 1280, "height": 800})
    try:
        page = ana.sign_in()
        assert page.url.endswith("/tasks")
        assert re.search(r"\d+ tasks? left", page.inner_text("#tasks-left"))
        with page.expect_navigation():
            page.click("#start")  # the most uncertain task first
        assert page.url.endswith("/tasks/keys-1")
        page.keyboard.press("0")  # the negative class; the model said 1, so "disagree" follows
        page.fill("crowd-text-area[name=reason] textarea", "smooth, regular margins")
        _screenshot(page, "portal-task-1280x800.png")
        with page.expect_response(lambda r: r.request.method == "POST") as sent:
            page.keyboard.press("Control+Enter")
        assert sent.value.status == 303
        assert _describe(site, "keys-1")["HumanLoopStatus"] == "Completed"
        (answer,) = _output(site, "keys-1")["humanAnswers"]
        assert answer["answerContent"] == label_answer(0, predicted=1, reason="smooth, regular margins")
        assert not ana.dialogs and not ana.errors
    finally:
        ana.close()


def test_a_phone_sized_screen_shows_the_task_and_its_submit_button(site, browser):
    start(site["aws"], "phone-1", site["flows"]["single"], review_input(probability=0.7))
    ben = Reviewer(browser, site, "ben", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        ben.sign_in()
        page = ben.open("phone-1")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
        _screenshot(page, "portal-task-phone.png")
        page.get_by_role("radio", name="malignant (1)").click()
        assert ben.submit("phone-1") == 303
        assert _output(site, "phone-1")["humanAnswers"][0]["answerContent"] == label_answer(1, predicted=1)
    finally:
        ben.close()


def test_two_reviewers_reach_consensus_and_a_tie_escalates_to_a_third(site, browser):
    from processing.review.answers import parse_label
    from processing.review.consensus import consensus

    for loop in ("agreed-1", "tied-1"):
        start(site["aws"], loop, site["flows"]["double"], review_input(eventId=loop, probability=0.4))
    votes = {
        "ana": {"agreed-1": "malignant (1)", "tied-1": "malignant (1)"},
        "ben": {"agreed-1": "malignant (1)", "tied-1": "benign (0)"},
    }
    for worker, choices in votes.items():
        reviewer = Reviewer(browser, site, worker)
        try:
            reviewer.sign_in()
            for loop, choice in choices.items():
                page = reviewer.open(loop)
                assert "humanAnswers" not in page.content()
                page.get_by_role("radio", name=choice).click()
                assert reviewer.submit(loop) == 303
        finally:
            reviewer.close()
    assert _describe(site, "agreed-1")["HumanLoopStatus"] == "Completed"
    agreed = consensus(parse_label(a["answerContent"]) for a in _output(site, "agreed-1")["humanAnswers"])
    assert (agreed.status, agreed.label, agreed.unanimous) == ("agreed", 1, True)
    assert _describe(site, "tied-1")["HumanLoopStatus"] == "InProgress"  # 1-1: one more reviewer
    cy = Reviewer(browser, site, "cy")
    try:
        cy.sign_in()
        page = cy.open("tied-1")
        page.get_by_role("radio", name="benign (0)").click()
        assert cy.submit("tied-1") == 303
    finally:
        cy.close()
    answers = _output(site, "tied-1")["humanAnswers"]
    assert len(answers) == 3 and len({a["workerId"] for a in answers}) == 3
    decided = consensus(parse_label(a["answerContent"]) for a in answers)
    assert (decided.status, decided.label) == ("agreed", 0)


def test_a_wrong_secret_is_refused(site, browser):
    dee = Reviewer(browser, site, "dee")
    try:
        page = dee.sign_in(secret="not-" + site["secrets"]["dee"])
        assert page.url.endswith("/login")
        assert "Wrong worker name or secret." in page.inner_text("[role=alert]")
        page.goto(f"{site['url']}/tasks")
        assert page.url.endswith("/login")  # still signed out
    finally:
        dee.close()


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(site, browser):
    start(site["aws"], "csrf-1", site["flows"]["single"])
    ana = Reviewer(browser, site, "ana")
    try:
        ana.sign_in()
        response = ana.page.request.post(
            f"{site['url']}/tasks/csrf-1", form={"taskAnswers": json.dumps([label_answer(1)])}, max_redirects=0
        )
        assert response.status == 403
        assert _describe(site, "csrf-1")["HumanLoopStatus"] == "InProgress"
    finally:
        ana.close()


SCRIPTED = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
    "<crowd-form><p id=text>{{ task.input.text }}</p><div id=raw>{{ task.input.raw | skip_autoescape }}</div>"
    '<crowd-radio-group><crowd-radio-button name="yes" value="yes">Agree</crowd-radio-button>'
    '<crowd-radio-button name="no" value="no">Disagree</crowd-radio-button></crowd-radio-group></crowd-form>'
)


def test_script_and_onerror_values_show_as_text_and_run_nothing(site, browser):
    flow = make_flow(site["aws"], "scripted", task_count=1, template=SCRIPTED)
    text = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    # skip_autoescape is the template author's choice: the Content-Security-Policy still runs none of it
    raw = '<img src=x onerror="window.__pwned=1;alert(3)"><script>window.__pwned=2;alert(4)</script>'
    start(site["aws"], "xss-1", flow, {"text": text, "raw": raw})
    start(site["aws"], "xss-2", make_flow(site["aws"], "features"), review_input(features={"mean radius": text}))
    ana = Reviewer(browser, site, "ana")
    try:
        ana.sign_in()
        page = ana.open("xss-1")
        assert page.inner_text("#text") == text
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")  # the broken image's error is past
        assert page.evaluate("window.__pwned === undefined")
        page = ana.open("xss-2")
        assert text in page.inner_text("body")
        assert not ana.dialogs and not ana.errors
    finally:
        ana.close()


ALL_ELEMENTS = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-instructions link-text="How to review"><short-summary>Read, then choose.</short-summary></crowd-instructions>
  <crowd-alert type="warning">{{ task.input.warning }}</crowd-alert>
  <crowd-classifier name="category" categories="['Fraud', 'Not fraud']" header="What is it?">
    <classification-target>{{ task.input.text }}</classification-target>
  </crowd-classifier>
  <crowd-radio-group>
    <crowd-radio-button name="btn1" value="yes">Yes</crowd-radio-button>
    <crowd-radio-button name="btn2" value="no">No</crowd-radio-button>
  </crowd-radio-group>
  <crowd-checkbox name="flags" value="urgent">Urgent</crowd-checkbox>
  <crowd-checkbox name="flags" value="odd">Odd</crowd-checkbox>
  <crowd-input name="amount" label="Amount"></crowd-input>
  <crowd-text-area name="notes" label="Notes" value="prefilled"></crowd-text-area>
  <crowd-button form-action="submit" variant="primary">Submit the review</crowd-button>
</crowd-form>"""


def test_each_crowd_element_submits_its_documented_shape(site, browser):
    flow = make_flow(site["aws"], "elements", task_count=1, template=ALL_ELEMENTS)
    start(site["aws"], "elements-1", flow, {"text": "a purchase at 3 am", "warning": "Check the amount."})
    dee = Reviewer(browser, site, "dee")
    try:
        dee.sign_in()
        page = dee.open("elements-1")
        assert page.get_by_role("alert").inner_text().startswith("Check the amount.")
        assert page.get_by_role("button", name=re.compile("submit", re.I)).count() == 1  # no second one added
        posts = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.get_by_role("button", name="Submit the review").click()  # the classifier requires a choice
        assert page.evaluate("document.querySelector('crowd-form form').checkValidity()") is False
        page.get_by_text("Fraud", exact=True).click()
        page.get_by_text("Yes", exact=True).click()
        page.get_by_text("Odd", exact=True).click()
        page.fill("crowd-input[name=amount] input", "12.50")
        page.fill("crowd-text-area[name=notes] textarea", "looks odd")
        with page.expect_response(lambda r: r.request.method == "POST") as sent:
            page.get_by_role("button", name="Submit the review").click()
        assert sent.value.status == 303
        assert len(posts) == 1  # the first click sent nothing
        (answer,) = _output(site, "elements-1")["humanAnswers"]
        assert answer["answerContent"] == {
            "category": {"label": "Fraud"},
            "btn1": {"yes": True},
            "btn2": {"no": False},
            "flags": {"urgent": False, "odd": True},
            "amount": "12.50",
            "notes": "looks odd",
        }
        assert not dee.dialogs and not dee.errors
    finally:
        dee.close()


def test_the_seed_notebooks_template_renders_and_submits(site, browser, reference_dir):
    template = (reference_dir / "a2i" / "tabular_review_template.liquid.html").read_text()
    flow = make_flow(site["aws"], "seed", task_count=1, template=template)
    table = "<table><tr><th>mean radius</th></tr><tr><td>17.99</td></tr></table>"
    pairs = [{"row": "ROW_0", "prediction": 0.53}, {"row": "ROW_1", "prediction": "<b>0.61</b>"}]
    start(site["aws"], "seed-1", flow, {"table": table, "Pairs": pairs})
    cy = Reviewer(browser, site, "cy")
    try:
        cy.sign_in()
        page = cy.open("seed-1")
        assert page.locator("#my_table table td").inner_text() == "17.99"  # skip_autoescape: the table stays HTML
        page.check("#agree1")
        page.check("#disagree2")
        page.locator("input[name='True Prediction']").nth(1).fill("0")
        assert cy.submit("seed-1") == 303
        (answer,) = _output(site, "seed-1")["humanAnswers"]
        content = answer["answerContent"]
        assert content["rating1"] == {"agree": True, "disagree": False}
        assert content["rating2"] == {"agree": False, "disagree": True}
        assert content["predicted1"] == "0.53" and content["predicted2"] == "<b>0.61</b>"
        assert content["True Prediction"] == "0"  # the template repeats the name on every row: the last one wins
    finally:
        cy.close()
