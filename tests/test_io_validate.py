"""Validation of the canonical input tables (spec/tables.md "Input tables" and "Bad input").

Every test writes a small dataset folder and states, by hand from the spec, the exact
error(s) expected: file, 1-based data row (CSV line number minus one), subject, column,
value and code.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remission import schema
from remission.errors import InputError, InputErrors
from remission.criteria import registry
from remission.io import from_frames, load_dataset
from remission.io.tables import read_dataset
from remission.io.validate import ERROR_CODES, LESION_STATUSES, validate

SUBJECTS = "subject_id,cancer_type\nP1,nsclc\nP2,breast\n"


def write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables.setdefault("subjects", SUBJECTS)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def check(folder: Path, criteria: str | None = None):
    dataset, errors = validate(read_dataset(folder), criteria=criteria)
    assert {e.code for e in errors} <= set(ERROR_CODES)  # every code is a documented one
    return dataset, errors


def errs(folder: Path, code: str | None = None, criteria: str | None = None) -> list[InputError]:
    _, errors = check(folder, criteria)
    return [e for e in errors if code is None or e.code == code]


def located(errors: list[InputError]) -> list[tuple]:
    """(file, row, subject, column, value, code) of each error, ignoring `expected`."""
    return [(e.file, e.row, e.subject_id, e.column, e.value, e.code) for e in errors]


LESION_HEADER = "subject_id,date,lesion_id,role,organ,nodal,diameter_mm,status,method\n"


# --------------------------------------------------------------------------------------
# Reading (spec/tables.md: a dataset is a folder, NAME.csv or NAME.parquet)
# --------------------------------------------------------------------------------------


def test_read_keeps_text_strips_whitespace_and_numbers_rows(tmp_path):
    """Every column is text; ' x ' -> 'x'; '' -> null; row = CSV line number - 1."""
    folder = write(tmp_path, subjects="subject_id,cancer_type,extra\n P1 , nsclc ,007\nP2,,\n")
    raw = read_dataset(folder)
    table = raw.tables["subjects"]
    assert table.file == "subjects.csv"
    assert all(dtype == pl.String for name, dtype in table.frame.schema.items() if name != "__row__")
    assert table.frame.get_column("subject_id").to_list() == ["P1", "P2"]
    assert table.frame.get_column("extra").to_list() == ["007", None]  # text, not 7
    assert table.frame.get_column("cancer_type").to_list() == ["nsclc", None]
    assert table.frame.get_column("__row__").to_list() == [1, 2]


def test_blank_lines_skipped_but_rows_keep_line_numbers(tmp_path):
    """Row numbers follow the CSV lines (spec/tables.md "Bad input": the row named is the user's row)."""
    folder = write(tmp_path, subjects="subject_id,diagnosis_date\nP1,2024-01-01\n\nP2,2024-13-01\n")
    assert located(errs(folder)) == [("subjects.csv", 3, "P2", "diagnosis_date", "2024-13-01", "BAD_DATE")]


def test_extra_unknown_columns_are_ignored(tmp_path):
    folder = write(tmp_path, subjects="subject_id,favourite_colour\nP1,blue\n")
    dataset, errors = check(folder)
    assert errors == []
    assert dataset.subjects.columns == list(schema.SUBJECTS)


def test_missing_subjects_table_is_an_error(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "lesions.csv").write_text(LESION_HEADER)
    assert located(errs(folder)) == [("subjects.csv", None, None, None, None, "MISSING_TABLE")]
    with pytest.raises(InputErrors):
        load_dataset(folder, skip_invalid=True)


def test_table_given_as_csv_and_parquet_is_an_error(tmp_path):
    folder = write(tmp_path, labs="subject_id,date,test,value,unit\n")
    pl.DataFrame({"subject_id": ["P1"]}).write_parquet(folder / "labs.parquet")
    assert [e.code for e in errs(folder)] == ["DUPLICATE_TABLE"]
    assert errs(folder)[0].file == "labs.csv"


def test_unreadable_files_are_errors_not_tracebacks(tmp_path):
    folder = write(tmp_path, lesions=LESION_HEADER + "P1,2024-01-01,L1,target,lung,,10,,CT,extra,fields\n")
    (folder / "labs.parquet").write_bytes(b"this is not parquet")
    found = located(errs(folder))
    assert found == [
        ("labs.parquet", None, None, None, None, "READ_ERROR"),
        ("lesions.csv", 1, None, None, "11 fields", "RAGGED_LINE"),  # issue 14: located on its line
    ]
    assert errs(folder)[1].label == "line 2"
    with pytest.raises(InputErrors) as info:
        load_dataset(folder)
    assert "READ_ERROR" in str(info.value) and "RAGGED_LINE" in str(info.value)


def test_absent_tables_are_empty_frames_with_the_schema(tmp_path):
    dataset, errors = check(write(tmp_path))
    assert errors == []
    for name, cols in schema.INPUT_TABLES.items():
        assert dict(getattr(dataset, name).schema) == cols, name
    assert dataset.files == {"subjects": "subjects.csv"}
    assert dataset.lesions.height == 0


def test_typed_tables_have_exactly_the_schema_dtypes(tmp_path):
    folder = write(
        tmp_path,
        subjects="subject_id,cancer_type,diagnosis_date,death_date,last_contact_date\nP1,NSCLC,2024-01-01,,2025-01-01\n",
        lesions=LESION_HEADER + "P1,2024-01-10,L1,Target,LUNG,,20.5,,ct\nP1,2024-01-10,N1,non_target,lymph_node,YES,,present,Clinical\n",
        labs="subject_id,date,test,value,unit\nP1,2024-01-10,PSA,4.2,ng/mL\n",
        findings="subject_id,date,finding,value\nP1,2024-01-10,deauville,3.0\nP1,2024-01-10,Symptoms,Worse\n",
        treatments="subject_id,start_date,end_date,modality,intent,line,name\nP1,2024-01-11,,Chemotherapy,,1,carboplatin\n",
        responses="subject_id,date,response,evidence\nP1,2024-01-10,non-cr/non-pd,Imaging\n",
    )
    dataset, errors = check(folder)
    assert errors == []
    for name, cols in schema.INPUT_TABLES.items():
        assert dict(getattr(dataset, name).schema) == cols, name
    les = dataset.lesions.to_dicts()
    # role/organ lowercased; method canonical; nodal null -> false (spec/tables.md lesions)
    assert [r["role"] for r in les] == ["target", "non_target"]
    assert [r["organ"] for r in les] == ["lung", "lymph_node"]
    assert [r["method"] for r in les] == ["CT", "clinical"]
    assert [r["nodal"] for r in les] == [False, True]
    assert les[0]["diameter_mm"] == 20.5
    assert dataset.subjects.row(0, named=True)["cancer_type"] == "nsclc"
    assert dataset.labs.row(0, named=True)["test"] == "psa"
    assert dataset.findings.get_column("value").to_list() == ["3", "worse"]
    assert dataset.treatments.row(0, named=True)["line"] == 1
    assert dataset.treatments.row(0, named=True)["modality"] == "chemotherapy"
    assert dataset.responses.row(0, named=True)["response"] == "NON-CR/NON-PD"
    assert dataset.responses.row(0, named=True)["evidence"] == "imaging"
    assert dataset.rows["lesions"].to_list() == [1, 2]


# --------------------------------------------------------------------------------------
# Column-level rules
# --------------------------------------------------------------------------------------


def test_missing_required_column_is_fatal(tmp_path):
    """spec/tables.md lesions: subject_id, date, lesion_id, role required."""
    folder = write(tmp_path, lesions="subject_id,date,lesion_id,diameter_mm\nP1,2024-01-01,L1,10\n")
    assert located(errs(folder)) == [("lesions.csv", None, None, "role", None, "MISSING_COLUMN")]
    with pytest.raises(InputErrors):
        load_dataset(folder, skip_invalid=True)


def test_missing_required_value(tmp_path):
    folder = write(tmp_path, labs="subject_id,date,test,value,unit\nP1,2024-01-01,psa,3,\n")
    assert located(errs(folder)) == [("labs.csv", 1, "P1", "unit", None, "MISSING_VALUE")]


@pytest.mark.parametrize("bad", ["2024-03", "2024-3-7", "17/03/2024", "2024-02-30", "2024-03-07T10:00", "yesterday"])
def test_partial_or_unparsable_dates_are_errors(tmp_path, bad):
    """spec/tables.md: dates are ISO calendar dates; partial/unparsable = input error."""
    folder = write(tmp_path, lesions=LESION_HEADER + f"P1,2024-01-01,L1,target,lung,,10,,CT\nP1,{bad},L1,target,lung,,10,,CT\n")
    assert located(errs(folder)) == [("lesions.csv", 2, "P1", "date", bad, "BAD_DATE")]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.dates(min_value=dt.date(1000, 1, 1)).map(dt.date.isoformat),
        st.from_regex(r"\A[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,3}\Z"),
        st.text(alphabet="0123456789-/T:", max_size=12),
    )
)
def test_date_parsing_property(text):
    """Accepted exactly when the text is YYYY-MM-DD, a real calendar date and inside the
    plausible window (else DATE_OUT_OF_RANGE, issue 18 item 3)."""
    frame = pl.DataFrame({"subject_id": ["P1"], "diagnosis_date": [text]})
    dataset, errors = _validate_frames(frame)
    stripped = text.strip()
    try:
        expected = dt.date.fromisoformat(stripped) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped) else None
    except ValueError:
        expected = None
    if stripped == "":
        assert errors == [] and dataset.subjects.item(0, "diagnosis_date") is None
    elif expected is None:
        assert [e.code for e in errors] == ["BAD_DATE"]
    elif not (dt.date(1900, 1, 1) <= expected <= dt.date.today() + dt.timedelta(days=3650)):  # a subject's date
        assert [e.code for e in errors] == ["DATE_OUT_OF_RANGE"]
    else:
        assert errors == [] and dataset.subjects.item(0, "diagnosis_date") == expected


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dates_outside_the_plausible_window_are_errors(tmp_path, fmt, monkeypatch):
    """Issue 18 item 3: 1900-01-01 to today + 365 days by default, from text and from
    Parquet date32 alike; the window is configurable."""
    from remission.io import load_dataset
    from remission.io.validate import date_window

    lo, hi = date_window()
    assert lo == dt.date(1900, 1, 1) and hi == dt.date.today() + dt.timedelta(days=365)
    ten = dt.date.today() + dt.timedelta(days=3650)
    subjects = pl.DataFrame({"subject_id": ["P1", "P2", "P3", "P4"],
                             "diagnosis_date": [dt.date(1899, 12, 31), dt.date(1900, 1, 1), ten, ten + dt.timedelta(days=1)]})
    findings = pl.DataFrame({"subject_id": ["P2", "P3"], "date": [hi, hi + dt.timedelta(days=1)],
                             "finding": ["symptoms", "symptoms"], "value": ["none", "none"]})
    folder = tmp_path / "d"
    folder.mkdir()
    for name, frame in (("subjects", subjects), ("findings", findings)):
        if fmt == "csv":
            frame.write_csv(folder / f"{name}.csv")
        else:
            frame.write_parquet(folder / f"{name}.parquet")
            assert pl.read_parquet_schema(folder / f"{name}.parquet")[frame.columns[1]] == pl.Date
    with pytest.raises(InputErrors) as exc:
        load_dataset(folder)
    assert sorted((e.file.split(".")[0], e.row, e.subject_id, e.column, e.code) for e in exc.value.errors) == [
        ("findings", 2, "P3", "date", "DATE_OUT_OF_RANGE"),
        ("subjects", 1, "P1", "diagnosis_date", "DATE_OUT_OF_RANGE"),
        ("subjects", 4, "P4", "diagnosis_date", "DATE_OUT_OF_RANGE")]
    monkeypatch.setenv("REMISSION_EARLIEST_DATE", "1800-01-01")
    monkeypatch.setenv("REMISSION_LATEST_DATE", (ten + dt.timedelta(days=1)).isoformat())
    assert load_dataset(folder)[1] == []


