"""mRECIST for hepatocellular carcinoma (mrecist.md), built on the RECIST 1.1 engine.

The lesions are rewritten into what mRECIST measures, then
:func:`remission.criteria.recist11.evaluate` does the bookkeeping (sums, nadir, NE rules,
Tables 4/5, back-dating of equivocal new lesions) and the target response is re-judged
with mRECIST's PD threshold (§4.1 M3).  All steps are polars expressions over every subject.

Inputs (documented in docs/criteria_imaging_irecist_mrecist.md):

* ``lesions.viable_diameter_mm`` (optional column): longest diameter of the arterially
  enhancing (viable) tumour (§2).  On an intrahepatic lesion (``organ = liver``) it replaces
  ``diameter_mm``; ``0`` = no enhancement left (a non-target then counts as absent, §4.2).
  Extrahepatic lesions are measured by RECIST 1.1 (§3, §10): their viable value is ignored.
* Porta hepatis nodes: ``organ`` ``porta_hepatis`` (or ``porta_hepatis_node``), ``nodal``
  true.  A non-target or new one with a short axis below ``porta_hepatis_node_min_sa_mm``
  (20) is ignored (§3, §4.3).
* Effusions: ``organ`` ``ascites``, ``pleural_effusion``, ``pericardial_effusion`` or
  ``effusion``.  A new or worsening (``progression``) effusion counts only with malignant
  cytology: finding ``effusion_cytology`` = ``malignant`` dated on or before the scan date
  plus ``cytology_window_days`` (§4.2, §4.3).  Without it a non-target ``progression`` is
  read as ``present`` and a new effusion as equivocal (pending; back-dated if later proven).
* New intrahepatic lesions (§4.3): status ``present`` (or ``progression``) = typical HCC
  vascular pattern (arterial hyperenhancement and washout), ``equivocal`` = atypical
  pattern.  A lesion is a new lesion when it is >= ``new_lesion_min_mm`` (10) with the
  typical pattern, or when it grew >= ``atypical_new_lesion_growth_mm`` (10) since the first
  scan showing it >= 10 mm; until then it is equivocal, and PD is back-dated to the first
  scan showing it (RECIST back-dating convention, §4.3, §10).  Once a new lesion it stays one.

Choices (spec open): the extrahepatic target keeps RECIST's T3-before-T4 node rule; M3 uses
RECIST's nadir (complete earlier sums, baseline included); a target reclassified from
RECIST PD to non-PD by a ``pd_min_abs_mm`` above 5 takes PR (<= -30 % from baseline) or SD.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission.schema import LESIONS, TIMEPOINTS

from . import recist11
from .base import BestResponseRule, Criterion, Presentation, Vocabulary, lesion_dates
from .recist11 import RecistOptions
from ._lesions import num, signed

CODE = "mrecist"
ORDER = recist11.ORDER
CANONICAL = dict(recist11.CANONICAL)
EFFUSION_ORGANS = ("ascites", "pleural_effusion", "pericardial_effusion", "effusion")
PORTA_ORGANS = ("porta_hepatis", "porta_hepatis_node")
LIVER = "liver"


class MRecistOptions(BaseModel):
    """mrecist.md §8 (defaults of the spec); ``recist`` holds all RECIST parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pd_min_abs_mm: float = Field(0.0, ge=0, description="M3 absolute floor (0 = literal mRECIST; 5 = as RECIST 1.1).")
    porta_hepatis_node_min_sa_mm: float = Field(20.0, ge=0, description="Porta hepatis nodes below this short axis are ignored.")
    new_lesion_min_mm: float = Field(10.0, ge=0, description="Minimum longest diameter of a new intrahepatic lesion.")
    atypical_new_lesion_growth_mm: float = Field(10.0, ge=0, description="Interval growth that confirms an atypical new lesion.")
    cytology_window_days: int = Field(14, ge=0, description="Malignant effusion cytology up to this many days after the scan counts.")
    recist: RecistOptions = RecistOptions()


def _cytology(findings: pl.DataFrame | None) -> pl.DataFrame:
    """First malignant effusion cytology date per subject."""
    if findings is None or findings.height == 0:
        return pl.DataFrame(schema={"subject_id": pl.String, "cyto_date": pl.Date})
    return (
        findings.filter(
            (pl.col("finding").str.to_lowercase() == "effusion_cytology")
            & (pl.col("value").str.strip_chars().str.to_lowercase() == "malignant")
        )
        .group_by("subject_id")
        .agg(cyto_date=pl.col("date").min())
    )


