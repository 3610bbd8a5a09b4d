"""RANO 2.0 for adult gliomas (``criteria/rano.md``).

Measurements, sums, nadirs, steroid dose, clinical status and the raw per-scan decision
(§4.1 imaging category, §4.2 rules G1–G11, §4.3 mixed tumours) are vectorised polars over
all subjects.  The rules that depend on what happened at *earlier or later* scans (§5.1
response confirmation, §5.2 preliminary-PD confirmation and pseudoprogression, G5 steroid
pending block) are one short sequential pass per segment over its time points
(:func:`_sequence`), written for clarity as the spec reads; it touches time points, never
lesion rows.

Inputs (documented in docs/criteria_imaging_rano_lugano.md)
------------------------------------------------------------
``lesions``: MRI lesions; ``diameter_mm`` × ``perpendicular_mm`` (same slice) → product;
role ``target`` (≤ 3, or 2 CE + 2 non-CE), ``non_target``, ``new``.  The component of a
lesion comes from ``organ``: ``non_enhancing``, ``t2_flair``, ``t2`` or ``flair`` = the
non-enhancing (T2/FLAIR) component, anything else (e.g. ``brain``) = contrast-enhancing.
The tumour type (``CE``/``NON_CE``/``MIXED``) is the option ``tumour_type`` or, by default
(``auto``), the components of the baseline targets.

``findings`` (codes, lower-case values): ``steroid_dose_mg`` (dexamethasone-equivalent
mg/day; the latest value on or before a scan; none recorded = 0),
``steroid_increase_reason`` (``tumour`` / ``other``), ``clinical_status`` (``improved``,
``stable``, ``worse`` = tumour-related deterioration, ``worse_other`` = worse for another
cause such as seizures, drug toxicity, stroke, infection), ``outside_radiation_field``
(``yes``/``no``: most new enhancement outside the high-dose region),
``histology_confirms_progression`` (``yes``/``no``), ``physiologic_replacement_only``
(boolean: the dose in force is physiologic replacement only, rano.md §2; latest value on or
before a scan).

``treatments``: modality ``radiation`` gives the radiotherapy completion date
(``end_date``) for the post-radiotherapy baseline and the 12-week early-PD window (§2, G6).

Outputs: ``overall_response`` ∈ CR, PR, MR, SD, PD, NE, ``PRELIMINARY_PD``
(PROGRESSION_PENDING), ``SD_PENDING_STEROIDS`` (STABLE with ``pending_progression``), each
row as it stood on its date (spec/tables.md: rows are never rewritten; the later scan that
confirms, resolves or back-dates a pending row says so on its own row);
``target_response`` = the imaging category; ``non_target_response`` = ``WORSE`` /
``STABLE_OR_CR`` / ``NA``; ``value`` = SPD of all targets (mm²).  Rule ids: ``G1``–``G11``,
``C1`` (response confirmed ≥ 28 days later) / ``C0`` (preliminary), ``PDc`` (preliminary PD
confirmed, dated back), ``PSP`` (on the scan showing the preliminary PD was
pseudoprogression; warning ``PSEUDOPROGRESSION``), ``G5r`` (on the scan whose dose is back
to baseline, resolving the steroid-pending scans as stable), ``G5p`` (tumour-related
deterioration after a steroid increase: PD dated to the first pending scan), ``RTB``
(post-radiotherapy baseline used).

Choices where the spec is silent or unclear (also in the docs file):

1. Post-RT baseline (§2): when a radiation treatment of the segment ends after the
   segment's baseline scan, the baseline becomes the first scan on or after the RT end
   date (option ``post_rt_baseline``); earlier scans of the segment are "before the
   post-radiotherapy baseline" (no response).
2. G5 applies when the imaging category is SD ("stable imaging"); an imaging CR/PR/MR with a
   dose above baseline is SD by G10 (edge case 2).  A steroid-pending block is resolved as
   stable (``G5r``) by the first later scan whose dose is ≤ the baseline dose, or as PD
   dated to its first scan (``G5p``) by a later scan with tumour-related deterioration;
   the pending rows keep ``SD_PENDING_STEROIDS`` (spec/tables.md over §4.2's "becomes SD").
3. Confirmation of a preliminary PD (§5.2): at the next evaluable scan (no minimum
   interval), by a further ≥ ``confirm_pd_further_increase_pct`` % SPD increase vs the
   preliminary scan, a new measurable lesion not present at the preliminary scan, or
   tumour-related deterioration; a next scan no longer PD vs the nadir shows it was
   pseudoprogression (``PSP`` on that scan; the preliminary row keeps PRELIMINARY_PD,
   spec/tables.md over §5.2's "re-labelled SD"); otherwise the scan stays PRELIMINARY_PD
   and the one after it decides (still against the first preliminary scan).
4. Clinical status at a scan: the latest ``clinical_status`` dated after the previous
   scan of the segment and on or before this one; none = stable.  ``worse_other`` is not
   PD (edge 6) but is not "stable/improved" either, so it blocks CR/PR/MR (G10 → SD);
   so does any unrecognised value (``clinical_status`` is free text in spec/tables.md).
   A ``worse`` finding on a date without a scan is an assessment date of its own (G3 PD).
5. Steroids (G7 "no corticosteroids, physiologic replacement allowed"): physiologic
   replacement = a dose ≤ ``physiologic_steroid_mg`` (default 0.75 mg/day
   dexamethasone-equivalent, the option's description gives the source), or any dose while
   the latest ``physiologic_replacement_only`` finding on or before the scan is true
   (rano.md §2 inputs).
6. "Too small" targets without diameters count 5 × 5 mm; a new lesion is measurable when
   both diameters are ≥ 10 mm; any new lesion present blocks CR/PR/MR; a non-target
   "worse" is status ``progression`` or a non-measurable lesion (diameter < 10 mm or none
   at baseline) now ≥ 10 × 10 mm (edge 7).
7. Volumetric measurement is not implemented (the lesions table has no volume column).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S
from remission.schema import TIMEPOINTS

from . import _bidimensional as B
from .base import TRUE_SPELLINGS, BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding

CODE = "rano2"
ORDER = ("CR", "PR", "MR", "SD", "PD", "NE", "MISSING")
CANONICAL = {
    "CR": S.COMPLETE,
    "PR": S.PARTIAL,
    "MR": S.MINOR,
    "SD": S.STABLE,
    "SD_PENDING_STEROIDS": S.STABLE,
    "PRELIMINARY_PD": S.PROGRESSION_PENDING,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
}
NON_CE_ORGANS = ("non_enhancing", "t2_flair", "t2", "flair")
RANO_FINDINGS = ("steroid_dose_mg", "steroid_increase_reason", "clinical_status", "outside_radiation_field", "histology_confirms_progression")
FINDING_VALUES = {
    "steroid_increase_reason": ("tumour", "other"),
    "clinical_status": ("improved", "stable", "worse", "worse_other"),
    "outside_radiation_field": ("yes", "no"),
    "histology_confirms_progression": ("yes", "no"),
}
_RESP_RANK = {"CR": 0, "PR": 1, "MR": 2}


class RanoOptions(BaseModel):
    """rano.md §8 parameters (bidimensional) with the spec's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tumour_type: Literal["auto", "CE", "NON_CE", "MIXED"] = "auto"
    max_targets: int = Field(3, ge=1)
    pr_threshold_pct: float = Field(50.0, gt=0, description="PR: decrease >= this vs baseline.")
    mr_threshold_pct: float = Field(25.0, gt=0, description="MR (non-CE): decrease >= this (and < PR) vs baseline.")
    pd_threshold_pct: float = Field(25.0, gt=0, description="PD: increase >= this vs nadir.")
    confirm_response_days: int = Field(28, ge=1)
    early_pd_window_days_after_rt: int = Field(84, ge=0)
    confirm_pd_always: bool = False
    confirm_pd_further_increase_pct: float = Field(25.0, gt=0)
    sd_min_days: int = Field(56, ge=0)
    post_rt_baseline: bool = True
    physiologic_steroid_mg: float = Field(
        0.75,
        ge=0,
        description=(
            "G7 'no corticosteroids (physiologic replacement allowed)': a dexamethasone-equivalent dose <= this "
            "(mg/day) counts as physiologic replacement. Default 0.75 mg: physiologic hydrocortisone replacement is "
            "15-25 mg/day (Bornstein et al., Endocrine Society guideline, J Clin Endocrinol Metab 2016;101:364-389), "
            "midpoint 20 mg = 0.75 mg dexamethasone by the usual equivalence (dexamethasone ~25-30x hydrocortisone; "
            "Roth, Happold, Weller, Neuro-Oncol Pract 2015;2:6-12, Table 1), i.e. 15-25 mg ~ 0.5-0.9 mg."
        ),
    )
    tstm_default_mm: float = Field(5.0, gt=0)


