"""ADaM ADTR (tumour results analysis dataset) from SDTM TR and TU (and RS for ``PDFL``).

The parameters, flags and values are those of admiralonco's ADTR template
(``inst/templates/ad_adtr.R``, admiralonco 1.4), which made pharmaverseadam's
``adtr_onco``; the rules are summarised in ``tests/data/oracle/pharmaverse/README.md``.
RECIST 1.1 facts: ``criteria/recist11.md`` §3.4 (nodal target lesions are measured by
their short axis, others by their longest diameter; the sum of diameters adds one value
per target lesion) and §4.1 (the sum of diameters and the nadir, "the smallest sum on
study", baseline included).

Source records (template):

* TU of the evaluator (``TUEVAL``, default ``INVESTIGATOR``) for the lesion location
  (``TULOC``; ``TULOCGR1`` = ``NODAL`` when it is ``LYMPH NODE``, else ``NON-NODAL``);
* TR target-lesion measurements of that evaluator (``TRGRPID = "TARGET"``; when TR has no
  ``TRGRPID``, the lesions whose TU record says ``TARGET``) with ``TRTESTCD`` ``LDIAM``
  (longest diameter) or ``LPERP`` (longest perpendicular = short axis).  As in ADRS, an
  evaluator whose records carry an acceptance flag (``--ACPTFL``) contributes its accepted
  records only.

Per-lesion parameters: ``LDIAMn`` (``LDIAM``) and ``NLDIAMn`` (``LPERP``) for the lesion
number ``n`` of ``TRLNKID``, ``AVAL = TRSTRESN``, ``ANL01FL = Y`` when ``AVAL`` is present;
``LSEXP = TRLNKID``, ``LSASS = TRLNKID`` when measured.  (Choice: ``n`` is the integer
value of the digits that end ``TRLNKID``, so ``T01`` and ``T1`` are lesion 1 and ``T10``
lesion 10; the template takes ``TRLNKID`` from its third character, which agrees for
``T01``..``T09``.)

Timing: ``ADT``/``ADTF`` from ``TRDTC`` (a missing day imputed to the *first* of the
month, flag ``D``; a date without a month has no ``ADT``); ``ADY`` relative to the
reference date (``RANDDT``; day 1 is the reference date, no day 0); ``AVISIT`` = ``VISIT``
with ``SCREENING`` renamed ``BASELINE``, ``AVISITN`` = 0 for baseline, else ``VISITNUM``.

``SDIAM`` (sum of diameters), one record per subject and analysis visit: the sum of the
visit's ``LDIAMn`` of non-nodal lesions and ``NLDIAMn`` of nodal lesions (missing values
left out), ``ADT``/``ADY`` the visit's earliest.  Its flags:

* ``LSEXP``: the subject's baseline lesions of the sum (sorted, ``", "``-separated);
  ``LSASS``: the lesions measured at this visit; ``ANL01FL = Y`` when they are the same,
  i.e. every baseline lesion was measured;
* ``ABLFL``: the last record with ``ADY <= 1``; ``BASE`` its ``AVAL``;
* ``NADIR``: the smallest ``AVAL`` of the subject's ``ANL01FL`` records with an earlier
  ``ADY``; ``CHG``/``PCHG`` from baseline, ``CHGNAD``/``PCHGNAD`` from the nadir (percent
  missing when the base is 0);
* ``PDFL = Y`` when the evaluator's RS ``OVRLRESP`` record of the same date (``RSDTC``,
  missing day -> first) is ``PD``;
* ``ANL02FL``: the lowest ``PCHG`` among the ``ANL01FL`` records from the first record after
  the reference date on (ties: the earliest, choice); ``ANL03FL``: among the records with
  ``ANL01FL`` or ``PDFL``, those before the first ``PDFL`` (all of them when there is none);
  ``ANL04FL``: ``ANL01FL`` or ``PDFL``.

``ASEQ`` numbers a subject's records by ``PARAMCD``, ``AVISITN``, ``TRSEQ``; the ADSL
variables are added last.  Everything is vectorised over subjects.
"""

from __future__ import annotations

import polars as pl

from remission.errors import InputError, InputErrors
from remission.io.sdtm import REQUIRED, ROW, SdtmData, as_sdtm, dtc_errors, impute_dtc_columns, require_columns

