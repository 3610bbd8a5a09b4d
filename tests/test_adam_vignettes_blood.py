"""IMWG, PCWG3 and GCIG ADRS parameters (remission.adam.vignettes) against the rendered
admiralonco vignette tables (tests/data/oracle/pharmaverse/admiralonco_vignette_tables,
index.csv): adrs_imwg/06 (COVR), adrs_imwg/13 (CBOR), adrs_pcwg3/03-05 (OVRLRESC, BOR,
CBOR), adrs_pcwg3/06-07 (ADPSA BASE/CHG/PCHG from LB; PSA50/PSA90 confirmed and
unconfirmed), adrs_gcig/06-09 (PDCA125, its category, CBORCA, BORCA11).

Inputs: pharmaversesdtm rs_onco_imwg + supprs_onco_imwg, rs_onco_pcwg3, rs_onco_ca125 +
supprs_onco_ca125, lb_onco_pcwg3 and pharmaverseadam ADSL.  Every oracle row is compared; there is no
known difference on these data.
"""

from pathlib import Path

import polars as pl
import pytest

from remission.adam import vignettes as V
from remission.io.sdtm import as_sdtm

ORA = Path(__file__).parent / "data" / "oracle" / "pharmaverse"
SDTM = ORA / "pharmaversesdtm"
TAB = ORA / "admiralonco_vignette_tables"


def _csv(p):
    return pl.read_csv(p, infer_schema=False)


@pytest.fixture(scope="module")
def adsl():
    return _csv(ORA / "pharmaverseadam" / "adsl.csv")


def _adsl_for(adsl, rs, oracle):
    """The vignettes keep the RS subjects plus one subject without RS data."""
    ids = set(rs["USUBJID"].to_list()) | set(oracle["USUBJID"].to_list())
    return adsl.filter(pl.col("USUBJID").is_in(sorted(ids)))


def _key(df, cols):
    return sorted(tuple("" if v is None else str(v) for v in row) for row in df.select(cols).iter_rows())


def test_imwg_covr_and_cbor_equal_vignette(adsl):
    rs = _csv(SDTM / "rs_onco_imwg.csv")
    data = as_sdtm({"rs": rs, "supprs": _csv(SDTM / "supprs_onco_imwg.csv")})
    o6 = _csv(TAB / "adrs_imwg" / "06.csv")
    o13 = _csv(TAB / "adrs_imwg" / "13.csv")
    got = V.imwg_adrs(data, _adsl_for(adsl, rs, o13)).with_columns(pl.col("ADT").cast(pl.String))
    covr = got.filter(pl.col("PARAMCD") == "COVR")
    assert _key(covr, ["USUBJID", "ADT", "AVALC", "RSSEQ"]) == _key(o6, ["USUBJID", "ADT", "AVALC", "RSSEQ"])
    cbor = got.filter((pl.col("PARAMCD") == "CBOR") & (pl.col("AVALC") != "MISSING"))
    assert _key(cbor, ["USUBJID", "ADT", "AVALC", "RSSEQ"]) == _key(o13, ["USUBJID", "ADT", "AVALC", "RSSEQ"])


def test_imwg_rsp_cb_equal_vignette(adsl):
    rs = _csv(SDTM / "rs_onco_imwg.csv")
    data = as_sdtm({"rs": rs, "supprs": _csv(SDTM / "supprs_onco_imwg.csv")})
    got = V.imwg_adrs(data, _adsl_for(adsl, rs, rs)).with_columns(pl.col("ADT").cast(pl.String))
    for f, params in (("10.csv", ["RSP"]), ("11.csv", ["CB"]), ("12.csv", ["CRRSP", "VGPRRSP"])):
        o = _csv(TAB / "adrs_imwg" / f).filter(pl.col("AVALC") == "Y")
        g = got.filter(pl.col("PARAMCD").is_in(params) & (pl.col("AVALC") == "Y"))
        o = o.filter(pl.col("PARAMCD").is_in(params))
        assert _key(g, ["USUBJID", "PARAMCD", "ADT"]) == _key(o, ["USUBJID", "PARAMCD", "ADT"]), f


