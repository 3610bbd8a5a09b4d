"""Lugano classification 2014 for lymphoma (``criteria/lugano2014.md``), vectorised.

Two engines run on every assessment date of a segment (docs/imaging_engine.md "Input"):

* **PET-CT** (§4.1, rules ``P1``–``P5``) on the dates with PET findings → ``CMR``, ``PMR``,
  ``NMR``, ``PMD`` or ``NE`` (output column ``non_target_response``);
* **CT** (§4.2, rules ``D1``–``D5``, ``CTNE``, ``CTCR``, ``CTPR``, ``CTSD``) on the dates with
  lesion rows or CT findings → ``CR``, ``PR``, ``SD``, ``PD`` or ``NE`` (output column
  ``target_response``; ``value`` = SPD in mm², ``change_from_baseline_pct`` vs the baseline
  SPD, ``nadir_value`` = the smallest earlier complete SPD).

``overall_response`` (§4.3) is the category of ``primary_modality`` (default PET); on a
date where the primary modality was not performed at all, the other modality's category
is used (rule ``FB``, see choices).  Canonical levels (remission_model.md §3): CMR/CR →
COMPLETE, PMR/PR → PARTIAL, NMR/SD → STABLE, PMD/PD → PROGRESSION, NE → NOT_EVALUABLE.
The remission model confirms Lugano with 0 days (§6.4), so an end-of-treatment CMR starts
a complete remission on its date; the row of the first assessment after the end of all
active treatment carries rule ``EOT`` (§5 ``end_of_treatment_response``; a PMR there is
"residual disease", warning ``RESIDUAL_DISEASE``).  For curative regimens (treatment
intent ``curative``) the end-of-treatment response, not the best interim one, is the
remission onset (§5): a CMR/PMR/CR/PR dated while a curative-intent active treatment is
still running keeps its category on the row but gets level NOT_EVALUABLE and rule
``INTERIM`` (it still counts for the best response, which §5 takes per modality).

Inputs (documented in docs/criteria_imaging_rano_lugano.md)
------------------------------------------------------------
``lesions`` (CT): role ``target`` = up to 6 measured nodes/masses/extranodal lesions,
``diameter_mm`` = LDi and ``perpendicular_mm`` = SDi (the larger of the two is taken as
LDi), ``nodal`` true for nodes and nodal masses, ``status`` ``absent`` = not visible (0 × 0),
``too_small`` = 5 × 5 mm; role ``non_target`` = non-measured lesions (``absent``,
``present`` = stable or regressed, ``progression`` = clear progression); role ``new`` =
new lesions (``diameter_mm``/``perpendicular_mm`` = axes; ``progression`` = unequivocally
lymphoma whatever its size; ``equivocal`` = not attributable yet).

``findings`` (codes, values lower case):

* PET: ``deauville`` (1–5; several rows on one date = several sites, the highest counts),
  ``fdg_uptake_change`` (``reduced`` / ``unchanged`` / ``increased``: uptake of the
  score-4–5 sites vs baseline; the worst site's), ``new_fdg_foci`` (``yes``/``no``: new
  FDG-avid foci consistent with lymphoma; score-X foci are recorded as ``no``),
  ``marrow_fdg`` (``none``, ``diffuse_reactive``, ``residual_reduced``, ``unchanged``,
  ``new_focal``).
* CT: ``spleen_length_cm`` (craniocaudal length, cm), ``marrow_involvement``
  (``normal``, ``involved``, ``not_done``), ``liver`` (``normal``, ``enlarged``,
  ``progression``).

Choices where the spec is silent or unclear (each also in the docs file):

1. §4.1 several sites: one ``deauville`` (highest) and one ``fdg_uptake_change`` per date
   (the worst site: any increased → increased, any unchanged → unchanged), as §10 "worst
   site" says.
2. §4.3: the primary modality's category; when the primary modality has *no* assessment on
   a date (not performed / not done), the other one's category (rule ``FB``); a primary
   ``NE`` stays ``NE``.  Without the fallback a CT-only relapse (§7b, spleen) would be
   invisible to the remission model.
3. §4.2 D1 on every target (nodal or extranodal) with the node threshold LDi > 15 mm; size
   class from the LDi at the lesion's nadir, increments inclusive (§10).
4. §4.2 D4 "regrowth of a previously resolved lesion": an extranodal target whose nadir
   product is 0 with a product > 0 now, or a non-measured lesion recorded ``absent`` at an
   earlier follow-up and present now (a nodal one only when ``diameter_mm`` > 15).  A
   node regrowing is judged by D1.
5. §4.2 D2 spleen: splenomegaly at baseline (> 13 cm) → PD when the length exceeds its
   nadir by more than 50 % of the nadir's excess over 13 cm and is > 13 cm; without
   baseline splenomegaly → PD when it is ≥ 2 cm above baseline (this also covers "new
   splenomegaly" of edge case 8).  The baseline spleen is the latest value on or before
   the baseline date.
6. §4.2 D5: ``marrow_involvement = involved`` when the previous assessment (on or before
   the day before) was ``normal``.  An ``involved`` marrow without an earlier normal one
   is not PD but blocks CR.
7. CR needs: nodal targets LDi ≤ 15 mm, extranodal targets 0, non-measured lesions all
   ``absent`` (a node ≤ 15 mm counts as normal), spleen ≤ 13 cm when it was enlarged at
   baseline (it must be measured then), liver not ``enlarged``, marrow not ``involved``
   (latest value), no new lesion of any size.  PR needs SPD ≤ −50 %, no new lesion, and
   with baseline splenomegaly a measured spleen whose excess fell by > 50 %.
8. A segment without targets (no measurable disease) gives CR when everything recorded is
   normal/absent, else SD.
9. PET P3 (a) needs every site 4–5 ``reduced``; a score 4–5 without ``fdg_uptake_change``
   is NE (P5).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S
from remission.schema import TIMEPOINTS

from . import _bidimensional as B
from .base import BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding

CODE = "lugano2014"
#: best → worst (criteria/README.md "Lugano PET / CT")
ORDER_PET = ("CMR", "PMR", "NMR", "PMD", "NE")
ORDER_CT = ("CR", "PR", "SD", "PD", "NE")
ORDER = ("CMR", "CR", "PMR", "PR", "NMR", "SD", "PMD", "PD", "NE", "MISSING")
CANONICAL = {
    "CMR": S.COMPLETE,
    "CR": S.COMPLETE,
    "PMR": S.PARTIAL,
    "PR": S.PARTIAL,
    "NMR": S.STABLE,
    "SD": S.STABLE,
    "PMD": S.PROGRESSION,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
}
#: CDISC submission values (lugano2014.md §4.3)
CDISC = {"CMR": "CMR", "PMR": "PMR", "NMR": "SMD", "PMD": "PMD", "CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE"}

PET_FINDINGS = ("deauville", "fdg_uptake_change", "new_fdg_foci", "marrow_fdg")
CT_FINDINGS = ("spleen_length_cm", "marrow_involvement", "liver")
FINDING_VALUES = {
    "fdg_uptake_change": ("reduced", "unchanged", "increased"),
    "new_fdg_foci": ("yes", "no"),
    "marrow_fdg": ("none", "diffuse_reactive", "residual_reduced", "unchanged", "new_focal"),
    "marrow_involvement": ("normal", "involved", "not_done"),
    "liver": ("normal", "enlarged", "progression"),
}


class LuganoOptions(BaseModel):
    """lugano2014.md §8 parameters (defaults of the spec) and the §4.3 fallback."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    primary_modality: Literal["PET", "CT"] = Field("PET", description="Modality giving the overall response (§4.3).")
    fallback_to_other_modality: bool = Field(True, description="Use the other modality on dates without the primary one.")
    deauville3_is_complete: bool = Field(True, description="A Deauville 3 site counts as complete (§4.1 P2).")
    max_targets: int = Field(6, ge=1, description="Targets beyond this number give a warning (§2.3).")
    tstm_default_mm: float = Field(5.0, gt=0, description="Each diameter of a 'too small to measure' lesion (§3).")
    normal_node_ldi_mm: float = Field(15.0, gt=0)
    normal_extranodal_mm: float = Field(10.0, gt=0, description="New extranodal lesion size for D4.")
    normal_spleen_cm: float = Field(13.0, gt=0)
    spleen_increase_no_splenomegaly_cm: float = Field(2.0, gt=0)
    pd_ppd_increase_pct: float = Field(50.0, gt=0)
    pd_diameter_increase_small_mm: float = Field(5.0, gt=0)
    pd_diameter_increase_large_mm: float = Field(10.0, gt=0)
    size_cut_mm: float = Field(20.0, gt=0)
    pr_spd_decrease_pct: float = Field(50.0, gt=0)


