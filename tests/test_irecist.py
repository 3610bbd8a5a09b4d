"""iRECIST engine and iBOR (irecist.md).  Every expectation is hand-computed from the spec;
the section is cited in each test name or docstring."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference.irecist import ibor_reference
from remission.criteria import irecist, registry
from remission.criteria.irecist import IRecistOptions, best_overall_response
from remission.options import AssessOptions
from remission.schema import FINDINGS, LESIONS, SEGMENTS, TIMEPOINTS

D0 = dt.date(2024, 1, 1)

def _best_responses(timepoints, reference, options=None, criterion=None):
    """The engine's best responses of irecist subjects (the criterion's declared rule)."""
    from remission.timeline.best_response import best_responses

    c = criterion or irecist.CRITERION
    return best_responses(timepoints, reference, c.best_response(options or c.options_model()), levels=c.levels())



def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def les(n, lid, role, d=None, status=None, organ="liver", nodal=False, s="S1"):
    return dict(
        subject_id=s, date=day(n), lesion_id=lid, role=role, organ=organ, nodal=nodal,
        diameter_mm=None if d is None else float(d), perpendicular_mm=None, status=status, method="CT",
        viable_diameter_mm=None,
    )  # fmt: skip


def sod(n, total, s="S1"):
    """Two targets (liver, lung) whose sum is ``total`` (split evenly)."""
    return [les(n, "T1", "target", total / 2, organ="liver", s=s), les(n, "T2", "target", total / 2, organ="lung", s=s)]


def fnd(n, finding, value, s="S1"):
    return dict(subject_id=s, date=day(n), finding=finding, value=value)


def run(rows, findings=(), subjects=("S1",), **opts) -> pl.DataFrame:
    segs = pl.DataFrame(
        [dict(subject_id=s, line=1, reference_start=day(0), baseline_date=day(0), end_date=None) for s in subjects],
        schema=SEGMENTS,
    )
    out = irecist.evaluate(
        pl.DataFrame(rows, schema=LESIONS), segs, IRecistOptions(**opts), findings=pl.DataFrame(list(findings), schema=FINDINGS)
    )
    assert dict(out.schema) == TIMEPOINTS
    return out


def cats(out, s="S1"):
    return out.filter((pl.col("subject_id") == s) & pl.col("overall_response").is_not_null())["overall_response"].to_list()


def at(out, n, s="S1"):
    r = out.filter((pl.col("subject_id") == s) & (pl.col("date") == day(n))).to_dicts()
    assert len(r) == 1
    return r[0]


# --------------------------------------------------------------------------------------
# §7 worked examples
# --------------------------------------------------------------------------------------


def test_worked_example_A_confirmed_progression_s7():
    """§7 A: 60 → 78 (iUPD, +30 %/+18 mm) → 80 (+2 vs 78) → 84 (cumulative +6 → C1 iCPD);
    progression dated day 56."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 80) + sod(140, 84)
    out = run(rows)
    assert cats(out) == ["iUPD", "iUPD", "iCPD"]
    a56, a98, a140 = at(out, 56), at(out, 98), at(out, 140)
    assert a56["canonical_level"] == "PROGRESSION_PENDING" and a56["pending_progression"] and not a56["is_progression_event"]
    assert a98["pending_progression"] and a98["overall_response"] == "iUPD"
    assert a140["is_progression_event"] and a140["progression_event_date"] == day(56)
    assert a140["canonical_level"] == "PROGRESSION" and "ICPD:C1" in a140["rule_ids"]
    assert "+6 mm vs 78 mm" in a140["explanation"]
    # 84 days after iUPD > 56: flagged (§4.4)
    assert "LATE_CONFIRMATION" in a140["warnings"]