__all__ = ["derive_adtr", "ADTR_REQUIRED_TR"]

#: TR columns ADTR needs beyond :data:`remission.io.sdtm.REQUIRED` ``["tr"]``.
ADTR_REQUIRED_TR = ("VISIT", "VISITNUM")

_PARCAT = {"PARCAT1": "Target Lesion(s)", "PARCAT3": "RECIST 1.1"}


def _select(frame: pl.DataFrame, prefix: str, evaluator: str) -> pl.DataFrame:
    from remission.adam.tr_to_lesions import _select as select

    return select(frame, prefix, evaluator)


def _num(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Float64, strict=False)


def _target_records(sdtm: SdtmData, evaluator: str) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """The evaluator's target LDIAM/LPERP TR records with TULOC and TULOCGR1; located errors."""
    tr, tu = sdtm.get("tr"), sdtm.get("tu")
    tr_file, tu_file = sdtm.file("tr"), sdtm.file("tu")
    errors = require_columns(tr, (*REQUIRED["tr"], *ADTR_REQUIRED_TR), tr_file)
    errors += require_columns(tu, REQUIRED["tu"], tu_file)
    if "TULOC" not in tu.columns:
        errors += require_columns(tu, ("TULOC",), tu_file)
    if errors:
        raise InputErrors(errors)
    tu = _select(tu, "TU", evaluator)
    tr = _select(tr, "TR", evaluator).filter(pl.col("TRTESTCD").is_in(["LDIAM", "LPERP"]))
    loc = tu.select("USUBJID", pl.col("TULNKID").alias("TRLNKID"), "TULOC", pl.col("TUSTRESC").alias("__role__")).unique(
        ["USUBJID", "TRLNKID"], keep="first", maintain_order=True
    )
    tr = tr.join(loc, on=["USUBJID", "TRLNKID"], how="left", maintain_order="left")
    target = pl.col("TRGRPID") == "TARGET" if "TRGRPID" in tr.columns else pl.col("__role__") == "TARGET"
    tr = tr.filter(target).drop("__role__")
    # AVAL = TRSTRESN (a numeric variable: text there is an error); without it, the number
    # in TRSTRESC (where "TOO SMALL TO MEASURE", "NOT EVALUABLE"... give no AVAL)
    value = "TRSTRESN" if "TRSTRESN" in tr.columns else "TRSTRESC"
    bad_num = tr.filter(pl.col(value).is_not_null() & _num(value).is_null()) if value == "TRSTRESN" else tr.clear()
    errors = [
        InputError(tr_file, r[ROW], r["USUBJID"], value, r[value], "a number (lesion measurement in mm)", "invalid_number")
        for r in bad_num.select(ROW, "USUBJID", value).iter_rows(named=True)
    ]
    number = pl.col("TRLNKID").str.extract(r"(\d+)$").cast(pl.Int64, strict=False)
    bad_id = tr.filter(number.is_null())
    errors += [
        InputError(tr_file, r[ROW], r["USUBJID"], "TRLNKID", r["TRLNKID"], "a lesion id ending in its number (T01)", "invalid_value")
        for r in bad_id.select(ROW, "USUBJID", "TRLNKID").iter_rows(named=True)
    ]
    errors += dtc_errors(tr, "TRDTC", tr_file)
    if errors:
        raise InputErrors(errors)
    tr = tr.with_columns(
        pl.when(pl.col("TULOC") == "LYMPH NODE").then(pl.lit("NODAL")).when(pl.col("TULOC").is_not_null())
        .then(pl.lit("NON-NODAL")).alias("TULOCGR1"),
        _num(value).alias("AVAL"),
        number.alias("__n__"),
    )  # fmt: skip
    return tr, tu, tr_file


