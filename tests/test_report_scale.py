"""Reports at scale and cohort rates per criterion (issue 15 items 6 and 7): ``remission
report --subjects / --cohort-only``, ``assess(progress=...)``, the capped console summary,
the pooled rates stating which criteria they pool."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from remission import assess
from remission.cli import SUMMARY_ROWS, app
from remission.pipeline import ASSESS_STEPS
from remission.report import stats
from remission.report.html import build_report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
SUBSET = ("EX01", "EX09", "EX19", "EX20", "EX35")  # RECIST, WHO (EX20) and stated responses


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    for csv in EXAMPLE.glob("*.csv"):
        if csv.name != "expected.csv":
            pl.read_csv(csv, infer_schema=False).filter(pl.col("subject_id").is_in(SUBSET)).write_csv(out / csv.name)
    return out


def test_assess_reports_each_step(small):
    seen = []
    r = assess(small, progress=lambda done, total, label: seen.append((done, total, label)))
    assert [d for d, _, _ in seen] == list(range(1, len(ASSESS_STEPS) + 1))
    assert all(t == len(ASSESS_STEPS) for _, t, _ in seen)
    assert all(f"({r.summary.height} subjects)" in label for _, _, label in seen)


def test_report_subjects_and_cohort_only(small, tmp_path):
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(small), "--out", str(out), "--subjects", "EX19,EX01"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    ids = re.findall(r'<section class="subject" id="subject-([^"]+)"', text)
    assert ids == ["EX19", "EX01"]  # only those, in that order
    assert f"{len(SUBSET)} subjects" in text  # the cohort part covers everyone
    res = CliRunner().invoke(app, ["report", str(small), "--out", str(out), "--cohort-only"])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert '<section class="subject"' not in text and 'id="plot-swimmer"' in text
    res = CliRunner().invoke(app, ["report", str(small), "--out", str(tmp_path / "x.html"), "--subjects", "EX01,NOPE"])
    assert res.exit_code == 2 and "NOPE" in res.output
    assert not (tmp_path / "x.html").exists()


def test_console_summary_is_capped(tmp_path):
    res = CliRunner().invoke(app, ["assess", str(EXAMPLE), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    shown = [s for s in re.findall(r"\bEX\d\d\b", res.output)]
    assert len(set(shown)) == SUMMARY_ROWS
    n = pl.read_csv(EXAMPLE / "subjects.csv").height
    assert f"and {n - SUMMARY_ROWS} more subjects" in res.output
    assert "summary.csv" in res.output.replace("\n", "")


def test_as_of_help_says_the_default():
    res = CliRunner().invoke(app, ["report", "--help"])
    assert "latest date in the data" in " ".join(res.output.split())


def test_rates_state_the_criteria_they_pool(small):
    r = assess(small)
    st = stats.cohort_statistics(r)
    crits = sorted(set(r.summary["criteria"].drop_nulls()))
    assert st["pooled_criteria"] == crits and len(crits) >= 2
    for crit, rates in st["by_criteria"].items():
        n = r.summary.filter(pl.col("criteria") == crit).height
        assert rates["best_response"]["n_subjects"] == n
    assert sum(x["best_response"]["n_subjects"] for x in st["by_criteria"].values()) == r.summary.height
    html = build_report(r, cohort_only=True)
    assert f"The pooled rates count {len(crits)} criteria together" in html
    # categories per criterion, never one mixed category table
    for crit in crits:
        assert f'id="rates-{crit}"' in html
    pooled = html[html.index('id="rates"'):html.index("</table>", html.index('id="rates"'))]
    assert "<td>PR</td>" not in pooled and "<td>CR</td>" not in pooled