def _validate_frames(subjects):
    from remission.io.tables import raw_from_frames

    return validate(raw_from_frames({"subjects": subjects}))


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("diameter_mm", "abc", "BAD_NUMBER"),
        ("diameter_mm", "-1", "NEGATIVE_NUMBER"),
        ("diameter_mm", "nan", "BAD_NUMBER"),
        ("diameter_mm", "12,5", "BAD_NUMBER"),
        ("perpendicular_mm", "-0.5", "NEGATIVE_NUMBER"),
        ("perpendicular_mm", "x", "BAD_NUMBER"),
    ],
)
def test_bad_diameters(tmp_path, column, value, code):
    """spec/tables.md lesions: diameter_mm / perpendicular_mm are numbers of millimetres."""
    header = "subject_id,date,lesion_id,role,diameter_mm,perpendicular_mm\n"
    row = {"diameter_mm": "10", "perpendicular_mm": "8", column: value}
    quoted = f'"{row["diameter_mm"]}"' if "," in row["diameter_mm"] else row["diameter_mm"]
    folder = write(tmp_path, lesions=header + f"P1,2024-01-01,L1,target,{quoted},{row['perpendicular_mm']}\n")
    assert located(errs(folder)) == [("lesions.csv", 1, "P1", column, value, code)]


