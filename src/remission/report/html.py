"""One self-contained HTML report (issue "Explained to people", item 4).

The file opens from disk with no server and no network: the CSS is inline, cohort plots are
inline SVG (their element ids prefixed per plot so that the ids of several SVGs never
collide, and their metadata block removed) and per-subject timelines are PNG images
embedded as base64 ``data:`` URIs. Nothing refers to an external URL (the only ``http``
strings left are XML namespace names, which browsers never fetch).

Order: title and disclaimer, cohort tables (response rates with Clopper-Pearson CIs,
Kaplan-Meier medians), cohort plots, then one section per subject with the plain-language
summary (:func:`remission.explain.patient_summary`) and the timeline.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from pathlib import Path
from typing import Any, Callable

import polars as pl

from remission.explain import DISCLAIMER, patient_summary
from remission.report import plots, stats

#: ``progress(done, total, label)``, called after each step
Progress = Callable[[int, int, str], None]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #1f4e79; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef3f8; }
.note { color: #555; font-size: .9em; }
.disclaimer { background: #fff8e1; border-left: 4px solid #f1c232; padding: .6em 1em; }
figure { margin: 1em 0 2em; } figure svg { max-width: 100%; height: auto; }
figure img { max-width: 100%; height: auto; }
.subject { border-top: 1px solid #ddd; padding-top: .5em; }
.facts td { text-align: left; }
nav ul { columns: 6; font-size: .9em; }
"""


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def _inline_svg(svg: bytes, prefix: str, title: str | None = None) -> str:
    """An SVG document as an inline ``<svg>`` element with ids prefixed by ``prefix``; with
    ``title`` it is an image to assistive technology (``role="img"``, a ``<title>`` first
    and ``aria-labelledby`` pointing at it)."""
    text = svg.decode("utf-8")
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', text)
    if title is not None:
        tid = f"{prefix}-title"
        text = re.sub(r"<svg\b([^>]*)>", lambda m: f'<svg{m.group(1)} role="img" aria-labelledby="{tid}">'
                      f'<title id="{tid}">{html.escape(title)}</title>', text, count=1)
    return text.strip()


