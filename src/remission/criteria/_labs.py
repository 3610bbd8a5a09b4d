"""Shared helpers for criteria decided from lab series and findings (IMWG 2016, PCWG3,
GCIG CA-125; read-only for the other blood criteria).

Everything is vectorised over all subjects: pivots, ``join_asof`` and window functions
over each subject's (or segment's) date-sorted series.

Conventions (criteria/README.md "Shared conventions"):

* Same-day duplicates of a lab test: the **worst** value is kept, which for the tumour
  burden quantities handled here (M-protein, FLC, plasma cells, PSA, CA-125) is the
  highest (choice: the spec says "keep the worst evaluable result").
* A segment (schema.SEGMENTS) covers the dates ``baseline_date < date <= end_date``;
  the row on ``baseline_date`` is the segment's baseline row.
* Per-parameter baseline: the last non-null value dated on or before the segment's
  ``baseline_date`` (criteria/README.md "Baseline": last evaluable assessment on or before
  the reference start).
* Nadir: the smallest value at baseline or at any **earlier** follow-up of the segment
  (the current row excluded).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import polars as pl

from remission import schema as S

SEG = ["subject_id", "line"]

TRUE_VALUES = ("true", "1", "yes", "y", "t")
FALSE_VALUES = ("false", "0", "no", "n", "f")


def wide_labs(labs: pl.DataFrame, tests: Sequence[str]) -> pl.DataFrame:
    """``subject_id, date`` and one Float64 column per test of ``tests`` (null when not
    measured that day); same-day duplicates keep the highest value."""
    base = labs.filter(pl.col("test").is_in(list(tests)))
    aggs = [pl.col("value").filter(pl.col("test") == t).max().alias(t) for t in tests]
    if base.height == 0:
        return pl.DataFrame(schema={"subject_id": pl.String, "date": pl.Date, **{t: pl.Float64 for t in tests}})
    return base.group_by("subject_id", "date").agg(aggs).sort("subject_id", "date")


def wide_findings(findings: pl.DataFrame, codes: Sequence[str]) -> pl.DataFrame:
    """``subject_id, date`` and one lower-cased String column per finding code (the last
    row of the day when a code is given twice; callers that need worst-of use
    :func:`finding_flag`)."""
    base = findings.filter(pl.col("finding").is_in(list(codes)))
    if base.height == 0:
        return pl.DataFrame(schema={"subject_id": pl.String, "date": pl.Date, **{c: pl.String for c in codes}})
    aggs = [
        pl.col("value").filter(pl.col("finding") == c).str.to_lowercase().str.strip_chars().last().alias(c)
        for c in codes
    ]
    return base.group_by("subject_id", "date", maintain_order=True).agg(aggs).sort("subject_id", "date")


def as_bool(expr: pl.Expr) -> pl.Expr:
    """``true``/``false`` spellings (spec/tables.md booleans) to Boolean; other text null."""
    low = expr.str.to_lowercase().str.strip_chars()
    return pl.when(low.is_in(TRUE_VALUES)).then(True).when(low.is_in(FALSE_VALUES)).then(False)


def as_float(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Float64, strict=False)


def union_dates(*frames: pl.DataFrame) -> pl.DataFrame:
    """Distinct ``subject_id, date`` of the given frames."""
    parts = [f.select("subject_id", "date") for f in frames if f is not None and f.height]
    if not parts:
        return pl.DataFrame(schema={"subject_id": pl.String, "date": pl.Date})
    return pl.concat(parts).unique().sort("subject_id", "date")


def assign_segments(rows: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Attach each dated row to its segment.

    Returns the rows of every segment with ``line, reference_start, baseline_date,
    end_date`` and ``role``: ``baseline`` (date = baseline_date), ``followup``
    (baseline_date < date <= end_date).  A date may appear twice (follow-up of one line,
    baseline of the next).  Rows outside every segment are returned with role ``other``
    and a null line (they are pre-treatment, before the first baseline)."""
    segs = segments.select("subject_id", "line", "reference_start", "baseline_date", "end_date")
    j = rows.join(segs, on="subject_id", how="inner")
    in_seg = (pl.col("date") > pl.col("baseline_date")) & (
        pl.col("end_date").is_null() | (pl.col("date") <= pl.col("end_date"))
    )
    is_base = pl.col("date") == pl.col("baseline_date")
    kept = j.filter(in_seg | is_base).with_columns(
        role=pl.when(is_base).then(pl.lit("baseline")).otherwise(pl.lit("followup"))
    )
    others = (
        rows.join(kept.select("subject_id", "date").unique(), on=["subject_id", "date"], how="anti")
        .join(segs.select("subject_id").unique(), on="subject_id", how="semi")
        .with_columns(
            line=pl.lit(None, dtype=pl.Int32),
            reference_start=pl.lit(None, dtype=pl.Date),
            baseline_date=pl.lit(None, dtype=pl.Date),
            end_date=pl.lit(None, dtype=pl.Date),
            role=pl.lit("other"),
        )
    )
    return pl.concat([kept, others.select(kept.columns)], how="vertical_relaxed").sort("subject_id", "date", "line")


