"""Plots of an :class:`~remission.pipeline.AssessResult` (issue "Explained to people", item 3).

Every plot has a ``*_data`` function (a polars frame: what is drawn, tested against the
result tables) and a ``*_figure`` function (a matplotlib :class:`~matplotlib.figure.Figure`
built without pyplot, so no global state and no display is needed; rendering uses the Agg
and SVG backends). :func:`render` turns a figure into PNG or SVG bytes and
:func:`write_plots` writes every cohort plot in both formats.

Drawn elements carry SVG ids (matplotlib ``gid``) so that a test or a browser can find them:
``bar-<subject>`` (waterfall bars), ``ref-plus20`` / ``ref-minus30`` (threshold lines, named
after the criterion's thresholds), ``spider-<subject>``, ``swim-<subject>``,
``ongoing-<subject>`` (swimmer arrows), ``prog-<subject>-<i>``, ``death-<subject>``,
``episode-<subject>-<n>``, ``km-curve``, ``km-band``, ``atrisk-<i>``, ``assess-<i>``,
``treatment-<i>``.

Documented choices:

* Waterfall and spider use the first line of therapy (the line of the best overall
  response, recist11.md §5) and one plot per criterion with measurements, because the
  measured quantity and the thresholds differ: RECIST 1.1 sum of diameters with lines at
  +20 % and -30 % (recist11.md §4), WHO sum of products with lines at +25 % and -50 %
  (who.md §4). The best % change is the minimum of ``change_from_baseline_pct`` over the
  post-baseline assessments of line 1; bars are coloured by the subject's best overall
  response (``best_response``, without confirmation, as in the issue).
* Swimmer: time 0 is the reference start of line 1 (spec/tables.md summary); a bar runs to
  the last known date (death, or the latest assessment, status or episode date). Remission
  episodes are drawn over the bar (light green partial, dark green complete, hatched when
  not qualified, remission_model.md §6.5); red crosses mark progression events (at the
  event date), a black square death, a diamond the start of a later line. An arrow is drawn
  where the response is still ongoing: the subject is alive and the latest episode is open
  (lifecycle ``responding``, ``partial_remission``, ``complete_remission`` or
  ``long_term_remission``, remission_model.md §9).
* Months are days / 30.4375 (remission_model.md §7).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any, Iterable

import matplotlib

matplotlib.use("Agg", force=False)  # no display; harmless when a backend is already set
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

import polars as pl  # noqa: E402

from remission.criteria import registry  # noqa: E402

from remission import schema as S  # noqa: E402
from remission.report import stats as st  # noqa: E402

DAYS_PER_MONTH = st.DAYS_PER_MONTH

#: colour of each canonical level (remission_model.md §3): the Okabe-Ito palette, told
#: apart with red-green colour blindness (blues for response, orange/vermillion for growth;
#: no red-green pair carries meaning)
LEVEL_COLOURS = {
    S.COMPLETE: "#0072b2",
    S.PARTIAL: "#56b4e9",
    S.MINOR: "#a6d8f0",
    S.STABLE: "#f0e442",
    S.PROGRESSION_PENDING: "#e69f00",
    S.PROGRESSION: "#d55e00",
    S.NOT_EVALUABLE: "#999999",
}
MISSING_COLOUR = "#dddddd"
#: above this many subjects a waterfall or spider is drawn as one rasterised collection
#: (no element per subject), so that 100,000 subjects draw in seconds
MANY = 400
#: the swimmer shows at most this many subjects: those followed longest (its caption says so)
SWIMMER_MAX = 60
EPISODE_COLOURS = {"partial": "#9fd3f0", "complete": "#0072b2"}


def _presentation(criteria: str | None):
    return registry.get(criteria).presentation if criteria in registry.CRITERIA else None


def _thresholds(criteria: str) -> list[tuple[float, str]]:
    """The criterion's declared reference lines (percent change, legend words); none when
    it declares none (never another criterion's)."""
    p = _presentation(criteria)
    if p is None:
        return []
    out = []
    if p.pd_threshold_pct is not None:
        out.append((p.pd_threshold_pct, p.pd_threshold_words or f"{p.pd_threshold_pct:+g}%"))
    if p.response_threshold_pct is not None:
        out.append((p.response_threshold_pct, p.response_threshold_words or f"{p.response_threshold_pct:+g}%"))
    return out


def _quantity(criteria: str) -> str:
    p = _presentation(criteria)
    q = p.change_caption if p and p.change_caption else (p.value_label if p and p.value_label else "measured value")
    # in a sentence: "sum of target lesion diameters", but "PSA", "CA-125", "M-protein" kept
    return q[0].lower() + q[1:] if len(q) > 1 and q[1].islower() else q


def criterion_label(criteria: str | None) -> str:
    p = _presentation(criteria)
    return p.label if p else (criteria or "")


def _value_label(criteria: str | None) -> str:
    p = _presentation(criteria)
    return (p.value_label if p else None) or "Measured value"


def plot_caption(name: str) -> str:
    """A cohort plot's caption in words, from the criterion's declaration
    ("Best change in PSA from baseline, PCWG3 (line 1)")."""
    kind, _, crit = name.partition("-")
    if kind == "waterfall":
        return f"Best change in {_quantity(crit)} from baseline, {criterion_label(crit)} (first line of therapy); one bar per subject."
    if kind == "spider":
        return f"Change in {_quantity(crit)} from baseline over time, {criterion_label(crit)} (first line of therapy); one line per subject, starting at its baseline."
    if kind == "km":
        return f"Kaplan-Meier estimate: {st.ENDPOINT_LABELS.get(crit, crit)}, with its 95% confidence band and the number at risk."
    if kind == "swimmer":
        return ("Swimmer plot: each subject's time on study, remission episodes, progression and death; "
                f"an arrow marks a response still ongoing (at most the {SWIMMER_MAX} subjects followed longest).")
    return name.replace("-", " ")


SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "remission", "font.size": 9}


