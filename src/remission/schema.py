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


# --------------------------------------------------------------------------------------
# Output column reference (docs/tables.md "Output columns", generated by
# scripts/tables_doc.py; tests/test_tables_doc.py checks it against real outputs).
# Each entry: column -> (dtype, casing of its code values or None, meaning).
# Casing conventions (one per column; CASINGS says what each means).
# --------------------------------------------------------------------------------------

#: how the code values of a column are spelt; every value of the column follows its rule
CASINGS = {
    "lower_snake": "lower case with underscores (the contract's codes, spec/tables.md)",
    "UPPER_SNAKE": "upper case with underscores (the remission model's enumerations, remission_model.md)",
    "criterion": "the criterion's own response codes, spelt as its standard and CDISC spell them "
    "(CR, PR, NON-CR/NON-PD, sCR, iUPD, PDu, ...)",
    "criteria_code": "a criteria code of spec/tables.md (recist1.1, who, rano2, ...), lower case",
}

_S, _D, _B, _F, _I32, _I64 = pl.String, pl.Date, pl.Boolean, pl.Float64, pl.Int32, pl.Int64

ASSESSMENTS_REFERENCE: dict[str, tuple[pl.DataType, str | None, str]] = {
    "subject_id": (_S, None, "The subject."),
    "date": (_D, None, "Assessment date (a scan, a lab draw, a stated response)."),
    "criteria": (_S, "criteria_code", "The criterion that assessed this subject."),
    "baseline_value": (_F, None, "The criterion's main quantity at the baseline of this line (sum of diameters, "
                       "sum of products, PSA, M-protein, ...)."),
    "value": (_F, None, "The criterion's main quantity on this date; on the baseline row, the baseline itself."),
    "change_from_baseline_pct": (_F, None, "Change of `value` from `baseline_value`, in percent."),
    "change_from_nadir_pct": (_F, None, "Change of `value` from the nadir (smallest earlier value of this line, "
                              "baseline included), in percent."),
    "target_response": (_S, "criterion", "Response of the target lesions (or of the criterion's main measure)."),
    "non_target_response": (_S, "criterion", "Response of the non-target lesions (or of the criterion's "
                            "secondary evidence); `NA` when the criterion has none."),
    "new_lesion": (_B, None, "A new lesion was seen on this date."),
    "overall_response": (_S, "criterion", "Time-point response as it stood on this date; empty on baseline rows."),
    "explanation": (_S, None, "The rule that decided `overall_response` and the numbers it used, in one line."),
    "line": (_I32, None, "Line of therapy the assessment belongs to (1 = first)."),
    "partial_value": (_F, None, "On a time point whose quantity could not be fully measured (a target not "
                      "evaluated: NE, recist11.md §3.4/§4.2): the sum of what was measured, for reference only; "
                      "`value` and the changes are then empty. Empty otherwise."),
    "nadir_value": (_F, None, "Smallest `value` of this line before this date (baseline included)."),
    "change_from_nadir_abs": (_F, None, "`value` minus `nadir_value`, in the criterion's unit (mm for lesions)."),
    "canonical_level": (_S, "UPPER_SNAKE", "The response mapped to the remission model's levels "
                        "(COMPLETE, PARTIAL, MINOR, STABLE, PROGRESSION_PENDING, PROGRESSION, NOT_EVALUABLE; "
                        "remission_model.md §3)."),
    "is_progression_event": (_B, None, "This assessment is a progression event."),
    "progression_event_date": (_D, None, "Date the progression counts from (earlier than `date` when a later "
                               "scan confirms or back-dates it, e.g. iRECIST iCPD)."),
    "pending_progression": (_B, None, "Progression is suspected and awaits confirmation (e.g. iUPD, PCWG3 "
                            "first rise)."),
    "rule_ids": (_S, None, "Comma-separated ids of the rules that fired (as in the criterion documents), "
                 "e.g. `T5,N4,NL0,OR-PR`."),
    "warnings": (_S, None, "Data-quality notes on this assessment (empty when none)."),
}

