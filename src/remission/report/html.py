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
from typing import Any, Callable, Iterator

import polars as pl

from remission.explain import DISCLAIMER, patient_summary
from remission.report import plots, stats

#: ``progress(done, total, label)``, called after each step
Progress = Callable[[int, int, str], None]

CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1em 2em; color: #222; line-height: 1.45; overflow-wrap: break-word; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #1f4e79; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-top: 1.6em; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td:not(:first-child), thead th { white-space: nowrap; }
thead th { background: #eef3f8; }
time, .date { white-space: nowrap; }
.note { color: #4a4a4a; font-size: .9em; }
.disclaimer { background: #fff8e1; border-left: 4px solid #b8860b; padding: .6em 1em; }
figure { margin: 1em 0 2em; } figure svg { max-width: 100%; height: auto; }
figure img { max-width: 100%; height: auto; }
@media (max-width: 600px) { figure.timeline .scroll img { max-width: none; width: 600px; } }
.subject { border-top: 1px solid #ddd; padding-top: .5em; }
.facts th, .facts td { text-align: left; white-space: normal; }
nav ul { columns: 9em; font-size: .9em; padding-left: 1.2em; }
a:focus-visible, summary:focus-visible, .scroll:focus-visible { outline: 3px solid #e69f00; outline-offset: 2px; }
@media (max-width: 600px) { body { padding: .6em .8em; } h1 { font-size: 1.35em; } }
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


def _rate_rows(r: dict[str, Any], categories: bool) -> list[str]:
    rows = []
    if categories:
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
    return rows


def _rates_table(st: dict[str, Any], table_id: str = "rates", categories: bool = True, label: str = "") -> str:
    rows = []
    for key, title in (("best_response", "Best response"), ("confirmed_best_response", "Confirmed best response")):
        r = st[key]
        rows.append(f'<tr><th colspan="4">{title}{html.escape(label)} (n = {r["n_subjects"]})</th></tr>')
        rows.extend(_rate_rows(r, categories))
    return (
        f'<div class="scroll" tabindex="0" role="region" aria-label="Response rates"><table id="{table_id}"><thead><tr><th>Category</th><th>n</th><th>Rate</th>'
        "<th>95% CI (Clopper-Pearson)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )


def _criteria_names(codes: list[str]) -> str:
    return ", ".join(plots.criterion_label(c) for c in codes)


def _pooling_note(st: dict[str, Any]) -> str:
    """Which criteria the rates pool (issue 15 item 7)."""
    crits = st.get("pooled_criteria") or []
    if len(crits) <= 1:
        return f'<p class="note" id="pooling">Criteria: {html.escape(_criteria_names(crits) or "none")}.</p>'
    return (
        f'<p class="note" id="pooling">The pooled rates count {len(crits)} criteria together '
        f"({html.escape(_criteria_names(crits))}): each subject's best response is counted by its level "
        "(complete, partial, stable), although the criteria define these categories differently. "
        "The response categories are given per criterion below, never mixed.</p>"
    )


def _rates_tables(st: dict[str, Any]) -> str:
    crits = st.get("pooled_criteria") or []
    if len(crits) <= 1:
        label = f", {plots.criterion_label(crits[0])}" if crits else ""
        return _rates_table(st, label=label)
    out = [_rates_table(st, categories=False, label=", all criteria pooled")]
    for crit, r in st["by_criteria"].items():
        out.append(f"<h4>{html.escape(plots.criterion_label(crit))}</h4>")
        out.append(_rates_table(r, table_id=f"rates-{crit}", label=f", {plots.criterion_label(crit)}"))
    return "".join(out)


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


def _facts(row: dict[str, Any], dates) -> str:
    """The clinician's facts of one subject; the dates mean what they say (issue 15 item 3)."""
    def d(v):
        return f"<time>{html.escape(str(v))}</time>" if v is not None else ""

    items = [
        ("Criteria", html.escape(plots.criterion_label(row.get("criteria")))),
        ("Best response", html.escape(row.get("best_response") or "")),
        ("Confirmed best response", html.escape(row.get("confirmed_best_response") or "")),
        ("Status", html.escape((row.get("status") or "").replace("_", " "))),
        ("Status since", d(dates.status_since)),
        ("Results up to", d(dates.results_up_to)),
    ]
    if dates.long_term_since is not None:
        items.append(("In long-term remission since", d(dates.long_term_since)))
    due = d(dates.next_due) + (f" (overdue on {d(dates.reference)})" if dates.overdue else "")
    items.append(("Next check-up due", due))
    cells = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in items)
    return f'<div class="scroll"><table class="facts">{cells}</table></div>'


def _subject_section(result, sid: str, row: dict[str, Any], treatments: pl.DataFrame | None,
                     today: dt.date | None) -> str:
    """One subject: the clinician's facts (with the dates of :func:`remission.explain.patient_dates`),
    the patient's summary, the timeline (PNG, with its text alternative)."""
    from remission.explain import patient_dates

    text = patient_summary(result, sid, today=today)
    from remission.explain.summary import html_paragraph

    paras = "".join(f"<p>{html_paragraph(p)}</p>" for p in text.split("\n\n"))
    alt = f"Timeline of {sid}: test results, responses and remission episodes over time"
    img = _png_img(plots.patient_timeline(result, sid, "png", treatments=treatments), alt)
    words = "".join(f"<li>{html.escape(line)}</li>" for line in plots.timeline_text(result, sid))
    return (
        f'<section class="subject" id="subject-{html.escape(sid)}" aria-labelledby="h-{html.escape(sid)}">'
        f'<h3 id="h-{html.escape(sid)}">{html.escape(sid)}</h3>'
        f"{_facts(row, patient_dates(result, sid, today=today))}<div class=\"summary\">{paras}</div>"
        f'<figure class="timeline"><div class="scroll" tabindex="0" role="region" aria-label="Timeline of {html.escape(sid)}">{img}</div><figcaption><details><summary>Timeline as text</summary><ul>{words}</ul>'
        "</details></figcaption></figure></section>"
    )


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
        f"<style>{CSS}</style></head><body><main>"
    )


def report_parts(
    result,
    *,
    progress: Progress | None = None,
    ci_method: stats.CiMethod = "log-log",
    treatments: pl.DataFrame | None = None,
    title: str = "Remission report",
    subjects: list[str] | None = None,
    cohort_only: bool = False,
    today: dt.date | None = None,
) -> Iterator[str]:
    """The report as a stream of HTML pieces, each made only when asked for: the cohort
    part first, then one section per subject (``subjects``: only those, in that order;
    ``cohort_only``: none), so a writer holds one section at a time."""
    if subjects is not None:
        known = set(result.summary["subject_id"].to_list())
        unknown = [s for s in subjects if s not in known]
        if unknown:
            raise KeyError(f"subjects not in the result: {', '.join(unknown[:10])}")
    listed = [] if cohort_only else (subjects if subjects is not None else result.summary["subject_id"].to_list())
    total = 2 + len(listed)
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    st = stats.cohort_statistics(result, ci_method=ci_method)
    tick("statistics")
    fig_html = []
    for name, fig in plots.cohort_figures(result, ci_method=ci_method).items():
        cap = plots.plot_caption(name)
        svg = _inline_svg(plots.render(fig, "svg"), name, title=cap)
        fig_html.append(f'<figure class="plot" id="plot-{name}"><div class="scroll">{svg}</div>'
                        f'<figcaption class="note">{html.escape(cap)}</figcaption></figure>')
    tick("cohort plots")
    as_of = result.as_of.isoformat() if isinstance(result.as_of, dt.date) else ""
    yield (
        _head(title)
        + f"<h1>{html.escape(title)}</h1>"
        + f"<p>{st['n_subjects']} subjects; results as of <time>{html.escape(as_of)}</time>.</p>"
        + f'<p class="disclaimer">{html.escape(DISCLAIMER)}</p>'
        + '<h2 id="cohort">Cohort</h2>'
        + "<h3>Best overall response</h3>"
        + '<p class="note">Denominator: all subjects. Confidence intervals are exact (Clopper-Pearson).</p>'
        + _pooling_note(st)
        + _rates_tables(st)
        + "<h3>Time to event (Kaplan-Meier)</h3>"
        + '<p class="note">Median and its 95% confidence interval (Brookmeyer-Crowley, '
        + html.escape(ci_method)
        + " transform); months are days / 30.4375.</p>"
        + '<div class="scroll" tabindex="0" role="region" aria-label="Kaplan-Meier medians">' + _km_table(st) + "</div>"
        + "<h3>Plots</h3>"
        + "".join(fig_html)
    )
    if listed:
        nav = "".join(f'<li><a href="#subject-{html.escape(s)}">{html.escape(s)}</a></li>' for s in listed)
        yield '<h2 id="subjects">Subjects</h2>' + f'<nav aria-label="Subjects"><ul>{nav}</ul></nav>'
        wanted = pl.DataFrame({"subject_id": listed})
        rows = {r["subject_id"]: r for r in result.summary.join(wanted, on="subject_id", how="semi").iter_rows(named=True)}
        for sid in listed:
            yield _subject_section(result, sid, rows[sid], treatments, today)
            tick(sid)
    elif cohort_only:
        yield ('<p class="note">Cohort only: no subject sections (<code>remission report --subjects ID,...</code> '
               "writes the sections of the subjects named).</p>")
    yield "</main></body></html>\n"


def build_report(result, **kw) -> str:
    """The report as an HTML string (:func:`report_parts` joined)."""
    return "".join(report_parts(result, **kw))


def write_report(
    result,
    path: str | Path,
    *,
    progress: Progress | None = None,
    ci_method: stats.CiMethod = "log-log",
    treatments: pl.DataFrame | None = None,
    title: str = "Remission report",
    subjects: list[str] | None = None,
    cohort_only: bool = False,
    today: dt.date | None = None,
) -> Path:
    """Write the self-contained HTML report of ``result`` to ``path``; returns the path.

    ``progress(done, total, label)`` is called after each step (statistics, plots, each
    subject).  ``treatments`` (the dataset's treatments table) draws treatment bands in the
    timelines; without it, the result's own ``treatments`` attribute is used when present,
    else the starts of the lines of therapy are marked.  ``subjects`` / ``cohort_only``:
    see :func:`report_parts`; the sections are written one by one as they are made (a
    temporary file renamed at the end, so a failed run leaves no partial report)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            for piece in report_parts(result, progress=progress, ci_method=ci_method, treatments=treatments,
                                      title=title, subjects=subjects, cohort_only=cohort_only, today=today):
                fh.write(piece)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
