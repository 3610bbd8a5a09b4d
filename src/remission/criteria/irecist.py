"""iRECIST per-assessment responses and iBOR (irecist.md), built on the RECIST 1.1 engine.

How it works (vectorised over all subjects):

1. :func:`remission.criteria.recist11.evaluate` gives the RECIST 1.1 time points (sums,
   nadir, TR, NTR, new lesions; irecist.md §4.1 "compute RECIST 1.1 ... exactly as in
   recist11.md").  Per-lesion data for the confirming triggers come from the shared lesion
   sets of :mod:`._lesions` (new lesions) and the ``findings`` table (non-target change
   coding, scan reason).
2. The iUPD blocks are resolved in *rounds* (a Python loop over the block number, each
   round a set of polars joins/windows over every subject at once): round k finds, after
   the end of the previous block, the first time point meeting RECIST 1.1 PD (§4.1: the
   block opens, ``P`` = the categories in PD), then the first later time point that
   confirms it (§4.2 Step A, C1–C6, with the §4.4 timing rules) or resets it (Step B);
   a reset makes the block's new lesions existing disease (Step D) and starts round k+1.

Inputs beyond the lesions table (documented in docs/criteria_imaging_irecist_mrecist.md):

* ``findings.finding = "irecist_nt_change"``, value ``NC`` / ``INC`` / ``NCLA`` / ``INCLA`` /
  ``UNE`` (EORTC FAQ coding, irecist.md §2): ``INCLA`` or ``UNE`` is a further increase of
  non-target disease for C2.  A non-target lesion whose ``diameter_mm`` is larger than on
  its previous row is a further increase too.
* ``findings.finding = "scan_reason"``, value ``scheduled`` / ``symptom_driven`` (§4.4).
* New lesions: ``role = new`` rows.  At first unequivocal appearance a lesion is a new
  lesion target (NLT) when measurable (non-nodal ``diameter_mm`` >= 10, nodal >= 15), at
  most 5 in total and 2 per organ (in order of appearance, then size, then id); the others
  are new lesion non-targets (NLNT).  An NLNT "increased" (C4) when its status is
  ``progression`` or its ``diameter_mm`` grew since its previous row; ``progression`` is
  its unequivocal progression (C6 for new lesions of a reset block).

Choices where irecist.md is open (also in the docs):

* One ``NEW`` category.  The block's new lesions are those unequivocally present at
  ``block_start_date`` that were not part of an earlier reset block; if there are none
  (the block was opened by old new lesions meeting PD) the old ones are the block's.
* RECIST's reappearance after CR (rule R47) opens a block with ``NT`` in ``P``.
* An assessment is not evaluable (NE, block stays open) when the RECIST target response is
  NE (or, without targets, the non-target response is NE/NA), no trigger fires and no
  category is still in PD.
* "Previous evaluable assessment" (C4, C5) is the previous non-NE, non-disregarded
  assessment of the block (the block start included); a non-target or NLNT "increase" is
  judged against the lesion's previous row.
* Equivocal new lesions: a block opens when the lesion is unequivocal; the RECIST back-date
  is not applied to iUPD (the block start is the date of that time point).
* After iCPD the later time points of the line are labelled ``iCPD`` (rule ``AFTER_ICPD``,
  no new event): irecist.md §4.2 Step C "no further iRECIST responses are assigned".
* An open block at the end of the line gets warning ``IUPD_NOT_CONFIRMED`` on its last
  row (§4.4 ``iupd_not_confirmed_reason``; the explanation names the reason).
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from remission.schema import TIMEPOINTS

from . import recist11
from .base import BestResponseRule, Criterion, Presentation, Vocabulary, lesion_dates
from .recist11 import RecistOptions
from ._lesions import SEG, num, prepare, signed

CODE = "irecist"
ICR, IPR, ISD, INON, IUPD, ICPD, NE, MISSING = "iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE", "MISSING"
#: best → worst (irecist.md §5; criteria/README.md)
ORDER = (ICR, IPR, ISD, INON, ICPD, IUPD, NE, MISSING)
#: remission_model.md §3
CANONICAL = {
    ICR: "COMPLETE",
    IPR: "PARTIAL",
    ISD: "STABLE",
    INON: "STABLE",
    IUPD: "PROGRESSION_PENDING",
    ICPD: "PROGRESSION",
    NE: "NOT_EVALUABLE",
}
#: RECIST component response -> iRECIST component response (irecist.md §4.1)
_MAP = {"CR": ICR, "PR": IPR, "SD": ISD, "NON-CR/NON-PD": INON, "PD": IUPD, "NE": NE, "NA": "NA"}
KEY = ["subject_id", "line", "date"]


class IRecistOptions(BaseModel):
    """irecist.md §8 (defaults of the spec); ``recist`` holds all RECIST parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirm_min_days: int = Field(28, ge=0, description="iCPD confirmation at the next assessment >= 4 weeks after iUPD (§4.4).")
    confirm_tolerance_days: int = Field(2, ge=0, description="Scans >= confirm_min_days - tolerance after iUPD can confirm (§4.4).")
    confirm_late_flag_days: int = Field(56, ge=0, description="Later deciding scans are flagged LATE_CONFIRMATION (§4.4).")
    icpd_target_increase_mm: float = Field(5.0, ge=0, description="C1: further target-sum increase (cumulative) (§4.2).")
    icpd_nlt_increase_mm: float = Field(5.0, ge=0, description="C3: further new-lesion-target-sum increase (§4.2).")
    allow_symptom_driven_early_icpd: bool = Field(True, description="§4.4: a symptom-driven early scan with an additional new lesion may confirm.")
    failed_cr_as_pr: bool = Field(True, description="iBOR with confirmation: a CR failing CR confirmation may be a confirmed PR (recist11.md §5.4 step 2).")
    recist: RecistOptions = RecistOptions()