def colour_of(code: str | None) -> str:
    lvl = st.level_of(code)
    return LEVEL_COLOURS.get(lvl, MISSING_COLOUR) if lvl else MISSING_COLOUR


def _ref_id(value: float) -> str:
    return f"ref-{'plus' if value > 0 else 'minus'}{abs(value):g}"


def render(fig: Figure, fmt: str = "svg") -> bytes:
    """PNG or SVG bytes of a figure (SVG text is kept as text, ids are deterministic)."""
    if fmt not in ("svg", "png"):
        raise ValueError("fmt must be 'svg' or 'png'")
    buf = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def _new_figure(w: float, h: float) -> Figure:
    with matplotlib.rc_context(SVG_RC):
        return Figure(figsize=(w, h), layout="constrained")


def _empty(fig: Figure, message: str) -> Figure:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def _legend_levels(ax, codes: Iterable[str | None], lines_: list[tuple[float, str]] = ()) -> None:
    seen: dict[str, str] = {}
    for c in codes:
        key = c or "MISSING"
        seen.setdefault(key, colour_of(c))
    handles = [Patch(facecolor=col, edgecolor="#333333", linewidth=0.4, label=code) for code, col in seen.items()]
    handles += [Line2D([], [], color="#555555", linestyle="--", linewidth=0.9, label=f"{val:+g}%: {words}") for val, words in lines_]
    if handles:
        ax.legend(handles=handles, title="Best response", loc="upper left", bbox_to_anchor=(1.04, 1.0), borderaxespad=0,
                  fontsize=7, title_fontsize=8)


# --------------------------------------------------------------------------------------
# Waterfall
# --------------------------------------------------------------------------------------


def measured_criteria(result) -> list[str]:
    """Criteria with measured % changes in line 1 (one waterfall/spider each)."""
    tp = result.assessments
    if tp.height == 0:
        return []
    return sorted(
        tp.filter(pl.col("change_from_baseline_pct").is_not_null() & (pl.col("line") == 1))
        .get_column("criteria")
        .drop_nulls()
        .unique()
        .to_list()
    )


def waterfall_data(result, criteria: str = "recist1.1") -> pl.DataFrame:
    """``subject_id, best_pct, best_response, colour`` sorted as drawn (largest growth first)."""
    best = (
        result.assessments.filter(
            (pl.col("criteria") == criteria)
            & (pl.col("line") == 1)
            & pl.col("change_from_baseline_pct").is_not_null()
            & pl.col("overall_response").is_not_null()
        )
        .group_by("subject_id")
        .agg(best_pct=pl.col("change_from_baseline_pct").min())
    )
    out = best.join(result.summary.select("subject_id", "best_response"), on="subject_id", how="left")
    out = out.with_columns(colour=pl.col("best_response").map_elements(colour_of, return_dtype=pl.String))
    return out.sort(["best_pct", "subject_id"], descending=[True, False])


