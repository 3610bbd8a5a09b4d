"""Criterion-specific ADRS parameters of the admiralonco vignettes, from SDTM RS (stated
responses): IMWG (``adrs_imwg.Rmd``), PCWG3 (``adrs_pcwg3.Rmd``) and GCIG
(``adrs_gcig.Rmd``).  The RECIST ADRS of :mod:`remission.adam.adrs` is untouched.

Inputs are SDTM data (:func:`remission.io.sdtm.as_sdtm`: a folder or a dict of domain ->
frame; ``SUPPRS`` is merged onto RS) and ADSL (``RANDDT``, ``TRTSDT``).  ``ADT`` is
``RSDTC`` with a missing day imputed to the last day of the month, as the vignettes do.
Everything is vectorised (window functions over each subject's records).

* :func:`imwg_adrs` — ``COVR`` (confirmed response per time point, imwg.md §4 table, which
  is the vignette's table), ``PD``, ``RSP``, ``CB`` (42 days), ``CRRSP``, ``VGPRRSP``,
  ``CBOR``.  Source records for the subject-level parameters: COVR with ANL01FL (worst per
  date by IMWG AVAL, ``ADT >= RANDDT``), ANL02FL (before ``NACTDT``) and ANL03FL (up to the
  first PD).
* :func:`pcwg3_adrs` — ``OVRLRESC`` (pcwg3.md §6 table from SFTSRESP × BONERESP, all
  subjects assumed to have targets at screening as in the vignette), ``BOR``, ``CBOR``
  (CR/PR confirmed by all later records up to the first one ≥ 28 days later being CR / CR
  or PR; unconfirmed CR/PR and an unresolved PDu count as SD).
* :func:`pcwg3_adpsa` — the vignette's PSA analysis records from SDTM LB (``ADT``, ``ADY``,
  ``AVAL``, ``ABLFL``, ``BASE``, ``CHG``, ``PCHG``) and :func:`pcwg3_psa_response` — its
  ``PSA50URS``/``PSA50CRS``/``PSA90URS``/``PSA90CRS`` (pcwg3.md §3.1 R1/R2/R4).
* :func:`gcig_adrs` — ``PDCA125`` (first CA-125 PD), with ``MCRIT1ML`` category A/B/C from
  the SUPPRS flags, ``CBORCA`` (best CA-125 response of the evaluable patients) and
  ``BORCA11`` (best combined RECIST + CA-125 response).
"""

from __future__ import annotations

import polars as pl

from remission.io.sdtm import SdtmData, as_sdtm, impute_dtc

__all__ = ["imwg_adrs", "pcwg3_adrs", "pcwg3_adpsa", "pcwg3_psa_response", "gcig_adrs", "IMWG_AVAL", "IMWG_CONF"]

#: admiralonco ``aval_resp_imwg`` (worst first, NE last)
IMWG_AVAL = {"NE": 8, "sCR": 7, "CR": 6, "VGPR": 5, "PR": 4, "MR": 3, "SD": 2, "PD": 1}
#: ``aval_resp_conf`` (PD highest): order of the running maximum (imwg.md §4)
IMWG_CONF = {"PD": 8, "sCR": 7, "CR": 6, "VGPR": 5, "PR": 4, "MR": 3, "SD": 2, "NE": 1}
_CONF_NAME = {v: k for k, v in IMWG_CONF.items()}
_RESP = ["sCR", "CR", "VGPR", "PR", "MR"]


def _rs(sdtm, adsl: pl.DataFrame | None) -> pl.DataFrame:
    data: SdtmData = as_sdtm(sdtm)
    rs = data.get("rs")
    if rs is None:
        raise ValueError("SDTM RS is required")
    adt, adtf = impute_dtc(pl.col("RSDTC"))
    rs = rs.with_columns(ADT=adt, ADTF=adtf, RSSEQ_N=pl.col("RSSEQ").cast(pl.Float64, strict=False))
    if adsl is not None:
        a = adsl.select(
            "USUBJID",
            *[pl.col(c).cast(pl.String).str.slice(0, 10).str.to_date(strict=False).alias(c) for c in ("RANDDT", "TRTSDT") if c in adsl.columns],
        )
        rs = rs.join(a, on="USUBJID", how="left")
    return rs