def mrecist_lesions(lesions: pl.DataFrame, findings: pl.DataFrame | None, o: MRecistOptions) -> pl.DataFrame:
    """The lesions table rewritten into what mRECIST measures (module docstring; §3–4)."""
    c = pl.col
    les = lesions.with_columns([pl.lit(None, dtype=t).alias(k) for k, t in LESIONS.items() if k not in lesions.columns])
    organ = c("organ").fill_null("").str.to_lowercase()
    liver = (organ == LIVER) & ~c("nodal").fill_null(False)
    les = les.with_columns(_liver=liver, _organ=organ)
    # §3/§4.1: intrahepatic lesions measured by their viable (enhancing) diameter
    les = les.with_columns(
        diameter_mm=pl.when(c("_liver") & c("viable_diameter_mm").is_not_null()).then(c("viable_diameter_mm")).otherwise(c("diameter_mm")),
        status=pl.when(c("_liver") & (c("role") == "non_target") & (c("viable_diameter_mm") == 0))
        .then(pl.lit("absent"))
        .otherwise(c("status")),
    )
    # §3/§4.3: porta hepatis nodes < 20 mm short axis are ignored (non-target and new rows)
    small_porta = c("_organ").is_in(PORTA_ORGANS) & c("role").is_in(["non_target", "new"]) & (c("diameter_mm") < o.porta_hepatis_node_min_sa_mm)
    les = les.filter(~small_porta.fill_null(False))
    # §4.2/§4.3: effusions count only with malignant cytology
    les = les.join(_cytology(findings), on="subject_id", how="left")
    proven = (c("cyto_date") <= c("date") + pl.duration(days=o.cytology_window_days)).fill_null(False)
    eff = c("_organ").is_in(EFFUSION_ORGANS)
    les = les.with_columns(
        status=pl.when(eff & ~proven & (c("role") == "non_target") & (c("status") == "progression"))
        .then(pl.lit("present"))
        .when(eff & ~proven & (c("role") == "new") & c("status").is_in(["present", "progression"]))
        .then(pl.lit("equivocal"))
        # proven: the RECIST engine reads an effusion as unequivocal only with status progression
        .when(eff & proven & (c("role") == "new") & (c("status") == "present"))
        .then(pl.lit("progression"))
        .otherwise(c("status"))
    )
    # §4.3: new intrahepatic lesions (size, vascular pattern, interval growth)
    lid = ["subject_id", "lesion_id"]
    newl = (c("role") == "new") & c("_liver")
    les = les.sort([*lid, "date"])
    # first diameter >= 10 of the lesion (the growth reference), by date
    first10 = (
        les.filter(newl & (c("diameter_mm") >= o.new_lesion_min_mm))
        .group_by(lid)
        .agg(_d10=c("diameter_mm").sort_by("date").first(), _t10=c("date").min())
    )
    les = les.join(first10, on=lid, how="left").sort([*lid, "date"])
    typical = c("status").is_in(["present", "progression"])
    big = c("diameter_mm").is_null() | (c("diameter_mm") >= o.new_lesion_min_mm)
    grown = (c("date") > c("_t10")) & (c("diameter_mm") - c("_d10") >= o.atypical_new_lesion_growth_mm)
    seen = c("status").is_in(["present", "progression", "equivocal"])
    les = les.with_columns(_uneq=(newl & seen & ((typical & big) | grown.fill_null(False))))
    les = les.with_columns(_uneq=(c("_uneq").cast(pl.Int8).cum_max().over(lid) > 0) & seen & newl)
    les = les.with_columns(
        status=pl.when(newl & c("_uneq")).then(pl.lit("present")).when(newl & seen).then(pl.lit("equivocal")).otherwise(c("status"))
    )
    return les.select(list(LESIONS)).sort("subject_id", "date", "lesion_id")


