"""Lesion sets and evaluation segments shared by the imaging engines (RECIST 1.1, WHO).

Implements the parts of ``docs/imaging_engine.md`` that do not depend on the criterion:
which assessment dates a segment evaluates, which lesions are targets, non-targets and new
lesions of a segment, and the per-lesion observations at every evaluated date.  Everything
is computed for all subjects at once with polars joins and window expressions.

Choices where the note is silent (documented here, repeated in the engines' docstrings):

* Segments should not overlap; if they do, a date is given to the segment with the most
  recent baseline (the latest ``cut``).
* A date outside every segment but after the first one's start (a gap between segments)
  gets the explanation "outside evaluation segments" instead of "before baseline".
* A segment with a null ``baseline_date`` evaluates ``date >= reference_start``; its
  "cut" (the date before which a lesion counts as pre-existing) is ``reference_start - 1
  day``.
* Non-targets evaluated at every date (rule N2 when missing) are the lesions with a row on
  ``baseline_date`` (role ``non_target``, or role ``new`` when the line is > 1: the new
  line's baseline re-catalogues them).  Other non-target rows (role ``non_target`` first
  seen after baseline, role ``new`` first seen on or before the cut of a line > 1 without a
  baseline row, every non-target row of a segment with no baseline) count only at the
  dates they are recorded.
* Organ and nodal flag of a target or fixed non-target are those of its baseline row.
* New-lesion classification (recist11.md §4.6, note "New lesions"): a nodal new lesion with
  ``diameter_mm < 10`` is not a lesion whatever its status; ``too_small`` and a missing
  status count as ``present``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from remission.schema import LESIONS, SEGMENTS

NOT_EVALUATED = "not_evaluated"  # our extension of the status vocabulary (note, choice 1)

SEG = ["subject_id", "line"]
KEY = ["subject_id", "line", "date"]
#: organs that are effusions: a new effusion is PD only when the reader marks it
#: ``progression`` (malignant cytology, recist11.md §4.3 and §6.12); ``present`` is equivocal
EFFUSION_ORGANS = ("pleural_effusion", "pericardial_effusion", "ascites", "effusion")
INF = float("inf")


@dataclass(frozen=True)
class Prepared:
    """Frames shared by the engines.

    * ``followups``: one row per (subject_id, date) evaluated by a segment, with the
      segment columns and ``cut``.
    * ``baseline_rows``: dates that are a segment's baseline and no segment's follow-up.
    * ``other_rows``: remaining lesion dates, with ``explanation``.
    * ``targets``: (subject_id, line, lesion_id, organ, nodal, base_d, base_p, base_status).
    * ``target_obs``: followups x targets, with the lesion's row at the date
      (``d``, ``p``, ``status``, ``has_row``).
    * ``nt_obs``: non-target observations at follow-ups (``fixed`` = evaluated at every date).
    * ``nt_fixed_count``: number of fixed non-targets per segment.
    * ``new_obs``: new-lesion rows at follow-ups with ``kind`` (unequivocal / equivocal /
      none) and ``first_equivocal``.
    * ``b0``: segments without a baseline whose dates carry target rows (rule B0).
    """

    segments: pl.DataFrame
    followups: pl.DataFrame
    baseline_rows: pl.DataFrame
    other_rows: pl.DataFrame
    targets: pl.DataFrame
    target_obs: pl.DataFrame
    nt_obs: pl.DataFrame
    nt_fixed_count: pl.DataFrame
    new_obs: pl.DataFrame
    b0: pl.DataFrame


def _normalise_lesions(lesions: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in LESIONS if c not in lesions.columns]
    df = lesions.with_columns([pl.lit(None, dtype=LESIONS[c]).alias(c) for c in missing])
    df = df.select([pl.col(c).cast(t) for c, t in LESIONS.items()])
    return (
        df.with_columns(pl.col("nodal").fill_null(False))
        .unique(subset=["subject_id", "lesion_id", "date"], keep="first", maintain_order=True)
        .with_columns(first_date=pl.col("date").min().over("subject_id", "lesion_id"))
    )


def normalise_segments(segments: pl.DataFrame) -> pl.DataFrame:
    """SEGMENTS dtypes plus ``cut``: the date on or before which disease is pre-existing."""
    seg = segments.select([pl.col(c).cast(t) for c, t in SEGMENTS.items()])
    return seg.with_columns(
        cut=pl.coalesce(pl.col("baseline_date"), pl.col("reference_start") - pl.duration(days=1))
    )


def place_dates(dates: pl.DataFrame, segments: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(followups, baseline_rows, other_rows)`` of ``dates`` (``subject_id, date``).

    ``followups``: one row per evaluated (subject_id, date) with the segment columns and
    ``cut`` (a date in two segments goes to the one with the latest cut);
    ``baseline_rows``: dates that are a segment's baseline and no follow-up;
    ``other_rows``: the rest, with an ``explanation`` ("before baseline" / "outside
    evaluation segments").
    """
    seg = normalise_segments(segments)
    dates = dates.select("subject_id", pl.col("date").cast(pl.Date)).unique().join(
        seg.select("subject_id").unique(), on="subject_id", how="semi"
    )
    followups = (
        dates.join(seg, on="subject_id", how="inner")
        .filter((pl.col("date") > pl.col("cut")) & (pl.col("end_date").is_null() | (pl.col("date") <= pl.col("end_date"))))
        .sort(["subject_id", "date", "cut"], descending=[False, False, True])
        .unique(subset=["subject_id", "date"], keep="first", maintain_order=True)
        .sort(KEY)
    )
    baseline_rows = (
        dates.join(
            seg.filter(pl.col("baseline_date").is_not_null()),
            left_on=["subject_id", "date"],
            right_on=["subject_id", "baseline_date"],
            how="inner",
            coalesce=False,
        )
        .join(followups.select("subject_id", "date"), on=["subject_id", "date"], how="anti")
        .unique(subset=["subject_id", "date"], keep="first")
        .select("subject_id", "date", "line", "reference_start", "baseline_date", "end_date", "cut")
    )
    first_cut = seg.group_by("subject_id").agg(first_cut=pl.col("cut").min())
    other_rows = (
        dates.join(followups.select("subject_id", "date"), on=["subject_id", "date"], how="anti")
        .join(baseline_rows.select("subject_id", "date"), on=["subject_id", "date"], how="anti")
        .join(first_cut, on="subject_id", how="left")
        .with_columns(
            explanation=pl.when(pl.col("date") <= pl.col("first_cut"))
            .then(pl.lit("before baseline"))
            .otherwise(pl.lit("outside evaluation segments"))
        )
        .select("subject_id", "date", "explanation")
    )
    return followups, baseline_rows, other_rows