# --------------------------------------------------------------------------------------


def dates(tables) -> pl.DataFrame:
    """Scan dates, plus dates of tumour-related clinical deterioration (G3)."""
    parts = [tables["lesions"].select("subject_id", "date")]
    f = tables.get("findings")
    if f is not None and f.height:
        parts.append(
            f.filter((pl.col("finding").str.to_lowercase() == "clinical_status") & (pl.col("value").str.to_lowercase() == "worse")).select(
                "subject_id", "date"
            )
        )
    return pl.concat(parts, how="vertical_relaxed").unique()


def _post_rt_segments(segments: pl.DataFrame, treatments: pl.DataFrame | None, scan_dates: pl.DataFrame, o: RanoOptions) -> pl.DataFrame:
    """Segments with ``rt_end`` (latest end of a radiation treatment ending on or after the
    segment's reference start, within the segment) and, with ``post_rt_baseline`` and an
    ``rt_end`` after the baseline scan, the first scan on or after ``rt_end`` as baseline
    (choice 1)."""
    c = pl.col
    seg = segments.select([c(k).cast(t) for k, t in S.SEGMENTS.items()])
    if treatments is None or treatments.height == 0:
        return seg.with_columns(rt_end=pl.lit(None, dtype=pl.Date), rtb=pl.lit(False))
    rt = treatments.filter((c("modality") == "radiation") & c("end_date").is_not_null()).select("subject_id", "end_date")
    # segments' own end_date column clashes with the treatment end_date; rename first
    seg2 = seg.rename({"end_date": "seg_end"})
    j = (
        seg2.join(rt, on="subject_id", how="inner")
        .filter(
            (c("end_date") >= c("reference_start"))
            & (c("seg_end").is_null() | (c("end_date") <= c("seg_end")))
        )
        .group_by(B.SEG)
        .agg(rt_end=c("end_date").max())
    )
    seg2 = seg2.join(j, on=B.SEG, how="left")
    if o.post_rt_baseline:
        sd = scan_dates.select("subject_id", c("date").alias("_scan")).unique().sort("_scan")
        first = (
            seg2.filter(c("rt_end").is_not_null() & (c("baseline_date").is_null() | (c("rt_end") > c("baseline_date"))))
            .join(sd, on="subject_id")
            .filter((c("_scan") >= c("rt_end")) & (c("seg_end").is_null() | (c("_scan") <= c("seg_end"))))
            .group_by(B.SEG)
            .agg(new_base=c("_scan").min())
        )
        seg2 = seg2.join(first, on=B.SEG, how="left").with_columns(
            rtb=c("new_base").is_not_null(), baseline_date=pl.coalesce("new_base", "baseline_date")
        ).drop("new_base")
    else:
        seg2 = seg2.with_columns(rtb=pl.lit(False))
    return seg2.rename({"seg_end": "end_date"})


