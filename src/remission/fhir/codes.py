"""Every code, code system, profile and extension URL used by the FHIR reader and writer.

Each code carries its display and, in ``source``, where it comes from.  Sources:

* ``mcode``: HL7 mCODE STU4 (v4.0.0), http://hl7.org/fhir/us/mcode/ (profiles
  CancerDiseaseStatus, TumorSize, TumorMarkerTest; ValueSets ConditionStatusTrendVS,
  ConditionStatusTrendMaxVS, CancerDiseaseStatusEvidenceTypeVS), as quoted in
  ``criteria/remission_model.md`` §10.1 and checked against the mCODE IG source
  (github.com/HL7/fhir-mCODE-ig, input/fsh/SD_DiseaseStatus.fsh, SD_TumorSize.fsh).
* ``spec10.1`` / ``spec10.2``: the tables of ``criteria/remission_model.md`` §10.1 / §10.2.
* ``fhir-r4``: the base FHIR R4 code systems (condition-clinical, observation-category, ...).
* ``loinc`` / ``snomed`` / ``icd10cm``: the public code systems.  The codes marked
  ``(unverified)`` in their source were written from the code system's published names
  and could not be re-checked against a terminology server while this module was written;
  they are emitted with their display so a reviewer can check them, and the importer does
  not depend on them for a round trip (the project's own coding is always emitted as well).
* ``remission``: the project's own code systems and extensions (``urn:remission:...``) for
  the canonical values that no standard code carries (lesion role, lesion status, lab
  tests without a LOINC code here, findings, response criteria, treatment modality,
  intent and line, last contact date).  They are logical URIs, not web pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from remission import schema as S

# --------------------------------------------------------------------------------------
# Code systems
# --------------------------------------------------------------------------------------

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
#: NCI Thesaurus, the code system of the CDISC controlled terminology (spec10.2)
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"  # fhir-r4
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"  # fhir-r4
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"  # fhir-r4
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"  # fhir-r4
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"  # fhir-r4 (BodyStructureIdentifier.type)
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"  # fhir-r4
#: the code system of the data-absent-reason extension's values (fhir-r4)
DATA_ABSENT_REASON_CS = "http://terminology.hl7.org/CodeSystem/data-absent-reason"

# The project's own systems (remission).  One prefix, so the lead can change it in one place.
PROJECT = "urn:remission"
SUBJECT_ID_SYSTEM = f"{PROJECT}:subject-id"
LESION_ID_SYSTEM = f"{PROJECT}:lesion-id"
CS_CANCER_TYPE = f"{PROJECT}:codesystem:cancer-type"
CS_LAB_TEST = f"{PROJECT}:codesystem:lab-test"
CS_FINDING = f"{PROJECT}:codesystem:finding"
CS_MODALITY = f"{PROJECT}:codesystem:treatment-modality"
CS_TAG = f"{PROJECT}:codesystem:tag"
#: TumorSize components without a LOINC code (code = canonical column, e.g. viable_diameter_mm, mRECIST)
CS_LESION_MEASURE = f"{PROJECT}:codesystem:lesion-measure"
EXT_CRITERIA = f"{PROJECT}:extension:response-criteria"  # Condition, valueCode
EXT_LAST_CONTACT = f"{PROJECT}:extension:last-contact-date"  # Patient, valueDate
EXT_LESION_ROLE = f"{PROJECT}:extension:lesion-role"  # TumorSize Observation, valueCode
EXT_LESION_STATUS = f"{PROJECT}:extension:lesion-status"  # TumorSize Observation, valueCode
EXT_LESION_NODAL = f"{PROJECT}:extension:lesion-nodal"  # TumorSize Observation, valueBoolean
EXT_INTENT = f"{PROJECT}:extension:treatment-intent"  # Procedure / Medication*, valueCode
EXT_LINE = f"{PROJECT}:extension:line-of-therapy"  # Procedure / Medication*, valueInteger
#: responses.evidence of a stated response whose evidence has no code in mCODE's
#: CancerDiseaseStatusEvidenceTypeVS (``symptoms``), CancerDiseaseStatus, valueCode
EXT_RESPONSE_EVIDENCE = f"{PROJECT}:extension:response-evidence"
#: lesion status rows without a diameter (not a TumorSize, which needs the longest dimension):
#: Observation.code of the project's lesion-status observation; value = the lesions.status code
CS_LESION_STATUS = f"{PROJECT}:codesystem:lesion-status"
#: meta.tag of Observations written from *derived* results; the importer skips them
#: (and reports each one) so that re-importing an export never feeds results back as input.
TAG_DERIVED = {"system": CS_TAG, "code": "derived", "display": "Derived by remission"}

# --------------------------------------------------------------------------------------
# Profiles and mCODE extensions (mcode)
# --------------------------------------------------------------------------------------

MCODE_SD = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILE_PATIENT = MCODE_SD + "mcode-cancer-patient"
PROFILE_PRIMARY_CANCER = MCODE_SD + "mcode-primary-cancer-condition"
PROFILE_CDS = MCODE_SD + "mcode-cancer-disease-status"
PROFILE_TUMOR_SIZE = MCODE_SD + "mcode-tumor-size"
PROFILE_TUMOR_MARKER = MCODE_SD + "mcode-tumor-marker-test"
PROFILE_MED_ADMIN = MCODE_SD + "mcode-cancer-related-medication-administration"
PROFILE_MED_REQUEST = MCODE_SD + "mcode-cancer-related-medication-request"
PROFILE_SURGERY = MCODE_SD + "mcode-cancer-related-surgical-procedure"
#: STU4 evidence-type extension; older releases named it mcode-evidence-type (read too).
EXT_EVIDENCE_TYPE = MCODE_SD + "mcode-cancer-disease-status-evidence-type"
EXT_EVIDENCE_TYPE_OLD = MCODE_SD + "mcode-evidence-type"


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str
    source: str

    def coding(self) -> dict:
        return {"system": self.system, "code": self.code, "display": self.display}


def local(system: str, code: str) -> Code:
    """A code of one of the project's own code systems (display = code)."""
    return Code(system, code, code, "remission")