def test_worked_example_B_reset_then_new_block_s7():
    """§7 B: iUPD (78) → 50 = iSD, reset, nadir 50 → 61 (+22 %, +11 mm) new iUPD → 67
    (+6 vs 61) iCPD dated day 140."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 50) + sod(140, 61) + sod(182, 67)
    out = run(rows)
    assert cats(out) == ["iUPD", "iSD", "iUPD", "iCPD"]
    assert at(out, 98)["nadir_value"] == 60 and "IUPD_RESET" in at(out, 98)["rule_ids"]
    assert at(out, 140)["nadir_value"] == 50
    assert at(out, 182)["progression_event_date"] == day(140)
    assert at(out, 56)["progression_event_date"] is None


def example_c(symptom_126=False):
    rows, f = [], []
    for n, total, status, code in [
        (0, 60, "present", None), (56, 50, "present", "NC"), (112, 52, "progression", "UNE"),
        (126, 52, "progression", "NCLA"), (154, 58, "progression", "NCLA"), (196, 59, "progression", "INCLA"),
    ]:  # fmt: skip
        rows += sod(n, total)
        rows.append(les(n, "N1", "non_target", status=status, organ="bone"))
        if code:
            f.append(fnd(n, "irecist_nt_change", code))
    if symptom_126:
        f.append(fnd(126, "scan_reason", "symptom_driven"))
    return rows, f


def test_worked_example_C_non_target_driven_s7():
    """§7 C: iSD; UNE → iUPD (P = {NT}); day 126 (14 d) disregarded; day 154 target +16 %
    (+8 mm vs nadir 50) is not C1 (T ∉ P) nor C6 (< 20 %) → iUPD; day 196 INCLA → C2 iCPD
    dated day 112."""
    rows, f = example_c()
    out = run(rows, f)
    assert cats(out) == ["iSD", "iUPD", "iUPD", "iUPD", "iCPD"]
    assert at(out, 126)["warnings"] == "EARLY_SCAN_DISREGARDED"
    assert "IUPD_STILL_PD" in at(out, 154)["rule_ids"]
    assert at(out, 154)["change_from_nadir_pct"] == pytest.approx(16.0)
    last = at(out, 196)
    assert "ICPD:C2" in last["rule_ids"] and last["progression_event_date"] == day(112)


# --------------------------------------------------------------------------------------
# §6 edge cases and §4.2 triggers
# --------------------------------------------------------------------------------------


def test_edge1_ne_keeps_block_open_s6():
    """§6.1: iUPD → NE (a target not measured) → +6 mm: iCPD, dated to the iUPD."""
    rows = sod(0, 60) + sod(56, 78)
    rows += [les(98, "T1", "target", 40, organ="liver"), les(98, "T2", "target", None, status="not_evaluated", organ="lung")]
    rows += sod(140, 84)
    out = run(rows)
    assert cats(out) == ["iUPD", "NE", "iCPD"]
    assert "IUPD_NE" in at(out, 98)["rule_ids"]
    assert at(out, 140)["progression_event_date"] == day(56)


def test_edge3_reset_by_ipr_then_second_block_s6():
    """§6.3: iUPD → iPR (reset) → iUPD → iCPD: progression = the second iUPD date.
    60 → 78 iUPD; 40 (−33 % vs baseline) iPR; 50 (+25 %, +10 vs nadir 40) iUPD; 56 (+6) iCPD."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 40) + sod(140, 50) + sod(182, 56)
    out = run(rows)
    assert cats(out) == ["iUPD", "iPR", "iUPD", "iCPD"]
    assert at(out, 182)["progression_event_date"] == day(140)


def test_edge4_new_lesion_and_further_shrinkage_gives_ipr_s6():
    """§6.4 / §4.2 Step B (EORTC scenario B): PR 40 mm, new lesion → iUPD; next visit the
    targets shrink to 30 mm, the new lesion unchanged → iPR (reset)."""
    rows = sod(0, 60) + sod(56, 40) + sod(112, 36) + sod(168, 30)
    rows += [les(112, "L9", "new", 12, "present", organ="lung"), les(168, "L9", "new", 12, "present", organ="lung")]
    out = run(rows)
    assert cats(out) == ["iPR", "iUPD", "iPR"]
    assert "IUPD_RESET" in at(out, 168)["rule_ids"]


def test_edge5_nothing_changes_stays_iupd_s6():
    """§6.5 (EORTC scenario F): PR, then a new lesion → iUPD, then nothing changes →
    iUPD (the target sum did not decrease)."""
    rows = sod(0, 60) + sod(56, 40) + sod(112, 40) + sod(168, 40)
    rows += [les(112, "L9", "new", 12, "present", organ="lung"), les(168, "L9", "new", 12, "present", organ="lung")]
    out = run(rows)
    assert cats(out) == ["iPR", "iUPD", "iUPD"]
    assert "IUPD_STILL_NL" in at(out, 168)["rule_ids"]
    assert "IUPD_NOT_CONFIRMED" in at(out, 168)["warnings"]