@pytest.mark.parametrize(
    ("table", "text", "column", "value", "code"),
    [
        ("lesions", "subject_id,date,lesion_id,role\nP1,2024-01-01,L1,tumour\n", "role", "tumour", "UNKNOWN_ROLE"),
        (
            "lesions",
            "subject_id,date,lesion_id,role,status\nP1,2024-01-01,L1,non_target,gone\n",
            "status",
            "gone",
            "UNKNOWN_STATUS",
        ),
        (
            "lesions",
            "subject_id,date,lesion_id,role,diameter_mm,method\nP1,2024-01-01,L1,target,10,ultrasound\n",
            "method",
            "ultrasound",
            "UNKNOWN_METHOD",
        ),
        ("treatments", "subject_id,start_date,modality\nP1,2024-01-01,chemo\n", "modality", "chemo", "UNKNOWN_MODALITY"),
        (
            "treatments",
            "subject_id,start_date,modality,intent\nP1,2024-01-01,surgery,cure\n",
            "intent",
            "cure",
            "UNKNOWN_INTENT",
        ),
        ("subjects", "subject_id,criteria\nP1,recist\n", "criteria", "recist", "UNKNOWN_CRITERIA"),
        (
            "responses",
            "subject_id,date,response,evidence\nP1,2024-01-01,PR,ct_scan\n",
            "evidence",
            "ct_scan",
            "UNKNOWN_EVIDENCE",
        ),
    ],
)
def test_unknown_codes(tmp_path, table, text, column, value, code):
    folder = write(tmp_path, **{table: text})
    assert located(errs(folder)) == [(f"{table}.csv", 1, "P1", column, value, code)]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [(s, True) for s in ("true", "TRUE", "True", "1", "yes", "YES", "Yes", "y", "Y")]
    + [(s, False) for s in ("false", "FALSE", "False", "0", "no", "NO", "No", "n", "N")]
    + [("", False)],
)
def test_boolean_spellings(tmp_path, spelling, expected):
    """spec/tables.md: true/false, 1/0, yes/no, Y/N any case; nodal empty = false."""
    folder = write(tmp_path, lesions=f"subject_id,date,lesion_id,role,nodal,status\nP1,2024-01-01,L1,non_target,{spelling},present\n")
    dataset, errors = check(folder)
    assert errors == []
    assert dataset.lesions.item(0, "nodal") is expected


@pytest.mark.parametrize("bad", ["t", "f", "2", "si", "oui", "nope"])
def test_bad_booleans(tmp_path, bad):
    folder = write(tmp_path, lesions=f"subject_id,date,lesion_id,role,nodal,status\nP1,2024-01-01,L1,non_target,{bad},present\n")
    assert located(errs(folder)) == [("lesions.csv", 1, "P1", "nodal", bad, "BAD_BOOLEAN")]


# --------------------------------------------------------------------------------------
# Table-level rules
# --------------------------------------------------------------------------------------


def test_duplicate_subject(tmp_path):
    folder = write(tmp_path, subjects="subject_id\nP1\nP2\nP1\nP1\n")
    found = errs(folder)
    assert located(found) == [
        ("subjects.csv", 3, "P1", "subject_id", "P1", "DUPLICATE_SUBJECT"),
        ("subjects.csv", 4, "P1", "subject_id", "P1", "DUPLICATE_SUBJECT"),
    ]
    assert "first at row 1" in found[0].expected


def test_duplicate_lesion_rows_every_duplicate_after_the_first(tmp_path):
    lesions = LESION_HEADER + (
        "P1,2024-01-01,L1,target,lung,,10,,CT\n"
        "P1,2024-01-01,L2,target,liver,,12,,CT\n"
        "P1,2024-01-01,L1,target,lung,,11,,CT\n"
        "P1,2024-02-01,L1,target,lung,,9,,CT\n"
        "P1,2024-01-01,L1,target,lung,,10,,CT\n"
        "P2,2024-01-01,L1,target,lung,,10,,CT\n"
    )
    found = errs(write(tmp_path, lesions=lesions))
    assert located(found) == [
        ("lesions.csv", 3, "P1", "lesion_id", "L1", "DUPLICATE_LESION_ROW"),
        ("lesions.csv", 5, "P1", "lesion_id", "L1", "DUPLICATE_LESION_ROW"),
    ]
    assert all("first at row 1" in e.expected for e in found)


