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
* PD5 compares marrow values measured that day; PD7 (circulating plasma cells) and
  ``exclude_from_nadir`` are not implemented (no input code);
* floating-point comparisons at a threshold use a 1e-9 tolerance (so 0.9 − 0.4 ≥ 0.5).
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S

from . import _labs as L
from .registry import Criterion, register

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
)
FINDINGS = ("serum_ife", "urine_ife", "marrow_clonality", "plasmacytoma_spd", "new_bone_lesion", "new_plasmacytoma")

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
    w = w.sort("subject_id", "date").with_columns(
        spd=L.as_float(pl.col("plasmacytoma_spd")),
        new_bone=L.as_bool(pl.col("new_bone_lesion")).fill_null(False),
        new_pc=L.as_bool(pl.col("new_plasmacytoma")).fill_null(False),
        ratio=pl.coalesce("flc_ratio", pl.col("flc_kappa") / pl.col("flc_lambda")),
    )
    if options.carry_forward_marrow_imaging:
        w = w.with_columns(
            bmpc_c=L.carried("marrow_plasma_cells_pct"),
            clon_c=L.carried("marrow_clonality"),
            spd_c=L.carried("spd"),
        )
    else:
        w = w.with_columns(bmpc_c=pl.col("marrow_plasma_cells_pct"), clon_c=pl.col("marrow_clonality"), spd_c=pl.col("spd"))
    return w


