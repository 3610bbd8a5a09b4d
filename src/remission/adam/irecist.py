"""ADaM ADRS with iRECIST parameters from SDTM RS (admiralonco's iRECIST vignette).

The vignette (``vignettes/irecist.Rmd`` of admiralonco; rendered tables in
``tests/data/oracle/pharmaverse/admiralonco_vignette_tables/irecist``) derives, from the
investigator's ``OVRLRESP`` records with iRECIST codes, the parameters below.  The RECIST
ADRS of :mod:`remission.adam.adrs` is not changed; this module reuses its SDTM/ADSL
helpers and the iBOR of :mod:`remission.criteria.irecist` (irecist.md §5).

* ``OVR``: ``AVALC = RSSTRESC``; ``AVAL`` from the vignette's ``aval_resp_new`` (iCPD 1,
  iUPD 2, NON-iCR/NON-iUPD 3, iSD 4, iPR 5, iCR 6, MISSING 7, NE 8); ``ADT`` from ``RSDTC``
  with a missing day imputed to the last day of the month; ``ANL01FL``: records with an
  ``AVAL``, not ``MISSING``, ``ADT >= RANDDT``, per date the lowest ``AVAL`` (the worst),
  ties by the lowest ``RSSEQ``; ``ANL02FL``: records (ordered by ``ADT``, ``RSSEQ``) up to
  and including the first iCPD.  Source of every parameter: ``ANL01FL = ANL02FL = "Y"``.
* ``ICPD``: ``Y`` at the first iUPD of a block confirmed by iCPD with only iUPD/NE between
  (irecist.md §4.2 Step C: progression dated to the first iUPD of the block), else ``N``.
* ``IUPD``: ``Y`` at the last iUPD when only NE follow it (an iUPD never confirmed and not
  followed by a response), else ``N``.
* ``IRSP``: first iCR/iPR.  ``ICB``: earliest iCR/iPR, or iCR/iPR/iSD/NON-iCR/NON-iUPD at
  least ``sd_min_days`` after ``RANDDT``.
* ``IBOR`` / ``ICBOR``: iRECIST's best-response rule run by the one engine
  (:mod:`remission.timeline.best_response`), without / with confirmation.
  ``failed_cr_as_pr`` defaults to True, the spec's reading (recist11.md §5.4 step 2, as
  ``remission assess`` and ``remission adam``).  ``failed_cr_as_pr=False`` is the
  vignette's events (``cbor_pr`` accepts only iPR confirmed by iPR/iCR): pass it for
  admiralonco parity.  On the pharmaverse data the two differ for one subject:
  01-701-1239 (an unconfirmed iCR whose confirmation is a PR-level result) has
  ICBOR iPR with True and iSD with False.
* ``ICRSP``: earliest confirmed iCR/iPR.  ``ICCB``: earliest confirmed response or ``ICB``
  stable-disease record.

Deliberate difference: ``ICBOR``'s ``AVAL`` uses the same ``aval_resp_new`` as ``IBOR``.  The
vignette computes it with RECIST's ``aval_resp()``, which knows only ``NE`` (6) and
``MISSING`` (7), so every iRECIST code gets a missing ``AVAL`` there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import polars as pl

from remission.criteria import irecist as I
from remission.criteria.recist11 import RecistOptions
from remission.errors import InputError, InputErrors
from remission.io.adam_write import write_adam
from remission.io.sdtm import REQUIRED, ROW, SdtmData, as_sdtm, dtc_errors, impute_dtc, read_sdtm, require_columns
from remission.timeline.best_response import best_responses

from .adrs import _resolve_adsl, _select_evaluator

__all__ = ["AVAL_RESP_IRECIST", "derive_adrs_irecist", "adam_irecist", "IrecistAdamResult"]

#: the vignette's ``aval_resp_new``
AVAL_RESP_IRECIST = {"iCPD": 1.0, "iUPD": 2.0, "NON-iCR/NON-iUPD": 3.0, "iSD": 4.0, "iPR": 5.0, "iCR": 6.0, "MISSING": 7.0, "NE": 8.0}

_PARAMS = [
    ("ICPD", "iRECIST Confirmation of Disease Progression by {e}"),
    ("IUPD", "iRECIST Unconfirmed Disease Progression by {e}"),
    ("IRSP", "iRECIST Response by {e} (confirmation not required)"),
    ("ICB", "iRECIST Clinical Benefit by {e} (confirmation for response not required)"),
    ("IBOR", "iRECIST Best Overall Response by {e} (confirmation not required)"),
    ("ICRSP", "iRECIST Confirmed Response by {e}"),
    ("ICCB", "iRECIST Confirmed Clinical Benefit by {e}"),
    ("ICBOR", "iRECIST Best Confirmed Overall Response by {e}"),
]


def _ovr(rs: pl.DataFrame, adsl: pl.DataFrame, reference: str, label: str) -> pl.DataFrame:
    """OVR records with ADT, AVALC/AVAL, ANL01FL, ANL02FL (module docstring)."""
    c = pl.col
    adt, adtf = impute_dtc(c("RSDTC"), date_imputation="last", highest_imputation="D")
    if "RSSEQ" not in rs.columns:
        rs = rs.with_columns(c(ROW).cast(pl.String).alias("RSSEQ"))
    o = (
        rs.join(adsl.select("USUBJID", reference), on="USUBJID", how="left")
        .with_columns(
            PARAMCD=pl.lit("OVR"),
            PARAM=pl.lit(f"Overall Response by {label}"),
            PARCAT1=pl.lit("Tumor Response"),
            PARCAT2=pl.lit(label),
            PARCAT3=pl.lit("iRECIST"),
            ADT=adt,
            ADTF=adtf,
            AVISIT=c("VISIT") if "VISIT" in rs.columns else pl.lit(None, pl.String),
            AVALC=c("RSSTRESC"),
            AVAL=c("RSSTRESC").replace_strict(AVAL_RESP_IRECIST, default=None, return_dtype=pl.Float64),
            __seq__=c("RSSEQ").cast(pl.Float64, strict=False),
        )
    )
    ok = c("AVAL").is_not_null() & (c("AVALC") != "MISSING") & (c("ADT") >= c(reference)).fill_null(False)
    chosen = (
        o.filter(ok)
        .sort("USUBJID", "ADT", "AVAL", "__seq__", ROW)
        .group_by("USUBJID", "ADT", maintain_order=True)
        .agg(c(ROW).first())
        .with_columns(ANL01FL=pl.lit("Y"))
    )
    o = o.join(chosen.select(ROW, "ANL01FL"), on=ROW, how="left")
    o = o.sort("USUBJID", "ADT", "__seq__", ROW, nulls_last=True).with_columns(__pos__=pl.int_range(pl.len()).over("USUBJID"))
    first = pl.when(c("AVALC") == I.ICPD).then(c("__pos__")).min().over("USUBJID")
    return o.with_columns(ANL02FL=pl.when(first.is_null() | (c("__pos__") <= first)).then(pl.lit("Y"))).drop("__pos__")


def _yn(subjects: pl.DataFrame, hits: pl.DataFrame, paramcd: str) -> pl.DataFrame:
    first = hits.group_by("USUBJID").agg(pl.col("ADT").min())
    return subjects.join(first, on="USUBJID", how="left").with_columns(
        PARAMCD=pl.lit(paramcd),
        AVALC=pl.when(pl.col("ADT").is_not_null()).then(pl.lit("Y")).otherwise(pl.lit("N")),
    )


def _params(subjects, adsl, ovr, reference, confirm_days, sd_min_days, max_ne_between, accept_sd_between,
            failed_cr_as_pr=True) -> pl.DataFrame:
    c = pl.col
    o = ovr.select("USUBJID", "ADT", "AVALC", reference).sort("USUBJID", "ADT")
    tp = o.select(subject_id="USUBJID", date="ADT", response="AVALC")
    ref = adsl.select(subject_id="USUBJID", reference_start=c(reference))
    # iRECIST's declared rule (irecist.md §5), run by the one engine (timeline.best_response)
    recist = RecistOptions(confirm_days=confirm_days, max_ne_between=max_ne_between,
                           accept_sd_between=accept_sd_between, sd_min_days=sd_min_days)  # fmt: skip
    rule = I.CRITERION.best_response(I.IRecistOptions(recist=recist, failed_cr_as_pr=failed_cr_as_pr))
    both = best_responses(tp, ref, rule)
    ibor = both.select("subject_id", bor="best_response", bor_date="best_response_date", bor_rule="best_response_rule")
    icbor = both.select(
        "subject_id", bor="confirmed_best_response", bor_date="confirmed_best_response_date",
        bor_rule="confirmed_best_response_rule",
    )  # fmt: skip
    # ICPD: first iUPD of the block confirmed by iCPD (only iUPD/NE between)
    nxt = pl.when(~c("AVALC").is_in([I.IUPD, I.NE])).then(c("AVALC")).shift(-1).backward_fill().over("USUBJID")
    icpd = o.with_columns(_n=nxt).filter((c("AVALC") == I.IUPD) & (c("_n") == I.ICPD))
    # IUPD: the last iUPD followed only by NE
    last_iupd = c("ADT").filter(c("AVALC") == I.IUPD).max().over("USUBJID")
    after = o.with_columns(_l=last_iupd).filter(c("_l").is_not_null() & (c("ADT") >= c("_l")))
    iupd = after.group_by("USUBJID").agg(ADT=c("_l").first(), ok=c("AVALC").is_in([I.IUPD, I.NE]).all()).filter(c("ok"))
    resp = o.filter(c("AVALC").is_in([I.ICR, I.IPR]))
    late = c("ADT") >= c(reference) + pl.duration(days=sd_min_days)
    cb = o.filter(c("AVALC").is_in([I.ICR, I.IPR, I.ISD, I.INON]) & late)
    seq = (
        tp.join(ref, on="subject_id")
        .sort("subject_id", "date")
        .with_columns(idx=pl.int_range(pl.len()).over("subject_id"), cat=c("response"))
    )
    conf = I._confirmed(seq, confirm_days, max_ne_between, accept_sd_between).join(
        seq.select("subject_id", "date", "cat"), on=["subject_id", "date"]
    )
    # vignette icrsp_y_icr / icrsp_y_ipr: an iCR confirmed by iCR, or an iPR by iCR/iPR
    conf = conf.filter(((c("cat") == I.ICR) & c("cr_ok")) | ((c("cat") == I.IPR) & c("pr_ok"))).select(
        USUBJID="subject_id", ADT="date"
    )
    out = [
        _yn(subjects, icpd.select("USUBJID", "ADT"), "ICPD"),
        _yn(subjects, iupd.select("USUBJID", "ADT"), "IUPD"),
        _yn(subjects, resp.select("USUBJID", "ADT"), "IRSP"),
        _yn(subjects, pl.concat([resp.select("USUBJID", "ADT"), cb.select("USUBJID", "ADT")]), "ICB"),
        _yn(subjects, conf, "ICRSP"),
        _yn(subjects, pl.concat([conf, cb.select("USUBJID", "ADT")]), "ICCB"),
    ]
    for paramcd, bor in (("IBOR", ibor), ("ICBOR", icbor)):
        b = bor.select(USUBJID="subject_id", AVALC="bor", ADT="bor_date")
        out.append(subjects.join(b, on="USUBJID", how="left").with_columns(c("AVALC").fill_null("MISSING"), PARAMCD=pl.lit(paramcd)))
    return pl.concat([f.select("USUBJID", "PARAMCD", "AVALC", "ADT") for f in out])


def derive_adrs_irecist(
    sdtm,
    adsl=None,
    *,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    failed_cr_as_pr: bool = True,
    evaluator: str = "INVESTIGATOR",
) -> pl.DataFrame:
    """ADRS with ``OVR`` and the iRECIST parameters of the admiralonco vignette (module
    docstring) for every ADSL subject.  ``sdtm``: folder, :class:`SdtmData` or dict of
    domain -> frame/file (``{"rs": "rs_onco_irecist.csv"}``).  Raises
    :class:`~remission.errors.InputErrors` listing every input problem (missing columns,
    bad dates, subjects absent from ADSL, response codes that are not iRECIST codes)."""
    data = as_sdtm(sdtm)
    adsl_t = _resolve_adsl(data, adsl, reference)
    rs = data.get("rs")
    if rs is None:
        raise InputErrors([InputError("rs", None, None, None, None, "an RS domain file", "missing")])
    file = data.file("rs")
    errors = require_columns(rs, REQUIRED["rs"], file)
    if errors:
        raise InputErrors(errors)
    rs = _select_evaluator(rs.filter(pl.col("RSTESTCD") == "OVRLRESP"), "RS", evaluator)
    errors = dtc_errors(rs, "RSDTC", file)
    bad = rs.filter(pl.col("RSSTRESC").is_not_null() & ~pl.col("RSSTRESC").is_in([*AVAL_RESP_IRECIST, "ND"]))
    errors += [
        InputError(file, r[ROW], r["USUBJID"], "RSSTRESC", r["RSSTRESC"], "an iRECIST response: " + ", ".join(AVAL_RESP_IRECIST), "unknown_code")
        for r in bad.select(ROW, "USUBJID", "RSSTRESC").iter_rows(named=True)
    ]
    unknown = rs.join(adsl_t.select("USUBJID"), on="USUBJID", how="anti")
    errors += [
        InputError(file, r[ROW], r["USUBJID"], "USUBJID", r["USUBJID"], "a subject present in ADSL", "unknown_subject")
        for r in unknown.select(ROW, "USUBJID").iter_rows(named=True)
    ]
    if errors:
        raise InputErrors(errors)
    label = evaluator.strip().title()
    ovr = _ovr(rs, adsl_t, reference, label)
    src = ovr.filter((pl.col("ANL01FL") == "Y") & (pl.col("ANL02FL") == "Y"))
    subjects = adsl_t.select("USUBJID")
    params = _params(subjects, adsl_t, src, reference, confirm_days, sd_min_days, max_ne_between, accept_sd_between,
                     failed_cr_as_pr)
    meta = pl.DataFrame(
        [(p, t.format(e=label)) for p, t in _PARAMS], schema={"PARAMCD": pl.String, "PARAM": pl.String}, orient="row"
    ).with_columns(PARCAT1=pl.lit("Tumor Response"), PARCAT2=pl.lit(label), PARCAT3=pl.lit("iRECIST"))
    keep = [c for c in src.columns if c not in ("PARAMCD", "PARAM", "PARCAT1", "PARCAT2", "PARCAT3", "AVALC", "AVAL", "ANL01FL", reference, ROW)]
    yn = pl.col("PARAMCD").is_in(["IBOR", "ICBOR"])
    derived = (
        params.join(src.select(keep), on=["USUBJID", "ADT"], how="left")
        .join(meta, on="PARAMCD", how="left")
        .with_columns(
            AVAL=pl.when(yn)
            .then(pl.col("AVALC").replace_strict(AVAL_RESP_IRECIST, default=None, return_dtype=pl.Float64))
            .otherwise(pl.col("AVALC").replace_strict({"Y": 1.0, "N": 0.0}, default=None, return_dtype=pl.Float64)),
            ANL01FL=pl.lit("Y"),
        )
        .join(adsl_t.select("USUBJID", reference), on="USUBJID", how="left")
    )
    out = pl.concat([ovr.drop(ROW), derived], how="diagonal_relaxed")
    order = {p: i for i, p in enumerate(["OVR"] + [p for p, _ in _PARAMS])}
    first = ["STUDYID", "USUBJID", "PARAMCD", "PARAM", "PARCAT1", "PARCAT2", "PARCAT3", "ADT", "ADTF", "AVISIT",
             "AVALC", "AVAL", "ANL01FL", "ANL02FL", reference]  # fmt: skip
    if "STUDYID" not in out.columns:
        out = out.with_columns(STUDYID=pl.lit(None, pl.String))
    out = out.join(adsl_t.select("USUBJID", __st__=pl.col("STUDYID")), on="USUBJID", how="left").with_columns(
        STUDYID=pl.coalesce("STUDYID", "__st__")
    )
    out = (
        out.with_columns(__p__=pl.col("PARAMCD").replace_strict(order, return_dtype=pl.Int32))
        .sort("USUBJID", "__p__", "ADT", "__seq__", nulls_last=True)
    )
    return out.select(*first, *[c for c in out.columns if c not in first and not c.startswith("__")])


@dataclass
class IrecistAdamResult:
    adrs: pl.DataFrame
    files: list[Path] = field(default_factory=list)


def adam_irecist(
    sdtm_dir: str | Path | SdtmData | Mapping[str, object],
    out_dir: str | Path | None,
    *,
    adsl: str | Path | pl.DataFrame | None = None,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    failed_cr_as_pr: bool = True,
    evaluator: str = "INVESTIGATOR",
    fmt: str = "csv",
    files: Mapping[str, str | Path] | None = None,
) -> IrecistAdamResult:
    """``remission adam-irecist``: derive the iRECIST ADRS and write ``adrs.<fmt>``."""
    data = read_sdtm(sdtm_dir, files=files) if isinstance(sdtm_dir, (str, Path)) else as_sdtm(sdtm_dir)
    adrs = derive_adrs_irecist(
        data, adsl, reference=reference, confirm_days=confirm_days, sd_min_days=sd_min_days,
        max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, evaluator=evaluator,
        failed_cr_as_pr=failed_cr_as_pr,
    )  # fmt: skip
    written = []
    if out_dir is not None:
        from remission.adam.metadata import KEY_VARIABLES, output_labels

        written.append(write_adam(adrs, Path(out_dir) / "adrs", fmt=fmt, name="ADRS", label="Response Analysis Dataset (iRECIST)",
                                  labels=output_labels("ADRS"), keys=KEY_VARIABLES))
    return IrecistAdamResult(adrs, written)
