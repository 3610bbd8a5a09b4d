"""Cohort statistics: response rates with exact confidence intervals and Kaplan-Meier
estimates of time-to-event endpoints (issue "Explained to people", item 2).

Rates
    Counts of each best response code and the composite rates

    * ORR, objective response rate: codes whose canonical level (remission_model.md §3,
      ``criteria.stated.LEVEL_BY_CODE``) is COMPLETE or PARTIAL (CR + PR);
    * DCR, disease control rate: COMPLETE, PARTIAL, MINOR or STABLE (CR + PR + SD, with
      RECIST's NON-CR/NON-PD, WHO's NC and RANO's MR counted as disease control);
    * CR rate: COMPLETE.

    Several criteria (issue 15 item 7): ``pooled_criteria`` names the criteria the pooled
    rates count together (a RECIST PR and an IMWG PR are counted by their canonical level,
    not as one category), and ``by_criteria`` gives each criterion's own rates; the report
    shows the pooled composite rates only with that statement, and the categories per
    criterion.

    Denominator (documented choice): every subject of ``result.summary`` (intention to
    treat), so a subject never assessed (best response MISSING) or NE counts as a
    non-responder, as in RECIST 1.1 §5 reporting. Both the best response without
    confirmation (``best_response``) and with confirmation (``confirmed_best_response``,
    the usual primary analysis of single-arm trials) are reported.

    Confidence intervals are exact Clopper-Pearson intervals (Clopper & Pearson 1934):
    lower = Beta quantile(alpha/2; k, n-k+1) (0 when k = 0), upper = Beta quantile(1-alpha/2;
    k+1, n-k) (1 when k = n), computed with :func:`scipy.stats.binomtest`.

Kaplan-Meier
    The product-limit estimate is fitted with :class:`lifelines.KaplanMeierFitter`. Its
    pointwise confidence band is built here from Greenwood's variance
    ``var(log S) = sum d / (n (n - d))`` with one of two transforms:

    * ``"log-log"`` (default; SAS PROC LIFETEST's CONFTYPE=LOGLOG, also lifelines' band):
      ``S ** exp(+-z * se / log S)``;
    * ``"log"`` (R ``survival::survfit``'s default ``conf.type = "log"``):
      ``S * exp(+-z * se)``, capped at 1.

    Median and its 95% CI (Brookmeyer & Crowley 1982, as R and SAS compute it): the median
    is the first time the curve is at or below 0.5 (when the curve equals 0.5 exactly on an
    interval, the midpoint of that interval and the next event time, as R and SAS do); the
    lower limit is the first time the lower band is at or below 0.5 and the upper limit the
    first time the upper band is at or below 0.5 (``None`` when it never is: "not
    reached"). Where the curve is 0 the band is 0 (Greenwood's variance is undefined there).

    Number at risk at time t: subjects whose time is >= t (still under observation just
    before t), the convention of risk tables under KM plots.

Endpoints (from the outputs of :func:`remission.assess`):

    * ``pfs``: ``summary.pfs_days`` / ``pfs_event`` (first line, remission_model.md §7;
      spec/tables.md summary);
    * ``dor``: duration of response, ``summary.dor_days`` / ``dor_event`` (responders
      only: subjects with a first response);
    * ``time_in_remission``: the first *qualified* remission episode of each subject
      (remission_model.md §6.5), ``episodes.duration_days``; event when the episode ended by
      recurrence, progression, death or loss of response, censored when it is ongoing or
      was censored at new therapy (one episode per subject keeps the observations
      independent).

Times are in days (remission_model.md §7: ``end - start``); medians are also given in months
(days / 30.4375).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Literal, Sequence

import numpy as np
import polars as pl
from scipy import stats as sps

from remission import schema as S
from remission.criteria.stated import LEVEL_BY_CODE, RANK_BY_LEVEL, canonical_code

CiMethod = Literal["log-log", "log"]
CI_METHODS = ("log-log", "log")
DAYS_PER_MONTH = 30.4375  # remission_model.md §7

ORR_LEVELS = frozenset({S.COMPLETE, S.PARTIAL})
DCR_LEVELS = frozenset({S.COMPLETE, S.PARTIAL, S.MINOR, S.STABLE})
CR_LEVELS = frozenset({S.COMPLETE})

#: events that end a remission for the time-in-remission endpoint (remission_model.md §7)
REMISSION_END_EVENTS = frozenset({"recurrence", "progression", "death", "loss_of_response"})

ENDPOINT_LABELS = {
    "pfs": "Progression-free survival",
    "dor": "Duration of response",
    "time_in_remission": "Time in remission (first sustained remission)",
}


# --------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion ``k / n``."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= k <= n:
        raise ValueError("k must be between 0 and n")
    ci = sps.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def rate(k: int, n: int, level: float = 0.95) -> dict[str, Any]:
    """``{"n": k, "of": n, "rate": k/n, "ci_low", "ci_high"}`` (None values when n = 0)."""
    if n == 0:
        return {"n": int(k), "of": 0, "rate": None, "ci_low": None, "ci_high": None}
    lo, hi = clopper_pearson(k, n, level)
    return {"n": int(k), "of": int(n), "rate": k / n, "ci_low": lo, "ci_high": hi}


def level_of(code: str | None) -> str | None:
    """Canonical level of a best-response code (remission_model.md §3); None for MISSING."""
    return LEVEL_BY_CODE.get(canonical_code(code)) if code is not None else None


def response_rates(codes: Iterable[str | None], level: float = 0.95) -> dict[str, Any]:
    """Counts and rates of each code, ORR, DCR and CR rate over all given subjects."""
    codes = list(codes)
    n = len(codes)
    counts: dict[str, int] = {}
    for c in codes:
        key = c if c is not None else "MISSING"
        counts[key] = counts.get(key, 0) + 1

    def order(code: str) -> tuple[int, str]:
        lvl = level_of(code)
        return (RANK_BY_LEVEL.get(lvl, 99) if lvl else 100, code)

    levels = [level_of(c) for c in codes]
    return {
        "n_subjects": n,
        "categories": [{"code": c, "level": level_of(c), **rate(counts[c], n, level)} for c in sorted(counts, key=order)],
        "orr": rate(sum(lv in ORR_LEVELS for lv in levels), n, level),
        "dcr": rate(sum(lv in DCR_LEVELS for lv in levels), n, level),
        "cr_rate": rate(sum(lv in CR_LEVELS for lv in levels), n, level),
    }


# --------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMEstimate:
    """A Kaplan-Meier curve with its pointwise band (step functions: the value at
    ``times[i]`` holds until ``times[i+1]``; ``times[0] = 0``)."""

    times: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray  # subjects at risk at each time (just before it)
    events: np.ndarray  # events at each time
    durations: np.ndarray
    observed: np.ndarray
    ci_method: str
    level: float

    @property
    def n(self) -> int:
        return int(self.durations.size)

    @property
    def n_events(self) -> int:
        return int(self.observed.sum())

    def median(self) -> float | None:
        return _crossing(self.times, self.survival, midpoint=True)

    def median_ci(self) -> tuple[float | None, float | None]:
        return _crossing(self.times, self.lower), _crossing(self.times, self.upper)

    def number_at_risk(self, t: float) -> int:
        return int((self.durations >= t).sum())


def _crossing(times: np.ndarray, curve: np.ndarray, *, midpoint: bool = False, p: float = 0.5) -> float | None:
    """First time the step curve is <= p (module docstring); None when never."""
    idx = np.nonzero(curve <= p + 1e-12)[0]
    if idx.size == 0:
        return None
    i = int(idx[0])
    if midpoint and abs(curve[i] - p) <= 1e-12 and i + 1 < times.size:
        return float((times[i] + times[i + 1]) / 2.0)
    return float(times[i])


def kaplan_meier(
    durations: Sequence[float],
    observed: Sequence[bool | int],
    *,
    ci_method: CiMethod = "log-log",
    level: float = 0.95,
) -> KMEstimate:
    """Kaplan-Meier estimate (lifelines) with a Greenwood band of the chosen transform."""
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}, not {ci_method!r}")
    from lifelines import KaplanMeierFitter

    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    if d.size == 0:
        raise ValueError("no observations")
    kmf = KaplanMeierFitter().fit(d, event_observed=e)
    table = kmf.event_table
    times = table.index.to_numpy(dtype=float)
    surv = kmf.survival_function_.iloc[:, 0].reindex(table.index).to_numpy(dtype=float)
    n_risk = table["at_risk"].to_numpy(dtype=float)
    n_ev = table["observed"].to_numpy(dtype=float)
    if times[0] != 0.0:  # lifelines starts its timeline at 0 unless a time is negative
        times = np.concatenate([[0.0], times])
        surv = np.concatenate([[1.0], surv])
        n_risk = np.concatenate([[float(d.size)], n_risk])
        n_ev = np.concatenate([[0.0], n_ev])
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_ev > 0, n_ev / (n_risk * (n_risk - n_ev)), 0.0)
    se = np.sqrt(np.cumsum(terms))  # standard error of log S (Greenwood)
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ci_method == "log":
            lower = surv * np.exp(-z * se)
            upper = np.minimum(1.0, surv * np.exp(z * se))
        else:
            log_s = np.log(surv)
            # at S = 1 (log S = 0) the band is degenerate at 1
            lower = np.where(surv >= 1.0, 1.0, surv ** np.exp(-z * se / log_s))
            upper = np.where(surv >= 1.0, 1.0, surv ** np.exp(z * se / log_s))
    zero = surv <= 0.0
    lower = np.where(zero, 0.0, lower)
    upper = np.where(zero, 0.0, upper)
    return KMEstimate(times, surv, lower, upper, n_risk.astype(int), n_ev.astype(int), d, e, ci_method, level)


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def risk_table_times(max_time: float, n_ticks: int = 6) -> list[float]:
    """Evenly spaced times (multiples of a round step in days) for a risk table."""
    if max_time <= 0:
        return [0.0]
    raw = max_time / max(1, n_ticks - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [float(step * i) for i in range(int(max_time // step) + 1)]


def risk_table_months(max_days: float, n_ticks: int = 6) -> list[float]:
    """Risk-table times in months (round steps) up to ``max_days``."""
    return risk_table_times(max_days / DAYS_PER_MONTH, n_ticks)


def km_summary(km: KMEstimate, *, label: str = "") -> dict[str, Any]:
    """JSON-serialisable description of a KM estimate."""
    med = km.median()
    lo, hi = km.median_ci()
    grid = risk_table_months(float(km.durations.max()))
    return {
        "label": label,
        "n": km.n,
        "events": km.n_events,
        "censored": km.n - km.n_events,
        "ci_method": km.ci_method,
        "median_days": _num(med),
        "median_ci_days": [_num(lo), _num(hi)],
        "median_months": _num(med / DAYS_PER_MONTH) if med is not None else None,
        "median_ci_months": [_num(v / DAYS_PER_MONTH) if v is not None else None for v in (lo, hi)],
        "curve": {
            "time_days": [float(t) for t in km.times],
            "survival": [_num(v) for v in km.survival],
            "lower": [_num(v) for v in km.lower],
            "upper": [_num(v) for v in km.upper],
            "at_risk": [int(v) for v in km.at_risk],
            "events": [int(v) for v in km.events],
        },
        "risk_table": [
            {"time_months": t, "time_days": t * DAYS_PER_MONTH, "at_risk": km.number_at_risk(t * DAYS_PER_MONTH)}
            for t in grid
        ],
    }


# --------------------------------------------------------------------------------------
# Endpoints of an AssessResult
# --------------------------------------------------------------------------------------


def endpoint_data(result, endpoint: str) -> pl.DataFrame:
    """``subject_id, days, event`` of one endpoint (module docstring, "Endpoints")."""
    s = result.summary
    if endpoint == "pfs":
        return s.select("subject_id", days=pl.col("pfs_days"), event=pl.col("pfs_event")).drop_nulls()
    if endpoint == "dor":
        return s.select("subject_id", days=pl.col("dor_days"), event=pl.col("dor_event")).drop_nulls()
    if endpoint == "time_in_remission":
        ep = result.episodes
        if ep.height == 0:
            return pl.DataFrame(schema={"subject_id": pl.String, "days": pl.Int64, "event": pl.Boolean})
        return (
            ep.filter(pl.col("qualified").fill_null(False))
            .sort("subject_id", "episode")
            .group_by("subject_id", maintain_order=True)
            .first()
            .select(
                "subject_id",
                days=pl.col("duration_days"),
                event=pl.col("end_reason").is_in(list(REMISSION_END_EVENTS)),
            )
            .drop_nulls()
        )
    raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINT_LABELS)}")


def endpoint_km(result, endpoint: str, *, ci_method: CiMethod = "log-log") -> KMEstimate | None:
    """KM estimate of an endpoint of ``result`` (None when no subject has it)."""
    data = endpoint_data(result, endpoint)
    if data.height == 0:
        return None
    return kaplan_meier(data["days"].to_list(), data["event"].to_list(), ci_method=ci_method)


def cohort_statistics(result, *, ci_method: CiMethod = "log-log", level: float = 0.95) -> dict[str, Any]:
    """Response rates and KM summaries of an :class:`~remission.pipeline.AssessResult`
    (module docstring); a JSON-serialisable dict."""
    if ci_method not in CI_METHODS:
        raise ValueError(f"ci_method must be one of {CI_METHODS}, not {ci_method!r}")
    s = result.summary
    out: dict[str, Any] = {
        "as_of": str(result.as_of) if result.as_of is not None else None,
        "n_subjects": s.height,
        "confidence_level": level,
        "rate_ci_method": "clopper-pearson",
        "km_ci_method": ci_method,
        "criteria": {k: int(v) for k, v in s.group_by("criteria").len().sort("criteria").rows()},
        "best_response": response_rates(s["best_response"].to_list(), level),
        "confirmed_best_response": response_rates(s["confirmed_best_response"].to_list(), level),
        "status": {k: int(v) for k, v in s.group_by("status").len().sort("status").rows()},
        # issue 15 item 7: which criteria the pooled rates above count together, and each
        # criterion's own rates (its own response categories, never mixed with another's)
        "pooled_criteria": sorted(c for c in s["criteria"].unique().to_list() if c is not None),
        "by_criteria": {},
        "km": {},
    }
    for (crit,), g in s.group_by("criteria", maintain_order=False):
        if crit is None:
            continue
        out["by_criteria"][crit] = {
            "best_response": response_rates(g["best_response"].to_list(), level),
            "confirmed_best_response": response_rates(g["confirmed_best_response"].to_list(), level),
        }
    out["by_criteria"] = dict(sorted(out["by_criteria"].items()))
    for endpoint, label in ENDPOINT_LABELS.items():
        km = endpoint_km(result, endpoint, ci_method=ci_method)
        out["km"][endpoint] = None if km is None else km_summary(km, label=label)
    return out
