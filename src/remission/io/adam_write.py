"""Writing ADaM datasets: CSV, SAS transport (XPT version 5) and CDISC Dataset-JSON v1.1.

* CSV: dates ``YYYY-MM-DD``, missing values as empty cells (the oracle files' convention).
* XPT: SAS transport **version 5** through pyreadstat (the version regulators accept:
  FDA Study Data Technical Conformance Guide).  Version 5 limits names to 8 characters,
  labels to 40 and character values to 200 bytes: a longer name is an error; longer
  character values (only free-text explanations can be) are cut at 200 bytes (choice).
  Dates are written as SAS dates with format ``DATE9.``.
* Dataset-JSON v1.1: one object with ``datasetJSONVersion = "1.1.0"``, ``columns`` (OID,
  name, label, dataType) and ``rows``; dates as ISO 8601 text with ``dataType = "date"``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

__all__ = ["write_adam", "FORMATS", "LABELS"]

FORMATS = ("csv", "xpt", "json")

#: Variable labels (ADaM IG / admiral templates) written to XPT and Dataset-JSON.
LABELS = {
    "STUDYID": "Study Identifier",
    "USUBJID": "Unique Subject Identifier",
    "SUBJID": "Subject Identifier for the Study",
    "ASEQ": "Analysis Sequence Number",
    "PARAMCD": "Parameter Code",
    "PARAM": "Parameter",
    "PARCAT1": "Parameter Category 1",
    "PARCAT2": "Parameter Category 2",
    "PARCAT3": "Parameter Category 3",
    "ADT": "Analysis Date",
    "ADTF": "Analysis Date Imputation Flag",
    "AVISIT": "Analysis Visit",
    "AVAL": "Analysis Value",
    "AVALC": "Analysis Value (C)",
    "ANL01FL": "Analysis Flag 01",
    "ANL02FL": "Analysis Flag 02",
    "RANDDT": "Date of Randomization",
    "TRTSDT": "Date of First Exposure to Treatment",
    "STARTDT": "Time to Event Origin Date for Subject",
    "CNSR": "Censor",
    "EVNTDESC": "Event or Censoring Description",
    "CNSDTDSC": "Censor Date Description",
    "SRCDOM": "Source Data",
    "SRCVAR": "Source Variable",
    "SRCSEQ": "Source Sequence Number",
    "VISITNUM": "Visit Number",
    "VISIT": "Visit Name",
    "RSTESTCD": "Assessment Short Name",
    "RSTEST": "Assessment Name",
    "RSORRES": "Result or Finding in Original Units",
    "RSSTRESC": "Character Result/Finding in Std Format",
    "RSEVAL": "Evaluator",
    "RSEVALID": "Evaluator Identifier",
    "RSACPTFL": "Accepted Record Flag",
    "RSDTC": "Date/Time of Assessment",
    "RSSEQ": "Sequence Number",
    "RSEXPL": "Derivation of the Response (remission)",
}


def _json_type(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "date"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "double"
    if dtype == pl.Boolean:
        return "boolean"
    return "string"


def _write_json(frame: pl.DataFrame, path: Path, name: str, label: str | None) -> None:
    cols = []
    for c, t in frame.schema.items():
        col = {"itemOID": f"IT.{name}.{c}", "name": c, "label": LABELS.get(c, c), "dataType": _json_type(t)}
        if t == pl.String:
            n = frame[c].str.len_bytes().max()
            col["length"] = int(n) if n is not None else 1
        cols.append(col)
    out = frame.with_columns(pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date)
    doc = {
        "datasetJSONCreationDateTime": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "datasetJSONVersion": "1.1.0",
        "fileOID": f"remission.{name}",
        "originator": "remission",
        "sourceSystem": {"name": "remission", "version": "0"},
        "itemGroupOID": f"IG.{name}",
        "records": out.height,
        "name": name,
        "label": label or name,
        "columns": cols,
        "rows": out.rows(),
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str), encoding="utf-8")


def _write_xpt(frame: pl.DataFrame, path: Path, name: str, label: str | None) -> None:
    import pyreadstat

    long = [c for c in frame.columns if len(c) > 8]
    if long:
        raise ValueError(f"XPT version 5 allows variable names of at most 8 characters: {long}")
    exprs, formats = [], {}
    for c, t in frame.schema.items():
        if t == pl.Date:
            exprs.append(pl.col(c))
            formats[c] = "DATE9"
        elif t == pl.String:
            # version 5: character values of at most 200 bytes (cut on a character boundary)
            exprs.append(
                pl.col(c).map_elements(lambda v: v.encode("utf-8")[:200].decode("utf-8", "ignore"), return_dtype=pl.String)
                if (frame[c].str.len_bytes().max() or 0) > 200
                else pl.col(c)
            )
        elif t == pl.Boolean:
            exprs.append(pl.when(pl.col(c)).then(pl.lit("Y")).when(pl.col(c).is_not_null()).then(pl.lit("N")).alias(c))
        else:
            exprs.append(pl.col(c).cast(pl.Float64))
    out = frame.select(exprs)
    labels = [LABELS.get(c, c)[:40] for c in frame.columns]
    pyreadstat.write_xport(
        out, str(path), file_label=(label or name)[:40], column_labels=labels, table_name=name[:8],
        file_format_version=5, variable_format=formats,
    )  # fmt: skip


def write_adam(frame: pl.DataFrame, path: str | Path, *, fmt: str = "csv", name: str | None = None, label: str | None = None) -> Path:
    """Write one ADaM dataset; ``path`` without suffix gets ``.csv``/``.xpt``/``.json``.

    Returns the path written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    path = Path(path)
    if path.suffix.lower() != f".{fmt}":
        path = path.with_suffix(f".{fmt}")
    name = (name or path.stem).upper()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.write_csv(path, date_format="%Y-%m-%d", null_value="")
    elif fmt == "xpt":
        _write_xpt(frame, path, name, label)
    else:
        _write_json(frame, path, name, label)
    return path