def baseline_values(
    wide: pl.DataFrame, segments: pl.DataFrame, cols: Iterable[str], *, on: str = "baseline_date"
) -> pl.DataFrame:
    """``subject_id, line`` and ``base_<col>`` (+ ``base_<col>_date``): the last non-null
    value of each column dated on or before the segment's ``on`` date."""
    out = segments.select("subject_id", "line", on).sort(on)
    for c in cols:
        vals = (
            wide.filter(pl.col(c).is_not_null())
            .select("subject_id", pl.col("date").alias(f"base_{c}_date"), pl.col(c).alias(f"base_{c}"))
            .sort(f"base_{c}_date")
        )
        out = out.join_asof(
            vals, left_on=on, right_on=f"base_{c}_date", by="subject_id", strategy="backward",
            check_sortedness=False,
        )
    return out.drop(on).sort(SEG)


def earlier_min(col: str, over: Sequence[str] = SEG) -> pl.Expr:
    """Window: smallest non-null value of ``col`` at earlier rows of the group (rows sorted
    by date), null when none."""
    return pl.col(col).cum_min().forward_fill().shift(1).over(list(over))


def carried(col: str, over: Sequence[str] = ("subject_id",)) -> pl.Expr:
    """Window: the latest non-null value of ``col`` on or before this row (carry forward)."""
    return pl.col(col).forward_fill().over(list(over))


def pct(value: pl.Expr, ref: pl.Expr) -> pl.Expr:
    """``100 (value - ref)/ref``; null when ``ref`` is null or 0 (criteria/README.md)."""
    return pl.when(ref > 0).then(100.0 * (value - ref) / ref)


def fmt(e: pl.Expr, decimals: int = 2) -> pl.Expr:
    """Number for explanations: at most ``decimals`` decimals, trailing zeros dropped."""
    r = e.round(decimals)
    txt = r.cast(pl.String)
    return (
        pl.when(r.is_null())
        .then(pl.lit("missing"))
        .when(r == r.floor())
        .then(r.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(txt)
    )


def finish(frame: pl.DataFrame, criteria: str) -> pl.DataFrame:
    """Select and type the columns of schema.TIMEPOINTS (missing ones null)."""
    cols = []
    for c, t in S.TIMEPOINTS.items():
        if c == "criteria":
            cols.append(pl.lit(criteria, dtype=pl.String).alias(c))
        elif c in frame.columns:
            cols.append(pl.col(c).cast(t))
        else:
            cols.append(pl.lit(None, dtype=t).alias(c))
    out = frame.select(cols).with_columns(
        pl.col("is_progression_event").fill_null(False),
        pl.col("pending_progression").fill_null(False),
    )
    return out.sort("subject_id", "date", "line", nulls_last=True)


def rebase_segments(segments: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    """The segments with ``baseline_date`` moved to the last of ``dates`` on or before the
    segment's ``reference_start`` (e.g. the last *imaging* date, when the segments were
    built from lab and imaging dates together).  ``end_date`` = next line's new baseline."""
    d = dates.select("subject_id", pl.col("date").alias("_b")).unique().sort("_b")
    out = (
        segments.drop("baseline_date", "end_date")
        .sort("reference_start")
        .join_asof(d, left_on="reference_start", right_on="_b", by="subject_id", strategy="backward",
                   check_sortedness=False)
        .rename({"_b": "baseline_date"})
        .sort("subject_id", "line")
        .with_columns(end_date=pl.col("baseline_date").shift(-1).over("subject_id"))
    )
    return out.select(
        pl.col("subject_id").cast(pl.String),
        pl.col("line").cast(pl.Int32),
        pl.col("reference_start").cast(pl.Date),
        pl.col("baseline_date").cast(pl.Date),
        pl.col("end_date").cast(pl.Date),
    )


def worst_level(*levels: pl.Expr) -> pl.Expr:
    """Worst of canonical levels (remission_model.md §3: PROGRESSION > PROGRESSION_PENDING >
    STABLE > MINOR > PARTIAL > COMPLETE; NOT_EVALUABLE only when nothing else)."""
    rank = {lvl: i for i, lvl in enumerate(S.LEVEL_ORDER_WORST_FIRST)}
    rank[S.NOT_EVALUABLE] = len(rank)
    inv = {v: k for k, v in rank.items()}
    ranks = [lv.replace_strict(rank, default=None, return_dtype=pl.Int64) for lv in levels]
    return pl.min_horizontal(ranks).replace_strict(inv, default=None, return_dtype=pl.String)


__all__ = [
    "wide_labs",
    "wide_findings",
    "as_bool",
    "as_float",
    "union_dates",
    "assign_segments",
    "baseline_values",
    "earlier_min",
    "carried",
    "pct",
    "fmt",
    "finish",
    "rebase_segments",
    "worst_level",
]
