"""RECIST 1.1 imaging engine (recist11.md §3–4, docs/imaging_engine.md).

Every expectation is computed by hand from the spec; the section is cited in each test.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remission.criteria import recist11, registry
from remission.options import RecistOptions
from remission.schema import LESIONS, SEGMENTS, TIMEPOINTS

D0 = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def les(day_, lid, role, organ=None, nodal=False, d=None, status=None, perp=None, subject="S1"):
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


def seg(subject="S1", line=1, ref=0, base=0, end=None):
    return dict(
        subject_id=subject,
        line=line,
        reference_start=day(ref),
        baseline_date=None if base is None else day(base),
        end_date=None if end is None else day(end),
    )


def run(rows, segs=None, labs=None, **opts) -> pl.DataFrame:
    lesions = pl.DataFrame(rows, schema=LESIONS)
    segments = pl.DataFrame(segs or [seg()], schema=SEGMENTS)
    out = recist11.evaluate(lesions, segments, RecistOptions(**opts), labs=labs)
    assert dict(out.schema) == TIMEPOINTS
    return out


def at(out: pl.DataFrame, n: int, subject: str = "S1") -> dict:
    rows = out.filter((pl.col("subject_id") == subject) & (pl.col("date") == day(n))).to_dicts()
    assert len(rows) == 1
    return rows[0]


def targets(day_, values, organs=None, nodal=None, subject="S1"):
    """Target rows T1..Tk with the given diameters (None = not measured)."""
    out = []
    for i, v in enumerate(values):
        organ = organs[i] if organs else "liver"
        nd = nodal[i] if nodal else False
        out.append(les(day_, f"T{i + 1}", "target", organ, nd, v, subject=subject))
    return out


# --------------------------------------------------------------------------------------
# Worked examples (recist11.md §7)
# --------------------------------------------------------------------------------------


def example_a(subject="S1"):
    rows = []
    for n, (liver, lung, node) in {0: (40, 20, 18), 56: (25, 12, 9), 112: (24, 10, 8), 168: (27, 14, 10)}.items():
        rows += [
            les(n, "T1", "target", "liver", False, liver, subject=subject),
            les(n, "T2", "target", "lung", False, lung, subject=subject),
            les(n, "T3", "target", "lymph_node", True, node, subject=subject),
            les(n, "N1", "non_target", "lymph_node", True, 12, "present", subject=subject),
            les(n, "N2", "non_target", "lung", False, None, "present", subject=subject),
        ]
    return rows


def test_worked_example_a_row_by_row():
    """recist11.md §7 example A: PR, PR, then PD from the nadir although -34.6 % from baseline."""
    out = run(example_a())
    b = at(out, 0)
    assert b["overall_response"] is None and b["baseline_value"] == 78
    assert b["explanation"] == "Baseline: sum of diameters 78 mm (3 target lesions)"
    expected = {
        56: (46, 78, -41.0, -41.0, "PR"),
        112: (42, 46, -46.2, -8.7, "PR"),
        168: (51, 42, -34.6, 21.4, "PD"),
    }
    for n, (value, nadir, pb, pn, tr) in expected.items():
        r = at(out, n)
        assert r["value"] == value and r["baseline_value"] == 78 and r["nadir_value"] == nadir
        assert round(r["change_from_baseline_pct"], 1) == pb
        assert round(r["change_from_nadir_pct"], 1) == pn
        assert r["target_response"] == tr
        assert r["non_target_response"] == "NON-CR/NON-PD"
        assert r["new_lesion"] is False
        assert r["overall_response"] == tr
    r = at(out, 168)
    assert r["change_from_nadir_abs"] == 9
    assert r["rule_ids"] == "T4,N4,NL0,TAB4"
    assert r["is_progression_event"] and r["progression_event_date"] == day(168)
    assert r["recurrence_sites"] == "liver;lung;lymph_node"
    assert r["explanation"] == "PD: sum 51 mm is +21.4% (+9 mm) above nadir 42 mm (>= 20% and >= 5 mm)"
    assert at(out, 56)["explanation"] == "PR: sum 46 mm is -41% from baseline 78 mm (>= 30% decrease); nadir 78 mm"
    assert at(out, 56)["canonical_level"] == "PARTIAL"


def example_b(subject="S1"):
    rows = []
    for n, vals in {0: (16, 15, 22), 56: (6, 5, 0), 112: (9, 8, 0), 168: (11, 8, 0)}.items():
        rows += targets(n, vals, ["lymph_node", "lymph_node", "liver"], [True, True, False], subject=subject)
    return rows


def test_worked_example_b_nodes_below_10_then_regrow():
    """recist11.md §7 example B: CR, CR (T3 before T4), then PD (T4 and §4.7)."""
    out = run(example_b())
    expected = {
        56: (11, 53, -79.2, "CR", "T3"),
        112: (17, 11, 54.5, "CR", "T3"),
        168: (19, 11, 72.7, "PD", "T4"),
    }
    for n, (value, nadir, pn, resp, rule) in expected.items():
        r = at(out, n)
        assert (r["value"], r["nadir_value"]) == (value, nadir)
        assert round(r["change_from_nadir_pct"], 1) == pn
        assert r["target_response"] == resp and r["overall_response"] == resp
        assert r["non_target_response"] == "NA" and r["new_lesion"] is False
        assert r["rule_ids"].startswith(rule + ",N0,NL0,TAB4")
    assert at(out, 112)["change_from_nadir_abs"] == 6
    r = at(out, 168)
    assert r["change_from_nadir_abs"] == 8
    # node A also reappeared after CR (§4.7), but T4 already decided PD; R47 is listed only when
    # it decides (docs/imaging_engine.md), as the spec's "PD (T4)" for this row
    assert r["rule_ids"] == "T4,N0,NL0,TAB4"
    assert r["warnings"] == "SINGLE_NODE_REAPPEARANCE"
    assert at(out, 112)["explanation"] == "CR: all non-nodal targets 0 mm, nodes < 10 mm (largest 9 mm); no non-target lesions"


# --------------------------------------------------------------------------------------
# Edge cases (recist11.md §6)
# --------------------------------------------------------------------------------------


def test_edge_1_node_only_cr_with_nonzero_sum():
    """§6.1: node 16 + liver 20 → node 8, liver 0: SOD 8 mm, TR = CR."""
    rows = targets(0, [16, 20], ["lymph_node", "liver"], [True, False]) + targets(
        56, [8, 0], ["lymph_node", "liver"], [True, False]
    )
    r = at(run(rows), 56)
    assert r["value"] == 8 and r["target_response"] == "CR" and r["overall_response"] == "CR"
    assert r["canonical_level"] == "COMPLETE" and r["rule_ids"] == "T3,N0,NL0,TAB4"


def test_edge_2_node_regrows_after_cr_vs_before_cr():
    """§6.2: nodal target 8 → 11 mm after an overall CR is PD (§4.7); before any CR it is
    only part of the sum (16 vs nadir 13: +23 %, +3 mm → not PD; −55.6 % → PR)."""
    org, nod = ["lymph_node", "liver"], [True, False]
    after_cr = targets(0, [16, 20], org, nod) + targets(56, [8, 0], org, nod) + targets(112, [11, 0], org, nod)
    out = run(after_cr)
    assert at(out, 56)["overall_response"] == "CR"
    r = at(out, 112)
    assert r["target_response"] == "PR"  # 11 vs nadir 8: +3 mm only; 11 vs 36: −69 %
    assert r["overall_response"] == "PD" and "R47" in r["rule_ids"]
    assert r["warnings"] == "SINGLE_NODE_REAPPEARANCE"
    assert r["recurrence_sites"] == "lymph_node"
    before_cr = targets(0, [16, 20], org, nod) + targets(56, [8, 5], org, nod) + targets(112, [11, 5], org, nod)
    r = at(run(before_cr), 112)
    assert r["nadir_value"] == 13 and r["value"] == 16
    assert r["overall_response"] == "PR" and "R47" not in r["rule_ids"]


def test_edge_3_twenty_percent_but_less_than_5mm():
    """§6.3: nadir 20 → 24 (+20 %, +4 mm) is not PD; −20 % from baseline 30 → SD."""
    rows = targets(0, [30]) + targets(56, [20]) + targets(112, [24])
    r = at(run(rows), 112)
    assert r["nadir_value"] == 20 and r["change_from_nadir_pct"] == pytest.approx(20.0)
    assert r["change_from_nadir_abs"] == 4
    assert r["target_response"] == "SD" and r["overall_response"] == "SD" and r["rule_ids"] == "T6,N0,NL0,TAB4"


def test_edge_4_five_mm_but_less_than_20_percent():
    """§6.4: nadir 100 → 115 (+15 %, +15 mm) is not PD."""
    r = at(run(targets(0, [60, 40]) + targets(56, [70, 45])), 56)
    assert r["change_from_nadir_abs"] == 15 and r["target_response"] == "SD"


def test_edge_5_exact_thresholds():
    """§6.5: −30.0 % → PR; +20.0 % with +5.0 mm → PD (inclusive, unrounded)."""
    r = at(run(targets(0, [50]) + targets(56, [35])), 56)
    assert r["change_from_baseline_pct"] == -30.0 and r["target_response"] == "PR"
    r = at(run(targets(0, [25]) + targets(56, [30])), 56)
    assert r["change_from_nadir_pct"] == 20.0 and r["change_from_nadir_abs"] == 5.0
    assert r["target_response"] == "PD" and r["rule_ids"].startswith("T4")
    r = at(run(targets(0, [100]) + targets(56, [70.1])), 56)
    assert r["target_response"] == "SD"  # −29.9 %


def test_edge_6_nadir_is_baseline():
    """§6.6: no shrinkage → PD measured from baseline: 50 → 56 (SD) → 60 (+20 %, +10 mm)."""
    out = run(targets(0, [30, 20]) + targets(56, [33, 23]) + targets(112, [35, 25]))
    assert at(out, 56)["target_response"] == "SD"
    r = at(out, 112)
    assert r["nadir_value"] == 50 and r["target_response"] == "PD"


def test_edge_7_missing_lesion_but_already_pd_t1_vs_t2():
    """§6.7 / §4.2: baseline 50 mm (3 lesions); two lesions sum 80 → PD (T1); two lesions
    summing 45 → NE (T2), no imputation."""
    base = targets(0, [20, 20, 10])
    r = at(run(base + targets(56, [50, 30])), 56)
    assert r["value"] == 80 and r["target_response"] == "PD" and r["rule_ids"] == "T1,N0,NL0,TAB4"
    assert r["overall_response"] == "PD"
    r = at(run(base + targets(56, [25, 20])), 56)
    assert r["target_response"] == "NE" and r["overall_response"] == "NE" and r["rule_ids"] == "T2,N0,NL0,TAB4"
    assert r["explanation"] == "NE: target T3 (liver) not evaluated"
    assert r["canonical_level"] == "NOT_EVALUABLE"
    # an unmeasured lesion does not enter the nadir (§3.4): next complete visit is vs 50
    out = run(base + targets(56, [10, 5]) + targets(112, [20, 20, 10]))
    assert at(out, 112)["nadir_value"] == 50


def test_edge_8_too_small_disappeared_and_3mm():
    """§6.8 / §3.4: too small = 5 mm, disappeared = 0, a measured 3 mm stays 3 mm; the
    5 mm lesion prevents CR."""
    rows = targets(0, [20, 20, 10]) + [
        les(56, "T1", "target", "liver", False, None, "too_small"),
        les(56, "T2", "target", "liver", False, None, "absent"),
        les(56, "T3", "target", "liver", False, 3),
    ]
    r = at(run(rows), 56)
    assert r["value"] == 8 and r["target_response"] == "PR"
    rows = targets(0, [20, 20]) + [
        les(56, "T1", "target", "liver", False, None, "too_small"),
        les(56, "T2", "target", "liver", False, None, "absent"),
    ]
    r = at(run(rows), 56)
    assert r["value"] == 5 and r["target_response"] == "PR"  # not CR
    assert at(run(rows, tstm_default_mm=4.0), 56)["value"] == 4


def _marker_rows():
    return targets(0, [30]) + targets(56, [0]) + [les(0, "N1", "non_target", "bone", False, None, "present"),
                                                  les(56, "N1", "non_target", "bone", False, None, "absent")]


def _labs(values):
    return pl.DataFrame(
        [dict(subject_id="S1", date=day(n), test="CEA", value=float(v), unit="ng/mL") for n, v in values],
        schema={"subject_id": pl.String, "date": pl.Date, "test": pl.String, "value": pl.Float64, "unit": pl.String},
    )


def test_edge_11_marker_normalisation_needed_for_cr():
    """§6.11 / §4.3 N3: every marker above ULN at baseline must be ≤ ULN for CR; else NTR
    NON-CR/NON-PD → OR PR although all lesions vanished."""
    uln = {"CEA": 5.0}
    r = at(run(_marker_rows(), labs=_labs([(-3, 10), (50, 7)]), marker_uln=uln), 56)
    assert r["target_response"] == "CR" and r["non_target_response"] == "NON-CR/NON-PD"
    assert r["overall_response"] == "PR" and "marker CEA 7 > ULN 5" in r["explanation"]
    r = at(run(_marker_rows(), labs=_labs([(-3, 10), (50, 3)]), marker_uln=uln), 56)
    assert r["overall_response"] == "CR" and r["non_target_response"] == "CR"
    # elevated at baseline, no value within 28 days of t: blocks CR, said in the text
    r = at(run(_marker_rows(), labs=_labs([(-3, 10), (20, 3)]), marker_uln=uln), 56)
    assert r["overall_response"] == "PR" and "not measured within 28 days" in r["explanation"]
    # not elevated at baseline: no effect; markers unused when marker_uln is empty
    assert at(run(_marker_rows(), labs=_labs([(-3, 4), (50, 9)]), marker_uln=uln), 56)["overall_response"] == "CR"
    assert at(run(_marker_rows(), labs=_labs([(-3, 10), (50, 7)])), 56)["overall_response"] == "CR"


def test_marker_only_disease_without_non_targets():
    """§4.3 N0/N3: no non-target lesions but an elevated marker → NTR is not NA."""
    rows = targets(0, [30]) + targets(56, [0])
    r = at(run(rows, labs=_labs([(0, 10), (56, 8)]), marker_uln={"CEA": 5.0}), 56)
    assert r["non_target_response"] == "NON-CR/NON-PD" and r["overall_response"] == "PR"


def test_edge_13_equivocal_new_lesion_back_dated():
    """§6.13 / §4.6: an equivocal new lesion is pending (OR without it); once unequivocal,
    the PD is dated to the first scan that showed it."""
    rows = targets(0, [40]) + targets(56, [35]) + targets(112, [34])
    rows += [les(56, "L9", "new", "liver", False, None, "equivocal"), les(112, "L9", "new", "liver", False, None, "present")]
    out = run(rows)
    r = at(out, 56)
    assert r["overall_response"] == "SD" and r["pending_progression"] is True and r["new_lesion"] is False
    assert r["rule_ids"] == "T6,N0,NLeq,TAB4" and not r["is_progression_event"]
    assert r["explanation"].endswith("; equivocal new lesion L9 (liver) pending")
    r = at(out, 112)
    assert r["overall_response"] == "PD" and r["new_lesion"] is True and r["rule_ids"] == "T6,N0,NL1,TAB4"
    assert r["progression_event_date"] == day(56) and r["recurrence_sites"] == "liver"
    assert r["explanation"] == "PD: new lesion L9 (liver) (first seen equivocal on 2024-02-26)"


def test_new_lesion_unequivocal_dated_at_scan():
    """§4.6: an unequivocal new lesion is PD on its own scan."""
    rows = targets(0, [40]) + targets(56, [20]) + [les(56, "L9", "new", "lung", False, 8, "present")]
    r = at(run(rows), 56)
    assert r["overall_response"] == "PD" and r["target_response"] == "PR"
    assert r["progression_event_date"] == day(56) and r["explanation"] == "PD: new lesion L9 (lung)"


@pytest.mark.parametrize(
    "size,status,nl,pending",
    [
        (12, "present", False, True),  # 10–15 mm: equivocal (EORTC FAQ, §4.6)
        (10, "present", False, True),
        (12, "progression", True, False),  # reader says unequivocal
        (8, "present", False, False),  # < 10 mm: not a lesion
        (15, "present", True, False),
        (None, "present", True, False),  # no size given: as recorded
    ],
)
def test_new_nodal_lesion_size_rules(size, status, nl, pending):
    """§4.6 new lymph node: < 10 mm no lesion, 10–15 mm equivocal unless marked progression."""
    rows = targets(0, [40]) + targets(56, [38]) + [les(56, "L5", "new", "lymph_node", True, size, status)]
    r = at(run(rows), 56)
    assert r["new_lesion"] is nl and r["pending_progression"] is pending
    assert r["overall_response"] == ("PD" if nl else "SD")


def test_edge_14_non_target_only_table_5():
    """§6.14 / §4.5 Table 5: NON-CR/NON-PD, CR, NE, PD (non-target), PD (new lesion)."""
    rows = [les(0, "N1", "non_target", "pleura", False, None, "present"), les(0, "N2", "non_target", "lymph_node", True, 12, "present")]
    cases = {
        56: [("N1", "present", None), ("N2", "present", 12)],
        112: [("N1", "not_evaluated", None), ("N2", "present", 12)],
        168: [("N2", "present", 12)],  # N1 missing: not all evaluated
        224: [("N1", "progression", None), ("N2", "present", 12)],
        280: [("N1", "absent", None), ("N2", "present", 9)],  # node < 10 counts as absent
        336: [("N1", "absent", None), ("N2", "present", 9)],
    }
    for n, items in cases.items():
        for lid, status, d in items:
            rows.append(les(n, lid, "non_target", "pleura" if lid == "N1" else "lymph_node", lid == "N2", d, status))
    rows.append(les(336, "L1", "new", "bone", False, None, "present"))
    out = run(rows)
    expect = {56: ("NON-CR/NON-PD", "N4"), 112: ("NE", "N2"), 168: ("NE", "N2"), 224: ("PD", "N1"), 280: ("CR", "N3"), 336: ("PD", "N3")}
    for n, (resp, rule) in expect.items():
        r = at(out, n)
        assert r["target_response"] == "NA" and r["overall_response"] == resp, n
        assert rule in r["rule_ids"].split(",") and "TAB5" in r["rule_ids"]
    assert at(out, 56)["canonical_level"] == "STABLE"
    assert at(out, 56)["explanation"] == "NON-CR/NON-PD: non-target N1 (pleura), N2 (lymph_node) present"
    assert at(out, 168)["explanation"] == "NE: non-target N1 (pleura) not evaluated"
    assert at(out, 224)["recurrence_sites"] == "pleura"
    assert at(out, 336)["new_lesion"] is True and at(out, 336)["recurrence_sites"] == "bone"
    assert at(out, 0)["explanation"] == "Baseline: no target lesions (2 non-target lesions)"


def test_edge_17_normal_size_nodes_only():
    """§6.17: two nodal targets, nadir 5 + 5 = 10 → 9 + 8 = 17 (+70 %, +7 mm) → CR (T3)."""
    org, nod = ["lymph_node", "lymph_node"], [True, True]
    rows = targets(0, [20, 16], org, nod) + targets(56, [5, 5], org, nod) + targets(112, [9, 8], org, nod)
    r = at(run(rows), 112)
    assert r["nadir_value"] == 10 and r["change_from_nadir_pct"] == pytest.approx(70.0)
    assert r["change_from_nadir_abs"] == 7 and r["target_response"] == "CR" and r["overall_response"] == "CR"


def test_cr_targets_with_non_target_present_or_not_evaluated_is_pr():
    """§4.4 Table 4: TR CR with NTR NON-CR/NON-PD → PR; with NTR NE → PR."""
    base = targets(0, [30]) + [les(0, "N1", "non_target", "bone", False, None, "present")]
    r = at(run(base + targets(56, [0]) + [les(56, "N1", "non_target", "bone", False, None, "present")]), 56)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("CR", "NON-CR/NON-PD", "PR")
    r = at(run(base + targets(56, [0])), 56)
    assert (r["target_response"], r["non_target_response"], r["overall_response"]) == ("CR", "NE", "PR")


# --------------------------------------------------------------------------------------
# §4.7 reappearance after CR, three policies
# --------------------------------------------------------------------------------------


def _reappearance_rows(cr_days):
    """Targets node 20 + liver 30; CR (node 8, liver 0) at ``cr_days``; then the node is 12
    mm (+4 mm over nadir 8: not T4; −76 % → PR by the tables) and non-target N1 reappears."""
    org, nod = ["lymph_node", "liver"], [True, False]
    rows = targets(0, [20, 30], org, nod) + [les(0, "N1", "non_target", "bone", False, None, "present")]
    for n in cr_days:
        rows += targets(n, [8, 0], org, nod) + [les(n, "N1", "non_target", "bone", False, None, "absent")]
    last = cr_days[-1] + 28
    rows += targets(last, [12, 0], org, nod) + [les(last, "N1", "non_target", "bone", False, None, "present")]
    return rows, last


@pytest.mark.parametrize(
    "policy,cr_days,resp,warning",
    [
        ("pd_if_prior_cr", [56], "PD", None),
        ("pd_if_prior_cr", [56, 84], "PD", None),
        # CR never confirmed; a PR after a CR is flagged CR_THEN_PR (§5.4 library table)
        ("pd_if_prior_confirmed_cr", [56], "PR", "CR_THEN_PR"),
        ("pd_if_prior_confirmed_cr", [56, 84], "PD", None),  # 84 − 56 = 28 ≥ confirm_days
        ("reclassify_prior_as_pr", [56, 84], "PR", "CR_THEN_PR;PRIOR_CR_RECLASSIFIED_AS_PR"),
    ],
)
def test_reappearance_after_cr_policies(policy, cr_days, resp, warning):
    """§4.7 with the three `reappearance_after_cr` policies."""
    rows, last = _reappearance_rows(cr_days)
    out = run(rows, reappearance_after_cr=policy)
    for n in cr_days:
        assert at(out, n)["overall_response"] == "CR"
    r = at(out, last)
    assert r["target_response"] == "PR" and r["non_target_response"] == "NON-CR/NON-PD"
    assert r["overall_response"] == resp
    assert ("R47" in r["rule_ids"]) == (resp == "PD")
    assert r["warnings"] == warning  # two reappearing lesions: no single-node warning
    if resp == "PD":
        assert r["recurrence_sites"] == "bone;lymph_node"
        assert "disease reappeared after CR on" in r["explanation"]


def test_reappearance_skips_not_evaluated_time_point():
    """§4.7 "previous evaluated time point": CR, NE, then reappearance → PD."""
    org, nod = ["lymph_node", "liver"], [True, False]
    rows = targets(0, [20, 30], org, nod) + targets(56, [8, 0], org, nod) + targets(84, [8, None], org, nod)
    rows += targets(112, [12, 0], org, nod)
    out = run(rows)
    assert at(out, 84)["overall_response"] == "NE"
    assert at(out, 112)["overall_response"] == "PD"


def test_continued_pr_after_confirmation_option():
    """§4.1 note: with the option, SD after a confirmed PR stays PR (T6c) until PD."""
    rows = targets(0, [100]) + targets(56, [60]) + targets(112, [65]) + targets(168, [71])
    assert at(run(rows), 168)["overall_response"] == "SD"
    r = at(run(rows, continued_pr_after_confirmation=True), 168)
    assert r["overall_response"] == "PR" and r["rule_ids"].startswith("T6c")
    # not confirmed (PR then SD only 21 days later): stays SD
    rows = targets(0, [100]) + targets(56, [60]) + targets(77, [71])
    assert at(run(rows, continued_pr_after_confirmation=True), 77)["overall_response"] == "SD"


# --------------------------------------------------------------------------------------
# Segments, baseline problems, multi-subject
# --------------------------------------------------------------------------------------


def test_two_segments_nadir_restarts_and_new_lesions_recatalogued():
    """Note "Input"/"Lesion sets": line 2's baseline is the PD scan; its nadir restarts there,
    and line 1's new lesion becomes a non-target of line 2."""
    rows = targets(0, [50]) + targets(56, [30]) + targets(112, [40]) + targets(168, [30]) + targets(224, [24])
    rows += [les(112, "L9", "new", "liver", False, None, "present"), les(168, "L9", "new", "liver", False, None, "present"),
             les(224, "L9", "new", "liver", False, None, "present")]
    segs = [seg(line=1, ref=0, base=0, end=112), seg(line=2, ref=120, base=112)]
    out = run(rows, segs)
    r = at(out, 112)  # PD of line 1 (new lesion + 40 vs 30: +33 %, +10 mm)
    assert r["line"] == 1 and r["overall_response"] == "PD" and r["nadir_value"] == 30
    r = at(out, 168)
    assert r["line"] == 2 and r["baseline_value"] == 40 and r["nadir_value"] == 40
    assert r["new_lesion"] is False and r["non_target_response"] == "NON-CR/NON-PD"
    assert r["overall_response"] == "SD"  # −25 % from 40
    r = at(out, 224)
    assert r["nadir_value"] == 30 and r["overall_response"] == "PR"  # −40 % from 40


