"""IMWG 2016 engine (remission.criteria.imwg) on the hand-computed cases of
criteria/imwg.md §6 (edge cases) and §7 (worked examples)."""

import datetime as dt

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import imwg, registry

D0 = dt.date(2024, 1, 1)


def D(n):
    return D0 + dt.timedelta(days=n)


def run(labs, findings=(), segs=None, **opts):
    lab = pl.DataFrame([(s, D(d), t, float(v), "u") for s, d, t, v in labs], schema=S.LABS, orient="row")
    fnd = pl.DataFrame([(s, D(d), f, v) for s, d, f, v in findings], schema=S.FINDINGS, orient="row")
    subs = sorted({r[0] for r in labs})
    if segs is None:
        segs = pl.DataFrame([(s, 1, D(1), D(0), None) for s in subs], schema=S.SEGMENTS, orient="row")
    out = imwg.evaluate({"labs": lab, "findings": fnd}, segs, imwg.ImwgOptions(**opts))
    return out.filter(pl.col("overall_response").is_not_null())


def serum_urine(sid, rows):
    out = []
    for d, s, u in rows:
        if s is not None:
            out.append((sid, d, "serum_m_protein", s))
        if u is not None:
            out.append((sid, d, "urine_m_protein", u))
    return out


def test_registered():
    assert registry.get("imwg2016").options_model is imwg.ImwgOptions


def test_example1_secretory():
    """§7 example 1: PR at C2, C3, C6 (C3 VGPR needs -90 %); C9 PD (+0.5 g/dL exactly, +125 %)
    confirmed by C10, PD dated C9; C9 before C10 is pending."""
    labs = serum_urine("p", [(0, 3.0, 400), (60, 1.2, 150), (90, 1.0, 90), (180, 0.4, 60), (270, 0.9, 80), (300, 1.0, 90)])
    labs.append(("p", 0, "marrow_plasma_cells_pct", 40))
    out = run(labs)
    assert out["overall_response"].to_list() == ["PR", "PR", "PR", "PD", "PD"]
    assert out["canonical_level"].to_list() == ["PARTIAL"] * 3 + ["PROGRESSION"] * 2
    ev = out.filter(pl.col("is_progression_event"))
    assert ev["date"].to_list() == [D(270)] and ev["progression_event_date"].to_list() == [D(270)]
    assert out["change_from_baseline_pct"][0] == pytest.approx(-60.0)
    assert out.row(3, named=True)["change_from_nadir_abs"] == pytest.approx(0.5)
    # before C10 exists: C9 is an unconfirmed PD, confirmed status stays PR
    early = run([r for r in labs if r[1] != 300])
    last = early.row(-1, named=True)
    assert last["overall_response"] == "PD" and last["canonical_level"] == "PROGRESSION_PENDING"
    assert last["pending_progression"] and not last["is_progression_event"]
    assert "awaiting" in last["explanation"]


def test_example1_explanation_names_values():
    labs = serum_urine("p", [(0, 3.0, 400), (60, 1.2, 150), (90, 1.0, 90)])
    out = run(labs)
    assert out["explanation"][0].startswith("PR: serum M-protein 1.2 g/dL is 60% below baseline 3 g/dL (>= 50%)")


