"""Remission episodes and the patient lifecycle (remission_model.md §6-9).

Public functions
----------------
* :func:`treatment_classes` - blocking / maintenance / ignored treatment intervals (§2).
* :func:`derive_episodes` - vectorised episodes, one row per response episode (§6, §7);
  property tests prove it equal to a per-subject plain-Python version that follows the
  §6.3 pseudo-code literally (test-only code, ``tests/reference/episodes.py``).
* :func:`lifecycle` - one row per subject: state (§9), milestone (§8), counts (§6.9),
  time measures (§7) and the next follow-up date (:mod:`remission.timeline.followup`).

Input ``statuses`` are those of :func:`remission.timeline.status.combine_statuses`
(:data:`remission.schema.STATUSES_TABLE`): one row per subject and date.

Choices where the spec is not explicit (each is referred to by its letter below):

A. *as_of*: statuses dated after ``as_of`` are ignored (so a progression recognised after
   ``as_of`` does not back-date anything yet), treatments starting after it are ignored,
   an end date after it is treated as "ongoing", a death after it is ignored.
B. *§6.2.2 re-derivation*: a PROGRESSION whose ``progression_event_date`` E is before its
   date R takes its place in the chronological loop at E, and every non-progression status
   dated in ``[E, R)`` is superseded (dropped): it "cannot open a new episode" (§6.3) and,
   since the open episode is closed at E, it no longer belongs to it either. An event
   date after R is clipped to R.
C. *New therapy* (``censor_at_new_therapy``): a blocking interval starting on day T is an
   event placed before the statuses of day T (a same-day assessment is the new line's
   baseline); if an episode is open it is closed with ``censored_new_therapy``, its
   ``end_date`` stays null and its ``censor_date`` is the last remission-level date
   before T.
D. *Complete sub-periods*: the §6.3 pseudo-code overwrites ``complete_start_date`` on every
   upgrade, §6.1 calls it "the first date COMPLETE was met". ``complete_start_date`` is
   the first date (§6.1); ``ned_since`` (extra column) is the start of the current complete
   sub-period; ``complete_end_date`` is the end of the last complete sub-period when it
   ended by loss of complete response (§6.6), null otherwise; ``complete_duration_days``
   (§7) is the sum over complete sub-periods, each running to the loss date, else to
   ``end_date``, else to ``censor_date``. ``complete_confirmation_date`` (§6.4) looks for
   the confirming COMPLETE inside the first complete sub-period.
E. *Not qualified* (§6.5): an episode ended by PROGRESSION, RECURRENCE or (policy
   ``end``) LOSS_OF_RESPONSE before a qualifying status is
   ``regrowth_within_sustain_window``; else ``on_active_treatment`` when a blocking
   interval has started on or before the episode's last status and has no end or ends on
   or after it; else ``insufficient_follow_up``.
F. *Spontaneous* (§6.7): look-back start = diagnosis date for episode 1 (unbounded when
   unknown); for later episodes the later of the previous episode's ``end_date`` and the
   latest progression event before the start, else the previous ``censor_date``.
   A treatment overlaps when it starts on or before the episode start and has no end or
   ends on or after the look-back start.
G. *Episode interval* for maintenance overlap: ``[start_date, end_date or censor_date]``.
H. *Confirmation days*: ``options.confirm_days_by_criteria[subject criteria]``; an unknown
   or missing criteria code uses the ``recist1.1`` value (28).
I. *Recurrence extent* (§6.8): ``recurrence_sites`` tokens are relations
   (PRIMARY_SITE, TUMOUR_BED, REGIONAL, DISTANT, MARROW, BLOOD, EXTRAMEDULLARY,
   MOLECULAR, BIOCHEMICAL) or organ names mapped by :data:`ORGAN_EXTENT`; an organ that is
   the home organ of the subject's cancer (:data:`HOME_ORGANS`) is LOCAL. Several tokens ->
   the most extensive by :data:`EXTENT_RANK` (solid-tumour extents rank above
   haematological ones); nothing mapped -> UNKNOWN.
J. *Lifecycle*: the state (§9) is PROGRESSION_PENDING when the latest status that is not
   NOT_EVALUABLE is PROGRESSION_PENDING (an iRECIST reset to iSD ends the signal), even
   inside an open episode; PROGRESSION/RECURRENCE when the latest status is the
   PROGRESSION (RECURRENCE when it ended an episode whose current type was COMPLETE; a
   later PROGRESSION status with the same progression event date, e.g. the confirming
   sample, is the same progression, so the state on the confirmation date is RECURRENCE
   too, as the episode's end reason says);
   ``status_date`` is the death date for ``deceased``, else the date of the latest status.
   The milestone (§8) is evaluated on the current complete sub-period of the open
   episode; when the subject is not in complete remission, on the latest complete
   sub-period that ended (ACHIEVED stays, as history, with
   ``late_recurrence_after_milestone``; otherwise NOT_ACHIEVED); NOT_APPLICABLE when the
   subject never reached complete remission. ``long_term_remission`` = milestone ACHIEVED.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

import polars as pl

from remission import schema
from remission.criteria import registry
from remission.options import FollowupSchedule, RemissionOptions
from remission.timeline.followup import next_followup_due_expr

C, P = schema.COMPLETE, schema.PARTIAL
PROG, PEND, NE = schema.PROGRESSION, schema.PROGRESSION_PENDING, schema.NOT_EVALUABLE
REM = (P, C)
LAPSE = (schema.STABLE, schema.MINOR)
THERAPY = "NEW_THERAPY"  # internal event level

# end reasons (spec/tables.md episodes.end_reason)
RECURRENCE, PROGRESSION_END, DEATH = "recurrence", "progression", "death"
LOSS_OF_RESPONSE, CENSORED, CENSORED_NEW_THERAPY = "loss_of_response", "censored", "censored_new_therapy"
# not-qualified reasons (§6.5)
REGROWTH = "regrowth_within_sustain_window"
ON_ACTIVE = "on_active_treatment"
INSUFFICIENT = "insufficient_follow_up"
LOSS_OF_COMPLETE = "loss_of_complete_response"

#: §6.8 relation -> extent
RELATION_EXTENT = {
    "PRIMARY_SITE": "LOCAL",
    "TUMOUR_BED": "LOCAL",
    "TUMOR_BED": "LOCAL",
    "LOCAL": "LOCAL",
    "REGIONAL": "REGIONAL",
    "DISTANT": "DISTANT",
    "MARROW": "MEDULLARY",
    "MEDULLARY": "MEDULLARY",
    "BLOOD": "PERIPHERAL_BLOOD",
    "PERIPHERAL_BLOOD": "PERIPHERAL_BLOOD",
    "EXTRAMEDULLARY": "EXTRAMEDULLARY",
    "MOLECULAR": "MOLECULAR",
    "BIOCHEMICAL": "BIOCHEMICAL",
}
#: choice I: organ names (lesions.organ vocabulary) whose extent does not depend on the
#: primary site. A plain ``lymph_node`` cannot be told regional from distant -> UNKNOWN.
ORGAN_EXTENT = {
    "liver": "DISTANT",
    "lung": "DISTANT",
    "bone": "DISTANT",
    "brain": "DISTANT",
    "adrenal": "DISTANT",
    "adrenal_gland": "DISTANT",
    "peritoneum": "DISTANT",
    "pleura": "DISTANT",
    "distant_lymph_node": "DISTANT",
    "regional_lymph_node": "REGIONAL",
    "bone_marrow": "MEDULLARY",
    "marrow": "MEDULLARY",
    "blood": "PERIPHERAL_BLOOD",
    "peripheral_blood": "PERIPHERAL_BLOOD",
}
#: choice I: organ that is the primary site of a cancer type -> LOCAL recurrence
HOME_ORGANS = {
    "hcc": ("liver",),
    "nsclc": ("lung",),
    "glioma": ("brain",),
    "breast": ("breast",),
    "colorectal": ("colon", "rectum"),
    "prostate": ("prostate",),
    "ovarian": ("ovary",),
    "melanoma": ("skin",),
}
EXTENT_RANK = {
    "DISTANT": 8,
    "REGIONAL": 7,
    "LOCAL": 6,
    "EXTRAMEDULLARY": 5,
    "MEDULLARY": 4,
    "PERIPHERAL_BLOOD": 3,
    "BIOCHEMICAL": 2,
    "MOLECULAR": 1,
}
_EXTENT_BY_RANK = {v: k for k, v in EXTENT_RANK.items()}

EPISODES_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String,
    "episode": pl.Int32,
    "type": pl.String,
    "start_date": pl.Date,
    "confirmed_date": pl.Date,
    "complete_start_date": pl.Date,
    "qualified": pl.Boolean,
    "qualification_date": pl.Date,
    "not_qualified_reason": pl.String,
    "end_date": pl.Date,
    "end_reason": pl.String,
    "censor_date": pl.Date,
    "duration_days": pl.Int64,
    "on_maintenance": pl.Boolean,
    "spontaneous": pl.Boolean,
    # extra columns
    "complete_confirmation_date": pl.Date,
    "complete_end_date": pl.Date,
    "complete_end_reason": pl.String,
    "recurrence_extent": pl.String,
    "pending_progression_since": pl.Date,
    "qualified_on_treatment": pl.Boolean,
    "maintenance_periods": pl.String,
    "response_lapse_dates": pl.String,
    "complete_duration_days": pl.Int64,
    "explanation": pl.String,
    "type_at_onset": pl.String,
    "current_type": pl.String,
    "ned_since": pl.Date,
    "last_complete_start_date": pl.Date,
    "last_complete_stop_date": pl.Date,
    "recurrence_sites": pl.String,
    "end_recognised_date": pl.Date,
    "last_status_date": pl.Date,
    "look_back_start": pl.Date,
    "treatment_end_before_qualification": pl.Date,
    "treatment_before_qualification": pl.String,
    "ongoing_treatment": pl.String,
}
assert tuple(EPISODES_SCHEMA)[: len(schema.EPISODES_COLUMNS)] == schema.EPISODES_COLUMNS

LIFECYCLE_SCHEMA: dict[str, pl.DataType] = {
    "subject_id": pl.String,
    "status": pl.String,
    "status_date": pl.Date,
    "progression_date": pl.Date,
    "recurrence_date": pl.Date,
    "ned_since": pl.Date,
    "cure_milestone_date": pl.Date,
    "long_term_remission": pl.Boolean,
    "milestone_status": pl.String,
    "next_followup_due": pl.Date,
    "remission_count": pl.Int64,
    "qualified_remission_count": pl.Int64,
    "complete_remission_count": pl.Int64,
    "time_in_remission_days": pl.Int64,
    "time_in_complete_remission_days": pl.Int64,
    "on_maintenance": pl.Boolean,
    "on_active_treatment": pl.Boolean,
    # extra
    "time_in_qualified_remission_days": pl.Int64,
    "milestone_evidence_date": pl.Date,
    "late_recurrence_after_milestone": pl.Boolean,
    "as_of": pl.Date,
}


# ======================================================================================
# Shared preparation
# ======================================================================================


def treatment_classes(treatments: pl.DataFrame, non_blocking_intents: Iterable[str] | None = None) -> pl.DataFrame:
    """Treatment intervals with their class for the remission model (§2).

    ``intent`` null means ``maintenance`` for modality ``maintenance``, ``supportive`` for
    modality ``supportive``, otherwise an active (blocking) treatment (spec/tables.md).
    ``klass``: ``ignored`` for supportive intent, ``maintenance`` for an intent in
    ``non_blocking_intents`` (default {maintenance, continuous}), else ``blocking``. A
    surgery without ``end_date`` ends on its date (§2); any other null end is ongoing.
    Returns subject_id, start_date, end_date, klass, modality, intent (resolved), label
    (name, else modality; used in explanations).
    """
    nb = sorted(schema.NON_BLOCKING_INTENTS if non_blocking_intents is None else {i.lower() for i in non_blocking_intents})
    t = treatments
    for name, dtype in schema.TREATMENTS.items():
        if name not in t.columns:
            t = t.with_columns(pl.lit(None, dtype=dtype).alias(name))
    intent = (
        pl.when(pl.col("intent").is_not_null())
        .then(pl.col("intent").str.to_lowercase())
        .when(pl.col("modality") == "maintenance")
        .then(pl.lit("maintenance"))
        .when(pl.col("modality") == "supportive")
        .then(pl.lit("supportive"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    return (
        t.with_columns(intent=intent)
        .select(
            pl.col("subject_id").cast(pl.String),
            pl.col("start_date").cast(pl.Date),
            pl.when(pl.col("end_date").is_null() & (pl.col("modality") == "surgery"))
            .then(pl.col("start_date"))
            .otherwise(pl.col("end_date"))
            .cast(pl.Date)
            .alias("end_date"),
            pl.when(pl.col("intent").is_in(sorted(schema.IGNORED_INTENTS)))
            .then(pl.lit("ignored"))
            .when(pl.col("intent").is_in(nb))
            .then(pl.lit("maintenance"))
            .otherwise(pl.lit("blocking"))
            .alias("klass"),
            pl.col("modality").cast(pl.String),
            pl.col("intent"),
            pl.coalesce(pl.col("name"), pl.col("modality")).cast(pl.String).alias("label"),
        )
        .filter(pl.col("start_date").is_not_null())
        .sort("subject_id", "start_date", "end_date", "label", nulls_last=True)
    )


def _treatments_as_of(tc: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """Choice A: drop treatments starting after ``as_of``; later end dates become null."""
    if as_of is None:
        return tc
    return tc.filter(pl.col("start_date") <= as_of).with_columns(
        end_date=pl.when(pl.col("end_date") > as_of).then(None).otherwise(pl.col("end_date"))
    )


def _confirm_days(criteria: str | None, options: RemissionOptions) -> int:
    table = options.confirm_days_by_criteria
    return table.get(criteria or "", table.get(registry.FALLBACK, 28))


def _subjects(subjects: pl.DataFrame, options: RemissionOptions, as_of: dt.date | None) -> pl.DataFrame:
    s = subjects
    for name, dtype in schema.SUBJECTS.items():
        if name not in s.columns:
            s = s.with_columns(pl.lit(None, dtype=dtype).alias(name))
    death = pl.col("death_date").cast(pl.Date)
    if as_of is not None:
        death = pl.when(death > as_of).then(None).otherwise(death)
    table = options.confirm_days_by_criteria
    default_cd = table.get(registry.FALLBACK, 28)
    return s.select(
        pl.col("subject_id").cast(pl.String),
        pl.col("cancer_type").cast(pl.String),
        pl.col("criteria").cast(pl.String),
        pl.col("diagnosis_date").cast(pl.Date),
        death.alias("death_date"),
        pl.col("last_contact_date").cast(pl.Date),
        pl.col("criteria")
        .cast(pl.String)
        .replace_strict(table, default=default_cd, return_dtype=pl.Int64)
        .alias("confirm_days"),
    ).unique("subject_id", keep="first")


def _statuses(statuses: pl.DataFrame, subj: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """Statuses as of ``as_of``, on/after diagnosis (§6.2.1), with the loop date ``eff``."""
    s = statuses
    for name, dtype in schema.STATUSES_TABLE.items():
        if name not in s.columns:
            s = s.with_columns(pl.lit(None, dtype=dtype).alias(name))
    s = s.select([pl.col(n).cast(d) for n, d in schema.STATUSES_TABLE.items()])
    if as_of is not None:
        s = s.filter(pl.col("date") <= as_of)
    s = (
        s.join(subj.select("subject_id", "diagnosis_date"), on="subject_id", how="left")
        .filter(pl.col("diagnosis_date").is_null() | (pl.col("date") >= pl.col("diagnosis_date")))
        .drop("diagnosis_date")
    )
    if s.select(pl.struct("subject_id", "date").is_duplicated().any()).item():
        raise ValueError("statuses must have one row per subject and date (use combine_statuses)")
    return s.with_columns(
        clinical_only=pl.col("clinical_only").fill_null(False),
        eff=pl.when(pl.col("level") == PROG)
        .then(pl.min_horizontal(pl.col("progression_event_date").fill_null(pl.col("date")), pl.col("date")))
        .otherwise(pl.col("date")),
    )


def _drop_superseded(s: pl.DataFrame) -> pl.DataFrame:
    """Choice B (§6.2.2, §6.3 'superseded statuses')."""
    progs = s.filter((pl.col("level") == PROG) & (pl.col("eff") < pl.col("date"))).select(
        "subject_id", pl.col("eff").alias("_E"), pl.col("date").alias("_R")
    )
    sup = (
        s.filter(pl.col("level") != PROG)
        .select("subject_id", "date")
        .join(progs, on="subject_id")
        .filter((pl.col("_E") <= pl.col("date")) & (pl.col("date") < pl.col("_R")))
        .select("subject_id", "date")
        .unique()
    )
    return s.join(sup, on=["subject_id", "date"], how="anti")


def _site_extent(token: str, cancer_type: str | None) -> str | None:
    """Choice I for one ``recurrence_sites`` token."""
    tok = token.strip()
    if not tok:
        return None
    if tok.upper() in RELATION_EXTENT:
        return RELATION_EXTENT[tok.upper()]
    organ = tok.lower()
    if cancer_type is not None and organ in HOME_ORGANS.get(cancer_type, ()):
        return "LOCAL"
    return ORGAN_EXTENT.get(organ)


def recurrence_extent(sites: str | None, cancer_type: str | None = None) -> str:
    """§6.8: most extensive extent of ``;``-joined sites; UNKNOWN without usable site."""
    ranks = [EXTENT_RANK[e] for t in (sites or "").split(";") if (e := _site_extent(t, cancer_type))]
    return _EXTENT_BY_RANK[max(ranks)] if ranks else "UNKNOWN"


def _days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return (a - b).dt.total_days()


# ======================================================================================
# Vectorised derivation
# ======================================================================================


def derive_episodes(
    statuses: pl.DataFrame,
    treatments: pl.DataFrame,
    subjects: pl.DataFrame,
    options: RemissionOptions | None = None,
    *,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Remission episodes of all subjects (remission_model.md §6, durations §7).

    Vectorised form of the §6.3 loop: the chronological stream of each subject is cut at
    every *break* (a PROGRESSION at its event date, a STABLE/MINOR when
    ``loss_of_response_policy = "end"``, a new blocking therapy when
    ``censor_at_new_therapy``); in each segment the first PARTIAL/COMPLETE status opens an
    episode that the first row of the next segment closes (or death/censoring after the
    last one). Columns: :data:`EPISODES_SCHEMA` (``schema.EPISODES_COLUMNS`` first).
    Choices A-I of the module docstring apply.
    """
    o = options or RemissionOptions()
    subj = _subjects(subjects, o, as_of)
    tc = _treatments_as_of(treatment_classes(treatments, o.non_blocking_intents), as_of)
    s = _statuses(statuses, subj, as_of)
    # Integer subject keys: every sort, window, group_by and join below is keyed by subject;
    # on the rank of the subject id among the sorted distinct ids (same order as the text,
    # nulls kept null) they give the same results, at a fraction of the cost of text keys.
    ids = pl.concat([s.get_column("subject_id"), subj.get_column("subject_id"), tc.get_column("subject_id")])
    ids = ids.drop_nulls().unique().sort()
    enum = pl.Enum(ids)

    def encode(frame: pl.DataFrame) -> pl.DataFrame:
        # the position of the id in ``ids``, by an Enum cast (a hash lookup, cheaper than
        # replace_strict); every non-null id is in ``ids``
        return frame.with_columns(pl.col("subject_id").cast(enum).to_physical().cast(pl.UInt32))

    s, subj, tc = encode(s), encode(subj), encode(tc)
    s = _drop_superseded(s).with_columns(kind=pl.lit(1, dtype=pl.Int8))
    if o.censor_at_new_therapy:
        th = tc.filter(pl.col("klass") == "blocking").select(
            "subject_id",
            pl.col("start_date").alias("date"),
            pl.lit(THERAPY).alias("level"),
            pl.col("start_date").alias("eff"),
            pl.lit(0, dtype=pl.Int8).alias("kind"),
        ).unique()
        s = pl.concat([s, th], how="diagonal_relaxed")
    is_break = (pl.col("level") == PROG) | (pl.col("level") == THERAPY)
    if o.loss_of_response_policy == "end":
        is_break = is_break | pl.col("level").is_in(LAPSE)
    s = s.sort("subject_id", "eff", "kind", "date")
    # with a level on every status, each (subject, seg) is a contiguous run of rows
    contiguous = s.get_column("level").null_count() == 0
    if contiguous:
        ev, members = _segments_sorted(s, is_break)
    else:  # (statuses without a level: the window form, which keeps their null segments)
        ev = s.with_columns(
            pos=pl.int_range(pl.len()).over("subject_id"),
            seg=is_break.cast(pl.Int64).cum_sum().over("subject_id"),
            is_rem=pl.col("level").is_in(REM),
        ).with_columns(start_pos=pl.col("pos").filter(pl.col("is_rem")).min().over("subject_id", "seg"))
        members = ev.filter(pl.col("start_pos").is_not_null() & (pl.col("pos") >= pl.col("start_pos"))).with_columns(
            ne_cum=(pl.col("level") == NE).cast(pl.Int64).cum_sum().over("subject_id", "seg")
        ).drop("start_pos")
        ev = ev.drop("start_pos")
    if members.height == 0:
        return pl.DataFrame(schema=EPISODES_SCHEMA)

    key = ["subject_id", "seg"]
    rem = members.filter(pl.col("is_rem"))
    ep = members.group_by(key).agg(
        pl.col("date").first().alias("start_date"),
        pl.col("level").first().alias("type_at_onset"),
        pl.col("ne_cum").first().alias("_ne0"),
        pl.col("date").max().alias("last_status_date"),
        pl.col("date").filter(pl.col("is_rem")).max().alias("censor_date"),
        pl.col("level").filter(pl.col("is_rem")).last().alias("current_type"),
        (pl.col("level") == C).any().alias("_any_complete"),
        pl.col("date").filter(pl.col("level").is_in(LAPSE)).dt.to_string("%Y-%m-%d").str.join(";").alias(
            "response_lapse_dates"
        ),
    )
    # pending since (§6.3: set by the first PROGRESSION_PENDING after the last remission status)
    pend = (
        members.filter(pl.col("level") == PEND)
        .join(ep.select(*key, "censor_date"), on=key)
        .filter(pl.col("date") > pl.col("censor_date"))
        .group_by(key)
        .agg(pl.col("date").min().alias("pending_progression_since"))
    )
    # closing row = first row of the next segment
    closers = (
        ev.group_by(key)
        .agg(
            pl.col("level").first().alias("_close_level"),
            pl.col("date").first().alias("_close_date"),
            pl.col("eff").first().alias("_close_eff"),
            pl.col("recurrence_sites").first().alias("recurrence_sites"),
        )
        .with_columns(seg=pl.col("seg") - 1)
    )
    ep = (
        ep.join(pend, on=key, how="left")
        .join(closers, on=key, how="left")
        .join(subj, on="subject_id", how="left")
        .with_columns(
            confirm_days=pl.col("confirm_days").fill_null(_confirm_days(None, o)),
            type=pl.when(pl.col("_any_complete")).then(pl.lit("complete")).otherwise(pl.lit("partial")),
            response_lapse_dates=pl.when(pl.col("response_lapse_dates") == "")
            .then(None)
            .otherwise(pl.col("response_lapse_dates")),
        )
    )
    lvl = pl.col("_close_level")
    ep = ep.with_columns(
        end_reason=pl.when(lvl == PROG)
        .then(pl.when(pl.col("current_type") == C).then(pl.lit(RECURRENCE)).otherwise(pl.lit(PROGRESSION_END)))
        .when(lvl.is_in(LAPSE))
        .then(pl.lit(LOSS_OF_RESPONSE))
        .when(lvl == THERAPY)
        .then(pl.lit(CENSORED_NEW_THERAPY))
        .when(pl.col("death_date").is_not_null() & (pl.col("death_date") >= pl.col("start_date")))
        .then(pl.lit(DEATH))
        .otherwise(pl.lit(CENSORED)),
    ).with_columns(
        end_date=pl.when(pl.col("end_reason").is_in([RECURRENCE, PROGRESSION_END]))
        .then(pl.col("_close_eff"))
        .when(pl.col("end_reason") == LOSS_OF_RESPONSE)
        .then(pl.col("_close_date"))
        .when(pl.col("end_reason") == DEATH)
        .then(pl.col("death_date"))
        .otherwise(pl.lit(None, dtype=pl.Date)),
        end_recognised_date=pl.when(lvl == PROG).then(pl.col("_close_date")).otherwise(pl.lit(None, dtype=pl.Date)),
        recurrence_sites=pl.when(lvl == PROG).then(pl.col("recurrence_sites")).otherwise(pl.lit(None, dtype=pl.String)),
    ).with_columns(_stop=pl.coalesce("end_date", "censor_date"))

    # ---- complete sub-periods (choice D) ---------------------------------------------
    # runs of equal level among the remission statuses of an episode (also used by §6.4)
    level_change = (pl.col("level") != pl.col("level").shift(1)).fill_null(True)
    if contiguous:
        # (subject, seg) rows are contiguous: the window's cumulative sum as a restarting one
        row = pl.int_range(pl.len(), dtype=pl.Int64)
        new_key = (row == 0) | pl.col("subject_id").ne_missing(pl.col("subject_id").shift(1)) | pl.col("seg").ne_missing(
            pl.col("seg").shift(1)
        )
        rem_runs = rem.with_columns(run=_restart((level_change | new_key).cast(pl.Int64), new_key))
    else:
        rem_runs = rem.with_columns(run=level_change.cast(pl.Int64).cum_sum().over(key))
    runs = (
        rem_runs.group_by(*key, "run")
        .agg(pl.col("level").first(), pl.col("date").min().alias("run_start"))
        .sort(*key, "run")
        .with_columns(next_start=pl.col("run_start").shift(-1).over(key), last_run=pl.col("run").max().over(key))
        .join(ep.select(*key, "_stop"), on=key)
        .filter(pl.col("level") == C)
        .with_columns(run_stop=pl.coalesce("next_start", "_stop"))
    )
    add1 = 1 if o.add_one_day else 0
    cruns = runs.group_by(key).agg(
        pl.col("run_start").min().alias("complete_start_date"),
        pl.col("run").min().alias("_first_crun"),
        (_days(pl.col("run_stop"), pl.col("run_start")) + add1).sum().alias("complete_duration_days"),
        pl.col("run_start").last().alias("last_complete_start_date"),
        pl.col("run_stop").last().alias("last_complete_stop_date"),
        pl.col("next_start").last().alias("complete_end_date"),
        (pl.col("run").last() == pl.col("last_run").last()).alias("_c_current"),
    )
    ep = ep.join(cruns, on=key, how="left").with_columns(
        complete_end_reason=pl.when(pl.col("complete_end_date").is_not_null())
        .then(pl.lit(LOSS_OF_COMPLETE))
        .otherwise(pl.lit(None, dtype=pl.String)),
        ned_since=pl.when(pl.col("_c_current").fill_null(False)).then(pl.col("last_complete_start_date")),
    )

    # ---- confirmation (§6.4) ----------------------------------------------------------
    mx = o.max_ne_between
    conf = (
        rem.join(ep.select(*key, "start_date", "_ne0", "confirm_days"), on=key)
        .filter(
            (_days(pl.col("date"), pl.col("start_date")) >= pl.col("confirm_days"))
            & (pl.col("date") > pl.col("start_date"))
            & (pl.col("ne_cum") - pl.col("_ne0") <= mx)
        )
        .group_by(key)
        .agg(pl.col("date").min().alias("_conf"))
    )
    cstart_ne = (
        rem_runs.join(ep.select(*key, "_first_crun"), on=key)
        .filter(pl.col("run") == pl.col("_first_crun"))
        .sort(*key, "pos")
    )
    cconf = (
        cstart_ne.with_columns(_cne0=pl.col("ne_cum").first().over(key), _cs=pl.col("date").first().over(key))
        .join(ep.select(*key, "confirm_days"), on=key)
        .filter(
            (_days(pl.col("date"), pl.col("_cs")) >= pl.col("confirm_days"))
            & (pl.col("date") > pl.col("_cs"))
            & (pl.col("ne_cum") - pl.col("_cne0") <= mx)
        )
        .group_by(key)
        .agg(pl.col("date").min().alias("_cconf"))
    )
    ep = (
        ep.join(conf, on=key, how="left")
        .join(cconf, on=key, how="left")
        .with_columns(
            confirmed_date=pl.when(pl.col("confirm_days") == 0).then(pl.col("start_date")).otherwise(pl.col("_conf")),
            complete_confirmation_date=pl.when(pl.col("confirm_days") == 0)
            .then(pl.col("complete_start_date"))
            .otherwise(pl.col("_cconf")),
        )
    )

    # ---- qualification (§6.5) ---------------------------------------------------------
    blocking = tc.filter(pl.col("klass") == "blocking").select(
        "subject_id", pl.col("start_date").alias("_ts"), pl.col("end_date").alias("_te"), pl.col("label")
    )
    cand = rem.join(ep.select(*key, "start_date", "confirmed_date"), on=key).filter(
        pl.col("confirmed_date").is_not_null()
        & (pl.col("date") >= pl.col("confirmed_date"))
        & (_days(pl.col("date"), pl.col("start_date")) >= o.min_sustain_days)
    ).select(*key, "date")
    # per candidate date: any blocking treatment too recent or ongoing, and the latest end;
    # only plain aggregates here (the label is looked up for the qualifying date only)
    tjoin = (
        cand.join(blocking, on="subject_id")
        .filter(pl.col("_ts") <= pl.col("date"))
        .with_columns(_bad=pl.col("_te").is_null() | (_days(pl.col("date"), pl.col("_te")) < o.post_treatment_days))
    )
    tj = tjoin.group_by(*key, "date").agg(
        pl.col("_bad").any().alias("_bad"),
        pl.col("_te").max().alias("treatment_end_before_qualification"),
    )
    qual = (
        cand.join(tj, on=[*key, "date"], how="left")
        .filter(~pl.col("_bad").fill_null(False))
        .sort(*key, "date")
        .group_by(key)
        .agg(
            pl.col("date").first().alias("qualification_date"),
            pl.col("treatment_end_before_qualification").first(),
        )
    )
    # of the treatments ending last before the qualification date, the first label in
    # text order (min skips nulls, as the first label sorted with nulls last would)
    labels = (
        tjoin.join(
            qual.select(*key, pl.col("qualification_date").alias("date"), pl.col("treatment_end_before_qualification").alias("_te_max")),
            on=[*key, "date"],
        )
        .filter(pl.col("_te") == pl.col("_te_max"))
        .group_by(key)
        .agg(pl.col("label").min().alias("treatment_before_qualification"))
    )
    qual = qual.join(labels, on=key, how="left")
    ongoing = (
        ep.select(*key, "last_status_date")
        .join(blocking, on="subject_id")
        .filter(
            (pl.col("_ts") <= pl.col("last_status_date"))
            & (pl.col("_te").is_null() | (pl.col("_te") >= pl.col("last_status_date")))
        )
        .sort(*key, "_ts", "label")
        .group_by(key)
        .agg(pl.format("{} started {}", pl.col("label"), pl.col("_ts").dt.to_string("%Y-%m-%d")).first().alias("ongoing_treatment"))
    )
    ep = (
        ep.join(qual, on=key, how="left")
        .join(ongoing, on=key, how="left")
        .with_columns(qualified=pl.col("qualification_date").is_not_null())
        .with_columns(
            not_qualified_reason=pl.when(pl.col("qualified"))
            .then(pl.lit(None, dtype=pl.String))
            .when(pl.col("end_reason").is_in([RECURRENCE, PROGRESSION_END, LOSS_OF_RESPONSE]))
            .then(pl.lit(REGROWTH))
            .when(pl.col("ongoing_treatment").is_not_null())
            .then(pl.lit(ON_ACTIVE))
            .otherwise(pl.lit(INSUFFICIENT))
        )
    )

    # ---- numbering, spontaneous (§6.7), maintenance ------------------------------------
    # (sorted by subject: row numbers and shifts within the subject without hashing windows)
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    same_subject = pl.col("subject_id").eq_missing(pl.col("subject_id").shift(1)) & (row > 0)
    ep = ep.sort("subject_id", "start_date").with_columns(
        episode=(row - pl.when(~same_subject).then(row).forward_fill() + 1).cast(pl.Int32),
        _prev_end=pl.when(same_subject).then(pl.col("end_date").shift(1)),
        _prev_censor=pl.when(same_subject).then(pl.col("censor_date").shift(1)),
    )
    last_prog = (
        ev.filter(pl.col("level") == PROG)
        .select("subject_id", pl.col("eff").alias("_pe"))
        .join(ep.select("subject_id", "episode", "start_date"), on="subject_id")
        .filter(pl.col("_pe") < pl.col("start_date"))
        .group_by("subject_id", "episode")
        .agg(pl.col("_pe").max().alias("_last_prog"))
    )
    ep = ep.join(last_prog, on=["subject_id", "episode"], how="left").with_columns(
        look_back_start=pl.when(pl.col("episode") == 1)
        .then(pl.col("diagnosis_date"))
        .otherwise(pl.coalesce(pl.max_horizontal("_prev_end", "_last_prog"), pl.col("_prev_censor")))
    )
    if o.spontaneous_lookback_days is not None:
        cap = pl.col("start_date") - pl.duration(days=o.spontaneous_lookback_days)
        ep = ep.with_columns(look_back_start=pl.max_horizontal(pl.col("look_back_start"), cap))
    active = tc.filter(pl.col("klass") != "ignored")
    overl = (
        ep.select("subject_id", "episode", "start_date", "look_back_start")
        .join(active.select("subject_id", pl.col("start_date").alias("_ts"), pl.col("end_date").alias("_te")), on="subject_id")
        .filter(
            (pl.col("_ts") <= pl.col("start_date"))
            & (
                pl.col("_te").is_null()
                | pl.col("look_back_start").is_null()
                | (pl.col("_te") >= pl.col("look_back_start"))
            )
        )
        .select("subject_id", "episode")
        .unique()
        .with_columns(_treated=pl.lit(True))
    )
    maint = tc.filter(pl.col("klass") == "maintenance").select(
        "subject_id", pl.col("start_date").alias("_ms"), pl.col("end_date").alias("_me")
    )
    mj = ep.select("subject_id", "episode", "start_date", "_stop", "qualification_date").join(maint, on="subject_id")
    mper = (
        mj.filter((pl.col("_ms") <= pl.col("_stop")) & (pl.col("_me").is_null() | (pl.col("_me") >= pl.col("start_date"))))
        .sort("subject_id", "episode", "_ms", "_me", nulls_last=True)
        .group_by("subject_id", "episode")
        .agg(
            pl.format(
                "{}/{}",
                pl.col("_ms").dt.to_string("%Y-%m-%d"),
                pl.col("_me").dt.to_string("%Y-%m-%d").fill_null(".."),
            )
            .str.join(";")
            .alias("maintenance_periods")
        )
    )
    qot = (
        mj.filter(
            pl.col("qualification_date").is_not_null()
            & (pl.col("_ms") <= pl.col("qualification_date"))
            & (pl.col("_me").is_null() | (pl.col("_me") >= pl.col("qualification_date")))
        )
        .select("subject_id", "episode")
        .unique()
        .with_columns(qualified_on_treatment=pl.lit(True))
    )
    ep = (
        ep.join(overl, on=["subject_id", "episode"], how="left")
        .join(mper, on=["subject_id", "episode"], how="left")
        .join(qot, on=["subject_id", "episode"], how="left")
        .with_columns(
            spontaneous=~pl.col("_treated").fill_null(False),
            on_maintenance=pl.col("maintenance_periods").is_not_null(),
            qualified_on_treatment=pl.col("qualified_on_treatment").fill_null(False),
            duration_days=_days(pl.col("_stop"), pl.col("start_date")) + add1,
        )
    )

    # ---- recurrence extent (§6.8, choice I) ---------------------------------------------
    home = pl.DataFrame(
        [(ct, org) for ct, orgs in HOME_ORGANS.items() for org in orgs],
        schema={"cancer_type": pl.String, "_tok_l": pl.String},
        orient="row",
    ).with_columns(_home=pl.lit(True))
    toks = (
        ep.filter(pl.col("end_reason").is_in([RECURRENCE, PROGRESSION_END]))
        .select("subject_id", "episode", "cancer_type", pl.col("recurrence_sites").str.split(";").alias("_tok"))
        .explode("_tok")
        .with_columns(_tok=pl.col("_tok").str.strip_chars())
        .with_columns(_tok_u=pl.col("_tok").str.to_uppercase(), _tok_l=pl.col("_tok").str.to_lowercase())
        .join(home, on=["cancer_type", "_tok_l"], how="left")
        .with_columns(
            _ext=pl.coalesce(
                pl.col("_tok_u").replace_strict(RELATION_EXTENT, default=None, return_dtype=pl.String),
                pl.when(pl.col("_home")).then(pl.lit("LOCAL")),
                pl.col("_tok_l").replace_strict(ORGAN_EXTENT, default=None, return_dtype=pl.String),
            )
        )
        .with_columns(_rank=pl.col("_ext").replace_strict(EXTENT_RANK, default=None, return_dtype=pl.Int64))
        .group_by("subject_id", "episode")
        .agg(pl.col("_rank").max())
        .with_columns(
            recurrence_extent=pl.col("_rank")
            .replace_strict(_EXTENT_BY_RANK, default=None, return_dtype=pl.String)
            .fill_null("UNKNOWN")
        )
        .drop("_rank")
    )
    ep = ep.join(toks, on=["subject_id", "episode"], how="left")
    ep = ep.with_columns(ids.gather(ep.get_column("subject_id")).alias("subject_id"))
    return _finish(ep, o)


