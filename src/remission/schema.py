"""Names and types of the public tables (``../shared/spec/tables.md``) and of the
internal tables passed between layers.

Everything that crosses a layer boundary is a :class:`polars.DataFrame` whose columns are
listed here.  Layers import names from this module instead of spelling strings again, so
that a reviewer can check the whole contract in one place.
"""

from __future__ import annotations

import polars as pl

# --------------------------------------------------------------------------------------
# Input tables (spec/tables.md "Input tables").  Dtypes are those after normalisation
# by :mod:`remission.io.validate`.
# --------------------------------------------------------------------------------------

SUBJECTS = {
    "subject_id": pl.String,
    "cancer_type": pl.String,
    "criteria": pl.String,
    "diagnosis_date": pl.Date,
    "death_date": pl.Date,
    "last_contact_date": pl.Date,
    # optional (extension of spec/tables.md, docs/tables.md): administrative sex as the FHIR
    # AdministrativeGender code (SEXES) and the person's name (``Family, Given``), written to
    # FHIR Patient.gender / Patient.name (US Core Patient, issue 16 item 2)
    "sex": pl.String,
    "name": pl.String,
}

LESIONS = {
    "subject_id": pl.String,
    "date": pl.Date,
    "lesion_id": pl.String,
    "role": pl.String,  # target | non_target | new
    "organ": pl.String,
    "nodal": pl.Boolean,
    "diameter_mm": pl.Float64,
    "perpendicular_mm": pl.Float64,
    "status": pl.String,  # present | absent | progression | equivocal | too_small
    "method": pl.String,  # CT | MRI | PET | XR | clinical
    # optional: viable (arterially enhancing) tumour diameter, mRECIST (mrecist.md §2)
    "viable_diameter_mm": pl.Float64,
}

LABS = {
    "subject_id": pl.String,
    "date": pl.Date,
    "test": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
}

FINDINGS = {
    "subject_id": pl.String,
    "date": pl.Date,
    "finding": pl.String,
    "value": pl.String,
}

TREATMENTS = {
    "subject_id": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "modality": pl.String,
    "intent": pl.String,
    "line": pl.Int32,
    "name": pl.String,
}

RESPONSES = {
    "subject_id": pl.String,
    "date": pl.Date,
    "response": pl.String,
    "evidence": pl.String,
}

INPUT_TABLES: dict[str, dict[str, pl.DataType]] = {
    "subjects": SUBJECTS,
    "lesions": LESIONS,
    "labs": LABS,
    "findings": FINDINGS,
    "treatments": TREATMENTS,
    "responses": RESPONSES,
}

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "subjects": ("subject_id",),
    "lesions": ("subject_id", "date", "lesion_id", "role"),
    "labs": ("subject_id", "date", "test", "value", "unit"),
    "findings": ("subject_id", "date", "finding", "value"),
    "treatments": ("subject_id", "start_date", "modality"),
    "responses": ("subject_id", "date", "response"),
}

ROLES = ("target", "non_target", "new")
#: subjects.sex: the FHIR R4 AdministrativeGender codes (hl7.org/fhir/R4/valueset-administrative-gender)
SEXES = ("male", "female", "other", "unknown")
STATUSES = ("present", "absent", "progression", "equivocal", "too_small")
METHODS = ("CT", "MRI", "PET", "XR", "clinical")
MODALITIES = (
    "chemotherapy",
    "targeted",
    "immunotherapy",
    "hormone",
    "radiation",
    "surgery",
    "stem_cell_transplant",
    "maintenance",
    "supportive",
    "other",
)
INTENTS = (
    "induction",
    "consolidation",
    "adjuvant",
    "neoadjuvant",
    "curative",
    "palliative",
    "salvage",
    "maintenance",
    "continuous",
    "supportive",
)
# remission_model.md §2: maintenance-like intents never block qualification.
NON_BLOCKING_INTENTS = frozenset({"maintenance", "continuous"})
IGNORED_INTENTS = frozenset({"supportive"})
EVIDENCE = ("imaging", "lab", "physical_exam", "symptoms", "pathology")