@pytest.mark.parametrize(
    ("table", "text"),
    [
        ("lesions", "subject_id,date,lesion_id,role,diameter_mm\nP1,2024-01-01,L1,target,10\nP7,2024-01-01,L1,target,10\n"),
        ("labs", "subject_id,date,test,value,unit\nP1,2024-01-01,psa,1,ng/mL\nP7,2024-01-01,psa,1,ng/mL\n"),
        ("findings", "subject_id,date,finding,value\nP1,2024-01-01,symptoms,none\nP7,2024-01-01,symptoms,none\n"),
        ("treatments", "subject_id,start_date,modality\nP1,2024-01-01,surgery\nP7,2024-01-01,surgery\n"),
        ("responses", "subject_id,date,response\nP1,2024-01-01,PR\nP7,2024-01-01,PR\n"),
    ],
)
def test_rows_for_unknown_subjects(tmp_path, table, text):
    folder = write(tmp_path, **{table: text})
    assert located(errs(folder)) == [(f"{table}.csv", 2, "P7", "subject_id", "P7", "UNKNOWN_SUBJECT")]


def test_target_row_without_diameter_or_status_is_not_evaluated(tmp_path):
    """spec/tables.md lesions.diameter_mm: "empty = not evaluated at this assessment"; a
    status also gives a value (extension). No error; the empty row reads as not_evaluated."""
    lesions = LESION_HEADER + (
        "P1,2024-01-01,L1,target,lung,,20,,CT\n"
        "P1,2024-03-01,L1,target,lung,,,,CT\n"
        "P1,2024-05-01,L1,target,lung,,,absent,CT\n"
        "P1,2024-07-01,L1,target,lung,,,too_small,CT\n"
        "P1,2024-09-01,L1,target,lung,,,not_evaluated,CT\n"
    )
    dataset, errors = check(write(tmp_path, lesions=lesions))
    assert errors == []
    assert dataset.lesions.get_column("status").to_list() == [None, "not_evaluated", "absent", "too_small", "not_evaluated"]


def test_non_target_and_new_rows_need_a_status(tmp_path):
    lesions = LESION_HEADER + (
        "P1,2024-01-01,NT1,non_target,bone,,,,CT\n"
        "P1,2024-03-01,NT1,non_target,bone,,,present,CT\n"
        "P1,2024-03-01,NEW1,new,liver,,14,,CT\n"
    )
    assert located(errs(write(tmp_path, lesions=lesions))) == [
        ("lesions.csv", 1, "P1", "status", None, "MISSING_STATUS"),
        ("lesions.csv", 3, "P1", "status", None, "MISSING_STATUS"),
    ]


def test_not_evaluated_status_accepted_on_every_role(tmp_path):
    """Extension documented in io.validate: not_evaluated on target, non_target and new rows."""
    assert "not_evaluated" in LESION_STATUSES
    lesions = LESION_HEADER + (
        "P1,2024-01-01,L1,target,lung,,20,,CT\n"
        "P1,2024-01-01,NT1,non_target,bone,,,present,CT\n"
        "P1,2024-03-01,L1,target,lung,,,not_evaluated,CT\n"
        "P1,2024-03-01,NT1,non_target,bone,,,not_evaluated,CT\n"
        "P1,2024-03-01,NEW1,new,liver,,,not_evaluated,CT\n"
    )
    assert errs(write(tmp_path, lesions=lesions)) == []


def test_too_small_only_on_target_rows(tmp_path):
    lesions = LESION_HEADER + (
        "P1,2024-01-01,NT1,non_target,bone,,,too_small,CT\n"
        "P1,2024-03-01,NEW1,new,liver,,,TOO_SMALL,CT\n"
        "P1,2024-03-01,L1,target,lung,,,too_small,CT\n"
    )
    assert located(errs(write(tmp_path, lesions=lesions))) == [
        ("lesions.csv", 1, "P1", "status", "too_small", "STATUS_NOT_ALLOWED"),
        ("lesions.csv", 2, "P1", "status", "TOO_SMALL", "STATUS_NOT_ALLOWED"),
    ]


def test_lesion_changing_role_reports_rows_differing_from_first_role(tmp_path):
    """Row order is not date order: the first role is the role on the lesion's first date."""
    lesions = LESION_HEADER + (
        "P1,2024-03-01,L1,non_target,lung,,,present,CT\n"
        "P1,2024-01-01,L1,target,lung,,20,,CT\n"
        "P1,2024-05-01,L1,target,lung,,18,,CT\n"
        "P1,2024-07-01,L1,new,lung,,,present,CT\n"
        "P2,2024-01-01,L1,non_target,lung,,,present,CT\n"
    )
    found = errs(write(tmp_path, lesions=lesions))
    assert located(found) == [
        ("lesions.csv", 1, "P1", "role", "non_target", "ROLE_CHANGED"),
        ("lesions.csv", 4, "P1", "role", "new", "ROLE_CHANGED"),
    ]
    assert "(target)" in found[0].expected


def test_treatment_end_before_start_and_line(tmp_path):
    treatments = (
        "subject_id,start_date,end_date,modality,line\n"
        "P1,2024-02-01,2024-01-31,chemotherapy,1\n"
        "P1,2024-02-01,2024-02-01,chemotherapy,1\n"
        "P1,2024-03-01,,surgery,0\n"
        "P1,2024-03-01,,surgery,1.5\n"
        "P1,2024-03-01,,surgery,two\n"
        "P2,2024-03-01,,surgery,2.0\n"
    )
    assert located(errs(write(tmp_path, treatments=treatments))) == [
        ("treatments.csv", 1, "P1", "end_date", "2024-01-31", "END_BEFORE_START"),
        ("treatments.csv", 3, "P1", "line", "0", "OUT_OF_RANGE"),
        ("treatments.csv", 4, "P1", "line", "1.5", "BAD_INTEGER"),
        ("treatments.csv", 5, "P1", "line", "two", "BAD_INTEGER"),
    ]