def derive_adtr(
    sdtm,
    adsl=None,
    *,
    reference: str = "RANDDT",
    evaluator: str = "INVESTIGATOR",
) -> pl.DataFrame:
    """ADaM ADTR as admiralonco's ADTR template derives it (module docstring).

    ``sdtm``: a folder, :class:`~remission.io.sdtm.SdtmData` or dict of domain -> frame or
    file with ``tr`` and ``tu`` (``rs`` for ``PDFL``, optional); ``adsl`` as for
    :func:`remission.adam.derive_adrs`.  Raises :class:`~remission.errors.InputErrors`
    listing every input problem (missing columns, non-numeric measurements, bad dates,
    subjects not in ADSL).
    """
    from remission.adam.adrs import _resolve_adsl

    data = as_sdtm(sdtm)
    if data.get("tr") is None or data.get("tu") is None:
        missing = [d for d in ("tr", "tu") if data.get(d) is None]
        raise InputErrors([InputError(d, None, None, None, None, f"a {d.upper()} domain file", "missing") for d in missing])
    adsl_t = _resolve_adsl(data, adsl, reference)
    tr, _tu, tr_file = _target_records(data, evaluator)
    unknown = tr.join(adsl_t.select("USUBJID"), on="USUBJID", how="anti", maintain_order="left")
    if unknown.height:
        raise InputErrors([
            InputError(tr_file, r[ROW], r["USUBJID"], "USUBJID", r["USUBJID"], "a subject present in ADSL", "unknown_subject")
            for r in unknown.select(ROW, "USUBJID").iter_rows(named=True)
        ])  # fmt: skip
    return _derive(tr, adsl_t, data.get("rs"), reference, evaluator)


def _derive(tr: pl.DataFrame, adsl_t: pl.DataFrame, rs: pl.DataFrame | None, ref: str, evaluator: str) -> pl.DataFrame:
    dates = impute_dtc_columns(tr, "TRDTC", date_imputation="first", highest_imputation="D", names=("ADT", "ADTF"))
    refs = adsl_t.select("USUBJID", ref)
    adt, r = pl.col("ADT"), pl.col(ref)
    lesions = (
        tr.join(refs, on="USUBJID", how="left", maintain_order="left")
        .with_columns(dates.get_column("ADT"), dates.get_column("ADTF"))
        .with_columns(
            ((adt - r).dt.total_days() + pl.when(adt >= r).then(1).otherwise(0)).cast(pl.Int64).alias("ADY"),
            pl.when(pl.col("VISIT") == "SCREENING").then(pl.lit("BASELINE")).otherwise(pl.col("VISIT")).alias("AVISIT"),
        )
        .with_columns(
            pl.when(pl.col("AVISIT") == "BASELINE").then(pl.lit(0.0)).otherwise(_num("VISITNUM")).alias("AVISITN"),
            pl.when(pl.col("TRTESTCD") == "LDIAM").then(pl.lit("LDIAM")).otherwise(pl.lit("NLDIAM"))
            .add(pl.col("__n__").cast(pl.String)).alias("PARAMCD"),
            pl.concat_str(
                pl.lit("Target Lesion "), pl.col("__n__").cast(pl.String),
                pl.when(pl.col("TRTESTCD") == "LDIAM").then(pl.lit(" Analysis Diameter")).otherwise(pl.lit(" Analysis Perpendicular")),
            ).alias("PARAM"),
            pl.lit(_PARCAT["PARCAT1"]).alias("PARCAT1"),
            pl.lit(evaluator.strip().title()).alias("PARCAT2"),
            pl.lit(_PARCAT["PARCAT3"]).alias("PARCAT3"),
            pl.when(pl.col("AVAL").is_not_null()).then(pl.lit("Y")).alias("ANL01FL"),
            pl.col("TRLNKID").alias("LSEXP"),
            pl.when(pl.col("AVAL").is_not_null()).then(pl.col("TRLNKID")).alias("LSASS"),
        )  # fmt: skip
        .drop("__n__")
    )
    # the measurement of each lesion that enters the sum (recist11.md §3.4)
    summed = ((pl.col("TRTESTCD") == "LDIAM") & (pl.col("TULOCGR1") == "NON-NODAL")) | (
        (pl.col("TRTESTCD") == "LPERP") & (pl.col("TULOCGR1") == "NODAL")
    )
    part = lesions.filter(summed)
    visit = ["USUBJID", "AVISIT", "AVISITN"]
    studyid = [pl.col("STUDYID").first()] if "STUDYID" in part.columns else []
    sums = (
        part.group_by(visit, maintain_order=True)
        .agg(
            *studyid,
            pl.col(ref).first(),
            pl.col("AVAL").sum(),
            pl.col("ADY").min(),
            pl.col("ADT").min(),
        )
        .with_columns(
            pl.lit("SDIAM").alias("PARAMCD"),
            pl.lit(f"Target Lesions Sum of Diameters by {evaluator.strip().title()}").alias("PARAM"),
            pl.lit(_PARCAT["PARCAT1"]).alias("PARCAT1"),
            pl.lit(evaluator.strip().title()).alias("PARCAT2"),
            pl.lit(_PARCAT["PARCAT3"]).alias("PARCAT3"),
        )
    )
    ids = pl.col("TRLNKID").sort().str.join(", ")
    expected = part.filter(pl.col("AVISIT") == "BASELINE").group_by("USUBJID").agg(ids.alias("LSEXP"))
    assessed = part.filter(pl.col("ANL01FL") == "Y").group_by("USUBJID", "AVISIT").agg(ids.alias("LSASS"))
    sums = (
        sums.join(expected, on="USUBJID", how="left", maintain_order="left")
        .join(assessed, on=["USUBJID", "AVISIT"], how="left", maintain_order="left", nulls_equal=True)
        .with_columns(pl.when(pl.col("LSEXP") == pl.col("LSASS")).then(pl.lit("Y")).alias("ANL01FL"))
    )
    sums = _baseline_nadir(sums)
    sums = _flags(sums, rs, ref, evaluator)
    out = pl.concat([lesions, sums], how="diagonal_relaxed")
    out = out.with_columns(_num("TRSEQ").alias("__trseq__") if "TRSEQ" in out.columns else pl.lit(None, pl.Float64).alias("__trseq__"))
    out = out.sort("USUBJID", "PARAMCD", "AVISITN", "__trseq__", nulls_last=True, maintain_order=True).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("USUBJID").alias("ASEQ")
    )
    return _columns(out.drop("__trseq__", ROW, strict=False), adsl_t, ref)