EPISODES_REFERENCE: dict[str, tuple[pl.DataType, str | None, str]] = {
    "subject_id": (_S, None, "The subject."),
    "episode": (_I32, None, "Episode number of the subject, from 1 in date order."),
    "type": (_S, "lower_snake", "Best type reached: `complete` or `partial`."),
    "start_date": (_D, None, "First date of the response (the remission level was first met)."),
    "confirmed_date": (_D, None, "Date the response was confirmed (remission_model.md §6.4); empty when not."),
    "complete_start_date": (_D, None, "First date the complete level was met; empty for a partial episode."),
    "qualified": (_B, None, "The episode was sustained and counts as a remission (remission_model.md §6.5)."),
    "qualification_date": (_D, None, "Date the episode qualified."),
    "not_qualified_reason": (_S, "lower_snake", "Why it did not qualify: `regrowth_within_sustain_window`, "
                             "`on_active_treatment`, `insufficient_follow_up`."),
    "end_date": (_D, None, "Date the episode ended (the progression event date for recurrence and progression); "
                 "empty while it lasts or when censored."),
    "end_reason": (_S, "lower_snake", "How it ended: `recurrence`, `progression`, `death`, `loss_of_response`, "
                   "`censored`, `censored_new_therapy`."),
    "censor_date": (_D, None, "Last date the remission level was seen (the censoring date when not ended)."),
    "duration_days": (_I64, None, "`end_date` (else `censor_date`) minus `start_date`, in days."),
    "on_maintenance": (_B, None, "Maintenance therapy overlapped the episode."),
    "spontaneous": (_B, None, "No anticancer treatment in the look-back window before it started "
                    "(remission_model.md §6.7)."),
    "complete_confirmation_date": (_D, None, "Date the complete level was confirmed."),
    "complete_end_date": (_D, None, "End of the last complete sub-period when it ended by loss of complete "
                          "response (the episode went on as partial)."),
    "complete_end_reason": (_S, "lower_snake", "`loss_of_complete_response` when `complete_end_date` is set."),
    "recurrence_extent": (_S, "UPPER_SNAKE", "Extent of the disease that ended the episode (remission_model.md "
                          "§6.8): LOCAL, REGIONAL, DISTANT, MEDULLARY, PERIPHERAL_BLOOD, EXTRAMEDULLARY, "
                          "MOLECULAR, BIOCHEMICAL, UNKNOWN."),
    "pending_progression_since": (_D, None, "First pending-progression assessment after the last remission "
                                  "assessment of the episode."),
    "qualified_on_treatment": (_B, None, "Maintenance therapy was running on the qualification date."),
    "maintenance_periods": (_S, None, "Maintenance periods overlapping the episode, `start/end` joined by `;` "
                            "(`..` = ongoing)."),
    "response_lapse_dates": (_S, None, "Dates inside the episode with a stable or minor (non-remission, "
                             "non-progression) result, joined by `;`."),
    "complete_duration_days": (_I64, None, "Days spent at the complete level (sum over complete sub-periods)."),
    "explanation": (_S, None, "The episode in one line: start, confirmation, qualification, end and the rules used."),
    "type_at_onset": (_S, "UPPER_SNAKE", "Level on the first date: COMPLETE or PARTIAL."),
    "current_type": (_S, "UPPER_SNAKE", "Level of the last remission assessment: COMPLETE or PARTIAL."),
    "ned_since": (_D, None, "Start of the current complete sub-period (no evidence of disease since); empty "
                  "when the episode is not currently complete."),
    "last_complete_start_date": (_D, None, "Start of the last complete sub-period."),
    "last_complete_stop_date": (_D, None, "Last date of the last complete sub-period."),
    "recurrence_sites": (_S, None, "Sites (organs or relations) where disease came back or grew, joined by `;`."),
    "end_recognised_date": (_D, None, "Date of the assessment that recognised the ending progression (on or after "
                            "`end_date`)."),
    "last_status_date": (_D, None, "Date of the last assessment belonging to the episode."),
    "look_back_start": (_D, None, "Start of the window searched for treatment when deciding `spontaneous`: the "
                        "diagnosis date for episode 1, else the end of the previous episode (§6.7)."),
    "treatment_end_before_qualification": (_D, None, "End of the last active treatment before the "
                                           "qualification date."),
    "treatment_before_qualification": (_S, None, "That treatment (its name, else modality)."),
    "ongoing_treatment": (_S, None, "An active treatment still running on the last assessment, `NAME started DATE` "
                          "(why an episode is `on_active_treatment`)."),
}