def test_death_before_diagnosis(tmp_path):
    subjects = "subject_id,diagnosis_date,death_date\nP1,2024-01-10,2024-01-09\nP2,2024-01-10,2024-01-10\n"
    assert located(errs(write(tmp_path, subjects=subjects))) == [
        ("subjects.csv", 1, "P1", "death_date", "2024-01-09", "DEATH_BEFORE_DIAGNOSIS")
    ]


def test_dates_after_death(tmp_path):
    subjects = "subject_id,death_date\nP1,2024-06-01\nP2,\n"
    folder = write(
        tmp_path,
        subjects=subjects,
        lesions="subject_id,date,lesion_id,role,diameter_mm\nP1,2024-06-01,L1,target,10\nP1,2024-06-02,L1,target,10\nP2,2025-01-01,L1,target,10\n",
        labs="subject_id,date,test,value,unit\nP1,2024-07-01,psa,1,ng/mL\n",
        findings="subject_id,date,finding,value\nP1,2024-05-01,symptoms,none\nP1,2024-08-01,symptoms,none\n",
        responses="subject_id,date,response\nP1,2025-01-01,PD\n",
        treatments="subject_id,start_date,end_date,modality\nP1,2024-01-01,2024-09-01,chemotherapy\nP1,2024-06-15,,surgery\n",
    )
    # a treatment *end* after death is accepted (planned end); a start after death is not
    assert located(errs(folder)) == [
        ("findings.csv", 2, "P1", "date", "2024-08-01", "AFTER_DEATH"),
        ("labs.csv", 1, "P1", "date", "2024-07-01", "AFTER_DEATH"),
        ("lesions.csv", 2, "P1", "date", "2024-06-02", "AFTER_DEATH"),
        ("responses.csv", 1, "P1", "date", "2025-01-01", "AFTER_DEATH"),
        ("treatments.csv", 2, "P1", "start_date", "2024-06-15", "AFTER_DEATH"),
    ]


@pytest.mark.parametrize(
    ("finding", "value", "ok", "normalised"),
    [
        ("deauville", "1", True, "1"),
        ("deauville", "5.0", True, "5"),
        ("deauville", "0", False, None),
        ("deauville", "6", False, None),
        ("deauville", "3.5", False, None),
        ("deauville", "X", False, None),
        ("bone_scan_new_lesions", "0", True, "0"),
        ("bone_scan_new_lesions", "-1", False, None),
        ("bone_scan_new_lesions", "1.5", False, None),
        ("extramedullary_disease", "Yes", True, "true"),
        ("extramedullary_disease", "0", True, "false"),
        ("extramedullary_disease", "maybe", False, None),
        ("symptoms", "Improved", True, "improved"),
        ("symptoms", "better", False, None),
        ("physical_exam", "no_evidence", True, "no_evidence"),
        ("physical_exam", "normal", False, None),
        ("steroid_dose_mg", "0", True, "0"),
        ("steroid_dose_mg", "-2", False, None),
        ("steroid_dose_mg", "high", False, None),
        ("clinical_status", "anything at all", True, "anything at all"),
    ],
)
def test_finding_values(tmp_path, finding, value, ok, normalised):
    """spec/tables.md findings: deauville 1-5, bone_scan_new_lesions count, bool, symptom/exam codes."""
    folder = write(tmp_path, findings=f"subject_id,date,finding,value\nP1,2024-01-01,{finding},{value}\n")
    dataset, errors = check(folder)
    if ok:
        assert errors == []
        assert dataset.findings.item(0, "value") == normalised
    else:
        assert located(errors) == [("findings.csv", 1, "P1", "value", value, "BAD_FINDING_VALUE")]


def test_lab_value_must_be_numeric(tmp_path):
    labs = "subject_id,date,test,value,unit\nP1,2024-01-01,psa,<0.1,ng/mL\nP1,2024-02-01,psa,0.1,ng/mL\nP1,2024-03-01,psa,,ng/mL\n"
    assert located(errs(write(tmp_path, labs=labs))) == [
        ("labs.csv", 1, "P1", "value", "<0.1", "BAD_NUMBER"),
        ("labs.csv", 3, "P1", "value", None, "MISSING_VALUE"),
    ]


def test_response_codes_depend_on_the_subjects_criteria(tmp_path):
    """recist1.1: CR PR SD NON-CR/NON-PD PD NE; who adds NC; imwg2016 sCR/VGPR/MR (remission_model §10.2)."""
    subjects = "subject_id,cancer_type,criteria\nP1,nsclc,\nP2,nsclc,who\nP3,multiple_myeloma,\n"
    responses = (
        "subject_id,date,response,evidence\n"
        "P1,2024-01-01,non-cr/non-pd,imaging\n"
        "P1,2024-02-01,NC,imaging\n"
        "P2,2024-01-01,nc,imaging\n"
        "P2,2024-02-01,VGPR,imaging\n"
        "P3,2024-01-01,scr,lab\n"
        "P3,2024-02-01,vgpr,lab\n"
        "P3,2024-03-01,NC,lab\n"
    )
    dataset, errors = check(write(tmp_path, subjects=subjects, responses=responses))
    assert located(errors) == [
        ("responses.csv", 2, "P1", "response", "NC", "UNKNOWN_RESPONSE"),
        ("responses.csv", 4, "P2", "response", "VGPR", "UNKNOWN_RESPONSE"),
        ("responses.csv", 7, "P3", "response", "NC", "UNKNOWN_RESPONSE"),
    ]
    assert dataset.responses.get_column("response").to_list()[:6] == [
        "NON-CR/NON-PD",
        None,
        "NC",
        None,
        "sCR",
        "VGPR",
    ]
    assert "recist1.1" in errors[0].expected


# --------------------------------------------------------------------------------------
# RECIST target selection (recist11.md §3.2–3.3)
# --------------------------------------------------------------------------------------


