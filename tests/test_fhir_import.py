"""FHIR import: hand-written mCODE examples map to the canonical tables; canonical ->
FHIR -> canonical gives the same derived results; malformed FHIR gives located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import polars as pl
import pytest
from typer.testing import CliRunner

from remission import assess
from remission.cli import app
from remission.errors import InputErrors
from remission.fhir import export as E
from remission.fhir.import_ import read_fhir
from remission.io import load_dataset

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
DATA = ROOT / "tests" / "data" / "fhir"


@pytest.fixture(scope="module")
def example():
    ds, _ = load_dataset(EXAMPLE)
    return ds, assess(ds)


@pytest.mark.parametrize("fmt, suffix", [("bundle", "json"), ("ndjson", "ndjson")])
def test_round_trip_example_same_derived_results(example, tmp_path, fmt, suffix):
    """Done-when: canonical tables -> FHIR -> canonical tables gives the same derived
    results (summary, episodes, assessments) and the same input tables.  The export holds
    the input data and the derived CancerDiseaseStatus Observations; the latter are skipped
    on import (tagged derived) and each skip is reported."""
    ds, result = example
    resources = E.dataset_resources(ds, clinical=E.clinical_status(result)) + E.result_resources(result, include_subjects=False)
    path = E.write(resources, tmp_path / f"ex.{suffix}", fmt)
    imp = read_fhir(path)
    again = assess(imp.dataset)
    assert again.summary.equals(result.summary)
    assert again.episodes.equals(result.episodes)
    assert again.assessments.equals(result.assessments)
    for name in ("subjects", "lesions", "labs", "findings", "treatments", "responses"):
        a = getattr(ds, name).sort(pl.all())
        b = getattr(imp.dataset, name).sort(pl.all())
        assert a.equals(b), name
    derived = result.assessments.filter(pl.col("canonical_level").is_not_null()).height
    assert [e.code for e in imp.unmapped] == ["derived_skipped"] * derived


def test_hand_written_mcode_bundle_maps_to_canonical_rows():
    """tests/data/fhir/mcode_small_bundle.json (hand-written, third-party style)."""
    imp = read_fhir(DATA / "mcode_small_bundle.json")
    ds = imp.dataset
    # Patient: no subject-id identifier -> resource id; death from deceasedDateTime (its date as written)
    assert ds.subjects.select("subject_id", "cancer_type", "criteria", "diagnosis_date", "death_date").rows() == [
        ("pat-1", "breast", "recist1.1", dt.date(2020, 1, 15), dt.date(2021, 6, 30))
    ]
    # TumorSize: 4.2 cm -> 42 mm; lesion id from focus.identifier or from the BodyStructure;
    # lung / CT from SNOMED; "Lymph node" text -> lymph_node, nodal by body site (choice)
    assert ds.lesions.select("lesion_id", "role", "organ", "nodal", "diameter_mm", "method").sort("lesion_id").rows() == [
        ("L1", "target", "lung", False, 42.0, "CT"),
        ("L2", "target", "lymph_node", True, 18.0, None),
    ]
    # CA-125 (LOINC 10334-1) in k[IU]/L -> U/mL (remission.units, factor 1)
    assert ds.labs.select("test", "value", "unit").rows() == [("ca125", 35.0, "U/mL")]
    # CancerDiseaseStatus 359746009 (stable) -> SD; evidence 386344002 -> lab
    assert ds.responses.select("date", "response", "evidence").rows() == [(dt.date(2020, 5, 4), "SD", "lab")]
    # mCODE cancer-related medication without modality -> other (reported as assumed)
    assert ds.treatments.select("start_date", "end_date", "modality", "name").rows() == [
        (dt.date(2020, 2, 10), dt.date(2020, 4, 20), "other", "paclitaxel")
    ]
    reported = {(e.row, e.column, e.code) for e in imp.unmapped}
    assert reported == {
        (8, "MedicationAdministration.category", "assumed"),
        (9, "Procedure.code", "unmapped"),  # a biopsy is not a treatment
        (10, "Observation.code", "unmapped"),  # heart rate
        (11, "resourceType", "unmapped"),  # Encounter
    }
    assert all(e.file == "mcode_small_bundle.json" for e in imp.unmapped)


def test_ndjson_fast_path_icd10_psa_medication_request():
    imp = read_fhir(DATA / "prostate_small.ndjson")
    ds = imp.dataset
    assert ds.subjects.select("subject_id", "cancer_type", "criteria", "death_date").rows() == [
        ("n1", "prostate", "pcwg3", dt.date(2022, 1, 5))  # ICD-10-CM C61 -> prostate -> pcwg3 default
    ]
    assert ds.labs.select("date", "test", "value", "unit").rows() == [(dt.date(2020, 1, 6), "psa", 12.5, "ng/mL")]
    assert ds.treatments.select("start_date", "modality", "name").rows() == [(dt.date(2020, 1, 10), "hormone", "enzalutamide")]


def _errors(path) -> list[tuple]:
    with pytest.raises(InputErrors) as exc:
        read_fhir(path)
    return [(e.file, e.row, e.subject_id, e.column, e.value, e.code) for e in exc.value.errors]


def test_malformed_bundle_located_errors():
    """Done-when: wrong resourceType, missing subject, bad dates, unknown units are
    located errors (file, entry number, subject, FHIR element path)."""
    errs = _errors(DATA / "malformed_bundle.json")
    f = "malformed_bundle.json"
    assert (f, 2, None, "resourceType", "Patiant", "wrong_resource_type") in errs
    assert (f, 3, None, "Observation.subject", None, "missing_subject") in errs
    assert (f, 4, "p1", "Observation.effectiveDateTime", "2020-02-30", "fhir_invalid") in errs
    assert (f, 5, "p1", "Observation.valueQuantity.unit", "furlongs", "unknown_unit") in errs
    assert (f, 6, "p9", "Observation.effectiveDateTime", "2020-2", "fhir_invalid") in errs
    assert len(errs) == 5


def test_malformed_ndjson_located_errors_by_line():
    errs = _errors(DATA / "malformed.ndjson")
    f = "malformed.ndjson"
    assert [(e[1], e[5]) for e in errs] == [
        (2, "not_json"), (3, "wrong_resource_type"), (4, "unknown_unit"), (5, "unknown_subject"), (6, "wrong_resource_type")
    ]
    assert (f, 5, None, "Observation.subject.reference", "Patient/ghost", "unknown_subject") in errs


def _ndjson(tmp_path, *resources) -> Path:
    p = tmp_path / "x.ndjson"
    p.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    return p


PATIENT = {"resourceType": "Patient", "id": "a"}


def _tumor(**over):
    res = {
        "resourceType": "Observation", "id": "t", "status": "final",
        "extension": [{"url": "urn:remission:extension:lesion-role", "valueCode": "target"}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
        "subject": {"reference": "Patient/a"},
        "focus": [{"identifier": {"value": "T1"}}],
        "effectiveDateTime": "2021-01-04",
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
                       "valueQuantity": {"value": 30, "system": "http://unitsofmeasure.org", "code": "mm"}}],
    }
    res.update(over)
    return res


def test_ndjson_own_checks_bad_and_partial_dates(tmp_path):
    """NDJSON is not model-validated: the reader's own date check locates the problem."""
    errs = _errors(_ndjson(tmp_path, PATIENT, _tumor(effectiveDateTime="2021-02-30"), _tumor(id="u", effectiveDateTime="2021-03")))
    assert [(e[1], e[2], e[3], e[4], e[5]) for e in errs] == [
        (2, "a", "Observation.effectiveDateTime", "2021-02-30", "bad_date"),
        (3, "a", "Observation.effectiveDateTime", "2021-03", "bad_date"),
    ]


