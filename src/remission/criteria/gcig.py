"""GCIG CA-125 response and progression, combined with RECIST 1.1 (criteria/gcig_ca125.md),
vectorised over all subjects.

Inputs: labs ``ca125`` (U/mL).  Finding codes read:

* ``ca125_ulrr`` (number, U/mL): the assay's upper limit of the reference range, used when
  the option ``ulrr`` is not set (the spec gives no default, §2); the latest value on or
  before the sample applies;
* ``mouse_antibody`` (boolean): mouse antibodies given on that date; later samples are
  excluded (§3.1, §4);
* ``peritoneal_interference`` (boolean): medical/surgical interference with peritoneum or
  pleura on that date; samples within ``interference_exclusion_days`` after it are
  excluded (§3.1, §4).

Rules (``rule_ids``): ``EVAL`` evaluability (§3.1: pre-treatment sample ≥ 2 × ULRR within
14 days before the reference start), ``C1``–``C5`` response (§3.2), ``PD-A``/``PD-B``/
``PD-C`` progression categories and the ≥ 7-day pair (§4), ``COMB`` the combined
RECIST 1.1 + CA-125 tables (§5).

Per date: on CA-125 dates the CA-125 category (``CR`` normalised / ``PR`` / ``SD`` / ``PD``
/ ``NE``); for subjects with lesions, lesion dates carry the combined response (§5) with
the CA-125 category of the latest sample on or before the date within
``ca125_match_window_days``, and CA-125-only dates then contribute only progression
(pending or confirmed), since §4 "overall progression = the earlier of RECIST PD and
confirmed CA-125 PD", and, before the first progression, a confirmed CA-125 response as
PARTIAL (the combined PR of §5 with no imaging that day; §6: response dated from the first
date of response, RECIST or CA-125, whichever is first).  ``value`` = CA-125 (U/mL) on
CA-125 dates, the RECIST sum on lesion dates.

Choices (spec silent):

* CA-125 response categories are re-derived over the whole history: samples from the
  confirmed candidate's date up to its confirmatory sample take the response (CR if the
  confirmatory value ≤ ULRR, else PR, C5); later samples keep it while they stay ≥ 50 %
  below the pre-treatment value (CR when ≤ ULRR), otherwise SD; a candidate still
  awaiting its 28-day sample is SD with warning ``RESPONSE_PENDING``;
* a patient not evaluable for response (§3.1) gets ``NE`` rows unless in progression;
* progression: the category at each sample uses the samples before it (A after any
  on-treatment value ≤ ULRR, else B with nadir = lowest earlier on-treatment value, or the
  pre-treatment value when none; C when pre-treatment ≤ ULRR); the first qualifying sample
  with a qualifying sample ≥ 7 days later is the PD (``is_progression_event``, dated to
  itself, re-derived); a qualifying sample without a partner yet is PROGRESSION_PENDING;
* no ULRR (option nor finding): CA-125 rows are NE with warning ``ULRR_MISSING``.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S

from . import _labs as L
from . import recist11
from .base import BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding
from .recist11 import RecistOptions

CODE = "gcig"
ORDER = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
CANONICAL = {
    "CR": S.COMPLETE,
    "PR": S.PARTIAL,
    "SD": S.STABLE,
    "NON-CR/NON-PD": S.STABLE,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
}
FINDINGS = ("ca125_ulrr", "mouse_antibody", "peritoneal_interference")


class GcigOptions(BaseModel):
    """gcig_ca125.md §8 parameters (``ulrr`` has no default in the spec: None = take the
    ``ca125_ulrr`` finding)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ulrr: float | None = Field(None, gt=0)
    pretreatment_window_days: int = Field(14, ge=0)
    response_fraction: float = Field(0.5, gt=0, lt=1)
    response_confirm_days: int = Field(28, ge=1)
    assay_variability: float = Field(0.10, ge=0)
    pd_pair_min_gap_days: int = Field(7, ge=1)
    interference_exclusion_days: int = Field(28, ge=0)
    report_normalised_as_cr: bool = True
    ca125_match_window_days: int = Field(7, ge=0)
    use_ca125_response: bool = True
    use_ca125_progression: bool = True
    recist: RecistOptions = RecistOptions()


