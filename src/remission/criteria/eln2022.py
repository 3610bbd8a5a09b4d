"""ELN 2022 response criteria for acute myeloid leukaemia (``../shared/criteria/eln2022_aml.md``).

Registered as criteria code ``eln2022`` (cancer_type ``aml``).  All subjects are evaluated at
once with polars expressions and window functions; nothing loops over rows.

Inputs (spec/tables.md; labs are already in canonical units, :mod:`remission.units`)
-----------------------------------------------------------------------------------
labs ``test``: ``marrow_blasts_pct`` (%), ``pb_blasts_pct`` (%), ``anc`` and ``platelets``
(10^9/L), ``mrd_level`` (%).

findings ``finding`` codes read by this module (values validated by
:func:`remission.io.validate` where noted):

=========================  ======================================  =========================
code                       value                                   spec field (§2)
=========================  ======================================  =========================
``marrow_adequate``        boolean (true/false, yes/no, 1/0)       ``marrow_adequate``
``auer_rods``              boolean                                 ``auer_rods``
``circulating_blasts``     boolean                                 ``circulating_blasts``
``extramedullary_disease`` boolean (``true`` = EMD present)        ``extramedullary_disease``
``regenerating_marrow``    boolean                                 §6 edge case 6 flag
``platelet_transfusion``   boolean (dated on the transfusion day)  ``transfusion_days_before``
``mrd``                    ``negative`` / ``low_level`` /          ``mrd.result`` (NEG,
                           ``positive``                            POS_BELOW_THRESHOLD, POS)
``mrd_tissue``             ``bm`` / ``pb``                         ``mrd.tissue``
``regimen_intensity``      ``intensive`` / ``less_intensive``      ``regimen_intensity``
=========================  ======================================  =========================

Definitions and choices (spec section in brackets; where the spec is silent the choice is
stated here once)
------------------------------------------------------------------------------------
* **Response assessment** (§2): a ``marrow_blasts_pct`` value (date M) plus the blood count
  sample (a date with both ``anc`` and ``platelets``) within ``count_window_days`` of M that
  gives the best count class (CR counts > CRh counts > one count at the CR level > none;
  ties: nearest to M, then earlier).  The row is dated the later of M and that count date
  (§5 "date of CR = the later of the marrow date and the blood-count date").  Several values
  of one test on one date: the worst (highest blasts, lowest counts).
* **Circulating blasts**: ``pb_blasts_pct > 0`` or ``circulating_blasts = true``; taken from
  the count date when measured there, else from the PB sample nearest to M within the
  window.  None recorded: the assessment cannot establish CR/CRh/CRi/MLFS/PR and is NE
  (``assume_no_pb_blasts_when_missing = True`` assumes none, with a warning).
* **EMD**: ``extramedullary_disease`` nearest to M within the window; no record = none (EMD
  is a positive finding).  **Adequacy** and **Auer rods**: the finding on M's date; adequacy
  missing = NE (§3 A0) unless ``assume_adequate_marrow``.
* **Categories** A0-A6 of §3 in order; PR's 5-25 % band is inclusive; PR needs the
  pre-treatment marrow blasts = the latest marrow value on or before the line's baseline
  date.  With ``report_crh = False`` CRh-level counts give CRi (§3 note "fall into CRi"),
  even without a count at the CR level.  With ``count_transfusion_free_days = N`` a platelet count taken 0..N days after a
  ``platelet_transfusion`` satisfies no threshold.
* **MRD qualifier** (§3.1): the MRD result nearest to M within the window; from the ``mrd``
  finding, else from ``mrd_level`` with ``mrd_thresholds`` (negative below
  ``negative_below_pct``, low level below ``low_level_below_pct``).  ``mrd_level`` without
  thresholds gives no result (warning ``MRD_THRESHOLDS_MISSING``); thresholds are never
  hard-coded.  Shown in ``non_target_response`` (``MRD NEGATIVITY``, ``QUANTIFIABLE MRD
  POSITIVITY``; null = positive or unknown, plain CR).  ``target_response`` holds the
  morphologic category (A0-A6) of assessment rows.  ``rule_ids`` name the rule that fired:
  an NE is ``A0`` only for an inadequate (or unrecorded) marrow evaluation; an NE because no
  blood-blast result establishes "no circulating blasts" is ``NE-PB``.
* **Haematological relapse** (§4) after a CR/CRh/CRi at an earlier date of the same line:
  marrow blasts >= 5 % (rule ``HR-BM``; with ``regenerating_marrow`` the relapse waits for
  the next marrow, and when that one is >= 5 % too it is dated back to the flagged marrow);
  blasts in >= 2 PB samples >= ``pb_relapse_min_gap_days`` apart with no blast-free PB sample
  between them (``HR-PB``; date = first sample of the run; earlier samples of the run are
  PROGRESSION_PENDING); EMD (``HR-EMD``).  Output ``RELAPSED DISEASE FROM CR``, PROGRESSION,
  ``progression_event_date`` back-dated, ``recurrence_sites`` MARROW / BLOOD /
  EXTRAMEDULLARY.  Blood-only or EMD-only dates are rows of their own.
* **MRD relapse** (§4, ``MRD-R``): within a line, after a CR/CRh/CRi, an MRD sample that is
  positive (or low level) after a negative one, or a low-level sample whose ``mrd_level``
  rose >= ``mrd_log_increase`` log10 over the lowest positive level since the last negative
  one; confirmed by the next sample of the same tissue within ``mrd_relapse_confirm_days``
  (positive; for the log route, still above the threshold).  The first sample's row stays
  CR (as it stood, warning ``MRD_CONVERSION_PENDING``); the confirming row and every later
  row until an MRD-negative sample say ``MRD RELAPSE``.  Level: PARTIAL by default (loss of
  complete remission without progression, remission_model.md §6.6, the lifecycle records
  the loss on the confirming date); with ``mrd_relapse_ends_complete`` PROGRESSION with
  extent MOLECULAR, event date = the first positive sample.  MRD-only dates in a CR family
  carry the last morphologic category.
* **Landmark and refractory** (§4): intensive = the first evaluable assessment after the
  start of course ``landmark_courses_intensive`` (courses = distinct start dates of the
  line's active treatments); less intensive = line start + ``landmark_days_less_intensive``.
  Intensity = the ``regimen_intensity`` finding on or before the line start (else the first
  after it), else the option ``regimen_intensity``.  No CR/CRh/CRi on or before the landmark:
  every row on or after the landmark that is not a CR family or NE assessment is
  ``TREATMENT FAILURE`` (STABLE, rule ``RF``; the explanation names the EFS event date =
  the line start).
* **Canonical levels** (remission_model.md §3): CR COMPLETE; CRh, CRi COMPLETE (PARTIAL with
  ``crh_cri_as_partial``); MLFS ``mlfs_as`` (PARTIAL); PR PARTIAL; NO RESPONSE, TREATMENT
  FAILURE STABLE; NE NOT_EVALUABLE.  These two remission-model options (§13) live here
  because :class:`remission.options.RemissionOptions` does not hold them.
* **ELN 2017 legacy switches** (§4 "Legacy options", §8; off by default):

  - ``eln2017_progressive_disease``: on an assessment of a line with no CR/CRh/CRi before
    it, ``PD`` (PROGRESSION, ``is_progression_event`` on the line's first PD,
    ``progression_event_date`` = that date) when any of: ``PD-BM`` marrow blasts > 50 %
    above the pre-treatment value and, if that value was < 30 %, at least +15 percentage
    points; ``PD-BM70`` marrow blasts > 70 % on every assessment of the line for >= 90 days
    (choice: "3 months" = 90 days, counted from the first assessment of the uninterrupted
    > 70 % run); both only without count improvement (ANC doubled to > 0.5 or
    non-transfused platelets doubled to > 50 over the latest values on or before the
    baseline date; no baseline count = no improvement, choice); ``PD-PB`` peripheral blasts
    (``wbc`` x ``pb_blasts_pct``, from the assessment's marrow or count date) > 25 x10^9/L
    and > 50 % above the baseline absolute blasts, unless ``differentiation_syndrome`` is
    true on that date; ``PD-EMD`` EMD at the assessment and not at baseline.  After a CR
    family the §4 relapse rules apply instead.
  - ``eln2017_stable_disease``: a ``NO RESPONSE`` assessment (no PD) dated >= 90 days after
    the line start (choice: "lasting >= 3 months" counted from the start of treatment) is
    ``SD`` (STABLE, rule ``SD-2017``); ``TREATMENT FAILURE`` still wins at and after the
    landmark.
  - ``eln2017_death_categories`` (death in aplasia / indeterminate cause) is not
    implemented: it needs marrow and cytopenia state at death, which the death record of
    spec/tables.md does not carry.
* ``value`` = marrow blasts (%); ``baseline_value`` = pre-treatment marrow blasts.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S
from .base import BOOL_SPELLINGS, BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding
from remission.timeline import lines

CODE = "eln2022"

#: best -> worst (§5; relapse, refractory and NE after the response categories)
ORDER = (
    "CR",
    "CRh",
    "CRi",
    "MLFS",
    "PR",
    "MRD RELAPSE",
    "SD",
    "NO RESPONSE",
    "TREATMENT FAILURE",
    "PD",
    "RELAPSED DISEASE FROM CR",
    "NE",
)

CR_FAMILY = ("CR", "CRh", "CRi")
TRUE_SPELLINGS = ("true", "1", "yes", "y")
FALSE_SPELLINGS = ("false", "0", "no", "n")
MRD_VALUES = ("negative", "low_level", "positive")
#: finding codes read by this module and their accepted values (io.validate)
FINDING_VALUES: dict[str, tuple[str, ...]] = {
    "marrow_adequate": TRUE_SPELLINGS + FALSE_SPELLINGS,
    "auer_rods": TRUE_SPELLINGS + FALSE_SPELLINGS,
    "circulating_blasts": TRUE_SPELLINGS + FALSE_SPELLINGS,
    "regenerating_marrow": TRUE_SPELLINGS + FALSE_SPELLINGS,
    "platelet_transfusion": TRUE_SPELLINGS + FALSE_SPELLINGS,
    "mrd": MRD_VALUES,
    "mrd_tissue": ("bm", "pb"),
    "regimen_intensity": ("intensive", "less_intensive"),
}


class MrdThresholds(BaseModel):
    """Assay/marker-specific MRD thresholds on ``mrd_level`` (%), §3.1 (no defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    negative_below_pct: float = Field(..., gt=0, description="mrd_level below this is MRD negative.")
    low_level_below_pct: float | None = Field(
        None, gt=0, description="mrd_level below this (and not negative) is low-level positive (MRD-LL)."
    )


class Eln2022Options(BaseModel):
    """ELN 2022 parameters (eln2022_aml.md §8) and the remission-model options that concern
    ELN (remission_model.md §13 ``crh_cri_as_partial``, ``mlfs_as``,
    ``mrd_relapse_ends_complete``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    count_window_days: int = Field(7, ge=0, description="Blood counts within +/- this many days of the marrow (§2).")
    report_crh: bool = Field(True, description="Report CRh (§3 A2); False: such assessments are CRi.")
    count_transfusion_free_days: int | None = Field(
        None, ge=0, description="Platelets within this many days after a platelet transfusion satisfy no threshold."
    )
    cri_requires_one_count_recovered: bool = Field(True, description="CRi needs ANC >= 1.0 or platelets >= 100 (§3 A3).")
    require_no_auer_rods: bool = Field(False, description="ELN 2017: Auer rods block CR, CRh, CRi and MLFS.")
    landmark_courses_intensive: int = Field(2, ge=1, description="Response landmark after this course (intensive).")
    landmark_days_less_intensive: int = Field(180, ge=0, description="Landmark = start + days (less intensive).")
    pb_relapse_min_gap_days: int = Field(7, ge=0, description="Two PB samples with blasts this far apart = relapse.")
    mrd_relapse_confirm_days: int = Field(28, ge=0, description="Confirmatory MRD sample within this many days.")
    mrd_log_increase: float = Field(1.0, gt=0, description="log10 rise of low-level MRD that is an MRD relapse.")
    mrd_thresholds: MrdThresholds | None = Field(None, description="Required to read mrd_level values.")
    regimen_intensity: Literal["intensive", "less_intensive"] = Field(
        "intensive", description="Intensity when no regimen_intensity finding is recorded."
    )
    assume_adequate_marrow: bool = Field(False, description="Missing marrow_adequate counts as adequate.")
    assume_no_pb_blasts_when_missing: bool = Field(False, description="No PB blast record = no circulating blasts.")
    crh_cri_as_partial: bool = Field(False, description="remission_model §13: CRh/CRi map to PARTIAL.")
    mlfs_as: Literal["PARTIAL", "STABLE"] = Field("PARTIAL", description="remission_model §13: level of MLFS.")
    mrd_relapse_ends_complete: bool = Field(
        False, description="remission_model §6.6: MRD relapse is a recurrence (PROGRESSION, MOLECULAR)."
    )
    eln2017_stable_disease: bool = Field(False, description="ELN 2017 SD: no response lasting >= 90 days (§4 legacy).")
    eln2017_progressive_disease: bool = Field(False, description="ELN 2017 PD rules before any CR (§4 legacy).")


def canonical_map(o: Eln2022Options) -> dict[str, str]:
    """Category -> canonical level (remission_model.md §3) under the options."""
    inc = S.PARTIAL if o.crh_cri_as_partial else S.COMPLETE
    return {
        "CR": S.COMPLETE,
        "CRh": inc,
        "CRi": inc,
        "MLFS": o.mlfs_as,
        "PR": S.PARTIAL,
        "MRD RELAPSE": S.PROGRESSION if o.mrd_relapse_ends_complete else S.PARTIAL,
        "SD": S.STABLE,
        "NO RESPONSE": S.STABLE,
        "TREATMENT FAILURE": S.STABLE,
        "PD": S.PROGRESSION,
        "RELAPSED DISEASE FROM CR": S.PROGRESSION,
        "NE": S.NOT_EVALUABLE,
    }


CANONICAL = canonical_map(Eln2022Options())

# --------------------------------------------------------------------------------------
# small shared helpers (also used by iwcll2018)
# --------------------------------------------------------------------------------------

SID = "subject_id"


def num(e: pl.Expr) -> pl.Expr:
    """A number for explanation text: at most 2 decimals, no trailing zeros."""
    r = e.round(2).cast(pl.String)
    return r.str.replace(r"\.0+$", "").str.replace(r"(\.\d*?)0+$", "$1")


def lab_wide(labs: pl.DataFrame, tests: dict[str, str]) -> pl.DataFrame:
    """``subject_id, date`` and one column per test; ``tests`` maps test -> ``max``/``min``/``mean``
    (the aggregate of several values of one test on one date)."""
    aggs = []
    for test, how in tests.items():
        v = pl.col("value").filter(pl.col("test") == test)
        aggs.append(getattr(v, how)().alias(test))
    sub = labs.filter(pl.col("test").is_in(list(tests)))
    if sub.height == 0:
        return pl.DataFrame(schema={SID: pl.String, "date": pl.Date, **{t: pl.Float64 for t in tests}})
    return sub.group_by(SID, "date").agg(aggs)


def bool_expr(v: pl.Expr) -> pl.Expr:
    """Boolean of a findings value (null when it is not a boolean spelling)."""
    low = v.str.strip_chars().str.to_lowercase()
    return pl.when(low.is_in(TRUE_SPELLINGS)).then(True).when(low.is_in(FALSE_SPELLINGS)).then(False)


def finding_wide(findings: pl.DataFrame, codes: dict[str, str]) -> pl.DataFrame:
    """``subject_id, date`` and one column per finding code; ``codes`` maps code -> ``bool``
    (any true wins), ``text`` (lower-case, the last in input order) or ``num`` (max)."""
    sub = findings.filter(pl.col("finding").is_in(list(codes)))
    dtypes = {"bool": pl.Boolean, "text": pl.String, "num": pl.Float64}
    if sub.height == 0:
        return pl.DataFrame(schema={SID: pl.String, "date": pl.Date, **{c: dtypes[k] for c, k in codes.items()}})
    aggs = []
    for code, kind in codes.items():
        v = pl.col("value").filter(pl.col("finding") == code)
        if kind == "bool":
            aggs.append(bool_expr(v).max().alias(code))
        elif kind == "num":
            aggs.append(v.cast(pl.Float64, strict=False).max().alias(code))
        else:
            aggs.append(v.str.strip_chars().str.to_lowercase().last().alias(code))
    return sub.group_by(SID, "date").agg(aggs)


def days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Whole days ``a - b``."""
    return (a - b).dt.total_days()


def nearest(left: pl.DataFrame, right: pl.DataFrame, left_on: str, right_on: str, window: int, keep: list[str],
            prefer: pl.Expr | None = None, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """For each row of ``left`` (unique on ``subject_id, left_on``), the ``keep`` columns of the
    ``right`` row of the same subject dated within ``window`` days, nearest first (then
    earlier); ``prefer`` (a boolean expression on the joined frame, which holds ``_rdate``
    and the ``extra`` columns of ``left``) ranks first."""
    key = [SID, left_on]
    r = right.select(SID, pl.col(right_on).alias("_rdate"), *keep)
    j = left.select(*key, *extra).join(r, on=SID, how="inner").filter(
        days(pl.col("_rdate"), pl.col(left_on)).abs() <= window
    )
    pref = (~prefer).cast(pl.Int8) if prefer is not None else pl.lit(0, dtype=pl.Int8)
    j = (
        j.with_columns(_p=pref, _d=days(pl.col("_rdate"), pl.col(left_on)).abs())
        .sort(SID, left_on, "_p", "_d", "_rdate")
        .unique(key, keep="first", maintain_order=True)
        .drop("_p", "_d", *extra)
    )
    return left.join(j, on=key, how="left")


def with_segments(rows: pl.DataFrame, segments: pl.DataFrame) -> pl.DataFrame:
    """Add ``line, reference_start, baseline_date, end_date`` and ``is_baseline`` (on or before
    the line-1 baseline date) to dated rows of the segments' subjects."""
    rows = rows.join(segments.select(SID).unique(), on=SID, how="semi")
    out = lines.assign_lines(rows, segments).join(
        segments.select(SID, "line", "reference_start", "baseline_date", "end_date"), on=[SID, "line"], how="left"
    )
    return out.with_columns(
        is_baseline=(pl.col("baseline_date").is_not_null() & (pl.col("date") <= pl.col("baseline_date"))).fill_null(
            False
        )
    )


def value_asof(frame: pl.DataFrame, values: pl.DataFrame, on: str, col: str, alias: str) -> pl.DataFrame:
    """Join to each row the latest ``values[col]`` of its subject dated on or before ``frame[on]``."""
    v = values.filter(pl.col(col).is_not_null()).select(SID, pl.col("date").alias("_vd"), pl.col(col).alias(alias))
    v = v.sort("_vd")
    f = frame.with_row_index("_ri")
    has = f.filter(pl.col(on).is_not_null()).sort(on)
    joined = has.join_asof(v, left_on=on, right_on="_vd", by=SID, strategy="backward", check_sortedness=False)
    out = f.join(joined.select("_ri", alias), on="_ri", how="left").sort("_ri").drop("_ri")
    return out


def to_timepoints(frame: pl.DataFrame, code: str) -> pl.DataFrame:
    """Select / cast the TIMEPOINTS columns (missing ones null)."""
    missing = [c for c in S.TIMEPOINTS if c not in frame.columns]
    f = frame.with_columns([pl.lit(None, dtype=S.TIMEPOINTS[c]).alias(c) for c in missing])
    return (
        f.select([pl.col(c).cast(t) for c, t in S.TIMEPOINTS.items()])
        .with_columns(
            criteria=pl.lit(code),
            is_progression_event=pl.col("is_progression_event").fill_null(False),
            pending_progression=pl.col("pending_progression").fill_null(False),
        )
        .sort(SID, "date")
    )


def join_str(*parts: pl.Expr, sep: str) -> pl.Expr:
    """Join the non-null parts; null when all are null."""
    s = pl.concat_str(list(parts), separator=sep, ignore_nulls=True)
    return pl.when(s == "").then(None).otherwise(s)


# --------------------------------------------------------------------------------------
# observations
# --------------------------------------------------------------------------------------

_FINDINGS = {
    "marrow_adequate": "bool",
    "auer_rods": "bool",
    "circulating_blasts": "bool",
    "extramedullary_disease": "bool",
    "regenerating_marrow": "bool",
    "platelet_transfusion": "bool",
    "mrd": "text",
    "mrd_tissue": "text",
}


def _pb_samples(labs: pl.DataFrame, fw: pl.DataFrame) -> pl.DataFrame:
    """PB blast samples: ``subject_id, date, pb_pct, pb_pos`` (§2 ``circulating_blasts``)."""
    pct = lab_wide(labs, {"pb_blasts_pct": "max"})
    flag = fw.filter(pl.col("circulating_blasts").is_not_null()).select(SID, "date", "circulating_blasts")
    pb = pct.join(flag, on=[SID, "date"], how="full", coalesce=True)
    return pb.select(
        SID,
        "date",
        pb_pct=pl.col("pb_blasts_pct"),
        pb_pos=((pl.col("pb_blasts_pct") > 0).fill_null(False) | pl.col("circulating_blasts").fill_null(False)),
    )


def _mrd_samples(labs: pl.DataFrame, fw: pl.DataFrame, o: Eln2022Options) -> pl.DataFrame:
    """MRD samples: ``subject_id, date, mrd_result, mrd_level, mrd_tissue, mrd_warn`` (§3.1)."""
    lv = lab_wide(labs, {"mrd_level": "max"})
    fm = fw.filter(pl.col("mrd").is_not_null() | pl.col("mrd_tissue").is_not_null()).select(
        SID, "date", "mrd", "mrd_tissue"
    )
    m = lv.join(fm, on=[SID, "date"], how="full", coalesce=True)
    if o.mrd_thresholds is not None:
        t = o.mrd_thresholds
        low = t.low_level_below_pct
        from_level = (
            pl.when(pl.col("mrd_level") < t.negative_below_pct)
            .then(pl.lit("negative"))
            .when(pl.lit(low is not None) & (pl.col("mrd_level") < (low or 0.0)))
            .then(pl.lit("low_level"))
            .when(pl.col("mrd_level").is_not_null())
            .then(pl.lit("positive"))
        )
    else:
        from_level = pl.lit(None, dtype=pl.String)
    return m.filter(pl.col("mrd").is_not_null() | pl.col("mrd_level").is_not_null()).select(
        SID,
        "date",
        mrd_result=pl.coalesce(pl.col("mrd"), from_level),
        mrd_level=pl.col("mrd_level"),
        mrd_tissue=pl.col("mrd_tissue"),
        mrd_warn=pl.when(pl.col("mrd").is_null() & pl.col("mrd_level").is_not_null() & pl.lit(o.mrd_thresholds is None))
        .then(pl.lit("MRD_THRESHOLDS_MISSING")),
    )


def response_assessments(tables, o: Eln2022Options) -> pl.DataFrame:
    """One row per marrow: the §2 response assessment (see module docstring).

    Columns: ``subject_id, date`` (the assessment date), ``mdate, blasts, cdate, anc, plt,
    plt_tainted, pb_known, pb_pos, pb_pct, adequate, auer, emd, regenerating, mrd_q_result,
    mrd_q_tissue``.
    """
    labs, findings = tables["labs"], tables["findings"]
    fw = finding_wide(findings, _FINDINGS)
    w = o.count_window_days
    marrow = lab_wide(labs, {"marrow_blasts_pct": "max"}).select(
        SID, pl.col("date").alias("mdate"), pl.col("marrow_blasts_pct").alias("blasts")
    ).filter(pl.col("blasts").is_not_null())
    counts = lab_wide(labs, {"anc": "min", "platelets": "min"}).filter(
        pl.col("anc").is_not_null() & pl.col("platelets").is_not_null()
    )
    if o.count_transfusion_free_days is not None:
        tx = fw.filter(pl.col("platelet_transfusion").fill_null(False)).select(SID, pl.col("date").alias("_tx"))
        tainted = (
            counts.select(SID, "date")
            .join(tx, on=SID)
            .filter(days(pl.col("date"), pl.col("_tx")).is_between(0, o.count_transfusion_free_days))
            .select(SID, "date")
            .unique()
            .with_columns(_t=pl.lit(True))
        )
        counts = counts.join(tainted, on=[SID, "date"], how="left").with_columns(plt_tainted=pl.col("_t").fill_null(False)).drop("_t")
    else:
        counts = counts.with_columns(plt_tainted=pl.lit(False))
    p_ok = pl.when(~pl.col("plt_tainted")).then(pl.col("platelets"))
    counts = counts.with_columns(
        _cls=pl.when((pl.col("anc") >= 1.0) & (p_ok >= 100)).then(3)
        .when((pl.col("anc") >= 0.5) & (p_ok >= 50)).then(2)
        .when((pl.col("anc") >= 1.0) | (p_ok >= 100).fill_null(False)).then(1)
        .otherwise(0)
    )
    # best count sample within the window: class first (prefer = highest class)
    j = marrow.select(SID, "mdate").join(
        counts.select(SID, pl.col("date").alias("cdate"), "anc", pl.col("platelets").alias("plt"), "plt_tainted", "_cls"),
        on=SID,
    ).filter(days(pl.col("cdate"), pl.col("mdate")).abs() <= w)
    best = (
        j.with_columns(_d=days(pl.col("cdate"), pl.col("mdate")).abs())
        .sort(SID, "mdate", pl.col("_cls"), "_d", "cdate", descending=[False, False, True, False, False])
        .unique([SID, "mdate"], keep="first", maintain_order=True)
        .drop("_cls", "_d")
    )
    a = marrow.join(best, on=[SID, "mdate"], how="left")
    pb = _pb_samples(labs, fw)
    a = nearest(a, pb, "mdate", "date", w, ["pb_pct", "pb_pos"], prefer=(pl.col("_rdate") == pl.col("cdate")).fill_null(False), extra=("cdate",)).drop(
        "_rdate"
    )
    emd = fw.filter(pl.col("extramedullary_disease").is_not_null()).select(SID, "date", "extramedullary_disease")
    a = nearest(a, emd, "mdate", "date", w, ["extramedullary_disease"]).drop("_rdate")
    same = fw.select(SID, pl.col("date").alias("mdate"), "marrow_adequate", "auer_rods", "regenerating_marrow")
    a = a.join(same, on=[SID, "mdate"], how="left")
    mrd = _mrd_samples(labs, fw, o).filter(pl.col("mrd_result").is_not_null())
    a = nearest(
        a, mrd.rename({"mrd_result": "mrd_q_result", "mrd_tissue": "mrd_q_tissue"}), "mdate", "date", w,
        ["mrd_q_result", "mrd_q_tissue"],
    ).drop("_rdate")
    return a.select(
        SID,
        date=pl.max_horizontal("mdate", "cdate"),
        mdate=pl.col("mdate"),
        blasts=pl.col("blasts"),
        cdate=pl.col("cdate"),
        anc=pl.col("anc"),
        plt=pl.col("plt"),
        plt_tainted=pl.col("plt_tainted").fill_null(False),
        pb_known=pl.col("pb_pos").is_not_null(),
        pb_pos=pl.col("pb_pos"),
        pb_pct=pl.col("pb_pct"),
        adequate=pl.col("marrow_adequate"),
        auer=pl.col("auer_rods").fill_null(False),
        emd=pl.col("extramedullary_disease").fill_null(False),
        regenerating=pl.col("regenerating_marrow").fill_null(False),
        mrd_q_result=pl.col("mrd_q_result"),
        mrd_q_tissue=pl.col("mrd_q_tissue"),
    ).sort(SID, "date").unique([SID, "date"], keep="last", maintain_order=True)


def _rows(tables, o: Eln2022Options) -> pl.DataFrame:
    """All dated rows: assessments, PB samples, MRD samples, EMD-present findings."""
    labs, findings = tables["labs"], tables["findings"]
    fw = finding_wide(findings, _FINDINGS)
    a = response_assessments(tables, o).with_columns(is_assess=pl.lit(True))
    pb = _pb_samples(labs, fw).select(SID, "date", s_pb_known=pl.lit(True), s_pb_pos=pl.col("pb_pos"), s_pb_pct=pl.col("pb_pct"))
    mrd = _mrd_samples(labs, fw, o)
    emd = fw.filter(pl.col("extramedullary_disease").fill_null(False)).select(SID, "date", emd_today=pl.lit(True))
    keys = pl.concat(
        [a.select(SID, "date"), pb.select(SID, "date"), mrd.select(SID, "date"), emd.select(SID, "date")]
    ).unique()
    r = (
        keys.join(a, on=[SID, "date"], how="left")
        .join(pb, on=[SID, "date"], how="left")
        .join(mrd, on=[SID, "date"], how="left")
        .join(emd, on=[SID, "date"], how="left")
        .with_columns(
            pl.col("is_assess", "s_pb_known", "emd_today").fill_null(False),
            s_pb_pos=pl.col("s_pb_pos").fill_null(False),
        )
    )
    # output rows: assessments, PB samples with blasts, MRD samples, EMD present
    return r.with_columns(
        is_output=pl.col("is_assess") | pl.col("s_pb_pos") | pl.col("mrd_result").is_not_null()
        | pl.col("mrd_level").is_not_null() | pl.col("emd_today")
    )


def assessment_dates(tables) -> pl.DataFrame:
    """``dates(tables)``: every date that gets a row (default options)."""
    r = _rows(tables, Eln2022Options())
    return r.filter(pl.col("is_output")).select(SID, "date").unique()


# --------------------------------------------------------------------------------------
# decision rules
# --------------------------------------------------------------------------------------


def _morph(o: Eln2022Options) -> pl.Expr:
    """§3 A0-A6 on an assessment row (needs ``b0`` = pre-treatment marrow blasts)."""
    c = pl.col
    p = pl.when(~c("plt_tainted")).then(c("plt"))
    adequate = c("adequate").fill_null(o.assume_adequate_marrow)
    pb_known = c("pb_known") | pl.lit(o.assume_no_pb_blasts_when_missing)
    no_pb = pb_known & ~c("pb_pos").fill_null(False)
    auer_block = pl.lit(o.require_no_auer_rods) & c("auer")
    free = (c("blasts") < 5) & no_pb & ~c("emd") & ~auer_block
    cr_counts = ((c("anc") >= 1.0) & (p >= 100)).fill_null(False)
    crh_counts = ((c("anc") >= 0.5) & (p >= 50)).fill_null(False)
    one = ((c("anc") >= 1.0).fill_null(False) | (p >= 100).fill_null(False))
    counts_known = c("anc").is_not_null() | p.is_not_null()
    # §3 note: with report_crh = False "such patients fall into CRi" (CRh-level counts count)
    cri_ok = (one | (pl.lit(not o.report_crh) & crh_counts)) if o.cri_requires_one_count_recovered else counts_known
    pr = (
        c("blasts").is_between(5, 25)
        & no_pb
        & ~c("emd")
        & cr_counts
        & ((c("b0") - c("blasts")) >= 0.5 * c("b0")).fill_null(False)
        & (c("b0") > 0).fill_null(False)
    )
    could = (c("blasts") <= 25)
    return (
        pl.when(~adequate).then(pl.lit("NE"))
        .when(free & cr_counts).then(pl.lit("CR"))
        .when(pl.lit(o.report_crh) & free & crh_counts).then(pl.lit("CRh"))
        .when(free & cri_ok).then(pl.lit("CRi"))
        .when(free).then(pl.lit("MLFS"))
        .when(pr).then(pl.lit("PR"))
        .when(~pb_known & could & ~c("emd")).then(pl.lit("NE"))
        .otherwise(pl.lit("NO RESPONSE"))
    )


def _morph_rule(o: Eln2022Options) -> pl.Expr:
    """The rule that fired, not the category: NE is ``A0`` only when the marrow evaluation is
    not adequate (§3 A0); an NE because "no circulating blasts" cannot be established (no
    blood-blast result, §3 A1-A5 all need it) is ``NE-PB``."""
    adequate = pl.col("adequate").fill_null(o.assume_adequate_marrow)
    return (
        pl.when((pl.col("morph") == "NE") & adequate)
        .then(pl.lit("NE-PB"))
        .otherwise(
            pl.col("morph").replace_strict(
                {"NE": "A0", "CR": "A1", "CRh": "A2", "CRi": "A3", "MLFS": "A4", "PR": "A5", "NO RESPONSE": "A6"},
                default=None,
            )
        )
    )


def _anc_rel() -> pl.Expr:
    a = pl.col("anc")
    return pl.when(a >= 1.0).then(pl.lit(">= 1.0")).when(a >= 0.5).then(pl.lit(">= 0.5, < 1.0")).otherwise(pl.lit("< 0.5"))


def _plt_rel() -> pl.Expr:
    p = pl.col("plt")
    return pl.when(p >= 100).then(pl.lit(">= 100")).when(p >= 50).then(pl.lit(">= 50, < 100")).otherwise(pl.lit("< 50"))


def _assessment_text(o: Eln2022Options) -> pl.Expr:
    """The values of an assessment row, with the thresholds they meet."""
    c = pl.col
    b = c("blasts")
    brel = pl.when(b < 5).then(pl.lit("< 5%")).when(b <= 25).then(pl.lit("5-25%")).otherwise(pl.lit("> 25%"))
    blasts = pl.format("marrow blasts {}% ({})", num(b), brel)
    pb = (
        pl.when(c("pb_pos").fill_null(False))
        .then(
            pl.when(c("pb_pct").is_not_null())
            .then(pl.format("circulating blasts {}%", num(c("pb_pct"))))
            .otherwise(pl.lit("circulating blasts present"))
        )
        .when(c("pb_known"))
        .then(pl.lit("no circulating blasts"))
        .otherwise(
            pl.lit("circulating blasts not recorded" + (" (assumed none)" if o.assume_no_pb_blasts_when_missing else ""))
        )
    )
    emd = pl.when(c("emd")).then(pl.lit("extramedullary disease present")).otherwise(pl.lit("no EMD"))
    counts = (
        pl.when(c("anc").is_not_null())
        .then(
            pl.format(
                "ANC {} x10^9/L ({}), platelets {} x10^9/L ({}{})",
                num(c("anc")),
                _anc_rel(),
                num(c("plt")),
                _plt_rel(),
                pl.when(c("plt_tainted")).then(pl.lit(", after transfusion: not counted")).otherwise(pl.lit("")),
            )
        )
        .otherwise(pl.format("no blood counts within {} days", pl.lit(o.count_window_days)))
    )
    cdate = pl.when(c("cdate").is_not_null() & (c("cdate") != c("mdate"))).then(
        pl.format(" (marrow {}, counts {})", c("mdate").cast(pl.String), c("cdate").cast(pl.String))
    ).otherwise(pl.lit(""))
    return pl.format("{}, {}, {}, {}{}", blasts, pb, emd, counts, cdate)


def _morph_reason(o: Eln2022Options) -> pl.Expr:
    c = pl.col
    m = c("morph")
    auer = pl.lit(o.require_no_auer_rods) & c("auer")
    adequate = c("adequate").fill_null(o.assume_adequate_marrow)
    return (
        pl.when(m == "NE")
        .then(
            pl.when(~adequate)
            .then(
                pl.when(c("adequate").is_null())
                .then(pl.lit("; marrow adequacy not recorded"))
                .otherwise(pl.lit("; marrow not adequate (aplastic or too few cells)"))
            )
            .otherwise(pl.lit("; no blood-blast result: no circulating blasts cannot be established"))
        )
        .when(m == "CRh")
        .then(pl.lit("; not CR (ANC < 1.0 or platelets < 100)"))
        .when(m == "CRi")
        .then(
            pl.lit(
                "; not CRh (ANC < 0.5 or platelets < 50)"
                + ("" if o.report_crh else " (CRh not reported)")
            )
        )
        .when(m == "MLFS")
        .then(pl.lit("; no count at the CR level (CRi needs ANC >= 1.0 or platelets >= 100), CRh not met"))
        .when(m == "PR")
        .then(pl.format("; {}% vs pre-treatment {}% (>= 50% decrease)", num(c("chg")), num(c("b0"))))
        .when(m == "NO RESPONSE")
        .then(
            pl.when(auer & (c("blasts") < 5))
            .then(pl.lit("; Auer rods present (require_no_auer_rods)"))
            .otherwise(
                pl.format(
                    "; pre-treatment {}%",
                    pl.when(c("b0").is_not_null()).then(num(c("b0"))).otherwise(pl.lit("unknown")),
                )
            )
        )
        .otherwise(pl.lit(""))
    )


def _mrd_text() -> pl.Expr:
    r = pl.col("mrd_q_result")
    tissue = pl.when(pl.col("mrd_q_tissue").is_not_null()).then(
        pl.format(" ({})", pl.col("mrd_q_tissue").str.to_uppercase())
    ).otherwise(pl.lit(""))
    return (
        pl.when(r == "negative").then(pl.format("; MRD negative{}", tissue))
        .when(r == "low_level").then(pl.format("; MRD low level{}", tissue))
        .when(r == "positive").then(pl.format("; MRD positive{}", tissue))
        .otherwise(pl.lit(""))
    )


def run(tables, segments: pl.DataFrame, options: Eln2022Options | None = None) -> pl.DataFrame:
    """Per-assessment ELN 2022 responses (schema.TIMEPOINTS) for every subject of ``segments``."""
    o = options or Eln2022Options()
    c = pl.col
    rows = _rows(tables, o)
    if rows.height == 0:
        return S.empty(S.TIMEPOINTS)
    r = with_segments(rows, segments)
    # pre-treatment marrow blasts = latest marrow on or before the line's baseline date
    marrow = lab_wide(tables["labs"], {"marrow_blasts_pct": "max"}).rename({"marrow_blasts_pct": "_mb"})
    r = value_asof(r, marrow, "baseline_date", "_mb", "b0")
    r = r.with_columns(
        morph=pl.when(c("is_assess")).then(_morph(o)),
        chg=pl.when(c("b0") > 0).then((c("blasts") - c("b0")) / c("b0") * 100.0),
    )
    G = [SID, "line"]
    r = r.sort(SID, "date")
    fu = r.filter(~c("is_baseline"))
    base = r.filter(c("is_baseline"))
    fu = fu.with_columns(crfam=c("morph").is_in(CR_FAMILY).fill_null(False)).with_columns(
        cr_before=(c("crfam").cast(pl.Int32).cum_sum().shift(1, fill_value=0).over(G) > 0),
        cr_so_far=(c("crfam").cast(pl.Int32).cum_sum().over(G) > 0),
        last_morph=pl.when(c("is_assess") & (c("morph") != "NE")).then(c("morph")).forward_fill().over(G),
        nadir_value=c("blasts").cum_min().over(G),
    )

    # ---- haematological relapse (§4) -------------------------------------------------
    gap = o.pb_relapse_min_gap_days
    pbs = (
        fu.filter(c("s_pb_known"))
        .select(SID, "date", "line", "s_pb_pos", "cr_before")
        .with_columns(_run=(~c("s_pb_pos")).cast(pl.Int32).cum_sum().over(G))
        .with_columns(_after=c("s_pb_pos") & c("cr_before"))
        .with_columns(pb_run_start=c("date").filter(c("_after")).min().over(G + ["_run"]))
        .with_columns(
            pb_confirm=c("_after") & (days(c("date"), c("pb_run_start")) >= gap),
            pb_pending=c("_after") & (days(c("date"), c("pb_run_start")) < gap),
        )
        .select(SID, "date", "pb_run_start", "pb_confirm", "pb_pending")
    )
    fu = fu.join(pbs, on=[SID, "date"], how="left").with_columns(pl.col("pb_confirm", "pb_pending").fill_null(False))
    mar = (
        fu.filter(c("is_assess"))
        .select(SID, "date", "line", "blasts", "regenerating", "cr_before")
        .with_columns(_flag=c("regenerating") & (c("blasts") >= 5) & c("cr_before"))
        .with_columns(
            _prev_flag=c("_flag").shift(1).over(G).fill_null(False),
            _prev_date=c("date").shift(1).over(G),
        )
        .with_columns(
            bm_relapse=(c("blasts") >= 5) & c("cr_before") & ~c("regenerating"),
            bm_date=pl.when(c("_prev_flag")).then(c("_prev_date")).otherwise(c("date")),
            bm_pending=c("_flag"),
        )
        .select(SID, "date", "bm_relapse", "bm_date", "bm_pending")
    )
    fu = fu.join(mar, on=[SID, "date"], how="left").with_columns(pl.col("bm_relapse", "bm_pending").fill_null(False))
    emd_now = c("emd_today") | (c("is_assess") & c("emd").fill_null(False))
    fu = fu.with_columns(emd_relapse=emd_now & c("cr_before"))
    fu = fu.with_columns(
        hem_relapse=c("bm_relapse") | c("pb_confirm") | c("emd_relapse"),
        hem_date=pl.min_horizontal(
            pl.when(c("bm_relapse")).then(c("bm_date")),
            pl.when(c("pb_confirm")).then(c("pb_run_start")),
            pl.when(c("emd_relapse")).then(c("date")),
        ),
        hem_sites=join_str(
            pl.when(c("bm_relapse")).then(pl.lit("MARROW")),
            pl.when(c("pb_confirm")).then(pl.lit("BLOOD")),
            pl.when(c("emd_relapse")).then(pl.lit("EXTRAMEDULLARY")),
            sep=";",
        ),
    ).with_columns(
        hem_pending=(c("pb_pending") | c("bm_pending")) & ~c("hem_relapse"),
    )

    # ---- MRD relapse (§4) --------------------------------------------------------------
    k = 10.0 ** o.mrd_log_increase
    pos = c("mrd_result").is_in(["low_level", "positive"])
    mrd = (
        fu.filter(c("mrd_result").is_not_null())
        .select(SID, "date", "line", "mrd_result", "mrd_level", "mrd_tissue", "cr_so_far")
        .with_columns(
            _seg=(c("mrd_result") == "negative").cast(pl.Int32).cum_sum().over(G),
            _prev=c("mrd_result").shift(1).over(G),
            _tissue=c("mrd_tissue").fill_null(""),
        )
        .with_columns(
            _lv=pl.when(pos).then(c("mrd_level")),
        )
        .with_columns(_minprev=c("_lv").cum_min().shift(1).forward_fill().over(G + ["_seg"]))
        .with_columns(
            _conv=pos & (c("_prev") == "negative") & c("cr_so_far"),
            _log=pos
            & (c("_prev") == "low_level")
            & c("cr_so_far")
            & (c("mrd_level") >= c("_minprev") * k).fill_null(False),
        )
        .with_columns(_cand=c("_conv") | c("_log"), _thr=pl.when(c("_log") & ~c("_conv")).then(c("_minprev") * k))
        .with_columns(
            _pc=c("_cand").shift(1).over(G + ["_tissue"]).fill_null(False),
            _pd=c("date").shift(1).over(G + ["_tissue"]),
            _pthr=c("_thr").shift(1).over(G + ["_tissue"]),
        )
        .with_columns(
            mrd_confirm=pos
            & c("_pc")
            & (days(c("date"), c("_pd")) <= o.mrd_relapse_confirm_days)
            & (c("_pthr").is_null() | (c("mrd_level") >= c("_pthr")).fill_null(False)),
        )
        .with_columns(
            mrd_rel_date=pl.when(c("mrd_confirm")).then(c("_pd")),
            mrd_pending=c("_cand"),
        )
        .with_columns(
            _state=c("mrd_confirm").cum_max().over(G + ["_seg"]),
            mrd_first_date=c("mrd_rel_date").forward_fill().over(G + ["_seg"]),
        )
        .select(SID, "date", "mrd_confirm", "mrd_pending", "_state", "mrd_first_date")
    )
    fu = (
        fu.join(mrd, on=[SID, "date"], how="left")
        .sort(SID, "date")
        .with_columns(
            mrd_state=c("_state").forward_fill().over(G).fill_null(False),
            mrd_first_date=c("mrd_first_date").forward_fill().over(G),
            mrd_confirm=c("mrd_confirm").fill_null(False),
            mrd_pending=c("mrd_pending").fill_null(False),
        )
        .drop("_state")
    )

    # ---- landmark and refractory (§4) -------------------------------------------------
    fw = finding_wide(tables["findings"], {"regimen_intensity": "text"}).filter(c("regimen_intensity").is_not_null())
    segs = segments.select(SID, "line", "reference_start", "end_date")
    segs = value_asof(segs, fw, "reference_start", "regimen_intensity", "_int_before")
    after = fw.sort("date").group_by(SID).agg(_int_after=c("regimen_intensity").first())
    segs = segs.join(after, on=SID, how="left").with_columns(
        intensity=pl.coalesce("_int_before", "_int_after", pl.lit(o.regimen_intensity))
    )
    active = lines.active_treatments(tables["treatments"], frozenset({"maintenance", "continuous"}))
    courses = (
        segs.select(SID, "line", "reference_start", "end_date")
        .join(active.select(SID, "start_date"), on=SID)
        .filter(
            (c("start_date") >= c("reference_start"))
            & (c("end_date").is_null() | (c("start_date") < c("end_date")))
        )
        .group_by(SID, "line")
        .agg(_starts=c("start_date").unique().sort())
        .with_columns(course_k=c("_starts").list.get(o.landmark_courses_intensive - 1, null_on_oob=True))
        .select(SID, "line", "course_k")
    )
    segs = segs.join(courses, on=[SID, "line"], how="left")
    fu = fu.join(segs.select(SID, "line", "intensity", "course_k"), on=[SID, "line"], how="left")
    first_eval_after_k = (
        pl.col("date")
        .filter(c("is_assess") & (c("morph") != "NE") & (c("date") > c("course_k")))
        .min()
        .over(G)
    )
    fu = fu.with_columns(
        landmark=pl.when(c("intensity") == "less_intensive")
        .then(c("reference_start") + pl.duration(days=o.landmark_days_less_intensive))
        .otherwise(first_eval_after_k)
    )
    rank = {cat: i for i, cat in enumerate(ORDER)}
    fu = fu.with_columns(
        cr_by_landmark=(c("crfam") & (c("date") <= c("landmark"))).fill_null(False).any().over(G),
        best_by_landmark_rank=pl.when(c("is_assess") & (c("date") <= c("landmark")))
        .then(c("morph").replace_strict(rank, default=None, return_dtype=pl.Int32))
        .min()
        .over(G),
    ).with_columns(
        best_by_landmark=c("best_by_landmark_rank").replace_strict(
            {i: cat for cat, i in rank.items()}, default=None, return_dtype=pl.String
        ),
        refractory=(
            c("landmark").is_not_null()
            & ~c("cr_by_landmark")
            & (c("date") >= c("landmark"))
            & ~c("crfam")
            & ~(c("is_assess") & (c("morph") == "NE"))
        ).fill_null(False),
    )

    # ---- ELN 2017 legacy PD / SD (§4 legacy options) ------------------------------------
    fu = _eln2017(fu, tables, o)

    # ---- overall response ---------------------------------------------------------------
    mrd_rel_row = c("mrd_state") & ~c("hem_relapse") & (~c("is_assess") | c("crfam"))
    carried = (~c("is_assess")) & c("last_morph").is_in(CR_FAMILY).fill_null(False) & c("mrd_result").is_not_null()
    overall = (
        pl.when(c("hem_relapse")).then(pl.lit("RELAPSED DISEASE FROM CR"))
        .when(mrd_rel_row).then(pl.lit("MRD RELAPSE"))
        .when(c("pd17")).then(pl.lit("PD"))
        .when(c("refractory")).then(pl.lit("TREATMENT FAILURE"))
        .when(c("sd17")).then(pl.lit("SD"))
        .when(c("is_assess")).then(c("morph"))
        .when(carried & ~c("hem_pending")).then(c("last_morph"))
        .otherwise(pl.lit("NE"))
    )
    cmap = canonical_map(o)
    fu = fu.with_columns(overall_response=overall).with_columns(
        canonical_level=pl.when(c("hem_pending") & ~c("hem_relapse"))
        .then(pl.lit(S.PROGRESSION_PENDING))
        .otherwise(c("overall_response").replace_strict(cmap, default=None, return_dtype=pl.String)),
    )
    mrd_prog = pl.lit(o.mrd_relapse_ends_complete) & (c("overall_response") == "MRD RELAPSE")
    pd17 = c("overall_response") == "PD"
    fu = fu.with_columns(
        is_progression_event=c("hem_relapse") | mrd_prog | (pd17 & (c("date") == c("pd17_first"))),
        progression_event_date=pl.when(c("hem_relapse")).then(c("hem_date")).when(mrd_prog).then(c("mrd_first_date"))
        .when(pd17).then(c("pd17_first")),
        pending_progression=c("hem_pending"),
        recurrence_sites=pl.when(c("hem_relapse")).then(c("hem_sites")).when(mrd_prog).then(pl.lit("MOLECULAR")),
        new_lesion=emd_now,
    )

    # ---- explanation, rule ids, warnings ----------------------------------------------
    assess_txt = _assessment_text(o)
    morph_txt = pl.format("{}: {}{}{}", c("morph"), assess_txt, _morph_reason(o), _mrd_text())
    landmark_txt = pl.format(
        "landmark {} ({}); no CR/CRh/CRi by the landmark, best by landmark {}; EFS event date {} (line start)",
        c("landmark").cast(pl.String),
        pl.when(c("intensity") == "less_intensive")
        .then(pl.format("line start + {} days", pl.lit(o.landmark_days_less_intensive)))
        .otherwise(pl.format("first evaluable assessment after course {}", pl.lit(o.landmark_courses_intensive))),
        pl.coalesce(c("best_by_landmark"), pl.lit("none")),
        c("reference_start").cast(pl.String),
    )
    pb_txt = pl.when(c("s_pb_pct").is_not_null()).then(pl.format("{}%", num(c("s_pb_pct")))).otherwise(pl.lit("present"))
    hem_txt = join_str(
        pl.when(c("bm_relapse")).then(
            pl.format(
                "marrow blasts {}% (>= 5%) after CR/CRh/CRi{}",
                num(c("blasts")),
                pl.when(c("bm_date") != c("date"))
                .then(pl.format(", repeat of the regenerating marrow of {}", c("bm_date").cast(pl.String)))
                .otherwise(pl.lit("")),
            )
        ),
        pl.when(c("pb_confirm")).then(
            pl.format(
                "blasts in blood {} and on {}, {} days apart (>= {})",
                pb_txt,
                c("pb_run_start").cast(pl.String),
                days(c("date"), c("pb_run_start")),
                pl.lit(gap),
            )
        ),
        pl.when(c("emd_relapse")).then(pl.lit("new extramedullary disease after CR/CRh/CRi")),
        sep="; ",
    )
    other_txt = (
        pl.when(c("mrd_result").is_not_null())
        .then(
            pl.format(
                "MRD {}{}{}",
                c("mrd_result").str.replace("_", " "),
                pl.when(c("mrd_level").is_not_null()).then(pl.format(" ({}%)", num(c("mrd_level")))).otherwise(pl.lit("")),
                pl.when(c("mrd_tissue").is_not_null())
                .then(pl.format(" in {}", c("mrd_tissue").str.to_uppercase()))
                .otherwise(pl.lit("")),
            )
        )
        .when(c("s_pb_pos"))
        .then(pl.format("blood sample with blasts {}", pb_txt))
        .when(c("emd_today"))
        .then(pl.lit("extramedullary disease present"))
        .otherwise(pl.lit("no marrow"))
    )
    base_txt = pl.when(c("is_assess")).then(morph_txt).otherwise(other_txt)
    expl = (
        pl.when(c("hem_relapse"))
        .then(pl.format("RELAPSED DISEASE FROM CR: {}; relapse date {}", hem_txt, c("hem_date").cast(pl.String)))
        .when(c("overall_response") == "MRD RELAPSE")
        .then(
            pl.format(
                "MRD RELAPSE: {}; {}MRD relapse since {}",
                base_txt,
                pl.when(c("mrd_confirm")).then(pl.lit("confirms the conversion; ")).otherwise(pl.lit("")),
                c("mrd_first_date").cast(pl.String),
            )
        )
        .when(c("overall_response") == "PD")
        .then(pl.format("PD (ELN 2017): {}; {}", c("pd17_txt"), base_txt))
        .when(c("overall_response") == "TREATMENT FAILURE")
        .then(pl.format("TREATMENT FAILURE (refractory): {}; {}", base_txt, landmark_txt))
        .when(c("overall_response") == "SD")
        .then(pl.format("SD (ELN 2017): no response {} days after the line start {} (>= 90); {}",
                        days(c("date"), c("reference_start")), c("reference_start").cast(pl.String), base_txt))
        .when(c("is_assess"))
        .then(
            pl.format(
                "{}{}",
                morph_txt,
                pl.when(c("hem_pending"))
                .then(pl.lit("; relapse pending (needs a second blood sample or a repeat marrow)"))
                .otherwise(pl.lit("")),
            )
        )
        .when(c("hem_pending"))
        .then(
            pl.format(
                "NE: {} after CR/CRh/CRi; relapse pending until a second sample >= {} days after {}",
                other_txt,
                pl.lit(gap),
                c("pb_run_start").cast(pl.String),
            )
        )
        .when(c("overall_response") != "NE")
        .then(pl.format("{}: {}; morphology carried from the last marrow", c("overall_response"), other_txt))
        .otherwise(pl.format("NE: {}; not a response assessment", other_txt))
    )
    fu = fu.with_columns(
        explanation=expl,
        rule_ids=join_str(
            _morph_rule(o),
            pl.when(c("bm_relapse")).then(pl.lit("HR-BM")),
            pl.when(c("pb_confirm")).then(pl.lit("HR-PB")),
            pl.when(c("hem_pending") & c("pb_pending")).then(pl.lit("HR-PB-PENDING")),
            pl.when(c("emd_relapse")).then(pl.lit("HR-EMD")),
            pl.when(c("overall_response") == "MRD RELAPSE").then(pl.lit("MRD-R")),
            pl.when(c("is_assess") & c("crfam") & (c("mrd_q_result") == "negative")).then(pl.lit("MRD-NEG")),
            pl.when(c("is_assess") & c("crfam") & (c("mrd_q_result") == "low_level")).then(pl.lit("MRD-LL")),
            pl.when(c("refractory")).then(pl.lit("RF")),
            pl.when(c("overall_response") == "PD").then(c("pd17_rules")),
            pl.when(c("overall_response") == "SD").then(pl.lit("SD-2017")),
            sep=",",
        ),
        warnings=join_str(
            pl.when(c("mrd_pending") & ~c("mrd_state")).then(pl.lit("MRD_CONVERSION_PENDING")),
            pl.when(c("bm_pending")).then(pl.lit("REGENERATING_MARROW")),
            pl.when(c("is_assess") & c("auer") & pl.lit(o.require_no_auer_rods)).then(pl.lit("AUER_RODS")),
            pl.when(c("is_assess") & ~c("pb_known") & pl.lit(o.assume_no_pb_blasts_when_missing)).then(
                pl.lit("PB_BLASTS_ASSUMED_ABSENT")
            ),
            pl.when(c("is_assess") & c("plt_tainted")).then(pl.lit("PLATELETS_AFTER_TRANSFUSION")),
            c("mrd_warn"),
            sep=";",
        ),
        target_response=c("morph"),
        non_target_response=pl.when(c("is_assess") & c("crfam"))
        .then(
            c("mrd_q_result").replace_strict(
                {"negative": "MRD NEGATIVITY", "low_level": "QUANTIFIABLE MRD POSITIVITY"}, default=None
            )
        ),
    )
    out_fu = fu.filter(c("is_output")).with_columns(
        value=c("blasts"),
        baseline_value=c("b0"),
        change_from_baseline_pct=c("chg"),
        change_from_nadir_pct=pl.when(c("nadir_value") > 0).then((c("blasts") - c("nadir_value")) / c("nadir_value") * 100),
        change_from_nadir_abs=c("blasts") - c("nadir_value"),
    )
    out_base = base.filter(c("is_output")).with_columns(
        value=c("blasts"),
        baseline_value=c("b0"),
        explanation=pl.when(c("is_assess"))
        .then(pl.format("Baseline: {}", _assessment_text(o)))
        .otherwise(pl.lit("Baseline (before treatment)")),
        target_response=c("morph"),
        new_lesion=c("emd_today") | c("emd").fill_null(False),
    )
    return to_timepoints(pl.concat([out_fu, out_base], how="diagonal_relaxed"), CODE)


#: ELN 2017 "3 months" (choice: 90 days)
ELN2017_MONTHS3_DAYS = 90


def _eln2017(fu: pl.DataFrame, tables, o: Eln2022Options) -> pl.DataFrame:
    """ELN 2017 legacy PD and SD (eln2022_aml.md §4 legacy options; module docstring).
    Adds ``pd17`` (bool), ``pd17_first`` (first PD date of the line), ``pd17_rules``,
    ``pd17_txt`` and ``sd17`` (bool)."""
    c = pl.col
    G = [SID, "line"]
    if not (o.eln2017_progressive_disease or o.eln2017_stable_disease):
        return fu.with_columns(
            pd17=pl.lit(False), sd17=pl.lit(False), pd17_first=pl.lit(None, dtype=pl.Date),
            pd17_rules=pl.lit(None, dtype=pl.String), pd17_txt=pl.lit(None, dtype=pl.String),
        )
    labs = tables["labs"]
    cnt = lab_wide(labs, {"anc": "min", "platelets": "min", "wbc": "max", "pb_blasts_pct": "max"})
    fu = value_asof(fu, cnt, "baseline_date", "anc", "anc0")
    fu = value_asof(fu, cnt, "baseline_date", "platelets", "plt0")
    fu = value_asof(fu, cnt, "baseline_date", "wbc", "wbc0")
    fu = value_asof(fu, cnt, "baseline_date", "pb_blasts_pct", "pbp0")
    fw = finding_wide(tables["findings"], {"extramedullary_disease": "bool", "differentiation_syndrome": "bool"})
    fu = value_asof(fu, fw, "baseline_date", "extramedullary_disease", "emd0")
    wbc = cnt.select(SID, "date", "wbc").filter(c("wbc").is_not_null())
    fu = (
        fu.join(wbc.rename({"date": "mdate", "wbc": "_wm"}), on=[SID, "mdate"], how="left")
        .join(wbc.rename({"date": "cdate", "wbc": "_wc"}), on=[SID, "cdate"], how="left")
        .join(fw.select(SID, c("date").alias("mdate"), c("differentiation_syndrome").alias("_ds")), on=[SID, "mdate"], how="left")
    )
    p = pl.when(~c("plt_tainted").fill_null(False)).then(c("plt"))
    improved = (
        ((c("anc") >= 2 * c("anc0")) & (c("anc") > 0.5)).fill_null(False)
        | ((p >= 2 * c("plt0")) & (p > 50)).fill_null(False)
    )
    a = c("is_assess") & ~c("cr_before") & ~c("crfam")
    bm_up = (c("blasts") > 1.5 * c("b0")) & ((c("b0") >= 30) | (c("blasts") - c("b0") >= 15))
    # uninterrupted run of assessments with blasts > 70 % (§4 "persistently > 70 % for >= 3 months")
    hi = fu.filter(c("is_assess")).select(SID, "line", "date", "blasts").sort(SID, "date").with_columns(
        _run=(~(c("blasts") > 70)).cast(pl.Int32).cum_sum().over(G)
    ).with_columns(_run0=pl.when(c("blasts") > 70).then(c("date")).min().over(G + ["_run"])).select(SID, "date", "_run0")
    fu = fu.join(hi, on=[SID, "date"], how="left")
    bm70 = (c("blasts") > 70) & (days(c("date"), c("_run0")) >= ELN2017_MONTHS3_DAYS)
    pb_abs = pl.coalesce("_wc", "_wm") * c("pb_pct") / 100.0
    pb0_abs = c("wbc0") * c("pbp0") / 100.0
    pb_up = (pb_abs > 25) & (pb_abs > 1.5 * pb0_abs) & ~c("_ds").fill_null(False)
    emd_new = c("emd").fill_null(False) & ~c("emd0").fill_null(False)
    on = pl.lit(o.eln2017_progressive_disease)
    fu = fu.with_columns(
        _r_bm=(on & a & bm_up & ~improved).fill_null(False),
        _r_70=(on & a & bm70 & ~improved).fill_null(False),
        _r_pb=(on & a & pb_up).fill_null(False),
        _r_emd=(on & a & emd_new).fill_null(False),
        _pb_abs=pb_abs,
        _pb0_abs=pb0_abs,
    ).with_columns(pd17=c("_r_bm") | c("_r_70") | c("_r_pb") | c("_r_emd"))
    fu = fu.with_columns(
        pd17_first=pl.when(c("pd17")).then(c("date")).min().over(G),
        pd17_rules=join_str(
            pl.when(c("_r_bm")).then(pl.lit("PD-BM")), pl.when(c("_r_70")).then(pl.lit("PD-BM70")),
            pl.when(c("_r_pb")).then(pl.lit("PD-PB")), pl.when(c("_r_emd")).then(pl.lit("PD-EMD")), sep=",",
        ),
        pd17_txt=join_str(
            pl.when(c("_r_bm")).then(pl.format(
                "marrow blasts {}% vs pre-treatment {}% (> +50%{}), no count recovery",
                num(c("blasts")), num(c("b0")), pl.when(c("b0") < 30).then(pl.lit(" and >= +15 points")).otherwise(pl.lit("")))),
            pl.when(c("_r_70")).then(pl.format(
                "marrow blasts {}% > 70% since {} ({} days >= {})", num(c("blasts")), c("_run0").cast(pl.String),
                days(c("date"), c("_run0")), pl.lit(ELN2017_MONTHS3_DAYS))),
            pl.when(c("_r_pb")).then(pl.format(
                "peripheral blasts {} x10^9/L (> 25 and > +50% over baseline {})", num(c("_pb_abs")), num(c("_pb0_abs")))),
            pl.when(c("_r_emd")).then(pl.lit("new extramedullary disease")),
            sep="; ",
        ),
    )
    # SD (§4 legacy): no response (and no PD so far in the line) lasting >= 3 months
    pd_so_far = c("pd17").cast(pl.Int32).cum_sum().over(G) > 0
    fu = fu.sort(SID, "date").with_columns(
        sd17=(
            pl.lit(o.eln2017_stable_disease) & c("is_assess") & (c("morph") == "NO RESPONSE") & ~pd_so_far
            & (days(c("date"), c("reference_start")) >= ELN2017_MONTHS3_DAYS)
        ).fill_null(False)
    )
    return fu.drop("_wm", "_wc", "_ds", "_run0", "_r_bm", "_r_70", "_r_pb", "_r_emd", "_pb_abs", "_pb0_abs",
                   "anc0", "plt0", "wbc0", "pbp0", "emd0")


def evaluate(tables, segments: pl.DataFrame, options: Eln2022Options | None = None) -> pl.DataFrame:
    """Same as :func:`run` (the registry's ``evaluate`` slot)."""
    return run(tables, segments, options)

#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def best_response_rule(o: Eln2022Options) -> BestResponseRule:
    """eln2022_aml.md §3: the best category reached at a response assessment (no confirmation)."""
    return BestResponseRule(order=ORDER, confirmation="at_time_point", confirm_days=0)

CRITERION = Criterion(
    code=CODE,
    cancer_types=("aml",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=CANONICAL,
    options_model=Eln2022Options,
    run=run,
    dates=assessment_dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=(
            "CR", "CRh", "CRi", "MLFS", "MORPHOLOGIC LEUKEMIA-FREE STATE", "PR", "NO RESPONSE",
            "TREATMENT FAILURE", "MRD RELAPSE", "MRD NEGATIVITY", "QUANTIFIABLE MRD POSITIVITY",
        ) + _GENERIC,  # fmt: skip
        # CDISC spellings of stated responses (remission_model.md §10.2)
        levels={
            "CR WITH INCOMPLETE HEMATOLOGIC RECOVERY": S.COMPLETE,
            "CR WITH PARTIAL HEMATOLOGIC RECOVERY": S.COMPLETE,
            "MORPHOLOGIC LEUKEMIA-FREE STATE": S.PARTIAL,
        },
        findings={
            "extramedullary_disease": FindingRule(
                values=BOOL_SPELLINGS, store="boolean", expected="a boolean (true/false, 1/0, yes/no, y/n)"
            ),
            "marrow_adequate": boolean_finding(),
            "auer_rods": boolean_finding(),
            "circulating_blasts": boolean_finding(),
            "regenerating_marrow": boolean_finding(),
            "platelet_transfusion": boolean_finding(),
            "mrd": FindingRule(values=MRD_VALUES, strip=True),
            "mrd_tissue": FindingRule(values=("bm", "pb"), strip=True),
            "regimen_intensity": FindingRule(values=("intensive", "less_intensive"), strip=True),
        },
    ),
    presentation=Presentation(
        label="ELN 2022",
        plain_name="ELN",
        introduction="The ELN rules are used to judge acute myeloid leukaemia.",
        value_label="Bone marrow blasts (%)",
        evidence=("lab",),
    ),
)


__all__ = [
    "CODE",
    "ORDER",
    "CANONICAL",
    "CRITERION",
    "Eln2022Options",
    "MrdThresholds",
    "FINDING_VALUES",
    "canonical_map",
    "response_assessments",
    "assessment_dates",
    "run",
]