# --------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------


def dates(tables) -> pl.DataFrame:
    """Assessment dates: lesion dates and the dates of PET/CT findings."""
    les = tables["lesions"].select("subject_id", "date")
    f = tables.get("findings")
    parts = [les]
    if f is not None and f.height:
        parts.append(f.filter(pl.col("finding").is_in(PET_FINDINGS + CT_FINDINGS)).select("subject_id", "date"))
    return pl.concat(parts, how="vertical_relaxed").unique()


# --------------------------------------------------------------------------------------
# CT (§4.2)
# --------------------------------------------------------------------------------------


def _ct(lesions: pl.DataFrame, findings: pl.DataFrame, followups: pl.DataFrame, o: LuganoOptions) -> pl.DataFrame:
    c = pl.col
    les = B.normalise_lesions(lesions)
    targets = B.targets_of(les, followups.select(S.SEGMENTS.keys()).unique(), o.tstm_default_mm)
    ts = B.target_series(les, followups, targets, o.tstm_default_mm)
    inc = pl.when(c("nadir_ldi") <= o.size_cut_mm).then(o.pd_diameter_increase_small_mm).otherwise(o.pd_diameter_increase_large_mm)
    ts = ts.with_columns(
        lpct=B.pct(c("prod"), c("nadir_prod")),
        dl=c("ldi") - c("nadir_ldi"),
        ds=c("sdi") - c("nadir_sdi"),
        inc=inc,
        lab=c("lesion_id"),
    ).with_columns(
        d1=((c("ldi") > o.normal_node_ldi_mm) & (c("lpct") >= o.pd_ppd_increase_pct) & ((c("dl") >= c("inc")) | (c("ds") >= c("inc")))).fill_null(False),
        regrow=(~c("nodal") & (c("nadir_prod") == 0) & (c("prod") > 0)).fill_null(False),
        cr_block=pl.when(c("nodal")).then(c("ldi") > o.normal_node_ldi_mm).otherwise(c("prod") > 0).fill_null(True),
    )
    d1_txt = pl.format(
        "{} LDi {} > {} mm, PPD {} mm² is {}% vs its nadir {} mm², LDi {} / SDi {} mm vs nadir (needs >= {} mm)",
        c("lab"), _n(c("ldi")), _n(pl.lit(o.normal_node_ldi_mm)), _n(c("prod")), _s(c("lpct")), _n(c("nadir_prod")),
        _s(c("dl")), _s(c("ds")), _n(c("inc")),
    )
    cr_txt = pl.when(c("nodal")).then(pl.format("{} LDi {} mm > {}", c("lab"), _n(c("ldi")), _n(pl.lit(o.normal_node_ldi_mm)))).otherwise(
        pl.format("{} extranodal {} mm² still present", c("lab"), _n(c("prod")))
    )
    tagg = (
        ts.with_columns(d1_txt=d1_txt, cr_txt=cr_txt)
        .group_by(B.KEY)
        .agg(
            n_t=pl.len(),
            n_meas=c("prod").count(),
            has_t_row=c("has_row").any(),
            spd=c("prod").sum(),
            base_spd=pl.when(c("base_prod").null_count() == 0).then(c("base_prod").sum()),
            d1=c("d1").any(),
            d1_txt=c("d1_txt").filter(c("d1")).str.join("; "),
            regrow=c("regrow").any(),
            regrow_ids=c("lab").filter(c("regrow")).str.join(", "),
            cr_block=c("cr_block").any(),
            cr_txt=c("cr_txt").filter(c("cr_block") & c("prod").is_not_null()).str.join("; "),
            missing=c("lab").filter(c("prod").is_null()).str.join(", "),
            d1_sites=c("organ").filter(c("d1")),
        )
        .with_columns(c("n_t").cast(pl.Int64), c("n_meas").cast(pl.Int64))
    )
    seg_t = targets.group_by(B.SEG).agg(n_targets=pl.len().cast(pl.Int64))

    # non-measured lesions (role non_target) at the date
    fu = followups.select(*B.KEY, "cut", "baseline_date")
    nt = (
        les.filter(c("role") == "non_target")
        .join(fu, on=["subject_id", "date"], how="inner")
        .sort("subject_id", "line", "lesion_id", "date")
        .with_columns(
            was_absent=(c("status") == "absent").cast(pl.Int8).cum_max().shift(1, fill_value=0).over("subject_id", "line", "lesion_id") > 0
        )
    )
    present = c("status").is_in(["present", "progression", "too_small", "equivocal"]) & ~(c("nodal") & (c("diameter_mm") <= o.normal_node_ldi_mm)).fill_null(False)
    ntagg = (
        nt.with_columns(
            prog=c("status") == "progression",
            back=c("was_absent") & present,
            notabsent=present | c("status").is_in(["not_evaluated"]),
        )
        .group_by(B.KEY)
        .agg(
            nt_prog=c("prog").any(),
            nt_prog_ids=c("lesion_id").filter(c("prog")).str.join(", "),
            nt_back=c("back").any(),
            nt_back_ids=c("lesion_id").filter(c("back")).str.join(", "),
            nt_present=c("notabsent").any(),
            nt_present_ids=c("lesion_id").filter(c("notabsent")).str.join(", "),
            nt_sites=c("organ").filter(c("prog") | c("back")),
        )
    )
    # new lesions (role new first seen after the cut)
    big = pl.max_horizontal(c("diameter_mm"), c("perpendicular_mm"))
    presentish = c("status").is_null() | c("status").is_in(["present", "too_small"])
    new = (
        les.filter(c("role") == "new")
        .join(fu, on=["subject_id", "date"], how="inner")
        .filter(c("first_date") > c("cut"))
        .with_columns(
            kind=pl.when(c("status") == "progression").then(pl.lit("pd"))
            .when(presentish & c("nodal") & (big > o.normal_node_ldi_mm).fill_null(False)).then(pl.lit("pd"))
            .when(presentish & ~c("nodal") & (big > o.normal_extranodal_mm).fill_null(False)).then(pl.lit("pd"))
            .when(presentish).then(pl.lit("small"))
            .when(c("status") == "equivocal").then(pl.lit("equivocal"))
            .otherwise(pl.lit("none"))
        )
        .group_by(B.KEY)
        .agg(
            nl=(c("kind") == "pd").any(),
            nl_ids=c("lesion_id").filter(c("kind") == "pd").str.join(", "),
            nl_small=(c("kind") == "small").any(),
            nl_small_ids=c("lesion_id").filter(c("kind") == "small").str.join(", "),
            nl_eq=(c("kind") == "equivocal").any(),
            nl_sites=c("organ").filter(c("kind") == "pd"),
        )
    )
    # CT findings
    e = followups.select(*B.KEY, "baseline_date")
    e = B.finding_on(findings, "spleen_length_cm", e, "spleen", agg="max")
    e = B.finding_on(findings, "marrow_involvement", e, "marrow")
    e = B.finding_on(findings, "liver", e, "liver")
    e = B.finding_asof(findings, "spleen_length_cm", e, "base_spleen", on="baseline_date", numeric=True)
    e = e.with_columns(prev_day=c("date") - pl.duration(days=1))
    e = B.finding_asof(
        findings.filter(~((c("finding") == "marrow_involvement") & (c("value").str.to_lowercase() == "not_done"))),
        "marrow_involvement", e, "marrow_prev", on="prev_day",
    )
    e = B.finding_asof(
        findings.filter(~((c("finding") == "marrow_involvement") & (c("value").str.to_lowercase() == "not_done"))),
        "marrow_involvement", e, "marrow_last", on="date",
    )
    lesion_dates = les.select("subject_id", "date").unique().with_columns(has_les=pl.lit(True))
    e = (
        e.join(seg_t, on=B.SEG, how="left")
        .join(tagg, on=B.KEY, how="left")
        .join(ntagg, on=B.KEY, how="left")
        .join(new, on=B.KEY, how="left")
        .join(lesion_dates, on=["subject_id", "date"], how="left")
        .with_columns(
            c("n_targets", "n_meas").fill_null(0),
            c("d1", "regrow", "cr_block", "nt_prog", "nt_back", "nt_present", "nl", "nl_small", "nl_eq", "has_les").fill_null(False),
        )
        .sort(B.KEY)
    )
    e = pl.DataFrame(e.get_columns())
    has_t = c("n_targets") > 0
    complete = has_t & (c("n_meas") == c("n_targets"))
    e = e.with_columns(
        value=pl.when(has_t & (c("n_meas") > 0)).then(c("spd")),
        value_complete=pl.when(has_t).then(complete),
        complete=complete,
        ct_done=c("has_les") | c("spleen").is_not_null() | (c("marrow").is_not_null() & (c("marrow") != "not_done")) | c("liver").is_not_null(),
    )
    vc = pl.when(c("complete") & c("base_spd").is_not_null()).then(c("value"))
    sp = pl.when(c("spleen").is_not_null()).then(c("spleen"))
    e = e.with_columns(
        prev_min=vc.fill_null(B.INF).cum_min().shift(1, fill_value=B.INF).over(B.SEG),
        spleen_prev_min=sp.fill_null(B.INF).cum_min().shift(1, fill_value=B.INF).over(B.SEG),
    ).with_columns(
        nadir_value=pl.when(c("base_spd").is_not_null()).then(pl.min_horizontal(c("base_spd"), c("prev_min"))),
        spleen_nadir=pl.min_horizontal(c("base_spleen").fill_null(B.INF), c("spleen_prev_min")),
    ).with_columns(
        spleen_nadir=pl.when(c("spleen_nadir").is_finite()).then(c("spleen_nadir")),
        change_from_baseline_pct=B.pct(c("value"), c("base_spd")),
        change_from_nadir_pct=B.pct(c("value"), c("nadir_value")),
        change_from_nadir_abs=c("value") - c("nadir_value"),
    )
    ns = o.normal_spleen_cm
    splenomegaly = (c("base_spleen") > ns).fill_null(False)
    d2_prior = splenomegaly & (c("spleen") > ns) & ((c("spleen") - c("spleen_nadir")) > 0.5 * (c("spleen_nadir") - ns).clip(lower_bound=0))
    d2_new = ~splenomegaly & ((c("spleen") - c("base_spleen")) >= o.spleen_increase_no_splenomegaly_cm)
    e = e.with_columns(
        d2=(d2_prior | d2_new).fill_null(False),
        d3=c("nt_prog") | (c("liver") == "progression").fill_null(False),
        d4=c("nl") | c("regrow") | c("nt_back"),
        d5=((c("marrow") == "involved") & (c("marrow_prev") == "normal")).fill_null(False),
    )
    spleen_ok_cr = pl.when(splenomegaly).then((c("spleen") <= ns).fill_null(False)).otherwise((c("spleen") <= ns).fill_null(True))
    spleen_ok_pr = pl.when(splenomegaly).then(
        ((c("base_spleen") - ns - (c("spleen") - ns).clip(lower_bound=0)) > 0.5 * (c("base_spleen") - ns)).fill_null(False)
    ).otherwise(pl.lit(True))
    cr_extra = (
        ~c("nt_present") & ~c("nl_small") & spleen_ok_cr & (c("liver") != "enlarged").fill_null(True) & (c("marrow_last") != "involved").fill_null(True)
    )
    cr = pl.when(has_t).then(c("complete") & ~c("cr_block") & cr_extra).otherwise(cr_extra)
    pr = has_t & c("complete") & c("base_spd").is_not_null() & (c("change_from_baseline_pct") <= -o.pr_spd_decrease_pct).fill_null(False) & ~c("nl_small") & spleen_ok_pr
    pd_any = c("d1") | c("d2") | c("d3") | c("d4") | c("d5")
    e = e.with_columns(
        ct=pl.when(~c("ct_done")).then(pl.lit(None, dtype=pl.String))
        .when(pd_any).then(pl.lit("PD"))
        .when(has_t & (~c("complete") | c("base_spd").is_null())).then(pl.lit("NE"))
        .when(cr).then(pl.lit("CR"))
        .when(pr).then(pl.lit("PR"))
        .otherwise(pl.lit("SD")),
        ct_rule=pl.when(~c("ct_done")).then(pl.lit(None, dtype=pl.String))
        .when(pd_any).then(
            pl.concat_str(
                pl.when(c("d1")).then(pl.lit("D1")), pl.when(c("d2")).then(pl.lit("D2")), pl.when(c("d3")).then(pl.lit("D3")),
                pl.when(c("d4")).then(pl.lit("D4")), pl.when(c("d5")).then(pl.lit("D5")), separator=",", ignore_nulls=True,
            )
        )
        .when(has_t & (~c("complete") | c("base_spd").is_null())).then(pl.lit("CTNE"))
        .when(cr).then(pl.lit("CTCR"))
        .when(pr).then(pl.lit("CTPR"))
        .otherwise(pl.lit("CTSD")),
        splenomegaly=splenomegaly,
        spleen_ok_pr=spleen_ok_pr,
    )
    return e


