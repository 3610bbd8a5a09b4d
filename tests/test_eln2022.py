"""ELN 2022 AML criteria (``eln2022_aml.md``): every edge case (§6) and worked example (§7)
with hand-computed values, the options of §8 and the canonical mapping (remission_model.md
§3, §6.6).  Day n of a case is 2024-01-01 + (n - 1) days; treatment starts on day 1."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import registry, stated
from remission.criteria.eln2022 import CANONICAL, ORDER, Eln2022Options, MrdThresholds
from remission.options import AssessOptions
from remission.pipeline import assess

D0 = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n - 1)


class Case:
    """A one-subject AML dataset built day by day."""

    def __init__(self, sid: str = "S1"):
        self.sid = sid
        self.labs: list[dict] = []
        self.findings: list[dict] = []
        self.treatments: list[dict] = []

    def lab(self, n, test, value, unit):
        self.labs.append(dict(subject_id=self.sid, date=day(n).isoformat(), test=test, value=str(value), unit=unit))
        return self

    def finding(self, n, code, value):
        self.findings.append(dict(subject_id=self.sid, date=day(n).isoformat(), finding=code, value=str(value)))
        return self

    def marrow(self, n, blasts, *, adequate=True, pb=0, anc=None, plt=None, auer=None, emd=None):
        self.lab(n, "marrow_blasts_pct", blasts, "%")
        if adequate is not None:
            self.finding(n, "marrow_adequate", "true" if adequate else "false")
        if pb is not None:
            self.lab(n, "pb_blasts_pct", pb, "%")
        self.counts(n, anc, plt)
        if auer is not None:
            self.finding(n, "auer_rods", "true" if auer else "false")
        if emd is not None:
            self.finding(n, "extramedullary_disease", "true" if emd else "false")
        return self

    def counts(self, n, anc, plt):
        if anc is not None:
            self.lab(n, "anc", anc, "10^9/L")
        if plt is not None:
            self.lab(n, "platelets", plt, "10^9/L")
        return self

    def mrd(self, n, result, tissue="bm"):
        self.finding(n, "mrd", result)
        return self.finding(n, "mrd_tissue", tissue)

    def treat(self, start, end=None, intent="induction"):
        self.treatments.append(
            dict(subject_id=self.sid, start_date=day(start).isoformat(), end_date=day(end).isoformat() if end else None,
                 modality="chemotherapy", intent=intent)
        )
        return self

    def run(self, **opts):
        tr = self.treatments or [dict(subject_id=self.sid, start_date=day(1).isoformat(), end_date=day(7).isoformat(),
                                      modality="chemotherapy", intent="induction")]
        res = assess(
            subjects=pl.DataFrame(dict(subject_id=[self.sid], cancer_type=["aml"])),
            labs=pl.DataFrame(self.labs),
            findings=pl.DataFrame(self.findings) if self.findings else None,
            treatments=pl.DataFrame(tr),
            options=AssessOptions(eln2022=opts),
        )
        return Result(res)


class Result:
    def __init__(self, res):
        self.res = res
        self.tp = res.timepoints

    def row(self, n) -> dict:
        rows = self.tp.filter(pl.col("date") == day(n)).to_dicts()
        assert len(rows) == 1, f"day {n}: {len(rows)} rows"
        return rows[0]

    def cat(self, n) -> str:
        return self.row(n)["overall_response"]


def pre(case: Case, blasts=60) -> Case:
    """Pre-treatment marrow on day 0."""
    return case.marrow(0, blasts, pb=20, anc=0.3, plt=20)


# --------------------------------------------------------------------------------------
# §3 decision rules and §6 edge cases
# --------------------------------------------------------------------------------------


def test_edge1_aplastic_marrow_is_ne_not_mlfs():
    """§6.1: blasts < 5 % in an aplastic marrow (adequate = false) -> NE (A0)."""
    r = pre(Case()).marrow(28, 2, adequate=False, anc=0.2, plt=10).run()
    row = r.row(28)
    assert row["overall_response"] == "NE"
    assert row["canonical_level"] == S.NOT_EVALUABLE
    assert row["rule_ids"] == "A0"
    assert "marrow not adequate" in row["explanation"]


def test_a0_missing_adequacy_is_ne_unless_assumed():
    """§3 A0: marrow_adequate missing -> NE; option assume_adequate_marrow -> CR."""
    case = pre(Case()).marrow(28, 2, adequate=None, anc=1.5, plt=150)
    assert case.run().cat(28) == "NE"
    assert "adequacy not recorded" in case.run().row(28)["explanation"]
    assert case.run(assume_adequate_marrow=True).cat(28) == "CR"


def test_a1_cr_explanation_names_values():
    """§3 A1: blasts 3 % < 5, no PB blasts, ANC 1.2 >= 1.0, platelets 120 >= 100 -> CR."""
    r = pre(Case()).marrow(28, 3, anc=1.2, plt=120).run()
    row = r.row(28)
    assert row["overall_response"] == "CR" and row["canonical_level"] == S.COMPLETE
    assert row["explanation"] == (
        "CR: marrow blasts 3% (< 5%), no circulating blasts, no EMD, ANC 1.2 x10^9/L (>= 1.0), "
        "platelets 120 x10^9/L (>= 100)"
    )
    assert row["value"] == 3.0 and row["baseline_value"] == 60.0
    assert row["change_from_baseline_pct"] == pytest.approx(-95.0)  # (3 - 60) / 60


def test_edge2_crh():
    """§6.2: blasts 3 %, no PB blasts, ANC 0.7, platelets 60 -> CRh (not CR, not CRi)."""
    row = pre(Case()).marrow(28, 3, anc=0.7, plt=60).run().row(28)
    assert row["overall_response"] == "CRh" and row["rule_ids"] == "A2"
    assert "ANC 0.7 x10^9/L (>= 0.5, < 1.0), platelets 60 x10^9/L (>= 50, < 100)" in row["explanation"]


def test_edge3_cri():
    """§6.3: ANC 1.2, platelets 45 -> CRi (platelets < 50 fails CRh; ANC >= 1.0 recovered)."""
    row = pre(Case()).marrow(28, 3, anc=1.2, plt=45).run().row(28)
    assert row["overall_response"] == "CRi" and row["rule_ids"] == "A3"
    assert row["explanation"].startswith("CRi: marrow blasts 3% (< 5%)")
    assert "ANC 1.2 x10^9/L (>= 1.0), platelets 45 x10^9/L (< 50)" in row["explanation"]


def test_edge3a_mlfs_and_inclusive_cri_option():
    """§6.3a: blasts 3 %, ANC 0.4, platelets 30 -> MLFS; CRi with
    cri_requires_one_count_recovered = False."""
    case = pre(Case()).marrow(28, 3, anc=0.4, plt=30)
    row = case.run().row(28)
    assert row["overall_response"] == "MLFS" and row["canonical_level"] == S.PARTIAL and row["rule_ids"] == "A4"
    assert case.run(cri_requires_one_count_recovered=False).cat(28) == "CRi"


def test_mlfs_when_counts_missing():
    """§3 A4 / notes: no count recovery required; without counts the inclusive reading
    gives MLFS too."""
    case = pre(Case()).marrow(28, 3)
    assert case.run().cat(28) == "MLFS"
    assert case.run(cri_requires_one_count_recovered=False).cat(28) == "MLFS"


def test_edge3b_auer_rods():
    """§6.3b: blasts 2 % with Auer rods, counts recovered -> CR (ELN 2022); with
    require_no_auer_rods -> no CR family, no MLFS -> NO RESPONSE and a warning."""
    case = pre(Case()).marrow(28, 2, anc=1.5, plt=150, auer=True)
    assert case.run().cat(28) == "CR"
    row = case.run(require_no_auer_rods=True).row(28)
    assert row["overall_response"] == "NO RESPONSE" and row["canonical_level"] == S.STABLE
    assert row["warnings"] == "AUER_RODS"
    assert "Auer rods present" in row["explanation"]


def test_report_crh_false_gives_cri():
    """§3 note: report_crh = False -> the CRh case of §6.2 is CRi."""
    assert pre(Case()).marrow(28, 3, anc=0.7, plt=60).run(report_crh=False).cat(28) == "CRi"


def test_circulating_blasts_block_cr_family():
    """§3 A1-A4: circulating blasts -> not CR/CRh/CRi/MLFS; blasts 3 % is not PR (5-25 %)."""
    row = pre(Case()).marrow(28, 3, pb=2, anc=1.5, plt=150).run().row(28)
    assert row["overall_response"] == "NO RESPONSE"
    assert "circulating blasts 2%" in row["explanation"]


def test_emd_blocks_cr():
    """§3 A1: extramedullary disease present -> not CR (no prior CR, so no relapse)."""
    assert pre(Case()).marrow(28, 2, anc=1.5, plt=150, emd=True).run().cat(28) == "NO RESPONSE"


def test_missing_pb_blasts_ne_or_assumed():
    """Choice (module docstring): PB blasts not recorded -> NE; option assumes none."""
    case = pre(Case()).marrow(28, 2, pb=None, anc=1.5, plt=150)
    row = case.run().row(28)
    assert row["overall_response"] == "NE" and "circulating blasts not recorded" in row["explanation"]
    row = case.run(assume_no_pb_blasts_when_missing=True).row(28)
    assert row["overall_response"] == "CR" and row["warnings"] == "PB_BLASTS_ASSUMED_ABSENT"


def test_example1_variant_pr():
    """§7 example 1 variant: day 28 blasts 20 % (-67 % vs 60 %), no PB blasts, ANC 1.1,
    platelets 120 -> PR."""
    row = pre(Case()).marrow(28, 20, anc=1.1, plt=120).run().row(28)
    assert row["overall_response"] == "PR" and row["canonical_level"] == S.PARTIAL and row["rule_ids"] == "A5"
    assert row["change_from_baseline_pct"] == pytest.approx(-200 / 3)
    assert "-66.67% vs pre-treatment 60% (>= 50% decrease)" in row["explanation"]


def test_pr_needs_50pct_decrease_and_cr_counts():
    """§3 A5: 35 % -> 20 % is -43 % (< 50 %) -> no response; 20 % with ANC 0.9 -> no response."""
    assert pre(Case(), blasts=35).marrow(28, 20, anc=1.1, plt=120).run().cat(28) == "NO RESPONSE"
    assert pre(Case()).marrow(28, 20, anc=0.9, plt=120).run().cat(28) == "NO RESPONSE"
    assert pre(Case()).marrow(28, 25, anc=1.1, plt=120).run().cat(28) == "PR"  # 25 % inclusive, -58 %
    assert pre(Case()).marrow(28, 26, anc=1.1, plt=120).run().cat(28) == "NO RESPONSE"


def test_cr_date_is_later_of_marrow_and_counts():
    """§5: marrow day 28 with ANC 0.7 / PLT 60 (CRh) and counts day 33 ANC 1.2 / PLT 110
    (within 7 days) -> CR dated day 33; counts on day 36 (8 days) are outside the window."""
    case = pre(Case()).marrow(28, 3, anc=0.7, plt=60).counts(33, 1.2, 110)
    r = case.run()
    row = r.row(33)
    assert row["overall_response"] == "CR"
    assert "(marrow 2024-01-28, counts 2024-02-02)" in row["explanation"]
    assert r.tp.filter(pl.col("date") == day(28)).height == 0
    late = pre(Case()).marrow(28, 3, anc=0.7, plt=60).counts(36, 1.2, 110).run()
    assert late.cat(28) == "CRh"
    assert pre(Case()).marrow(28, 3, anc=0.7, plt=60).counts(33, 1.2, 110).run(count_window_days=3).cat(28) == "CRh"


def test_count_transfusion_free_days():
    """§3 note: with count_transfusion_free_days = 7 a platelet count 3 days after a platelet
    transfusion satisfies no threshold: ANC 1.5, PLT 150 -> CRi (ANC recovered) instead of CR."""
    case = pre(Case()).marrow(28, 2, anc=1.5, plt=150).finding(25, "platelet_transfusion", "true")
    assert case.run().cat(28) == "CR"
    row = case.run(count_transfusion_free_days=7).row(28)
    assert row["overall_response"] == "CRi" and row["warnings"] == "PLATELETS_AFTER_TRANSFUSION"
    assert case.run(count_transfusion_free_days=2).cat(28) == "CR"  # 3 days > 2


def test_edge4_single_pb_sample_then_pair():
    """§6.4: one PB sample with blasts after CR -> pending (PROGRESSION_PENDING); a second
    sample >= 7 days later -> relapse dated at the first sample."""
    case = pre(Case()).marrow(28, 2, anc=1.5, plt=150).lab(100, "pb_blasts_pct", 4, "%")
    r = case.run()
    row = r.row(100)
    assert row["overall_response"] == "NE" and row["canonical_level"] == S.PROGRESSION_PENDING
    assert row["pending_progression"] is True and row["is_progression_event"] is False
    r = case.lab(107, "pb_blasts_pct", 6, "%").run()
    row = r.row(107)
    assert row["overall_response"] == "RELAPSED DISEASE FROM CR"
    assert row["is_progression_event"] is True and row["progression_event_date"] == day(100)
    assert row["recurrence_sites"] == "BLOOD" and row["rule_ids"] == "HR-PB"
    assert "blasts in blood 6% and on 2024-04-09, 7 days apart (>= 7)" in row["explanation"]


def test_pb_run_broken_by_blast_free_sample():
    """Choice (docstring): a blast-free PB sample between two positive ones breaks the pair."""
    case = (
        pre(Case()).marrow(28, 2, anc=1.5, plt=150)
        .lab(100, "pb_blasts_pct", 4, "%").lab(104, "pb_blasts_pct", 0, "%").lab(110, "pb_blasts_pct", 5, "%")
    )
    r = case.run()
    assert r.row(110)["canonical_level"] == S.PROGRESSION_PENDING
    assert not r.tp["is_progression_event"].any()


def test_marrow_relapse_after_cr():
    """§4: marrow blasts >= 5 % after CR -> haematological relapse on that date."""
    row = pre(Case()).marrow(28, 2, anc=1.5, plt=150).marrow(200, 5, anc=1.5, plt=150).run().row(200)
    assert row["overall_response"] == "RELAPSED DISEASE FROM CR" and row["progression_event_date"] == day(200)
    assert row["recurrence_sites"] == "MARROW"


def test_no_relapse_without_prior_cr():
    """§4: relapse is defined after CR/CRh/CRi only: MLFS then 30 % -> no response."""
    r = pre(Case()).marrow(28, 2, anc=0.3, plt=20).marrow(60, 30, anc=1.5, plt=150).run()
    assert r.cat(28) == "MLFS" and r.cat(60) == "NO RESPONSE"
    assert not r.tp["is_progression_event"].any()


def test_edge5_isolated_extramedullary_relapse():
    """§6.5: myeloid sarcoma (EMD) with normal marrow after CR -> relapse."""
    r = pre(Case()).marrow(28, 2, anc=1.5, plt=150).finding(150, "extramedullary_disease", "true").run()
    row = r.row(150)
    assert row["overall_response"] == "RELAPSED DISEASE FROM CR" and row["recurrence_sites"] == "EXTRAMEDULLARY"
    assert row["new_lesion"] is True and row["rule_ids"] == "HR-EMD"


def test_edge6_regenerating_marrow():
    """§6.6: a regenerating marrow with blasts 7 % after CR -> no relapse yet (pending);
    repeat marrow 3 % -> CR again; repeat 9 % -> relapse dated back to the flagged marrow."""
    base = pre(Case()).marrow(28, 2, anc=1.5, plt=150).marrow(60, 7, anc=1.5, plt=150).finding(
        60, "regenerating_marrow", "true"
    )
    r = base.run()
    row = r.row(60)
    assert row["canonical_level"] == S.PROGRESSION_PENDING and row["warnings"] == "REGENERATING_MARROW"
    import copy

    ok = copy.deepcopy(base).marrow(75, 3, anc=1.5, plt=150).run()
    assert ok.cat(75) == "CR" and not ok.tp["is_progression_event"].any()
    bad = copy.deepcopy(base).marrow(75, 9, anc=1.5, plt=150).run()
    row = bad.row(75)
    assert row["overall_response"] == "RELAPSED DISEASE FROM CR" and row["progression_event_date"] == day(60)


def test_edge7_mrd_relapse_needs_confirmation():
    """§6.7: MRD negative then low-level positive (no log rule) -> MRD relapse only after a
    confirming sample (same tissue, <= 28 days)."""
    case = pre(Case()).marrow(42, 2, anc=1.5, plt=150).mrd(42, "negative").mrd(120, "low_level")
    r = case.run()
    row = r.row(120)
    assert row["overall_response"] == "CR" and row["warnings"] == "MRD_CONVERSION_PENDING"
    assert row["canonical_level"] == S.COMPLETE
    r = case.mrd(140, "low_level").run()
    row = r.row(140)
    assert row["overall_response"] == "MRD RELAPSE" and row["canonical_level"] == S.PARTIAL
    assert "MRD relapse since 2024-04-29" in row["explanation"]


def test_mrd_confirmation_needs_same_tissue_and_window():
    """§4: the confirmatory sample is from the same tissue and within 28 days."""
    other = pre(Case()).marrow(42, 2, anc=1.5, plt=150).mrd(42, "negative").mrd(120, "positive").mrd(130, "positive", "pb")
    assert "MRD RELAPSE" not in other.run().tp["overall_response"].to_list()
    late = pre(Case()).marrow(42, 2, anc=1.5, plt=150).mrd(42, "negative").mrd(120, "positive").mrd(150, "positive")
    assert "MRD RELAPSE" not in late.run().tp["overall_response"].to_list()  # 30 days > 28
    assert "MRD RELAPSE" in late.run(mrd_relapse_confirm_days=30).tp["overall_response"].to_list()


def test_mrd_log_increase_with_thresholds():
    """§4 MRD relapse, log route; §3.1 thresholds from configuration: with negative < 0.001 %
    and low level < 2 %: 0.05 % (low level, CR MRD-LL), 0.6 % (>= 10 x 0.05: candidate), 0.8 %
    confirms; a rise to 0.3 % (6 x) is not an MRD relapse."""
    th = {"mrd_thresholds": {"negative_below_pct": 0.001, "low_level_below_pct": 2.0}}
    case = pre(Case()).marrow(42, 2, anc=1.5, plt=150).lab(42, "mrd_level", 0.05, "%")
    r = case.run(**th)
    row = r.row(42)
    assert row["non_target_response"] == "QUANTIFIABLE MRD POSITIVITY" and row["rule_ids"] == "A1,MRD-LL"
    r = case.lab(100, "mrd_level", 0.6, "%").lab(120, "mrd_level", 0.8, "%").run(**th)
    assert r.row(100)["warnings"] == "MRD_CONVERSION_PENDING"
    assert r.cat(120) == "MRD RELAPSE"
    small = pre(Case()).marrow(42, 2, anc=1.5, plt=150).lab(42, "mrd_level", 0.05, "%").lab(100, "mrd_level", 0.3, "%")
    assert "MRD RELAPSE" not in small.lab(120, "mrd_level", 0.4, "%").run(**th).tp["overall_response"].to_list()
    # without thresholds mrd_level is not read (never hard-coded)
    row = case.run().row(100)
    assert row["overall_response"] == "NE" and row["warnings"] == "MRD_THRESHOLDS_MISSING"


# --------------------------------------------------------------------------------------
# §7 worked examples
# --------------------------------------------------------------------------------------


def example1() -> Case:
    c = pre(Case())
    c.marrow(28, 3, anc=0.7, plt=60)
    c.marrow(42, 2, anc=1.5, plt=130).mrd(42, "negative")
    c.marrow(180, 1, anc=2.0, plt=180).mrd(180, "positive")
    c.mrd(200, "positive")
    c.marrow(300, 8, pb=4, anc=0.9, plt=70)
    return c


def test_example1_intensive_with_mrd_follow_up():
    """§7 example 1: CRh (28), CR MRD- (42), CR with MRD conversion pending (180), MRD
    relapse confirmed 20 days later (200, since 180), haematological relapse (300)."""
    r = example1().run()
    assert [r.cat(n) for n in (28, 42, 180, 200, 300)] == [
        "CRh", "CR", "CR", "MRD RELAPSE", "RELAPSED DISEASE FROM CR"
    ]
    assert r.row(42)["non_target_response"] == "MRD NEGATIVITY"
    assert r.row(42)["explanation"].endswith("; MRD negative (BM)")
    assert r.row(180)["warnings"] == "MRD_CONVERSION_PENDING"
    assert r.row(200)["canonical_level"] == S.PARTIAL  # loss of complete, no progression (§6.6)
    assert r.row(200)["is_progression_event"] is False
    row = r.row(300)
    assert row["is_progression_event"] is True and row["progression_event_date"] == day(300)
    assert row["explanation"].startswith("RELAPSED DISEASE FROM CR: marrow blasts 8% (>= 5%) after CR/CRh/CRi")
    # baseline row: null response, pre-treatment blasts
    b = r.row(0)
    assert b["overall_response"] is None and b["value"] == 60.0
    # lifecycle: complete from day 28 (CRh), lost at the MRD relapse (day 200), relapse day 300
    ep = r.res.episodes.row(0, named=True)
    assert ep["start_date"] == day(28) and ep["complete_start_date"] == day(28)
    assert ep["end_date"] == day(300)
    assert ep["complete_end_date"] == day(200)


def test_example1_mrd_relapse_ends_complete_option():
    """remission_model.md §6.6: mrd_relapse_ends_complete -> recurrence (MOLECULAR) dated at
    the first positive sample (day 180)."""
    row = example1().run(mrd_relapse_ends_complete=True).row(200)
    assert row["canonical_level"] == S.PROGRESSION and row["is_progression_event"] is True
    assert row["progression_event_date"] == day(180) and row["recurrence_sites"] == "MOLECULAR"


def example2() -> Case:
    c = pre(Case(), blasts=40).treat(1, None).finding(1, "regimen_intensity", "less_intensive")
    c.marrow(28, 3, anc=0.4, plt=30)
    c.marrow(56, 2, anc=1.1, plt=70)
    c.marrow(120, 1, anc=1.8, plt=150)
    c.lab(400, "pb_blasts_pct", 3, "%").counts(400, 2.0, 160)
    c.finding(405, "circulating_blasts", "true")
    c.finding(410, "circulating_blasts", "true")
    return c


def test_example2_less_intensive_landmark_and_blood_relapse():
    """§7 example 2: MLFS (28), CRh (56), CR (120), landmark day 181 passed in CR (not
    refractory), PB blasts day 400 pending, day 405 (5 days) still pending, day 410 (10 days)
    relapse dated day 400."""
    r = example2().run()
    assert [r.cat(n) for n in (28, 56, 120)] == ["MLFS", "CRh", "CR"]
    assert "TREATMENT FAILURE" not in r.tp["overall_response"].to_list()
    assert r.row(400)["canonical_level"] == S.PROGRESSION_PENDING
    assert r.row(405)["canonical_level"] == S.PROGRESSION_PENDING
    row = r.row(410)
    assert row["overall_response"] == "RELAPSED DISEASE FROM CR"
    assert row["progression_event_date"] == day(400)
    assert "blasts in blood present and on 2025-02-03, 10 days apart (>= 7)" in row["explanation"]
    assert r.res.summary["recurrence_date"][0] == day(400)


def test_example2_report_crh_false():
    """§7 example 2: day 56 is CRi when report_crh = False."""
    assert example2().run(report_crh=False).cat(56) == "CRi"


def test_example2_variant_b_refractory():
    """§7 variant B: days 56 and 120 also MLFS -> no CR/CRh/CRi by the landmark (day 181):
    refractory; rows after the landmark are TREATMENT FAILURE (STABLE) naming the EFS event
    date day 1; no relapse can happen (no prior CR)."""
    c = pre(Case(), blasts=40).treat(1, None).finding(1, "regimen_intensity", "less_intensive")
    for n in (28, 56, 120):
        c.marrow(n, 3, anc=0.4, plt=30)
    c.lab(400, "pb_blasts_pct", 3, "%")
    c.finding(410, "circulating_blasts", "true")
    r = c.run()
    assert [r.cat(n) for n in (28, 56, 120)] == ["MLFS"] * 3
    row = r.row(400)
    assert row["overall_response"] == "TREATMENT FAILURE" and row["canonical_level"] == S.STABLE
    assert row["rule_ids"] == "RF"
    assert "landmark 2024-06-29 (line start + 180 days); no CR/CRh/CRi by the landmark, best by landmark MLFS; " \
           "EFS event date 2024-01-01 (line start)" in row["explanation"]
    assert r.cat(410) == "TREATMENT FAILURE"
    assert not r.tp["is_progression_event"].any()


def test_example2_variant_c_inclusive_cri():
    """§7 variant C: cri_requires_one_count_recovered = False -> day 28 CRi."""
    assert example2().run(cri_requires_one_count_recovered=False).cat(28) == "CRi"


def test_intensive_landmark_after_course_two():
    """§4 landmark (intensive): first evaluable assessment after the start of course 2 (day
    29); no CR/CRh/CRi up to it -> TREATMENT FAILURE from that assessment on."""
    c = pre(Case()).treat(1, 7).treat(29, 35)
    c.marrow(21, 40, anc=0.2, plt=10)  # after course 1
    c.marrow(50, 30, anc=1.5, plt=150)  # landmark
    c.marrow(80, 20, anc=1.5, plt=150)
    r = c.run()
    assert r.cat(21) == "NO RESPONSE"
    assert r.cat(50) == "TREATMENT FAILURE"
    assert r.cat(80) == "TREATMENT FAILURE"  # PR-level blasts after the landmark: still refractory
    assert "first evaluable assessment after course 2" in r.row(50)["explanation"]
    # CR at the landmark -> not refractory
    ok = pre(Case()).treat(1, 7).treat(29, 35).marrow(50, 2, anc=1.5, plt=150).marrow(80, 20, anc=1.5, plt=150)
    assert ok.run().cat(50) == "CR"


# --------------------------------------------------------------------------------------
# canonical mapping and registration
# --------------------------------------------------------------------------------------


def test_canonical_options():
    """remission_model.md §3 / §13: crh_cri_as_partial, mlfs_as."""
    crh = pre(Case()).marrow(28, 3, anc=0.7, plt=60)
    assert crh.run().row(28)["canonical_level"] == S.COMPLETE
    assert crh.run(crh_cri_as_partial=True).row(28)["canonical_level"] == S.PARTIAL
    mlfs = pre(Case()).marrow(28, 3, anc=0.4, plt=30)
    assert mlfs.run(mlfs_as="STABLE").row(28)["canonical_level"] == S.STABLE
    assert CANONICAL["MLFS"] == S.PARTIAL and CANONICAL["TREATMENT FAILURE"] == S.STABLE


def test_registered_and_options_defaults():
    """§8 defaults; the criterion is registered under eln2022 (cancer_type aml)."""
    crit = registry.get("eln2022")
    assert crit.order == ORDER and crit.options_model is Eln2022Options
    o = Eln2022Options()
    assert (o.count_window_days, o.report_crh, o.count_transfusion_free_days, o.cri_requires_one_count_recovered,
            o.require_no_auer_rods, o.landmark_courses_intensive, o.landmark_days_less_intensive,
            o.pb_relapse_min_gap_days, o.mrd_relapse_confirm_days, o.mrd_log_increase, o.mrd_thresholds) == (
        7, True, None, True, False, 2, 180, 7, 28, 1.0, None)
    with pytest.raises(ValueError):
        MrdThresholds(negative_below_pct=0)
    assert registry.default_criteria_by_cancer()["aml"] == "eln2022"


def test_stated_codes_map():
    """Stated ELN codes (responses table) map to the §3 levels."""
    lv = stated.LEVEL_BY_CODE
    for code, level in [("CRi", S.COMPLETE), ("CRh", S.COMPLETE), ("MLFS", S.PARTIAL),
                        ("TREATMENT FAILURE", S.STABLE), ("NO RESPONSE", S.STABLE),
                        ("RELAPSED DISEASE FROM CR", S.PROGRESSION), ("MRD RELAPSE", S.PARTIAL)]:
        assert lv[stated.canonical_code(code)] == level, code


def test_several_subjects_at_once():
    """Vectorised: two subjects in one run keep their own lines and relapses."""
    a = example1()
    b = Case("S2")
    pre(b).marrow(28, 3, anc=0.4, plt=30)
    res = assess(
        subjects=pl.DataFrame(dict(subject_id=["S1", "S2"], cancer_type=["aml", "aml"])),
        labs=pl.DataFrame(a.labs + b.labs),
        findings=pl.DataFrame(a.findings + b.findings),
        treatments=pl.DataFrame([dict(subject_id=s, start_date=day(1).isoformat(), end_date=day(7).isoformat(),
                                      modality="chemotherapy", intent="induction") for s in ("S1", "S2")]),
    )
    tp = res.timepoints
    assert tp.filter(pl.col("subject_id") == "S2")["overall_response"].to_list() == [None, "MLFS"]
    assert tp.filter(pl.col("subject_id") == "S1")["is_progression_event"].sum() == 1


# --------------------------------------------------------------------------------------
# bundled example dataset and input validation
# --------------------------------------------------------------------------------------

EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "src/remission/data/examples_blood/eln2022"


def test_bundled_example_dataset():
    """src/remission/data/examples_blood/eln2022: AML-1 = §7 example 1, AML-2 = §7 example 2
    (hand-derived categories above).  AML-1: the MRD relapse (day 200) ends complete
    remission without ending the episode, the day-300 relapse ends it (progression, since the
    episode was partial after the MRD relapse, remission_model.md §6.6); AML-2: recurrence
    dated day 400 (first blood sample)."""
    res = assess(str(EXAMPLE))
    tp = res.timepoints.filter(pl.col("overall_response").is_not_null())
    got = {(s, d): r for s, d, r in tp.select("subject_id", "date", "overall_response").rows()}
    assert [got[("AML-1", day(n))] for n in (28, 42, 180, 200, 300)] == [
        "CRh", "CR", "CR", "MRD RELAPSE", "RELAPSED DISEASE FROM CR"]
    assert [got[("AML-2", day(n))] for n in (28, 56, 120, 400, 405, 410)] == [
        "MLFS", "CRh", "CR", "NE", "NE", "RELAPSED DISEASE FROM CR"]
    summ = {r["subject_id"]: r for r in res.summary.to_dicts()}
    assert summ["AML-1"]["status"] == "progression" and summ["AML-1"]["progression_date"] == day(300)
    assert summ["AML-2"]["status"] == "recurrence" and summ["AML-2"]["recurrence_date"] == day(400)


def test_bad_finding_value_is_an_input_error():
    """spec/tables.md "Bad input": an unknown mrd value is reported with what was expected."""
    from remission.errors import InputErrors

    case = pre(Case()).marrow(28, 2, anc=1.5, plt=150).finding(28, "mrd", "maybe")
    with pytest.raises(InputErrors) as exc:
        case.run()
    err = exc.value.errors[0]
    assert err.value == "maybe" and err.expected == "one of negative, low_level, positive"


# --------------------------------------------------------------------------------------
# §4 legacy ELN 2017 switches (eln2017_progressive_disease, eln2017_stable_disease)
# --------------------------------------------------------------------------------------

PD17 = dict(eln2017_progressive_disease=True)


@pytest.mark.parametrize(
    "blasts,anc,expected",
    [
        (36, 0.3, "PD"),  # 20 -> 36: +80 % (> 50 %) and +16 points (>= 15, baseline < 30)
        (29, 0.3, "NO RESPONSE"),  # +45 %: not > 50 %
        (36, 0.8, "NO RESPONSE"),  # ANC 0.3 -> 0.8: doubled and > 0.5 = count improvement
    ],
)
def test_eln2017_pd_marrow_increase(blasts, anc, expected):
    """§4 legacy PD: > 50 % increase of marrow blasts over the pre-treatment 20 % (at least
    +15 points since 20 < 30), without ANC doubling to > 0.5 or platelets doubling to > 50."""
    case = Case().marrow(0, 20, pb=0, anc=0.3, plt=20).marrow(28, blasts, anc=anc, plt=20)
    assert case.run().cat(28) == "NO RESPONSE"  # switch off by default (ELN 2022)
    row = case.run(**PD17).row(28)
    assert row["overall_response"] == expected
    if expected == "PD":
        assert row["canonical_level"] == S.PROGRESSION and row["is_progression_event"]
        assert row["progression_event_date"] == day(28) and "PD-BM" in row["rule_ids"]
        assert "marrow blasts 36% vs pre-treatment 20% (> +50% and >= +15 points)" in row["explanation"]


def test_eln2017_pd_small_baseline_needs_15_points():
    """§4 legacy PD: 20 -> 31 is +55 % but only +11 points (< 15 with baseline < 30): no PD."""
    case = Case().marrow(0, 20, pb=0, anc=0.3, plt=20).marrow(28, 31, anc=0.3, plt=20)
    assert case.run(**PD17).cat(28) == "NO RESPONSE"


def test_eln2017_pd_persistent_over_70_and_sd():
    """§4 legacy: pre-treatment 80 %; 75 % (day 28), 78 % (day 60), 76 % (day 120), counts
    not improved. PD-BM70 needs > 70 % for >= 90 days from the run's first assessment: day 120
    is 92 days after day 28 -> PD there (first PD = progression event); days 28/60 are not.
    With eln2017_stable_disease only: day 120 is 119 days after the line start (day 1,
    >= 90) -> SD (STABLE); days 28 and 60 stay NO RESPONSE."""
    case = Case().marrow(0, 80, pb=0, anc=0.3, plt=20)
    for n, b in ((28, 75), (60, 78), (120, 76)):
        case.marrow(n, b, anc=0.3, plt=20)
    r = case.run(**PD17)
    assert [r.cat(n) for n in (28, 60, 120)] == ["NO RESPONSE", "NO RESPONSE", "PD"]
    row = r.row(120)
    assert "PD-BM70" in row["rule_ids"] and "since 2024-01-28 (92 days >= 90)" in row["explanation"]
    r = case.run(eln2017_stable_disease=True)
    assert [r.cat(n) for n in (28, 60, 120)] == ["NO RESPONSE", "NO RESPONSE", "SD"]
    row = r.row(120)
    assert row["canonical_level"] == S.STABLE and "SD-2017" in row["rule_ids"]
    assert "119 days after the line start" in row["explanation"]


def test_eln2017_pd_peripheral_blasts_and_differentiation_syndrome():
    """§4 legacy PD: baseline WBC 10 x 20 % blasts = 2 x10^9/L; day 28 WBC 40 x 70 % = 28
    (> 25 and > +50 %) -> PD-PB; not when differentiation_syndrome is recorded that day."""
    case = Case().marrow(0, 60, pb=20, anc=0.3, plt=20).lab(0, "wbc", 10, "10^9/L")
    case.marrow(28, 60, pb=70, anc=0.3, plt=20).lab(28, "wbc", 40, "10^9/L")
    row = case.run(**PD17).row(28)
    assert row["overall_response"] == "PD" and row["rule_ids"].endswith("PD-PB")
    assert "peripheral blasts 28 x10^9/L (> 25 and > +50% over baseline 2)" in row["explanation"]
    case.finding(28, "differentiation_syndrome", "true")
    assert case.run(**PD17).cat(28) == "NO RESPONSE"


def test_eln2017_pd_new_emd_only_before_cr():
    """§4 legacy PD 'new EMD': EMD at day 28, none at baseline -> PD-EMD. After a CR the §4
    haematological relapse rule applies instead (RELAPSED DISEASE FROM CR)."""
    case = Case().marrow(0, 60, pb=20, anc=0.3, plt=20, emd=False).marrow(28, 40, anc=0.3, plt=20, emd=True)
    row = case.run(**PD17).row(28)
    assert row["overall_response"] == "PD" and "PD-EMD" in row["rule_ids"]
    case = pre(Case()).marrow(28, 2, anc=1.5, plt=150).marrow(60, 2, anc=1.5, plt=150, emd=True)
    assert case.run(**PD17).cat(60) == "RELAPSED DISEASE FROM CR"