def dates(tables) -> pl.DataFrame:
    labs = tables["labs"].filter(pl.col("test") == "ca125")
    return L.union_dates(labs, tables["lesions"].select("subject_id", "date"))


def _samples(tables, options: GcigOptions) -> pl.DataFrame:
    """CA-125 samples with ULRR and exclusion flags."""
    c = pl.col
    s = L.wide_labs(tables["labs"], ["ca125"]).filter(c("ca125").is_not_null())
    f = L.wide_findings(tables["findings"], FINDINGS)
    ulrr = f.filter(c("ca125_ulrr").is_not_null()).select(
        "subject_id", pl.col("date").alias("_ud"), L.as_float(c("ca125_ulrr")).alias("ulrr_f")
    ).sort("_ud")
    s = s.sort("date").join_asof(ulrr, left_on="date", right_on="_ud", by="subject_id", strategy="backward",
                                 check_sortedness=False)
    # ULRR given later than the first sample: use the subject's first ULRR for earlier ones
    first_u = ulrr.sort("_ud").group_by("subject_id").agg(_u0=c("ulrr_f").first())
    s = s.join(first_u, on="subject_id", how="left").with_columns(
        ulrr=pl.lit(options.ulrr, dtype=pl.Float64) if options.ulrr is not None else pl.coalesce("ulrr_f", "_u0")
    )
    mouse = f.filter(L.as_bool(c("mouse_antibody")).fill_null(False)).group_by("subject_id").agg(_mouse=c("date").min())
    interf = f.filter(L.as_bool(c("peritoneal_interference")).fill_null(False)).select(
        "subject_id", pl.col("date").alias("_int")
    ).sort("_int")
    s = (
        s.join(mouse, on="subject_id", how="left")
        .sort("date")
        .join_asof(interf, left_on="date", right_on="_int", by="subject_id", strategy="backward", check_sortedness=False)
        .with_columns(
            excluded=((c("_mouse").is_not_null() & (c("date") > c("_mouse")))
                      | (c("_int").is_not_null()
                         & ((c("date") - c("_int")).dt.total_days() <= options.interference_exclusion_days))),
        )
    )
    return s.select("subject_id", "date", "ca125", "ulrr", "excluded").sort("subject_id", "date")