def _n(e: pl.Expr) -> pl.Expr:
    r = e.round(1)
    return pl.when(r.is_infinite()).then(pl.lit("inf")).when(r == r.floor()).then(r.cast(pl.Int64, strict=False).cast(pl.String)).otherwise(r.cast(pl.String))


def _s(e: pl.Expr) -> pl.Expr:
    return pl.when(e >= 0).then(pl.concat_str(pl.lit("+"), _n(e))).otherwise(_n(e))


def _ct_text(o: LuganoOptions) -> pl.Expr:
    c = pl.col
    spleen_txt = pl.when(c("spleen").is_not_null()).then(pl.format("; spleen {} cm", _n(c("spleen"))))
    pd_parts = pl.concat_str(
        pl.when(c("d1")).then(c("d1_txt")),
        pl.when(c("d2")).then(
            pl.when(c("splenomegaly")).then(
                pl.format("spleen {} cm is > nadir {} cm + 50% of its excess {} cm", _n(c("spleen")), _n(c("spleen_nadir")), _n(c("spleen_nadir") - o.normal_spleen_cm))
            ).otherwise(pl.format("spleen {} cm is >= {} cm above baseline {} cm", _n(c("spleen")), _n(pl.lit(o.spleen_increase_no_splenomegaly_cm)), _n(c("base_spleen"))))
        ),
        pl.when(c("nt_prog")).then(pl.format("clear progression of non-measured lesion {}", c("nt_prog_ids"))),
        pl.when((c("liver") == "progression").fill_null(False)).then(pl.lit("liver enlargement progressing")),
        pl.when(c("nl")).then(pl.format("new lesion {}", c("nl_ids"))),
        pl.when(c("regrow")).then(pl.format("regrowth of resolved lesion {}", c("regrow_ids"))),
        pl.when(c("nt_back")).then(pl.format("regrowth of resolved lesion {}", c("nt_back_ids"))),
        pl.when(c("d5")).then(pl.lit("new bone marrow involvement")),
        separator="; ",
        ignore_nulls=True,
    )
    why_not_cr = pl.concat_str(
        pl.when(c("cr_block")).then(c("cr_txt")),
        pl.when(c("nt_present")).then(pl.format("non-measured lesion {} not absent", c("nt_present_ids"))),
        pl.when(c("nl_small")).then(pl.format("small new lesion {}", c("nl_small_ids"))),
        pl.when(c("splenomegaly") & ~(c("spleen") <= o.normal_spleen_cm).fill_null(False)).then(pl.lit("spleen not back to normal (or not measured)")),
        pl.when((c("marrow_last") == "involved").fill_null(False)).then(pl.lit("marrow involved")),
        pl.when((c("liver") == "enlarged").fill_null(False)).then(pl.lit("liver enlarged")),
        separator="; ",
        ignore_nulls=True,
    )
    spd = pl.format("SPD {} mm² is {}% from baseline {} mm²", _n(c("value")), _s(c("change_from_baseline_pct")), _n(c("base_spd")))
    r = c("ct")
    return (
        pl.when(r == "PD").then(pl.concat_str(pl.lit("CT PD: "), pd_parts))
        .when(r == "NE").then(
            pl.when(c("base_spd").is_null()).then(pl.lit("CT NE: baseline targets not all measured")).otherwise(pl.format("CT NE: target {} not assessed", c("missing")))
        )
        .when(r == "CR").then(
            pl.concat_str(
                pl.when(c("n_targets") > 0).then(pl.concat_str(pl.lit("CT CR: nodes LDi <= 15 mm, extranodal lesions gone ("), spd, pl.lit(")"))).otherwise(pl.lit("CT CR: no disease recorded")),
                spleen_txt,
                ignore_nulls=True,
            )
        )
        .when(r == "PR").then(pl.concat_str(pl.lit("CT PR: "), spd, pl.lit(" (>= 50% decrease)"), spleen_txt, pl.lit("; not CR: "), why_not_cr, ignore_nulls=True))
        .otherwise(
            pl.concat_str(
                pl.lit("CT SD: "),
                pl.when(c("n_targets") > 0).then(spd).otherwise(pl.lit("no measurable disease")),
                spleen_txt,
                pl.when(~c("spleen_ok_pr") & (c("change_from_baseline_pct") <= -o.pr_spd_decrease_pct).fill_null(False)).then(pl.lit("; spleen excess not reduced by > 50%")),
                pl.when(c("nl_small")).then(pl.format("; small new lesion {} (not PD)", c("nl_small_ids"))),
                ignore_nulls=True,
            )
        )
    )