def waterfall_figure(result, criteria: str = "recist1.1") -> Figure:
    data = waterfall_data(result, criteria)
    lines_ = _thresholds(criteria)
    quantity, label = _quantity(criteria), criterion_label(criteria)
    fig = _new_figure(max(6.0, min(0.22 * data.height + 2, 14.0)), 4.2)
    if data.height == 0:
        return _empty(fig, f"No measured assessments ({label})")
    ax = fig.add_subplot()
    x = list(range(data.height))
    if data.height > MANY:  # one collection of vertical strokes, rasterised
        ax.vlines(x, 0, data["best_pct"].to_list(), colors=data["colour"].to_list(), linewidth=max(0.2, 600 / data.height),
                  rasterized=True, gid="bars")
    else:
        bars = ax.bar(x, data["best_pct"].to_list(), color=data["colour"].to_list(), edgecolor="#333333", linewidth=0.4)
        for bar, sid in zip(bars, data["subject_id"].to_list()):
            bar.set_gid(f"bar-{sid}")
    for val, words in lines_:
        ax.axhline(val, color="#555555", linestyle="--", linewidth=0.9, gid=_ref_id(val))
        ax.text(1.005, val, f"{val:+g}%", va="center", ha="left", fontsize=7, color="#555555",
                transform=ax.get_yaxis_transform())
    ax.axhline(0, color="black", linewidth=0.6)
    if data.height <= 80:
        ax.set_xticks(x, data["subject_id"].to_list(), rotation=90, fontsize=7)
    else:  # too many subjects to name: the bars alone
        ax.set_xticks([])
        ax.set_xlabel(f"{data.height} subjects")
    ax.set_ylabel(f"Best change from baseline (%)\n{quantity}")
    ax.set_title(f"Best change in {quantity} from baseline, {label} (first line)")
    ax.set_xlim(-0.7, data.height - 0.3)
    _legend_levels(ax, data["best_response"].unique(maintain_order=True).to_list(), lines_)
    return fig


# --------------------------------------------------------------------------------------
# Spider
# --------------------------------------------------------------------------------------


def _baseline_dates(result, criteria: str) -> pl.DataFrame:
    """``subject_id, base_date``: the baseline of line 1 as the criterion placed it
    (``timepoints.baseline_date``), else the subject's first line-1 row with a value."""
    tp = result.timepoints
    if tp is not None and tp.height and "baseline_date" in tp.columns:
        b = (
            tp.filter((pl.col("criteria") == criteria) & (pl.col("line") == 1) & pl.col("baseline_date").is_not_null())
            .group_by("subject_id")
            .agg(base_date=pl.col("baseline_date").min())
        )
        if b.height:
            return b
    a = result.assessments.filter((pl.col("criteria") == criteria) & (pl.col("line") == 1) & pl.col("value").is_not_null())
    return a.group_by("subject_id").agg(base_date=pl.col("date").min())


def spider_data(result, criteria: str = "recist1.1") -> pl.DataFrame:
    """``subject_id, date, weeks, pct, best_response`` of line 1: each subject's line starts
    at its baseline (the criterion's baseline date, 0 %) and follows the measured changes
    from that baseline; partly measured time points have no change (issue 15 item 1) and
    are left out."""
    empty = pl.DataFrame(schema={"subject_id": pl.String, "date": pl.Date, "weeks": pl.Float64, "pct": pl.Float64, "best_response": pl.String})
    tp = result.assessments.filter(
        (pl.col("criteria") == criteria) & (pl.col("line") == 1) & pl.col("change_from_baseline_pct").is_not_null()
        & pl.col("overall_response").is_not_null()
    )
    if tp.height == 0:
        return empty
    base = _baseline_dates(result, criteria).join(tp.select("subject_id").unique(), on="subject_id", how="semi")
    start = base.select("subject_id", date="base_date", change_from_baseline_pct=pl.lit(0.0))
    pts = pl.concat([start, tp.select("subject_id", "date", "change_from_baseline_pct")], how="vertical_relaxed")
    out = (
        pts.join(base, on="subject_id")
        .filter(pl.col("date") >= pl.col("base_date"))
        .unique(["subject_id", "date"], keep="last", maintain_order=True)
        .with_columns(weeks=(pl.col("date") - pl.col("base_date")).dt.total_days() / 7.0, pct=pl.col("change_from_baseline_pct"))
        .join(result.summary.select("subject_id", "best_response"), on="subject_id", how="left")
        .select("subject_id", "date", "weeks", "pct", "best_response")
    )
    return out.sort("subject_id", "date")


