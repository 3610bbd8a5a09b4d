"""The HTML report opened from disk in headless Chromium (issue "Explained to people", "Done
when": the plots rendered and no console error occurred).

Needs Debian's ``chromium`` (``/usr/bin/chromium``, or the path in
``REMISSION_TEST_CHROMIUM``) and the ``playwright`` Python package, driven against that
system binary (no browser download). In CI (``CI=true``) a missing browser is a failure;
locally the test is skipped with the reason.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from browser_support import CHROMIUM, need_browser

from remission import assess
from remission.report.html import write_report

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: subjects of the example with different plots: PR, CR + recurrence + second line, stated
#: responses only, never assessed, WHO
SUBJECTS = ("EX01", "EX19", "EX35", "EX39", "EX20", "EX27")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_path(tmp_path_factory) -> tuple[Path, int]:
    need_browser()
    src = tmp_path_factory.mktemp("data")
    for csv in EXAMPLE.glob("*.csv"):
        if csv.name != "expected.csv":
            f = pl.read_csv(csv, infer_schema=False)
            f.filter(pl.col("subject_id").is_in(SUBJECTS)).write_csv(src / csv.name)
    result = assess(src)
    return write_report(result, tmp_path_factory.mktemp("html") / "report.html"), result.summary.height


def test_report_renders_in_headless_chromium(report_path):
    need_browser()
    from playwright.sync_api import sync_playwright

    path, n_subjects = report_path
    console_errors: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            images = page.evaluate(
                """() => Array.from(document.images).map(i => ({
                        complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt}))"""
            )
            svgs = page.evaluate(
                """() => Array.from(document.querySelectorAll('figure.plot svg')).map(s => {
                        const r = s.getBoundingClientRect();
                        return {id: s.closest('figure').id, w: r.width, h: r.height,
                                paths: s.querySelectorAll('path').length};
                    })"""
            )
            bars = page.evaluate(
                """() => Array.from(document.querySelectorAll('[id^="waterfall-recist1.1-bar-"] path'))
                        .map(p => p.getBoundingClientRect().height)"""
            )
            arrows = page.evaluate("""() => document.querySelectorAll('[id^="swimmer-ongoing-"]').length""")
            title = page.title()
        finally:
            browser.close()

    assert title == "Remission report"
    assert console_errors == [] and page_errors == []
    # only the file itself and inline data: URIs were loaded
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    # one timeline per subject, each decoded by the browser
    assert len(images) == n_subjects
    assert all(i["complete"] and i["w"] > 100 and i["h"] > 100 for i in images), images
    # every cohort plot laid out with drawn paths
    ids = {s["id"] for s in svgs}
    assert {"plot-waterfall-recist1.1", "plot-spider-recist1.1", "plot-swimmer", "plot-km-pfs"} <= ids
    assert all(s["w"] > 100 and s["h"] > 100 and s["paths"] > 5 for s in svgs), svgs
    # the waterfall's bars are drawn with a visible height (EX01, EX19, EX27 measured on RECIST)
    assert len(bars) == 3 and all(h > 1 for h in bars)
    # ongoing responses of the subset: EX01 (partial), EX19 (complete), EX35 (complete), EX20 (partial)
    assert arrows == 4
