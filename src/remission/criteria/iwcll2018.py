"""iwCLL 2018 response criteria for chronic lymphocytic leukaemia (``../shared/criteria/iwcll2018.md``).

Registered as criteria code ``iwcll2018`` (cancer_type ``cll``).  Vectorised over all subjects
(polars expressions and window functions).

Inputs (labs in canonical units, :mod:`remission.units`)
---------------------------------------------------------
labs ``test``: ``lymphocytes`` (ALC), ``b_lymphocytes``, ``platelets``, ``anc`` (10^9/L),
``hemoglobin`` (g/dL), ``marrow_cll_infiltrate_pct`` (%).

findings codes (values validated by :func:`remission.io.validate`, see :data:`FINDING_VALUES`):

==========================  ============================================  ===================
code                        value                                         spec field (§2)
==========================  ============================================  ===================
``node_spd_cm2``            number >= 0 (sum of products, <= 6 nodes)     ``node_spd``
``largest_node_cm``         number >= 0 (longest diameter, largest node)  ``largest_node_ld``
``new_node``                boolean (new node > 1.5 cm)                   new lesions (D1)
``new_organ_infiltrate``    boolean                                       new lesions (D1)
``spleen_length_cm``        number > 0 (cm; shared with Lugano)           ``spleen_length``
``liver``                   ``normal`` / ``enlarged`` (Lugano's           ``liver``
                            ``progression`` = enlarged)
``constitutional_symptoms`` boolean (disease-related, §2 definition)      group A
``marrow_cll``              ``normocellular_no_cll`` /                    ``marrow``
                            ``cll_cells_present`` / ``b_lymphoid_nodules``
                            / ``hypocellular`` / ``not_done``
``richter_transformation``  boolean (biopsy-proven)                       D4
``cytopenia_due_to_cll``    boolean                                       D5
``drug_toxicity_cytopenia`` boolean                                       CRi
``rbc_transfusion``, ``epo``  boolean (Hb supported: not a CR Hb)         ``hb`` untransfused
``on_bcr_inhibitor``        boolean                                       ``on_bcr_inhibitor``
``mrd``                     ``negative`` (uMRD4) / ``low_level`` /        ``mrd``
                            ``positive``
==========================  ============================================  ===================

Definitions and choices (spec sections in brackets)
--------------------------------------------------
* **Assessment** = every date with one of those labs or findings; a parameter's value at date
  t is its latest value in ``[t - assessment_window_days, t]`` (default 0: same day; the spec
  gives no window).  **Baseline** (§3): each parameter's latest value on or before the line's
  baseline date.  Several values of one test on a date: the worst for the patient (max ALC,
  nodes, spleen, infiltrate; min counts).
* **Per-parameter** classification: §3 table.  Nodes use the SPD for change and the largest
  node's diameter for "none >= 1.5 cm" (CR) and abnormality.  Spleen change uses the excess
  over ``normal_spleen_cm`` (``spleen_change_basis``).  Liver and spleen form one parameter:
  improved when each part abnormal at baseline improved (liver: back to normal).
* **PD** (§4.1) against the reference "baseline or nadir, whichever gives PD" = the lowest of
  the baseline and the earlier assessments of the line.  D1: new node / organ infiltrate,
  SPD >= +50 %, or the largest diameter >= +50 % and to > 1.5 cm (reference <= 1.5 cm) or
  > 2.0 cm (reference > 1.5 cm).  D2: spleen excess >= +50 % (reference excess > 0), de-novo
  splenomegaly (>= 13 cm after < 13 cm at baseline or at a nadir), liver enlarged after being
  normal.  D3: ALC >= 1.5 x reference (``alc_pd_reference``) with B lymphocytes >= 5; not
  applied on a BCR inhibitor (edge case 1).  D4: Richter -> ``PD`` with sub-code
  ``DISEASE TRANSFORMATION``.  D5: ``cytopenia_due_to_cll`` with an involved marrow
  (``cll_cells_present`` / ``b_lymphoid_nodules`` or infiltrate > 0), >= 90 days after the end
  of treatment and off therapy, Hb below baseline by > 2 g/dL or to < 10, or platelets below
  baseline by > 50 % or to < 100 ("decreases vs baseline").  D6: infiltrate >= 1.5 x the
  previous biopsy.  Constitutional symptoms never define PD.
* **CR** (§4.2): ALC < 4, largest node < 1.5 cm (measured), spleen < 13 cm (measured), liver
  not enlarged (missing = normal), no constitutional symptoms (missing = none), ANC >= 1.5,
  platelets >= 100, Hb >= 11 without ``rbc_transfusion``/``epo`` on the date, marrow
  ``normocellular_no_cll``.  **CRi**: the same with a count below its CR level and
  ``drug_toxicity_cytopenia``; the marrow may be ``hypocellular`` (choice: post-therapy
  hypoplasia without CLL cells).  **nPR**: CR except ``b_lymphoid_nodules``.  Marrow missing or
  ``not_done``: PR at best (edge case 4).
* **PR** (§4.3): improved parameters are counted among those abnormal at baseline (edge case
  6); ``min(2, A_abn)`` group A and ``min(1, B_abn)`` group B, at least one in total.  **PR-L**:
  on a BCR inhibitor, ALC abnormal at baseline and not halved: the rule without the ALC.
  ``pr_l_counts_as_pr`` False -> SD.
* **NE** (§4.5): no PD, no response, and a parameter abnormal at baseline is missing at t
  whose improvement could have given PR (or nothing measured at all).
* **Timing** (§5): therapy = every non-supportive treatment.  Fixed-duration (no treatment of
  intent ``continuous``/``maintenance`` running at t): a response dated on therapy or less
  than ``post_treatment_assessment_min_days`` after the latest end of therapy is ``INTERIM``
  (rule id and warning; level NOT_EVALUABLE so it cannot open a remission).  Continuous
  therapy: persistence over ``persistence_days`` is the lifecycle's confirmation
  (``RemissionOptions.confirm_days_by_criteria['iwcll2018'] = 56``), not relabelled here.
  A response at least ``post_treatment_assessment_min_days`` after the end of fixed-duration
  therapy gets rule id ``POST_THERAPY``: assessed at the right time, it needs no second
  assessment (best response, :func:`best_response_rule`).
* **Relapse / refractory** (§5) on PD rows (rule ids ``RELAPSE``, ``REFRACTORY``): relapse
  when the first non-interim response of the line is >= ``relapse_min_months_after_response``
  months (days / 30.4375) earlier; refractory when there was no response, or on therapy, or
  within ``refractory_window_months`` of the latest end of therapy.
* Output: ``value`` = ALC (10^9/L), ``baseline_value`` its baseline, nadir = lowest ALC of
  the line; ``target_response`` = sub-code (``DISEASE TRANSFORMATION``, ``PR WITH
  LYMPHOCYTOSIS``, ``nPR``); ``non_target_response`` = ``MRD NEGATIVITY`` when the ``mrd``
  finding is negative (uMRD4, < ``umrd_threshold``); ``new_lesion`` = new node/organ
  infiltrate.  Canonical levels (remission_model.md §3): CR/CRi COMPLETE, PR/nPR/PR-L
  PARTIAL, SD STABLE, PD PROGRESSION, NE NOT_EVALUABLE.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission import schema as S
from remission.criteria.eln2022 import (
    FALSE_SPELLINGS,
    SID,
    TRUE_SPELLINGS,
    days,
    finding_wide,
    join_str,
    lab_wide,
    num,
    to_timepoints,
    value_asof,
    with_segments,
)
from .base import BestResponseRule, Criterion, FindingRule, Presentation, Vocabulary, boolean_finding, number_finding

CODE = "iwcll2018"
ORDER = ("CR", "CRi", "PR", "nPR", "PR-L", "SD", "PD", "NE")
CANONICAL = {
    "CR": S.COMPLETE,
    "CRi": S.COMPLETE,
    "PR": S.PARTIAL,
    "nPR": S.PARTIAL,
    "PR-L": S.PARTIAL,
    "SD": S.STABLE,
    "PD": S.PROGRESSION,
    "NE": S.NOT_EVALUABLE,
}
MONTH_DAYS = 30.4375
MARROW_VALUES = ("normocellular_no_cll", "cll_cells_present", "b_lymphoid_nodules", "hypocellular", "not_done")
_BOOL = TRUE_SPELLINGS + FALSE_SPELLINGS
#: finding codes of this module with their accepted values ("number" = a number >= 0)
FINDING_VALUES: dict[str, tuple[str, ...] | str] = {
    "node_spd_cm2": "number",
    "largest_node_cm": "number",
    "spleen_length_cm": "number",
    "new_node": _BOOL,
    "new_organ_infiltrate": _BOOL,
    "liver": ("normal", "enlarged"),
    "constitutional_symptoms": _BOOL,
    "marrow_cll": MARROW_VALUES,
    "richter_transformation": _BOOL,
    "cytopenia_due_to_cll": _BOOL,
    "drug_toxicity_cytopenia": _BOOL,
    "rbc_transfusion": _BOOL,
    "epo": _BOOL,
    "on_bcr_inhibitor": _BOOL,
}

_LABS = {
    "lymphocytes": "max",
    "b_lymphocytes": "max",
    "platelets": "min",
    "anc": "min",
    "hemoglobin": "min",
    "marrow_cll_infiltrate_pct": "max",
}
_FIND = {
    "node_spd_cm2": "num",
    "largest_node_cm": "num",
    "spleen_length_cm": "num",
    "new_node": "bool",
    "new_organ_infiltrate": "bool",
    "liver": "text",
    "constitutional_symptoms": "bool",
    "marrow_cll": "text",
    "richter_transformation": "bool",
    "cytopenia_due_to_cll": "bool",
    "drug_toxicity_cytopenia": "bool",
    "rbc_transfusion": "bool",
    "epo": "bool",
    "on_bcr_inhibitor": "bool",
    "mrd": "text",
}
#: short names of the parameters
_NAMES = {
    "lymphocytes": "alc",
    "b_lymphocytes": "bcells",
    "platelets": "plt",
    "anc": "anc",
    "hemoglobin": "hb",
    "marrow_cll_infiltrate_pct": "infil",
    "node_spd_cm2": "spd",
    "largest_node_cm": "ld",
    "spleen_length_cm": "spleen",
    "marrow_cll": "marrow",
}


class Iwcll2018Options(BaseModel):
    """iwCLL 2018 parameters (iwcll2018.md §8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    persistence_days: int = Field(56, ge=0, description="Continuous therapy: a response must persist this long (§5).")
    post_treatment_assessment_min_days: int = Field(56, ge=0, description="Fixed-duration: assess >= this after the end.")
    cytopenia_pd_min_days_after_treatment: int = Field(90, ge=0, description="D5 only this long after treatment.")
    normal_spleen_cm: float = Field(13.0, gt=0)
    spleen_change_basis: Literal["excess_over_normal", "raw_length"] = "excess_over_normal"
    pr_l_counts_as_pr: bool = True
    umrd_threshold: float = Field(1e-4, gt=0, description="uMRD4: < 1 CLL cell per 10 000 leukocytes.")
    relapse_min_months_after_response: float = Field(6, ge=0)
    alc_pd_reference: Literal["baseline", "nadir"] = "baseline"
    refractory_window_months: float = Field(6, ge=0)
    assessment_window_days: int = Field(0, ge=0, description="Values up to this many days before a date belong to it.")


def _observations(tables) -> pl.DataFrame:
    labs = lab_wide(tables["labs"], _LABS)
    fw = finding_wide(tables["findings"], _FIND)
    obs = labs.join(fw, on=[SID, "date"], how="full", coalesce=True)
    obs = obs.rename({k: v for k, v in _NAMES.items() if k in obs.columns})
    # the Lugano value "progression" of the shared ``liver`` code is an enlarged liver here
    return obs.with_columns(liver=pl.col("liver").replace("progression", "enlarged"))


def assessment_dates(tables) -> pl.DataFrame:
    """``dates(tables)``: every date with an iwCLL lab or finding."""
    return _observations(tables).select(SID, "date").unique()


_PARAMS = ("alc", "bcells", "plt", "anc", "hb", "infil", "spd", "ld", "spleen", "new_node",
           "new_organ_infiltrate", "liver", "constitutional_symptoms", "marrow", "richter_transformation",
           "cytopenia_due_to_cll", "drug_toxicity_cytopenia", "rbc_transfusion", "epo", "on_bcr_inhibitor", "mrd")
_BASE = ("alc", "plt", "anc", "hb", "infil", "spd", "ld", "spleen", "liver", "marrow")


def _windowed(obs: pl.DataFrame, w: int) -> pl.DataFrame:
    """Each parameter at each date: the latest value within ``[date - w, date]``."""
    dates = obs.select(SID, "date").unique().sort("date")
    out = dates
    if w == 0:
        return obs
    for p in _PARAMS:
        v = obs.filter(pl.col(p).is_not_null()).select(SID, pl.col("date").alias("_vd"), p).sort("_vd")
        j = dates.join_asof(v, left_on="date", right_on="_vd", by=SID, strategy="backward",
                            tolerance=f"{w}d", check_sortedness=False).select(SID, "date", p)
        out = out.join(j, on=[SID, "date"], how="left")
    return out


def _therapy(tables, rows: pl.DataFrame) -> pl.DataFrame:
    """``on_therapy``, ``continuous`` and ``last_end`` (latest end <= date) of each row (§5)."""
    t = tables["treatments"].filter(
        ~(pl.col("intent").fill_null("") == "supportive") & ~(pl.col("modality") == "supportive")
    ).select(SID, "start_date", "end_date", "intent", "modality")
    keys = rows.select(SID, "date").unique()
    j = keys.join(t, on=SID, how="inner").filter(pl.col("start_date") <= pl.col("date"))
    cover = pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("date"))
    cont = pl.col("intent").is_in(["continuous", "maintenance"]).fill_null(False) | (pl.col("modality") == "maintenance")
    agg = j.group_by(SID, "date").agg(
        on_therapy=cover.any(),
        continuous=(cover & cont).any(),
        last_end=pl.col("end_date").filter(~cover).max(),
    )
    return rows.join(agg, on=[SID, "date"], how="left").with_columns(
        pl.col("on_therapy", "continuous").fill_null(False)
    )


