"""mRECIST engine (mrecist.md).  Expectations hand-computed from the spec; sections cited."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from remission.criteria import mrecist, recist11, registry
from remission.criteria.mrecist import MRecistOptions
from remission.options import RecistOptions
from remission.schema import FINDINGS, LESIONS, SEGMENTS, TIMEPOINTS

D0 = dt.date(2024, 1, 1)

def _best_responses(timepoints, reference, options=None):
    """The engine's best responses of mrecist subjects (the criterion's declared rule)."""
    from remission.timeline.best_response import best_responses

    c = mrecist.CRITERION
    return best_responses(timepoints, reference, c.best_response(options or c.options_model()), levels=c.levels())



def day(n):
    return D0 + dt.timedelta(days=n)


def les(n, lid, role, d=None, viable=None, status=None, organ="liver", nodal=False, s="S1"):
    return dict(
        subject_id=s, date=day(n), lesion_id=lid, role=role, organ=organ, nodal=nodal,
        diameter_mm=None if d is None else float(d), perpendicular_mm=None, status=status, method="CT",
        viable_diameter_mm=None if viable is None else float(viable),
    )  # fmt: skip


SEGS = pl.DataFrame([dict(subject_id="S1", line=1, reference_start=day(0), baseline_date=day(0), end_date=None)], schema=SEGMENTS)
REF = pl.DataFrame({"subject_id": ["S1"], "reference_start": [day(0)]})


def run(rows, findings=(), **opts):
    out = mrecist.evaluate(
        pl.DataFrame(rows, schema=LESIONS), SEGS, MRecistOptions(**opts), findings=pl.DataFrame(list(findings), schema=FINDINGS)
    )
    assert dict(out.schema) == TIMEPOINTS
    return out


def ors(out):
    return out.filter(pl.col("overall_response").is_not_null())["overall_response"].to_list()


def at(out, n):
    r = out.filter(pl.col("date") == day(n)).to_dicts()
    assert len(r) == 1
    return r[0]


def example_a():
    rows = []
    for n, (o1, v1, o2, v2) in {0: (50, 40, 30, 30), 60: (48, 15, 30, 20), 120: (47, 12, 30, 18), 180: (49, 20, 30, 16)}.items():
        rows += [les(n, "T1", "target", o1, v1), les(n, "T2", "target", o2, v2)]
    return rows


def test_worked_example_A_s7():
    """§7 A: SVD 70 → 35 (−50 % PR) → 30 (−57 %, PR) → 36 (+20 %, +6 mm vs nadir 30: PD);
    RECIST on the overall diameters 80 → 78 → 77 → 79 (+2.6 %): SD throughout."""
    rows = example_a()
    out = run(rows)
    assert out["value"].to_list() == [70, 35, 30, 36]
    assert ors(out) == ["PR", "PR", "PD"]
    assert at(out, 180)["change_from_nadir_pct"] == pytest.approx(20.0) and at(out, 180)["nadir_value"] == 30
    assert at(out, 180)["criteria"] == "mrecist"
    rec = recist11.evaluate(pl.DataFrame(rows, schema=LESIONS), SEGS, RecistOptions())
    assert rec["value"].to_list() == [80, 78, 77, 79] and ors(rec) == ["SD", "SD", "SD"]
    br = _best_responses(out, REF)
    assert br.row(0, named=True)["confirmed_best_response"] == "PR"
    assert br.row(0, named=True)["confirmed_best_response_date"] == day(60)


def example_b():
    rows = [les(0, "T1", "target", 40, 35), les(0, "T2", "target", 30, 25), les(0, "PH", "non_target", 14, status="present", organ="porta_hepatis", nodal=True)]
    rows += [les(56, "T1", "target", 40, 0), les(56, "T2", "target", 30, 0)]
    rows += [les(112, "T1", "target", 40, 0), les(112, "T2", "target", 30, 0), les(112, "L9", "new", 12, status="equivocal"),
             les(112, "PH", "non_target", 18, status="present", organ="porta_hepatis", nodal=True)]  # fmt: skip
    rows += [les(168, "T1", "target", 40, 0), les(168, "T2", "target", 30, 0), les(168, "L9", "new", 23, status="equivocal")]
    return rows


def test_worked_example_B_s7():
    """§7 B: CR after TACE (M4); porta hepatis node 14/18 mm ignored (< 20); atypical 12 mm
    nodule equivocal at day 112 (CR stays, pending); +11 mm at day 168 → PD dated day 112.
    Re-derivation: BOR CR unconfirmed; confirmed BOR SD (day 56 CR loses its confirmation,
    56 ≥ 42 days); day 112 SVD 0 vs nadir 0 is not PD (M3 needs SVD > nadir)."""
    out = run(example_b())
    assert ors(out) == ["CR", "CR", "PD"]
    assert at(out, 112)["pending_progression"] and at(out, 112)["overall_response"] == "CR"
    last = at(out, 168)
    assert last["is_progression_event"] and last["progression_event_date"] == day(112)
    br = _best_responses(out, REF).row(0, named=True)
    assert (br["best_response"], br["best_response_date"]) == ("CR", day(56))
    assert (br["confirmed_best_response"], br["confirmed_best_response_date"]) == ("SD", day(56))
    assert mrecist.bor_timepoints(out)["response"].to_list() == ["CR", "PD", "PD"]


def test_edge1_complete_necrosis_cr_vs_recist_sd_s6():
    """§6.1: viable 0 with unchanged overall size: mRECIST CR, RECIST SD."""
    rows = [les(0, "T1", "target", 50, 40), les(56, "T1", "target", 50, 0)]
    assert ors(run(rows)) == ["CR"]
    assert ors(recist11.evaluate(pl.DataFrame(rows, schema=LESIONS), SEGS, RecistOptions())) == ["SD"]


def test_edge3_new_enhancing_focus_is_new_lesion_s6():
    """§6.3: the target lost its enhancement; a separate typical 15 mm focus is a new lesion."""
    rows = [les(0, "T1", "target", 50, 40), les(56, "T1", "target", 50, 0), les(56, "L2", "new", 15, status="present")]
    out = run(rows)
    assert ors(out) == ["PD"] and at(out, 56)["new_lesion"]


def test_edge4_small_absolute_change_s6():
    """§6.4: nadir 10 → 12 (+20 %, +2 mm): PD with the literal default; with
    pd_min_abs_mm = 5 not PD (−40 % from baseline 20 → PR)."""
    rows = [les(0, "T1", "target", 30, 20), les(56, "T1", "target", 30, 10), les(112, "T1", "target", 30, 12)]
    out = run(rows)
    assert ors(out) == ["PR", "PD"] and "M3" in at(out, 112)["rule_ids"]
    assert ors(run(rows, pd_min_abs_mm=5)) == ["PR", "PR"]
    # M3 needs SVD > nadir: 0 → 0 is not PD (§4.1 review note)
    assert ors(run([les(0, "T1", "target", 30, 20), les(56, "T1", "target", 30, 0), les(112, "T1", "target", 30, 0)])) == ["CR", "CR"]


def test_pd_min_abs_above_5_reclassifies_recist_pd():
    """§8 pd_min_abs_mm = 10: 30 → 37 (+23 %, +7 mm) is RECIST PD but not mRECIST PD → SD."""
    rows = [les(0, "T1", "target", 40, 30), les(56, "T1", "target", 40, 37)]
    out = run(rows, pd_min_abs_mm=10)
    assert ors(out) == ["SD"] and at(out, 56)["rule_ids"].startswith("M6")


def test_non_target_enhancement_and_extrahepatic_s42_s3():
    """§4.2: a liver non-target with viable 0 counts as absent (CR possible); persisting
    enhancement → NON-CR/NON-PD (IR/SD) → PR with targets in CR.  §3: the extrahepatic
    lung target is measured by its whole diameter (viable value ignored)."""
    rows = [les(0, "T1", "target", 40, 30), les(0, "T2", "target", 20, 5, organ="lung"), les(0, "N1", "non_target", 30, 20, status="present")]
    rows += [les(56, "T1", "target", 40, 0), les(56, "T2", "target", 0, 0, organ="lung"), les(56, "N1", "non_target", 30, 10, status="present")]
    rows += [les(112, "T1", "target", 40, 0), les(112, "T2", "target", 0, 0, organ="lung"), les(112, "N1", "non_target", 30, 0, status="present")]
    out = run(rows)
    assert at(out, 0)["value"] == 50  # 30 viable (liver) + 20 whole (lung)
    assert ors(out) == ["PR", "CR"]


def test_effusion_needs_malignant_cytology_s42():
    """§4.2/§4.3: worsening ascites or a new pleural effusion is not PD without malignant
    cytology; a malignant cytology within 14 days after the scan makes it PD."""
    base = [les(0, "T1", "target", 40, 30), les(0, "A", "non_target", status="present", organ="ascites")]
    fu = [les(56, "T1", "target", 40, 28), les(56, "A", "non_target", status="progression", organ="ascites")]
    assert ors(run(base + fu)) == ["SD"]
    cyto = [dict(subject_id="S1", date=day(60), finding="effusion_cytology", value="malignant")]
    assert ors(run(base + fu, cyto)) == ["PD"]
    new_eff = [les(56, "T1", "target", 40, 28), les(56, "A", "non_target", status="present", organ="ascites"),
               les(56, "E", "new", status="present", organ="pleural_effusion")]  # fmt: skip
    out = run(base + new_eff)
    assert ors(out) == ["SD"] and at(out, 56)["pending_progression"]
    assert ors(run(base + new_eff, cyto)) == ["PD"]


def test_new_lesion_size_pattern_rules_s43():
    """§4.3: typical 8 mm → equivocal; typical 11 mm later → new lesion, PD back-dated to the
    first scan; porta hepatis node new 18 mm ignored, 22 mm a new lesion."""
    base = [les(0, "T1", "target", 40, 30)]
    rows = base + [les(56, "T1", "target", 40, 30), les(56, "L", "new", 8, status="present"),
                   les(112, "T1", "target", 40, 30), les(112, "L", "new", 11, status="present")]  # fmt: skip
    out = run(rows)
    assert ors(out) == ["SD", "PD"] and at(out, 112)["progression_event_date"] == day(56)
    node = base + [les(56, "T1", "target", 40, 30), les(56, "P", "new", 18, status="present", organ="porta_hepatis", nodal=True)]
    assert ors(run(node)) == ["SD"]
    node[-1] = les(56, "P", "new", 22, status="present", organ="porta_hepatis", nodal=True)
    assert ors(run(node)) == ["PD"]


def test_registered_and_cancer_default():
    assert registry.get("mrecist").order[0] == "CR"
    assert registry.default_criteria_by_cancer()["hcc"] == "mrecist"


def test_example_dataset_mrecist():
    """examples_imaging/mrecist through ``assess`` (hcc -> mRECIST by default): expected.csv
    rows; BOR: MR01 PR (confirmed day 60 -> 120), MR02 CR / SD confirmed (§7 B
    re-derivation), MR03 SD (day 56 >= 42) both."""
    from test_irecist import _check_example

    _check_example("mrecist", {"MR01": ("PR", "PR"), "MR02": ("CR", "SD"), "MR03": ("SD", "SD")}, mrecist)