def test_tumor_size_unit_error(tmp_path):
    comp = [{"code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
             "valueQuantity": {"value": 3, "system": "http://unitsofmeasure.org", "code": "[in_i]"}}]
    errs = _errors(_ndjson(tmp_path, PATIENT, _tumor(component=comp)))
    assert [(e[1], e[3], e[5]) for e in errs] == [(2, "Observation.component[0].valueQuantity.code", "unknown_unit")]


def test_tumor_size_without_role_or_on_a_specimen_is_unmapped_not_fatal(tmp_path):
    """Issue 16 item 6: a TumorSize without the project's lesion-role extension (any other
    system's data) or measured on an excised specimen (pathology) is reported, not an error."""
    specimen = _tumor(id="s", focus=None, specimen={"reference": "Specimen/x"})
    del specimen["focus"]
    imp = read_fhir(_ndjson(tmp_path, PATIENT, _tumor(id="v", extension=[]), specimen, _tumor(id="ok")))
    assert imp.dataset.lesions.select("lesion_id", "role", "diameter_mm").rows() == [("T1", "target", 30.0)]
    assert [(e.row, e.column, e.code) for e in imp.unmapped] == [
        (2, "Observation.extension(lesion-role)", "unmapped"),
        (3, "Observation.specimen", "unmapped"),
    ]


