"""Hand-computed tests of the plain-Python RECIST 1.1 reference engine.

Each test cites the section of ``criteria/recist11.md`` (or ``docs/imaging_engine.md``)
it checks.  Day numbers are days from 2024-01-01 (the baseline unless said otherwise).
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from reference.imaging import recist11_reference
from remission.options import RecistOptions
from remission.schema import LABS, LESIONS, SEGMENTS, TIMEPOINTS

DAY0 = dt.date(2024, 1, 1)


def D(day: int) -> dt.date:
    return DAY0 + dt.timedelta(days=day)


class Case:
    """Small builder of lesions / segments / labs for one or more subjects."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.segs: list[dict] = []
        self.lab_rows: list[dict] = []

    def les(self, day, lid, role, organ, diam=None, status=None, nodal=False, perp=None, subject="S1"):
        self.rows.append(dict(subject_id=subject, date=D(day), lesion_id=lid, role=role, organ=organ,
                              nodal=nodal, diameter_mm=None if diam is None else float(diam),
                              perpendicular_mm=None if perp is None else float(perp), status=status,
                              method="CT"))
        return self

    def target(self, day, lid, organ, diam, nodal=False, status=None, subject="S1"):
        return self.les(day, lid, "target", organ, diam, status, nodal, subject=subject)

    def seg(self, line=1, baseline=0, start=None, end=None, subject="S1"):
        self.segs.append(dict(subject_id=subject, line=line,
                              reference_start=D(start if start is not None else (baseline if baseline is not None else 0)),
                              baseline_date=None if baseline is None else D(baseline),
                              end_date=None if end is None else D(end)))
        return self

    def lab(self, day, test, value, subject="S1"):
        self.lab_rows.append(dict(subject_id=subject, date=D(day), test=test, value=float(value), unit="ng/mL"))
        return self

    def run(self, **opts) -> pl.DataFrame:
        labs = pl.DataFrame(self.lab_rows, schema=LABS) if self.lab_rows else None
        return recist11_reference(pl.DataFrame(self.rows, schema=LESIONS),
                                  pl.DataFrame(self.segs, schema=SEGMENTS), RecistOptions(**opts), labs)


def row(out: pl.DataFrame, day: int, subject: str = "S1") -> dict:
    rows = out.filter((pl.col("subject_id") == subject) & (pl.col("date") == D(day))).to_dicts()
    assert len(rows) == 1
    return rows[0]


def sums(case: Case, day: int, values: dict[str, tuple[str, float, bool]]):
    for lid, (organ, diam, nodal) in values.items():
        case.target(day, lid, organ, diam, nodal=nodal)


# ---------------------------------------------------------------------------------------
# Output contract
# ---------------------------------------------------------------------------------------


def test_output_schema_order_and_subjects_outside_segments_skipped():
    """Note "Input": one row per (subject, lesion date) of the subjects in `segments`, sorted,
    with exactly the TIMEPOINTS columns and dtypes; a subject without a segment is absent."""
    c = Case()
    for s in ("S2", "S1", "S3"):
        c.target(0, "T1", "liver", 40, subject=s).target(56, "T1", "liver", 20, subject=s)
    c.seg(subject="S2").seg(subject="S1")
    out = c.run()
    assert out.schema == pl.Schema(TIMEPOINTS)
    assert out.select("subject_id", "date").rows() == [("S1", D(0)), ("S1", D(56)), ("S2", D(0)), ("S2", D(56))]


def test_empty_input_gives_empty_frame_with_schema():
    out = recist11_reference(pl.DataFrame(schema=LESIONS), pl.DataFrame(schema=SEGMENTS))
    assert out.height == 0 and out.schema == pl.Schema(TIMEPOINTS)


def test_before_baseline_and_baseline_rows():
    """Note "Input": a date before the first baseline gives null responses and "before
    baseline"; the baseline row states the baseline sum and has null responses."""
    c = Case()
    c.target(-30, "T1", "liver", 44)
    c.target(0, "T1", "liver", 40).target(0, "T2", "lung", 20).target(0, "T3", "lymph_node", 18, nodal=True)
    c.seg(baseline=0)
    out = c.run()
    pre = row(out, -30)
    assert pre["explanation"] == "before baseline"
    assert pre["overall_response"] is None and pre["line"] is None and pre["canonical_level"] is None
    base = row(out, 0)
    assert base["explanation"] == "Baseline: sum of diameters 78 mm (3 target lesions)"
    assert base["baseline_value"] == 78.0 and base["line"] == 1
    assert base["overall_response"] is None and base["target_response"] is None
    assert base["is_progression_event"] is False


# ---------------------------------------------------------------------------------------
# §7 worked examples A and B, row by row
# ---------------------------------------------------------------------------------------


