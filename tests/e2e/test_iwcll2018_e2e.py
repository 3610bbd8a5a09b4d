"""End-to-end tests for iwCLL 2018 (issue 13): best response, confirmed best response,
lifecycle status and episodes, derived by hand from /work/shared/criteria/iwcll2018.md and
remission_model.md before running the code.

Timing rule (iwcll2018.md §5): with fixed-duration therapy only assessments >= 56 days after
the end of therapy count (earlier ones are INTERIM, never the best response) and such a
response needs no second assessment; with continuous therapy a response counts when a later
assessment >= 56 days on shows it (or better) with no PD between, dated to the first.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

from remission import AssessOptions, assess

SID = "S1"
D = dt.date.fromisoformat

FIXED = ("2024-01-01", "2024-06-16", "chemotherapy", "induction")   # example 1 (6 cycles)
CONTINUOUS = ("2024-01-01", None, "targeted", "continuous")         # example 2 (BTK inhibitor)
LAB_UNITS = {"lymphocytes": "10^9/L", "b_lymphocytes": "10^9/L", "platelets": "10^9/L", "anc": "10^9/L",
             "hemoglobin": "g/dL"}


# ---- helpers (blood e2e; kept in this file on purpose) ---------------------------------
def run(visits, treatment=FIXED, as_of=None, **cll_opts):
    """visits: {date: {name: value}}; lab names go to labs (LAB_UNITS), the rest to findings."""
    labs, fnd = [], []
    for d, vals in visits.items():
        for k, v in vals.items():
            if k in LAB_UNITS:
                labs.append({"subject_id": SID, "date": d, "test": k, "value": float(v), "unit": LAB_UNITS[k]})
            else:
                fnd.append({"subject_id": SID, "date": d, "finding": k, "value": str(v).lower()})
    subjects = pl.DataFrame({"subject_id": [SID], "cancer_type": ["cll"], "criteria": ["iwcll2018"],
                             "diagnosis_date": ["2023-12-01"]})
    s, e, m, i = treatment
    treatments = pl.DataFrame({"subject_id": [SID], "start_date": [s], "end_date": [e], "modality": [m],
                               "intent": [i]}, schema_overrides={"end_date": pl.Utf8})
    opts = AssessOptions(as_of=D(as_of) if as_of else None,
                         **({"iwcll2018": cll_opts} if cll_opts else {}))
    return assess(subjects=subjects, labs=pl.DataFrame(labs), findings=pl.DataFrame(fnd),
                  treatments=treatments, options=opts)


def summary(r) -> dict:
    assert r.summary.height == 1
    return r.summary.row(0, named=True)


def episodes(r) -> list[dict]:
    return r.episodes.filter(pl.col("subject_id") == SID).sort("start_date").to_dicts()


def row(r, date) -> dict:
    rows = r.assessments.filter(pl.col("date") == D(date)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# Example 1 baseline (iwcll2018.md §7): A_abn = 3 (nodes, spleen, ALC), B_abn = 2 (PLT, Hb).
BASE1 = {"node_spd_cm2": 40, "largest_node_cm": 4, "spleen_length_cm": 18, "liver": "normal",
         "marrow_cll": "cll_cells_present", "constitutional_symptoms": True,
         "lymphocytes": 80, "platelets": 90, "hemoglobin": 10.5, "anc": 2.0}
PR1 = {"node_spd_cm2": 15, "largest_node_cm": 2.2, "spleen_length_cm": 14, "liver": "normal",
       "marrow_cll": "b_lymphoid_nodules", "constitutional_symptoms": False,
       "lymphocytes": 3.5, "platelets": 140, "hemoglobin": 12.0, "anc": 2.0}
CR1 = {"node_spd_cm2": 1, "largest_node_cm": 1.0, "spleen_length_cm": 12, "liver": "normal",
       "marrow_cll": "normocellular_no_cll", "constitutional_symptoms": False,
       "lymphocytes": 2.0, "platelets": 150, "hemoglobin": 13.0, "anc": 2.0}


# ---- cases -----------------------------------------------------------------------------
def test_example1_fixed_duration_pr_then_pd_relapse():
    """iwcll2018.md §7 example 1: therapy ends 2024-06-16; 2024-08-27 (72 d later >= 56):
    SPD -62.5 %, spleen excess -80 %, ALC, PLT, Hb improved -> PR (3 A, 2 B improved). A
    response at the right time after fixed-duration therapy needs no second assessment
    (issue 13 §3; §5): best = confirmed best = PR dated 08-27.
    2025-04-24: SPD 24 = +60 % vs nadir 15 -> PD (D1); ALC 12 is not D3 (baseline reference).
    PD 240 d after the PR (>= 6 months) -> relapse (rule id RELAPSE).
    Episode partial from 08-27 ending 2025-04-24 as progression; no status >= 28 d after the
    start before the PD -> not qualified (regrowth_within_sustain_window); status progression."""
    r = run({"2023-12-31": BASE1, "2024-08-27": PR1,
             "2025-04-24": {"node_spd_cm2": 24, "largest_node_cm": 3.0, "lymphocytes": 12, "b_lymphocytes": 10}})
    assert row(r, "2024-08-27")["overall_response"] == "PR"
    assert row(r, "2025-04-24")["overall_response"] == "PD"
    assert "RELAPSE" in (row(r, "2025-04-24")["rule_ids"] or "")
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-08-27")
    assert s["progression_date"] == D("2025-04-24")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("partial", D("2024-08-27"))
    assert (e["end_date"], e["end_reason"]) == (D("2025-04-24"), "progression")
    assert e["not_qualified_reason"] == "regrowth_within_sustain_window"


def test_fixed_duration_response_alone_needs_no_second_assessment():
    """Issue 13 §3 (iwCLL): as of 2024-08-27 (the only post-therapy assessment, 72 d after the
    end) the PR is already the best and the confirmed best response (no second assessment);
    MISSING is never a best response when assessments exist."""
    r = run({"2023-12-31": BASE1, "2024-08-27": PR1})
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["confirmed_best_response_date"] == D("2024-08-27")


def test_interim_assessment_is_never_best_response():
    """§5: assessments < 56 d after the end of fixed-duration therapy are INTERIM and cannot be
    the best response. 2024-07-01 (15 d after the end) meets every CR criterion -> INTERIM;
    2024-08-27 PR. Best = confirmed best = PR dated 08-27 (not the interim CR)."""
    r = run({"2023-12-31": BASE1, "2024-07-01": CR1, "2024-08-27": PR1})
    assert "INTERIM" in (row(r, "2024-07-01")["rule_ids"] or "")
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-08-27")


def test_only_interim_assessments_best_response_is_ne_not_missing():
    """§5 + issue 13 §3: the only post-baseline assessment (2024-07-01, CR values) is INTERIM:
    not a best response; an assessment exists, so the best response is NE, not MISSING and
    not CR."""
    r = run({"2023-12-31": BASE1, "2024-07-01": CR1})
    s = summary(r)
    assert s["best_response"] not in ("CR", "MISSING")
    assert (s["best_response"], s["confirmed_best_response"]) == ("NE", "NE")


def test_cr_requires_marrow_then_complete_remission():
    """§4.2 (marrow required for CR) and §6 edge 4 (marrow not done -> PR at best).
    (a) 2024-08-27 all CR criteria but marrow not_done -> PR. (b) With a normocellular marrow
    without CLL -> CR; 2024-11-01 CR again. Episode complete from 08-27, confirmed 11-01 (iwCLL
    confirm_days 56, remission_model §6.4: 66 d), qualified 11-01 (>= 28 d from start and
    >= 28 d after the end of therapy 06-16); status complete_remission."""
    r = run({"2023-12-31": BASE1, "2024-08-27": {**CR1, "marrow_cll": "not_done"}})
    assert summary(r)["best_response"] == "PR"
    # iwCLL has no marrow carry-forward rule (unlike imwg.md §4), so the marrow is repeated.
    r = run({"2023-12-31": BASE1, "2024-08-27": CR1, "2024-11-01": CR1})
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("CR", "CR")
    assert s["status"] == "complete_remission"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["complete_start_date"]) == ("complete", D("2024-08-27"), D("2024-08-27"))
    assert (e["confirmed_date"], e["qualified"], e["qualification_date"]) == (D("2024-11-01"), True, D("2024-11-01"))


# Example 2 (continuous BTK inhibitor), baseline A_abn = 2 (nodes, ALC), B_abn = 0.
BASE2 = {"node_spd_cm2": 20, "largest_node_cm": 3.0, "spleen_length_cm": 12, "liver": "normal",
         "marrow_cll": "cll_cells_present", "constitutional_symptoms": False,
         "lymphocytes": 30, "b_lymphocytes": 28, "platelets": 150, "hemoglobin": 13.0, "anc": 3.0}


def _v2(spd, alc, plt, hb, b=None):
    v = {"node_spd_cm2": spd, "largest_node_cm": 2.0, "spleen_length_cm": 12, "liver": "normal",
         "constitutional_symptoms": False, "on_bcr_inhibitor": True,
         "lymphocytes": alc, "platelets": plt, "hemoglobin": hb, "anc": 3.0}
    if b is not None:
        v["b_lymphocytes"] = b
    return v


EX2 = {"2023-12-31": BASE2, "2024-03-30": _v2(9, 60, 160, 12.8, b=55), "2024-06-28": _v2(8, 14, 170, 13.1),
       "2024-09-26": _v2(7, 10, 150, 12.9), "2024-12-25": _v2(7, 9, 140, 9.8)}


def test_example2_continuous_prl_sustained_then_richter():
    """§7 example 2: day 90 (03-30) PR-L (-> PR by default), sustained by 06-28 (90 d >= 56);
    06-28, 09-26 PR; 12-25 Hb -3.2 g/dL on continuous therapy -> not PD (D5), PR;
    2025-03-25 Richter -> PD (D4, DISEASE TRANSFORMATION). Best = confirmed best = PR dated
    03-30; progression 2025-03-25. Continuous therapy does not block qualification
    (remission_model §2, §6.5): episode partial from 03-30, confirmed 06-28 (>= 56 d), qualified
    06-28; ends 2025-03-25 progression. As of 12-25 the status is partial_remission."""
    visits = {**EX2, "2025-03-25": {"richter_transformation": True, "on_bcr_inhibitor": True}}
    r = run(visits, treatment=CONTINUOUS, as_of="2024-12-25")
    assert row(r, "2024-12-25")["overall_response"] == "PR"
    assert summary(r)["status"] == "partial_remission"
    r = run(visits, treatment=CONTINUOUS)
    assert row(r, "2025-03-25")["overall_response"] == "PD"
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-03-30")
    assert s["progression_date"] == D("2025-03-25")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["confirmed_date"]) == ("partial", D("2024-03-30"), D("2024-06-28"))
    assert (e["qualified"], e["qualification_date"]) == (True, D("2024-06-28"))
    assert (e["end_date"], e["end_reason"]) == (D("2025-03-25"), "progression")


def test_example2_prl_not_counted():
    """§7 example 2 with pr_l_counts_as_pr = False: day 90 is SD, the best response is PR dated
    06-28 (sustained by 09-26)."""
    r = run(EX2, treatment=CONTINUOUS, pr_l_counts_as_pr=False)
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-06-28")


def test_continuous_response_not_sustained():
    """§5 continuous therapy: a response counts only when a later assessment >= 56 d on shows
    it with no PD between. PR 03-30 (SPD 9, ALC 14 = -53 %), then 04-29 (30 d) new node -> PD
    (D1). Unsustained PR: best (unconfirmed) response PR, confirmed best response SD (the PR
    held as stable disease until PD); progression 04-29; no qualified remission."""
    visits = {"2023-12-31": BASE2, "2024-03-30": _v2(9, 14, 160, 12.8),
              "2024-04-29": {**_v2(9, 14, 160, 12.8), "new_node": True}}
    r = run(visits, treatment=CONTINUOUS)
    s = summary(r)
    assert s["progression_date"] == D("2024-04-29")
    assert s["confirmed_best_response"] == "SD"
    assert all(not e["qualified"] for e in episodes(r))


def test_edge8_alc_rise_from_nadir_is_pd_only_with_nadir_reference():
    """iwcll2018.md §6 edge case 8 / D3: ALC 80 (baseline) -> 3.5 (nadir, 08-27 PR) -> 12 with
    B cells 10 on 2025-04-24, nodes and spleen unchanged from 08-27. Default
    alc_pd_reference = "baseline": 12 < 1.5 x 80 -> not PD: no progression, the episode
    (partial from 08-27) continues. With "nadir": +243 % and B >= 5 -> PD (D3) dated 2025-04-24,
    episode ends as progression."""
    later = {**PR1, "lymphocytes": 12, "b_lymphocytes": 10}
    later.pop("marrow_cll")
    visits = {"2023-12-31": BASE1, "2024-08-27": PR1, "2025-04-24": later}
    r = run(visits)
    assert summary(r)["progression_date"] is None
    (e,) = episodes(r)
    assert e["end_date"] is None
    r = run(visits, alc_pd_reference="nadir")
    assert row(r, "2025-04-24")["overall_response"] == "PD"
    s = summary(r)
    assert s["progression_date"] == D("2025-04-24")
    (e,) = episodes(r)
    assert (e["end_date"], e["end_reason"]) == (D("2025-04-24"), "progression")


def test_cytopenia_during_fixed_therapy_is_not_pd_but_after_3_months_is():
    """§4.1 D5 and §6 edge case 2: cytopenia due to CLL (marrow infiltrate) counts as PD only
    >= 3 months (90 d) after the end of therapy. End 2024-06-16.
    (a) 2024-08-27 PR; 2024-09-01 (77 d after the end) Hb 8.0 (-2.5 g/dL vs 10.5 and < 10),
    cytopenia_due_to_cll, marrow CLL cells -> not PD (too early): no progression.
    (b) the same on 2024-10-01 (107 d after the end) -> PD (D5) dated 10-01."""
    cyto = {"hemoglobin": 8.0, "cytopenia_due_to_cll": True, "marrow_cll": "cll_cells_present",
            "node_spd_cm2": 15, "largest_node_cm": 2.2, "spleen_length_cm": 14, "liver": "normal",
            "lymphocytes": 3.5, "platelets": 140, "anc": 2.0, "constitutional_symptoms": False}
    r = run({"2023-12-31": BASE1, "2024-08-27": PR1, "2024-09-01": cyto})
    assert summary(r)["progression_date"] is None
    r = run({"2023-12-31": BASE1, "2024-08-27": PR1, "2024-10-01": cyto})
    assert row(r, "2024-10-01")["overall_response"] == "PD"
    assert summary(r)["progression_date"] == D("2024-10-01")


def test_nadir_kept_across_an_assessment_without_node_measurement():
    """§4.1 D1 "≥ 50 % increase of the node SPD ... vs baseline or nadir": example 1 with a
    blood-count-only visit (2024-11-01, no node measurement) between the PR (SPD 15, nadir)
    and 2025-04-24 (SPD 24 = +60 % vs 15, -40 % vs baseline 40). The nadir 15 still applies
    -> PD (D1) on 2025-04-24."""
    r = run({"2023-12-31": BASE1, "2024-08-27": PR1,
             "2024-11-01": {"lymphocytes": 3.0, "platelets": 150, "hemoglobin": 12.5, "anc": 2.0},
             "2025-04-24": {"node_spd_cm2": 24, "largest_node_cm": 3.0, "lymphocytes": 12, "b_lymphocytes": 10}})
    assert row(r, "2025-04-24")["overall_response"] == "PD"
    assert "D1" in row(r, "2025-04-24")["rule_ids"]
