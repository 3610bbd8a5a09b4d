"""Writing FHIR R4 (mCODE STU4) resources: the input data and the derived results.

* :func:`result_resources` / :func:`observations_for_subject`: per assessment of
  :func:`remission.assess`, one mCODE **CancerDiseaseStatus** Observation
  (remission_model.md §10.1): ``code`` LOINC 97509-4, ``status`` final, ``subject``
  ``Patient/<id>``, ``focus`` the subject's cancer Condition, ``effectiveDateTime`` the
  assessment date, ``valueCodeableConcept`` the §10.1 code of the canonical level (maximum
  value set by default; ``value_set="preferred"`` writes only ConditionStatusTrendVS codes),
  the evidence-type extension, ``meta.profile`` the CancerDiseaseStatus profile and
  ``meta.tag`` ``derived`` (so that a re-import skips it); plus one Condition per subject
  whose ``clinicalStatus`` follows §10.1 (:func:`clinical_status`).
* :func:`dataset_resources`: the canonical input tables as Patient, Condition, TumorSize /
  TumorMarkerTest / laboratory / finding Observations, stated responses as
  CancerDiseaseStatus, treatments as MedicationAdministration or Procedure; read back by
  :mod:`remission.fhir.import_` into the same tables (docs/fhir.md lists every element).
* :func:`to_bundle`, :func:`write`, :func:`export`: a Bundle (collection or transaction) or
  NDJSON file.

Resources are plain ``dict``\\ s in FHIR JSON form; the tests validate every one with the
``fhir.resources`` R4B models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

import orjson
import polars as pl

from remission import schema as S
from remission.criteria.stated import canonical_code
from remission.fhir import codes as C

ValueSet = Literal["max", "preferred"]
_ID_OK = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_STATED = re.compile(r"stated response \((\w+)\)")
#: namespace of the urn:uuid fullUrls (uuid5 of the URL namespace and the project prefix)
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:remission")


def fhir_id(*parts: str) -> str:
    """A FHIR id (``[A-Za-z0-9-.]{1,64}``) from the parts joined with ``-``; parts that
    do not fit are replaced by a 16-hex-digit SHA-1 digest of the joined text."""
    text = "-".join(parts)
    if _ID_OK.fullmatch(text):
        return text
    return "h" + hashlib.sha1(text.encode()).hexdigest()[:16]


def patient_id(subject_id: str) -> str:
    return fhir_id(subject_id)


def condition_id(subject_id: str) -> str:
    pid = patient_id(subject_id)
    return fhir_id("cancer", pid)


def _ref(kind: str, rid: str) -> dict:
    return {"reference": f"{kind}/{rid}"}


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _cc(codes: Iterable[C.Code], text: str | None = None) -> dict:
    out: dict[str, Any] = {}
    coding = [c.coding() for c in codes]
    if coding:
        out["coding"] = coding
    if text is not None:
        out["text"] = text
    return out


def _num(value: float) -> float | int:
    """JSON number: integral floats as int (``26`` not ``26.0``)."""
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else float(value)


# --------------------------------------------------------------------------------------
# Patient and Condition
# --------------------------------------------------------------------------------------


def _absent() -> dict:
    """The data-absent-reason extension (``unknown``) of an element with no value."""
    return {"extension": [{"url": C.DATA_ABSENT_REASON, "valueCode": C.ABSENT_UNKNOWN.code}]}


def human_name(text: str | None) -> dict:
    """``subjects.name`` -> HumanName: ``Family, Given Names`` gives family and given
    (split at the first comma, given names at spaces); a name without a comma is the
    family name.  No name -> a HumanName with only the data-absent-reason extension
    (US Core 6.1.0 us-core-6: family or given, or the extension)."""
    if text is None or not text.strip():
        return _absent()
    family, _, given = (part.strip() for part in text.partition(","))
    out: dict[str, Any] = {"text": text.strip()}
    if family:
        out["family"] = family
    if given.split():
        out["given"] = given.split()
    return out if ("family" in out or "given" in out) else _absent()


def patient_resource(row: dict) -> dict:
    """Patient (mCODE CancerPatient, parent US Core Patient): ``identifier`` (system
    ``urn:remission:subject-id``) = subject_id, ``name`` = subjects.name and ``gender`` =
    subjects.sex, each with the data-absent-reason extension when not given (US Core
    requires both), ``deceasedDateTime`` = death_date, extension last-contact-date."""
    sid = row["subject_id"]
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id(sid),
        "meta": {"profile": [C.PROFILE_PATIENT]},
    }
    if row.get("last_contact_date") is not None:
        res["extension"] = [{"url": C.EXT_LAST_CONTACT, "valueDate": _iso(row["last_contact_date"])}]
    res["identifier"] = [{"system": C.SUBJECT_ID_SYSTEM, "value": sid}]
    res["name"] = [human_name(row.get("name"))]
    if row.get("sex"):
        res["gender"] = row["sex"]
    else:
        res["_gender"] = _absent()
    if row.get("death_date") is not None:
        res["deceasedDateTime"] = _iso(row["death_date"])
    return res


def condition_resource(row: dict, clinical: str | None = None) -> dict:
    """The subject's cancer (mCODE PrimaryCancerCondition): ``code`` = the project's
    cancer-type coding plus ICD-10-CM / SNOMED codes of codes.CANCER_CODES, ``text`` the
    cancer_type; ``onsetDateTime`` = diagnosis_date; extension response-criteria; and
    ``clinicalStatus`` when given (remission_model.md §10.1)."""
    sid = row["subject_id"]
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": condition_id(sid),
        "meta": {"profile": [C.PROFILE_PRIMARY_CANCER]},
    }
    if row.get("criteria"):
        res["extension"] = [{"url": C.EXT_CRITERIA, "valueCode": row["criteria"]}]
    if clinical is not None:
        res["clinicalStatus"] = {
            "coding": [{"system": C.CONDITION_CLINICAL, "code": clinical, "display": C.CLINICAL_STATUS_DISPLAY[clinical]}]
        }
    res["verificationStatus"] = _cc([C.VERIFICATION_CONFIRMED])
    # US Core Condition Problems and Health Concerns: category (slice us-core) 1..*
    res["category"] = [_cc([C.CATEGORY_PROBLEM_LIST])]
    ct = row.get("cancer_type")
    if ct:
        res["code"] = _cc([C.local(C.CS_CANCER_TYPE, ct), *C.CANCER_CODES.get(ct, ())], ct)
    else:  # code is 1..1 in US Core: the generic malignancy code, type not recorded
        res["code"] = _cc([C.CANCER_GENERIC], "cancer (type not recorded)")
    res["subject"] = _ref("Patient", patient_id(sid))
    if row.get("diagnosis_date") is not None:
        res["onsetDateTime"] = _iso(row["diagnosis_date"])
    return res


def clinical_status(result, *, milestone_sets_resolved: bool = False) -> pl.DataFrame:
    """``subject_id, clinical_status``: Condition.clinicalStatus per subject
    (remission_model.md §10.1, codes.CLINICAL_STATUS_BY_STATE).

    Choices where §10.1 is silent: ``deceased`` takes the last known disease status before
    death (last COMPLETE status -> ``remission``; a recurrence without a later COMPLETE ->
    ``relapse``; else ``active``).  ``resolved`` only with ``milestone_sets_resolved``
    (long-term remission), and then a recurrence after the milestone is ``recurrence``.
    """
    summary = result.summary
    statuses = result.statuses if result.statuses is not None else S.empty(S.STATUSES_TABLE)
    last = (
        statuses.filter(pl.col("level").is_in([S.COMPLETE, S.PARTIAL, S.MINOR, S.STABLE, S.PROGRESSION]))
        .sort("subject_id", "date")
        .group_by("subject_id")
        .agg(pl.col("level").last().alias("_last"), pl.col("date").filter(pl.col("level") == S.COMPLETE).max().alias("_last_cr"))
    )
    state = pl.col("status")
    base = state.replace_strict(C.CLINICAL_STATUS_BY_STATE, default=None, return_dtype=pl.String)
    deceased = (
        pl.when(pl.col("_last") == S.COMPLETE)
        .then(pl.lit("remission"))
        .when(pl.col("recurrence_date").is_not_null() & (pl.col("_last_cr").is_null() | (pl.col("_last_cr") < pl.col("recurrence_date"))))
        .then(pl.lit("relapse"))
        .otherwise(pl.lit("active"))
    )
    out = summary.join(last, on="subject_id", how="left").with_columns(
        clinical_status=pl.when(state == "deceased").then(deceased).otherwise(base).fill_null("active")
    )
    if milestone_sets_resolved:
        after_milestone = pl.col("cure_milestone_date").is_not_null() & (
            pl.col("recurrence_date") >= pl.col("cure_milestone_date")
        )
        out = out.with_columns(
            clinical_status=pl.when(state == "long_term_remission")
            .then(pl.lit("resolved"))
            .when((state == "recurrence") & after_milestone.fill_null(False))
            .then(pl.lit("recurrence"))
            .otherwise(pl.col("clinical_status"))
        )
    return out.select("subject_id", "clinical_status")


# --------------------------------------------------------------------------------------
# CancerDiseaseStatus
# --------------------------------------------------------------------------------------


def _value(level: str | None, response: str | None, value_set: ValueSet) -> dict:
    table = C.VALUE_MAX if value_set == "max" else C.VALUE_PREFERRED
    codes = [table.get(level or S.NOT_EVALUABLE, table[S.NOT_EVALUABLE])]
    key = canonical_code(response)
    if value_set == "max" and key in C.NCIT_BY_RESPONSE:
        codes.append(C.Code(C.NCIT, C.NCIT_BY_RESPONSE[key], key, "spec10.2"))
    return _cc(codes, response)


def cds_resource(
    subject_id: str,
    date: dt.date,
    *,
    level: str | None,
    response: str | None,
    evidence: Iterable[C.Code],
    rid: str,
    value_set: ValueSet = "max",
    derived: bool = True,
    note: str | None = None,
    project_evidence: str | None = None,
) -> dict:
    """One mCODE CancerDiseaseStatus Observation (remission_model.md §10.1).
    ``project_evidence``: a responses.evidence without an mCODE evidence-type code
    (codes.EVIDENCE_WITHOUT_MCODE_CODE), written in the project's extension."""
    pid = patient_id(subject_id)
    meta: dict[str, Any] = {"profile": [C.PROFILE_CDS]}
    if derived:
        meta["tag"] = [dict(C.TAG_DERIVED)]
    res: dict[str, Any] = {"resourceType": "Observation", "id": rid, "meta": meta}
    ext = [{"url": C.EXT_EVIDENCE_TYPE, "valueCodeableConcept": _cc([e])} for e in evidence]
    if project_evidence:
        ext.append({"url": C.EXT_RESPONSE_EVIDENCE, "valueCode": project_evidence})
    if ext:
        res["extension"] = ext
    res |= {
        "status": "final",
        "code": _cc([C.CDS_CODE]),
        "subject": _ref("Patient", pid),
        "focus": [_ref("Condition", condition_id(subject_id))],
        "effectiveDateTime": _iso(date),
        "valueCodeableConcept": _value(level, response, value_set),
    }
    if note:
        res["note"] = [{"text": note}]
    return res