# --------------------------------------------------------------------------------------
# PET (§4.1)
# --------------------------------------------------------------------------------------


def _pet(findings: pl.DataFrame, e: pl.DataFrame, o: LuganoOptions) -> pl.DataFrame:
    c = pl.col
    e = B.finding_on(findings, "deauville", e, "score", agg="max")
    f = findings.filter(c("finding") == "fdg_uptake_change").with_columns(
        _r=c("value").str.to_lowercase().replace_strict({"increased": 3, "unchanged": 2, "reduced": 1}, default=None, return_dtype=pl.Int8)
    )
    ch = f.group_by("subject_id", "date").agg(_r=c("_r").max()).with_columns(
        change=c("_r").replace_strict({3: "increased", 2: "unchanged", 1: "reduced"}, default=None, return_dtype=pl.String)
    ).drop("_r")
    e = e.join(ch, on=["subject_id", "date"], how="left")
    e = B.finding_on(findings, "new_fdg_foci", e, "new_foci")
    e = B.finding_on(findings, "marrow_fdg", e, "marrow_fdg")
    thr = 3 if o.deauville3_is_complete else 2
    high = (c("score") > thr).fill_null(False)
    nf = c("new_foci").is_in(["yes", "true", "y", "1"]).fill_null(False)
    mf = c("marrow_fdg")
    e = e.with_columns(
        pet_done=c("score").is_not_null() | c("change").is_not_null() | c("new_foci").is_not_null() | mf.is_not_null(),
        p1=nf | (mf == "new_focal").fill_null(False) | (high & (c("change") == "increased").fill_null(False)),
        p2=c("score").is_not_null() & ~high & ~nf & mf.is_in(["none", "diffuse_reactive"]).fill_null(True),
        p3=c("score").is_not_null()
        & ~nf
        & mf.is_in(["none", "diffuse_reactive", "residual_reduced", "unchanged"]).fill_null(True)
        & (~high | (c("change") == "reduced").fill_null(False)),
        p4=high & (c("change") == "unchanged").fill_null(False) & ~nf,
        new_foci_flag=nf,
    )
    pet = (
        pl.when(~c("pet_done")).then(pl.lit(None, dtype=pl.String))
        .when(c("p1")).then(pl.lit("PMD|P1"))
        .when(c("p2")).then(pl.lit("CMR|P2"))
        .when(c("p3")).then(pl.lit("PMR|P3"))
        .when(c("p4")).then(pl.lit("NMR|P4"))
        .otherwise(pl.lit("NE|P5"))
    )
    e = e.with_columns(_p=pet).with_columns(
        pet=c("_p").str.split_exact("|", 1).struct.field("field_0"),
        pet_rule=c("_p").str.split_exact("|", 1).struct.field("field_1"),
    ).drop("_p")
    score_txt = pl.when(c("score").is_not_null()).then(pl.format("Deauville {}", _n(c("score")))).otherwise(pl.lit("no Deauville score"))
    change_txt = pl.when(c("change").is_not_null()).then(pl.format(" ({} uptake vs baseline)", c("change"))).otherwise(pl.lit(""))
    marrow_txt = pl.when(mf.is_not_null()).then(pl.format("; marrow FDG {}", mf)).otherwise(pl.lit(""))
    r = c("pet")
    text = (
        pl.when(r == "PMD").then(
            pl.concat_str(
                pl.lit("PET PMD: "),
                pl.concat_str(
                    pl.when(nf).then(pl.lit("new FDG-avid foci consistent with lymphoma")),
                    pl.when(mf == "new_focal").then(pl.lit("new focal marrow uptake")),
                    pl.when(high & (c("change") == "increased")).then(pl.format("Deauville {} with increased uptake", _n(c("score")))),
                    separator="; ",
                    ignore_nulls=True,
                ),
            )
        )
        .when(r == "CMR").then(pl.concat_str(pl.lit("PET CMR: "), score_txt, pl.format(" (<= {})", pl.lit(thr)), pl.lit(", no new foci"), marrow_txt))
        .when(r == "PMR").then(pl.concat_str(pl.lit("PET PMR: "), score_txt, change_txt, marrow_txt))
        .when(r == "NMR").then(pl.concat_str(pl.lit("PET NMR: "), score_txt, change_txt, marrow_txt))
        .otherwise(
            pl.concat_str(
                pl.lit("PET NE: "),
                pl.when(c("score").is_null()).then(pl.lit("no Deauville score")).otherwise(
                    pl.format("Deauville {} without uptake change vs baseline", _n(c("score")))
                ),
            )
        )
    )
    return e.with_columns(pet_text=text)