def spider_figure(result, criteria: str = "recist1.1") -> Figure:
    data = spider_data(result, criteria)
    lines_ = _thresholds(criteria)
    quantity, label = _quantity(criteria), criterion_label(criteria)
    fig = _new_figure(7.0, 4.5)
    if data.height == 0:
        return _empty(fig, f"No measured assessments ({label})")
    ax = fig.add_subplot()
    codes = []
    n_subjects = data["subject_id"].n_unique()
    if n_subjects > MANY:  # one rasterised collection per response colour
        from matplotlib.collections import LineCollection

        lines_by: dict[str, list] = {}
        for sid, w, pc, code in zip(*(data[c].to_list() for c in ("subject_id", "weeks", "pct", "best_response"))):
            lines_by.setdefault(sid, [code, []])[1].append((w, pc))
        segs: dict[str, list] = {}
        for code, pts in lines_by.values():
            codes.append(code)
            segs.setdefault(colour_of(code), []).append(pts)
        for colour, s in segs.items():
            ax.add_collection(LineCollection(s, colors=colour, linewidths=0.4, alpha=0.5, rasterized=True))
        ax.autoscale_view()
    else:
        for (sid,), g in data.group_by("subject_id", maintain_order=True):
            code = g["best_response"][0]
            codes.append(code)
            ax.plot(g["weeks"].to_list(), g["pct"].to_list(), marker="o", markersize=3, linewidth=1.1,
                    color=colour_of(code), gid=f"spider-{sid}")
    for val, _words in lines_:
        ax.axhline(val, color="#555555", linestyle="--", linewidth=0.9, gid=_ref_id(val))
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel("Weeks since baseline")
    ax.set_ylabel(f"Change from baseline (%)\n{quantity}")
    ax.set_title(f"Change in {quantity} over time, {label} (first line)")
    _legend_levels(ax, codes, lines_)
    return fig


# --------------------------------------------------------------------------------------
# Swimmer
# --------------------------------------------------------------------------------------

ONGOING_STATES = frozenset({"responding", "partial_remission", "complete_remission", "long_term_remission"})


def _months(d: dt.date | None, origin: dt.date) -> float | None:
    return None if d is None else (d - origin).days / DAYS_PER_MONTH


def swimmer_data(result) -> list[dict[str, Any]]:
    """One dict per subject with an origin, in drawing order (longest first): ``subject_id,
    origin, end, end_months, best_response, status, ongoing, deceased, episodes`` (list of
    ``start, end, type, qualified, complete_start``, months), ``progressions`` (months),
    ``new_lines`` (months)."""
    s = result.summary
    seg = result.segments if result.segments is not None else S.empty(S.SEGMENTS)
    origin = dict(seg.filter(pl.col("line") == 1).select("subject_id", "reference_start").rows())
    first = dict(result.assessments.group_by("subject_id").agg(pl.col("date").min()).rows())
    last_dates: dict[str, dt.date] = {}

    def bump(sid: str, d: dt.date | None) -> None:
        if d is not None and (sid not in last_dates or d > last_dates[sid]):
            last_dates[sid] = d

    for sid, d in result.assessments.group_by("subject_id").agg(pl.col("date").max()).rows():
        bump(sid, d)
    if result.statuses is not None and result.statuses.height:
        for sid, d in result.statuses.group_by("subject_id").agg(pl.col("date").max()).rows():
            bump(sid, d)
    eps_by: dict[str, list[dict[str, Any]]] = {}
    for e in result.episodes.sort("subject_id", "episode").iter_rows(named=True):
        eps_by.setdefault(e["subject_id"], []).append(e)
        bump(e["subject_id"], e.get("end_date") or e.get("censor_date"))
    prog = (
        result.assessments.filter(pl.col("is_progression_event").fill_null(False))
        .select("subject_id", d=pl.coalesce("progression_event_date", "date"))
        .unique()
        .sort("subject_id", "d")
    )
    prog_by: dict[str, list[dt.date]] = {}
    for sid, d in prog.rows():
        prog_by.setdefault(sid, []).append(d)
    lines_by: dict[str, list[dt.date]] = {}
    for sid, d in seg.filter(pl.col("line") > 1).select("subject_id", "reference_start").rows():
        lines_by.setdefault(sid, []).append(d)

    out = []
    for row in s.iter_rows(named=True):
        sid = row["subject_id"]
        o = origin.get(sid) or first.get(sid)
        if o is None:
            continue
        deceased = row["status"] == "deceased"
        if deceased:
            bump(sid, row.get("status_date"))
        end = last_dates.get(sid, o)
        episodes = []
        for e in eps_by.get(sid, []):
            e_end = e.get("end_date") or e.get("censor_date") or end
            episodes.append({
                "episode": e["episode"],
                "start": _months(e["start_date"], o),
                "end": _months(e_end, o),
                "type": e["type"],
                "qualified": bool(e.get("qualified")),
                "complete_start": _months(e.get("complete_start_date"), o),
                "complete_end": _months(e.get("complete_end_date") or e_end, o) if e.get("complete_start_date") else None,
            })
        out.append({
            "subject_id": sid,
            "origin": o,
            "end": end,
            "end_months": _months(end, o),
            "best_response": row["best_response"],
            "status": row["status"],
            "deceased": deceased,
            "ongoing": (not deceased) and row["status"] in ONGOING_STATES,
            "episodes": episodes,
            "progressions": [_months(d, o) for d in prog_by.get(sid, [])],
            "new_lines": [_months(d, o) for d in lines_by.get(sid, [])],
        })
    out.sort(key=lambda r: (r["end_months"], r["subject_id"]))
    return out


