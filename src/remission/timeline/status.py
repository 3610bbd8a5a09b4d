"""Per-date patient status: combining tests (remission_model.md §5).

Input: a ``results`` frame, one row per criterion result or clinical evidence item::

    subject_id, date, level, progression_event_date, source, clinical_only,
    disease_evident, recurrence_sites

* ``level`` is a canonical level (schema.COMPLETE ... schema.NOT_EVALUABLE); it is
  ignored on clinical items (``clinical_only = True``), which only carry
  ``disease_evident``.
* ``source`` names the criterion (``recist1.1``, ``gcig``, ...) or the clinical item type
  (``physical_exam``, ``symptoms``, ``tumour_marker``; ``mrd`` for MRD results).

Output: :data:`remission.schema.STATUSES_TABLE` plus ``complete_denied_by``; one row per
subject and date that has a status.

Choices where §5 is not explicit (documented here once):

* Rule 1: the level-producing rows of a date are the criterion rows (``clinical_only``
  false) of the primary criterion when ``primary_criterion`` is set, otherwise of every
  criterion. ``source`` of the status = the sources holding the worst level, ``;``-joined.
  When several PROGRESSION rows fall on one date the earliest ``progression_event_date``
  wins (an event date later than the status date is clipped to the status date) and the
  ``recurrence_sites`` of all of them are merged.
* Rule 2: "the latest item of every other source" is the latest date on which that source
  has an item in ``[D - evidence_window_days, D]``; it shows disease when, on that date, a
  criterion row has a level other than COMPLETE and NOT_EVALUABLE (NOT_EVALUABLE is
  absence of information, not evidence of disease) or a clinical row has
  ``disease_evident``. "Other" = every source not among the rows that produced D's level.
  Items of source ``mrd`` are only looked at when ``mrd_required_for_complete``.
* Rule 6: a date without level-producing rows whose clinical items all have
  ``disease_evident = False`` carries forward the level of the latest earlier
  criterion-dated status that is not NOT_EVALUABLE, when that level is PARTIAL or COMPLETE
  (otherwise the date gets no status). Carried COMPLETE statuses go through rule 2 as
  well; once a carried status of a run (the clinical dates following one criterion date)
  is downgraded, the later carried statuses of that run stay PARTIAL ("never upgrade
  PARTIAL -> COMPLETE"). A date whose only items are clinical with disease evident gets no
  status (it never creates PROGRESSION, rule 3/6); it can still deny COMPLETE on later
  dates through rule 2.
"""

from __future__ import annotations

import polars as pl

from remission import schema
from remission.options import RemissionOptions

#: worst first (remission_model.md §3); NOT_EVALUABLE last so that it only wins alone.
_RANK = {lvl: i for i, lvl in enumerate(schema.LEVEL_ORDER_WORST_FIRST)}
_RANK[schema.NOT_EVALUABLE] = len(_RANK)
_LEVEL_BY_RANK = {i: lvl for lvl, i in _RANK.items()}

RESULTS_SCHEMA = {
    "subject_id": pl.String,
    "date": pl.Date,
    "level": pl.String,
    "progression_event_date": pl.Date,
    "source": pl.String,
    "clinical_only": pl.Boolean,
    "disease_evident": pl.Boolean,
    "recurrence_sites": pl.String,
}

STATUSES_OUT = {**schema.STATUSES_TABLE, "complete_denied_by": pl.String}


def _normalise(results: pl.DataFrame) -> pl.DataFrame:
    cols = []
    for name, dtype in RESULTS_SCHEMA.items():
        if name in results.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return results.select(cols).with_columns(
        pl.col("clinical_only").fill_null(False),
        pl.col("disease_evident").fill_null(False),
        pl.col("source").fill_null(""),
    )


def _normalise_sites(sites: pl.Expr) -> pl.Expr:
    """``;``-joined sites as sorted unique stripped non-empty tokens (null when none)."""
    out = (
        sites.str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != ""))
        .list.unique()
        .list.sort()
        .list.join(";")
    )
    return pl.when(out == "").then(None).otherwise(out)