def _baseline_nadir(sums: pl.DataFrame) -> pl.DataFrame:
    """ABLFL, BASE, NADIR, CHG, PCHG, CHGNAD, PCHGNAD of the SDIAM records."""
    sums = sums.with_row_index("__i__")
    # ABLFL: the last record by ADY among ADY <= 1 (ties: the later record)
    base = (
        sums.filter(pl.col("ADY") <= 1)
        .sort("USUBJID", "ADY", "__i__")
        .group_by("USUBJID", maintain_order=True)
        .agg(pl.col("__i__").last().alias("__b__"), pl.col("AVAL").last().alias("BASE"))
    )
    sums = sums.join(base, on="USUBJID", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("__i__") == pl.col("__b__")).then(pl.lit("Y")).alias("ABLFL")
    )
    # NADIR: min AVAL of the ANL01FL records with a strictly smaller ADY
    lows = (
        sums.filter((pl.col("ANL01FL") == "Y") & pl.col("ADY").is_not_null())
        .group_by("USUBJID", "ADY")
        .agg(pl.col("AVAL").min())
        .sort("USUBJID", "ADY")
        .with_columns(pl.col("AVAL").cum_min().over("USUBJID").alias("NADIR"))
        .select("USUBJID", pl.col("ADY").alias("__ady__"), "NADIR")
    )
    with_ady = sums.filter(pl.col("ADY").is_not_null()).sort("ADY")
    nadir = with_ady.join_asof(
        lows.sort("__ady__"), left_on="ADY", right_on="__ady__", by="USUBJID", strategy="backward", allow_exact_matches=False,
        check_sortedness=False,
    ).select("__i__", "NADIR")
    sums = sums.join(nadir, on="__i__", how="left", maintain_order="left")
    aval, b, nad = pl.col("AVAL"), pl.col("BASE"), pl.col("NADIR")
    return sums.with_columns(
        (aval - b).alias("CHG"),
        pl.when(b != 0).then((aval - b) / b.abs() * 100).alias("PCHG"),
        (aval - nad).alias("CHGNAD"),
        pl.when(nad != 0).then(100 * (aval - nad) / nad).alias("PCHGNAD"),
    ).drop("__b__")


