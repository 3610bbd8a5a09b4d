"""Lines of therapy and evaluation segments.

spec/tables.md (treatments.line) and remission_model.md §6.2.4: the criterion module is
evaluated per line of therapy.  A line's baseline is the last assessment on or before the
line's start, and its nadir starts from that baseline, so a response to a later line can
open a new remission episode.

* With a ``line`` column: line *k* starts at the earliest start of an active (blocking)
  treatment recorded with line *k*.  Treatments with an empty line in such a subject do not
  open lines (choice: explicit lines win; mixing is the user's statement that the unlabelled
  ones belong to the line in force).
* Without it: every treatment starting before the first progression is line 1; the first
  active treatment starting on or after a progression (same day counts: salvage started the
  day the progression is seen) opens the next line.  Because progression is found by the
  criterion, segments are derived iteratively: evaluate, find the first progression of the
  last segment, open the next line, evaluate again (see :func:`iterate_segments`).
* Line 1's reference start is the start of the first active treatment; with no active
  treatment, the first assessment (spec/tables.md summary: "The reference start for a
  subject is the start of its first active treatment, or its first assessment when no
  treatment is recorded").  Maintenance/continuous treatments are not active here
  (remission_model.md §2); supportive treatments are ignored.

A segment covers the assessments with ``baseline_date < date <= end_date``; ``end_date`` is
the next line's baseline date (that scan is the last follow-up of the old line and the
baseline of the new one).
"""

from __future__ import annotations

from typing import Callable

import polars as pl

from remission import schema as S


def active_treatments(treatments: pl.DataFrame, non_blocking_intents: frozenset[str]) -> pl.DataFrame:
    """Active (blocking) treatments: ``subject_id, start_date, end_date, line``.

    remission_model.md §2: every anticancer intent except the non-blocking ones
    (maintenance, continuous) and supportive.  Without an intent: modality ``maintenance``
    means maintenance and ``supportive`` means supportive (spec/tables.md treatments.intent).
    """
    intent = (
        pl.when(pl.col("intent").is_not_null())
        .then(pl.col("intent"))
        .when(pl.col("modality") == "maintenance")
        .then(pl.lit("maintenance"))
        .when(pl.col("modality") == "supportive")
        .then(pl.lit("supportive"))
        .otherwise(pl.lit("active"))
    )
    blocked = sorted(set(non_blocking_intents) | set(S.IGNORED_INTENTS))
    return (
        treatments.with_columns(_intent=intent)
        .filter(~pl.col("_intent").is_in(blocked))
        .select("subject_id", "start_date", "end_date", "line")
        .sort("subject_id", "start_date")
    )


