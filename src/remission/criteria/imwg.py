"""IMWG 2016 multiple-myeloma response (criteria/imwg.md), vectorised over all subjects.

Inputs (labs, canonical units of :mod:`remission.units`): ``serum_m_protein`` (g/dL),
``urine_m_protein`` (mg/24h), ``involved_flc`` / ``uninvolved_flc`` or ``flc_kappa`` /
``flc_lambda`` (mg/dL), ``flc_ratio``, ``marrow_plasma_cells_pct`` (%).

Finding codes read (findings table, values case-insensitive):

* ``serum_ife``, ``urine_ife``: ``positive`` / ``negative`` (immunofixation, §2.2);
* ``marrow_clonality``: ``clonal`` / ``not_clonal`` (IHC κ/λ or flow, sCR, §3.2);
* ``plasmacytoma_spd``: sum of products of the soft-tissue plasmacytomas, mm² (0 = all
  gone; a value at or before baseline means plasmacytomas at baseline, §3.2);
* ``new_bone_lesion``, ``new_plasmacytoma``: boolean, definite new lesion (PD6).
* ``mrd`` (``negative``/``positive``) with ``mrd_method`` (``ngf``/``ngs``) and
  ``mrd_sensitivity`` (e.g. ``1e-5``) on the same date; ``pet_ct`` (``negative`` /
  ``negative_per_imwg`` / ``positive``): MRD categories (§5.1) and relapse from
  MRD-negative (§5.4); carried forward until superseded (one MRD record per date);
* ``hypercalcaemia`` (boolean) or lab ``serum_calcium`` > 11 mg/dL: relapse from CR (§5.3);
* ``exclude_from_nadir``: value = the test code of a value judged spurious on that date
  (``serum_m_protein``, ``urine_m_protein``, an FLC code or ``dflc``,
  ``marrow_plasma_cells_pct``, ``pb_plasma_cells``, ``plasmacytoma_spd``); one row per value.

Lab ``pb_plasma_cells`` (10^9/L; 200 cells/µL = 0.2): PD7 when it is the only measure of
disease (rule ``M-C``).

Rules (rule ids in ``rule_ids``):

* measurable disease and the response parameter hierarchy (§2.1): ``M-S`` serum ≥ 1.0 g/dL,
  ``M-U`` urine ≥ 200 mg/24h, ``M-F`` involved FLC ≥ 10 mg/dL with abnormal ratio (only if
  neither serum nor urine), ``M-B`` BMPC ≥ 30 % (only if none of the others);
* PD1–PD6 (§3.1) against the nadir (lowest value at baseline or any earlier assessment of
  the line); nadir 0: any increase meets the relative condition (§3.1);
* response levels ``sCR``, ``CR``, ``VGPR``, ``PR``, ``MR``, ``SD`` (§3.2): the lowest
  per-parameter level of the required parameters, VGPR gate (serum and urine both studied,
  urine < 100 mg/24h, serum −90 % or not detectable), CR/sCR conditions;
* confirmation (§4, admiralonco table) ``CONF``: the confirmed status is the running
  maximum (PD > sCR > … > SD > NE) of the per-assessment confirmed values.

Outputs: ``overall_response`` is the unconfirmed category at the date (as it stood,
spec/tables.md); ``canonical_level`` is that of the **confirmed** status
(remission_model.md §3 "IMWG (confirmed status)"): sCR/CR COMPLETE, VGPR/PR PARTIAL,
MR MINOR, SD STABLE, an unconfirmed biochemical PD awaiting its confirming sample
PROGRESSION_PENDING, a confirmed PD PROGRESSION with ``progression_event_date`` = the first
of the two samples (that row carries ``is_progression_event``; later rows of the line stay
PROGRESSION).  ``value`` is the hierarchy's parameter (serum M-protein, else urine, dFLC,
BMPC).

Choices where the spec is silent (also in docs/criteria_blood.md):

* an electrophoresis value of 0 means "not detectable by electrophoresis"; a negative
  IFE without an electrophoresis value counts as 0 (IFE-negative implies
  electrophoresis-negative, §6 edge case 5);
* a required parameter missing at a date (measurable at baseline, no value) makes the
  date NE (no level can be established), unless a PD rule fires;
* IFE results are used on their own date only (biochemical); marrow (BMPC, clonality) and
  imaging (plasmacytoma SPD) are carried forward until superseded (§4,
  ``carry_forward_marrow_imaging``);
* the κ/λ clone is the larger chain at baseline when only κ and λ are given;
  ``flc_ratio`` defaults to κ/λ;
* CR needs at least the PR level of the required parameters (so that CR never
  skips a missing required parameter);
* PD5 compares marrow values measured that day;
* PD7 (§3.1): "≥ 50 % increase (minimum 200 cells/µL)" read as ≥ 50 % **and** an absolute
  increase ≥ 0.2 x10^9/L over the nadir (as the other PD floors); applies only when no
  serum/urine/FLC/marrow parameter is measurable and baseline ``pb_plasma_cells`` > 0;
  biochemical (needs confirmation); a nadir of 0 meets the relative condition (§3.1);
* ``exclude_from_nadir`` (§2.2): the value is left out of the nadir (also a flagged
  baseline value); it is still used as the current value and as baseline for reductions;
* MRD (§5.1), reported in ``non_target_response`` (and rule ``MRD:<category>``) only on
  rows whose ``canonical_level`` is COMPLETE ("only for patients in CR";
  remission_model.md §3 "MRD category" qualifies CR/sCR): ``SUSTAINED_MRD_NEGATIVE`` >
  ``IMAGING_PLUS_MRD_NEGATIVE`` > ``FLOW_MRD_NEGATIVE`` / ``SEQUENCING_MRD_NEGATIVE``;
  ``MRD_POSITIVE``; ``MRD_INDETERMINATE_SENSITIVITY`` (sensitivity worse than
  ``mrd_min_sensitivity`` **or missing**, choice); ``MRD_INDETERMINATE_METHOD`` (negative
  by another or no method, choice).  Sustained = within one uninterrupted run of
  imaging-plus-negative dates, both the marrow test and the PET-CT repeated negative
  >= ``sustained_mrd_min_days`` after the run's first (choice: both modalities; the
  explanation gives the days).  The spec defines no CDISC codes for these;
* relapse from CR (§5.3), rule/warning ``RELAPSE_FROM_CR``: on a follow-up whose confirmed
  status is CR/sCR, any of serum/urine IFE positive, serum/urine electrophoresis > 0 (unless
  that day's IFE of the same fluid is negative), marrow plasma cells >= 5 % measured that
  day, PD6 lesions, hypercalcaemia.  ``overall_response`` stays as computed (e.g. VGPR; not
  PD, §3.2); ``canonical_level`` becomes PARTIAL from that date until a later assessment is
  itself a confirmed CR/sCR (remission_model.md §3 and §6.6, so the lifecycle sets
  ``complete_end_date``).  Choice: no confirmation is required (§4 does not list relapse
  categories; Durie 2006 may ask two assessments for relapse — not verified here);
* relapse from MRD-negative (§5.4), rule/warning ``RELAPSE_FROM_MRD_NEGATIVE``: the previous
  follow-up was valid MRD-negative (PET not positive) in CR and now MRD or PET-CT is positive
  or relapse from CR fires.  Loss of MRD negativity alone does not change the level (CR
  criteria still hold; same as ELN MRD relapse in remission_model.md §3);
* IFE modifiers (findings, boolean, used on the date they are given; they never create an
  assessment date): ``daratumumab_interference`` (§2.2, §3.2 "treat IFE as negative"): a
  positive **serum** IFE on that date is read as negative (choice: the therapeutic IgG-κ
  antibody is a serum protein; urine IFE is left alone), rule/warning
  ``IFE_DARATUMUMAB_INTERFERENCE``; ``different_isotype_band`` (§6 edge case 8): the
  positive serum and/or urine IFE of that date shows a band of another isotype than the
  original clone, so it neither denies CR nor counts as relapse from CR (§5.3) — read as
  negative, rule/warning ``IFE_DIFFERENT_ISOTYPE_BAND``.  Electrophoresis values are kept as
  measured (choice: the flag speaks of the IFE band; a measured M-spike still counts for
  PD and the partial levels);
* clinical relapse (§5.2, optional endpoint, not PD and not used for PFS): rule/warning
  ``CLINICAL_RELAPSE`` on the **first** follow-up of a line showing any of: new bone lesion
  or plasmacytoma (``new_bone_lesion``, ``new_plasmacytoma``), definite growth of existing
  lesions (finding ``bone_lesion_growth``: caller-judged ">= 50 % and >= 1 cm"),
  hypercalcaemia (``serum_calcium`` > 11 mg/dL or ``hypercalcaemia``), haemoglobin fall
  >= 2 g/dL from the line's baseline (lab ``hemoglobin``; choice: attribution "not due to
  therapy or other causes" cannot be checked from data and is left to the reader, the
  explanation says so), creatinine rise >= 2 mg/dL attributable to myeloma (finding
  ``creatinine_rise``, boolean: creatinine is not a lab of remission.units), hyperviscosity
  (finding ``hyperviscosity``).  It changes no level (the PD rules decide PD); choice: only
  on assessment dates of the IMWG tests, and only once per line;
* not implemented: ``nadir_uses_confirmed_values_only``;
* floating-point comparisons at a threshold use a 1e-9 tolerance (so 0.9 − 0.4 ≥ 0.5).
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S

from . import _labs as L
from .base import BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding

CODE = "imwg2016"
ORDER = ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE")
CANONICAL = {
    "sCR": S.COMPLETE,
    "CR": S.COMPLETE,
    "VGPR": S.PARTIAL,
    "PR": S.PARTIAL,
    "MR": S.MINOR,
    "SD": S.STABLE,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
}
TESTS = (
    "serum_m_protein",
    "urine_m_protein",
    "involved_flc",
    "uninvolved_flc",
    "flc_kappa",
    "flc_lambda",
    "flc_ratio",
    "marrow_plasma_cells_pct",
    "pb_plasma_cells",
    "serum_calcium",
)
FINDINGS = (
    "serum_ife", "urine_ife", "marrow_clonality", "plasmacytoma_spd", "new_bone_lesion", "new_plasmacytoma",
    "mrd", "mrd_method", "mrd_sensitivity", "pet_ct", "hypercalcaemia",
)
#: read on assessment dates only, never creating one (IFE modifiers §3.2/§6.8, clinical
#: relapse items §5.2)
EXTRA_FINDINGS = ("daratumumab_interference", "different_isotype_band", "bone_lesion_growth", "hyperviscosity", "creatinine_rise")
EXTRA_TESTS = ("hemoglobin",)
#: haemoglobin fall (g/dL) from baseline counted as clinical relapse (imwg.md §5.2)
HB_FALL_G_DL = 2.0
#: ``exclude_from_nadir`` values (test codes) -> nadir parameter (imwg.md §2.2, §3.1)
NADIR_KEYS = {
    "serum_m_protein": "xs", "urine_m_protein": "xu", "dflc": "xf", "involved_flc": "xf", "uninvolved_flc": "xf",
    "flc_kappa": "xf", "flc_lambda": "xf", "marrow_plasma_cells_pct": "xb", "pb_plasma_cells": "xc",
    "plasmacytoma_spd": "xp",
}
#: MRD categories (imwg.md §5.1), reported in ``non_target_response`` on COMPLETE rows
MRD_CATEGORIES = (
    "SUSTAINED_MRD_NEGATIVE", "IMAGING_PLUS_MRD_NEGATIVE", "FLOW_MRD_NEGATIVE", "SEQUENCING_MRD_NEGATIVE",
    "MRD_POSITIVE", "MRD_INDETERMINATE_SENSITIVITY", "MRD_INDETERMINATE_METHOD",
)
#: serum calcium above this (mg/dL) is hypercalcaemia (imwg.md §5.2)
HYPERCALCAEMIA_MG_DL = 11.0

#: confirmation order (admiralonco aval_resp_conf): PD highest
NUM = {"NE": 1, "SD": 2, "MR": 3, "PR": 4, "VGPR": 5, "CR": 6, "sCR": 7, "PD": 8}
NAME = {v: k for k, v in NUM.items()}
EPS = 1e-9


class ImwgOptions(BaseModel):
    """imwg.md §8 parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flc_ratio_normal_range: tuple[float, float] = (0.26, 1.65)
    confirm_warn_days: int = Field(84, ge=0)
    nadir_uses_confirmed_values_only: bool = False
    mrd_min_sensitivity: float = 1e-5
    sustained_mrd_min_days: int = Field(365, ge=0)
    include_mr_as_response: bool = True
    pd_confirm_after_new_therapy: bool = True
    best_response_confirm_days: int = Field(
        1, ge=0, description="Confirmed best response: a time point is confirmed by the next evaluable assessment "
        "at least this many days later (imwg.md §4: two consecutive assessments; 1 = the next sample)."
    )
    carry_forward_marrow_imaging: bool = True