def _assessment_rows(result, subject_id: str | None = None) -> pl.DataFrame:
    """Assessment rows with a response (baseline rows have none) and their evidence codes:
    criterion-derived rows by criterion (codes.evidence_for_criteria, from the declaration), stated rows by the
    stated evidence (named in the pipeline's explanation of stated rows)."""
    a = result.assessments
    if subject_id is not None:
        a = a.filter(pl.col("subject_id") == subject_id)
    a = a.filter(pl.col("canonical_level").is_not_null())
    tp = result.timepoints if result.timepoints is not None else S.empty(S.TIMEPOINTS)
    derived_keys = tp.select("subject_id", "date").unique().with_columns(_derived=pl.lit(True))
    return (
        a.join(derived_keys, on=["subject_id", "date"], how="left")
        .with_columns(
            _derived=pl.col("_derived").fill_null(False),
            _stated_evidence=pl.col("explanation").str.extract(_STATED.pattern, 1),
        )
        .sort("subject_id", "date")
    )


def _evidence(row: dict) -> tuple[C.Code, ...]:
    if row["_derived"]:
        return C.evidence_for_criteria(row["criteria"])
    ev = row.get("_stated_evidence")
    return (C.EVIDENCE_CODE[ev],) if ev in C.EVIDENCE_CODE else ()