# The criteria codes, their cancer-type defaults and the fallback are declared by the
# criteria themselves (criteria/registry.py, ``Criterion.cancer_types``); these names stay
# readable here for code written against earlier versions.
def __getattr__(name: str):
    if name in ("CRITERIA_CODES", "DEFAULT_CRITERIA_BY_CANCER", "FALLBACK_CRITERIA"):
        from remission.criteria import registry

        return {
            "CRITERIA_CODES": registry.codes,
            "DEFAULT_CRITERIA_BY_CANCER": registry.default_criteria_by_cancer,
            "FALLBACK_CRITERIA": lambda: registry.FALLBACK,
        }[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# --------------------------------------------------------------------------------------
# Internal tables
# --------------------------------------------------------------------------------------

#: One evaluation segment per subject and line of therapy.  Assessments with
#: ``baseline_date < date <= end_date`` (``end_date`` null = open) are evaluated against
#: the baseline at ``baseline_date``; ``reference_start`` is the line's start (first
#: active treatment of the line, or the baseline date when no treatment is recorded).
SEGMENTS = {
    "subject_id": pl.String,
    "line": pl.Int32,
    "reference_start": pl.Date,
    "baseline_date": pl.Date,
    "end_date": pl.Date,
}

#: Per-assessment output of a criterion module (criteria/README.md "Module output").
TIMEPOINTS = {
    "subject_id": pl.String,
    "date": pl.Date,
    "line": pl.Int32,
    "criteria": pl.String,
    "baseline_date": pl.Date,
    "baseline_value": pl.Float64,
    "value": pl.Float64,
    #: False: ``value`` is the sum of the measured targets only (a target not evaluated);
    #: the ``assessments`` table then reports it as ``partial_value`` and leaves ``value``
    #: and the changes empty (recist11.md §4.2). Null: no targets or no measured quantity.
    "value_complete": pl.Boolean,
    "nadir_value": pl.Float64,
    "change_from_baseline_pct": pl.Float64,
    "change_from_nadir_pct": pl.Float64,
    "change_from_nadir_abs": pl.Float64,
    "target_response": pl.String,
    "non_target_response": pl.String,
    "new_lesion": pl.Boolean,
    "overall_response": pl.String,  # criterion code (CDISC), null on baseline rows
    "canonical_level": pl.String,  # COMPLETE, PARTIAL, ..., null on baseline rows
    "is_progression_event": pl.Boolean,
    "progression_event_date": pl.Date,
    "pending_progression": pl.Boolean,
    "recurrence_sites": pl.String,  # ';'-joined organs where disease returned/grew
    "rule_ids": pl.String,  # ','-joined rule ids that fired, e.g. "T5,N4,NL0,OR-PR"
    "warnings": pl.String,
    "explanation": pl.String,
}

#: Per-date patient status (remission_model.md §5), input of the lifecycle layer.
STATUSES_TABLE = {
    "subject_id": pl.String,
    "date": pl.Date,
    "level": pl.String,
    "progression_event_date": pl.Date,
    "clinical_only": pl.Boolean,
    "source": pl.String,
    "recurrence_sites": pl.String,
}

# --------------------------------------------------------------------------------------
# Output tables (spec/tables.md "Output tables").  Names are fixed; extra columns may follow.
# --------------------------------------------------------------------------------------

ASSESSMENTS_COLUMNS = (
    "subject_id",
    "date",
    "criteria",
    "baseline_value",
    "value",
    "change_from_baseline_pct",
    "change_from_nadir_pct",
    "target_response",
    "non_target_response",
    "new_lesion",
    "overall_response",
    "explanation",
)

EPISODES_COLUMNS = (
    "subject_id",
    "episode",
    "type",
    "start_date",
    "confirmed_date",
    "complete_start_date",
    "qualified",
    "qualification_date",
    "not_qualified_reason",
    "end_date",
    "end_reason",
    "censor_date",
    "duration_days",
    "on_maintenance",
    "spontaneous",
)

SUMMARY_COLUMNS = (
    "subject_id",
    "criteria",
    "best_response",
    "best_response_date",
    "confirmed_best_response",
    "status",
    "status_date",
    "first_response_date",
    "progression_date",
    "recurrence_date",
    "pfs_days",
    "pfs_event",
    "dor_days",
    "dor_event",
    "ned_since",
    "cure_milestone_date",
    "long_term_remission",
    "next_followup_due",
)

# --------------------------------------------------------------------------------------
# Canonical levels (criteria/README.md, remission_model.md §3)
# --------------------------------------------------------------------------------------

COMPLETE = "COMPLETE"
PARTIAL = "PARTIAL"
MINOR = "MINOR"
STABLE = "STABLE"
PROGRESSION_PENDING = "PROGRESSION_PENDING"
PROGRESSION = "PROGRESSION"
NOT_EVALUABLE = "NOT_EVALUABLE"

#: worst first, for worst-of combination (remission_model.md §3)
LEVEL_ORDER_WORST_FIRST = (PROGRESSION, PROGRESSION_PENDING, STABLE, MINOR, PARTIAL, COMPLETE)
REMISSION_LEVELS = frozenset({PARTIAL, COMPLETE})


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with the given schema."""
    return pl.DataFrame(schema=schema)
