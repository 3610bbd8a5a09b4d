"""Browser test: headless Debian Chromium (``/usr/bin/chromium``, never a downloaded browser)
driven by Playwright against the service on loopback.  A clinician signs in and sees their
list (only assigned patients, overdue follow-ups highlighted) and a patient page; a patient
signs in, lands on their own page and cannot open another patient's.

Without Chromium the test is skipped locally and FAILS when ``CI=true``."""

from __future__ import annotations

import os

import pytest

from test_service_fixtures import ACCOUNTS, IN_CI, PASSWORD, app, database_url, server, visible  # noqa: F401

CHROMIUM = os.environ.get("REMISSION_CHROMIUM", "/usr/bin/chromium")


def _need_chromium():
    if not os.path.exists(CHROMIUM):
        msg = f"{CHROMIUM} not found (Debian package chromium)"
        if IN_CI:
            pytest.fail(msg + " (CI=true: the browser test must run)")
        pytest.skip(msg)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("the playwright package is not installed")
        pytest.skip("the playwright package is not installed")




def _sign_in(page, base, username):
    page.goto(base + "/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state()


def test_clinician_and_patient_in_the_browser(server):
    _need_chromium()
    from playwright.sync_api import sync_playwright

    base = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            # --- clinician doc1: EX01 and EX02 only
            ctx = browser.new_context()
            page = ctx.new_page()
            _sign_in(page, base, "wrong-user")
            assert "Unknown username or wrong password" in page.content()
            _sign_in(page, base, "doc1")
            assert page.url == base + "/patients"
            ids = page.locator("#patients tbody tr").evaluate_all("rows => rows.map(r => r.dataset.subject)")
            assert ids == ["EX01", "EX02"]  # sorted by next follow-up: 2020-01-07, then 2025-12-08
            # both next check-ups (2020-01-07, 2025-12-08) are in the past: highlighted
            assert page.locator("#patients tbody tr.overdue").count() == 2
            # sort by subject, descending, by clicking the header twice
            page.click("th >> text=subject id")
            page.click("th >> text=subject id")
            ids = page.locator("#patients tbody tr").evaluate_all("rows => rows.map(r => r.dataset.subject)")
            assert ids == ["EX02", "EX01"]
            # filter by status
            page.select_option("#status", "responding")
            with page.expect_navigation():  # the filter is a form submit: wait for the new page
                page.click("text=Filter")
            ids = page.locator("#patients tbody tr").evaluate_all("rows => rows.map(r => r.dataset.subject)")
            assert ids == ["EX02"]
            with page.expect_navigation():
                page.click("text=EX02")
            assert page.locator("#subject").inner_text() == "EX02"
            assert page.locator("#status").inner_text() == "responding"
            assert page.locator("#episodes tbody tr").count() == 1
            assert "EX02" in page.locator("#explanation").inner_text()
            resp = page.goto(base + "/patients/EX03")  # assigned to doc2
            assert resp.status == 404 and "EX03" not in page.content()
            ctx.close()

            # --- patient pat1 (EX01): lands on their own page, nothing else
            ctx = browser.new_context()
            page = ctx.new_page()
            _sign_in(page, base, "pat1")
            assert page.url == base + "/patients/EX01"
            assert page.locator("#status").inner_text() == "partial remission"
            assert page.locator("#timeline").count() == 1
            assert "partial remission" in page.locator("#explanation").inner_text()
            page.goto(base + "/")
            assert page.url == base + "/patients/EX01"
            page.goto(base + "/patients")
            assert page.url == base + "/patients/EX01"
            for other in ("EX02", "EX03"):
                resp = page.goto(base + f"/patients/{other}")
                assert resp.status == 404 and other not in page.content()
            page.click("text=Sign out")
            page.wait_for_load_state()
            resp = page.goto(base + "/patients/EX01")
            assert page.url == base + "/"  # signed out: back to sign-in
            ctx.close()
        finally:
            browser.close()
