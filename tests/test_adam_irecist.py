"""iRECIST ADRS from ``rs_onco_irecist`` equals the admiralonco iRECIST vignette tables
(``tests/data/oracle/pharmaverse/admiralonco_vignette_tables/irecist``; ``index.csv`` lists
them: 07 = OVR source records, 08 = ICPD/IUPD, 09 = IRSP, 10 = ICB, 11 = IBOR,
12 = ICRSP/ICCB/ICBOR).

The vignette keeps 27 ADSL subjects (the 26 with RS data and 01-701-1023 without); we derive
for every ADSL subject and compare those 27.  Differences (each asserted below):

* ``ICBOR``'s ``AVAL``: the vignette computes it with RECIST's ``aval_resp()``, which knows
  only NE (6) and MISSING (7), so its iRECIST codes have no AVAL; we use the vignette's own
  iRECIST mapping (``aval_resp_new``: NE 8) as for IBOR.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from remission.adam.irecist import AVAL_RESP_IRECIST, adam_irecist, derive_adrs_irecist
from remission.io.sdtm import read_sdtm

ORACLE = Path(__file__).parent / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"
TABLES = ORACLE / "admiralonco_vignette_tables" / "irecist"


@pytest.fixture(scope="module")
def adrs() -> pl.DataFrame:
    sdtm = read_sdtm(SDTM, files={"rs": "rs_onco_irecist.csv"}, domains=["rs"])
    # admiralonco's vignette events: a CR failing CR confirmation is not a confirmed PR
    return derive_adrs_irecist(sdtm, ADSL, failed_cr_as_pr=False)


def _table(name: str) -> pl.DataFrame:
    return pl.read_csv(TABLES / name, infer_schema=False)


def _text(frame: pl.DataFrame, cols) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(pl.String) for c in cols])


def _num(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64, strict=False)


def test_ovr_source_records_equal_table_07(adrs):
    """07.csv: the OVR records with ANL01FL = ANL02FL = Y: 74 of the 75 OVR records; the one
    left out is 01-701-1028's iSD of 2013-11-20, after its first iCPD (ANL02FL)."""
    theirs = _table("07.csv")
    ours = adrs.filter((pl.col("PARAMCD") == "OVR") & (pl.col("ANL01FL") == "Y") & (pl.col("ANL02FL") == "Y"))
    ours = ours.join(theirs.select("USUBJID").unique(), on="USUBJID", how="semi")
    cols = ["USUBJID", "RSSEQ", "ADT", "ADTF", "AVALC"]
    a = _text(ours, cols).sort(cols)
    b = _text(theirs, cols).sort(cols)
    assert a.height == b.height == 74
    assert a.equals(b)
    dropped = adrs.filter((pl.col("PARAMCD") == "OVR") & pl.col("ANL02FL").is_null())
    assert dropped.select("USUBJID", "AVALC", pl.col("ADT").cast(pl.String)).rows() == [("01-701-1028", "iSD", "2013-11-20")]
    joined = ours.select("USUBJID", pl.col("RSSEQ").cast(pl.String), "AVAL").join(
        theirs.select("USUBJID", "RSSEQ", _num("AVAL").alias("AVAL_o")), on=["USUBJID", "RSSEQ"]
    )
    assert (joined["AVAL"] == joined["AVAL_o"]).all()


@pytest.mark.parametrize("name", ["08.csv", "09.csv", "10.csv", "11.csv", "12.csv"])
def test_parameters_equal_vignette_tables(adrs, name):
    """AVALC, ADT and the source record (RSSEQ) of every parameter and subject; AVAL too
    except ICBOR (module docstring)."""
    theirs = _table(name)
    params = theirs["PARAMCD"].unique().to_list()
    ours = adrs.filter(pl.col("PARAMCD").is_in(params)).join(theirs.select("USUBJID").unique(), on="USUBJID", how="semi")
    key = ["USUBJID", "PARAMCD"]
    cols = ["AVALC", "ADT", "RSSEQ", "PARAM"]
    j = _text(theirs, key + cols).join(_text(ours, key + cols), on=key, how="full", coalesce=True, suffix="_ours")
    assert j.height == theirs.height == ours.height
    for c in cols:
        diff = j.filter(
            pl.col(c).cast(pl.Float64, strict=False).ne_missing(pl.col(f"{c}_ours").cast(pl.Float64, strict=False))
            if c == "RSSEQ"
            else pl.col(c).ne_missing(pl.col(f"{c}_ours"))
        )
        assert diff.height == 0, (c, diff)
    aval = theirs.select(*key, _num("AVAL").alias("o")).join(ours.select(*key, "AVAL", "AVALC"), on=key)
    same = aval.filter(pl.col("PARAMCD") != "ICBOR")
    assert same.filter(pl.col("o").ne_missing(pl.col("AVAL"))).height == 0
    icbor = aval.filter(pl.col("PARAMCD") == "ICBOR")
    if icbor.height:
        # vignette: aval_resp() (RECIST) gives NE 6, MISSING 7, nothing for iRECIST codes
        recist = icbor["AVALC"].replace_strict({"NE": 6.0, "MISSING": 7.0}, default=None, return_dtype=pl.Float64)
        assert icbor["o"].to_list() == recist.to_list()
        assert icbor["AVAL"].to_list() == [AVAL_RESP_IRECIST[v] for v in icbor["AVALC"]]


