"""Hand-computed and property tests of the ADRS/ADTTE rules and the SDTM readers/writers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remission.adam import adam, adsl_from_sdtm, derive_adrs, derive_adtte
from remission.adam.adrs import AdrsOptions, confirmed_starts
from remission.adam.tr_to_lesions import tr_to_lesions
from remission.errors import InputErrors
from remission.io.adam_write import write_adam
from remission.io.sdtm import ROW, impute_dtc, read_sdtm, read_table

D0 = dt.date(2020, 1, 1)
SDTM = Path(__file__).parent / "data" / "oracle" / "pharmaverse" / "pharmaversesdtm"


def _adsl(**extra) -> pl.DataFrame:
    row = {"STUDYID": "S", "USUBJID": "A", "RANDDT": "2020-01-01", "TRTSDT": "2020-01-03", "DTHDT": None, "LSTALVDT": "2020-12-31"}
    row.update(extra)
    return pl.DataFrame([row], schema={k: pl.String for k in row})


def _rs(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """(RSDTC, RSSTRESC, RSSEQ) records of subject A, investigator OVRLRESP."""
    return pl.DataFrame(
        {
            "USUBJID": ["A"] * len(rows),
            "RSTESTCD": ["OVRLRESP"] * len(rows),
            "RSEVAL": ["INVESTIGATOR"] * len(rows),
            "VISIT": [f"V{i}" for i in range(len(rows))],
            "VISITNUM": [str(i) for i in range(len(rows))],
            "RSDTC": [r[0] for r in rows],
            "RSSTRESC": [r[1] for r in rows],
            "RSSEQ": [str(r[2]) for r in rows],
        }
    )


def _param(adrs: pl.DataFrame, code: str) -> tuple[str, str | None]:
    r = adrs.filter(pl.col("PARAMCD") == code).row(0, named=True)
    return r["AVALC"], None if r["ADT"] is None else str(r["ADT"])


# ---- dates ------------------------------------------------------------------------------


def test_partial_dates_imputed_as_admiral_derive_vars_dt():
    """Template: missing day -> last day of the month, ADTF = D; missing month not imputed
    at ``highest_imputation = "D"``; ADSL death dates: first day/month with "M"."""
    f = pl.DataFrame({"x": ["2014-02", "2012-02", "2014", "2014-02-15T10:30", "2014-13", None]})
    d, fl = impute_dtc(pl.col("x"))
    d2, fl2 = impute_dtc(pl.col("x"), date_imputation="first", highest_imputation="M")
    out = f.select(d.alias("d"), fl.alias("f"), d2.alias("d2"), fl2.alias("f2"))
    assert out["d"].to_list() == [dt.date(2014, 2, 28), dt.date(2012, 2, 29), None, dt.date(2014, 2, 15), None, None]
    assert out["f"].to_list() == ["D", "D", None, None, None, None]
    assert out["d2"].to_list() == [dt.date(2014, 2, 1), dt.date(2012, 2, 1), dt.date(2014, 1, 1), dt.date(2014, 2, 15), None, None]
    assert out["f2"].to_list() == ["D", "D", "M", None, None, None]


def test_bad_input_is_reported_with_file_row_subject_column():
    """spec/tables.md "Bad input": every problem located, all at once."""
    rs = _rs([("2020-02-30", "SD", 1), ("2020-03-01", "PR", 2)]).vstack(
        _rs([("2020-03-01", "PR", 3)]).with_columns(pl.lit("B").alias("USUBJID"))
    )
    with pytest.raises(InputErrors) as exc:
        derive_adrs({"rs": rs}, _adsl())
    got = sorted((e.row, e.subject_id, e.column, e.value, e.code) for e in exc.value.errors)
    assert got == [(1, "A", "RSDTC", "2020-02-30", "invalid_date"), (3, "B", "USUBJID", "B", "unknown_subject")]


# ---- flags -------------------------------------------------------------------------------


def test_anl01fl_keeps_the_worst_record_per_date_and_anl02fl_stops_at_first_pd():
    """Template ANL01FL: on/after RANDDT, AVAL present, worst per date (NE < CR < PR < SD <
    NON-CR/NON-PD < PD; ties: highest RSSEQ).  ANL02FL: up to and including the first PD."""
    rs = _rs(
        [
            ("2019-12-20", "SD", 1),  # before RANDDT: no ANL01FL, but ANL02FL
            ("2020-02-01", "NE", 2),
            ("2020-02-01", "PR", 3),  # PR outranks NE on the same date
            ("2020-03-01", "PD", 4),
            ("2020-03-01", "SD", 5),  # PD kept
            ("2020-04-01", "ND", 6),  # no AVAL
            ("2020-05-01", "CR", 7),  # after the first PD: ANL02FL null
        ]
    )
    adrs = derive_adrs({"rs": rs}, _adsl())
    ovr = adrs.filter(pl.col("PARAMCD") == "OVR").sort(pl.col("RSSEQ").cast(pl.Int32))
    assert ovr["ANL01FL"].to_list() == [None, None, "Y", "Y", None, None, "Y"]
    assert ovr["ANL02FL"].to_list() == ["Y", "Y", "Y", "Y", None, None, None]
    assert ovr["AVAL"].to_list() == [3.0, 6.0, 2.0, 5.0, 3.0, None, 1.0]
    assert _param(adrs, "PD") == ("Y", "2020-03-01")
    assert _param(adrs, "BOR") == ("PR", "2020-02-01")
    assert _param(adrs, "LSTA") == ("CR", "2020-05-01")  # LSTA is not cut at PD (template)
    assert _param(adrs, "RSP") == ("Y", "2020-02-01")


def test_parameters_hand_computed_confirmed_pr_with_one_ne_between():
    """recist11.md §5.2/§5.4 with the defaults (28 d, 1 NE, SD from day 42):
    SD d14, PR d35, NE d56, PR d70 -> PR confirmed (35 days later, one NE between)."""
    rs = _rs([("2020-01-15", "SD", 1), ("2020-02-05", "PR", 2), ("2020-02-26", "NE", 3), ("2020-03-11", "PR", 4)])
    adrs = derive_adrs({"rs": rs}, _adsl(DTHDT="2020-06-01"))
    assert _param(adrs, "CRSP") == ("Y", "2020-02-05")
    assert _param(adrs, "CBOR") == ("PR", "2020-02-05")
    assert _param(adrs, "CBCP") == ("Y", "2020-02-05")
    assert _param(adrs, "CB") == ("Y", "2020-02-05")
    assert _param(adrs, "CCB") == ("Y", "2020-02-05")
    assert _param(adrs, "DEATH") == ("Y", "2020-06-01")
    assert "MDIS" not in adrs["PARAMCD"].to_list()  # no TU: measurable disease unknown
    # with max_ne_between = 0 the NE breaks the confirmation; SD-level from day 42 remains
    strict = derive_adrs({"rs": rs}, _adsl(), max_ne_between=0)
    assert _param(strict, "CRSP") == ("N", None)
    # SD-level needs a CR/PR/SD on or after RANDDT + 42 = 2020-02-12: the PR of 2020-03-11
    assert _param(strict, "CBOR") == ("SD", "2020-03-11")


def _admiral_confirmed(records: list[tuple[int, str]], days: int, max_ne: int, accept_sd: bool) -> set[int]:
    """Plain-Python admiralonco ``crsp_y_cr``/``crsp_y_pr`` (event_joined, join_type after,
    first_cond_upper): the start days of confirmed responses of one subject."""
    out = set()
    for i, (d, r) in enumerate(records):
        if r not in ("CR", "PR"):
            continue
        window = []
        for d2, r2 in records[i + 1 :]:
            window.append((d2, r2))
            if d2 >= d + days and (r2 == "CR" if r == "CR" else r2 in ("CR", "PR")):
                break
        else:
            continue
        codes = [r2 for _, r2 in window]
        if codes.count("NE") > max_ne:
            continue
        if r == "CR":
            if all(c in ("CR", "NE") for c in codes):
                out.add(d)
            continue
        allowed = ("CR", "PR", "NE", "SD") if accept_sd else ("CR", "PR", "NE")
        if not all(c in allowed for c in codes) or codes.count("SD") > 1:
            continue
        crs = [d2 for d2, c in window if c == "CR"]
        prs = [d2 for d2, c in window if c == "PR"]
        if not crs or not prs or min(crs) > max(prs):
            out.add(d)
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 200), st.sampled_from(["CR", "PR", "SD", "NE", "NON-CR/NON-PD"])),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    ),
    st.integers(1, 60),
    st.integers(0, 2),
    st.booleans(),
)
def test_confirmed_starts_match_a_plain_python_admiral_reference(records, days, max_ne, accept_sd):
    records = sorted(records)
    ovr = pl.DataFrame(
        {"USUBJID": ["A"] * len(records), "ADT": [D0 + dt.timedelta(days=d) for d, _ in records], "AVALC": [r for _, r in records]}
    )
    got = confirmed_starts(ovr, AdrsOptions(confirm_days=days, max_ne_between=max_ne, accept_sd_between=accept_sd))
    assert {(a - D0).days for a in got["ADT"]} == _admiral_confirmed(records, days, max_ne, accept_sd)


# ---- ADTTE -------------------------------------------------------------------------------


def test_adtte_event_beats_later_censoring_and_aval_adds_one():
    """derive_param_tte: earliest event wins even if a censoring date is later; AVAL =
    ADT - STARTDT + 1; RSD starts at the first response."""
    rs = _rs([("2020-02-01", "PR", 1), ("2020-03-01", "PD", 2)])
    adsl = _adsl(DTHDT="2020-02-15", LSTALVDT="2020-02-15")
    adrs = derive_adrs({"rs": rs}, adsl)
    tte = derive_adtte(adsl.with_columns(pl.col("RANDDT", "DTHDT", "LSTALVDT").str.to_date()), adrs)
    rows = {r["PARAMCD"]: r for r in tte.iter_rows(named=True)}
    assert (rows["OS"]["EVNTDESC"], rows["OS"]["CNSR"], rows["OS"]["AVAL"]) == ("Death", 0, 46.0)
    assert (rows["PFS"]["EVNTDESC"], str(rows["PFS"]["ADT"]), rows["PFS"]["AVAL"]) == ("Death", "2020-02-15", 46.0)
    assert (str(rows["RSD"]["STARTDT"]), rows["RSD"]["AVAL"], rows["RSD"]["SRCDOM"]) == ("2020-02-01", 15.0, "ADRS")


def test_reference_trtsdt_moves_the_window_and_the_start():
    rs = _rs([("2020-01-02", "PR", 1), ("2020-02-20", "SD", 2)])
    adrs = derive_adrs({"rs": rs}, _adsl(), reference="TRTSDT")  # TRTSDT 2020-01-03
    assert _param(adrs, "RSP") == ("N", None)
    assert _param(adrs, "BOR") == ("SD", "2020-02-20")  # 48 days >= 42 after TRTSDT
    tte = derive_adtte(adsl := _adsl().with_columns(pl.col("TRTSDT", "LSTALVDT").str.to_date()), adrs, reference="TRTSDT")
    os_ = tte.filter(pl.col("PARAMCD") == "OS").row(0, named=True)
    assert str(os_["STARTDT"]) == "2020-01-03" and adsl.height == 1


# ---- readers, writers, TR mapping -------------------------------------------------------------


def test_readers_find_domains_in_any_case_and_read_xpt_and_dataset_json(tmp_path):
    rs = read_table(SDTM / "rs_onco_recist.csv").drop(ROW)
    write_adam(rs, tmp_path / "Rs", fmt="xpt", name="RS")
    (tmp_path / "TU.json").write_text(
        json.dumps(
            {
                "datasetJSONVersion": "1.1.0",
                "name": "TU",
                "columns": [{"itemOID": f"IT.{c}", "name": c, "label": c, "dataType": "string"} for c in ("USUBJID", "TULNKID", "TUSTRESC", "TUEVAL", "VISIT")],
                "rows": [["01-701-1015", "T01", "TARGET", "INVESTIGATOR", "SCREENING"]],
            }
        )
    )
    data = read_sdtm(tmp_path)
    assert set(data.tables) == {"rs", "tu"} and data.file("rs") == "Rs.xpt"
    assert data.get("rs").height == 66 and data.get("rs")["RSDTC"].to_list() == rs["RSDTC"].to_list()
    (tmp_path / "rs.csv").write_text("USUBJID\nX\n")
    with pytest.raises(InputErrors) as exc:
        read_sdtm(tmp_path)
    assert [e.code for e in exc.value.errors] == ["duplicate_domain"]


def test_adsl_built_from_dm_and_ds_when_absent():
    """RANDDT from DS RANDOMIZED, DTHDT from DTHDTC (first-day imputation)."""
    data = read_sdtm(SDTM, domains=["dm", "ds"])
    adsl = adsl_from_sdtm(data)
    ref = pl.read_csv(SDTM.parent / "pharmaverseadam" / "adsl.csv", infer_schema=False)
    j = adsl.select("USUBJID", "RANDDT", "DTHDT").join(ref.select("USUBJID", "RANDDT", "DTHDT"), on="USUBJID", suffix="_ref")
    assert j.height == 306
    assert j.filter(pl.col("RANDDT").ne_missing(pl.col("RANDDT_ref"))).height == 0
    assert j.filter(pl.col("DTHDT").ne_missing(pl.col("DTHDT_ref"))).height == 0


def test_tr_mapping_nodal_short_axis_and_too_small_to_measure():
    """Issue 3 item 2: LPERP for nodes, LDIAM otherwise; TOO SMALL TO MEASURE -> too_small
    (5 mm in the engine, recist11.md §3.4); unknown TRSTRESC -> located error."""
    tr = pl.DataFrame(
        {
            "USUBJID": ["A"] * 5,
            "TRLNKID": ["T1", "T1", "T2", "T2", "NT1"],
            "TRTESTCD": ["LDIAM", "LPERP", "LDIAM", "LPERP", "TUMSTATE"],
            "TRSTRESC": ["30", "12", "TOO SMALL TO MEASURE", "4", "UNEQUIVOCAL PROGRESSION"],
            "TRDTC": ["2020-02"] * 5,
            "TREVAL": ["INVESTIGATOR"] * 5,
        }
    ).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    tu = pl.DataFrame(
        {"USUBJID": ["A"] * 3, "TULNKID": ["T1", "T2", "NT1"], "TUSTRESC": ["TARGET", "TARGET", "NON-TARGET"],
         "TULOC": ["LYMPH NODE", "LIVER", "BONE"], "TUEVAL": ["INVESTIGATOR"] * 3}  # fmt: skip
    ).with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    les, _ = tr_to_lesions(tr, tu)
    rows = {r["lesion_id"]: r for r in les.iter_rows(named=True)}
    assert (rows["T1"]["nodal"], rows["T1"]["diameter_mm"], rows["T1"]["perpendicular_mm"]) == (True, 12.0, 30.0)
    assert (rows["T2"]["diameter_mm"], rows["T2"]["status"], rows["T2"]["organ"]) == (None, "too_small", "liver")
    assert (rows["NT1"]["role"], rows["NT1"]["status"]) == ("non_target", "progression")
    assert rows["T1"]["date"] == dt.date(2020, 2, 29)
    bad = tr.with_columns(pl.when(pl.col(ROW) == 5).then(pl.lit("GROWING")).otherwise(pl.col("TRSTRESC")).alias("TRSTRESC"))
    with pytest.raises(InputErrors) as exc:
        tr_to_lesions(bad, tu)
    assert [(e.row, e.column, e.value) for e in exc.value.errors] == [(5, "TRSTRESC", "GROWING")]


def test_adam_writes_warnings_csv_for_unanalysed_records(tmp_path):
    rs = _rs([("2020-02-01", "SD", 1), ("2020", "SD", 2)])
    res = adam({"rs": rs}, tmp_path, adsl=_adsl())
    assert sorted(p.name for p in res.files) == ["adrs.csv", "adtte.csv", "warnings.csv"]
    w = pl.read_csv(tmp_path / "warnings.csv", infer_schema=False)
    assert w.select("row", "column", "value").rows() == [("2", "RSDTC", "2020")]


def test_adam_unknown_response_code_is_an_input_error(tmp_path):
    """spec/tables.md "Bad input" (issue 14 item 6): a code outside the criterion's codes
    is a located input error, nothing written; skip_invalid leaves the subject out and
    lists it in errors.csv."""
    rs = pl.concat([_rs([("2020-02-01", "CHECK", 1)]), _rs([("2020-02-01", "PR", 1)]).with_columns(USUBJID=pl.lit("B"))])
    adsl = pl.concat([_adsl(), _adsl(USUBJID="B")])
    with pytest.raises(InputErrors) as exc:
        adam({"rs": rs}, tmp_path / "no", adsl=adsl)
    assert [(e.row, e.subject_id, e.column, e.value, e.code) for e in exc.value.errors] == [(1, "A", "RSSTRESC", "CHECK", "unknown_response")]
    assert not (tmp_path / "no").exists()
    res = adam({"rs": rs}, tmp_path / "out", adsl=adsl, skip_invalid=True)
    assert sorted(p.name for p in res.files) == ["adrs.csv", "adtte.csv", "errors.csv"]
    assert set(pl.read_csv(tmp_path / "out" / "adrs.csv").get_column("USUBJID")) == {"B"}
    assert pl.read_csv(tmp_path / "out" / "errors.csv").select("subject_id", "value", "code").rows() == [("A", "CHECK", "UNKNOWN_RESPONSE")]  # errors.csv: codes UPPER_SNAKE (issue 17)