def run(tables, segments: pl.DataFrame, options: Iwcll2018Options | None = None) -> pl.DataFrame:
    """Per-assessment iwCLL 2018 responses (schema.TIMEPOINTS) for every subject of ``segments``."""
    o = options or Iwcll2018Options()
    c = pl.col
    obs = _observations(tables)
    if obs.height == 0:
        return S.empty(S.TIMEPOINTS)
    r = with_segments(_windowed(obs, o.assessment_window_days), segments)
    for p in _BASE:
        r = value_asof(r, obs, "baseline_date", p, f"{p}0")
    r = _therapy(tables, r).sort(SID, "date")
    G = [SID, "line"]
    fu = r.filter(~c("is_baseline"))
    base = r.filter(c("is_baseline"))
    N = o.normal_spleen_cm
    raw = o.spleen_change_basis == "raw_length"

    def spl(e: pl.Expr) -> pl.Expr:  # the spleen quantity whose % change counts (§3, edge case 5)
        return e if raw else (e - N).clip(lower_bound=0)

    fu = fu.with_columns(bcr=c("on_bcr_inhibitor").fill_null(False))

    # ---- parameters abnormal at baseline and improved (§3, §4.3) ------------------------
    sp_ab0 = (c("spleen0") >= N).fill_null(False)
    lv_ab0 = (c("liver0") == "enlarged").fill_null(False)
    fu = fu.with_columns(
        ab_nodes=(c("ld0") >= 1.5).fill_null(False),
        ab_organ=sp_ab0 | lv_ab0,
        ab_alc=(c("alc0") >= 4).fill_null(False),
        ab_plt=(c("plt0") < 100).fill_null(False),
        ab_hb=(c("hb0") < 11).fill_null(False),
        im_nodes=((c("spd") <= 0.5 * c("spd0")) | (c("ld") < 1.5)).fill_null(False),
        im_organ=(
            (~sp_ab0 | ((spl(c("spleen")) <= 0.5 * spl(c("spleen0"))) | (c("spleen") < N)).fill_null(False))
            & (~lv_ab0 | (c("liver") == "normal").fill_null(False))
        ),
        im_alc=((c("alc") <= 0.5 * c("alc0")) | (c("alc") < 4)).fill_null(False),
        im_plt=((c("plt") >= 100) | (c("plt") >= 1.5 * c("plt0"))).fill_null(False),
        im_hb=((c("hb") >= 11) | (c("hb") >= 1.5 * c("hb0"))).fill_null(False),
        ms_nodes=c("spd").is_null() & c("ld").is_null(),
        ms_organ=c("spleen").is_null() & c("liver").is_null(),
        ms_alc=c("alc").is_null(),
        ms_plt=c("plt").is_null(),
        ms_hb=c("hb").is_null(),
    )

    def n(*cols: str) -> pl.Expr:
        return pl.sum_horizontal([c(x).cast(pl.Int32) for x in cols])

    a_abn = n("ab_nodes", "ab_organ", "ab_alc")
    b_abn = n("ab_plt", "ab_hb")
    fu = fu.with_columns(
        A_abn=a_abn,
        B_abn=b_abn,
        A_imp=pl.sum_horizontal([(c(f"ab_{p}") & c(f"im_{p}")).cast(pl.Int32) for p in ("nodes", "organ", "alc")]),
        B_imp=pl.sum_horizontal([(c(f"ab_{p}") & c(f"im_{p}")).cast(pl.Int32) for p in ("plt", "hb")]),
        A_miss=pl.sum_horizontal([(c(f"ab_{p}") & c(f"ms_{p}")).cast(pl.Int32) for p in ("nodes", "organ", "alc")]),
        B_miss=pl.sum_horizontal([(c(f"ab_{p}") & c(f"ms_{p}")).cast(pl.Int32) for p in ("plt", "hb")]),
    ).with_columns(
        A_need=pl.min_horizontal(pl.lit(2), c("A_abn")),
        B_need=pl.min_horizontal(pl.lit(1), c("B_abn")),
    )
    pr = (c("A_imp") >= c("A_need")) & (c("B_imp") >= c("B_need")) & ((c("A_imp") + c("B_imp")) >= 1)
    a_abn_l = c("A_abn") - c("ab_alc").cast(pl.Int32)
    a_imp_l = c("A_imp") - (c("ab_alc") & c("im_alc")).cast(pl.Int32)
    prl = (
        c("bcr") & c("ab_alc") & ~c("im_alc")
        & (a_imp_l >= pl.min_horizontal(pl.lit(2), a_abn_l))
        & (c("B_imp") >= c("B_need"))
        & ((a_imp_l + c("B_imp")) >= 1)
    )
    could = ((c("A_imp") + c("A_miss")) >= c("A_need")) & ((c("B_imp") + c("B_miss")) >= c("B_need")) & (
        (c("A_imp") + c("A_miss") + c("B_imp") + c("B_miss")) >= 1
    )
    # ---- CR family (§4.2) -----------------------------------------------------------------
    group_a_cr = (
        (c("alc") < 4) & (c("ld") < 1.5) & (c("spleen") < N)
        & ~(c("liver") == "enlarged").fill_null(False)
        & ~c("constitutional_symptoms").fill_null(False)
    ).fill_null(False)
    supported = c("rbc_transfusion").fill_null(False) | c("epo").fill_null(False)
    counts_cr = ((c("anc") >= 1.5) & (c("plt") >= 100) & (c("hb") >= 11)).fill_null(False) & ~supported
    counts_known = c("anc").is_not_null() & c("plt").is_not_null() & c("hb").is_not_null()
    mar = c("marrow")
    cr = group_a_cr & counts_cr & (mar == "normocellular_no_cll").fill_null(False)
    cri = (
        group_a_cr & counts_known & ~counts_cr & c("drug_toxicity_cytopenia").fill_null(False)
        & mar.is_in(["normocellular_no_cll", "hypocellular"]).fill_null(False)
    )
    npr = group_a_cr & counts_cr & (mar == "b_lymphoid_nodules").fill_null(False)
    measured = pl.any_horizontal([c(p).is_not_null() for p in ("alc", "plt", "hb", "spd", "ld", "spleen", "liver")])
    # §5: a response-like assessment on, or less than post_treatment_assessment_min_days after,
    # fixed-duration therapy (the INTERIM rows below, found before PD so that the PD reference
    # can leave them out; a PD row in the window is not INTERIM but is not a nadir either)
    resp_like = cr | cri | npr | pr | (prl if o.pr_l_counts_as_pr else pl.lit(False))
    window = ~c("continuous") & (
        c("on_therapy")
        | (c("last_end").is_not_null() & (days(c("date"), c("last_end")) < o.post_treatment_assessment_min_days))
    )
    fu = fu.with_columns(_interim_like=(resp_like & window).fill_null(False))
    def prior_min(col: str, base_col: str) -> pl.Expr:
        # lowest of the baseline and the earlier assessments that measured it (cum_min is
        # null on a row without the value: carried forward so the nadir is not lost), not
        # counting INTERIM responses: Table 4's reference is "baseline or response" and an
        # INTERIM assessment is not a response assessment (§5; choice)
        kept = pl.when(~c("_interim_like")).then(c(col))
        return pl.min_horizontal(c(base_col), kept.cum_min().forward_fill().shift(1).over(G))

    fu = fu.with_columns(
        spd_ref=prior_min("spd", "spd0"),
        ld_ref=prior_min("ld", "ld0"),
        spleen_ref=prior_min("spleen", "spleen0"),
        alc_nadir=prior_min("alc", "alc0"),
        infil_prev=pl.coalesce(c("infil").shift(1).forward_fill().over(G), c("infil0")),
        liver_was_normal=(c("liver0") == "normal").fill_null(False)
        | (c("liver") == "normal").cast(pl.Int32).cum_sum().shift(1, fill_value=0).over(G).gt(0),
    )
    alc_ref = c("alc_nadir") if o.alc_pd_reference == "nadir" else c("alc0")
    # ---- PD (§4.1) ----------------------------------------------------------------------
    d1_spd = (c("spd") >= 1.5 * c("spd_ref")) & (c("spd_ref") > 0)
    d1_ld = (c("ld") >= 1.5 * c("ld_ref")) & (c("ld") > pl.when(c("ld_ref") > 1.5).then(2.0).otherwise(1.5))
    d1_new = c("new_node").fill_null(False) | c("new_organ_infiltrate").fill_null(False)
    d2_spl = (spl(c("spleen")) >= 1.5 * spl(c("spleen_ref"))) & (spl(c("spleen_ref")) > 0)
    d2_denovo = (c("spleen") >= N) & (c("spleen_ref") < N)
    d2_liver = (c("liver") == "enlarged") & c("liver_was_normal")
    d3 = (c("alc") >= 1.5 * alc_ref) & (c("bcells") >= 5) & ~c("bcr")
    d3_ignored = (c("alc") >= 1.5 * alc_ref) & (c("bcells") >= 5) & c("bcr")
    d4 = c("richter_transformation").fill_null(False)
    involved = c("marrow").is_in(["cll_cells_present", "b_lymphoid_nodules"]).fill_null(False) | (c("infil") > 0).fill_null(False)
    hb_drop = (c("hb") < c("hb0")) & (((c("hb0") - c("hb")) > 2) | (c("hb") < 10))
    plt_drop = (c("plt") < c("plt0")) & ((((c("plt0") - c("plt")) / c("plt0")) > 0.5) | (c("plt") < 100))
    cyto = hb_drop.fill_null(False) | plt_drop.fill_null(False)
    off_long = ~c("on_therapy") & (
        c("last_end").is_null() | (days(c("date"), c("last_end")) >= o.cytopenia_pd_min_days_after_treatment)
    )
    d5 = c("cytopenia_due_to_cll").fill_null(False) & involved & off_long & cyto
    d6 = (c("infil") >= 1.5 * c("infil_prev")) & (c("infil_prev") > 0)
    fu = fu.with_columns(
        D1=(d1_spd.fill_null(False) | d1_ld.fill_null(False) | d1_new),
        D2=(d2_spl.fill_null(False) | d2_denovo.fill_null(False) | d2_liver.fill_null(False)),
        D3=d3.fill_null(False),
        D4=d4,
        D5=d5,
        D6=d6.fill_null(False),
        d3_ignored=d3_ignored.fill_null(False),
        cyto_on_therapy=cyto & ~off_long,
    ).with_columns(pd=pl.any_horizontal("D1", "D2", "D3", "D4", "D5", "D6"))

    cat = (
        pl.when(c("pd")).then(pl.lit("PD"))
        .when(cr).then(pl.lit("CR"))
        .when(cri).then(pl.lit("CRi"))
        .when(npr).then(pl.lit("nPR"))
        .when(pr).then(pl.lit("PR"))
        .when(prl).then(pl.lit("PR-L" if o.pr_l_counts_as_pr else "SD"))
        .when(~measured | could).then(pl.lit("NE"))
        .otherwise(pl.lit("SD"))
    )
    fu = fu.with_columns(cat=cat, prl_sd=prl & pl.lit(not o.pr_l_counts_as_pr) & ~c("pd") & ~cr & ~cri & ~npr & ~pr)
    # ---- timing (§5) ----------------------------------------------------------------------------
    is_resp = c("cat").is_in(["CR", "CRi", "PR", "nPR", "PR-L"])
    interim = is_resp & ~c("continuous") & (
        c("on_therapy")
        | (c("last_end").is_not_null() & (days(c("date"), c("last_end")) < o.post_treatment_assessment_min_days))
    )
    fu = fu.with_columns(interim=interim.fill_null(False))
    # §5: a response >= post_treatment_assessment_min_days after the end of fixed-duration
    # therapy is assessed at the right time: it counts at once (no second assessment)
    fu = fu.with_columns(post_therapy=(is_resp & ~c("continuous") & ~c("interim") & c("last_end").is_not_null()).fill_null(False))
    fu = fu.with_columns(
        first_resp=c("date").filter(is_resp & ~c("interim")).min().over(G),
    ).with_columns(
        first_resp=pl.when(c("first_resp") < c("date")).then(c("first_resp")),
    )
    months_since_resp = days(c("date"), c("first_resp")) / MONTH_DAYS
    months_since_end = days(c("date"), c("last_end")) / MONTH_DAYS
    fu = fu.with_columns(
        relapse=(c("pd") & (months_since_resp >= o.relapse_min_months_after_response)).fill_null(False),
        refractory=(
            c("pd")
            & (
                c("first_resp").is_null()
                | c("on_therapy")
                | (months_since_end < o.refractory_window_months).fill_null(False)
            )
        ).fill_null(False),
    )
    fu = fu.with_columns(
        overall_response=c("cat"),
        canonical_level=pl.when(c("interim")).then(pl.lit(S.NOT_EVALUABLE)).otherwise(
            c("cat").replace_strict(CANONICAL, default=None, return_dtype=pl.String)
        ),
        is_progression_event=c("pd"),
        progression_event_date=pl.when(c("pd")).then(c("date")),
        recurrence_sites=pl.when(c("pd")).then(
            join_str(
                pl.when(c("D1")).then(pl.lit("REGIONAL")),
                pl.when(c("D2")).then(pl.lit("DISTANT")),
                pl.when(c("D3")).then(pl.lit("BLOOD")),
                pl.when(c("D5") | c("D6")).then(pl.lit("MARROW")),
                sep=";",
            )
        ),
        new_lesion=c("new_node").fill_null(False) | c("new_organ_infiltrate").fill_null(False),
        target_response=pl.when(c("D4")).then(pl.lit("DISEASE TRANSFORMATION"))
        .when(c("cat") == "PR-L").then(pl.lit("PR WITH LYMPHOCYTOSIS"))
        .when(c("cat") == "nPR").then(pl.lit("nPR")),
        non_target_response=pl.when(c("mrd") == "negative").then(pl.lit("MRD NEGATIVITY")),
        value=c("alc"),
        baseline_value=c("alc0"),
        nadir_value=c("alc_nadir"),
        change_from_baseline_pct=pl.when(c("alc0") > 0).then((c("alc") - c("alc0")) / c("alc0") * 100),
        change_from_nadir_pct=pl.when(c("alc_nadir") > 0).then((c("alc") - c("alc_nadir")) / c("alc_nadir") * 100),
        change_from_nadir_abs=c("alc") - c("alc_nadir"),
    )
    fu = fu.with_columns(
        rule_ids=join_str(
            *[pl.when(c(d)).then(pl.lit(d)) for d in ("D1", "D2", "D3", "D4", "D5", "D6")],
            pl.when(c("cat") == "CR").then(pl.lit("CR")),
            pl.when(c("cat") == "CRi").then(pl.lit("CRi")),
            pl.when(c("cat") == "nPR").then(pl.lit("nPR")),
            pl.when(c("cat") == "PR").then(pl.lit("PR")),
            pl.when((c("cat") == "PR-L") | c("prl_sd")).then(pl.lit("PR-L")),
            pl.when(c("interim")).then(pl.lit("INTERIM")),
            pl.when(c("post_therapy")).then(pl.lit("POST_THERAPY")),
            pl.when(c("relapse")).then(pl.lit("RELAPSE")),
            pl.when(c("refractory")).then(pl.lit("REFRACTORY")),
            sep=",",
        ),
        warnings=join_str(
            pl.when(c("interim")).then(pl.lit("INTERIM")),
            pl.when(c("cyto_on_therapy") & ~c("D5")).then(pl.lit("CYTOPENIA_NOT_PD_TIMING")),
            pl.when(c("d3_ignored")).then(pl.lit("LYMPHOCYTOSIS_ON_BCR_INHIBITOR")),
            sep=";",
        ),
        explanation=_explanation(o),
    )
    out_base = base.with_columns(
        value=c("alc"),
        baseline_value=c("alc0"),
        explanation=pl.format("Baseline: {}", _values_text(o, baseline=True)),
    )
    return to_timepoints(pl.concat([fu, out_base], how="diagonal_relaxed"), CODE)