def test_example2_flc_only():
    """§7 example 2: κ light-chain disease; PR, VGPR, VGPR (ratio 4 abnormal), VGPR, PR, PD (PD4), PD."""
    rows = [(0, 60, 1), (30, 20, 1), (60, 5, 1), (90, 4, 1), (120, 2, 1), (150, 9, 1), (180, 14, 1), (210, 20, 1)]
    labs = []
    for d, k, l in rows:
        labs += [("k", d, "flc_kappa", k), ("k", d, "flc_lambda", l)]
    labs += [("k", 0, "serum_m_protein", 0.4), ("k", 0, "urine_m_protein", 150), ("k", 0, "marrow_plasma_cells_pct", 40),
             ("k", 30, "serum_m_protein", 0.3), ("k", 30, "urine_m_protein", 120)]
    for d in (60, 90, 120, 150, 180, 210):
        labs += [("k", d, "serum_m_protein", 0.0), ("k", d, "urine_m_protein", 40)]
    fnd = [("k", d, f, "negative") for d in (90, 120) for f in ("serum_ife", "urine_ife")]
    fnd += [("k", d, f, "positive") for d in (30, 60, 150, 180, 210) for f in ("serum_ife", "urine_ife")]
    labs.append(("k", 90, "marrow_plasma_cells_pct", 3))
    out = run(labs, fnd)
    assert out["overall_response"].to_list() == ["PR", "VGPR", "VGPR", "VGPR", "PR", "PD", "PD"]
    assert out["value"].to_list() == [19.0, 4.0, 3.0, 1.0, 8.0, 13.0, 19.0]
    assert "PD4" in out["rule_ids"][5]
    # confirmed statuses: PR, VGPR, VGPR, VGPR, VGPR (next is PD -> max(SD, VGPR)), PD
    assert [r.split("CONF:")[1] for r in out["rule_ids"]] == ["PR", "VGPR", "VGPR", "VGPR", "VGPR", "PD", "PD"]
    assert out.filter(pl.col("is_progression_event"))["date"].to_list() == [D(180)]


@pytest.mark.parametrize(
    "nadir,value,is_pd",
    [
        (0.2, 0.6, False),  # §6.1: +200 % but +0.4 g/dL
        (5.5, 6.5, True),  # §6.2: PD2, +1.0 g/dL from nadir >= 5
        (0.0, 0.6, True),  # §6.9: nadir 0, +0.6 >= 0.5
        (0.0, 0.4, False),  # §3.1 nadir zero: 0 -> 0.4 is not PD
    ],
)
def test_serum_pd_thresholds(nadir, value, is_pd):
    """§6 edge cases 1, 2, 9 and the nadir-zero rule of §3.1."""
    labs = serum_urine("s", [(0, 6.0, 400), (30, nadir, 50), (60, value, 50)])
    out = run(labs)
    assert (out["overall_response"][1] == "PD") is is_pd


def test_flc_pd_edge_case3():
    """§6.3: FLC-only, dFLC nadir 5 -> 16 mg/dL (+11 > 10, +220 %) -> PD (PD4)."""
    labs = [("f", 0, "involved_flc", 40), ("f", 0, "uninvolved_flc", 1), ("f", 0, "flc_ratio", 40),
            ("f", 30, "involved_flc", 6), ("f", 30, "uninvolved_flc", 1),
            ("f", 60, "involved_flc", 17), ("f", 60, "uninvolved_flc", 1)]
    out = run(labs)
    assert out["overall_response"].to_list() == ["PR", "PD"]
    assert "PD4" in out["rule_ids"][1]


def test_edge_case4_missing_urine_downgrades_vgpr_to_pr():
    """§6.4: urine not measurable (150), serum -92 %, no urine sample -> PR."""
    labs = serum_urine("e", [(0, 3.0, 150), (30, 0.24, None)])
    assert run(labs)["overall_response"].to_list() == ["PR"]
    labs = serum_urine("e", [(0, 3.0, 150), (30, 0.24, 50)])
    assert run(labs)["overall_response"].to_list() == ["VGPR"]


def test_edge_case5_ife_negative_without_marrow_is_vgpr():
    """§6.5: IFE negative twice, no marrow after baseline (40 % carried) -> VGPR, not CR."""
    labs = serum_urine("v", [(0, 3.0, 400)])
    fnd = [("v", d, f, "negative") for d in (30, 60) for f in ("serum_ife", "urine_ife")]
    labs.append(("v", 0, "marrow_plasma_cells_pct", 40))
    out = run(labs, fnd)
    assert out["overall_response"].to_list() == ["VGPR", "VGPR"]
    # with a marrow < 5 %: CR; with normal ratio and no clonal cells: sCR
    out = run(labs + [("v", 60, "marrow_plasma_cells_pct", 2), ("v", 60, "flc_ratio", 1.0)],
              fnd + [("v", 60, "marrow_clonality", "not_clonal")])
    assert out["overall_response"].to_list() == ["VGPR", "sCR"]
    # sCR awaits confirmation: the confirmed status stays VGPR (running maximum, §4)
    assert out["canonical_level"].to_list() == ["PARTIAL", "PARTIAL"]
    assert out["rule_ids"][1].endswith("CONF:VGPR")