def _example_a() -> Case:
    """recist11.md §7 A: liver 40, lung 20, node 18 SA; non-targets node 12 mm SA and two lung
    nodules; CEA not elevated."""
    c = Case()
    for day, (liver, lung, node) in {0: (40, 20, 18), 56: (25, 12, 9), 112: (24, 10, 8), 168: (27, 14, 10)}.items():
        c.target(day, "T1", "liver", liver).target(day, "T2", "lung", lung)
        c.target(day, "T3", "lymph_node", node, nodal=True)
        c.les(day, "NT1", "non_target", "lymph_node", 12, "present", nodal=True)
        c.les(day, "NT2", "non_target", "lung", None, "present")
        c.les(day, "NT3", "non_target", "lung", None, "present")
        c.lab(day, "cea", 3.0)
    return c.seg(baseline=0)


def test_section7_example_a_row_by_row():
    """recist11.md §7 A: PR (-41.0 %), PR (-46.2 %, nadir 46), PD (+21.4 %, +9 mm over nadir 42)
    although still -34.6 % from baseline; CEA configured but never elevated (N0 does not
    apply: non-targets exist; they persist -> NON-CR/NON-PD)."""
    out = _example_a().run(marker_uln={"cea": 5.0})
    expected = {
        56: (46, 78, -41.0, -41.0, -32, "PR", "PR"),
        112: (42, 46, -46.2, -8.7, -4, "PR", "PR"),
        168: (51, 42, -34.6, 21.4, 9, "PD", "PD"),
    }
    for day, (value, nadir, pct_b, pct_n, abs_n, tr, orr) in expected.items():
        r = row(out, day)
        assert r["baseline_value"] == 78.0
        assert r["value"] == value and r["nadir_value"] == nadir
        assert r["change_from_baseline_pct"] == pytest.approx(100 * (value - 78) / 78)
        assert round(r["change_from_baseline_pct"], 1) == pct_b
        assert round(r["change_from_nadir_pct"], 1) == pct_n
        assert r["change_from_nadir_abs"] == abs_n
        assert r["target_response"] == tr
        assert r["non_target_response"] == "NON-CR/NON-PD"
        assert r["new_lesion"] is False
        assert r["overall_response"] == orr
    assert row(out, 56)["explanation"] == "PR: sum 46 mm is -41.0% from baseline 78 mm (>= 30% decrease); nadir 78 mm"
    assert row(out, 56)["rule_ids"] == "T5,N4,NL0,TAB4"
    last = row(out, 168)
    assert last["explanation"] == "PD: sum 51 mm is +21.4% (+9 mm) above nadir 42 mm (>= 20% and >= 5 mm)"
    assert last["rule_ids"] == "T4,N4,NL0,TAB4"
    assert last["canonical_level"] == "PROGRESSION" and last["is_progression_event"] is True
    assert last["progression_event_date"] == D(168)
    assert last["recurrence_sites"] == "liver;lung;lymph_node"  # all targets: the sum rule fired


def test_section7_example_b_row_by_row():
    """recist11.md §7 B: nodes 16 + 15, liver 22 (SOD 53).  Day 56 CR (SOD 11); day 112 CR
    although +54.5 %, +6 mm (T3 before T4); day 168 PD (T4, and §4.7: node A reappeared)."""
    c = Case()
    for day, (a, b, liver) in {0: (16, 15, 22), 56: (6, 5, 0), 112: (9, 8, 0), 168: (11, 8, 0)}.items():
        c.target(day, "A", "lymph_node", a, nodal=True).target(day, "B", "lymph_node", b, nodal=True)
        c.target(day, "L", "liver", liver)
    out = c.seg(baseline=0).run(confirmation_required=True)
    r56, r112, r168 = row(out, 56), row(out, 112), row(out, 168)
    assert (r56["value"], r56["nadir_value"], r56["target_response"], r56["overall_response"]) == (11, 53, "CR", "CR")
    assert round(r56["change_from_nadir_pct"], 1) == -79.2
    assert r56["non_target_response"] == "NA"
    assert r56["explanation"] == "CR: all non-nodal targets 0 mm, nodes < 10 mm (6 mm, 5 mm); no non-target lesions"
    assert (r112["value"], r112["nadir_value"], r112["target_response"], r112["overall_response"]) == (17, 11, "CR", "CR")
    assert round(r112["change_from_nadir_pct"], 1) == 54.5 and r112["change_from_nadir_abs"] == 6
    assert r112["rule_ids"] == "T3,N0,NL0,TAB4"
    assert (r168["value"], r168["nadir_value"], r168["target_response"], r168["overall_response"]) == (19, 11, "PD", "PD")
    assert round(r168["change_from_nadir_pct"], 1) == 72.7 and r168["change_from_nadir_abs"] == 8
    assert r168["rule_ids"] == "T4,N0,NL0,TAB4"  # T4 already decided; R47 would also apply
    assert r168["warnings"] == "SINGLE_NODE_REAPPEARANCE"


# ---------------------------------------------------------------------------------------
# §6 edge cases
# ---------------------------------------------------------------------------------------