def ca125_timepoints(tables, segments: pl.DataFrame, options: GcigOptions) -> pl.DataFrame:
    """CA-125-alone categories per sample (§3–4) with the columns of schema.TIMEPOINTS plus
    ``ca125_cat``, ``ca125_pd_confirmed``."""
    c = pl.col
    s = _samples(tables, options)
    usable = s.filter(~c("excluded"))
    # pre-treatment sample: last usable sample on or before the reference start (§3.1)
    pre = (
        segments.select("subject_id", "line", "reference_start", "baseline_date", "end_date")
        .sort("reference_start")
        .join_asof(
            usable.select("subject_id", c("date").alias("pre_date"), c("ca125").alias("pre")).sort("pre_date"),
            left_on="reference_start", right_on="pre_date", by="subject_id", strategy="backward",
            check_sortedness=False,
        )
    )
    # follow-up samples of a line: after the reference start, up to the next line's start
    nxt = pre.sort("subject_id", "line").with_columns(_next=c("reference_start").shift(-1).over("subject_id"))
    e = (
        s.join(nxt, on="subject_id", how="inner")
        .filter((c("date") > c("reference_start")) & (c("_next").is_null() | (c("date") <= c("_next"))))
        .sort("subject_id", "line", "date")
    )
    frac, var = options.response_fraction, options.assay_variability
    e = e.with_columns(
        evaluable=(
            c("pre").is_not_null() & c("ulrr").is_not_null()
            & ((c("reference_start") - c("pre_date")).dt.total_days() <= options.pretreatment_window_days)
            & (c("pre") >= 2 * c("ulrr"))
        ).fill_null(False),
        _v=pl.when(~c("excluded")).then(c("ca125")),
    )
    # §3.2 C3: each usable sample <= (1 + variability) x previous usable sample, or within range
    e = e.with_columns(_prev=c("_v").shift(1).forward_fill().over(L.SEG)).with_columns(
        _step_bad=(c("_v").is_not_null() & c("_prev").is_not_null()
                   & (c("_v") > (1 + var) * c("_prev") + 1e-9) & (c("_v") > c("ulrr"))).fill_null(False),
    ).with_columns(_bad_cum=c("_step_bad").cast(pl.Int64).cum_sum().over(L.SEG))
    e = e.with_columns(_cand=(c("_v").is_not_null() & (c("_v") <= frac * c("pre") + 1e-9) & c("evaluable")).fill_null(False))
    # C2: confirmatory sample = first usable sample >= candidate + 28 days
    conf_src = e.filter(c("_v").is_not_null()).select(
        "subject_id", "line", c("date").alias("_cd"), c("_v").alias("_cv"), c("_bad_cum").alias("_cbad")
    ).sort("_cd")
    e = (
        e.with_columns(_want=c("date") + pl.duration(days=options.response_confirm_days))
        .sort("_want")
        .join_asof(conf_src, left_on="_want", right_on="_cd", by=["subject_id", "line"], strategy="forward",
                   check_sortedness=False)
        .sort("subject_id", "line", "date")
    )
    e = e.with_columns(
        _confirmed=c("_cand") & c("_cd").is_not_null() & (c("_cv") <= frac * c("pre") + 1e-9) & (c("_cbad") == c("_bad_cum")),
        _pending=c("_cand") & c("_cd").is_null(),
    )
    resp = (
        e.filter(c("_confirmed")).group_by(L.SEG)
        .agg(resp_date=c("date").min(), conf_date=c("_cd").sort_by("date").first(), conf_val=c("_cv").sort_by("date").first())
    )
    e = e.join(resp, on=L.SEG, how="left")
    norm = options.report_normalised_as_cr
    in_window = c("resp_date").is_not_null() & (c("date") >= c("resp_date")) & (c("date") <= c("conf_date"))
    after = c("resp_date").is_not_null() & (c("date") > c("conf_date"))
    resp_cat = (
        pl.when(in_window).then(pl.when(pl.lit(norm) & (c("conf_val") <= c("ulrr"))).then(pl.lit("CR")).otherwise(pl.lit("PR")))
        .when(after & (c("_v") <= frac * c("pre") + 1e-9)).then(
            pl.when(pl.lit(norm) & (c("_v") <= c("ulrr"))).then(pl.lit("CR")).otherwise(pl.lit("PR"))
        )
    )
    # §4 progression categories, history before the sample
    e = e.with_columns(
        _norm_before=(c("_v") <= c("ulrr")).fill_null(False).cast(pl.Int64).cum_max().shift(1).over(L.SEG).fill_null(0) > 0,
        _nadir=pl.min_horizontal(L.earlier_min("_v"), c("pre")),
        _elevated=c("pre") > c("ulrr"),
    ).with_columns(
        pd_cat=pl.when(c("pre").is_null() | c("ulrr").is_null()).then(None)
        .when(~c("_elevated")).then(pl.lit("C"))
        .when(c("_norm_before")).then(pl.lit("A"))
        .otherwise(pl.lit("B")),
    ).with_columns(
        pd_thr=pl.when(c("pd_cat") == "B").then(2 * c("_nadir")).otherwise(2 * c("ulrr")),
    ).with_columns(
        _q=(c("_v").is_not_null() & (c("_v") >= c("pd_thr") - 1e-9)).fill_null(False) & pl.lit(options.use_ca125_progression),
    ).with_columns(
        _q_last=pl.when(c("_q")).then(c("date")).max().over(L.SEG),
    ).with_columns(
        _paired=c("_q") & ((c("_q_last") - c("date")).dt.total_days() >= options.pd_pair_min_gap_days),
    )
    pd_first = e.filter(c("_paired")).group_by(L.SEG).agg(pd_date=c("date").min())
    e = e.join(pd_first, on=L.SEG, how="left")
    # partner of the PD sample (first qualifying sample >= 7 days later), for the text
    e = e.with_columns(
        _partner=pl.when(c("_q") & (c("date") >= c("pd_date") + pl.duration(days=options.pd_pair_min_gap_days)))
        .then(c("date")).min().over(L.SEG)
    )
    after_pd = c("pd_date").is_not_null() & (c("date") >= c("pd_date"))
    pending = c("_q") & ~after_pd & (c("_q_last") == c("date"))
    cat = (
        pl.when(c("ulrr").is_null() | c("excluded")).then(pl.lit("NE"))
        .when(after_pd).then(pl.lit("PD"))
        .when(~c("evaluable")).then(pl.lit("NE"))
        .when(pl.lit(options.use_ca125_response) & resp_cat.is_not_null()).then(resp_cat)
        .otherwise(pl.lit("SD"))
    )
    e = e.with_columns(ca125_cat=cat, _pending_pd=pending, ca125_pd_confirmed=after_pd)
    rule = pl.concat_str(
        [
            pl.when(c("evaluable")).then(pl.lit("EVAL")),
            pl.when(c("ca125_cat").is_in(["CR", "PR"])).then(pl.lit("C1,C2,C3,C4,C5")),
            pl.when(after_pd | pending).then(pl.format("PD-{}", c("pd_cat"))),
        ],
        separator=",", ignore_nulls=True,
    )
    pct_pre = L.pct(c("ca125"), c("pre"))
    expl = (
        pl.when(c("ulrr").is_null()).then(pl.lit("NE: no ULRR for CA-125 (option ulrr or finding ca125_ulrr)"))
        .when(c("excluded")).then(pl.lit("NE: sample excluded (mouse antibodies or peritoneal/pleural interference, gcig_ca125.md §3.1)"))
        .when(after_pd & (c("date") == c("pd_date"))).then(pl.format(
            "PD (category {}): CA-125 {} U/mL >= {} U/mL, confirmed by {} ({} U/mL threshold, >= {} days apart)",
            c("pd_cat"), L.fmt(c("ca125")), L.fmt(c("pd_thr")), c("_partner").cast(pl.String), L.fmt(c("pd_thr")),
            pl.lit(options.pd_pair_min_gap_days)))
        .when(after_pd).then(pl.format("PD: CA-125 progression since {}; CA-125 {} U/mL", c("pd_date").cast(pl.String), L.fmt(c("ca125"))))
        .when(pending).then(pl.format(
            "CA-125 {} U/mL >= {} U/mL (category {}): progression awaiting a second sample >= {} days later",
            L.fmt(c("ca125")), L.fmt(c("pd_thr")), c("pd_cat"), pl.lit(options.pd_pair_min_gap_days)))
        .when(~c("evaluable")).then(pl.format(
            "NE: not evaluable for CA-125 response (pre-treatment {} U/mL, needs >= 2 x ULRR {} = {} U/mL within {} days)",
            L.fmt(c("pre")), L.fmt(c("ulrr")), L.fmt(2 * c("ulrr")), pl.lit(options.pretreatment_window_days)))
        .when(c("ca125_cat").is_in(["CR", "PR"])).then(pl.format(
            "{}: CA-125 {} U/mL is {}% below pre-treatment {} U/mL; response from {} confirmed on {} ({} U/mL, {} ULRR {})",
            c("ca125_cat"), L.fmt(c("ca125")), L.fmt(-pct_pre, 0), L.fmt(c("pre")), c("resp_date").cast(pl.String),
            c("conf_date").cast(pl.String), L.fmt(c("conf_val")),
            pl.when(c("conf_val") <= c("ulrr")).then(pl.lit("<=")).otherwise(pl.lit(">")), L.fmt(c("ulrr"))))
        .otherwise(pl.format("SD: CA-125 {} U/mL ({}% vs pre-treatment {} U/mL), no confirmed response or progression",
                             L.fmt(c("ca125")), L.fmt(pct_pre, 0), L.fmt(c("pre"))))
    )
    e = e.with_columns(
        overall_response=c("ca125_cat"),
        canonical_level=pl.when(pending).then(pl.lit(S.PROGRESSION_PENDING)).otherwise(
            c("ca125_cat").replace_strict(CANONICAL, default=None, return_dtype=pl.String)
        ),
        is_progression_event=after_pd & (c("date") == c("pd_date")),
        progression_event_date=pl.when(after_pd).then(c("pd_date")),
        pending_progression=pending,
        value=c("ca125"),
        baseline_value=c("pre"),
        baseline_date=c("pre_date"),
        nadir_value=c("_nadir"),
        change_from_baseline_pct=pct_pre,
        change_from_nadir_pct=L.pct(c("ca125"), c("_nadir")),
        change_from_nadir_abs=c("ca125") - c("_nadir"),
        rule_ids=pl.concat_str(pl.when(rule != "").then(rule), pl.lit("gcig_ca125.md"), separator=",", ignore_nulls=True),
        warnings=pl.concat_str(
            pl.when(c("_pending") & ~c("ca125_cat").is_in(["CR", "PR", "PD"])).then(pl.lit("RESPONSE_PENDING")),
            pl.when(c("ulrr").is_null()).then(pl.lit("ULRR_MISSING")),
            separator=";", ignore_nulls=True,
        ),
        explanation=expl,
    ).with_columns(warnings=pl.when(c("warnings") == "").then(None).otherwise(c("warnings")))
    return e


