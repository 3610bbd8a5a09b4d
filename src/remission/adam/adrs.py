"""ADaM ADRS (response analysis dataset) from SDTM RS, or from TR/TU lesion measurements.

The parameters, flags and values are those of admiralonco's ADRS template
(``inst/templates/ad_adrs.R``, admiralonco 1.4), which made pharmaverseadam's
``adrs_onco``; the rules are summarised in ``tests/data/oracle/pharmaverse/README.md`` and
cited below as "template".  Clinical rules come from ``criteria/recist11.md`` §5.

Everything is vectorised over all subjects: one record per subject and parameter is a
``group_by``/join result, never a Python loop over subjects.

Per-visit responses (``PARAMCD = "OVR"``):

* ``source="rs"``: ``RSTESTCD = "OVRLRESP"`` records of the chosen evaluator (``RSEVAL``,
  default ``INVESTIGATOR``).  When the evaluator's records carry an acceptance flag
  (``RSACPTFL``, several independent readers) only the accepted ones are used (choice: the
  template only handles the investigator, who has no acceptance flag).
* ``source="tr"``: derived from TR/TU lesion measurements by the RECIST 1.1 engine
  (:mod:`remission.adam.tr_to_lesions`).

Flags (template):

* ``ADT`` from ``RSDTC``, a missing day imputed to the last day of the month
  (``ADTF = "D"``); a missing month is not imputed (``ADT`` missing).
* ``AVAL = aval_resp(AVALC)``: CR 1, PR 2, SD 3, NON-CR/NON-PD 4, PD 5, NE 6, MISSING 7;
  any other code (``ND``, or a code outside the RECIST vocabulary such as rs_onco's
  ``CHECK``) has no ``AVAL`` and therefore never contributes (the record stays in ADRS and
  is reported as a warning, see :func:`derive_adrs_notes`).
* ``ANL01FL``: records with ``AVAL`` and ``ADT >= reference date``; per subject and date the
  worst one (NE < CR < PR < SD < NON-CR/NON-PD < PD; ties: highest ``RSSEQ``),
  recist11.md §5.1 "same-day duplicates".
* ``ANL02FL``: records (all OVR records, ordered by ``ADT``, ``RSSEQ``) up to and including
  the first PD; every record when there is no PD (recist11.md §5.1: responses after
  progression do not count).
* Source of the response parameters: OVR with ``ANL01FL = ANL02FL = "Y"``.

Parameters: ``PD`` (first PD, from ``ANL01FL`` records), ``RSP`` (first CR/PR), ``CB``
(earliest CR/PR, or CR/PR/SD/NON-CR/NON-PD at least ``sd_min_days`` after the reference
date, recist11.md §5.2), ``BOR`` and ``CBOR`` (:func:`remission.timeline.bor.best_overall_response`,
recist11.md §5.3/§5.4), ``BCP``/``CBCP`` (BOR/CBOR in CR/PR), ``CRSP`` (earliest
confirmed CR or PR, recist11.md §5.4), ``CCB`` (earliest confirmed response or clinical
benefit), ``DEATH`` (ADSL ``DTHDT``), ``LSTA`` (last ``ANL01FL`` OVR, not restricted to
before PD), ``MDIS`` (an evaluator's TU target lesion at the screening/baseline visit).

Deliberate difference from the template: ``CBCP`` is derived from our ``CBOR``.  The
template computes it from the dataset *before* CBOR was added (its ``dataset_add = adrs``
inside the pipe refers to the earlier object), so its CBCP is ``N`` for every subject.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import polars as pl

from remission.errors import InputError, InputErrors
from remission.io.sdtm import (
    REQUIRED,
    ROW,
    SdtmData,
    as_sdtm,
    date_expr,
    dtc_errors,
    impute_dtc,
    impute_dtc_columns,
    parse_date_column,
    require_columns,
)
from remission.criteria import recist11
from remission.timeline.best_response import best_responses

__all__ = ["derive_adrs", "derive_adrs_notes", "plan_adrs", "AdrsPlan", "adsl_from_sdtm", "prepare_adsl", "AdrsOptions", "AVAL_RESP"]

CR, PR, SD, NCNPD, PD, NE, MISSING = "CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING"

#: admiralonco ``aval_resp()``; other codes (``ND``, unknown) give a missing AVAL.
AVAL_RESP = {CR: 1.0, PR: 2.0, SD: 3.0, NCNPD: 4.0, PD: 5.0, NE: 6.0, MISSING: 7.0}
#: template ``worst_resp()``: within one date the highest value is kept (ANL01FL).
WORST_RESP = {NE: 1, CR: 2, PR: 3, SD: 4, NCNPD: 5, PD: 6}

#: ADSL date columns converted to dates when present.
ADSL_DATES = ("RANDDT", "TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT", "EOSDT", "SCRFDT", "FRVDT")

#: Source RS columns carried on records derived from an OVR record (as admiral keeps them).
RS_CARRY = (
    "DOMAIN", "VISITNUM", "VISIT", "RSTESTCD", "RSTEST", "RSORRES", "RSSTRESC", "RSEVAL",
    "RSEVALID", "RSACPTFL", "RSDTC", "RSSEQ", "RSEXPL",
)  # fmt: skip


class AdamWarning(UserWarning):
    """Input records that the derivation keeps but cannot use (see :func:`derive_adrs_notes`)."""


@dataclass(frozen=True)
class AdrsOptions:
    """The ADRS options: RECIST 1.1's names and defaults (``RecistOptions``: confirm_days,
    sd_min_days, max_ne_between, accept_sd_between, failed_cr_as_pr), which admiralonco calls
    ``ref_confirm``, ``ref_start_window``, ``max_nr_ne`` and ``accept_sd``."""

    reference: str = "RANDDT"
    confirm_days: int = 28
    sd_min_days: int = 42
    max_ne_between: int = 1
    accept_sd_between: bool = False
    source: str = "rs"
    evaluator: str = "INVESTIGATOR"
    failed_cr_as_pr: bool = True

    def recist(self) -> recist11.RecistOptions:
        """The RECIST 1.1 options these stand for (one set of names and defaults with assess)."""
        return recist11.RecistOptions(
            confirm_days=self.confirm_days, sd_min_days=self.sd_min_days, max_ne_between=self.max_ne_between,
            accept_sd_between=self.accept_sd_between, failed_cr_as_pr=self.failed_cr_as_pr,
        )  # fmt: skip

    def __post_init__(self):
        if self.reference not in ("RANDDT", "TRTSDT"):
            raise ValueError("reference must be RANDDT or TRTSDT")
        if self.source not in ("rs", "tr"):
            raise ValueError("source must be 'rs' or 'tr'")
        if self.confirm_days < 1 or self.sd_min_days < 0 or self.max_ne_between < 0:
            raise ValueError("confirm_days >= 1, sd_min_days >= 0, max_ne_between >= 0")


# --------------------------------------------------------------------------------------
# ADSL
# --------------------------------------------------------------------------------------


def adsl_from_sdtm(sdtm: SdtmData) -> pl.DataFrame:
    """A minimal ADSL (text columns) from DM (+ DS, EX, RS, TR) when no ADSL is given.

    Follows admiral's ADSL template where the SDTM allows it:

    * ``RANDDT``: DS ``DSSTDTC`` of ``DSDECOD = "RANDOMIZED"`` (complete dates only);
    * ``TRTSDT``/``TRTEDT``: DM ``RFXSTDTC``/``RFXENDTC`` date part (the template uses EX
      exposure records; RFXSTDTC is their SDTM summary);
    * ``DTHDT``: DM ``DTHDTC``, missing day/month imputed to the first (``DTHDTF``);
    * ``LSTALVDT`` (choice, an approximation of the template's many-domain rule): the
      latest complete date among DM ``RFSTDTC``/``RFENDTC``/``RFXSTDTC``/``RFXENDTC``, DS
      ``DSSTDTC``, EX ``EXSTDTC``/``EXENDTC``, RS ``RSDTC``, TR ``TRDTC`` and ``DTHDT``.
    """
    dm = sdtm.get("dm")
    if dm is None:
        raise InputErrors([InputError("adsl", None, None, None, None, "an ADSL file or a DM domain", "missing")])
    errors = require_columns(dm, REQUIRED["dm"], sdtm.file("dm"))
    if errors:
        raise InputErrors(errors)
    keep = [c for c in dm.columns if c not in (ROW, "DOMAIN")]
    adsl = dm.select(ROW, *keep)

    def full(col: str) -> pl.Expr:
        d, _ = impute_dtc(pl.col(col), date_imputation="first", highest_imputation="D")
        return pl.when(pl.col(col).str.contains(r"^\d{4}-\d{2}-\d{2}")).then(d)

    dates: list[pl.DataFrame] = []
    ds = sdtm.get("ds")
    if ds is not None and {"DSDECOD", "DSSTDTC"} <= set(ds.columns):
        rand = (
            ds.filter(pl.col("DSDECOD") == "RANDOMIZED")
            .group_by("USUBJID")
            .agg(full("DSSTDTC").min().alias("RANDDT"))
        )
        adsl = adsl.join(rand, on="USUBJID", how="left")
        dates.append(ds.select("USUBJID", full("DSSTDTC").alias("d")))
    else:
        adsl = adsl.with_columns(pl.lit(None, pl.Date).alias("RANDDT"))
    for col, new in (("RFXSTDTC", "TRTSDT"), ("RFXENDTC", "TRTEDT")):
        adsl = adsl.with_columns((full(col) if col in dm.columns else pl.lit(None, pl.Date)).alias(new))
    if "DTHDTC" in dm.columns:
        d, f = impute_dtc(pl.col("DTHDTC"), date_imputation="first", highest_imputation="M")
        adsl = adsl.with_columns(d.alias("DTHDT"), f.alias("DTHDTF"))
    else:
        adsl = adsl.with_columns(pl.lit(None, pl.Date).alias("DTHDT"))
    for col in ("RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC"):
        if col in dm.columns:
            dates.append(dm.select("USUBJID", full(col).alias("d")))
    for dom, cols in (("ex", ("EXSTDTC", "EXENDTC")), ("rs", ("RSDTC",)), ("tr", ("TRDTC",))):
        frame = sdtm.get(dom)
        if frame is not None:
            dates.extend(frame.select("USUBJID", full(c).alias("d")) for c in cols if c in frame.columns)
    dates.append(adsl.select("USUBJID", pl.col("DTHDT").alias("d")))
    last = pl.concat(dates).group_by("USUBJID").agg(pl.col("d").max().alias("LSTALVDT"))
    adsl = adsl.join(last, on="USUBJID", how="left")
    return adsl.with_columns(pl.col(c).dt.strftime("%Y-%m-%d") for c in ("RANDDT", "TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT"))


def prepare_adsl(adsl: pl.DataFrame, file: str, reference: str) -> pl.DataFrame:
    """ADSL with its date columns as ``pl.Date``; located errors for bad dates/columns."""
    errors = require_columns(adsl, ("USUBJID", reference), file)
    for col in ADSL_DATES:
        errors += parse_date_column(adsl, col, file)
    if "USUBJID" in adsl.columns:
        dup = adsl.filter(pl.col("USUBJID").is_duplicated())
        errors += [
            InputError(file, r[ROW], r["USUBJID"], "USUBJID", r["USUBJID"], "one ADSL row per subject", "duplicate")
            for r in dup.select(ROW, "USUBJID").iter_rows(named=True)
        ]
    if errors:
        raise InputErrors(errors)
    if "STUDYID" not in adsl.columns:
        adsl = adsl.with_columns(pl.lit(None, pl.String).alias("STUDYID"))
    return adsl.with_columns(date_expr(c).alias(c) for c in ADSL_DATES if c in adsl.columns)


def _resolve_adsl(sdtm: SdtmData, adsl, reference: str, skip_invalid: bool = False):
    """The typed ADSL (:func:`resolve_adsl`).  With ``skip_invalid`` returns
    ``(adsl, errors)``: the subjects named in ADSL errors are left out (an error naming no
    subject, a missing column, still raises)."""
    typed, _meta, errors = resolve_adsl(sdtm, adsl, reference, skip_invalid=skip_invalid)
    return (typed, errors) if skip_invalid else typed


def _adsl_frame(sdtm: SdtmData, adsl) -> tuple[pl.DataFrame, str, object]:
    """The ADSL as read (dates as text), its file name and its file's column metadata."""
    if adsl is None:
        if "adsl" in sdtm:
            frame, file, given = sdtm.get("adsl"), sdtm.file("adsl"), sdtm.meta.get("adsl")
        else:
            frame, file, given = adsl_from_sdtm(sdtm).with_columns(pl.col(ROW).cast(pl.Int64)), "adsl (from DM/DS)", None
    else:
        one = as_sdtm({"adsl": adsl})
        frame, file, given = one.get("adsl"), one.file("adsl"), one.meta.get("adsl")
    for c in ADSL_DATES:
        if c in frame.columns and frame.schema[c] == pl.Date:
            frame = frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%d"))
    return frame, file, given


def resolve_adsl(sdtm: SdtmData, adsl, reference: str, *, skip_invalid: bool = False) -> tuple[pl.DataFrame, dict, list]:
    """The typed ADSL (:func:`prepare_adsl`, then every variable typed by its input file's
    metadata, else admiral's: :mod:`remission.adam.metadata`), the metadata used
    (variable -> :class:`~remission.io.sdtm.ColumnMeta`, labels included) and, with
    ``skip_invalid``, the errors of the subjects left out (otherwise errors raise)."""
    from remission.adam.metadata import admiral_variables, merge_meta, type_columns

    frame, file, given = _adsl_frame(sdtm, adsl)
    meta = merge_meta(admiral_variables("ADSL"), given)
    typed_meta = {k: v for k, v in meta.items() if k not in ADSL_DATES and k != "USUBJID"}

    def typed(fr: pl.DataFrame) -> pl.DataFrame:
        out, errors = type_columns(prepare_adsl(fr, file, reference), typed_meta, file)
        if errors:
            raise InputErrors(errors)
        return out

    try:
        return typed(frame), meta, []
    except InputErrors as exc:
        if not skip_invalid or any(e.subject_id is None for e in exc.errors):
            raise
        bad = sorted({e.subject_id for e in exc.errors})
        kept = frame.filter(~pl.col("USUBJID").is_in(pl.Series(bad, dtype=pl.String).implode()))
        return typed(kept), meta, list(exc.errors)


# --------------------------------------------------------------------------------------
# OVR records
# --------------------------------------------------------------------------------------


def _select_evaluator(frame: pl.DataFrame, prefix: str, evaluator: str) -> pl.DataFrame:
    """Records of one evaluator (``--EVAL``); accepted reads only when ``--ACPTFL`` is used."""
    ev, acpt = f"{prefix}EVAL", f"{prefix}ACPTFL"
    if ev in frame.columns:
        frame = frame.filter(pl.col(ev).str.to_uppercase() == evaluator.upper())
    if acpt in frame.columns and frame[acpt].is_not_null().any():
        frame = frame.filter(pl.col(acpt) == "Y")
    return frame


def _ovr_from_rs(sdtm: SdtmData, opts: AdrsOptions) -> tuple[pl.DataFrame, str, list[InputError]]:
    rs = sdtm.get("rs")
    if rs is None:
        raise InputErrors([InputError("rs", None, None, None, None, "an RS domain file (rs.csv, rs.xpt or rs.json)", "missing")])
    file = sdtm.file("rs")
    errors = require_columns(rs, REQUIRED["rs"], file)
    if errors:
        raise InputErrors(errors)
    rs = _select_evaluator(rs.filter(pl.col("RSTESTCD") == "OVRLRESP"), "RS", opts.evaluator)
    return rs, file, dtc_errors(rs, "RSDTC", file)


def _ovr_from_tr(sdtm: SdtmData, adsl: pl.DataFrame, opts: AdrsOptions) -> tuple[pl.DataFrame, str, list[InputError]]:
    from remission.adam.tr_to_lesions import overall_responses_from_tr

    return overall_responses_from_tr(sdtm, adsl, reference=opts.reference, evaluator=opts.evaluator)


def _num(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64, strict=False)


def _ovr_base(rs: pl.DataFrame, adsl: pl.DataFrame, opts: AdrsOptions) -> pl.DataFrame:
    """All OVR records with ``__sid__`` (ADSL row; null for a subject not in ADSL), the
    reference date, ADT/ADTF, AVISIT, AVAL(C), ``__seq__``/``__visitnum__`` (template),
    in the order of ``rs``.  Computed once over all records (the date imputation is the
    costly part), before the subject slices."""
    ref = opts.reference
    dates = impute_dtc_columns(rs, "RSDTC", date_imputation="last", highest_imputation="D", names=("ADT", "ADTF"))
    keep = [c for c in rs.columns if c not in (ROW,)]
    if "RSSEQ" not in rs.columns:
        rs = rs.with_columns(pl.col(ROW).cast(pl.String).alias("RSSEQ"))
        keep.append("RSSEQ")
    sid = adsl.select("USUBJID", ref).with_row_index("__sid__").select("USUBJID", ref, "__sid__")
    return (
        rs.select(ROW, *keep)
        .join(sid, on="USUBJID", how="left", maintain_order="left")
        .with_columns(
            dates.get_column("ADT"),
            dates.get_column("ADTF"),
            (pl.col("VISIT") if "VISIT" in rs.columns else pl.lit(None, pl.String)).alias("AVISIT"),
            pl.col("RSSTRESC").alias("AVALC"),
            pl.col("RSSTRESC").replace_strict(AVAL_RESP, default=None, return_dtype=pl.Float64).alias("AVAL"),
            _num("RSSEQ").alias("__seq__"),
            (_num("VISITNUM") if "VISITNUM" in rs.columns else pl.lit(None, pl.Float64)).alias("__visitnum__"),
        )
    )


def _ovr_flags(ovr: pl.DataFrame, opts: AdrsOptions) -> pl.DataFrame:
    """``ovr`` (:func:`_ovr_base`, every subject in ADSL) sorted by ADSL subject, ADT,
    RSSEQ, row (missing values last) with ANL01FL and ANL02FL (template).

    * ANL01FL: among the eligible records of a subject and date, the last one in (worst
      response, RSSEQ with missing first, row) order.  Found on a narrow frame of those
      keys sorted once (the last row of each (subject, date) run), then set by position.
    * ANL02FL: up to and including the subject's first PD in the frame's order.
    Subjects are the integer ``__sid__`` (ADSL row): grouping by it is grouping by
    USUBJID, and integer keys sort and group about twice as fast as text.
    """
    ref = opts.reference
    # sort by (subject, ADT, RSSEQ, row): ROW is unique, so the order is total and the
    # permutation of the narrow keys is the sort; SDTM files usually come sorted by
    # subject and date already, and then the gather of every column is skipped
    perm = ovr.select(pl.arg_sort_by(["__sid__", "ADT", "__seq__", ROW], nulls_last=True).alias("p")).get_column("p")
    if not perm.equals(pl.int_range(len(perm), dtype=perm.dtype, eager=True).alias("p")):
        ovr = ovr[perm]
    # ANL01FL (template; recist11.md §5.1 window and same-day duplicates)
    eligible = pl.col("AVAL").is_not_null() & (pl.col("ADT") >= pl.col(ref)).fill_null(False)
    worst = pl.col("AVALC").replace_strict(WORST_RESP, default=0, return_dtype=pl.Int32)
    s, d = pl.col("__sid__"), pl.col("ADT")
    chosen = (
        ovr.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__p__"), "__sid__", "ADT", worst.alias("__worst__"), "__seq__", ROW, eligible.alias("__ok__"))
        .filter(pl.col("__ok__"))
        .sort("__sid__", "ADT", "__worst__", "__seq__", ROW, nulls_last=False)
        .filter(((s != s.shift(-1)) | (d != d.shift(-1))).fill_null(True))
        .get_column("__p__")
    )
    anl01 = pl.repeat(None, ovr.height, dtype=pl.String, eager=True).alias("ANL01FL")
    if chosen.len():
        anl01 = anl01.scatter(chosen, "Y")
    # ANL02FL: up to and including the first PD in (ADT, RSSEQ) order, nulls last (template)
    pos = pl.col("__pos__")  # row position (the frame is sorted by subject)
    first_pd = pl.when(pl.col("AVALC") == PD).then(pos).min().over("__sid__")
    return (
        ovr.with_columns(anl01, pl.int_range(pl.len(), dtype=pl.UInt32).alias("__pos__"))
        .with_columns(
            pl.when(first_pd.is_null() | (pos <= first_pd)).then(pl.lit("Y")).otherwise(pl.lit(None, pl.String)).alias("ANL02FL")
        )
        .drop("__pos__")
    )


def _ovr_records(ovr: pl.DataFrame, opts: AdrsOptions, evaluator_label: str) -> pl.DataFrame:
    """The OVR records of one subject slice of :func:`_ovr_flags`, with the parameter
    variables, columns in the template's order."""
    consts = {
        "PARAMCD": "OVR",
        "PARAM": f"Overall Response by {evaluator_label}",
        "PARCAT1": "Tumor Response",
        "PARCAT2": evaluator_label,
        "PARCAT3": "RECIST 1.1",
    }
    cols = [c for c in ovr.columns if c not in ("ANL01FL", "ANL02FL", *consts)]
    return ovr.select(*cols, *[pl.lit(v).alias(k) for k, v in consts.items()], "ANL01FL", "ANL02FL")


# --------------------------------------------------------------------------------------
# confirmation (recist11.md §5.4; admiralonco crsp_y_cr / crsp_y_pr)
# --------------------------------------------------------------------------------------
def confirmed_starts(ovr: pl.DataFrame, opts: AdrsOptions) -> pl.DataFrame:
    """``USUBJID``, ``ADT``, ``conf`` (``CR``/``PR``) of every confirmed response start.

    recist11.md §5.4 as admiralonco's ``crsp_y_cr``/``crsp_y_pr`` events: a CR (PR) at
    ``t`` is confirmed when a later CR (CR or PR) at ``t' >= t + confirm_days`` exists
    and every assessment after ``t`` up to the first such ``t'`` is CR or NE (CR, PR or NE;
    with ``accept_sd_between`` also at most one SD), with at most ``max_ne_between`` NE, and for a
    PR no PR after a CR in that stretch.  ``ovr`` has one record per subject and date.
    """
    o = ovr.select("USUBJID", "ADT", "AVALC").filter(pl.col("ADT").is_not_null()).with_row_index("__i__")
    starts = o.filter(pl.col("AVALC").is_in([CR, PR]))
    pairs = starts.join(o.drop("__i__"), on="USUBJID", suffix="_j").filter(pl.col("ADT_j") > pl.col("ADT"))
    due = pl.col("ADT") + pl.duration(days=opts.confirm_days)
    upper = pl.when(pl.col("AVALC") == CR).then(pl.col("AVALC_j") == CR).otherwise(pl.col("AVALC_j").is_in([CR, PR])) & (
        pl.col("ADT_j") >= due
    )
    pairs = pairs.with_columns(pl.when(upper).then(pl.col("ADT_j")).min().over("__i__").alias("__end__")).filter(
        pl.col("__end__").is_not_null() & (pl.col("ADT_j") <= pl.col("__end__"))
    )
    allowed_pr = [CR, PR, NE] + ([SD] if opts.accept_sd_between else [])
    j = pl.col("AVALC_j")
    agg = pairs.group_by("__i__", "USUBJID", "ADT", "AVALC").agg(
        pl.when(pl.col("AVALC").first() == CR).then(j.is_in([CR, NE]).all()).otherwise(j.is_in(allowed_pr).all()).alias("ok_codes"),
        ((j == NE).sum() <= opts.max_ne_between).alias("ok_ne"),
        ((j == SD).sum() <= 1).alias("ok_sd"),
        (
            (pl.col("ADT_j").filter(j == CR).min() > pl.col("ADT_j").filter(j == PR).max()).fill_null(True)
        ).alias("ok_order"),
    )
    ok = pl.col("ok_codes") & pl.col("ok_ne") & pl.col("ok_sd") & (pl.col("ok_order") | (pl.col("AVALC") == CR))
    return agg.filter(ok).select("USUBJID", "ADT", pl.col("AVALC").alias("conf")).sort("USUBJID", "ADT")


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------


def _params(
    subjects: pl.DataFrame, adsl: pl.DataFrame, ovr_all: pl.DataFrame, tu: pl.DataFrame | None, opts: AdrsOptions, label: str
) -> pl.DataFrame:
    """``__sid__``, USUBJID, PARAMCD, AVALC, ADT, AVAL, PARAM, PARCAT1-3 of every derived
    parameter (one row per subject of ``subjects`` = ``__sid__``, USUBJID in ADSL order).
    The parameter's variables (:func:`_param_meta`) are literals of its block instead of
    a join on PARAMCD; AVAL is ``aval_resp(AVALC)`` for BOR, CBOR and LSTA (LSTA's AVALC
    is its OVR record's response, whose AVAL that is), else Y 1 / N 0 (template).

    The date parameters are per-subject minima/maxima of filtered OVR records: one
    ``group_by`` computes them all (PD, RSP, CB, LSTA and the clinical-benefit dates),
    which equals one filter + group_by + join per parameter (template).  LSTA's AVALC is
    the response of the last ANL01FL record: ``ovr_all`` is sorted by date within a
    subject and has one ANL01FL record per subject and date, so that is the record at
    the latest ANL01FL date.
    """
    ref = opts.reference
    a01 = pl.col("ANL01FL") == "Y"
    a0102 = a01 & (pl.col("ANL02FL") == "Y")
    late = pl.col("ADT") >= pl.col(ref) + pl.duration(days=opts.sd_min_days)
    resp = pl.col("AVALC").is_in([CR, PR])
    cb_y = pl.col("AVALC").is_in([CR, PR, SD, NCNPD]) & late
    adt = pl.col("ADT")
    dates = ovr_all.group_by("__sid__").agg(
        adt.filter(a01 & (pl.col("AVALC") == PD)).min().alias("PD"),
        adt.filter(a0102 & resp).min().alias("RSP"),
        adt.filter(a0102 & (resp | cb_y)).min().alias("CB"),
        adt.filter(a0102 & cb_y).min().alias("__cb__"),
        adt.filter(a01).max().alias("LSTA"),
        pl.col("AVALC").filter(a01).last().alias("__lsta__"),
    )
    ovr = ovr_all.filter(a0102).select("__sid__", "USUBJID", "ADT", "AVALC")
    # integer subject key for the pairwise confirmation search (any key type works there)
    conf = confirmed_starts(ovr.select(pl.col("__sid__").alias("USUBJID"), "ADT", "AVALC"), opts)
    conf = conf.group_by("USUBJID").agg(pl.col("ADT").min().alias("CRSP")).rename({"USUBJID": "__sid__"})
    wide = (
        subjects.join(dates, on="__sid__", how="left", maintain_order="left")
        .join(conf, on="__sid__", how="left", maintain_order="left")
        .with_columns(CCB=pl.min_horizontal("CRSP", "__cb__"))
    )
    # BOR / CBOR (recist11.md §5.3 / §5.4) from the shared engine
    tp = ovr.filter(pl.col("AVALC") != MISSING).select(
        pl.col("USUBJID").alias("subject_id"), pl.col("ADT").alias("date"), pl.col("AVALC").alias("response")
    )
    reference = adsl.select(pl.col("USUBJID").alias("subject_id"), pl.col(ref).alias("reference_start"))
    # the RECIST 1.1 criterion's declared rule, run by the one engine (timeline.best_response)
    rule = recist11.best_response_rule(opts.recist())
    both = best_responses(tp, reference, rule, rules=False)  # ADRS has no place for the explanation
    both = (
        both.select("subject_id", bor="best_response", bor_date="best_response_date"),
        both.select("subject_id", bor="confirmed_best_response", bor_date="confirmed_best_response_date"),
    )
    for paramcd, bor in zip(("BOR", "CBOR"), both):
        bor = bor.select(pl.col("subject_id").alias("USUBJID"), pl.col("bor").alias(paramcd), pl.col("bor_date").alias(f"__{paramcd}_date__"))
        wide = wide.join(bor, on="USUBJID", how="left", maintain_order="left").with_columns(pl.col(paramcd).fill_null(MISSING))
    # an ADSL needs only USUBJID and the reference date (issue 14 item 6): no DTHDT, no death
    if "DTHDT" in adsl.columns:
        wide = wide.with_columns(adsl.get_column("DTHDT").alias("DEATH"))
    else:
        wide = wide.with_columns(pl.lit(None, pl.Date).alias("DEATH"))

    def yn(date: pl.Expr) -> pl.Expr:
        return pl.when(date.is_not_null()).then(pl.lit("Y")).otherwise(pl.lit("N"))

    def bor_cp(code: str) -> pl.Expr:  # BCP / CBCP: BOR / CBOR in CR/PR, at its date
        return pl.when(pl.col(code).is_in([CR, PR])).then(pl.col(f"__{code}_date__"))

    out: list[tuple[str, pl.Expr, pl.Expr]] = [  # PARAMCD, AVALC, ADT
        *[(p, yn(pl.col(p)), pl.col(p)) for p in ("PD", "RSP", "CB", "CRSP", "CCB")],
        ("BOR", pl.col("BOR"), pl.col("__BOR_date__")),
        ("BCP", yn(bor_cp("BOR")), bor_cp("BOR")),
        ("CBOR", pl.col("CBOR"), pl.col("__CBOR_date__")),
        ("CBCP", yn(bor_cp("CBOR")), bor_cp("CBOR")),
        ("DEATH", yn(pl.col("DEATH")), pl.col("DEATH")),
        ("LSTA", pl.col("__lsta__"), pl.col("LSTA")),
    ]
    if tu is not None:
        base = _select_evaluator(tu, "TU", opts.evaluator).filter(
            (pl.col("TUSTRESC").str.to_uppercase() == "TARGET")
            & (pl.col("VISIT").str.to_uppercase().is_in(["SCREENING", "BASELINE"]) if "VISIT" in tu.columns else pl.lit(True))
        )
        wide = wide.with_columns(pl.col("USUBJID").is_in(base.get_column("USUBJID").implode()).alias("__mdis__"))
        out.append(("MDIS", pl.when(pl.col("__mdis__")).then(pl.lit("Y")).otherwise(pl.lit("N")), pl.lit(None, pl.Date)))
    meta = {r[0]: r[1:] for r in _param_meta(label).iter_rows()}

    def block(code: str, avalc: pl.Expr, date: pl.Expr) -> pl.DataFrame:
        avalc = avalc.cast(pl.String)
        aval = avalc.replace_strict(AVAL_RESP if code in ("BOR", "CBOR", "LSTA") else {"Y": 1.0, "N": 0.0}, default=None, return_dtype=pl.Float64)
        param, cat1, cat2, cat3 = meta[code]
        return wide.select(
            "__sid__", "USUBJID", pl.lit(code).alias("PARAMCD"), avalc.alias("AVALC"), date.cast(pl.Date).alias("ADT"),
            aval.alias("AVAL"), pl.lit(param, pl.String).alias("PARAM"), pl.lit(cat1, pl.String).alias("PARCAT1"),
            pl.lit(cat2, pl.String).alias("PARCAT2"), pl.lit(cat3, pl.String).alias("PARCAT3"),
        )  # fmt: skip

    return pl.concat([block(*b) for b in out])



def _param_meta(evaluator_label: str) -> pl.DataFrame:
    e = evaluator_label
    rows = [
        ("PD", f"Disease Progression by {e}", "Tumor Response"),
        ("RSP", f"Response by {e} (confirmation not required)", "Tumor Response"),
        ("CB", f"Clinical Benefit by {e} (confirmation for response not required)", "Tumor Response"),
        ("BOR", f"Best Overall Response by {e} (confirmation not required)", "Tumor Response"),
        ("BCP", f"Best Overall Response of CR/PR by {e} (confirmation not required)", "Tumor Response"),
        ("CRSP", f"Confirmed Response by {e}", "Tumor Response"),
        ("CCB", f"Confirmed Clinical Benefit by {e}", "Tumor Response"),
        ("CBOR", f"Best Confirmed Overall Response by {e}", "Tumor Response"),
        ("CBCP", f"Best Confirmed Overall Response of CR/PR by {e}", "Tumor Response"),
        ("DEATH", "Death", "Reference Event"),
        ("LSTA", f"Last Disease Assessment by {e}", "Tumor Response"),
        ("MDIS", f"Measurable Disease at Baseline by {e}", None),
    ]
    meta = pl.DataFrame(rows, schema={"PARAMCD": pl.String, "PARAM": pl.String, "PARCAT1": pl.String}, orient="row")
    return meta.with_columns(
        PARCAT2=pl.when(pl.col("PARAMCD") == "DEATH").then(None).otherwise(pl.lit(e)),
        PARCAT3=pl.when(pl.col("PARAMCD") == "DEATH").then(None).otherwise(pl.lit("RECIST 1.1")),
    )


# --------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------


def derive_adrs_notes(
    sdtm,
    adsl=None,
    *,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    source: str = "rs",
    evaluator: str = "INVESTIGATOR",
    failed_cr_as_pr: bool = True,
    skip_invalid: bool = False,
) -> tuple[pl.DataFrame, list[InputError]]:
    """:func:`derive_adrs` plus the list of notes: OVR records kept in ADRS that cannot
    contribute (a date without a month), each a located :class:`InputError` with code
    ``not_analysed``.  A response code outside ``aval_resp()`` (other than ``ND``/empty =
    not done) is an input error (spec/tables.md "Bad input"); with ``skip_invalid`` the
    subjects with input errors are left out and their errors follow the notes."""
    plan = plan_adrs(
        sdtm, adsl, reference=reference, confirm_days=confirm_days, sd_min_days=sd_min_days,
        max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, source=source, evaluator=evaluator,
        failed_cr_as_pr=failed_cr_as_pr, skip_invalid=skip_invalid,
    )  # fmt: skip
    parts = list(plan.slices())
    out = parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")
    return out, plan.notes + plan.errors


#: Subjects per batch of :func:`derive_adrs_notes` (a memory bound: 10^6 subjects and
#: 18M ADRS records are derived in batches of this many subjects, with the same result).
ADRS_BATCH_SUBJECTS = 20_000
#: Threads deriving ADRS slices side by side (:meth:`AdrsPlan.slices`); 1: one at a time.
ADRS_THREADS = 2


@dataclass
class AdrsPlan:
    """A checked ADRS derivation, ready to run slice by slice (:func:`plan_adrs`).

    ``adsl`` is the typed ADSL, ``notes`` the records kept but not analysed, ``ovr``
    the flagged OVR records of every subject (:func:`_ovr_flags`, sorted by ADSL
    subject).  :meth:`slices` yields the ADRS of consecutive ADSL subject ranges of
    :data:`ADRS_BATCH_SUBJECTS` subjects (each a zero-copy slice of ``ovr``);
    concatenated in order they are the whole ADRS (every rule is per subject and the
    ADRS is ordered by ADSL subject first), so a caller can write each slice and let it
    go (``remission adam``) instead of holding the whole ADRS.
    """

    ovr: pl.DataFrame
    adsl: pl.DataFrame
    tu: pl.DataFrame | None
    opts: AdrsOptions
    label: str
    notes: list[InputError]
    #: input errors of the subjects left out (``skip_invalid``; spec/tables.md "Bad input")
    errors: list[InputError] = field(default_factory=list)
    #: the ADSL's variable metadata (types and labels; :func:`resolve_adsl`)
    adsl_meta: dict = field(default_factory=dict)

    def slices(self):
        """The ADRS slices, in order.  With :data:`ADRS_THREADS` > 1 the next slices are
        derived by other threads while the caller handles the current one (polars
        releases the GIL while it computes, and a slice's many small operations leave a
        core idle otherwise); at most ``ADRS_THREADS`` slices are ahead of the caller."""
        ovr, tu, opts = self.ovr, self.tu, self.opts
        adsl_t = self.adsl.with_row_index("__sid__")
        size = max(int(ADRS_BATCH_SUBJECTS), 1)
        n = max((adsl_t.height + size - 1) // size, 1)
        bounds = ovr.get_column("__sid__").search_sorted(pl.Series([b * size for b in range(n + 1)], dtype=pl.UInt32))

        def one(b: int) -> pl.DataFrame:
            adsl_b = adsl_t.slice(b * size, size)
            lo, hi = bounds[b], bounds[b + 1]
            tu_b = tu if tu is None or n == 1 else tu.join(adsl_b.select("USUBJID"), on="USUBJID", how="semi", maintain_order="left")
            return _derive(ovr.slice(lo, hi - lo), adsl_b, tu_b, opts, self.label, opts.reference)

        threads = max(int(ADRS_THREADS), 1)
        if threads == 1 or n == 1:
            for b in range(n):
                yield one(b)
            return
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="adrs") as pool:
            ahead: deque = deque()
            try:
                for b in range(n):
                    ahead.append(pool.submit(one, b))
                    if len(ahead) > threads:
                        yield ahead.popleft().result()
                while ahead:
                    yield ahead.popleft().result()
            finally:
                for f in ahead:
                    f.cancel()


def plan_adrs(
    sdtm,
    adsl=None,
    *,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    source: str = "rs",
    evaluator: str = "INVESTIGATOR",
    failed_cr_as_pr: bool = True,
    skip_invalid: bool = False,
) -> AdrsPlan:
    """Read and check everything :func:`derive_adrs_notes` needs (raising
    :class:`~remission.errors.InputErrors` with every input problem, before any ADRS
    record is derived) and return the :class:`AdrsPlan` that derives the ADRS slices.

    The per-record work (date imputation, AVAL, ANL01FL/ANL02FL and the sort by subject)
    is done here once over all OVR records; the slices only derive the parameters and
    assemble."""
    opts = AdrsOptions(reference, confirm_days, sd_min_days, max_ne_between, accept_sd_between, source, evaluator, failed_cr_as_pr)
    data = as_sdtm(sdtm)
    adsl_t, adsl_meta, skipped = resolve_adsl(data, adsl, reference, skip_invalid=True)
    if skipped and not skip_invalid:
        raise InputErrors(skipped)
    label = evaluator.strip().title()
    if source == "rs":
        rs, file, errors = _ovr_from_rs(data, opts)
    else:
        rs, file, errors = _ovr_from_tr(data, adsl_t, opts)
    adsl_t = _studyid_from(adsl_t, rs)
    ovr = _ovr_base(rs, adsl_t, opts)
    unknown = ovr.filter(pl.col("__sid__").is_null())  # not in ADSL, in record order
    errors += [
        InputError(file, r[ROW], r["USUBJID"], "USUBJID", r["USUBJID"], "a subject present in ADSL", "unknown_subject")
        for r in unknown.select(ROW, "USUBJID").iter_rows(named=True)
        if r["USUBJID"] not in {e.subject_id for e in skipped}
    ]
    errors += _unknown_responses(ovr, file)
    tu = data.get("tu")
    missing = require_columns(tu, REQUIRED["tu"], data.file("tu")) if tu is not None else []
    errors += missing
    if errors and (not skip_invalid or any(e.subject_id is None for e in errors)):
        raise InputErrors(skipped + errors)
    if errors:  # spec/tables.md "Bad input": --skip-invalid leaves the invalid subjects out
        bad = pl.Series(sorted({e.subject_id for e in errors}), dtype=pl.String).implode()
        adsl_t = adsl_t.filter(~pl.col("USUBJID").is_in(bad))
        ovr = _ovr_base(rs.filter(~pl.col("USUBJID").is_in(bad)), adsl_t, opts)
        ovr = ovr.filter(pl.col("__sid__").is_not_null())
    del rs
    notes = _notes(ovr, file)
    plan = AdrsPlan(_ovr_flags(ovr, opts), adsl_t, tu, opts, label, notes, adsl_meta=adsl_meta)
    plan.errors = sorted(set(skipped + errors), key=lambda e: (e.file, e.row or 0, e.column or ""))
    return plan


def _studyid_from(adsl: pl.DataFrame, rs: pl.DataFrame) -> pl.DataFrame:
    """STUDYID of each subject: ADSL's, else the subject's RS (or TR) records', else the
    one study RS names (issue 14 item 6: an ADSL without STUDYID)."""
    if "STUDYID" not in rs.columns:
        return adsl
    per = rs.filter(pl.col("STUDYID").is_not_null()).group_by("USUBJID").agg(pl.col("STUDYID").first().alias("__st__"))
    if per.height == 0:
        return adsl
    studies = per.get_column("__st__").unique()
    # a subject without RS records takes the study's id when RS names a single study
    only = pl.lit(studies[0] if studies.len() == 1 else None, pl.String)
    return (
        adsl.join(per, on="USUBJID", how="left", maintain_order="left")
        .with_columns(pl.coalesce("STUDYID", "__st__", only).alias("STUDYID"))
        .drop("__st__")
    )


#: RS codes that say the response was not assessed (admiralonco keeps them without AVAL)
NOT_DONE = ("ND",)


def _unknown_responses(ovr: pl.DataFrame, file: str) -> list[InputError]:
    """spec/tables.md "Bad input": an OVRLRESP code that is not a RECIST 1.1 code
    (:data:`AVAL_RESP`, or ``ND``/empty = not done) is an input error, located."""
    bad = ovr.filter(pl.col("AVAL").is_null() & pl.col("RSSTRESC").is_not_null() & ~pl.col("RSSTRESC").is_in(NOT_DONE))
    codes = ", ".join(AVAL_RESP)
    return [
        InputError(file, r[ROW], r["USUBJID"], "RSSTRESC", r["RSSTRESC"],
                   f"a RECIST 1.1 response code ({codes}; ND or empty = not done)", "unknown_response")  # fmt: skip
        for r in bad.select(ROW, "USUBJID", "RSSTRESC").iter_rows(named=True)
    ]


def _notes(ovr: pl.DataFrame, file: str) -> list[InputError]:
    """OVR records kept in ADRS that cannot contribute (see :func:`derive_adrs_notes`), in
    the order of the OVR records (subject, ADT, RSSEQ, row; missing values last).
    ``ovr`` is :func:`_ovr_base` (its ADT, AVAL and ``__seq__``)."""
    bad_code = pl.lit(False)  # unknown codes are input errors (_unknown_responses)
    bad_date = pl.col("ADT").is_null() & pl.col("RSDTC").is_not_null()
    found = (
        ovr.select(ROW, "USUBJID", "RSSTRESC", "RSDTC", "ADT", "__seq__", bad_code.alias("c"), bad_date.alias("d"))
        .filter(pl.col("c") | pl.col("d"))
        .sort("USUBJID", "ADT", "__seq__", ROW, nulls_last=True)
    )
    return [
        InputError(file, r[ROW], r["USUBJID"], "RSSTRESC", r["RSSTRESC"], "a RECIST 1.1 response (CR, PR, SD, NON-CR/NON-PD, PD, NE, MISSING); record kept without AVAL", "not_analysed")
        for r in found.filter(pl.col("c")).select(ROW, "USUBJID", "RSSTRESC").iter_rows(named=True)
    ] + [
        InputError(file, r[ROW], r["USUBJID"], "RSDTC", r["RSDTC"], "a date with at least year and month; record kept without ADT", "not_analysed")
        for r in found.filter(pl.col("d")).select(ROW, "USUBJID", "RSDTC").iter_rows(named=True)
    ]


def _derive(ovr: pl.DataFrame, adsl_t: pl.DataFrame, tu: pl.DataFrame | None, opts: AdrsOptions, label: str, reference: str) -> pl.DataFrame:
    """ADRS (OVR records and parameters) of the subjects of ``adsl_t`` (a slice of the ADSL
    with its ``__sid__``) from their flagged OVR records (a slice of :func:`_ovr_flags`)."""
    ovr = _ovr_records(ovr, opts, label)
    subjects = adsl_t.select("__sid__", "USUBJID")
    params = _params(subjects, adsl_t, ovr, tu, opts, label)

    # records derived from an OVR record carry that record's variables (template)
    carry = [c for c in RS_CARRY if c in ovr.columns and c not in ("RSSTRESC",)] + ["RSSTRESC"] if "RSSTRESC" in ovr.columns else []
    carry = list(dict.fromkeys(carry))
    # a parameter dated on a subject's ANL01FL record carries it: a join on the (subject,
    # date) pair packed into one integer (one ANL01FL record per subject and date; a
    # missing date matches nothing), cheaper than a join on two keys
    key = (pl.col("__sid__").cast(pl.Int64) * (1 << 32) + pl.col("ADT").cast(pl.Int32).cast(pl.Int64) + (1 << 31)).alias("__key__")
    src = ovr.filter(pl.col("ANL01FL") == "Y").select(
        key, "ADTF", "AVISIT", "ANL02FL", "__seq__", "__visitnum__", *carry
    )
    derived = (
        params.with_columns(key)
        .join(src, on="__key__", how="left", maintain_order="left")
        .drop("__key__")
        .with_columns(ANL01FL=pl.lit("Y"))
    )
    ovr_out = ovr.drop(ROW, reference, "STUDYID", strict=False)
    del ovr, src, params
    return _assemble(ovr_out, derived, adsl_t, label, reference)


def _assemble(ovr_out: pl.DataFrame, derived: pl.DataFrame, adsl_t: pl.DataFrame, label: str, reference: str) -> pl.DataFrame:
    """OVR records and derived parameters as one ADRS, ordered by subject (ADSL order),
    then PARAMCD, ADT, VISITNUM, RSSEQ (template ASEQ order, missing values last), with
    ``ASEQ`` and the ADSL variables.

    Equivalent to a diagonal concatenation of both frames, a sort and a join to ADSL, but
    built one column at a time: the sort permutation comes from a narrow frame of integer
    keys (the subject is ``__sid__``, the ADSL row), and each output column is gathered
    through it, so the peak memory is the output plus one column instead of several
    copies of the wide frame.  ``ASEQ`` counts rows from the start of each subject's run
    in the sorted keys (no per-subject window needed).
    """
    n_ovr, n_der = ovr_out.height, derived.height
    codes = {c: i for i, c in enumerate(sorted(["OVR", *_param_meta(label)["PARAMCD"].to_list()]))}
    first_sid = adsl_t.get_column("__sid__").min() or 0

    def keys(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            (pl.col("__sid__") - first_sid).cast(pl.UInt32).alias("__sid__"),
            pl.col("PARAMCD").replace_strict(codes, return_dtype=pl.Int32).alias("__pc__"),
            pl.col("ADT").cast(pl.Date),
            pl.col("__visitnum__").cast(pl.Float64),
            pl.col("__seq__").cast(pl.Float64),
        )

    n, s = pl.col("__n__"), pl.col("__sid__")
    order = (
        pl.concat([keys(ovr_out), keys(derived)])
        .with_row_index("__i__")
        .sort("__sid__", "__pc__", "ADT", "__visitnum__", "__seq__", nulls_last=True, maintain_order=True)
        .with_row_index("__n__")
        .select(
            "__i__",
            "__sid__",
            (n - pl.when((s != s.shift(1)).fill_null(True)).then(n).forward_fill() + 1).cast(pl.Int64).alias("ASEQ"),
        )
    )
    perm = order.get_column("__i__")

    def column(name: str) -> pl.Series:
        """``name`` over both frames (a missing column is null there; types relaxed to a
        common supertype as ``how="diagonal_relaxed"`` does), in output order."""
        a = ovr_out.get_column(name) if name in ovr_out.columns else None
        b = derived.get_column(name) if name in derived.columns else None
        if a is None:
            a = pl.Series(name, [None], dtype=b.dtype).extend_constant(None, n_ovr - 1) if n_ovr else b.clear()
        if b is None:
            b = pl.Series(name, [None], dtype=a.dtype).extend_constant(None, n_der - 1) if n_der else a.clear()
        both = pl.concat([a.to_frame(), b.to_frame()], how="vertical_relaxed").get_column(name)
        # one contiguous chunk first: a gather from a two-chunk string column is ~8x slower
        return both.rechunk().gather(perm)

    first = ["STUDYID", "USUBJID", "ASEQ", "PARAMCD", "PARAM", "PARCAT1", "PARCAT2", "PARCAT3", "ADT", "ADTF", "AVISIT",
             "AVAL", "AVALC", "ANL01FL", "ANL02FL", reference]  # fmt: skip
    names = list(dict.fromkeys([*ovr_out.columns, *derived.columns, "ASEQ"]))
    rest = [c for c in names if c not in first and not c.startswith("__")]
    adsl_more = [c for c in adsl_t.columns if c not in names and c not in (ROW, "USUBJID") and not c.startswith("__")]
    sids = order.get_column("__sid__")
    cols: list[pl.Series] = []
    for name in [*first, *rest]:
        if name == "ASEQ":
            cols.append(order.get_column("ASEQ"))
        elif name in ovr_out.columns or name in derived.columns:
            cols.append(column(name))
        else:  # an ADSL variable not carried by the records (e.g. the reference date)
            cols.append(adsl_t.get_column(name).gather(sids))
    cols += [adsl_t.get_column(c).gather(sids) for c in adsl_more if c not in first]
    from remission.adam.metadata import type_sdtm

    return type_sdtm(pl.DataFrame(cols))


def derive_adrs(
    sdtm,
    adsl=None,
    *,
    reference: str = "RANDDT",
    confirm_days: int = 28,
    sd_min_days: int = 42,
    max_ne_between: int = 1,
    accept_sd_between: bool = False,
    source: str = "rs",
    evaluator: str = "INVESTIGATOR",
    failed_cr_as_pr: bool = True,
    skip_invalid: bool = False,
) -> pl.DataFrame:
    """ADaM ADRS as admiralonco's ADRS template derives it (module docstring).

    Parameters
    ----------
    sdtm
        A folder, an :class:`~remission.io.sdtm.SdtmData`, or a dict of domain -> frame or
        file (``{"rs": rs_frame, "tu": "tu.xpt"}``).
    adsl
        ADSL as a frame or a file; ``None``: the ``adsl`` file of the folder, else one
        built from DM/DS (:func:`adsl_from_sdtm`).
    reference
        ADSL reference date variable: ``RANDDT`` (default, randomised trials) or ``TRTSDT``.
    confirm_days, sd_min_days, max_ne_between, accept_sd_between
        admiralonco's ``ref_confirm`` (28), ``ref_start_window`` (42), ``max_nr_ne`` (1),
        ``accept_sd_between`` (``False``); recist11.md §5.2 and §5.4.
    source
        ``"rs"``: stated responses (RS OVRLRESP); ``"tr"``: derived from TR/TU with the
        RECIST 1.1 engine.
    evaluator
        ``--EVAL`` value to use (default ``INVESTIGATOR``).
    failed_cr_as_pr
        recist11.md §5.4 step 2 lets a CR that fails confirmation be confirmed as PR (default
        ``True``, as ``remission assess``); ``False`` is admiralonco's ``cbor_pr`` event, which
        looks at PR time points only: pass it to reproduce admiralonco on data where the two
        differ (on the pharmaverse data they do not; tests/test_adam_parity.py).
    skip_invalid
        leave out the subjects with input errors (their errors are warned with the notes).

    Raises :class:`~remission.errors.InputErrors` listing every input problem. Records
    kept but unusable are reported as an :class:`AdamWarning` (:func:`derive_adrs_notes`
    returns them as data).
    """
    out, notes = derive_adrs_notes(
        sdtm, adsl, reference=reference, confirm_days=confirm_days, sd_min_days=sd_min_days,
        max_ne_between=max_ne_between, accept_sd_between=accept_sd_between, source=source, evaluator=evaluator,
        failed_cr_as_pr=failed_cr_as_pr, skip_invalid=skip_invalid,
    )  # fmt: skip
    if notes:
        warnings.warn(AdamWarning("\n".join(str(n) for n in notes[:20])), stacklevel=2)
    return out