def _component(organ: pl.Expr) -> pl.Expr:
    return pl.when(organ.str.to_lowercase().is_in(list(NON_CE_ORGANS)).fill_null(False)).then(pl.lit("NON_CE")).otherwise(pl.lit("CE"))


def _frame(tables, segments: pl.DataFrame, o: RanoOptions):
    c = pl.col
    les = B.normalise_lesions(tables["lesions"]).with_columns(component=_component(c("organ")))
    findings = tables.get("findings")
    findings = (findings if findings is not None else S.empty(S.FINDINGS)).with_columns(c("finding").str.to_lowercase())
    seg = _post_rt_segments(segments, tables.get("treatments"), les.select("subject_id", "date"), o)
    plain = seg.select(list(S.SEGMENTS))
    followups, baseline_rows, other_rows = B.place_dates(dates({"lesions": les, "findings": findings}), plain)
    followups = followups.join(seg.select(*B.SEG, "rt_end", "rtb"), on=B.SEG, how="left")
    targets = B.targets_of(les, plain, o.tstm_default_mm).with_columns(component=_component(c("organ")))
    ts = B.target_series(les, followups, targets.drop("component"), o.tstm_default_mm).join(
        targets.select(*B.SEG, "lesion_id", "component"), on=[*B.SEG, "lesion_id"], how="left"
    )
    # per component sums and categories (§4.1)
    comp = (
        ts.group_by([*B.KEY, "component"])
        .agg(
            n=pl.len(),
            n_meas=c("prod").count(),
            spd=c("prod").sum(),
            base=pl.when(c("base_prod").null_count() == 0).then(c("base_prod").sum()),
            all_zero=(c("prod") == 0).all(),
            missing=c("lesion_id").filter(c("prod").is_null()).str.join(", "),
        )
        .sort([*B.KEY, "component"])
    )
    comp = pl.DataFrame(comp.get_columns())
    complete = (c("n_meas") == c("n")) & c("base").is_not_null()
    comp = comp.with_columns(
        prev_min=pl.when(complete).then(c("spd")).fill_null(B.INF).cum_min().shift(1, fill_value=B.INF).over([*B.SEG, "component"])
    ).with_columns(
        nadir=pl.min_horizontal(c("base"), c("prev_min")),
        complete=complete,
    ).with_columns(
        vs_base=B.pct(c("spd"), c("base")),
        vs_nadir=B.pct(c("spd"), c("nadir")),
    )
    mr_ok = c("component") == "NON_CE"
    comp = comp.with_columns(
        cat=pl.when(~c("complete")).then(pl.lit("NE"))
        .when(c("vs_nadir") >= o.pd_threshold_pct).then(pl.lit("PD"))
        .when(c("all_zero")).then(pl.lit("CR"))
        .when(c("vs_base") <= -o.pr_threshold_pct).then(pl.lit("PR"))
        .when(mr_ok & (c("vs_base") <= -o.mr_threshold_pct)).then(pl.lit("MR"))
        .otherwise(pl.lit("SD"))
    ).with_columns(
        ctext=pl.format(
            "{} SPD {} mm² ({}% vs baseline {}, {}% vs nadir {}) {}",
            pl.when(c("component") == "CE").then(pl.lit("enhancing")).otherwise(pl.lit("non-enhancing")),
            _n(c("spd")), _s(c("vs_base")), _n(c("base")), _s(c("vs_nadir")), _n(c("nadir")), c("cat"),
        )
    )
    cagg = comp.group_by(B.KEY).agg(
        cats=c("cat"),
        value=c("spd").sum(),
        value_complete=(c("n_meas") == c("n")).all(),
        baseline_value=pl.when(c("base").null_count() == 0).then(c("base").sum()),
        nadir_value=pl.when(c("nadir").null_count() == 0).then(c("nadir").sum()),
        ctext=c("ctext").str.join("; "),
        missing=c("missing").filter(c("missing") != "").str.join(", "),
        n_t=c("n").sum(),
        comps=c("component").unique().sort().str.join("+"),
    )
    # non-targets (G2) and new lesions (G1)
    fu = followups.select(*B.KEY, "cut", "baseline_date")
    ntb = (
        les.filter(c("role") == "non_target")
        .join(plain.filter(c("baseline_date").is_not_null()).select("subject_id", "baseline_date"), left_on=["subject_id", "date"], right_on=["subject_id", "baseline_date"])
        .select("subject_id", "lesion_id", bd=c("diameter_mm"), bp=c("perpendicular_mm"))
    )
    nt = (
        les.filter(c("role") == "non_target")
        .join(fu, on=["subject_id", "date"], how="inner")
        .join(ntb, on=["subject_id", "lesion_id"], how="left")
        .with_columns(
            worse=(c("status") == "progression")
            | ((c("diameter_mm") >= 10) & (c("perpendicular_mm") >= 10) & ~((c("bd") >= 10) & (c("bp") >= 10)).fill_null(False)).fill_null(False),
            not_gone=c("status") != "absent",
        )
        .group_by(B.KEY)
        .agg(nt_worse=c("worse").any(), nt_ids=c("lesion_id").filter(c("worse")).str.join(", "), nt_present=c("not_gone").fill_null(True).any())
    )
    new = (
        les.filter(c("role") == "new")
        .join(fu, on=["subject_id", "date"], how="inner")
        .filter(c("first_date") > c("cut"))
        .with_columns(
            present=c("status").is_null() | c("status").is_in(["present", "progression", "too_small"]),
            meas=(c("diameter_mm") >= 10).fill_null(False) & (c("perpendicular_mm") >= 10).fill_null(False),
        )
        .group_by(B.KEY)
        .agg(
            nl=(c("present") & c("meas")).any(),
            nl_list=c("lesion_id").filter(c("present") & c("meas")),
            nl_any=c("present").any(),
            nl_text=pl.format("{} {}x{} mm", c("lesion_id"), _n(c("diameter_mm")), _n(c("perpendicular_mm"))).filter(c("present") & c("meas")).str.join(", "),
        )
    )
    seg_n = targets.group_by(B.SEG).agg(n_targets=pl.len(), comps_base=c("component").unique().sort().str.join("+"))
    e = (
        followups.select(*B.KEY, "baseline_date", "reference_start", "rt_end", "rtb")
        .join(seg_n, on=B.SEG, how="left")
        .join(cagg, on=B.KEY, how="left")
        .join(nt, on=B.KEY, how="left")
        .join(new, on=B.KEY, how="left")
        .with_columns(
            c("n_targets").fill_null(0),
            c("nt_worse", "nt_present", "nl", "nl_any").fill_null(False),
            c("nl_list").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .sort(B.KEY)
    )
    lesion_dates = les.select("subject_id", "date").unique().with_columns(scan=pl.lit(True))
    e = e.join(lesion_dates, on=["subject_id", "date"], how="left").with_columns(c("scan").fill_null(False))
    # findings
    e = B.finding_asof(findings, "steroid_dose_mg", e, "dose", numeric=True)
    e = B.finding_asof(findings, "steroid_dose_mg", e, "base_dose", on="baseline_date", numeric=True)
    e = B.finding_asof(findings, "steroid_increase_reason", e, "reason")
    e = B.finding_asof(findings, "physiologic_replacement_only", e, "phys_only")
    e = e.with_columns(prev=c("date").shift(1).over(B.SEG).fill_null(c("baseline_date")))
    e = B.finding_asof(findings, "clinical_status", e, "clin")
    e = B.finding_on(findings, "outside_radiation_field", e, "outside")
    e = B.finding_on(findings, "histology_confirms_progression", e, "histo")
    e = e.with_columns(
        dose=c("dose").fill_null(0.0),
        base_dose=c("base_dose").fill_null(0.0),
        phys_only=c("phys_only").str.strip_chars().is_in(list(TRUE_SPELLINGS)).fill_null(False),
        clin=pl.when(c("clin_date") > c("prev")).then(c("clin")).otherwise(pl.lit("stable")).fill_null("stable"),
    )
    return e, baseline_rows, other_rows, targets, plain, seg


def _n(e: pl.Expr) -> pl.Expr:
    r = e.round(1)
    return pl.when(r.is_infinite()).then(pl.lit("inf")).when(r == r.floor()).then(r.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(r.cast(pl.String))


def _s(e: pl.Expr) -> pl.Expr:
    return pl.when(e >= 0).then(pl.concat_str(pl.lit("+"), _n(e))).otherwise(_n(e))


def _raw(e: pl.DataFrame, o: RanoOptions) -> pl.DataFrame:
    """§4.2 G1–G11 at each time point on its own (before the sequential rules)."""
    c = pl.col
    cats = c("cats").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    rest = cats.list.eval(pl.element().filter(pl.element() != "CR"))
    e = e.with_columns(  # §4.3 table, vectorised (= tests/reference/rano.py)
        img=pl.when(cats.list.contains("PD")).then(pl.lit("PD"))
        .when(cats.list.contains("NE")).then(pl.lit("NE"))
        .when(rest.list.len() == 0).then(pl.lit("CR"))
        .when(rest.list.contains("MR")).then(pl.lit("MR"))
        .when(rest.list.contains("PR")).then(pl.lit("PR"))
        .otherwise(pl.lit("SD"))
    )
    e = e.with_columns(img=pl.when(c("n_targets") == 0).then(pl.lit("NA")).otherwise(c("img")))
    early = (
        c("rt_end").is_not_null()
        & ((c("date") - c("rt_end")).dt.total_days() <= o.early_pd_window_days_after_rt)
        & ~(c("outside") == "yes").fill_null(False)
        & ~(c("histo") == "yes").fill_null(False)
    )
    prelim = early | pl.lit(o.confirm_pd_always)
    img_pd = c("img") == "PD"
    img_trig = c("nl") | c("nt_worse") | img_pd
    # G7 "no corticosteroids (physiologic replacement allowed)": a dose <= the physiologic
    # replacement dose, or one the reader marks physiologic_replacement_only (rano.md §2)
    no_steroids = (c("dose") <= o.physiologic_steroid_mg) | c("phys_only")
    clin_ok = c("clin").is_in(["stable", "improved"])
    no_nt = ~c("nt_present")
    resp_ok = clin_ok & ~c("nl_any")
    g = (
        pl.when(img_trig & ~(c("clin") == "worse")).then(pl.when(prelim).then(pl.lit("PRELIMINARY_PD|G6")).otherwise(
            pl.when(c("nl")).then(pl.lit("PD|G1")).when(c("nt_worse")).then(pl.lit("PD|G2")).otherwise(pl.lit("PD|G4"))
        ))
        .when(c("clin") == "worse").then(pl.lit("PD|G3"))
        .when(~c("scan") | c("img").is_in(["NE"])).then(pl.lit("NE|G11"))
        .when((c("n_targets") == 0)).then(pl.lit("NE|G11"))
        .when((c("img") == "SD") & (c("dose") > c("base_dose")) & (c("reason") == "other").fill_null(False)).then(pl.lit("SD_PENDING_STEROIDS|G5"))
        .when((c("img") == "CR") & no_steroids & resp_ok & no_nt).then(pl.lit("CR|G7"))
        .when(c("img").is_in(["CR", "PR"]) & (c("dose") <= c("base_dose")) & resp_ok).then(pl.lit("PR|G8"))
        .when((c("img") == "MR") & (c("dose") <= c("base_dose")) & resp_ok).then(pl.lit("MR|G9"))
        .otherwise(pl.lit("SD|G10"))
    )
    e = e.with_columns(_g=g).with_columns(
        raw=c("_g").str.split_exact("|", 1).struct.field("field_0"),
        rule=c("_g").str.split_exact("|", 1).struct.field("field_1"),
    ).drop("_g")
    why = pl.concat_str(
        pl.when(c("nl")).then(pl.format("new measurable lesion {}", c("nl_text"))),
        pl.when(c("nt_worse")).then(pl.format("non-target {} worse", c("nt_ids"))),
        pl.when(img_pd).then(pl.lit("imaging PD (>= 25% vs nadir)")),
        separator="; ",
        ignore_nulls=True,
    )
    steroid = pl.format("dexamethasone {} mg (baseline {} mg)", _n(c("dose")), _n(c("base_dose")))
    r = c("raw")
    text = (
        pl.when(r == "PRELIMINARY_PD").then(pl.concat_str(pl.lit("preliminary PD: "), why, pl.when(c("rt_end").is_not_null()).then(pl.format(" within {} days after radiotherapy ended {}", (c("date") - c("rt_end")).dt.total_days(), c("rt_end"))), pl.lit("; confirmation scan needed"), ignore_nulls=True))
        .when(c("rule") == "G3").then(pl.lit("clinical deterioration, tumour-related"))
        .when(r == "PD").then(why)
        .when(r == "NE").then(
            pl.when(~c("scan")).then(pl.lit("no scan")).when(c("n_targets") == 0).then(pl.lit("no measurable target at baseline")).otherwise(pl.format("target {} not measured", c("missing")))
        )
        .when(r == "SD_PENDING_STEROIDS").then(pl.concat_str(pl.lit("stable imaging but steroids increased for another reason: "), steroid))
        .when(c("rule") == "G10").then(
            pl.concat_str(
                pl.lit("imaging "), c("img"),
                pl.when(c("img").is_in(["CR", "PR", "MR"])).then(
                    pl.concat_str(
                        pl.lit(" but "),
                        pl.concat_str(
                            pl.when(c("dose") > c("base_dose")).then(pl.lit("steroid dose above baseline")),
                            pl.when((c("img") == "CR") & ~no_steroids).then(pl.lit("still on steroids")),
                            pl.when(~clin_ok).then(pl.format("clinical status {}", c("clin"))),
                            pl.when(c("nl_any")).then(pl.lit("new lesion present")),
                            separator=", ", ignore_nulls=True,
                        ),
                    )
                ),
                ignore_nulls=True,
            )
        )
        .otherwise(pl.concat_str(
            pl.lit("imaging "), c("img"), pl.lit(", "), steroid,
            pl.when((c("rule") == "G7") & (c("dose") > 0)).then(
                pl.when(c("phys_only")).then(pl.lit(" marked physiologic replacement only"))
                .otherwise(pl.format(" <= physiologic replacement {} mg", pl.lit(B.fmt(o.physiologic_steroid_mg))))
            ),
            pl.format(", clinically {}", c("clin")),
            ignore_nulls=True,
        ))
    )
    return e.with_columns(raw_text=pl.concat_str(text, pl.when(c("ctext").is_not_null()).then(pl.concat_str(pl.lit(" ["), c("ctext"), pl.lit("]"))), ignore_nulls=True))


def _sequence(rows: list[dict], o: RanoOptions) -> list[dict]:
    """§5.1, §5.2 and G5 over one segment's time points in date order (choices 2, 3)."""
    out = [dict(r, overall=r["raw"], rules=[r["rule"]], ped=None, warn=[], note="") for r in rows]
    prelim: int | None = None
    pending: list[int] = []
    for i, r in enumerate(out):
        if prelim is not None and r["raw"] != "NE":
            p = out[prelim]
            pv, v = p["value"], r["value"]
            further = pv is not None and v is not None and pv > 0 and 100.0 * (v - pv) / pv >= o.confirm_pd_further_increase_pct
            new_nl = bool(set(r["nl_list"] or []) - set(p["nl_list"] or []))
            if further or new_nl or r["rule"] == "G3":
                r["overall"], r["ped"] = "PD", p["date"]
                r["rules"].append("PDc")
                why = "further SPD increase" if further else ("new measurable lesion" if new_nl else "tumour-related deterioration")
                r["note"] = f"; confirms the preliminary PD of {p['date']} ({why}), progression dated {p['date']}"
                prelim = None
            elif r["raw"] in ("PD", "PRELIMINARY_PD"):
                r["overall"] = "PRELIMINARY_PD"
                r["note"] = f"; still >= {B.fmt(o.pd_threshold_pct)}% above nadir without further increase vs {p['date']}: preliminary PD continues"
            else:
                # the preliminary row stays as it stood (spec/tables.md); this scan resolves it
                r["rules"].append("PSP")
                r["warn"].append("PSEUDOPROGRESSION")
                r["note"] += f"; no longer PD vs nadir: the preliminary PD of {p['date']} was pseudoprogression"
                prelim = None
        elif r["raw"] == "PRELIMINARY_PD":
            prelim = i
        # G5 steroid-pending block
        if r["raw"] == "SD_PENDING_STEROIDS":
            pending.append(i)
        elif pending:
            if r["rule"] == "G3" or (r["overall"] == "PD" and r["clin"] == "worse"):
                first = out[pending[0]]
                r["ped"] = first["date"]
                r["rules"].append("G5p")
                r["note"] += f"; PD dated to {first['date']}, when the steroid increase was first needed"
                pending = []
            elif r["scan"] and r["dose"] <= r["base_dose"]:
                # the pending rows stay as they stood (spec/tables.md); this scan resolves them
                r["rules"].append("G5r")
                since = ", ".join(str(out[j]["date"]) for j in pending)
                r["note"] += f"; steroid dose back to baseline: the steroid-pending scan of {since} resolved as stable"
                pending = []
    # §5.1 confirmation of CR/PR/MR (annotation; the remission model confirms on its own)
    for i, r in enumerate(out):
        if r["overall"] not in _RESP_RANK:
            continue
        conf = None
        for s in out[i + 1 :]:
            if s["overall"] in ("PD", "PRELIMINARY_PD"):
                break
            if (s["date"] - r["date"]).days >= o.confirm_response_days and s["overall"] in _RESP_RANK and _RESP_RANK[s["overall"]] <= _RESP_RANK[r["overall"]]:
                conf = s["date"]
                break
        r["rules"].append("C1" if conf else "C0")
        r["confirmed_on"] = conf
        r["note"] += f"; confirmed by {conf}" if conf else "; preliminary (not yet confirmed >= 28 days later)"
    return out


def evaluate(tables, segments: pl.DataFrame, options: RanoOptions | None = None) -> pl.DataFrame:
    """RANO 2.0 time points (schema.TIMEPOINTS, ``criteria = "rano2"``); see the module docstring."""
    o = options or RanoOptions()
    c = pl.col
    e, baseline_rows, other_rows, targets, plain, seg = _frame(tables, segments, o)
    e = _raw(e, o)
    keep = ["subject_id", "line", "date", "raw", "rule", "value", "nl_list", "clin", "dose", "base_dose", "scan"]
    rows_out = []
    for _, grp in e.select(keep).group_by(B.SEG, maintain_order=True):
        rows_out.extend(_sequence(list(grp.sort("date").iter_rows(named=True)), o))
    seq = pl.DataFrame(
        [
            {
                "subject_id": r["subject_id"], "line": r["line"], "date": r["date"], "overall_response": r["overall"],
                "rule_ids": ",".join(r["rules"]), "ped": r["ped"], "warn": ",".join(r["warn"]) or None, "note": r["note"],
            }
            for r in rows_out
        ],
        schema={"subject_id": pl.String, "line": pl.Int32, "date": pl.Date, "overall_response": pl.String, "rule_ids": pl.String,
                "ped": pl.Date, "warn": pl.String, "note": pl.String},
    )
    e = e.join(seq, on=B.KEY, how="left")
    is_pd = c("overall_response") == "PD"
    too_many = (c("n_targets") > o.max_targets) | ((c("comps_base") == "CE+NON_CE") & (c("n_targets") > 4))
    e = e.with_columns(
        target_response=c("img"),
        non_target_response=pl.when(c("nt_worse")).then(pl.lit("WORSE")).when(c("nt_present").is_not_null()).then(pl.lit("STABLE_OR_CR")).otherwise(pl.lit("NA")),
        new_lesion=c("nl"),
        canonical_level=c("overall_response").replace_strict(CANONICAL, default=S.NOT_EVALUABLE),
        is_progression_event=is_pd,
        progression_event_date=pl.when(is_pd).then(pl.coalesce("ped", "date")),
        pending_progression=c("overall_response").is_in(["PRELIMINARY_PD", "SD_PENDING_STEROIDS"]),
        recurrence_sites=pl.when(is_pd).then(pl.lit("brain")),
        change_from_baseline_pct=B.pct(c("value"), c("baseline_value")),
        change_from_nadir_pct=B.pct(c("value"), c("nadir_value")),
        change_from_nadir_abs=c("value") - c("nadir_value"),
        warnings=pl.concat_str(c("warn"), pl.when(too_many).then(pl.lit("MORE_THAN_MAX_TARGETS")), separator=",", ignore_nulls=True),
        explanation=pl.concat_str(pl.format("{}: ", c("overall_response")), c("raw_text"), c("note"), ignore_nulls=True),
        rule_ids=pl.concat_str(c("rule_ids"), pl.when(c("rtb")).then(pl.lit("RTB")), separator=",", ignore_nulls=True),
    ).with_columns(warnings=pl.when(c("warnings") == "").then(None).otherwise(c("warnings")))

    bsum = targets.group_by(B.SEG).agg(n=pl.len(), bv=pl.when(c("base_prod").null_count() == 0).then(c("base_prod").sum()))
    br = baseline_rows.join(bsum, on=B.SEG, how="left").join(seg.select(*B.SEG, "rtb"), on=B.SEG, how="left").with_columns(
        baseline_value=c("bv"),
        value=c("bv"),
        explanation=pl.concat_str(
            pl.when(c("n").is_null()).then(pl.lit("Baseline: no measurable target lesions"))
            .when(c("bv").is_null()).then(pl.lit("Baseline: a target is not measured bidimensionally"))
            .otherwise(pl.format("Baseline: sum of products {} mm² ({} target lesions)", _n(c("bv")), c("n"))),
            pl.when(c("rtb")).then(pl.lit(" (post-radiotherapy MRI)")),
            ignore_nulls=True,
        ),
    )
    # scans between the original baseline and the post-RT baseline: no response
    others = other_rows.with_columns(
        explanation=pl.when(c("explanation") == "before baseline").then(c("explanation")).otherwise(c("explanation"))
    )
    parts = []
    for part in (e, br, others):
        missing = [k for k in TIMEPOINTS if k not in part.columns]
        part = part.with_columns([pl.lit(None, dtype=TIMEPOINTS[k]).alias(k) for k in missing])
        parts.append(part.select([pl.col(k).cast(t) for k, t in TIMEPOINTS.items()]))
    out = pl.concat(parts, how="vertical").with_columns(
        criteria=pl.lit(CODE), is_progression_event=c("is_progression_event").fill_null(False), pending_progression=c("pending_progression").fill_null(False)
    )
    return out.sort("subject_id", "date")


#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def best_response_rule(o: RanoOptions) -> BestResponseRule:
    """rano.md §5.3 (order CR > PR > MR > SD > PD > NE; "only confirmed CR/PR/MR count"; SD
    needs ``sd_min_days`` from the treatment start) with §5.1 (a response is sustained when a
    scan at least ``confirm_response_days`` later shows the same or better category):

    * CR/PR/MR count only when confirmed, in the best response too (``confirmed_only``);
      an unconfirmed one counts as SD (``unconfirmed_as``, recist11.md §5.4 step 3 reading);
    * SD needs no confirmation and counts only from ``sd_min_days`` after the reference
      start; earlier it is NE (``sd_codes``);
    * ``PRELIMINARY_PD`` (§5.2) and ``SD_PENDING_STEROIDS`` (§4.2 G5: "not SD, not PD") are
      pending, never a best response: they count as NE (``never_best``); the later scan
      that resolves them carries its own category."""
    return BestResponseRule(
        order=ORDER,
        confirmation="as_good_later",
        confirm_days=o.confirm_response_days,
        sd_codes=("SD",),
        sd_min_days=o.sd_min_days,
        no_confirmation=("SD",),
        unconfirmed_as="SD",
        never_best=("PRELIMINARY_PD", "SD_PENDING_STEROIDS"),
        confirmed_only=True,
    )

CRITERION = Criterion(
    code=CODE,
    cancer_types=("glioma",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=CANONICAL,
    options_model=RanoOptions,
    run=lambda t, segs, o: evaluate(t, segs, o),
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=("CR", "PR", "MR", "SD", "PD", "PSEUDOPROGRESSION") + _GENERIC,
        findings={
            "steroid_dose_mg": number_finding(">=0", "a number >= 0 (mg)"),
            "steroid_increase_reason": FindingRule(values=("tumour", "other")),
            "outside_radiation_field": FindingRule(values=("yes", "no")),
            "histology_confirms_progression": FindingRule(values=("yes", "no")),
            "physiologic_replacement_only": boolean_finding(),
        },
    ),
    presentation=Presentation(
        label="RANO 2.0",
        plain_name="RANO",
        introduction="RANO is the set of rules for judging brain tumours on scans.",
        quantity_words="tumours",
        value_label="Sum of products of diameters (mm²)",
        pd_threshold_pct=25.0,
        response_threshold_pct=-50.0,
        change_caption="sum of products of diameters",
        pd_threshold_words="progression: +25% from the nadir (rano.md)",
        response_threshold_words="partial response: -50% from baseline (rano.md)",
        evidence=("imaging",),
    ),
)


__all__ = ["CRITERION", "CODE", "RanoOptions", "evaluate", "best_response_rule", "dates", "CANONICAL", "FINDING_VALUES"]
