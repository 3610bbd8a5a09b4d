"""FHIR export: every Observation validates with fhir.resources (R4B) and carries the codes
of remission_model.md §10.1 (checked code by code, not only that it parses)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import polars as pl
import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from remission import assess, schema as S
from remission.fhir import codes as C
from remission.fhir import export as E
from remission.io import load_dataset

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "remission" / "data" / "example"
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"
CDS_PROFILE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-disease-status"
EVIDENCE_URL = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-disease-status-evidence-type"


@pytest.fixture(scope="module")
def example():
    ds, _ = load_dataset(EXAMPLE)
    return ds, assess(ds)


def _codes(cc) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in cc.get("coding", [])}


def test_spec_10_1_value_codes_by_level_max_and_preferred():
    """remission_model.md §10.1 table, written out by hand."""
    max_expected = {
        S.COMPLETE: "103338009", S.PARTIAL: "103337004", S.MINOR: "268910001", S.STABLE: "359746009",
        S.PROGRESSION: "271299001", S.PROGRESSION_PENDING: "709137006", S.NOT_EVALUABLE: "709137006",
    }
    preferred_expected = dict(max_expected, **{S.COMPLETE: "268910001", S.PARTIAL: "268910001"})
    assert {k: v.code for k, v in C.VALUE_MAX.items()} == max_expected
    assert {k: v.code for k, v in C.VALUE_PREFERRED.items()} == preferred_expected
    assert all(v.system == SNOMED for v in C.VALUE_MAX.values())


def test_every_exported_resource_validates_with_fhir_resources(example):
    ds, result = example
    resources = E.dataset_resources(ds, clinical=E.clinical_status(result)) + E.result_resources(result, include_subjects=False)
    for res in resources:
        get_fhir_model_class(res["resourceType"]).model_validate(res)
    Bundle.model_validate(E.to_bundle(resources, "transaction"))
    Bundle.model_validate(E.to_bundle(resources, "collection"))


def test_cds_observation_codes_spec_10_1_ex01_lesion_derived(example):
    """EX01 (RECIST PR, README of the example): every CancerDiseaseStatus has LOINC 97509-4,
    status final, subject/focus, the assessment date, PR -> 103337004 (max VS) and the
    imaging evidence type 363679005 (lesion-derived rows)."""
    _, result = example
    obs = E.observations_for_subject(result, "EX01")
    expected_dates = result.assessments.filter(
        (pl.col("subject_id") == "EX01") & pl.col("canonical_level").is_not_null()
    ).get_column("date").to_list()
    assert [o["effectiveDateTime"] for o in obs] == [d.isoformat() for d in expected_dates]
    assert len(obs) == 4  # 2019-03-04, 04-29, 07-01, 10-07 (expected.csv note)
    for o in obs:
        Observation.model_validate(o)
        assert o["meta"]["profile"] == [CDS_PROFILE]
        assert o["status"] == "final"
        assert _codes(o["code"]) == {(LOINC, "97509-4")}
        assert o["subject"] == {"reference": "Patient/EX01"}
        assert o["focus"] == [{"reference": "Condition/cancer-EX01"}]
        assert (SNOMED, "103337004") in _codes(o["valueCodeableConcept"])
        assert o["valueCodeableConcept"]["text"] == "PR"
        ev = [e for e in o["extension"] if e["url"] == EVIDENCE_URL]
        assert [_codes(e["valueCodeableConcept"]) for e in ev] == [{(SNOMED, "363679005")}]


def test_cds_preferred_value_set_emits_only_preferred_codes(example):
    """``value_set="preferred"``: COMPLETE -> only 268910001 (ConditionStatusTrendVS)."""
    _, result = example
    obs = E.observations_for_subject(result, "EX04", value_set="preferred")
    last = obs[-1]  # EX04 ends in CR (expected.csv)
    assert last["valueCodeableConcept"]["coding"] == [
        {"system": SNOMED, "code": "268910001", "display": "Patient's condition improved (finding)"}
    ]
    max_last = E.observations_for_subject(result, "EX04")[-1]
    assert (SNOMED, "103338009") in _codes(max_last["valueCodeableConcept"])
    assert ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C4870") in _codes(max_last["valueCodeableConcept"])


def test_stated_lab_evidence_gives_laboratory_evidence_code():
    """A stated response with evidence ``lab`` -> evidence type 386344002 (§10.1)."""
    result = assess(
        subjects=pl.DataFrame({"subject_id": ["S1"], "cancer_type": ["breast"]}),
        responses=pl.DataFrame(
            {"subject_id": ["S1", "S1"], "date": ["2021-01-04", "2021-03-01"], "response": ["SD", "PD"], "evidence": ["lab", "lab"]}
        ),
    )
    obs = E.observations_for_subject(result, "S1")
    assert [_codes(o["valueCodeableConcept"]) >= {(SNOMED, c)} for o, c in zip(obs, ["359746009", "271299001"])] == [True, True]
    for o in obs:
        ev = [_codes(e["valueCodeableConcept"]) for e in o["extension"] if e["url"] == EVIDENCE_URL]
        assert ev == [{(SNOMED, "386344002")}]


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("EX01", "active"),  # partial_remission -> active (§10.1)
        ("EX04", "remission"),  # complete_remission -> remission
        ("EX06", "relapse"),  # recurrence after CR -> relapse
        ("EX33", "remission"),  # long_term_remission -> remission (resolved only on request)
        ("EX27", "remission"),  # died in complete remission: last status CR (choice, export.clinical_status)
        ("EX07", "active"),  # stable disease -> active
    ],
)
def test_condition_clinical_status_spec_10_1(example, subject, expected):
    _, result = example
    cond = next(r for r in E.result_resources(result) if r["resourceType"] == "Condition" and r["id"] == f"cancer-{subject}")
    assert cond["clinicalStatus"]["coding"][0]["system"] == "http://terminology.hl7.org/CodeSystem/condition-clinical"
    assert cond["clinicalStatus"]["coding"][0]["code"] == expected


def test_resolved_only_with_milestone_option(example):
    """§10.1: ``resolved`` is emitted only with milestone_sets_resolved=True (EX33 reached
    the long-term remission milestone)."""
    _, result = example
    on = E.clinical_status(result, milestone_sets_resolved=True)
    off = E.clinical_status(result)
    pick = lambda f: f.filter(pl.col("subject_id") == "EX33").item(0, "clinical_status")  # noqa: E731
    assert (pick(on), pick(off)) == ("resolved", "remission")
    assert "resolved" not in off.get_column("clinical_status").to_list()


def test_derived_observations_are_tagged_and_input_ones_are_not(example):
    ds, result = example
    derived = E.result_resources(result, include_subjects=False)
    assert all(r["meta"]["tag"] == [C.TAG_DERIVED] for r in derived)
    stated = [r for r in E.dataset_resources(ds) if r.get("meta", {}).get("profile") == [CDS_PROFILE]]
    assert len(stated) == ds.responses.height and all("tag" not in r["meta"] for r in stated)


def test_tumor_size_carries_lesion_identity_and_mm(example):
    """TumorSize (21889-1): focus identifier = lesion_id, component 33728-7 in mm."""
    ds, _ = example
    first = ds.lesions.sort("subject_id", "date", "lesion_id").row(0, named=True)
    res = next(r for r in E.dataset_resources(ds) if r["id"] == "lesion-EX01-1")
    assert _codes(res["code"]) == {(LOINC, "21889-1")}
    assert res["focus"][0]["identifier"]["value"] == first["lesion_id"]
    comp = res["component"][0]
    assert _codes(comp["code"]) == {(LOINC, "33728-7")}
    assert comp["valueQuantity"]["code"] == "mm" and comp["valueQuantity"]["value"] == first["diameter_mm"]


def test_export_files_bundle_and_ndjson(tmp_path):
    b = E.export(EXAMPLE, tmp_path / "out.json", bundle_type="transaction")
    doc = orjson.loads(b.path.read_bytes())
    assert doc["resourceType"] == "Bundle" and doc["type"] == "transaction"
    assert all(e["request"]["method"] == "PUT" for e in doc["entry"])
    n = E.export(EXAMPLE, tmp_path / "out.ndjson", fmt="ndjson", include_data=False)
    lines = n.path.read_bytes().splitlines()
    assert len(lines) == n.resources == 50 * 2 + n.observations


def test_as_of_cuts_results():
    from remission.options import AssessOptions

    ds, _ = load_dataset(EXAMPLE)
    result = assess(ds, AssessOptions(as_of=dt.date(2019, 5, 1)))
    obs = E.observations_for_subject(result, "EX01")
    assert [o["effectiveDateTime"] for o in obs] == ["2019-03-04", "2019-04-29"]


def test_fhir_id_is_valid_and_stable():
    assert E.fhir_id("cds", "EX01", "20190304") == "cds-EX01-20190304"
    odd = E.fhir_id("cds", "subject with spaces/1")
    assert odd == E.fhir_id("cds", "subject with spaces/1") and len(odd) <= 64 and " " not in odd


# --------------------------------------------------------------------------------------
# Issue 16: the standards' own checks (R4 JSON schema, US Core 6.1.0 / mCODE STU4 profiles)
# --------------------------------------------------------------------------------------

import json  # noqa: E402

import jsonschema  # noqa: E402

from fhir_profiles import Profiles  # noqa: E402  (tests/fhir_profiles.py)

DATA = Path(__file__).resolve().parent / "data" / "fhir"


@pytest.fixture(scope="module")
def profiles():
    return Profiles.load()


@pytest.fixture(scope="module")
def r4_schema():
    return jsonschema.Draft6Validator(json.loads((DATA / "r4-schema" / "fhir.schema.subset.json").read_text()))


def _edge_dataset():
    """Rows the example does not have: sex / name given and absent, no cancer_type, lesion
    rows without a diameter (non-target status, unmeasured target), a symptoms response."""
    from remission.io import from_frames

    ds, _ = from_frames(
        subjects=pl.DataFrame({"subject_id": ["A", "B"], "cancer_type": ["breast", None], "sex": ["female", None],
                               "name": ["Doe, Jane", None]}),
        lesions=pl.DataFrame({"subject_id": ["A", "A", "A"], "date": ["2021-01-04"] * 3, "lesion_id": ["T1", "N1", "T2"],
                              "role": ["target", "non_target", "target"], "organ": ["lung", "liver", "lung"],
                              "diameter_mm": ["30", None, None], "status": [None, "present", "not_evaluated"]}),
        responses=pl.DataFrame({"subject_id": ["B"], "date": ["2021-02-01"], "response": ["SD"], "evidence": ["symptoms"]}),
    )
    return ds


def _all_resources(ds):
    result = assess(ds)
    return E.dataset_resources(ds, clinical=E.clinical_status(result)) + E.result_resources(result, include_subjects=False)


@pytest.mark.parametrize("bundle_type", ["collection", "transaction"])
@pytest.mark.parametrize("base_url", [None, "https://fhir.example.org/r4"])
def test_every_bundle_entry_has_a_full_url_and_references_resolve(example, bundle_type, base_url):
    """Item 1: every entry has a fullUrl (unique); every reference to a resource of the
    Bundle resolves to an entry (urn:uuid fullUrls: the reference is the fullUrl; RESTful
    ones: base + relative reference)."""
    ds, result = example
    bundle = E.to_bundle(_all_resources(ds), bundle_type, base_url)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(urls) and len(set(urls)) == len(urls) == len(bundle["entry"])
    refs = [r for e in bundle["entry"] for r in _refs(e["resource"])]
    assert refs
    base = (base_url.rstrip("/") + "/") if base_url else ""
    assert all((base + r if base_url else r) in set(urls) for r in refs)


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_r4_json_schema_validates_every_export(example, r4_schema):
    """Item 7: the HL7 R4 JSON schema (vendored extract) accepts both Bundle types of the
    example and of the edge dataset; a wrong element is rejected (the check can fail)."""
    ds, _ = example
    for resources in (_all_resources(ds), _all_resources(_edge_dataset())):
        for bundle_type in ("collection", "transaction"):
            errors = list(r4_schema.iter_errors(E.to_bundle(resources, bundle_type)))
            assert errors == [], [e.message[:200] for e in errors[:3]]
    bad = dict(E.patient_resource({"subject_id": "X"}), gender="woman")
    assert list(r4_schema.iter_errors(bad))


def test_profile_check_of_every_claimed_profile(example, profiles):
    """Item 7: every resource satisfies every rule of the profiles it claims (mCODE STU4 FSH
    and its US Core 6.1.0 parents, tests/fhir_profiles.py), including the targets of
    CancerDiseaseStatus ``focus`` / medication ``reasonReference`` (item 3)."""
    ds, _ = example
    for resources in (_all_resources(ds), _all_resources(_edge_dataset())):
        assert profiles.check(resources) == []
    # what could not be checked is known and stated (value sets not vendored; warnings)
    assert {b.split()[1] for b in profiles.unchecked_bindings} <= {
        "http://hl7.org/fhir/ValueSet/condition-clinical", "http://hl7.org/fhir/ValueSet/condition-ver-status",
        "http://hl7.org/fhir/ValueSet/event-status", "http://hl7.org/fhir/ValueSet/administrative-gender",
        "http://hl7.org/fhir/us/core/ValueSet/us-core-screening-assessment-condition-category",
        "http://hl7.org/fhir/us/core/ValueSet/us-core-clinical-result-observation-category",
    }


def test_profile_checker_finds_broken_rules(profiles):
    """The checker fails on what the issue names: no category (US Core Condition), no
    name (us-core-6), a TumorSize without its longest dimension, an evidence type outside
    CancerDiseaseStatusEvidenceTypeVS, a focus on a Condition that is not US Core."""
    ds = _edge_dataset()
    res = _all_resources(ds)
    by_id = {r["id"]: r for r in res}

    def broken(rid, change):
        copy = [json.loads(json.dumps(r)) for r in res]
        target = next(r for r in copy if r["id"] == rid)
        change(target)
        return profiles.check(copy)

    cond = E.condition_id("A")
    assert any("category" in p for p in broken(cond, lambda r: r.pop("category")))
    assert any("focus -> Condition" in p for p in broken(E.condition_id("B"), lambda r: r.pop("category")))
    assert any("us-core-6" in p for p in broken("A", lambda r: r.update(name=[{"text": "Jane"}])))
    assert any("Patient.gender: min 1" in p for p in broken("A", lambda r: r.pop("gender")))
    tumor = next(r["id"] for r in res if C.PROFILE_TUMOR_SIZE in r.get("meta", {}).get("profile", []))
    assert any("tumorLongestDimension" in p for p in broken(tumor, lambda r: r.pop("component")))
    cds = next(r["id"] for r in res if r.get("meta", {}).get("profile") == [CDS_PROFILE])
    symptoms = {"url": EVIDENCE_URL, "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "711015009"}]}}
    assert any("CancerDiseaseStatusEvidenceTypeVS" in p for p in broken(cds, lambda r: r.setdefault("extension", []).append(symptoms)))
    assert by_id[cond]["category"][0]["coding"][0]["code"] == "problem-list-item"


def test_patient_name_and_gender_from_data_or_data_absent_reason():
    """Item 2: name / gender from subjects.name / sex, else the data-absent-reason extension."""
    ds = _edge_dataset()
    a, b = (next(r for r in E.dataset_resources(ds) if r["id"] == s) for s in ("A", "B"))
    assert (a["gender"], a["name"]) == ("female", [{"text": "Doe, Jane", "family": "Doe", "given": ["Jane"]}])
    dar = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}
    assert (b.get("gender"), b["_gender"], b["name"]) == (None, dar, [dar])


def test_condition_category_and_code_always_present():
    """Item 3: the cancer Condition has category problem-list-item and a code (the generic
    malignancy code 363346000 when cancer_type is empty)."""
    conds = [r for r in E.dataset_resources(_edge_dataset()) if r["resourceType"] == "Condition"]
    assert [_codes(c["category"][0]) for c in conds] == [
        {("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")}] * 2
    assert (SNOMED, "363346000") in _codes(conds[1]["code"])


def test_tumor_size_always_has_longest_dimension_and_status_rows_are_not_tumor_size():
    """Item 4: rows without a diameter are lesion-status Observations (no TumorSize profile)."""
    obs = [r for r in E.dataset_resources(_edge_dataset()) if r.get("category") == [{"coding": [C.CATEGORY_IMAGING.coding()]}]]
    tumor = [o for o in obs if o.get("meta", {}).get("profile") == [C.PROFILE_TUMOR_SIZE]]
    status = [o for o in obs if "meta" not in o]
    assert len(tumor) == 1 and all((LOINC, "33728-7") in _codes(c["code"]) for c in tumor[0]["component"][:1])
    assert [(o["focus"][0]["identifier"]["value"], o.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code"),
             "dataAbsentReason" in o) for o in status] == [("N1", "present", False), ("T2", "not_evaluated", False)]


def test_evidence_types_only_from_the_value_set(example, profiles):
    """Item 5: every evidence-type code written is one of CancerDiseaseStatusEvidenceTypeVS
    (vendored VS_Other.fsh); a symptoms-based status carries the project's evidence
    extension instead."""
    ds, _ = example
    vs = profiles.vs["CancerDiseaseStatusEvidenceTypeVS"]
    written = [(c["system"], c["code"]) for r in _all_resources(ds) + _all_resources(_edge_dataset())
               for e in r.get("extension", []) if e["url"] == EVIDENCE_URL for c in e["valueCodeableConcept"]["coding"]]
    assert written and all(vs.contains(s, c) for s, c in written)
    stated = next(r for r in E.dataset_resources(_edge_dataset()) if r["id"].startswith("response-B"))
    assert stated["extension"] == [{"url": C.EXT_RESPONSE_EVIDENCE, "valueCode": "symptoms"}]