def test_edge6_icr_requires_new_lesions_gone_s6():
    """§6.6: after a reset, targets 0 mm but the old new lesion still present → iPR; once
    it has gone → iCR."""
    rows = sod(0, 60) + sod(56, 40) + sod(112, 36) + sod(168, 30) + sod(224, 0) + sod(280, 0)
    for n, st_ in [(112, "present"), (168, "present"), (224, "present"), (280, "absent")]:
        rows.append(les(n, "L9", "new", 12 if st_ == "present" else 0, st_, organ="lung"))
    out = run(rows)
    assert cats(out) == ["iPR", "iUPD", "iPR", "iPR", "iCR"]


def test_edge7_additive_increases_and_netting_s6_s10():
    """§6.7: +4 then +2 = +6 → iCPD (EORTC FAQ).  §10 choice: the net change vs the block
    reference is used, so 78 → 74 → 81 (+3 net) does not confirm."""
    out = run(sod(0, 60) + sod(56, 78) + sod(98, 82) + sod(140, 84))
    assert cats(out) == ["iUPD", "iUPD", "iCPD"]
    out = run(sod(0, 60) + sod(56, 78) + sod(98, 74) + sod(140, 81))
    assert cats(out) == ["iUPD", "iUPD", "iUPD"]


def test_edge8_symptom_driven_early_scan_s44():
    """§6.8 / §4.4: a symptom-driven scan 14 days after iUPD with only growth (+10 mm)
    is disregarded; with an additional new lesion it gives iCPD."""
    base = sod(0, 60) + sod(56, 78)
    out = run(base + sod(70, 88), [fnd(70, "scan_reason", "symptom_driven")])
    assert cats(out) == ["iUPD", "iUPD"] and at(out, 70)["warnings"].startswith("EARLY_SCAN_DISREGARDED")
    out = run(base + sod(70, 88) + [les(70, "L9", "new", 15, "present", organ="bone")], [fnd(70, "scan_reason", "symptom_driven")])
    assert cats(out) == ["iUPD", "iCPD"] and "ICPD:" in at(out, 70)["rule_ids"] and "C5" in at(out, 70)["rule_ids"]
    # same scan scheduled: disregarded (§4.4)
    out = run(base + sod(70, 88) + [les(70, "L9", "new", 15, "present", organ="bone")])
    assert cats(out) == ["iUPD", "iUPD"]
    # option off: never early iCPD
    out = run(base + sod(70, 88) + [les(70, "L9", "new", 15, "present", organ="bone")],
              [fnd(70, "scan_reason", "symptom_driven")], allow_symptom_driven_early_icpd=False)  # fmt: skip
    assert cats(out) == ["iUPD", "iUPD"]


def test_edge8_tolerance_boundary_s44():
    """§4.4: 26 days after iUPD (28 − 2) may confirm; 25 days may not."""
    out = run(sod(0, 60) + sod(56, 78) + sod(82, 84))
    assert cats(out) == ["iUPD", "iCPD"]
    out = run(sod(0, 60) + sod(56, 78) + sod(81, 84))
    assert cats(out) == ["iUPD", "iUPD"]


def test_edge9_non_target_only_categories_s6():
    """§6.9: non-target-only disease: NON-iCR/NON-iUPD, iUPD, iCPD (C2), iCR; no iSD/iPR."""
    rows, f = [], []
    for n, status, code in [(0, "present", None), (56, "present", "NC"), (112, "progression", "UNE"), (154, "progression", "INCLA")]:
        rows.append(les(n, "N1", "non_target", status=status, organ="bone"))
        if code:
            f.append(fnd(n, "irecist_nt_change", code))
    out = run(rows, f)
    assert cats(out) == ["NON-iCR/NON-iUPD", "iUPD", "iCPD"]
    out = run([les(0, "N1", "non_target", status="present"), les(56, "N1", "non_target", status="absent")])
    assert cats(out) == ["iCR"]