def test_6_1_node_only_cr_with_nonzero_sod():
    """§6.1: node 16 SA + liver 20 -> node 8, liver 0: SOD 8, TR = CR."""
    c = Case()
    c.target(0, "N", "lymph_node", 16, nodal=True).target(0, "L", "liver", 20)
    c.target(56, "N", "lymph_node", 8, nodal=True).target(56, "L", "liver", 0)
    r = row(c.seg().run(), 56)
    assert r["value"] == 8 and r["target_response"] == "CR" and r["overall_response"] == "CR"
    assert r["canonical_level"] == "COMPLETE"


def _node_regrowth(after_cr: bool) -> Case:
    c = Case()
    c.target(0, "N", "lymph_node", 16, nodal=True).target(0, "L", "liver", 20)
    c.target(56, "N", "lymph_node", 8, nodal=True).target(56, "L", "liver", 0 if after_cr else 10)
    c.target(112, "N", "lymph_node", 11, nodal=True).target(112, "L", "liver", 0 if after_cr else 10)
    return c.seg()


def test_6_2_node_regrows_to_11_after_cr_is_pd_by_reappearance():
    """§6.2 / §4.7: nodal target 8 -> 11 mm after an overall CR.  Arithmetic: SOD 11 vs nadir 8
    is +37.5 % but only +3 mm (no T4); T5 gives PR (11 vs 36); R47 makes OR = PD."""
    r = row(_node_regrowth(True).run(), 112)
    assert r["target_response"] == "PR"
    assert r["change_from_nadir_abs"] == 3
    assert r["overall_response"] == "PD" and "R47" in r["rule_ids"].split(",")
    assert r["warnings"] == "SINGLE_NODE_REAPPEARANCE"
    assert r["recurrence_sites"] == "lymph_node"


def test_6_2_node_regrowth_before_any_cr_is_just_part_of_the_sum():
    """§6.2: before any CR: SOD 18 (PR, -50 %) -> 21 (+16.7 % vs nadir 18, -41.7 % vs 36) -> PR."""
    out = _node_regrowth(False).run()
    assert row(out, 56)["overall_response"] == "PR"
    r = row(out, 112)
    assert r["value"] == 21 and r["nadir_value"] == 18
    assert r["overall_response"] == "PR" and "R47" not in r["rule_ids"]


def test_6_3_twenty_percent_but_less_than_5_mm_is_not_pd():
    """§6.3: nadir 20 -> 24 mm (+20 %, +4 mm) -> not PD; vs baseline 30 it is -20 % -> SD."""
    c = Case()
    c.target(0, "L", "liver", 30).target(56, "L", "liver", 20).target(112, "L", "liver", 24)
    out = c.seg().run()
    r = row(out, 112)
    assert r["nadir_value"] == 20 and r["change_from_nadir_pct"] == pytest.approx(20.0)
    assert r["change_from_nadir_abs"] == 4
    assert r["target_response"] == "SD" and r["overall_response"] == "SD"
    assert r["explanation"] == ("SD: sum 24 mm is -20.0% from baseline 30 mm (< 30% decrease) and +20.0% "
                                "(+4 mm) from nadir 20 mm (not >= 20% and >= 5 mm)")


def test_6_4_five_mm_but_less_than_20_percent_is_not_pd():
    """§6.4: nadir 100 -> 115 (+15 %, +15 mm) -> not PD."""
    c = Case()
    c.target(0, "L", "liver", 60).target(0, "M", "lung", 40)
    c.target(56, "L", "liver", 70).target(56, "M", "lung", 45)
    r = row(c.seg().run(), 56)
    assert r["value"] == 115 and r["nadir_value"] == 100
    assert r["target_response"] == "SD"


def test_6_5_exact_thresholds_are_inclusive():
    """§6.5: -30.0 % -> PR; +20.0 % with +5.0 mm -> PD (50 -> 35 -> 25 -> 30)."""
    c = Case()
    for day, v in {0: 50, 56: 35, 112: 25, 168: 30}.items():
        c.target(day, "L", "liver", v)
    out = c.seg().run()
    assert row(out, 56)["change_from_baseline_pct"] == -30.0
    assert row(out, 56)["target_response"] == "PR"
    r = row(out, 168)
    assert r["change_from_nadir_pct"] == 20.0 and r["change_from_nadir_abs"] == 5.0
    assert r["target_response"] == "PD"


def test_6_6_nadir_is_baseline_when_no_shrinkage():
    """§6.6: 50 -> 55 (SD) -> 60: nadir stays 50, +20 %, +10 mm -> PD."""
    c = Case()
    for day, v in {0: 50, 56: 55, 112: 60}.items():
        c.target(day, "L", "liver", v)
    out = c.seg().run()
    assert row(out, 56)["overall_response"] == "SD"
    r = row(out, 112)
    assert r["nadir_value"] == 50 and r["overall_response"] == "PD"