# --------------------------------------------------------------------------------------
# Observation codes
# --------------------------------------------------------------------------------------

CDS_CODE = Code(LOINC, "97509-4", "Cancer disease progression", "mcode; spec10.1")
CDS_CODE_OLD = Code(LOINC, "88040-1", "Response to cancer treatment", "spec10.1 (earlier mCODE releases)")
TUMOR_SIZE_CODE = Code(LOINC, "21889-1", "Size Tumor", "mcode TumorSize")
LONGEST_DIMENSION = Code(LOINC, "33728-7", "Size.maximum dimension in Tumor", "mcode TumorSize")
OTHER_DIMENSION = Code(LOINC, "33729-5", "Size additional dimension in Tumor", "mcode TumorSize")
CATEGORY_LABORATORY = Code(OBSERVATION_CATEGORY, "laboratory", "Laboratory", "fhir-r4")
CATEGORY_IMAGING = Code(OBSERVATION_CATEGORY, "imaging", "Imaging", "fhir-r4")
CATEGORY_EXAM = Code(OBSERVATION_CATEGORY, "exam", "Exam", "fhir-r4")
#: Observation.code of a lesion row without any diameter (docs/fhir.md "Lesions")
LESION_STATUS_CODE = Code(f"{PROJECT}:codesystem:lesion-measure", "status", "status", "remission")
#: Condition.category of the cancer: US Core 6.1.0 us-core-condition-problems-health-concerns
#: requires a category from US Core Problem or Health Concern (slice ``us-core``, required binding)
CATEGORY_PROBLEM_LIST = Code(CONDITION_CATEGORY, "problem-list-item", "Problem List Item", "fhir-r4; US Core 6.1.0")
#: Patient.gender / Patient.name when the subject has no sex / name: data-absent-reason
#: ``unknown`` (US Core 6.1.0 Patient allows it: us-core-6 for name)
ABSENT_UNKNOWN = Code(DATA_ABSENT_REASON_CS, "unknown", "Unknown", "fhir-r4")
#: Observation.dataAbsentReason of a lesion row with neither diameter nor status
ABSENT_NOT_PERFORMED = Code(DATA_ABSENT_REASON_CS, "not-performed", "Not Performed", "fhir-r4")