def test_c3_new_lesion_target_sum_s42():
    """§4.2 C3: block opened by a measurable new lesion (NLT 12 mm); NLT sum 17 (+5) → iCPD."""
    rows = sod(0, 60) + sod(56, 60) + sod(112, 60)
    rows += [les(56, "L9", "new", 12, "present", organ="lung"), les(112, "L9", "new", 17, "present", organ="lung")]
    out = run(rows)
    assert cats(out) == ["iUPD", "iCPD"] and "C3" in at(out, 112)["rule_ids"]
    rows[-1] = les(112, "L9", "new", 16, "present", organ="lung")  # +4 mm: no
    assert cats(run(rows)) == ["iUPD", "iUPD"]


def test_c4_new_non_target_increase_s42():
    """§4.2 C4: an NLNT (8 mm, not measurable) that grows to 9 mm confirms (any increase)."""
    rows = sod(0, 60) + sod(56, 60) + sod(112, 60)
    rows += [les(56, "L9", "new", 8, "present", organ="lung"), les(112, "L9", "new", 9, "present", organ="lung")]
    out = run(rows)
    assert cats(out) == ["iUPD", "iCPD"] and "C4" in at(out, 112)["rule_ids"]


def test_c5_additional_new_lesion_s42():
    """§4.2 C5: target-driven iUPD; a new lesion at the next scan confirms."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 78) + [les(98, "L9", "new", 11, "present", organ="bone")]
    out = run(rows)
    assert cats(out) == ["iUPD", "iCPD"] and "C5" in at(out, 98)["rule_ids"]


def test_c6_other_category_needs_recist_pd_s42():
    """§4.2 C6: target-driven block: a non-target `progression` (unequivocal) confirms, but a
    non-target INC coding alone does not (T-driven, NT ∉ P)."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 78)
    rows += [les(0, "N1", "non_target", status="present", organ="bone"), les(56, "N1", "non_target", status="present", organ="bone")]
    only_inc = rows + [les(98, "N1", "non_target", status="present", organ="bone")]
    assert cats(run(only_inc, [fnd(98, "irecist_nt_change", "INCLA")])) == ["iUPD", "iUPD"]
    une = rows + [les(98, "N1", "non_target", status="progression", organ="bone")]
    out = run(une)
    assert cats(out) == ["iUPD", "iCPD"] and "C6" in at(out, 98)["rule_ids"]


def test_reset_new_lesions_become_existing_disease_step_d():
    """§4.2 Step D: after a reset the old new lesion's presence does not reopen a block;
    its NLT sum +20 % and +5 mm above its own nadir does (12 → 10 nadir → 15: +50 %, +5)."""
    rows = sod(0, 60) + sod(56, 40) + sod(112, 36) + sod(168, 30) + sod(224, 30) + sod(280, 30)
    for n, d in [(112, 12), (168, 12), (224, 10), (280, 15)]:
        rows.append(les(n, "L9", "new", d, "present", organ="lung"))
    out = run(rows)
    assert cats(out) == ["iPR", "iUPD", "iPR", "iPR", "iUPD"]


def test_after_icpd_rows_s42_step_c():
    """§4.2 Step C: no further responses after iCPD: later rows say iCPD, no new event."""
    rows = sod(0, 60) + sod(56, 78) + sod(98, 84) + sod(140, 30)
    out = run(rows)
    assert cats(out) == ["iUPD", "iCPD", "iCPD"]
    assert at(out, 98)["is_progression_event"] and not at(out, 140)["is_progression_event"]
    assert "AFTER_ICPD" in at(out, 140)["rule_ids"] and at(out, 140)["progression_event_date"] == day(56)


def test_several_subjects_independent():
    """Vectorised rounds: subjects with different numbers of blocks evaluated together give
    the same rows as evaluated alone."""
    a = sod(0, 60, "A") + sod(56, 78, "A") + sod(98, 50, "A") + sod(140, 61, "A") + sod(182, 67, "A")
    b = sod(0, 60, "B") + sod(56, 78, "B") + sod(98, 80, "B") + sod(140, 84, "B")
    both = run(a + b, subjects=("A", "B"))
    assert both.filter(pl.col("subject_id") == "A").equals(run(a, subjects=("A",)))
    assert both.filter(pl.col("subject_id") == "B").equals(run(b, subjects=("B",)))


