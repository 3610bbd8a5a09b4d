"""WHO bidimensional imaging engine (who.md §3–4, docs/imaging_engine.md "WHO").

Expectations are hand-computed from who.md; sections are cited in each test.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission.criteria import recist11, who
from remission.options import RecistOptions, WhoOptions
from remission.schema import LESIONS, SEGMENTS, TIMEPOINTS

D0 = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def les(day_, lid, role, organ=None, d=None, perp=None, status=None, nodal=False, subject="S1"):
    return dict(
        subject_id=subject,
        date=day(day_),
        lesion_id=lid,
        role=role,
        organ=organ,
        nodal=nodal,
        diameter_mm=None if d is None else float(d),
        perpendicular_mm=None if perp is None else float(perp),
        status=status,
        method="CT",
    )


def lesions_at(day_, dims: dict, organs: dict | None = None):
    """Target rows: ``{"A": (40, 30), ...}``; ``(40, None)`` = one diameter only."""
    return [les(day_, lid, "target", (organs or {}).get(lid, "liver"), d, p) for lid, (d, p) in dims.items()]


SEG1 = [dict(subject_id="S1", line=1, reference_start=day(0), baseline_date=day(0), end_date=None)]


def run_who(rows, **opts) -> pl.DataFrame:
    out = who.evaluate(pl.DataFrame(rows, schema=LESIONS), pl.DataFrame(SEG1, schema=SEGMENTS), WhoOptions(**opts))
    assert dict(out.schema) == TIMEPOINTS
    assert set(out["criteria"]) == {"who"}
    return out


def run_recist(rows) -> pl.DataFrame:
    return recist11.evaluate(pl.DataFrame(rows, schema=LESIONS), pl.DataFrame(SEG1, schema=SEGMENTS), RecistOptions())


def at(out, n):
    rows = out.filter(pl.col("date") == day(n)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_example_1_typical_pr():
    """who.md §7 example 1: SPD 1600 → 756 (−52.8 %) → 688 (−57.0 %): PR, PR; RECIST on
    the longest diameters 60 → 42 → 40: −30 % / −33 % → PR as well."""
    rows = (
        lesions_at(0, {"A": (40, 30), "B": (20, 20)})
        + lesions_at(56, {"A": (28, 20), "B": (14, 14)})
        + lesions_at(91, {"A": (26, 20), "B": (14, 12)})
    )
    out = run_who(rows)
    b = at(out, 0)
    assert b["baseline_value"] == 1600 and b["overall_response"] is None
    assert b["explanation"] == "Baseline: sum of products 1600 mm² (2 target lesions)"
    r = at(out, 56)
    assert r["value"] == 756 and round(r["change_from_baseline_pct"], 1) == -52.8
    assert r["overall_response"] == "PR" and r["canonical_level"] == "PARTIAL" and r["rule_ids"] == "W5"
    assert r["explanation"] == "PR: SPD 756 mm² is -52.8% from baseline 1600 mm² (>= 50% decrease)"
    r = at(out, 91)
    assert r["value"] == 688 and round(r["change_from_baseline_pct"], 1) == -57.0 and r["nadir_value"] == 756
    assert r["overall_response"] == "PR"
    rec = run_recist(rows)
    assert at(rec, 56)["value"] == 42 and at(rec, 56)["change_from_baseline_pct"] == -30.0
    assert at(rec, 56)["overall_response"] == "PR" and at(rec, 91)["overall_response"] == "PR"


def test_example_2_who_and_recist_disagree():
    """who.md §7 example 2: 40×30 → 30×20: WHO −50 % → PR; RECIST 40 → 30 = −25 % → SD."""
    rows = lesions_at(0, {"A": (40, 30)}) + lesions_at(56, {"A": (30, 20)})
    r = at(run_who(rows), 56)
    assert r["change_from_baseline_pct"] == -50.0 and r["overall_response"] == "PR"
    assert at(run_recist(rows), 56)["overall_response"] == "SD"


def test_example_3_who_pd_that_recist_would_not_call():
    """who.md §7 example 3: nadir 20×20 (400) → 22×23 (506) = +26.5 % → WHO PD;
    RECIST 20 → 23 mm = +15 %, +3 mm → SD."""
    rows = lesions_at(0, {"A": (30, 30)}) + lesions_at(56, {"A": (20, 20)}) + lesions_at(112, {"A": (23, 22)})
    out = run_who(rows)
    assert at(out, 56)["overall_response"] == "PR"  # 400 vs 900: −55.6 %
    r = at(out, 112)
    assert r["value"] == 506 and r["nadir_value"] == 400 and round(r["change_from_nadir_pct"], 1) == 26.5
    assert r["overall_response"] == "PD" and r["target_response"] == "PD" and r["rule_ids"] == "W2"
    assert r["is_progression_event"] and r["progression_event_date"] == day(112)
    assert r["explanation"] == "PD: A (liver) 506 mm² is +26.5% above its nadir 400 mm² (>= 25%)"
    assert r["recurrence_sites"] == "liver"
    rec = at(run_recist(rows), 112)
    assert rec["change_from_nadir_abs"] == 3 and rec["overall_response"] == "SD"


def test_edge_6_1_reappearing_lesion_is_pd():
    """who.md §6.1: a lesion whose reference product is 0 reappears → PD (any_lesion basis),
    although the SPD is still −78 % from baseline; with the sum basis the SPD 100 → 109
    (+9 % vs nadir 100) is no PD, so −78.2 % → PR."""
    rows = (
        lesions_at(0, {"A": (20,20), "B": (10, 10)}, {"B": "lung"})
        + lesions_at(56, {"A": (10, 10), "B": (0, 0)}, {"B": "lung"})
        + lesions_at(112, {"A": (10, 10), "B": (3, 3)}, {"B": "lung"})
    )
    r = at(run_who(rows), 112)
    assert r["value"] == 109 and r["overall_response"] == "PD" and r["recurrence_sites"] == "lung"
    assert "B (lung) reappeared (9 mm² after 0)" in r["explanation"]
    r = at(run_who(rows, who_pd_basis="sum"), 112)
    assert r["overall_response"] == "PR" and round(r["change_from_baseline_pct"], 1) == -78.2


def test_edge_6_3_pr_needs_no_progressing_lesion():
    """who.md §6.3: SPD 1700 → 532 (−68.7 %) but lesion B 100 → 132 (+32 %) → PD, not PR;
    with the sum basis (SPD below its nadir) → PR."""
    rows = lesions_at(0, {"A": (40, 40), "B": (10, 10)}) + lesions_at(56, {"A": (20, 20), "B": (12, 11)})
    r = at(run_who(rows), 56)
    assert round(r["change_from_baseline_pct"], 1) == -68.7 and r["overall_response"] == "PD"
    assert at(run_who(rows, who_pd_basis="sum"), 56)["overall_response"] == "PR"


def test_edge_6_5_one_diameter_only_is_ne():
    """who.md §6.5: only one diameter measured → the lesion is NE → time point NE (W3)."""
    rows = lesions_at(0, {"A": (40, 30), "B": (20, 20)}) + lesions_at(56, {"A": (30, None), "B": (14, 14)})
    r = at(run_who(rows), 56)
    assert r["overall_response"] == "NE" and r["rule_ids"] == "W3" and r["canonical_level"] == "NOT_EVALUABLE"
    assert r["explanation"] == "NE: lesion A (liver) not measured (both diameters needed)"
    # but an available lesion that already progressed decides (W3 "unless W2 already met")
    rows = lesions_at(0, {"A": (40, 30), "B": (20, 20)}) + lesions_at(56, {"A": (30, None), "B": (25, 20)})
    assert at(run_who(rows), 56)["overall_response"] == "PD"


def test_who_pd_basis_sum():
    """who.md §4.1 W2 with ``who_pd_basis = "sum"``: SPD 200 → 250 = +25 % vs its nadir → PD
    (A alone: 100 → 150, +50 %, also PD under the default)."""
    rows = (
        lesions_at(0, {"A": (20, 20), "B": (20, 20)})
        + lesions_at(56, {"A": (10, 10), "B": (10, 10)})
        + lesions_at(112, {"A": (15, 10), "B": (10, 10)})
    )
    r = at(run_who(rows, who_pd_basis="sum"), 112)
    assert r["nadir_value"] == 200 and r["change_from_nadir_pct"] == 25.0
    assert r["overall_response"] == "PD"
    assert r["explanation"] == "PD: SPD 250 mm² is +25% above nadir 200 mm² (>= 25%)"
    assert r["recurrence_sites"] == "liver"
    # 240 (+20 %) is not PD under the sum basis; −70 % from 800 → PR
    rows[-2:] = lesions_at(112, {"A": (12, 10), "B": (12, 10)})
    assert at(run_who(rows, who_pd_basis="sum"), 112)["overall_response"] == "PR"


def test_edge_6_2_small_lesions_and_absolute_floor():
    """who.md §6.2: 5×5 → 6×5 is +20 % (no PD), 5×5 → 6×6 is +44 % → PD; with
    ``who_pd_min_abs_mm2 = 20`` the +11 mm² growth is not PD."""
    base = lesions_at(0, {"A": (30, 30), "B": (5, 5)})
    r = at(run_who(base + lesions_at(56, {"A": (30, 30), "B": (6, 5)})), 56)
    assert r["overall_response"] == "NC" and r["canonical_level"] == "STABLE" and r["rule_ids"] == "W6"
    grown = base + lesions_at(56, {"A": (30, 30), "B": (6, 6)})
    assert at(run_who(grown), 56)["overall_response"] == "PD"
    assert at(run_who(grown, who_pd_min_abs_mm2=20), 56)["overall_response"] == "NC"


def test_reference_baseline_option():
    """who.md §3.2 ``who_pd_reference = "baseline"``: 400 → 100 → 130 is +30 % vs nadir
    (PD) but −67.5 % vs baseline (PR)."""
    rows = lesions_at(0, {"A": (20, 20)}) + lesions_at(56, {"A": (10, 10)}) + lesions_at(112, {"A": (13, 10)})
    assert at(run_who(rows), 112)["overall_response"] == "PD"
    assert at(run_who(rows, who_pd_reference="baseline"), 112)["overall_response"] == "PR"


def test_cr_new_lesion_and_non_targets():
    """who.md §4.1 W4 (all products 0, non-targets absent → CR), §4.4 (non-target present
    with measurable CR → PR), W1 (new lesion → PD), non-target progression → PD."""
    base = lesions_at(0, {"A": (20, 20)}) + [les(0, "N1", "non_target", "bone", status="present")]
    r = at(run_who(base + lesions_at(56, {"A": (0, 0)}) + [les(56, "N1", "non_target", "bone", status="absent")]), 56)
    assert r["overall_response"] == "CR" and r["canonical_level"] == "COMPLETE"
    assert r["explanation"] == "CR: all lesion products 0 mm²; non-targets absent"
    r = at(run_who(base + lesions_at(56, {"A": (0, 0)}) + [les(56, "N1", "non_target", "bone", status="present")]), 56)
    assert r["overall_response"] == "PR" and r["non_target_response"] == "NC"
    r = at(run_who(base + lesions_at(56, {"A": (15, 15)}) + [les(56, "N1", "non_target", "bone", status="present"),
                                                           les(56, "L1", "new", "lung", status="present")]), 56)
    assert r["overall_response"] == "PD" and r["new_lesion"] is True and r["rule_ids"] == "W1"
    r = at(run_who(base + lesions_at(56, {"A": (15, 15)}) + [les(56, "N1", "non_target", "bone", status="progression")]), 56)
    assert r["overall_response"] == "PD" and r["recurrence_sites"] == "bone"
    # non-target not evaluated: NC becomes NE (§4.4), PR stays PR
    r = at(run_who(base + lesions_at(56, {"A": (19, 19)})), 56)
    assert r["overall_response"] == "NE" and r["rule_ids"] == "W3"
    r = at(run_who(base + lesions_at(56, {"A": (10, 10)})), 56)
    assert r["overall_response"] == "PR"


def test_multi_subject_equals_single_subject():
    """Vectorised over subjects: two subjects together = each alone."""
    a = [dict(r, subject_id="A") for r in lesions_at(0, {"A": (40, 30)}) + lesions_at(56, {"A": (30, 20)})]
    b = [dict(r, subject_id="B") for r in lesions_at(0, {"A": (30, 30)}) + lesions_at(56, {"A": (20, 20)}) + lesions_at(112, {"A": (23, 22)})]
    segs = [dict(SEG1[0], subject_id="A"), dict(SEG1[0], subject_id="B")]
    together = who.evaluate(pl.DataFrame(a + b, schema=LESIONS), pl.DataFrame(segs, schema=SEGMENTS))
    for s, rows in (("A", a), ("B", b)):
        alone = who.evaluate(pl.DataFrame(rows, schema=LESIONS), pl.DataFrame([dict(SEG1[0], subject_id=s)], schema=SEGMENTS))
        assert together.filter(pl.col("subject_id") == s).equals(alone)


@pytest.mark.parametrize("basis", ["any_lesion", "sum"])
def test_equivocal_new_lesion_back_dated(basis):
    """recist11.md §4.6 as used by WHO: equivocal new lesion pending, PD back-dated."""
    rows = lesions_at(0, {"A": (20, 20)}) + lesions_at(56, {"A": (19, 19)}) + lesions_at(112, {"A": (19, 19)})
    rows += [les(56, "L1", "new", "lung", status="equivocal"), les(112, "L1", "new", "lung", status="present")]
    out = run_who(rows, who_pd_basis=basis)
    r = at(out, 56)
    assert r["overall_response"] == "NC" and r["pending_progression"] is True and r["rule_ids"] == "W6,NLeq"
    r = at(out, 112)
    assert r["overall_response"] == "PD" and r["progression_event_date"] == day(56)
