"""Route (b) of ``remission adam --from tr``: per-visit RECIST 1.1 responses computed from
SDTM TR (tumour results) and TU (tumour identification) with the core's RECIST 1.1 engine
(:func:`remission.criteria.recist11.evaluate`).

Mapping of SDTM to the ``lesions`` table (spec/tables.md "lesions"; recist11.md §2–3):

* one evaluator: ``TREVAL``/``TUEVAL`` equal to ``evaluator``; when its records carry an
  acceptance flag (``--ACPTFL``, several independent readers) only accepted ones are used;
* lesion = ``USUBJID`` + ``TRLNKID`` (= ``TULNKID``); ``role`` from ``TUSTRESC``
  (``TARGET`` -> target, ``NON-TARGET`` -> non_target, ``NEW`` -> new; ``TRGRPID`` when the
  lesion has no TU record); ``organ`` = ``TULOC`` (lower case, ``_`` for spaces);
  ``nodal`` = ``TULOC`` contains ``LYMPH NODE``; ``method`` from ``TUMETHOD``;
* ``date`` from ``TRDTC`` imputed as the ADRS dates are (a missing day -> last day of the
  month, so that route (a) and route (b) give the same ``ADT``);
* measurements (``TRTESTCD``): ``LDIAM`` (longest diameter) and ``LPERP`` (longest
  perpendicular = short axis).  ``diameter_mm`` = ``LPERP`` for a nodal lesion and
  ``LDIAM`` otherwise (recist11.md §3.4: nodes by short axis; admiralonco's ADTR makes the
  same choice), ``perpendicular_mm`` the other one;
* ``TRSTRESC`` of a measurement: a number (``TRSTRESN``), or ``TOO SMALL TO MEASURE`` ->
  status ``too_small`` (5 mm by default, recist11.md §3.4), or a not-done value
  (``NOT EVALUABLE``, ``NE``, ``NOT ASSESSED``, ``NOT DONE``, empty) -> no row, i.e. not
  evaluated (recist11.md §4.2);
* ``TUMSTATE`` (non-target / new lesion state): ``PRESENT`` -> present, ``ABSENT`` ->
  absent, ``UNEQUIVOCAL PROGRESSION`` (or ``PROGRESSION``) -> progression, ``EQUIVOCAL`` ->
  equivocal;
* other ``TRTESTCD`` values (e.g. ``SUMDIAM``, derived sums) are ignored: the engine
  recomputes them.

Segments (schema.SEGMENTS): one per subject, ``line = 1``, ``reference_start`` = the ADSL
reference date, ``baseline_date`` = the last lesion date on or before it, ``end_date``
open.  Subjects without a reference date have no segment and so no derived response.

A ``TRSTRESC`` outside these vocabularies is an :class:`~remission.errors.InputError`.
"""

from __future__ import annotations

import polars as pl

from remission.errors import InputError, InputErrors
from remission.io.sdtm import REQUIRED, ROW, SdtmData, dtc_errors, impute_dtc, require_columns
from remission.options import RecistOptions
from remission.schema import LESIONS

__all__ = ["tr_to_lesions", "segments_for", "tr_timepoints", "overall_responses_from_tr"]

_NOT_DONE = {"NOT EVALUABLE", "NE", "NOT ASSESSED", "NOT DONE", "ND", "UNABLE TO EVALUATE"}
_STATES = {
    "PRESENT": "present",
    "ABSENT": "absent",
    "UNEQUIVOCAL PROGRESSION": "progression",
    "PROGRESSION": "progression",
    "EQUIVOCAL": "equivocal",
}
_ROLES = {"TARGET": "target", "NON-TARGET": "non_target", "NON TARGET": "non_target", "NEW": "new"}


def _select(frame: pl.DataFrame, prefix: str, evaluator: str) -> pl.DataFrame:
    ev, acpt = f"{prefix}EVAL", f"{prefix}ACPTFL"
    if ev in frame.columns:
        frame = frame.filter(pl.col(ev).str.to_uppercase() == evaluator.upper())
    if acpt in frame.columns and frame[acpt].is_not_null().any():
        frame = frame.filter(pl.col(acpt) == "Y")
    return frame


