"""The small example datasets under src/remission/data/examples_blood/<criterion>/ run
through remission.assess with the hand-derived outcomes below (same numbers as the
worked examples of imwg.md §7, pcwg3.md §7 and gcig_ca125.md §7/§7b)."""

from pathlib import Path

import polars as pl
import pytest

import remission
from remission import assess

ROOT = Path(remission.__file__).parent / "data" / "examples_blood"

EXPECTED = {
    "imwg2016": {
        # §7 example 1 (baseline given as 30 g/L = 3.0 g/dL): PR x3, PD confirmed
        "MM-1": (["PR", "PR", "PR", "PD", "PD"], "progression"),
        # VGPR (serum -93 %, urine 50), then IFE negative + marrow 2 % + ratio 1.0 + not clonal: sCR
        "MM-2": (["VGPR", "VGPR", "sCR", "sCR"], "responding"),
        # new bone lesion: imaging PD without confirmation (§6.6)
        "MM-3": (["PR", "PD"], "progression"),
    },
    "pcwg3": {
        "PC-1": (["PSA NON-PD", "PSA RESPONSE", "PSA RESPONSE", "PSA RESPONSE", "PSA PROGRESSION", "PSA PROGRESSION"], "progression"),
        "PC-2": (["PDu", "PD"], "progression"),
        "PC-3": (["NON-CR/NON-PD", "NON-CR/NON-PD", "PDu", "PD"], "progression"),
    },
    "gcig": {
        "OV-1": (["PR", "PR", "PR", "PR", "PD", "PD"], "progression"),
        "OV-2": (["SD", "SD", "PR", "PR"], "responding"),
        "OV-3": (["NE", "PD", "PD", "PD"], "progression"),
    },
}


@pytest.mark.parametrize("criterion", sorted(EXPECTED))
def test_example_dataset(criterion):
    res = assess(ROOT / criterion)
    a = res.assessments.filter(pl.col("overall_response").is_not_null())
    for sid, (responses, status) in EXPECTED[criterion].items():
        got = a.filter(pl.col("subject_id") == sid)["overall_response"].to_list()
        assert got == responses, sid
        assert res.summary.filter(pl.col("subject_id") == sid)["status"].item() == status, sid
    assert set(res.summary["criteria"]) == {criterion}


def test_progression_dates_are_first_of_the_pair():
    res = assess(ROOT / "imwg2016")
    assert str(res.summary.filter(pl.col("subject_id") == "MM-1")["progression_date"].item()) == "2024-10-01"
    res = assess(ROOT / "pcwg3")
    pd = dict(res.summary.select("subject_id", "progression_date").iter_rows())
    assert str(pd["PC-2"]) == "2024-02-26" and str(pd["PC-3"]) == "2024-06-17"
    res = assess(ROOT / "gcig")
    pd = dict(res.summary.select("subject_id", "progression_date").iter_rows())
    assert str(pd["OV-1"]) == "2024-05-30" and str(pd["OV-3"]) == "2024-03-31"
