"""Best response of criteria whose best response is the best category reached
(criteria/README.md "Response categories and their ordering"): IMWG, iwCLL, ELN, PCWG3,
GCIG, Lugano, RANO.  RECIST 1.1, mRECIST and WHO use :mod:`remission.timeline.bor`
(recist11.md §5, with the SD minimum duration and Table 6 confirmation).

Window (as recist11.md §5.1, which the other criteria share in spirit): time points of
line 1 on or after the reference start, up to and including the first progression, and
before the cutoff (start of the next line) when given.

* ``bor``: the best category by the criterion's order; ties → the earliest date.
* confirmed: a time point counts when a later time point of the window, at least
  ``confirm_days`` later (remission_model.md §6.4 table: IMWG 1 = the next sample, iwCLL 56,
  PCWG3 21, GCIG/RANO 28, Lugano and ELN 0 = the time point itself), is at least as good
  (same or better rank).  Progression and NE time points never need confirmation.  The
  confirmed best response is the best confirmed category (MISSING when nothing).
Choice: criteria whose module already confirms inside the category (IMWG's confirmed status)
still pass through this rule with their unconfirmed time-point codes, so the two columns
mean the same thing for every criterion.
"""

from __future__ import annotations

import polars as pl


def best_by_order(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    order: tuple[str, ...],
    progression: tuple[str, ...],
    confirm_days: int,
    cutoff: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``timepoints``: ``subject_id, date, response``; ``reference``: ``subject_id,
    reference_start``.  Returns ``subject_id, best_response, best_response_date,
    best_response_rule, confirmed_best_response, confirmed_best_response_date,
    confirmed_best_response_rule`` for every subject of ``reference``."""
    rank = {code.upper(): i for i, code in enumerate(order)}
    prog = [p.upper() for p in progression]
    tp = (
        timepoints.join(reference, on="subject_id", how="inner")
        .with_columns(_code=pl.col("response").str.to_uppercase())
        .with_columns(_rank=pl.col("_code").replace_strict(rank, default=None, return_dtype=pl.Int64))
        .filter(pl.col("_rank").is_not_null() & (pl.col("date") >= pl.col("reference_start")))
    )
    if cutoff is not None:
        tp = tp.join(cutoff, on="subject_id", how="left").filter(
            pl.col("cutoff_date").is_null() | (pl.col("date") < pl.col("cutoff_date"))
        ).drop("cutoff_date")
    first_pd = tp.filter(pl.col("_code").is_in(prog)).group_by("subject_id").agg(_pd=pl.col("date").min())
    tp = (
        tp.join(first_pd, on="subject_id", how="left")
        .filter(pl.col("_pd").is_null() | (pl.col("date") <= pl.col("_pd")))
        .sort("subject_id", "date", "_rank")
    )
    # confirmation: a later time point >= confirm_days later with rank <= this rank
    later = tp.select("subject_id", pl.col("date").alias("_d2"), pl.col("_rank").alias("_r2"))
    needs = ~pl.col("_code").is_in(prog + ["NE"])
    if confirm_days == 0:
        conf = tp.with_columns(_confirmed=pl.lit(True), _by=pl.col("date"))
    else:
        pairs = (
            tp.select("subject_id", "date", "_rank")
            .join(later, on="subject_id")
            .filter(((pl.col("_d2") - pl.col("date")).dt.total_days() >= confirm_days) & (pl.col("_r2") <= pl.col("_rank")))
            .group_by("subject_id", "date", "_rank")
            .agg(_by=pl.col("_d2").min())
        )
        conf = tp.join(pairs, on=["subject_id", "date", "_rank"], how="left").with_columns(
            _confirmed=pl.col("_by").is_not_null() | ~needs
        )
    best = (
        conf.sort("subject_id", "_rank", "date")
        .group_by("subject_id", maintain_order=True)
        .first()
        .select(
            "subject_id",
            best_response=pl.col("response"),
            best_response_date=pl.col("date"),
            best_response_rule=pl.format("best category reached: {} on {}", pl.col("response"), pl.col("date")),
        )
    )
    cbest = (
        conf.filter(pl.col("_confirmed"))
        .sort("subject_id", "_rank", "date")
        .group_by("subject_id", maintain_order=True)
        .first()
        .select(
            "subject_id",
            confirmed_best_response=pl.col("response"),
            confirmed_best_response_date=pl.col("date"),
            confirmed_best_response_rule=pl.when(needs & (pl.col("_by") != pl.col("date")))
            .then(pl.format("{} on {} confirmed by an as-good result on {} (>= {} days)", pl.col("response"), pl.col("date"), pl.col("_by"), pl.lit(confirm_days)))
            .otherwise(pl.format("{} on {} (needs no confirmation)", pl.col("response"), pl.col("date"))),
        )
    )
    out = reference.select("subject_id").join(best, on="subject_id", how="left").join(cbest, on="subject_id", how="left")
    return out.with_columns(
        pl.col("best_response").fill_null("MISSING"),
        pl.col("confirmed_best_response").fill_null("MISSING"),
    )
