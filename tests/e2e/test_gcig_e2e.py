"""End-to-end tests for GCIG CA-125 (issue 13): best response, confirmed best response,
lifecycle status and episodes, derived by hand from /work/shared/criteria/gcig_ca125.md and
remission_model.md before running the code.

Set-up: one subject (ovarian), carboplatin (chemotherapy, palliative = blocking) 2024-01-01 ->
2024-04-01, ULRR 35 U/mL (option `ulrr`). Qualification (remission_model §6.5 rule 3) then
needs a remission status on or after 2024-04-29.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import AssessOptions, assess

SID = "S1"
D = dt.date.fromisoformat


# ---- helpers (blood e2e; kept in this file on purpose) ---------------------------------
def run(ca125, lesions=(), as_of=None, **gcig_opts):
    """ca125: [(date, U/mL)]; lesions: [(date, lesion_id, role, diameter_mm, status)]."""
    subjects = pl.DataFrame({"subject_id": [SID], "cancer_type": ["ovarian"], "criteria": ["gcig"],
                             "diagnosis_date": ["2023-12-01"]})
    treatments = pl.DataFrame({"subject_id": [SID], "start_date": ["2024-01-01"], "end_date": ["2024-04-01"],
                               "modality": ["chemotherapy"], "intent": ["palliative"]})
    frames = {"subjects": subjects, "treatments": treatments,
              "labs": pl.DataFrame([{"subject_id": SID, "date": d, "test": "ca125", "value": float(v),
                                     "unit": "U/mL"} for d, v in ca125])}
    if lesions:
        frames["lesions"] = pl.DataFrame(
            [{"subject_id": SID, "date": d, "lesion_id": lid, "role": role, "organ": "liver", "nodal": False,
              "diameter_mm": None if mm is None else float(mm), "status": st, "method": "CT"}
             for d, lid, role, mm, st in lesions],
            schema={"subject_id": pl.Utf8, "date": pl.Utf8, "lesion_id": pl.Utf8, "role": pl.Utf8,
                    "organ": pl.Utf8, "nodal": pl.Boolean, "diameter_mm": pl.Float64, "status": pl.Utf8,
                    "method": pl.Utf8})
    gcig_opts.setdefault("ulrr", 35.0)
    opts = AssessOptions(as_of=D(as_of) if as_of else None, gcig=gcig_opts)
    return assess(options=opts, **frames)


def summary(r) -> dict:
    assert r.summary.height == 1
    return r.summary.row(0, named=True)


def episodes(r) -> list[dict]:
    return r.episodes.filter(pl.col("subject_id") == SID).sort("start_date").to_dicts()


def row(r, date) -> dict:
    rows = r.assessments.filter(pl.col("date") == D(date)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# gcig_ca125.md §7, day 0 = 2024-01-01: -5 -> 12-27, 21 -> 01-22, 35 -> 02-05, 49 -> 02-19,
# 90 -> 03-31, 150 -> 05-30, 160 -> 06-09.
EXAMPLE_A = [("2023-12-27", 400), ("2024-01-22", 180), ("2024-02-05", 120), ("2024-02-19", 60),
             ("2024-03-31", 60), ("2024-05-30", 130), ("2024-06-09", 150)]


# ---- cases -----------------------------------------------------------------------------
def test_worked_example_a_pr_then_category_b_pd():
    """gcig_ca125.md §7: 01-22 -55 % candidate; 02-19 (28 d later) -85 % and each sample <=
    previous -> confirmed response, not normalised (60 > 35) -> PR, dated 01-22 (C4, C5).
    Nadir 60, never normalised -> category B, threshold 120; 05-30 130 and 06-09 150 (10 d
    later) -> CA-125 PD dated 05-30 (§4). Best = confirmed best = PR (§6: only confirmed
    responses count), dated 01-22.
    Episode (CA-125 responses are remissions, remission_model §3/§15): partial from 01-22,
    confirmed 02-19 (GCIG confirm_days 28, §6.4); qualification needs a status >= 04-29
    (28 d after the chemotherapy ended) before the PD: none (03-31 is too early) ->
    not qualified, regrowth_within_sustain_window; ends 05-30 progression. Status progression."""
    r = run(EXAMPLE_A)
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-01-22")
    assert s["first_response_date"] == D("2024-01-22")
    assert s["progression_date"] == D("2024-05-30")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["confirmed_date"]) == ("partial", D("2024-01-22"), D("2024-02-19"))
    assert e["qualified"] is False
    assert e["not_qualified_reason"] == "regrowth_within_sustain_window"
    assert (e["end_date"], e["end_reason"]) == (D("2024-05-30"), "progression")


def test_worked_example_a_unconfirmed_candidate_is_not_a_response():
    """§3.2 C2 / §6 "only confirmed responses count": as of 02-05 the 01-22 candidate is not
    yet confirmed (the 28-day sample has not come) -> best response SD (non-response /
    non-PD, §3.2 C6; no SD minimum for CA-125, §6), no response date, no episode."""
    r = run(EXAMPLE_A, as_of="2024-02-05")
    s = summary(r)
    assert s["best_response"] == "SD"
    assert s["first_response_date"] is None
    assert episodes(r) == []


def test_worked_example_b_failed_candidate_moves_response_date():
    """§7b: 01-22 140 candidate; 02-05 160 > 1.10 x 140 = 154 -> C3 fails, candidate dropped;
    02-12 130 new candidate; 03-11 110 (28 d later, <= 1.10 x 130) -> confirmed PR dated 02-12.
    Best = confirmed best = PR dated 02-12; episode partial from 02-12, confirmed 03-11; as of
    03-11 the chemotherapy is still running -> not qualified, status responding."""
    ca = [("2023-12-29", 300), ("2024-01-22", 140), ("2024-02-05", 160), ("2024-02-12", 130),
          ("2024-03-11", 110)]
    r = run(ca)
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-02-12")
    (e,) = episodes(r)
    assert (e["start_date"], e["confirmed_date"]) == (D("2024-02-12"), D("2024-03-11"))
    assert e["qualified"] is False
    assert s["status"] == "responding"


def test_category_c_progression_pair_rule():
    """§7b second patient: pre-treatment 28 (<= ULRR: not evaluable for response, category C,
    threshold 70). 03-01 45; 03-31 72 (first qualifying); 04-05 80 only 5 d later; 04-14 76,
    14 d after 03-31 -> CA-125 PD dated 03-31. Not evaluable for response -> the non-PD sample
    is NE (C6); best = confirmed best = PD (order CR > PR > SD > PD > NE, §6).
    As of 04-05 the PD has no partner yet: no progression date, status progression_pending."""
    ca = [("2023-12-25", 28), ("2024-03-01", 45), ("2024-03-31", 72), ("2024-04-05", 80), ("2024-04-14", 76)]
    r = run(ca)
    s = summary(r)
    assert s["progression_date"] == D("2024-03-31")
    assert (s["best_response"], s["confirmed_best_response"]) == ("PD", "PD")
    assert s["status"] == "progression"
    assert episodes(r) == []
    s = summary(run(ca, as_of="2024-04-05"))
    assert s["progression_date"] is None
    assert s["status"] == "progression_pending"


def test_normalised_response_is_ca125_cr():
    """§3.2 C5 (report_normalised_as_cr): 01-22 150 (-62.5 %) candidate, 02-05 100, 02-19 30
    (28 d later, <= previous, <= ULRR 35) -> confirmed response, normalised -> CR dated 01-22.
    Best = confirmed best = CR; the episode starts 01-22 and its best type is complete."""
    ca = [("2023-12-27", 400), ("2024-01-22", 150), ("2024-02-05", 100), ("2024-02-19", 30)]
    r = run(ca)
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("CR", "CR")
    assert s["best_response_date"] == D("2024-01-22")
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("complete", D("2024-01-22"))


def test_pretreatment_sample_outside_14_days_not_evaluable_for_response():
    """§3.1: the pre-treatment sample must be within 14 days before the treatment start.
    Pre-treatment 2023-12-10 (22 d before) -> not evaluable for response: the later 50 %
    falls are NE, not PR (C6); no episode; no PD (threshold category A/B/C never met)."""
    ca = [("2023-12-10", 400), ("2024-01-22", 180), ("2024-02-05", 120), ("2024-02-19", 60)]
    r = run(ca)
    s = summary(r)
    assert s["best_response"] == "NE"
    assert s["progression_date"] is None
    assert episodes(r) == []


# Combined RECIST 1.1 + CA-125 (§5, §6): one liver target, 50 mm at baseline 2023-12-27.
COMB_CA = [("2023-12-27", 400), ("2024-01-22", 180), ("2024-02-05", 120), ("2024-02-19", 60),
           ("2024-02-26", 55), ("2024-04-22", 50), ("2024-06-03", 45)]
COMB_LES = [("2023-12-27", "T1", "target", 50, None), ("2024-02-26", "T1", "target", 40, None),
            ("2024-04-22", "T1", "target", 30, None), ("2024-06-03", "T1", "target", 30, None)]


def test_combined_response_dated_to_earlier_ca125_response():
    """Issue 13 §3 (GCIG) and gcig_ca125.md §6 "response duration from the first date of
    response (RECIST or CA-125, whichever is first)": CA-125 response confirmed 02-19, dated
    01-22 (a lab-only date). 02-26: RECIST SD (-20 %) + confirmed CA-125 response -> combined PR
    (§5). 04-22: RECIST PR (-40 %) -> PR; 06-03 PR. The date of response is the earlier of the
    two: 01-22. Best response PR; status partial_remission (qualified on 06-03, below)."""
    r = run(COMB_CA, lesions=COMB_LES)
    assert row(r, "2024-02-26")["overall_response"] == "PR"
    s = summary(r)
    assert s["best_response"] == "PR"
    assert s["status"] == "partial_remission"
    assert s["first_response_date"] == D("2024-01-22")
    assert s["best_response_date"] == D("2024-01-22")


def test_combined_confirmed_ca125_response_on_lab_only_date_opens_episode():
    """Issue 13 §3 (GCIG): a confirmed CA-125 response on a lab-only date can open the episode.
    Same data: the episode (partial) starts 01-22 (remission_model §6.3: start = first date
    the remission level was met), confirmation 02-19 (CA-125 confirmed 28 d later, also the
    first PARTIAL status >= 28 d after the start, §6.4), qualified on 06-03 (first status
    >= 04-29, 28 d after the chemotherapy ended)."""
    r = run(COMB_CA, lesions=COMB_LES)
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("partial", D("2024-01-22"))
    assert e["confirmed_date"] == D("2024-02-19")
    assert (e["qualified"], e["qualification_date"]) == (True, D("2024-06-03"))


def test_combined_progression_is_earlier_of_recist_and_ca125():
    """§4 "Overall progression ... the earlier of RECIST 1.1 PD and confirmed CA-125 PD" and §5
    ("any | PD (confirmed) | PD"). After the combined history above (CA-125 nadir 45, never
    normalised -> category B, threshold 90): 07-01 100 and 07-10 110 (9 d apart) -> CA-125 PD
    dated 07-01; imaging 07-15 RECIST PR (30 mm) + confirmed CA-125 PD -> combined PD.
    Progression date 07-01; the partial episode ends 07-01 as progression; status progression."""
    ca = COMB_CA + [("2024-07-01", 100), ("2024-07-10", 110), ("2024-07-15", 112)]
    les = COMB_LES + [("2024-07-15", "T1", "target", 30, None)]
    r = run(ca, lesions=les)
    assert row(r, "2024-07-15")["overall_response"] == "PD"
    s = summary(r)
    assert s["progression_date"] == D("2024-07-01")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["end_date"], e["end_reason"]) == (D("2024-07-01"), "progression")


def test_ca125_cr_then_category_a_pd_is_recurrence():
    """§4 category A (elevated, normalised on treatment -> threshold 2 x ULRR = 70) after a
    normalised response (CA-125 CR, §3.2 C5). 01-22 150 candidate, 02-19 30 confirms (CR);
    03-18 25, 05-06 20 (qualifies the episode: >= 04-29 and >= 28 d after start); 06-03 80 and
    06-12 90 (9 d apart, both >= 70) -> CA-125 PD dated 06-03.
    remission_model §6.3/§9: the complete episode ends 06-03 as recurrence; as of 06-12, the
    date the progression is confirmed, status recurrence; recurrence_date 06-03."""
    ca = [("2023-12-27", 400), ("2024-01-22", 150), ("2024-02-05", 100), ("2024-02-19", 30),
          ("2024-03-18", 25), ("2024-05-06", 20), ("2024-06-03", 80), ("2024-06-12", 90)]
    r = run(ca)
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("CR", "CR")
    (e,) = episodes(r)
    assert (e["type"], e["qualified"], e["qualification_date"]) == ("complete", True, D("2024-05-06"))
    assert (e["end_date"], e["end_reason"]) == (D("2024-06-03"), "recurrence")
    assert s["progression_date"] == D("2024-06-03")
    assert s["recurrence_date"] == D("2024-06-03")
    assert s["status"] == "recurrence"


def test_lab_only_normalised_ca125_is_the_combined_pr_not_cr():
    """gcig_ca125.md §5 ("SD or NE | CR or PR (response) -> PR"; CR needs RECIST CR too) and
    §6 (best combined response; response from the first date, RECIST or CA-125): CA-125 400
    -> 01-22 150 (-62.5 %, candidate) -> 02-05 100 -> 02-19 30 (28 d later, <= ULRR 35:
    normalised, CA-125 CR dated 01-22) on lab-only dates; imaging 02-26 RECIST SD (50 -> 40 mm,
    -20 %) + CA-125 CR (02-19, within 7 d) -> combined PR. The lab-only CR rows keep their
    CA-125 category but are PARTIAL; best = confirmed best = PR dated 01-22 (never CR);
    partial episode from 01-22."""
    ca = [("2023-12-27", 400), ("2024-01-22", 150), ("2024-02-05", 100), ("2024-02-19", 30)]
    les = [("2023-12-27", "T1", "target", 50, None), ("2024-02-26", "T1", "target", 40, None)]
    r = run(ca, lesions=les)
    d = row(r, "2024-01-22")
    assert (d["overall_response"], d["canonical_level"]) == ("CR", "PARTIAL")
    assert row(r, "2024-02-26")["overall_response"] == "PR"
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("PR", "PR")
    assert s["best_response_date"] == D("2024-01-22")
    assert s["first_response_date"] == D("2024-01-22")
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("partial", D("2024-01-22"))


def test_lab_only_ca125_response_after_progression_is_not_a_remission():
    """§4 overall progression = the earlier of RECIST PD and CA-125 PD; §5 "PD | any -> PD".
    CA-125 response confirmed 02-19 (dated 01-22); imaging 02-26 RECIST PD (50 -> 70 mm, +40 %)
    -> combined PD 02-26. The lab-only 03-10 sample (55, still a CA-125 PR) comes after the
    progression: it is not a remission level (no new episode). Best = confirmed best = PR
    01-22 (confirmed 02-19, 28 d); the partial episode from 01-22 ends 02-26 as progression."""
    ca = [("2023-12-27", 400), ("2024-01-22", 180), ("2024-02-05", 120), ("2024-02-19", 60), ("2024-03-10", 55)]
    les = [("2023-12-27", "T1", "target", 50, None), ("2024-02-26", "T1", "target", 70, None)]
    r = run(ca, lesions=les)
    assert row(r, "2024-02-26")["overall_response"] == "PD"
    assert row(r, "2024-01-22")["canonical_level"] == "PARTIAL"
    assert row(r, "2024-03-10")["canonical_level"] is None
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"], s["best_response_date"]) == ("PR", "PR", D("2024-01-22"))
    assert s["progression_date"] == D("2024-02-26")
    (e,) = episodes(r)
    assert (e["start_date"], e["end_date"], e["end_reason"]) == (D("2024-01-22"), D("2024-02-26"), "progression")
