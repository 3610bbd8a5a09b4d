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

    The frames also carry the integer keys of "Integer keys" below (``_sid``, ``_sd``,
    ``_g``, ``_lk``): group and join on them rather than on the string columns.
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


# --------------------------------------------------------------------------------------
# Integer keys
# --------------------------------------------------------------------------------------
#
# Joins, group-bys, sorts and windows on (subject_id, lesion_id, date) strings are the
# costliest operations of the engines.  ``prepare`` therefore codes the keys as Int64 once:
#
# * ``_sid``: rank of ``subject_id`` among the segments' sorted distinct ids, so codes
#   agree between both tables and follow the string order (lesion rows of subjects without
#   a segment are dropped);
# * ``_lk``: a lesion of a subject, ordered as (subject_id, lesion_id) (the lesion_id's rank
#   among the sorted distinct ids, via an Enum cast; a null lesion_id is rank 0);
# * packed keys ``hi * 2**32 + lo`` where ``lo`` < 2**32: ``_sd`` (subject, date), ``_g``
#   (subject, line), ``_row`` (lesion, date), ``_sl`` (lesion, line).  A date becomes its
#   day number + 2**31, a line its value + 2**31.
#
# Packing is order preserving, so sorting by the packed keys is sorting by the strings.  A
# (subject_id, date) evaluated by a follow-up belongs to exactly one segment, so ``_sd``
# identifies a follow-up row (``KEY``) and is what the engines group and join on.  Null
# keys keep the semantics of the string joins they replace: a null lesion_id groups with
# the other null lesion_ids of its subject (as ``unique``/``over`` did) but joins nothing
# (``_lkj``, ``_row``, ``_sl`` are null).

_LO = 2**32
_OFF = 2**31


def _pack(hi: pl.Expr, lo: pl.Expr) -> pl.Expr:
    return hi.cast(pl.Int64) * _LO + (lo.cast(pl.Int64) + _OFF)


def _day(date: pl.Expr) -> pl.Expr:
    return date.cast(pl.Int32)