def _three_targets_one_missing(second: float) -> Case:
    c = Case()
    c.target(0, "T1", "liver", 20).target(0, "T2", "lung", 20).target(0, "T3", "kidney", 10)
    c.target(56, "T1", "liver", 50).target(56, "T2", "lung", second)
    c.les(56, "T3", "target", "kidney", None, "not_evaluated")
    return c.seg()


def test_6_7_missing_lesion_but_already_pd_is_T1():
    """§6.7 / §4.1 T1: baseline 50 mm (3 lesions); two lesions sum 80 mm (+60 %, +30 mm)
    with the third not evaluated -> PD."""
    r = row(_three_targets_one_missing(30).run(), 56)
    assert r["value"] == 80 and r["change_from_nadir_pct"] == pytest.approx(60.0)
    assert r["target_response"] == "PD" and r["rule_ids"].startswith("T1,")
    assert r["overall_response"] == "PD"


def test_T2_missing_lesion_without_pd_is_ne():
    """§4.1 T2 / §4.2: partial sum 20 + 30 = 50 -> 50 is not >= 20 % above 50 -> NE."""
    c = _three_targets_one_missing(0)  # 50 + 0 = 50 vs nadir 50
    r = row(c.run(), 56)
    assert r["target_response"] == "NE" and r["overall_response"] == "NE"
    assert r["rule_ids"].startswith("T2,")
    assert r["explanation"] == "NE: target T3 not evaluated"
    assert r["canonical_level"] == "NOT_EVALUABLE"


def test_incomplete_sum_does_not_enter_the_nadir():
    """§3.4: only complete sums enter the nadir (the T2 row with partial sum 20 is skipped)."""
    c = Case()
    c.target(0, "T1", "liver", 30).target(0, "T2", "lung", 20)
    c.target(56, "T1", "liver", 20)  # T2 has no row: incomplete, partial sum 20
    c.target(112, "T1", "liver", 25).target(112, "T2", "lung", 20)
    out = c.seg().run()
    assert row(out, 56)["target_response"] == "NE"
    assert row(out, 112)["nadir_value"] == 50


def test_6_8_too_small_absent_and_measured_3mm():
    """§6.8 / §3.4: too small -> 5 mm, disappeared -> 0, a measured 3 mm stays 3 mm (even
    flagged too_small): 5 + 0 + 3 = 8 mm; a 5 mm lesion prevents CR -> PR."""
    c = Case()
    c.target(0, "A", "liver", 20).target(0, "B", "lung", 15).target(0, "C", "skin", 12)
    c.target(56, "A", "liver", None, status="too_small").target(56, "B", "lung", None, status="absent")
    c.target(56, "C", "skin", 3, status="too_small")
    out = c.seg().run()
    r = row(out, 56)
    assert r["value"] == 8 and r["target_response"] == "PR"
    assert row(c.run(tstm_default_mm=4.0), 56)["value"] == 7


def _all_gone_with_marker(marker_day56: float | None) -> Case:
    c = Case()
    c.target(0, "L", "liver", 30).lab(-3, "cea", 10.0)
    c.target(56, "L", "liver", 0)
    if marker_day56 is not None:
        c.lab(50, "cea", marker_day56)
    return c.seg()


def test_6_11_marker_still_elevated_blocks_cr():
    """§6.11 / §4.3 N3: every lesion gone but CEA elevated at baseline (10 > 5) still 8 ->
    NTR NON-CR/NON-PD -> OR PR."""
    r = row(_all_gone_with_marker(8.0).run(marker_uln={"cea": 5.0}), 56)
    assert r["target_response"] == "CR" and r["non_target_response"] == "NON-CR/NON-PD"
    assert r["overall_response"] == "PR"
    assert "marker cea 8 > ULN 5" in r["explanation"]


def test_6_11_marker_normalised_gives_cr():
    r = row(_all_gone_with_marker(4.0).run(marker_uln={"cea": 5.0}), 56)
    assert r["non_target_response"] == "CR" and r["overall_response"] == "CR"
    assert r["rule_ids"] == "T3,N3,NL0,TAB4"


def test_6_11_marker_without_recent_value_blocks_cr():
    """Note N3: a marker elevated at baseline with no value in [t - 28, t] blocks CR (N4)."""
    r = row(_all_gone_with_marker(None).run(marker_uln={"cea": 5.0}), 56)
    assert r["non_target_response"] == "NON-CR/NON-PD" and r["overall_response"] == "PR"
    assert "no value in the last 28 days" in r["explanation"]


def test_6_11_markers_unused_unless_configured():
    """Note choice 4: markers only count when marker_uln is configured."""
    r = row(_all_gone_with_marker(8.0).run(), 56)
    assert r["non_target_response"] == "NA" and r["overall_response"] == "CR"


