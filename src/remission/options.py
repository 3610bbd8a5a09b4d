"""Typed, documented options of every derivation.

Defaults are those of the criteria specifications (``../shared/criteria``): RECIST 1.1 §8,
WHO §8 and the remission model §13.  Every option is a pydantic field, so a wrong value is
rejected with a clear message and the options can be loaded from JSON or YAML configs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Options(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RecistOptions(_Options):
    """RECIST 1.1 parameters (recist11.md §8)."""

    confirmation_required: bool = Field(
        False,
        description="Protocol requires confirmed responses (non-randomised trials): the summary's "
        "best_response is then the confirmed one (confirmed_best_response is always reported).",
    )
    confirm_days: int = Field(28, ge=1, description="Minimum days between a response and its confirmation (§5.4).")
    max_ne_between: int = Field(1, ge=0, description="NE time points tolerated between response and confirmation.")
    accept_sd_between: bool = Field(False, description="Accept one SD between a PR and its confirmation.")
    sd_min_days: int = Field(42, ge=0, description="SD minimum duration from the reference start (§5.2).")
    baseline_window_days: int = Field(28, ge=0, description="Baseline older than this before the start gives a warning.")
    reappearance_after_cr: Literal["pd_if_prior_cr", "pd_if_prior_confirmed_cr", "reclassify_prior_as_pr"] = Field(
        "pd_if_prior_cr", description="What a lesion reappearing after an overall CR means (§4.7)."
    )
    continued_pr_after_confirmation: bool = Field(
        False, description="Keep labelling PR after a confirmed PR until PD (EORTC FAQ); labels only."
    )
    exclude_after_new_therapy: bool = Field(True, description="BOR ignores time points after a new line starts (§5.1).")
    include_post_treatment: bool = Field(
        True,
        description="BOR includes assessments after the end of the first line's active treatment (§5.1). "
        "False: only assessments on or before the day the last of those treatments ended (when all have ended).",
    )
    missing_as_ne: bool = Field(False, description="Report BOR MISSING as NE.")
    tstm_default_mm: float = Field(5.0, gt=0, description="Value of a 'too small to measure' target (§3.4).")
    marker_uln: dict[str, float] = Field(
        default_factory=dict,
        description="Tumour markers (labs test code -> upper limit of normal) whose normalisation a CR "
        "requires (§4.3 N3, §6.11). Empty: markers are not used; ULNs are laboratory-specific.",
    )
    marker_window_days: int = Field(28, ge=0, description="A marker value counts at t if dated in [t - window, t].")


class WhoOptions(_Options):
    """WHO bidimensional criteria parameters (who.md §8)."""

    confirm_days: int = Field(28, ge=1)
    who_pd_basis: Literal["any_lesion", "sum"] = "any_lesion"
    who_pd_reference: Literal["nadir", "baseline"] = "nadir"
    who_pd_min_abs_mm2: float = Field(0.0, ge=0)
    nc_min_days: int = Field(0, ge=0)
    max_ne_between: int = Field(1, ge=0)


class FollowupSchedule(_Options):
    """Surveillance schedule for ``next_followup_due`` (issue "The core", item 5).

    Each step is ``(until_years, every_months)``: while the time since the remission
    started is below ``until_years``, a check-up is due ``every_months`` after the last
    assessment.  The last step applies for ever.  Default: every 3 months in the first
    2 years, every 6 months in years 2 to 5, yearly after.
    """

    steps: tuple[tuple[float, int], ...] = ((2.0, 3), (5.0, 6), (float("inf"), 12))
    #: interval used while no remission has started (active disease, responding)
    active_disease_every_months: int = Field(3, ge=1)


class RemissionOptions(_Options):
    """Remission lifecycle parameters (remission_model.md §13)."""

    partial_remission_rule: Literal["criterion", "who_area_50", "diameter_50"] = "criterion"
    evidence_window_days: int = Field(28, ge=0)
    clinical_followup_sustains: bool = True
    mrd_required_for_complete: bool = False
    primary_criterion: str | None = None
    non_blocking_intents: frozenset[str] = frozenset({"maintenance", "continuous"})
    min_sustain_days: int = Field(28, ge=0)
    post_treatment_days: int = Field(28, ge=0)
    max_ne_between: int = Field(1, ge=0)
    loss_of_response_policy: Literal["continue", "end"] = "continue"
    censor_at_new_therapy: bool = False
    spontaneous_lookback_days: int | None = None
    add_one_day: bool = False
    horizon_years: int = Field(5, ge=1)
    cure_horizon_years_by_cancer: dict[str, int] = Field(default_factory=dict)
    cure_clock_start: Literal["end_of_all_treatment", "end_of_active_treatment", "complete_start"] = (
        "end_of_all_treatment"
    )
    cure_requires_assessment_after_milestone: bool = True
    #: criterion confirmation interval used by the remission model (§6.4)
    confirm_days_by_criteria: dict[str, int] = Field(
        default_factory=lambda: {
            "recist1.1": 28,
            "irecist": 28,
            "mrecist": 28,
            "who": 28,
            "rano2": 28,
            "gcig": 28,
            "imwg2016": 1,
            "iwcll2018": 56,
            "pcwg3": 21,
            "lugano2014": 0,
            "eln2022": 0,
        }
    )


class AssessOptions(_Options):
    """Everything ``remission assess`` can be told."""

    criteria: str | None = Field(None, description="Force one criterion for every subject.")
    as_of: dt.date | None = Field(None, description="Status as of this date (default: latest date in the data).")
    recist: RecistOptions = RecistOptions()
    who: WhoOptions = WhoOptions()
    remission: RemissionOptions = RemissionOptions()
    followup: FollowupSchedule = FollowupSchedule()
    skip_invalid: bool = Field(False, description="Process valid subjects; report the invalid ones.")
    criterion_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Options of the other criteria by code, e.g. {'imwg2016': {...}} (see each criterion's options model).",
    )
