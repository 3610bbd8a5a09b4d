"""ADaM ADTTE (time-to-event) from ADSL and ADRS, as admiralonco's ADTTE template.

Parameters (template ``inst/templates/ad_adtte.R``; rules of admiral's
``derive_param_tte``, summarised in ``tests/data/oracle/pharmaverse/README.md``):

* ``OS`` (overall survival): start = reference date; event = death (ADRS ``DEATH = Y``);
  censored at the last date known alive (ADSL ``LSTALVDT``) or at the reference date.
* ``PFS`` (progression-free survival): start = reference date; events = first PD (ADRS
  ``PD = Y``) or death; censored at the last tumour assessment (ADRS ``LSTA``) or at the
  reference date.  (recist11.md §5.5 "progression-free survival".)
* ``RSD`` (duration of response): only subjects with a response (ADRS ``RSP = Y``, the
  first *unconfirmed* CR/PR, as the template); start = that date; events = PD or death;
  censored at the last tumour assessment.  (recist11.md §5.5 "duration of overall
  response".)

Selection (``derive_param_tte``): the earliest event wins whenever a subject has one (ties:
the source listed first); otherwise the latest censoring date (ties: the source listed
last); ``ADT`` is never before ``STARTDT`` (floored); a subject without a start date keeps
its record (``STARTDT`` and ``AVAL`` missing, ``ADT`` the chosen date), as
``derive_param_tte`` does.  ``AVAL = ADT - STARTDT + 1`` days (ADaM convention, ``derive_vars_duration`` with
``add_one``), ``CNSR`` 0 for events, 1 for censoring; ``SRCSEQ`` is the ``ASEQ`` of the
ADRS record used.

With ``reference="TRTSDT"`` the start of OS/PFS and the reference censoring are the
treatment start (``EVNTDESC``/``CNSDTDSC`` "Treatment Start"; choice: the template is
written for randomised trials only).
"""

from __future__ import annotations

import polars as pl

__all__ = ["derive_adtte", "TTE_PARAMS", "TTE_SOURCE_PARAMS", "TTE_SOURCE_COLUMNS"]

TTE_PARAMS = {"OS": "Overall Survival", "PFS": "Progression Free Survival", "RSD": "Duration of Response"}
#: The only ADRS parameters and columns :func:`derive_adtte` reads: the ADRS restricted to
#: them gives the same ADTTE (used when the ADRS is written slice by slice, not held).
TTE_SOURCE_PARAMS = ("DEATH", "PD", "LSTA", "RSP")
TTE_SOURCE_COLUMNS = ("USUBJID", "PARAMCD", "AVALC", "ADT", "ASEQ", "ANL01FL")

_SRC_SCHEMA = {
    "USUBJID": pl.String,
    "DATE": pl.Date,
    "CNSR": pl.Int64,
    "EVNTDESC": pl.String,
    "CNSDTDSC": pl.String,
    "SRCDOM": pl.String,
    "SRCVAR": pl.String,
    "SRCSEQ": pl.Int64,
    "ORDER": pl.Int64,
}


def _adrs_source(adrs: pl.DataFrame, paramcd: str, cnsr: int, desc: str, cdesc: str | None, order: int) -> pl.DataFrame:
    """ADRS records of one parameter with ``AVALC = Y`` (events) or any (LSTA)."""
    cond = (pl.col("PARAMCD") == paramcd) & (pl.col("ANL01FL") == "Y") & pl.col("ADT").is_not_null()
    if paramcd != "LSTA":
        cond = cond & (pl.col("AVALC") == "Y")
    return adrs.filter(cond).select(
        "_k",
        "USUBJID",
        pl.col("ADT").cast(pl.Date).alias("DATE"),
        pl.lit(cnsr, pl.Int64).alias("CNSR"),
        pl.lit(desc).alias("EVNTDESC"),
        pl.lit(cdesc, pl.String).alias("CNSDTDSC"),
        pl.lit("ADRS").alias("SRCDOM"),
        pl.lit("ADT").alias("SRCVAR"),
        pl.col("ASEQ").cast(pl.Int64).alias("SRCSEQ"),
        pl.lit(order, pl.Int64).alias("ORDER"),
    )


def _adsl_source(adsl: pl.DataFrame, var: str, desc: str, cdesc: str, order: int) -> pl.DataFrame:
    if var not in adsl.columns:
        return pl.DataFrame(schema={"_k": pl.UInt32, **_SRC_SCHEMA})
    return adsl.filter(pl.col(var).is_not_null()).select(
        "_k",
        "USUBJID",
        pl.col(var).cast(pl.Date).alias("DATE"),
        pl.lit(1, pl.Int64).alias("CNSR"),
        pl.lit(desc).alias("EVNTDESC"),
        pl.lit(cdesc).alias("CNSDTDSC"),
        pl.lit("ADSL").alias("SRCDOM"),
        pl.lit(var).alias("SRCVAR"),
        pl.lit(None, pl.Int64).alias("SRCSEQ"),
        pl.lit(order, pl.Int64).alias("ORDER"),
    )


