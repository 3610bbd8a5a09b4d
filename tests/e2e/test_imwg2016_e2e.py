"""End-to-end tests for IMWG 2016 (issue 13): best response, confirmed best response,
lifecycle status and remission episodes, derived by hand from
/work/shared/criteria/imwg.md and remission_model.md before running the code.

Every case: one subject, baseline 2024-01-01 (serum M 3.0 g/dL, urine M 400 mg/24h: both
measurable, imwg.md §2.1), treatment VRd 2024-01-02 -> 2024-02-01 (ended, so qualification
(remission_model.md §6.5 rule 3) needs a status >= 2024-02-29) unless a case says otherwise.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import AssessOptions, assess

SID = "S1"
D = dt.date.fromisoformat


# ---- helpers (blood e2e; kept in this file on purpose) ---------------------------------
def _labs(rows):
    return pl.DataFrame(
        [{"subject_id": SID, "date": d, "test": t, "value": float(v), "unit": u} for d, t, v, u in rows],
        schema={"subject_id": pl.Utf8, "date": pl.Utf8, "test": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8},
    )


def _findings(rows):
    return pl.DataFrame(
        [{"subject_id": SID, "date": d, "finding": f, "value": str(v)} for d, f, v in rows],
        schema={"subject_id": pl.Utf8, "date": pl.Utf8, "finding": pl.Utf8, "value": pl.Utf8},
    )


def _treatments(rows):
    return pl.DataFrame(
        [{"subject_id": SID, "start_date": s, "end_date": e, "modality": m, "intent": i, "line": ln}
         for s, e, m, i, ln in rows],
        schema={"subject_id": pl.Utf8, "start_date": pl.Utf8, "end_date": pl.Utf8, "modality": pl.Utf8,
                "intent": pl.Utf8, "line": pl.Int64},
    )


def run(labs, findings=(), treatments=None, as_of=None, criterion_options=None, death_date=None):
    if treatments is None:
        treatments = [("2024-01-02", "2024-02-01", "chemotherapy", "induction", None)]
    subjects = pl.DataFrame({"subject_id": [SID], "cancer_type": ["multiple_myeloma"],
                             "criteria": ["imwg2016"], "diagnosis_date": ["2023-12-01"],
                             "death_date": [death_date]}, schema_overrides={"death_date": pl.Utf8})
    kw = {}
    if findings:
        kw["findings"] = _findings(findings)
    opts = AssessOptions(as_of=D(as_of) if as_of else None, **(criterion_options or {}))
    return assess(subjects=subjects, labs=_labs(labs), treatments=_treatments(treatments), options=opts, **kw)


def summary(r) -> dict:
    assert r.summary.height == 1
    return r.summary.row(0, named=True)


def episodes(r) -> list[dict]:
    return r.episodes.filter(pl.col("subject_id") == SID).sort("start_date").to_dicts()


def row(r, date) -> dict:
    rows = r.assessments.filter(pl.col("date") == D(date)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def sm(d, serum, urine):
    return [(d, "serum_m_protein", serum, "g/dL"), (d, "urine_m_protein", urine, "mg/24h")]


BASE = sm("2024-01-01", 3.0, 400)


# ---- cases -----------------------------------------------------------------------------
def test_worked_example_1_pr_then_confirmed_pd():
    """imwg.md §7 example 1 (dates 2024-03-01 C2, 04-01 C3, 07-01 C6, 10-01 C9, 11-01 C10).

    C2 1.2/150 PR; C3 1.0/90 PR; C6 0.4/60 PR; C9 0.9 = +0.5 g/dL and +125 % vs nadir 0.4 ->
    PD1 (">=" inclusive); C10 confirms -> PD dated C9 (§4: date of the first of the two).
    Confirmed best response PR (C2 confirmed by C3). Best response PR.
    Episode (remission_model §6.3/6.4/6.5): starts C2 (PARTIAL), confirmation = next
    PARTIAL status (confirm_days 1) = C3; qualification: C3 is >= 28 d after C2 (31) and >= 28 d
    after the end of treatment 02-01 (60) -> qualified 04-01; ends 10-01 with PD, current type
    PARTIAL -> end_reason progression. Status as of 11-01: progression (§9).
    """
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.0, 90) + sm("2024-07-01", 0.4, 60) \
        + sm("2024-10-01", 0.9, 80) + sm("2024-11-01", 1.0, 90)
    r = run(labs)
    s = summary(r)
    assert s["best_response"] == "PR"
    assert s["confirmed_best_response"] == "PR"
    assert s["confirmed_best_response_date"] == D("2024-03-01")
    assert s["progression_date"] == D("2024-10-01")
    assert s["recurrence_date"] is None
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert e["type"] == "partial"
    assert e["start_date"] == D("2024-03-01")
    assert e["confirmed_date"] == D("2024-04-01")
    assert e["qualified"] is True
    assert e["qualification_date"] == D("2024-04-01")
    assert e["end_date"] == D("2024-10-01")
    assert e["end_reason"] == "progression"


def test_worked_example_1_before_confirmation_pd_is_pending():
    """imwg.md §7 example 1, "Before C10 is available, C9 is reported as unconfirmed PD
    (pending_progression, confirmed level stays PR)". As of C9 (2024-10-01): the row says PD
    (the time point as it stood), it is a pending progression; no progression date yet; the
    episode is open; lifecycle status progression_pending (remission_model.md §9)."""
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.0, 90) + sm("2024-07-01", 0.4, 60) \
        + sm("2024-10-01", 0.9, 80)
    r = run(labs, as_of="2024-10-01")
    s = summary(r)
    assert row(r, "2024-10-01")["overall_response"] == "PD"
    assert row(r, "2024-10-01")["pending_progression"] is True
    assert s["confirmed_best_response"] == "PR"
    assert s["progression_date"] is None
    assert s["status"] == "progression_pending"
    (e,) = episodes(r)
    assert e["end_date"] is None


def test_unconfirmed_pr_then_confirmed_pd_gives_sd():
    """Issue 13 §3 / imwg.md §4 confirmation table: a response followed by PD is confirmed as
    max(SD, last confirmed level) = SD. Confirmed best response is a *response* category
    ranked by the response order (README: sCR > CR > VGPR > PR > MR > SD > PD), so
    confirmed best response = SD (not PD); best (unconfirmed) response = PR.

    03-01 serum 1.2 (-60 %), urine 150 (< 200) -> PR. 04-01 serum 1.8: +0.6 g/dL and +50 % vs
    nadir 1.2 -> PD1; 05-01 serum 2.0 confirms -> PD dated 04-01. The PR never confirmed, so its
    canonical level is STABLE (remission_model §3, IMWG uses the confirmed status): no episode.
    """
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.8, 150) + sm("2024-05-01", 2.0, 150)
    r = run(labs)
    s = summary(r)
    assert s["best_response"] == "PR"
    assert s["progression_date"] == D("2024-04-01")
    assert s["status"] == "progression"
    assert episodes(r) == []
    assert s["confirmed_best_response"] == "SD"


def test_vgpr_confirmed_only_as_pr_when_next_is_lower():
    """imwg.md §4 table row "response | lower response -> max(L(next), last confirmed)".
    03-01 serum 0.2 (-93 %), urine 50 (< 100) -> VGPR. 04-01 and 05-01 serum 0.5 (-83 %),
    urine 150 (< 200) -> PR (vs nadir 0.2: +0.3 g/dL < 0.5, urine +100 < 200: not PD).
    Confirmed: 03-01 = PR (next is lower), 04-01 = PR. Best response VGPR; confirmed best PR,
    dated 03-01 (the first of the two assessments, §4). Episode partial from 03-01, open
    (censored), qualified 04-01; status partial_remission."""
    labs = BASE + sm("2024-03-01", 0.2, 50) + sm("2024-04-01", 0.5, 150) + sm("2024-05-01", 0.5, 150)
    r = run(labs)
    s = summary(r)
    assert s["best_response"] == "VGPR"
    assert s["confirmed_best_response"] == "PR"
    assert s["confirmed_best_response_date"] == D("2024-03-01")
    assert s["progression_date"] is None
    assert s["status"] == "partial_remission"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["qualified"], e["end_reason"]) == (
        "partial", D("2024-03-01"), True, "censored")


def test_nadir_02_to_06_is_not_pd():
    """imwg.md §6 edge case 1: nadir 0.2 -> 0.6 g/dL is +200 % but +0.4 < 0.5 -> not PD.
    03-01, 04-01 serum 0.2 urine 50 -> VGPR twice -> confirmed VGPR (dated 03-01).
    05-01, 06-01 serum 0.6 (-80 %) urine 50 -> PR. No progression; confirmed best VGPR;
    the episode continues (censored), status partial_remission."""
    labs = BASE + sm("2024-03-01", 0.2, 50) + sm("2024-04-01", 0.2, 50) + sm("2024-05-01", 0.6, 50) \
        + sm("2024-06-01", 0.6, 50)
    r = run(labs)
    s = summary(r)
    assert row(r, "2024-05-01")["overall_response"] == "PR"
    assert s["best_response"] == "VGPR"
    assert s["confirmed_best_response"] == "VGPR"
    assert s["progression_date"] is None
    assert s["status"] == "partial_remission"
    (e,) = episodes(r)
    assert e["end_reason"] == "censored"


def test_imaging_pd_needs_no_confirmation():
    """imwg.md §3.1 PD6, §4 ("PD by imaging | any | PD"), §6 edge case 6: a new lytic lesion
    with falling M-protein is PD at once, dated that day. 03-01 and 04-01 PR (1.2/150 and
    1.0/150) -> confirmed PR; 05-01 serum 0.9 falling but new_bone_lesion -> PD 05-01 with no
    later sample. Episode (partial, 03-01, qualified 04-01) ends 05-01, progression."""
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.0, 150) + sm("2024-05-01", 0.9, 150)
    r = run(labs, findings=[("2024-05-01", "new_bone_lesion", "true")])
    s = summary(r)
    assert row(r, "2024-05-01")["overall_response"] == "PD"
    assert s["best_response"] == "PR"
    assert s["confirmed_best_response"] == "PR"
    assert s["progression_date"] == D("2024-05-01")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["end_date"], e["end_reason"]) == (D("2024-05-01"), "progression")


def test_response_after_new_therapy_does_not_confirm():
    """imwg.md §4: "A response cannot be confirmed by an assessment dated after the start of
    new therapy"; §6 edge case 7 ("responses after new therapy never confirm responses").
    Line 1 VRd 01-02 -> 03-10; line 2 starts 03-15. 03-01 PR (1.2/150) is followed only by the
    04-01 sample, after the new therapy -> confirmed max(SD) = SD. The summary reports the
    first line (tables.md summary): best PR, confirmed best SD."""
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.1, 150)
    tr = [("2024-01-02", "2024-03-10", "chemotherapy", "induction", 1),
          ("2024-03-15", None, "chemotherapy", "salvage", 2)]
    r = run(labs, treatments=tr)
    s = summary(r)
    assert s["best_response"] == "PR"
    assert s["confirmed_best_response"] == "SD"


def _cr_labs():
    """CR at 03-01 and 04-01: serum and urine IFE negative, M 0 / 0, marrow 2 % (03-01,
    carried forward to 04-01, §4 / carry_forward_marrow_imaging); baseline BMPC 40 %.
    No FLC ratio / clonality -> CR, not sCR (§3.2)."""
    labs = BASE + [("2024-01-01", "marrow_plasma_cells_pct", 40, "%")] + sm("2024-03-01", 0, 0) \
        + [("2024-03-01", "marrow_plasma_cells_pct", 2, "%")] + sm("2024-04-01", 0, 0) + sm("2024-05-01", 0, 0)
    f = [(d, t, "negative") for d in ("2024-03-01", "2024-04-01", "2024-05-01") for t in ("serum_ife", "urine_ife")]
    return labs, f


def test_cr_then_confirmed_pd_is_recurrence_on_confirmation_date():
    """Lifecycle, remission_model.md §9 and §6.3: PROGRESSION ending an episode whose
    current_type is COMPLETE -> end_reason recurrence and status `recurrence`.
    CR 03-01, 04-01, 05-01 (confirmed CR dated 03-01; episode complete from 03-01, qualified
    04-01). 07-01 serum 0.6 (nadir 0: nadir-zero rule, +0.6 >= 0.5 -> PD1, §3.1, §6 edge 9),
    08-01 serum 0.8 confirms -> PD dated 07-01.
    As of 08-01 (the date the progression is confirmed): status recurrence, episode end 07-01
    reason recurrence, progression_date = recurrence_date = 07-01."""
    labs, f = _cr_labs()
    labs += sm("2024-07-01", 0.6, 0) + sm("2024-08-01", 0.8, 0)
    r = run(labs, findings=f, as_of="2024-08-01")
    s = summary(r)
    assert s["best_response"] == "CR"
    assert s["confirmed_best_response"] == "CR"
    (e,) = episodes(r)
    assert e["type"] == "complete"
    assert e["complete_start_date"] == D("2024-03-01")
    assert e["qualified"] is True
    assert (e["end_date"], e["end_reason"]) == (D("2024-07-01"), "recurrence")
    assert s["progression_date"] == D("2024-07-01")
    assert s["recurrence_date"] == D("2024-07-01")
    assert s["status"] == "recurrence"


def test_cr_then_unconfirmed_pd_is_pending():
    """Same CR history; as of 07-01 the PD is unconfirmed (biochemical, §4): status
    progression_pending (remission_model.md §9), the complete episode still open."""
    labs, f = _cr_labs()
    labs += sm("2024-07-01", 0.6, 0)
    r = run(labs, findings=f, as_of="2024-07-01")
    s = summary(r)
    assert s["status"] == "progression_pending"
    assert s["progression_date"] is None
    (e,) = episodes(r)
    assert e["end_date"] is None


def test_relapse_from_cr_closes_complete_subperiod_then_pd():
    """imwg.md §5.3 (relapse from CR: reappearance by IFE) and the note after §5.4; remission
    model §6.6 loss_of_complete and §11 edge case 4 (PR -> CR -> PR: one episode, complete
    sub-period closed).
    CR 03-01..05-01; 06-01 serum IFE positive with M 0 -> relapse from CR, not PD (§3.2 last
    bullets): complete_end_date 06-01, the episode continues as partial. 07-01 serum 0.6 and
    08-01 0.8 -> confirmed PD dated 07-01 (nadir 0). The episode's current type was PARTIAL
    when PD came -> end_reason progression, status progression."""
    labs, f = _cr_labs()
    labs += sm("2024-06-01", 0, 0) + sm("2024-07-01", 0.6, 0) + sm("2024-08-01", 0.8, 0)
    f += [("2024-06-01", "serum_ife", "positive"), ("2024-06-01", "urine_ife", "negative")]
    r = run(labs, findings=f)
    s = summary(r)
    assert s["confirmed_best_response"] == "CR"
    (e,) = episodes(r)
    assert e["complete_start_date"] == D("2024-03-01")
    assert e["complete_end_date"] == D("2024-06-01")
    assert (e["end_date"], e["end_reason"]) == (D("2024-07-01"), "progression")
    assert s["progression_date"] == D("2024-07-01")
    assert s["status"] == "progression"


def test_scr_with_flow_mrd_negative():
    """imwg.md §3.2 sCR (CR + normal FLC ratio + marrow not clonal) and §5.1 flow MRD-negative
    (NGF, sensitivity 1e-5). 03-01 and 04-01: CR data plus FLC ratio 1.0 and not-clonal marrow
    (carried forward), MRD NGF negative at 1e-5 on 03-01. Best and confirmed best response sCR;
    the CR row names the MRD category FLOW_MRD_NEGATIVE (docs/criteria_blood.md: on
    non_target_response). Episode complete from 03-01."""
    labs = BASE + [("2024-01-01", "marrow_plasma_cells_pct", 40, "%")] + sm("2024-03-01", 0, 0) \
        + [("2024-03-01", "marrow_plasma_cells_pct", 2, "%"), ("2024-03-01", "flc_ratio", 1.0, "ratio"),
           ("2024-04-01", "flc_ratio", 1.1, "ratio")] + sm("2024-04-01", 0, 0)
    f = [(d, t, "negative") for d in ("2024-03-01", "2024-04-01") for t in ("serum_ife", "urine_ife")]
    f += [("2024-03-01", "marrow_clonality", "not_clonal"), ("2024-03-01", "mrd", "negative"),
          ("2024-03-01", "mrd_method", "ngf"), ("2024-03-01", "mrd_sensitivity", "1e-5")]
    r = run(labs, findings=f)
    s = summary(r)
    assert s["best_response"] == "sCR"
    assert s["confirmed_best_response"] == "sCR"
    assert row(r, "2024-03-01")["non_target_response"] == "FLOW_MRD_NEGATIVE"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["complete_start_date"]) == ("complete", D("2024-03-01"), D("2024-03-01"))


def test_worked_example_1_durations():
    """Durations of worked example 1 (tables.md summary; remission_model §7, exclusive day
    counts): DoR = episode start 03-01 -> PD 10-01 = 214 days (event); PFS from the reference
    start (first active treatment, 2024-01-02) to PD 10-01 = 273 days (event)."""
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.0, 90) + sm("2024-07-01", 0.4, 60) \
        + sm("2024-10-01", 0.9, 80) + sm("2024-11-01", 1.0, 90)
    s = summary(run(labs))
    assert (s["dor_days"], s["dor_event"]) == (214, True)
    assert (s["pfs_days"], s["pfs_event"]) == (273, True)


def test_worked_example_2_flc_only():
    """imwg.md §7 example 2 (κ light-chain, FLC-only disease; serum 0.4 and urine 150 not
    measurable; κ 60 / λ 1.0 -> dFLC 59). Dates C2..C8 = 2024-03-01 .. 2024-09-01 monthly.
    C2 dFLC 19 (-67.8 %) PR; C3 dFLC 4 (-93.2 %) VGPR; C4 3, IFE negative, marrow 3 %, ratio 4.0
    (abnormal -> FLC-only CR needs a normal ratio) VGPR; C5 1, ratio 2.0 VGPR; C6 8 (+7 vs nadir
    1, not > 10) PR; C7 13 (+12 > 10 and +1200 %) PD4; C8 19 PD -> PD dated C7.
    Confirmed: C2 PR, C3..C6 VGPR, C7 PD. Best = confirmed best = VGPR (C3, 04-01); progression
    08-01. Episode partial from C2 (03-01), ends 08-01 as progression; status progression."""
    dates = ["2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01", "2024-08-01", "2024-09-01"]
    kappa = [20.0, 5.0, 4.0, 2.0, 9.0, 14.0, 20.0]
    labs = sm("2024-01-01", 0.4, 150) + [("2024-01-01", "involved_flc", 60.0, "mg/dL"),
                                         ("2024-01-01", "uninvolved_flc", 1.0, "mg/dL"),
                                         ("2024-01-01", "flc_ratio", 60.0, "ratio"),
                                         ("2024-01-01", "marrow_plasma_cells_pct", 40, "%")]
    f = []
    for i, (d, k) in enumerate(zip(dates, kappa)):
        labs += [(d, "involved_flc", k, "mg/dL"), (d, "uninvolved_flc", 1.0, "mg/dL"), (d, "flc_ratio", k, "ratio")]
        labs += sm(d, 0.4, 150) if i == 0 else sm(d, 0.0, 40)
        f += [(d, "serum_ife", "negative" if d in ("2024-05-01", "2024-06-01") else "positive"),
              (d, "urine_ife", "negative" if d in ("2024-05-01", "2024-06-01") else "positive")]
    labs.append(("2024-05-01", "marrow_plasma_cells_pct", 3, "%"))
    r = run(labs, findings=f)
    assert [row(r, d)["overall_response"] for d in dates] == ["PR", "VGPR", "VGPR", "VGPR", "PR", "PD", "PD"]
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("VGPR", "VGPR")
    assert s["confirmed_best_response_date"] == D("2024-04-01")
    assert s["progression_date"] == D("2024-08-01")
    assert s["status"] == "progression"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("partial", D("2024-03-01"))
    assert (e["end_date"], e["end_reason"]) == (D("2024-08-01"), "progression")


def test_death_in_cr_ends_episode_with_death():
    """remission_model.md §11 edge case 7 and §6.3 (after loop: death_date >= start -> DEATH);
    §9 DECEASED on/after the death date. CR 03-01..05-01 (confirmed CR), death 2024-06-15
    without progression: the episode ends 06-15 with end_reason death; no progression or
    recurrence date; status deceased as of the death date."""
    labs, f = _cr_labs()
    r = run(labs, findings=f, death_date="2024-06-15", as_of="2024-06-15")
    s = summary(r)
    assert s["confirmed_best_response"] == "CR"
    (e,) = episodes(r)
    assert (e["end_date"], e["end_reason"]) == (D("2024-06-15"), "death")
    assert s["progression_date"] is None and s["recurrence_date"] is None
    assert s["status"] == "deceased"


def test_pd_confirmed_by_sample_after_new_therapy():
    """imwg.md §4 and §6 edge case 7 (pd_confirm_after_new_therapy = True, default): worked
    example 1 with a second line starting 2024-10-15, between C9 (10-01, first PD sample) and
    C10 (11-01). C10 still confirms the PD -> PD dated 10-01; confirmed best response of the
    first line PR; the episode (partial from 03-01) ends 10-01 as progression."""
    labs = BASE + sm("2024-03-01", 1.2, 150) + sm("2024-04-01", 1.0, 90) + sm("2024-07-01", 0.4, 60) \
        + sm("2024-10-01", 0.9, 80) + sm("2024-11-01", 1.0, 90)
    tr = [("2024-01-02", "2024-02-01", "chemotherapy", "induction", 1),
          ("2024-10-15", None, "chemotherapy", "salvage", 2)]
    r = run(labs, treatments=tr)
    s = summary(r)
    assert s["confirmed_best_response"] == "PR"
    assert s["progression_date"] == D("2024-10-01")
    (e,) = episodes(r)
    assert (e["start_date"], e["end_date"], e["end_reason"]) == (D("2024-03-01"), D("2024-10-01"), "progression")
