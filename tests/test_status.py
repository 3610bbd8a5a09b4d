"""Per-date status combination, remission_model.md §5 (hand-computed cases)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from remission.options import RemissionOptions
from remission.timeline.status import combine_statuses

D = dt.date.fromisoformat


def results(*rows):
    """rows: (date, level, source, clinical_only, disease_evident, ped, sites)."""
    recs = []
    for r in rows:
        r = tuple(r) + (None,) * (7 - len(r))
        date, level, source, clin, dis, ped, sites = r
        recs.append(
            {
                "subject_id": "p1",
                "date": D(date),
                "level": level,
                "progression_event_date": D(ped) if ped else None,
                "source": source,
                "clinical_only": bool(clin),
                "disease_evident": dis,
                "recurrence_sites": sites,
            }
        )
    return pl.DataFrame(recs)


def levels(df):
    return [(r["date"].isoformat(), r["level"]) for r in df.iter_rows(named=True)]


def test_rule1_same_day_worst_of_ignores_ne_case12():
    """§5 rule 1 / §11.12: several same-day results -> worst-of; NE only when alone."""
    out = combine_statuses(
        results(
            ("2020-01-01", "PARTIAL", "recist1.1"),
            ("2020-01-01", "STABLE", "gcig"),
            ("2020-01-01", "NOT_EVALUABLE", "who"),
            ("2020-02-01", "NOT_EVALUABLE", "recist1.1"),
            ("2020-02-01", "NOT_EVALUABLE", "gcig"),
            ("2020-03-01", "COMPLETE", "recist1.1"),
            ("2020-03-01", "NOT_EVALUABLE", "gcig"),
        )
    )
    assert levels(out) == [("2020-01-01", "STABLE"), ("2020-02-01", "NOT_EVALUABLE"), ("2020-03-01", "COMPLETE")]
    assert out["source"][0] == "gcig"
    assert out["clinical_only"].to_list() == [False, False, False]


def test_case10_disagreeing_criteria_progression_unless_primary():
    """§11.10: RECIST PR and CA-125 PD on one date -> PROGRESSION; primary_criterion=recist1.1 -> PARTIAL."""
    res = results(
        ("2020-05-01", "PARTIAL", "recist1.1"),
        ("2020-05-01", "PROGRESSION", "gcig", False, None, "2020-04-20", "BIOCHEMICAL"),
    )
    out = combine_statuses(res)
    assert levels(out) == [("2020-05-01", "PROGRESSION")]
    assert out["progression_event_date"][0] == D("2020-04-20")  # back-dated, rule 1
    assert out["recurrence_sites"][0] == "BIOCHEMICAL"
    prim = combine_statuses(res, RemissionOptions(primary_criterion="recist1.1"))
    assert levels(prim) == [("2020-05-01", "PARTIAL")]
    assert prim["progression_event_date"][0] is None


def test_rule2_other_sources_deny_complete_within_window():
    """§5 rule 2: disease on another source within 28 days downgrades COMPLETE to PARTIAL."""
    res = results(
        ("2020-01-05", None, "symptoms", True, True),  # 27 days before 2020-02-01 -> in window
        ("2020-02-01", "COMPLETE", "recist1.1"),
        ("2020-03-01", None, "symptoms", True, True),  # 29 days before 2020-03-30 -> outside
        ("2020-03-30", "COMPLETE", "recist1.1"),
    )
    out = combine_statuses(res)
    # 2020-01-05 and 2020-03-01: clinical items with disease evident create no status (rule 6)
    assert levels(out) == [("2020-02-01", "PARTIAL"), ("2020-03-30", "COMPLETE")]
    assert out["complete_denied_by"].to_list() == ["symptoms", None]


def test_rule2_latest_item_per_source_and_other_criterion():
    """§5 rule 2: only the latest item of each other source counts; a non-COMPLETE level of
    another criterion denies completeness, NOT_EVALUABLE does not."""
    res = results(
        ("2020-01-10", None, "physical_exam", True, True),
        ("2020-01-20", None, "physical_exam", True, False),  # latest exam: no disease
        ("2020-01-25", "PARTIAL", "gcig"),
        ("2020-02-01", "COMPLETE", "recist1.1"),
        ("2020-02-20", "NOT_EVALUABLE", "gcig"),
        ("2020-03-01", "COMPLETE", "recist1.1"),
    )
    out = combine_statuses(res, RemissionOptions(primary_criterion="recist1.1"))
    got = [(r["date"].isoformat(), r["level"], r["complete_denied_by"]) for r in out.iter_rows(named=True)]
    # gcig (non-primary) and clinical dates without a prior remission status get no status;
    # 2020-02-01: gcig's latest item in [2020-01-04, 2020-02-01] is PARTIAL -> denied; the
    # latest physical exam (2020-01-20) shows no disease. 2020-03-01: gcig's latest is NE.
    assert got == [("2020-02-01", "PARTIAL", "gcig"), ("2020-03-01", "COMPLETE", None)]


def test_rule6_clinical_followup_carries_last_remission_level():
    """§5 rule 6: clinical-only dates without disease carry the last remission level
    (clinical_only=True), never upgrade PARTIAL, and only when clinical_followup_sustains."""
    res = results(
        ("2020-01-01", "COMPLETE", "lugano2014"),
        ("2020-04-01", None, "physical_exam", True, False),
        ("2020-07-01", "PARTIAL", "lugano2014"),
        ("2020-10-01", None, "symptoms", True, False),
        ("2021-01-01", "STABLE", "lugano2014"),
        ("2021-04-01", None, "physical_exam", True, False),
    )
    out = combine_statuses(res)
    assert [(d, lv) for d, lv in levels(out)] == [
        ("2020-01-01", "COMPLETE"),
        ("2020-04-01", "COMPLETE"),
        ("2020-07-01", "PARTIAL"),
        ("2020-10-01", "PARTIAL"),
        ("2021-01-01", "STABLE"),
    ]  # 2021-04-01: last level STABLE is not a remission level -> no status
    assert out["clinical_only"].to_list() == [False, True, False, True, False]
    off = combine_statuses(res, RemissionOptions(clinical_followup_sustains=False))
    assert off["date"].to_list() == [D("2020-01-01"), D("2020-07-01"), D("2021-01-01")]


def test_rule6_carried_complete_denied_by_recent_suspicion():
    """§5 rule 6 + rule 2: disease-evident symptoms block a carried COMPLETE, and later
    carried statuses of the same run stay PARTIAL (never upgrade PARTIAL -> COMPLETE)."""
    res = results(
        ("2020-01-01", "COMPLETE", "lugano2014"),
        ("2020-01-10", None, "symptoms", True, True),
        ("2020-01-20", None, "physical_exam", True, False),
        ("2020-03-20", None, "physical_exam", True, False),
    )
    out = combine_statuses(res)
    assert levels(out) == [("2020-01-01", "COMPLETE"), ("2020-01-20", "PARTIAL"), ("2020-03-20", "PARTIAL")]
    assert out["complete_denied_by"].to_list() == [None, "symptoms", "symptoms"]


def test_rule3_clinical_items_never_create_progression():
    """§5 rules 3 and 6: disease evident on clinical items alone produces no PROGRESSION."""
    out = combine_statuses(
        results(("2020-01-01", "PARTIAL", "recist1.1"), ("2020-02-01", None, "symptoms", True, True))
    )
    assert levels(out) == [("2020-01-01", "PARTIAL")]


def test_progression_sites_merged_and_event_date_earliest():
    """§5 rule 1: two PROGRESSION results on one date keep the earliest event date and all sites."""
    out = combine_statuses(
        results(
            ("2020-06-01", "PROGRESSION", "recist1.1", False, None, "2020-06-01", "liver"),
            ("2020-06-01", "PROGRESSION", "gcig", False, None, "2020-05-20", "BIOCHEMICAL;liver"),
        )
    )
    assert levels(out) == [("2020-06-01", "PROGRESSION")]
    assert out["progression_event_date"][0] == D("2020-05-20")
    assert out["recurrence_sites"][0] == "BIOCHEMICAL;liver"
    assert out["source"][0] == "gcig;recist1.1"