def _pct(now: pl.Expr, ref: pl.Expr) -> pl.Expr:
    p = (now - ref) / ref * 100
    return pl.when(p >= 0).then(pl.format("+{}%", num(p))).otherwise(pl.format("{}%", num(p)))


def _values_text(o: Iwcll2018Options, baseline: bool = False) -> pl.Expr:
    """Every measured parameter with its change from baseline (``; ``-joined)."""
    c = pl.col
    N = o.normal_spleen_cm

    def vs(col: str) -> pl.Expr:
        if baseline:
            return pl.lit("")
        return pl.when(c(f"{col}0") > 0).then(pl.format(" ({} vs baseline {})", _pct(c(col), c(f"{col}0")), num(c(f"{col}0")))).otherwise(pl.lit(""))

    if baseline or o.spleen_change_basis == "raw_length":
        spleen = pl.format("spleen {} cm{}", num(c("spleen")), vs("spleen"))
    else:
        ex, ex0 = (c("spleen") - N).clip(lower_bound=0), (c("spleen0") - N).clip(lower_bound=0)
        spleen = pl.format(
            "spleen {} cm{}",
            num(c("spleen")),
            pl.when(ex0 > 0).then(pl.format(" (excess {} vs {} cm over {}: {})", num(ex), num(ex0), num(pl.lit(N)), _pct(ex, ex0))).otherwise(pl.lit("")),
        )
    return join_str(
        pl.when(c("spd").is_not_null()).then(pl.format("node SPD {} cm2{}", num(c("spd")), vs("spd"))),
        pl.when(c("ld").is_not_null()).then(pl.format("largest node {} cm", num(c("ld")))),
        pl.when(c("spleen").is_not_null()).then(spleen),
        pl.when(c("liver").is_not_null()).then(pl.format("liver {}", c("liver"))),
        pl.when(c("alc").is_not_null()).then(pl.format("ALC {} x10^9/L{}", num(c("alc")), vs("alc"))),
        pl.when(c("bcells").is_not_null()).then(pl.format("B cells {} x10^9/L", num(c("bcells")))),
        pl.when(c("anc").is_not_null()).then(pl.format("ANC {} x10^9/L", num(c("anc")))),
        pl.when(c("plt").is_not_null()).then(pl.format("platelets {} x10^9/L{}", num(c("plt")), vs("plt"))),
        pl.when(c("hb").is_not_null()).then(pl.format("Hb {} g/dL{}", num(c("hb")), vs("hb"))),
        pl.when(c("marrow").is_not_null()).then(pl.format("marrow {}", c("marrow"))),
        pl.when(c("infil").is_not_null()).then(pl.format("marrow infiltrate {}%", num(c("infil")))),
        pl.when(c("constitutional_symptoms").fill_null(False)).then(pl.lit("constitutional symptoms")),
        pl.when(c("mrd").is_not_null()).then(pl.format("MRD {}", c("mrd"))),
        sep="; ",
    ).fill_null(pl.lit("no parameters"))