def _subjects(adsl: pl.DataFrame) -> pl.DataFrame:
    return adsl.select("USUBJID").unique().sort("USUBJID")


def _first_event(src: pl.DataFrame, cond: pl.Expr, subjects: pl.DataFrame, paramcd: str, yes: str = "Y", no: str = "N") -> pl.DataFrame:
    hit = src.filter(cond).sort("USUBJID", "ADT").group_by("USUBJID").agg(ADT=pl.col("ADT").first(), RSSEQ=pl.col("RSSEQ").first())
    return subjects.join(hit, on="USUBJID", how="left").with_columns(
        PARAMCD=pl.lit(paramcd),
        AVALC=pl.when(pl.col("ADT").is_not_null()).then(pl.lit(yes)).otherwise(pl.lit(no)),
    )


def _best(src: pl.DataFrame, events: list[tuple[str, pl.Expr]], subjects: pl.DataFrame, paramcd: str) -> pl.DataFrame:
    """admiral ``derive_extreme_event(order = exprs(event_nr, ADT), mode = "first")``: the first
    event (in list order) that occurs, at its earliest date; ``MISSING`` otherwise."""
    parts = [
        src.filter(cond).with_columns(_nr=pl.lit(i), AVALC=pl.lit(val)) for i, (val, cond) in enumerate(events)
    ]
    cand = pl.concat([p.select("USUBJID", "ADT", "RSSEQ", "_nr", "AVALC") for p in parts], how="vertical_relaxed")
    best = cand.sort("USUBJID", "_nr", "ADT").group_by("USUBJID", maintain_order=True).first().drop("_nr")
    return subjects.join(best, on="USUBJID", how="left").with_columns(
        PARAMCD=pl.lit(paramcd), AVALC=pl.col("AVALC").fill_null("MISSING")
    )


# ----------------------------------------------------------------------------- IMWG


def imwg_covr(rs: pl.DataFrame, *, pd_confirm_after_new_therapy: bool = True) -> pl.DataFrame:
    """Confirmed response per time point (imwg.md §4): ``USUBJID, RSSEQ, ADT, AVALC`` (the
    unconfirmed response) and ``COVR``."""
    c = pl.col
    ovr = rs.filter((c("RSEVAL") == "INVESTIGATOR") & (c("RSTESTCD") == "OVRLRESP")).with_columns(
        AVALC=c("RSSTRESC"),
        NACTDT=c("NACTDT").str.to_date(strict=False) if "NACTDT" in rs.columns else pl.lit(None, dtype=pl.Date),
        PDIFL=c("PDIFL") if "PDIFL" in rs.columns else pl.lit(None, dtype=pl.String),
        PDOFL=c("PDOFL") if "PDOFL" in rs.columns else pl.lit(None, dtype=pl.String),
        DTHPDFL=c("DTHPDFL") if "DTHPDFL" in rs.columns else pl.lit(None, dtype=pl.String),
    ).sort("USUBJID", "ADT")
    ev = c("AVALC") != "NE"
    ovr = ovr.with_columns(
        n_next=pl.when(ev).then(c("AVALC")).shift(-1).backward_fill().over("USUBJID"),
        d_next=pl.when(ev).then(c("ADT")).shift(-1).backward_fill().over("USUBJID"),
    )
    # the vignette takes the next non-NE record with lead() after removing NE records: for an
    # NE record itself the "next" is irrelevant (NE stays NE)
    aval = c("AVALC").replace_strict(IMWG_AVAL, default=None, return_dtype=pl.Int64)
    aval_n = c("n_next").replace_strict(IMWG_AVAL, default=None, return_dtype=pl.Int64)
    in_time = c("NACTDT").is_null() | (c("d_next") <= c("NACTDT"))
    resp = c("AVALC").is_in(_RESP)
    pd_ok = (c("n_next") == "PD") & (pl.lit(pd_confirm_after_new_therapy) | in_time)
    conf = (
        pl.when(c("AVALC") == "NE").then(pl.lit("NE"))
        .when(resp & c("n_next").is_in(_RESP) & in_time & (aval_n >= aval)).then(c("AVALC"))
        .when(resp & c("n_next").is_in(_RESP + ["SD"]) & in_time & (aval_n < aval)).then(c("n_next"))
        .when(resp).then(pl.lit("SD"))
        .when(c("AVALC") == "SD").then(pl.lit("SD"))
        .when((c("AVALC") == "PD") & ((c("PDIFL") == "Y") | (c("DTHPDFL") == "Y") | ((c("PDOFL") == "Y") & pd_ok))).then(pl.lit("PD"))
        .when(c("AVALC") == "PD").then(pl.lit("NE"))
    )
    ovr = ovr.with_columns(_c=conf.replace_strict(IMWG_CONF, default=0, return_dtype=pl.Int64)).with_columns(
        _cm=c("_c").cum_max().over("USUBJID")
    )
    return ovr.with_columns(COVR=c("_cm").replace_strict(_CONF_NAME, default=None, return_dtype=pl.String)).drop("_c", "_cm")


