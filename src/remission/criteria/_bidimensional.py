"""Shared pieces of the bidimensional imaging criteria (RANO 2.0, Lugano 2014).

Everything here is vectorised over all subjects (polars joins and window expressions):

* :func:`place_dates` puts assessment dates into the evaluation segments of
  ``docs/imaging_engine.md`` ("Input"): follow-ups (``cut < date <= end_date``), baseline
  rows and rows outside every segment, exactly as :mod:`._lesions` does for lesion dates,
  but for any set of dates (the bidimensional criteria also assess on finding dates: a
  PET-only date for Lugano, a clinical-deterioration date for RANO).
* :func:`product_expr`: the per-lesion perpendicular diameters and product (``LDi × SDi``,
  rano.md §3, lugano2014.md §3).
* :func:`target_series`: every target of a segment (role ``target`` with a row on the
  segment's baseline date) at every follow-up date, with its product, its baseline product
  and its per-lesion nadir (smallest product at baseline or an earlier follow-up, with the
  diameters recorded at that nadir; lugano2014.md §3 "Per-lesion nadir").
* :func:`finding_on` / :func:`finding_asof`: a finding's value on a date, or its latest
  value on or before it.

Choices (documented once, repeated in the criteria's docstrings):

* a target row with ``diameter_mm`` and ``perpendicular_mm`` gives their product; a
  diameter of 0 (either) or status ``absent`` without measurements gives 0 × 0; status
  ``too_small`` without measurements gives ``tstm_mm × tstm_mm`` (lugano2014.md §3 "5 mm ×
  5 mm"; the same default is used for RANO, whose spec is silent); anything else (one
  diameter only, ``present``/``not_evaluated``/``equivocal`` without measurements, no row
  at that date) is not measured (null).
* the per-lesion nadir excludes the current date and includes the baseline.
"""

from __future__ import annotations

import polars as pl

from remission.criteria._lesions import normalise_segments, place_dates
from remission.schema import LESIONS, SEGMENTS

SEG = ["subject_id", "line"]
KEY = ["subject_id", "line", "date"]
INF = float("inf")


def normalise_lesions(lesions: pl.DataFrame) -> pl.DataFrame:
    """LESIONS columns and dtypes, ``nodal`` null = false, one row per lesion and date."""
    missing = [c for c in LESIONS if c not in lesions.columns]
    df = lesions.with_columns([pl.lit(None, dtype=LESIONS[c]).alias(c) for c in missing])
    return (
        df.select([pl.col(c).cast(t) for c, t in LESIONS.items()])
        .with_columns(pl.col("nodal").fill_null(False))
        .unique(subset=["subject_id", "lesion_id", "date"], keep="first", maintain_order=True)
        .with_columns(first_date=pl.col("date").min().over("subject_id", "lesion_id"))
    )