def test_registered():
    c = registry.get("irecist")
    assert c.order[:6] == ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iCPD", "iUPD")
    assert c.options_from(AssessOptions(irecist={"confirm_min_days": 21})).confirm_min_days == 21


# --------------------------------------------------------------------------------------
# §5 iBOR
# --------------------------------------------------------------------------------------

REF = day(0)


def ibor(seq, confirm=False, **kw):
    """seq: (day, code) pairs; returns (bor, bor_day) from the vectorised version, after
    checking it equals the reference."""
    rows = [(day(n), c) for n, c in seq]
    ref = ibor_reference(rows, REF, confirm=confirm, **kw)
    tp = pl.DataFrame({"subject_id": ["S"] * len(rows), "date": [d for d, _ in rows], "response": [c for _, c in rows]},
                      schema={"subject_id": pl.String, "date": pl.Date, "response": pl.String})  # fmt: skip
    vec = best_overall_response(tp, pl.DataFrame({"subject_id": ["S"], "reference_start": [REF]}), confirm=confirm, **kw).row(0)
    assert (vec[1], vec[2]) == (ref[0], ref[1])
    return vec[1], (vec[2] - REF).days if vec[2] else None


@pytest.mark.parametrize(
    "seq, expected",
    [
        # Table 3 rows (TP every 56 days from day 56), one concrete choice per "or"
        ([(56, "iCR"), (112, "iUPD"), (168, "NE"), (224, "iUPD"), (280, "iCPD")], ("iCR", 56)),
        ([(56, "iUPD"), (112, "iSD"), (168, "iCR"), (224, "iUPD"), (280, "iCPD")], ("iCR", 168)),
        ([(56, "iUPD"), (112, "iPR"), (168, "iSD"), (224, "iUPD"), (280, "iCPD")], ("iPR", 112)),
        ([(56, "iUPD"), (112, "NE"), (168, "iPR"), (224, "iSD"), (280, "iCPD")], ("iPR", 168)),
        ([(56, "iUPD"), (112, "iSD"), (168, "iUPD"), (224, "iCPD"), (280, "NE")], ("iSD", 112)),
        ([(56, "iUPD"), (112, "iCPD"), (168, "iCR"), (224, "iCR"), (280, "iCR")], ("iCPD", 56)),
        ([(56, "iUPD"), (112, "iUPD"), (168, "iCPD"), (224, "iPR"), (280, "iPR")], ("iCPD", 56)),
        ([(56, "iUPD"), (112, "NE"), (168, "NE"), (224, "NE"), (280, "NE")], ("iUPD", 56)),
    ],
)
def test_table3_examples_s5(seq, expected):
    """irecist.md §5 Table 3 (randomised trial, no confirmation): iBOR per row."""
    assert ibor(seq) == expected


def test_ibor_reset_iupd_then_confirmed_block_is_icpd_s5():
    """§5 / §6.3: a reset iUPD and a later confirmed block → iCPD dated to the block's first
    iUPD (admiralonco vignette: SD, SD, iUPD, PR, PR, iUPD, iCPD → the second iUPD date).
    With confirmation the unconfirmed iPR and the iSDs before day 42 count only as NE."""
    seq = [(14, "iSD"), (21, "iSD"), (28, "iUPD"), (35, "iPR"), (40, "iPR"), (41, "iUPD"), (70, "iCPD")]
    assert ibor(seq, confirm=True) == ("iCPD", 41)
    assert ibor(seq) == ("iPR", 35)


def test_ibor_sd_minimum_and_confirmation_s5():
    """§5: iSD needs sd_min_days (42); with confirmation an iPR needs an iPR/iCR ≥ 28 days
    later, an iUPD in between breaks it; a CR failing CR confirmation may be a PR."""
    assert ibor([(30, "iSD"), (60, "iUPD")]) == ("iUPD", 60)
    assert ibor([(30, "iSD"), (60, "NE")]) == ("NE", 30)
    assert ibor([(42, "iSD")]) == ("iSD", 42)
    assert ibor([(56, "iPR"), (84, "iPR")], confirm=True) == ("iPR", 56)
    assert ibor([(56, "iPR"), (70, "iUPD"), (84, "iPR")], confirm=True) == ("iSD", 56)
    assert ibor([(56, "iCR"), (84, "iPR")], confirm=True) == ("iPR", 56)
    assert ibor([(56, "iCR"), (84, "iPR")], confirm=True, failed_cr_as_pr=False) == ("iSD", 56)
    assert ibor([(56, "iPR"), (70, "NE"), (77, "NE"), (84, "iPR")], confirm=True) == ("iSD", 56)
    assert ibor([(56, "NON-iCR/NON-iUPD")]) == ("NON-iCR/NON-iUPD", 56)
    assert ibor([]) == ("MISSING", None)
    assert ibor([(56, "iCPD")]) == ("iCPD", 56)