#: §5 combined tables (RECIST overall, CA-125 confirmed category) -> combined
def _combined(recist: pl.Expr, ca: pl.Expr, measurable: pl.Expr) -> pl.Expr:
    resp = ca.is_in(["CR", "PR"])
    meas = (
        pl.when(recist.is_null() | ca.is_null()).then(pl.lit("NE"))
        .when((recist == "PD") | (ca == "PD")).then(pl.lit("PD"))
        .when((recist == "CR") & (ca == "CR")).then(pl.lit("CR"))
        .when(recist == "CR").then(pl.lit("PR"))
        .when(recist == "PR").then(pl.lit("PR"))
        .when(recist.is_in(["SD", "NE", "NON-CR/NON-PD"]) & resp).then(pl.lit("PR"))
        .when((recist == "SD") & ca.is_in(["SD", "NE"])).then(pl.lit("SD"))
        .when((recist == "NE") & (ca == "SD")).then(pl.lit("SD"))
        .otherwise(pl.lit("NE"))
    )
    nontarget = (
        pl.when(recist.is_null() | ca.is_null()).then(pl.lit("NE"))
        .when((recist == "PD") | (ca == "PD")).then(pl.lit("PD"))
        .when((recist == "CR") & (ca == "CR")).then(pl.lit("CR"))
        .when(recist == "CR").then(pl.lit("PR"))
        .when(recist.is_in(["NON-CR/NON-PD", "NE", "SD"]) & resp).then(pl.lit("PR"))
        .when((recist == "NON-CR/NON-PD") & ca.is_in(["SD", "NE"])).then(pl.lit("NON-CR/NON-PD"))
        .when((recist == "NE") & (ca == "SD")).then(pl.lit("NON-CR/NON-PD"))
        .otherwise(pl.lit("NE"))
    )
    return pl.when(measurable).then(meas).otherwise(nontarget)