# --------------------------------------------------------------------------------------
# CancerDiseaseStatus value (remission_model.md §10.1)
# --------------------------------------------------------------------------------------

_IMPROVED = Code(SNOMED, "268910001", "Patient's condition improved (finding)", "spec10.1 ConditionStatusTrendVS")
_STABLE = Code(SNOMED, "359746009", "Patient's condition stable (finding)", "spec10.1 ConditionStatusTrendVS")
_WORSE = Code(SNOMED, "271299001", "Patient's condition worsened (finding)", "spec10.1 ConditionStatusTrendVS")
_UNDETERMINED = Code(SNOMED, "709137006", "Patient condition undetermined (finding)", "spec10.1 ConditionStatusTrendVS")
_FULL = Code(SNOMED, "103338009", "In full remission (qualifier value)", "spec10.1 ConditionStatusTrendMaxVS")
_PARTIAL = Code(SNOMED, "103337004", "In partial remission (qualifier value)", "spec10.1 ConditionStatusTrendMaxVS")

#: canonical level -> value code, preferred value set (ConditionStatusTrendVS)
VALUE_PREFERRED: dict[str, Code] = {
    S.COMPLETE: _IMPROVED,
    S.PARTIAL: _IMPROVED,
    S.MINOR: _IMPROVED,
    S.STABLE: _STABLE,
    S.PROGRESSION: _WORSE,
    S.PROGRESSION_PENDING: _UNDETERMINED,
    S.NOT_EVALUABLE: _UNDETERMINED,
}
#: canonical level -> value code, maximum value set (the default, spec10.1 ``mcode_value_set="max"``)
VALUE_MAX: dict[str, Code] = {**VALUE_PREFERRED, S.COMPLETE: _FULL, S.PARTIAL: _PARTIAL}

#: SNOMED value code -> canonical level, for reading.  ``268910001`` (improved) is None:
#: it does not say complete or partial, so the reader needs the criterion code in
#: ``valueCodeableConcept.text`` or an NCIt coding (else the row is reported unmapped).
LEVEL_BY_VALUE: dict[str, str | None] = {
    "103338009": S.COMPLETE,
    "550991000124107": S.COMPLETE,  # deprecated "Malignant neoplasm in full remission" (spec10.1)
    "103337004": S.PARTIAL,
    "551001000124108": S.PARTIAL,  # deprecated "Malignant neoplasm in partial remission" (spec10.1)
    "268910001": None,
    "359746009": S.STABLE,
    "271299001": S.PROGRESSION,
    "399409002": S.PROGRESSION,  # Distant metastasis present (spec10.1, max VS for distant recurrence)
    "709137006": S.NOT_EVALUABLE,
    "260415000": S.COMPLETE,  # mCODE STU1 "Not detected" = NED (spec10.1 legacy)
    "281900007": S.COMPLETE,  # 2021 STU2 ballot "No abnormality detected" = NED (spec10.1 legacy)
}
#: 268910001 "improved" without a criterion code is read as this response (PARTIAL): the
#: value set puts COMPLETE, PARTIAL and MINOR on it (spec10.1) and PARTIAL is the least level
#: that opens a response episode the lifecycle uses (remission_model.md §6.3, §9 RESPONDING);
#: each such row is reported (``assumed``).
IMPROVED = _IMPROVED
IMPROVED_RESPONSE = "PR"
#: response code written to the responses table for a SNOMED value without a criterion code
RESPONSE_BY_LEVEL = {
    S.COMPLETE: "CR",
    S.PARTIAL: "PR",
    S.STABLE: "SD",
    S.PROGRESSION: "PD",
    S.NOT_EVALUABLE: "NE",
}