def test_canonical_validation_errors_are_relocated_to_fhir_elements(tmp_path):
    """An error found by remission.io validation (role 'primary' is not a role) names the
    NDJSON line and the FHIR element, not the intermediate data frame."""
    bad = _tumor(extension=[{"url": "urn:remission:extension:lesion-role", "valueCode": "primary"}])
    errs = _errors(_ndjson(tmp_path, PATIENT, bad))
    assert [(e[0], e[1], e[2], e[3], e[4]) for e in errs] == [("x.ndjson", 2, "a", "Observation.extension(lesion-role)", "primary")]


def test_improved_without_criterion_code_is_a_reported_partial_response(tmp_path):
    """Issue 16 item 6: 268910001 'improved' (§10.1 preferred VS: COMPLETE, PARTIAL and MINOR
    all map to it) is read as PR, the least level that opens a response episode (§6.3), and
    each such row is reported as ``assumed``; with a criterion code in text that code wins."""
    cds = {
        "resourceType": "Observation", "id": "c", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]},
        "subject": {"reference": "Patient/a"}, "effectiveDateTime": "2021-01-04",
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "268910001"}]},
    }
    with_text = dict(cds, id="d", effectiveDateTime="2021-02-01",
                     valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "268910001"}], "text": "PR"})
    cr_text = dict(cds, id="e", effectiveDateTime="2021-03-01",
                   valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "268910001"}], "text": "CR"})
    imp = read_fhir(_ndjson(tmp_path, PATIENT, cds, with_text, cr_text))
    assert imp.dataset.responses.select("date", "response").rows() == [
        (dt.date(2021, 1, 4), "PR"), (dt.date(2021, 2, 1), "PR"), (dt.date(2021, 3, 1), "CR")]
    assert [(e.row, e.column, e.value, e.code) for e in imp.unmapped] == [
        (2, "Observation.valueCodeableConcept", "268910001", "assumed")]
    # the lifecycle uses it: one "improved" status alone opens a response episode (RESPONDING, §9)
    alone = read_fhir(_ndjson(tmp_path, PATIENT, cds))
    result = assess(alone.dataset)
    assert result.summary.select("status", "remission_count").rows() == [("responding", 1)]
    assert result.episodes.select("start_date", "type_at_onset").rows() == [(dt.date(2021, 1, 4), "PARTIAL")]


def test_skip_invalid_keeps_valid_subjects(tmp_path):
    p = _ndjson(tmp_path, PATIENT, {"resourceType": "Patient", "id": "b"}, _tumor(),
                _tumor(id="w", subject={"reference": "Patient/b"}, effectiveDateTime="2021-13-01"))
    imp = read_fhir(p, skip_invalid=True)
    assert imp.dataset.subjects.get_column("subject_id").to_list() == ["a"]
    assert [(e.subject_id, e.code) for e in imp.errors] == [("b", "bad_date")]


