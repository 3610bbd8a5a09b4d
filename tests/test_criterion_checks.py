"""A criterion's own input checks (``Criterion.checks``): declared by the criterion, run by
validation on the target lesions of the subjects it assesses (issue 13 item 1).

Expected values by hand from recist11.md §3.2: at most 5 targets per subject, 2 per organ
(nodes one organ, left/right of a paired organ one), a nodal target >= 15 mm short axis."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from remission.criteria import recist11, registry
from remission.criteria.base import TARGET_CHECK_COLUMNS
from remission.errors import InputErrors
from remission.io import from_frames


def _targets(rows):
    return pl.DataFrame(rows, schema=TARGET_CHECK_COLUMNS, orient="row")


def test_recist_target_selection_rule_on_its_own_frame():
    d0, d1 = date(2024, 1, 1), date(2024, 3, 1)
    t = _targets(
        [
            ("S1", "T1", 2, d0, "left lung", False, 20.0, "20", 2),
            ("S1", "T2", 3, d0, "Lung-Right", False, 15.0, "15", 3),
            ("S1", "T3", 4, d0, "lung", False, 12.0, "12", 4),   # third lung target
            ("S1", "N1", 5, d0, "neck", True, 12.0, "12.0", 5),  # nodal < 15 mm
            ("S1", "T4", 6, d0, "liver", False, 30.0, "30", 6),
            ("S1", "T5", 9, d1, "bone", False, 11.0, "11", 9),   # sixth target, first seen later
            ("S2", "T1", 7, d0, None, False, None, None, None),  # no organ, no baseline: nothing
        ]
    )
    got = recist11.target_selection_checks(t).sort("code", "row")
    assert got.select("code", "row", "subject_id", "column", "value").rows() == [
        ("NODAL_TARGET_BELOW_15MM", 5, "S1", "diameter_mm", "12.0"),
        ("TOO_MANY_PER_ORGAN", 4, "S1", "organ", "lung"),
        ("TOO_MANY_TARGETS", 9, "S1", "lesion_id", "T5"),
    ]
    assert "this is target number 6" in got.filter(pl.col("code") == "TOO_MANY_TARGETS")["expected"].item()


def _six_targets(criteria: str):
    subjects = pl.DataFrame({"subject_id": ["P1"], "criteria": [criteria]})
    lesions = pl.DataFrame(
        {
            "subject_id": ["P1"] * 6,
            "date": ["2024-01-01"] * 6,
            "lesion_id": [f"T{i}" for i in range(1, 7)],
            "role": ["target"] * 6,
            "organ": ["liver", "lung", "bone", "skin", "brain", "kidney"],
            "diameter_mm": ["20"] * 6,
        }
    )
    return from_frames(subjects=subjects, lesions=lesions)


def test_checks_run_only_for_criteria_declaring_them():
    """The RECIST family declares target selection; WHO (bidimensional, who.md) does not."""
    declaring = {c.code for c in registry.all_criteria() if c.checks is recist11.target_selection_checks}
    assert declaring == {"recist1.1", "irecist", "mrecist"}
    for code in ("recist1.1", "irecist", "mrecist"):
        with pytest.raises(InputErrors) as exc:
            _six_targets(code)
        assert [(e.code, e.value, e.row, e.column) for e in exc.value.errors] == [("TOO_MANY_TARGETS", "T6", 6, "lesion_id")], code
    dataset, errors = _six_targets("who")
    assert errors == [] and dataset.lesions.height == 6