def test_pcwg3_ovrlresc_bor_cbor_equal_vignette(adsl):
    rs = _csv(SDTM / "rs_onco_pcwg3.csv")
    o4 = _csv(TAB / "adrs_pcwg3" / "04.csv")
    got = V.pcwg3_adrs({"rs": rs}, _adsl_for(adsl, rs, o4)).with_columns(pl.col("ADT").cast(pl.String))
    o3 = _csv(TAB / "adrs_pcwg3" / "03.csv").filter(pl.col("PARAMCD") == "OVRLRESC")
    g3 = got.filter(pl.col("PARAMCD") == "OVRLRESC")
    assert _key(g3, ["USUBJID", "ADT", "AVALC"]) == _key(o3, ["USUBJID", "ADT", "AVALC"])
    for f, p in (("04.csv", "BOR"), ("05.csv", "CBOR")):
        o = _csv(TAB / "adrs_pcwg3" / f)
        g = got.filter(pl.col("PARAMCD") == p)
        assert _key(g, ["USUBJID", "ADT", "AVALC"]) == _key(o, ["USUBJID", "ADT", "AVALC"]), p


def test_gcig_pd_cbor_bor_equal_vignette(adsl):
    rs = _csv(SDTM / "rs_onco_ca125.csv")
    data = as_sdtm({"rs": rs, "supprs": _csv(SDTM / "supprs_onco_ca125.csv")})
    o6 = _csv(TAB / "adrs_gcig" / "06.csv")
    got = V.gcig_adrs(data, _adsl_for(adsl, rs, o6)).with_columns(pl.col("ADT").cast(pl.String))
    g = got.filter(pl.col("PARAMCD") == "PDCA125")
    assert _key(g, ["USUBJID", "ADT", "AVALC"]) == _key(o6, ["USUBJID", "ADT", "AVALC"])
    o7 = _csv(TAB / "adrs_gcig" / "07.csv").filter(pl.col("ADT").is_not_null())
    cat = {r[0]: r[1] for r in o7.select("USUBJID", "MCRIT1ML").iter_rows()}
    mine = {r[0]: r[1] for r in g.filter(pl.col("ADT") != "").select("USUBJID", "MCRIT1ML").iter_rows() if r[1]}
    # the vignette's MCRIT1ML is a sentence ending in "(A)", "(B)" or "(C)"
    assert {k: v[-2] for k, v in cat.items()} == mine
    for f, p in (("08.csv", "CBORCA"), ("09.csv", "BORCA11")):
        o = _csv(TAB / "adrs_gcig" / f)
        gg = got.filter(pl.col("PARAMCD") == p)
        assert _key(gg, ["USUBJID", "ADT", "AVALC"]) == _key(o, ["USUBJID", "ADT", "AVALC"]), p


def _num(v):
    return None if v in (None, "") else round(float(v), 9)


def test_pcwg3_adpsa_base_chg_pchg_equal_vignette(adsl):
    """adrs_pcwg3/06 (PSA records of lb_onco_pcwg3 with BASE, CHG, PCHG; pcwg3.md §2 baseline).

    Every one of the 41 oracle rows is compared on USUBJID, LBSEQ, ADT, ADY, AVAL, ABLFL,
    BASE, CHG, PCHG (numbers to 9 decimals).  No difference: the LBBLFL baseline is also
    the last value before TRTSDT for every subject here, and ADY has no day 0 as admiral's.
    """
    rs = _csv(SDTM / "rs_onco_pcwg3.csv")
    o6 = _csv(TAB / "adrs_pcwg3" / "06.csv")
    got = V.pcwg3_adpsa({"lb": _csv(SDTM / "lb_onco_pcwg3.csv"), "rs": rs}, _adsl_for(adsl, rs, o6))
    cols = ["USUBJID", "LBSEQ", "ADT", "ADY", "AVAL", "ABLFL", "BASE", "CHG", "PCHG"]

    def rows(df):
        return sorted(
            (r[0], int(float(r[1])), str(r[2]), int(float(r[3])), _num(r[4]), r[5] or "", _num(r[6]), _num(r[7]), _num(r[8]))
            for r in df.select(cols).iter_rows()
        )

    assert len(o6) == 41
    assert rows(got) == rows(o6)