def test_6_13_equivocal_new_lesion_later_confirmed_is_back_dated():
    """§6.13 / §4.6: equivocal on day 56 (OR computed without it, pending), unequivocal on
    day 112 -> PD dated day 56 on the day-112 row; the day-56 row is not rewritten."""
    c = Case()
    for day, v in {0: 40, 56: 30, 112: 30}.items():
        c.target(day, "T1", "liver", v)
    c.les(56, "NEW1", "new", "bone", None, "equivocal")
    c.les(112, "NEW1", "new", "bone", None, "present")
    out = c.seg().run()
    r56, r112 = row(out, 56), row(out, 112)
    assert r56["overall_response"] == "SD" and r56["pending_progression"] is True
    assert r56["new_lesion"] is False and "NLeq" in r56["rule_ids"].split(",")
    assert r56["is_progression_event"] is False
    assert r112["overall_response"] == "PD" and r112["new_lesion"] is True
    assert r112["progression_event_date"] == D(56) and r112["recurrence_sites"] == "bone"
    assert r112["explanation"].startswith("PD: new lesion NEW1 (bone), equivocal since 2024-02-26")


def test_6_14_non_target_only_table5():
    """§6.14 / §4.5 Table 5: NON-CR/NON-PD, CR (all absent), NE (one not assessed), PD."""
    c = Case()
    c.les(0, "NT1", "non_target", "pleura", None, "present").les(0, "NT2", "non_target", "bone", None, "present")
    c.les(56, "NT1", "non_target", "pleura", None, "present").les(56, "NT2", "non_target", "bone", None, "absent")
    c.les(112, "NT1", "non_target", "pleura", None, "absent").les(112, "NT2", "non_target", "bone", None, "absent")
    c.les(168, "NT1", "non_target", "pleura", None, "absent")  # NT2 not recorded
    c.les(224, "NT1", "non_target", "pleura", None, "progression").les(224, "NT2", "non_target", "bone", None, "absent")
    out = c.seg().run()
    assert row(out, 0)["explanation"] == "Baseline: no target lesions (2 non-target lesions)"
    got = [(row(out, d)["target_response"], row(out, d)["non_target_response"], row(out, d)["overall_response"])
           for d in (56, 112, 168, 224)]
    assert got == [("NA", "NON-CR/NON-PD", "NON-CR/NON-PD"), ("NA", "CR", "CR"), ("NA", "NE", "NE"),
                   ("NA", "PD", "PD")]
    assert row(out, 56)["canonical_level"] == "STABLE"
    assert row(out, 56)["rule_ids"] == "N4,NL0,TAB5"
    assert row(out, 224)["recurrence_sites"] == "pleura"
    assert row(out, 224)["rule_ids"] == "N1,NL0,TAB5"
    assert row(out, 224)["explanation"] == "PD: unequivocal progression of non-target NT1 (pleura)"


def test_6_17_normal_size_nodes_only_cr_before_pd():
    """§6.17: two nodal targets 16 + 15 -> 5 + 5 (CR) -> 9 + 8 = 17 (+70 %, +7 mm): TR = CR."""
    c = Case()
    for day, (a, b) in {0: (16, 15), 56: (5, 5), 112: (9, 8)}.items():
        c.target(day, "A", "lymph_node", a, nodal=True).target(day, "B", "lymph_node", b, nodal=True)
    r = row(c.seg().run(), 112)
    assert r["change_from_nadir_pct"] == pytest.approx(70.0) and r["change_from_nadir_abs"] == 7
    assert r["target_response"] == "CR" and r["overall_response"] == "CR"


def test_nodal_non_target_below_10mm_counts_as_absent():
    """Note N3: a nodal non-target with short axis < 10 mm counts as absent."""
    c = Case()
    c.target(0, "L", "liver", 30).les(0, "NN", "non_target", "lymph_node", 12, "present", nodal=True)
    c.target(56, "L", "liver", 0).les(56, "NN", "non_target", "lymph_node", 8, "present", nodal=True)
    r = row(c.seg().run(), 56)
    assert r["non_target_response"] == "CR" and r["overall_response"] == "CR"


# ---------------------------------------------------------------------------------------
# Table 4 combinations
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nt_status, ntr, orr",
    [("absent", "CR", "CR"), ("present", "NON-CR/NON-PD", "PR"), ("not_evaluated", "NE", "PR"),
     ("progression", "PD", "PD")],
)
def test_table4_target_cr_with_each_non_target_response(nt_status, ntr, orr):
    """§4.4 Table 4: TR CR with NTR CR -> CR, NON-CR/NON-PD -> PR, NE -> PR, PD -> PD."""
    c = Case()
    c.target(0, "L", "liver", 30).les(0, "NT", "non_target", "bone", None, "present")
    c.target(56, "L", "liver", 0).les(56, "NT", "non_target", "bone", None, nt_status)
    r = row(c.seg().run(), 56)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("CR", ntr, orr)


