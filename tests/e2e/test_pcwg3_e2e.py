"""End-to-end tests for PCWG3 (issue 13): best response, confirmed best response, lifecycle
status and episodes, derived by hand from /work/shared/criteria/pcwg3.md and
remission_model.md before running the code.

Set-up: one subject, enzalutamide (hormone, palliative, ongoing) from 2024-01-02 (= the
reference start, tables.md summary). Bone-only disease (no lesion rows -> soft tissue NED,
pcwg3.md §6), baseline bone scan 2024-01-01 with 10 lesions. Findings per scan:
bone_scan_new_lesions (new vs the baseline scan) and bone_scan_lesions (total).
Best response order for the combined radiographic response (README, RECIST-like):
CR > PR > SD > NON-CR/NON-PD > PD > NE; SD/NON-CR/NON-PD count only after the SD minimum
(RECIST default 42 days from the reference start) and need no confirmation.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import AssessOptions, assess

SID = "S1"
D = dt.date.fromisoformat


# ---- helpers (blood e2e; kept in this file on purpose) ---------------------------------
def run(psa=(), bone=(), as_of=None, lesions=(), **pcwg3_opts):
    """psa: [(date, ng/mL)]; bone: [(date, new_vs_baseline)] (total = 10 + new);
    lesions: [(date, lesion_id, role, diameter_mm, status)] (soft tissue, RECIST 1.1)."""
    subjects = pl.DataFrame({"subject_id": [SID], "cancer_type": ["prostate"], "criteria": ["pcwg3"],
                             "diagnosis_date": ["2023-12-01"]})
    treatments = pl.DataFrame({"subject_id": [SID], "start_date": ["2024-01-02"], "end_date": [None],
                               "modality": ["hormone"], "intent": ["palliative"]},
                              schema_overrides={"end_date": pl.Utf8})
    frames = {"subjects": subjects, "treatments": treatments}
    if psa:
        frames["labs"] = pl.DataFrame([{"subject_id": SID, "date": d, "test": "psa", "value": float(v),
                                        "unit": "ng/mL"} for d, v in psa])
    rows = [("2024-01-01", 0)] + list(bone) if bone else []
    if rows:
        f = []
        for d, n in rows:
            f.append({"subject_id": SID, "date": d, "finding": "bone_scan_new_lesions", "value": str(n)})
            f.append({"subject_id": SID, "date": d, "finding": "bone_scan_lesions", "value": str(10 + n)})
        frames["findings"] = pl.DataFrame(f)
    if lesions:
        frames["lesions"] = pl.DataFrame(
            [{"subject_id": SID, "date": d, "lesion_id": lid, "role": role, "organ": "liver", "nodal": False,
              "diameter_mm": None if mm is None else float(mm), "status": st, "method": "CT"}
             for d, lid, role, mm, st in lesions],
            schema={"subject_id": pl.Utf8, "date": pl.Utf8, "lesion_id": pl.Utf8, "role": pl.Utf8,
                    "organ": pl.Utf8, "nodal": pl.Boolean, "diameter_mm": pl.Float64, "status": pl.Utf8,
                    "method": pl.Utf8})
    opts = AssessOptions(as_of=D(as_of) if as_of else None,
                         **({"pcwg3": pcwg3_opts} if pcwg3_opts else {}))
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


# ---- cases -----------------------------------------------------------------------------
def test_two_plus_two_confirmed_pd_dated_to_pdu_scan():
    """pcwg3.md §4 and §7 "Bone": 02-26 (first post-treatment scan) 2 new -> PDu; 04-22
    (56 d later, >= 42) 5 new = 3 additional vs the PDu scan (>= 2) -> PD confirmed,
    progression date = the PDu scan 02-26. Rows stay as they stood (tables.md): 02-26 PDu,
    04-22 PD. Issue 13 §3: PDu is never a best response; here it became PD, so best and
    confirmed best response are PD, dated 02-26. No remission episode; status progression."""
    r = run(bone=[("2024-02-26", 2), ("2024-04-22", 5)])
    assert row(r, "2024-02-26")["overall_response"] == "PDu"
    assert row(r, "2024-04-22")["overall_response"] == "PD"
    s = summary(r)
    assert s["progression_date"] == D("2024-02-26")
    assert s["status"] == "progression"
    assert episodes(r) == []
    assert (s["best_response"], s["confirmed_best_response"]) == ("PD", "PD")
    assert s["best_response_date"] == D("2024-02-26")
    assert s["confirmed_best_response_date"] == D("2024-02-26")


def test_early_scan_is_not_confirmatory():
    """pcwg3.md §4 row "Scan < 42 days after a PDu scan: not a confirmatory scan; the PDu
    stays pending". 02-26 PDu (2 new); 03-25 (28 d later) 4 new: not confirmatory, still PDu
    pending; 04-22 (56 d after the PDu) 4 new = 2 additional -> PD dated 02-26."""
    r = run(bone=[("2024-02-26", 2), ("2024-03-25", 4), ("2024-04-22", 4)])
    assert row(r, "2024-03-25")["overall_response"] == "PDu"
    assert row(r, "2024-03-25")["pending_progression"] is True
    s = summary(r)
    assert s["progression_date"] == D("2024-02-26")
    assert (s["best_response"], s["confirmed_best_response"]) == ("PD", "PD")


def test_pdu_pending_at_data_cut_is_never_best_response():
    """Issue 13 §3 (PCWG3): a provisional progression (PDu) is never a best or confirmed best
    response. 02-26 PDu with no later scan (§4 "No later scan after PDu: stays PDu").
    Status progression_pending (remission_model.md §9, PDu = PROGRESSION_PENDING §3); no
    progression date. Reading: the only post-baseline time point is not yet categorisable
    -> best response NE (never PDu, never MISSING when an assessment exists)."""
    r = run(bone=[("2024-02-26", 2)])
    s = summary(r)
    assert s["status"] == "progression_pending"
    assert s["progression_date"] is None
    assert s["best_response"] != "PDu"
    assert s["confirmed_best_response"] != "PDu"
    assert (s["best_response"], s["confirmed_best_response"]) == ("NE", "NE")


def test_flare_then_later_pdu_persisting_is_pd():
    """pcwg3.md §7 "Flare variant" then later-scan rule (post_flare_confirmation = True):
    02-26 2 new -> PDu; 04-22 still 2 new (0 additional) -> flare: the 02-26 PDu is
    re-labelled NON-PD and 04-22 is NON-PD (combined NED x NON-PD = NON-CR/NON-PD, §6).
    06-17: 4 new vs baseline = 2 new vs the reference (first post-treatment scan) -> PDu;
    08-12 (56 d later) the lesions persist -> PD dated 06-17.
    Best and confirmed best response NON-CR/NON-PD (day 55 >= 42: no confirmation needed);
    progression date 06-17; status progression; no episode (STABLE is not remission)."""
    r = run(bone=[("2024-02-26", 2), ("2024-04-22", 2), ("2024-06-17", 4), ("2024-08-12", 4)])
    assert row(r, "2024-04-22")["overall_response"] == "NON-CR/NON-PD"
    assert row(r, "2024-06-17")["overall_response"] == "PDu"
    assert row(r, "2024-08-12")["overall_response"] == "PD"
    s = summary(r)
    assert s["progression_date"] == D("2024-06-17")
    assert s["status"] == "progression"
    assert episodes(r) == []
    assert (s["best_response"], s["confirmed_best_response"]) == ("NON-CR/NON-PD", "NON-CR/NON-PD")


def test_flare_refuted_pdu_relabelled_dates_best_response():
    """pcwg3.md §4: a PDu not confirmed at the first scan >= 42 days later is re-labelled
    NON-PD. 02-26 PDu, 04-22 NON-PD (0 additional). The re-labelled 02-26 time point is
    NON-CR/NON-PD at day 55 (>= 42 d) -> best response NON-CR/NON-PD dated 02-26; status
    active_disease (last status STABLE, no episode, remission_model §9)."""
    r = run(bone=[("2024-02-26", 2), ("2024-04-22", 2)])
    s = summary(r)
    assert s["progression_date"] is None
    assert s["best_response"] == "NON-CR/NON-PD"
    assert s["confirmed_best_response"] == "NON-CR/NON-PD"
    assert s["status"] == "active_disease"
    assert s["best_response_date"] == D("2024-02-26")


def test_non_pd_after_minimum_interval_needs_no_confirmation():
    """Issue 13 §3 (PCWG3): NON-CR/NON-PD after the minimum interval needs no confirmation.
    One scan 02-26 (day 55 >= 42) with 0 new lesions -> bone NON-PD, combined NON-CR/NON-PD
    (§6). Best = confirmed best = NON-CR/NON-PD, dated 02-26."""
    r = run(bone=[("2024-02-26", 0)])
    s = summary(r)
    assert row(r, "2024-02-26")["overall_response"] == "NON-CR/NON-PD"
    assert (s["best_response"], s["confirmed_best_response"]) == ("NON-CR/NON-PD", "NON-CR/NON-PD")
    assert s["best_response_date"] == D("2024-02-26")
    assert s["status"] == "active_disease"


def test_non_pd_before_minimum_interval_is_ne():
    """Same, but the only scan is 02-05 (day 34 < 42, the SD minimum from the reference start):
    NON-CR/NON-PD cannot be the best response yet -> NE (RECIST 1.1 §5 convention applied
    to the combined radiographic response)."""
    r = run(bone=[("2024-02-05", 0)])
    s = summary(r)
    assert (s["best_response"], s["confirmed_best_response"]) == ("NE", "NE")


def _psa_example():
    # pcwg3.md §7 PSA example, day 0 = 2024-01-01 (baseline), cut before the progression.
    return [("2024-01-01", 40.0), ("2024-01-29", 44.0), ("2024-03-25", 15.0), ("2024-04-15", 12.0),
            ("2024-06-17", 8.0)]


def test_psa50_is_not_a_remission_by_default():
    """remission_model.md §3 and §13 (psa_response_counts_as_partial = False): a confirmed
    PSA50 (03-25 -62.5 %, confirmed 04-15, 21 d later, §3.1) is biochemical only, not a
    remission: no episode. The early rise 01-29 (+10 %, < 12 weeks) is ignored (§3.1)."""
    r = run(psa=_psa_example())
    assert episodes(r) == []
    assert summary(r)["progression_date"] is None


def test_psa50_counted_as_partial_opens_episode_on_candidate_date():
    """With psa_response_counts_as_partial = True: PSA50 response date = the candidate value
    (R3) 03-25; confirmation (remission_model §6.4, PCWG3 confirm 21 d) = 04-15; the
    palliative hormone therapy is ongoing and blocking -> not qualified
    (on_active_treatment), status responding (§9)."""
    r = run(psa=_psa_example(), psa_response_counts_as_partial=True)
    (e,) = episodes(r)
    assert (e["type"], e["start_date"], e["confirmed_date"]) == ("partial", D("2024-03-25"), D("2024-04-15"))
    assert e["qualified"] is False
    assert e["not_qualified_reason"] == "on_active_treatment"
    assert summary(r)["status"] == "responding"


def test_psa_progression_confirmed_is_dated_to_first_value():
    """pcwg3.md §7 PSA example completed: nadir 8.0 (06-17); 09-09 10.5 (+31 %, +2.5) candidate;
    09-30 12.0 (21 d later, still qualifying) -> PSA progression confirmed, dated 09-09 (§3.2).
    The 09-30 row is the PSA PROGRESSION; before 09-30 (as of 09-09) it is only pending."""
    psa = _psa_example() + [("2024-09-09", 10.5), ("2024-09-30", 12.0)]
    r = run(psa=psa, as_of="2024-09-09")
    assert row(r, "2024-09-09")["pending_progression"] is True
    r = run(psa=psa)
    assert row(r, "2024-09-30")["overall_response"] == "PSA PROGRESSION"
    assert row(r, "2024-09-30")["progression_event_date"] == D("2024-09-09")


def test_soft_tissue_pd_is_pd_at_once_whatever_the_bone():
    """pcwg3.md §6 (soft tissue PD | any -> PD) and §5 (RECIST 1.1): liver target 30 mm at
    baseline, 40 mm on 02-26 (+33 %, +10 mm vs nadir 30) -> soft-tissue PD; bone NON-PD (0 new).
    Combined PD on 02-26 with no confirmation (rPFS event, §6); progression 02-26; best = confirmed
    best = PD; status progression."""
    les = [("2024-01-01", "T1", "target", 30, None), ("2024-02-26", "T1", "target", 40, None)]
    r = run(bone=[("2024-02-26", 0)], lesions=les)
    assert row(r, "2024-02-26")["overall_response"] == "PD"
    s = summary(r)
    assert s["progression_date"] == D("2024-02-26")
    assert (s["best_response"], s["confirmed_best_response"]) == ("PD", "PD")
    assert s["status"] == "progression"


def test_soft_tissue_cr_with_bone_disease_is_pr():
    """pcwg3.md §6 row "CR | NON-PD -> PR if target lesions existed at screening": the liver
    target (30 mm) disappears on 02-26 and 04-22 while the bone scan still shows its 10 lesions
    (0 new, NON-PD) -> combined PR on both dates (never CR while bone disease remains). Best
    response PR; the PR opens a partial episode on 02-26 (remission_model §3: combined PR ->
    PARTIAL)."""
    les = [("2024-01-01", "T1", "target", 30, None), ("2024-02-26", "T1", "target", 0, None),
           ("2024-04-22", "T1", "target", 0, None)]
    r = run(bone=[("2024-02-26", 0), ("2024-04-22", 0)], lesions=les)
    assert row(r, "2024-02-26")["overall_response"] == "PR"
    s = summary(r)
    assert s["best_response"] == "PR"
    (e,) = episodes(r)
    assert (e["type"], e["start_date"]) == ("partial", D("2024-02-26"))