def test_too_many_targets_counts_each_lesion_once(tmp_path):
    """recist11.md §3.2: at most 5 targets.  Five lesions on two dates are 5 targets, not 10;
    the 6th lesion (first seen later) is reported on its first row."""
    rows = [f"P1,2024-01-01,T{i},target,{organ},,20,,CT" for i, organ in enumerate(["lung", "liver", "bone", "brain", "skin"], 1)]
    rows += [f"P1,2024-03-01,T{i},target,x,,18,,CT" for i in range(1, 6)]
    rows += ["P1,2024-03-01,T6,target,kidney,,20,,CT"]
    lesions = LESION_HEADER + "\n".join(rows) + "\n"
    found = errs(write(tmp_path, lesions=lesions))
    assert located(found) == [("lesions.csv", 11, "P1", "lesion_id", "T6", "TOO_MANY_TARGETS")]


def test_five_targets_on_repeated_dates_are_fine(tmp_path):
    rows = [f"P1,2024-0{m}-01,T{i},target,{organ},,20,,CT" for m in (1, 3, 5) for i, organ in enumerate(["lung", "liver", "bone", "brain", "skin"], 1)]
    assert errs(write(tmp_path, lesions=LESION_HEADER + "\n".join(rows) + "\n")) == []


def test_too_many_targets_per_organ_paired_organs_share_a_key(tmp_path):
    """recist11.md §3.2 (EORTC FAQ): paired organs count as one organ; all nodes as one."""
    lesions = LESION_HEADER + (
        "P1,2024-01-01,A,target,left_lung,,20,,CT\n"
        "P1,2024-01-01,B,target,Lung Right,,20,,CT\n"
        "P1,2024-01-01,C,target,right-lung,,20,,CT\n"
        "P1,2024-01-01,D,target,liver,,20,,CT\n"
        "P1,2024-01-01,E,target,liver,,20,,CT\n"
        "P2,2024-01-01,N1,target,neck,yes,20,,CT\n"
        "P2,2024-01-01,N2,target,axilla,yes,20,,CT\n"
        "P2,2024-01-01,N3,target,lymph_node,,20,,CT\n"
        "P2,2024-01-01,K1,target,left kidney,,20,,CT\n"
        "P2,2024-01-01,K2,target,kidney_right,,20,,CT\n"
    )
    found = errs(write(tmp_path, lesions=lesions))
    assert located(found) == [
        ("lesions.csv", 3, "P1", "organ", "right-lung", "TOO_MANY_PER_ORGAN"),
        ("lesions.csv", 8, "P2", "organ", "lymph_node", "TOO_MANY_PER_ORGAN"),
    ]
    assert "lung" in found[0].expected and "lymph_node" in found[1].expected


def test_nodal_target_baseline_short_axis_below_15mm(tmp_path):
    """recist11.md §3.2: nodal targets need a short axis >= 15 mm at baseline (first date with a diameter).
    Shrinking below 15 mm later is a response, not an error."""
    lesions = LESION_HEADER + (
        "P1,2024-01-01,N1,target,lymph_node,yes,,not_evaluated,CT\n"
        "P1,2024-02-01,N1,target,lymph_node,yes,14.9,,CT\n"
        "P1,2024-01-01,N2,target,lymph_node,yes,15,,CT\n"
        "P1,2024-03-01,N2,target,lymph_node,yes,8,,CT\n"
        "P2,2024-01-01,L1,target,lung,no,9,,CT\n"
    )
    assert located(errs(write(tmp_path, lesions=lesions))) == [
        ("lesions.csv", 2, "P1", "diameter_mm", "14.9", "NODAL_TARGET_BELOW_15MM")
    ]


def test_recist_checks_only_for_recist_family(tmp_path):
    """A Lugano subject (dlbcl default) may have 6 targets and small nodal targets (lugano2014.md)."""
    subjects = "subject_id,cancer_type\nP1,dlbcl\nP2,hcc\n"
    rows = [f"P1,2024-01-01,T{i},target,lymph_node,yes,12,,CT" for i in range(1, 7)]
    rows += [f"P2,2024-01-01,T{i},target,liver,,30,,CT" for i in range(1, 4)]
    found = errs(write(tmp_path, subjects=subjects, lesions=LESION_HEADER + "\n".join(rows) + "\n"))
    # P2 is hcc -> mrecist (RECIST family): third liver target is row 9
    assert located(found) == [("lesions.csv", 9, "P2", "organ", "liver", "TOO_MANY_PER_ORGAN")]
    # forcing irecist applies the checks to P1 too
    forced = errs(tmp_path, criteria="irecist")
    assert {e.code for e in forced if e.subject_id == "P1"} == {
        "TOO_MANY_TARGETS",
        "TOO_MANY_PER_ORGAN",
        "NODAL_TARGET_BELOW_15MM",
    }


# --------------------------------------------------------------------------------------
# Criteria resolution (spec/tables.md subjects.criteria)
# --------------------------------------------------------------------------------------


def test_criteria_resolution_order(tmp_path):
    """argument > subject column > cancer_type default > recist1.1."""
    subjects = (
        "subject_id,cancer_type,criteria\n"
        "P1,dlbcl,WHO\n"  # column wins over the cancer default
        "P2,DLBCL,\n"  # cancer default (lowercased)
        "P3,melanoma,\n"  # no default -> fallback
        "P4,,\n"  # nothing -> fallback
        "P5,hcc,\n"
        "P6,prostate,irecist\n"
    )
    folder = write(tmp_path, subjects=subjects)
    dataset, errors = check(folder)
    assert errors == []
    assert dataset.subjects.get_column("criteria").to_list() == [
        "who",
        "lugano2014",
        "recist1.1",
        "recist1.1",
        "mrecist",
        "irecist",
    ]
    forced, errors = check(folder, criteria="IRECIST")
    assert errors == []
    assert set(forced.subjects.get_column("criteria").to_list()) == {"irecist"}