def test_edge_case6_new_lytic_lesion_is_pd_without_confirmation():
    """§6.6: new bone lesion with falling M-protein -> PD (imaging, no confirmation)."""
    labs = serum_urine("b", [(0, 3.0, 400), (30, 1.0, 100)])
    out = run(labs, [("b", 30, "new_bone_lesion", "true")])
    r = out.row(0, named=True)
    assert r["overall_response"] == "PD" and r["canonical_level"] == "PROGRESSION" and r["is_progression_event"]
    assert "PD6" in r["rule_ids"]


def test_plasmacytoma_caps_level_mr():
    """§3.2 implementation rule example: serum meets VGPR, plasmacytoma SPD -40 % -> MR."""
    labs = serum_urine("m", [(0, 3.0, 400), (30, 0.2, 50)])
    fnd = [("m", 0, "plasmacytoma_spd", "1000"), ("m", 30, "plasmacytoma_spd", "600")]
    assert run(labs, fnd)["overall_response"].to_list() == ["MR"]
    assert run(labs, fnd, include_mr_as_response=False)["overall_response"].to_list() == ["SD"]


def test_confirmation_lower_next_and_unconfirmed_pd():
    """§4 table: VGPR followed by PR -> confirmed PR; a biochemical PD followed by a response
    is NE (status stays at the last confirmed level, admiralonco 01-701-1345)."""
    labs = serum_urine("c", [(0, 3.0, 400), (30, 0.2, 50), (60, 0.6, 50), (90, 0.8, 50), (120, 0.5, 50)])
    out = run(labs)
    assert out["overall_response"].to_list() == ["VGPR", "PR", "PD", "PR"]
    conf = [r.split("CONF:")[1] for r in out["rule_ids"]]
    assert conf == ["PR", "PR", "PR", "PR"]
    assert out["canonical_level"][2] == "PARTIAL" and not out["is_progression_event"].any()


def test_pd_confirmation_after_new_therapy_option():
    """§4 / §6.7: a confirming PD sample after new therapy confirms by default; with
    pd_confirm_after_new_therapy=False the PD stays unconfirmed."""
    labs = serum_urine("n", [(0, 3.0, 400), (30, 1.0, 100), (60, 1.6, 100), (90, 2.2, 100)])
    segs = pl.DataFrame([("n", 1, D(1), D(0), D(60)), ("n", 2, D(70), D(60), None)], schema=S.SEGMENTS, orient="row")
    out = run(labs, segs=segs)
    line1 = out.filter(pl.col("line") == 1)
    assert line1.filter(pl.col("date") == D(60))["canonical_level"].item() == "PROGRESSION"
    out = run(labs, segs=segs, pd_confirm_after_new_therapy=False)
    # PR at 30 was followed by PD -> confirmed SD; the PD at 60 stays unconfirmed (NE)
    assert out.filter((pl.col("line") == 1) & (pl.col("date") == D(60)))["canonical_level"].item() == "STABLE"


# ---------------------------------------------------------------------------------------
# §5.1 MRD categories, §5.3/§5.4 relapse from CR / MRD-negative, PD7, §2.2 exclude_from_nadir
# ---------------------------------------------------------------------------------------

def cr_patient(sid="r", days=(30, 60, 90), marrow_day=30):
    """Baseline serum 3.0 g/dL, urine 400 mg/24h, BMPC 40 %; at every day of ``days`` serum
    and urine M-protein 0 with negative serum and urine IFE; marrow 2 % at ``marrow_day``:
    unconfirmed CR at each day (§3.2: IFE negative, BMPC < 5 %)."""
    labs = serum_urine(sid, [(0, 3.0, 400)] + [(d, 0.0, 0.0) for d in days])
    labs += [(sid, 0, "marrow_plasma_cells_pct", 40), (sid, marrow_day, "marrow_plasma_cells_pct", 2)]
    fnd = [(sid, d, f, "negative") for d in days for f in ("serum_ife", "urine_ife")]
    return labs, fnd