def _sorted_dates(assessment_dates: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, baseline_date`` sorted by date: the right side of :func:`_baseline_of`.

    Duplicate rows are kept: an as-of join returns the matched date itself, the same for
    any copy of it, so de-duplicating would only cost time.  Built once per
    :func:`iterate_segments`.
    """
    return assessment_dates.select("subject_id", pl.col("date").alias("baseline_date")).sort("baseline_date")


def _baseline_of(starts: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """Join to every (subject_id, reference_start) the last assessment date on or before it
    (``dates``: the output of :func:`_sorted_dates`)."""
    if starts.height == 0:
        return starts.with_columns(baseline_date=pl.lit(None, dtype=pl.Date))
    return starts.sort("reference_start").join_asof(
        dates,
        left_on="reference_start",
        right_on="baseline_date",
        by="subject_id",
        strategy="backward",
        check_sortedness=False,  # sorted by the key; polars cannot verify it with `by`
    )


def _close_segments(segs: pl.DataFrame) -> pl.DataFrame:
    """end_date of each line = the next line's baseline date; typed and ordered.

    On the frame sorted by subject and line, the next row's baseline when it is the same
    subject's (a shift and a comparison instead of a window over the subject key)."""
    sid = pl.col("subject_id")
    return (
        segs.sort("subject_id", "line")
        .with_columns(
            end_date=pl.when(sid.shift(-1) == sid).then(pl.col("baseline_date").shift(-1))
        )
        .select(
            pl.col("subject_id").cast(pl.String),
            pl.col("line").cast(pl.Int32),
            pl.col("reference_start").cast(pl.Date),
            pl.col("baseline_date").cast(pl.Date),
            pl.col("end_date").cast(pl.Date),
        )
    )


def initial_segments(
    assessment_dates: pl.DataFrame, active: pl.DataFrame, *, sorted_dates: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Segments known before any evaluation.

    ``assessment_dates``: ``subject_id, date`` (one subject may have many dates).
    Subjects with explicit ``line`` values get all their lines; the others get line 1 only.
    ``sorted_dates``: :func:`_sorted_dates` of them when already built.
    """
    first_assessment = assessment_dates.group_by("subject_id").agg(_first=pl.col("date").min())
    subjects = first_assessment.select("subject_id")
    explicit_subjects = active.filter(pl.col("line").is_not_null()).select("subject_id").unique()
    explicit = (
        active.filter(pl.col("line").is_not_null())
        .group_by("subject_id", "line")
        .agg(reference_start=pl.col("start_date").min())
    )
    first_active = (
        active.join(explicit_subjects, on="subject_id", how="anti")
        .group_by("subject_id")
        .agg(reference_start=pl.col("start_date").min())
        .with_columns(line=pl.lit(1, dtype=pl.Int32))
    )
    implicit = (
        subjects.join(explicit_subjects, on="subject_id", how="anti")
        .join(first_active, on="subject_id", how="left")
        .join(first_assessment, on="subject_id", how="left")
        .with_columns(
            line=pl.lit(1, dtype=pl.Int32),
            reference_start=pl.coalesce("reference_start", "_first"),
        )
        .select("subject_id", "line", "reference_start")
    )
    starts = pl.concat(
        [explicit.select("subject_id", pl.col("line").cast(pl.Int32), "reference_start"), implicit],
        how="vertical",
    ).join(subjects, on="subject_id", how="semi")
    if sorted_dates is None:
        sorted_dates = _sorted_dates(assessment_dates)
    return _close_segments(_baseline_of(starts, sorted_dates))


def next_segments(
    segments: pl.DataFrame,
    timepoints: pl.DataFrame,
    assessment_dates: pl.DataFrame,
    active: pl.DataFrame,
    *,
    sorted_dates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Open the next line where the last segment of a subject (without explicit lines)
    contains a progression and an active treatment starts on or after it.

    Returns the new full segment table (unchanged subjects included).
    ``sorted_dates``: :func:`_sorted_dates` of ``assessment_dates`` when already built.
    """
    explicit_subjects = active.filter(pl.col("line").is_not_null()).select("subject_id").unique()
    last = (
        segments.join(explicit_subjects, on="subject_id", how="anti")
        .sort("subject_id", "line")
        .group_by("subject_id")
        .agg(pl.all().last())
    )
    first_pd = (
        timepoints.filter(pl.col("is_progression_event").fill_null(False))
        .join(last.select("subject_id", "line"), on=["subject_id", "line"], how="semi")
        .group_by("subject_id")
        .agg(pd_date=pl.col("date").min())
    )
    new_starts = (
        active.select("subject_id", "start_date")
        .join(first_pd, on="subject_id", how="inner")
        .join(last.select("subject_id", "line", "reference_start"), on="subject_id")
        .filter((pl.col("start_date") >= pl.col("pd_date")) & (pl.col("start_date") > pl.col("reference_start")))
        .group_by("subject_id", "line")
        .agg(reference_start=pl.col("start_date").min())
        .with_columns(line=(pl.col("line") + 1).cast(pl.Int32))
    )
    if new_starts.height == 0:
        return segments
    added = _baseline_of(new_starts, _sorted_dates(assessment_dates) if sorted_dates is None else sorted_dates)
    return _close_segments(
        pl.concat([segments.select("subject_id", "line", "reference_start", "baseline_date"), added.select(segments.columns[:4])])
    )


def iterate_segments(
    assessment_dates: pl.DataFrame,
    active: pl.DataFrame,
    evaluate: Callable[[pl.DataFrame], pl.DataFrame],
    max_lines: int = 50,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Evaluate, open lines after progressions, re-evaluate the subjects that changed.

    ``evaluate(segments) -> timepoints`` must return at least ``subject_id, date, line,
    is_progression_event``.  Returns ``(segments, timepoints)``.
    """
    sorted_dates = _sorted_dates(assessment_dates)
    segments = initial_segments(assessment_dates, active, sorted_dates=sorted_dates)
    timepoints = evaluate(segments)
    for _ in range(max_lines):
        new = next_segments(segments, timepoints, assessment_dates, active, sorted_dates=sorted_dates)
        changed = (
            new.join(segments, on=list(S.SEGMENTS), how="anti", nulls_equal=True)
            .select("subject_id")
            .unique()
        )
        if changed.height == 0:
            break
        segments = new
        redo = evaluate(segments.join(changed, on="subject_id", how="semi"))
        kept = timepoints.filter(~pl.col("subject_id").is_in(changed.get_column("subject_id").implode()))
        timepoints = _merge_by_subject_date(kept, redo)
    return segments, timepoints


def _sorted_by_subject_date(frame: pl.DataFrame) -> bool:
    """Whether ``frame`` is strictly sorted by (subject_id, date) (no ties, no nulls: then
    any sort by these keys gives this order)."""
    if frame.height < 2:
        return frame.get_column("subject_id").null_count() == 0
    sid, date = pl.col("subject_id"), pl.col("date")
    ok = (sid > sid.shift(1)) | ((sid == sid.shift(1)) & (date > date.shift(1)).fill_null(False))
    return bool(
        frame.select((sid.is_not_null().all()) & (ok | (pl.int_range(pl.len()) == 0)).fill_null(False).all()).item()
    )


def _merge_by_subject_date(kept: pl.DataFrame, redo: pl.DataFrame) -> pl.DataFrame:
    """``concat([kept, redo]).sort("subject_id", "date")`` for two frames without a subject
    in common: when both are already sorted (the pipeline's evaluate sorts its output), a
    linear merge on subject_id gives the same rows in the same order (each subject's rows
    come from one frame, in its date order), without sorting the whole table again."""
    if (
        kept.height == 0
        or redo.height == 0
        or kept.schema != redo.schema
        or not (_sorted_by_subject_date(kept) and _sorted_by_subject_date(redo))
    ):
        return pl.concat([kept, redo], how="vertical_relaxed").sort("subject_id", "date")
    return kept.merge_sorted(redo, key="subject_id")


def assign_lines(frame: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Add ``line`` to dated rows (``subject_id, date``): the segment whose
    ``(baseline_date, end_date]`` holds the date; line 1 for dates on or before the first
    baseline (they are pre-treatment)."""
    segs = segments.select(
        "subject_id", "line", pl.coalesce("baseline_date", "reference_start").alias("_from")
    ).sort("_from")
    out = (
        frame.with_row_index("_i")
        .sort("date")
        .join_asof(segs, left_on="date", right_on="_from", by="subject_id", strategy="backward",
                   allow_exact_matches=False, check_sortedness=False)
        .with_columns(line=pl.col("line").fill_null(1).cast(pl.Int32))
        .sort("_i")
        .drop("_i", "_from")
    )
    return out
