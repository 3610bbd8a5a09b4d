"""Lugano 2014 response records from SDTM RS (lymphoma), ADRS-style.

The RECIST ADRS of :mod:`remission.adam.adrs` is admiralonco's template and knows only
RECIST codes; lymphoma RS data carry the Lugano PET-CT and CT categories instead, one
``OVRLRESP`` record per modality and visit.  :func:`derive_adrs_lugano` turns them into:

* ``OVRPET`` / ``OVRCT``: one record per RS record of that modality (``RSMETHOD``
  ``PET-CT``/``PET`` → PET, ``CT``/``MRI`` → CT), ``AVALC`` the Lugano category;
* ``OVR``: per subject and date, the primary modality's category, or the other modality's
  when the primary was not performed that day (lugano2014.md §4.3, the choice of
  :mod:`remission.criteria.lugano2014`);
* ``BORPET`` / ``BORCT`` / ``BOR``: best response (lugano2014.md §5: no confirmation; CMR/CR
  > PMR/PR > NMR/SD > PMD/PD > NE; records after the first PD/PMD ignored) over the
  records dated on or after the ADSL reference date; ``MISSING`` when none.

Response codes.  pharmaversesdtm's ``rs_onco_lymphoma`` uses anatomic (CT) codes ``CAR``,
``PAR``, ``SAD``, ``PAD``; its generating script (``data-raw/rs_onco_lymphoma.R``, Lugano
2014 terminology comment at its end) defines them as Complete Anatomic Response, Partial
Anatomic Response, Stable Anatomic Response ("stable disease") and Progressive Anatomic
Disease, the CT counterparts of CMR/PMR/NMR/PMD.  They map to the Lugano CT categories
CR, PR, SD, PD.  ``CR-CT``/``PR-CT``/``SD-CT``/``PD-CT`` (CDISC C123577/C123610/C123615/
C123606) and CDISC ``SMD`` (= NMR) are accepted too.  ``ND``, an empty result, and
``RSSTAT = NOT DONE`` mean the modality was not performed that day; any other code is a
record kept without ``AVAL`` (listed in the returned notes).  A record without a usable
date is not analysed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import polars as pl

from remission.criteria import lugano2014 as L
from remission.errors import InputError, InputErrors
from remission.io.sdtm import REQUIRED, ROW, SdtmData, as_sdtm, impute_dtc, read_sdtm, require_columns

from remission.timeline.best_response import best_responses

from .adrs import _resolve_adsl, _select_evaluator

__all__ = ["derive_adrs_lugano", "CODE_MAP", "AVAL_LUGANO"]

#: RS code -> Lugano category (module docstring for the sources)
CODE_MAP = {
    "CMR": "CMR", "PMR": "PMR", "NMR": "NMR", "SMD": "NMR", "PMD": "PMD",
    "CAR": "CR", "PAR": "PR", "SAD": "SD", "PAD": "PD",
    "CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD",
    "CR-CT": "CR", "PR-CT": "PR", "SD-CT": "SD", "PD-CT": "PD",
    "NE": "NE",
}  # fmt: skip
#: AVAL: 1 complete, 2 partial, 3 stable, 4 progression, 5 NE, 6 MISSING
AVAL_LUGANO = {"CMR": 1.0, "CR": 1.0, "PMR": 2.0, "PR": 2.0, "NMR": 3.0, "SD": 3.0, "PMD": 4.0, "PD": 4.0, "NE": 5.0, "MISSING": 6.0}
_NOT_DONE = ("", "ND", "NOT DONE")


def _modality(method: pl.Expr) -> pl.Expr:
    m = method.str.to_uppercase()
    return pl.when(m.str.contains("PET")).then(pl.lit("PET")).when(m.is_in(["CT", "MRI", "CT SCAN"])).then(pl.lit("CT")).otherwise(pl.lit(None, dtype=pl.String))


def derive_adrs_lugano(
    sdtm: str | Path | SdtmData | Mapping[str, object],
    adsl=None,
    *,
    reference: str = "RANDDT",
    primary_modality: str = "PET",
    evaluator: str = "INVESTIGATOR",
    files: Mapping[str, str | Path] | None = None,
) -> tuple[pl.DataFrame, list[InputError]]:
    """``(adrs, notes)``: Lugano records (module docstring) for every ADSL subject and the
    RS records that could not be analysed.  Raises :class:`InputErrors` for missing
    columns/domains, a record without ``RSMETHOD`` modality, or an unknown subject."""
    if primary_modality not in ("PET", "CT"):
        raise ValueError("primary_modality must be PET or CT")
    data = read_sdtm(sdtm, files=files) if isinstance(sdtm, (str, Path)) else as_sdtm(sdtm)
    rs = data.get("rs")
    if rs is None:
        raise InputErrors([InputError("rs", None, None, None, None, "an RS domain file", "missing")])
    file = data.file("rs")
    errors = require_columns(rs, (*REQUIRED["rs"], "RSMETHOD"), file)
    if errors:
        raise InputErrors(errors)
    adsl_t = _resolve_adsl(data, adsl, reference)
    c = pl.col
    rs = _select_evaluator(rs.filter(c("RSTESTCD") == "OVRLRESP"), "RS", evaluator)
    adt, _ = impute_dtc(c("RSDTC"), date_imputation="last", highest_imputation="D")
    stat = c("RSSTAT").fill_null("") if "RSSTAT" in rs.columns else pl.lit("")
    code = c("RSSTRESC").fill_null("").str.strip_chars().str.to_uppercase()
    rec = rs.with_columns(
        ADT=adt,
        MOD=_modality(c("RSMETHOD")),
        _code=code,
        _done=~(code.is_in(list(_NOT_DONE)) | (stat.str.to_uppercase() == "NOT DONE")),
    ).with_columns(AVALC=pl.when(c("_done")).then(c("_code").replace_strict(CODE_MAP, default=None)))
    errs = [
        InputError(file, r[ROW], r["USUBJID"], "RSMETHOD", r["RSMETHOD"], "PET-CT, PET or CT", "unknown_method")
        for r in rec.filter(c("MOD").is_null()).select(ROW, "USUBJID", "RSMETHOD").iter_rows(named=True)
    ] + [
        InputError(file, r[ROW], r["USUBJID"], "USUBJID", r["USUBJID"], "a subject present in ADSL", "unknown_subject")
        for r in rec.join(adsl_t.select("USUBJID"), on="USUBJID", how="anti").select(ROW, "USUBJID").iter_rows(named=True)
    ]
    if errs:
        raise InputErrors(errs)
    notes = [
        InputError(file, r[ROW], r["USUBJID"], "RSSTRESC", r["_code"], "a Lugano 2014 category (" + ", ".join(sorted(CODE_MAP)) + "); record kept without AVAL", "not_analysed")
        for r in rec.filter(c("_done") & c("AVALC").is_null()).select(ROW, "USUBJID", "_code").iter_rows(named=True)
    ] + [
        InputError(file, r[ROW], r["USUBJID"], "RSDTC", r["RSDTC"], "a date with at least year and month; record kept without ADT", "not_analysed")
        for r in rec.filter(c("ADT").is_null() & c("_done")).select(ROW, "USUBJID", "RSDTC").iter_rows(named=True)
    ]
    keep = [k for k in ("STUDYID", "USUBJID", "RSSEQ", "VISIT", "RSMETHOD", "RSSTRESC", "RSSTAT", "RSDTC") if k in rec.columns]
    per = rec.select(*keep, "ADT", "MOD", "AVALC", "_done").with_columns(
        PARAMCD=pl.concat_str(pl.lit("OVR"), c("MOD")), AVAL=c("AVALC").replace_strict(AVAL_LUGANO, default=None, return_dtype=pl.Float64)
    )
    # combined per date (§4.3): primary modality, else the other when the primary was not performed
    usable = per.filter(c("ADT").is_not_null() & c("_done") & c("AVALC").is_not_null())
    other = "CT" if primary_modality == "PET" else "PET"
    wide = (
        usable.group_by("USUBJID", "ADT", "MOD").agg(c("AVALC").sort_by("AVAL", descending=True).first())  # same-day: worst
        .pivot(on="MOD", index=["USUBJID", "ADT"], values="AVALC")
    )
    for m in ("PET", "CT"):
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.String).alias(m))
    comb = wide.select(
        "USUBJID", "ADT", AVALC=pl.coalesce(primary_modality, other), MOD=pl.when(c(primary_modality).is_null()).then(pl.lit(other)).otherwise(pl.lit(primary_modality))
    ).with_columns(PARAMCD=pl.lit("OVR"), AVAL=c("AVALC").replace_strict(AVAL_LUGANO, return_dtype=pl.Float64))
    reference = adsl_t.select(subject_id=c("USUBJID"), reference_start=c(reference).cast(pl.Date))
    rule = L.CRITERION.best_response(L.LuganoOptions())
    subjects = adsl_t.select("USUBJID").join(rs.select("USUBJID").unique(), on="USUBJID", how="semi")
    bors = []
    for src, paramcd in ((usable.filter(c("MOD") == "PET"), "BORPET"), (usable.filter(c("MOD") == "CT"), "BORCT"), (comb, "BOR")):
        tp = src.select(subject_id=c("USUBJID"), date=c("ADT"), overall_response=c("AVALC"))
        # the one engine, with Lugano's declared rule (lugano2014.md §5: no confirmation)
        best = best_responses(tp, reference, rule, levels=L.CRITERION.levels(), rules=False).select(
            "subject_id", "best_response", "best_response_date"
        )
        b = subjects.join(best.rename({"subject_id": "USUBJID", "best_response": "AVALC", "best_response_date": "ADT"}), on="USUBJID", how="left").with_columns(
            c("AVALC").fill_null("MISSING"), PARAMCD=pl.lit(paramcd)
        )
        bors.append(b.with_columns(AVAL=c("AVALC").replace_strict(AVAL_LUGANO, return_dtype=pl.Float64)))
    out = pl.concat([per.drop("_done"), comb, *bors], how="diagonal_relaxed")
    params = {"OVRPET": "Overall Response (PET-CT, Lugano 2014)", "OVRCT": "Overall Response (CT, Lugano 2014)",
              "OVR": f"Overall Response (Lugano 2014, primary {primary_modality})", "BORPET": "Best Overall Response (PET-CT, Lugano 2014)",
              "BORCT": "Best Overall Response (CT, Lugano 2014)", "BOR": f"Best Overall Response (Lugano 2014, primary {primary_modality})"}
    order = {k: i for i, k in enumerate(params)}
    out = out.with_columns(
        PARAM=c("PARAMCD").replace_strict(params, default=None), PARCAT3=pl.lit("LUGANO 2014"), _o=c("PARAMCD").replace_strict(order, default=99)
    ).sort("USUBJID", "_o", "ADT", nulls_last=True).drop("_o")
    first = ["USUBJID", "PARAMCD", "PARAM", "PARCAT3", "ADT", "AVALC", "AVAL", "MOD"]
    return out.select(*first, *[k for k in out.columns if k not in first]), notes