def mrd(sid, d, result="negative", method="ngf", sens="1e-5"):
    return [(sid, d, "mrd", result), (sid, d, "mrd_method", method), (sid, d, "mrd_sensitivity", sens)]


def by_day(out, n):
    return out.filter(pl.col("date") == D(n)).row(0, named=True)


def test_mrd_categories_imaging_plus_and_sustained_5_1():
    """§5.1: NGF 1e-5 negative + negative PET-CT at day 60 -> imaging-plus-MRD-negative
    (carried to day 90 and to day 400, where the NGS test repeats it 340 days later: not yet
    1 year); at day 430 the marrow (NGF) and the PET-CT are negative again, 370 days after the
    run's first ones (>= 365) -> sustained MRD-negative (370 days). Day 30 (no MRD) -> null."""
    days = (30, 60, 90, 400, 430, 460)
    labs, fnd = cr_patient(days=days)
    fnd += mrd("r", 60) + [("r", 60, "pet_ct", "negative_per_imwg")]
    fnd += mrd("r", 400, method="ngs", sens="1e-6")
    fnd += mrd("r", 430) + [("r", 430, "pet_ct", "negative")]
    out = run(labs, fnd)
    assert out["canonical_level"].to_list() == ["COMPLETE"] * 6
    assert out["non_target_response"].to_list() == [
        None, "IMAGING_PLUS_MRD_NEGATIVE", "IMAGING_PLUS_MRD_NEGATIVE", "IMAGING_PLUS_MRD_NEGATIVE",
        "SUSTAINED_MRD_NEGATIVE", "SUSTAINED_MRD_NEGATIVE",
    ]
    r = by_day(out, 430)
    assert "MRD:SUSTAINED_MRD_NEGATIVE" in r["rule_ids"] and "for 370 days" in r["explanation"]
    # option sustained_mrd_min_days: 371 days are not reached
    out = run(labs, fnd, sustained_mrd_min_days=371)
    assert by_day(out, 430)["non_target_response"] == "IMAGING_PLUS_MRD_NEGATIVE"


@pytest.mark.parametrize(
    "method,sens,expected",
    [
        ("ngf", "1e-5", "FLOW_MRD_NEGATIVE"),  # §5.1 flow, sensitivity 1 in 10^5
        ("ngs", "0.000001", "SEQUENCING_MRD_NEGATIVE"),  # §5.1 sequencing, 1 in 10^6
        ("ngf", "1e-4", "MRD_INDETERMINATE_SENSITIVITY"),  # §5.1: worse than 1e-5
        ("ngf", None, "MRD_INDETERMINATE_SENSITIVITY"),  # choice: unknown sensitivity
        ("pcr", "1e-5", "MRD_INDETERMINATE_METHOD"),  # choice: §5.1 defines NGF/NGS only
    ],
)
def test_mrd_marrow_categories_without_pet_5_1(method, sens, expected):
    labs, fnd = cr_patient()
    fnd += [f for f in mrd("r", 60, method=method, sens=sens) if f[3] is not None]
    out = run(labs, fnd)
    assert out["non_target_response"].to_list() == [None, expected, expected]


def test_mrd_positive_and_not_reported_outside_cr_5_1():
    """§5.1 'only for patients in CR': MRD labels only on COMPLETE rows; a positive test is
    MRD_POSITIVE. A VGPR patient (IFE positive) gets no label."""
    labs, fnd = cr_patient()
    out = run(labs, fnd + mrd("r", 60, result="positive"))
    assert out["non_target_response"].to_list() == [None, "MRD_POSITIVE", "MRD_POSITIVE"]
    labs = serum_urine("v", [(0, 3.0, 400), (30, 0.2, 50), (60, 0.2, 50)])
    out = run(labs, [("v", 30, "serum_ife", "positive")] + mrd("v", 30))
    assert out["canonical_level"].to_list() == ["PARTIAL", "PARTIAL"]
    assert out["non_target_response"].to_list() == [None, None]