#: CDISC submission value -> NCI thesaurus code (remission_model.md §10.2)
NCIT_BY_RESPONSE: dict[str, str] = {
    "CR": "C4870",
    "PR": "C18058",
    "SD": "C18213",
    "NON-CR/NON-PD": "C96700",
    "NON-ICR/NON-IUPD": "C142361",
    "PD": "C35571",
    "RELAPSED DISEASE FROM CR": "C123612",
    "RELAPSED DISEASE": "C38155",
    "PDU": "C123607",
    "NE": "C62222",
    "NED": "C40413",
    "ICR": "C142357",
    "IPR": "C142358",
    "ISD": "C142359",
    "IUPD": "C142360",
    "ICPD": "C142356",
    "SCR": "C123614",
    "VGPR": "C123618",
    "MR": "C123598",
    "CRI": "C103385",
    "NPR": "C70633",
    "PR WITH LYMPHOCYTOSIS": "C128998",
    "DISEASE TRANSFORMATION": "C123583",
    "MORPHOLOGIC LEUKEMIA-FREE STATE": "C123597",
    "TREATMENT FAILURE": "C48226",
    "CMR": "C123407",
    "PMR": "C123609",
    "SMD": "C123616",
    "PMD": "C123608",
    "NON-PD": "C123599",
    "PSA PROGRESSION": "C123611",
}
RESPONSE_BY_NCIT = {v: k for k, v in NCIT_BY_RESPONSE.items()}

# --------------------------------------------------------------------------------------
# Evidence type extension (remission_model.md §10.1; CancerDiseaseStatusEvidenceTypeVS)
# --------------------------------------------------------------------------------------

EV_IMAGING = Code(SNOMED, "363679005", "Imaging (procedure)", "spec10.1 evidence type")
EV_CLINICAL_EXAM = Code(SNOMED, "5880005", "Physical examination procedure (procedure)", "spec10.1 evidence type")
EV_LAB = Code(SNOMED, "386344002", "Laboratory data interpretation (procedure)", "spec10.1 evidence type")
EV_TUMOR_MARKER = Code(SNOMED, "250724005", "Tumor marker measurement (procedure)", "spec10.1 evidence type")
EV_HISTOLOGY = Code(SNOMED, "714797009", "Histologic test (procedure)", "spec10.1 evidence type")
EV_CYTOLOGY = Code(SNOMED, "116147009", "Cytologic test (procedure)", "spec10.1 evidence type")
EV_ANATOMIC_PATHOLOGY = Code(SNOMED, "108257001", "Anatomic pathology procedure (procedure)", "spec10.1 evidence type")
#: not in the STU4 value set (spec10.1: mCODE STU1 used it).  Only *read* (older data); a
#: ``symptoms`` evidence is written with no mCODE evidence type (the extension's binding to
#: CancerDiseaseStatusEvidenceTypeVS is required and no code of it says "symptoms") and with
#: the project's EXT_RESPONSE_EVIDENCE instead (docs/fhir.md).
EV_SYMPTOMS = Code(SNOMED, "711015009", "Assessment of symptom control (procedure)", "spec10.1 (mCODE STU1)")

#: responses.evidence -> evidence-type code (CancerDiseaseStatusEvidenceTypeVS only: every
#: code is one of the value set's is-a roots, mCODE VS_Other.fsh).  ``symptoms`` has none.
EVIDENCE_CODE: dict[str, Code] = {
    "imaging": EV_IMAGING,
    "physical_exam": EV_CLINICAL_EXAM,
    "lab": EV_LAB,
    "pathology": EV_HISTOLOGY,
}
#: responses.evidence values written with the project's extension only (not exportable as
#: an mCODE evidence type)
EVIDENCE_WITHOUT_MCODE_CODE = frozenset({"symptoms"})
#: evidence-type code -> responses.evidence (reading)
EVIDENCE_BY_CODE: dict[str, str] = {
    "363679005": "imaging",
    "5880005": "physical_exam",
    "386344002": "lab",
    "250724005": "lab",
    "714797009": "pathology",
    "116147009": "pathology",
    "108257001": "pathology",
    "711015009": "symptoms",
}
#: evidence kind declared by a criterion (Criterion.presentation.evidence) -> its code
EVIDENCE_BY_KIND: dict[str, Code] = {"imaging": EV_IMAGING, "tumor_marker": EV_TUMOR_MARKER, "lab": EV_LAB}