def _restart(values: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """Cumulative sum of ``values`` restarting at every row where ``starts`` holds (the first
    row must start): on a frame sorted by group, the same as ``values.cum_sum().over(group)``
    without hashing the group key (global cumulative sum minus its value before the group)."""
    total = values.cum_sum()
    return total - pl.when(starts).then(total - values).forward_fill()


def _segments_sorted(s: pl.DataFrame, is_break: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``ev`` and ``members`` of :func:`derive_episodes` on statuses sorted by subject (and
    loop order), with running sums instead of windows: ``pos`` (row number in the subject),
    ``seg`` (breaks so far in the subject), ``is_rem``; a member is a row at or after the
    first remission status of its (subject, seg) run, and ``ne_cum`` counts NOT_EVALUABLE
    statuses within the run's members.  Runs are contiguous in this order, so these equal
    the ``over("subject_id")`` / ``over("subject_id", "seg")`` windows."""
    sid = pl.col("subject_id")
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    new_subject = (row == 0) | sid.ne_missing(sid.shift(1))
    brk = is_break.cast(pl.Int64)
    ev = s.with_columns(
        pos=row - pl.when(new_subject).then(row).forward_fill(),
        seg=_restart(brk, new_subject),
        is_rem=pl.col("level").is_in(REM),
        _run=(new_subject | (brk == 1)).cast(pl.Int64).cum_sum(),
    )
    run = pl.col("_run")
    new_run = (row == 0) | (run != run.shift(1))
    members = (
        ev.filter(_restart(pl.col("is_rem").cast(pl.Int64), new_run) > 0)
        .with_columns(ne_cum=_restart((pl.col("level") == NE).cast(pl.Int64), new_run))
        .drop("_run")
    )
    return ev.drop("_run"), members


def _finish(ep: pl.DataFrame, o: RemissionOptions) -> pl.DataFrame:
    """Typed output columns in contract order, with the explanation line."""
    ep = ep.select([pl.col(n).cast(t) if n in ep.columns else pl.lit(None, dtype=t).alias(n) for n, t in EPISODES_SCHEMA.items()])
    return _explain(ep, o).sort("subject_id", "episode")


def _explain(ep: pl.DataFrame, o: RemissionOptions) -> pl.DataFrame:
    """One plain line per episode naming the rule (§6.5) and its dates."""

    def d(c: str) -> pl.Expr:
        return pl.col(c).dt.to_string("%Y-%m-%d")

    head = pl.format("episode {} ({}) from {}", pl.col("episode"), pl.col("type"), d("start_date"))
    trt = pl.when(pl.col("treatment_end_before_qualification").is_not_null()).then(
        pl.format(
            " and {} days after the end of {} on {} (>= {})",
            _days(pl.col("qualification_date"), pl.col("treatment_end_before_qualification")),
            pl.col("treatment_before_qualification"),
            d("treatment_end_before_qualification"),
            pl.lit(o.post_treatment_days),
        )
    ).otherwise(pl.lit(""))
    qual = pl.format(
        "qualified on {}: {} days after start (>= {}){} (§6.5)",
        d("qualification_date"),
        _days(pl.col("qualification_date"), pl.col("start_date")),
        pl.lit(o.min_sustain_days),
        trt,
    )
    nq = (
        pl.when(pl.col("not_qualified_reason") == REGROWTH)
        .then(
            pl.format(
                "not qualified ({}): ended on {}, {} days after start, before a status met §6.5",
                pl.col("not_qualified_reason"),
                d("end_date"),
                _days(pl.col("end_date"), pl.col("start_date")),
            )
        )
        .when(pl.col("not_qualified_reason") == ON_ACTIVE)
        .then(
            pl.format(
                "not qualified ({}): {} is still going on at the last status on {} (§6.5)",
                pl.col("not_qualified_reason"),
                pl.col("ongoing_treatment"),
                d("last_status_date"),
            )
        )
        .otherwise(
            pl.format(
                "not qualified ({}): no confirmed status >= {} days after start and >= {} days after active treatment up to {} (§6.5)",
                pl.col("not_qualified_reason"),
                pl.lit(o.min_sustain_days),
                pl.lit(o.post_treatment_days),
                d("last_status_date"),
            )
        )
    )
    tail = (
        pl.when(pl.col("end_reason").is_in([RECURRENCE, PROGRESSION_END]))
        .then(pl.format("; ended by {} on {} ({})", pl.col("end_reason"), d("end_date"), pl.col("recurrence_extent")))
        .when(pl.col("end_reason").is_in([DEATH, LOSS_OF_RESPONSE]))
        .then(pl.format("; ended by {} on {}", pl.col("end_reason"), d("end_date")))
        .otherwise(pl.format("; {}, last remission evidence {}", pl.col("end_reason"), d("censor_date")))
    )
    line = pl.format("{}: {}{}", head, pl.when(pl.col("qualified")).then(qual).otherwise(nq), tail)
    return ep.with_columns(explanation=line)


# ======================================================================================
# Lifecycle (§8, §9, §6.9, §7 totals)
# ======================================================================================

IN_REMISSION_STATES = ("partial_remission", "complete_remission", "long_term_remission")


def _statuses_by_subject_date(statuses: pl.DataFrame, subj: pl.DataFrame, as_of: dt.date | None) -> pl.DataFrame:
    """``_statuses(statuses, subj, as_of).sort("subject_id", "date")``, cheaper (lifecycle).

    Same rows and checks: the statuses (``combine_statuses`` output) usually come strictly
    sorted by (subject_id, date); one pass verifies it, and then the filtered rows are
    already in the sorted order and hold no duplicate (subject_id, date), so neither the
    sort nor the hash duplicate check is needed.  Otherwise the frame is sorted and a
    duplicate is two equal neighbours (nulls equal, as in ``is_duplicated``).  The
    diagnosis date is looked up by a left join that keeps the row order.
    """
    s = statuses
    for name, dtype in schema.STATUSES_TABLE.items():
        if name not in s.columns:
            s = s.with_columns(pl.lit(None, dtype=dtype).alias(name))
    s = s.select([pl.col(n).cast(d) for n, d in schema.STATUSES_TABLE.items()])
    if as_of is not None:
        s = s.filter(pl.col("date") <= as_of)
    s = (
        s.join(subj.select("subject_id", "diagnosis_date"), on="subject_id", how="left", maintain_order="left")
        .filter(pl.col("diagnosis_date").is_null() | (pl.col("date") >= pl.col("diagnosis_date")))
        .drop("diagnosis_date")
    )
    sid, date = pl.col("subject_id"), pl.col("date")
    strictly = (sid > sid.shift(1)) | ((sid == sid.shift(1)) & (date > date.shift(1)))
    first = pl.int_range(pl.len()) == 0
    if not (
        s.height == 0
        or s.select(sid.is_not_null().all() & date.is_not_null().all() & (first | strictly.fill_null(False)).all()).item()
    ):
        s = s.sort("subject_id", "date")
        same = sid.eq_missing(sid.shift(1)) & date.eq_missing(date.shift(1)) & ~first
        if s.select(same.any()).item():
            raise ValueError("statuses must have one row per subject and date (use combine_statuses)")
    return s.with_columns(
        clinical_only=pl.col("clinical_only").fill_null(False),
        eff=pl.when(pl.col("level") == PROG)
        .then(pl.min_horizontal(pl.col("progression_event_date").fill_null(pl.col("date")), pl.col("date")))
        .otherwise(pl.col("date")),
    )


def lifecycle(
    statuses: pl.DataFrame,
    episodes: pl.DataFrame,
    treatments: pl.DataFrame,
    subjects: pl.DataFrame,
    options: RemissionOptions | None = None,
    schedule: FollowupSchedule | None = None,
    *,
    as_of: dt.date | None,
) -> pl.DataFrame:
    """One row per subject (of ``subjects`` and ``statuses``): state as of ``as_of``.

    ``episodes`` must be ``derive_episodes(statuses, treatments, subjects, options,
    as_of=as_of)``. ``as_of`` None = the latest status date in the data. Columns:
    :data:`LIFECYCLE_SCHEMA`. States are the lowercase §9 names of spec/tables.md
    ``summary.status``; choices A and J of the module docstring apply; the next follow-up
    date is :mod:`remission.timeline.followup`'s rule, counted from the start of the open
    episode.
    """
    o = options or RemissionOptions()
    schedule = schedule or FollowupSchedule()
    if as_of is None:
        as_of = statuses.select(pl.col("date").max()).item() if statuses.height else dt.date.today()
    subj = _subjects(subjects, o, as_of)
    subj = subj.join(
        statuses.select(pl.col("subject_id").cast(pl.String)).unique().join(subj.select("subject_id"), on="subject_id", how="anti"),
        on="subject_id",
        how="full",
        coalesce=True,
    )
    tc = _treatments_as_of(treatment_classes(treatments, o.non_blocking_intents), as_of)
    st = _statuses_by_subject_date(statuses, subj, as_of)
    ep = episodes.filter(pl.col("start_date") <= as_of) if episodes.height else pl.DataFrame(schema=EPISODES_SCHEMA)

    # -- latest statuses, progression signal (choice J) ----------------------------------
    last = st.group_by("subject_id").agg(
        pl.col("date").last().alias("_last_date"),
        pl.col("level").last().alias("_last_level"),
        pl.col("level").filter(pl.col("level") != NE).last().alias("_last_evaluable"),
        pl.col("eff").filter(pl.col("level") == PROG).min().alias("progression_date"),
        pl.col("eff").last().alias("_last_eff"),
    )
    # -- episodes aggregates (§6.9, §7) -------------------------------------------------
    agg = ep.group_by("subject_id").agg(
        pl.len().cast(pl.Int64).alias("remission_count"),
        pl.col("qualified").sum().cast(pl.Int64).alias("qualified_remission_count"),
        (pl.col("type") == "complete").sum().cast(pl.Int64).alias("complete_remission_count"),
        pl.col("duration_days").sum().cast(pl.Int64).alias("time_in_remission_days"),
        pl.col("complete_duration_days").fill_null(0).sum().cast(pl.Int64).alias("time_in_complete_remission_days"),
        pl.col("duration_days").filter(pl.col("qualified")).sum().cast(pl.Int64).alias("time_in_qualified_remission_days"),
        pl.col("end_date").filter(pl.col("end_reason") == RECURRENCE).min().alias("recurrence_date"),
    )
    open_ep = ep.filter(pl.col("end_reason") == CENSORED).select(
        "subject_id",
        pl.col("start_date").alias("_open_start"),
        pl.col("qualified").alias("_open_qualified"),
        pl.col("current_type").alias("_open_type"),
        pl.col("ned_since").alias("_ned"),
    )
    ended_by_last = ep.filter(pl.col("end_recognised_date").is_not_null()).select(
        "subject_id", pl.col("end_recognised_date").alias("_last_date"), pl.col("end_reason").alias("_ended_reason")
    )
    # choice J: a later PROGRESSION status of the same progression event (e.g. the sample
    # that confirms it, dated later, with the event date of the first) is still "the"
    # PROGRESSION that ended the episode (remission_model.md §9: RECURRENCE after COMPLETE)
    ended_by_event = (
        ep.filter(pl.col("end_reason").is_in([RECURRENCE, PROGRESSION_END]) & pl.col("end_date").is_not_null())
        .sort("subject_id", "episode")
        .unique(subset=["subject_id", "end_date"], keep="last", maintain_order=True)
        .select("subject_id", pl.col("end_date").alias("_last_eff"), pl.col("end_reason").alias("_event_reason"))
    )

    # -- milestone (§8, choice J): the relevant complete sub-period ---------------------
    periods = (
        ep.filter(pl.col("last_complete_start_date").is_not_null())
        .sort("subject_id", "episode")
        .group_by("subject_id")
        .agg(pl.all().last())
        .select(
            "subject_id",
            pl.col("last_complete_start_date").alias("_ps"),
            pl.col("last_complete_stop_date").alias("_pstop"),
            (pl.col("end_reason") == CENSORED) & (pl.col("current_type") == C),
        )
        .rename({"end_reason": "_current"})
    )
    # latest status of the period: the latest COMPLETE status in [ps, pstop] (current: as_of)
    pst = (
        st.filter(pl.col("level") == C)
        .join(periods, on="subject_id")
        .filter((pl.col("date") >= pl.col("_ps")) & (pl.col("_current") | (pl.col("date") <= pl.col("_pstop"))))
    )
    p_last = pst.group_by("subject_id").agg(pl.col("date").max().alias("_plast"))
    # §8: treatments that started on or before the latest status (of the period when it ended)
    periods = (
        periods.join(p_last, on="subject_id", how="left")
        .join(last.select("subject_id", "_last_date"), on="subject_id", how="left")
        .with_columns(_L=pl.when(pl.col("_current")).then(pl.col("_last_date")).otherwise(pl.col("_plast")))
        .drop("_last_date")
    )
    klasses = {
        "end_of_all_treatment": ["blocking", "maintenance"],
        "end_of_active_treatment": ["blocking"],
        "complete_start": [],
    }[o.cure_clock_start]
    trt = (
        periods.select("subject_id", "_L")
        .join(tc.filter(pl.col("klass").is_in(klasses)), on="subject_id")
        .filter(pl.col("start_date") <= pl.col("_L"))
        .group_by("subject_id")
        .agg(pl.col("end_date").is_null().any().alias("_on_trt"), pl.col("end_date").max().alias("_trt_end"))
    )
    horizon = (
        pl.col("cancer_type")
        .replace_strict(o.cure_horizon_years_by_cancer, default=o.horizon_years, return_dtype=pl.Int64)
        .fill_null(o.horizon_years)
        if o.cure_horizon_years_by_cancer
        else pl.lit(o.horizon_years, dtype=pl.Int64)
    )
    periods = (
        periods.join(trt, on="subject_id", how="left")
        .join(subj.select("subject_id", "cancer_type", "last_contact_date"), on="subject_id", how="left")
        .with_columns(
            _on_trt=pl.col("_on_trt").fill_null(False),
            _clock=pl.max_horizontal("_trt_end", "_ps"),
            _h=horizon,
        )
        .with_columns(
            _mdate=pl.when(pl.col("_on_trt"))
            .then(pl.lit(None, dtype=pl.Date))
            .otherwise(pl.col("_clock").dt.offset_by(pl.format("{}y", pl.col("_h"))))
        )
    )
    if o.cure_requires_assessment_after_milestone:
        ev_m = (
            pst.join(periods.select("subject_id", "_mdate"), on="subject_id")
            .filter(pl.col("date") >= pl.col("_mdate"))
            .group_by("subject_id")
            .agg(pl.col("date").min().alias("milestone_evidence_date"))
        )
        periods = periods.join(ev_m, on="subject_id", how="left")
    else:
        lc = pl.min_horizontal(pl.col("last_contact_date"), pl.lit(as_of))
        periods = periods.with_columns(
            milestone_evidence_date=pl.when(
                (lc >= pl.col("_mdate")) & (pl.col("_current") | (pl.col("_pstop") >= pl.col("_mdate")))
            ).then(lc)
        )
    periods = periods.with_columns(
        milestone_status=pl.when(pl.col("_current") & pl.col("_on_trt"))
        .then(pl.lit("PENDING_ON_TREATMENT"))
        .when(pl.col("milestone_evidence_date").is_not_null())
        .then(pl.lit("ACHIEVED"))
        .when(pl.col("_current"))
        .then(pl.lit("PENDING"))
        .otherwise(pl.lit("NOT_ACHIEVED")),
        late_recurrence_after_milestone=~pl.col("_current") & pl.col("milestone_evidence_date").is_not_null(),
    ).select(
        "subject_id",
        pl.col("_mdate").alias("cure_milestone_date"),
        "milestone_status",
        "milestone_evidence_date",
        "late_recurrence_after_milestone",
    )

    # -- treatments at as_of -------------------------------------------------------------
    at = (
        tc.filter(pl.col("end_date").is_null() | (pl.col("end_date") >= as_of))
        .group_by("subject_id")
        .agg(
            (pl.col("klass") == "maintenance").any().alias("on_maintenance"),
            (pl.col("klass") == "blocking").any().alias("on_active_treatment"),
        )
    )

    df = (
        subj.select("subject_id", "death_date")
        .join(last, on="subject_id", how="left")
        .join(agg, on="subject_id", how="left")
        .join(open_ep, on="subject_id", how="left")
        .join(ended_by_last, on=["subject_id", "_last_date"], how="left")
        .join(ended_by_event, on=["subject_id", "_last_eff"], how="left")
        .with_columns(
            _ended_reason=pl.coalesce(
                "_ended_reason", pl.when(pl.col("_last_level") == PROG).then(pl.col("_event_reason"))
            )
        )
        .join(periods, on="subject_id", how="left")
        .join(at, on="subject_id", how="left")
    )
    deceased = pl.col("death_date").is_not_null()  # deaths after as_of were removed (choice A)
    has_open = pl.col("_open_start").is_not_null()
    achieved = pl.col("milestone_status") == "ACHIEVED"
    status = (
        pl.when(deceased)
        .then(pl.lit("deceased"))
        .when(pl.col("_last_date").is_null())
        .then(pl.lit("not_assessed"))
        .when(pl.col("_last_evaluable") == PEND)
        .then(pl.lit("progression_pending"))
        .when(has_open & ~pl.col("_open_qualified"))
        .then(pl.lit("responding"))
        .when(has_open & (pl.col("_open_type") == C) & achieved)
        .then(pl.lit("long_term_remission"))
        .when(has_open & (pl.col("_open_type") == C))
        .then(pl.lit("complete_remission"))
        .when(has_open)
        .then(pl.lit("partial_remission"))
        .when(pl.col("_last_level") == PROG)
        .then(pl.when(pl.col("_ended_reason") == RECURRENCE).then(pl.lit("recurrence")).otherwise(pl.lit("progression")))
        .otherwise(pl.lit("active_disease"))
    )
    df = df.with_columns(status=status).with_columns(
        status_date=pl.when(pl.col("status") == "deceased").then(pl.col("death_date")).otherwise(pl.col("_last_date")),
        ned_since=pl.when(pl.col("status").is_in(["complete_remission", "long_term_remission"])).then(pl.col("_ned")),
        milestone_status=pl.col("milestone_status").fill_null("NOT_APPLICABLE"),
        late_recurrence_after_milestone=pl.col("late_recurrence_after_milestone").fill_null(False),
        on_maintenance=pl.col("on_maintenance").fill_null(False) & ~deceased,
        on_active_treatment=pl.col("on_active_treatment").fill_null(False) & ~deceased,
        next_followup_due=next_followup_due_expr(
            pl.col("_last_date"),
            pl.col("_open_start"),
            pl.col("status").is_in(IN_REMISSION_STATES),
            pl.col("status") == "deceased",
            schedule,
        ),
        as_of=pl.lit(as_of, dtype=pl.Date),
    ).with_columns(
        long_term_remission=pl.col("milestone_status") == "ACHIEVED",
        **{
            c: pl.col(c).fill_null(0)
            for c in (
                "remission_count",
                "qualified_remission_count",
                "complete_remission_count",
                "time_in_remission_days",
                "time_in_complete_remission_days",
                "time_in_qualified_remission_days",
            )
        },
    )
    return df.select([pl.col(n).cast(t) for n, t in LIFECYCLE_SCHEMA.items()]).sort("subject_id")