def test_ibor_cutoff_and_same_day_s5():
    """§5 window: new-therapy cutoff excludes later points; same date: worst evaluable kept."""
    tp = pl.DataFrame({"subject_id": ["S", "S", "S"], "date": [day(56), day(56), day(112)], "response": ["iPR", "iUPD", "iCR"]})
    ref = pl.DataFrame({"subject_id": ["S"], "reference_start": [REF]})
    out = best_overall_response(tp, ref, confirm=False, cutoff=pl.DataFrame({"subject_id": ["S"], "cutoff_date": [day(100)]}))
    assert out.row(0)[1:3] == ("iUPD", day(56))
    with pytest.raises(ValueError):
        best_overall_response(tp.with_columns(response=pl.lit("XX")), ref, confirm=False)


CODES = ["iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-10, 200), st.sampled_from(CODES)), max_size=8),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2),
)
def test_ibor_vectorised_equals_reference(seq, confirm, accept_sd, max_ne):
    """Property: the vectorised iBOR equals the plain-Python reference (§5)."""
    ibor(seq, confirm=confirm, accept_sd_between=accept_sd, max_ne_between=max_ne)


def test_best_responses_columns_for_pipeline():
    """irecist.best_responses gives the columns pipeline._best_responses produces."""
    tp = pl.DataFrame({"subject_id": ["S", "S"], "date": [day(56), day(98)], "overall_response": ["iUPD", "iCPD"]})
    out = _best_responses(tp, pl.DataFrame({"subject_id": ["S"], "reference_start": [REF]}))
    assert out.row(0, named=True)["best_response"] == "iCPD"
    assert out.row(0, named=True)["confirmed_best_response_date"] == day(56)


# --------------------------------------------------------------------------------------
# bundled example dataset (src/remission/data/examples_imaging/irecist)
# --------------------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "examples_imaging"


def _check_example(name: str, best: dict[str, tuple[str, str]], module):
    import csv

    from remission import assess
    from remission.io import load_dataset

    folder = EXAMPLES / name
    _, errors = load_dataset(folder)
    assert errors == []
    res = assess(folder)
    a = res.assessments
    expected = list(csv.DictReader((folder / "expected.csv").open(encoding="utf-8")))
    bad = []
    for e in expected:
        row = a.filter((pl.col("subject_id") == e["subject_id"]) & (pl.col("date") == dt.date.fromisoformat(e["date"]))).row(0, named=True)
        got_p = row["progression_event_date"].isoformat() if row["is_progression_event"] else ""
        if (row["overall_response"], got_p) != (e["overall_response"], e["progression_event_date"]):
            bad.append((e, row["overall_response"], got_p, row["explanation"]))
    assert not bad, bad
    assert set(a.filter(pl.col("overall_response").is_not_null())["criteria"]) == {module.CODE}
    ref = res.segments.filter(pl.col("line") == 1).select("subject_id", "reference_start")
    br = _best_responses(res.timepoints, ref, criterion=module.CRITERION)
    got = {r["subject_id"]: (r["best_response"], r["confirmed_best_response"]) for r in br.iter_rows(named=True)}
    assert got == best


def test_example_dataset_irecist():
    """examples_imaging/irecist: expected.csv (hand-derived, notes cite the spec) through
    ``assess``; iBOR (§5): IR01 iCPD (only iUPD/iCPD), IR02 iSD (day 98 >= 42), IR03 iSD
    (day 56), IR04 iPR unconfirmed / iSD confirmed (the iPR has no iPR 28 days later)."""
    _check_example(
        "irecist",
        {"IR01": ("iCPD", "iCPD"), "IR02": ("iSD", "iSD"), "IR03": ("iSD", "iSD"), "IR04": ("iPR", "iSD")},
        irecist,
    )