def dates(tables) -> pl.DataFrame:
    """Assessment dates: lab dates of the IMWG tests and dates of the IMWG findings."""
    labs = tables["labs"].filter(pl.col("test").is_in(list(TESTS)))
    fnd = tables["findings"].filter(pl.col("finding").is_in(list(FINDINGS)))
    return L.union_dates(labs, fnd)


def _ge(a: pl.Expr, b: float | pl.Expr) -> pl.Expr:
    return a >= (b - EPS if isinstance(b, (int, float)) else b - EPS)


def _wide(tables, options: ImwgOptions) -> pl.DataFrame:
    labs = L.wide_labs(tables["labs"], TESTS)
    fnd = L.wide_findings(tables["findings"], FINDINGS)
    keys = L.union_dates(labs, fnd)
    w = keys.join(labs, on=["subject_id", "date"], how="left").join(fnd, on=["subject_id", "date"], how="left")
    xl = L.wide_labs(tables["labs"], EXTRA_TESTS)
    xf = L.wide_findings(tables["findings"], EXTRA_FINDINGS)
    w = w.join(xl, on=["subject_id", "date"], how="left").join(xf, on=["subject_id", "date"], how="left")
    c = pl.col
    # §3.2 daratumumab interference (serum IFE) and §6.8 different isotype band (both fluids):
    # a flagged positive IFE is read as negative; the raw result is kept for the explanation
    dara = L.as_bool(c("daratumumab_interference")).fill_null(False)
    band = L.as_bool(c("different_isotype_band")).fill_null(False)
    w = w.with_columns(
        ife_dara=(c("serum_ife") == "positive").fill_null(False) & dara,
        ife_band=((c("serum_ife") == "positive") | (c("urine_ife") == "positive")).fill_null(False) & band,
    ).with_columns(
        serum_ife=pl.when((c("serum_ife") == "positive") & (dara | band)).then(pl.lit("negative")).otherwise(c("serum_ife")),
        urine_ife=pl.when((c("urine_ife") == "positive") & band).then(pl.lit("negative")).otherwise(c("urine_ife")),
    )
    w = w.sort("subject_id", "date").with_columns(
        spd=L.as_float(pl.col("plasmacytoma_spd")),
        new_bone=L.as_bool(pl.col("new_bone_lesion")).fill_null(False),
        new_pc=L.as_bool(pl.col("new_plasmacytoma")).fill_null(False),
        ratio=pl.coalesce("flc_ratio", pl.col("flc_kappa") / pl.col("flc_lambda")),
    )
    w = _exclusions(tables["findings"], w)
    w = _mrd_state(w, options)
    if options.carry_forward_marrow_imaging:
        w = w.with_columns(
            bmpc_c=L.carried("marrow_plasma_cells_pct"),
            clon_c=L.carried("marrow_clonality"),
            spd_c=L.carried("spd"),
        )
    else:
        w = w.with_columns(bmpc_c=pl.col("marrow_plasma_cells_pct"), clon_c=pl.col("marrow_clonality"), spd_c=pl.col("spd"))
    return w