def test_unknown_forced_criteria_is_fatal(tmp_path):
    folder = write(tmp_path)
    assert located(errs(folder, criteria="recist2")) == [("--criteria", None, None, "criteria", "recist2", "UNKNOWN_CRITERIA")]
    with pytest.raises(InputErrors):
        load_dataset(folder, criteria="recist2", skip_invalid=True)


# --------------------------------------------------------------------------------------
# All errors together; load_dataset; skip_invalid
# --------------------------------------------------------------------------------------


def _many_errors_folder(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        subjects="subject_id,cancer_type,diagnosis_date\nP1,nsclc,2024-01-01\nP2,breast,2024-1-1\nP3,colorectal,2024-01-01\nP3,colorectal,\n",
        lesions=LESION_HEADER + "P1,2024-02-01,L1,target,lung,,20,,CT\nP2,2024-02-01,L1,target,lung,,big,,CT\nP4,2024-02-01,L1,target,lung,,20,,CT\n",
        labs="subject_id,date,test,value,unit\nP1,2024-02-01,cea,3,ng/mL\nP1,2024-02-01,cea,high,ng/mL\n",
        treatments="subject_id,start_date,end_date,modality\nP1,2024-01-15,2024-01-01,chemotherapy\nP5,2024-01-15,,chemotherapy\n",
    )


def test_many_errors_are_reported_together(tmp_path):
    """spec/tables.md "Bad input": every problem is reported, not only the first."""
    folder = _many_errors_folder(tmp_path)
    expected = [
        ("labs.csv", 2, "P1", "value", "high", "BAD_NUMBER"),
        ("lesions.csv", 2, "P2", "diameter_mm", "big", "BAD_NUMBER"),
        ("lesions.csv", 3, "P4", "subject_id", "P4", "UNKNOWN_SUBJECT"),
        ("subjects.csv", 2, "P2", "diagnosis_date", "2024-1-1", "BAD_DATE"),
        ("subjects.csv", 4, "P3", "subject_id", "P3", "DUPLICATE_SUBJECT"),
        ("treatments.csv", 1, "P1", "end_date", "2024-01-01", "END_BEFORE_START"),
        ("treatments.csv", 2, "P5", "subject_id", "P5", "UNKNOWN_SUBJECT"),
    ]
    assert located(errs(folder)) == expected
    with pytest.raises(InputErrors) as info:
        load_dataset(folder)
    assert located(info.value.errors) == expected
    assert info.value.invalid_subjects == {"P1", "P2", "P3", "P4", "P5"}


def test_skip_invalid_keeps_only_valid_subjects(tmp_path):
    folder = write(
        tmp_path,
        subjects="subject_id\nP1\nP2\nP3\n",
        lesions=LESION_HEADER + "P1,2024-02-01,L1,target,lung,,20,,CT\nP2,2024-02-01,L1,target,lung,,-5,,CT\nP3,2024-02-01,L1,target,lung,,30,,CT\nP9,2024-02-01,L1,target,lung,,30,,CT\n",
        labs="subject_id,date,test,value,unit\nP2,2024-02-01,cea,3,ng/mL\nP3,2024-02-01,cea,3,ng/mL\n",
        treatments="subject_id,start_date,modality\nP1,2024-03-01,surgery\nP3,2024-01-01,nonsense\n",
    )
    dataset, errors = load_dataset(folder, skip_invalid=True)
    assert located(errors) == [
        ("lesions.csv", 2, "P2", "diameter_mm", "-5", "NEGATIVE_NUMBER"),
        ("lesions.csv", 4, "P9", "subject_id", "P9", "UNKNOWN_SUBJECT"),
        ("treatments.csv", 2, "P3", "modality", "nonsense", "UNKNOWN_MODALITY"),
    ]
    assert dataset.subject_ids == ["P1"]
    for name in schema.INPUT_TABLES:
        assert set(getattr(dataset, name).get_column("subject_id").to_list()) <= {"P1"}, name
    assert dataset.lesions.height == 1 and dataset.treatments.height == 1 and dataset.labs.height == 0
    assert dataset.rows["lesions"].to_list() == [1]
    with pytest.raises(InputErrors):
        load_dataset(folder)


def test_row_without_subject_id_is_fatal_even_with_skip_invalid(tmp_path):
    folder = write(tmp_path, labs="subject_id,date,test,value,unit\n,2024-01-01,psa,1,ng/mL\n")
    with pytest.raises(InputErrors) as info:
        load_dataset(folder, skip_invalid=True)
    assert located(info.value.errors) == [("labs.csv", 1, None, "subject_id", None, "MISSING_VALUE")]


def test_valid_dataset_loads_without_errors(tmp_path):
    folder = write(tmp_path, lesions=LESION_HEADER + "P1,2024-02-01,L1,target,lung,,20,,CT\n")
    dataset, errors = load_dataset(folder)
    assert errors == []
    assert dataset.subject_ids == ["P1", "P2"]
    restricted = dataset.restrict(["P2"])
    assert restricted.subject_ids == ["P2"] and restricted.lesions.height == 0
    assert restricted.files == dataset.files


# --------------------------------------------------------------------------------------
# Parquet and data frames
# --------------------------------------------------------------------------------------

_ROUND_TRIP = dict(
    subjects="subject_id,cancer_type,criteria,diagnosis_date,death_date\nP1,nsclc,,2024-01-01,\nP2,dlbcl,,2024-01-05,2025-06-01\n",
    lesions=LESION_HEADER
    + "P1,2024-01-10,L1,target,lung,false,20.5,,CT\nP1,2024-01-10,N1,target,lymph_node,true,16,,CT\n"
    + "P1,2024-03-10,L1,target,lung,false,,too_small,CT\nP2,2024-01-10,N1,target,lymph_node,true,30,,PET\n",
    labs="subject_id,date,test,value,unit\nP1,2024-01-10,cea,3.5,ng/mL\n",
    findings="subject_id,date,finding,value\nP2,2024-03-01,deauville,2\n",
    treatments="subject_id,start_date,end_date,modality,intent,line,name\nP1,2024-01-11,2024-04-01,chemotherapy,palliative,1,cis\n",
    responses="subject_id,date,response,evidence\nP2,2024-03-01,CMR,imaging\n",
)