def evaluate(tables, segments: pl.DataFrame, options: GcigOptions = GcigOptions()) -> pl.DataFrame:
    """GCIG time points (schema.TIMEPOINTS) of every subject of ``segments``."""
    c = pl.col
    ca = ca125_timepoints(tables, segments, options)
    lesions = tables.get("lesions")
    with_les = lesions.select("subject_id").unique() if lesions is not None else pl.DataFrame(schema={"subject_id": pl.String})
    ca_alone = ca.join(with_les, on="subject_id", how="anti")
    out = [L.finish(ca_alone, CODE)]
    if with_les.height:
        segs = L.rebase_segments(segments.join(with_les, on="subject_id", how="semi"), lesions.select("subject_id", "date"))
        rec = recist11.evaluate(lesions, segs, options.recist, labs=tables.get("labs"))
        targets = (
            lesions.join(segs.select("subject_id", "line", "baseline_date"), on="subject_id")
            .filter((c("date") == c("baseline_date")) & (c("role") == "target"))
            .select("subject_id", "line").unique().with_columns(_meas=pl.lit(True))
        )
        ca_s = ca.join(with_les, on="subject_id", how="semi")
        match = ca_s.select(
            "subject_id", c("date").alias("_cad"), c("ca125_cat").alias("_cat"), c("ca125").alias("_ca"),
            c("progression_event_date").alias("_capd"),
        ).sort("_cad")
        r = (
            rec.sort("date")
            .join_asof(match, left_on="date", right_on="_cad", by="subject_id", strategy="backward",
                       tolerance=f"{options.ca125_match_window_days}d", check_sortedness=False)
            .join(targets, on=["subject_id", "line"], how="left")
            .with_columns(_meas=c("_meas").fill_null(False))
        )
        is_fu = c("overall_response").is_not_null()
        comb = _combined(c("overall_response"), c("_cat"), c("_meas"))
        r = r.with_columns(
            _comb=pl.when(is_fu).then(comb),
        ).with_columns(
            canonical_level=pl.when(is_fu).then(c("_comb").replace_strict(CANONICAL, default=None, return_dtype=pl.String)),
            is_progression_event=is_fu & (c("_comb") == "PD") & (c("overall_response") == "PD"),
            progression_event_date=pl.when(is_fu & (c("_comb") == "PD")).then(
                pl.when(c("overall_response") == "PD").then(c("progression_event_date")).otherwise(pl.coalesce("_capd", "date"))
            ),
            explanation=pl.when(is_fu).then(pl.format(
                "{} (GCIG combined, gcig_ca125.md §5 {}): RECIST 1.1 {} + CA-125 {}{} | {}",
                c("_comb"), pl.when(c("_meas")).then(pl.lit("measurable")).otherwise(pl.lit("non-measurable")),
                c("overall_response"), pl.coalesce(c("_cat"), pl.lit("missing")),
                pl.when(c("_cad").is_not_null()).then(pl.format(" ({} U/mL on {})", L.fmt(c("_ca")), c("_cad").cast(pl.String))).otherwise(pl.lit("")),
                c("explanation"),
            )).otherwise(c("explanation")),
            rule_ids=pl.when(is_fu).then(pl.concat_str(c("rule_ids"), pl.lit("COMB"), separator=",", ignore_nulls=True)).otherwise(c("rule_ids")),
            target_response=c("target_response"),
        ).with_columns(
            overall_response=pl.when(is_fu).then(c("_comb")),
        )
        out.append(L.finish(r.with_columns(criteria=pl.lit(CODE)), CODE))
        # CA-125-only dates of subjects with lesions: progression (pending or confirmed) and,
        # before the first progression, a confirmed CA-125 response as PARTIAL (choice below)
        les_dates = rec.select("subject_id", "date").unique()
        ca_only = ca_s.join(les_dates, on=["subject_id", "date"], how="anti").with_columns(
            canonical_level=pl.when(c("canonical_level").is_in([S.PROGRESSION, S.PROGRESSION_PENDING])).then(c("canonical_level")),
        )
        both = pl.concat(
            [L.finish(ca_only, CODE).with_columns(_lab_only=pl.lit(True)), out[-1].with_columns(_lab_only=pl.lit(False))],
            how="vertical",
        )
        # the progression event: the earliest PD of either stream per line (§4)
        ev = both.filter(c("canonical_level") == S.PROGRESSION).group_by("subject_id", "line").agg(
            _first=c("date").min(), _first_event=pl.coalesce("progression_event_date", "date").min()
        )
        # §6 "response duration from the first date of response (RECIST or CA-125, whichever
        # is first)": a confirmed CA-125 response on a date without imaging is the combined
        # PR of §5 ("SD or NE | CR or PR (response) -> PR"; no imaging that day), so it can
        # open the remission episode; CR needs RECIST CR as well, so it is PARTIAL too
        lab_response = (
            c("_lab_only") & c("overall_response").is_in(["CR", "PR"])
            & (c("_first_event").is_null() | (c("date") < c("_first_event")))
        )
        both = both.join(ev, on=["subject_id", "line"], how="left").with_columns(
            is_progression_event=(c("date") == c("_first")) & (c("canonical_level") == S.PROGRESSION),
            canonical_level=pl.when(lab_response).then(pl.lit(S.PARTIAL)).otherwise(c("canonical_level")),
            explanation=pl.when(lab_response).then(
                pl.concat_str(c("explanation"), pl.lit(
                    " | no imaging on this date: combined PR (gcig_ca125.md §5, RECIST not assessed + confirmed CA-125 response)"
                ))
            ).otherwise(c("explanation")),
        ).drop("_first", "_first_event", "_lab_only")
        out[-1] = both
    return pl.concat(out, how="vertical").sort("subject_id", "date", "line", nulls_last=True)