# ======================================================================================
# per-row features
# ======================================================================================


def _findings_features(findings: pl.DataFrame | None) -> pl.DataFrame:
    """``subject_id, date, nt_change, symptom`` from the findings table (codes above)."""
    schema = {"subject_id": pl.String, "date": pl.Date, "nt_change": pl.String, "symptom": pl.Boolean}
    if findings is None or findings.height == 0:
        return pl.DataFrame(schema=schema)
    f = findings.select(
        "subject_id", "date", finding=pl.col("finding").str.to_lowercase(), value=pl.col("value").str.strip_chars()
    )
    nt = (
        f.filter(pl.col("finding") == "irecist_nt_change")
        .group_by("subject_id", "date")
        .agg(nt_change=pl.col("value").str.to_uppercase().sort().str.join(","))
    )
    sym = (
        f.filter(pl.col("finding") == "scan_reason")
        .group_by("subject_id", "date")
        .agg(symptom=(pl.col("value").str.to_lowercase().str.replace_all("[ -]", "_") == "symptom_driven").any())
    )
    return nt.join(sym, on=["subject_id", "date"], how="full", coalesce=True).select(list(schema))


def _rows(tp: pl.DataFrame, prep, findings: pl.DataFrame | None) -> pl.DataFrame:
    """One row per follow-up (RECIST time point with a response), with the flags the
    block rounds need."""
    rows = tp.filter(pl.col("overall_response").is_not_null()).select(
        *KEY,
        "value",
        tr=pl.col("target_response").fill_null("NA"),
        ntr=pl.col("non_target_response").fill_null("NA"),
        r47=pl.col("rule_ids").fill_null("").str.contains("R47"),
        recist_or=pl.col("overall_response"),
        recist_expl=pl.col("explanation"),
    )
    # non-target further increase (C2): finding INCLA/UNE, or a diameter above its previous row
    nt = prep.nt_obs.filter(pl.col("has_row")).sort("subject_id", "line", "lesion_id", "date")
    nt_inc = (
        nt.with_columns(prev_d=pl.col("d").shift(1).over("subject_id", "line", "lesion_id"))
        .group_by(KEY)
        .agg(nt_grew=(pl.col("d") > pl.col("prev_d")).fill_null(False).any())
    )
    ff = _findings_features(findings)
    return (
        rows.join(nt_inc, on=KEY, how="left")
        .join(ff, on=["subject_id", "date"], how="left")
        .with_columns(
            nt_inc=pl.col("nt_grew").fill_null(False)
            | pl.col("nt_change").fill_null("").str.contains(r"(^|,)(INCLA|UNE)(,|$)"),
            symptom=pl.col("symptom").fill_null(False),
            t_pd=pl.col("tr") == "PD",
            nt_pd=pl.col("ntr") == "PD",
        )
        .drop("nt_grew")
        .sort(KEY)
    )


def _new_lesions(prep, rows: pl.DataFrame) -> pl.DataFrame:
    """New-lesion observations at every follow-up from the lesion's first unequivocal
    sighting (``appear``) on, with NLT/NLNT class and per-row flags."""
    obs = prep.new_obs
    lid = [*SEG, "lesion_id"]
    appear = (
        obs.filter(pl.col("kind") == "unequivocal")
        .sort("date")
        .group_by(lid)
        .agg(appear=pl.col("date").first(), d0=pl.col("diameter_mm").first(), organ=pl.col("organ").first(), nodal=pl.col("nodal").first())
    )
    measurable = pl.when(pl.col("nodal")).then(pl.col("d0") >= 15).otherwise(pl.col("d0") >= 10).fill_null(False)
    organ_key = pl.when(pl.col("nodal")).then(pl.lit("lymph_node")).otherwise(pl.col("organ").fill_null("?"))
    cand = (
        appear.with_columns(meas=measurable, okey=organ_key)
        .sort([*SEG, "appear", "d0", "lesion_id"], descending=[False, False, False, True, False], nulls_last=True)
        .with_columns(org_rank=pl.int_range(pl.len()).over([*SEG, "okey", "meas"]))
        .with_columns(ok_org=pl.col("meas") & (pl.col("org_rank") < 2))
        .with_columns(tot_rank=pl.col("ok_org").cast(pl.Int32).cum_sum().over(SEG))
        .with_columns(nlt=pl.col("ok_org") & (pl.col("tot_rank") <= 5))
        .select(*lid, "appear", "nlt")
    )
    grid = rows.select(KEY).join(cand, on=SEG, how="inner").filter(pl.col("date") >= pl.col("appear"))
    o = obs.select(*KEY, "lesion_id", "kind", "status", d_raw="diameter_mm")
    st = pl.col("status").fill_null("")
    g = (
        grid.join(o, on=[*KEY, "lesion_id"], how="left")
        .with_columns(
            ne=pl.col("kind").is_null() | (st == "not_evaluated"),
            absent=pl.col("kind").is_not_null() & ((st == "absent") | ((pl.col("kind") == "none") & (st != "not_evaluated"))),
        )
        .with_columns(
            present=~pl.col("ne") & ~pl.col("absent"),
            d=pl.when(pl.col("absent")).then(pl.lit(0.0)).otherwise(pl.col("d_raw")),
            prog=st == "progression",
        )
        .sort([*lid, "date"])
        .with_columns(prev_d=pl.col("d").shift(1).over(lid))
        .with_columns(inc=pl.col("prog") | (pl.col("d") > pl.col("prev_d")).fill_null(False))
    )
    return g.select(*KEY, "lesion_id", "appear", "nlt", "ne", "absent", "present", "d", "prog", "inc")