def test_before_baseline_and_baseline_rows():
    """Note "Input": dates before the first baseline have null responses, "before baseline"."""
    rows = targets(-30, [45]) + targets(0, [50]) + targets(56, [50])
    out = run(rows, [seg(ref=7, base=0)])
    r = at(out, -30)
    assert r["overall_response"] is None and r["explanation"] == "before baseline" and r["line"] is None
    r = at(out, 0)
    assert r["overall_response"] is None and r["line"] == 1 and r["baseline_value"] == 50
    assert at(out, 56)["overall_response"] == "SD"
    assert at(run(rows, [seg(ref=40, base=0)]), 0)["warnings"] == "BASELINE_TOO_EARLY"  # §3.3


def test_incomplete_baseline_b1_and_missing_baseline_b0():
    """Note "Sums": an incomplete baseline makes every target response NE (B1); targets
    without a baseline scan are NE (B0); a new lesion still gives PD (Table 4)."""
    rows = [les(0, "T1", "target", "liver", False, 30), les(0, "T2", "target", "lung", False, None, "present")]
    rows += targets(56, [20, 10])
    r = at(run(rows), 56)
    assert r["target_response"] == "NE" and r["rule_ids"].startswith("B1") and r["overall_response"] == "NE"
    rows = targets(10, [30]) + targets(56, [20]) + [les(56, "L1", "new", "bone", False, None, "present")]
    out = run(rows, [seg(ref=5, base=None)])
    assert at(out, 10)["overall_response"] == "NE" and at(out, 10)["rule_ids"].startswith("B0")
    assert at(out, 56)["overall_response"] == "PD"