def prepare(lesions: pl.DataFrame, segments: pl.DataFrame) -> Prepared:
    """Build the shared frames of ``docs/imaging_engine.md`` ("Input", "Lesion sets")."""
    les = _normalise_lesions(lesions)
    seg = normalise_segments(segments)
    subjects = seg.select("subject_id").unique()
    les = les.join(subjects, on="subject_id", how="semi")
    dates = les.select("subject_id", "date").unique()

    followups, baseline_rows, other_rows = place_dates(dates, seg)

    seg_b = seg.filter(pl.col("baseline_date").is_not_null())
    rows_at_baseline = les.join(
        seg_b.select("subject_id", "line", "baseline_date"),
        left_on=["subject_id", "date"],
        right_on=["subject_id", "baseline_date"],
        how="inner",
    )
    # Targets: role target with a row on baseline_date.
    targets = rows_at_baseline.filter(pl.col("role") == "target").select(
        "subject_id",
        "line",
        "lesion_id",
        "organ",
        "nodal",
        base_d=pl.col("diameter_mm"),
        base_p=pl.col("perpendicular_mm"),
        base_status=pl.col("status"),
    )
    row_cols = ["subject_id", "lesion_id", "date"]
    les_rows = les.select(
        *row_cols,
        d=pl.col("diameter_mm"),
        p=pl.col("perpendicular_mm"),
        status=pl.col("status"),
        has_row=pl.lit(True),
    )
    fu = followups.select(*KEY, "cut")
    target_obs = (
        fu.join(targets, on=SEG, how="inner")
        .join(les_rows, on=row_cols, how="left")
        .with_columns(pl.col("has_row").fill_null(False))
        .sort(["subject_id", "line", "lesion_id", "date"])
    )

    # Non-targets evaluated at every date: baseline non_target rows, plus role new for line > 1.
    fixed = rows_at_baseline.filter(
        (pl.col("role") == "non_target") | ((pl.col("role") == "new") & (pl.col("line") > 1))
    ).select("subject_id", "line", "lesion_id", "organ", "nodal")
    fixed_obs = (
        fu.join(fixed, on=SEG, how="inner")
        .join(les_rows, on=row_cols, how="left")
        .with_columns(pl.col("has_row").fill_null(False), fixed=pl.lit(True))
    )
    les_at_fu = les.join(fu, on=["subject_id", "date"], how="inner")
    floating_obs = (
        les_at_fu.filter(
            (pl.col("role") == "non_target")
            | (
                (pl.col("role") == "new")
                & (pl.col("line") > 1)
                & (pl.col("first_date") <= pl.col("cut"))
            )
        )
        .join(fixed.select(*SEG, "lesion_id"), on=[*SEG, "lesion_id"], how="anti")
        .join(targets.select(*SEG, "lesion_id"), on=[*SEG, "lesion_id"], how="anti")
        .select(
            *KEY,
            "cut",
            "lesion_id",
            "organ",
            "nodal",
            d=pl.col("diameter_mm"),
            p=pl.col("perpendicular_mm"),
            status=pl.col("status"),
            has_row=pl.lit(True),
            fixed=pl.lit(False),
        )
    )
    nt_obs = pl.concat([fixed_obs.select(floating_obs.columns), floating_obs], how="vertical")
    nt_fixed_count = fixed.group_by(SEG).agg(n_nt_fixed=pl.len())

    # New lesions: role new whose first row is after the cut (recist11.md §4.6).
    st = pl.col("status")
    small_node = pl.col("nodal") & pl.col("diameter_mm").is_not_null()
    presentish = st.is_null() | st.is_in(["present", "progression", "too_small"])
    new_obs = (
        les_at_fu.filter((pl.col("role") == "new") & (pl.col("first_date") > pl.col("cut")))
        .with_columns(
            kind=pl.when(small_node & (pl.col("diameter_mm") < 10))
            .then(pl.lit("none"))
            .when(presentish)
            .then(
                # a 10-15 mm node, or an effusion without the reader's unequivocal call
                # (recist11.md §4.3/§6.12: cytology must show malignancy), stays equivocal
                pl.when(
                    ((small_node & (pl.col("diameter_mm") < 15)) | pl.col("organ").is_in(list(EFFUSION_ORGANS)).fill_null(False))
                    & (st.fill_null("") != "progression")
                )
                .then(pl.lit("equivocal"))
                .otherwise(pl.lit("unequivocal"))
            )
            .when(st == "equivocal")
            .then(pl.lit("equivocal"))
            .otherwise(pl.lit("none"))
        )
        .with_columns(
            first_equivocal=pl.col("date")
            .filter(pl.col("kind") == "equivocal")
            .min()
            .over("subject_id", "line", "lesion_id")
        )
        .select(*KEY, "lesion_id", "organ", "nodal", "diameter_mm", "status", "kind", "first_equivocal")
    )

    # B0: no baseline scan, but target rows at the dates the segment evaluates.
    b0 = (
        les_at_fu.filter(pl.col("role") == "target")
        .join(seg.filter(pl.col("baseline_date").is_null()).select(SEG), on=SEG, how="semi")
        .select(SEG)
        .unique()
        .with_columns(b0=pl.lit(True))
    )
    return Prepared(
        segments=seg,
        followups=followups,
        baseline_rows=baseline_rows,
        other_rows=other_rows,
        targets=targets,
        target_obs=target_obs,
        nt_obs=nt_obs,
        nt_fixed_count=nt_fixed_count,
        new_obs=new_obs,
        b0=b0,
    )