def evidence_for_criteria(criteria: str | None) -> tuple[Code, ...]:
    """Evidence types of a criterion's derived (non-stated) assessments, from its
    declaration: lesion criteria are imaging; marker criteria (GCIG, PCWG3) add tumour-marker
    measurement; haematological criteria read laboratory data."""
    from remission.criteria import registry

    if criteria in registry.CRITERIA:
        return tuple(EVIDENCE_BY_KIND[k] for k in registry.get(criteria).presentation.evidence)
    return (EV_IMAGING,)

# --------------------------------------------------------------------------------------
# Condition.clinicalStatus (remission_model.md §10.1)
# --------------------------------------------------------------------------------------

CLINICAL_STATUS_DISPLAY = {
    "active": "Active",
    "recurrence": "Recurrence",
    "relapse": "Relapse",
    "inactive": "Inactive",
    "remission": "Remission",
    "resolved": "Resolved",
}
#: summary.status -> clinicalStatus code (spec10.1).  ``deceased`` is resolved from the last
#: status before death (see export.clinical_status); ``not_assessed``: active (choice: a
#: recorded cancer without any assessment is taken as present).
CLINICAL_STATUS_BY_STATE = {
    "complete_remission": "remission",
    "long_term_remission": "remission",
    "partial_remission": "active",
    "responding": "active",
    "active_disease": "active",
    "progression": "active",
    "progression_pending": "active",
    "recurrence": "relapse",
    "not_assessed": "active",
}
VERIFICATION_CONFIRMED = Code(CONDITION_VERIFICATION, "confirmed", "Confirmed", "fhir-r4")

# --------------------------------------------------------------------------------------
# Cancer types (Condition.code)
# --------------------------------------------------------------------------------------