def _typed_csv_to_parquet(csv_folder: Path, parquet_folder: Path) -> None:
    """Parquet files with native dtypes (dates, floats, booleans, integers)."""
    parquet_folder.mkdir()
    for csv in csv_folder.glob("*.csv"):
        frame = pl.read_csv(csv, try_parse_dates=True)
        frame.write_parquet(parquet_folder / f"{csv.stem}.parquet")


def test_parquet_round_trip_equals_csv(tmp_path):
    csv_folder = write(tmp_path / "csv", **_ROUND_TRIP)
    parquet_folder = tmp_path / "parquet"
    _typed_csv_to_parquet(csv_folder, parquet_folder)
    assert pl.read_parquet(parquet_folder / "subjects.parquet").schema["diagnosis_date"] == pl.Date
    assert pl.read_parquet(parquet_folder / "lesions.parquet").schema["nodal"] == pl.Boolean
    from_csv, e1 = load_dataset(csv_folder)
    from_parquet, e2 = load_dataset(parquet_folder)
    assert e1 == e2 == []
    for name in schema.INPUT_TABLES:
        assert getattr(from_parquet, name).equals(getattr(from_csv, name)), name
    assert from_parquet.files["lesions"] == "lesions.parquet"


def test_parquet_errors_name_the_parquet_file(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pl.DataFrame({"subject_id": ["P1", "P1"], "death_date": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2, 10, 30)]}).write_parquet(
        folder / "subjects.parquet"
    )
    assert located(errs(folder)) == [
        ("subjects.parquet", 2, "P1", "death_date", "2024-01-02T10:30:00", "BAD_DATE"),
        ("subjects.parquet", 2, "P1", "subject_id", "P1", "DUPLICATE_SUBJECT"),
    ]


def _frames(kind: str) -> dict:
    """The round-trip tables as typed frames (dates, floats, booleans, integers)."""
    frames = {}
    for name, text in _ROUND_TRIP.items():
        typed = pl.read_csv(io.StringIO(text), try_parse_dates=True)
        frames[name] = typed.to_pandas() if kind == "pandas" else typed
    return frames


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_from_frames_equals_csv(tmp_path, kind):
    from_csv, _ = load_dataset(write(tmp_path, **_ROUND_TRIP))
    frames = _frames(kind)
    dataset, errors = from_frames(**frames)
    assert errors == []
    for name in schema.INPUT_TABLES:
        assert getattr(dataset, name).equals(getattr(from_csv, name)), name
    assert dataset.files["lesions"] == "lesions (data frame)"


def test_from_frames_pandas_datetimes_and_errors(tmp_path):
    subjects = pd.DataFrame(
        {
            "subject_id": ["A", "B"],
            "diagnosis_date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "death_date": [None, dt.date(2024, 5, 1)],
        }
    )
    lesions = pd.DataFrame(
        {
            "subject_id": ["A", "B"],
            "date": pd.to_datetime(["2024-02-01", "2024-06-01"]),
            "lesion_id": ["x", "y"],
            "role": ["target", "target"],
            "diameter_mm": [20.0, float("nan")],
            "status": [None, "absent"],
        }
    )
    with pytest.raises(InputErrors) as info:
        from_frames(subjects, lesions)
    assert located(info.value.errors) == [("lesions (data frame)", 2, "B", "date", "2024-06-01", "AFTER_DEATH")]
    dataset, errors = from_frames(subjects, lesions, skip_invalid=True)
    assert dataset.subject_ids == ["A"]
    assert dataset.subjects.item(0, "diagnosis_date") == dt.date(2024, 1, 1)
    assert dataset.lesions.item(0, "diameter_mm") == 20.0


def test_dataset_defaults_and_restrict():
    subjects = pl.DataFrame({"subject_id": ["A", "B"]}).with_columns(
        [pl.lit(None, dtype).alias(c) for c, dtype in schema.SUBJECTS.items() if c != "subject_id"]
    ).select(list(schema.SUBJECTS))
    from remission.io import Dataset

    ds = Dataset(subjects=subjects)
    assert ds.subject_ids == ["A", "B"]
    assert dict(ds.lesions.schema) == schema.LESIONS
    assert ds.restrict(["B", "Z"]).subject_ids == ["B"]


def test_response_vocabularies_cover_every_criterion_and_are_unambiguous():
    """Case-insensitive lookup needs codes unique per criterion once upper-cased."""
    from remission.io.validate import RESPONSE_CODES

    assert set(RESPONSE_CODES) == set(registry.codes())
    for crit, codes in RESPONSE_CODES.items():
        upper = [c.upper() for c in codes]
        assert len(upper) == len(set(upper)), crit
    assert RESPONSE_CODES["recist1.1"] == ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
    assert RESPONSE_CODES["who"] == ("CR", "PR", "NC", "SD", "PD", "NE")


def test_cancer_type_defaults_are_the_contracts():
    """spec/tables.md subjects.criteria, written out: the defaults by cancer_type come from
    the criteria's declarations (Criterion.cancer_types); everything else is recist1.1."""
    assert registry.default_criteria_by_cancer() == {
        "dlbcl": "lugano2014", "follicular_lymphoma": "lugano2014", "hodgkin_lymphoma": "lugano2014",
        "multiple_myeloma": "imwg2016", "aml": "eln2022", "cll": "iwcll2018", "prostate": "pcwg3",
        "ovarian": "gcig", "glioma": "rano2", "hcc": "mrecist",
    }  # fmt: skip
    assert registry.FALLBACK == "recist1.1"
    # names kept readable on remission.schema for earlier code
    assert schema.CRITERIA_CODES == registry.codes() and schema.FALLBACK_CRITERIA == "recist1.1"
    assert schema.DEFAULT_CRITERIA_BY_CANCER == registry.default_criteria_by_cancer()