def test_progression_dated_to_first_iupd_and_ibor_order(adrs):
    """irecist.md §4.2 Step C / §5 on the oracle: 01-701-1028 iUPD 2013-08 (imputed
    2013-08-31) → iCPD: ICPD and IBOR dated 2013-08-31; 01-701-1294 iUPD then NE: IUPD = Y,
    IBOR iUPD; 01-701-1118's reset iUPD (then iSD) then a new iUPD: IUPD = Y at the last one."""
    def get(s, p):
        return adrs.filter((pl.col("USUBJID") == s) & (pl.col("PARAMCD") == p)).select("AVALC", pl.col("ADT").cast(pl.String)).row(0)

    assert get("01-701-1028", "ICPD") == ("Y", "2013-08-31")
    assert get("01-701-1028", "IBOR") == ("iCPD", "2013-08-31")
    assert get("01-701-1294", "IUPD") == ("Y", "2013-05-08")
    assert get("01-701-1294", "IBOR") == ("iUPD", "2013-05-08")
    assert get("01-701-1118", "IUPD") == ("Y", "2014-08-27")


def test_adam_irecist_writes_and_rejects_unknown_codes(tmp_path):
    res = adam_irecist(SDTM, tmp_path, adsl=ADSL, files={"rs": "rs_onco_irecist.csv"})
    assert [p.name for p in res.files] == ["adrs.csv"]
    back = pl.read_csv(res.files[0], infer_schema=False)
    assert back.filter(pl.col("PARAMCD") == "IBOR").height == res.adrs.filter(pl.col("PARAMCD") == "IBOR").height
    from remission.errors import InputErrors

    rs = pl.read_csv(SDTM / "rs_onco_irecist.csv", infer_schema=False).with_columns(
        RSSTRESC=pl.when(pl.col("RSSEQ") == "7").then(pl.lit("PD")).otherwise(pl.col("RSSTRESC"))
    )
    with pytest.raises(InputErrors) as exc:
        derive_adrs_irecist({"rs": rs}, ADSL)
    assert {e.code for e in exc.value.errors} == {"unknown_code"}


def test_cli_adam_irecist(tmp_path):
    """``remission adam-irecist`` writes the same ADRS as the function."""
    from typer.testing import CliRunner

    from remission.cli import app

    res = CliRunner().invoke(app, ["adam-irecist", str(SDTM), "--adsl", str(ADSL), "--file", "rs=rs_onco_irecist.csv", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    back = pl.read_csv(tmp_path / "adrs.csv", infer_schema=False)
    ibor = back.filter((pl.col("PARAMCD") == "IBOR") & (pl.col("USUBJID") == "01-701-1028")).row(0, named=True)
    assert (ibor["AVALC"], ibor["ADT"], ibor["STUDYID"]) == ("iCPD", "2013-08-31", "CDISCPILOT01")
    assert back["STUDYID"].null_count() == 0


def test_failed_cr_as_pr_is_one_documented_option(adrs, tmp_path):
    """One default with ``assess`` and ``adam`` (recist11.md §5.4 step 2: a CR whose
    confirmation is only PR-level is a confirmed PR); admiralonco's vignette is the explicit
    value False.  On the oracle only 01-701-1239 differs: ICBOR iPR (default) vs iSD."""
    from typer.testing import CliRunner

    from remission.cli import app

    sdtm = read_sdtm(SDTM, files={"rs": "rs_onco_irecist.csv"}, domains=["rs"])
    spec = derive_adrs_irecist(sdtm, ADSL)
    key = ["USUBJID", "PARAMCD", "AVALC"]
    diff = spec.select(key).join(adrs.select(key), on=key, how="anti")
    assert diff.rows() == [("01-701-1239", "ICBOR", "iPR")]
    assert adrs.filter((pl.col("USUBJID") == "01-701-1239") & (pl.col("PARAMCD") == "ICBOR"))["AVALC"].to_list() == ["iSD"]
    args = ["adam-irecist", str(SDTM), "--adsl", str(ADSL), "--file", "rs=rs_onco_irecist.csv"]
    for flag, want in (([], "iPR"), (["--no-failed-cr-as-pr"], "iSD")):
        out = tmp_path / (flag[0].strip("-") if flag else "default")
        res = CliRunner().invoke(app, [*args, "--out", str(out), *flag])
        assert res.exit_code == 0, res.output
        back = pl.read_csv(out / "adrs.csv", infer_schema=False)
        row = back.filter((pl.col("USUBJID") == "01-701-1239") & (pl.col("PARAMCD") == "ICBOR"))
        assert row["AVALC"].to_list() == [want]