# ======================================================================================
# categories
# ======================================================================================


def _category(tr: pl.Expr, ntr: pl.Expr, old_any: pl.Expr, old_present: pl.Expr, old_ne: pl.Expr) -> pl.Expr:
    """RECIST Tables 4/5 without new lesions, the "old" new lesions counting as non-target
    disease (irecist.md §4.2 Step D: they are existing disease), mapped to iRECIST (§4.1)."""
    nt_ne = (ntr == "NE") | old_ne
    nt_na = (ntr == "NA") & ~old_any
    nt_cr = ~nt_ne & ~nt_na & ntr.is_in(["CR", "NA"]) & ~old_present
    return (
        pl.when(tr != "NA")
        .then(
            pl.when(tr == "CR").then(pl.when(nt_cr | nt_na).then(pl.lit(ICR)).otherwise(pl.lit(IPR)))
            .when(tr == "PR").then(pl.lit(IPR))
            .when(tr == "SD").then(pl.lit(ISD))
            .otherwise(pl.lit(NE))
        )
        .otherwise(
            pl.when(nt_ne | nt_na).then(pl.lit(NE)).when(nt_cr).then(pl.lit(ICR)).otherwise(pl.lit(INON))
        )
    )


def _old_state(rows: pl.DataFrame, nl: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    """Per row: era (not yet reset) new lesions present, and the old (reset-block) new
    lesions' state incl. their NLT sum vs its own nadir (irecist.md §4.2 Step D)."""
    x = nl.join(state.select(*SEG, "old_cut"), on=SEG, how="left").with_columns(
        old=(pl.col("appear") <= pl.col("old_cut")).fill_null(False)
    )
    agg = x.group_by(KEY).agg(
        era_present=(pl.col("present") & ~pl.col("old")).any(),
        old_any=pl.col("old").any(),
        old_present=(pl.col("present") & pl.col("old")).any(),
        old_ne=(pl.col("ne") & pl.col("old")).any(),
        old_prog=(pl.col("prog") & pl.col("old")).any(),
        old_nlt_sum=pl.col("d").filter(pl.col("old") & pl.col("nlt")).sum(),
        old_nlt_n=(pl.col("old") & pl.col("nlt")).sum(),
        old_nlt_nv=(pl.col("old") & pl.col("nlt") & pl.col("d").is_not_null()).sum(),
    )
    r = rows.join(agg, on=KEY, how="left").with_columns(
        pl.col("era_present", "old_any", "old_present", "old_ne", "old_prog").fill_null(False),
        pl.col("old_nlt_n", "old_nlt_nv").fill_null(0),
    )
    complete = (pl.col("old_nlt_n") > 0) & (pl.col("old_nlt_nv") == pl.col("old_nlt_n"))
    r = r.with_columns(oc=pl.when(complete).then(pl.col("old_nlt_sum"))).with_columns(
        old_nadir=pl.col("oc").cum_min().shift(1).forward_fill().over(SEG)
    )
    old_sum_pd = (
        pl.col("oc").is_not_null()
        & pl.col("old_nadir").is_not_null()
        & (pl.col("oc") - pl.col("old_nadir") >= 5)
        & (pl.when(pl.col("old_nadir") > 0).then(100 * (pl.col("oc") - pl.col("old_nadir")) / pl.col("old_nadir")).otherwise(float("inf")) >= 20)
    )
    return r.with_columns(old_pd=old_sum_pd | pl.col("old_prog")).drop("oc")


# ======================================================================================
# block rounds
# ======================================================================================

_OUT = {
    "subject_id": pl.String, "line": pl.Int32, "date": pl.Date, "cat": pl.String, "rule": pl.String,
    "block_start": pl.Date, "event": pl.Boolean, "warn": pl.String, "why": pl.String,
}  # fmt: skip


def _resolve(rows: pl.DataFrame, nl: pl.DataFrame, o: IRecistOptions) -> pl.DataFrame:
    """Labels of every follow-up row (``_OUT``), block by block (module docstring)."""
    min_days = o.confirm_min_days - o.confirm_tolerance_days
    state = rows.select(SEG).unique().with_columns(p=pl.lit(None, pl.Date), old_cut=pl.lit(None, pl.Date))
    done: list[pl.DataFrame] = []
    c = pl.col
    while state.height:
        r = _old_state(rows, nl, state).join(state.select(*SEG, "p"), on=SEG, how="inner")
        r = r.filter(c("p").is_null() | (c("date") > c("p")))
        r = r.with_columns(
            meets=c("t_pd") | c("nt_pd") | c("r47") | c("era_present") | c("old_pd"),
            cat0=_category(c("tr"), c("ntr"), c("old_any"), c("old_present"), c("old_ne")),
        )
        starts = r.filter(c("meets")).group_by(SEG).agg(s=c("date").min())
        r = r.join(starts, on=SEG, how="left")
        # rows before the block (or all rows: no block) take the RECIST-table category
        pre = r.filter(c("s").is_null() | (c("date") < c("s"))).select(
            *KEY,
            cat=c("cat0"),
            rule=pl.lit("I41"),
            block_start=pl.lit(None, pl.Date),
            event=pl.lit(False),
            warn=pl.lit(None, pl.String),
            why=pl.lit(None, pl.String),
        )
        done.append(pre)
        b = r.filter(c("s").is_not_null() & (c("date") >= c("s")))
        if b.height == 0:
            break
        # ---- block reference at its start (§4.1) ----------------------------------
        ref = b.filter(c("date") == c("s")).select(
            *SEG,
            ref_sod=c("value"),
            p_t=c("t_pd"),
            p_nt=c("nt_pd") | c("r47"),
            p_new=c("era_present") | c("old_pd"),
            era_at_s=c("era_present"),
        )
        b = b.join(ref, on=SEG, how="left")
        # block's new lesions L_b (module docstring); reset category: every new lesion old
        x = (
            nl.join(b.select(*KEY, "s", "p_new", "era_at_s"), on=KEY, how="inner")
            .join(state.select(*SEG, "old_cut"), on=SEG, how="left")
            .with_columns(old=(c("appear") <= c("old_cut")).fill_null(False))
            .with_columns(lb=c("p_new") & (c("appear") <= c("s")) & (c("old") != c("era_at_s")))
        )
        lagg = x.group_by(KEY).agg(
            lb_present=(c("lb") & c("present")).any(),
            lb_nlt=c("d").filter(c("lb") & c("nlt")).sum(),
            lb_nlt_n=(c("lb") & c("nlt")).sum(),
            lb_nlnt_inc=(c("lb") & ~c("nlt") & c("inc")).any(),
            all_any=pl.len() > 0,
            all_present=c("present").any(),
            all_ne=c("ne").any(),
        )
        b = b.join(lagg, on=KEY, how="left").with_columns(
            pl.col("lb_present", "lb_nlnt_inc", "all_any", "all_present", "all_ne").fill_null(False),
            lb_nlt=pl.when(c("lb_nlt_n").fill_null(0) > 0).then(c("lb_nlt")),
        )
        b = b.join(b.filter(c("date") == c("s")).select(*SEG, ref_nlt=c("lb_nlt")), on=SEG, how="left")
        days = (c("date") - c("s")).dt.total_days()
        comp_ne = (c("tr") == "NE") | ((c("tr") == "NA") & c("ntr").is_in(["NE", "NA"]) & ~c("all_any"))
        b = b.with_columns(
            days=days,
            early=(days < min_days) & (c("date") > c("s")),
            comp_ne=comp_ne,
        ).with_columns(
            anchor=(c("date") == c("s")) | (~c("early") & (~c("comp_ne") | c("t_pd") | c("nt_pd")))
        )
        b = b.with_columns(
            prev_date=pl.when(c("anchor")).then(c("date")).shift(1).forward_fill().over(SEG),
            prev_value=pl.when(c("anchor")).then(c("value")).shift(1).forward_fill().over(SEG),
        )
        # C5: a new lesion first seen after the previous evaluable assessment of the block
        c5 = (
            nl.join(b.select(*KEY, "prev_date"), on=KEY, how="inner")
            .filter(c("present") & (c("appear") > c("prev_date")))
            .group_by(KEY)
            .agg(c5_ids=c("lesion_id").unique().sort().str.join(", "))
        )
        b = b.join(c5, on=KEY, how="left")
        inc_t, inc_n = o.icpd_target_increase_mm, o.icpd_nlt_increase_mm
        b = b.with_columns(
            C1=c("p_t") & ((c("value") - c("ref_sod")) >= inc_t).fill_null(False),
            C2=c("p_nt") & c("nt_inc"),
            C3=c("p_new") & ((c("lb_nlt") - c("ref_nlt")) >= inc_n).fill_null(False),
            C4=c("p_new") & c("lb_nlnt_inc"),
            C5=c("c5_ids").is_not_null(),
            C6=(~c("p_t") & c("t_pd")) | (~c("p_nt") & c("nt_pd")) | ((c("era_at_s") | ~c("p_new")) & c("old_pd")),
        )
        trig = pl.concat_str(
            *[pl.when(c(k)).then(pl.lit(k)) for k in ("C1", "C2", "C3", "C4", "C5", "C6")], separator=",", ignore_nulls=True
        )
        b = b.with_columns(trig=pl.when(trig != "").then(trig))
        cat_reset = _category(c("tr"), c("ntr"), c("all_any"), c("all_present"), c("all_ne"))
        still_pd = c("t_pd") | c("nt_pd")
        not_decreased = c("value").is_null() | c("prev_value").is_null() | (c("value") >= c("prev_value"))
        early_icpd = c("early") & c("symptom") & c("C5") & pl.lit(o.allow_symptom_driven_early_icpd)
        out = (
            pl.when(c("date") == c("s")).then(pl.lit("OPEN"))
            .when(early_icpd).then(pl.lit("ICPD_EARLY"))
            .when(c("early")).then(pl.lit("EARLY"))
            .when(c("trig").is_not_null()).then(pl.lit("ICPD"))
            .when(c("comp_ne") & ~still_pd).then(pl.lit("NE"))
            .when(still_pd).then(pl.lit("STILL_PD"))
            .when(c("lb_present") & not_decreased).then(pl.lit("STILL_NL"))
            .otherwise(pl.lit("RESET"))
        )
        b = b.with_columns(outcome=out)
        ends = b.filter(c("outcome").is_in(["ICPD_EARLY", "ICPD", "RESET"])).group_by(SEG).agg(e=c("date").min())
        b = b.join(ends, on=SEG, how="left")
        cat = (
            pl.when(c("e").is_not_null() & (c("date") > c("e"))).then(pl.lit(ICPD))
            .when(c("outcome").is_in(["ICPD", "ICPD_EARLY"])).then(pl.lit(ICPD))
            .when(c("outcome") == "RESET").then(cat_reset)
            .when(c("outcome") == "NE").then(pl.lit(NE))
            .otherwise(pl.lit(IUPD))
        )
        after = c("e").is_not_null() & (c("date") > c("e"))
        rule = pl.when(after).then(pl.lit("AFTER_ICPD")).otherwise(
            pl.when(c("outcome").is_in(["ICPD", "ICPD_EARLY"])).then(pl.concat_str(pl.lit("ICPD:"), c("trig"))).otherwise(
                pl.concat_str(pl.lit("IUPD_"), c("outcome"))
            )
        )
        late = (~c("early")) & (c("date") > c("s")) & (c("days") > o.confirm_late_flag_days) & ~after
        warn = pl.concat_str(
            pl.when((c("outcome") == "EARLY") & ~after).then(pl.lit("EARLY_SCAN_DISREGARDED")),
            pl.when(late & c("outcome").is_in(["ICPD", "RESET", "STILL_PD", "STILL_NL"])).then(pl.lit("LATE_CONFIRMATION")),
            separator=";",
            ignore_nulls=True,
        )
        cats = ("P=" + pl.concat_str(
            pl.when(c("p_t")).then(pl.lit("T")), pl.when(c("p_nt")).then(pl.lit("NT")), pl.when(c("p_new")).then(pl.lit("NEW")),
            separator=",", ignore_nulls=True,
        ))  # fmt: skip
        why = _why(cats, o)
        blk = b.filter(c("e").is_null() | (c("date") <= c("e")) | b_after_icpd(b))
        done.append(
            blk.select(
                *KEY,
                cat=cat,
                rule=rule,
                block_start=pl.when((c("outcome") == "RESET") & ~after).then(None).otherwise(c("s")),
                event=c("outcome").is_in(["ICPD", "ICPD_EARLY"]) & ~after,
                warn=pl.when(warn != "").then(warn),
                why=why,
            )
        )
        # next round: segments whose block was reset
        resets = b.filter((c("date") == c("e")) & (c("outcome") == "RESET")).select(*SEG, p=c("date"), old_cut=c("date"))
        state = resets
    res = pl.concat(done, how="vertical_relaxed").cast(_OUT)
    return _mark_unconfirmed(res)


def b_after_icpd(b: pl.DataFrame) -> pl.Expr:
    """Rows after the deciding row are kept only when that row was an iCPD."""
    return pl.col("e").is_not_null() & (pl.col("date") > pl.col("e")) & (
        pl.col("outcome").filter(pl.col("date") == pl.col("e")).first().over(SEG).is_in(["ICPD", "ICPD_EARLY"])
    )


def _why(cats: pl.Expr, o: IRecistOptions) -> pl.Expr:
    """The iRECIST reason of a block row (numbers as in the spec's worked examples)."""
    c = pl.col
    s = c("s").cast(pl.String)
    trig_txt = pl.concat_str(
        pl.when(c("C1")).then(pl.format("C1 target sum {} mm is {} mm vs {} mm at iUPD on {} (>= {} mm)",
                                        num(c("value")), signed(c("value") - c("ref_sod")), num(c("ref_sod")), s, pl.lit(o.icpd_target_increase_mm))),
        pl.when(c("C2")).then(pl.lit("C2 further increase of non-target disease")),
        pl.when(c("C3")).then(pl.format("C3 new-lesion target sum {} mm is {} mm vs {} mm at iUPD (>= {} mm)",
                                        num(c("lb_nlt")), signed(c("lb_nlt") - c("ref_nlt")), num(c("ref_nlt")), pl.lit(o.icpd_nlt_increase_mm))),
        pl.when(c("C4")).then(pl.lit("C4 a new non-target lesion increased")),
        pl.when(c("C5")).then(pl.format("C5 additional new lesion {}", c("c5_ids"))),
        pl.when(c("C6")).then(pl.lit("C6 another category now meets RECIST 1.1 PD")),
        separator="; ",
        ignore_nulls=True,
    )  # fmt: skip
    after = c("e").is_not_null() & (c("date") > c("e"))
    return (
        pl.when(after).then(pl.format("iCPD: progression confirmed on {} (dated {}); no further iRECIST responses", c("e").cast(pl.String), s))
        .when(c("outcome") == "OPEN").then(pl.format("iUPD: RECIST 1.1 PD opens an iUPD block ({}); confirmation at an assessment >= {} days later", cats, pl.lit(o.confirm_min_days - o.confirm_tolerance_days)))
        .when(c("outcome") == "ICPD").then(pl.format("iCPD: {} ({} days after iUPD); progression dated {}", trig_txt, c("days"), s))
        .when(c("outcome") == "ICPD_EARLY").then(pl.format("iCPD: symptom-driven scan {} days after iUPD with {}; progression dated {}", c("days"), trig_txt, s))
        .when(c("outcome") == "EARLY").then(pl.format("iUPD: scan {} days after iUPD on {} (< {}) is disregarded", c("days"), s, pl.lit(o.confirm_min_days - o.confirm_tolerance_days)))
        .when(c("outcome") == "NE").then(pl.format("NE: not evaluable; iUPD block of {} stays open", s))
        .when(c("outcome") == "STILL_PD").then(pl.format("iUPD: no confirming change ({}); still meets RECIST 1.1 PD", cats))
        .when(c("outcome") == "STILL_NL").then(pl.format("iUPD: new lesions persist and the target sum did not decrease; block of {} stays open", s))
        .otherwise(pl.format("reset: iUPD of {} not confirmed, no longer meets PD (the bar is reset)", s))
    )  # fmt: skip


def _mark_unconfirmed(res: pl.DataFrame) -> pl.DataFrame:
    """Warning IUPD_NOT_CONFIRMED on the last row of a line that ends inside a block."""
    c = pl.col
    last = c("date") == c("date").max().over(SEG)
    open_end = last & c("cat").is_in([IUPD, NE]) & c("block_start").is_not_null()
    warn = pl.when(open_end).then(
        pl.when(c("warn").is_null()).then(pl.lit("IUPD_NOT_CONFIRMED")).otherwise(c("warn") + ";IUPD_NOT_CONFIRMED")
    ).otherwise(c("warn"))
    why = pl.when(open_end).then(
        c("why") + pl.lit("; iUPD not confirmed: no later evaluable assessment in the data")
    ).otherwise(c("why"))
    return res.sort(KEY).with_columns(warn=warn, why=why)


# ======================================================================================
# public
# ======================================================================================


def evaluate(
    lesions: pl.DataFrame,
    segments: pl.DataFrame,
    options: IRecistOptions = IRecistOptions(),
    labs: pl.DataFrame | None = None,
    findings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """iRECIST time points (schema.TIMEPOINTS) for every subject of ``segments``.

    ``overall_response`` is the iRECIST category of the row as it stood on that date
    (irecist.md §3: iCR, iPR, iSD, NON-iCR/NON-iUPD, iUPD, iCPD, NE).  iUPD rows have
    ``canonical_level = PROGRESSION_PENDING`` and ``pending_progression = true``; the
    confirming iCPD row has ``is_progression_event = true`` and ``progression_event_date`` =
    the first iUPD of the block (§4.2 Step C); an iUPD row stays iUPD (spec/tables.md).
    """
    tp = recist11.evaluate(lesions, segments, options.recist, labs=labs)
    prep = prepare(lesions, segments)
    rows = _rows(tp, prep, findings)
    if rows.height == 0:
        return tp.with_columns(criteria=pl.lit(CODE))
    nl = _new_lesions(prep, rows)
    lab = _resolve(rows, nl, options)
    c = pl.col
    m = tp.join(lab, on=["subject_id", "line", "date"], how="left").join(
        rows.select(*KEY, "tr", "ntr"), on=KEY, how="left"
    )
    has = c("cat").is_not_null()
    expl = pl.when(c("why").is_not_null()).then(pl.format("{}; RECIST 1.1 {}", c("why"), c("explanation"))).otherwise(
        pl.format("{}: RECIST 1.1 {}", c("cat"), c("explanation"))
    )
    out = m.with_columns(
        criteria=pl.lit(CODE),
        overall_response=pl.when(has).then(c("cat")).otherwise(c("overall_response")),
        target_response=pl.when(has).then(c("tr").replace_strict(_MAP, default=None)).otherwise(c("target_response")),
        non_target_response=pl.when(has).then(c("ntr").replace_strict(_MAP, default=None)).otherwise(c("non_target_response")),
        canonical_level=pl.when(has).then(c("cat").replace_strict(CANONICAL, default=None)).otherwise(c("canonical_level")),
        is_progression_event=pl.when(has).then(c("event")).otherwise(c("is_progression_event")),
        progression_event_date=pl.when(has & (c("cat") == ICPD)).then(c("block_start")).when(has).then(None).otherwise(
            c("progression_event_date")
        ),
        pending_progression=pl.when(has).then(c("cat") == IUPD).otherwise(c("pending_progression")),
        recurrence_sites=pl.when(has & (c("cat") == ICPD) & c("event")).then(c("recurrence_sites")).when(has).then(None).otherwise(
            c("recurrence_sites")
        ),
        rule_ids=pl.when(has).then(pl.concat_str(c("rule_ids"), c("rule"), separator=",", ignore_nulls=True)).otherwise(c("rule_ids")),
        warnings=pl.when(has).then(
            pl.concat_str(c("warnings"), c("warn"), separator=";", ignore_nulls=True)
        ).otherwise(c("warnings")),
        explanation=pl.when(has).then(expl).otherwise(c("explanation")),
    )
    out = out.with_columns(warnings=pl.when(c("warnings") == "").then(None).otherwise(c("warnings")))
    return out.select([c(k).cast(t) for k, t in TIMEPOINTS.items()]).sort("subject_id", "date")


def run(tables, segments: pl.DataFrame, options: IRecistOptions | None) -> pl.DataFrame:
    """Criterion protocol (registry.py): lesions, labs (markers) and findings."""
    return evaluate(
        tables["lesions"], segments, options or IRecistOptions(), labs=tables.get("labs"), findings=tables.get("findings")
    )


# ======================================================================================
# iBOR (irecist.md §5)
# ======================================================================================

#: same-date duplicates: worst evaluable first, NE only when alone (admiralonco iRECIST
#: vignette ANL01FL: lowest AVAL of iCPD 1, iUPD 2, NON-iCR/NON-iUPD 3, iSD 4, iPR 5, iCR 6, NE 8)
_SEV = {ICPD: 0, IUPD: 1, INON: 2, ISD: 3, IPR: 4, ICR: 5, NE: 6}
_RANK = {c: i for i, c in enumerate(ORDER)}
_CANON_CODE = {k.upper(): k for k in _SEV}
_NOT_ASSESSED = frozenset({"ND", "MISSING"})
BOR_SCHEMA = {"subject_id": pl.String, "bor": pl.String, "bor_date": pl.Date, "bor_rule": pl.String}


def _confirmed(tp: pl.DataFrame, confirm_days: int, max_ne: int, accept_sd: bool) -> pl.DataFrame:
    """``subject_id, date, cr_ok, pr_ok`` of the iCR/iPR rows (recist11.md §5.4 as above)."""
    c = pl.col
    o = tp.select("subject_id", "date", "cat", "idx")
    starts = o.filter(c("cat").is_in([ICR, IPR]))
    pairs = starts.join(o, on="subject_id", suffix="_j").filter(c("idx_j") > c("idx"))
    due = (c("date_j") - c("date")).dt.total_days() >= confirm_days
    allowed_pr = [ICR, IPR, NE] + ([ISD] if accept_sd else [])
    out = []
    for kind, targets, allowed in (("cr_ok", [ICR], [ICR, NE]), ("pr_ok", [ICR, IPR], allowed_pr)):
        p = pairs.with_columns(
            end=pl.when(c("cat_j").is_in(targets) & due).then(c("idx_j")).min().over("subject_id", "idx")
        ).filter(c("end").is_not_null() & (c("idx_j") <= c("end")))
        strictly = c("idx_j") < c("end")
        j = c("cat_j")
        agg = p.group_by("subject_id", "date", "idx").agg(
            ok_codes=j.filter(strictly).is_in(allowed).all(),
            ok_ne=(j.filter(strictly) == NE).sum() <= max_ne,
            ok_sd=(j.filter(strictly) == ISD).sum() <= 1,
            ok_order=(c("idx_j").filter(j == ICR).min() > c("idx_j").filter(j == IPR).max()).fill_null(True),
        )
        ok = c("ok_codes") & c("ok_ne") & c("ok_sd") & (pl.lit(kind == "cr_ok") | c("ok_order"))
        out.append(agg.filter(ok).select("subject_id", "date", pl.lit(True).alias(kind)))
    return (
        starts.select("subject_id", "date")
        .join(out[0], on=["subject_id", "date"], how="left")
        .join(out[1], on=["subject_id", "date"], how="left")
        .with_columns(pl.col("cr_ok", "pr_ok").fill_null(False))
    )


def best_overall_response(
    timepoints: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    confirm: bool,
    confirm_days: int = 28,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    sd_min_days: int = 42,
    cutoff: pl.DataFrame | None = None,
    failed_cr_as_pr: bool = True,
    missing_as_ne: bool = False,
) -> pl.DataFrame:
    """iBOR of every subject (irecist.md §5), vectorised; equal to tests/reference/irecist.py.

    ``timepoints``: ``subject_id, date, response`` (iRECIST codes, any case; ``ND``/
    ``MISSING``/null ignored; unknown codes raise ``ValueError``).  ``reference``:
    ``subject_id, reference_start``.  ``cutoff``: ``subject_id, cutoff_date`` (new
    anticancer therapy, excluded from that date).  Returns ``subject_id, bor, bor_date,
    bor_rule`` for every subject of ``reference`` or ``timepoints``.
    """
    c = pl.col
    tp = timepoints.select(pl.col("subject_id").cast(pl.String), pl.col("date").cast(pl.Date), pl.col("response").cast(pl.String))
    key = c("response").str.strip_chars().str.to_uppercase().str.replace_all(r"\s+", " ")
    tp = tp.with_columns(_k=key).filter(c("_k").is_not_null() & ~c("_k").is_in([*_NOT_ASSESSED, ""]))
    unknown = tp.filter(~c("_k").is_in(list(_CANON_CODE)))["response"].unique().sort().to_list()
    if unknown:
        raise ValueError(f"unknown iRECIST response code(s) {unknown}; expected one of {sorted(_SEV)}")
    ref = reference.select(c("subject_id").cast(pl.String), c("reference_start").cast(pl.Date))
    cut = (
        cutoff.select(c("subject_id").cast(pl.String), c("cutoff_date").cast(pl.Date))
        if cutoff is not None
        else pl.DataFrame(schema={"subject_id": pl.String, "cutoff_date": pl.Date})
    )
    tp = (
        tp.with_columns(cat=c("_k").replace_strict(_CANON_CODE, return_dtype=pl.String))
        .join(ref, on="subject_id", how="inner")
        .join(cut, on="subject_id", how="left")
        .filter((c("date") >= c("reference_start")) & (c("cutoff_date").is_null() | (c("date") < c("cutoff_date"))))
        .with_columns(_sev=c("cat").replace_strict(_SEV, return_dtype=pl.Int8))
        .sort("subject_id", "date", "_sev")
        .unique(["subject_id", "date"], keep="first", maintain_order=True)
        .with_columns(_n=(c("cat") == ICPD).cast(pl.Int32).cum_sum().over("subject_id"))
        .filter((c("_n") == 0) | ((c("_n") == 1) & (c("cat") == ICPD)))
        .with_columns(
            idx=pl.int_range(pl.len()).over("subject_id"),
            days=(c("date") - c("reference_start")).dt.total_days(),
        )
        .with_columns(
            next_other=pl.when(~c("cat").is_in([IUPD, NE])).then(c("cat")).shift(-1).backward_fill().over("subject_id"),
            prev_nonne=pl.when(c("cat") != NE).then(c("cat")).shift(1).forward_fill().over("subject_id"),
        )
    )
    if confirm:
        tp = tp.join(_confirmed(tp, confirm_days, max_ne_between, accept_sd_between), on=["subject_id", "date"], how="left")
        cr_ok, pr_ok = c("cr_ok").fill_null(False), c("pr_ok").fill_null(False)
        is_cr = (c("cat") == ICR) & cr_ok
        is_pr = ((c("cat") == IPR) & pr_ok) | ((c("cat") == ICR) & ~cr_ok & pr_ok & pl.lit(failed_cr_as_pr))
    else:
        is_cr, is_pr = c("cat") == ICR, c("cat") == IPR
    sd_ok = c("days") >= sd_min_days
    best = (
        pl.when(is_cr).then(pl.lit(ICR))
        .when(is_pr).then(pl.lit(IPR))
        .when((c("cat") == IUPD) & (c("next_other") == ICPD).fill_null(False)).then(pl.lit(ICPD))
        .when(c("cat") == IUPD).then(pl.lit(IUPD))
        .when((c("cat") == ICPD) & (c("prev_nonne") != IUPD).fill_null(True)).then(pl.lit(ICPD))
        .when(c("cat") == ICPD).then(pl.lit(None, pl.String))
        .when(c("cat").is_in([ICR, IPR, ISD]) & sd_ok).then(pl.lit(ISD))
        .when((c("cat") == INON) & sd_ok).then(pl.lit(INON))
        .otherwise(pl.lit(NE))
    )  # fmt: skip
    d = c("date").cast(pl.String)
    rule = (
        pl.when(c("best").is_in([ICR, IPR]) & (c("cat") == c("best"))).then(
            pl.format("{} on {}{}", c("cat"), d, pl.lit(" (confirmed)" if confirm else ""))
        )
        .when(c("best") == IPR).then(pl.format("iCR on {} confirmed as iPR", d))
        .when((c("best") == ICPD) & (c("cat") == IUPD)).then(pl.format("iUPD on {} confirmed as iCPD (progression dated {})", d, d))
        .when(c("best") == ICPD).then(pl.format("iCPD on {} without a preceding iUPD", d))
        .when(c("best") == IUPD).then(pl.format("iUPD on {} never confirmed", d))
        .when(c("best").is_in([ISD, INON])).then(
            pl.format("{} on {} counts as {}: {} days after reference start (>= {})", c("cat"), d, c("best"), c("days"), pl.lit(sd_min_days))
        )
        .when(c("cat") == NE).then(pl.format("NE on {}", d))
        .otherwise(pl.format("{} on {} counts as NE: {} days after reference start (< {})", c("cat"), d, c("days"), pl.lit(sd_min_days)))
    )  # fmt: skip
    winners = (
        tp.with_columns(best=best)
        .filter(c("best").is_not_null())
        .with_columns(_r=c("best").replace_strict(_RANK, return_dtype=pl.Int8), bor_rule=rule)
        .sort("subject_id", "_r", "date")
        .unique("subject_id", keep="first", maintain_order=True)
        .select("subject_id", bor=c("best"), bor_date=c("date"), bor_rule="bor_rule")
    )
    subjects = pl.concat([ref.select("subject_id"), timepoints.select(c("subject_id").cast(pl.String))]).unique()
    miss = (
        subjects.join(winners.select("subject_id"), on="subject_id", how="anti")
        .join(ref, on="subject_id", how="left")
        .select(
            "subject_id",
            bor=pl.lit(NE if missing_as_ne else MISSING),
            bor_date=pl.lit(None, pl.Date),
            bor_rule=pl.when(c("reference_start").is_null()).then(pl.lit("MISSING: no reference start date")).otherwise(
                pl.format("MISSING: no assessed time point on or after reference start {}", c("reference_start").cast(pl.String))
            ),
        )
    )
    return pl.concat([winners, miss]).cast(BOR_SCHEMA).sort("subject_id")




def best_response_rule(o: IRecistOptions) -> BestResponseRule:
    """irecist.md §5: iBOR by its own derivation (:func:`best_overall_response`: iUPD becomes
    iCPD when confirmed, dated at the iUPD), with the RECIST 1.1 confirmation parameters."""
    r = o.recist
    kw = dict(
        confirm_days=r.confirm_days, max_ne_between=r.max_ne_between, accept_sd_between=r.accept_sd_between,
        sd_min_days=r.sd_min_days, failed_cr_as_pr=o.failed_cr_as_pr, missing_as_ne=r.missing_as_ne,
    )  # fmt: skip

    def derive(tp: pl.DataFrame, reference: pl.DataFrame, cutoff: pl.DataFrame | None):
        return (
            best_overall_response(tp, reference, confirm=False, cutoff=cutoff, **kw),
            best_overall_response(tp, reference, confirm=True, cutoff=cutoff, **kw),
        )

    return BestResponseRule(
        order=ORDER, progression=(ICPD,), confirmation="recist", confirm_days=r.confirm_days,
        max_ne_between=r.max_ne_between, accept_sd_between=r.accept_sd_between, sd_min_days=r.sd_min_days,
        failed_cr_as_pr=o.failed_cr_as_pr, missing_as_ne=r.missing_as_ne, derive=derive,
    )  # fmt: skip


CRITERION = Criterion(
    code=CODE,
    order=ORDER,
    canonical=dict(CANONICAL),
    options_model=IRecistOptions,
    run=run,
    dates=lesion_dates,
    best_response=best_response_rule,
    measurement="diameters",
    checks=recist11.target_selection_checks,  # targets are selected as RECIST 1.1's (§3.2)
    check_errors=recist11.TARGET_CHECK_ERRORS,
    vocabulary=Vocabulary(response_codes=("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE")),
    presentation=Presentation(
        label="iRECIST",
        plain_name="iRECIST",
        introduction="iRECIST is the version of the scan rules used with immunotherapy.",
        quantity_words="tumours",
        value_label="Sum of target diameters (mm)",
        pd_threshold_pct=20.0,
        response_threshold_pct=-30.0,
        change_caption="Sum of target lesion diameters",
        pd_threshold_words="unconfirmed progression: +20% (and 5 mm) from the smallest sum",
        response_threshold_words="partial response: -30% from baseline",
        normal_nodes_in_complete=True,
        evidence=("imaging",),
    ),
)

