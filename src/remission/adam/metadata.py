"""Variable metadata of the ADaM outputs: types and labels (issue 16 item 8).

ADSL variables copied into ADRS, ADTTE and ADTR keep their type and label, whether the
ADSL came as CSV (text only), Parquet, XPT or Dataset-JSON:

1. the input file's own metadata when it has some (XPT: SAS formats and labels;
   Dataset-JSON: ``dataType``/``targetDataType`` and labels; Parquet or a frame: the column
   types), read by :mod:`remission.io.sdtm` into :attr:`SdtmData.meta`;
2. else admiral's metadata: pharmaverseadam's ADaM specification
   (``inst/extdata/adams-specs.json``, shipped as ``data/adam/admiral_variables.csv`` for
   ADSL, ADRS, ADTTE and ADTR; see ``data/adam/NOTICE.md``);
3. else the variable stays text.

Types: ``date`` (SAS date, format ``DATE``) -> ``pl.Date``; ``datetime`` numeric (format
``DATETIME``, the ``*DTM`` variables) -> ``pl.Datetime``; ``integer`` -> ``pl.Int64`` (when
every value is a whole number, else ``pl.Float64``); ``float`` -> ``pl.Float64``; ``text``
and ISO 8601 character dates (``--DTC``, which the specification calls ``datetime`` without a
format) stay text.  A value that does not fit its type is a located
:class:`~remission.errors.InputError`.

SDTM variables carried into the ADaM records are typed by the SDTM convention: ``--SEQ``
integer, ``VISITNUM`` and ``--STRESN`` numbers (:data:`SDTM_NUMERIC`).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from typing import Mapping

import polars as pl

from remission.errors import InputError
from remission.io.sdtm import ColumnMeta

__all__ = ["ColumnMeta", "admiral_variables", "type_columns", "labels_for", "merge_meta", "KEY_VARIABLES", "SDTM_NUMERIC"]


@lru_cache(maxsize=1)
def _spec() -> dict[str, dict[str, ColumnMeta]]:
    path = resources.files("remission") / "data" / "adam" / "admiral_variables.csv"
    out: dict[str, dict[str, ColumnMeta]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            t, fmt = row["data_type"], row["format"].upper()
            if t == "integer" and fmt.startswith("DATETIME"):
                kind = "datetime"
            elif t == "integer" and fmt.startswith("DATE"):
                kind = "date"
            elif t == "integer" and fmt.startswith("TIME"):
                kind = "time"
            elif t in ("integer", "float"):
                kind = t
            else:  # text, and ISO 8601 character dates (datetime without a SAS format)
                kind = "text"
            out.setdefault(row["dataset"], {})[row["variable"]] = ColumnMeta(kind, row["label"] or None)
    return out


def admiral_variables(dataset: str) -> dict[str, ColumnMeta]:
    """admiral's metadata of ``ADSL``, ``ADRS``, ``ADTTE`` or ``ADTR`` (variable -> meta)."""
    return dict(_spec().get(dataset.upper(), {}))


#: SDTM variables carried into ADaM records, typed by the SDTM convention (SDTMIG: --SEQ
#: is an integer sequence number, VISITNUM and --STRESN are numbers).
SDTM_NUMERIC = {"RSSEQ": "integer", "TRSEQ": "integer", "TUSEQ": "integer", "VISITNUM": "float",
                "TRSTRESN": "float", "RSSTRESN": "float"}  # fmt: skip

#: Dataset-JSON ``keySequence`` of the outputs: one record per subject and ``ASEQ``
#: (``ASEQ`` numbers a subject's records in ``PARAMCD`` order), so these keys are unique.
KEY_VARIABLES = ("STUDYID", "USUBJID", "PARAMCD", "ASEQ")


def _datetime_expr(name: str) -> pl.Expr:
    t = pl.col(name).str.strip_chars().str.replace(" ", "T")
    return pl.coalesce(
        t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"),
        t.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"),
        t.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us"),
        t.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )


def type_columns(
    frame: pl.DataFrame,
    meta: Mapping[str, ColumnMeta],
    file: str,
    *,
    row: str = "__row__",
    subject: str = "USUBJID",
) -> tuple[pl.DataFrame, list[InputError]]:
    """``frame`` (text columns, or already typed) with each column of ``meta`` cast to its
    kind; located errors for values that do not fit."""
    exprs, errors = [], []
    for name, m in meta.items():
        if name not in frame.columns or name in (row,):
            continue
        dtype = frame.schema[name]
        if m.kind == "text" or (m.kind == "date" and dtype == pl.Date) or (m.kind == "datetime" and isinstance(dtype, pl.Datetime)):
            continue
        col = pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)
        src = frame.select(col.alias(name))
        if m.kind == "date":
            typed = src.select(pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)).to_series()
            expected = "a date YYYY-MM-DD"
        elif m.kind == "datetime":
            typed = src.select(_datetime_expr(name)).to_series()
            expected = "a date-time YYYY-MM-DDTHH:MM:SS"
        elif m.kind == "time":
            continue  # kept as text: no ADaM output here has a time variable
        else:
            typed = src.select(pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)).to_series()
            expected = "a number"
            if m.kind == "integer":
                whole = typed.drop_nulls()
                if whole.is_empty() or (whole == whole.round(0)).all():
                    typed = typed.cast(pl.Int64)
        bad = frame.with_columns(typed.alias("__typed__")).filter(pl.col(name).is_not_null() & pl.col("__typed__").is_null())
        if bad.height:
            cols = [c for c in (row, subject) if c in frame.columns]
            for r in bad.select(*cols, pl.col(name).cast(pl.String)).iter_rows(named=True):
                errors.append(InputError(file, r.get(row), r.get(subject), name, r[name], expected, "invalid_value"))
            continue
        exprs.append(typed.alias(name))
    return (frame.with_columns(exprs) if exprs else frame), errors


def type_sdtm(frame: pl.DataFrame) -> pl.DataFrame:
    """The :data:`SDTM_NUMERIC` columns of an output frame as numbers (``--SEQ`` as integers
    when whole); a column holding some non-numeric text is left as it is (the SDTM readers
    report bad values where they matter)."""
    exprs = []
    for name, kind in SDTM_NUMERIC.items():
        if name not in frame.columns or frame.schema[name] != pl.String:
            continue
        num = frame.get_column(name).str.strip_chars().cast(pl.Float64, strict=False)
        if num.null_count() != frame.get_column(name).null_count():
            continue
        whole = num.drop_nulls()
        if kind == "integer" and (whole.is_empty() or (whole == whole.round(0)).all()):
            num = num.cast(pl.Int64)
        exprs.append(num.alias(name))
    return frame.with_columns(exprs) if exprs else frame


def labels_for(dataset: str, *metas: Mapping[str, ColumnMeta] | None) -> dict[str, str]:
    """Variable labels of one output: admiral's metadata of ``dataset`` and of ADSL, then
    each of ``metas`` in turn (later ones win), without the unknown ones."""
    out: dict[str, str] = {}
    for m in (admiral_variables("ADSL"), admiral_variables(dataset), *metas):
        for k, v in (m or {}).items():
            if v.label:
                out[k] = v.label
    return out


def output_labels(dataset: str, adsl_meta: Mapping[str, ColumnMeta] | None = None) -> dict[str, str]:
    """Labels of one ADaM output: admiral's metadata, then ours
    (:data:`remission.io.adam_write.LABELS`, for the variables we derive), then the ADSL's
    own (``adsl_meta``: input file, else admiral's ADSL metadata) for its variables."""
    from remission.io.adam_write import LABELS

    out = {**labels_for(dataset), **LABELS}
    out.update({k: v.label for k, v in (adsl_meta or {}).items() if v.label})
    return out


def merge_meta(*metas: Mapping[str, ColumnMeta] | None) -> dict[str, ColumnMeta]:
    """Later metadata wins (its label only when it has one).  Kind ``number`` (a numeric
    input column without integer/float information: XPT stores every number as a double)
    becomes the earlier kind when that is ``integer`` or ``float``, else ``float``."""
    out: dict[str, ColumnMeta] = {}
    for m in metas:
        for k, v in (m or {}).items():
            old = out.get(k)
            kind = v.kind
            if kind == "number":
                kind = old.kind if old is not None and old.kind in ("integer", "float") else "float"
            out[k] = ColumnMeta(kind, v.label or (old.label if old else None))
    return out