def _frame(tables, segments: pl.DataFrame, options: ImwgOptions) -> pl.DataFrame:
    w = _wide(tables, options)
    base_cols = ["serum_m_protein", "urine_m_protein", "involved_flc", "uninvolved_flc", "flc_kappa",
                 "flc_lambda", "ratio", "marrow_plasma_cells_pct", "spd"]
    base = L.baseline_values(w, segments, base_cols)
    c = pl.col
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
    )
    rows = L.assign_segments(w, segments)
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
    fu = c("role") == "followup"
    seg = L.SEG
    # nadirs (§3.1): baseline and earlier follow-ups of the line
    e = e.with_columns(
        _fs=pl.when(fu).then(c("serum_m_protein")),
        _fu=pl.when(fu).then(c("urine_m_protein")),
        _ff=pl.when(fu).then(c("dflc")),
        _fb=pl.when(fu).then(c("marrow_plasma_cells_pct")),
        _fp=pl.when(fu).then(c("spd")),
    ).with_columns(
        nadir_s=pl.min_horizontal("base_serum_m_protein", L.earlier_min("_fs", seg)),
        nadir_u=pl.min_horizontal("base_urine_m_protein", L.earlier_min("_fu", seg)),
        nadir_f=pl.min_horizontal("base_dflc", L.earlier_min("_ff", seg)),
        nadir_b=pl.min_horizontal("base_marrow_plasma_cells_pct", L.earlier_min("_fb", seg)),
        nadir_p=pl.min_horizontal("base_spd", L.earlier_min("_fp", seg)),
    )

    def rise(v: str, n: str, floor: float, strict: bool = False) -> pl.Expr:
        inc = c(v) - c(n)
        absolute = (inc > floor + EPS) if strict else _ge(inc, floor)
        rel = (c(n) == 0) | _ge(inc / c(n), 0.25)
        return (c(v).is_not_null() & c(n).is_not_null() & absolute & rel).fill_null(False)

    e = e.with_columns(
        pd1=rise("serum_m_protein", "nadir_s", 0.5),
        pd2=(c("serum_m_protein").is_not_null() & _ge(c("nadir_s"), 5.0)
             & _ge(c("serum_m_protein") - c("nadir_s"), 1.0)).fill_null(False),
        pd3=rise("urine_m_protein", "nadir_u", 200.0),
        pd4=c("m_f") & rise("dflc", "nadir_f", 10.0, strict=True),
        pd5=c("m_b") & rise("marrow_plasma_cells_pct", "nadir_b", 10.0),
        pd6=c("new_bone") | c("new_pc")
        | (c("spd").is_not_null() & (c("nadir_p") > 0) & _ge(c("spd") / c("nadir_p"), 1.5)).fill_null(False),
    ).with_columns(
        pd_bio=c("pd1") | c("pd2") | c("pd3") | c("pd4") | c("pd5"),
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
    f = e.filter(c("role") == "followup").sort("subject_id", "date")
    ev = c("u") != 1
    f = f.with_columns(
        u_next=pl.when(ev).then(c("u")).shift(-1).backward_fill().over("subject_id"),
        d_next=pl.when(ev).then(c("date")).shift(-1).backward_fill().over("subject_id"),
        l_next=pl.when(ev).then(c("line")).shift(-1).backward_fill().over("subject_id"),
    ).with_columns(after_nact=(c("l_next") != c("line")).fill_null(False))
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
    first_pd = f.filter(c("conf") == 8).group_by(L.SEG).agg(pd_first=c("date").min())
    f = f.join(first_pd, on=L.SEG, how="left")
    awaiting_pd = (c("u") == 8) & ~c("pd_img") & c("u_next").is_null()
    awaiting_resp = c("u").is_between(3, 7) & c("u_next").is_null()
    f = f.with_columns(
        awaiting_pd=awaiting_pd,
        awaiting_resp=awaiting_resp,
        canonical_level=pl.when(c("covr") == 8).then(pl.lit(S.PROGRESSION))
        .when(awaiting_pd).then(pl.lit(S.PROGRESSION_PENDING))
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


def _explain(f: pl.DataFrame) -> pl.DataFrame:
    c = pl.col
    code = c("u").replace_strict(NAME, default=None, return_dtype=pl.String)
    main = (
        pl.when(c("m_s")).then(pl.lit("serum_m_protein"))
        .when(c("m_u")).then(pl.lit("urine_m_protein"))
        .when(c("m_f")).then(pl.lit("dflc"))
        .when(c("m_b")).then(pl.lit("bmpc"))
        .otherwise(pl.lit("serum_m_protein"))
    )
    value = (
        pl.when(main == "serum_m_protein").then(c("s_eff"))
        .when(main == "urine_m_protein").then(c("u_eff"))
        .when(main == "dflc").then(c("dflc"))
        .otherwise(c("bmpc_c"))
    )
    baseline = (
        pl.when(main == "serum_m_protein").then(c("base_serum_m_protein"))
        .when(main == "urine_m_protein").then(c("base_urine_m_protein"))
        .when(main == "dflc").then(c("base_dflc"))
        .otherwise(c("base_marrow_plasma_cells_pct"))
    )
    nadir = (
        pl.when(main == "serum_m_protein").then(c("nadir_s"))
        .when(main == "urine_m_protein").then(c("nadir_u"))
        .when(main == "dflc").then(c("nadir_f"))
        .otherwise(c("nadir_b"))
    )
    label = main.replace_strict(
        {"serum_m_protein": "serum M-protein", "urine_m_protein": "urine M-protein", "dflc": "dFLC", "bmpc": "marrow plasma cells"},
        return_dtype=pl.String,
    )
    unit = main.replace_strict({"serum_m_protein": "g/dL", "urine_m_protein": "mg/24h", "dflc": "mg/dL", "bmpc": "%"}, return_dtype=pl.String)
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
        [pl.when(c(r)).then(pl.lit(r.upper())) for r in ("pd1", "pd2", "pd3", "pd4", "pd5", "pd6")],
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
        [pl.when(c(m)).then(pl.lit(r)) for m, r in (("m_s", "M-S"), ("m_u", "M-U"), ("m_f", "M-F"), ("m_b", "M-B"))],
        separator=",", ignore_nulls=True,
    )
    return f.with_columns(
        explanation=pl.concat_str(text, status, separator="; "),
        rule_ids=pl.concat_str(
            hier, pl.when(c("u") == 8).then(pd_rules), pl.format("imwg.md §3.2 {}", code),
            pl.format("CONF:{}", covr_name), separator=",", ignore_nulls=True,
        ),
        warnings=pl.when(c("warn_gap")).then(pl.lit("CONFIRMATION_GAP")),
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


CRITERION = Criterion(
    CODE,
    evaluate,
    ORDER,
    dict(CANONICAL),
    run=run,
    dates=dates,
    options_model=ImwgOptions,
)
# registered here too, so that importing this module before the registry works
register(CRITERION)

__all__ = ["CODE", "ORDER", "CANONICAL", "ImwgOptions", "evaluate", "run", "dates", "CRITERION"]
