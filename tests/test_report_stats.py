"""Cohort statistics against reference values (issue "Explained to people", item 2).

* Clopper-Pearson: each bound is recomputed here from its definition with the Beta quantile
  (Clopper & Pearson 1934; e.g. Brown, Cai & DasGupta, Statist. Sci. 2001, eq. for the
  "exact" interval), and the closed forms of the edge cases are pinned: for k = 0 the upper
  bound is 1 - (alpha/2)^(1/n) and for k = n the lower bound is (alpha/2)^(1/n), so 0/10 gives
  [0, 0.3085] and 10/10 gives [0.6915, 1]; 5/10 gives [0.1871, 0.8129] (the tabulated exact
  interval for 5 of 10).
* Kaplan-Meier on the Freireich et al. (1963) 6-MP leukaemia remission data (the "gehan"
  data of R's MASS package; weeks of remission, + = censored). The medians, 23 weeks (6-MP)
  and 8 weeks (placebo), are the textbook values (e.g. Kleinbaum & Klein, "Survival
  Analysis", 3rd ed., ch. 2). The CI limits are computed independently below by the
  Brookmeyer-Crowley construction (plain Python: product-limit estimate, Greenwood variance,
  the transformed band, the first time the band is at or below 0.5), not copied from a
  source; the pinned numbers are what that construction gives: log (R survival's default):
  6-MP [16, not reached], placebo [4, 12]; log-log (SAS's default): 6-MP [13, not reached],
  placebo [4, 11].
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy.stats import beta, norm

from remission import assess
from remission.report import stats

# --- Clopper-Pearson ------------------------------------------------------------------


def cp_by_beta(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    lo = 0.0 if k == 0 else beta.ppf(alpha / 2, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(1 - alpha / 2, k + 1, n - k)
    return lo, hi


@pytest.mark.parametrize(
    "k,n,expected",
    [
        (0, 10, (0.0, 0.3085)),
        (5, 10, (0.1871, 0.8129)),
        (10, 10, (0.6915, 1.0)),
    ],
)
def test_clopper_pearson_published_cases(k, n, expected):
    lo, hi = stats.clopper_pearson(k, n)
    assert (round(lo, 4), round(hi, 4)) == expected
    # closed forms at the edges
    if k == 0:
        assert hi == pytest.approx(1 - 0.025 ** (1 / n), abs=1e-10)
    if k == n:
        assert lo == pytest.approx(0.025 ** (1 / n), abs=1e-10)


@pytest.mark.parametrize("k,n", [(1, 10), (3, 7), (17, 50), (36, 50), (49, 50), (0, 1), (1, 1), (12, 200)])
def test_clopper_pearson_equals_beta_quantile_formula(k, n):
    lo, hi = stats.clopper_pearson(k, n)
    elo, ehi = cp_by_beta(k, n)
    assert lo == pytest.approx(elo, abs=1e-9)
    assert hi == pytest.approx(ehi, abs=1e-9)


def test_response_rates_orr_dcr_cr_by_canonical_level():
    """ORR = CR + PR, DCR = CR + PR + SD (NON-CR/NON-PD and NC count as stable: remission_model
    §3), CR rate; MISSING and NE stay in the denominator."""
    codes = ["CR", "CR", "PR", "SD", "NON-CR/NON-PD", "NC", "PD", "NE", None, "PR"]
    r = stats.response_rates(codes)
    assert r["n_subjects"] == 10
    assert (r["orr"]["n"], r["dcr"]["n"], r["cr_rate"]["n"]) == (4, 7, 2)
    assert r["orr"]["rate"] == pytest.approx(0.4)
    assert (r["orr"]["ci_low"], r["orr"]["ci_high"]) == pytest.approx(cp_by_beta(4, 10))
    cats = {c["code"]: c["n"] for c in r["categories"]}
    assert cats == {"CR": 2, "PR": 2, "SD": 1, "NON-CR/NON-PD": 1, "NC": 1, "PD": 1, "NE": 1, "MISSING": 1}
    assert [c["code"] for c in r["categories"]][:2] == ["CR", "PR"]  # best first


# --- Kaplan-Meier on the 6-MP data ------------------------------------------------------

MP6 = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
PLACEBO = "1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23".split()


def parse(values):
    return [float(v.rstrip("+")) for v in values], [not v.endswith("+") for v in values]


def reference_median_ci(times, events, transform, level=0.95):
    """Independent plain-Python Brookmeyer-Crowley median CI (see module docstring)."""
    z = norm.ppf(1 - (1 - level) / 2)
    s, var = 1.0, 0.0
    steps = []  # (time, S, lower, upper) after each distinct time
    for t in sorted(set(times)):
        n = sum(1 for x in times if x >= t)
        d = sum(1 for x, e in zip(times, events) if x == t and e)
        if d == 0:
            continue
        s *= 1 - d / n
        var = var + d / (n * (n - d)) if n > d else math.inf
        se = math.sqrt(var)
        if s == 0:
            lo = hi = 0.0
        elif transform == "log":
            lo, hi = s * math.exp(-z * se), min(1.0, s * math.exp(z * se))
        else:
            lo, hi = s ** math.exp(-z * se / math.log(s)), s ** math.exp(z * se / math.log(s))
        steps.append((t, s, lo, hi))

    def first(i):
        return next((st[0] for st in steps if st[i] <= 0.5), None)

    return first(1), first(2), first(3)


@pytest.mark.parametrize(
    "data,method,expected",
    [
        (MP6, "log", (23.0, 16.0, None)),
        (MP6, "log-log", (23.0, 13.0, None)),
        (PLACEBO, "log", (8.0, 4.0, 12.0)),
        (PLACEBO, "log-log", (8.0, 4.0, 11.0)),
    ],
)
def test_km_median_and_ci_on_freireich_6mp(data, method, expected):
    times, events = parse(data)
    km = stats.kaplan_meier(times, events, ci_method=method)
    got = (km.median(), *km.median_ci())
    assert got == expected
    assert got == reference_median_ci(times, events, method)
    assert km.n == 21 and km.n_events == (9 if data is MP6 else 21)


def test_km_survival_values_6mp():
    """Product-limit values by hand: S(6) = 18/21, S(7) = 18/21 * 16/17, S(10) = ... * 14/15."""
    times, events = parse(MP6)
    km = stats.kaplan_meier(times, events)
    at = dict(zip(km.times.tolist(), km.survival.tolist()))
    assert at[6.0] == pytest.approx(18 / 21)
    assert at[7.0] == pytest.approx(18 / 21 * 16 / 17)
    assert at[10.0] == pytest.approx(18 / 21 * 16 / 17 * 14 / 15)
    assert km.number_at_risk(0) == 21 and km.number_at_risk(7) == 17 and km.number_at_risk(10) == 15


def test_km_log_band_is_greenwood():
    """At t = 6 (6-MP): var(log S) = 3 / (21 * 18); the log band is S exp(+-1.96 se)."""
    times, events = parse(MP6)
    km = stats.kaplan_meier(times, events, ci_method="log")
    i = km.times.tolist().index(6.0)
    se = math.sqrt(3 / (21 * 18))
    assert km.lower[i] == pytest.approx(18 / 21 * math.exp(-norm.ppf(0.975) * se))
    assert km.upper[i] == pytest.approx(min(1.0, 18 / 21 * math.exp(norm.ppf(0.975) * se)))


def test_ci_method_is_validated():
    with pytest.raises(ValueError):
        stats.kaplan_meier([1, 2], [1, 1], ci_method="plain")


# --- the bundled example ---------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return assess(Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example")


def test_cohort_statistics_on_example_are_json_and_match_the_summary(example):
    st = stats.cohort_statistics(example)
    json.dumps(st, allow_nan=False)  # JSON-serialisable, no NaN
    s = example.summary
    n = s.height
    assert st["n_subjects"] == n
    cb = s["confirmed_best_response"].to_list()
    orr = sum(c in ("CR", "PR") for c in cb)
    assert st["confirmed_best_response"]["orr"]["n"] == orr
    assert st["confirmed_best_response"]["orr"]["ci_low"] == pytest.approx(cp_by_beta(orr, n)[0])
    assert st["confirmed_best_response"]["cr_rate"]["n"] == cb.count("CR")
    dcr = sum(c in ("CR", "PR", "SD", "NON-CR/NON-PD", "NC") for c in cb)
    assert st["confirmed_best_response"]["dcr"]["n"] == dcr
    # PFS: every subject with a pfs_days, events as flagged
    pfs = s.filter(s["pfs_days"].is_not_null())
    assert st["km"]["pfs"]["n"] == pfs.height
    assert st["km"]["pfs"]["events"] == int(pfs["pfs_event"].sum())
    # risk table at time 0 = n
    assert st["km"]["pfs"]["risk_table"][0]["at_risk"] == pfs.height


def test_time_in_remission_uses_first_qualified_episode(example):
    data = stats.endpoint_data(example, "time_in_remission")
    ep = example.episodes.filter(example.episodes["qualified"])
    assert data.height == ep["subject_id"].n_unique()
    ex19 = data.filter(data["subject_id"] == "EX19").row(0, named=True)
    # EX19 episode 1: 2020-03-01 -> recurrence 2022-02-01 = 702 days (remission_model §12)
    assert ex19["days"] == 702 and ex19["event"] is True


def test_log_and_loglog_differ_only_in_the_band(example):
    a = stats.cohort_statistics(example, ci_method="log-log")["km"]["dor"]
    b = stats.cohort_statistics(example, ci_method="log")["km"]["dor"]
    assert a["median_days"] == b["median_days"]
    assert a["curve"]["survival"] == b["curve"]["survival"]
    assert a["curve"]["lower"] != b["curve"]["lower"]