def product_expr(d: pl.Expr, p: pl.Expr, status: pl.Expr, tstm_mm: float) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``(ldi, sdi, product)`` of one lesion row (module docstring, first choice)."""
    zero = (d == 0).fill_null(False) | (p == 0).fill_null(False) | (d.is_null() & p.is_null() & (status == "absent").fill_null(False))
    small = d.is_null() & p.is_null() & (status == "too_small").fill_null(False)
    both = d.is_not_null() & p.is_not_null()
    ldi = pl.when(zero).then(0.0).when(small).then(tstm_mm).when(both).then(pl.max_horizontal(d, p))
    sdi = pl.when(zero).then(0.0).when(small).then(tstm_mm).when(both).then(pl.min_horizontal(d, p))
    prod = pl.when(zero).then(0.0).when(small).then(tstm_mm * tstm_mm).when(both).then(d * p)
    return ldi.cast(pl.Float64), sdi.cast(pl.Float64), prod.cast(pl.Float64)


def targets_of(lesions: pl.DataFrame, segments: pl.DataFrame, tstm_mm: float) -> pl.DataFrame:
    """Targets of every segment: role ``target`` with a row on its baseline date, with
    ``organ``, ``nodal``, ``base_ldi``, ``base_sdi``, ``base_prod`` (null: not measured)."""
    seg = normalise_segments(segments).filter(pl.col("baseline_date").is_not_null())
    les = normalise_lesions(lesions)
    ldi, sdi, prod = product_expr(pl.col("diameter_mm"), pl.col("perpendicular_mm"), pl.col("status"), tstm_mm)
    return (
        les.filter(pl.col("role") == "target")
        .join(seg.select(*SEG, "baseline_date"), left_on=["subject_id", "date"], right_on=["subject_id", "baseline_date"])
        .select(*SEG, "lesion_id", "organ", "nodal", base_ldi=ldi, base_sdi=sdi, base_prod=prod)
    )


def target_series(lesions: pl.DataFrame, followups: pl.DataFrame, targets: pl.DataFrame, tstm_mm: float) -> pl.DataFrame:
    """Every target at every follow-up of its segment (``KEY``, ``lesion_id``, ``organ``,
    ``nodal``, ``has_row``, ``status``, ``ldi``, ``sdi``, ``prod``, ``base_prod``, and the
    per-lesion nadir ``nadir_prod``/``nadir_ldi``/``nadir_sdi``: the smallest product at
    baseline or an earlier follow-up where it was measured, with the diameters of that
    time point; ties keep the latest)."""
    les = normalise_lesions(lesions)
    ldi, sdi, prod = product_expr(pl.col("diameter_mm"), pl.col("perpendicular_mm"), pl.col("status"), tstm_mm)
    rows = les.select("subject_id", "lesion_id", "date", "status", has_row=pl.lit(True), ldi=ldi, sdi=sdi, prod=prod)
    obs = (
        followups.select(*KEY)
        .join(targets, on=SEG, how="inner")
        .join(rows, on=["subject_id", "lesion_id", "date"], how="left")
        .with_columns(pl.col("has_row").fill_null(False))
    )
    base = targets.select(
        *SEG, "lesion_id", date=pl.lit(None, dtype=pl.Date), prod=pl.col("base_prod"), ldi=pl.col("base_ldi"),
        sdi=pl.col("base_sdi"), is_base=pl.lit(True),
    )
    grp = [*SEG, "lesion_id"]
    allv = pl.concat(
        [base, obs.select(*grp, "date", "prod", "ldi", "sdi", is_base=pl.lit(False))], how="vertical"
    ).sort([*grp, "is_base", "date"], descending=[False, False, False, True, False], nulls_last=False)
    # running minimum of the product before each row, with the diameters of that minimum
    # (a struct min would compare field by field, so carry the index of the minimum instead)
    allv = allv.with_columns(_i=pl.int_range(pl.len()).over(grp)).with_columns(
        _key=pl.when(pl.col("prod").is_not_null()).then(pl.col("prod") * 1e6 - pl.col("_i")).otherwise(INF)
    )
    allv = allv.with_columns(_prev=pl.col("_key").cum_min().shift(1, fill_value=INF).over(grp))
    look = allv.select(*grp, pl.col("_key").alias("_prev"), nadir_prod=pl.col("prod"), nadir_ldi=pl.col("ldi"), nadir_sdi=pl.col("sdi")).filter(
        pl.col("_prev").is_finite()
    )
    nad = allv.filter(~pl.col("is_base")).select(*grp, "date", "_prev").join(look, on=[*grp, "_prev"], how="left").drop("_prev")
    return obs.join(nad, on=[*grp, "date"], how="left")


def finding_on(findings: pl.DataFrame, code: str, frame: pl.DataFrame, name: str, *, agg: str = "last") -> pl.DataFrame:
    """Add column ``name``: the value of finding ``code`` on the row's date (several values
    on one date: ``agg`` = ``last`` (row order), ``max`` (numeric), or ``any`` list)."""
    f = findings.filter(pl.col("finding") == code).select("subject_id", "date", "value")
    if agg == "max":
        f = f.group_by("subject_id", "date").agg(pl.col("value").cast(pl.Float64, strict=False).max().alias(name))
    else:
        f = f.group_by("subject_id", "date", maintain_order=True).agg(pl.col("value").str.to_lowercase().last().alias(name))
    return frame.join(f, on=["subject_id", "date"], how="left")


def finding_asof(findings: pl.DataFrame, code: str, frame: pl.DataFrame, name: str, *, on: str = "date", numeric: bool = False) -> pl.DataFrame:
    """Add column ``name``: the latest value of finding ``code`` dated on or before the
    row's ``on`` column (same-day duplicates: the last row), and ``name + '_date'``."""
    val = pl.col("value").cast(pl.Float64, strict=False) if numeric else pl.col("value").str.to_lowercase()
    f = (
        findings.filter(pl.col("finding") == code)
        .group_by("subject_id", "date", maintain_order=True)
        .agg(val.last().alias(name))
        .with_columns(pl.col("date").alias(name + "_date"))
        .rename({"date": "_fdate"})
        .sort("_fdate")
    )
    out = frame.with_row_index("_r").sort(on)
    if out.height == 0 or f.height == 0:
        return frame.with_columns(
            pl.lit(None, dtype=pl.Float64 if numeric else pl.String).alias(name), pl.lit(None, dtype=pl.Date).alias(name + "_date")
        )
    out = out.join_asof(f, left_on=on, right_on="_fdate", by="subject_id", strategy="backward", check_sortedness=False)
    return out.sort("_r").drop("_r", "_fdate")


def pct(value: pl.Expr, ref: pl.Expr) -> pl.Expr:
    """``100 (value - ref)/ref``; ref 0: +inf when value > 0, 0 when value = 0."""
    return (
        pl.when(ref > 0)
        .then(100.0 * (value - ref) / ref)
        .when(ref == 0)
        .then(pl.when(value > 0).then(pl.lit(INF)).when(value == 0).then(pl.lit(0.0)))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def fmt(x: float | None, digits: int = 1) -> str:
    """Number for explanation text: rounded, whole values without ``.0``."""
    if x is None:
        return "?"
    if x == INF:
        return "inf"
    r = round(float(x), digits)
    return str(int(r)) if r == int(r) else str(r)


def sfmt(x: float | None) -> str:
    """``fmt`` with an explicit sign."""
    if x is None:
        return "?"
    return ("+" if x >= 0 else "") + fmt(x)


__all__ = [
    "SEG",
    "KEY",
    "normalise_lesions",
    "normalise_segments",
    "place_dates",
    "product_expr",
    "targets_of",
    "target_series",
    "finding_on",
    "finding_asof",
    "pct",
    "fmt",
    "sfmt",
]
