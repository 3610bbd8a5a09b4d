"""Remission episodes and lifecycle: hand-computed cases of remission_model.md §6-9, the
edge cases of §11 and the worked example of §12."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from reference.episodes import derive_episodes_reference
from reference.followup import add_months, next_followup_due
from remission import schema
from remission.options import FollowupSchedule, RemissionOptions
from remission.timeline.episodes import (
    derive_episodes,
    lifecycle,
    recurrence_extent,
    treatment_classes,
)
from remission.timeline.status import combine_statuses

D = dt.date.fromisoformat


def statuses(*rows, sid="p1"):
    """rows: (date, level[, progression_event_date[, sites[, clinical_only]]])."""
    recs = []
    for r in rows:
        r = tuple(r) + (None,) * (5 - len(r))
        date, level, ped, sites, clin = r
        recs.append(
            {
                "subject_id": sid,
                "date": D(date),
                "level": level,
                "progression_event_date": D(ped) if ped else (D(date) if level == "PROGRESSION" else None),
                "clinical_only": bool(clin),
                "source": "recist1.1",
                "recurrence_sites": sites,
            }
        )
    return pl.DataFrame(recs, schema=schema.STATUSES_TABLE)


def treatments(*rows, sid="p1"):
    """rows: (start, end or None, modality, intent or None)."""
    return pl.DataFrame(
        [
            {"subject_id": sid, "start_date": D(s), "end_date": D(e) if e else None, "modality": m, "intent": i,
             "line": 1, "name": None}
            for s, e, m, i in rows
        ],
        schema=schema.TREATMENTS,
    )


def subjects(diagnosis="2019-01-01", death=None, cancer="nsclc", criteria="recist1.1", last_contact=None, sid="p1"):
    return pl.DataFrame(
        [{"subject_id": sid, "cancer_type": cancer, "criteria": criteria, "diagnosis_date": D(diagnosis) if diagnosis else None,
          "death_date": D(death) if death else None, "last_contact_date": D(last_contact) if last_contact else None}],
        schema=schema.SUBJECTS,
    )


def derive(st, tr=None, su=None, options=None, as_of=None):
    tr = tr if tr is not None else treatments()
    su = su if su is not None else subjects()
    got = derive_episodes(st, tr, su, options, as_of=as_of)
    ref = derive_episodes_reference(st, tr, su, options, as_of=as_of)
    assert got.to_dicts() == ref.to_dicts()
    return got


def life(st, tr=None, su=None, options=None, as_of=None, schedule=None):
    tr = tr if tr is not None else treatments()
    su = su if su is not None else subjects()
    ep = derive_episodes(st, tr, su, options, as_of=as_of)
    return lifecycle(st, ep, tr, su, options, schedule, as_of=as_of).row(0, named=True)


# --------------------------------------------------------------------------------------
# §12 worked example
# --------------------------------------------------------------------------------------


def example12():
    rows = [
        ("2020-03-01", "PARTIAL"), ("2020-05-01", "PARTIAL"), ("2020-07-20", "COMPLETE"),
        ("2020-09-01", "COMPLETE"), ("2021-03-01", "COMPLETE"), ("2021-09-01", "COMPLETE"),
        ("2022-02-01", "PROGRESSION", None, "liver"), ("2022-05-01", "PARTIAL"),
        ("2022-10-01", "COMPLETE"), ("2022-11-15", "COMPLETE"),
    ] + [(f"{y}-11-01", "COMPLETE") for y in range(2023, 2028)]
    st = statuses(*rows)
    tr = treatments(
        ("2020-01-10", "2020-06-15", "chemotherapy", "induction"),
        ("2020-07-01", "2021-07-01", "maintenance", "maintenance"),
        ("2022-02-15", "2022-08-01", "chemotherapy", "salvage"),
    )
    su = subjects(diagnosis="2019-12-01", cancer="colorectal", last_contact="2028-01-15")
    return st, tr, su


def test_worked_example_12_episodes():
    """§12: both episodes, every date, qualification, durations 702/561/2010/1857 (all checked by hand:
    2020-03-01 -> 2022-02-01 = 702 d, 2020-07-20 -> 2022-02-01 = 561 d, 2022-05-01 -> 2027-11-01 = 2010 d,
    2022-10-01 -> 2027-11-01 = 1857 d; the spec's arithmetic is right)."""
    st, tr, su = example12()
    ep = derive(st, tr, su).to_dicts()
    assert len(ep) == 2
    e1, e2 = ep
    assert (e1["episode"], e1["type"], e1["type_at_onset"]) == (1, "complete", "PARTIAL")
    assert e1["start_date"] == D("2020-03-01")
    assert e1["confirmed_date"] == D("2020-05-01")  # 61 days >= 28 (§6.4)
    assert e1["complete_start_date"] == D("2020-07-20")
    assert e1["complete_confirmation_date"] == D("2020-09-01")  # 43 days
    assert e1["qualified"] and e1["qualification_date"] == D("2020-07-20")  # 35 d after T1 end
    assert e1["qualified_on_treatment"] is True  # during T2 maintenance, non-blocking
    assert e1["on_maintenance"] and e1["maintenance_periods"] == "2020-07-01/2021-07-01"
    assert e1["spontaneous"] is False
    assert (e1["end_date"], e1["end_reason"], e1["recurrence_extent"]) == (D("2022-02-01"), "recurrence", "DISTANT")
    assert e1["duration_days"] == 702 and e1["complete_duration_days"] == 561
    assert e1["explanation"].startswith(
        "episode 1 (complete) from 2020-03-01: qualified on 2020-07-20: 141 days after start (>= 28) and "
        "35 days after the end of chemotherapy on 2020-06-15 (>= 28)"
    )
    # time to recurrence from the end of T1: 2020-06-15 -> 2022-02-01 = 596 days (§12)
    assert (e1["end_date"] - e1["treatment_end_before_qualification"]).days == 596

    assert (e2["episode"], e2["type"], e2["start_date"]) == (2, "complete", D("2022-05-01"))
    assert e2["confirmed_date"] == D("2022-10-01")  # 153 days
    assert e2["complete_start_date"] == D("2022-10-01")
    assert e2["complete_confirmation_date"] == D("2022-11-15")
    assert e2["qualified"] and e2["qualification_date"] == D("2022-10-01")  # 61 d after T3 end
    assert (e2["end_date"], e2["end_reason"], e2["censor_date"]) == (None, "censored", D("2027-11-01"))
    assert e2["duration_days"] == 2010 and e2["complete_duration_days"] == 1857
    assert e2["on_maintenance"] is False and e2["spontaneous"] is False
    assert list(derive(st, tr, su).columns[: len(schema.EPISODES_COLUMNS)]) == list(schema.EPISODES_COLUMNS)


def test_worked_example_12_summary():
    """§12 patient summary: 2 qualified complete remissions, 2712/2418 days, milestone
    2027-10-01 ACHIEVED (evidence 2027-11-01), state long_term_remission."""
    st, tr, su = example12()
    s = life(st, tr, su, as_of=D("2028-01-15"))
    assert s["status"] == "long_term_remission"
    assert (s["remission_count"], s["qualified_remission_count"], s["complete_remission_count"]) == (2, 2, 2)
    assert s["time_in_remission_days"] == 2712 and s["time_in_complete_remission_days"] == 2418
    assert s["cure_milestone_date"] == D("2027-10-01") and s["milestone_status"] == "ACHIEVED"
    assert s["milestone_evidence_date"] == D("2027-11-01") and s["long_term_remission"] is True
    assert s["progression_date"] == D("2022-02-01") and s["recurrence_date"] == D("2022-02-01")
    assert s["ned_since"] == D("2022-10-01")
    # last assessment 2027-11-01, > 5 years after 2022-05-01 -> yearly follow-up
    assert s["next_followup_due"] == D("2028-11-01")
    # as of 2027-06-01 the milestone is not reached yet (§8 PENDING), state complete_remission
    s2 = life(st, tr, su, as_of=D("2027-06-01"))
    assert (s2["status"], s2["milestone_status"], s2["long_term_remission"]) == ("complete_remission", "PENDING", False)
    # as of 2022-03-01: after the recurrence, salvage T3 running
    s3 = life(st, tr, su, as_of=D("2022-03-01"))
    assert s3["status"] == "recurrence" and s3["on_active_treatment"] is True
    assert s3["milestone_status"] == "NOT_ACHIEVED"


# --------------------------------------------------------------------------------------
# §11 edge cases
# --------------------------------------------------------------------------------------


def test_case1_regrowth_20_days_after_chemo_not_qualified():
    """§11.1: CR during chemotherapy, regrowth 20 days after its end -> not qualified."""
    st = statuses(("2020-03-01", "COMPLETE"), ("2020-05-01", "COMPLETE"), ("2020-06-21", "PROGRESSION"))
    tr = treatments(("2020-01-01", "2020-06-01", "chemotherapy", None))
    (e,) = derive(st, tr).to_dicts()
    assert e["qualified"] is False and e["not_qualified_reason"] == "regrowth_within_sustain_window"
    assert (e["end_date"], e["end_reason"], e["recurrence_extent"]) == (D("2020-06-21"), "recurrence", "UNKNOWN")
    s = life(st, tr, as_of=D("2020-07-01"))
    assert s["status"] == "recurrence" and s["qualified_remission_count"] == 0


def test_recurrence_state_on_the_date_the_progression_is_confirmed():
    """§9 RECURRENCE ("PROGRESSION status ending an episode whose current_type was COMPLETE")
    and choice J: a PROGRESSION confirmed by a later sample (IMWG / GCIG: status dated 07-15,
    event dated 07-01) is the progression that ended the complete episode, so the state on
    the confirmation date is recurrence, as the episode's end reason; a later PROGRESSION
    with an event of its own (no episode left to end) is progression."""
    rows = [("2020-03-01", "COMPLETE"), ("2020-04-01", "COMPLETE"), ("2020-05-01", "COMPLETE"),
            ("2020-07-01", "PROGRESSION", "2020-07-01"), ("2020-07-15", "PROGRESSION", "2020-07-01")]
    st = statuses(*rows)
    (e,) = derive(st).to_dicts()
    assert (e["end_date"], e["end_reason"]) == (D("2020-07-01"), "recurrence")
    s = life(st, as_of=D("2020-07-15"))
    assert (s["status"], s["status_date"], s["recurrence_date"]) == ("recurrence", D("2020-07-15"), D("2020-07-01"))
    later = statuses(*rows, ("2020-09-01", "STABLE"), ("2020-11-01", "PROGRESSION", "2020-11-01"))
    assert life(later, as_of=D("2020-11-01"))["status"] == "progression"
    partial = statuses(("2020-03-01", "PARTIAL"), ("2020-04-01", "PARTIAL"),
                       ("2020-07-01", "PROGRESSION", "2020-07-01"), ("2020-07-15", "PROGRESSION", "2020-07-01"))
    assert life(partial, as_of=D("2020-07-15"))["status"] == "progression"


def test_case2_single_cr_insufficient_follow_up():
    """§11.2: one CR and nothing after -> unconfirmed, insufficient_follow_up."""
    (e,) = derive(statuses(("2020-03-01", "COMPLETE"))).to_dicts()
    assert e["confirmed_date"] is None and e["qualified"] is False
    assert e["not_qualified_reason"] == "insufficient_follow_up"
    assert (e["end_reason"], e["censor_date"], e["duration_days"]) == ("censored", D("2020-03-01"), 0)
    assert life(statuses(("2020-03-01", "COMPLETE")), as_of=D("2020-04-01"))["status"] == "responding"


def test_case3_pr_sd_pr_one_episode_with_lapse():
    """§11.3 / §6.6: PR -> SD -> PR without PD is one episode (policy continue) with a lapse
    flag; policy "end" closes it with loss_of_response and opens a second one."""
    st = statuses(("2020-01-01", "PARTIAL"), ("2020-03-01", "STABLE"), ("2020-05-01", "PARTIAL"))
    (e,) = derive(st).to_dicts()
    assert e["response_lapse_dates"] == "2020-03-01" and e["end_reason"] == "censored"
    assert e["confirmed_date"] == D("2020-05-01")  # first later remission status >= 28 d
    ends = derive(st, options=RemissionOptions(loss_of_response_policy="end")).to_dicts()
    assert [(x["start_date"], x["end_date"], x["end_reason"]) for x in ends] == [
        (D("2020-01-01"), D("2020-03-01"), "loss_of_response"),
        (D("2020-05-01"), None, "censored"),
    ]
    assert ends[0]["not_qualified_reason"] == "regrowth_within_sustain_window"  # choice E


def test_case4_pr_cr_pr_complete_subperiod_closed():
    """§11.4 / §6.6: PR -> CR -> PR (IMWG relapse from CR) keeps one episode; the complete
    sub-period is closed at the PR date."""
    st = statuses(("2020-01-01", "PARTIAL"), ("2020-02-01", "COMPLETE"), ("2020-04-01", "COMPLETE"), ("2020-06-01", "PARTIAL"))
    su = subjects(criteria="imwg2016", cancer="multiple_myeloma")
    (e,) = derive(st, su=su).to_dicts()
    assert (e["type"], e["current_type"], e["end_reason"]) == ("complete", "PARTIAL", "censored")
    assert e["complete_start_date"] == D("2020-02-01")
    assert (e["complete_end_date"], e["complete_end_reason"]) == (D("2020-06-01"), "loss_of_complete_response")
    assert e["complete_duration_days"] == 121  # 2020-02-01 -> 2020-06-01
    assert e["confirmed_date"] == D("2020-02-01")  # IMWG confirm_days = 1 (§6.4)
    assert e["complete_confirmation_date"] == D("2020-04-01")
    assert life(st, su=su, as_of=D("2020-07-01"))["status"] == "partial_remission"


def test_case5_cr_under_maintenance_cure_clock_at_end_of_maintenance():
    """§11.5 / §8: CR under 3 years of maintenance -> qualified on treatment, period listed,
    cure clock starts when maintenance ends (2023-07-01 + 5 y = 2028-07-01)."""
    rows = [("2020-08-01", "COMPLETE"), ("2020-11-01", "COMPLETE")] + [(f"{y}-06-01", "COMPLETE") for y in range(2021, 2030)]
    st = statuses(*rows)
    tr = treatments(("2020-01-01", "2020-06-30", "chemotherapy", "induction"), ("2020-07-01", "2023-07-01", "maintenance", None))
    (e,) = derive(st, tr).to_dicts()
    # confirmation needs a later status >= 28 d (2020-11-01); induction ended 124 d before it
    assert e["qualified"] and e["qualification_date"] == D("2020-11-01")
    assert e["qualified_on_treatment"] and e["maintenance_periods"] == "2020-07-01/2023-07-01"
    s = life(st, tr, as_of=D("2022-01-01"))
    assert (s["status"], s["milestone_status"], s["cure_milestone_date"]) == ("complete_remission", "PENDING_ON_TREATMENT", None)
    assert s["on_maintenance"] is True and s["on_active_treatment"] is False
    s = life(st, tr, as_of=D("2028-06-30"))
    assert (s["cure_milestone_date"], s["milestone_status"]) == (D("2028-07-01"), "PENDING")
    s = life(st, tr, as_of=D("2029-06-01"))
    assert (s["status"], s["milestone_evidence_date"]) == ("long_term_remission", D("2029-06-01"))
    s = life(st, tr, options=RemissionOptions(cure_clock_start="end_of_active_treatment"), as_of=D("2029-06-01"))
    assert s["cure_milestone_date"] == D("2025-08-01")  # max(2020-06-30, CR 2020-08-01) + 5 y


def test_case6_spontaneous_regression_before_treatment():
    """§11.6 / §6.7: remission documented before any treatment -> spontaneous."""
    st = statuses(("2019-02-01", "PARTIAL"), ("2019-03-15", "PARTIAL"))
    (e,) = derive(st, treatments(("2019-06-01", None, "chemotherapy", None)), subjects(diagnosis="2019-01-01")).to_dicts()
    assert e["spontaneous"] is True and e["look_back_start"] == D("2019-01-01")
    (e,) = derive(st, treatments(("2019-01-10", "2019-01-20", "surgery", None))).to_dicts()
    assert e["spontaneous"] is False
    (e,) = derive(st, treatments(("2019-01-10", "2019-01-20", "supportive", None))).to_dicts()
    assert e["spontaneous"] is True  # supportive care is ignored


def test_case7_death_in_cr():
    """§11.7 / §6.3: death in CR without recurrence ends the episode at the death date."""
    st = statuses(("2020-01-01", "COMPLETE"), ("2020-03-01", "COMPLETE"))
    su = subjects(death="2020-05-10")
    (e,) = derive(st, su=su).to_dicts()
    assert (e["end_date"], e["end_reason"], e["duration_days"], e["complete_duration_days"]) == (
        D("2020-05-10"), "death", 130, 130)
    s = life(st, su=su, as_of=D("2020-06-01"))
    assert (s["status"], s["status_date"], s["recurrence_date"], s["next_followup_due"]) == (
        "deceased", D("2020-05-10"), None, None)
    # death after as_of is not known yet (choice A)
    (e,) = derive(st, su=su, as_of=D("2020-04-01")).to_dicts()
    assert e["end_reason"] == "censored"
    # progression and death the same day -> progression (§6.3)
    st2 = statuses(("2020-01-01", "PARTIAL"), ("2020-05-10", "PROGRESSION"))
    (e,) = derive(st2, su=su).to_dicts()
    assert e["end_reason"] == "progression"


def test_case8_iupd_reset_then_confirmed():
    """§11.8: iUPD then reset -> no end; a later iUPD confirmed (iCPD back-dated to the first
    iUPD) ends the episode at the iUPD date, before the confirmation was seen."""
    rows = [
        ("2020-01-01", "PARTIAL"), ("2020-02-01", "PARTIAL"),
        ("2020-03-01", "PROGRESSION_PENDING"), ("2020-04-01", "PARTIAL"),  # reset
        ("2020-05-01", "PROGRESSION_PENDING"), ("2020-06-01", "PROGRESSION", "2020-05-01"),
    ]
    st = statuses(*rows)
    (e,) = derive(st).to_dicts()
    assert (e["end_date"], e["end_reason"], e["end_recognised_date"]) == (D("2020-05-01"), "progression", D("2020-06-01"))
    assert e["censor_date"] == D("2020-04-01") and e["duration_days"] == 121
    # as of 2020-05-15 the iUPD is unconfirmed
    (e,) = derive(st, as_of=D("2020-05-15")).to_dicts()
    assert (e["end_reason"], e["pending_progression_since"]) == ("censored", D("2020-05-01"))
    assert life(st, as_of=D("2020-05-15"))["status"] == "progression_pending"
    assert life(st, as_of=D("2020-04-15"))["status"] == "partial_remission"
    assert life(st, as_of=D("2020-06-15"))["status"] == "progression"


def test_case9_equivocal_new_lesion_backdated_on_rederivation():
    """§11.9 / §6.3 superseded statuses: PD confirmed on 2020-08-01 for a new lesion first
    seen (equivocal) on 2020-05-01 moves the end back; the PR of 2020-06-15 inside
    [2020-05-01, 2020-08-01) cannot open a new episode."""
    rows = [
        ("2020-01-01", "PARTIAL"), ("2020-03-01", "PARTIAL"), ("2020-05-01", "PARTIAL"),
        ("2020-06-15", "PARTIAL"), ("2020-08-01", "PROGRESSION", "2020-05-01", "liver"),
    ]
    st = statuses(*rows)
    before = derive(st, as_of=D("2020-07-01")).to_dicts()
    assert [(x["end_reason"], x["censor_date"]) for x in before] == [("censored", D("2020-06-15"))]
    after = derive(st).to_dicts()
    assert [(x["start_date"], x["end_date"], x["end_reason"], x["recurrence_extent"]) for x in after] == [
        (D("2020-01-01"), D("2020-05-01"), "progression", "DISTANT")
    ]
    assert after[0]["censor_date"] == D("2020-03-01")  # the 2020-05-01 status is superseded
    # a superseded remission status cannot open an episode even with no episode open
    st2 = statuses(("2020-03-01", "STABLE"), ("2020-05-01", "PARTIAL"), ("2020-06-01", "PROGRESSION", "2020-04-20"))
    assert derive(st2).height == 0


def test_case10_disagreeing_criteria_through_combination():
    """§11.10: RECIST PR + CA-125 PD on the same date -> PROGRESSION ends the episode."""
    res = pl.DataFrame(
        {
            "subject_id": ["p1"] * 3,
            "date": [D("2020-01-01"), D("2020-03-01"), D("2020-03-01")],
            "level": ["PARTIAL", "PARTIAL", "PROGRESSION"],
            "progression_event_date": [None, None, D("2020-03-01")],
            "source": ["recist1.1", "recist1.1", "gcig"],
            "clinical_only": [False] * 3,
            "disease_evident": [None] * 3,
            "recurrence_sites": [None, None, "BIOCHEMICAL"],
        }
    )
    (e,) = derive(combine_statuses(res)).to_dicts()
    assert (e["end_date"], e["end_reason"], e["recurrence_extent"]) == (D("2020-03-01"), "progression", "BIOCHEMICAL")
    (e,) = derive(combine_statuses(res, RemissionOptions(primary_criterion="recist1.1"))).to_dicts()
    assert e["end_reason"] == "censored" and e["qualified"]


def test_case11_adjuvant_ned_starts_complete_episode_local_recurrence():
    """§11.11: after resection + adjuvant chemo, the first NED starts a COMPLETE episode; a
    tumour-bed recurrence ends it as RECURRENCE, LOCAL."""
    st = statuses(("2020-08-01", "COMPLETE"), ("2020-11-01", "COMPLETE"), ("2021-05-01", "PROGRESSION", None, "TUMOUR_BED"))
    tr = treatments(("2020-01-10", None, "surgery", "curative"), ("2020-02-15", "2020-07-01", "chemotherapy", "adjuvant"))
    (e,) = derive(st, tr).to_dicts()
    assert (e["type_at_onset"], e["complete_start_date"]) == ("COMPLETE", D("2020-08-01"))
    # §6.5 needs D >= confirmation (2020-11-01, 92 d after onset) -> qualified 2020-11-01
    assert (e["confirmed_date"], e["qualification_date"]) == (D("2020-11-01"), D("2020-11-01"))
    assert (e["end_date"], e["end_reason"], e["recurrence_extent"]) == (D("2021-05-01"), "recurrence", "LOCAL")
    assert e["spontaneous"] is False
    s = life(st, tr, as_of=D("2021-05-02"))
    assert (s["status"], s["recurrence_date"], s["milestone_status"]) == ("recurrence", D("2021-05-01"), "NOT_ACHIEVED")


def test_case13_follow_up_ends_on_active_treatment():
    """§11.13: follow-up ends while active therapy is ongoing -> on_active_treatment, censored."""
    st = statuses(("2020-03-01", "PARTIAL"), ("2020-05-01", "PARTIAL"))
    tr = treatments(("2020-01-01", None, "chemotherapy", None))
    (e,) = derive(st, tr).to_dicts()
    assert (e["qualified"], e["not_qualified_reason"], e["end_reason"]) == (False, "on_active_treatment", "censored")
    assert e["confirmed_date"] == D("2020-05-01")
    s = life(st, tr, as_of=D("2020-06-01"))
    assert (s["status"], s["on_active_treatment"], s["next_followup_due"]) == ("responding", True, D("2020-08-01"))


# --------------------------------------------------------------------------------------
# other rules
# --------------------------------------------------------------------------------------


def test_statuses_before_diagnosis_dropped():
    """§6.2.1: statuses before diagnosis_date are dropped."""
    st = statuses(("2018-06-01", "PARTIAL"), ("2019-03-01", "PARTIAL"))
    (e,) = derive(st, su=subjects(diagnosis="2019-01-01")).to_dicts()
    assert e["start_date"] == D("2019-03-01")


def test_censor_at_new_therapy():
    """§6.3 new anticancer therapy: with censor_at_new_therapy the open episode is censored at
    the last remission date before the therapy; default keeps it (consolidation)."""
    st = statuses(("2020-01-01", "PARTIAL"), ("2020-03-01", "PARTIAL"), ("2020-06-01", "PARTIAL"), ("2020-09-01", "PARTIAL"))
    tr = treatments(("2019-10-01", "2019-12-01", "chemotherapy", "induction"), ("2020-04-01", "2020-05-01", "radiation", "consolidation"))
    (e,) = derive(st, tr).to_dicts()
    assert e["end_reason"] == "censored" and e["censor_date"] == D("2020-09-01")
    eps = derive(st, tr, options=RemissionOptions(censor_at_new_therapy=True)).to_dicts()
    assert [(x["start_date"], x["end_reason"], x["censor_date"], x["duration_days"]) for x in eps] == [
        (D("2020-01-01"), "censored_new_therapy", D("2020-03-01"), 60),
        (D("2020-06-01"), "censored", D("2020-09-01"), 92),
    ]


def test_confirmation_ne_limit_and_lugano_zero_days():
    """§6.4: at most max_ne_between NE between start and confirmation; Lugano confirms at once."""
    st = statuses(("2020-01-01", "PARTIAL"), ("2020-01-20", "NOT_EVALUABLE"), ("2020-01-25", "NOT_EVALUABLE"), ("2020-03-01", "PARTIAL"))
    (e,) = derive(st).to_dicts()
    assert e["confirmed_date"] is None and e["not_qualified_reason"] == "insufficient_follow_up"
    (e,) = derive(st, options=RemissionOptions(max_ne_between=2)).to_dicts()
    assert e["confirmed_date"] == D("2020-03-01") and e["qualification_date"] == D("2020-03-01")
    (e,) = derive(st, su=subjects(criteria="lugano2014")).to_dicts()
    assert e["confirmed_date"] == D("2020-01-01") and e["qualification_date"] == D("2020-03-01")


def test_add_one_day():
    """§7: add_one_day switches to end - start + 1."""
    st = statuses(("2020-01-01", "COMPLETE"), ("2020-03-01", "PROGRESSION"))
    (e,) = derive(st, options=RemissionOptions(add_one_day=True)).to_dicts()
    assert (e["duration_days"], e["complete_duration_days"]) == (61, 61)


def test_clinical_followup_confirms_and_qualifies():
    """§5 rule 6: a carried clinical-only status confirms and qualifies an episode."""
    st = statuses(("2020-01-01", "COMPLETE"), ("2020-03-01", "COMPLETE", None, None, True))
    (e,) = derive(st).to_dicts()
    assert e["confirmed_date"] == D("2020-03-01") and e["qualified"]


def test_recurrence_extent_table():
    """§6.8: most extensive site; organ names mapped; home organ of the cancer is LOCAL."""
    assert recurrence_extent("TUMOUR_BED;REGIONAL") == "REGIONAL"
    assert recurrence_extent("liver") == "DISTANT"
    assert recurrence_extent("liver", "hcc") == "LOCAL"
    assert recurrence_extent("MARROW;EXTRAMEDULLARY") == "EXTRAMEDULLARY"
    assert recurrence_extent("BLOOD;MOLECULAR") == "PERIPHERAL_BLOOD"
    assert recurrence_extent("lymph_node") == "UNKNOWN"
    assert recurrence_extent(None) == "UNKNOWN"


def test_treatment_classes():
    """§2 / spec/tables.md treatments.intent: null intent resolved by modality; surgery ends on its date."""
    tr = treatments(
        ("2020-01-01", None, "surgery", None),
        ("2020-02-01", None, "maintenance", None),
        ("2020-03-01", None, "supportive", None),
        ("2020-04-01", None, "targeted", "continuous"),
        ("2020-05-01", None, "chemotherapy", None),
    )
    tc = treatment_classes(tr, RemissionOptions().non_blocking_intents)
    assert tc["klass"].to_list() == ["blocking", "maintenance", "ignored", "maintenance", "blocking"]
    assert tc["end_date"].to_list()[:2] == [D("2020-01-01"), None]
    tc2 = treatment_classes(tr, {"maintenance"})
    assert tc2["klass"][3] == "blocking"


@pytest.mark.parametrize(
    "last,start,in_rem,expected",
    [
        ("2021-01-31", "2020-06-01", True, "2021-04-30"),  # < 2 y: 3 months, day clamped
        ("2023-01-15", "2020-06-01", True, "2023-07-15"),  # 2-5 y: 6 months
        ("2026-01-15", "2020-06-01", True, "2027-01-15"),  # > 5 y: 12 months
        ("2022-05-31", "2020-06-01", True, "2022-08-31"),  # one day before the 2-year mark
        ("2022-06-01", "2020-06-01", True, "2022-12-01"),  # on the 2-year mark
        ("2021-01-31", None, False, "2021-04-30"),  # active disease: every 3 months
    ],
)
def test_next_followup_due(last, start, in_rem, expected):
    """followup.py schedule: 3/6/12 months by years since the remission started."""
    got = next_followup_due(D(last), D(start) if start else None, in_remission=in_rem, schedule=FollowupSchedule())
    assert got == D(expected)
    assert next_followup_due(D(last), None, in_remission=False, deceased=True) is None
    assert add_months(D("2020-01-31"), 1) == D("2020-02-29")