def _explanation(o: Iwcll2018Options) -> pl.Expr:
    c = pl.col
    N = o.normal_spleen_cm
    pd_txt = join_str(
        pl.when(c("D1")).then(
            join_str(
                pl.when(c("new_node").fill_null(False)).then(pl.lit("D1 new node > 1.5 cm")),
                pl.when(c("new_organ_infiltrate").fill_null(False)).then(pl.lit("D1 new organ infiltrate")),
                pl.when(((c("spd") >= 1.5 * c("spd_ref")) & (c("spd_ref") > 0)).fill_null(False)).then(
                    pl.format("D1 node SPD {} cm2 is {} vs nadir/baseline {} (>= +50%)", num(c("spd")), _pct(c("spd"), c("spd_ref")), num(c("spd_ref")))
                ),
                pl.when(((c("ld") >= 1.5 * c("ld_ref"))).fill_null(False) & ~((c("spd") >= 1.5 * c("spd_ref")) & (c("spd_ref") > 0)).fill_null(False)).then(
                    pl.format("D1 largest node {} cm is {} vs {} cm", num(c("ld")), _pct(c("ld"), c("ld_ref")), num(c("ld_ref")))
                ),
                sep="; ",
            )
        ),
        pl.when(c("D2")).then(
            pl.format("D2 spleen {} cm / liver {} (reference spleen {} cm, normal < {})", num(c("spleen")),
                      pl.coalesce(c("liver"), pl.lit("not recorded")), num(c("spleen_ref")), num(pl.lit(N)))
        ),
        pl.when(c("D3")).then(
            pl.format("D3 ALC {} x10^9/L >= 1.5 x {} ({}) with B cells {} (>= 5)", num(c("alc")),
                      num(c("alc0") if o.alc_pd_reference == "baseline" else c("alc_nadir")), pl.lit(o.alc_pd_reference), num(c("bcells")))
        ),
        pl.when(c("D4")).then(pl.lit("D4 Richter transformation (DISEASE TRANSFORMATION)")),
        pl.when(c("D5")).then(
            pl.format("D5 cytopenia due to CLL: Hb {} (baseline {}), platelets {} (baseline {}), {} days after treatment",
                      num(c("hb")), num(c("hb0")), num(c("plt")), num(c("plt0")),
                      pl.coalesce(days(c("date"), c("last_end")).cast(pl.String), pl.lit("no")))
        ),
        pl.when(c("D6")).then(pl.format("D6 marrow infiltrate {}% >= 1.5 x previous {}%", num(c("infil")), num(c("infil_prev")))),
        sep="; ",
    )
    counts = pl.format(
        "group A {}/{} improved (needs {}), group B {}/{} (needs {})",
        c("A_imp"), c("A_abn"), c("A_need"), c("B_imp"), c("B_abn"), c("B_need"),
    )
    flags = join_str(
        pl.when(c("relapse")).then(
            pl.format("relapse: {} months after the response of {}", num(days(c("date"), c("first_resp")) / MONTH_DAYS), c("first_resp").cast(pl.String))
        ),
        pl.when(c("refractory")).then(
            pl.when(c("first_resp").is_null()).then(pl.lit("refractory: no prior response"))
            .when(c("on_therapy")).then(pl.lit("refractory: on therapy"))
            .otherwise(pl.format("refractory: {} months after the last dose", num(days(c("date"), c("last_end")) / MONTH_DAYS)))
        ),
        pl.when(c("interim")).then(
            pl.when(c("on_therapy")).then(pl.lit("INTERIM: on fixed-duration therapy"))
            .otherwise(pl.format("INTERIM: {} days after the end of therapy (< {})", days(c("date"), c("last_end")), pl.lit(o.post_treatment_assessment_min_days)))
        ),
        pl.when(c("cyto_on_therapy") & ~c("D5")).then(pl.lit("cytopenia during or < 3 months after therapy is not PD (D5)")),
        pl.when(c("d3_ignored")).then(pl.lit("lymphocytosis on a BCR inhibitor is not PD (D3)")),
        sep="; ",
    )
    vals = _values_text(o)
    body = (
        pl.when(c("cat") == "PD").then(pd_txt)
        .when(c("cat").is_in(["CR", "CRi"])).then(
            pl.format("{}{}", vals, pl.when(c("cat") == "CRi").then(pl.lit("; cytopenia due to drug toxicity")).otherwise(pl.lit("")))
        )
        .when(c("cat") == "nPR").then(pl.format("{}; CR except B-lymphoid nodules in the marrow", vals))
        .when(c("cat") == "PR-L").then(pl.format("{}; {}; PR without the lymphocyte count (on a BCR inhibitor)", vals, counts))
        .when(c("cat") == "NE").then(pl.format("{}; {}; parameters abnormal at baseline not measured", vals, counts))
        .otherwise(pl.format("{}; {}", vals, counts))
    )
    return pl.format("{}: {}{}", c("cat"), body, pl.when(flags.is_not_null()).then(pl.format("; {}", flags)).otherwise(pl.lit("")))