def test_relapse_from_cr_ife_positive_is_not_pd_5_3():
    """§5.3 / §3.2 'positive IFE alone in a patient who was in CR is not PD': confirmed CR at
    30-90; day 120 serum IFE positive with M-spike 0 -> VGPR (not PD), relapse from CR: level
    PARTIAL (remission_model.md §3, §6.6), also on day 150 (loss is kept until a new confirmed
    CR). The MRD-negative patient (NGF at day 60) also relapses from MRD-negative (§5.4)."""
    labs, fnd = cr_patient(days=(30, 60, 90, 120, 150))
    fnd = [f for f in fnd if not (f[1] in (120, 150) and f[2] == "serum_ife")]
    fnd += [("r", 120, "serum_ife", "positive"), ("r", 150, "serum_ife", "positive")] + mrd("r", 60)
    out = run(labs, fnd)
    assert out["overall_response"].to_list() == ["CR", "CR", "CR", "VGPR", "VGPR"]
    assert out["canonical_level"].to_list() == ["COMPLETE"] * 3 + ["PARTIAL"] * 2
    assert not out["is_progression_event"].any() and not out["pending_progression"].any()
    r = by_day(out, 120)
    assert "RELAPSE_FROM_CR" in r["rule_ids"] and "RELAPSE_FROM_CR" in r["warnings"]
    assert "RELAPSE_FROM_MRD_NEGATIVE" in r["rule_ids"] and "serum IFE positive" in r["explanation"]
    assert "RELAPSE_FROM_CR" not in by_day(out, 150)["rule_ids"]
    assert by_day(out, 90)["non_target_response"] == "FLOW_MRD_NEGATIVE"
    assert by_day(out, 120)["non_target_response"] is None  # not in CR any more


def test_relapse_from_cr_marrow_and_new_cr_restores_complete_5_3():
    """§5.3: >= 5 % marrow plasma cells (6 % at day 120, IFE still negative) is relapse from
    CR; CR again at 150 and 180 (marrow 3 %) is a new confirmed CR -> COMPLETE again at 150."""
    labs, fnd = cr_patient(days=(30, 60, 90, 120, 150, 180))
    labs += [("r", 120, "marrow_plasma_cells_pct", 6), ("r", 150, "marrow_plasma_cells_pct", 3)]
    out = run(labs, fnd)
    assert out["overall_response"].to_list() == ["CR", "CR", "CR", "VGPR", "CR", "CR"]
    assert out["canonical_level"].to_list() == ["COMPLETE"] * 3 + ["PARTIAL"] + ["COMPLETE"] * 2
    assert "marrow plasma cells 6%" in by_day(out, 120)["explanation"]


def test_relapse_from_cr_hypercalcaemia_5_3():
    """§5.3 'hypercalcaemia' (§5.2: > 11 mg/dL): calcium 11.5 on a CR date -> relapse; 11.0
    (not > 11) is not."""
    for ca, lost in ((11.5, True), (11.0, False)):
        labs, fnd = cr_patient(days=(30, 60, 90, 120))
        labs.append(("r", 120, "serum_calcium", ca))
        out = run(labs, fnd)
        assert (by_day(out, 120)["canonical_level"] == "PARTIAL") is lost


def test_mrd_relapse_alone_keeps_complete_5_4():
    """§5.4: MRD-negative (day 60) then MRD positive (day 90) with IFE still negative:
    relapse from MRD-negative is flagged, but the CR criteria still hold -> COMPLETE
    (choice, as ELN MRD relapse in remission_model.md §3: no level change)."""
    labs, fnd = cr_patient(days=(30, 60, 90, 120))
    out = run(labs, fnd + mrd("r", 60) + mrd("r", 90, result="positive"))
    assert out["canonical_level"].to_list() == ["COMPLETE"] * 4
    r = by_day(out, 90)
    assert "RELAPSE_FROM_MRD_NEGATIVE" in r["rule_ids"] and "RELAPSE_FROM_CR" not in r["rule_ids"]
    assert r["non_target_response"] == "MRD_POSITIVE"
    assert "RELAPSE_FROM_MRD_NEGATIVE" not in by_day(out, 120)["rule_ids"]


