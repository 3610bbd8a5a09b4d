"""PCWG3 prostate cancer: PSA, bone scan (2 + 2 rule), soft tissue (RECIST 1.1) and the
combined radiographic time-point response (criteria/pcwg3.md), vectorised over all subjects.

Inputs: labs ``psa`` (ng/mL); lesions (soft tissue, RECIST 1.1 via
:func:`remission.criteria.recist11.evaluate`); finding codes read:

* ``bone_scan_new_lesions`` (integer): number of new bone lesions on the scan compared
  with the **baseline** scan (cumulative count; the count versus the first
  post-treatment scan is the difference of the two counts, §4);
* ``bone_scan_lesions`` (integer, optional): total bone lesions on the scan; 0 = ``NED``.

Rule ids: ``PSA-R1``–``R3`` (PSA50, §3.1), ``PSA-PD-NADIR`` / ``PSA-PD-BASE`` (§3.2),
``BONE-FLARE`` (2 + 2 at the first post-treatment scan), ``BONE-LATER`` (later scans vs the
first post-treatment scan), ``COMB`` (§6 table).

Per date: dates with a bone scan or lesions carry the combined radiographic response
(§6: soft tissue × bone); PSA-only dates carry the PSA category (``PSA PROGRESSION``,
``PSA RESPONSE``, ``PSA NON-PD``) and contribute to the remission status only through
progression (pending / confirmed) or, with ``psa_response_counts_as_partial``, a
confirmed PSA50 as PARTIAL (remission_model.md §3: biochemical-only responses are not
remissions by default).  ``value`` = PSA on PSA dates (null on imaging-only dates).

Canonical levels (remission_model.md §3): combined CR/PR/SD/NON-CR/NON-PD → COMPLETE /
PARTIAL / STABLE / STABLE; ``PDu`` and an unconfirmed PSA rise → PROGRESSION_PENDING;
radiographic PD → PROGRESSION with ``progression_event_date`` = the PDu scan, on the confirming
scan's row (``is_progression_event``; the PDu row stays PDu, as it stood).

Choices (spec silent or unclear; also in docs/criteria_blood.md):

* overall_response shows the category as it stood (a PDu stays PDu on its row; the
  confirming scan says PD); a PDu refuted by a later scan is re-labelled NON-PD (§4);
* the first post-treatment scan always uses the 2 + 2 rule (flare window), later scans the
  persistence rule; "persist" = the confirming scan (first scan ≥ 42 days later) still
  shows ≥ 2 new lesions versus the first post-treatment scan;
* confirmed PSA progression maps to PROGRESSION (``psa_progression_is_progression``,
  default True, consistent with the stated code ``PSA PROGRESSION``); PCWG3 itself says it
  is not an rPFS event;
* soft tissue: subjects without any lesion rows are ``NED``; a scan date without lesion
  rows of a subject that has lesions is soft tissue NE; bone NE when the date has no bone
  scan; combined CR with targets at baseline → PR else NON-CR/NON-PD (§6);
* the PCWG3 nodal caveat (§5) is not applied (normal nodes are not recorded as lesions).
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S

from . import _labs as L
from . import recist11
from .base import BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding
from .recist11 import RecistOptions

CODE = "pcwg3"
#: best -> worst; PSA-only categories sit beside the radiographic ones of the same meaning
#: (criteria/README.md: "PSA: response / no response / progression") so a PSA-only subject's
#: best response is its best PSA category.
ORDER = ("CR", "PR", "SD", "NON-CR/NON-PD", "NON-PD", "PSA RESPONSE", "PSA NON-PD", "PDu", "PSA PROGRESSION", "PD", "NE", "NED")
CANONICAL = {
    "CR": S.COMPLETE,
    "PR": S.PARTIAL,
    "SD": S.STABLE,
    "NON-CR/NON-PD": S.STABLE,
    "NON-PD": S.STABLE,
    "PDu": S.PROGRESSION_PENDING,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
    "NED": S.NOT_EVALUABLE,
}
FINDINGS = ("bone_scan_new_lesions", "bone_scan_lesions")


class Pcwg3Options(BaseModel):
    """pcwg3.md §8 parameters (+ remission_model.md §13 ``psa_response_counts_as_partial``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    psa_response_pct: float = Field(50.0, gt=0, lt=100)
    psa_confirm_days: int = Field(21, ge=1)
    psa_progression_pct: float = Field(25.0, gt=0)
    psa_progression_abs_ng_ml: float = Field(2.0, ge=0)
    psa_no_decline_min_days: int = Field(84, ge=0)
    early_rise_ignore_days: int = Field(84, ge=0)
    require_all_intervening: bool = True
    flare_window_days: int = Field(84, ge=0)
    bone_confirm_min_days: int = Field(42, ge=1)
    bone_new_lesions_threshold: int = Field(2, ge=1)
    post_flare_confirmation: bool = True
    node_pd_min_growth_mm: float = 5.0
    node_pd_min_sa_mm: float = 10.0
    psa_response_counts_as_partial: bool = False
    psa_progression_is_progression: bool = True
    recist: RecistOptions = RecistOptions()


def dates(tables) -> pl.DataFrame:
    labs = tables["labs"].filter(pl.col("test") == "psa")
    fnd = tables["findings"].filter(pl.col("finding").is_in(list(FINDINGS)))
    return L.union_dates(labs, fnd, tables["lesions"].select("subject_id", "date"))


# ----------------------------------------------------------------------------- PSA (§3)


def psa_timepoints(tables, segments: pl.DataFrame, options: Pcwg3Options) -> pl.DataFrame:
    """Per PSA sample of each line: ``psa_cat`` (PSA PROGRESSION / PSA RESPONSE / PSA NON-PD),
    PSA50 response date, progression candidate/confirmation, explanation."""
    c = pl.col
    w = L.wide_labs(tables["labs"], ["psa"]).filter(c("psa").is_not_null())
    base = L.baseline_values(w, segments, ["psa"])
    rows = L.assign_segments(w, segments).filter(c("role") == "followup").join(base, on=L.SEG, how="left")
    rows = rows.sort("subject_id", "line", "date").with_columns(
        day=(c("date") - c("reference_start")).dt.total_days(),
        nadir=pl.min_horizontal(c("base_psa"), L.earlier_min("psa")),
    )
    frac = 1 - options.psa_response_pct / 100
    pp, pa = options.psa_progression_pct / 100, options.psa_progression_abs_ng_ml
    rows = rows.with_columns(
        declined_before=(c("psa") < c("base_psa")).cast(pl.Int64).cum_max().shift(1).over(L.SEG).fill_null(0) > 0,
        meets50=(c("psa") <= frac * c("base_psa") + 1e-9),
    ).with_columns(
        # §3.2: rise vs nadir after a decline; vs baseline after 12 weeks when never declined
        _qual_nadir=c("declined_before") & (c("psa") >= (1 + pp) * c("nadir") - 1e-9) & (c("psa") - c("nadir") >= pa - 1e-9),
        _qual_base=~c("declined_before") & (c("day") >= options.psa_no_decline_min_days)
        & (c("psa") >= (1 + pp) * c("base_psa") - 1e-9) & (c("psa") - c("base_psa") >= pa - 1e-9),
    ).with_columns(_q=(c("_qual_nadir") | c("_qual_base")).fill_null(False))
    # confirmation: a later value >= 21 days after the candidate still qualifying against the
    # candidate's reference (nadir or baseline)
    later = rows.select("subject_id", "line", c("date").alias("_ld"), c("psa").alias("_lv")).sort("_ld")
    rows = rows.with_columns(_ref=pl.when(c("_qual_nadir")).then(c("nadir")).otherwise(c("base_psa")))
    # all later values, vectorised through a join on the line (small series)
    pairs = rows.filter(c("_q")).select("subject_id", "line", "date", "_ref").join(later, on=["subject_id", "line"]).filter(
        ((c("_ld") - c("date")).dt.total_days() >= options.psa_confirm_days)
        & (c("_lv") >= (1 + pp) * c("_ref") - 1e-9) & (c("_lv") - c("_ref") >= pa - 1e-9)
    ).group_by("subject_id", "line", "date").agg(_pconf=c("_ld").min())
    rows = rows.join(pairs, on=["subject_id", "line", "date"], how="left")
    pd = rows.filter(c("_pconf").is_not_null()).group_by(L.SEG).agg(psa_pd_date=c("date").min(), psa_pd_conf=c("_pconf").sort_by("date").first())
    # PSA50 (§3.1): candidate confirmed by a value >= 21 days later, all values between meeting it
    rows = rows.with_columns(_fail_cum=(~c("meets50")).cast(pl.Int64).cum_sum().over(L.SEG))
    conf50 = rows.select("subject_id", "line", c("date").alias("_cd"), c("_fail_cum").alias("_cf"), c("meets50").alias("_cm")).sort("_cd")
    cands = rows.filter(c("meets50")).with_columns(_want=c("date") + pl.duration(days=options.psa_confirm_days)).sort("_want")
    cands = cands.join_asof(conf50, left_on="_want", right_on="_cd", by=["subject_id", "line"], strategy="forward", check_sortedness=False)
    ok = c("_cd").is_not_null() & c("_cm")
    if options.require_all_intervening:
        ok = ok & (c("_cf") == c("_fail_cum"))
    r50 = cands.filter(ok).group_by(L.SEG).agg(psa50_date=c("date").min(), psa50_conf=c("_cd").sort_by("date").first())
    rows = rows.join(pd, on=L.SEG, how="left").join(r50, on=L.SEG, how="left")
    after_pd = c("psa_pd_date").is_not_null() & (c("date") >= c("psa_pd_date"))
    pending = c("_q") & ~after_pd & c("_pconf").is_null()
    resp = c("psa50_date").is_not_null() & (c("date") >= c("psa50_date")) & c("meets50")
    prog_level = S.PROGRESSION if options.psa_progression_is_progression else S.STABLE
    rows = rows.with_columns(
        psa_cat=pl.when(after_pd | pending).then(pl.lit("PSA PROGRESSION"))
        .when(resp).then(pl.lit("PSA RESPONSE")).otherwise(pl.lit("PSA NON-PD")),
        psa_level=pl.when(after_pd).then(pl.lit(prog_level))
        .when(pending).then(pl.lit(S.PROGRESSION_PENDING))
        .when(resp & pl.lit(options.psa_response_counts_as_partial)).then(pl.lit(S.PARTIAL)),
        psa_event=after_pd & (c("date") == c("psa_pd_date")) & pl.lit(options.psa_progression_is_progression),
        psa_pending=pending,
        psa_expl=pl.when(after_pd & (c("date") == c("psa_pd_date"))).then(pl.format(
            "PSA PROGRESSION: PSA {} ng/mL is {} and +{} ng/mL above the {} {} ng/mL (>= {}% and >= {} ng/mL), confirmed on {}",
            L.fmt(c("psa")), pl.concat_str(pl.lit("+"), L.fmt(L.pct(c("psa"), c("_ref")), 0), pl.lit("%")),
            L.fmt(c("psa") - c("_ref")), pl.when(c("_qual_nadir")).then(pl.lit("nadir")).otherwise(pl.lit("baseline")),
            L.fmt(c("_ref")), pl.lit(options.psa_progression_pct), pl.lit(options.psa_progression_abs_ng_ml),
            c("psa_pd_conf").cast(pl.String)))
        .when(after_pd).then(pl.format("PSA PROGRESSION since {}: PSA {} ng/mL", c("psa_pd_date").cast(pl.String), L.fmt(c("psa"))))
        .when(pending).then(pl.format("PSA PROGRESSION (unconfirmed): PSA {} ng/mL, +{} ng/mL above {} ng/mL; needs a value >= {} days later",
                                      L.fmt(c("psa")), L.fmt(c("psa") - c("_ref")), L.fmt(c("_ref")), pl.lit(options.psa_confirm_days)))
        .when(resp).then(pl.format("PSA RESPONSE: PSA {} ng/mL is {}% below baseline {} ng/mL (>= {}%), PSA50 from {} confirmed on {}",
                                   L.fmt(c("psa")), L.fmt(-L.pct(c("psa"), c("base_psa")), 0), L.fmt(c("base_psa")),
                                   pl.lit(options.psa_response_pct), c("psa50_date").cast(pl.String), c("psa50_conf").cast(pl.String)))
        .otherwise(pl.format("PSA NON-PD: PSA {} ng/mL ({}% vs baseline {} ng/mL; nadir {} ng/mL)", L.fmt(c("psa")),
                             L.fmt(L.pct(c("psa"), c("base_psa")), 0), L.fmt(c("base_psa")), L.fmt(c("nadir")))),
        psa_rule=pl.when(after_pd | pending).then(
            pl.when(c("_qual_nadir")).then(pl.lit("PSA-PD-NADIR")).otherwise(pl.lit("PSA-PD-BASE"))
        ).when(resp).then(pl.lit("PSA-R1,PSA-R2,PSA-R3")),
    )
    return rows


# ----------------------------------------------------------------------------- bone (§4)


def bone_timepoints(tables, segments: pl.DataFrame, options: Pcwg3Options) -> pl.DataFrame:
    """Per bone scan of each line: ``bone`` (NED, NON-PD, PDu, PD, NE), event date."""
    c = pl.col
    f = L.wide_findings(tables["findings"], FINDINGS).with_columns(
        new=L.as_float(c("bone_scan_new_lesions")), total=L.as_float(c("bone_scan_lesions"))
    ).filter(c("new").is_not_null() | c("total").is_not_null())
    rows = L.assign_segments(f, segments).filter(c("role") == "followup").sort("subject_id", "line", "date")
    thr, gap = options.bone_new_lesions_threshold, options.bone_confirm_min_days
    rows = rows.with_columns(
        first=c("date").min().over(L.SEG),
        new=c("new").fill_null(0.0),
    ).with_columns(
        is_first=c("date") == c("first"),
        n_first=c("new").filter(c("date") == c("first")).first().over(L.SEG),
    ).with_columns(vs_ref=pl.when(c("is_first")).then(c("new")).otherwise(c("new") - c("n_first")))
    # confirming scan of each scan: first scan >= 42 days later
    nxt = rows.select("subject_id", "line", c("date").alias("_cd"), c("new").alias("_cn"), c("vs_ref").alias("_cvr")).sort("_cd")
    rows = (
        rows.with_columns(_want=c("date") + pl.duration(days=gap)).sort("_want")
        .join_asof(nxt, left_on="_want", right_on="_cd", by=["subject_id", "line"], strategy="forward", check_sortedness=False)
        .sort("subject_id", "line", "date")
    )
    cand = c("vs_ref") >= thr
    confirmed = pl.when(c("is_first")).then(c("_cn") - c("new") >= thr).otherwise(
        (c("_cvr") >= thr) if options.post_flare_confirmation else pl.lit(True)
    )
    rows = rows.with_columns(
        _cand=cand,
        _state=pl.when(~cand).then(pl.lit("none"))
        .when(~c("is_first") & pl.lit(not options.post_flare_confirmation)).then(pl.lit("pd"))
        .when(c("_cd").is_null()).then(pl.lit("pending"))
        .when(confirmed.fill_null(False)).then(pl.lit("pd"))
        .otherwise(pl.lit("refuted")),
    )
    pd = rows.filter(c("_state") == "pd").group_by(L.SEG).agg(bone_pd_date=c("date").min(), bone_pd_conf=c("_cd").sort_by("date").first())
    rows = rows.join(pd, on=L.SEG, how="left")
    after = c("bone_pd_date").is_not_null() & (c("date") > c("bone_pd_date"))
    at = c("bone_pd_date").is_not_null() & (c("date") == c("bone_pd_date"))
    confirming = c("bone_pd_conf").is_not_null() & (c("date") >= c("bone_pd_conf"))
    rows = rows.with_columns(
        bone=pl.when(confirming | (at & pl.lit(not options.post_flare_confirmation) & ~c("is_first"))).then(pl.lit("PD"))
        .when(at | after).then(pl.lit("PDu"))
        .when(c("_state") == "pending").then(pl.lit("PDu"))
        .when(c("total") == 0).then(pl.lit("NED"))
        .otherwise(pl.lit("NON-PD")),
        bone_rule=pl.when(c("is_first")).then(pl.lit("BONE-FLARE")).otherwise(pl.lit("BONE-LATER")),
    ).with_columns(
        bone_expl=pl.format(
            "bone {}: {} new lesions vs baseline, {} vs first post-treatment scan ({}){}",
            c("bone"), L.fmt(c("new")), L.fmt(c("vs_ref")), c("bone_rule"),
            pl.when(c("bone_pd_date").is_not_null() & (c("date") >= c("bone_pd_date"))).then(
                pl.format("; bone PD dated {} (confirmed by the scan of {})", c("bone_pd_date").cast(pl.String), c("bone_pd_conf").cast(pl.String))
            ).when(c("_state") == "refuted").then(pl.format("; not confirmed by the scan of {} (flare)", c("_cd").cast(pl.String)))
            .when(c("_state") == "pending").then(pl.lit("; awaiting a scan >= 42 days later")).otherwise(pl.lit("")),
        )
    )
    return rows


# ----------------------------------------------------------------------------- combined (§6)


def combined(soft: pl.Expr, bone: pl.Expr, targets: pl.Expr) -> pl.Expr:
    """pcwg3.md §6 table (soft tissue RECIST 1.1 × bone PCWG3)."""
    b_ok = bone.is_in(["NON-PD", "PDu", "NED", "NE"])
    return (
        pl.when((soft == "PD") | (bone == "PD")).then(pl.lit("PD"))
        .when((soft == "NE") & b_ok).then(pl.lit("NE"))
        .when((soft == "NED") & (bone == "NON-PD")).then(pl.lit("NON-CR/NON-PD"))
        .when((soft == "NED") & (bone == "PDu")).then(pl.lit("PDu"))
        .when((soft == "NED") & bone.is_in(["NED", "NE"])).then(pl.lit("NE"))
        .when((soft == "SD") & b_ok).then(pl.lit("SD"))
        .when((soft == "NON-CR/NON-PD") & b_ok).then(pl.lit("NON-CR/NON-PD"))
        .when((soft == "PR") & b_ok).then(pl.lit("PR"))
        .when((soft == "CR") & (bone == "NED")).then(pl.lit("CR"))
        .when((soft == "CR") & bone.is_in(["NON-PD", "PDu", "NE"])).then(
            pl.when(targets).then(pl.lit("PR")).otherwise(pl.lit("NON-CR/NON-PD"))
        )
    )


def evaluate(tables, segments: pl.DataFrame, options: Pcwg3Options = Pcwg3Options()) -> pl.DataFrame:
    """PCWG3 time points (schema.TIMEPOINTS) for every subject of ``segments``."""
    c = pl.col
    psa = psa_timepoints(tables, segments, options)
    bone = bone_timepoints(tables, segments, options)
    lesions = tables["lesions"]
    with_les = lesions.select("subject_id").unique()
    if with_les.height:
        segs = L.rebase_segments(segments.join(with_les, on="subject_id", how="semi"), lesions.select("subject_id", "date"))
        rec = recist11.evaluate(lesions, segs, options.recist).filter(c("overall_response").is_not_null())
        targets = (
            lesions.join(segs.select("subject_id", "line", "baseline_date"), on="subject_id")
            .filter((c("date") == c("baseline_date")) & c("role").is_in(["target", "non_target"]))
            .group_by("subject_id", "line").agg(_targets=(c("role") == "target").any(), _any=pl.lit(True))
        )
        soft = rec.join(targets, on=["subject_id", "line"], how="left").select(
            "subject_id", "date", soft_line=c("line"),
            soft=pl.when(~c("_any").fill_null(False) & (c("overall_response") != "PD")).then(pl.lit("NED")).otherwise(c("overall_response")),
            _targets=c("_targets").fill_null(False), soft_event=c("progression_event_date"),
            soft_expl=c("explanation"), sum_mm=c("value"),
        )
    else:
        soft = pl.DataFrame(schema={"subject_id": pl.String, "date": pl.Date, "soft_line": pl.Int32, "soft": pl.String,
                                    "_targets": pl.Boolean, "soft_event": pl.Date, "soft_expl": pl.String, "sum_mm": pl.Float64})
    img_dates = L.union_dates(bone, soft)
    img = L.assign_segments(img_dates, segments).filter(c("role") == "followup").select("subject_id", "date", "line", "reference_start", "baseline_date")
    img = (
        img.join(bone.select("subject_id", "date", "bone", "bone_pd_date", "bone_expl", "bone_rule"), on=["subject_id", "date"], how="left")
        .join(soft.drop("soft_line"), on=["subject_id", "date"], how="left")
        .join(with_les.with_columns(_has_les=pl.lit(True)), on="subject_id", how="left")
        .with_columns(
            soft=pl.coalesce("soft", pl.when(c("_has_les").fill_null(False)).then(pl.lit("NE")).otherwise(pl.lit("NED"))),
            bone=pl.coalesce("bone", pl.lit("NE")),
            _targets=c("_targets").fill_null(False),
        )
        .with_columns(overall_response=combined(c("soft"), c("bone"), c("_targets")))
    )
    bone_pd = c("bone") == "PD"
    soft_pd = c("soft") == "PD"
    img = img.with_columns(
        progression_event_date=pl.when(c("overall_response") == "PD").then(
            pl.min_horizontal(pl.when(bone_pd).then(c("bone_pd_date")), pl.when(soft_pd).then(pl.coalesce("soft_event", "date")))
        ),
        canonical_level=c("overall_response").replace_strict(CANONICAL, default=None, return_dtype=pl.String),
    )
    ev = img.filter(c("overall_response") == "PD").group_by("subject_id", "line").agg(_first=c("date").min())
    img = img.join(ev, on=["subject_id", "line"], how="left").with_columns(
        is_progression_event=(c("date") == c("_first")),
        pending_progression=c("overall_response") == "PDu",
        target_response=c("soft"),
        non_target_response=c("bone"),
        explanation=pl.format(
            "{} (PCWG3 combined, pcwg3.md §6): soft tissue {} + bone {}{}{}",
            c("overall_response"), c("soft"), c("bone"),
            pl.when(c("bone_expl").is_not_null()).then(pl.concat_str(pl.lit(" | "), c("bone_expl"))).otherwise(pl.lit("")),
            pl.when(c("soft_expl").is_not_null()).then(pl.concat_str(pl.lit(" | soft tissue: "), c("soft_expl"))).otherwise(pl.lit("")),
        ),
        rule_ids=pl.concat_str(c("bone_rule"), pl.lit("COMB"), separator=",", ignore_nulls=True),
    )
    # merge PSA on the same date into imaging rows; PSA-only rows otherwise
    p = psa.select("subject_id", "date", "line", "psa", "base_psa", "nadir", "psa_cat", "psa_level", "psa_event", "psa_pending",
                   "psa_expl", "psa_rule", "baseline_date")
    img = img.join(p.drop("line", "baseline_date"), on=["subject_id", "date"], how="left").with_columns(
        value=c("psa"), baseline_value=c("base_psa"), nadir_value=c("nadir"),
        canonical_level=pl.when(c("psa_level").is_in([S.PROGRESSION, S.PROGRESSION_PENDING])).then(
            L.worst_level(c("canonical_level"), c("psa_level"))
        ).otherwise(c("canonical_level")),
        is_progression_event=c("is_progression_event") | c("psa_event").fill_null(False),
        progression_event_date=pl.coalesce("progression_event_date", pl.when(c("psa_event").fill_null(False)).then(c("date"))),
        explanation=pl.concat_str(c("explanation"), c("psa_expl"), separator=" | ", ignore_nulls=True),
        rule_ids=pl.concat_str(c("rule_ids"), c("psa_rule"), separator=",", ignore_nulls=True),
    )
    psa_only = p.join(img.select("subject_id", "date"), on=["subject_id", "date"], how="anti").with_columns(
        overall_response=c("psa_cat"), value=c("psa"), baseline_value=c("base_psa"), nadir_value=c("nadir"),
        canonical_level=c("psa_level"), is_progression_event=c("psa_event"),
        progression_event_date=pl.when(c("psa_level") == S.PROGRESSION).then(c("date")),
        pending_progression=c("psa_pending"), explanation=c("psa_expl"), rule_ids=c("psa_rule"),
    )
    out = pl.concat([L.finish(img, CODE), L.finish(psa_only, CODE)], how="vertical").with_columns(
        change_from_baseline_pct=L.pct(c("value"), c("baseline_value")),
        change_from_nadir_pct=L.pct(c("value"), c("nadir_value")),
        change_from_nadir_abs=c("value") - c("nadir_value"),
    )
    # progression dates of PSA rows after a confirmed PSA progression: the first PSA PD date
    first = psa.filter(c("psa_event")).select("subject_id", "line", _pd=c("date"))
    out = out.join(first, on=["subject_id", "line"], how="left").with_columns(
        progression_event_date=pl.when((c("overall_response") == "PSA PROGRESSION") & (c("canonical_level") == S.PROGRESSION))
        .then(c("_pd")).otherwise(c("progression_event_date"))
    ).drop("_pd")
    return out.sort("subject_id", "date", "line", nulls_last=True)


def run(tables, segments: pl.DataFrame, options: Pcwg3Options | None) -> pl.DataFrame:
    return evaluate(tables, segments, options or Pcwg3Options())

#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def pd_at_pdu_scan(timepoints: pl.DataFrame) -> pl.DataFrame:
    """The best-response view of the time points (the rule's ``prepare`` hook), pcwg3.md §4:
    once a scan confirms a PDu (2 + 2 at the first reassessment, or the persistence of the
    later-scan lesions) "the PDu time point is re-labelled PD; progression date = date of the
    PDu scan".  A ``PD`` time point whose ``progression_event_date`` is earlier than its own
    date makes the time point on that earlier date PD, so the best response is PD dated to
    the PDu scan.  The assessment rows keep their categories as they stood (spec/tables.md);
    only this view changes.  Time points without ``progression_event_date`` are returned
    unchanged."""
    col = "overall_response" if "overall_response" in timepoints.columns else "response"
    if "progression_event_date" not in timepoints.columns or timepoints.height == 0:
        return timepoints
    c = pl.col
    back = (
        timepoints.filter((c(col) == "PD") & (c("progression_event_date") < c("date")))
        .select("subject_id", date=c("progression_event_date"))
        .unique()
        .with_columns(_back=pl.lit(True))
    )
    if back.height == 0:
        return timepoints
    return (
        timepoints.join(back, on=["subject_id", "date"], how="left")
        .with_columns(pl.when(c("_back").fill_null(False)).then(pl.lit("PD")).otherwise(c(col)).alias(col))
        .drop("_back")
    )


def best_response_rule(o: Pcwg3Options) -> BestResponseRule:
    """The best category reached by :data:`ORDER`, confirmed by an as-good result at least
    ``psa_confirm_days`` later, with pcwg3.md §4: a provisional progression (``PDu``) is
    never a best response (it counts as NE: pending, neither progression nor disease
    control); once confirmed it is PD dated to the PDu scan (:func:`pd_at_pdu_scan`).

    Disease control without response (combined SD / NON-CR/NON-PD, bone NON-PD; §6 uses the
    RECIST 1.1 categories) needs no confirmation and counts only from the RECIST SD minimum
    (``recist.sd_min_days``, recist11.md §5.2) after the reference start; earlier it is NE."""
    stable = ("SD", "NON-CR/NON-PD", "NON-PD")
    return BestResponseRule(
        order=ORDER,
        confirmation="as_good_later",
        confirm_days=o.psa_confirm_days,
        never_best=("PDu",),
        sd_codes=stable,
        sd_min_days=o.recist.sd_min_days,
        no_confirmation=stable,
        prepare=pd_at_pdu_scan,
    )

CRITERION = Criterion(
    code=CODE,
    cancer_types=("prostate",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=Pcwg3Options,
    run=run,
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=("CR", "PR", "SD", "PD", "NON-PD", "PDu", "PSA PROGRESSION") + _GENERIC,
        # PSA categories (biochemical only: not a remission, remission_model.md §3
        # psa_response_counts_as_partial = False)
        levels={"PSA RESPONSE": S.STABLE, "PSA NON-PD": S.STABLE, "PSA PROGRESSION": S.PROGRESSION},
        findings={"bone_scan_new_lesions": number_finding("int>=0", "an integer >= 0 (count of new bone lesions)")},
        lab_tests=("psa",),
    ),
    presentation=Presentation(
        label="PCWG3",
        plain_name="PCWG3",
        introduction="The PCWG3 rules are used to judge prostate cancer.",
        quantity_words="PSA level (a blood marker)",
        marker=True,
        value_label="PSA (ng/mL)",
        pd_threshold_pct=25.0,
        response_threshold_pct=-50.0,
        change_caption="PSA",
        pd_threshold_words="PSA progression: +25% (and 2 ng/mL) from the nadir (pcwg3.md §2)",
        response_threshold_words="PSA response: -50% from baseline (pcwg3.md §2)",
        evidence=("tumor_marker", "imaging"),
    ),
)


__all__ = ["CODE", "ORDER", "CANONICAL", "Pcwg3Options", "psa_timepoints", "bone_timepoints", "combined", "evaluate", "run", "dates", "best_response_rule", "pd_at_pdu_scan", "CRITERION"]