def _tte(start: pl.DataFrame, events: list[pl.DataFrame], censors: list[pl.DataFrame], paramcd: str) -> pl.DataFrame:
    """One record per subject of ``start`` (``_k``, STARTDT), admiral ``derive_param_tte``.

    Subjects are ``_k``, the rank of USUBJID in text order (an integer: sorting and
    joining on it is cheaper than on the text, and sorting by it is sorting by USUBJID).
    Earliest event, ties -> first-listed source (lower ORDER); latest censoring, ties ->
    last-listed source: after a sort by (``_k``, DATE, ORDER) the first (last) row of each
    subject's run."""
    empty = pl.DataFrame(schema={"_k": pl.UInt32, **_SRC_SCHEMA})
    ev = pl.concat(events, how="vertical_relaxed") if events else empty
    ce = pl.concat(censors, how="vertical_relaxed") if censors else empty
    k = pl.col("_k")
    ev = ev.sort("_k", "DATE", "ORDER").filter(k.ne_missing(k.shift(1)) | (pl.int_range(pl.len()) == 0))
    ce = ce.sort("_k", "DATE", "ORDER").filter(k.ne_missing(k.shift(-1)) | (pl.int_range(pl.len()) == pl.len() - 1))
    ce = ce.join(ev.select("_k"), on="_k", how="anti")
    chosen = pl.concat([ev, ce], how="vertical_relaxed")
    # a subject whose start date is missing keeps its record, with ADT the chosen date and
    # no AVAL, as admiral's derive_param_tte (issue 14 item 6)
    out = start.join(chosen, on="_k", how="inner")
    return out.with_columns(
        pl.max_horizontal("DATE", "STARTDT").alias("ADT"),
        pl.lit(paramcd).alias("PARAMCD"),
        pl.lit(TTE_PARAMS[paramcd]).alias("PARAM"),
    ).drop("DATE", "ORDER")


def derive_adtte(adsl: pl.DataFrame, adrs: pl.DataFrame, *, reference: str = "RANDDT") -> pl.DataFrame:
    """ADTTE with OS, PFS and RSD (module docstring) from a typed ADSL and our ADRS.

    ``adsl`` needs ``USUBJID`` and the reference date (``RANDDT`` or ``TRTSDT``), and
    ``LSTALVDT`` for OS censoring; date columns may be dates or ``YYYY-MM-DD`` text.
    ``adrs`` is :func:`remission.adam.derive_adrs` output (``PARAMCD``, ``AVALC``, ``ADT``,
    ``ASEQ``, ``ANL01FL``; one record per subject and parameter).
    """
    adsl = adsl.with_columns(
        pl.col(c).cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        for c in (reference, "LSTALVDT")
        if c in adsl.columns and adsl.schema[c] != pl.Date
    )
    # _k: rank of USUBJID in text order (nulls, which never match a record, rank first)
    keyed = adsl.select("USUBJID").sort("USUBJID").with_row_index("_k")
    adsl = adsl.join(keyed, on="USUBJID", how="left", maintain_order="left")
    adrs = adrs.filter(pl.col("PARAMCD").is_in(TTE_SOURCE_PARAMS)).select(
        "USUBJID", "PARAMCD", "AVALC", "ASEQ", "ANL01FL",
        pl.col("ADT").cast(pl.String).str.to_date("%Y-%m-%d", strict=False) if adrs.schema["ADT"] != pl.Date else pl.col("ADT"),
    ).join(keyed, on="USUBJID", how="left", maintain_order="left")  # fmt: skip
    ref_desc = "Randomization" if reference == "RANDDT" else "Treatment Start"
    death = _adrs_source(adrs, "DEATH", 0, "Death", None, 1)
    pd_ev = _adrs_source(adrs, "PD", 0, "Disease Progression", None, 0)
    lasta = _adrs_source(adrs, "LSTA", 1, "Last Tumor Assessment", "Last Tumor Assessment", 0)
    alive = _adsl_source(adsl, "LSTALVDT", "Alive", "Alive During Study", 0)
    rand = _adsl_source(adsl, reference, ref_desc, ref_desc, 1)
    start = adsl.select("_k", pl.col(reference).alias("STARTDT"))
    resp = adrs.filter((pl.col("PARAMCD") == "RSP") & (pl.col("AVALC") == "Y") & (pl.col("ANL01FL") == "Y")).select(
        "_k", pl.col("ADT").alias("STARTDT")
    )
    parts = [
        _tte(start, [death], [alive, rand], "OS"),
        _tte(start, [pd_ev, death.with_columns(pl.lit(1, pl.Int64).alias("ORDER"))], [lasta, rand], "PFS"),
        _tte(resp, [pd_ev, death], [lasta], "RSD"),
    ]
    # _p: the part's rank, which is PARAMCD's (OS < PFS < RSD)
    out = pl.concat([p.with_columns(pl.lit(i, pl.UInt8).alias("_p")) for i, p in enumerate(parts)], how="vertical_relaxed")
    out = out.with_columns(((pl.col("ADT") - pl.col("STARTDT")).dt.total_days() + 1).cast(pl.Float64).alias("AVAL"))
    # one row per subject and parameter: the sort by (_k, _p) is the sort by
    # (USUBJID, PARAMCD); ASEQ counts rows from the start of each subject's run
    k, n = pl.col("_k"), pl.int_range(pl.len())
    out = out.sort("_k", "_p").with_columns(
        (n - pl.when(k.ne_missing(k.shift(1)) | (n == 0)).then(n).forward_fill() + 1).cast(pl.Int64).alias("ASEQ")
    )
    extra = [c for c in ("STUDYID", "AGE", "SEX", "ARM", "ARMCD", "ACTARM", "ACTARMCD") if c in adsl.columns]
    out = out.join(adsl.select("_k", *extra), on="_k", how="left", maintain_order="left")
    cols = ["STUDYID", "USUBJID", "ASEQ", *[c for c in extra if c != "STUDYID"], "ADT", "PARAM", "PARAMCD", "AVAL",
            "STARTDT", "CNSR", "EVNTDESC", "CNSDTDSC", "SRCDOM", "SRCVAR", "SRCSEQ"]  # fmt: skip
    return out.select([c for c in cols if c in out.columns])