def test_table4_target_ne_with_non_target_pd_is_pd():
    c = _three_targets_one_missing(0)
    c.les(0, "NT", "non_target", "bone", None, "present").les(56, "NT", "non_target", "bone", None, "progression")
    r = row(c.run(), 56)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("NE", "PD", "PD")


# ---------------------------------------------------------------------------------------
# §4.6 new lesions: nodal sizes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nodal, diam, status, new_lesion, pending, orr",
    [
        (True, 12, "present", False, True, "SD"),  # 10-15 mm node: equivocal
        (True, 12, "progression", True, False, "PD"),  # reader marked it unequivocal
        (True, 8, "present", False, False, "SD"),  # < 10 mm: not a lesion
        (True, 16, "present", True, False, "PD"),
        (False, 6, "present", True, False, "PD"),  # non-nodal: any size
        (False, None, "equivocal", False, True, "SD"),
        (False, None, "absent", False, False, "SD"),
    ],
)
def test_4_6_new_lesion_classification(nodal, diam, status, new_lesion, pending, orr):
    """§4.6: a new node 10 <= SA < 15 mm is equivocal unless marked progression; < 10 mm
    is not a lesion."""
    c = Case()
    c.target(0, "L", "liver", 30).target(56, "L", "liver", 28)
    c.les(56, "NEW", "new", "lymph_node" if nodal else "liver", diam, status, nodal=nodal)
    r = row(c.seg().run(), 56)
    assert (r["new_lesion"], r["pending_progression"], r["overall_response"]) == (new_lesion, pending, orr)


# ---------------------------------------------------------------------------------------
# §4.7 reappearance after CR under the three policies
# ---------------------------------------------------------------------------------------


def _cr_then_reappearance(second_cr_day: int) -> Case:
    """Liver 30 + lung 20 -> CR on day 56 and on `second_cr_day` -> liver 4 mm on day 140.
    Day 140 by the tables: SOD 4 vs nadir 0 is +inf % but only +4 mm (no T4); 4 vs 50 is
    -92 % -> TR PR -> OR PR."""
    c = Case()
    c.target(0, "L", "liver", 30).target(0, "M", "lung", 20)
    for day in (56, second_cr_day):
        c.target(day, "L", "liver", 0).target(day, "M", "lung", 0)
    c.target(140, "L", "liver", 4).target(140, "M", "lung", 0)
    return c.seg()


def test_4_7_pd_if_prior_cr():
    r = row(_cr_then_reappearance(84).run(), 140)
    assert r["target_response"] == "PR" and math.isinf(r["change_from_nadir_pct"])
    assert r["overall_response"] == "PD" and r["rule_ids"] == "T5,N0,NL0,R47,TAB4"
    assert r["recurrence_sites"] == "liver" and r["warnings"] is None
    assert "disease reappeared after CR: L (liver)" in r["explanation"]


def test_4_7_pd_if_prior_confirmed_cr_confirmed():
    """CR on day 56 confirmed by CR on day 84 (28 days) -> reappearance is PD."""
    r = row(_cr_then_reappearance(84).run(reappearance_after_cr="pd_if_prior_confirmed_cr"), 140)
    assert r["overall_response"] == "PD" and "R47" in r["rule_ids"]


def test_4_7_pd_if_prior_confirmed_cr_unconfirmed():
    """CR on day 56 and day 70 (14 days < 28): not confirmed -> the tables decide (PR)."""
    r = row(_cr_then_reappearance(70).run(reappearance_after_cr="pd_if_prior_confirmed_cr"), 140)
    assert r["overall_response"] == "PR" and "R47" not in r["rule_ids"]


def test_4_7_reclassify_prior_as_pr():
    r = row(_cr_then_reappearance(84).run(reappearance_after_cr="reclassify_prior_as_pr"), 140)
    assert r["overall_response"] == "PR" and r["warnings"] == "CR_THEN_PR;PRIOR_CR_RECLASSIFIED_AS_PR"  # §5.4: a PR after a CR is also flagged
    assert "R47" not in r["rule_ids"]


def test_4_7_previous_evaluated_time_point_skips_ne():
    """Note R47 "previous evaluated time point": a NE between the CR and the reappearance
    does not hide the CR."""
    c = Case()
    c.target(0, "L", "liver", 30).target(56, "L", "liver", 0)
    c.les(84, "L", "target", "liver", None, "not_evaluated")
    c.target(112, "L", "liver", 4)
    out = c.seg().run()
    assert row(out, 84)["overall_response"] == "NE"
    assert row(out, 112)["overall_response"] == "PD"