def _exclusions(findings: pl.DataFrame, w: pl.DataFrame) -> pl.DataFrame:
    """§2.2 ``exclude_from_nadir``: one finding row per excluded value, ``value`` = the test
    code (FLC codes and ``dflc`` exclude the dFLC; ``plasmacytoma_spd`` the SPD).  Adds the
    Boolean columns ``xs, xu, xf, xb, xc, xp`` (serum, urine, dFLC, BMPC, circulating plasma
    cells, plasmacytoma SPD) to the wide frame."""
    flags = sorted(set(NADIR_KEYS.values()))
    x = findings.filter(pl.col("finding") == "exclude_from_nadir").with_columns(
        _k=pl.col("value").str.to_lowercase().str.strip_chars().replace_strict(NADIR_KEYS, default=None)
    )
    if x.height:
        x = x.group_by("subject_id", "date").agg([(pl.col("_k") == f).any().alias(f) for f in flags])
        w = w.join(x, on=["subject_id", "date"], how="left")
    else:
        w = w.with_columns([pl.lit(None, dtype=pl.Boolean).alias(f) for f in flags])
    return w.with_columns([pl.col(f).fill_null(False) for f in flags])


def _mrd_state(w: pl.DataFrame, options: ImwgOptions) -> pl.DataFrame:
    """§5.1 MRD state per subject and date (marrow MRD and PET-CT carried forward until
    superseded, like marrow and imaging in §4).

    * ``mrd_valid_neg``: the latest MRD record is negative, by ``ngf``/``ngs``, with
      ``mrd_sensitivity`` <= ``mrd_min_sensitivity`` (1e-5); a negative record with a worse or
      missing sensitivity is ``MRD_INDETERMINATE_SENSITIVITY``, with another or no method
      ``MRD_INDETERMINATE_METHOD`` (choice: §5.1 only defines NGF and NGS negativity);
    * imaging-plus: also the latest ``pet_ct`` negative (``negative`` or ``negative_per_imwg``);
    * sustained (§5.1): within one uninterrupted run of imaging-plus-MRD-negative dates, both
      the marrow MRD test and the PET-CT were repeated negative >= ``sustained_mrd_min_days``
      after the run's first ones (choice: "confirmed at least 1 year apart" read for both).
    """
    c = pl.col
    sid = ["subject_id"]
    has = c("mrd").is_not_null()
    w = w.with_columns(
        mrd_c=L.carried("mrd"),
        mrd_date_c=pl.when(has).then(c("date")).forward_fill().over(sid),
        mrd_method_c=pl.when(has).then(c("mrd_method")).forward_fill().over(sid),
        mrd_sens_c=pl.when(has).then(L.as_float(c("mrd_sensitivity"))).forward_fill().over(sid),
        pet_c=L.carried("pet_ct"),
        pet_date_c=pl.when(c("pet_ct").is_not_null()).then(c("date")).forward_fill().over(sid),
    )
    neg = c("mrd_c") == "negative"
    method_ok = c("mrd_method_c").is_in(["ngf", "ngs"]).fill_null(False)
    sens_ok = (c("mrd_sens_c") <= options.mrd_min_sensitivity * (1 + 1e-9)).fill_null(False)
    w = w.with_columns(
        mrd_valid_neg=(neg & method_ok & sens_ok).fill_null(False),
        pet_neg=c("pet_c").is_in(["negative", "negative_per_imwg"]).fill_null(False),
        pet_pos=(c("pet_c") == "positive").fill_null(False),
    ).with_columns(imn=c("mrd_valid_neg") & c("pet_neg"))
    w = w.with_columns(_run=(~c("imn")).cast(pl.Int32).cum_sum().over(sid)).with_columns(
        _m0=pl.when(c("imn")).then(c("mrd_date_c")).min().over(["subject_id", "_run"]),
        _p0=pl.when(c("imn")).then(c("pet_date_c")).min().over(["subject_id", "_run"]),
    ).with_columns(
        mrd_neg_days=pl.when(c("imn")).then(
            pl.min_horizontal((c("mrd_date_c") - c("_m0")).dt.total_days(), (c("pet_date_c") - c("_p0")).dt.total_days())
        ),
    )
    cat = (
        pl.when(c("mrd_c").is_null()).then(None)
        .when(c("mrd_c") == "positive").then(pl.lit("MRD_POSITIVE"))
        .when(~neg).then(None)
        .when(~method_ok).then(pl.lit("MRD_INDETERMINATE_METHOD"))
        .when(~sens_ok).then(pl.lit("MRD_INDETERMINATE_SENSITIVITY"))
        .when(c("imn") & (c("mrd_neg_days") >= options.sustained_mrd_min_days)).then(pl.lit("SUSTAINED_MRD_NEGATIVE"))
        .when(c("imn")).then(pl.lit("IMAGING_PLUS_MRD_NEGATIVE"))
        .when(c("mrd_method_c") == "ngf").then(pl.lit("FLOW_MRD_NEGATIVE"))
        .otherwise(pl.lit("SEQUENCING_MRD_NEGATIVE"))
    )
    return w.with_columns(mrd_cat=cat).drop("_run", "_m0", "_p0")


