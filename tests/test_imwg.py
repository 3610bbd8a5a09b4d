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