def test_cli_export_import_round_trip(tmp_path):
    runner = CliRunner()
    out = tmp_path / "ex.ndjson"
    r = runner.invoke(app, ["fhir", "export", str(EXAMPLE), "--out", str(out), "--format", "ndjson"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["fhir", "import", str(out), "--out", str(tmp_path / "ds")])
    assert r.exit_code == 0, r.output
    assert {p.name for p in (tmp_path / "ds").iterdir()} == {
        "subjects.csv", "lesions.csv", "labs.csv", "findings.csv", "treatments.csv", "responses.csv", "unmapped.csv",
        "run.json",
    }
    assert assess(tmp_path / "ds").summary.equals(assess(EXAMPLE).summary)
    r = runner.invoke(app, ["fhir", "import", str(DATA / "malformed_bundle.json"), "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2
    assert not (tmp_path / "bad").exists()


def test_viable_diameter_round_trip_when_the_schema_has_it(tmp_path):
    """mRECIST viable tumour diameter (lesions.viable_diameter_mm, when the schema has the
    column) travels as a TumorSize component with the project's lesion-measure code."""
    from remission import schema as S

    if "viable_diameter_mm" not in S.LESIONS:
        pytest.skip("schema without viable_diameter_mm")
    lesions = pl.DataFrame({"subject_id": ["A"], "date": ["2021-01-04"], "lesion_id": ["T1"], "role": ["target"],
                            "organ": ["liver"], "diameter_mm": ["40"], "viable_diameter_mm": ["25"], "method": ["CT"]})
    from remission.io import from_frames

    ds, _ = from_frames(subjects=pl.DataFrame({"subject_id": ["A"], "cancer_type": ["hcc"]}), lesions=lesions)
    imp = read_fhir(E.write(E.dataset_resources(ds), tmp_path / "v.ndjson", "ndjson"))
    assert imp.dataset.lesions.select("diameter_mm", "viable_diameter_mm").rows() == [(40.0, 25.0)]


# --------------------------------------------------------------------------------------
# Issue 16: the mCODE STU4 IG's own examples (tests/data/fhir/mcode-stu4-examples/README.md)
# --------------------------------------------------------------------------------------

IG = DATA / "mcode-stu4-examples" / "ig_examples_bundle.json"


def test_ig_examples_import_with_every_unused_element_reported():
    """Item 6: the IG's examples import (no error).  Patient name and gender -> sex/name;
    NSCLC / CLL by SNOMED; Jenny M's 353431000119107 'Primary malignant neoplasm of female
    left breast' through the shipped hierarchy table; the pathology TumorSize (specimen) and
    the TumorSize without the lesion-role extension reported; 'improved' read as PR (reported);
    B-ALL (277571004) a warning naming the code."""
    imp = read_fhir(IG)
    ds = imp.dataset
    assert ds.subjects.select("subject_id", "cancer_type", "criteria", "sex", "name").sort("subject_id").rows() == [
        ("cancer-patient-adam-everyman", "cll", "iwcll2018", "male", "Everyman, Adam A."),
        ("cancer-patient-brian-l", None, "recist1.1", "male", "L, Brian"),
        ("cancer-patient-eve-anyperson", None, "recist1.1", "female", "Anyperson, Eve A."),
        ("cancer-patient-jenny-m", "breast", "recist1.1", "female", "M, Jenny"),
        ("cancer-patient-john-anyperson", "nsclc", "recist1.1", "male", "Anyperson, John B."),
    ]
    assert ds.lesions.height == 0
    assert ds.responses.select("subject_id", "date", "response", "evidence").sort("subject_id").rows() == [
        ("cancer-patient-jenny-m", dt.date(2018, 11, 1), "PR", "imaging"),
        ("cancer-patient-john-anyperson", dt.date(2019, 4, 1), "PR", "pathology"),
    ]
    assert ds.labs.select("test", "value", "unit").rows() == [("hemoglobin", 13.5, "g/dL")]
    # mCODE ProcedureIntent 373808002 -> curative (lobectomy, gefitinib, Jenny M's surgery and
    # two of her administrations and anastrozole carry it; the doxorubicin administration does not)
    assert ds.treatments.select("subject_id", "start_date", "modality", "intent").sort(pl.all()).rows() == [
        ("cancer-patient-jenny-m", dt.date(2018, 4, 1), "surgery", "curative"),
        ("cancer-patient-jenny-m", dt.date(2018, 4, 22), "other", None),
        ("cancer-patient-jenny-m", dt.date(2018, 4, 22), "other", "curative"),
        ("cancer-patient-jenny-m", dt.date(2018, 4, 22), "other", "curative"),
        ("cancer-patient-jenny-m", dt.date(2018, 9, 30), "other", "curative"),
        ("cancer-patient-john-anyperson", dt.date(2019, 3, 1), "surgery", "curative"),
        ("cancer-patient-john-anyperson", dt.date(2019, 4, 30), "other", "curative"),
    ]
    got = {(e.row, e.column, e.code) for e in imp.unmapped}
    assert got == {
        (3, "Condition.meta.profile", "unmapped"),  # secondary cancer (brain metastases)
        (4, "Observation.valueCodeableConcept", "assumed"),  # improved -> PR
        (6, "MedicationRequest.category", "assumed"),
        (10, "Observation.extension(lesion-role)", "unmapped"),  # TumorSize without our role extension
        (16, "Observation.specimen", "unmapped"),  # TumorSize of an excised specimen
        (18, "MedicationAdministration.category", "assumed"),
        (19, "MedicationAdministration.category", "assumed"),
        (20, "MedicationAdministration.category", "assumed"),
        (21, "MedicationRequest.category", "assumed"),
        (22, "Observation.code", "unmapped"),  # neutrophils 26499-4: no lab code here
        (23, "Observation.valueCodeableConcept", "assumed"),
        (25, "Condition.code", "unknown_cancer_code"),  # B-ALL
        (8, "Condition.code", "unknown_cancer_code"),  # 363346000 generic malignancy, no criteria given
    }
    ball = next(e for e in imp.unmapped if e.code == "unknown_cancer_code" and e.row == 25)
    assert ball.value == "http://snomed.info/sct|277571004" and "recist1.1" in ball.expected


def test_ig_examples_round_trip(tmp_path):
    """Item 7: IG examples -> canonical tables -> our FHIR export -> canonical tables: the
    same tables, and the second import reports nothing but the derived results."""
    first = read_fhir(IG).dataset
    resources = E.dataset_resources(first)
    again = read_fhir(E.write(resources, tmp_path / "again.json")).dataset
    for name in ("subjects", "lesions", "labs", "findings", "treatments", "responses"):
        a = getattr(first, name).sort(pl.all())
        b = getattr(again, name).sort(pl.all())
        assert a.equals(b), name


def test_unknown_cancer_code_warning_in_cli(tmp_path):
    """The CLI names each unknown cancer code on stderr (never a silent RECIST 1.1 default)."""
    r = CliRunner().invoke(app, ["fhir", "import", str(IG), "--out", str(tmp_path / "ig")])
    assert r.exit_code == 0, r.output
    assert "277571004" in r.output


def test_sex_and_name_round_trip_and_absent_values(tmp_path):
    from remission.io import from_frames

    ds, _ = from_frames(subjects=pl.DataFrame({"subject_id": ["A", "B"], "cancer_type": ["breast", "nsclc"],
                                               "sex": ["female", None], "name": ["Doe, Jane Q", None]}))
    imp = read_fhir(E.write(E.dataset_resources(ds), tmp_path / "s.ndjson", "ndjson"))
    assert imp.dataset.subjects.select("subject_id", "sex", "name").sort("subject_id").rows() == [
        ("A", "female", "Doe, Jane Q"), ("B", None, None)]


@pytest.mark.parametrize("name", ["mcode_small_bundle.json", "prostate_small.ndjson"])
def test_a_utf8_byte_order_mark_is_accepted(tmp_path, name):
    """Issue 18 item 7: a UTF-8 BOM at the start of a FHIR file (as some editors save JSON)
    is read as if absent: the same canonical rows as the file without it."""
    plain = read_fhir(DATA / name).dataset
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / name).read_bytes())
    with_bom = read_fhir(path).dataset
    for table in ("subjects", "lesions", "labs", "findings", "treatments", "responses"):
        assert getattr(with_bom, table).equals(getattr(plain, table)), table