def test_pcwg3_psa50_psa90_confirmed_equal_vignette(adsl):
    """adrs_pcwg3/07 (PSA50URS, PSA50CRS, PSA90URS, PSA90CRS for the 12 ADSL subjects).

    Compared on USUBJID, PARAMCD, ADT, AVALC, AVAL, LBSEQ, PCHG: all 48 rows agree.
    Differences that do NOT show on these data (explained, not hidden):
    * the vignette's confirmation needs a later PSA >= 21 days after the candidate still >= t %
      down (pcwg3.md §3.1 R2); we also require every PSA in between to qualify
      (``require_all_intervening``, pcwg3.md §10).  No subject here has an intervening
      failing value, so both rules give the same answer (test below shows where they split);
    * a subject with PSA records but none after baseline would be N without a date here
      (no such subject in lb_onco_pcwg3).
    01-701-1023 (ADSL only, no LB) is MISSING, as in the vignette.
    """
    rs = _csv(SDTM / "rs_onco_pcwg3.csv")
    o7 = _csv(TAB / "adrs_pcwg3" / "07.csv")
    got = V.pcwg3_psa_response({"lb": _csv(SDTM / "lb_onco_pcwg3.csv"), "rs": rs}, _adsl_for(adsl, rs, o7))
    cols = ["USUBJID", "PARAMCD", "ADT", "AVALC", "AVAL", "LBSEQ", "PCHG"]

    def rows(df):
        return sorted(
            (r[0], r[1], "" if r[2] is None else str(r[2]), r[3], _num(r[4]),
             None if r[5] in (None, "") else int(float(r[5])), _num(r[6]))
            for r in df.select(cols).iter_rows()
        )

    assert len(o7) == 48
    assert rows(got) == rows(o7)
    assert sorted(set(got["PARAMCD"])) == ["PSA50CRS", "PSA50URS", "PSA90CRS", "PSA90URS"]


def _lb(rows):
    return pl.DataFrame(
        {
            "USUBJID": ["S1"] * len(rows), "LBSEQ": [str(i + 1) for i in range(len(rows))],
            "LBTESTCD": ["PSA"] * len(rows), "LBDTC": [d for d, _, _ in rows],
            "LBSTRESN": [str(v) for _, v, _ in rows], "LBBLFL": [f for _, _, f in rows],
        }
    )


def test_psa50_intervening_failure_blocks_confirmation_pcwg3_3_1_r2():
    """pcwg3.md §3.1 R2 (hand computed): baseline 100; day 56: 40 (-60 %, candidate);
    day 70: 60 (-40 %, fails); day 84: 45 (-55 %, >= 21 days after day 56).
    With require_all_intervening the day-56 candidate is not confirmed; the day-84 value is a
    new candidate with nothing after it -> PSA50CRS N (dated at the last PSA, day 84),
    PSA50URS Y on day 56.  Without it, day 84 confirms day 56 -> PSA50CRS Y on day 56."""
    adsl_ = pl.DataFrame({"USUBJID": ["S1"], "TRTSDT": ["2024-01-01"]})
    lb = _lb([("2023-12-30", 100, "Y"), ("2024-02-26", 40, None), ("2024-03-11", 60, None), ("2024-03-25", 45, None)])
    got = V.pcwg3_psa_response({"lb": lb}, adsl_, thresholds=(50,))
    d = {r[0]: (r[1], str(r[2])) for r in got.select("PARAMCD", "AVALC", "ADT").iter_rows()}
    assert d == {"PSA50URS": ("Y", "2024-02-26"), "PSA50CRS": ("N", "2024-03-25")}
    loose = V.pcwg3_psa_response({"lb": lb}, adsl_, thresholds=(50,), require_all_intervening=False)
    d2 = {r[0]: (r[1], str(r[2])) for r in loose.select("PARAMCD", "AVALC", "ADT").iter_rows()}
    assert d2["PSA50CRS"] == ("Y", "2024-02-26")


def test_psa_baseline_without_flag_is_last_value_before_treatment_pcwg3_2():
    """pcwg3.md §2: baseline = last PSA on or before treatment start when LB has no flag.
    Values 80 (day -20), 100 (day -3), 45 (day 30): BASE 100, PCHG -55 on day 30; no PSA
    follows it, so PSA50CRS is N and PSA50URS Y."""
    adsl_ = pl.DataFrame({"USUBJID": ["S1"], "TRTSDT": ["2024-01-10"]})
    lb = _lb([("2023-12-21", 80, None), ("2024-01-07", 100, None), ("2024-02-08", 45, None)])
    ad = V.pcwg3_adpsa({"lb": lb}, adsl_)
    assert ad["ABLFL"].to_list() == [None, "Y", None]
    assert ad["BASE"].to_list() == [100.0] * 3
    assert ad["PCHG"].to_list()[:2] == [None, None]
    assert ad["PCHG"][2] == pytest.approx(-55.0)
    assert ad["ADY"].to_list() == [-20, -3, 30]
    got = V.pcwg3_psa_response({"lb": lb}, adsl_, thresholds=(50,))
    assert dict(got.select("PARAMCD", "AVALC").iter_rows()) == {"PSA50CRS": "N", "PSA50URS": "Y"}
