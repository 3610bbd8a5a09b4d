"""Adding a twelfth criterion is one module plus its tests (issue 13 "Done when";
docs/ARCHITECTURE.md "Adding a criterion").  ``tests/example_criterion/toy_cea.py`` is a
made-up marker criterion; registered at run time it flows through validation, time points,
the one best-response engine, statuses and episodes with no change anywhere else.

Expected values by hand from its rules (module docstring) and remission_model.md §6:

P1 (line 1 from 2024-01-10 to 2024-03-31; CEA 40 at baseline 2024-01-05):
  03-01 18 (-55 % -> DECREASE), 04-05 4 (<= 5 -> NORMAL), 05-10 3 (NORMAL),
  09-01 12 (nadir 3: +300 % and +9 -> INCREASE).
  best response NORMAL 04-05, confirmed by 05-10 (35 d >= 28) -> NORMAL.
  One episode: start 03-01 (PARTIAL), complete from 04-05, confirmed 04-05 (35 d after
  onset), qualified 05-10 (first remission status >= 28 d after the end of treatment
  03-31 and >= 28 d after onset), ended 09-01 by RECURRENCE (it was complete), 184 days.
P2 (same treatment; baseline CEA 40): 03-01 18 (DECREASE), 03-20 30 (nadir 18: +67 %,
  +12 -> INCREASE).  Best response DECREASE 03-01; it is never confirmed, so the confirmed
  best response is INCREASE (progression needs no confirmation).  Episode 03-01..03-20
  ends by PROGRESSION, not qualified (REGROWTH_WITHIN_SUSTAIN_WINDOW).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission.criteria import registry
from remission.errors import InputErrors
from remission.io import from_frames
from remission.pipeline import assess

from example_criterion import toy_cea

D = dt.date


@pytest.fixture
def toy():
    registry.register(toy_cea.CRITERION)
    yield toy_cea.CRITERION
    registry.unregister(toy_cea.CODE)


def _dataset(criteria="toy_cea"):
    subjects = pl.DataFrame({"subject_id": ["P1", "P2"], "criteria": [criteria] * 2, "diagnosis_date": ["2023-12-01"] * 2})
    treatments = pl.DataFrame(
        {"subject_id": ["P1", "P2"], "line": ["1", "1"], "start_date": ["2024-01-10"] * 2,
         "end_date": ["2024-03-31"] * 2, "intent": ["palliative"] * 2, "modality": ["chemotherapy"] * 2}
    )  # fmt: skip
    labs = pl.DataFrame(
        {
            "subject_id": ["P1"] * 5 + ["P2"] * 3,
            "date": ["2024-01-05", "2024-03-01", "2024-04-05", "2024-05-10", "2024-09-01",
                     "2024-01-05", "2024-03-01", "2024-03-20"],
            "test": ["cea"] * 8,
            "value": ["40", "18", "4", "3", "12", "40", "18", "30"],
            "unit": ["ng/mL"] * 8,
        }
    )  # fmt: skip
    return from_frames(subjects=subjects, treatments=treatments, labs=labs)


def test_unregistered_code_is_an_input_error():
    with pytest.raises(InputErrors) as exc:
        _dataset()
    assert {e.code for e in exc.value.errors} == {"UNKNOWN_CRITERIA"}


def test_a_registered_twelfth_criterion_runs_end_to_end(toy):
    assert "toy_cea" in registry.codes() and registry.get("toy_cea") is toy
    dataset, errors = _dataset()
    assert errors == []
    res = assess(dataset, as_of=D(2024, 12, 1))

    a = res.assessments.filter(pl.col("subject_id") == "P1").sort("date")
    assert a.select("date", "overall_response", "value").rows() == [
        (D(2024, 3, 1), "DECREASE", 18.0), (D(2024, 4, 5), "NORMAL", 4.0),
        (D(2024, 5, 10), "NORMAL", 3.0), (D(2024, 9, 1), "INCREASE", 12.0),
    ]  # fmt: skip
    assert a["change_from_baseline_pct"][0] == pytest.approx(-55.0)

    s = {r["subject_id"]: r for r in res.summary.iter_rows(named=True)}
    assert (s["P1"]["criteria"], s["P1"]["best_response"], s["P1"]["best_response_date"]) == ("toy_cea", "NORMAL", D(2024, 4, 5))
    assert s["P1"]["confirmed_best_response"] == "NORMAL"
    assert s["P1"]["first_response_date"] == D(2024, 3, 1)
    assert (s["P2"]["best_response"], s["P2"]["best_response_date"]) == ("DECREASE", D(2024, 3, 1))
    assert s["P2"]["confirmed_best_response"] == "INCREASE"

    e = {r["subject_id"]: r for r in res.episodes.iter_rows(named=True)}
    assert res.episodes.height == 2
    p1 = e["P1"]
    assert (p1["type"], p1["start_date"], p1["complete_start_date"], p1["confirmed_date"]) == (
        "complete", D(2024, 3, 1), D(2024, 4, 5), D(2024, 4, 5))
    assert (p1["qualified"], p1["qualification_date"]) == (True, D(2024, 5, 10))
    assert (p1["end_date"], p1["end_reason"], p1["duration_days"]) == (D(2024, 9, 1), "recurrence", 184)
    p2 = e["P2"]
    assert (p2["start_date"], p2["end_date"], p2["end_reason"]) == (D(2024, 3, 1), D(2024, 3, 20), "progression")
    assert (p2["qualified"], p2["not_qualified_reason"]) == (False, "regrowth_within_sustain_window")


def test_its_options_drive_time_points_and_best_response(toy):
    """One option (confirm_days) drives the best response and the lifecycle confirmation
    (remission_model.md §6.4 table derived from each rule).  A criterion registered at run
    time gets its options model's defaults; a bundled one (a line in registry.MODULES) also
    gets its field in AssessOptions and its table in ``--options`` files."""
    from remission.options import confirm_days_by_criteria

    assert confirm_days_by_criteria(None)["toy_cea"] == 28
    rule = toy.best_response(toy_cea.ToyCeaOptions(confirm_days=40))
    assert rule.confirm_days == 40 and rule.order[0] == "NORMAL"