#: cancer_type -> codes written on export (ICD-10-CM first).  ICD-10-CM codes: the
#: 2024 ICD-10-CM tabular list (unverified in this session).  SNOMED CT disorders:
#: SNOMED CT International (unverified in this session).
CANCER_CODES: dict[str, tuple[Code, ...]] = {
    "nsclc": (
        Code(ICD10CM, "C34.90", "Malignant neoplasm of unspecified part of unspecified bronchus or lung", "icd10cm (unverified)"),
        Code(SNOMED, "254637007", "Non-small cell lung cancer (disorder)", "snomed (unverified)"),
    ),
    "breast": (
        Code(ICD10CM, "C50.919", "Malignant neoplasm of unspecified site of unspecified female breast", "icd10cm (unverified)"),
        Code(SNOMED, "254837009", "Malignant neoplasm of breast (disorder)", "snomed (unverified)"),
    ),
    "colorectal": (Code(ICD10CM, "C18.9", "Malignant neoplasm of colon, unspecified", "icd10cm (unverified)"),),
    "melanoma": (
        Code(ICD10CM, "C43.9", "Malignant melanoma of skin, unspecified", "icd10cm (unverified)"),
        Code(SNOMED, "372244006", "Malignant melanoma (disorder)", "snomed (unverified)"),
    ),
    "dlbcl": (
        Code(ICD10CM, "C83.30", "Diffuse large B-cell lymphoma, unspecified site", "icd10cm (unverified)"),
        Code(SNOMED, "109969005", "Diffuse large B-cell lymphoma (disorder)", "snomed (unverified)"),
    ),
    "follicular_lymphoma": (Code(ICD10CM, "C82.90", "Follicular lymphoma, unspecified, unspecified site", "icd10cm (unverified)"),),
    "hodgkin_lymphoma": (
        Code(ICD10CM, "C81.90", "Hodgkin lymphoma, unspecified, unspecified site", "icd10cm (unverified)"),
        Code(SNOMED, "118599009", "Hodgkin's disease (disorder)", "snomed (unverified)"),
    ),
    "multiple_myeloma": (
        Code(ICD10CM, "C90.00", "Multiple myeloma not having achieved remission", "icd10cm (unverified)"),
        Code(SNOMED, "109989006", "Multiple myeloma (disorder)", "snomed (unverified)"),
    ),
    "aml": (
        Code(ICD10CM, "C92.00", "Acute myeloblastic leukemia, not having achieved remission", "icd10cm (unverified)"),
        Code(SNOMED, "91861009", "Acute myeloid leukemia, disease (disorder)", "snomed (unverified)"),
    ),
    "cll": (
        Code(ICD10CM, "C91.10", "Chronic lymphocytic leukemia of B-cell type not having achieved remission", "icd10cm (unverified)"),
        Code(SNOMED, "92814006", "Chronic lymphoid leukemia, disease (disorder)", "snomed (unverified)"),
    ),
    "prostate": (
        Code(ICD10CM, "C61", "Malignant neoplasm of prostate", "icd10cm (unverified)"),
        Code(SNOMED, "399068003", "Malignant tumor of prostate (disorder)", "snomed (unverified)"),
    ),
    "ovarian": (
        Code(ICD10CM, "C56.9", "Malignant neoplasm of unspecified ovary", "icd10cm (unverified)"),
        Code(SNOMED, "363443007", "Malignant tumor of ovary (disorder)", "snomed (unverified)"),
    ),
    "glioma": (),
    "hcc": (Code(ICD10CM, "C22.0", "Liver cell carcinoma", "icd10cm (unverified)"),),
    "other": (),
}
#: Condition.code of a cancer without cancer_type (US Core: code 1..1): the root of mCODE's
#: PrimaryCancerDisorderVS hierarchy, used so in the IG example primary-cancer-condition-breast
CANCER_GENERIC = Code(SNOMED, "363346000", "Malignant neoplastic disease (disorder)", "mcode EX_TumorSize.fsh")
#: SNOMED disorder code -> cancer_type (reading)
CANCER_BY_SNOMED = {c.code: t for t, codes in CANCER_CODES.items() for c in codes if c.system == SNOMED}
#: the shipped SNOMED CT hierarchy table (remission/data/fhir/snomed_cancer_hierarchy.csv):
#: descendant code -> (cancer_type, ancestor code, source), each row citing its source
def _hierarchy() -> dict[str, tuple[str, str, str]]:
    import csv
    from importlib.resources import files

    text = files("remission").joinpath("data/fhir/snomed_cancer_hierarchy.csv").read_text(encoding="utf-8")
    out = {r["code"]: (r["cancer_type"], r["ancestor"], r["source"]) for r in csv.DictReader(text.splitlines())}
    for code, (ctype, ancestor, _) in out.items():  # every row reaches a known type through its ancestors
        seen = {code}
        while ancestor not in CANCER_BY_SNOMED:
            if ancestor not in out or ancestor in seen:
                raise ValueError(f"snomed_cancer_hierarchy.csv: {code} does not lead to a code of CANCER_CODES")
            seen.add(ancestor)
            ancestor = out[ancestor][1]
        if CANCER_BY_SNOMED[ancestor] != ctype:
            raise ValueError(f"snomed_cancer_hierarchy.csv: {code} is {ctype} but its ancestor {ancestor} is {CANCER_BY_SNOMED[ancestor]}")
    return out


SNOMED_HIERARCHY = _hierarchy()


def cancer_type_of_snomed(code: str) -> str | None:
    """cancer_type of a SNOMED CT disorder code: a code of CANCER_CODES, else a descendant
    listed in the shipped hierarchy table; None when unknown."""
    if code in CANCER_BY_SNOMED:
        return CANCER_BY_SNOMED[code]
    row = SNOMED_HIERARCHY.get(code)
    return row[0] if row else None


#: ICD-10 / ICD-10-CM code prefix -> cancer_type (reading; longest prefix wins).  C34
#: (lung) and C71 (brain) are not mapped: they do not say NSCLC or glioma.
CANCER_BY_ICD10_PREFIX = {
    "C50": "breast",
    "C18": "colorectal",
    "C19": "colorectal",
    "C20": "colorectal",
    "C43": "melanoma",
    "C83.3": "dlbcl",
    "C82": "follicular_lymphoma",
    "C81": "hodgkin_lymphoma",
    "C90.0": "multiple_myeloma",
    "C92.0": "aml",
    "C91.1": "cll",
    "C61": "prostate",
    "C56": "ovarian",
    "C22.0": "hcc",
}

# --------------------------------------------------------------------------------------
# Labs (Observation.code) and units
# --------------------------------------------------------------------------------------