def evaluate(tables, segments: pl.DataFrame, options: Iwcll2018Options | None = None) -> pl.DataFrame:
    """Same as :func:`run` (the registry's ``evaluate`` slot)."""
    return run(tables, segments, options)

#: the generic CDISC codes every stated-response vocabulary accepts (remission_model.md §10.2)
_GENERIC = ("NE", "NED", "RELAPSED DISEASE", "RELAPSED DISEASE FROM CR")

#: the best-response order of §5, "CR > CRi > PR (incl. nPR, PR-L) > SD > PD > NE": nPR and PR-L
#: are PR with a sub-code (kept on the row, ``target_response``)
_BEST_AS = {"nPR": "PR", "PR-L": "PR"}


def _pr_family(timepoints: pl.DataFrame) -> pl.DataFrame:
    """§5 best-response order: nPR and PR-L count as PR (their rows keep their codes)."""
    col = "overall_response" if "overall_response" in timepoints.columns else "response"
    return timepoints.with_columns(pl.col(col).replace(_BEST_AS))


def best_response_rule(o: Iwcll2018Options) -> BestResponseRule:
    """iwcll2018.md §5 "Timing, best response": the best category reached by the order
    CR > CRi > PR (incl. nPR, PR-L) > SD > PD > NE.  ``INTERIM`` time points (on or within
    ``post_treatment_assessment_min_days`` of the end of fixed-duration therapy) are never the
    best response: they count as NE (so MISSING only when there is no assessment at all).
    A response assessed at the right time after fixed-duration therapy (``POST_THERAPY``)
    needs no second assessment; any other response (continuous therapy) counts when a later
    result at least ``persistence_days`` on is as good, with no PD between (the window ends
    at the first PD), dated to the first; an unsustained response counts as SD."""
    return BestResponseRule(
        order=ORDER, confirmation="as_good_later", confirm_days=o.persistence_days, unconfirmed_as="SD",
        ne_rule_ids=("INTERIM",), confirmed_rule_ids=("POST_THERAPY",), prepare=_pr_family,
    )  # fmt: skip

