"""GCIG CA-125 engine (remission.criteria.gcig) on criteria/gcig_ca125.md §7 and §7b and the
combined RECIST 1.1 + CA-125 tables of §5."""

import datetime as dt

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import gcig

D0 = dt.date(2024, 1, 1)


def D(n):
    return D0 + dt.timedelta(days=n)


def run(samples, findings=(), lesions=None, **opts):
    labs = pl.DataFrame([(s, D(d), "ca125", float(v), "U/mL") for s, d, v in samples], schema=S.LABS, orient="row")
    fnd = pl.DataFrame([(s, D(d), f, v) for s, d, f, v in findings], schema=S.FINDINGS, orient="row")
    subs = sorted({r[0] for r in samples})
    segs = pl.DataFrame([(s, 1, D(0), min(D(d) for x, d, _ in samples if x == s), None) for s in subs], schema=S.SEGMENTS, orient="row")
    t = {"labs": labs, "findings": fnd, "lesions": lesions if lesions is not None else S.empty(S.LESIONS)}
    return gcig.evaluate(t, segs, gcig.GcigOptions(**opts))


EX_A = [("a", -5, 400), ("a", 21, 180), ("a", 35, 120), ("a", 49, 60), ("a", 90, 60), ("a", 150, 130), ("a", 160, 150)]


def test_example_a_response_and_category_b_progression():
    """§7: response confirmed on day 49, dated day 21, PR (60 > ULRR 35); category B
    threshold 2 x nadir 60 = 120; PD on day 150 paired with day 160 (10 days)."""
    out = run(EX_A, ulrr=35)
    assert out["overall_response"].to_list() == ["PR", "PR", "PR", "PR", "PD", "PD"]
    assert out["change_from_baseline_pct"][0] == pytest.approx(-55.0)
    ev = out.filter(pl.col("is_progression_event"))
    assert ev["date"].to_list() == [D(150)]
    assert "category B" in ev["explanation"][0] and "120 U/mL" in ev["explanation"][0]
    assert out["explanation"][0].startswith("PR: CA-125 180 U/mL is 55% below pre-treatment 400 U/mL")


def test_example_a_variant_normalised_category_a():
    """§7 variant: nadir 20 (normalised) -> category A, threshold 2 x ULRR = 70; response CR
    when the confirmatory value is <= ULRR (C5)."""
    s = [("v", -5, 400), ("v", 21, 180), ("v", 49, 20), ("v", 90, 75), ("v", 100, 80)]
    out = run(s, ulrr=35)
    assert out["overall_response"].to_list() == ["CR", "CR", "PD", "PD"]
    assert "PD-A" in out["rule_ids"][2]


def test_example_b_failed_candidate():
    """§7b: day 35 (160 > 1.10 x 140) breaks the day-21 candidate; day 42 candidate confirmed
    on day 70 -> PR dated day 42."""
    s = [("b", -3, 300), ("b", 21, 140), ("b", 35, 160), ("b", 42, 130), ("b", 70, 110)]
    out = run(s, ulrr=35)
    assert out["overall_response"].to_list() == ["SD", "SD", "PR", "PR"]
    assert "response from 2024-02-12" in out["explanation"][2]


def test_example_b_category_c_pair():
    """§7b: pre-treatment 28 (not evaluable for response), threshold 70; day 90 and day 95 are
    5 days apart; day 104 pairs with day 90 -> PD day 90."""
    s = [("c", -7, 28), ("c", 60, 45), ("c", 90, 72), ("c", 95, 80), ("c", 104, 76)]
    out = run(s, ulrr=35)
    assert out["overall_response"].to_list() == ["NE", "PD", "PD", "PD"]
    assert out.filter(pl.col("is_progression_event"))["date"].to_list() == [D(90)]
    # before day 104: day 90 and 95 qualify but no pair >= 7 days -> pending
    early = run(s[:-1], ulrr=35)
    assert early["canonical_level"].to_list() == ["NOT_EVALUABLE", "NOT_EVALUABLE", "PROGRESSION_PENDING"]