#: test -> LOINC code (loinc; the three the issue names are PSA, CA-125, CEA).  Tests not
#: listed are written with the project's lab-test code only (no LOINC code was confirmed).
LAB_LOINC: dict[str, Code] = {
    "psa": Code(LOINC, "2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma", "loinc"),
    "ca125": Code(LOINC, "10334-1", "Cancer Ag 125 [Units/volume] in Serum or Plasma", "loinc"),
    "cea": Code(LOINC, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma", "loinc"),
    "ca19_9": Code(LOINC, "24108-3", "Cancer Ag 19-9 [Units/volume] in Serum or Plasma", "loinc (unverified)"),
    "ca15_3": Code(LOINC, "6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma", "loinc (unverified)"),
    "afp": Code(LOINC, "1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma", "loinc (unverified)"),
    "hcg": Code(LOINC, "19080-1", "Choriogonadotropin [Units/volume] in Serum or Plasma", "loinc (unverified)"),
    "ldh": Code(LOINC, "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", "loinc (unverified)"),
    "testosterone": Code(LOINC, "2986-8", "Testosterone [Mass/volume] in Serum or Plasma", "loinc (unverified)"),
    "serum_m_protein": Code(LOINC, "33358-3", "Protein.monoclonal [Mass/volume] in Serum or Plasma by Electrophoresis", "loinc (unverified)"),
    "flc_kappa": Code(LOINC, "36916-5", "Kappa light chains.free [Mass/volume] in Serum", "loinc (unverified)"),
    "flc_lambda": Code(LOINC, "33944-0", "Lambda light chains.free [Mass/volume] in Serum", "loinc (unverified)"),
    "flc_ratio": Code(LOINC, "48378-4", "Kappa light chains.free/Lambda light chains.free [Mass Ratio] in Serum", "loinc (unverified)"),
    "serum_calcium": Code(LOINC, "17861-6", "Calcium [Mass/volume] in Serum or Plasma", "loinc (unverified)"),
    "hemoglobin": Code(LOINC, "718-7", "Hemoglobin [Mass/volume] in Blood", "loinc (unverified)"),
    "platelets": Code(LOINC, "777-3", "Platelets [#/volume] in Blood by Automated count", "loinc (unverified)"),
    "anc": Code(LOINC, "751-8", "Neutrophils [#/volume] in Blood by Automated count", "loinc (unverified)"),
    "lymphocytes": Code(LOINC, "731-0", "Lymphocytes [#/volume] in Blood by Automated count", "loinc (unverified)"),
    "wbc": Code(LOINC, "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "loinc (unverified)"),
}
LAB_BY_LOINC = {c.code: t for t, c in LAB_LOINC.items()}
#: tests written with the mCODE TumorMarkerTest profile (the others: plain laboratory)
TUMOR_MARKERS = frozenset({"psa", "ca125", "cea", "ca19_9", "ca15_3", "afp", "hcg", "serum_m_protein",
                           "urine_m_protein", "involved_flc", "uninvolved_flc", "flc_kappa", "flc_lambda", "flc_ratio"})

#: canonical unit (remission.units spelling) -> UCUM code
UCUM_BY_UNIT = {
    "ng/mL": "ng/mL",
    "U/mL": "U/mL",
    "IU/L": "[IU]/L",
    "U/L": "U/L",
    "ng/dL": "ng/dL",
    "g/dL": "g/dL",
    "mg/24h": "mg/(24.h)",
    "mg/dL": "mg/dL",
    "ratio": "{ratio}",
    "%": "%",
    "10^9/L": "10*9/L",
}
#: UCUM code -> the remission.units spelling (reading; other UCUM codes are passed to
#: remission.units as they are, whose normalisation reads ``10*9/L`` and the like).
UNIT_BY_UCUM = {v: k for k, v in UCUM_BY_UNIT.items()} | {
    "[iU]/L": "IU/L", "m[IU]/mL": "mIU/mL", "[IU]/mL": "IU/mL", "k[IU]/L": "kIU/L",
    "mg/d": "mg/d", "g/(24.h)": "g/24h", "1": "ratio", "10*3/uL": "10^3/uL", "10*6/L": "10^6/L",
}
#: tumour size: UCUM unit -> factor to millimetres (TumorSizeUnitsVS: cm, mm)
MM_FACTOR = {"mm": 1.0, "cm": 10.0}

# --------------------------------------------------------------------------------------
# Lesions: method and body site
# --------------------------------------------------------------------------------------

METHOD_CODES: dict[str, Code] = {
    "CT": Code(SNOMED, "77477000", "Computerized axial tomography (procedure)", "snomed (unverified)"),
    "MRI": Code(SNOMED, "113091000", "Magnetic resonance imaging (procedure)", "snomed (unverified)"),
    "PET": Code(SNOMED, "82918005", "Positron emission tomography (procedure)", "snomed (unverified)"),
    "XR": Code(SNOMED, "363680008", "Radiographic imaging procedure (procedure)", "snomed (unverified)"),
    "clinical": Code(SNOMED, "5880005", "Physical examination procedure (procedure)", "spec10.1 evidence type"),
}
METHOD_BY_SNOMED = {c.code: m for m, c in METHOD_CODES.items()}

ORGAN_CODES: dict[str, Code] = {
    "lung": Code(SNOMED, "39607008", "Lung structure (body structure)", "snomed (unverified)"),
    "liver": Code(SNOMED, "10200004", "Liver structure (body structure)", "snomed (unverified)"),
    "lymph_node": Code(SNOMED, "59441001", "Structure of lymph node (body structure)", "snomed (unverified)"),
    "bone": Code(SNOMED, "272673000", "Bone structure (body structure)", "snomed (unverified)"),
    "brain": Code(SNOMED, "12738006", "Brain structure (body structure)", "snomed (unverified)"),
    "breast": Code(SNOMED, "76752008", "Breast structure (body structure)", "snomed (unverified)"),
    "adrenal": Code(SNOMED, "23451007", "Adrenal gland structure (body structure)", "snomed (unverified)"),
    "colon": Code(SNOMED, "71854001", "Colon structure (body structure)", "snomed (unverified)"),
    "peritoneum": Code(SNOMED, "15425007", "Peritoneum (serous membrane) structure (body structure)", "snomed (unverified)"),
    "pleura": Code(SNOMED, "3120008", "Pleural membrane structure (body structure)", "snomed (unverified)"),
}
ORGAN_BY_SNOMED = {c.code: o for o, c in ORGAN_CODES.items()}

# --------------------------------------------------------------------------------------
# Treatments
# --------------------------------------------------------------------------------------

#: mCODE ProcedureIntent extension (Procedure, MedicationRequest, MedicationAdministration)
EXT_MCODE_INTENT = MCODE_SD + "mcode-procedure-intent"
#: treatments.intent <-> ProcedureIntentVS code (mcode VS_Other.fsh): the three intents that the
#: value set and spec/tables.md share; the others travel in the project's extension only
MCODE_INTENT_CODES: dict[str, Code] = {
    "curative": Code(SNOMED, "373808002", "Curative - procedure intent", "mcode ProcedureIntentVS"),
    "palliative": Code(SNOMED, "363676003", "Palliative - procedure intent", "mcode ProcedureIntentVS"),
    "supportive": Code(SNOMED, "399707004", "Supportive - procedure intent", "mcode ProcedureIntentVS"),
}
INTENT_BY_MCODE = {c.code: i for i, c in MCODE_INTENT_CODES.items()}

#: modalities written as Procedure (with this SNOMED code); the others as MedicationAdministration
PROCEDURE_MODALITY: dict[str, Code] = {
    "surgery": Code(SNOMED, "387713003", "Surgical procedure (procedure)", "snomed (unverified)"),
    "radiation": Code(SNOMED, "108290001", "Radiation oncology AND/OR radiotherapy (procedure)", "snomed (unverified)"),
    "stem_cell_transplant": Code(SNOMED, "234336002", "Hemopoietic stem cell transplant (procedure)", "snomed (unverified)"),
}
MODALITY_BY_PROCEDURE_SNOMED = {c.code: m for m, c in PROCEDURE_MODALITY.items()}