def test_pd7_circulating_plasma_cells_only_measure():
    """§3.1 PD7: serum 0.5, urine 100, BMPC 20 % not measurable; circulating plasma cells
    0.3 x10^9/L at baseline, nadir 0.2 at day 30; day 60 0.35 (+0.15 < 0.2, +75 %) not PD;
    day 90 0.45 (+0.25 >= 0.2 and +125 % >= 50 %) PD7, confirmed by day 120 (0.5)."""
    labs = [("c", 0, "serum_m_protein", 0.5), ("c", 0, "urine_m_protein", 100), ("c", 0, "marrow_plasma_cells_pct", 20)]
    labs += [("c", d, "pb_plasma_cells", v) for d, v in ((0, 0.3), (30, 0.2), (60, 0.35), (90, 0.45), (120, 0.5))]
    out = run(labs)
    assert out["overall_response"].to_list() == ["NE", "NE", "PD", "PD"]
    assert "PD7" in out["rule_ids"][2] and "M-C" in out["rule_ids"][2]
    assert out.filter(pl.col("is_progression_event"))["date"].to_list() == [D(90)]
    assert out["nadir_value"][2] == pytest.approx(0.2)
    # +0.22 but only +44 % (nadir 0.5 -> 0.72): not PD7
    labs2 = labs[:3] + [("c", 0, "pb_plasma_cells", 0.5), ("c", 30, "pb_plasma_cells", 0.72)]
    assert run(labs2)["overall_response"].to_list() == ["NE"]
    # not the only measure (serum measurable): PD7 does not apply
    labs3 = [("s", d, "serum_m_protein", v) for d, v in ((0, 3.0), (30, 1.2))]
    labs3 += [("s", 0, "pb_plasma_cells", 0.2), ("s", 30, "pb_plasma_cells", 1.0)]
    assert run(labs3)["overall_response"].to_list() == ["PR"]


def test_pb_plasma_cells_units():
    """units.py: 200 cells/uL = 0.2 x10^9/L (PD7 minimum)."""
    from remission import units

    labs = pl.DataFrame({"test": ["pb_plasma_cells"] * 3, "value": [200.0, 0.2, 0.2], "unit": ["cells/µL", "10^9/L", "x10^9/L"]})
    out = units.convert(labs)
    assert out["unit_ok"].to_list() == [True, True, True]
    assert out["value_canonical"].to_list() == pytest.approx([0.2, 0.2, 0.2])
    assert units.CANONICAL_UNITS["pb_plasma_cells"] == "10^9/L"


def test_exclude_from_nadir_2_2():
    """§2.2/§3.1: serum 1.0 (day 30), 0.2 (day 60, flagged spurious), 0.8 (day 90).
    Unflagged: nadir 0.2, +0.6 g/dL and +300 % -> PD1. Flagged: nadir 1.0, no PD -> PR."""
    labs = serum_urine("x", [(0, 3.0, 400), (30, 1.0, 100), (60, 0.2, 100), (90, 0.8, 100), (120, 0.8, 100)])
    out = run(labs)
    assert by_day(out, 90)["overall_response"] == "PD" and by_day(out, 90)["nadir_value"] == pytest.approx(0.2)
    out = run(labs, [("x", 60, "exclude_from_nadir", "serum_m_protein")])
    assert by_day(out, 90)["overall_response"] == "PR" and by_day(out, 90)["nadir_value"] == pytest.approx(1.0)
    # a flag naming another test leaves the serum nadir alone
    out = run(labs, [("x", 60, "exclude_from_nadir", "urine_m_protein")])
    assert by_day(out, 90)["overall_response"] == "PD"


def test_exclude_from_nadir_at_baseline_2_2():
    """§2.2: a flagged baseline value is ignored for the nadir (not for the reduction):
    baseline 1.2 flagged, day 30 2.0 -> nadir 2.0; day 60 2.6: +0.6 and +30 % -> PD1.
    Unflagged: nadir 1.2 -> day 30 already PD (+0.8, +67 %)."""
    labs = serum_urine("y", [(0, 1.2, None), (30, 2.0, None), (60, 2.6, None)])
    assert run(labs)["overall_response"][0] == "PD"
    out = run(labs, [("y", 0, "exclude_from_nadir", "serum_m_protein")])
    assert out["overall_response"].to_list() == ["SD", "PD"]
    assert out["nadir_value"][0] is None and out["nadir_value"][1] == pytest.approx(2.0)