def _project_evidence(ev: str | None) -> str | None:
    return ev if ev in C.EVIDENCE_WITHOUT_MCODE_CODE else None


def _cds_from_rows(rows: pl.DataFrame, value_set: ValueSet) -> list[dict]:
    out = []
    for row in rows.iter_rows(named=True):
        sid = row["subject_id"]
        out.append(
            cds_resource(
                sid,
                row["date"],
                level=row["canonical_level"],
                response=row["overall_response"],
                evidence=_evidence(row),
                rid=fhir_id("cds", patient_id(sid), row["date"].strftime("%Y%m%d")),
                value_set=value_set,
                derived=True,
                note=row.get("explanation"),
                project_evidence=None if row["_derived"] else _project_evidence(row.get("_stated_evidence")),
            )
        )
    return out


def observations_for_subject(result, subject_id: str, *, value_set: ValueSet = "max") -> list[dict]:
    """The CancerDiseaseStatus Observations of one subject (one per assessment with a
    response, date order), as FHIR JSON dicts.  Used by the service's
    ``GET /fhir/Observation?subject=...``."""
    return _cds_from_rows(_assessment_rows(result, subject_id), value_set)


def result_resources(
    result,
    subjects: pl.DataFrame | None = None,
    *,
    value_set: ValueSet = "max",
    milestone_sets_resolved: bool = False,
    include_subjects: bool = True,
) -> list[dict]:
    """Patient and Condition (with clinicalStatus) per subject, then every
    CancerDiseaseStatus Observation.  ``subjects`` (the dataset's subjects table) adds
    cancer type, diagnosis and death dates to Patient and Condition."""
    status = clinical_status(result, milestone_sets_resolved=milestone_sets_resolved)
    out: list[dict] = []
    if include_subjects:
        subj = subjects if subjects is not None else result.summary.select("subject_id", "criteria")
        subj = subj.join(status, on="subject_id", how="left").sort("subject_id")
        for row in subj.iter_rows(named=True):
            out.append(patient_resource(row))
            out.append(condition_resource(row, row["clinical_status"]))
    out.extend(_cds_from_rows(_assessment_rows(result), value_set))
    return out