CRITERION = Criterion(
    code=CODE,
    cancer_types=("cll",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=CANONICAL,
    options_model=Iwcll2018Options,
    run=run,
    dates=assessment_dates,
    best_response=best_response_rule,
    vocabulary=Vocabulary(
        response_codes=(
            "CR", "CRi", "PR", "nPR", "PR-L", "PR WITH LYMPHOCYTOSIS", "SD", "PD",
            "DISEASE TRANSFORMATION", "MRD NEGATIVITY", "QUANTIFIABLE MRD POSITIVITY",
        ) + _GENERIC,  # fmt: skip
        # CDISC spellings of stated responses (iwcll2018.md §4.2-4.3, remission_model.md §10.2)
        levels={
            "NODULAR PARTIAL RESPONSE": S.PARTIAL,
            "PR WITH LYMPHOCYTOSIS": S.PARTIAL,
            "DISEASE TRANSFORMATION": S.PROGRESSION,
        },
        findings={
            "rbc_transfusion": boolean_finding(),
            "epo": boolean_finding(),
            "new_node": boolean_finding(),
            "new_organ_infiltrate": boolean_finding(),
            "constitutional_symptoms": boolean_finding(),
            "marrow_cll": FindingRule(values=MARROW_VALUES, strip=True),
            "richter_transformation": boolean_finding(),
            "cytopenia_due_to_cll": boolean_finding(),
            "drug_toxicity_cytopenia": boolean_finding(),
            "on_bcr_inhibitor": boolean_finding(),
            "node_spd_cm2": number_finding(">=0", "a number >= 0"),
            "largest_node_cm": number_finding(">=0", "a number >= 0"),
        },
    ),
    presentation=Presentation(
        label="iwCLL 2018",
        plain_name="iwCLL",
        introduction="The iwCLL rules are used to judge chronic lymphocytic leukaemia.",
        value_label="Lymphocyte count (10^9/L)",
        pd_threshold_pct=50.0,
        response_threshold_pct=-50.0,
        change_caption="lymphocyte count",
        pd_threshold_words="progression: +50% (iwcll2018.md)",
        response_threshold_words="partial response: -50% from baseline (iwcll2018.md)",
        evidence=("lab",),
    ),
)


__all__ = ["CODE", "ORDER", "CANONICAL", "CRITERION", "Iwcll2018Options", "FINDING_VALUES", "assessment_dates", "run"]