def test_ulrr_from_finding_and_missing():
    out = run(EX_A, [("a", -5, "ca125_ulrr", "35")])
    assert out["overall_response"][0] == "PR"
    out = run(EX_A)
    assert set(out["overall_response"]) == {"NE"} and "ULRR_MISSING" in out["warnings"][0]


def test_pretreatment_window_and_mouse_antibody():
    """§3.1: a pre-treatment sample 20 days before start is outside the 14-day window; samples
    after mouse antibodies are excluded."""
    s = [("w", -20, 400), ("w", 21, 180), ("w", 49, 60)]
    assert run(s, ulrr=35)["overall_response"].to_list() == ["NE", "NE"]
    out = run(EX_A, [("a", 30, "mouse_antibody", "true")], ulrr=35)
    assert out.filter(pl.col("date") > D(30))["overall_response"].unique().to_list() == ["NE"]


@pytest.mark.parametrize(
    "recist,ca,measurable,expected",
    [
        ("PD", "CR", True, "PD"), ("PR", "PD", True, "PD"), ("CR", "CR", True, "CR"), ("CR", "PR", True, "PR"),
        ("CR", "NE", True, "PR"), ("PR", "SD", True, "PR"), ("SD", "PR", True, "PR"), ("NE", "CR", True, "PR"),
        ("SD", "SD", True, "SD"), ("SD", "NE", True, "SD"), ("NE", "SD", True, "SD"), ("NE", "NE", True, "NE"),
        ("SD", None, True, "NE"),
        ("PD", "SD", False, "PD"), ("NON-CR/NON-PD", "PD", False, "PD"), ("CR", "CR", False, "CR"),
        ("CR", "SD", False, "PR"), ("NON-CR/NON-PD", "PR", False, "PR"), ("NE", "CR", False, "PR"),
        ("NON-CR/NON-PD", "SD", False, "NON-CR/NON-PD"), ("NON-CR/NON-PD", "NE", False, "NON-CR/NON-PD"),
        ("NE", "SD", False, "NON-CR/NON-PD"), ("NE", "NE", False, "NE"),
    ],
)
def test_combined_tables(recist, ca, measurable, expected):
    """§5: every row of both combined tables."""
    df = pl.DataFrame({"r": [recist], "c": [ca], "m": [measurable]}, schema={"r": pl.String, "c": pl.String, "m": pl.Boolean})
    got = df.select(gcig._combined(pl.col("r"), pl.col("c"), pl.col("m"))).item()
    assert got == expected


def test_combined_with_recist_lesions():
    """§7: RECIST SD on day 56 + confirmed CA-125 response -> combined PR."""
    cols = ["subject_id", "date", "lesion_id", "role", "organ", "nodal", "diameter_mm", "status"]
    les = pl.DataFrame(
        [("a", D(-5), "T1", "target", "liver", False, 50.0, "present"),
         ("a", D(56), "T1", "target", "liver", False, 45.0, "present")],
        schema={c: S.LESIONS[c] for c in cols}, orient="row",
    )
    les = les.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in S.LESIONS.items() if c not in cols]).select(list(S.LESIONS))
    s = [r for r in EX_A if r[1] <= 90] + [("a", 56, 58)]
    out = run(s, lesions=les, ulrr=35)
    row = out.filter(pl.col("date") == D(56)).row(0, named=True)
    assert row["overall_response"] == "PR" and row["canonical_level"] == "PARTIAL"
    assert "RECIST 1.1 SD + CA-125 PR" in row["explanation"]
    # a confirmed CA-125 response on a CA-125-only date of a subject with lesions is the
    # combined PR of §5 (no imaging that day): PARTIAL, so the response dates from day 21
    # (§6 "whichever is first"; issue 13 §3); the row keeps the CA-125 category
    d21 = out.filter(pl.col("date") == D(21)).row(0, named=True)
    assert (d21["overall_response"], d21["canonical_level"]) == ("PR", "PARTIAL")
    assert "no imaging on this date" in d21["explanation"]