def _frame(tables, segments: pl.DataFrame, options: ImwgOptions) -> pl.DataFrame:
    w = _wide(tables, options)
    base_cols = ["serum_m_protein", "urine_m_protein", "involved_flc", "uninvolved_flc", "flc_kappa",
                 "flc_lambda", "ratio", "marrow_plasma_cells_pct", "spd", "pb_plasma_cells"]
    base = L.baseline_values(w, segments, base_cols)
    c = pl.col
    # §2.2 exclude_from_nadir at the baseline value's own date: flag bx_<flag>
    for col, flag in (("serum_m_protein", "xs"), ("urine_m_protein", "xu"), ("marrow_plasma_cells_pct", "xb"),
                      ("pb_plasma_cells", "xc"), ("spd", "xp"), ("flc", "xf")):
        dcol = f"base_{col}_date"
        if col == "flc":
            base = base.with_columns(_bfd=pl.coalesce("base_involved_flc_date", "base_flc_kappa_date"))
            dcol = "_bfd"
        xs = w.select("subject_id", pl.col("date").alias(dcol), pl.col(flag).alias(f"bx_{flag}"))
        base = base.join(xs, on=["subject_id", dcol], how="left").with_columns(c(f"bx_{flag}").fill_null(False))
    base = base.drop("_bfd")
    # §5.2 haemoglobin at the start of the line (from every Hb date, not only IMWG dates)
    hb = L.baseline_values(L.wide_labs(tables["labs"], EXTRA_TESTS), segments, list(EXTRA_TESTS))
    base = base.join(hb.select("subject_id", "line", "base_hemoglobin"), on=["subject_id", "line"], how="left")
    lo, hi = options.flc_ratio_normal_range
    base = base.with_columns(
        clone=pl.when(c("base_flc_kappa").is_not_null() & c("base_flc_lambda").is_not_null()).then(
            pl.when(c("base_flc_kappa") >= c("base_flc_lambda")).then(pl.lit("kappa")).otherwise(pl.lit("lambda"))
        ),
    ).with_columns(
        base_inv=pl.coalesce(
            "base_involved_flc",
            pl.when(c("clone") == "kappa").then(c("base_flc_kappa")).otherwise(c("base_flc_lambda")),
        ),
        base_uninv=pl.coalesce(
            "base_uninvolved_flc",
            pl.when(c("clone") == "kappa").then(c("base_flc_lambda")).otherwise(c("base_flc_kappa")),
        ),
    ).with_columns(base_dflc=c("base_inv") - c("base_uninv"))
    base = base.with_columns(
        m_s=_ge(c("base_serum_m_protein").fill_null(-1), 1.0),
        m_u=_ge(c("base_urine_m_protein").fill_null(-1), 200.0),
    ).with_columns(
        m_f=~c("m_s") & ~c("m_u") & _ge(c("base_inv").fill_null(-1), 10.0)
        & ((c("base_ratio") < lo) | (c("base_ratio") > hi)).fill_null(False),
    ).with_columns(
        m_b=~c("m_s") & ~c("m_u") & ~c("m_f") & _ge(c("base_marrow_plasma_cells_pct").fill_null(-1), 30.0),
        m_p=(c("base_spd") > 0).fill_null(False),
    ).with_columns(
        # PD7 "when this is the only measure of disease" (§3.1)
        m_c=~c("m_s") & ~c("m_u") & ~c("m_f") & ~c("m_b") & (c("base_pb_plasma_cells") > 0).fill_null(False),
    )
    rows = L.assign_segments(w, segments)
    # §4 / §6 edge case 7: the samples of the next line are also evaluated against this
    # line's baseline and nadir (role ``confirm``), only to confirm (or not) this line's
    # last result: a PD sample after new therapy confirms PD (pd_confirm_after_new_therapy),
    # a response is never confirmed by it.  They are dropped after the confirmation (_confirm).
    nxt = (
        segments.select("subject_id", "line", "reference_start", "baseline_date", "end_date")
        .sort("subject_id", "line")
        .with_columns(_next=c("line").shift(-1).over("subject_id"))
        .filter(c("_next").is_not_null())
    )
    confirm = (
        rows.filter(c("role") == "followup")
        .drop("reference_start", "baseline_date", "end_date")
        .join(nxt.rename({"line": "_line"}), left_on=["subject_id", "line"], right_on=["subject_id", "_next"], how="inner")
        .with_columns(line=c("_line").cast(rows.schema["line"]), role=pl.lit("confirm"))
        .drop("_line")
    )
    rows = pl.concat([rows, confirm.select(rows.columns)], how="vertical_relaxed")
    e = rows.filter(c("role") != "other").join(base, on=L.SEG, how="left")
    e = e.with_columns(
        inv=pl.coalesce("involved_flc", pl.when(c("clone") == "kappa").then(c("flc_kappa")).otherwise(c("flc_lambda"))),
        uninv=pl.coalesce(
            "uninvolved_flc", pl.when(c("clone") == "kappa").then(c("flc_lambda")).otherwise(c("flc_kappa"))
        ),
    ).with_columns(dflc=c("inv") - c("uninv"))
    return e.sort("subject_id", "line", "date")


