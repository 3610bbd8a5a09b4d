"""Plots against their data (issue "Explained to people", item 3): every plot renders as PNG
and SVG, and the SVG holds the elements the data say it should (one bar per subject with the
bar's colour and height proportional to the best % change, threshold lines at +20 % / -30 %
for RECIST 1.1 (recist11.md §4) and +25 % / -50 % for WHO (who.md §4), an arrow per ongoing
response in the swimmer, one risk-table number per tick under the KM curve, ...)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from remission import assess
from remission.io import load_dataset
from remission.pipeline import cut_at
from remission.report import plots, stats

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"
NS = {"svg": "http://www.w3.org/2000/svg"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    return assess(EXAMPLE)


def groups(svg: bytes, prefix: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)
    return {g.get("id"): g for g in root.iter("{http://www.w3.org/2000/svg}g") if (g.get("id") or "").startswith(prefix)}


def path_box(g: ET.Element) -> tuple[float, float, float, float]:
    d = g.find("svg:path", NS).get("d")
    nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = nums[0::2], nums[1::2]
    return min(xs), max(xs), min(ys), max(ys)


def fill(g: ET.Element) -> str:
    style = g.find("svg:path", NS).get("style")
    return re.search(r"fill: (#[0-9a-f]{6})", style).group(1)


def both_formats(fig) -> bytes:
    png = plots.render(fig, "png")
    assert png.startswith(PNG_MAGIC) and len(png) > 2000
    svg = plots.render(fig, "svg")
    assert b"<svg" in svg
    return svg


# --- waterfall ----------------------------------------------------------------------------


def test_waterfall_data_is_best_change_of_line_1(result):
    """EX01: changes -34.3, -40, -40, -42.9 % -> best -42.9 %; EX10 (rule T1, PD) +60 %."""
    data = plots.waterfall_data(result, "recist1.1")
    row = data.filter(pl.col("subject_id") == "EX01").row(0, named=True)
    assert row["best_pct"] == pytest.approx(-300 / 7)
    assert row["best_response"] == "PR" and row["colour"] == plots.LEVEL_COLOURS["PARTIAL"]
    assert data["best_pct"].to_list() == sorted(data["best_pct"].to_list(), reverse=True)
    # independently: min change per subject of recist1.1 line 1
    a = result.assessments.filter(
        (pl.col("criteria") == "recist1.1") & (pl.col("line") == 1) & pl.col("overall_response").is_not_null()
        & pl.col("change_from_baseline_pct").is_not_null()
    )
    assert set(data["subject_id"]) == set(a["subject_id"])
    assert "EX20" not in set(data["subject_id"])  # WHO subject: its own waterfall


def test_waterfall_svg_bars_match_data(result):
    data = plots.waterfall_data(result, "recist1.1")
    svg = both_formats(plots.waterfall_figure(result, "recist1.1"))
    bars = groups(svg, "bar-")
    assert len(bars) == data.height  # one bar per subject
    ref = groups(svg, "ref-")
    assert set(ref) == {"ref-plus20", "ref-minus30"}
    # y of the reference lines: +20 above -30
    y20, y30 = path_box(ref["ref-plus20"])[2], path_box(ref["ref-minus30"])[2]
    assert y20 < y30
    scale = (y30 - y20) / 50.0  # pixels per percentage point
    for row in data.iter_rows(named=True):
        g = bars[f"bar-{row['subject_id']}"]
        assert fill(g) == row["colour"], row["subject_id"]
        x0, x1, top, bottom = path_box(g)
        assert (bottom - top) == pytest.approx(abs(row["best_pct"]) * scale, abs=0.05), row["subject_id"]
    # order: left to right as in the data
    xs = [path_box(bars[f"bar-{s}"])[0] for s in data["subject_id"]]
    assert xs == sorted(xs)


def test_waterfall_who_thresholds(result):
    svg = both_formats(plots.waterfall_figure(result, "who"))
    assert set(groups(svg, "ref-")) == {"ref-plus25", "ref-minus50"}
    assert set(groups(svg, "bar-")) == {f"bar-{s}" for s in ("EX20", "EX21", "EX22", "EX40")}


# --- spider -------------------------------------------------------------------------------


def test_spider_one_line_per_measured_subject(result):
    data = plots.spider_data(result, "recist1.1")
    svg = both_formats(plots.spider_figure(result, "recist1.1"))
    lines = groups(svg, "spider-")
    assert set(lines) == {f"spider-{s}" for s in data["subject_id"].unique()}
    ex01 = data.filter(pl.col("subject_id") == "EX01")
    assert ex01["pct"].to_list()[0] == 0.0  # baseline
    # 2019-01-02 (baseline) -> 2019-03-04, 04-29, 07-01, 10-07: 61, 117, 180, 278 days
    assert ex01["weeks"].to_list() == pytest.approx([0.0, 61 / 7, 117 / 7, 180 / 7, 278 / 7])
    # the line's polyline has one vertex per assessment
    d = lines["spider-EX01"].find("svg:path", NS).get("d")
    assert d.count("L") + 1 == ex01.height
    assert set(groups(svg, "ref-")) == {"ref-plus20", "ref-minus30"}


# --- swimmer ------------------------------------------------------------------------------


def test_swimmer_arrows_progression_and_death(result):
    data = plots.swimmer_data(result)
    svg = both_formats(plots.swimmer_figure(result))
    s = result.summary
    ongoing = set(
        s.filter(pl.col("status").is_in(["responding", "partial_remission", "complete_remission", "long_term_remission"]))[
            "subject_id"
        ]
    )
    assert {f"ongoing-{x}" for x in ongoing} == set(groups(svg, "ongoing-"))
    assert "ongoing-EX03" not in groups(svg, "ongoing-")  # progression: no arrow
    deaths = set(s.filter(pl.col("status") == "deceased")["subject_id"])
    assert {f"death-{x}" for x in deaths} == set(groups(svg, "death-"))
    # one row per subject with a start (EX39 never assessed has none)
    assert {f"swim-{r['subject_id']}" for r in data} == set(groups(svg, "swim-"))
    assert "swim-EX39" not in groups(svg, "swim-")
    # EX19: two episodes, recurrence marked at 2022-02-01, a second line
    ex19 = next(r for r in data if r["subject_id"] == "EX19")
    assert len(ex19["episodes"]) == 2 and len(ex19["new_lines"]) == 1
    start = result.segments.filter((pl.col("subject_id") == "EX19") & (pl.col("line") == 1))["reference_start"][0]
    assert ex19["progressions"] == [pytest.approx((dt.date(2022, 2, 1) - start).days / 30.4375)]
    assert "prog-EX19-0" in groups(svg, "prog-")


def test_swimmer_bar_length_is_follow_up(result):
    """EX01: reference start 2019-01-07, last assessment 2019-10-07 = 273 days."""
    ex01 = next(r for r in plots.swimmer_data(result) if r["subject_id"] == "EX01")
    assert ex01["end_months"] == pytest.approx(273 / 30.4375)
    svg = plots.render(plots.swimmer_figure(result), "svg")
    g1, g33 = groups(svg, "swim-")["swim-EX01"], groups(svg, "swim-")["swim-EX33"]
    w = lambda g: path_box(g)[1] - path_box(g)[0]  # noqa: E731
    ex33 = next(r for r in plots.swimmer_data(result) if r["subject_id"] == "EX33")
    assert w(g1) / w(g33) == pytest.approx(ex01["end_months"] / ex33["end_months"], rel=1e-3)


# --- Kaplan-Meier -------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(stats.ENDPOINT_LABELS))
def test_km_plot_with_risk_table(result, endpoint):
    km = stats.endpoint_km(result, endpoint)
    svg = both_formats(plots.km_figure(result, endpoint))
    assert "km-curve" in groups(svg, "km-") and "km-band" in groups(svg, "km-")
    risk = groups(svg, "atrisk-")
    grid = stats.risk_table_months(float(km.durations.max()))
    assert len(risk) == len(grid)
    text = svg.decode()
    first = text[text.index('id="atrisk-0"'):]
    assert f">{km.n}<" in first[: first.index("</g>")]  # n at risk at time 0
    assert f"n = {km.n}, events = {km.n_events}" in text


# --- per-patient timeline -----------------------------------------------------------------


def test_patient_timeline_with_treatments(result):
    ds, _ = load_dataset(EXAMPLE)
    tr = cut_at(ds, result.as_of).treatments
    svg = plots.patient_timeline(result, "EX19", "svg", treatments=tr)
    png = plots.patient_timeline(result, "EX19", "png", treatments=tr)
    assert png.startswith(PNG_MAGIC)
    n_tr = tr.filter(pl.col("subject_id") == "EX19").height
    assert len(groups(svg, "treatment-")) == n_tr == 3  # induction, maintenance, salvage
    n_assess = result.assessments.filter((pl.col("subject_id") == "EX19") & pl.col("value").is_not_null()).height
    assert len(groups(svg, "assess-")) == n_assess
    assert set(groups(svg, "episode-")) == {"episode-1", "episode-2"}
    assert b"T3 salvage" in svg
    # assessments coloured by response: the PD of 2022-02-01 is red
    d = plots.timeline_data(result, "EX19").filter(pl.col("value").is_not_null())
    i = d["overall_response"].to_list().index("PD")
    assert plots.LEVEL_COLOURS["PROGRESSION"] in ET.tostring(groups(svg, "assess-")[f"assess-{i}"]).decode()


def test_patient_timeline_without_treatments_marks_lines(result):
    import dataclasses

    svg = plots.patient_timeline(dataclasses.replace(result, treatments=None), "EX19")
    assert len(groups(svg, "treatment-")) == 2  # the starts of lines 1 and 2
    assert b"line 2 starts" in svg


def test_patient_timeline_stated_only_subject(result):
    svg = plots.patient_timeline(result, "EX35")
    n = result.assessments.filter((pl.col("subject_id") == "EX35") & pl.col("canonical_level").is_not_null()).height
    assert len(groups(svg, "assess-")) == n > 0


def test_unknown_subject(result):
    with pytest.raises(KeyError):
        plots.patient_timeline(result, "NOPE")


def test_write_plots_writes_png_and_svg(result, tmp_path):
    paths = plots.write_plots(result, tmp_path)
    names = {p.name for p in paths}
    for stem in ("waterfall-recist1.1", "waterfall-who", "spider-recist1.1", "swimmer", "km-pfs", "km-dor",
                 "km-time_in_remission"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    assert all(p.stat().st_size > 1000 for p in paths)


# --- each criterion draws its own picture (issue 15 item 2) ---------------------------------

BLOOD = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "examples_blood"
IMAGING = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "examples_imaging"


@pytest.mark.parametrize(
    ("folder", "crit", "refs", "words"),
    [
        (BLOOD / "pcwg3", "pcwg3", {"ref-plus25", "ref-minus50"}, "Best change in PSA from baseline, PCWG3"),
        (BLOOD / "gcig", "gcig", {"ref-minus50"}, "Best change in CA-125 from baseline, GCIG CA-125"),
        (BLOOD / "imwg2016", "imwg2016", {"ref-plus25", "ref-minus50"}, "Best change in M-protein from baseline, IMWG 2016"),
        (IMAGING / "lugano", "lugano2014", {"ref-minus50"}, "from baseline, Lugano 2014"),
    ],
)
def test_waterfall_lines_and_caption_come_from_the_criterion(folder, crit, refs, words):
    r = assess(folder)
    assert crit in plots.measured_criteria(r)
    svg = both_formats(plots.waterfall_figure(r, crit))
    assert set(groups(svg, "ref-")) == refs  # never RECIST's +20 / -30 by default
    assert words in plots.plot_caption(f"waterfall-{crit}")
    assert crit not in plots.plot_caption(f"waterfall-{crit}")  # words, not the key
    assert words.split(", ")[0].replace("Best change", "change").lower() in svg.decode().lower()


def test_spider_starts_at_the_criterion_baseline_not_at_the_first_follow_up():
    """PC-1: baseline PSA 40 on the line's baseline date; the first follow-up (44, +10 %) is
    drawn at +10 %, not forced to 0 %."""
    r = assess(BLOOD / "pcwg3")
    data = plots.spider_data(r, "pcwg3").filter(pl.col("subject_id") == "PC-1")
    base = r.timepoints.filter((pl.col("subject_id") == "PC-1") & (pl.col("line") == 1))["baseline_date"].drop_nulls()[0]
    assert data["date"][0] == base and data["pct"][0] == 0.0 and data["weeks"][0] == 0.0
    first = r.assessments.filter((pl.col("subject_id") == "PC-1") & pl.col("overall_response").is_not_null()).sort("date").row(0, named=True)
    row = data.filter(pl.col("date") == first["date"]).row(0, named=True)
    assert row["pct"] == pytest.approx(first["change_from_baseline_pct"]) and row["pct"] != 0.0
    svg = both_formats(plots.spider_figure(r, "pcwg3"))
    assert set(groups(svg, "ref-")) == {"ref-plus25", "ref-minus50"}


def test_partly_measured_points_are_not_drawn_as_values(result):
    """EX09: the 2021-07-05 scan measured only T1 (NE): no spider vertex, a cross on the
    timeline's axis instead of a value."""
    data = plots.spider_data(result, "recist1.1")
    assert data.filter((pl.col("subject_id") == "EX09") & (pl.col("date") == dt.date(2021, 7, 5))).height == 0
    svg = plots.render(plots.timeline_figure(result, "EX09"), "svg")
    assert len(groups(svg, "unmeasured-")) == 2  # 2021-07-05 and 2021-09-06
    assert len(groups(svg, "assess-")) == 1  # the baseline sum only


def test_no_red_green_pair_in_the_level_colours():
    """Response blues and growth oranges (Okabe-Ito): complete, partial and progression differ
    in lightness and in the blue-yellow axis, which red-green colour blindness keeps."""
    def rgb(h):
        return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))

    for lvl in ("COMPLETE", "PARTIAL"):
        r, g, b = rgb(plots.LEVEL_COLOURS[lvl])
        assert b > r and b > 150  # blue, not green
    r, g, b = rgb(plots.LEVEL_COLOURS["PROGRESSION"])
    assert r > 200 and b < 50  # vermillion