def test_multi_subject_equals_single_subject():
    """Vectorised over subjects: evaluating three subjects together gives each subject's
    single-subject result."""
    a, b = example_a("A"), example_b("B")
    c = [les(0, "N1", "non_target", "pleura", False, None, "present", subject="C"),
         les(60, "N1", "non_target", "pleura", False, None, "absent", subject="C")]
    segs = [seg("A"), seg("B"), seg("C", ref=3, base=0)]
    together = run(a + b + c, segs)
    for subject, rows, s in (("A", a, seg("A")), ("B", b, seg("B")), ("C", c, seg("C", ref=3, base=0))):
        alone = run(rows, [s])
        assert together.filter(pl.col("subject_id") == subject).equals(alone)
    assert together.height == 4 + 4 + 2
    # subjects without a segment are not reported
    assert run(a + b, [seg("A")])["subject_id"].unique().to_list() == ["A"]


def test_registry():
    """criteria/README.md order and canonical map; unknown codes list the known ones."""
    rc = registry.get("recist1.1")
    assert rc.code == "recist1.1" and rc.options_model is recist11.RecistOptions
    assert rc.best_response(recist11.RecistOptions()).confirmation == "recist"
    assert rc.order == ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING")
    assert rc.canonical["NON-CR/NON-PD"] == "STABLE"
    assert registry.get("who").order[:4] == ("CR", "PR", "NC", "PD")
    with pytest.raises(KeyError, match="recist1.1, who"):
        registry.get("recist2")