def _rule1_groups(lp: pl.DataFrame) -> pl.DataFrame:
    """Rule 1 per (subject, date) group of level-producing rows (any number of rows)."""
    worst = lp.group_by("subject_id", "date").agg(pl.col("rank").min().alias("worst"))
    lp = lp.join(worst, on=["subject_id", "date"])
    return (
        lp.group_by("subject_id", "date")
        .agg(
            pl.col("worst").first(),
            pl.col("source").filter(pl.col("rank") == pl.col("worst")).unique().sort().str.join(";").alias("source"),
            pl.col("source").unique().alias("deciding"),
            pl.min_horizontal(pl.col("progression_event_date").fill_null(pl.col("date")), pl.col("date"))
            .filter(pl.col("level") == schema.PROGRESSION)
            .min()
            .alias("progression_event_date"),
            pl.col("recurrence_sites").filter(pl.col("level") == schema.PROGRESSION).drop_nulls().alias("sites"),
        )
        .with_columns(
            level=pl.col("worst").replace_strict(_LEVEL_BY_RANK, return_dtype=pl.String),
            recurrence_sites=_normalise_sites(pl.col("sites").list.join(";")),
            clinical_only=pl.lit(False),
            crit_date=pl.lit(True),
        )
        .drop("worst", "sites")
    )


def _rule1_single(lp: pl.DataFrame) -> pl.DataFrame:
    """:func:`_rule1_groups` when every (subject, date) has one row, row by row: the worst
    rank is the row's, its source the row's source (and the one deciding source), the
    progression event date and sites those of a PROGRESSION row.  The sites of a row are
    normalised once per distinct text (there are few) and mapped back."""
    prog = pl.col("level") == schema.PROGRESSION
    sites = lp.filter(prog).get_column("recurrence_sites").drop_nulls().unique()
    normal = pl.DataFrame({"sites": sites}).select(_normalise_sites(pl.col("sites"))).to_series()
    return lp.select(
        "subject_id",
        "date",
        "source",
        pl.concat_list(pl.col("source")).alias("deciding"),
        pl.when(prog)
        .then(pl.min_horizontal(pl.col("progression_event_date").fill_null(pl.col("date")), pl.col("date")))
        .alias("progression_event_date"),
        pl.col("rank").replace_strict(_LEVEL_BY_RANK, return_dtype=pl.String).alias("level"),
        pl.when(prog)
        .then(pl.col("recurrence_sites").replace_strict(sites, normal, default=None, return_dtype=pl.String))
        .alias("recurrence_sites"),
        pl.lit(False).alias("clinical_only"),
        pl.lit(True).alias("crit_date"),
    )