def imwg_adrs(sdtm, adsl: pl.DataFrame, *, sustained_days: int = 42, pd_confirm_after_new_therapy: bool = True) -> pl.DataFrame:
    """IMWG ADRS parameters of the admiralonco vignette: ``USUBJID, PARAMCD, ADT, AVALC,
    RSSEQ`` for COVR (one per OVR record) and PD, RSP, CB, CRRSP, VGPRRSP, CBOR (one per
    ADSL subject)."""
    c = pl.col
    rs = _rs(sdtm, adsl)
    covr = imwg_covr(rs, pd_confirm_after_new_therapy=pd_confirm_after_new_therapy)
    cv = covr.with_columns(AVALC=c("COVR"), _aval=c("COVR").replace_strict(IMWG_AVAL, default=None, return_dtype=pl.Int64))
    # ANL01FL: worst (lowest IMWG AVAL, then RSSEQ) per date, ADT >= RANDDT
    anl = cv.filter(c("_aval").is_not_null() & (c("ADT") >= c("RANDDT"))).sort("USUBJID", "ADT", "_aval", "RSSEQ_N")
    anl = anl.group_by("USUBJID", "ADT", maintain_order=True).first()
    anl = anl.filter(c("NACTDT").is_null() | (c("ADT") < c("NACTDT")))
    # ANL03FL: up to and including the first PD (all COVR records ordered by ADT, RSSEQ)
    order = cv.sort("USUBJID", "ADT", "RSSEQ_N").with_columns(
        _pd_before=(c("AVALC") == "PD").cast(pl.Int64).cum_sum().shift(1).over("USUBJID").fill_null(0)
    ).filter(c("_pd_before") == 0).select("USUBJID", "RSSEQ")
    src = anl.join(order, on=["USUBJID", "RSSEQ"], how="semi")
    subj = _subjects(adsl)
    out = [cv.select("USUBJID", pl.lit("COVR").alias("PARAMCD"), "ADT", "AVALC", "RSSEQ")]
    out.append(_first_event(src, c("AVALC") == "PD", subj, "PD"))
    out.append(_first_event(src, c("AVALC").is_in(["sCR", "CR", "VGPR", "PR"]), subj, "RSP"))
    cb = src.filter(
        c("AVALC").is_in(["sCR", "CR", "VGPR", "PR"])
        | (c("AVALC").is_in(_RESP + ["SD"]) & (c("ADT") >= c("RANDDT") + pl.duration(days=sustained_days)))
    )
    out.append(_first_event(cb, pl.lit(True), subj, "CB"))
    out.append(_first_event(src, c("AVALC").is_in(["sCR", "CR"]), subj, "CRRSP"))
    out.append(_first_event(src, c("AVALC").is_in(["sCR", "CR", "VGPR"]), subj, "VGPRRSP"))
    events = [(v, c("AVALC") == v) for v in ("sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "NE")]
    out.append(_best(src, events, subj, "CBOR"))
    cols = ["USUBJID", "PARAMCD", "ADT", "AVALC", "RSSEQ"]
    return pl.concat([o.select(cols) for o in out], how="vertical_relaxed")


# ----------------------------------------------------------------------------- PCWG3


def _pcwg3_combined(soft: pl.Expr, bone: pl.Expr) -> pl.Expr:
    """The vignette's OVRLRESC (pcwg3.md §6, targets at screening assumed)."""
    b_ok = bone.is_in(["NON-PD", "PDu", "NED", "NE"])
    return (
        pl.when((soft == "PD") | (bone == "PD")).then(pl.lit("PD"))
        .when((soft == "NE") & b_ok).then(pl.lit("NE"))
        .when((soft == "NED") & (bone == "NON-PD")).then(pl.lit("Non-CR/NON-PD"))
        .when((soft == "NED") & (bone == "PDu")).then(pl.lit("PDu"))
        .when((soft == "NED") & bone.is_in(["NED", "NE"])).then(pl.lit("NE"))
        .when((soft == "SD") & b_ok).then(pl.lit("SD"))
        .when((soft == "Non-CR/NON-PD") & b_ok).then(pl.lit("Non-CR/NON-PD"))
        .when((soft == "PR") & b_ok).then(pl.lit("PR"))
        .when((soft == "CR") & bone.is_in(["NON-PD", "PDu", "NE"])).then(pl.lit("PR"))
        .when((soft == "CR") & (bone == "NED")).then(pl.lit("CR"))
    )


def pcwg3_adrs(sdtm, adsl: pl.DataFrame, *, confirm_days: int = 28, vignette_fixes: bool = True) -> pl.DataFrame:
    """PCWG3 ADRS of the admiralonco vignette: OVRLRESC per visit, BOR and CBOR per subject.

    ``vignette_fixes``: apply the two RSSTRESC corrections the vignette makes to the
    pharmaversesdtm data (01-701-1275 WEEK 8 and 01-701-1097 WEEK 16 BONERESP/OVRLRESP = PD,
    a known data issue, vignette footnote 1).
    """
    c = pl.col
    rs = _rs(sdtm, adsl).filter(c("RSTEST") != "Tumor Marker Response")
    if vignette_fixes:
        fix = (
            ((c("USUBJID") == "01-701-1275") & (c("VISIT") == "WEEK 8"))
            | ((c("USUBJID") == "01-701-1097") & (c("VISIT") == "WEEK 16"))
        ) & c("RSTESTCD").is_in(["BONERESP", "OVRLRESP"])
        rs = rs.with_columns(RSSTRESC=pl.when(fix).then(pl.lit("PD")).otherwise(c("RSSTRESC")))
    keys = ["USUBJID", "ADT", "VISIT", "VISITNUM"]
    soft = rs.filter(c("RSTESTCD") == "SFTSRESP").select(*keys, c("RSSTRESC").alias("SOFT"))
    bone = rs.filter(c("RSTESTCD") == "BONERESP").select(*keys, c("RSSTRESC").alias("BONE"))
    comb = soft.join(bone, on=keys, how="inner").with_columns(
        PARAMCD=pl.lit("OVRLRESC"), AVALC=_pcwg3_combined(c("SOFT"), c("BONE")), RSSEQ=pl.lit(None, dtype=pl.String)
    ).sort("USUBJID", "ADT")
    subj = _subjects(adsl)
    src = comb
    bor_events = [
        ("CR", c("AVALC") == "CR"), ("PR", c("AVALC") == "PR"), ("SD", c("AVALC").is_in(["CR", "PR", "SD", "PDu"])),
        ("Non-CR/Non-PD", c("AVALC") == "Non-CR/NON-PD"), ("PD", c("AVALC") == "PD"), ("NE", c("AVALC") == "NE"),
        ("NED", c("AVALC") == "NED"),
    ]
    bor = _best(src, bor_events, subj, "BOR")
    # confirmation: the later records up to and including the first one >= confirm_days later
    # must all be CR (CR) / CR or PR (PR), and such a record must exist
    j = src.select("USUBJID", "ADT", "AVALC").join(
        src.select("USUBJID", c("ADT").alias("ADT_J"), c("AVALC").alias("AVALC_J")), on="USUBJID"
    ).filter(c("ADT_J") > c("ADT"))
    j = j.with_columns(_upper=pl.when(c("ADT_J") >= c("ADT") + pl.duration(days=confirm_days)).then(c("ADT_J")))
    first_up = j.group_by("USUBJID", "ADT").agg(_up=c("_upper").min())
    j = j.join(first_up, on=["USUBJID", "ADT"]).filter(c("_up").is_not_null() & (c("ADT_J") <= c("_up")))
    okc = j.group_by("USUBJID", "ADT").agg(
        _cr=(c("AVALC_J") == "CR").all(), _pr=c("AVALC_J").is_in(["CR", "PR"]).all()
    )
    src2 = src.join(okc, on=["USUBJID", "ADT"], how="left").with_columns(c("_cr", "_pr").fill_null(False))
    cbor_events = [("CR", (c("AVALC") == "CR") & c("_cr")), ("PR", (c("AVALC") == "PR") & c("_pr"))] + bor_events[2:]
    cbor = _best(src2, cbor_events, subj, "CBOR")
    cols = ["USUBJID", "PARAMCD", "ADT", "AVALC", "RSSEQ"]
    return pl.concat([comb.select(cols), bor.select(cols), cbor.select(cols)], how="vertical_relaxed")


def pcwg3_adpsa(sdtm, adsl: pl.DataFrame) -> pl.DataFrame:
    """PSA analysis records (vignette table "Derive BASE, CHG, PCHG for PSA (ADPSA)").

    One row per SDTM LB record with ``LBTESTCD == "PSA"``: ``USUBJID, LBSEQ, ADT`` (``LBDTC``,
    missing day imputed to the month's last day), ``ADY`` (study day from ADSL ``TRTSDT``,
    no day 0), ``AVAL`` (``LBSTRESN``), ``ABLFL``, ``BASE``, ``CHG``, ``PCHG``.

    Baseline (pcwg3.md §2: "last value on or before treatment start"): the record flagged
    ``LBBLFL == "Y"``; when a subject has no flagged record, the last record dated on or
    before ``TRTSDT`` (choice: the SDTM flag wins where present, as in the vignette).
    ``CHG``/``PCHG`` are null on the baseline record itself and before it.
    Values are taken in ``LBSTRESU`` as given (the vignette data are all ng/mL).
    """
    c = pl.col
    data: SdtmData = as_sdtm(sdtm)
    lb = data.get("lb")
    if lb is None:
        raise ValueError("SDTM LB is required for the PSA parameters")
    adt, _ = impute_dtc(c("LBDTC"))
    a = adsl.select("USUBJID", c("TRTSDT").cast(pl.String).str.slice(0, 10).str.to_date(strict=False).alias("TRTSDT"))
    psa = lb.filter(c("LBTESTCD") == "PSA").with_columns(
        ADT=adt, AVAL=c("LBSTRESN").cast(pl.Float64, strict=False), _seq=c("LBSEQ").cast(pl.Float64, strict=False),
    ).join(a, on="USUBJID", how="left").sort("USUBJID", "ADT", "_seq")
    days = (c("ADT") - c("TRTSDT")).dt.total_days()
    psa = psa.with_columns(ADY=pl.when(days >= 0).then(days + 1).otherwise(days))
    flagged = c("LBBLFL").fill_null("") == "Y" if "LBBLFL" in psa.columns else pl.lit(False)
    psa = psa.with_columns(_fl=flagged, _pre=c("ADT") <= c("TRTSDT"))
    has_flag = c("_fl").any().over("USUBJID")
    last_pre = c("_pre") & (c("_seq") == c("_seq").filter(c("_pre")).last().over("USUBJID"))
    psa = psa.with_columns(ABLFL=pl.when(pl.when(has_flag).then(c("_fl")).otherwise(last_pre)).then(pl.lit("Y")))
    base = psa.filter(c("ABLFL") == "Y").group_by("USUBJID").agg(BASE=c("AVAL").last(), _bdt=c("ADT").last(), _bseq=c("_seq").last())
    psa = psa.join(base, on="USUBJID", how="left")
    post = (c("ADT") > c("_bdt")) | ((c("ADT") == c("_bdt")) & (c("_seq") > c("_bseq")))
    psa = psa.with_columns(
        CHG=pl.when(post).then(c("AVAL") - c("BASE")),
        PCHG=pl.when(post & (c("BASE") != 0)).then((c("AVAL") - c("BASE")) / c("BASE") * 100),
        _post=post.fill_null(False),
    )
    return psa.drop("_fl", "_pre", "_bdt", "_bseq").sort("USUBJID", "ADT", "_seq")


def pcwg3_psa_response(
    sdtm, adsl: pl.DataFrame, *, thresholds: tuple[int, ...] = (50, 90), confirm_days: int = 21,
    require_all_intervening: bool = True,
) -> pl.DataFrame:
    """PSA response parameters (vignette table "Derive Confirmed PSA50 PSA90 (PSACRS)"): for
    each threshold ``t`` and each ADSL subject, ``PSA{t}URS`` (unconfirmed) and ``PSA{t}CRS``
    (confirmed), ``AVALC`` Y / N / MISSING, ``AVAL`` 1 / 0 / null.

    * pcwg3.md §3.1 R1: candidate = first post-baseline PSA with ``PCHG <= -t`` (a decline of
      at least ``t`` %); ``URS`` is Y at the candidate's date.
    * R2: confirmed when a PSA ``>= confirm_days`` (21) later also shows the decline and,
      with ``require_all_intervening`` (default, pcwg3.md §10), every PSA in between does too;
      ``CRS`` is Y at the (first confirmed) candidate's date, not the confirming one.
    * R4: PSA90 uses the same rule with 90 %.
    * No qualifying record: N dated at the subject's last post-baseline PSA (the vignette's
      choice); a subject without post-baseline PSA is N without a date; a subject without any
      PSA record is MISSING.
    Columns: ``USUBJID, PARAMCD, ADT, AVALC, AVAL, LBSEQ, BASE, CHG, PCHG``.
    """
    c = pl.col
    psa = pcwg3_adpsa(sdtm, adsl)
    post = psa.filter(c("_post"))
    subj = _subjects(adsl)
    with_psa = psa.select("USUBJID").unique()
    last = post.group_by("USUBJID").agg(pl.all().sort_by("ADT", "_seq").last())
    keep = ["ADT", "LBSEQ", "BASE", "CHG", "PCHG"]
    out = []
    pairs = post.select("USUBJID", "ADT", "_seq", "PCHG").join(
        post.select("USUBJID", c("ADT").alias("ADT_J"), c("_seq").alias("_seq_j"), c("PCHG").alias("PCHG_J")), on="USUBJID"
    ).filter((c("ADT_J") > c("ADT")) | ((c("ADT_J") == c("ADT")) & (c("_seq_j") > c("_seq"))))
    for t in thresholds:
        meets = post.with_columns(_m=c("PCHG") <= -t)
        j = pairs.with_columns(_mj=c("PCHG_J") <= -t, _far=c("ADT_J") >= c("ADT") + pl.duration(days=confirm_days))
        # the first later record that is >= confirm_days later and still qualifies closes the
        # window; every record up to it must qualify (R2, require_all_intervening)
        up = j.filter(c("_far") & c("_mj")).group_by("USUBJID", "ADT", "_seq").agg(_up=c("ADT_J").min())
        j = j.join(up, on=["USUBJID", "ADT", "_seq"], how="inner").filter(c("ADT_J") <= c("_up"))
        ok = j.group_by("USUBJID", "ADT", "_seq").agg(_ok=c("_mj").all() if require_all_intervening else pl.lit(True))
        meets = meets.join(ok, on=["USUBJID", "ADT", "_seq"], how="left").with_columns(c("_ok").fill_null(False))
        for code, cond in ((f"PSA{t}URS", c("_m")), (f"PSA{t}CRS", c("_m") & c("_ok"))):
            hit = meets.filter(cond).group_by("USUBJID").agg(pl.all().sort_by("ADT", "_seq").first()).with_columns(AVALC=pl.lit("Y"))
            miss = last.join(hit, on="USUBJID", how="anti").with_columns(AVALC=pl.lit("N"))
            no_post = with_psa.join(post.select("USUBJID").unique(), on="USUBJID", how="anti")
            rows = pl.concat(
                [hit.select("USUBJID", *keep, "AVALC"), miss.select("USUBJID", *keep, "AVALC"),
                 no_post.with_columns(AVALC=pl.lit("N"))], how="diagonal_relaxed",
            )
            out.append(subj.join(rows, on="USUBJID", how="left").with_columns(
                PARAMCD=pl.lit(code), AVALC=c("AVALC").fill_null("MISSING"),
            ))
    res = pl.concat(out, how="diagonal_relaxed")
    res = res.with_columns(AVAL=c("AVALC").replace_strict({"Y": 1.0, "N": 0.0}, default=None, return_dtype=pl.Float64))
    return res.select("USUBJID", "PARAMCD", "ADT", "AVALC", "AVAL", "LBSEQ", "BASE", "CHG", "PCHG").sort("USUBJID", "PARAMCD")


# ----------------------------------------------------------------------------- GCIG


def gcig_adrs(sdtm, adsl: pl.DataFrame) -> pl.DataFrame:
    """GCIG ADRS of the admiralonco vignette: PDCA125 (+ ``MCRIT1ML`` category), CBORCA,
    BORCA11 (one per ADSL subject)."""
    c = pl.col
    rs = _rs(sdtm, adsl)
    params = {"CA125": "OVRCA125", "RECIST 1.1": "OVRR11", "RECIST 1.1 - CA125": "OVRR11CA"}
    ovr = rs.filter((c("RSTESTCD") == "OVRLRESP") & (c("RSEVAL") == "INVESTIGATOR") & c("RSCAT").is_in(list(params))).with_columns(
        PARAMCD=c("RSCAT").replace_strict(params, return_dtype=pl.String), AVALC=c("RSSTRESC"),
    )
    for col in ("MOUSEANT", "CA125EFL", "CAELEPRE", "CANORM2X", "CNOTNORM"):
        if col not in ovr.columns:
            ovr = ovr.with_columns(pl.lit(None, dtype=pl.String).alias(col))
    worst = {"NE": 1, "CR": 2, "PR": 3, "SD": 4, "NON-CR/NON-PD": 5, "PD": 6}
    ovr = ovr.with_columns(_w=c("AVALC").replace_strict(worst, default=0, return_dtype=pl.Int64))
    valid = c("AVALC").is_in(["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "MISSING"]) & (c("ADT") >= c("RANDDT"))
    anl1 = ovr.filter(valid).sort("USUBJID", "PARAMCD", "ADT", "_w", "RSSEQ_N").group_by(
        "USUBJID", "PARAMCD", "ADT", maintain_order=True).last()
    anl2 = ovr.sort("USUBJID", "PARAMCD", "ADT", "RSSEQ_N").with_columns(
        _before=((c("AVALC") == "PD") | (c("MOUSEANT") == "Y")).cast(pl.Int64).cum_sum().shift(1).over("USUBJID", "PARAMCD").fill_null(0)
    ).filter(c("_before") == 0).select("USUBJID", "PARAMCD", "RSSEQ")
    src = anl1.join(anl2, on=["USUBJID", "PARAMCD", "RSSEQ"], how="semi")
    efl = ovr.filter(c("CA125EFL") == "Y").select("USUBJID").unique()
    subj = _subjects(adsl)
    pd_src = src.filter(c("PARAMCD") == "OVRCA125")
    pd_first = pd_src.filter(c("AVALC") == "PD").sort("USUBJID", "ADT").group_by("USUBJID").first()
    pd = subj.join(pd_first, on="USUBJID", how="left").with_columns(
        PARAMCD=pl.lit("PDCA125"),
        MCRIT1ML=pl.when((c("CAELEPRE") == "Y") & (c("CANORM2X") == "Y")).then(pl.lit("A"))
        .when((c("CAELEPRE") == "Y") & (c("CNOTNORM") == "Y")).then(pl.lit("B"))
        .when((c("CAELEPRE") == "N") & (c("CANORM2X") == "Y")).then(pl.lit("C")),
    )
    events = [(v, c("AVALC") == v) for v in ("CR", "PR", "SD", "PD", "NE")]
    cborca = _best(pd_src.join(efl, on="USUBJID", how="semi"), events, subj, "CBORCA")
    borca11 = _best(src.filter(c("PARAMCD") == "OVRR11CA").join(efl, on="USUBJID", how="semi"), events, subj, "BORCA11")
    cols = ["USUBJID", "PARAMCD", "ADT", "AVALC", "RSSEQ"]
    return pl.concat(
        [pd.select(*cols, "MCRIT1ML"), cborca.select(cols), borca11.select(cols)], how="diagonal_relaxed"
    )