SUMMARY_REFERENCE: dict[str, tuple[pl.DataType, str | None, str]] = {
    "subject_id": (_S, None, "The subject."),
    "criteria": (_S, "criteria_code", "The subject's criterion."),
    "best_response": (_S, "criterion", "Best overall response of the first line, without confirmation "
                      "(`MISSING` when no assessment after the reference start; `NE` with `missing_as_ne`)."),
    "best_response_date": (_D, None, "Date of the time point that gave `best_response`."),
    "confirmed_best_response": (_S, "criterion", "Best overall response with the criterion's confirmation rule."),
    "status": (_S, "lower_snake", "Lifecycle state as of `as_of` (remission_model.md §9): `not_assessed`, "
               "`active_disease`, `responding`, `partial_remission`, `complete_remission`, `long_term_remission`, "
               "`progression_pending`, `progression`, `recurrence`, `deceased`."),
    "status_date": (_D, None, "Date of the assessment that set `status` (the death date for `deceased`)."),
    "first_response_date": (_D, None, "First complete or partial response of line 1 before any progression."),
    "progression_date": (_D, None, "First progression of any kind (a recurrence included)."),
    "recurrence_date": (_D, None, "First progression that ended a complete remission."),
    "pfs_days": (_I64, None, "Progression-free survival: `pfs_end_date` minus the reference start, in days."),
    "pfs_event": (_B, None, "PFS ended by progression or death (otherwise censored)."),
    "dor_days": (_I64, None, "Duration of response: `dor_end_date` minus `first_response_date`, in days."),
    "dor_event": (_B, None, "Duration of response ended by progression or death; empty without a response."),
    "ned_since": (_D, None, "In complete remission (no evidence of disease) since this date."),
    "cure_milestone_date": (_D, None, "Date the long-term remission milestone is reached (end of treatment or "
                            "start of the complete remission, plus the cancer type's horizon; remission_model.md §8)."),
    "long_term_remission": (_B, None, "The milestone was reached (`milestone_status` ACHIEVED)."),
    "next_followup_due": (_D, None, "When the next check-up is due by the follow-up schedule."),
    "best_response_rule": (_S, None, "Why `best_response` is what it is, in one line."),
    "confirmed_best_response_date": (_D, None, "Date of the time point that gave `confirmed_best_response`."),
    "confirmed_best_response_rule": (_S, None, "Why `confirmed_best_response` is what it is, in one line."),
    "milestone_status": (_S, "UPPER_SNAKE", "Long-term remission milestone (§8): ACHIEVED, PENDING, "
                         "PENDING_ON_TREATMENT, NOT_ACHIEVED, NOT_APPLICABLE (never in complete remission)."),
    "remission_count": (_I64, None, "Number of response episodes."),
    "qualified_remission_count": (_I64, None, "Number of episodes that qualified as remissions."),
    "complete_remission_count": (_I64, None, "Number of episodes that reached the complete level."),
    "time_in_remission_days": (_I64, None, "Sum of `duration_days` over the episodes."),
    "time_in_complete_remission_days": (_I64, None, "Sum of `complete_duration_days` over the episodes."),
    "on_maintenance": (_B, None, "Maintenance therapy is running as of `as_of`."),
    "on_active_treatment": (_B, None, "Active anticancer treatment is running as of `as_of`."),
    "time_in_qualified_remission_days": (_I64, None, "Sum of `duration_days` over the qualified episodes."),
    "milestone_evidence_date": (_D, None, "The assessment (or last contact) on or after `cure_milestone_date` "
                                "that showed the milestone reached."),
    "late_recurrence_after_milestone": (_B, None, "The milestone was reached, then the disease came back."),
    "as_of": (_D, None, "The date the status is given for (`--as-of`, else the latest date in the data)."),
    "pfs_end_date": (_D, None, "End of PFS: the progression or death, else the last adequate assessment."),
    "dor_end_date": (_D, None, "End of the duration of response: the progression or death, else the last "
                     "adequate assessment."),
}

ERRORS_REFERENCE: dict[str, tuple[pl.DataType, str | None, str]] = {
    "file": (_S, None, "The input file (or `NAME (data frame)`) the problem is in."),
    "row": (_I64, None, "1-based data row of that file; empty when the problem is not in one row."),
    "subject_id": (_S, None, "The subject of the row, when known."),
    "column": (_S, None, "The column, when the problem is in one."),
    "value": (_S, None, "The value found."),
    "expected": (_S, None, "What was expected instead."),
    "code": (_S, "UPPER_SNAKE", "The kind of problem, e.g. MISSING_COLUMN, BAD_DATE, UNKNOWN_SUBJECT, READ_ERROR, "
             "NOT_ANALYSED (the validator's codes and their meanings: `remission.io.validate.ERROR_CODES`)."),
    "label": (_S, None, "Where the user's own tool shows the row: `line N` as a text editor counts CSV lines "
              "(header = line 1), or a data frame's index label; empty when not known."),
}

#: every output table: the tidy outputs of ``remission assess`` and its ``errors.csv``
OUTPUT_REFERENCE: dict[str, dict[str, tuple[pl.DataType, str | None, str]]] = {
    "assessments": ASSESSMENTS_REFERENCE,
    "episodes": EPISODES_REFERENCE,
    "summary": SUMMARY_REFERENCE,
    "errors": ERRORS_REFERENCE,
}
