"""What the browser tests share: where Chromium is, and the guard that skips (locally) or
fails (in CI) when Chromium or Playwright is missing, so no browser group is skipped
silently in CI."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = os.environ.get("REMISSION_TEST_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_browser() -> None:
    missing = []
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing.append(f"chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if missing:
        msg = "browser test needs " + " and ".join(missing)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