def test_assess_relapse_from_cr_ends_complete_subperiod(tmp_path):
    """End to end (remission.assess): confirmed CR from 2024-03-01, serum IFE positive on
    2024-06-01 (relapse from CR, §5.3, not PD) -> the episode's complete sub-period ends on
    2024-06-01 (remission_model.md §6.6) while the episode continues (no progression)."""
    from remission import assess

    (tmp_path / "subjects.csv").write_text(
        "subject_id,cancer_type,criteria,diagnosis_date,death_date,last_contact_date\n"
        "R-1,multiple_myeloma,,2023-12-01,,2024-12-01\n")
    (tmp_path / "treatments.csv").write_text(
        "subject_id,start_date,end_date,modality,intent,line,name\nR-1,2024-01-02,2024-09-01,chemotherapy,induction,,VRd\n")
    days = ["2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"]
    labs = ["subject_id,date,test,value,unit", "R-1,2024-01-01,serum_m_protein,3.0,g/dL",
            "R-1,2024-01-01,urine_m_protein,400,mg/24h", "R-1,2024-01-01,marrow_plasma_cells_pct,40,%",
            "R-1,2024-03-01,marrow_plasma_cells_pct,2,%"]
    labs += [f"R-1,{d},{t},0,{u}" for d in days for t, u in (("serum_m_protein", "g/dL"), ("urine_m_protein", "mg/24h"))]
    fnd = ["subject_id,date,finding,value"]
    fnd += [f"R-1,{d},{f},{'positive' if d >= '2024-06-01' and f == 'serum_ife' else 'negative'}"
            for d in days for f in ("serum_ife", "urine_ife")]
    (tmp_path / "labs.csv").write_text("\n".join(labs) + "\n")
    (tmp_path / "findings.csv").write_text("\n".join(fnd) + "\n")
    res = assess(tmp_path)
    a = res.assessments.filter(pl.col("overall_response").is_not_null())
    assert a["overall_response"].to_list() == ["CR", "CR", "CR", "VGPR", "VGPR"]
    ep = res.episodes.filter(pl.col("subject_id") == "R-1")
    assert ep.height == 1
    e = ep.row(0, named=True)
    assert str(e["complete_start_date"]) == "2024-03-01"
    assert str(e["complete_end_date"]) == "2024-06-01"
    assert e["complete_end_reason"] is not None
    assert e["end_date"] is None  # the episode continues (only PD ends it)
    assert res.summary.filter(pl.col("subject_id") == "R-1")["progression_date"].item() is None


def test_daratumumab_interference_serum_ife_read_negative_3_2():
    """§3.2: a positive serum IFE flagged ``daratumumab_interference`` is treated as negative.
    CR patient (IFE negative, marrow 2 %) whose serum IFE is positive on days 60 and 90:
    unflagged -> days 60/90 VGPR (serum 0 g/dL, urine 0: VGPR gate met; CR denied by IFE);
    flagged on both days -> CR, CR (confirmed COMPLETE), rule IFE_DARATUMUMAB_INTERFERENCE.
    A flagged positive urine IFE is not changed (choice: the antibody is a serum protein)."""
    labs, fnd = cr_patient()
    fnd = [f for f in fnd if not (f[1] in (60, 90) and f[2] == "serum_ife")]
    pos = [("r", d, "serum_ife", "positive") for d in (60, 90)]
    out = run(labs, fnd + pos)
    assert out["overall_response"].to_list() == ["CR", "VGPR", "VGPR"]
    flag = [("r", d, "daratumumab_interference", "true") for d in (60, 90)]
    out = run(labs, fnd + pos + flag)
    assert out["overall_response"].to_list() == ["CR", "CR", "CR"]
    assert out["canonical_level"].to_list() == ["COMPLETE"] * 3
    r = by_day(out, 60)
    assert "IFE_DARATUMUMAB_INTERFERENCE" in r["rule_ids"] and "IFE_DARATUMUMAB_INTERFERENCE" in r["warnings"]
    assert "daratumumab" in r["explanation"]
    assert "IFE_DARATUMUMAB_INTERFERENCE" not in (by_day(out, 30)["rule_ids"] or "")
    # urine IFE positive + daratumumab flag: still VGPR (urine not affected)
    labs, fnd = cr_patient()
    fnd = [f for f in fnd if not (f[1] == 60 and f[2] == "urine_ife")]
    out = run(labs, fnd + [("r", 60, "urine_ife", "positive"), ("r", 60, "daratumumab_interference", "true")])
    assert by_day(out, 60)["overall_response"] == "VGPR"