def run(tables, segments: pl.DataFrame, options: GcigOptions | None) -> pl.DataFrame:
    return evaluate(tables, segments, options or GcigOptions())

#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def combined_view(timepoints: pl.DataFrame) -> pl.DataFrame:
    """The best-response view of the time points (the rule's ``prepare`` hook): a CA-125
    ``CR`` on a date without imaging of a subject evaluated by both (its row's level is
    PARTIAL, :func:`evaluate`) counts as the combined ``PR`` of gcig_ca125.md §5, since a
    combined CR needs RECIST CR too.  Rows are not changed, only this view."""
    col = "overall_response" if "overall_response" in timepoints.columns else "response"
    if "canonical_level" not in timepoints.columns:
        return timepoints
    c = pl.col
    return timepoints.with_columns(
        pl.when((c(col) == "CR") & (c("canonical_level") == S.PARTIAL)).then(pl.lit("PR")).otherwise(c(col)).alias(col)
    )


def best_response_rule(o: GcigOptions) -> BestResponseRule:
    """gcig_ca125.md §6: the best (combined) category reached, confirmed by an as-good
    result at least ``response_confirm_days`` later; a lab-only CA-125 CR of a subject with
    imaging counts as the combined PR (:func:`combined_view`)."""
    return BestResponseRule(
        order=ORDER, confirmation="as_good_later", confirm_days=o.response_confirm_days, prepare=combined_view
    )

CRITERION = Criterion(
    code=CODE,
    cancer_types=("ovarian",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=GcigOptions,
    run=run,
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(response_codes=("CR", "PR", "SD", "PD", "CA125 50% RESPONSE") + _GENERIC, lab_tests=("ca125",)),
    presentation=Presentation(
        label="GCIG CA-125",
        plain_name="GCIG",
        introduction="The GCIG rules are used to judge ovarian cancer.",
        quantity_words="CA-125 level (a blood marker)",
        marker=True,
        value_label="CA-125 (U/mL)",
        response_threshold_pct=-50.0,
        change_caption="CA-125",
        response_threshold_words="CA-125 response: -50% from the pre-treatment sample (gcig_ca125.md C1)",
        evidence=("tumor_marker", "imaging"),
    ),
)


__all__ = ["CODE", "ORDER", "CANONICAL", "GcigOptions", "ca125_timepoints", "evaluate", "run", "dates", "best_response_rule", "combined_view", "CRITERION"]
