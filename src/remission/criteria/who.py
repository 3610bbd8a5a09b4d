"""WHO bidimensional per-assessment responses (who.md §3–4), vectorised over all subjects.

Same lesion sets and segments as RECIST 1.1 (:mod:`._lesions`, ``docs/imaging_engine.md``
"WHO").  ``value`` is the sum of products (SPD, mm²); ``nadir_value`` the smallest SPD at
baseline or an earlier complete follow-up of the segment.

Rules, first match (``rule_ids``): ``W1`` unequivocal new lesion → PD; ``W2`` a target
product ≥ +25 % vs its reference (reference 0 and product > 0: reappearance, §6.1), or with
``who_pd_basis = "sum"`` the SPD ≥ +25 % vs its reference, or a non-target with status
``progression`` → PD; ``B0``/``B1``/``W3`` a target without a product → NE; ``W4`` every
product 0 and every non-target absent → CR; ``W5`` SPD ≤ −50 % from baseline → PR; ``W3n``
a non-target not evaluated → NE; ``W0`` nothing to evaluate → NE; ``W6`` → NC.

Choices (spec silent or unclear):

* Product (§3.1, §6.5): ``diameter_mm × perpendicular_mm`` when both are given; 0 when
  either is 0 or the status is ``absent`` without measurements; otherwise not measured
  (``too_small`` without both diameters, one diameter only, no row) → NE.
* Per-lesion reference (§3.2): ``who_pd_reference = "nadir"``: the smallest product of that
  lesion at baseline or an earlier follow-up of the segment where it was measured (the
  current time point excluded); ``"baseline"``: its baseline product.  The SPD reference
  for ``who_pd_basis = "sum"`` is the SPD nadir (complete time points) or the baseline SPD.
  W2 is checked on the available data even when another lesion is not measured (§4.1 W3
  "unless W1/W2 already met"); with the sum basis the partial SPD is used.
* ``who_pd_min_abs_mm2`` (§6.2): PD also needs ``product − reference ≥`` the floor.
* Combination (§4.4): a measurable PR (or all products 0) with non-targets present or not
  evaluated is PR; a non-target not evaluated turns NC into NE (W3n), never PR into NE.
* Non-target response column: ``PD`` (progression), ``NE`` (not evaluated), ``CR`` (all
  absent), ``NC`` (otherwise), ``NA`` (none).  Target response column: the measurable
  component (``PD``/``NE``/``CR``/``PR``/``NC``/``NA``).
* New lesions use the same classification as RECIST (nodal 10–15 mm equivocal, back-dating
  of equivocal new lesions, §4.6 of recist11.md): WHO itself only says "unequivocal".
* Bone-only NC timing (§4.3, §6.4: no NC before 56 days) is not implemented: the lesions
  table carries no WHO bone judgement (disappeared / improved / no change / progressed), so
  no ``bone_nc_min_days`` option is offered; ``nc_min_days`` (best response) applies to all.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission.schema import TIMEPOINTS

from .base import BestResponseRule, Criterion, Presentation, Vocabulary
from ._lesions import INF, KEY, SEG, Prepared, finish, joined, label, materialise, num, pct_change, prepare, signed, sites
from .recist11 import new_lesion_agg, non_target_agg

class WhoOptions(BaseModel):
    """WHO bidimensional criteria parameters (who.md §8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirm_days: int = Field(28, ge=1)
    who_pd_basis: Literal["any_lesion", "sum"] = "any_lesion"
    who_pd_reference: Literal["nadir", "baseline"] = "nadir"
    who_pd_min_abs_mm2: float = Field(0.0, ge=0)
    nc_min_days: int = Field(0, ge=0)
    max_ne_between: int = Field(1, ge=0)
    missing_as_ne: bool = Field(False, description="Report BOR MISSING as NE (as RECIST 1.1's option).")


CODE = "who"
#: best → worst (criteria/README.md, who.md §5)
ORDER = ("CR", "PR", "NC", "PD", "NE", "MISSING")
CANONICAL = {
    "CR": "COMPLETE",
    "PR": "PARTIAL",
    "NC": "STABLE",
    "PD": "PROGRESSION",
    "NE": "NOT_EVALUABLE",
}
_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def _product(d: pl.Expr, p: pl.Expr, status: pl.Expr) -> pl.Expr:
    """Per-lesion product (who.md §3.1, §6.5)."""
    return (
        pl.when((d == 0).fill_null(False) | (p == 0).fill_null(False))
        .then(pl.lit(0.0))
        .when(d.is_not_null() & p.is_not_null())
        .then(d * p)
        .when((status == "absent").fill_null(False))
        .then(pl.lit(0.0))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def _lesion_series(prep: Prepared, options: WhoOptions) -> pl.DataFrame:
    """Per-target products at follow-ups with the per-lesion PD test (who.md §3.2, W2)."""
    base = prep.targets.select(
        *SEG, "lesion_id", date=pl.lit(None, dtype=pl.Date), prod=_product(pl.col("base_d"), pl.col("base_p"), pl.col("base_status")),
        is_base=pl.lit(True),
    )
    fu = prep.target_obs.select(
        *SEG, "lesion_id", "date", prod=_product(pl.col("d"), pl.col("p"), pl.col("status")), is_base=pl.lit(False)
    )
    grp = [*SEG, "lesion_id"]
    base_prod = base.select(*grp, base_prod="prod")
    series = (
        pl.concat([base, fu], how="vertical")
        .sort([*grp, "is_base", "date"], descending=[False, False, False, True, False], nulls_last=False)
        .with_columns(
            prev_min=pl.col("prod").fill_null(INF).cum_min().shift(1, fill_value=INF).over(grp)
        )
        .filter(~pl.col("is_base"))
        .join(base_prod, on=grp, how="left")
    )
    ref = (
        pl.col("base_prod")
        if options.who_pd_reference == "baseline"
        else pl.when(pl.col("prev_min").is_finite()).then(pl.col("prev_min"))
    )
    series = materialise(series).with_columns(ref=ref).with_columns(lesion_pct=pct_change(pl.col("prod"), pl.col("ref")))
    lesion_pd = (
        (pl.col("lesion_pct") >= 25) & (pl.col("prod") - pl.col("ref") >= options.who_pd_min_abs_mm2)
    ).fill_null(False)
    return series.with_columns(lesion_pd=lesion_pd).select(*grp, "date", "prod", "ref", "lesion_pct", "lesion_pd")


def _frame(prep: Prepared, options: WhoOptions) -> pl.DataFrame:
    c = pl.col
    seg_t = (
        prep.targets.with_columns(
            bp=_product(c("base_d"), c("base_p"), c("base_status")), lab=label(c("lesion_id"), c("organ"))
        )
        .group_by(SEG)
        .agg(
            n_targets=pl.len().cast(pl.Int64),
            baseline_value=pl.when(c("bp").null_count() == 0).then(c("bp").sum()),
            base_missing=joined(c("lab"), c("bp").is_null()),
        )
    )
    ref_word = "baseline" if options.who_pd_reference == "baseline" else "nadir"
    lesion_txt = (
        pl.when(c("ref") == 0)
        .then(pl.format("{} reappeared ({} mm² after 0)", c("lab"), num(c("prod"))))
        .otherwise(
            pl.format("{} {} mm² is {}% above its {} {} mm²", c("lab"), num(c("prod")), signed(c("lesion_pct")), pl.lit(ref_word), num(c("ref")))
        )
    )
    obs = prep.target_obs.select(*SEG, "lesion_id", "date", "organ").join(
        _lesion_series(prep, options), on=[*SEG, "lesion_id", "date"], how="left"
    )
    ta = (
        obs.with_columns(lab=label(c("lesion_id"), c("organ")))
        .with_columns(ltxt=lesion_txt)
        .group_by(KEY)
        .agg(
            n_usable=c("prod").count().cast(pl.Int64),
            value=pl.when(c("prod").count() > 0).then(c("prod").sum()),
            all_zero=(c("prod") == 0).fill_null(False).all(),
            any_lesion_pd=c("lesion_pd").any(),
            lesion_pd_txt=joined(c("ltxt"), c("lesion_pd"), "; "),
            missing=joined(c("lab"), c("prod").is_null()),
            t_organs=c("organ"),
            pd_organs=c("organ").filter(c("lesion_pd")),
        )
    )
    e = (
        prep.followups.select(*KEY, "reference_start", "baseline_date", "end_date", "_sid", "_sd")
        .join(seg_t, on=SEG, how="left")
        .join(ta, on=KEY, how="left")
        .join(non_target_agg(prep), on="_sd", how="left")
        .join(new_lesion_agg(prep), on="_sd", how="left")
        .join(prep.b0.select(*SEG, "b0"), on=SEG, how="left")
        .with_columns(
            c("n_targets", "n_usable", "n_nt").fill_null(0),
            c("b0", "nl", "nl_eq", "any_prog", "any_ne", "any_lesion_pd").fill_null(False),
            c("all_absent").fill_null(True),
            c("t_organs", "pd_organs", "prog_organs", "nl_organs").fill_null(_EMPTY),
        )
        .sort(KEY)
    )
    e = materialise(e)
    has_t = c("n_targets") > 0
    complete = has_t & (c("n_usable") == c("n_targets"))
    vc = pl.when(complete & c("baseline_value").is_not_null()).then(c("value"))
    e = e.with_columns(
        complete=complete, prev_min=vc.fill_null(INF).cum_min().shift(1, fill_value=INF).over(SEG)
    ).with_columns(
        nadir_value=pl.when(c("baseline_value").is_not_null()).then(pl.min_horizontal(c("baseline_value"), c("prev_min")))
    )
    sum_ref = c("baseline_value") if options.who_pd_reference == "baseline" else c("nadir_value")
    e = e.with_columns(
        change_from_baseline_pct=pct_change(c("value"), c("baseline_value")),
        change_from_nadir_pct=pct_change(c("value"), c("nadir_value")),
        change_from_nadir_abs=c("value") - c("nadir_value"),
        sum_ref=sum_ref,
        sum_pct=pct_change(c("value"), sum_ref),
    )
    return e


def _with_responses(e: pl.DataFrame, options: WhoOptions) -> pl.DataFrame:
    """W1–W6 (who.md §4.1, combined per §4.4)."""
    c = pl.col
    has_t = c("n_targets") > 0
    if options.who_pd_basis == "sum":
        w2_t = ((c("sum_pct") >= 25) & (c("value") - c("sum_ref") >= options.who_pd_min_abs_mm2)).fill_null(False) & ~c("b0")
    else:
        w2_t = c("any_lesion_pd") & ~c("b0")
    e = e.with_columns(w2_t=w2_t)
    w2 = c("w2_t") | c("any_prog")
    measurable_ne = c("b0") | (has_t & (c("baseline_value").is_null() | ~c("complete")))
    all_zero = has_t & c("all_zero") & ~measurable_ne
    cr = pl.when(has_t).then(all_zero).otherwise(c("n_nt") > 0) & (c("all_absent") & ~c("any_ne"))
    # who.md §4.4: measurable component PR, or CR (all products 0, even from a 0 baseline), with
    # other disease persisting or not evaluated -> PR
    pr = has_t & ~measurable_ne & ((c("change_from_baseline_pct") <= -50).fill_null(False) | all_zero)
    orr = (
        pl.when(c("nl")).then(pl.lit("PD|W1"))
        .when(w2).then(pl.lit("PD|W2"))
        .when(c("b0")).then(pl.lit("NE|B0"))
        .when(has_t & c("baseline_value").is_null()).then(pl.lit("NE|B1"))
        .when(has_t & ~c("complete")).then(pl.lit("NE|W3"))
        .when(cr).then(pl.lit("CR|W4"))
        .when(pr).then(pl.lit("PR|W5"))
        .when(c("any_ne")).then(pl.lit("NE|W3n"))
        .when(~has_t & (c("n_nt") == 0)).then(pl.lit("NE|W0"))
        .otherwise(pl.lit("NC|W6"))
    )
    tr = (
        pl.when(~has_t & ~c("b0")).then(pl.lit("NA"))
        .when(c("w2_t")).then(pl.lit("PD"))
        .when(measurable_ne).then(pl.lit("NE"))
        .when(all_zero).then(pl.lit("CR"))
        .when(pr).then(pl.lit("PR"))
        .otherwise(pl.lit("NC"))
    )
    ntr = (
        pl.when(c("n_nt") == 0).then(pl.lit("NA"))
        .when(c("any_prog")).then(pl.lit("PD"))
        .when(c("any_ne")).then(pl.lit("NE"))
        .when(c("all_absent")).then(pl.lit("CR"))
        .otherwise(pl.lit("NC"))
    )
    e = e.with_columns(orr=orr, target_response=tr, non_target_response=ntr).with_columns(
        overall_response=c("orr").str.split_exact("|", 1).struct.field("field_0"),
        rule=c("orr").str.split_exact("|", 1).struct.field("field_1"),
    )
    return e


def _explanation(options: WhoOptions) -> pl.Expr:
    c = pl.col
    v, b = num(c("value")), num(c("baseline_value"))
    ref_word = "baseline" if options.who_pd_reference == "baseline" else "nadir"
    sum_txt = pl.format("SPD {} mm² is {}% above {} {} mm² (>= 25%)", v, signed(c("sum_pct")), pl.lit(ref_word), num(c("sum_ref")))
    pd_txt = pl.concat_str(
        pl.lit("PD: "),
        pl.concat_str(
            pl.when(c("nl")).then(
                pl.concat_str(
                    pl.format("new lesion {}", c("nl_ids")),
                    pl.when(c("backdate").is_not_null()).then(pl.format(" (first seen equivocal on {})", c("backdate"))),
                    ignore_nulls=True,
                )
            ),
            pl.when(c("w2_t")).then(
                sum_txt if options.who_pd_basis == "sum" else pl.concat_str(c("lesion_pd_txt"), pl.lit(" (>= 25%)"))
            ),
            pl.when(c("any_prog")).then(pl.format("unequivocal progression of non-target {}", c("prog_ids"))),
            separator="; ",
            ignore_nulls=True,
        ),
    )
    nt_part = pl.when(c("n_nt") > 0).then(pl.lit("non-targets absent")).otherwise(pl.lit("no non-target lesions"))
    rule = c("rule")
    main = (
        pl.when(c("overall_response") == "PD").then(pd_txt)
        .when(rule == "B0").then(pl.lit("NE: target lesions recorded but no baseline scan"))
        .when(rule == "B1").then(pl.format("NE: baseline incomplete (lesion {} not measured bidimensionally at baseline)", c("base_missing")))
        .when(rule == "W3").then(pl.format("NE: lesion {} not measured (both diameters needed)", c("missing")))
        .when(rule == "W4").then(
            pl.when(c("n_targets") > 0)
            .then(pl.concat_str(pl.lit("CR: all lesion products 0 mm²; "), nt_part))
            .otherwise(pl.lit("CR: non-targets absent"))
        )
        .when(rule == "W5").then(pl.format("PR: SPD {} mm² is {}% from baseline {} mm² (>= 50% decrease)", v, signed(c("change_from_baseline_pct")), b))
        .when(rule == "W3n").then(pl.format("NE: non-target {} not evaluated", c("ne_ids")))
        .when(rule == "W0").then(pl.lit("NE: no target or non-target disease recorded"))
        .when(c("n_targets") > 0).then(
            pl.format(
                "NC: SPD {} mm² is {}% from baseline {} mm² (not <= -50%); no lesion >= 25% above its {}",
                v, signed(c("change_from_baseline_pct")), b, pl.lit(ref_word if options.who_pd_basis == "any_lesion" else ref_word + " (SPD)"),
            )
        )
        .otherwise(pl.format("NC: non-target {} present", c("present_ids")))
    )
    pending = pl.when(c("nl_eq")).then(pl.format("; equivocal new lesion {} pending", c("eq_ids"))).otherwise(pl.lit(""))
    return pl.concat_str(main, pending)


def _outputs(e: pl.DataFrame, options: WhoOptions) -> pl.DataFrame:
    c = pl.col
    is_pd = c("overall_response") == "PD"
    target_sites = c("t_organs") if options.who_pd_basis == "sum" else c("pd_organs")
    rec = sites(
        pl.when(c("nl")).then(c("nl_organs")).otherwise(_EMPTY),
        pl.when(c("any_prog")).then(c("prog_organs")).otherwise(_EMPTY),
        pl.when(c("w2_t")).then(target_sites).otherwise(_EMPTY),
    )
    return e.with_columns(
        value_complete=pl.when(c("n_targets") > 0).then(c("complete")),
        new_lesion=c("nl"),
        canonical_level=c("overall_response").replace_strict(CANONICAL, default=None),
        is_progression_event=is_pd,
        progression_event_date=pl.when(is_pd).then(
            pl.when(c("nl") & c("backdate").is_not_null()).then(c("backdate")).otherwise(c("date"))
        ),
        pending_progression=c("nl_eq"),
        recurrence_sites=pl.when(is_pd).then(rec),
        # W3n (non-target not evaluated) is reported under the spec's id W3 (who.md §4.1)
        rule_ids=pl.concat_str(c("rule").replace("W3n", "W3"), pl.when(c("nl_eq") & ~c("nl")).then(pl.lit("NLeq")), separator=",", ignore_nulls=True),
        explanation=_explanation(options),
    )


def _baseline_rows(prep: Prepared) -> pl.DataFrame:
    c = pl.col
    seg_t = (
        prep.targets.with_columns(
            bp=_product(c("base_d"), c("base_p"), c("base_status")), lab=label(c("lesion_id"), c("organ"))
        )
        .group_by(SEG)
        .agg(
            n_targets=pl.len().cast(pl.Int64),
            baseline_value=pl.when(c("bp").null_count() == 0).then(c("bp").sum()),
            base_missing=joined(c("lab"), c("bp").is_null()),
        )
    )
    br = (
        prep.baseline_rows.join(seg_t, on=SEG, how="left")
        .join(prep.nt_fixed_count, on=SEG, how="left")
        .with_columns(c("n_targets", "n_nt_fixed").fill_null(0))
    )
    plural = pl.when(c("n_targets") == 1).then(pl.lit("target lesion")).otherwise(pl.lit("target lesions"))
    expl = (
        pl.when((c("n_targets") > 0) & c("baseline_value").is_not_null())
        .then(pl.format("Baseline: sum of products {} mm² ({} {})", num(c("baseline_value")), c("n_targets"), plural))
        .when(c("n_targets") > 0)
        .then(pl.format("Baseline: sum of products incomplete (lesion {} not measured bidimensionally)", c("base_missing")))
        .otherwise(pl.format("Baseline: no target lesions ({} non-target lesions)", c("n_nt_fixed")))
    )
    return br.with_columns(value=c("baseline_value"), explanation=expl)


def evaluate(lesions: pl.DataFrame, segments: pl.DataFrame, options: WhoOptions = WhoOptions()) -> pl.DataFrame:
    """WHO time-point responses for every subject of ``segments`` (TIMEPOINTS columns,
    ``criteria = "who"``, one row per subject and lesion date, sorted)."""
    prep = prepare(lesions, segments)
    e = _frame(prep, options)
    e = _with_responses(e, options)
    e = _outputs(e, options)
    return finish(e, prep, _baseline_rows(prep), CODE, TIMEPOINTS)

#: WHO codes as the Table 6 engine's (recist11.md §5) codes
_RECIST_CODES = {"CR": "CR", "PR": "PR", "NC": "SD", "SD": "SD", "PD": "PD", "NE": "NE"}


def best_response_rule(o: WhoOptions) -> BestResponseRule:
    """who.md §5: as recist11.md §5 (Table 6 confirmation), stable disease named NC (W6),
    with no SD accepted between a PR and its confirmation; NC minimum ``nc_min_days``.
    WHO has no unconfirmed best response (§5 "CR and PR must be documented by two
    observations not less than 4 weeks apart"; README "Confirmation": ">= 28 days
    (always)"): an unconfirmed CR/PR falls back to NC in the best response too, so both
    are the confirmed one (the ``derive`` hook below)."""
    kw = dict(
        confirm_days=o.confirm_days, max_ne_between=o.max_ne_between, accept_sd_between=False,
        sd_min_days=o.nc_min_days, missing_as_ne=o.missing_as_ne, failed_cr_as_pr=True, sd_label="NC",
    )  # fmt: skip

    def derive(tp: pl.DataFrame, reference: pl.DataFrame, cutoff: pl.DataFrame | None):
        from remission.timeline.bor import best_overall_responses  # the Table 6 engine

        tp = tp.with_columns(
            response=pl.col("response").str.to_uppercase().replace_strict(_RECIST_CODES, default=None, return_dtype=pl.String)
        ).filter(pl.col("response").is_not_null())
        (confirmed,) = best_overall_responses(tp, reference, confirms=(True,), cutoff=cutoff, **kw)
        return confirmed, confirmed

    return BestResponseRule(
        order=ORDER,
        confirmation="recist",
        confirm_days=o.confirm_days,
        max_ne_between=o.max_ne_between,
        accept_sd_between=False,
        sd_min_days=o.nc_min_days,
        sd_label="NC",
        missing_as_ne=o.missing_as_ne,
        recist_codes=_RECIST_CODES,
        derive=derive,
    )


CRITERION = Criterion(
    code=CODE,
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=WhoOptions,
    options_key="who",
    run=lambda t, segs, o: evaluate(t["lesions"], segs, o),
    best_response=best_response_rule,
    measurement="products",
    vocabulary=Vocabulary(response_codes=("CR", "PR", "NC", "SD", "PD", "NE")),
    presentation=Presentation(
        label="WHO",
        plain_name="WHO",
        introduction="The WHO rules are the scan rules of the World Health Organization.",
        quantity_words="tumours",
        value_label="Sum of products of diameters (mm²)",
        pd_threshold_pct=25.0,
        response_threshold_pct=-50.0,
        change_caption="Sum of products of diameters",
        pd_threshold_words="progression: +25% (who.md §4)",
        response_threshold_words="partial response: -50% from baseline (who.md §4)",
        evidence=("imaging",),
    ),
)

