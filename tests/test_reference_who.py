"""Hand-computed tests of the plain-Python WHO reference engine (criteria/who.md §3–7,
docs/imaging_engine.md "WHO").  Day numbers are days from 2024-01-01 (the baseline)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from reference.imaging import who_reference
from remission.options import WhoOptions
from remission.schema import LESIONS, SEGMENTS, TIMEPOINTS

DAY0 = dt.date(2024, 1, 1)


def D(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day)


class Case:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def les(self, day, lid, role, organ, diam=None, perp=None, status=None, nodal=False):
        self.rows.append(dict(subject_id="S1", date=D(day), lesion_id=lid, role=role, organ=organ, nodal=nodal,
                              diameter_mm=None if diam is None else float(diam),
                              perpendicular_mm=None if perp is None else float(perp), status=status, method="CT"))
        return self

    def t(self, day, lid, organ, diam, perp=None, status=None):
        return self.les(day, lid, "target", organ, diam, perp, status)

    def run(self, **opts) -> pl.DataFrame:
        seg = pl.DataFrame([dict(subject_id="S1", line=1, reference_start=D(0), baseline_date=D(0), end_date=None)],
                           schema=SEGMENTS)
        return who_reference(pl.DataFrame(self.rows, schema=LESIONS), seg, WhoOptions(**opts))


def row(out: pl.DataFrame, day: int) -> dict:
    rows = out.filter(pl.col("date") == D(day)).to_dicts()
    assert len(rows) == 1
    return rows[0]


# ---------------------------------------------------------------------------------------
# §7 worked examples
# ---------------------------------------------------------------------------------------


def test_example_1_typical_pr():
    """who.md §7 example 1: SPD 1600 -> 756 (-52.8 %) -> 688 (-57.0 %): PR, PR."""
    c = Case()
    for day, (a, b) in {0: ((40, 30), (20, 20)), 56: ((28, 20), (14, 14)), 91: ((26, 20), (14, 12))}.items():
        c.t(day, "A", "liver", *a).t(day, "B", "lung", *b)
    out = c.run()
    assert out.schema == pl.Schema(TIMEPOINTS)
    base = row(out, 0)
    assert base["baseline_value"] == 1600 and base["criteria"] == "who"
    assert base["explanation"] == "Baseline: sum of products 1600 mm² (2 target lesions)"
    r56, r91 = row(out, 56), row(out, 91)
    assert r56["value"] == 756 and round(r56["change_from_baseline_pct"], 1) == -52.8
    assert r91["value"] == 688 and round(r91["change_from_baseline_pct"], 1) == -57.0
    assert r91["nadir_value"] == 756
    for r in (r56, r91):
        assert r["overall_response"] == "PR" and r["canonical_level"] == "PARTIAL" and r["rule_ids"] == "W5"
    assert r56["explanation"] == ("PR: sum of products 756 mm² is -52.8% from baseline 1600 mm² "
                                  "(>= 50% decrease); no lesion grew >= 25%")


def test_example_2_half_the_area_is_pr():
    """who.md §7 example 2: 40×30 = 1200 -> 30×20 = 600: -50 % exactly -> PR (inclusive)."""
    c = Case().t(0, "A", "liver", 40, 30).t(56, "A", "liver", 30, 20)
    r = row(c.run(), 56)
    assert r["change_from_baseline_pct"] == -50.0 and r["overall_response"] == "PR"


def _example_3() -> Case:
    """who.md §7 example 3: baseline 30×30 (900) -> nadir 20×20 (400) -> 22×23 (506)."""
    return Case().t(0, "A", "liver", 30, 30).t(56, "A", "liver", 20, 20).t(112, "A", "liver", 22, 23)


def test_example_3_pd_vs_lesion_nadir():
    """506 vs 400 = +26.5 % -> PD (RECIST would say SD)."""
    out = _example_3().run()
    assert row(out, 56)["overall_response"] == "PR"
    r = row(out, 112)
    assert round(r["change_from_nadir_pct"], 1) == 26.5
    assert r["overall_response"] == "PD" and r["rule_ids"] == "W2" and r["target_response"] == "PD"
    assert r["is_progression_event"] is True and r["recurrence_sites"] == "liver"
    assert r["explanation"] == "PD: A (liver) product 506 mm² is +26.5% vs its smallest 400 mm² (>= 25%)"


def test_who_pd_reference_baseline():
    """who_pd_reference = "baseline": 506 vs 900 is -43.8 % -> no PD, and not <= -50 % -> NC."""
    r = row(_example_3().run(who_pd_reference="baseline"), 112)
    assert r["overall_response"] == "NC" and r["canonical_level"] == "STABLE" and r["rule_ids"] == "W6"


def test_who_pd_basis_sum_single_lesion():
    """who_pd_basis = "sum": SPD 506 vs nadir SPD 400 -> +26.5 % -> PD; vs baseline 900 -> NC."""
    assert row(_example_3().run(who_pd_basis="sum"), 112)["overall_response"] == "PD"
    r = row(_example_3().run(who_pd_basis="sum", who_pd_reference="baseline"), 112)
    assert r["overall_response"] == "NC"


def test_smallest_product_so_far_is_per_lesion():
    """who.md §3.2: the reference is the lesion's smallest product so far (incl. baseline):
    A 400 -> 100 -> 132 (+32 % vs 100) -> PD although B keeps the SPD at -39 %."""
    c = Case()
    for day, (a, b) in {0: ((20, 20), (40, 40)), 56: ((10, 10), (40, 40)), 112: ((11, 12), (30, 40))}.items():
        c.t(day, "A", "liver", *a).t(day, "B", "lung", *b)
    r = row(c.run(), 112)
    assert r["value"] == 1332 and r["overall_response"] == "PD" and r["recurrence_sites"] == "liver"


# ---------------------------------------------------------------------------------------
# §6 edge cases
# ---------------------------------------------------------------------------------------


def _reappearance() -> Case:
    """A 20×20 + B 40×40 (2000) -> A gone, B 30×30 (900, -55 %) -> A 5×5, B 30×30 (925)."""
    c = Case()
    c.t(0, "A", "liver", 20, 20).t(0, "B", "lung", 40, 40)
    c.t(56, "A", "liver", None, None, "absent").t(56, "B", "lung", 30, 30)
    c.t(112, "A", "liver", 5, 5).t(112, "B", "lung", 30, 30)
    return c


def test_6_1_reappearance_is_pd_on_any_lesion_basis():
    """who.md §6.1: reference product 0 -> any reappearance is PD (any_lesion basis)."""
    out = _reappearance().run()
    assert row(out, 56)["overall_response"] == "PR"
    r = row(out, 112)
    assert r["overall_response"] == "PD" and r["recurrence_sites"] == "liver"
    assert "+inf% vs its smallest 0 mm²" in r["explanation"]


def test_6_1_reappearance_on_sum_basis():
    """who_pd_basis = "sum": 925 vs nadir 900 = +2.8 % -> no PD; 925 vs 2000 = -53.75 % -> PR."""
    r = row(_reappearance().run(who_pd_basis="sum"), 112)
    assert r["change_from_nadir_pct"] == pytest.approx(100 * 25 / 900)
    assert r["overall_response"] == "PR"


def _one_lesion_grows_sum_falls() -> Case:
    """A 40×40 (1600) -> 20×20 (400); B 10×10 (100) -> 12×11 (132, +32 %); SPD 1700 -> 532."""
    c = Case()
    c.t(0, "A", "liver", 40, 40).t(0, "B", "lung", 10, 10)
    c.t(56, "A", "liver", 20, 20).t(56, "B", "lung", 12, 11)
    return c


def test_6_3_pr_requires_no_single_lesion_progressing():
    """who.md §6.3: SPD -68.7 % but B +32 % -> PD (any_lesion basis)."""
    r = row(_one_lesion_grows_sum_falls().run(), 56)
    assert round(r["change_from_baseline_pct"], 1) == -68.7
    assert r["overall_response"] == "PD" and r["recurrence_sites"] == "lung"


def test_6_3_same_case_on_sum_basis_is_pr():
    r = row(_one_lesion_grows_sum_falls().run(who_pd_basis="sum"), 56)
    assert r["overall_response"] == "PR"


@pytest.mark.parametrize(
    "diam, perp, status, orr",
    [
        (12, None, "present", "NE"),  # only one diameter measured
        (None, None, "too_small", "NE"),  # too small: not measurable
        (3, 3, "too_small", "PR"),  # both diameters given: product 9 -> (9 + 400)/2000 = -79.6 %
    ],
)
def test_6_5_lesion_not_measured_bidimensionally_is_ne(diam, perp, status, orr):
    """who.md §6.5 / W3: a lesion with one diameter only (or too small) is NE."""
    c = Case()
    c.t(0, "A", "liver", 40, 40).t(0, "B", "lung", 20, 20)
    c.t(56, "A", "liver", diam, perp, status).t(56, "B", "lung", 20, 20)
    r = row(c.run(), 56)
    assert r["overall_response"] == orr
    if orr == "NE":
        assert r["rule_ids"] == "W3" and r["explanation"] == "NE: lesion A not measured"


def test_6_2_small_lesions_and_absolute_floor():
    """who.md §6.2: 5×5 -> 6×5 is +20 % (NC); 5×5 -> 6×6 is +44 % (PD); with
    who_pd_min_abs_mm2 = 20 the +11 mm² increase is not PD."""
    assert row(Case().t(0, "A", "skin", 5, 5).t(56, "A", "skin", 6, 5).run(), 56)["overall_response"] == "NC"
    grown = Case().t(0, "A", "skin", 5, 5).t(56, "A", "skin", 6, 6)
    assert row(grown.run(), 56)["overall_response"] == "PD"
    assert row(grown.run(who_pd_min_abs_mm2=20.0), 56)["overall_response"] == "NC"


# ---------------------------------------------------------------------------------------
# W1, W4, non-target components
# ---------------------------------------------------------------------------------------


def test_W1_new_lesion_and_back_dating():
    """W1 with the note's NL rules: equivocal (pending) on day 56, unequivocal on day 112 ->
    PD dated day 56."""
    c = Case()
    for day in (0, 56, 112):
        c.t(day, "A", "liver", 30, 30)
    c.les(56, "N", "new", "bone", None, None, "equivocal").les(112, "N", "new", "bone", None, None, "present")
    out = c.run()
    r56 = row(out, 56)
    assert r56["overall_response"] == "NC" and r56["pending_progression"] is True
    assert r56["rule_ids"] == "W6,NLeq"
    r = row(out, 112)
    assert r["overall_response"] == "PD" and r["rule_ids"] == "W1" and r["new_lesion"] is True
    assert r["progression_event_date"] == D(56) and r["recurrence_sites"] == "bone"


def test_W4_cr_needs_every_non_target_absent():
    """W4: all products 0 and every non-target absent -> CR; a persisting non-target -> not CR
    (SPD -100 % -> PR)."""
    c = Case()
    c.t(0, "A", "liver", 30, 20).les(0, "NT", "non_target", "bone", None, None, "present")
    c.t(56, "A", "liver", 0, 0).les(56, "NT", "non_target", "bone", None, None, "absent")
    c.t(112, "A", "liver", 0, 0).les(112, "NT", "non_target", "bone", None, None, "present")
    out = c.run()
    r = row(out, 56)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("CR", "CR", "CR")
    assert r["canonical_level"] == "COMPLETE"
    r = row(out, 112)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("CR", "NC", "PR")


def test_non_target_progression_is_pd_and_missing_non_target_is_ne():
    """Note W2 ("plus non-target progression -> PD") and W3 (a lesion not assessed -> NE)."""
    c = Case()
    c.t(0, "A", "liver", 30, 20).les(0, "NT", "non_target", "bone", None, None, "present")
    c.t(56, "A", "liver", 20, 20).les(56, "NT", "non_target", "bone", None, None, "progression")
    c.t(112, "A", "liver", 20, 20)
    out = c.run()
    r = row(out, 56)
    assert r["overall_response"] == "PD" and r["non_target_response"] == "PD" and r["rule_ids"] == "W2"
    assert r["explanation"] == "PD: unequivocal progression of non-target NT (bone)"
    r = row(out, 112)
    assert r["overall_response"] == "NE" and r["explanation"] == "NE: lesion NT not measured"


# ---------------------------------------------------------------------------------------
# Invariants on random input (hypothesis)
# ---------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def random_lesions(draw):
    rows = []
    days = sorted(draw(st.sets(st.integers(0, 300), min_size=1, max_size=6)) | {0})
    for i in range(draw(st.integers(1, 4))):
        role = draw(st.sampled_from(["target", "non_target", "new"]))
        for d in days:
            if draw(st.integers(0, 4)) == 0:
                continue
            rows.append(dict(subject_id="S1", date=D(d), lesion_id=f"L{i}", role=role, organ="liver",
                             nodal=draw(st.booleans()),
                             diameter_mm=draw(st.one_of(st.none(), st.sampled_from([0.0, 5.0, 6.0, 12.0, 30.0]))),
                             perpendicular_mm=draw(st.one_of(st.none(), st.sampled_from([0.0, 5.0, 6.0, 20.0]))),
                             status=draw(st.sampled_from(["present", "absent", "progression", "equivocal",
                                                          "too_small", "not_evaluated", None])),
                             method="CT"))
    return pl.DataFrame(rows, schema=LESIONS)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_lesions(), st.sampled_from(["any_lesion", "sum"]), st.sampled_from(["nadir", "baseline"]))
def test_invariants_on_random_input(lesions, basis, reference):
    seg = pl.DataFrame([dict(subject_id="S1", line=1, reference_start=D(0), baseline_date=D(0), end_date=None)],
                       schema=SEGMENTS)
    out = who_reference(lesions, seg, WhoOptions(who_pd_basis=basis, who_pd_reference=reference))
    assert out.schema == pl.Schema(TIMEPOINTS)
    assert out["date"].to_list() == sorted(set(lesions["date"].to_list()))
    canonical = {"CR": "COMPLETE", "PR": "PARTIAL", "NC": "STABLE", "PD": "PROGRESSION", "NE": "NOT_EVALUABLE"}
    for r in out.filter(pl.col("date") > D(0)).to_dicts():
        assert r["canonical_level"] == canonical[r["overall_response"]]
        assert r["is_progression_event"] == (r["overall_response"] == "PD")
        assert r["new_lesion"] is False or r["overall_response"] == "PD"
        if r["target_response"] == "PD" or r["non_target_response"] == "PD":
            assert r["overall_response"] == "PD"
