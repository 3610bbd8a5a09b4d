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


def test_tumor_size_unit_and_missing_role_errors(tmp_path):
    comp = [{"code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
             "valueQuantity": {"value": 3, "system": "http://unitsofmeasure.org", "code": "[in_i]"}}]
    errs = _errors(_ndjson(tmp_path, PATIENT, _tumor(component=comp), _tumor(id="v", extension=[])))
    assert [(e[1], e[3], e[5]) for e in errs] == [
        (2, "Observation.component[0].valueQuantity.code", "unknown_unit"),
        (3, "Observation.extension(lesion-role)", "missing_role"),
    ]


def test_canonical_validation_errors_are_relocated_to_fhir_elements(tmp_path):
    """An error found by remission.io validation (role 'primary' is not a role) names the
    NDJSON line and the FHIR element, not the intermediate data frame."""
    bad = _tumor(extension=[{"url": "urn:remission:extension:lesion-role", "valueCode": "primary"}])
    errs = _errors(_ndjson(tmp_path, PATIENT, bad))
    assert [(e[0], e[1], e[2], e[3], e[4]) for e in errs] == [("x.ndjson", 2, "a", "Observation.extension(lesion-role)", "primary")]


def test_improved_without_criterion_code_is_reported_not_guessed(tmp_path):
    """268910001 'improved' says neither CR nor PR (§10.1 preferred VS): reported, not read."""
    cds = {
        "resourceType": "Observation", "id": "c", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]},
        "subject": {"reference": "Patient/a"}, "effectiveDateTime": "2021-01-04",
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "268910001"}]},
    }
    with_text = dict(cds, id="d", effectiveDateTime="2021-02-01",
                     valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "268910001"}], "text": "PR"})
    imp = read_fhir(_ndjson(tmp_path, PATIENT, cds, with_text))
    assert imp.dataset.responses.select("date", "response").rows() == [(dt.date(2021, 2, 1), "PR")]
    assert [(e.row, e.column, e.code) for e in imp.unmapped] == [(2, "Observation.valueCodeableConcept", "unmapped")]


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
        "subjects.csv", "lesions.csv", "labs.csv", "findings.csv", "treatments.csv", "responses.csv", "unmapped.csv"
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
