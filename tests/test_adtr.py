"""ADaM ADTR (remission.adam.adtr): parity with pharmaverseadam ``adtr_onco`` (made by
admiralonco's ``ad_adtr.R`` from tr/tu/rs_onco_recist and adsl; issue 16 item 10) and
hand-computed rules on a small study."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from remission.adam import adam, derive_adtr
from remission.cli import app
from remission.errors import InputErrors
from remission.io.sdtm import read_sdtm

ORACLE = Path(__file__).parent / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"
FILES = {"rs": "rs_onco_recist.csv", "tu": "tu_onco_recist.csv", "tr": "tr_onco_recist.csv"}

#: every derived ADTR variable, a TR/TU variable and two ADSL ones
COLUMNS = [
    "ASEQ", "ADT", "ADY", "ADTF", "AVISIT", "AVAL", "BASE", "CHG", "PCHG", "NADIR", "CHGNAD", "PCHGNAD", "ABLFL",
    "ANL01FL", "ANL02FL", "ANL03FL", "ANL04FL", "PDFL", "LSEXP", "LSASS", "TULOC", "TULOCGR1", "PARAM", "PARCAT1",
    "PARCAT2", "PARCAT3", "TRSEQ", "TRSTRESN", "AGE", "TRTSDT",
]  # fmt: skip


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b) or math.isclose(float(a), float(b), rel_tol=1e-12)
    except ValueError:
        return a == b


def test_adtr_equals_adtr_onco_record_for_record():
    """All 181 records (6 subjects: LDIAM1-5, NLDIAM1-5, SDIAM) and every derived value."""
    data = read_sdtm(SDTM, files=FILES, domains=["rs", "tu", "tr"])
    ours = derive_adtr(data, ADSL)
    theirs = pl.read_csv(ORACLE / "pharmaverseadam" / "adtr_onco.csv", infer_schema=False)
    assert ours.height == theirs.height == 181
    key = ["USUBJID", "PARAMCD", "AVISITN"]
    o = ours.select(*key, *COLUMNS).with_columns(pl.all().cast(pl.String))
    joined = theirs.select(*key, *COLUMNS).join(o, on=key, how="full", nulls_equal=True, suffix="_ours")
    assert joined.filter(pl.col("USUBJID").is_null() | pl.col("USUBJID_ours").is_null()).height == 0
    for c in COLUMNS:
        bad = [r for r in joined.select(*key, c, f"{c}_ours").iter_rows() if not _same(r[3], r[4])]
        assert not bad, (c, bad[:3])
    assert sorted(ours["PARAMCD"].unique()) == sorted(theirs["PARAMCD"].unique())


def _study(**tr_changes):
    """One subject, two target lesions (T01 liver, T02 lymph node), three visits."""
    tr = pl.DataFrame(
        {
            "STUDYID": ["S"] * 12,
            "USUBJID": ["P1"] * 12,
            "TRSEQ": [str(i) for i in range(1, 13)],
            "TRGRPID": ["TARGET"] * 12,
            "TRLNKID": ["T01", "T01", "T02", "T02"] * 3,
            "TRTESTCD": ["LDIAM", "LPERP"] * 6,
            "TRSTRESC": ["50", "30", "25", "20", "40", "20", "20", "12", "45", "25", "", "16"],
            "TREVAL": ["INVESTIGATOR"] * 12,
            "VISIT": ["SCREENING"] * 4 + ["WEEK 6"] * 4 + ["WEEK 12"] * 4,
            "VISITNUM": ["1"] * 4 + ["2"] * 4 + ["3"] * 4,
            "TRDTC": ["2020-01-01"] * 4 + ["2020-02-12"] * 4 + ["2020-03"] * 4,
        }
    ).with_columns(pl.col("TRSTRESC").alias("TRSTRESN"))
    for k, v in tr_changes.items():
        tr = tr.with_columns(pl.Series(k, v))
    tu = pl.DataFrame({"USUBJID": ["P1", "P1"], "TULNKID": ["T01", "T02"], "TUSTRESC": ["TARGET", "TARGET"],
                       "TULOC": ["LIVER", "LYMPH NODE"], "TUEVAL": ["INVESTIGATOR"] * 2})  # fmt: skip
    rs = pl.DataFrame({"USUBJID": ["P1"], "RSTESTCD": ["OVRLRESP"], "RSSTRESC": ["PD"], "RSDTC": ["2020-03-01"],
                       "RSEVAL": ["INVESTIGATOR"]})  # fmt: skip
    adsl = pl.DataFrame({"STUDYID": ["S"], "USUBJID": ["P1"], "RANDDT": ["2020-01-01"], "AGE": ["61"]})
    return {"tr": tr, "tu": tu, "rs": rs}, adsl


def test_sum_baseline_nadir_and_flags_hand_computed():
    """Sum = liver LDIAM + node LPERP (recist11.md §3.4): 50+20=70, 40+12=52, 45+16=61.
    Week 12 date 2020-03 -> 2020-03-01 (first of month, ADTF D), the RS PD date -> PDFL.
    Nadir = smallest earlier ANL01FL sum: none, 70, 52.  ANL02FL: lowest PCHG after
    randomisation (week 6); ANL03FL: records before the first PDFL."""
    sdtm, adsl = _study()
    out = derive_adtr(sdtm, adsl)
    s = out.filter(pl.col("PARAMCD") == "SDIAM").sort("ADY")
    assert s["AVAL"].to_list() == [70.0, 52.0, 61.0]
    assert s["ADY"].to_list() == [1, 43, 61]
    assert s["ADTF"].to_list() == [None, None, None]
    assert s["ABLFL"].to_list() == ["Y", None, None]
    assert s["BASE"].to_list() == [70.0] * 3
    assert s["NADIR"].to_list() == [None, 70.0, 52.0]
    assert s["CHG"].to_list() == [0.0, -18.0, -9.0]
    assert s["PCHG"].to_list() == pytest.approx([0.0, -18 / 70 * 100, -9 / 70 * 100])
    assert s["PCHGNAD"].to_list()[1:] == pytest.approx([-18 / 70 * 100, 9 / 52 * 100])
    assert s["PDFL"].to_list() == [None, None, "Y"]
    assert s["ANL01FL"].to_list() == ["Y", "Y", "Y"]
    assert s["ANL02FL"].to_list() == [None, "Y", None]
    assert s["ANL03FL"].to_list() == ["Y", "Y", None]
    assert s["ANL04FL"].to_list() == ["Y", "Y", "Y"]
    les = out.filter(pl.col("PARAMCD") == "LDIAM1").sort("ADY")
    assert les["ADTF"].to_list() == [None, None, "D"] and les["ADT"].cast(pl.String).to_list()[-1] == "2020-03-01"
    assert set(out["PARAMCD"]) == {"LDIAM1", "LDIAM2", "NLDIAM1", "NLDIAM2", "SDIAM"}
    # ASEQ: by PARAMCD, AVISITN, TRSEQ
    assert out.sort("ASEQ")["PARAMCD"].to_list()[:4] == ["LDIAM1", "LDIAM1", "LDIAM1", "LDIAM2"]
    assert out["AGE"].drop_nulls().unique().to_list() in (["61"], [61.0])


def test_a_baseline_lesion_not_measured_leaves_the_sum_unflagged():
    """Week 12: the node's short axis (LPERP) is missing, so LSASS lacks T02 and the sum
    (45, the liver lesion only) is not ANL01FL, but it is ANL04FL through its PDFL."""
    vals = ["50", "30", "25", "20", "40", "20", "20", "12", "45", "25", "26", ""]
    sdtm, adsl = _study(TRSTRESC=vals, TRSTRESN=vals)
    s = derive_adtr(sdtm, adsl).filter(pl.col("PARAMCD") == "SDIAM").sort("ADY")
    assert s["AVAL"].to_list() == [70.0, 52.0, 45.0]
    assert s["LSEXP"].to_list() == ["T01, T02"] * 3
    assert s["LSASS"].to_list() == ["T01, T02", "T01, T02", "T01"]
    assert s["ANL01FL"].to_list() == ["Y", "Y", None]
    assert s["ANL04FL"].to_list() == ["Y", "Y", "Y"]  # PDFL on week 12


def test_bad_measurement_is_a_located_error():
    vals = ["50", "30", "25", "20", "40", "big", "20", "12", "45", "25", "26", "16"]
    sdtm, adsl = _study(TRSTRESN=vals)
    with pytest.raises(InputErrors) as exc:
        derive_adtr(sdtm, adsl)
    (e,) = exc.value.errors
    assert (e.row, e.subject_id, e.column, e.value) == (6, "P1", "TRSTRESN", "big")


def test_adam_writes_adtr_beside_adrs_and_adtte(tmp_path):
    res = adam(SDTM, tmp_path, adsl=ADSL, files=FILES)
    assert res.adtr is not None and res.adtr.height == 181
    assert sorted(p.name for p in res.files if p.suffix == ".csv") == ["adrs.csv", "adtr.csv", "adtte.csv"]
    r = CliRunner().invoke(app, ["adam", str(SDTM), "--out", str(tmp_path / "cli"), "--adsl", str(ADSL),
                                 "--file", "rs=rs_onco_recist.csv", "--file", "tu=tu_onco_recist.csv",
                                 "--file", "tr=tr_onco_recist.csv", "--format", "xpt"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cli" / "adtr.xpt").exists()


def test_no_adtr_without_tr_and_tu(tmp_path):
    res = adam(SDTM, None, adsl=ADSL, files={"rs": "rs_onco_recist.csv", "tu": "tu_onco_recist.csv"})
    assert res.adtr is None


def test_without_trstresn_the_number_in_trstresc_is_used():
    """No TRSTRESN column: AVAL from TRSTRESC, whose non-numeric results (TOO SMALL TO
    MEASURE) give no AVAL rather than an error; the lesion then counts as not measured."""
    vals = ["50", "30", "25", "20", "40", "20", "20", "12", "45", "25", "26", "TOO SMALL TO MEASURE"]
    sdtm, adsl = _study(TRSTRESC=vals)
    sdtm["tr"] = sdtm["tr"].drop("TRSTRESN")
    out = derive_adtr(sdtm, adsl)
    assert out.filter(pl.col("PARAMCD") == "NLDIAM2").sort("ADY")["AVAL"].to_list() == [20.0, 12.0, None]
    assert out.filter(pl.col("PARAMCD") == "SDIAM").sort("ADY")["ANL01FL"].to_list() == ["Y", "Y", None]