def combine_statuses(results: pl.DataFrame, options: RemissionOptions | None = None) -> pl.DataFrame:
    """One patient status per subject and date (remission_model.md §5 rules 1-6).

    Returns the columns of :data:`remission.schema.STATUSES_TABLE` plus
    ``complete_denied_by`` (``;``-joined sources that downgraded a COMPLETE, §5 rule 2),
    sorted by subject and date. See the module docstring for the choices made.
    """
    options = options or RemissionOptions()
    r = _normalise(results).with_columns(
        rank=pl.col("level").replace_strict(_RANK, default=None, return_dtype=pl.Int32)
    )
    primary = options.primary_criterion
    produces = ~pl.col("clinical_only") & pl.col("rank").is_not_null()
    if primary is not None:
        produces = produces & (pl.col("source") == primary)
    r = r.with_columns(produces=produces)

    # ---- rule 1: worst-of the level-producing rows of a date ----------------------------
    lp = r.filter(pl.col("produces"))
    # one row per subject and date (the usual case: a single criterion, no clinical items):
    # every group below would hold one row, so its aggregate is the row itself
    single = r.height == 0 or r.select(pl.struct("subject_id", "date").n_unique()).item() == r.height
    if single:
        crit = _rule1_single(lp)
    else:
        crit = _rule1_groups(lp)

    # ---- items used by rule 2, one row per subject, source, date ------------------------
    items = r
    if not options.mrd_required_for_complete:
        items = items.filter(pl.col("source") != "mrd")
    shows = (
        pl.when(pl.col("clinical_only"))
        .then(pl.col("disease_evident"))
        .otherwise(~pl.col("level").is_in([schema.COMPLETE, schema.NOT_EVALUABLE]).fill_null(False))
    )
    if single:  # (subject, source, date) is unique too: `any` of one row is the row
        items = items.select("subject_id", "source", "date", shows.alias("shows"))
    else:
        items = items.with_columns(shows=shows).group_by("subject_id", "source", "date").agg(pl.col("shows").any())

    item_sources = items.get_column("source").unique().to_list()

    def deny(cands: pl.DataFrame) -> pl.DataFrame:
        """Rule 2 for candidate COMPLETE rows (subject_id, date, deciding): adds ``denied_by``."""
        if cands.height == 0:
            return cands.with_columns(denied_by=pl.lit(None, dtype=pl.String))
        if len(item_sources) == 0 or (
            len(item_sources) == 1 and cands.select(pl.col("deciding").list.contains(item_sources[0]).all()).item()
        ):
            # every item is of a source that decided the candidate's level: none is "other"
            return cands.with_columns(denied_by=pl.lit(None, dtype=pl.String))
        w = options.evidence_window_days
        j = (
            cands.select("subject_id", "date", "deciding")
            .join(items.rename({"date": "item_date"}), on="subject_id")
            .filter(
                (pl.col("item_date") <= pl.col("date"))
                & ((pl.col("date") - pl.col("item_date")).dt.total_days() <= w)
                & ~pl.col("source").is_in(pl.col("deciding"))
            )
        )
        latest = (
            j.sort("item_date")
            .group_by("subject_id", "date", "source")
            .agg(pl.col("shows").last())
            .filter(pl.col("shows"))
            .group_by("subject_id", "date")
            .agg(pl.col("source").unique().sort().str.join(";").alias("denied_by"))
        )
        return cands.join(latest, on=["subject_id", "date"], how="left")

    crit = deny(crit.filter(pl.col("level") == schema.COMPLETE)).vstack(
        crit.filter(pl.col("level") != schema.COMPLETE).with_columns(denied_by=pl.lit(None, dtype=pl.String))
    ) if crit.height else crit.with_columns(denied_by=pl.lit(None, dtype=pl.String))
    crit = crit.with_columns(
        level=pl.when(pl.col("denied_by").is_not_null()).then(pl.lit(schema.PARTIAL)).otherwise(pl.col("level"))
    )

    # ---- rule 6: clinical-only dates carry the last remission level ----------------------
    out_cols = list(STATUSES_OUT)
    crit_out = crit.rename({"denied_by": "complete_denied_by"}).select(out_cols)
    if not options.clinical_followup_sustains:
        return crit_out.sort("subject_id", "date")

    clin = (
        r.filter(pl.col("clinical_only"))
        .join(crit.select("subject_id", "date"), on=["subject_id", "date"], how="anti")
        .group_by("subject_id", "date")
        .agg(
            pl.col("disease_evident").any().alias("disease"),
            pl.col("source").unique().sort().str.join(";").alias("source"),
            pl.col("source").unique().alias("deciding"),
        )
        .filter(~pl.col("disease"))
        .drop("disease")
    )
    if clin.height == 0:
        return crit_out.sort("subject_id", "date")
    base = (
        crit.filter(pl.col("level") != schema.NOT_EVALUABLE)
        .select("subject_id", pl.col("date").alias("base_date"), pl.col("level").alias("base_level"))
        .sort("subject_id", "base_date")
    )
    clin = (
        clin.sort("subject_id", "date")
        .join_asof(base, left_on="date", right_on="base_date", by="subject_id", strategy="backward",
                   allow_exact_matches=False, check_sortedness=False)
        .filter(pl.col("base_level").is_in([schema.PARTIAL, schema.COMPLETE]))
    )
    cands = clin.filter(pl.col("base_level") == schema.COMPLETE)
    denied = deny(cands).select("subject_id", "date", "denied_by")
    clin = (
        clin.join(denied, on=["subject_id", "date"], how="left")
        .sort("subject_id", "date")
        .with_columns(
            run_denied=pl.col("denied_by").is_not_null().cum_max().over("subject_id", "base_date"),
            denied_ff=pl.col("denied_by").forward_fill().over("subject_id", "base_date"),
        )
        .with_columns(
            level=pl.when((pl.col("base_level") == schema.PARTIAL) | pl.col("run_denied"))
            .then(pl.lit(schema.PARTIAL))
            .otherwise(pl.lit(schema.COMPLETE)),
            complete_denied_by=pl.col("denied_ff"),
            progression_event_date=pl.lit(None, dtype=pl.Date),
            recurrence_sites=pl.lit(None, dtype=pl.String),
            clinical_only=pl.lit(True),
        )
        .select(out_cols)
    )
    return pl.concat([crit_out, clin]).sort("subject_id", "date")
