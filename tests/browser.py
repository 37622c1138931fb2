"""Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).

Tests skip, saying why, where /usr/bin/chromium is absent (`make browser` installs it); CI sets
MLOPS_BROWSER_TESTS=required, which turns that skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "Debian's Chromium (/usr/bin/chromium) is not installed: `make browser` (apt-get install chromium)"
    if os.environ.get("MLOPS_BROWSER_TESTS") == "required":
        pytest.fail(reason + " — and MLOPS_BROWSER_TESTS=required")
    pytest.skip(reason)