# --------------------------------------------------------------------------------------
# end of treatment (§5)
# --------------------------------------------------------------------------------------


#: treatment intents whose end-of-treatment response is the remission onset (§5)
EOT_ONSET_INTENTS = frozenset({"curative"})


def _eot(e: pl.DataFrame, treatments: pl.DataFrame | None) -> pl.DataFrame:
    """``eot``: the first follow-up on or after the end of all active treatment started on
    or before it (remission_model.md §2 active = not maintenance/continuous/supportive);
    ``interim_curative``: a follow-up while a curative-intent active treatment runs (§5)."""
    c = pl.col
    if treatments is None or treatments.height == 0:
        return e.with_columns(eot=pl.lit(False), interim_curative=pl.lit(False))
    from remission.timeline.lines import active_treatments

    act = active_treatments(treatments, S.NON_BLOCKING_INTENTS)
    j = (
        e.select(*B.KEY)
        .join(act.select("subject_id", "start_date", "end_date"), on="subject_id", how="inner")
        .filter(c("start_date") <= c("date"))
        .group_by(B.KEY)
        .agg(ongoing=(c("end_date").is_null() | (c("end_date") > c("date"))).any(), last_end=c("end_date").max())
    )
    # §5 "the end-of-treatment assessment defines remission status for curative regimens":
    # an assessment while a curative-intent active treatment is still running is interim
    cur = (
        e.select(*B.KEY)
        .join(
            treatments.filter(c("intent").str.to_lowercase().is_in(list(EOT_ONSET_INTENTS)).fill_null(False))
            .select("subject_id", "start_date", "end_date"),
            on="subject_id",
            how="inner",
        )
        .filter((c("start_date") <= c("date")) & (c("end_date").is_null() | (c("end_date") > c("date"))))
        .select(*B.KEY)
        .unique()
        .with_columns(interim_curative=pl.lit(True))
    )
    e = e.join(j, on=B.KEY, how="left").join(cur, on=B.KEY, how="left").sort(B.KEY)
    prev = c("date").shift(1).over("subject_id")
    return e.with_columns(
        eot=(~c("ongoing").fill_null(True) & c("last_end").is_not_null() & (prev.is_null() | (prev < c("last_end")))).fill_null(False),
        interim_curative=c("interim_curative").fill_null(False),
    ).drop("ongoing", "last_end")