def _levels(e: pl.DataFrame, options: ImwgOptions) -> pl.DataFrame:
    c = pl.col
    lo, hi = options.flc_ratio_normal_range
    fu = c("role").is_in(["followup", "confirm"])
    seg = L.SEG
    # nadirs (§3.1): baseline and earlier follow-ups of the line
    # values flagged exclude_from_nadir (§2.2) are left out of the nadir, also at baseline
    def nb(col: str, flag: str) -> pl.Expr:
        return pl.when(~c(f"bx_{flag}")).then(c(col))

    e = e.with_columns(
        _fs=pl.when(fu & ~c("xs")).then(c("serum_m_protein")),
        _fu=pl.when(fu & ~c("xu")).then(c("urine_m_protein")),
        _ff=pl.when(fu & ~c("xf")).then(c("dflc")),
        _fb=pl.when(fu & ~c("xb")).then(c("marrow_plasma_cells_pct")),
        _fp=pl.when(fu & ~c("xp")).then(c("spd")),
        _fc=pl.when(fu & ~c("xc")).then(c("pb_plasma_cells")),
    ).with_columns(
        nadir_s=pl.min_horizontal(nb("base_serum_m_protein", "xs"), L.earlier_min("_fs", seg)),
        nadir_u=pl.min_horizontal(nb("base_urine_m_protein", "xu"), L.earlier_min("_fu", seg)),
        nadir_f=pl.min_horizontal(nb("base_dflc", "xf"), L.earlier_min("_ff", seg)),
        nadir_b=pl.min_horizontal(nb("base_marrow_plasma_cells_pct", "xb"), L.earlier_min("_fb", seg)),
        nadir_p=pl.min_horizontal(nb("base_spd", "xp"), L.earlier_min("_fp", seg)),
        nadir_c=pl.min_horizontal(nb("base_pb_plasma_cells", "xc"), L.earlier_min("_fc", seg)),
    )

    def rise(v: str, n: str, floor: float, strict: bool = False, relative: float = 0.25) -> pl.Expr:
        inc = c(v) - c(n)
        absolute = (inc > floor + EPS) if strict else _ge(inc, floor)
        rel = (c(n) == 0) | _ge(inc / c(n), relative)
        return (c(v).is_not_null() & c(n).is_not_null() & absolute & rel).fill_null(False)

    e = e.with_columns(
        pd1=rise("serum_m_protein", "nadir_s", 0.5),
        pd2=(c("serum_m_protein").is_not_null() & _ge(c("nadir_s"), 5.0)
             & _ge(c("serum_m_protein") - c("nadir_s"), 1.0)).fill_null(False),
        pd3=rise("urine_m_protein", "nadir_u", 200.0),
        pd4=c("m_f") & rise("dflc", "nadir_f", 10.0, strict=True),
        pd5=c("m_b") & rise("marrow_plasma_cells_pct", "nadir_b", 10.0),
        # PD7: >= 50 % and >= 0.2 x10^9/L (200 cells/uL) over the nadir, only measure (§3.1)
        pd7=c("m_c") & rise("pb_plasma_cells", "nadir_c", 0.2, relative=0.5),
        pd6=c("new_bone") | c("new_pc")
        | (c("spd").is_not_null() & (c("nadir_p") > 0) & _ge(c("spd") / c("nadir_p"), 1.5)).fill_null(False),
    ).with_columns(
        pd_bio=c("pd1") | c("pd2") | c("pd3") | c("pd4") | c("pd5") | c("pd7"),
    )
    # effective electrophoresis values: negative IFE without a value = 0 (edge case 5)
    e = e.with_columns(
        s_eff=pl.coalesce("serum_m_protein", pl.when(c("serum_ife") == "negative").then(0.0)),
        u_eff=pl.coalesce("urine_m_protein", pl.when(c("urine_ife") == "negative").then(0.0)),
    ).with_columns(
        r_s=(c("base_serum_m_protein") - c("s_eff")) / c("base_serum_m_protein"),
        r_u=(c("base_urine_m_protein") - c("u_eff")) / c("base_urine_m_protein"),
        r_f=(c("base_dflc") - c("dflc")) / c("base_dflc"),
        r_b=(c("base_marrow_plasma_cells_pct") - c("bmpc_c")) / c("base_marrow_plasma_cells_pct"),
        r_p=(c("base_spd") - c("spd_c")) / c("base_spd"),
    )
    lvl_s = (
        pl.when(c("s_eff").is_null()).then(None)
        .when(_ge(c("r_s"), 0.9)).then(5).when(_ge(c("r_s"), 0.5)).then(4).when(_ge(c("r_s"), 0.25)).then(3)
        .otherwise(2)
    )
    lvl_u = (
        pl.when(c("u_eff").is_null()).then(None)
        .when(c("u_eff") < 100).then(5)
        .when(_ge(c("r_u"), 0.9) | (c("u_eff") < 200)).then(4)
        .when(_ge(c("r_u"), 0.5)).then(3)
        .otherwise(2)
    )
    lvl_f = pl.when(c("dflc").is_null()).then(None).when(_ge(c("r_f"), 0.9)).then(5).when(_ge(c("r_f"), 0.5)).then(4).otherwise(2)
    lvl_b = pl.when(c("bmpc_c").is_null()).then(None).when(_ge(c("r_b"), 0.5)).then(4).otherwise(2)
    lvl_p = (
        pl.when(c("spd_c").is_null()).then(2)
        .when(c("spd_c") == 0).then(7)
        .when(_ge(c("r_p"), 0.5)).then(5).when(_ge(c("r_p"), 0.25)).then(3).otherwise(2)
    )
    e = e.with_columns(lvl_s=lvl_s, lvl_u=lvl_u, lvl_f=lvl_f, lvl_b=lvl_b, lvl_p=lvl_p)
    req = {"lvl_s": "m_s", "lvl_u": "m_u", "lvl_f": "m_f", "lvl_b": "m_b", "lvl_p": "m_p"}
    e = e.with_columns(
        missing=pl.any_horizontal([c(m) & c(lv).is_null() for lv, m in req.items()]),
        measurable=c("m_s") | c("m_u") | c("m_f") | c("m_b"),
        lvl0=pl.min_horizontal([pl.when(c(m)).then(c(lv)).otherwise(99) for lv, m in req.items()]),
        vgpr_su=(
            c("s_eff").is_not_null() & c("u_eff").is_not_null() & (c("u_eff") < 100)
            & ((c("s_eff") == 0) | ((c("base_serum_m_protein") > 0) & _ge(c("r_s"), 0.9)))
        ).fill_null(False),
        ratio_normal=c("ratio").is_between(lo, hi).fill_null(False),
    )
    cr = (
        (c("serum_ife") == "negative") & (c("urine_ife") == "negative")
        & (~c("m_p") | (c("spd_c") == 0))
        & (c("bmpc_c") < 5)
        & (~c("m_f") | c("ratio_normal"))
    ).fill_null(False)
    lvl1 = pl.when(c("lvl0") >= 5).then(pl.when(c("vgpr_su")).then(5).otherwise(4)).otherwise(c("lvl0"))
    lvl2 = pl.when(cr & (lvl1 >= 4)).then(
        pl.when(c("ratio_normal") & (c("clon_c") == "not_clonal")).then(7).otherwise(6)
    ).otherwise(lvl1)
    if not options.include_mr_as_response:
        lvl2 = pl.when(lvl2 == 3).then(2).otherwise(lvl2)
    e = e.with_columns(
        # §5.3 evidence of relapse from CR seen on this date (biochemistry and marrow of the
        # day, new lesions, hypercalcaemia); used only while the confirmed status is CR/sCR
        ev_rel=(
            (c("serum_ife") == "positive").fill_null(False) | (c("urine_ife") == "positive").fill_null(False)
            | ((c("serum_m_protein") > 0) & (c("serum_ife") != "negative").fill_null(True)).fill_null(False)
            | ((c("urine_m_protein") > 0) & (c("urine_ife") != "negative").fill_null(True)).fill_null(False)
            | (c("marrow_plasma_cells_pct") >= 5).fill_null(False) | c("pd6")
            | (c("serum_calcium") > HYPERCALCAEMIA_MG_DL).fill_null(False)
            | L.as_bool(c("hypercalcaemia")).fill_null(False)
        ),
        # §5.2 clinical relapse items seen on this date
        ev_clin=(
            c("new_bone") | c("new_pc")
            | L.as_bool(c("bone_lesion_growth")).fill_null(False)
            | (c("serum_calcium") > HYPERCALCAEMIA_MG_DL).fill_null(False)
            | L.as_bool(c("hypercalcaemia")).fill_null(False)
            | _ge(c("base_hemoglobin") - c("hemoglobin"), HB_FALL_G_DL).fill_null(False)
            | L.as_bool(c("creatinine_rise")).fill_null(False)
            | L.as_bool(c("hyperviscosity")).fill_null(False)
        ),
        u=pl.when(~fu).then(None)
        .when(c("pd6") | c("pd_bio")).then(8)
        .when(~c("measurable") | c("missing")).then(1)
        .otherwise(lvl2)
        .cast(pl.Int64),
        pd_img=c("pd6"),
    )
    return e