def test_4_7_non_target_reappearing_after_cr_in_table5():
    """§4.7: a non-target present again after an overall CR -> PD (Table 5 alone says
    NON-CR/NON-PD)."""
    c = Case()
    c.les(0, "NT", "non_target", "peritoneum", None, "present")
    c.les(56, "NT", "non_target", "peritoneum", None, "absent")
    c.les(112, "NT", "non_target", "peritoneum", None, "present")
    out = c.seg().run()
    assert row(out, 56)["overall_response"] == "CR"
    r = row(out, 112)
    assert r["non_target_response"] == "NON-CR/NON-PD" and r["overall_response"] == "PD"
    assert r["rule_ids"] == "N4,NL0,R47,TAB5" and r["recurrence_sites"] == "peritoneum"


# ---------------------------------------------------------------------------------------
# No baseline: B0 and the post-resection non-target-only case
# ---------------------------------------------------------------------------------------


def test_B0_targets_without_baseline_are_ne():
    """Note choice 3 / rule B0: target rows but no baseline scan -> NE throughout."""
    c = Case()
    c.target(30, "L", "liver", 30).target(90, "L", "liver", 10)
    c.seg(baseline=None, start=0)
    out = c.run()
    for day in (30, 90):
        r = row(out, day)
        assert r["overall_response"] == "NE" and r["rule_ids"] == "B0"
        assert r["baseline_date"] is None and r["line"] == 1


def test_no_baseline_non_target_only_post_resection_cr():
    """Note "Lesion sets" (null baseline, Table 5): an absent tumour-bed non-target -> CR;
    the same with a new lesion -> PD."""
    c = Case()
    c.les(40, "BED", "non_target", "colon", None, "absent")
    c.les(130, "BED", "non_target", "colon", None, "absent").les(130, "NEW", "new", "liver", 14, "present")
    c.seg(baseline=None, start=0)
    out = c.run()
    r = row(out, 40)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("NA", "CR", "CR")
    assert r["rule_ids"] == "N3,NL0,TAB5"
    assert r["explanation"] == "CR: no target lesions; non-targets absent"
    r = row(out, 130)
    assert r["overall_response"] == "PD" and r["explanation"] == "PD: new lesion NEW (liver)"


# ---------------------------------------------------------------------------------------
# Segments (lines of therapy)
# ---------------------------------------------------------------------------------------


def test_two_segments_line2_nadir_restarts_from_line2_baseline():
    """Note "Input"/tables.md treatments.line: line 1 50 -> 30 (PR) -> 40 (PD, +33 %); line 2
    baselines on that day-112 scan (SOD 40) and day 168 45 mm is +12.5 % vs the line-2 nadir
    40 -> SD (vs the line-1 nadir 30 it would be PD).  The day-112 row is line 1's PD row.
    The line-1 new lesion is a non-target of line 2 (choice 2)."""
    c = Case()
    for day, v in {0: 50, 56: 30, 112: 40, 168: 45}.items():
        c.target(day, "L", "liver", v)
    c.les(112, "NEW", "new", "bone", None, "present").les(168, "NEW", "new", "bone", None, "present")
    c.seg(line=1, baseline=0, end=112).seg(line=2, baseline=112, start=120)
    out = c.run()
    r112 = row(out, 112)
    assert r112["line"] == 1 and r112["overall_response"] == "PD" and r112["nadir_value"] == 30
    assert r112["recurrence_sites"] == "bone;liver"
    r168 = row(out, 168)
    assert r168["line"] == 2 and r168["baseline_date"] == D(112)
    assert r168["baseline_value"] == 40 and r168["nadir_value"] == 40
    assert r168["change_from_nadir_pct"] == pytest.approx(12.5)
    assert r168["target_response"] == "SD"
    assert r168["non_target_response"] == "NON-CR/NON-PD" and r168["new_lesion"] is False
    assert r168["overall_response"] == "SD"


def test_line2_baseline_row_when_not_a_line1_follow_up():
    """Note "Input": a line-2 baseline date outside line 1 gives a baseline row of line 2."""
    c = Case()
    for day, v in {0: 50, 56: 60, 150: 62, 200: 40}.items():
        c.target(day, "L", "liver", v)
    c.seg(line=1, baseline=0, end=100).seg(line=2, baseline=150, start=155)
    out = c.run()
    r = row(out, 150)
    assert r["line"] == 2 and r["overall_response"] is None
    assert r["explanation"] == "Baseline: sum of diameters 62 mm (1 target lesions)"
    assert row(out, 200)["overall_response"] == "PR"  # 40 vs 62 = -35.5 %


# ---------------------------------------------------------------------------------------
# Continued PR (T6c) and incomplete baseline (B1)
# ---------------------------------------------------------------------------------------


def test_T6c_continued_pr_after_confirmed_pr():
    """§4.1 note: PR (day 56) confirmed by PR (day 84, 28 d); day 112 at 38 mm (-24 % from
    baseline, +11.8 % from nadir 34) is PR with continued_pr_after_confirmation, SD without."""
    c = Case()
    for day, v in {0: 50, 56: 34, 84: 34, 112: 38}.items():
        c.target(day, "L", "liver", v)
    c.seg()
    assert row(c.run(), 112)["overall_response"] == "SD"
    r = row(c.run(continued_pr_after_confirmation=True), 112)
    assert r["target_response"] == "PR" and r["rule_ids"].startswith("T6c,")


