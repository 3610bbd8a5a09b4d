"""End to end: the worked example of remission_model.md §12, given as stated RECIST
responses (the ``responses`` table) with its three treatments, through ``assess``.

Hand-computed expectations (exclusive day counts, remission_model.md §7):
* line 1 starts 2020-01-10 (T1); the PD of 2022-02-01 and salvage T3 on 2022-02-15 open
  line 2, so best response (line 1, recist11.md §5.1) ignores everything from 2022-02-15.
* BOR: CR first met 2020-07-20; confirmed by CR 2020-09-01 (43 days >= 28) -> CR.
* PFS: 2020-01-10 -> 2022-02-01 = 753 days, event.  DoR: 2020-03-01 -> 2022-02-01 = 702 days.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import assess

D = dt.date

RESPONSES = [
    ("2020-03-01", "PR"),
    ("2020-05-01", "PR"),
    ("2020-07-20", "CR"),
    ("2020-09-01", "CR"),
    ("2021-03-01", "CR"),
    ("2021-09-01", "CR"),
    ("2022-02-01", "PD"),
    ("2022-05-01", "PR"),
    ("2022-10-01", "CR"),
    ("2022-11-15", "CR"),
    ("2023-11-01", "CR"),
    ("2024-11-01", "CR"),
    ("2025-11-01", "CR"),
    ("2026-11-01", "CR"),
    ("2027-11-01", "CR"),
]


@pytest.fixture(scope="module")
def result():
    # remission_model.md §12's patient is followed up to 2028: later than the default window
    # of plausible dates (today + 1 year, docs/tables.md), so this test widens it
    mp = pytest.MonkeyPatch()
    mp.setenv("REMISSION_LATEST_DATE", "2030-12-31")
    yield _result()
    mp.undo()


def _result():
    subjects = pl.DataFrame(
        {
            "subject_id": ["P12"],
            "cancer_type": ["colorectal"],
            "diagnosis_date": ["2019-12-01"],
            "last_contact_date": ["2028-01-15"],
        }
    )
    treatments = pl.DataFrame(
        {
            "subject_id": ["P12"] * 3,
            "start_date": ["2020-01-10", "2020-07-01", "2022-02-15"],
            "end_date": ["2020-06-15", "2021-07-01", "2022-08-01"],
            "modality": ["chemotherapy", "maintenance", "chemotherapy"],
            "intent": ["induction", "maintenance", "salvage"],
        }
    )
    responses = pl.DataFrame(
        {
            "subject_id": ["P12"] * len(RESPONSES),
            "date": [d for d, _ in RESPONSES],
            "response": [r for _, r in RESPONSES],
            "evidence": ["imaging"] * len(RESPONSES),
        }
    )
    return assess(subjects=subjects, treatments=treatments, responses=responses)


def test_episodes_of_the_worked_example(result):
    ep = result.episodes.sort("episode").to_dicts()
    assert len(ep) == 2
    e1, e2 = ep
    assert (e1["type"], e1["start_date"], e1["confirmed_date"], e1["complete_start_date"]) == (
        "complete", D(2020, 3, 1), D(2020, 5, 1), D(2020, 7, 20))
    assert (e1["qualified"], e1["qualification_date"]) == (True, D(2020, 7, 20))
    assert (e1["end_date"], e1["end_reason"], e1["duration_days"]) == (D(2022, 2, 1), "recurrence", 702)
    assert e1["on_maintenance"] is True and e1["spontaneous"] is False
    assert (e2["type"], e2["start_date"], e2["confirmed_date"], e2["complete_start_date"]) == (
        "complete", D(2022, 5, 1), D(2022, 10, 1), D(2022, 10, 1))
    assert (e2["qualified"], e2["qualification_date"]) == (True, D(2022, 10, 1))
    assert (e2["end_date"], e2["end_reason"], e2["censor_date"], e2["duration_days"]) == (
        None, "censored", D(2027, 11, 1), 2010)


def test_summary_of_the_worked_example(result):
    s = result.summary.row(0, named=True)
    assert (s["best_response"], s["best_response_date"]) == ("CR", D(2020, 7, 20))
    assert s["confirmed_best_response"] == "CR"
    assert s["status"] == "long_term_remission"
    assert s["cure_milestone_date"] == D(2027, 10, 1)
    assert s["long_term_remission"] is True
    assert s["first_response_date"] == D(2020, 3, 1)
    assert s["progression_date"] == D(2022, 2, 1)
    assert s["recurrence_date"] == D(2022, 2, 1)
    assert (s["pfs_days"], s["pfs_event"]) == (753, True)
    assert (s["dor_days"], s["dor_event"]) == (702, True)
    assert s["ned_since"] == D(2022, 10, 1)


def test_assessment_rows_are_the_stated_responses(result):
    a = result.assessments
    assert a.height == len(RESPONSES)
    assert a.get_column("overall_response").to_list() == [r for _, r in RESPONSES]
    assert a.get_column("line").to_list() == [1] * 7 + [2] * 8