# --------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------


def _numbered(frame: pl.DataFrame, sort: list[str]) -> pl.DataFrame:
    return frame.sort(sort, nulls_last=True, maintain_order=True).with_columns(
        _n=pl.int_range(1, pl.len() + 1).over("subject_id")
    )


def lesion_resource(row: dict) -> dict:
    """A lesion row with a ``diameter_mm``: mCODE TumorSize.  ``focus`` is a logical
    reference to the Tumor BodyStructure by identifier (mCODE BodyStructureIdentifier;
    system ``urn:remission:lesion-id``, value = lesion_id); role, status and nodal in the
    project's extensions; organ in ``bodySite``; method in ``method``; diameter_mm in
    component 33728-7 (tumorLongestDimension) and perpendicular_mm in 33729-5 (UCUM mm).

    A row without a diameter (non-target / new lesion status rows, a target not measured)
    is not a TumorSize, whose ``component[tumorLongestDimension]`` is 1..1 (mCODE
    SD_TumorSize.fsh): it is a plain imaging Observation with the project's lesion-status
    code (codes.LESION_STATUS_CODE), the same focus and extensions, ``valueCodeableConcept``
    the status (or ``dataAbsentReason`` not-performed when the row has none) and no profile
    (docs/fhir.md "Lesions")."""
    sid = row["subject_id"]
    ext = [{"url": C.EXT_LESION_ROLE, "valueCode": row["role"]}]
    if row.get("status"):
        ext.append({"url": C.EXT_LESION_STATUS, "valueCode": row["status"]})
    if row.get("nodal") is not None:
        ext.append({"url": C.EXT_LESION_NODAL, "valueBoolean": bool(row["nodal"])})
    tumor_size = row.get("diameter_mm") is not None
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fhir_id("lesion", patient_id(sid), str(row["_n"])),
    }
    if tumor_size:
        res["meta"] = {"profile": [C.PROFILE_TUMOR_SIZE]}
    res |= {
        "extension": ext,
        "status": "final",
        "category": [_cc([C.CATEGORY_IMAGING])],
        "code": _cc([C.TUMOR_SIZE_CODE]) if tumor_size else _cc([C.LESION_STATUS_CODE], "lesion status"),
        "subject": _ref("Patient", patient_id(sid)),
        "focus": [
            {
                "type": "BodyStructure",
                "identifier": {
                    "use": "usual",
                    "type": {"coding": [{"system": C.RESOURCE_TYPES, "code": "BodyStructure"}]},
                    "system": C.LESION_ID_SYSTEM,
                    "value": row["lesion_id"],
                },
                "display": f"lesion {row['lesion_id']}",
            }
        ],
        "effectiveDateTime": _iso(row["date"]),
    }
    if row.get("organ"):
        organ = row["organ"]
        res["bodySite"] = _cc([c for c in (C.ORGAN_CODES.get(organ),) if c], organ)
    if row.get("method"):
        m = row["method"]
        res["method"] = _cc([c for c in (C.METHOD_CODES.get(m),) if c], m)
    comps = []
    for col, code in (("diameter_mm", C.LONGEST_DIMENSION), ("perpendicular_mm", C.OTHER_DIMENSION)):
        if row.get(col) is not None:
            comps.append(
                {"code": _cc([code]), "valueQuantity": {"value": _num(row[col]), "unit": "mm", "system": C.UCUM, "code": "mm"}}
            )
    if row.get("viable_diameter_mm") is not None:  # mRECIST viable tumour (project code, no LOINC)
        comps.append({"code": _cc([C.local(C.CS_LESION_MEASURE, "viable_diameter_mm")]),
                      "valueQuantity": {"value": _num(row["viable_diameter_mm"]), "unit": "mm", "system": C.UCUM, "code": "mm"}})
    if not tumor_size:
        if row.get("status"):
            res["valueCodeableConcept"] = _cc([C.local(C.CS_LESION_STATUS, row["status"])])
        else:
            res["dataAbsentReason"] = _cc([C.ABSENT_NOT_PERFORMED])
    if comps:
        res["component"] = comps
    return res