def evaluate(
    lesions: pl.DataFrame,
    segments: pl.DataFrame,
    options: MRecistOptions = MRecistOptions(),
    labs: pl.DataFrame | None = None,
    findings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """mRECIST time points (schema.TIMEPOINTS); ``value`` is the sum of viable diameters
    (SVD, plus RECIST diameters of extrahepatic targets)."""
    o = options
    tp = recist11.evaluate(mrecist_lesions(lesions, findings, o), segments, o.recist, labs=labs)
    c = pl.col
    rule = c("rule_ids").fill_null("").str.split(",").list.first()
    pct, ab = c("change_from_nadir_pct"), c("change_from_nadir_abs")
    m3 = (c("value") > c("nadir_value")) & (pct >= 20) & (ab >= o.pd_min_abs_mm)
    m3 = m3.fill_null(False)
    pr = (c("change_from_baseline_pct") <= -30).fill_null(False)
    has = c("overall_response").is_not_null()
    tr_new = (
        pl.when(~has).then(c("target_response"))
        .when(rule.is_in(["T1", "T2"])).then(pl.when(m3).then(pl.lit("PD")).otherwise(pl.lit("NE")))
        .when(rule.is_in(["T4", "T5", "T6", "T6c"])).then(
            pl.when(m3).then(pl.lit("PD")).when(rule == "T6c").then(pl.lit("PR")).when(pr).then(pl.lit("PR")).otherwise(pl.lit("SD"))
        )
        .otherwise(c("target_response"))
    )  # fmt: skip
    tp = tp.with_columns(_rule=rule, _tr=tr_new)
    changed = has & (c("_tr") != c("target_response")).fill_null(False)
    other_pd = (c("non_target_response") == "PD") | c("new_lesion").fill_null(False) | c("rule_ids").str.contains("R47").fill_null(False)
    orr = (
        pl.when(~changed).then(c("overall_response"))
        .when((c("_tr") == "PD") | other_pd).then(pl.lit("PD"))
        .when(c("_tr") == "PR").then(pl.lit("PR"))
        .when(c("_tr") == "SD").then(pl.lit("SD"))
        .otherwise(pl.lit("NE"))
    )  # fmt: skip
    m_rule = pl.when(c("_tr") == "PD").then(pl.lit("M3")).when(c("_tr") == "PR").then(pl.lit("M5")).otherwise(pl.lit("M6"))
    why = (
        pl.when(c("_tr") == "PD").then(
            pl.format("PD (mRECIST M3): viable sum {} mm is {}% ({} mm) above nadir {} mm (>= 20%, > nadir, >= {} mm)",
                      num(c("value")), signed(pct), signed(ab), num(c("nadir_value")), pl.lit(o.pd_min_abs_mm))
        ).otherwise(
            pl.format("{} (mRECIST): viable sum {} mm is {}% from baseline; {} mm vs nadir {} mm is not PD (needs >= {} mm)",
                      c("_tr"), num(c("value")), signed(c("change_from_baseline_pct")), signed(ab), num(c("nadir_value")), pl.lit(o.pd_min_abs_mm))
        )
    )  # fmt: skip
    tp = tp.with_columns(
        target_response=pl.when(changed).then(c("_tr")).otherwise(c("target_response")),
        overall_response=orr,
        rule_ids=pl.when(changed).then(c("rule_ids").str.replace(r"^[^,]*", "")).otherwise(c("rule_ids")),
        explanation=pl.when(changed).then(pl.format("{}; RECIST reading: {}", why, c("explanation"))).otherwise(c("explanation")),
        _mr=pl.when(changed).then(m_rule),
    ).with_columns(
        rule_ids=pl.when(c("_mr").is_not_null()).then(pl.concat_str(c("_mr"), c("rule_ids"))).otherwise(c("rule_ids")),
    )
    is_pd = c("overall_response") == "PD"
    tp = tp.with_columns(
        canonical_level=pl.when(has).then(c("overall_response").replace_strict(CANONICAL, default=None)),
        is_progression_event=has & is_pd,
        progression_event_date=pl.when(has & is_pd).then(pl.coalesce(c("progression_event_date"), c("date"))),
        recurrence_sites=pl.when(has & is_pd).then(c("recurrence_sites")),
    )
    return tp.with_columns(criteria=pl.lit(CODE)).select([c(k).cast(t) for k, t in TIMEPOINTS.items()])


def run(tables, segments: pl.DataFrame, options: MRecistOptions | None) -> pl.DataFrame:
    """Criterion protocol (registry.py): lesions, labs (markers) and findings (cytology)."""
    return evaluate(tables["lesions"], segments, options or MRecistOptions(), labs=tables.get("labs"), findings=tables.get("findings"))


def bor_timepoints(timepoints: pl.DataFrame) -> pl.DataFrame:
    """``subject_id, line, date, response`` for the best response, after re-derivation:
    a PD whose ``progression_event_date`` is earlier than its row (an equivocal new lesion
    confirmed later, mrecist.md §4.3 / §7 B) makes the earlier time points of the line dated
    on or after that event date count as PD (remission_model.md §6.2 step 2); the same hook
    as RECIST 1.1's (:func:`remission.criteria.recist11.backdated_timepoints`)."""
    from .recist11 import backdated_timepoints

    return backdated_timepoints(timepoints)

def best_response_rule(o: MRecistOptions) -> BestResponseRule:
    """mrecist.md §5 = recist11.md §5 on :func:`bor_timepoints` (the back-dating hook)."""
    r = o.recist
    return BestResponseRule(
        order=ORDER, confirmation="recist", confirm_days=r.confirm_days, max_ne_between=r.max_ne_between,
        accept_sd_between=r.accept_sd_between, sd_min_days=r.sd_min_days, failed_cr_as_pr=r.failed_cr_as_pr,
        missing_as_ne=r.missing_as_ne, prepare=bor_timepoints,
    )  # fmt: skip


CRITERION = Criterion(
    code=CODE,
    cancer_types=("hcc",),  # spec/tables.md: default criterion of these cancer types
    order=ORDER,
    canonical=CANONICAL,
    options_model=MRecistOptions,
    run=run,
    dates=lesion_dates,
    best_response=best_response_rule,
    measurement="diameters",
    checks=recist11.target_selection_checks,  # targets are selected as RECIST 1.1's (§3.2)
    check_errors=recist11.TARGET_CHECK_ERRORS,
    vocabulary=Vocabulary(response_codes=recist11.RESPONSE_CODES),
    presentation=Presentation(
        label="mRECIST",
        plain_name="mRECIST",
        introduction="mRECIST is the version of the scan rules used for liver cancer.",
        quantity_words="tumours",
        value_label="Sum of viable target diameters (mm)",
        pd_threshold_pct=20.0,
        response_threshold_pct=-30.0,
        change_caption="Sum of viable target lesion diameters",
        pd_threshold_words="progression: +20% from the smallest viable sum",
        response_threshold_words="partial response: -30% from baseline",
        evidence=("imaging",),
    ),
)

