"""A partly measured time point is never shown as a measurement (issue 15 item 1;
recist11.md §4.2: with a target not evaluated the sum cannot be assessed, only T1 may use
the measured subset; the same for WHO, RANO and Lugano sums)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from remission import assess

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"


def test_ex09_target_not_evaluated_has_no_value_and_no_change():
    r = assess(EXAMPLE)
    a = r.assessments.filter(pl.col("subject_id") == "EX09").sort("date")
    ne = a.filter(pl.col("date") == dt.date(2021, 7, 5)).row(0, named=True)
    # T1 28 mm measured, T2 not evaluated: NE, the 28 mm is not "the sum of diameters"
    assert ne["overall_response"] == "NE"
    assert ne["value"] is None and ne["change_from_baseline_pct"] is None and ne["change_from_nadir_pct"] is None
    assert ne["partial_value"] == 28.0
    base = a.filter(pl.col("date") == dt.date(2021, 5, 3)).row(0, named=True)
    assert base["value"] == 55.0 and base["partial_value"] is None
    # the full per-assessment table keeps the criterion's partial sum, flagged
    tp = r.timepoints.filter((pl.col("subject_id") == "EX09") & (pl.col("date") == dt.date(2021, 7, 5))).row(0, named=True)
    assert tp["value"] == 28.0 and tp["value_complete"] is False


def test_every_partial_row_is_empty_and_every_complete_row_keeps_its_value():
    r = assess(EXAMPLE)
    tp = r.timepoints.select("subject_id", "date", "value", "value_complete")
    a = r.assessments.join(tp, on=["subject_id", "date"], suffix="_tp")
    partial = a.filter(pl.col("value_complete") == False)  # noqa: E712
    assert partial.height >= 3
    assert partial["value"].null_count() == partial.height
    assert partial["change_from_baseline_pct"].null_count() == partial.height
    assert (partial["partial_value"] == partial["value_tp"]).all()
    full = a.filter(pl.col("value_complete").fill_null(True))
    assert full["partial_value"].null_count() == full.height
    assert (full["value"].fill_null(-1) == full["value_tp"].fill_null(-1)).all()


def test_rano_with_no_target_measured_is_not_a_zero_sum():
    subjects = pl.DataFrame({"subject_id": ["g1"], "cancer_type": ["glioma"], "criteria": ["rano2"],
                             "diagnosis_date": ["2020-01-01"], "death_date": [None], "last_contact_date": [None]})
    lesions = pl.DataFrame({
        "subject_id": ["g1"] * 2, "date": ["2020-01-10", "2020-03-10"], "lesion_id": ["T1"] * 2,
        "role": ["target"] * 2, "organ": ["brain"] * 2, "nodal": [False] * 2,
        "diameter_mm": [30.0, None], "perpendicular_mm": [20.0, None], "status": [None, "not_evaluated"],
        "method": ["MRI"] * 2,
    })
    treatments = pl.DataFrame({"subject_id": ["g1"], "start_date": ["2020-01-15"], "end_date": ["2020-02-15"],
                               "modality": ["chemotherapy"], "intent": ["palliative"], "line": [None], "name": ["rt"]})
    r = assess(subjects=subjects, lesions=lesions, treatments=treatments)
    row = r.assessments.filter(pl.col("date") == dt.date(2020, 3, 10)).row(0, named=True)
    assert row["value"] is None  # was 0.0: "no tumour" from a scan that measured nothing
    assert row["overall_response"] == "NE"
