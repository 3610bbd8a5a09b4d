"""The self-contained HTML report and the ``explain`` / ``report`` commands (issue "Explained
to people", items 1, 4 and 5)."""

from __future__ import annotations

import base64
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from remission import assess
from remission.cli import app
from remission.explain import DISCLAIMER, patient_summary
from remission.report import plots
from remission.report.html import write_report

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"
SUBSET = ("EX01", "EX19", "EX35")


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    """Three subjects of the example (a PR, the §12 worked example, stated responses only)."""
    out = tmp_path_factory.mktemp("small")
    for csv in EXAMPLE.glob("*.csv"):
        if csv.name == "expected.csv":
            continue
        frame = pl.read_csv(csv, infer_schema=False)
        frame.filter(pl.col("subject_id").is_in(SUBSET)).write_csv(out / csv.name)
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    result = assess(EXAMPLE)
    calls = []
    path = write_report(result, tmp_path_factory.mktemp("rep") / "sub" / "report.html",
                        progress=lambda d, t, label: calls.append((d, t, label)))
    return result, path, path.read_text(encoding="utf-8"), calls


def test_report_is_self_contained(report):
    _, path, text, _ = report
    assert path.exists() and text.startswith("<!DOCTYPE html>")
    # nothing fetched from anywhere: no external src/href/url(), no stylesheet links, no scripts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", text)
    assert "<link" not in text and "<script" not in text and "@import" not in text
    # the only http strings are XML namespace names
    assert set(re.findall(r"https?://[^\s\"')<]+", text)) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_report_contents_order_and_subjects(report):
    result, _, text, _ = report
    assert text.index('id="cohort"') < text.index('id="plot-waterfall-recist1.1"') < text.index('id="subjects"')
    for sid in result.summary["subject_id"]:
        assert f'id="subject-{sid}"' in text
    # summaries are in, html-escaped paragraph by paragraph
    from remission.explain.summary import html_paragraph

    first_para = patient_summary(result, "EX19").split("\n\n")[1]
    assert f"<p>{html_paragraph(first_para)}</p>" in text
    assert "<time>1 October 2022</time>" in text  # written dates never break
    assert text.count(DISCLAIMER) == result.summary.height + 1


def test_report_plots_embedded(report):
    result, _, text, _ = report
    figs = plots.cohort_figures(result)
    assert text.count("<svg") == len(figs)  # cohort plots inline
    # waterfall bars keep their ids (prefixed per plot)
    n_bars = plots.waterfall_data(result, "recist1.1").height
    assert len(re.findall(r'id="waterfall-recist1\.1-bar-', text)) == n_bars
    # one PNG timeline per subject, each a valid PNG
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) == result.summary.height
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n\x1a\n") for i in imgs[:3])
    # element ids are unique across the document (SVG ids prefixed)
    ids = Counter(re.findall(r'\bid="([^"]+)"', text))
    assert [k for k, v in ids.items() if v > 1] == []


def test_report_tables(report):
    result, _, text, _ = report
    assert 'id="rates"' in text and 'id="km"' in text
    n = result.summary.height
    orr = sum(c in ("CR", "PR") for c in result.summary["confirmed_best_response"])
    assert f"<td>{orr}</td><td>{100 * orr / n:.1f}%</td>" in text


def test_progress_callback(report):
    result, _, _, calls = report
    total = 2 + result.summary.height
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert all(c[1] == total for c in calls)
    assert calls[-1][2] == result.summary["subject_id"][-1]


def test_cli_explain(small_dataset):
    r = CliRunner().invoke(app, ["explain", str(small_dataset), "EX01"])
    assert r.exit_code == 0, r.output
    assert "You are in partial remission." in r.output
    assert r.output.strip().endswith(DISCLAIMER)
    r = CliRunner().invoke(app, ["explain", str(small_dataset), "EX19", "--as-of", "2021-01-01"])
    # issue 15 item 3: "results up to" is the patient's own latest result on or before the
    # as-of date (EX19's scan of 2020-09-01), and a check-up due before the as-of date is
    # said to be past
    assert r.exit_code == 0 and "based on results up to 1 September 2020" in r.output
    assert "next check-up was due by 1 December 2020" in r.output
    assert "You are in complete remission." in r.output
    r = CliRunner().invoke(app, ["explain", str(small_dataset), "EX99"])
    assert r.exit_code == 2


def test_cli_report_prints_where_it_is(small_dataset, tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["report", str(small_dataset), "--out", str(out), "--ci-method", "log"])
    assert r.exit_code == 0, r.output
    assert out.exists()
    assert "Report written to" in r.output and out.name in r.output.replace("\n", "")
    text = out.read_text()
    assert "(log)" in text  # the KM CI transform chosen
    for sid in SUBSET:
        assert f'id="subject-{sid}"' in text
    # the CLI passes the treatments table: EX19's timeline is the one drawn with treatment bands
    from remission.io import load_dataset
    from remission.pipeline import cut_at

    result = assess(small_dataset)
    ds, _ = load_dataset(small_dataset)
    with_bands = plots.patient_timeline(result, "EX19", "png", treatments=cut_at(ds, result.as_of).treatments)
    section = text[text.index('id="subject-EX19"'):]
    embedded = base64.b64decode(re.search(r'base64,([A-Za-z0-9+/=]+)"', section).group(1))
    assert embedded == with_bands
    # the result carries the same treatments (AssessResult.treatments); without them, line starts only
    assert embedded == plots.patient_timeline(result, "EX19", "png")
    import dataclasses

    assert embedded != plots.patient_timeline(dataclasses.replace(result, treatments=None), "EX19", "png")
    r = CliRunner().invoke(app, ["report", str(small_dataset), "--out", str(out), "--ci-method", "plain"])
    assert r.exit_code != 0