def _keyed(lesions: pl.DataFrame, seg: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(les, seg, null_dates)``: the lesion rows of the segments' subjects with LESIONS
    dtypes, duplicates of (subject_id, lesion_id, date) removed (the first row in input
    order is kept), ``first_date`` and the integer keys, sorted by (subject_id, lesion_id,
    date); the segments with ``_sid``/``_g``; the subjects with a lesion row without a date.

    Rows without a date only ever gave their subject one "outside evaluation segments" row
    (they match no date of a join), so they are set aside as ``null_dates``.
    """
    missing = [c for c in LESIONS if c not in lesions.columns]
    df = lesions.with_columns([pl.lit(None, dtype=LESIONS[c]).alias(c) for c in missing])
    df = df.select([pl.col(c).cast(t) for c, t in LESIONS.items()]).with_columns(pl.col("nodal").fill_null(False))
    df = df.drop("method", "viable_diameter_mm")  # checked by the casts, used by no rule
    # subject codes: rank among the segments' sorted distinct ids (an Enum cast, a hash
    # lookup, instead of ranking the ~3M lesion ids); lesion rows of other subjects get a
    # null code and are dropped, as they have no segment
    sids = seg.get_column("subject_id").drop_nulls().unique().sort()
    code = pl.col("subject_id").cast(pl.Enum(sids), strict=False).to_physical().cast(pl.Int64)
    seg = seg.with_columns(_sid=code).with_columns(_g=_pack(pl.col("_sid"), pl.col("line")))
    df = df.with_columns(_sid=code).filter(pl.col("_sid").is_not_null())
    null_dates = df.filter(pl.col("date").is_null()).select("subject_id", "_sid").unique(maintain_order=True)
    df = df.filter(pl.col("date").is_not_null())
    ids = df.get_column("lesion_id").drop_nulls().unique().sort()
    n_ids = ids.len() + 1
    lrank = (pl.col("lesion_id").cast(pl.Enum(ids)).to_physical().cast(pl.Int64) + 1).fill_null(0)
    df = df.with_columns(_lk=pl.col("_sid") * n_ids + lrank)
    max_sid = sids.len()
    if (max_sid + 1) * n_ids >= _OFF:  # keep _lk below 2**31 (the packed keys' high part)
        df = df.with_columns(_lk=pl.col("_lk").rank("dense").cast(pl.Int64))
    # sort by (lesion, date), stable: the first row of equal keys is the first in input order
    # (a stable arg sort then one gather of the rows: measured ~1/3 cheaper than
    # DataFrame.sort(maintain_order=True), same rows in the same order)
    df = df.with_columns(_row=_pack(pl.col("_lk"), _day(pl.col("date"))))
    df = df[df.select(pl.arg_sort_by("_row", maintain_order=True)).to_series()]
    df = df.filter(pl.col("_row") != pl.col("_row").shift(1).fill_null(-1))
    new_lesion = pl.col("_lk") != pl.col("_lk").shift(1).fill_null(-1)
    df = df.with_columns(
        first_date=pl.when(new_lesion).then(pl.col("date")).forward_fill(),
        _sd=_pack(pl.col("_sid"), _day(pl.col("date"))),
        _lkj=pl.when(pl.col("lesion_id").is_not_null()).then(pl.col("_lk")),
    ).with_columns(_row=pl.when(pl.col("lesion_id").is_not_null()).then(pl.col("_row")))
    return df.set_sorted("_lk"), seg, null_dates


def _place_keyed(les: pl.DataFrame, seg: pl.DataFrame, null_dates: pl.DataFrame):
    """:func:`place_dates` on the integer keys of :func:`_keyed` (same rows and columns,
    plus ``_sid``, ``_sd``, ``_g``)."""
    dates = les.select("subject_id", "date", "_sid", "_sd").unique(subset="_sd", keep="any")
    in_seg = (pl.col("date") > pl.col("cut")) & (pl.col("end_date").is_null() | (pl.col("date") <= pl.col("end_date")))
    seg_cols = ["line", "reference_start", "baseline_date", "end_date", "cut", "_g"]
    followups = dates.join(seg.select("_sid", *seg_cols).with_row_index("_seg"), on="_sid", how="inner").filter(in_seg)
    if seg.get_column("_sid").is_duplicated().any():
        # the latest cut; between equal cuts (overlapping segments) the first segment given
        followups = followups.sort(["_sd", "cut", "_seg"], descending=[False, True, False]).filter(
            pl.col("_sd") != pl.col("_sd").shift(1).fill_null(-1)
        )
    # (with one segment per subject every date has at most one segment: nothing to choose,
    # and the sort below alone fixes the order, as (_g, _sd) is unique)
    followups = followups.sort(["_g", "_sd"]).drop("_seg")
    seg_b = seg.filter(pl.col("baseline_date").is_not_null()).with_columns(
        _sd=_pack(pl.col("_sid"), _day(pl.col("baseline_date")))
    )
    baseline_rows = (
        dates.join(seg_b.select("_sd", *seg_cols), on="_sd", how="inner")
        .join(followups.select("_sd"), on="_sd", how="anti")
        .unique(subset="_sd", keep="first")
        .select("subject_id", "date", "line", "reference_start", "baseline_date", "end_date", "cut", "_sid", "_sd", "_g")
    )
    first_cut = seg.group_by("_sid").agg(first_cut=pl.col("cut").min())
    other_rows = (
        dates.join(followups.select("_sd"), on="_sd", how="anti")
        .join(baseline_rows.select("_sd"), on="_sd", how="anti")
        .join(first_cut, on="_sid", how="left")
        .with_columns(
            explanation=pl.when(pl.col("date") <= pl.col("first_cut"))
            .then(pl.lit("before baseline"))
            .otherwise(pl.lit("outside evaluation segments"))
        )
        .select("subject_id", "date", "explanation", "_sid")
    )
    if null_dates.height:
        other_rows = pl.concat(
            [
                other_rows,
                null_dates.select(
                    "subject_id",
                    date=pl.lit(None, dtype=pl.Date),
                    explanation=pl.lit("outside evaluation segments"),
                    _sid="_sid",
                ),
            ]
        )
    cols = ["subject_id", "date", "line", "reference_start", "baseline_date", "end_date", "cut", "_sid", "_sd", "_g"]
    return followups.select(cols), baseline_rows, other_rows, seg_b


def _lookup(rows: pl.DataFrame, keys: pl.Series) -> pl.DataFrame:
    """The rows of ``rows`` (unique ``_row``, sorted) whose ``_row`` equals each of ``keys``
    (all-null row where none does), without the ``_row`` column: a left join by binary
    search, keeping the order of ``keys``."""
    sorted_keys = rows.get_column("_row")
    if rows.height == 0:
        return rows.drop("_row").clear(keys.len())
    probe = keys.fill_null(-1)
    pos = sorted_keys.search_sorted(probe, side="left").clip(0, rows.height - 1)
    found = sorted_keys.gather(pos) == probe
    idx = pl.select(pl.when(found).then(pos)).to_series()
    return rows.drop("_row").select(pl.all().gather(idx))


def prepare(lesions: pl.DataFrame, segments: pl.DataFrame) -> Prepared:
    """Build the shared frames of ``docs/imaging_engine.md`` ("Input", "Lesion sets").

    The frames carry the integer keys described above (``_sd`` on every per-follow-up
    frame, ``_g`` per segment) besides the string columns."""
    seg = normalise_segments(segments)
    les, segk, null_dates = _keyed(lesions, seg)
    followups, baseline_rows, other_rows, seg_b = _place_keyed(les, segk, null_dates)

    rows_at_baseline = les.join(seg_b.select("_sd", "line", "_g"), on="_sd", how="inner")
    sl = _pack(pl.col("_lkj"), pl.col("line"))
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
        _g="_g",
        _lk="_lk",
        _sl=sl,
    )
    les_rows = les.select(
        "_row",
        d=pl.col("diameter_mm"),
        p=pl.col("perpendicular_mm"),
        status=pl.col("status"),
        has_row=pl.lit(True),
    ).filter(pl.col("_row").is_not_null()).set_sorted("_row")
    fu = followups.select("subject_id", "line", "date", "cut", "_sd", "_g")

    def observe(lesion_set: pl.DataFrame) -> pl.DataFrame:
        """followups x lesion set (sorted by subject_id, line, lesion_id, date), with the
        lesion's row at each date.  The row is found by binary search in ``les_rows``
        (sorted by ``_row``) instead of a hash join."""
        grid = lesion_set.drop("subject_id", "line").sort("_g", "_lk").join(
            fu, on="_g", how="inner", maintain_order="left_right"
        )
        want = grid.select(_row=pl.when(pl.col("_sl").is_not_null()).then(_pack(pl.col("_lk"), _day(pl.col("date"))))).get_column("_row")
        return grid.hstack(_lookup(les_rows, want)).with_columns(pl.col("has_row").fill_null(False))

    target_obs = observe(targets).select(
        "subject_id", "line", "date", "cut", "lesion_id", "organ", "nodal", "base_d", "base_p", "base_status",
        "d", "p", "status", "has_row", "_sd", "_g", "_lk",
    )

    # Non-targets evaluated at every date: baseline non_target rows, plus role new for line > 1.
    fixed = rows_at_baseline.filter(
        (pl.col("role") == "non_target") | ((pl.col("role") == "new") & (pl.col("line") > 1))
    ).select("subject_id", "line", "lesion_id", "organ", "nodal", "_g", "_lk", _sl=sl)
    nt_cols = ["subject_id", "line", "date", "cut", "lesion_id", "organ", "nodal", "d", "p", "status", "has_row", "fixed", "_sd", "_g"]
    fixed_obs = observe(fixed).with_columns(fixed=pl.lit(True)).select(nt_cols)
    # non-target and new rows at follow-ups (target rows are only needed for B0 below)
    # (found by binary search in the follow-ups sorted by _sd, like `observe`)
    les_nt = les.filter(pl.col("role").is_in(["non_target", "new"]))
    fu_by_date = fu.select(pl.col("_sd").alias("_row"), "line", "cut", "_g", _hit=pl.lit(True)).sort("_row")
    les_at_fu = (
        les_nt.hstack(_lookup(fu_by_date, les_nt.get_column("_sd")))
        .filter(pl.col("_hit").fill_null(False))
        .drop("_hit")
    )
    floating_obs = (
        les_at_fu.filter(
            (pl.col("role") == "non_target")
            | (
                (pl.col("role") == "new")
                & (pl.col("line") > 1)
                & (pl.col("first_date") <= pl.col("cut"))
            )
        )
        .with_columns(_sl=sl)
        .join(fixed.select("_sl"), on="_sl", how="anti")
        .join(targets.select("_sl"), on="_sl", how="anti")
        .select(
            "subject_id",
            "line",
            "date",
            "cut",
            "lesion_id",
            "organ",
            "nodal",
            d=pl.col("diameter_mm"),
            p=pl.col("perpendicular_mm"),
            status=pl.col("status"),
            has_row=pl.lit(True),
            fixed=pl.lit(False),
            _sd="_sd",
            _g="_g",
        )
    )
    nt_obs = pl.concat([fixed_obs, floating_obs], how="vertical")
    nt_fixed_count = fixed.group_by("_g").agg(pl.col("subject_id", "line").first(), n_nt_fixed=pl.len()).drop("_g")

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
            .over("_g", "_lk")
        )
        .select(*KEY, "lesion_id", "organ", "nodal", "diameter_mm", "status", "kind", "first_equivocal", "_sd", "_g")
    )

    # B0: no baseline scan, but target rows at the dates the segment evaluates.
    no_base = fu.join(segk.filter(pl.col("baseline_date").is_null()).select("_g"), on="_g", how="semi")
    target_dates = les.filter((pl.col("role") == "target") & pl.col("_sd").is_in(no_base.get_column("_sd").implode()))
    b0 = (
        no_base.join(target_dates.select("_sd"), on="_sd", how="semi")
        .select(*SEG, "_g")
        .unique(subset="_g")
        .with_columns(b0=pl.lit(True))
    )
    return Prepared(
        segments=seg,
        followups=followups,
        baseline_rows=baseline_rows,
        other_rows=other_rows,
        targets=targets.drop("_sl"),
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


def seg_shift(expr: pl.Expr, group: str = "_g") -> pl.Expr:
    """``expr.shift(1).over(group)`` for a frame whose ``group`` rows are contiguous (e.g.
    sorted by it): a plain shift, null on each group's first row.  Window functions hash
    the group key on every call; this is a handful of vectorised passes."""
    g = pl.col(group)
    return pl.when(g == g.shift(1)).then(expr.shift(1))


def seg_forward_fill(expr: pl.Expr, group: str = "_g") -> pl.Expr:
    """``expr.forward_fill().over(group)`` for contiguous groups: a plain forward fill,
    kept only where the filled value comes from the same group (the group key is filled
    alongside the value)."""
    g = pl.col(group)
    return pl.when(pl.when(expr.is_not_null()).then(g).forward_fill() == g).then(expr.forward_fill())


def seg_prev_evaluated(expr: pl.Expr, group: str = "_g") -> pl.Expr:
    """``prev_evaluated(expr).over(group)`` for contiguous groups (see :func:`seg_shift`)."""
    return seg_forward_fill(seg_shift(expr, group), group)


def finish(
    followup_out: pl.DataFrame,
    prepared: Prepared,
    baseline_out: pl.DataFrame,
    criteria: str,
    schema: dict,
) -> pl.DataFrame:
    """Concatenate follow-up, baseline and other rows into the TIMEPOINTS frame, sorted by
    subject and date.

    When every part carries the subject code ``_sid`` (see "Integer keys"), the sort is on
    one packed integer (subject code, then date with a null date first, as the string sort
    puts it) instead of the strings; (subject_id, date) is unique over the parts, so both
    sorts give the same order."""
    others = prepared.other_rows
    parts = [followup_out, baseline_out, others]
    keyed = all("_sid" in part.columns for part in parts)
    extra = ["_sid"] if keyed else []
    cast = []
    for part in parts:
        missing = [c for c in schema if c not in part.columns]
        part = part.with_columns([pl.lit(None, dtype=schema[c]).alias(c) for c in missing])
        cast.append(part.select([pl.col(c).cast(t) for c, t in schema.items()] + extra))
    out = pl.concat(cast, how="vertical").with_columns(criteria=pl.lit(criteria))
    out = out.with_columns(
        pl.col("is_progression_event").fill_null(False),
        pl.col("pending_progression").fill_null(False),
    )
    if not keyed:
        return out.sort(["subject_id", "date"])
    day = pl.when(pl.col("date").is_null()).then(0).otherwise(_day(pl.col("date")).cast(pl.Int64) + _OFF + 1)
    return out.sort(pl.col("_sid") * (2 * _LO) + day).drop("_sid")


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
    "seg_shift",
    "seg_forward_fill",
    "seg_prev_evaluated",
    "finish",
]