def _flags(sums: pl.DataFrame, rs: pl.DataFrame | None, ref: str, evaluator: str) -> pl.DataFrame:
    """PDFL and ANL02FL..ANL04FL of the SDIAM records (``__i__`` = their row)."""
    if rs is not None and {"USUBJID", "RSTESTCD", "RSSTRESC", "RSDTC"} <= set(rs.columns):
        ovr = _select(rs.filter(pl.col("RSTESTCD") == "OVRLRESP"), "RS", evaluator)
        d = impute_dtc_columns(ovr, "RSDTC", date_imputation="first", highest_imputation="D", names=("ADT", "ADTF"))
        pd_dates = (
            ovr.select("USUBJID", "RSSTRESC").with_columns(d.get_column("ADT"))
            .filter((pl.col("RSSTRESC") == "PD") & pl.col("ADT").is_not_null())
            .select("USUBJID", "ADT").unique().with_columns(pl.lit("Y").alias("PDFL"))
        )  # fmt: skip
        sums = sums.join(pd_dates, on=["USUBJID", "ADT"], how="left", maintain_order="left")
    else:
        sums = sums.with_columns(pl.lit(None, pl.String).alias("PDFL"))
    anl01, pdfl = pl.col("ANL01FL") == "Y", pl.col("PDFL") == "Y"
    # POSTRNDFL: from the first record (by ADT) after the reference date on
    first_post = sums.filter(pl.col("ADT") > pl.col(ref)).group_by("USUBJID").agg(pl.col("ADT").min().alias("__post__"))
    sums = sums.join(first_post, on="USUBJID", how="left", maintain_order="left")
    post = pl.col("__post__").is_not_null() & ((pl.col("ADT") >= pl.col("__post__")) | pl.col("ADT").is_null())
    best = (
        sums.filter(anl01.fill_null(False) & post)
        .sort("USUBJID", "PCHG", "ADT", "__i__", nulls_last=True)
        .group_by("USUBJID", maintain_order=True)
        .agg(pl.col("__i__").first().alias("__best__"))
    )
    first_pd = sums.filter(pdfl.fill_null(False)).group_by("USUBJID").agg(pl.col("ADY").min().alias("__pd__"))
    sums = sums.join(best, on="USUBJID", how="left", maintain_order="left").join(
        first_pd, on="USUBJID", how="left", maintain_order="left"
    )
    either = (anl01 | pdfl).fill_null(False)
    return sums.with_columns(
        pl.when(pl.col("__i__") == pl.col("__best__")).then(pl.lit("Y")).alias("ANL02FL"),
        pl.when(either & (pl.col("__pd__").is_null() | (pl.col("ADY") < pl.col("__pd__")))).then(pl.lit("Y")).alias("ANL03FL"),
        pl.when(either).then(pl.lit("Y")).alias("ANL04FL"),
    ).drop("__i__", "__post__", "__best__", "__pd__")


#: ADTR variables first, in this order; then the other TR variables, then ADSL's.
ADTR_FIRST = (
    "STUDYID", "USUBJID", "ASEQ", "PARAMCD", "PARAM", "PARCAT1", "PARCAT2", "PARCAT3", "ADT", "ADTF", "ADY",
    "AVISIT", "AVISITN", "AVAL", "BASE", "CHG", "PCHG", "NADIR", "CHGNAD", "PCHGNAD", "ABLFL", "ANL01FL",
    "ANL02FL", "ANL03FL", "ANL04FL", "PDFL",
)  # fmt: skip


def _columns(out: pl.DataFrame, adsl_t: pl.DataFrame, ref: str) -> pl.DataFrame:
    first = [c for c in ADTR_FIRST if c in out.columns]
    rest = [c for c in out.columns if c not in first and c != ref]
    adsl_cols = [c for c in adsl_t.columns if c not in (ROW, "USUBJID", "STUDYID") and c not in rest and not c.startswith("__")]
    out = out.select(*first, *rest).join(adsl_t.select("USUBJID", *adsl_cols), on="USUBJID", how="left", maintain_order="left")
    if "STUDYID" not in out.columns:
        out = out.with_columns(pl.lit(None, pl.String).alias("STUDYID"))
    from remission.adam.metadata import type_sdtm

    return type_sdtm(out)
