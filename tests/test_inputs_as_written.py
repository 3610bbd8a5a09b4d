"""Inputs as users really write them (issue 14 items 1-7): each item through the command
line and through the Python API.  Every expected value is stated from the contract
(../shared/spec/tables.md) or the issue, never read back from the code under test."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from remission import assess
from remission.cli import EXIT_INTERNAL, app
from remission.errors import InputErrors
from remission.io import from_frames, load_dataset

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
ORACLE = ROOT / "tests" / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"

runner = CliRunner()

SUBJECTS = "subject_id,cancer_type\nP1,nsclc\n"
LESIONS = (
    "subject_id,date,lesion_id,role,organ,diameter_mm,status\n"
    "P1,2024-01-01,L1,target,lung,40,\n"
    "P1,2024-01-01,L2,target,liver,20,\n"
    "P1,2024-03-01,L1,target,lung,20,\n"
    "P1,2024-03-01,L2,target,liver,{blank},{status}\n"
)


def folder(tmp: Path, name: str = "ds", **tables: str) -> Path:
    d = tmp / name
    d.mkdir(parents=True, exist_ok=True)
    tables.setdefault("subjects", SUBJECTS)
    for table, text in tables.items():
        (d / f"{table}.csv").write_text(text, encoding="utf-8")
    return d


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def codes(exc: pytest.ExceptionInfo) -> list[str]:
    return [e.code for e in exc.value.errors]


# ------------------------------------------------------------------ item 1: empty diameter


def test_item1_cli_empty_target_diameter_is_not_evaluated(tmp_path):
    """spec/tables.md lesions.diameter_mm: "empty = not evaluated at this assessment": the
    run succeeds and the follow-up is NE (recist11.md §4.2: a target not evaluated, no
    progression shown), exactly as with status not_evaluated."""
    empty = folder(tmp_path, "empty", lesions=LESIONS.format(blank="", status=""))
    stated = folder(tmp_path, "stated", lesions=LESIONS.format(blank="", status="not_evaluated"))
    r = run("assess", empty, "--out", tmp_path / "o1", "-q")
    assert r.exit_code == 0, r.output
    r2 = run("assess", stated, "--out", tmp_path / "o2", "-q")
    assert r2.exit_code == 0, r2.output
    a1 = pl.read_csv(tmp_path / "o1" / "assessments.csv", infer_schema=False)
    a2 = pl.read_csv(tmp_path / "o2" / "assessments.csv", infer_schema=False)
    assert a1.equals(a2)
    assert a1.filter(pl.col("date") == "2024-03-01").get_column("overall_response").to_list() == ["NE"]


def test_item1_api_empty_target_diameter_is_not_evaluated():
    lesions = pl.DataFrame(
        {
            "subject_id": ["P1"] * 4,
            "date": ["2024-01-01", "2024-01-01", "2024-03-01", "2024-03-01"],
            "lesion_id": ["L1", "L2", "L1", "L2"],
            "role": ["target"] * 4,
            "diameter_mm": ["40", "20", "20", None],
        }
    )
    ds, errors = from_frames(pl.DataFrame({"subject_id": ["P1"]}), lesions)
    assert errors == [] and ds.lesions.get_column("status").to_list() == [None, None, None, "not_evaluated"]
    res = assess(subjects=pl.DataFrame({"subject_id": ["P1"]}), lesions=lesions)
    assert res.assessments.filter(pl.col("date") == dt.date(2024, 3, 1)).get_column("overall_response").to_list() == ["NE"]


# ------------------------------------------------------------------ item 2: NaN, inf, datetimes


def _pandas_lesions(diameter, dates=None):
    return pd.DataFrame(
        {
            "subject_id": ["P1"] * 4,
            "date": dates if dates is not None else pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01", "2024-03-01"]),
            "lesion_id": ["L1", "L2", "L1", "L2"],
            "role": ["target"] * 4,
            "diameter_mm": diameter,
        }
    )


def test_item2_api_nan_is_missing_inf_is_an_error_midnight_is_a_date():
    subjects = pd.DataFrame({"subject_id": ["P1"], "death_date": pd.to_datetime([None])})
    ds, errors = from_frames(subjects, _pandas_lesions([40.0, 20.0, 20.0, np.nan]))
    assert errors == []
    assert ds.lesions.get_column("diameter_mm").to_list()[3] is None
    assert ds.lesions.get_column("date").to_list()[0] == dt.date(2024, 1, 1)  # datetime64 at midnight
    with pytest.raises(InputErrors) as exc:
        from_frames(subjects, _pandas_lesions([40.0, 20.0, math.inf, 10.0]))
    assert [(e.row, e.column, e.value, e.code) for e in exc.value.errors] == [(3, "diameter_mm", "inf", "BAD_NUMBER")]
    # polars NaN (not null) is missing too
    pol = pl.from_pandas(_pandas_lesions([40.0, 20.0, 20.0, 1.0])).with_columns(
        pl.Series("diameter_mm", [40.0, 20.0, 20.0, float("nan")])
    )
    ds, errors = from_frames(pl.DataFrame({"subject_id": ["P1"]}), pol)
    assert errors == [] and ds.lesions.get_column("diameter_mm").null_count() == 1
    timed = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:00", "2024-03-01 10:30", "2024-03-01 00:00"])
    with pytest.raises(InputErrors) as exc:
        from_frames(subjects, _pandas_lesions([40.0, 20.0, 20.0, 10.0], timed))
    (err,) = exc.value.errors
    assert (err.row, err.column, err.value, err.code) == (3, "date", "2024-03-01T10:30:00", "BAD_DATE")
    assert ".dt.date" in err.expected


def test_item2_cli_parquet_nan_and_timestamps(tmp_path):
    d = tmp_path / "pq"
    d.mkdir()
    pd.DataFrame({"subject_id": ["P1"]}).to_parquet(d / "subjects.parquet")
    _pandas_lesions([40.0, 20.0, 20.0, np.nan]).to_parquet(d / "lesions.parquet")
    r = run("assess", d, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    timed = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:00", "2024-03-01 10:30", "2024-03-01 00:00"])
    _pandas_lesions([40.0, 20.0, 20.0, np.inf], timed).to_parquet(d / "lesions.parquet")
    r = run("assess", d, "--out", tmp_path / "bad")
    assert r.exit_code == 2
    assert "inf" in r.output and "2024-03-01T10:30:00" in r.output and ".dt.date" in r.output
    assert not (tmp_path / "bad" / "summary.csv").exists()


# ------------------------------------------------------------------ item 3: folder layout


@pytest.mark.parametrize(
    "name, meant",
    [("lesion.csv", "lesions.csv"), ("Lesions.csv", "lesions.csv"), ("lesions.xlsx", "lesions.csv or lesions.parquet")],
)
def test_item3_cli_misnamed_table_is_an_error(tmp_path, name, meant):
    d = folder(tmp_path)
    (d / name).write_text(LESIONS.format(blank="10", status=""))
    r = run("assess", d, "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert name in r.output and meant in r.output and "--ignore-unknown-files" in r.output
    r = run("assess", d, "--out", tmp_path / "o", "--ignore-unknown-files", "-q")
    assert r.exit_code == 0, r.output


def test_item3_cli_csv_and_parquet_both_present(tmp_path):
    d = folder(tmp_path, lesions=LESIONS.format(blank="10", status=""))
    pl.read_csv(d / "lesions.csv").write_parquet(d / "lesions.parquet")
    r = run("assess", d, "--out", tmp_path / "o", "--ignore-unknown-files")
    assert r.exit_code == 2 and "only one of lesions.csv and lesions.parquet" in r.output


def test_item3_api_layout_errors(tmp_path):
    d = folder(tmp_path)
    (d / "lesion.csv").write_text(LESIONS.format(blank="10", status=""))
    (d / "README.md").write_text("notes are not tables")
    with pytest.raises(InputErrors) as exc:
        load_dataset(d)
    assert [(e.file, e.code) for e in exc.value.errors] == [("lesion.csv", "UNKNOWN_FILE")]
    assert "table lesions named exactly lesions.csv" in exc.value.errors[0].expected
    ds, errors = load_dataset(d, ignore_unknown_files=True)
    assert errors == [] and ds.lesions.height == 0


def test_item3_cli_service_import_folder(tmp_path, monkeypatch):
    """`remission import` reads the folder as `assess` does: a misnamed table stops the
    import (exit 2, nothing stored) unless --ignore-unknown-files."""
    from remission.service.importer import import_dataset
    from remission.service.db import make_engine, make_sessionmaker, upgrade

    url = f"sqlite:///{tmp_path / 'svc.db'}"
    monkeypatch.setenv("REMISSION_DATABASE_URL", url)
    d = folder(tmp_path)
    (d / "Lesions.csv").write_text(LESIONS.format(blank="10", status=""))
    r = run("import", d)
    assert r.exit_code == 2 and "Lesions.csv" in r.output and "lesions.csv" in r.output
    upgrade(url)
    engine = make_engine(url)
    with pytest.raises(InputErrors) as exc:
        import_dataset(make_sessionmaker(engine), d)
    assert codes(exc) == ["UNKNOWN_FILE"]
    report = import_dataset(make_sessionmaker(engine), d, ignore_unknown_files=True)
    engine.dispose()
    assert report.subjects == 1
    r = run("import", d, "--ignore-unknown-files")
    assert r.exit_code == 0, r.output


def test_item3_fhir_import_and_adam_folders(tmp_path):
    from remission.fhir.import_ import read_fhir
    from remission.io.sdtm import read_sdtm

    fh = tmp_path / "fhir"
    fh.mkdir()
    (fh / "bundle.xml").write_text("<Bundle/>")
    with pytest.raises(InputErrors) as exc:
        read_fhir(fh)
    assert ("bundle.xml", "UNKNOWN_FILE") in [(e.file, e.code) for e in exc.value.errors]
    r = run("fhir", "import", fh, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "bundle.xml" in r.output
    sd = tmp_path / "sdtm"
    sd.mkdir()
    shutil.copy(SDTM / "rs_onco_recist.csv", sd / "rs_onco_recist.csv")
    with pytest.raises(InputErrors) as exc:
        read_sdtm(sd, needed=("rs",))
    assert "--file rs=rs_onco_recist.csv" in exc.value.errors[0].expected
    r = run("adam", sd, "--adsl", ADSL, "--out", tmp_path / "a")
    assert r.exit_code == 2 and "--file rs=rs_onco_recist.csv" in r.output


# ------------------------------------------------------------------ item 4: CSV dialects


def _european(text: str) -> bytes:
    """The CSV as European Excel saves it: ';' separators, decimal commas, BOM, CRLF."""
    lines = []
    for line in text.splitlines():
        cells = [c.replace(".", ",") if c.replace(".", "", 1).isdigit() else c for c in line.split(",")]
        lines.append(";".join(cells))
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_item4_cli_european_excel_csv_reads_like_the_plain_one(tmp_path):
    lesions = LESIONS.format(blank="12.5", status="")
    plain = folder(tmp_path, "plain", lesions=lesions)
    euro = tmp_path / "euro"
    euro.mkdir()
    (euro / "subjects.csv").write_bytes(_european(SUBJECTS))
    (euro / "lesions.csv").write_bytes(_european(lesions))
    assert b"12,5" in (euro / "lesions.csv").read_bytes()
    for d, o in ((plain, "o1"), (euro, "o2")):
        r = run("assess", d, "--out", tmp_path / o, "-q")
        assert r.exit_code == 0, r.output
    for table in ("assessments", "summary"):
        assert pl.read_csv(tmp_path / "o1" / f"{table}.csv").equals(pl.read_csv(tmp_path / "o2" / f"{table}.csv"))


def test_item4_api_dialects_and_quoted_decimal_comma(tmp_path):
    euro = tmp_path / "euro"
    euro.mkdir()
    (euro / "subjects.csv").write_bytes(_european(SUBJECTS))
    (euro / "lesions.csv").write_bytes(_european(LESIONS.format(blank="12.5", status="")))
    ds, errors = load_dataset(euro)
    assert errors == [] and ds.lesions.get_column("diameter_mm").to_list() == [40.0, 20.0, 20.0, 12.5]
    comma = folder(tmp_path, "comma", lesions=LESIONS.format(blank='"12,5"', status=""))
    with pytest.raises(InputErrors) as exc:
        load_dataset(comma)
    (err,) = exc.value.errors
    assert (err.row, err.column, err.value, err.code) == (4, "diameter_mm", "12,5", "BAD_NUMBER")
    assert "decimal mark" in err.expected
    latin = folder(tmp_path, "latin")
    (latin / "subjects.csv").write_bytes("subject_id,cancer_type\nP\xe9,nsclc\n".encode("latin-1"))
    with pytest.raises(InputErrors) as exc:
        load_dataset(latin)
    assert codes(exc) == ["BAD_ENCODING"] and "line 2" in exc.value.errors[0].value


# ------------------------------------------------------------------ item 5: located errors


def test_item5_api_frame_index_labels_and_csv_lines(tmp_path):
    subjects = pd.DataFrame({"subject_id": ["P1", "P1"]}, index=["first", "second"])
    with pytest.raises(InputErrors) as exc:
        from_frames(subjects)
    assert [(e.row, e.label) for e in exc.value.errors] == [(2, "index 'second'")]
    filtered = pd.DataFrame({"subject_id": ["P1", "P2", "P3"], "death_date": ["2024-01-01", "bad", "2024-01-01"]}).iloc[[0, 1]]
    filtered.index = [10, 20]
    with pytest.raises(InputErrors) as exc:
        from_frames(filtered)
    assert [(e.row, e.label, e.value) for e in exc.value.errors] == [(2, "index 20", "bad")]
    # a quoted value with a line break: the next record's line is the editor's, not row + 1
    d = folder(tmp_path, subjects='subject_id,cancer_type\nP1,"nsclc\n"\nP2,nsclc\nP2,nsclc\n')
    with pytest.raises(InputErrors) as exc:
        load_dataset(d)
    assert [(e.row, e.label, e.code) for e in exc.value.errors] == [(3, "line 5", "DUPLICATE_SUBJECT")]


def test_item5_cli_error_table_names_the_convention_and_is_not_wrapped(tmp_path):
    d = folder(tmp_path, subjects="subject_id,cancer_type,death_date\nP1,nsclc,2024-13-45\n")
    r = run("assess", d, "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert "as a text editor numbers the CSV file's lines (header = line 1)" in r.output
    row = next(line for line in r.output.splitlines() if "2024-13-45" in line)
    assert "line 2" in row and "an ISO date YYYY-MM-DD" in row  # one line, however long
    assert len(row) > 80


# ------------------------------------------------------------------ item 6: CDISC inputs


def test_item6_adsl_needs_only_usubjid_and_the_reference_date(tmp_path):
    from remission.adam import adam

    a = pl.read_csv(ADSL, infer_schema=False).select("USUBJID", "RANDDT")
    a.write_csv(tmp_path / "adsl_min.csv")
    res = adam(SDTM, None, adsl=a, files={"rs": "rs_onco_recist.csv"})
    # no DTHDT: no death is known, so every OS record (one per subject with a RANDDT to
    # censor at: admiral's censoring source) is censored
    n_rand = a.get_column("RANDDT").is_not_null().sum()
    assert res.adtte.filter(pl.col("PARAMCD") == "OS").get_column("CNSR").to_list() == [1] * n_rand
    # STUDYID comes from RS when ADSL has none
    assert set(res.adrs.get_column("STUDYID").to_list()) == {"CDISCPILOT01"}
    assert set(res.adtte.get_column("STUDYID").to_list()) == {"CDISCPILOT01"}
    r = run("adam", SDTM, "--adsl", tmp_path / "adsl_min.csv", "--file", "rs=rs_onco_recist.csv", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert pl.read_csv(tmp_path / "o" / "adrs.csv").get_column("STUDYID").unique().to_list() == ["CDISCPILOT01"]


def test_item6_typed_xpt_adsl_with_missing_datetimes(tmp_path):
    import pyreadstat

    from remission.io.sdtm import read_table

    a = pl.read_csv(ADSL, infer_schema=False).select("STUDYID", "USUBJID", "RANDDT", "TRTSDTM").to_pandas()
    a["RANDDT"] = pd.to_datetime(a["RANDDT"])
    a["TRTSDTM"] = pd.to_datetime(a["TRTSDTM"])
    assert a["TRTSDTM"].isna().any() and a["RANDDT"].isna().any()  # screen failures
    pyreadstat.write_xport(a, str(tmp_path / "adsl.xpt"), table_name="ADSL")
    t = read_table(tmp_path / "adsl.xpt")
    assert t.get_column("TRTSDTM").null_count() == int(a["TRTSDTM"].isna().sum())
    r = run("adam", SDTM, "--adsl", tmp_path / "adsl.xpt", "--file", "rs=rs_onco_recist.csv", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output


def test_item6_unknown_response_code_and_skip_invalid(tmp_path):
    from remission.adam import adam

    with pytest.raises(InputErrors) as exc:
        adam(SDTM, None, adsl=ADSL, files={"rs": "rs_onco.csv"})
    assert [(e.subject_id, e.value, e.code, e.label) for e in exc.value.errors] == [
        ("01-711-1143", "CHECK", "unknown_response", "line 4071")
    ]
    r = run("adam", SDTM, "--adsl", ADSL, "--file", "rs=rs_onco.csv", "--out", tmp_path / "bad")
    assert r.exit_code == 2 and "CHECK" in r.output and not (tmp_path / "bad").exists()
    r = run("adam", SDTM, "--adsl", ADSL, "--file", "rs=rs_onco.csv", "--out", tmp_path / "ok", "--skip-invalid")
    assert r.exit_code == 0, r.output
    err = pl.read_csv(tmp_path / "ok" / "errors.csv", infer_schema=False)
    assert err.select("subject_id", "value", "code").rows() == [("01-711-1143", "CHECK", "UNKNOWN_RESPONSE")]  # errors.csv: UPPER_SNAKE (issue 17)
    assert "01-711-1143" not in pl.read_csv(tmp_path / "ok" / "adtte.csv").get_column("USUBJID").to_list()


def test_item6_adtte_keeps_subjects_without_a_start_date(tmp_path):
    """admiral's derive_param_tte keeps a subject whose start date is missing when an event
    or censoring date exists (issue 14 item 6): STARTDT and AVAL missing, ADT the date."""
    from remission.adam import adam

    a = pl.read_csv(ADSL, infer_schema=False)
    chosen = a.filter(pl.col("RANDDT").is_not_null() & pl.col("LSTALVDT").is_not_null()).get_column("USUBJID").head(3).to_list()
    a = a.with_columns(pl.when(pl.col("USUBJID").is_in(chosen)).then(None).otherwise(pl.col("RANDDT")).alias("RANDDT"))
    res = adam(SDTM, None, adsl=a, files={"rs": "rs_onco_recist.csv"})
    os_ = res.adtte.filter(pl.col("PARAMCD") == "OS")
    kept = os_.filter(pl.col("USUBJID").is_in(chosen))
    assert kept.height == 3
    assert kept.get_column("STARTDT").null_count() == 3 and kept.get_column("AVAL").null_count() == 3
    lstalvdt = a.filter(pl.col("USUBJID").is_in(chosen)).sort("USUBJID").get_column("LSTALVDT").to_list()
    assert [str(d) for d in kept.sort("USUBJID").get_column("ADT").to_list()] == lstalvdt  # alive, censored there
    a.write_csv(tmp_path / "adsl.csv")
    r = run("adam", SDTM, "--adsl", tmp_path / "adsl.csv", "--file", "rs=rs_onco_recist.csv", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    out = pl.read_csv(tmp_path / "o" / "adtte.csv", infer_schema=False)
    assert out.filter((pl.col("PARAMCD") == "OS") & pl.col("USUBJID").is_in(chosen)).height == 3


def test_item6_sdtm_encoding(tmp_path):
    from remission.io.sdtm import read_sdtm

    d = tmp_path / "sdtm"
    d.mkdir()
    text = (SDTM / "rs_onco_recist.csv").read_text().replace("WEEK 3", "SEMAINE \xe9", 1)
    (d / "rs.csv").write_bytes(text.encode("cp1252"))
    with pytest.raises(InputErrors) as exc:
        read_sdtm(d)
    assert codes(exc) == ["BAD_ENCODING"] and "--encoding" in exc.value.errors[0].expected
    assert "SEMAINE \xe9" in read_sdtm(d, encoding="cp1252").get("rs").get_column("VISIT").to_list()
    r = run("adam", d, "--adsl", ADSL, "--out", tmp_path / "o")
    assert r.exit_code == 2 and "BAD_ENCODING" not in r.output and "encoding" in r.output
    r = run("adam", d, "--adsl", ADSL, "--out", tmp_path / "o", "--encoding", "cp1252")
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ item 7: no traceback


def test_item7_cli_internal_error_is_one_line_exit_70(tmp_path, monkeypatch):
    import remission.batching

    def broken(*a, **k):
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(remission.batching, "run_cli", broken)
    r = runner.invoke(app, ["assess", str(EXAMPLE), "--out", str(tmp_path / "o")])
    assert r.exit_code == EXIT_INTERNAL == 70
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "internal error (RuntimeError: simulated defect)" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in r.output
    for args in (["--debug", "assess"], ["assess", "--debug"]):
        r = runner.invoke(app, [*args, str(EXAMPLE), "--out", str(tmp_path / "o")])
        assert isinstance(r.exception, RuntimeError) and r.exit_code not in (0, 2, 70)


def test_item7_api_bad_input_raises_input_errors_only(tmp_path):
    """The Python API raises InputErrors (never another exception) for the ordinary damaged
    files of issue 18's list, which this issue's readers own: truncated Parquet/XPT, a
    duplicated CSV header, Dataset-JSON rows of the wrong shape."""
    from remission.io.sdtm import read_table

    d = folder(tmp_path, subjects="subject_id,subject_id\nP1,P2\n")
    with pytest.raises(InputErrors) as exc:
        load_dataset(d)
    assert codes(exc) == ["DUPLICATE_COLUMN"]
    good = tmp_path / "good.parquet"
    pl.DataFrame({"subject_id": ["P1"] * 1000}).write_parquet(good)
    d2 = tmp_path / "trunc"
    d2.mkdir()
    (d2 / "subjects.parquet").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InputErrors) as exc:
        load_dataset(d2)
    assert codes(exc) == ["READ_ERROR"]
    import pyreadstat

    pyreadstat.write_xport(pd.DataFrame({"USUBJID": ["A"] * 50, "X": range(50)}), str(tmp_path / "dm.xpt"))
    (tmp_path / "dm_trunc.xpt").write_bytes((tmp_path / "dm.xpt").read_bytes()[:900])
    with pytest.raises(InputErrors):
        read_table(tmp_path / "dm_trunc.xpt")
    (tmp_path / "rs.json").write_text('{"columns": [{"name": "USUBJID"}, {"name": "RSSTRESC"}], "rows": [["A", "CR"], ["B"]]}')
    with pytest.raises(InputErrors) as exc:
        read_table(tmp_path / "rs.json")
    assert [(e.row, e.value, e.code) for e in exc.value.errors] == [(2, "1 values", "invalid_json")]
    r = run("adam", tmp_path, "--out", tmp_path / "o", "--ignore-unknown-files")
    assert r.exit_code == 2 and "Traceback" not in r.output