def test_different_isotype_band_excluded_from_cr_denial_6_8():
    """§6 edge case 8: confirmed CR on days 30-90; on day 120 a new oligoclonal band makes
    serum and urine IFE positive. Unflagged: VGPR and relapse from CR (§5.3, level PARTIAL).
    Flagged ``different_isotype_band``: the band does not deny CR -> CR, COMPLETE, no
    RELAPSE_FROM_CR, rule IFE_DIFFERENT_ISOTYPE_BAND."""
    labs, fnd = cr_patient(days=(30, 60, 90, 120))
    fnd = [f for f in fnd if f[1] != 120] + [("r", 120, "serum_ife", "positive"), ("r", 120, "urine_ife", "positive")]
    out = run(labs, fnd)
    r = by_day(out, 120)
    assert (r["overall_response"], r["canonical_level"]) == ("VGPR", "PARTIAL")
    assert "RELAPSE_FROM_CR" in r["rule_ids"]
    out = run(labs, fnd + [("r", 120, "different_isotype_band", "yes")])
    r = by_day(out, 120)
    assert (r["overall_response"], r["canonical_level"]) == ("CR", "COMPLETE")
    assert "RELAPSE_FROM_CR" not in r["rule_ids"] and "IFE_DIFFERENT_ISOTYPE_BAND" in r["warnings"]


def test_clinical_relapse_is_a_warning_not_pd_5_2():
    """§5.2 clinical relapse (optional endpoint): serum 3.0 -> 1.2 g/dL (-60 %, PR) on days
    30, 60, 90; haemoglobin 12.0 g/dL at baseline, 10.5 on day 60 (fall 1.5 < 2: nothing),
    9.9 on day 90 (fall 2.1 >= 2): CLINICAL_RELAPSE on day 90, level stays PARTIAL, no PD.
    Hyperviscosity on day 120 is not reported again (once per line)."""
    labs = [("c", d, "serum_m_protein", v) for d, v in ((0, 3.0), (30, 1.2), (60, 1.2), (90, 1.2), (120, 1.2))]
    labs += [("c", 0, "hemoglobin", 12.0), ("c", 60, "hemoglobin", 10.5), ("c", 90, "hemoglobin", 9.9)]
    out = run(labs, [("c", 120, "hyperviscosity", "true")])
    assert out["overall_response"].to_list() == ["PR"] * 4
    assert out["canonical_level"].to_list()[:3] == ["PARTIAL"] * 3
    assert not out["is_progression_event"].any() and not out["pending_progression"].any()
    flagged = [d for d in (30, 60, 90, 120) if "CLINICAL_RELAPSE" in (by_day(out, d)["warnings"] or "")]
    assert flagged == [90]
    r = by_day(out, 90)
    assert "CLINICAL_RELAPSE" in r["rule_ids"] and "2.1 g/dL below baseline 12" in r["explanation"]


@pytest.mark.parametrize(
    "finding,value",
    [("creatinine_rise", "true"), ("bone_lesion_growth", "true"), ("hyperviscosity", "true"), ("hypercalcaemia", "true")],
)
def test_clinical_relapse_items_5_2(finding, value):
    """§5.2 items given as findings on a PR assessment (day 60): each one alone flags
    CLINICAL_RELAPSE there and changes no level (PR stays PR, PARTIAL)."""
    labs = [("c", d, "serum_m_protein", v) for d, v in ((0, 3.0), (30, 1.2), (60, 1.2), (90, 1.2))]
    out = run(labs, [("c", 60, finding, value)])
    r = by_day(out, 60)
    assert "CLINICAL_RELAPSE" in r["warnings"] and r["overall_response"] == "PR" and r["canonical_level"] == "PARTIAL"
    assert "CLINICAL_RELAPSE" not in (by_day(out, 30)["warnings"] or "")
