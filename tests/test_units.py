"""Lab units (spec/tables.md labs.unit): convertible units are converted to the canonical
unit of the criteria specs, unknown tests and units are located input errors."""

from __future__ import annotations

import polars as pl
import pytest

from remission import units
from remission.errors import InputErrors
from remission.io import from_frames

SUBJ = pl.DataFrame({"subject_id": ["a"]})


def _labs(rows):
    return pl.DataFrame(
        {"subject_id": ["a"] * len(rows), "date": ["2020-01-01"] * len(rows),
         "test": [r[0] for r in rows], "value": [r[1] for r in rows], "unit": [r[2] for r in rows]}
    )


@pytest.mark.parametrize(
    "test,value,unit,expected_value,expected_unit",
    [
        ("serum_m_protein", "30", "g/L", 3.0, "g/dL"),  # imwg.md §2.1: 1.0 g/dL = 10 g/L
        ("serum_m_protein", "1.5", "G/DL", 1.5, "g/dL"),
        ("urine_m_protein", "0.25", "g/24h", 250.0, "mg/24h"),
        ("involved_flc", "100", "mg/L", 10.0, "mg/dL"),  # imwg.md: 10 mg/dL = 100 mg/L
        ("platelets", "150000", "/uL", 150.0, "10^9/L"),
        ("anc", "1.2", "x10^9/L", 1.2, "10^9/L"),
        ("anc", "1.2", "10*9/l", 1.2, "10^9/L"),
        ("anc", "1500", "cells/µL", 1.5, "10^9/L"),
        ("hemoglobin", "110", "g/L", 11.0, "g/dL"),
        ("psa", "4", "µg/L", 4.0, "ng/mL"),
        ("ca125", "35", "kU/L", 35.0, "U/mL"),
        ("marrow_blasts_pct", "4", "%", 4.0, "%"),
    ],
)
def test_convertible_units_are_converted(test, value, unit, expected_value, expected_unit):
    ds, errors = from_frames(SUBJ, labs=_labs([(test, value, unit)]))
    assert errors == []
    row = ds.labs.row(0, named=True)
    assert row["value"] == pytest.approx(expected_value)
    assert row["unit"] == expected_unit


def test_unknown_unit_and_unknown_test_are_located_errors():
    with pytest.raises(InputErrors) as exc:
        from_frames(SUBJ, labs=_labs([("psa", "4", "ng/mL"), ("anc", "1", "furlongs"), ("foo", "1", "x")]))
    errs = {(e.row, e.column, e.value, e.code) for e in exc.value.errors}
    assert errs == {(2, "unit", "furlongs", "UNKNOWN_UNIT"), (3, "test", "foo", "UNKNOWN_TEST")}
    anc = next(e for e in exc.value.errors if e.code == "UNKNOWN_UNIT")
    assert anc.subject_id == "a" and "10^9/L" in anc.expected


def test_every_test_has_its_canonical_unit_accepted():
    for test, unit in units.CANONICAL_UNITS.items():
        assert units.factors(test)[units.normalise_unit(unit)] == 1.0, test