# --------------------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------------------


def evaluate(tables, segments: pl.DataFrame, options: LuganoOptions | None = None) -> pl.DataFrame:
    """Lugano 2014 time points (schema.TIMEPOINTS, ``criteria = "lugano2014"``) for every
    subject of ``segments`` (see the module docstring for the rules and columns)."""
    o = options or LuganoOptions()
    c = pl.col
    lesions = tables["lesions"]
    findings = tables.get("findings")
    if findings is None:
        findings = S.empty(S.FINDINGS)
    findings = findings.with_columns(c("finding").str.to_lowercase())
    followups, baseline_rows, other_rows = B.place_dates(dates({"lesions": lesions, "findings": findings}), segments)
    e = _ct(lesions, findings, followups, o)
    e = _pet(findings, e, o)
    e = _eot(e, tables.get("treatments"))
    prim, other = ("pet", "ct") if o.primary_modality == "PET" else ("ct", "pet")
    use_other = c(prim).is_null() & c(other).is_not_null() & pl.lit(o.fallback_to_other_modality)
    e = e.with_columns(
        overall_response=pl.when(use_other).then(c(other)).otherwise(c(prim)),
        fb=use_other,
    ).filter(c("overall_response").is_not_null() | c("pet_done") | c("ct_done"))
    e = e.with_columns(overall_response=c("overall_response").fill_null("NE"))
    is_pd = c("overall_response").is_in(["PD", "PMD"])
    interim_resp = c("interim_curative") & c("overall_response").is_in(["CMR", "PMR", "CR", "PR"])
    n_extra = (c("n_targets") > o.max_targets)
    ct_sites = pl.concat_list(
        pl.when(c("d1")).then(c("d1_sites")).otherwise(pl.lit([], dtype=pl.List(pl.String))),
        c("nt_sites").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        c("nl_sites").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.when(c("d2")).then(pl.lit(["spleen"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
        pl.when(c("d5")).then(pl.lit(["bone_marrow"])).otherwise(pl.lit([], dtype=pl.List(pl.String))),
    ).list.drop_nulls().list.unique().list.sort().list.join(";")
    pet_sites = pl.when((c("marrow_fdg") == "new_focal").fill_null(False)).then(pl.lit("bone_marrow"))
    sites = pl.when(c("overall_response") == "PD").then(ct_sites).when(c("overall_response") == "PMD").then(pet_sites)
    text = pl.concat_str(
        pl.when(c("pet").is_not_null()).then(c("pet_text")),
        pl.when(c("ct").is_not_null()).then(_ct_text(o)),
        separator="; ",
        ignore_nulls=True,
    )
    e = e.with_columns(
        target_response=c("ct"),
        non_target_response=c("pet"),
        new_lesion=c("nl") | c("new_foci_flag"),
        # §5: an interim response during curative therapy is not the remission onset (the
        # end-of-treatment response is): its row keeps its category, its level is NE
        canonical_level=pl.when(interim_resp).then(pl.lit(S.NOT_EVALUABLE))
        .otherwise(c("overall_response").replace_strict(CANONICAL, default=S.NOT_EVALUABLE)),
        is_progression_event=is_pd,
        progression_event_date=pl.when(is_pd).then(c("date")),
        pending_progression=c("nl_eq"),
        recurrence_sites=pl.when(is_pd).then(pl.when(sites == "").then(None).otherwise(sites)),
        rule_ids=pl.concat_str(
            c("pet_rule"), c("ct_rule"), pl.when(c("fb")).then(pl.lit("FB")), pl.when(c("eot")).then(pl.lit("EOT")),
            pl.when(interim_resp).then(pl.lit("INTERIM")),
            pl.when(c("nl_eq")).then(pl.lit("NLeq")), separator=",", ignore_nulls=True,
        ),
        warnings=pl.concat_str(
            pl.when(c("eot") & (c("overall_response") == "PMR")).then(pl.lit("RESIDUAL_DISEASE")),
            pl.when((c("marrow_fdg") == "unchanged").fill_null(False) & (c("pet") == "PMR")).then(pl.lit("MARROW_NEEDS_WORKUP")),
            pl.when(n_extra).then(pl.lit("MORE_THAN_MAX_TARGETS")),
            separator=",",
            ignore_nulls=True,
        ),
        explanation=pl.concat_str(
            pl.format("{}: ", c("overall_response")),
            text,
            pl.when(c("fb")).then(pl.format(" ({} not performed; {} used)", pl.lit(o.primary_modality), pl.lit("CT" if prim == "pet" else "PET"))),
            pl.when(c("eot")).then(pl.lit(" [end-of-treatment assessment]")),
            pl.when(interim_resp).then(pl.lit(" [interim assessment during curative therapy: not the remission onset, §5]")),
            pl.when(c("nl_eq")).then(pl.lit("; equivocal new lesion pending")),
            ignore_nulls=True,
        ),
        baseline_value=c("base_spd"),
    )
    e = e.with_columns(warnings=pl.when(c("warnings") == "").then(None).otherwise(c("warnings")))

    # baseline rows
    tgt = B.targets_of(B.normalise_lesions(lesions), segments, o.tstm_default_mm)
    bsum = tgt.group_by(B.SEG).agg(
        n=pl.len(), bv=pl.when(c("base_prod").null_count() == 0).then(c("base_prod").sum())
    )
    br = baseline_rows.join(bsum, on=B.SEG, how="left").with_columns(
        baseline_value=c("bv"),
        value=c("bv"),
        explanation=pl.when(c("n").is_null()).then(pl.lit("Baseline: no measurable target lesions"))
        .when(c("bv").is_null()).then(pl.lit("Baseline: a target is not measured bidimensionally"))
        .otherwise(pl.format("Baseline: SPD {} mm² ({} target lesions)", _n(c("bv")), c("n"))),
    )
    parts = []
    for part in (e, br, other_rows):
        missing = [k for k in TIMEPOINTS if k not in part.columns]
        part = part.with_columns([pl.lit(None, dtype=TIMEPOINTS[k]).alias(k) for k in missing])
        parts.append(part.select([pl.col(k).cast(t) for k, t in TIMEPOINTS.items()]))
    out = pl.concat(parts, how="vertical").with_columns(
        criteria=pl.lit(CODE), is_progression_event=c("is_progression_event").fill_null(False), pending_progression=c("pending_progression").fill_null(False)
    )
    return out.sort("subject_id", "date")


#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

def best_response_rule(o: LuganoOptions) -> BestResponseRule:
    """lugano2014.md §5: the best category reached; no confirmation (the time point itself)."""
    return BestResponseRule(order=ORDER, progression=("PMD", "PD"), confirmation="at_time_point", confirm_days=0)

CRITERION = Criterion(
    code=CODE,
    cancer_types=("dlbcl", "follicular_lymphoma", "hodgkin_lymphoma"),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=CANONICAL,
    options_model=LuganoOptions,
    run=lambda t, segs, o: evaluate(t, segs, o),
    dates=dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=(
            "CMR", "PMR", "NMR", "SMD", "PMD", "CR", "PR", "SD", "PD",
            "CR-CT", "PR-CT", "SD-CT", "PD-CT",
        ) + _GENERIC,  # fmt: skip
        levels={"SMD": S.STABLE},  # CDISC's stable metabolic disease (the NMR of lugano2014.md)
        findings={
            "deauville": number_finding("int1-5", "an integer from 1 to 5 (Deauville score)"),
            "fdg_uptake_change": FindingRule(values=("reduced", "unchanged", "increased")),
            "new_fdg_foci": FindingRule(values=("yes", "no")),
            "marrow_fdg": FindingRule(values=("none", "diffuse_reactive", "residual_reduced", "unchanged", "new_focal")),
            "marrow_involvement": FindingRule(values=("normal", "involved", "not_done")),
            "liver": FindingRule(values=("normal", "enlarged", "progression")),
            "spleen_length_cm": number_finding(">0", "a length in cm > 0"),
        },
    ),
    presentation=Presentation(
        label="Lugano 2014",
        plain_name="Lugano",
        introduction="The Lugano rules are used to judge lymphoma on scans.",
        value_label="SPD of target lesions (mm²)",
        response_threshold_pct=-50.0,
        change_caption="SPD (sum of the products of the diameters)",
        response_threshold_words="partial response: SPD -50% from baseline (lugano2014.md PR)",
        evidence=("imaging",),
    ),
)


__all__ = ["CRITERION", "CODE", "LuganoOptions", "evaluate", "best_response", "dates", "CANONICAL", "CDISC", "FINDING_VALUES"]