# --------------------------------------------------------------------------------------
# Shared expression helpers
# --------------------------------------------------------------------------------------


def materialise(df: pl.DataFrame) -> pl.DataFrame:
    """Rebuild ``df`` from materialised series.

    A join against a one-row frame gives "scalar" columns, and polars divides by a scalar
    column by multiplying with its reciprocal, which changes the last bit of a percentage
    (e.g. -41.02564102564102 instead of -41.02564102564103) and would make results depend
    on how many subjects are evaluated together.  Call this before ``pct_change``.
    """
    return pl.DataFrame(df.get_columns())


def pct_change(value: pl.Expr, ref: pl.Expr) -> pl.Expr:
    """``100 (value - ref)/ref``; with ``ref = 0``: +inf when value > 0, 0 when value = 0
    (recist11.md §3.5).  Evaluated as written so whole-mm inputs give exact thresholds."""
    return (
        pl.when(ref > 0)
        .then(100.0 * (value - ref) / ref)
        .when(ref == 0)
        .then(pl.when(value > 0).then(pl.lit(INF)).when(value == 0).then(pl.lit(0.0)))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def num(e: pl.Expr) -> pl.Expr:
    """Number for explanation text: 1 decimal, whole values without ``.0``."""
    r = e.round(1)
    return (
        pl.when(r.is_infinite())
        .then(pl.when(r > 0).then(pl.lit("inf")).otherwise(pl.lit("-inf")))
        .when(r == r.floor())
        .then(r.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(r.cast(pl.String))
    )


def signed(e: pl.Expr) -> pl.Expr:
    """``num`` with an explicit ``+`` for non-negative values."""
    return pl.when(e >= 0).then(pl.concat_str(pl.lit("+"), num(e))).otherwise(num(e))


def label(lesion_id: pl.Expr, organ: pl.Expr) -> pl.Expr:
    """``L9 (liver)``, or ``L9`` when the organ is unknown."""
    return pl.when(organ.is_null()).then(lesion_id).otherwise(pl.format("{} ({})", lesion_id, organ))


def joined(expr: pl.Expr, mask: pl.Expr, sep: str = ", ") -> pl.Expr:
    """Aggregation: the masked values, sorted and joined (empty string when none)."""
    return expr.filter(mask).unique().sort().str.join(sep)


def sites(*lists: pl.Expr) -> pl.Expr:
    """';'-joined sorted unique organs of the given list columns (null when none)."""
    combined = pl.concat_list(*lists).list.drop_nulls().list.unique().list.sort().list.join(";")
    return pl.when(combined == "").then(pl.lit(None, dtype=pl.String)).otherwise(combined)


def prev_evaluated(expr: pl.Expr) -> pl.Expr:
    """Window (over a segment, rows sorted by date): the value of ``expr`` at the previous
    row where it is not null (null rows are the not-evaluated ones)."""
    return expr.shift(1).forward_fill()


def finish(
    followup_out: pl.DataFrame,
    prepared: Prepared,
    baseline_out: pl.DataFrame,
    criteria: str,
    schema: dict,
) -> pl.DataFrame:
    """Concatenate follow-up, baseline and other rows into the TIMEPOINTS frame."""
    others = prepared.other_rows
    parts = []
    for part in (followup_out, baseline_out, others):
        missing = [c for c in schema if c not in part.columns]
        part = part.with_columns([pl.lit(None, dtype=schema[c]).alias(c) for c in missing])
        parts.append(part.select([pl.col(c).cast(t) for c, t in schema.items()]))
    out = pl.concat(parts, how="vertical").with_columns(criteria=pl.lit(criteria))
    out = out.with_columns(
        pl.col("is_progression_event").fill_null(False),
        pl.col("pending_progression").fill_null(False),
    )
    return out.sort(["subject_id", "date"])


__all__ = [
    "NOT_EVALUATED",
    "Prepared",
    "prepare",
    "pct_change",
    "materialise",
    "num",
    "signed",
    "label",
    "joined",
    "sites",
    "prev_evaluated",
    "finish",
]