def swimmer_figure(result) -> Figure:
    data = swimmer_data(result)
    if len(data) > SWIMMER_MAX:  # the longest-followed subjects (drawing order: longest last)
        data = data[-SWIMMER_MAX:]
    fig = _new_figure(9.0, max(3.0, 0.24 * len(data) + 1.6))
    if not data:
        return _empty(fig, "No subject has a start date")
    ax = fig.add_subplot()
    span = max(r["end_months"] for r in data) or 1.0
    for y, r in enumerate(data):
        sid = r["subject_id"]
        ax.barh(y, r["end_months"], left=0, height=0.7, color="#e3e3e3", edgecolor=colour_of(r["best_response"]),
                linewidth=1.2, gid=f"swim-{sid}")
        for e in r["episodes"]:
            hatch = None if e["qualified"] else "////"
            ax.barh(y, e["end"] - e["start"], left=e["start"], height=0.45, color=EPISODE_COLOURS["partial"],
                    hatch=hatch, edgecolor="#1f4e79", linewidth=0.3, gid=f"episode-{sid}-{e['episode']}")
            if e["complete_start"] is not None:
                ax.barh(y, e["complete_end"] - e["complete_start"], left=e["complete_start"], height=0.45,
                        color=EPISODE_COLOURS["complete"], hatch=hatch, edgecolor="#00304f", linewidth=0.3,
                        gid=f"complete-{sid}-{e['episode']}")
        for i, m in enumerate(r["progressions"]):
            ax.plot([m], [y], marker="X", color=LEVEL_COLOURS[S.PROGRESSION], markersize=7, linestyle="none",
                    gid=f"prog-{sid}-{i}")
        for m in r["new_lines"]:
            ax.plot([m], [y], marker="D", color="#2c5aa0", markersize=4, linestyle="none")
        if r["deceased"]:
            ax.plot([r["end_months"]], [y], marker="s", color="black", markersize=5, linestyle="none", gid=f"death-{sid}")
        if r["ongoing"]:
            arrow = ax.annotate("", xy=(r["end_months"] + 0.05 * span, y), xytext=(r["end_months"], y),
                                arrowprops=dict(arrowstyle="-|>", color="#2c5aa0", lw=1.3))
            arrow.arrow_patch.set_gid(f"ongoing-{sid}")
    ax.set_yticks(range(len(data)), [r["subject_id"] for r in data], fontsize=7)
    ax.set_xlim(0, span * 1.1)
    ax.set_ylim(-0.8, len(data) - 0.2)
    ax.set_xlabel("Months since the start of treatment (line 1)")
    ax.set_title("Swimmer plot: time on study, remission episodes and progression")
    handles = [
        Patch(facecolor=EPISODE_COLOURS["partial"], label="partial remission"),
        Patch(facecolor=EPISODE_COLOURS["complete"], label="complete remission"),
        Patch(facecolor="white", edgecolor="#1f4e79", hatch="////", label="response, not sustained"),
        Line2D([], [], marker="X", color=LEVEL_COLOURS[S.PROGRESSION], linestyle="none", label="progression"),
        Line2D([], [], marker="D", color="#2c5aa0", linestyle="none", label="new line of therapy"),
        Line2D([], [], marker="s", color="black", linestyle="none", label="death"),
        Line2D([], [], marker=r"$\rightarrow$", color="#2c5aa0", linestyle="none", markersize=10, label="response ongoing"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=7)
    return fig


# --------------------------------------------------------------------------------------
# Kaplan-Meier with a risk table
# --------------------------------------------------------------------------------------


def km_figure(result, endpoint: str = "pfs", *, ci_method: st.CiMethod = "log-log") -> Figure:
    """KM curve of an endpoint (stats.ENDPOINT_LABELS) with its band, censoring ticks, the
    median and a number-at-risk table under the x axis."""
    km = st.endpoint_km(result, endpoint, ci_method=ci_method)
    fig = _new_figure(7.0, 4.8)
    label = st.ENDPOINT_LABELS.get(endpoint, endpoint)
    if km is None:
        return _empty(fig, f"{label}: no subject has this endpoint")
    gs = fig.add_gridspec(2, 1, height_ratios=[4, 1])
    ax = fig.add_subplot(gs[0])
    tab = fig.add_subplot(gs[1], sharex=ax)
    t = km.times / DAYS_PER_MONTH
    ax.step(t, km.survival, where="post", color="#1f4e79", linewidth=1.6, gid="km-curve")
    ax.fill_between(t, km.lower, km.upper, step="post", color="#1f4e79", alpha=0.15, linewidth=0, gid="km-band")
    # censoring ticks at the censored times, at the curve's height
    cens = sorted(set(float(x) for x, e in zip(km.durations, km.observed) if not e))
    if cens:
        import numpy as np

        idx = np.searchsorted(km.times, cens, side="right") - 1
        ax.plot([c / DAYS_PER_MONTH for c in cens], km.survival[idx], marker="|", markersize=8, color="#1f4e79",
                linestyle="none", gid="km-censored")
    med = km.median()
    lo, hi = km.median_ci()
    fmt = lambda v: "NR" if v is None else f"{v / DAYS_PER_MONTH:.1f}"  # noqa: E731
    if med is not None:
        ax.plot([0, med / DAYS_PER_MONTH, med / DAYS_PER_MONTH], [0.5, 0.5, 0], color="#888888", linestyle=":",
                linewidth=0.9, gid="km-median")
    ax.set_ylim(0, 1.03)
    ax.set_ylabel("Probability")
    ax.set_title(
        f"{label}: n = {km.n}, events = {km.n_events}; median {fmt(med)} months "
        f"(95% CI {fmt(lo)} to {fmt(hi)}, {ci_method})",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)
    grid = st.risk_table_months(float(km.durations.max()))
    for i, g in enumerate(grid):
        tab.text(g, 0.5, str(km.number_at_risk(g * DAYS_PER_MONTH)), ha="center", va="center", fontsize=8,
                 gid=f"atrisk-{i}")
    tab.set_yticks([0.5], ["At risk"])
    tab.set_ylim(0, 1)
    tab.set_xticks(grid, [f"{g:g}" for g in grid])
    tab.set_xlim(-0.02 * km.durations.max() / DAYS_PER_MONTH, km.durations.max() / DAYS_PER_MONTH * 1.03)
    for side in ("top", "right", "left"):
        tab.spines[side].set_visible(False)
    tab.tick_params(axis="y", length=0)
    tab.set_xlabel("Months")
    return fig


# --------------------------------------------------------------------------------------
# Per-patient timeline
# --------------------------------------------------------------------------------------


def _treatments_of(result, subject_id: str, treatments: pl.DataFrame | None) -> pl.DataFrame | None:
    """The subject's treatment intervals: ``treatments`` if given, else a ``treatments``
    attribute of the result or of its ``dataset`` (None when the result does not carry
    them)."""
    if treatments is None:
        treatments = getattr(result, "treatments", None)
    if treatments is None and getattr(result, "dataset", None) is not None:
        treatments = getattr(result.dataset, "treatments", None)
    if treatments is None:
        return None
    return treatments.filter(pl.col("subject_id") == subject_id).sort("start_date")


def timeline_data(result, subject_id: str) -> pl.DataFrame:
    """``date, line, value, pct, overall_response, canonical_level, colour`` of the subject's
    assessments (baseline rows included, with a null response)."""
    a = result.assessments.filter(pl.col("subject_id") == subject_id).sort("date")
    return a.select(
        "date", "line", "value", pct=pl.col("change_from_baseline_pct"), overall_response=pl.col("overall_response"),
        canonical_level=pl.col("canonical_level"),
    ).with_columns(
        colour=pl.col("overall_response").map_elements(colour_of, return_dtype=pl.String).fill_null("#ffffff")
    )


def timeline_figure(result, subject_id: str, *, treatments: pl.DataFrame | None = None) -> Figure:
    """The measured quantity over time, assessments coloured by response, remission episodes
    shaded, progression events as red dashed lines and treatments as bands below."""
    if result.summary.filter(pl.col("subject_id") == subject_id).height == 0:
        raise KeyError(f"subject {subject_id!r} is not in the result")
    data = timeline_data(result, subject_id)
    tr = _treatments_of(result, subject_id, treatments)
    crit = result.summary.filter(pl.col("subject_id") == subject_id)["criteria"][0]
    fig = _new_figure(8.0, 3.8)
    gs = fig.add_gridspec(2, 1, height_ratios=[4, 1])
    ax = fig.add_subplot(gs[0])
    lane = fig.add_subplot(gs[1], sharex=ax)
    measured = data.filter(pl.col("value").is_not_null())
    if measured.height:
        for (line,), g in measured.group_by("line", maintain_order=True):
            ax.plot(g["date"].to_list(), g["value"].to_list(), color="#555555", linewidth=1.0, zorder=2)
        ax.set_ylabel(_value_label(crit))
        ys = measured["value"].to_list()
        for i, r in enumerate(measured.iter_rows(named=True)):
            ax.scatter([r["date"]], [r["value"]], s=42, color=r["colour"], edgecolor="black", linewidth=0.6, zorder=3,
                       gid=f"assess-{i}")
        # time points with no complete measurement (issue 15 item 1): marked on the axis,
        # never drawn as a value
        unmeasured = data.filter(pl.col("value").is_null() & pl.col("overall_response").is_not_null())
        for i, r in enumerate(unmeasured.iter_rows(named=True)):
            ax.scatter([r["date"]], [0], s=40, marker="x", color="#555555", linewidth=1.2, zorder=3, clip_on=False,
                       gid=f"unmeasured-{i}")
    else:  # stated responses only: the level as a category
        order = [S.PROGRESSION, S.PROGRESSION_PENDING, S.STABLE, S.MINOR, S.PARTIAL, S.COMPLETE]
        rows = data.filter(pl.col("canonical_level").is_in(order))
        for i, r in enumerate(rows.iter_rows(named=True)):
            ax.scatter([r["date"]], [order.index(r["canonical_level"])], s=42, color=r["colour"], edgecolor="black",
                       zorder=3, gid=f"assess-{i}")
        ax.set_yticks(range(len(order)), ["progression", "pending", "stable", "minor", "partial", "complete"])
        ax.set_ylim(-0.5, len(order) - 0.5)
        ax.set_ylabel("Stated response")
        ys = []
    for r in data.filter(pl.col("overall_response").is_not_null()).iter_rows(named=True):
        if r["canonical_level"] == S.PROGRESSION:
            ax.axvline(r["date"], color=LEVEL_COLOURS[S.PROGRESSION], linestyle="--", linewidth=1.0, zorder=1)
    for e in result.episodes.filter(pl.col("subject_id") == subject_id).sort("episode").iter_rows(named=True):
        end = e.get("end_date") or e.get("censor_date") or e["start_date"]
        if end <= e["start_date"]:
            end = e["start_date"] + dt.timedelta(days=3)
        ax.axvspan(e["start_date"], end, color=EPISODE_COLOURS["partial"], alpha=0.35 if e.get("qualified") else 0.15,
                   zorder=0, gid=f"episode-{e['episode']}", hatch=None if e.get("qualified") else "//")
        if e.get("complete_start_date"):
            c_end = e.get("complete_end_date") or end
            ax.axvspan(e["complete_start_date"], c_end, color=EPISODE_COLOURS["complete"], alpha=0.25, zorder=0,
                       gid=f"complete-{e['episode']}")
    as_of = result.as_of
    if tr is not None and tr.height:
        for i, t in enumerate(tr.iter_rows(named=True)):
            start = t["start_date"]
            stop = t["end_date"] or as_of or start
            if stop <= start:
                stop = start + dt.timedelta(days=3)
            intent = (t.get("intent") or "").lower()
            colour = "#9ecae1" if intent in S.NON_BLOCKING_INTENTS else ("#dddddd" if intent in S.IGNORED_INTENTS else "#3182bd")
            lane.axvspan(start, stop, ymin=0.15, ymax=0.85, color=colour, gid=f"treatment-{i}")
            lane.text(start, 0.72 if i % 2 == 0 else 0.28, f" {t.get('name') or t.get('modality') or ''}",
                      va="center", ha="left", fontsize=7, clip_on=True)
    else:
        seg = result.segments if result.segments is not None else S.empty(S.SEGMENTS)
        for i, (line, d) in enumerate(seg.filter(pl.col("subject_id") == subject_id).select("line", "reference_start").rows()):
            lane.axvline(d, color="#3182bd", linewidth=2, gid=f"treatment-{i}")
            lane.text(d, 0.5, f" line {line} starts", va="center", fontsize=7)
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    lane.xaxis.set_major_locator(locator)
    lane.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    lane.set_yticks([0.5], ["Treatment"])
    lane.set_ylim(0, 1)
    for side in ("top", "right"):
        lane.spines[side].set_visible(False)
    ax.tick_params(labelbottom=False)
    ax.grid(alpha=0.3)
    ax.set_title(f"{subject_id}: measurements, responses and remission episodes ({criterion_label(crit)})")
    codes = data["overall_response"].drop_nulls().unique(maintain_order=True).to_list()
    handles = [Patch(facecolor=colour_of(c), edgecolor="black", label=c) for c in codes]
    handles += [Patch(facecolor=EPISODE_COLOURS["partial"], alpha=0.5, label="remission episode"),
                Patch(facecolor=EPISODE_COLOURS["complete"], alpha=0.5, label="complete remission")]
    if measured.height and data.filter(pl.col("value").is_null() & pl.col("overall_response").is_not_null()).height:
        handles.append(Line2D([], [], marker="x", color="#555555", linestyle="none", label="not fully assessed"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    if ys:
        ax.set_ylim(0, max(ys) * 1.15 + 1)
    return fig


def timeline_text(result, subject_id: str) -> list[str]:
    """The timeline in words, one line per assessment (its text alternative): the date, the
    response in words and the measured value with its unit label; a partly measured time
    point says so (issue 15 item 1)."""
    from remission.explain.summary import format_date, response_words

    crit = result.summary.filter(pl.col("subject_id") == subject_id)["criteria"]
    label = _value_label(crit[0] if crit.len() else None)
    out = []
    for r in timeline_data(result, subject_id).iter_rows(named=True):
        what = "start (baseline)" if r["overall_response"] is None else response_words(r["overall_response"])
        if r["value"] is not None:
            what += f"; {label.lower()} {r['value']:g}"
        elif r["overall_response"] is not None:
            what += "; not fully assessed" if r["canonical_level"] == S.NOT_EVALUABLE else ""
        out.append(f"{format_date(r['date'])}: {what}")
    return out


def patient_timeline(result, subject_id: str, fmt: str = "svg", *, treatments: pl.DataFrame | None = None) -> bytes:
    """The per-patient timeline as SVG or PNG bytes (see :func:`timeline_figure`)."""
    return render(timeline_figure(result, subject_id, treatments=treatments), fmt)


# --------------------------------------------------------------------------------------
# All cohort plots
# --------------------------------------------------------------------------------------


def cohort_figures(result, *, ci_method: st.CiMethod = "log-log") -> dict[str, Figure]:
    """Every cohort plot, by name (``waterfall-<criteria>``, ``spider-<criteria>``,
    ``swimmer``, ``km-<endpoint>``)."""
    figs: dict[str, Figure] = {}
    for crit in measured_criteria(result):
        figs[f"waterfall-{crit}"] = waterfall_figure(result, crit)
        figs[f"spider-{crit}"] = spider_figure(result, crit)
    figs["swimmer"] = swimmer_figure(result)
    for endpoint in st.ENDPOINT_LABELS:
        figs[f"km-{endpoint}"] = km_figure(result, endpoint, ci_method=ci_method)
    return figs


def write_plots(result, out_dir: str | Path, *, ci_method: st.CiMethod = "log-log") -> list[Path]:
    """Write every cohort plot as PNG and SVG into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in cohort_figures(result, ci_method=ci_method).items():
        for fmt in ("png", "svg"):
            p = out / f"{name}.{fmt}"
            p.write_bytes(render(fig, fmt))
            paths.append(p)
    return paths