def test_B1_incomplete_baseline_makes_target_response_ne():
    """Note "Sums": a target without a usable value at baseline -> every TR NE (B1)."""
    c = Case()
    c.target(0, "L", "liver", 30).les(0, "M", "target", "lung", None, "present")
    c.target(56, "L", "liver", 10).target(56, "M", "lung", 10)
    out = c.seg().run()
    assert row(out, 0)["baseline_value"] is None
    r = row(out, 56)
    assert r["target_response"] == "NE" and r["rule_ids"].startswith("B1,")
    assert r["overall_response"] == "NE"


# ---------------------------------------------------------------------------------------
# Invariants on random input (hypothesis): the reference never crashes and keeps the
# output contract of docs/imaging_engine.md.
# ---------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

STATUSES = ["present", "absent", "progression", "equivocal", "too_small", "not_evaluated", None]


@st.composite
def random_case(draw):
    """One or two subjects, up to 6 dates, up to 5 lesions, any roles and statuses, one or
    two segments (the second may start at a follow-up), baselines possibly null."""
    rows, segs = [], []
    for sid in draw(st.sampled_from([["S1"], ["S1", "S2"]])):
        days = sorted(draw(st.sets(st.integers(0, 300), min_size=1, max_size=6)))
        lesions = [(f"L{i}", draw(st.sampled_from(["target", "non_target", "new"])), draw(st.booleans()))
                   for i in range(draw(st.integers(1, 5)))]
        for lid, role, nodal in lesions:
            for d in days:
                if draw(st.integers(0, 4)) == 0:
                    continue
                diam = draw(st.one_of(st.none(), st.sampled_from([0.0, 3.0, 8.0, 9.5, 10.0, 12.0, 15.0, 20.0, 35.5])))
                rows.append(dict(subject_id=sid, date=D(d), lesion_id=lid, role=role, organ=draw(st.sampled_from(["liver", "lung", None])),
                                 nodal=nodal, diameter_mm=diam, perpendicular_mm=draw(st.one_of(st.none(), st.just(7.0))),
                                 status=draw(st.sampled_from(STATUSES)), method="CT"))
        base = draw(st.one_of(st.none(), st.sampled_from(days)))
        if draw(st.booleans()) and base is not None and len(days) > 2:
            mid = days[len(days) // 2]
            if mid > base:
                segs.append(dict(subject_id=sid, line=1, reference_start=D(base), baseline_date=D(base), end_date=D(mid)))
                segs.append(dict(subject_id=sid, line=2, reference_start=D(mid + 1), baseline_date=D(mid), end_date=None))
                continue
        segs.append(dict(subject_id=sid, line=1, reference_start=D(base if base is not None else days[0]),
                         baseline_date=None if base is None else D(base), end_date=None))
    return pl.DataFrame(rows, schema=LESIONS), pl.DataFrame(segs, schema=SEGMENTS)


CANONICAL = {"CR": "COMPLETE", "PR": "PARTIAL", "SD": "STABLE", "NON-CR/NON-PD": "STABLE",
             "PD": "PROGRESSION", "NE": "NOT_EVALUABLE", None: None}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_case(), st.sampled_from(["pd_if_prior_cr", "pd_if_prior_confirmed_cr", "reclassify_prior_as_pr"]),
       st.booleans())
def test_invariants_on_random_input(case, policy, continued):
    lesions, segments = case
    out = recist11_reference(lesions, segments, RecistOptions(reappearance_after_cr=policy,
                                                              continued_pr_after_confirmation=continued))
    assert out.schema == pl.Schema(TIMEPOINTS)
    expected = lesions.select("subject_id", "date").unique().sort("subject_id", "date")
    assert out.select("subject_id", "date").rows() == expected.rows()
    for r in out.to_dicts():
        assert r["canonical_level"] == CANONICAL[r["overall_response"]]
        assert r["is_progression_event"] == (r["overall_response"] == "PD")
        if r["overall_response"] == "PD":
            assert r["progression_event_date"] <= r["date"]
        else:
            assert r["progression_event_date"] is None and r["recurrence_sites"] is None
        if r["overall_response"] is not None:
            assert r["target_response"] in ("CR", "PR", "SD", "PD", "NE", "NA")
            assert r["non_target_response"] in ("CR", "NON-CR/NON-PD", "PD", "NE", "NA")
            assert r["new_lesion"] is not True or r["overall_response"] == "PD"  # any NL -> PD
            assert (r["new_lesion"] is None) == (r["rule_ids"] == "B0")
            assert r["rule_ids"] and r["explanation"].startswith(r["overall_response"] + ":")
            if r["target_response"] == "PD" or r["non_target_response"] == "PD":
                assert r["overall_response"] == "PD"