def lab_resource(row: dict) -> dict:
    """A lab result: TumorMarkerTest for tumour markers, else a laboratory Observation;
    ``code`` = LOINC (codes.LAB_LOINC) when known plus the project's lab-test code,
    ``valueQuantity`` in the canonical unit with its UCUM code."""
    sid, test = row["subject_id"], row["test"]
    codes = [c for c in (C.LAB_LOINC.get(test),) if c] + [C.local(C.CS_LAB_TEST, test)]
    unit = row["unit"]
    q: dict[str, Any] = {"value": _num(row["value"]), "unit": unit}
    if unit in C.UCUM_BY_UNIT:
        q |= {"system": C.UCUM, "code": C.UCUM_BY_UNIT[unit]}
    res: dict[str, Any] = {"resourceType": "Observation", "id": fhir_id("lab", patient_id(sid), str(row["_n"]))}
    if test in C.TUMOR_MARKERS:
        res["meta"] = {"profile": [C.PROFILE_TUMOR_MARKER]}
    res |= {
        "status": "final",
        "category": [_cc([C.CATEGORY_LABORATORY])],
        "code": _cc(codes, test),
        "subject": _ref("Patient", patient_id(sid)),
        "effectiveDateTime": _iso(row["date"]),
        "valueQuantity": q,
    }
    return res


def finding_resource(row: dict) -> dict:
    """A finding (physical exam, symptoms, Deauville, ...): the project's finding code,
    ``valueString`` the value."""
    sid = row["subject_id"]
    return {
        "resourceType": "Observation",
        "id": fhir_id("finding", patient_id(sid), str(row["_n"])),
        "status": "final",
        "category": [_cc([C.CATEGORY_EXAM])],
        "code": _cc([C.local(C.CS_FINDING, row["finding"])], row["finding"]),
        "subject": _ref("Patient", patient_id(sid)),
        "effectiveDateTime": _iso(row["date"]),
        "valueString": row["value"],
    }


