"""The demo report in Debian's Chromium (Playwright): it renders offline, with both windows and every chart
laid out at a real size. Skipped, saying why, where /usr/bin/chromium is absent (`make browser` installs
it); CI sets MLOPS_BROWSER_TESTS=required, which turns that skip into a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from offline.demo_report import write_demo_report
from tests.browser import ARGS, CHROMIUM, require_chromium

pytestmark = pytest.mark.slow


def test_the_report_renders_in_chromium_with_both_windows(demo, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    home, summary, _ = demo
    report = write_demo_report(home, summary, tmp_path / "report.html")
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            boxes = [svg.bounding_box() for svg in page.locator("svg.chart").all()]
            text = page.inner_text("body")
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert requests == [report.as_uri()] and not errors  # nothing fetched but the page itself
    assert len(boxes) == 5 and all(box and box["width"] > 200 and box["height"] > 100 for box in boxes), boxes
    assert "window 1 (Robust): 0 flagged" in text and "window 2 (Robust)" in text
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("MLOPS_TEST_ARTIFACTS"):  # kept for a person to look at, as the portal's screenshots are
        artifacts = Path(os.environ["MLOPS_TEST_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / "demo-report.png").write_bytes(shot.read_bytes())