def _method(col: pl.Expr) -> pl.Expr:
    u = col.str.to_uppercase()
    return (
        pl.when(u.str.contains("PET"))
        .then(pl.lit("PET"))
        .when(u.str.contains(r"\bCT\b|COMPUTED"))
        .then(pl.lit("CT"))
        .when(u.str.contains("MRI|MAGNETIC"))
        .then(pl.lit("MRI"))
        .when(u.str.contains("X-RAY|XRAY|RADIOGRAPH"))
        .then(pl.lit("XR"))
        .when(u.str.contains("PHYSICAL|CLINICAL|PHOTO"))
        .then(pl.lit("clinical"))
        .otherwise(pl.lit(None, pl.String))
    )


def tr_to_lesions(
    tr: pl.DataFrame, tu: pl.DataFrame | None, *, evaluator: str = "INVESTIGATOR", tr_file: str = "tr", tu_file: str = "tu"
) -> tuple[pl.DataFrame, list[InputError]]:
    """The ``lesions`` table (schema.LESIONS, plus ``visit``, ``visitnum``, ``dtc``) from
    text TR/TU frames, and located errors for values outside the vocabularies."""
    errors = require_columns(tr, REQUIRED["tr"], tr_file)
    if tu is not None:
        errors += require_columns(tu, REQUIRED["tu"], tu_file)
    if errors:
        raise InputErrors(errors)
    tr = _select(tr, "TR", evaluator)
    errors += dtc_errors(tr, "TRDTC", tr_file)
    date, _flag = impute_dtc(pl.col("TRDTC"), date_imputation="last", highest_imputation="D")
    res = pl.col("TRSTRESC").str.to_uppercase()
    tr = tr.with_columns(
        date.alias("date"),
        res.alias("__res__"),
        pl.coalesce(
            pl.col("TRSTRESN").cast(pl.Float64, strict=False) if "TRSTRESN" in tr.columns else pl.lit(None, pl.Float64),
            pl.col("TRSTRESC").cast(pl.Float64, strict=False),
        ).alias("__num__"),
    )
    measure = pl.col("TRTESTCD").is_in(["LDIAM", "LPERP"])
    state = pl.col("TRTESTCD") == "TUMSTATE"
    ok = (
        pl.col("__res__").is_null()
        | pl.col("__res__").is_in(list(_NOT_DONE))
        | (measure & (pl.col("__num__").is_not_null() | (pl.col("__res__") == "TOO SMALL TO MEASURE")))
        | (state & pl.col("__res__").is_in(list(_STATES)))
    )
    bad = tr.filter((measure | state) & ~ok)
    errors += [
        InputError(
            tr_file, r[ROW], r["USUBJID"], "TRSTRESC", r["TRSTRESC"],
            "a diameter in mm or TOO SMALL TO MEASURE (LDIAM/LPERP); PRESENT, ABSENT, EQUIVOCAL or "
            "UNEQUIVOCAL PROGRESSION (TUMSTATE); or a not-done value",
            "invalid_value",
        )  # fmt: skip
        for r in bad.select(ROW, "USUBJID", "TRSTRESC").iter_rows(named=True)
    ]
    if errors:
        raise InputErrors(errors)

    if tu is not None:
        tu = _select(tu, "TU", evaluator)
        tu_cols = tu.select(
            "USUBJID",
            pl.col("TULNKID").alias("TRLNKID"),
            pl.col("TUSTRESC").str.to_uppercase().alias("__role__"),
            (pl.col("TULOC") if "TULOC" in tu.columns else pl.lit(None, pl.String)).alias("__loc__"),
            (pl.col("TUMETHOD") if "TUMETHOD" in tu.columns else pl.lit(None, pl.String)).alias("__method__"),
        ).unique(["USUBJID", "TRLNKID"], keep="first", maintain_order=True)
        tr = tr.join(tu_cols, on=["USUBJID", "TRLNKID"], how="left")
    else:
        tr = tr.with_columns(
            pl.lit(None, pl.String).alias("__role__"),
            pl.lit(None, pl.String).alias("__loc__"),
            pl.lit(None, pl.String).alias("__method__"),
        )
    grp = pl.col("TRGRPID").str.to_uppercase() if "TRGRPID" in tr.columns else pl.lit(None, pl.String)
    tr = tr.with_columns(
        pl.coalesce(pl.col("__role__"), grp).replace_strict(_ROLES, default=None).alias("role"),
        pl.col("__loc__").str.to_uppercase().str.contains("LYMPH NODE").fill_null(False).alias("nodal"),
        pl.col("__loc__").str.to_lowercase().str.replace_all(r"\s+", "_").alias("organ"),
        _method(pl.col("__method__")).alias("method"),
    )
    unknown_role = tr.filter((measure | state) & pl.col("role").is_null())
    if unknown_role.height:
        raise InputErrors(
            InputError(tu_file if tu is not None else tr_file, r[ROW], r["USUBJID"], "TUSTRESC", r["TRLNKID"],
                       "a lesion identified in TU as TARGET, NON-TARGET or NEW", "unknown_lesion")  # fmt: skip
            for r in unknown_role.select(ROW, "USUBJID", "TRLNKID").iter_rows(named=True)
        )
    keys = ["USUBJID", "TRLNKID", "date"]
    done = pl.col("__res__").is_not_null() & ~pl.col("__res__").is_in(list(_NOT_DONE))
    meas = (
        tr.filter(measure & done)
        .group_by(keys)
        .agg(
            pl.col("__num__").filter(pl.col("TRTESTCD") == "LDIAM").first().alias("__ld__"),
            pl.col("__num__").filter(pl.col("TRTESTCD") == "LPERP").first().alias("__lp__"),
            (pl.col("__res__").filter(pl.col("TRTESTCD") == "LDIAM").first() == "TOO SMALL TO MEASURE").alias("__tld__"),
            (pl.col("__res__").filter(pl.col("TRTESTCD") == "LPERP").first() == "TOO SMALL TO MEASURE").alias("__tlp__"),
        )
    )
    st = (
        tr.filter(state & done)
        .group_by(keys)
        .agg(pl.col("__res__").first().replace_strict(_STATES, default=None).alias("__state__"))
    )
    info = (
        tr.filter(measure | state)
        .sort(ROW)
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("role", "nodal", "organ", "method").first(),
            pl.col("VISIT").first().alias("visit") if "VISIT" in tr.columns else pl.lit(None, pl.String).alias("visit"),
            pl.col("VISITNUM").first().alias("visitnum") if "VISITNUM" in tr.columns else pl.lit(None, pl.String).alias("visitnum"),
            pl.col("TRDTC").first().alias("dtc"),
            (pl.col("STUDYID").first() if "STUDYID" in tr.columns else pl.lit(None, pl.String)).alias("studyid"),
        )
    )
    les = info.join(meas, on=keys, how="left").join(st, on=keys, how="left")
    nodal = pl.col("nodal")
    diam = pl.when(nodal).then(pl.col("__lp__")).otherwise(pl.col("__ld__"))
    perp = pl.when(nodal).then(pl.col("__ld__")).otherwise(pl.col("__lp__"))
    tstm = pl.when(nodal).then(pl.col("__tlp__")).otherwise(pl.col("__tld__")).fill_null(False)
    les = les.with_columns(
        diam.alias("diameter_mm"),
        perp.alias("perpendicular_mm"),
        pl.when(tstm & diam.is_null()).then(pl.lit("too_small")).otherwise(pl.col("__state__")).alias("status"),
    ).filter(
        # a lesion row exists only when something was evaluated at that date
        pl.col("diameter_mm").is_not_null() | pl.col("status").is_not_null()
    )
    les = les.rename({"USUBJID": "subject_id", "TRLNKID": "lesion_id"})
    cols = list(LESIONS) + ["visit", "visitnum", "dtc", "studyid"]
    # optional LESIONS columns that TR cannot carry (viable_diameter_mm) are null
    les = les.with_columns([pl.lit(None, dtype=LESIONS[c]).alias(c) for c in LESIONS if c not in les.columns])
    return les.select([pl.col(c).cast(LESIONS[c]) if c in LESIONS else pl.col(c) for c in cols]).sort(
        "subject_id", "date", "lesion_id"
    ), []


