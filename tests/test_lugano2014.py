"""Lugano 2014 engine (criteria/lugano2014.md): every worked example and edge case, with
values computed by hand in the docstrings, and the bundled example dataset end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from remission import schema as S
from remission.criteria import lugano2014 as L
from remission.criteria import registry

D = dt.date
BASE = D(2020, 1, 1)
START = D(2020, 1, 2)


def les(rows):
    """rows: (date, lesion_id, role, nodal, diameter, perpendicular, status)."""
    return pl.DataFrame(
        [
            {"subject_id": "S", "date": d, "lesion_id": i, "role": r, "organ": "lymph_node" if n else "lung", "nodal": n,
             "diameter_mm": a, "perpendicular_mm": b, "status": s, "method": "CT"}
            for d, i, r, n, a, b, s in rows
        ],
        schema=S.LESIONS,
    )


def fnd(rows):
    return pl.DataFrame([{"subject_id": "S", "date": d, "finding": k, "value": str(v)} for d, k, v in rows], schema=S.FINDINGS)


def seg(baseline=BASE, start=START):
    return pl.DataFrame(
        {"subject_id": ["S"], "line": [1], "reference_start": [start], "baseline_date": [baseline], "end_date": [None]},
        schema=S.SEGMENTS,
    )


def run(lesions=None, findings=None, treatments=None, **opts):
    t = {"lesions": lesions if lesions is not None else S.empty(S.LESIONS),
         "findings": findings if findings is not None else S.empty(S.FINDINGS),
         "treatments": treatments if treatments is not None else S.empty(S.TREATMENTS)}
    out = L.evaluate(t, seg(), L.LuganoOptions(**opts))
    return {r["date"]: r for r in out.iter_rows(named=True)}


def test_registered():
    c = registry.get("lugano2014")
    assert c.options_model is L.LuganoOptions and c.canonical["CMR"] == S.COMPLETE


# ---------------------------------------------------------------- §7 worked example (CT)
T1, T2, T3 = D(2020, 7, 1), D(2021, 1, 1), D(2021, 7, 1)


def _example_a():
    rows = [(BASE, "A", "target", True, 30, 20, None), (BASE, "B", "target", True, 25, 15, None), (BASE, "C", "target", True, 20, 20, None)]
    for d, a in ((T1, (20, 12)), (T2, (20, 12)), (T3, (31, 18))):
        rows += [(d, "A", "target", True, *a, None), (d, "B", "target", True, 10, 8, None), (d, "C", "target", True, None, None, "absent")]
    f = [(BASE, "spleen_length_cm", 15), (T1, "spleen_length_cm", 13.5), (T2, "spleen_length_cm", 13.5), (T3, "spleen_length_cm", 13.5)]
    return les(rows), f


def test_worked_example_ct_section7():
    """§7: SPD 600+375+400 = 1375; EOT 240+80+0 = 320 (-76.7 %), spleen excess 2.0 -> 0.5
    (-75 % > 50 %) -> PR (A LDi 20 > 15 prevents CR); 6 months: unchanged -> PR; 12 months A
    31x18 = 558, +132.5 % vs its nadir 240, LDi +11 >= 5 (nadir LDi 20 <= 20) -> PD (D1)."""
    lesions, f = _example_a()
    r = run(lesions, fnd(f), primary_modality="CT")
    assert r[BASE]["value"] == 1375 and r[BASE]["overall_response"] is None
    assert r[T1]["overall_response"] == "PR" and r[T1]["value"] == 320
    assert r[T1]["change_from_baseline_pct"] == pytest.approx(-76.727, abs=1e-3)
    assert "A LDi 20 mm > 15" in r[T1]["explanation"]
    assert r[T2]["overall_response"] == "PR"
    assert r[T3]["overall_response"] == "PD" and "D1" in r[T3]["rule_ids"]
    assert "+132.5%" in r[T3]["explanation"] and "LDi +11" in r[T3]["explanation"]
    assert r[T3]["canonical_level"] == S.PROGRESSION and r[T3]["progression_event_date"] == T3


def test_worked_example_pet_cmr_despite_residual_mass():
    """§7 last paragraph: same patient, EOT PET Deauville 3, no new foci, marrow none -> CMR
    overrides the CT residual mass with primary PET (COMPLETE)."""
    lesions, f = _example_a()
    f += [(T1, "deauville", 3), (T1, "new_fdg_foci", "no"), (T1, "marrow_fdg", "none")]
    r = run(lesions, fnd(f))
    assert (r[T1]["overall_response"], r[T1]["target_response"], r[T1]["non_target_response"]) == ("CMR", "PR", "CMR")
    assert r[T1]["canonical_level"] == S.COMPLETE


# ---------------------------------------------------------------- §7b worked example B
I1, EOT, F6 = D(2020, 3, 1), D(2020, 7, 1), D(2021, 1, 1)


def _example_b():
    return [
        (BASE, "spleen_length_cm", 17.0),
        (I1, "deauville", 4), (I1, "deauville", 3), (I1, "fdg_uptake_change", "reduced"), (I1, "marrow_fdg", "residual_reduced"),
        (I1, "new_fdg_foci", "no"), (I1, "spleen_length_cm", 15.0),
        (EOT, "deauville", 3), (EOT, "deauville", 2), (EOT, "marrow_fdg", "none"), (EOT, "new_fdg_foci", "no"), (EOT, "spleen_length_cm", 14.0),
        (F6, "spleen_length_cm", 14.6),
    ]


def test_worked_example_b_interim_pmr_eot_cmr_spleen_relapse():
    """§7b: interim max score 4 reduced, marrow residual_reduced -> PMR (P3); EOT 3/2,
    marrow none -> CMR (P2); 6 months: spleen nadir 14.0, prior excess 1.0, 14.6 - 14.0 =
    0.6 > 0.5 -> CT PD (D2); no PET that day, so PET-primary falls back to CT (choice 2)."""
    tr = pl.DataFrame([{"subject_id": "S", "start_date": START, "end_date": D(2020, 6, 1), "modality": "chemotherapy",
                        "intent": None, "line": None, "name": "ABVD"}], schema=S.TREATMENTS)
    r = run(None, fnd(_example_b()), tr)
    assert r[I1]["non_target_response"] == "PMR" and r[I1]["overall_response"] == "PMR" and "P3" in r[I1]["rule_ids"]
    assert r[EOT]["overall_response"] == "CMR" and "EOT" in r[EOT]["rule_ids"] and "EOT" not in r[I1]["rule_ids"]
    assert r[F6]["overall_response"] == "PD" and "D2" in r[F6]["rule_ids"] and "FB" in r[F6]["rule_ids"]
    assert "spleen 14.6 cm is > nadir 14 cm + 50% of its excess 1 cm" in r[F6]["explanation"]
    assert r[F6]["recurrence_sites"] == "spleen"


def test_worked_example_b_interim_spleen_exactly_half_is_not_ct_pr():
    """§7b notes: interim spleen excess 4.0 -> 2.0 is exactly -50 %, not > 50 %: with
    targets at -60 % SPD the CT category is SD, at EOT (excess 1.0, -75 %) PR."""
    lesions = les([(BASE, "A", "target", True, 30, 20, None), (I1, "A", "target", True, 20, 12, None), (EOT, "A", "target", True, 20, 12, None)])
    r = run(lesions, fnd(_example_b()), primary_modality="CT")
    assert r[I1]["change_from_baseline_pct"] == pytest.approx(-60.0)
    assert r[I1]["overall_response"] == "SD" and "spleen excess not reduced by > 50%" in r[I1]["explanation"]
    assert r[EOT]["overall_response"] == "PR"


def test_worked_example_b_deauville3_not_complete():
    """§7b row 3: with deauville3_is_complete = False the EOT score 3 is handled as a
    score-4 site; its uptake is reduced -> PMR (P3), residual disease at EOT."""
    f = _example_b() + [(EOT, "fdg_uptake_change", "reduced")]
    tr = pl.DataFrame([{"subject_id": "S", "start_date": START, "end_date": D(2020, 6, 1), "modality": "chemotherapy",
                        "intent": None, "line": None, "name": "ABVD"}], schema=S.TREATMENTS)
    r = run(None, fnd(f), tr, deauville3_is_complete=False)
    assert r[EOT]["overall_response"] == "PMR" and r[EOT]["warnings"] == "RESIDUAL_DISEASE"


# ---------------------------------------------------------------- §4.1 PET rules
@pytest.mark.parametrize(
    "findings, expected, rule",
    [
        ([("deauville", 2), ("new_fdg_foci", "yes")], "PMD", "P1"),
        ([("deauville", 5), ("fdg_uptake_change", "increased")], "PMD", "P1"),
        ([("deauville", 1), ("marrow_fdg", "new_focal")], "PMD", "P1"),
        ([("deauville", 3), ("marrow_fdg", "diffuse_reactive")], "CMR", "P2"),
        ([("deauville", 3), ("marrow_fdg", "unchanged")], "PMR", "P3"),  # P3 (b)
        ([("deauville", 5), ("fdg_uptake_change", "reduced"), ("deauville", 4)], "PMR", "P3"),
        ([("deauville", 4), ("fdg_uptake_change", "unchanged"), ("marrow_fdg", "none")], "NMR", "P4"),  # review fix
        ([("deauville", 4), ("fdg_uptake_change", "reduced"), ("fdg_uptake_change", "unchanged")], "NMR", "P4"),  # worst site
        ([("deauville", 4)], "NE", "P5"),
        ([("marrow_fdg", "none")], "NE", "P5"),
    ],
)
def test_pet_rules(findings, expected, rule):
    """§4.1 P1-P5 (P4 accepts marrow none, review change; several sites: worst, §10)."""
    r = run(None, fnd([(T1, k, v) for k, v in findings]))
    assert r[T1]["non_target_response"] == expected and rule in r[T1]["rule_ids"]


def test_pet_marrow_unchanged_sets_workup_flag():
    """§4.1 notes: persistent focal marrow uptake with nodal response -> PMR + marrow_needs_workup."""
    r = run(None, fnd([(T1, "deauville", 2), (T1, "marrow_fdg", "unchanged")]))
    assert r[T1]["overall_response"] == "PMR" and r[T1]["warnings"] == "MARROW_NEEDS_WORKUP"


# ---------------------------------------------------------------- §6 edge cases
def test_edge1_residual_mass_deauville_le3_at_eot_is_cmr():
    """§6.1: residual mass (CT PR) with Deauville 3 at EOT -> CMR, COMPLETE."""
    lesions = les([(BASE, "A", "target", True, 40, 30, None), (T1, "A", "target", True, 25, 20, None)])
    r = run(lesions, fnd([(T1, "deauville", 3)]))
    assert (r[T1]["overall_response"], r[T1]["target_response"]) == ("CMR", "PR")


def test_edge2_score4_reduced_at_eot_is_pmr_residual():
    """§6.2: score 4 reduced at EOT -> PMR (residual disease, PARTIAL)."""
    tr = pl.DataFrame([{"subject_id": "S", "start_date": START, "end_date": D(2020, 6, 1), "modality": "chemotherapy",
                        "intent": None, "line": None, "name": "R-CHOP"}], schema=S.TREATMENTS)
    r = run(None, fnd([(T1, "deauville", 4), (T1, "fdg_uptake_change", "reduced")]), tr)
    assert r[T1]["overall_response"] == "PMR" and r[T1]["canonical_level"] == S.PARTIAL and r[T1]["warnings"] == "RESIDUAL_DISEASE"


def test_edge3_new_focus_score_x_is_not_progression():
    """§6.3: a new focus scored X is recorded as new_fdg_foci = no -> no PMD (here CMR)."""
    r = run(None, fnd([(T1, "deauville", 2), (T1, "new_fdg_foci", "no")]))
    assert r[T1]["overall_response"] == "CMR"


def _one_node(base, now, nadir=None):
    rows = [(BASE, "A", "target", True, *base, None)]
    d = T1
    if nadir:
        rows.append((T1, "A", "target", True, *nadir, None))
        d = T2
    rows.append((d, "A", "target", True, *now, None))
    return run(les(rows), primary_modality="CT")[d]


def test_edge4_node_12_to_14_not_pd():
    """§6.4: 12x12 (144) -> 14x14 (196), +36 %; LDi 14 not > 15 -> not PD; the node is
    back to LDi <= 15, so CT CR."""
    r = _one_node((20, 20), (14, 14), nadir=(12, 12))
    assert r["overall_response"] == "CR" and "D1" not in r["rule_ids"]


def test_edge5_small_node_pd():
    """§6.5: nadir 15x10 (150) -> 22x12 (264): LDi 22 > 15, +76 %, LDi +7 >= 5 -> PD."""
    r = _one_node((30, 20), (22, 12), nadir=(15, 10))
    assert r["overall_response"] == "PD" and "+76%" in r["explanation"]


def test_edge6_large_node_needs_10mm():
    """§6.6: nadir 30x25 (750) -> 36x32 (1152, +53.6 %), LDi +6, SDi +7 < 10 -> not PD."""
    r = _one_node((40, 30), (36, 32), nadir=(30, 25))
    assert r["overall_response"] == "SD"


@pytest.mark.parametrize("now, pd", [(16.0, False), (16.5, True)])
def test_edge7_spleen_15cm(now, pd):
    """§6.7: spleen 15 cm -> 16.0 not PD (must be > 16); -> 16.5 PD (D2)."""
    lesions = les([(BASE, "A", "target", True, 30, 20, None), (T1, "A", "target", True, 30, 20, None)])
    r = run(lesions, fnd([(BASE, "spleen_length_cm", 15), (T1, "spleen_length_cm", now)]), primary_modality="CT")
    assert (r[T1]["overall_response"] == "PD") is pd


def test_edge8_spleen_12_to_14_is_pd():
    """§6.8: no splenomegaly at baseline (12 cm) -> 14 cm: +2 cm -> PD (D2)."""
    lesions = les([(BASE, "A", "target", True, 30, 20, None), (T1, "A", "target", True, 30, 20, None)])
    r = run(lesions, fnd([(BASE, "spleen_length_cm", 12), (T1, "spleen_length_cm", 14)]), primary_modality="CT")
    assert r[T1]["overall_response"] == "PD" and "D2" in r[T1]["rule_ids"]


def test_edge9_too_small_counts_25_and_extranodal_blocks_cr():
    """§6.9: too small = 5x5 = 25 mm²; a nodal target at 5x5 does not block CR, an
    extranodal one does (-> PR: SPD 25+25 = 50 vs 600+400 = 1000, -95 %)."""
    base = [(BASE, "N", "target", True, 30, 20, None), (BASE, "E", "target", False, 20, 20, None)]
    nodal_only = les(base + [(T1, "N", "target", True, None, None, "too_small"), (T1, "E", "target", False, None, None, "absent")])
    r = run(nodal_only, primary_modality="CT")
    assert r[T1]["value"] == 25 and r[T1]["overall_response"] == "CR"
    both = les(base + [(T1, "N", "target", True, None, None, "too_small"), (T1, "E", "target", False, None, None, "too_small")])
    r = run(both, primary_modality="CT")
    assert r[T1]["value"] == 50 and r[T1]["overall_response"] == "PR" and "E extranodal 25 mm² still present" in r[T1]["explanation"]


# ---------------------------------------------------------------- §4.2 other PD rules, NE
def test_new_lesion_sizes_d4():
    """§4.2 D4: new node 16 mm (> 15) -> PD; new extranodal 8 mm not unequivocal -> not PD
    but blocks CR and PR (choice 7: "no new lesions") -> SD; a small one stated unequivocal
    (status progression) -> PD."""
    base = [(BASE, "A", "target", True, 30, 20, None), (T1, "A", "target", True, 10, 10, None)]
    r = run(les(base + [(T1, "N1", "new", True, 16, 9, "present")]), primary_modality="CT")
    assert r[T1]["overall_response"] == "PD" and "new lesion N1" in r[T1]["explanation"]
    r = run(les(base), primary_modality="CT")
    assert r[T1]["overall_response"] == "CR"
    r = run(les(base + [(T1, "X1", "new", False, 8, 6, "present")]), primary_modality="CT")
    assert r[T1]["overall_response"] == "SD" and "small new lesion X1 (not PD)" in r[T1]["explanation"]
    r = run(les(base + [(T1, "X1", "new", False, 8, 6, "progression")]), primary_modality="CT")
    assert r[T1]["overall_response"] == "PD"


def test_non_measured_progression_marrow_and_not_assessed():
    """§4.2 D3 (non-target progression), D5 (marrow normal -> involved), NE (target not
    assessed, evaluation order PD -> NE)."""
    base = [(BASE, "A", "target", True, 30, 20, None), (BASE, "NT", "non_target", True, None, None, "present")]
    r = run(les(base + [(T1, "A", "target", True, 20, 10, None), (T1, "NT", "non_target", True, None, None, "progression")]), primary_modality="CT")
    assert r[T1]["overall_response"] == "PD" and "D3" in r[T1]["rule_ids"]
    f = fnd([(BASE, "marrow_involvement", "normal"), (T1, "marrow_involvement", "involved")])
    r = run(les(base + [(T1, "A", "target", True, 20, 10, None), (T1, "NT", "non_target", True, None, None, "present")]), f, primary_modality="CT")
    assert r[T1]["overall_response"] == "PD" and "D5" in r[T1]["rule_ids"]
    r = run(les(base + [(T1, "A", "target", True, None, None, "not_evaluated")]), primary_modality="CT")
    assert r[T1]["overall_response"] == "NE" and "target A not assessed" in r[T1]["explanation"]


def test_primary_ne_does_not_fall_back():
    """Choice 2: a PET NE stays NE even when CT shows PR."""
    lesions = les([(BASE, "A", "target", True, 30, 20, None), (T1, "A", "target", True, 20, 10, None)])
    r = run(lesions, fnd([(T1, "deauville", 4)]))
    assert (r[T1]["overall_response"], r[T1]["target_response"]) == ("NE", "PR")


def test_best_response_per_modality():
    """§5: no confirmation; best by order CMR > PMR > NMR > PMD, stops at the first PMD."""
    tp = pl.DataFrame({"subject_id": ["S"] * 4, "date": [T1, T2, T3, D(2022, 1, 1)],
                       "overall_response": ["NMR", "PMR", "PMD", "CMR"], "non_target_response": ["NMR", "PMR", "PMD", "CMR"],
                       "target_response": ["SD", "PR", "PR", "CR"]})
    from remission.timeline.best_response import best_responses

    ref = pl.DataFrame({"subject_id": ["S"], "reference_start": [BASE]})
    rule = L.CRITERION.best_response(L.LuganoOptions())

    def best(column):
        frame = tp.select("subject_id", "date", overall_response=pl.col(column))
        out = best_responses(frame, ref, rule, levels=L.CRITERION.levels())
        return out.select("subject_id", "best_response", "best_response_date", "confirmed_best_response").row(0)

    # PET: PMD on T3 ends the window, so the later CMR is not counted; no confirmation needed
    assert best("non_target_response") == ("S", "PMR", T2, "PMR")
    # CT: no PD, so CR on 2022-01-01 is the best (and needs no confirmation)
    assert best("target_response") == ("S", "CR", D(2022, 1, 1), "CR")


# ---------------------------------------------------------------- bundled example
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "examples_imaging" / "lugano"


def test_bundled_lugano_example_end_to_end():
    """The bundled dataset through ``remission.assess``; expected values derived by hand in
    its expected.csv (``note`` column)."""
    import csv

    from remission import assess

    res = assess(str(EXAMPLES))
    tp = {(r["subject_id"], str(r["date"])): r for r in res.timepoints.iter_rows(named=True)}
    with (EXAMPLES / "expected.csv").open() as fh:
        for row in csv.DictReader(fh):
            got = tp[(row["subject_id"], row["date"])]
            assert got["overall_response"] == row["overall_response"], (row, got["explanation"])
            assert got["canonical_level"] == row["canonical_level"], row
    ep = res.episodes.filter(pl.col("subject_id") == "LY01")
    assert ep.height == 1 and ep["type"][0].lower() == "complete"


def test_finding_values_are_validated(tmp_path):
    """Addendum validation: a bad Lugano/RANO finding value is an input error naming the
    expected values; valid values pass and are lower-cased."""
    from remission.errors import InputErrors
    from remission.io import load_dataset

    (tmp_path / "subjects.csv").write_text("subject_id,cancer_type\nS,dlbcl\n")
    (tmp_path / "findings.csv").write_text(
        "subject_id,date,finding,value\nS,2020-01-01,marrow_fdg,New_Focal\nS,2020-01-01,spleen_length_cm,14.5\nS,2020-01-01,deauville,3\n"
    )
    ds, errors = load_dataset(tmp_path)
    assert errors == [] and sorted(ds.findings["value"].to_list()) == ["14.5", "3", "new_focal"]
    (tmp_path / "findings.csv").write_text("subject_id,date,finding,value\nS,2020-01-01,fdg_uptake_change,lower\nS,2020-01-01,spleen_length_cm,-1\n")
    with pytest.raises(InputErrors) as exc:
        load_dataset(tmp_path)
    errs = exc.value.errors
    assert {e.code for e in errs} == {"BAD_FINDING_VALUE"} and any("reduced, unchanged, increased" in e.expected for e in errs)
