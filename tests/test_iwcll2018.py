"""iwCLL 2018 criteria (``iwcll2018.md``): every edge case (§6) and worked example (§7)
with hand-computed values, the PD rules D1-D6, CR/CRi/nPR/PR/PR-L, timing and the options of
§8.  Day n is 2024-01-01 + (n - 1) days; the baseline is on day 0."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import registry, stated
from remission.criteria.iwcll2018 import ORDER, Iwcll2018Options
from remission.options import AssessOptions
from remission.pipeline import assess

D0 = dt.date(2024, 1, 1)
LAB_UNITS = {"alc": ("lymphocytes", "10^9/L"), "b": ("b_lymphocytes", "10^9/L"), "plt": ("platelets", "10^9/L"),
             "hb": ("hemoglobin", "g/dL"), "anc": ("anc", "10^9/L"), "infil": ("marrow_cll_infiltrate_pct", "%")}
FINDINGS = {"spd": "node_spd_cm2", "ld": "largest_node_cm", "spleen": "spleen_length_cm", "liver": "liver",
            "marrow": "marrow_cll", "symptoms": "constitutional_symptoms", "richter": "richter_transformation",
            "cyto_cll": "cytopenia_due_to_cll", "drug_tox": "drug_toxicity_cytopenia", "bcr": "on_bcr_inhibitor",
            "new_node": "new_node", "mrd": "mrd", "rbc": "rbc_transfusion"}


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n - 1)


class Case:
    def __init__(self, sid="S1"):
        self.sid, self.labs, self.findings, self.treatments = sid, [], [], []

    def at(self, n, **values):
        for k, v in values.items():
            if v is None:
                continue
            if k in LAB_UNITS:
                test, unit = LAB_UNITS[k]
                self.labs.append(dict(subject_id=self.sid, date=day(n).isoformat(), test=test, value=str(v), unit=unit))
            else:
                val = str(v).lower() if isinstance(v, bool) else str(v)
                self.findings.append(dict(subject_id=self.sid, date=day(n).isoformat(), finding=FINDINGS[k], value=val))
        return self

    def treat(self, start, end=None, intent="induction", name=None):
        self.treatments.append(dict(subject_id=self.sid, start_date=day(start).isoformat(),
                                    end_date=day(end).isoformat() if end else None,
                                    modality="chemotherapy" if intent != "continuous" else "targeted",
                                    intent=intent, name=name))
        return self

    def run(self, **opts):
        res = assess(
            subjects=pl.DataFrame(dict(subject_id=[self.sid], cancer_type=["cll"])),
            labs=pl.DataFrame(self.labs) if self.labs else None,
            findings=pl.DataFrame(self.findings) if self.findings else None,
            treatments=pl.DataFrame(self.treatments) if self.treatments else None,
            options=AssessOptions(iwcll2018=opts),
        )
        return Result(res)


class Result:
    def __init__(self, res):
        self.res, self.tp = res, res.timepoints

    def row(self, n):
        rows = self.tp.filter(pl.col("date") == day(n)).to_dicts()
        assert len(rows) == 1, f"day {n}: {len(rows)} rows"
        return rows[0]

    def cat(self, n):
        return self.row(n)["overall_response"]


NORMAL_A = dict(ld=1.0, spd=2.0, spleen=11, liver="normal", symptoms=False)
NORMAL_B = dict(anc=3.0, plt=180, hb=13.5)


# --------------------------------------------------------------------------------------
# §7 worked examples
# --------------------------------------------------------------------------------------


def example1() -> Case:
    c = Case().treat(1, 168)
    c.at(0, spd=40, ld=4, spleen=18, liver="normal", alc=80, plt=90, hb=10.5, anc=2.0, marrow="cll_cells_present",
         symptoms=True)
    c.at(240, spd=15, ld=2.2, spleen=14, liver="normal", alc=3.5, plt=140, hb=12.0, anc=2.0,
         marrow="b_lymphoid_nodules", symptoms=False)
    c.at(480, spd=24, ld=3.0, alc=12, b=10)
    return c


def test_example1_fixed_duration():
    """§7 example 1: day 240 (72 days after the end, >= 56) PR: SPD -62.5 %, spleen excess
    5 -> 1 cm (-80 %), ALC -95.6 %, platelets 140, Hb 12; A 3/3 (needs 2), B 2/2 (needs 1).
    Day 480: SPD 24 = +60 % vs nadir 15 -> PD (D1); ALC 12 is -85 % vs baseline 80 -> not D3;
    relapse (240 days = 7.9 months >= 6), not refractory (312 days = 10.3 months)."""
    r = example1().run()
    row = r.row(240)
    assert row["overall_response"] == "PR" and row["canonical_level"] == S.PARTIAL
    e = row["explanation"]
    assert "node SPD 15 cm2 (-62.5% vs baseline 40)" in e
    assert "spleen 14 cm (excess 1 vs 5 cm over 13: -80%)" in e
    assert "ALC 3.5 x10^9/L (-95.62% vs baseline 80)" in e
    assert "group A 3/3 improved (needs 2), group B 2/2 (needs 1)" in e
    assert row["value"] == 3.5 and row["baseline_value"] == 80.0
    row = r.row(480)
    assert row["overall_response"] == "PD" and row["is_progression_event"] is True
    assert row["rule_ids"] == "D1,RELAPSE"
    assert "D1 node SPD 24 cm2 is +60% vs nadir/baseline 15 (>= +50%)" in row["explanation"]
    assert "relapse: 7.89 months after the response of 2024-08-27" in row["explanation"]
    assert row["change_from_baseline_pct"] == pytest.approx(-85.0)


def test_example1_alc_nadir_reference():
    """§7 example 1 / edge case 8: with alc_pd_reference = nadir, ALC 12 is +243 % vs the
    nadir 3.5 with B cells 10 -> D3 as well."""
    row = example1().run(alc_pd_reference="nadir").row(480)
    assert row["rule_ids"] == "D1,D3,RELAPSE"
    assert "D3 ALC 12 x10^9/L >= 1.5 x 3.5 (nadir) with B cells 10 (>= 5)" in row["explanation"]
    assert row["change_from_nadir_pct"] == pytest.approx((12 - 3.5) / 3.5 * 100)


def example2() -> Case:
    c = Case().treat(1, None, intent="continuous", name="ibrutinib")
    c.at(0, spd=20, ld=3.0, spleen=12, liver="normal", alc=30, b=28, plt=150, hb=13.0, anc=3.0,
         marrow="cll_cells_present", symptoms=False)
    c.at(90, spd=9, alc=60, b=55, plt=160, hb=12.8, bcr=True)
    c.at(180, spd=8, alc=14, plt=170, hb=13.1, bcr=True)
    c.at(270, spd=7, alc=10, plt=150, hb=12.9, bcr=True)
    c.at(360, spd=7, alc=9, plt=140, hb=9.8, bcr=True)
    c.at(450, richter=True, bcr=True)
    return c


def test_example2_continuous_btki():
    """§7 example 2: day 90 PR-L (D3 not applied on a BCR inhibitor; without ALC A_abn = 1,
    nodes -55 %), 180 PR (nodes -60 %, ALC -53 %), 270 PR, 360 PR with Hb -3.2 on continuous
    therapy (not PD, warning), 450 Richter -> PD (DISEASE TRANSFORMATION), relapse (360 days
    = 11.8 months after day 90) and refractory (on therapy)."""
    r = example2().run()
    row = r.row(90)
    assert row["overall_response"] == "PR-L" and row["canonical_level"] == S.PARTIAL
    assert row["target_response"] == "PR WITH LYMPHOCYTOSIS"
    assert row["warnings"] == "LYMPHOCYTOSIS_ON_BCR_INHIBITOR"
    assert "node SPD 9 cm2 (-55% vs baseline 20)" in row["explanation"]
    assert [r.cat(n) for n in (180, 270, 360)] == ["PR", "PR", "PR"]
    assert "group A 2/2 improved (needs 2), group B 0/0 (needs 0)" in r.row(180)["explanation"]
    row = r.row(360)
    assert row["warnings"] == "CYTOPENIA_NOT_PD_TIMING" and "Hb 9.8 g/dL (-24.62% vs baseline 13)" in row["explanation"]
    row = r.row(450)
    assert row["overall_response"] == "PD" and row["target_response"] == "DISEASE TRANSFORMATION"
    assert row["rule_ids"] == "D4,RELAPSE,REFRACTORY"
    assert "relapse: 11.83 months after the response of 2024-03-30" in row["explanation"]
    assert "refractory: on therapy" in row["explanation"]
    # continuous therapy: the 56-day persistence is the lifecycle's confirmation
    ep = r.res.episodes.row(0, named=True)
    assert ep["start_date"] == day(90) and ep["confirmed_date"] == day(180) and ep["end_date"] == day(450)


def test_example2_pr_l_not_counted():
    """§7 example 2 with pr_l_counts_as_pr = False: day 90 SD; the episode starts day 180."""
    r = example2().run(pr_l_counts_as_pr=False)
    row = r.row(90)
    assert row["overall_response"] == "SD" and row["rule_ids"] == "PR-L"
    assert r.res.episodes.row(0, named=True)["start_date"] == day(180)


# --------------------------------------------------------------------------------------
# §6 edge cases
# --------------------------------------------------------------------------------------


def test_edge1_lymphocytosis_on_bcr_inhibitor_not_pd():
    """§6.1: ALC 30 -> 60 (+100 %, B 55) with shrinking nodes on a BCR inhibitor: not PD;
    the same without the inhibitor is D3."""
    base = dict(spd=20, ld=3.0, spleen=12, liver="normal", alc=30, b=28, **NORMAL_B)
    on = Case().treat(1, None, intent="continuous").at(0, **base).at(90, spd=9, alc=60, b=55, bcr=True)
    assert on.run().cat(90) == "PR-L"
    off = Case().treat(1, None, intent="continuous").at(0, **base).at(90, spd=9, alc=60, b=55)
    row = off.run().row(90)
    assert row["overall_response"] == "PD" and "D3" in row["rule_ids"]


def test_d3_needs_b_cells_5():
    """§4.1 D3: ALC +100 % but B cells 4 (< 5) -> not PD."""
    c = Case().at(0, alc=30, **NORMAL_A, **NORMAL_B).at(90, alc=60, b=4, **NORMAL_A, **NORMAL_B)
    assert c.run().cat(90) == "SD"


def cytopenia_case(cyto_day, end=168, cll=True, marrow="cll_cells_present"):
    c = Case().treat(1, end)
    c.at(0, spd=20, ld=3.0, spleen=12, liver="normal", alc=30, plt=150, hb=13.0, anc=3.0, marrow="cll_cells_present")
    c.at(cyto_day, spd=8, ld=1.8, alc=10, plt=150, hb=10.8, anc=3.0, marrow=marrow, cyto_cll=cll)
    return c


def test_edge2_cytopenia_timing():
    """§6.2 / D5: Hb 13.0 -> 10.8 (-2.2 > 2 g/dL) due to CLL with an involved marrow: PD when
    >= 90 days after the end of therapy (day 168 + 100 = 268), not at 60 days (228)."""
    row = cytopenia_case(268).run().row(268)
    assert row["overall_response"] == "PD" and row["rule_ids"].startswith("D5")
    assert "D5 cytopenia due to CLL: Hb 10.8 (baseline 13), platelets 150 (baseline 150), 100 days after treatment" in row["explanation"]
    row = cytopenia_case(228).run().row(228)
    assert row["overall_response"] != "PD" and "CYTOPENIA_NOT_PD_TIMING" in row["warnings"]


def test_edge3_autoimmune_cytopenia_not_pd():
    """§6.3: autoimmune cytopenia (cytopenia_due_to_cll = False) -> not PD."""
    assert cytopenia_case(268, cll=False).run().cat(268) != "PD"


def test_d5_needs_involved_marrow():
    """§4.1 D5: "with marrow showing clonal infiltrate"."""
    assert cytopenia_case(268, marrow="normocellular_no_cll").run().cat(268) != "PD"


def cr_case(marrow="normocellular_no_cll", **over):
    c = Case().treat(1, 168)
    c.at(0, spd=30, ld=3.0, spleen=16, liver="normal", alc=50, plt=80, hb=10.0, anc=2.0, marrow="cll_cells_present")
    vals = dict(spd=1.0, ld=1.0, spleen=11, liver="normal", symptoms=False, alc=2.0, plt=150, hb=12.5, anc=2.5,
                marrow=marrow)
    vals.update(over)
    c.at(240, **vals)
    return c


def test_cr_cri_npr():
    """§4.2: all CR criteria -> CR; nodules -> nPR; drug-toxicity cytopenia -> CRi;
    ANC 1.2 (< 1.5, ambiguity §10) without drug toxicity -> PR."""
    row = cr_case().run().row(240)
    assert row["overall_response"] == "CR" and row["canonical_level"] == S.COMPLETE
    row = cr_case("b_lymphoid_nodules").run().row(240)
    assert row["overall_response"] == "nPR" and row["target_response"] == "nPR" and row["canonical_level"] == S.PARTIAL
    row = cr_case(plt=90, drug_tox=True).run().row(240)
    assert row["overall_response"] == "CRi" and row["canonical_level"] == S.COMPLETE
    assert cr_case(anc=1.2).run().cat(240) == "PR"


def test_cr_hb_must_be_untransfused():
    """§3 / §4.2: Hb >= 11 with a red-cell transfusion on the date does not count for CR."""
    assert cr_case(rbc=True).run().cat(240) == "PR"


def test_cr_constitutional_symptoms_block():
    """§4.2: constitutional symptoms -> not CR (still PR)."""
    assert cr_case(symptoms=True).run().cat(240) == "PR"


def test_edge4_marrow_not_done_pr_at_best():
    """§6.4: marrow not done -> cannot be CR -> PR."""
    row = cr_case("not_done").run().row(240)
    assert row["overall_response"] == "PR"
    c = cr_case(marrow=None)
    assert c.run().cat(240) == "PR"


def spleen_case(length):
    c = Case().treat(1, 100)
    c.at(0, spleen=18, liver="normal", alc=50, ld=1.0, spd=2.0, **NORMAL_B)
    c.at(200, spleen=length, liver="normal", alc=3.0, ld=1.0, spd=2.0, **NORMAL_B)
    return c


def test_edge5_spleen_excess_vs_raw_length():
    """§6.5: spleen 18 -> 14 cm = -80 % of the enlargement (PR with ALC: A 2/2); with
    spleen_change_basis = raw_length -22 % -> spleen not improved, A 1/2 -> SD."""
    row = spleen_case(14).run().row(200)
    assert row["overall_response"] == "PR"
    assert "spleen 14 cm (excess 1 vs 5 cm over 13: -80%)" in row["explanation"]
    row = spleen_case(14).run(spleen_change_basis="raw_length").row(200)
    assert row["overall_response"] == "SD"
    assert "spleen 14 cm (-22.22% vs baseline 18)" in row["explanation"]
    assert "group A 1/2 improved (needs 2)" in row["explanation"]


def test_edge6_only_lymphocytosis_abnormal():
    """§6.6: A_abn = 1 (ALC 20), B_abn = 0: PR if ALC falls >= 50 % (20 -> 9 = -55 %); 20 -> 12
    (-40 %) -> SD."""
    base = Case().treat(1, 100).at(0, alc=20, **NORMAL_A, **NORMAL_B)
    import copy

    pr = copy.deepcopy(base).at(200, alc=9, **NORMAL_A, **NORMAL_B).run().row(200)
    assert pr["overall_response"] == "PR"
    assert "group A 1/1 improved (needs 1), group B 0/0 (needs 0)" in pr["explanation"]
    assert copy.deepcopy(base).at(200, alc=12, **NORMAL_A, **NORMAL_B).run().cat(200) == "SD"


def test_edge7_normal_counts_involved_marrow():
    """§6.7: platelets 150, Hb 13.0, marrow involved -> B_abn = 0: PR needs no group B
    improvement (nodes and ALC improved)."""
    c = Case().treat(1, 100)
    c.at(0, spd=20, ld=3.0, spleen=12, liver="normal", alc=30, plt=150, hb=13.0, anc=3.0, marrow="cll_cells_present")
    c.at(200, spd=8, ld=1.8, spleen=12, liver="normal", alc=10, plt=150, hb=13.0, anc=3.0, marrow="cll_cells_present")
    row = c.run().row(200)
    assert row["overall_response"] == "PR"
    assert "group A 2/2 improved (needs 2), group B 0/0 (needs 0)" in row["explanation"]


def test_edge8_alc_reference():
    """§6.8: ALC 80 (baseline) -> 3.5 (nadir) -> 12 with B cells 10: not D3 by default
    (12 < 120); PD with alc_pd_reference = nadir (+243 %)."""
    c = Case().treat(1, 100)
    c.at(0, alc=80, **NORMAL_A, **NORMAL_B).at(200, alc=3.5, **NORMAL_A, **NORMAL_B).at(300, alc=12, b=10, **NORMAL_A, **NORMAL_B)
    assert c.run().cat(300) == "PR"  # still -85 % vs baseline
    row = c.run(alc_pd_reference="nadir").row(300)
    assert row["overall_response"] == "PD" and row["rule_ids"].startswith("D3")


# --------------------------------------------------------------------------------------
# other PD rules, timing, NE
# --------------------------------------------------------------------------------------


def test_d1_node_size_rule_and_new_node():
    """§4.1 D1: largest node 1.2 -> 1.9 cm (+58 %, > 1.5) is PD; 2.0 -> 3.0 cm (+50 %, > 2.0)
    is PD; 1.0 -> 1.5 (+50 % but not > 1.5) is not; a new node is PD."""
    def case(ld0, ld1, **extra):
        return Case().at(0, ld=ld0, alc=2.0, spleen=11, **NORMAL_B).at(100, ld=ld1, alc=2.0, spleen=11, **NORMAL_B, **extra)
    assert case(1.2, 1.9).run().cat(100) == "PD"
    assert case(2.0, 3.0).run().cat(100) == "PD"
    assert case(1.0, 1.5).run().cat(100) != "PD"
    row = case(1.0, 1.0, new_node=True).run().row(100)
    assert row["overall_response"] == "PD" and row["new_lesion"] is True
    assert "D1 new node > 1.5 cm" in row["explanation"]


def test_d2_spleen_growth_and_denovo():
    """§4.1 D2: spleen excess 5 -> 1 (nadir) -> 1.5 cm (+50 % of the enlargement) is PD;
    de-novo splenomegaly 12 -> 13 cm is PD."""
    c = Case().treat(1, 50).at(0, spleen=18, alc=50, ld=1.0, **NORMAL_B).at(120, spleen=14, alc=3.0, ld=1.0, **NORMAL_B)
    c.at(200, spleen=14.5, alc=3.0, ld=1.0, **NORMAL_B)
    row = c.run().row(200)
    assert row["overall_response"] == "PD" and row["rule_ids"].startswith("D2")
    d = Case().at(0, spleen=12, alc=50, ld=1.0, **NORMAL_B).at(100, spleen=13, alc=40, ld=1.0, **NORMAL_B)
    assert d.run().cat(100) == "PD"


def test_d6_marrow_infiltrate():
    """§4.1 D6: marrow infiltrate 30 % -> 50 % (>= 1.5 x) is PD; 30 -> 40 is not."""
    c = Case().at(0, infil=30, alc=2.0, ld=1.0, spleen=11, **NORMAL_B)
    assert c.at(100, infil=50, alc=2.0, ld=1.0, spleen=11, **NORMAL_B).run().cat(100) == "PD"
    c2 = Case().at(0, infil=30, alc=2.0, ld=1.0, spleen=11, **NORMAL_B).at(100, infil=40, alc=2.0, ld=1.0, spleen=11, **NORMAL_B)
    assert c2.run().cat(100) != "PD"


def test_interim_assessment_fixed_duration():
    """§5 timing: a PR 30 days after the end of fixed-duration therapy (< 56) is INTERIM:
    level NOT_EVALUABLE, no remission episode from it; 60 days after -> PR."""
    c = Case().treat(1, 100).at(0, alc=20, **NORMAL_A, **NORMAL_B).at(130, alc=9, **NORMAL_A, **NORMAL_B)
    row = c.run().row(130)
    assert row["overall_response"] == "PR" and row["canonical_level"] == S.NOT_EVALUABLE
    assert row["rule_ids"] == "PR,INTERIM" and "30 days after the end of therapy (< 56)" in row["explanation"]
    c.at(160, alc=9, **NORMAL_A, **NORMAL_B)
    assert c.run().row(160)["canonical_level"] == S.PARTIAL


def test_refractory_pd_without_response():
    """§5: PD with no prior response is refractory (treatment failure)."""
    c = Case().treat(1, 100).at(0, spd=20, ld=3.0, alc=2.0, **NORMAL_B).at(200, spd=35, ld=3.0, alc=2.0, **NORMAL_B)
    row = c.run().row(200)
    assert row["rule_ids"] == "D1,REFRACTORY" and "refractory: no prior response" in row["explanation"]


def test_ne_when_abnormal_parameters_missing():
    """§4.5: nodes and ALC abnormal at baseline (A needs 2); only nodes measured: -60 % ->
    NE (the missing ALC could give PR); -10 % -> SD (PR impossible whatever the ALC);
    nothing measured but MRD -> NE."""
    r = Case().at(0, spd=20, ld=3.0, alc=30, **NORMAL_B).at(100, spd=8).at(200, mrd="positive").run()
    assert r.cat(100) == "NE" and "parameters abnormal at baseline not measured" in r.row(100)["explanation"]
    assert r.cat(200) == "NE"
    assert Case().at(0, spd=20, ld=3.0, alc=30, **NORMAL_B).at(100, spd=18).run().cat(100) == "SD"


def test_mrd_negativity_reported():
    """§5 MRD: undetectable MRD shown as MRD NEGATIVITY next to the response."""
    row = cr_case(mrd="negative").run().row(240)
    assert row["overall_response"] == "CR" and row["non_target_response"] == "MRD NEGATIVITY"


def test_options_defaults_and_registration():
    """§8 defaults; registered under iwcll2018 (cancer_type cll)."""
    o = Iwcll2018Options()
    assert (o.persistence_days, o.post_treatment_assessment_min_days, o.cytopenia_pd_min_days_after_treatment,
            o.normal_spleen_cm, o.spleen_change_basis, o.pr_l_counts_as_pr, o.umrd_threshold,
            o.relapse_min_months_after_response, o.alc_pd_reference, o.refractory_window_months) == (
        56, 56, 90, 13.0, "excess_over_normal", True, 1e-4, 6, "baseline", 6)
    assert registry.get("iwcll2018").order == ORDER
    assert registry.default_criteria_by_cancer()["cll"] == "iwcll2018"


def test_stated_codes_map():
    """Stated iwCLL codes map to the remission_model.md §3 levels."""
    for code, level in [("CRi", S.COMPLETE), ("nPR", S.PARTIAL), ("PR-L", S.PARTIAL),
                        ("PR WITH LYMPHOCYTOSIS", S.PARTIAL), ("NODULAR PARTIAL RESPONSE", S.PARTIAL),
                        ("DISEASE TRANSFORMATION", S.PROGRESSION), ("SD", S.STABLE)]:
        assert stated.LEVEL_BY_CODE[stated.canonical_code(code)] == level, code


EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "src/remission/data/examples_blood/iwcll2018"


def test_bundled_example_dataset():
    """src/remission/data/examples_blood/iwcll2018: CLL-1 = §7 example 1 (PR day 240, PD
    day 480), CLL-2 = §7 example 2 (PR-L 90, PR 180/270/360, PD 450 Richter)."""
    res = assess(str(EXAMPLE))
    tp = res.timepoints.filter(pl.col("overall_response").is_not_null())
    got = {(s, d): r for s, d, r in tp.select("subject_id", "date", "overall_response").rows()}
    assert [got[("CLL-1", day(n))] for n in (240, 480)] == ["PR", "PD"]
    assert [got[("CLL-2", day(n))] for n in (90, 180, 270, 360, 450)] == ["PR-L", "PR", "PR", "PR", "PD"]
    summ = {r["subject_id"]: r for r in res.summary.to_dicts()}
    assert summ["CLL-1"]["progression_date"] == day(480) and summ["CLL-1"]["status"] == "progression"
    assert summ["CLL-2"]["progression_date"] == day(450)


def test_bad_marrow_value_is_an_input_error():
    """spec/tables.md "Bad input": an unknown marrow_cll value is reported."""
    from remission.errors import InputErrors

    with pytest.raises(InputErrors) as exc:
        Case().at(0, alc=30, marrow="packed").run()
    assert exc.value.errors[0].value == "packed"