def _confirm(e: pl.DataFrame, options: ImwgOptions) -> pl.DataFrame:
    """§4: confirmed value per assessment and running maximum per line."""
    c = pl.col
    # the line's follow-ups and, after them, the next line's samples seen from this line
    # (role ``confirm``, _frame): the next evaluable result of each follow-up (NE skipped)
    f = e.filter(c("role").is_in(["followup", "confirm"])).sort("subject_id", "line", "date")
    ev = c("u") != 1
    f = f.with_columns(
        u_next=pl.when(ev).then(c("u")).shift(-1).backward_fill().over(L.SEG),
        d_next=pl.when(ev).then(c("date")).shift(-1).backward_fill().over(L.SEG),
        after_nact=pl.when(ev).then(c("role") == "confirm").shift(-1).backward_fill().over(L.SEG).fill_null(False),
    ).filter(c("role") == "followup").sort("subject_id", "date")
    resp = c("u").is_between(3, 7)
    conf = (
        pl.when(c("u") == 1).then(1)
        .when(c("u") == 2).then(2)
        .when(resp & c("u_next").is_null()).then(2)
        .when(resp & c("after_nact")).then(2)
        .when(resp & c("u_next").is_between(3, 7) & (c("u_next") >= c("u"))).then(c("u"))
        .when(resp & c("u_next").is_between(2, 7)).then(c("u_next"))
        .when(resp).then(2)
        .when(c("pd_img")).then(8)
        .when((c("u_next") == 8) & (~c("after_nact") | pl.lit(options.pd_confirm_after_new_therapy))).then(8)
        .otherwise(1)
    )
    f = f.with_columns(conf=conf.cast(pl.Int64)).with_columns(covr=c("conf").cum_max().over(L.SEG))
    # §5.3 relapse from CR (remission_model.md §3/§6.6): while the confirmed status is CR/sCR,
    # the first date with relapse evidence loses the complete response (level PARTIAL) until
    # a later assessment is itself a confirmed CR/sCR; no PD unless a PD rule fires.
    in_cr_status = c("covr").is_between(6, 7)
    f = f.with_columns(_crd=pl.when(c("conf").is_between(6, 7)).then(c("date")).forward_fill().over(L.SEG)).with_columns(
        _ev=(c("ev_rel") & in_cr_status & c("_crd").is_not_null()).fill_null(False),
    ).with_columns(_evn=c("_ev").cast(pl.Int32).cum_sum().over([*L.SEG, "_crd"])).with_columns(
        relapse_cr=c("_ev") & (c("_evn") == 1),
        lost_cr=in_cr_status & (c("_evn") >= 1),
    ).with_columns(
        # §5.4 relapse from MRD-negative: the previous assessment was MRD-negative (valid NGF/NGS,
        # PET not positive) in CR, and now MRD or PET is positive, or relapse from CR
        _mno=c("mrd_valid_neg") & ~c("pet_pos") & in_cr_status & ~c("lost_cr"),
    ).with_columns(
        relapse_mrd=(
            c("_mno").shift(1).over(L.SEG)
            & ((c("mrd") == "positive").fill_null(False) | (c("pet_ct") == "positive").fill_null(False) | c("relapse_cr"))
        ).fill_null(False),
    )
    # §5.2 clinical relapse: first follow-up of the line with any item (warning only)
    f = f.with_columns(clin_rel=c("ev_clin") & (c("ev_clin").cast(pl.Int32).cum_sum().over(L.SEG) == 1))
    first_pd = f.filter(c("conf") == 8).group_by(L.SEG).agg(pd_first=c("date").min())
    f = f.join(first_pd, on=L.SEG, how="left")
    awaiting_pd = (c("u") == 8) & ~c("pd_img") & c("u_next").is_null()
    awaiting_resp = c("u").is_between(3, 7) & c("u_next").is_null()
    f = f.with_columns(
        awaiting_pd=awaiting_pd,
        awaiting_resp=awaiting_resp,
        canonical_level=pl.when(c("covr") == 8).then(pl.lit(S.PROGRESSION))
        .when(awaiting_pd).then(pl.lit(S.PROGRESSION_PENDING))
        .when(c("lost_cr")).then(pl.lit(S.PARTIAL))
        .otherwise(
            c("covr").replace_strict(
                {1: S.NOT_EVALUABLE, 2: S.STABLE, 3: S.MINOR, 4: S.PARTIAL, 5: S.PARTIAL, 6: S.COMPLETE, 7: S.COMPLETE},
                default=None, return_dtype=pl.String,
            )
        ),
        is_progression_event=(c("conf") == 8) & (c("date") == c("pd_first")),
        progression_event_date=pl.when(c("covr") == 8).then(c("pd_first")),
        pending_progression=awaiting_pd & (c("covr") != 8),
        warn_gap=(
            (c("u") != 1) & c("d_next").is_not_null()
            & ((c("d_next") - c("date")).dt.total_days() > options.confirm_warn_days)
        ),
    )
    return f


def _nonempty(e: pl.Expr) -> pl.Expr:
    return pl.when(e != "").then(e)