def treatment_resource(row: dict) -> dict:
    """surgery / radiation / stem_cell_transplant -> Procedure (SNOMED code of the
    modality, ``performedPeriod``); other modalities -> MedicationAdministration
    (``effectivePeriod``, medication text = name).  Modality in ``category`` (project
    code), intent and line in the project's extensions; ``reasonReference`` the cancer."""
    sid, modality = row["subject_id"], row["modality"]
    ext = []
    if row.get("intent"):
        ext.append({"url": C.EXT_INTENT, "valueCode": row["intent"]})
        if row["intent"] in C.MCODE_INTENT_CODES:
            ext.append({"url": C.EXT_MCODE_INTENT, "valueCodeableConcept": _cc([C.MCODE_INTENT_CODES[row["intent"]]])})
    if row.get("line") is not None:
        ext.append({"url": C.EXT_LINE, "valueInteger": int(row["line"])})
    period = {"start": _iso(row["start_date"])}
    if row.get("end_date") is not None:
        period["end"] = _iso(row["end_date"])
    status = "completed" if row.get("end_date") is not None else "in-progress"
    category = _cc([C.local(C.CS_MODALITY, modality)], modality)
    rid = fhir_id("treatment", patient_id(sid), str(row["_n"]))
    name = row.get("name")
    if modality in C.PROCEDURE_MODALITY:
        res: dict[str, Any] = {"resourceType": "Procedure", "id": rid}
        if modality == "surgery":
            res["meta"] = {"profile": [C.PROFILE_SURGERY]}
        if ext:
            res["extension"] = ext
        res |= {
            "status": status,
            "category": category,
            "code": _cc([C.PROCEDURE_MODALITY[modality]], name),
            "subject": _ref("Patient", patient_id(sid)),
            "performedPeriod": period,
            "reasonReference": [_ref("Condition", condition_id(sid))],
        }
        return res
    med = {"text": name} if name else {"extension": [{"url": C.DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    res = {"resourceType": "MedicationAdministration", "id": rid, "meta": {"profile": [C.PROFILE_MED_ADMIN]}}
    if ext:
        res["extension"] = ext
    res |= {
        "status": status,
        "category": category,
        "medicationCodeableConcept": med,
        "subject": _ref("Patient", patient_id(sid)),
        "effectivePeriod": period,
        "reasonReference": [_ref("Condition", condition_id(sid))],
    }
    return res


def dataset_resources(ds, *, clinical: pl.DataFrame | None = None, value_set: ValueSet = "max") -> list[dict]:
    """Every row of a validated :class:`~remission.io.Dataset` as FHIR resources (see the
    module docstring); stated responses are CancerDiseaseStatus Observations without the
    ``derived`` tag.  ``clinical`` (``subject_id, clinical_status``) adds the Condition's
    clinicalStatus."""
    out: list[dict] = []
    subj = ds.subjects.sort("subject_id")
    if clinical is not None:
        subj = subj.join(clinical, on="subject_id", how="left")
    for row in subj.iter_rows(named=True):
        out.append(patient_resource(row))
        out.append(condition_resource(row, row.get("clinical_status")))
    for row in _numbered(ds.lesions, ["subject_id", "date", "lesion_id"]).iter_rows(named=True):
        out.append(lesion_resource(row))
    for row in _numbered(ds.labs, ["subject_id", "date", "test"]).iter_rows(named=True):
        out.append(lab_resource(row))
    for row in _numbered(ds.findings, ["subject_id", "date", "finding"]).iter_rows(named=True):
        out.append(finding_resource(row))
    for row in _numbered(ds.treatments, ["subject_id", "start_date"]).iter_rows(named=True):
        out.append(treatment_resource(row))
    levels = (
        ds.responses.with_columns(_code=pl.col("response").str.strip_chars().str.to_uppercase().str.replace_all(r"\s+", " "))
    )
    from remission.criteria.stated import LEVEL_BY_CODE

    for row in _numbered(levels, ["subject_id", "date"]).iter_rows(named=True):
        ev = row.get("evidence")
        out.append(
            cds_resource(
                row["subject_id"],
                row["date"],
                level=LEVEL_BY_CODE.get(row["_code"], S.NOT_EVALUABLE),
                response=row["response"],
                evidence=(C.EVIDENCE_CODE[ev],) if ev in C.EVIDENCE_CODE else (),
                rid=fhir_id("response", patient_id(row["subject_id"]), str(row["_n"])),
                value_set=value_set,
                derived=False,
                project_evidence=_project_evidence(ev),
            )
        )
    return out


# --------------------------------------------------------------------------------------
# Bundle / NDJSON
# --------------------------------------------------------------------------------------


def full_url(res: dict, base_url: str | None = None) -> str:
    """``Bundle.entry.fullUrl`` of a resource: ``<base_url>/<type>/<id>`` when a base URL is
    given (a RESTful URL, against which the resources' relative references resolve), else
    ``urn:uuid:`` + a UUID derived from ``<type>/<id>`` (stable across runs, RFC 4122 v5)."""
    key = f"{res['resourceType']}/{res['id']}"
    if base_url:
        return f"{base_url.rstrip('/')}/{key}"
    return "urn:uuid:" + str(uuid.uuid5(_UUID_NAMESPACE, key))


def _rewrite_refs(node, urls: dict[str, str]):
    """A copy of ``node`` whose ``{"reference": "<type>/<id>"}`` values that name a
    resource of the Bundle are that resource's fullUrl."""
    if isinstance(node, dict):
        out = {k: _rewrite_refs(v, urls) for k, v in node.items()}
        ref = node.get("reference")
        if isinstance(ref, str) and ref in urls:
            out["reference"] = urls[ref]
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, urls) for v in node]
    return node


def to_bundle(
    resources: list[dict],
    bundle_type: Literal["collection", "transaction"] = "collection",
    base_url: str | None = None,
) -> dict:
    """A Bundle of the resources; every entry has a ``fullUrl`` (:func:`full_url`).
    Without ``base_url`` the fullUrls are ``urn:uuid:`` URIs and every reference to a
    resource of the Bundle is rewritten to its fullUrl (FHIR R4 Bundle "Resolving references
    in Bundles": a relative reference resolves only against a RESTful fullUrl).
    ``transaction``: each entry is also a ``PUT <type>/<id>``."""
    urls = {f"{r['resourceType']}/{r['id']}": full_url(r, base_url) for r in resources}
    entries = []
    for res in resources:
        key = f"{res['resourceType']}/{res['id']}"
        entry: dict[str, Any] = {"fullUrl": urls[key], "resource": res if base_url else _rewrite_refs(res, urls)}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{res['resourceType']}/{res['id']}"}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}


def write(
    resources: list[dict],
    path: str | Path,
    fmt: Literal["bundle", "ndjson"] = "bundle",
    bundle_type: Literal["collection", "transaction"] = "collection",
    base_url: str | None = None,
) -> Path:
    """Write the resources as one Bundle (JSON; fullUrls as :func:`to_bundle`) or as NDJSON
    (one resource per line, relative references as FHIR Bulk Data writes them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "ndjson":
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    else:
        path.write_bytes(orjson.dumps(to_bundle(resources, bundle_type, base_url), option=orjson.OPT_INDENT_2))
    return path


@dataclass
class ExportSummary:
    path: Path
    resources: int
    observations: int
    subjects: int


def export(
    data,
    out: str | Path,
    *,
    fmt: Literal["bundle", "ndjson"] = "bundle",
    bundle_type: Literal["collection", "transaction"] = "collection",
    options=None,
    value_set: ValueSet = "max",
    include_data: bool = True,
    milestone_sets_resolved: bool = False,
    base_url: str | None = None,
) -> ExportSummary:
    """Assess ``data`` (a dataset folder or :class:`~remission.io.Dataset`) and write the
    derived CancerDiseaseStatus Observations and Conditions (and, with ``include_data``,
    the input data as well) to ``out``.  ``options``: :class:`~remission.options.AssessOptions`
    (``as_of`` included)."""
    from remission.io import Dataset, load_dataset
    from remission.options import AssessOptions
    from remission.pipeline import assess, cut_at

    options = options or AssessOptions()
    ds = data if isinstance(data, Dataset) else load_dataset(data, criteria=options.criteria, skip_invalid=options.skip_invalid)[0]
    result = assess(ds, options)
    status = clinical_status(result, milestone_sets_resolved=milestone_sets_resolved)
    if include_data:
        shown = cut_at(ds, result.as_of) if result.as_of is not None else ds
        resources = dataset_resources(shown, clinical=status, value_set=value_set)
        resources += result_resources(result, value_set=value_set, include_subjects=False)
    else:
        resources = result_resources(
            result, ds.subjects, value_set=value_set, milestone_sets_resolved=milestone_sets_resolved
        )
    path = write(resources, out, fmt, bundle_type, base_url)
    n_obs = sum(1 for r in resources if r["resourceType"] == "Observation")
    return ExportSummary(path, len(resources), n_obs, ds.subjects.height)