def _png_img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _rates_table(st: dict[str, Any]) -> str:
    rows = []
    for key, title in (("best_response", "Best response"), ("confirmed_best_response", "Confirmed best response")):
        r = st[key]
        rows.append(f'<tr><th colspan="4">{title} (n = {r["n_subjects"]})</th></tr>')
        for c in r["categories"]:
            rows.append(
                f"<tr><td>{html.escape(c['code'])}</td><td>{c['n']}</td><td>{_pct(c['rate'])}</td>"
                f"<td>{_pct(c['ci_low'])} to {_pct(c['ci_high'])}</td></tr>"
            )
        for k, name in (("orr", "Objective response rate (complete + partial response)"),
                        ("dcr", "Disease control rate (complete + partial response + stable disease)"),
                        ("cr_rate", "Complete response rate")):
            c = r[k]
            rows.append(
                f"<tr><td><b>{name}</b></td><td>{c['n']}</td><td>{_pct(c['rate'])}</td>"
                f"<td>{_pct(c['ci_low'])} to {_pct(c['ci_high'])}</td></tr>"
            )
    return (
        '<table id="rates"><thead><tr><th>Category</th><th>n</th><th>Rate</th>'
        "<th>95% CI (Clopper-Pearson)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _km_table(st: dict[str, Any]) -> str:
    def m(v: float | None) -> str:
        return "not reached" if v is None else f"{v:.1f}"

    rows = []
    for key, km in st["km"].items():
        label = stats.ENDPOINT_LABELS[key]
        if km is None:
            rows.append(f"<tr><td>{label}</td><td>0</td><td></td><td></td><td></td></tr>")
            continue
        lo, hi = km["median_ci_months"]
        rows.append(
            f"<tr><td>{label}</td><td>{km['n']}</td><td>{km['events']}</td><td>{m(km['median_months'])}</td>"
            f"<td>{m(lo)} to {m(hi)}</td></tr>"
        )
    return (
        f'<table id="km"><thead><tr><th>Endpoint</th><th>n</th><th>Events</th><th>Median (months)</th>'
        f"<th>95% CI ({html.escape(st['km_ci_method'])})</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _facts(row: dict[str, Any]) -> str:
    items = [
        ("Criteria", row.get("criteria")),
        ("Best response", row.get("best_response")),
        ("Confirmed best response", row.get("confirmed_best_response")),
        ("Status", (row.get("status") or "").replace("_", " ")),
        ("Status date", row.get("status_date")),
        ("Next check-up due", row.get("next_followup_due")),
    ]
    cells = "".join(f"<tr><th>{k}</th><td>{html.escape('' if v is None else str(v))}</td></tr>" for k, v in items)
    return f'<table class="facts">{cells}</table>'


def build_report(
    result,
    *,
    progress: Progress | None = None,
    ci_method: stats.CiMethod = "log-log",
    treatments: pl.DataFrame | None = None,
    title: str = "Remission report",
) -> str:
    """The report as an HTML string (module docstring)."""
    subjects = result.summary["subject_id"].to_list()
    figures_names = [f"waterfall-{c}" for c in plots.measured_criteria(result)]
    total = 2 + len(subjects)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    st = stats.cohort_statistics(result, ci_method=ci_method)
    tick("statistics")
    figs = plots.cohort_figures(result, ci_method=ci_method)
    fig_html = []
    for name, fig in figs.items():
        cap = plots.plot_caption(name)
        svg = _inline_svg(plots.render(fig, "svg"), name, title=cap)
        fig_html.append(f'<figure class="plot" id="plot-{name}"><div class="scroll">{svg}</div>'
                        f'<figcaption class="note">{html.escape(cap)}</figcaption></figure>')
    tick("cohort plots")
    del figures_names

    nav = "".join(f'<li><a href="#subject-{html.escape(s)}">{html.escape(s)}</a></li>' for s in subjects)
    sections = []
    rows = {r["subject_id"]: r for r in result.summary.iter_rows(named=True)}
    for sid in subjects:
        text = patient_summary(result, sid)
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
        img = _png_img(plots.patient_timeline(result, sid, "png", treatments=treatments), f"Timeline of {sid}")
        sections.append(
            f'<section class="subject" id="subject-{html.escape(sid)}"><h3>{html.escape(sid)}</h3>'
            f"{_facts(rows[sid])}<div class=\"summary\">{paras}</div><figure class=\"timeline\">{img}</figure></section>"
        )
        tick(sid)

    as_of = result.as_of.isoformat() if isinstance(result.as_of, dt.date) else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{st['n_subjects']} subjects; results as of {html.escape(as_of)}.</p>"
        f'<p class="disclaimer">{html.escape(DISCLAIMER)}</p>'
        '<h2 id="cohort">Cohort</h2>'
        "<h3>Best overall response</h3>"
        '<p class="note">Denominator: all subjects. Confidence intervals are exact (Clopper-Pearson).</p>'
        + _rates_table(st)
        + "<h3>Time to event (Kaplan-Meier)</h3>"
        + '<p class="note">Median and its 95% confidence interval (Brookmeyer-Crowley, '
        + html.escape(ci_method)
        + " transform); months are days / 30.4375.</p>"
        + _km_table(st)
        + "<h3>Plots</h3>"
        + "".join(fig_html)
        + '<h2 id="subjects">Subjects</h2>'
        + f"<nav><ul>{nav}</ul></nav>"
        + "".join(sections)
        + "</body></html>\n"
    )


def write_report(
    result,
    path: str | Path,
    *,
    progress: Progress | None = None,
    ci_method: stats.CiMethod = "log-log",
    treatments: pl.DataFrame | None = None,
    title: str = "Remission report",
) -> Path:
    """Write the self-contained HTML report of ``result`` to ``path``; returns the path.

    ``progress(done, total, label)`` is called after each step (statistics, plots, each
    subject). ``treatments`` (the dataset's treatments table) draws treatment bands in the
    timelines; without it, the result's own ``treatments`` attribute is used when present,
    else the starts of the lines of therapy are marked."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        build_report(result, progress=progress, ci_method=ci_method, treatments=treatments, title=title),
        encoding="utf-8",
    )
    return out