def _explain(f: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    code = c("u").replace_strict(NAME, default=None, return_dtype=pl.String)
    main = (
        pl.when(c("m_s")).then(pl.lit("serum_m_protein"))
        .when(c("m_u")).then(pl.lit("urine_m_protein"))
        .when(c("m_f")).then(pl.lit("dflc"))
        .when(c("m_b")).then(pl.lit("bmpc"))
        .when(c("m_c")).then(pl.lit("pbpc"))
        .otherwise(pl.lit("serum_m_protein"))
    )
    value = (
        pl.when(main == "serum_m_protein").then(c("s_eff"))
        .when(main == "urine_m_protein").then(c("u_eff"))
        .when(main == "dflc").then(c("dflc"))
        .when(main == "pbpc").then(c("pb_plasma_cells"))
        .otherwise(c("bmpc_c"))
    )
    baseline = (
        pl.when(main == "serum_m_protein").then(c("base_serum_m_protein"))
        .when(main == "urine_m_protein").then(c("base_urine_m_protein"))
        .when(main == "dflc").then(c("base_dflc"))
        .when(main == "pbpc").then(c("base_pb_plasma_cells"))
        .otherwise(c("base_marrow_plasma_cells_pct"))
    )
    nadir = (
        pl.when(main == "serum_m_protein").then(c("nadir_s"))
        .when(main == "urine_m_protein").then(c("nadir_u"))
        .when(main == "dflc").then(c("nadir_f"))
        .when(main == "pbpc").then(c("nadir_c"))
        .otherwise(c("nadir_b"))
    )
    label = main.replace_strict(
        {"serum_m_protein": "serum M-protein", "urine_m_protein": "urine M-protein", "dflc": "dFLC", "bmpc": "marrow plasma cells",
         "pbpc": "circulating plasma cells"},
        return_dtype=pl.String,
    )
    unit = main.replace_strict({"serum_m_protein": "g/dL", "urine_m_protein": "mg/24h", "dflc": "mg/dL", "bmpc": "%", "pbpc": "10^9/L"}, return_dtype=pl.String)
    f = f.with_columns(
        _main=main, value=value, baseline_value=baseline, nadir_value=nadir, _label=label, _unit=unit,
        overall_response=code,
    ).with_columns(
        change_from_baseline_pct=L.pct(c("value"), c("baseline_value")),
        change_from_nadir_pct=L.pct(c("value"), c("nadir_value")),
        change_from_nadir_abs=c("value") - c("nadir_value"),
    )
    below = (-c("change_from_baseline_pct")).round(0)
    thr = (
        pl.when(c("u") >= 5).then(pl.lit("(>= 90%)"))
        .when(c("u") == 4).then(pl.lit("(>= 50%)"))
        .when(c("u") == 3).then(pl.lit("(>= 25%)"))
        .otherwise(pl.lit("(< 25%)"))
    )
    resp_txt = pl.format(
        "{}: {} {} {} is {}% below baseline {} {} {}",
        code, c("_label"), L.fmt(c("value")), c("_unit"), L.fmt(below, 0), L.fmt(c("baseline_value")), c("_unit"), thr,
    )
    pd_rules = pl.concat_str(
        [pl.when(c(r)).then(pl.lit(r.upper())) for r in ("pd1", "pd2", "pd3", "pd4", "pd5", "pd6", "pd7")],
        separator=",", ignore_nulls=True,
    )
    pd_txt = pl.format(
        "PD ({}): {} {} {} vs nadir {} {} ({}, {})",
        pd_rules, c("_label"), L.fmt(c("value")), c("_unit"), L.fmt(c("nadir_value")), c("_unit"),
        pl.concat_str(pl.lit("+"), L.fmt(c("change_from_nadir_abs")), pl.lit(" "), c("_unit")),
        pl.concat_str(pl.lit("+"), L.fmt(c("change_from_nadir_pct"), 0), pl.lit("%")),
    )
    covr_name = c("covr").replace_strict(NAME, default=None, return_dtype=pl.String)
    status = (
        pl.when((c("covr") == 8) & (c("date") == c("pd_first")) & ~c("pd_img"))
        .then(pl.format("PD confirmed by the next sample ({})", c("d_next").cast(pl.String)))
        .when((c("covr") == 8) & (c("date") == c("pd_first"))).then(pl.lit("imaging PD, no confirmation needed (imwg.md §4)"))
        .when(c("covr") == 8).then(pl.format("confirmed PD since {}", c("pd_first").cast(pl.String)))
        .when(c("awaiting_pd")).then(pl.lit("biochemical PD awaiting a confirming sample (imwg.md §4)"))
        .when(c("awaiting_resp")).then(pl.format("awaiting confirmation; confirmed status {}", covr_name))
        .otherwise(pl.format("confirmed status {}", covr_name))
    )
    text = (
        pl.when(c("u") == 8).then(pd_txt)
        .when(~c("measurable")).then(pl.lit("NE: no measurable disease at baseline (imwg.md §2.1)"))
        .when(c("missing")).then(pl.lit("NE: a required parameter is missing at this assessment (imwg.md §3.2)"))
        .when(c("u").is_between(6, 7)).then(pl.format("{}: serum and urine IFE negative, marrow plasma cells {}%", code, L.fmt(c("bmpc_c"))))
        .when(c("u").is_between(2, 5)).then(resp_txt)
        .otherwise(pl.format("{}", code))
    )
    hier = pl.concat_str(
        [pl.when(c(m)).then(pl.lit(r))
         for m, r in (("m_s", "M-S"), ("m_u", "M-U"), ("m_f", "M-F"), ("m_b", "M-B"), ("m_c", "M-C"))],
        separator=",", ignore_nulls=True,
    )
    evidence = pl.concat_str(
        [
            pl.when((c("serum_ife") == "positive").fill_null(False)).then(pl.lit("serum IFE positive")),
            pl.when((c("urine_ife") == "positive").fill_null(False)).then(pl.lit("urine IFE positive")),
            pl.when((c("serum_m_protein") > 0).fill_null(False)).then(pl.format("serum M-protein {} g/dL", L.fmt(c("serum_m_protein")))),
            pl.when((c("urine_m_protein") > 0).fill_null(False)).then(pl.format("urine M-protein {} mg/24h", L.fmt(c("urine_m_protein")))),
            pl.when((c("marrow_plasma_cells_pct") >= 5).fill_null(False)).then(
                pl.format("marrow plasma cells {}%", L.fmt(c("marrow_plasma_cells_pct")))),
            pl.when(c("pd6")).then(pl.lit("new or growing lesion")),
            pl.when((c("serum_calcium") > HYPERCALCAEMIA_MG_DL).fill_null(False) | L.as_bool(c("hypercalcaemia")).fill_null(False))
            .then(pl.lit("hypercalcaemia")),
            pl.when((c("mrd") == "positive").fill_null(False)).then(pl.lit("MRD positive")),
            pl.when((c("pet_ct") == "positive").fill_null(False)).then(pl.lit("PET-CT positive")),
        ],
        separator=", ", ignore_nulls=True,
    )
    hb_fall = c("base_hemoglobin") - c("hemoglobin")
    clinical = pl.concat_str(
        [
            pl.when(c("new_bone")).then(pl.lit("new bone lesion")),
            pl.when(c("new_pc")).then(pl.lit("new plasmacytoma")),
            pl.when(L.as_bool(c("bone_lesion_growth")).fill_null(False)).then(pl.lit("definite lesion growth")),
            pl.when((c("serum_calcium") > HYPERCALCAEMIA_MG_DL).fill_null(False)).then(
                pl.format("serum calcium {} mg/dL (> 11)", L.fmt(c("serum_calcium")))),
            pl.when(L.as_bool(c("hypercalcaemia")).fill_null(False)).then(pl.lit("hypercalcaemia")),
            pl.when(_ge(hb_fall, HB_FALL_G_DL).fill_null(False)).then(pl.format(
                "haemoglobin {} g/dL, {} g/dL below baseline {} g/dL (>= 2; attribution to myeloma not checked)",
                L.fmt(c("hemoglobin")), L.fmt(hb_fall), L.fmt(c("base_hemoglobin")))),
            pl.when(L.as_bool(c("creatinine_rise")).fill_null(False)).then(pl.lit("creatinine rise >= 2 mg/dL")),
            pl.when(L.as_bool(c("hyperviscosity")).fill_null(False)).then(pl.lit("hyperviscosity")),
        ],
        separator=", ", ignore_nulls=True,
    )
    complete = c("canonical_level") == S.COMPLETE
    mrd = pl.when(complete).then(c("mrd_cat"))
    rel_txt = pl.concat_str(
        [
            pl.when(c("relapse_cr")).then(pl.format("relapse from CR ({}; imwg.md §5.3): complete response lost, level PARTIAL", evidence)),
            pl.when(c("relapse_mrd")).then(pl.format("relapse from MRD-negative ({}; imwg.md §5.4)", evidence)),
            pl.when(c("clin_rel")).then(pl.format("clinical relapse ({}; imwg.md §5.2; not PD)", clinical)),
            pl.when(c("ife_dara")).then(pl.lit("serum IFE positive read as negative: daratumumab interference (imwg.md §3.2)")),
            pl.when(c("ife_band")).then(pl.lit("positive IFE is a band of a different isotype, not the original clone (imwg.md §6.8)")),
            pl.when(~c("relapse_cr") & c("lost_cr") & (c("covr") != 8)).then(pl.lit("complete response lost earlier (relapse from CR)")),
            pl.when(mrd.is_not_null()).then(
                pl.when(c("mrd_cat") == "SUSTAINED_MRD_NEGATIVE")
                .then(pl.format("MRD {} for {} days (imwg.md §5.1)", c("mrd_cat"), c("mrd_neg_days")))
                .otherwise(pl.format("MRD {} (imwg.md §5.1)", c("mrd_cat")))
            ),
        ],
        separator="; ", ignore_nulls=True,
    )
    return f.with_columns(
        explanation=pl.concat_str(
            text, status, pl.when(rel_txt != "").then(rel_txt), separator="; ", ignore_nulls=True
        ),
        rule_ids=pl.concat_str(
            hier, pl.when(c("u") == 8).then(pd_rules), pl.format("imwg.md §3.2 {}", code),
            pl.when(c("relapse_cr")).then(pl.lit("RELAPSE_FROM_CR")),
            pl.when(c("relapse_mrd")).then(pl.lit("RELAPSE_FROM_MRD_NEGATIVE")),
            pl.when(c("clin_rel")).then(pl.lit("CLINICAL_RELAPSE")),
            pl.when(c("ife_dara")).then(pl.lit("IFE_DARATUMUMAB_INTERFERENCE")),
            pl.when(c("ife_band")).then(pl.lit("IFE_DIFFERENT_ISOTYPE_BAND")),
            pl.when(mrd.is_not_null()).then(pl.format("MRD:{}", mrd)),
            pl.format("CONF:{}", covr_name), separator=",", ignore_nulls=True,
        ),
        non_target_response=mrd,
        warnings=_nonempty(pl.concat_str(
            [
                pl.when(c("warn_gap")).then(pl.lit("CONFIRMATION_GAP")),
                pl.when(c("relapse_cr")).then(pl.lit("RELAPSE_FROM_CR")),
                pl.when(c("relapse_mrd")).then(pl.lit("RELAPSE_FROM_MRD_NEGATIVE")),
                pl.when(c("clin_rel")).then(pl.lit("CLINICAL_RELAPSE")),
                pl.when(c("ife_dara")).then(pl.lit("IFE_DARATUMUMAB_INTERFERENCE")),
                pl.when(c("ife_band")).then(pl.lit("IFE_DIFFERENT_ISOTYPE_BAND")),
            ],
            separator=",", ignore_nulls=True,
        )),
        baseline_date=c("baseline_date"),
    )


def evaluate(tables, segments: pl.DataFrame, options: ImwgOptions = ImwgOptions()) -> pl.DataFrame:
    """IMWG 2016 time points (schema.TIMEPOINTS) of every subject of ``segments``:
    baseline rows (responses null) and one row per follow-up assessment."""
    if options is None:
        options = ImwgOptions()
    e = _frame(tables, segments, options)
    e = _levels(e, options)
    f = _explain(_confirm(e, options))
    c = pl.col
    base = e.filter(c("role") == "baseline").with_columns(
        value=pl.coalesce(
            pl.when(c("m_s")).then(c("base_serum_m_protein")),
            pl.when(c("m_u")).then(c("base_urine_m_protein")),
            pl.when(c("m_f")).then(c("base_dflc")),
            pl.when(c("m_b")).then(c("base_marrow_plasma_cells_pct")),
        ),
    ).with_columns(
        baseline_value=c("value"),
        explanation=pl.format(
            "Baseline: serum M-protein {} g/dL, urine M-protein {} mg/24h, dFLC {} mg/dL, marrow plasma cells {}%",
            L.fmt(c("base_serum_m_protein")), L.fmt(c("base_urine_m_protein")), L.fmt(c("base_dflc")),
            L.fmt(c("base_marrow_plasma_cells_pct")),
        ),
    )
    out = pl.concat([L.finish(f, CODE), L.finish(base, CODE)], how="vertical")
    return out.sort("subject_id", "date", "line")


def run(tables, segments: pl.DataFrame, options: ImwgOptions | None) -> pl.DataFrame:
    return evaluate(tables, segments, options or ImwgOptions())


# registered here too, so that importing this module before the registry works

#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def best_response_rule(o: ImwgOptions) -> BestResponseRule:
    """imwg.md §4: best response = the best category reached; confirmed best response = the
    best confirmed value of the §4 table, ranked by the response order (sCR > … > SD > PD):
    a response confirmed by the next evaluable sample (``best_response_confirm_days``: 1 = the
    next sample), as the lower response when that is lower, else counted as SD (an
    unconfirmed PR followed by PD gives SD, not PD); PD confirmed as the time point says
    (biochemical PD by the next sample, imaging PD at once); dated at the first of the two."""
    return BestResponseRule(
        order=ORDER, confirmation="next_assessment", confirm_days=o.best_response_confirm_days, unconfirmed_as="SD"
    )

CRITERION = Criterion(
    code=CODE,
    cancer_types=("multiple_myeloma",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=ImwgOptions,
    run=run,
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "MRD NEGATIVITY", "QUANTIFIABLE MRD POSITIVITY") + _GENERIC,
    ),
    presentation=Presentation(
        label="IMWG 2016",
        plain_name="IMWG",
        introduction="The IMWG rules are used to judge myeloma from blood and marrow tests.",
        quantity_words="M-protein level (a blood marker)",
        marker=True,
        value_label="M-protein (serum g/dL; else urine, light chains)",
        pd_threshold_pct=25.0,
        response_threshold_pct=-50.0,
        change_caption="M-protein",
        pd_threshold_words="progression: +25% from the lowest value (imwg.md PD1)",
        response_threshold_words="partial response: -50% from baseline (imwg.md PR)",
        evidence=("lab",),
    ),
)


__all__ = ["CODE", "ORDER", "CANONICAL", "ImwgOptions", "evaluate", "run", "dates", "CRITERION"]