def segments_for(lesions: pl.DataFrame, reference: pl.DataFrame) -> pl.DataFrame:
    """schema.SEGMENTS: one line per subject; baseline = last lesion date <= reference start.

    ``reference``: ``subject_id``, ``reference_start``.
    """
    base = (
        lesions.select("subject_id", "date")
        .join(reference, on="subject_id", how="inner")
        .filter(pl.col("date") <= pl.col("reference_start"))
        .group_by("subject_id")
        .agg(pl.col("date").max().alias("baseline_date"))
    )
    return (
        reference.filter(pl.col("reference_start").is_not_null())
        .join(lesions.select("subject_id").unique(), on="subject_id", how="semi")
        .join(base, on="subject_id", how="left")
        .select(
            pl.col("subject_id").cast(pl.String),
            pl.lit(1, pl.Int32).alias("line"),
            pl.col("reference_start").cast(pl.Date),
            pl.col("baseline_date").cast(pl.Date),
            pl.lit(None, pl.Date).alias("end_date"),
        )
        .sort("subject_id")
    )


def tr_timepoints(
    sdtm: SdtmData, adsl: pl.DataFrame, *, reference: str = "RANDDT", evaluator: str = "INVESTIGATOR",
    options: RecistOptions = RecistOptions(),
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """(lesions, timepoints): the RECIST 1.1 engine's per-date output for TR/TU data."""
    from remission.criteria import recist11

    tr = sdtm.get("tr")
    if tr is None:
        raise InputErrors([InputError("tr", None, None, None, None, "a TR domain file (tr.csv, tr.xpt or tr.json)", "missing")])
    lesions, _ = tr_to_lesions(tr, sdtm.get("tu"), evaluator=evaluator, tr_file=sdtm.file("tr"), tu_file=sdtm.file("tu"))
    ref = adsl.select(pl.col("USUBJID").alias("subject_id"), pl.col(reference).cast(pl.Date).alias("reference_start"))
    segments = segments_for(lesions, ref)
    tp = recist11.evaluate(lesions.select(list(LESIONS)), segments, options)
    return lesions, tp


def overall_responses_from_tr(
    sdtm: SdtmData, adsl: pl.DataFrame, *, reference: str = "RANDDT", evaluator: str = "INVESTIGATOR"
) -> tuple[pl.DataFrame, str, list[InputError]]:
    """RS-like OVRLRESP records (text columns + :data:`ROW`) from TR/TU, for :func:`derive_adrs`.

    One record per subject and evaluated follow-up date with ``RSSTRESC`` = the engine's
    ``overall_response``; ``VISIT``/``VISITNUM``/``RSDTC`` are those of the TR records of
    that date; ``RSSEQ`` numbers the records of a subject by date; ``RSEXPL`` holds the
    engine's one-line explanation (our extension).
    """
    lesions, tp = tr_timepoints(sdtm, adsl, reference=reference, evaluator=evaluator)
    visits = lesions.group_by("subject_id", "date").agg(
        pl.col("visit").first(), pl.col("visitnum").first(), pl.col("dtc").first(), pl.col("studyid").first()
    )
    out = (
        tp.filter(pl.col("overall_response").is_not_null())
        .join(visits, on=["subject_id", "date"], how="left")
        .sort("subject_id", "date")
        .select(
            pl.col("studyid").alias("STUDYID"),
            pl.lit("RS").alias("DOMAIN"),
            pl.col("subject_id").alias("USUBJID"),
            pl.col("visitnum").alias("VISITNUM"),
            pl.col("visit").alias("VISIT"),
            pl.lit("OVRLRESP").alias("RSTESTCD"),
            pl.lit("Overall Response").alias("RSTEST"),
            pl.col("overall_response").alias("RSORRES"),
            pl.col("overall_response").alias("RSSTRESC"),
            pl.lit(evaluator).alias("RSEVAL"),
            pl.col("dtc").alias("RSDTC"),
            pl.int_range(1, pl.len() + 1).over("subject_id").cast(pl.String).alias("RSSEQ"),
            pl.col("explanation").alias("RSEXPL"),
        )
        .with_row_index(ROW, offset=1)
        .with_columns(pl.col(ROW).cast(pl.Int64))
    )
    return out, f"{sdtm.file('tr')} (derived responses)", []