# --------------------------------------------------------------------------------------
# Property: monotonicity of the target response
# --------------------------------------------------------------------------------------

_RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.tuples(st.integers(10, 80), st.booleans()), min_size=1, max_size=5),
    st.lists(st.lists(st.integers(0, 90), min_size=5, max_size=5), min_size=0, max_size=3),
    st.lists(st.integers(0, 100), min_size=5, max_size=5),
    st.integers(0, 4),
    st.integers(1, 100),
)
def test_smaller_sum_never_worse_target_response(base, history, last, which, shrink):
    """§4.1: with everything else equal, lowering one target at the last time point (a
    smaller sum) never gives a worse target response (CR > PR > SD > PD)."""
    k = len(base)
    which %= k
    organs = ["lymph_node" if nodal else f"organ{i}" for i, (_, nodal) in enumerate(base)]
    nodal = [n for _, n in base]
    base_vals = [v + 5 if n else v for v, n in base]  # nodal targets ≥ 15 mm
    rows = targets(0, base_vals, organs, nodal)
    for j, h in enumerate(history):
        rows += targets(28 * (j + 1), h[:k], organs, nodal)
    n_last = 28 * (len(history) + 1)
    smaller = list(last[:k])
    smaller[which] = max(0, smaller[which] - shrink)
    r_big = at(run(rows + targets(n_last, last[:k], organs, nodal)), n_last)
    r_small = at(run(rows + targets(n_last, smaller, organs, nodal)), n_last)
    assert r_small["value"] <= r_big["value"]
    assert _RANK[r_small["target_response"]] <= _RANK[r_big["target_response"]]


def test_non_target_node_reappearing_after_cr_table_5():
    """§4.7: after a CR (all non-targets absent, node 9 mm), the nodal non-target back at
    12 mm is reappearance → PD, although Table 5 alone gives NON-CR/NON-PD."""
    rows = [les(n, "N2", "non_target", "lymph_node", True, d, "present") for n, d in ((0, 14), (56, 9), (112, 12))]
    out = run(rows)
    assert at(out, 56)["overall_response"] == "CR"
    r = at(out, 112)
    assert r["non_target_response"] == "NON-CR/NON-PD" and r["overall_response"] == "PD"
    assert r["rule_ids"] == "N4,NL0,R47,TAB5" and r["recurrence_sites"] == "lymph_node"
