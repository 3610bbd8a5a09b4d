"""Time-to-event endpoints of the summary table: progression-free survival and duration of
response (recist11.md §5.5; remission_model.md §7 for the day count).

* PFS: from the subject's reference start (line 1) to the first progression of any kind
  (its event date, back-dated where the criterion back-dates it) or death, whichever comes
  first; without either, censored at the last adequate assessment (the last time point whose
  response is not NE, recist11.md §5.5), or at the reference start when there is none.
* Duration of response: from the first date CR or PR criteria were met (line 1, before the
  first progression) to the first progression or death after it; censored likewise.
* Days are ``end − start`` (spec/tables.md: tidy outputs count exclusively); with
  ``add_one_day`` the ADaM convention ``end − start + 1``.
"""

from __future__ import annotations

import polars as pl

from remission import schema as S


def pfs_and_dor(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    subjects: pl.DataFrame,
    *,
    add_one_day: bool = False,
) -> pl.DataFrame:
    """``timepoints``: ``subject_id, date, line, canonical_level, is_progression_event,
    progression_event_date`` (evaluated time points only); ``reference``: ``subject_id,
    reference_start``; ``subjects``: ``subject_id, death_date``.

    Returns ``subject_id, first_response_date, pfs_days, pfs_event, pfs_end_date, dor_days,
    dor_event, dor_end_date``.
    """
    plus = 1 if add_one_day else 0
    tp = timepoints.join(reference, on="subject_id", how="inner").filter(
        pl.col("date") >= pl.col("reference_start")
    )
    first_pd = (
        tp.filter(pl.col("is_progression_event").fill_null(False))
        .group_by("subject_id")
        .agg(first_pd=pl.coalesce("progression_event_date", "date").min())
    )
    # first response: CR or PR time point of line 1 before the first progression
    first_resp = (
        tp.join(first_pd, on="subject_id", how="left")
        .filter(
            (pl.col("line") == 1)
            & pl.col("canonical_level").is_in([S.COMPLETE, S.PARTIAL])
            & (pl.col("first_pd").is_null() | (pl.col("date") < pl.col("first_pd")))
        )
        .group_by("subject_id")
        .agg(first_response_date=pl.col("date").min())
    )
    last_adequate = (
        tp.filter(pl.col("canonical_level").is_not_null() & (pl.col("canonical_level") != S.NOT_EVALUABLE))
        .group_by("subject_id")
        .agg(last_adequate=pl.col("date").max())
    )
    base = (
        reference.join(subjects.select("subject_id", "death_date"), on="subject_id", how="left")
        .join(first_pd, on="subject_id", how="left")
        .join(first_resp, on="subject_id", how="left")
        .join(last_adequate, on="subject_id", how="left")
        .with_columns(
            _death=pl.when(pl.col("death_date") >= pl.col("reference_start")).then(pl.col("death_date"))
        )
        .with_columns(_event=pl.min_horizontal("first_pd", "_death"))
    )
    out = base.with_columns(
        pfs_event=pl.col("_event").is_not_null(),
        pfs_end_date=pl.coalesce("_event", "last_adequate", "reference_start"),
    ).with_columns(
        pfs_days=((pl.col("pfs_end_date") - pl.col("reference_start")).dt.total_days() + plus).cast(pl.Int64)
    )
    # DoR: events after the first response (the first progression is after it by construction)
    out = out.with_columns(
        dor_event=pl.when(pl.col("first_response_date").is_not_null()).then(pl.col("_event").is_not_null()),
        dor_end_date=pl.when(pl.col("first_response_date").is_not_null()).then(
            pl.coalesce("_event", "last_adequate", "first_response_date")
        ),
    ).with_columns(
        dor_days=((pl.col("dor_end_date") - pl.col("first_response_date")).dt.total_days() + plus).cast(pl.Int64)
    )
    return out.select(
        "subject_id",
        "first_response_date",
        "pfs_days",
        "pfs_event",
        "pfs_end_date",
        "dor_days",
        "dor_event",
        "dor_end_date",
    )
