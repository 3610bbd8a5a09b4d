"""Reading CDISC SDTM (and ADSL) tables for ``remission adam``.

A study folder holds one file per domain, named by the domain in any case: ``rs.csv``,
``RS.xpt``, ``rs.json`` (CDISC Dataset-JSON v1.1, also ``.ndjson``), ``rs.parquet``.  Every
column is read as text (nothing is inferred, so a reader never changes a value); surrounding
whitespace is stripped and empty strings become nulls (admiral's ``convert_blanks_to_na``).
Parquet columns that are not text become the text a CSV copy would hold (dates
``YYYY-MM-DD``, datetimes ``YYYY-MM-DDTHH:MM:SS``, numbers as polars writes them), so a
Parquet file gives the same values, checks and located errors (row = position in the file)
as its CSV copy; Parquet is simply faster to read for large studies.  Each frame
gets a 1-based data row number in :data:`ROW` so that every problem can be located
(spec/tables.md "Bad input").

Partial ISO 8601 dates (``--DTC``) are imputed as admiral's ``derive_vars_dt`` does:
:func:`impute_dtc` with ``highest_imputation="D"`` fills a missing day only (the ADRS
template: missing day -> last day of the month, flag ``ADTF = "D"``); a date with a missing
month stays missing there.  A value that is not an ISO 8601 date at all is an
:class:`~remission.errors.InputError`.

Choices (the issue does not say):

* If a folder holds the same domain twice (``rs.csv`` and ``RS.xpt``, or ``rs.csv`` and
  ``rs.parquet``), that is an input error rather than a silent pick.
* SAS numeric dates read from ``.xpt`` (or Dataset-JSON ``date`` columns) become ISO
  strings ``YYYY-MM-DD``, the form of the CSV copies; other numbers keep pyreadstat's
  text form (``3.0``).  Code that needs a number casts the text.
* ``SUPP--`` qualifiers are merged onto their parent domain as extra columns (QNAM ->
  QVAL), joined by ``USUBJID`` and ``IDVAR``/``IDVARVAL`` (subject level when ``IDVAR`` is
  empty), when the folder has them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import polars as pl

from remission.errors import InputError, InputErrors

#: 1-based data row number added to every table read.
ROW = "__row__"

#: Domains ``remission adam`` may use (lower case).
DOMAINS = ("rs", "tr", "tu", "dm", "ds", "ex", "adsl", "supprs", "supptr", "supptu", "suppdm")
EXTENSIONS = (".csv", ".parquet", ".xpt", ".json", ".ndjson")

#: Columns a domain must have to be usable (admiral's templates read these).
REQUIRED = {
    "rs": ("USUBJID", "RSTESTCD", "RSSTRESC", "RSDTC"),
    "tr": ("USUBJID", "TRLNKID", "TRTESTCD", "TRSTRESC", "TRDTC"),
    "tu": ("USUBJID", "TULNKID", "TUSTRESC"),
    "dm": ("USUBJID",),
    "ds": ("USUBJID", "DSDECOD"),
    "adsl": ("USUBJID",),
}

@dataclass(frozen=True)
class ColumnMeta:
    """What an input file says about one column: its kind (``text``, ``integer``, ``float``,
    ``number`` = numeric of unknown precision, ``date``, ``datetime``, ``time``) and label
    (``None``: not known).  CSV files say nothing; XPT, Dataset-JSON and typed Parquet do."""

    kind: str = "text"
    label: str | None = None


_DTC_RE = r"^\d{4}(-(\d{2}|-)(-(\d{2}|-))?)?(T[0-9:.+\-Z]*)?$"


@dataclass(frozen=True)
class SdtmData:
    """SDTM domains as text frames (each with :data:`ROW`), keyed by lower-case domain."""

    tables: dict[str, pl.DataFrame]
    files: dict[str, str] = field(default_factory=dict)
    #: file name -> where a text editor shows each row (CSV files; issue 14 item 5)
    labels: dict = field(default_factory=dict)

    def locate(self, errors: Iterable[InputError]) -> list[InputError]:
        """``errors`` with the CSV line of their row (:attr:`InputError.label`)."""
        from dataclasses import replace

        out = []
        for e in errors:
            lab = self.labels.get(e.file)
            out.append(replace(e, label=lab(e.row)) if lab is not None and e.label is None and e.row else e)
        return out
    #: per domain, the column metadata its file carried (:class:`ColumnMeta`; XPT, Dataset-JSON, Parquet)
    meta: dict[str, dict[str, ColumnMeta]] = field(default_factory=dict)

    def get(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name.lower())

    def file(self, name: str) -> str:
        return self.files.get(name.lower(), f"{name.lower()} (data frame)")

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.tables


# --------------------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------------------


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """All columns text, stripped, empty -> null, plus the row number.

    A text column whose distinct values need no change (none empty, none with surrounding
    whitespace; the usual case, checked on the distinct values only, which is cheap as
    SDTM columns repeat few values) is kept as it is instead of being rewritten.
    """
    frame = frame.rename({c: c.strip() for c in frame.columns})
    text = [n for n, t in frame.schema.items() if t == pl.String]
    clean: set[str] = set()
    if text:
        uniq = frame.select(pl.col(n).unique().implode() for n in text)  # one row of lists

        def needs_cleaning(name: str) -> pl.Expr:
            u = pl.col(name).explode()
            return ((u.str.strip_chars() != u) | (u == "")).any()

        dirty = uniq.select(needs_cleaning(n) for n in text).row(0)
        clean = {n for n, d in zip(text, dirty) if not d}
    exprs = []
    for name, dtype in frame.schema.items():
        if name in clean:
            exprs.append(pl.col(name))
            continue
        col = pl.col(name)
        if dtype == pl.Date:
            col = col.dt.strftime("%Y-%m-%d")
        elif dtype in (pl.Datetime, pl.Datetime("us"), pl.Datetime("ns"), pl.Datetime("ms")) or isinstance(
            dtype, pl.Datetime
        ):
            col = col.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif dtype != pl.String:
            col = col.cast(pl.String)
        col = col.str.strip_chars()
        exprs.append(pl.when(col == "").then(None).otherwise(col).alias(name))
    out = frame.select(exprs) if exprs else frame
    return out.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def frame_meta(frame: pl.DataFrame) -> dict[str, ColumnMeta]:
    """The kinds a typed frame (Parquet, polars/pandas) shows; text columns say nothing."""
    out = {}
    for name, t in frame.schema.items():
        if t == pl.Date:
            out[name] = ColumnMeta("date")
        elif isinstance(t, pl.Datetime):
            out[name] = ColumnMeta("datetime")
        elif t == pl.Time:
            out[name] = ColumnMeta("time")
        elif t.is_integer():
            out[name] = ColumnMeta("integer")
        elif t.is_float():
            out[name] = ColumnMeta("number")
    return out


#: SDTM/ADaM columns holding numbers (decimal commas read in a ``;``-separated file)
_NUMERIC_SUFFIXES = ("STRESN", "STRESC", "ORRES", "SEQ", "VISITNUM", "DY", "AVAL", "AGE")


def _read_csv(path: Path, encoding: str = "utf-8") -> tuple[pl.DataFrame, object]:
    """A CSV file as text (:func:`remission.io.dialect.read_csv_text`: ``;`` separators
    and decimal commas, BOM, CRLF; a byte that is not of ``encoding`` is a located error,
    never replaced), and the line of each record (a :class:`~remission.io.tables.RowLabels`)."""
    from remission.io.dialect import _header_names, decode, read_csv_text, sniff
    from remission.io.tables import RowLabels

    head = decode(path.read_bytes()[: 1 << 16], path.name, "latin-1")  # only for the column names
    names = [n.strip() for n in _header_names(head, sniff(head))]
    numeric = [n for n in names if n.upper().endswith(_NUMERIC_SUFFIXES)]
    frame, _dialect, lines = read_csv_text(path, numeric=numeric, encoding=encoding)
    labels = RowLabels("line", 1) if lines is None else RowLabels("line", 0, tuple(lines.to_list()))
    return frame, labels


def _read_parquet(path: Path) -> pl.DataFrame:
    """A Parquet table as it is; :func:`_clean` turns its columns into text."""
    return pl.read_parquet(path)


def _xpt_meta(meta) -> dict[str, ColumnMeta]:
    """Kinds and labels from pyreadstat's XPT metadata (SAS formats DATE/DATETIME/TIME)."""
    out = {}
    labels = meta.column_names_to_labels or {}
    formats = meta.original_variable_types or {}
    for name, t in (meta.readstat_variable_types or {}).items():
        fmt = str(formats.get(name) or "").upper()
        if t == "string":
            kind = "text"
        elif fmt.startswith(("DATETIME", "E8601DT")):
            kind = "datetime"
        elif fmt.startswith(("DATE", "E8601DA", "YYMMDD")):
            kind = "date"
        elif fmt.startswith(("TIME", "E8601TM")):
            kind = "time"
        else:
            kind = "number"
        out[name] = ColumnMeta(kind, labels.get(name) or None)
    return out


def _json_meta(columns: list[dict]) -> dict[str, ColumnMeta]:
    """Kinds and labels of Dataset-JSON columns: a ``date``/``datetime`` with
    ``targetDataType = integer`` is a numeric ADaM date; without it an ISO 8601 text."""
    out = {}
    for c in columns:
        t, target = c.get("dataType", "string"), c.get("targetDataType")
        if t in ("date", "datetime", "time"):
            kind = t if target == "integer" else "text"
        elif t == "integer":
            kind = "integer"
        elif t in ("float", "double", "decimal"):
            kind = "number"
        else:
            kind = "text"
        out[c["name"]] = ColumnMeta(kind, c.get("label") or None)
    return out


def read_meta(path: str | Path) -> dict[str, ColumnMeta]:
    """The column metadata a file carries (empty for CSV); ``{}`` when it cannot be read."""
    path = Path(path)
    ext = path.suffix.lower()
    try:
        if ext == ".xpt":
            import pyreadstat

            _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
            return _xpt_meta(meta)
        if ext == ".ndjson":
            with open(path, encoding="utf-8") as fh:
                return _json_meta(json.loads(fh.readline())["columns"])
        if ext == ".json":
            return _json_meta(json.loads(path.read_text(encoding="utf-8")).get("columns", []))
        if ext == ".parquet":
            import pyarrow.parquet as pq

            return frame_meta(pl.from_arrow(pq.read_schema(path).empty_table()))
    except Exception:  # noqa: BLE001 - the reader reports unreadable files
        return {}
    return {}


def _read_xpt(path: Path) -> pl.DataFrame:
    import pyreadstat

    import pandas as pd

    df, _meta = pyreadstat.read_xport(str(path))
    cols = {}
    for name in df.columns:
        values = []
        for v in df[name].tolist():
            # missing numerics: NaN, and NaT in a typed datetime column (issue 14 item 6:
            # TRTSDTM of screen failures), which is a datetime instance but has no strftime
            if v is None or v is pd.NaT or (isinstance(v, float) and v != v):
                values.append(None)
            elif isinstance(v, dt.datetime):
                values.append(v.strftime("%Y-%m-%dT%H:%M:%S") if (v.hour or v.minute or v.second) else v.strftime("%Y-%m-%d"))
            elif isinstance(v, dt.date):
                values.append(v.isoformat())
            elif isinstance(v, dt.time):
                values.append(v.isoformat())
            else:
                values.append(str(v))
        cols[name] = pl.Series(name, values, dtype=pl.String)
    return pl.DataFrame(cols) if cols else pl.DataFrame()


def _json_rows(columns: list[dict], rows: Iterable[list], file: str = "") -> pl.DataFrame:
    """Dataset-JSON ``columns`` and ``rows`` as text columns; every shape problem (columns
    not objects with a name, a row not a list of one value per column, a nested value) is
    a located input error (issue 14 item 7), not a silent truncation."""
    if not isinstance(columns, list) or not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in columns):
        raise InputErrors([InputError(file, None, None, "columns", None, "Dataset-JSON 'columns': a list of objects with a 'name'", "invalid_json")])
    names = [c["name"] for c in columns]
    types = [c.get("dataType", "string") for c in columns]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise InputErrors([InputError(file, 0, None, n, n, "each column named once in 'columns'", "DUPLICATE_COLUMN") for n in dups])
    data: dict[str, list] = {n: [] for n in names}
    bad: list[InputError] = []
    if not isinstance(rows, (list, tuple)) and not hasattr(rows, "__next__"):
        raise InputErrors([InputError(file, None, None, "rows", None, "Dataset-JSON 'rows': a list of rows", "invalid_json")])
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, list) or len(r) != len(names):
            shown = f"{len(r)} values" if isinstance(r, list) else type(r).__name__
            bad.append(InputError(file, i, None, None, shown, f"a list of {len(names)} values, one per column", "invalid_json"))
            continue
        nested = [n for n, v in zip(names, r) if isinstance(v, (list, dict))]
        if nested:
            bad.extend(InputError(file, i, None, n, None, "a single value (text, number, boolean or null)", "invalid_json") for n in nested)
            continue
        if len(bad) >= 200:
            break
        for n, t, v in zip(names, types, r):
            if v is None:
                data[n].append(None)
            elif isinstance(v, bool):
                data[n].append("Y" if v else "N")
            elif isinstance(v, float) and t == "integer" and v.is_integer():
                data[n].append(str(int(v)))
            else:
                data[n].append(str(v))
    if bad:
        raise InputErrors(bad)
    return pl.DataFrame({n: pl.Series(n, data[n], dtype=pl.String) for n in names})


def _read_json(path: Path) -> pl.DataFrame:
    """CDISC Dataset-JSON v1.1 (``columns`` + ``rows``), or its NDJSON form."""
    from remission.io.dialect import decode

    text = decode(path.read_bytes(), path.name)
    if path.suffix.lower() == ".ndjson":
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines:
            raise ValueError("an empty file")
        meta = json.loads(lines[0])
        if not isinstance(meta, dict) or "columns" not in meta:
            raise ValueError("not a Dataset-JSON v1.1 NDJSON file (no 'columns' on its first line)")
        rows = []
        for k, ln in enumerate(lines[1:], start=2):
            try:
                rows.append(json.loads(ln))
            except ValueError as exc:
                raise InputErrors([InputError(path.name, k - 1, None, None, ln[:80], f"a JSON row on line {k} ({exc})", "invalid_json")])
        return _json_rows(meta["columns"], rows, path.name)
    doc = json.loads(text)
    if not isinstance(doc, dict) or "columns" not in doc:
        raise ValueError("not a Dataset-JSON v1.1 file (no 'columns')")
    return _json_rows(doc["columns"], doc.get("rows", []), path.name)


def read_table(path: str | Path, encoding: str = "utf-8", labels: dict | None = None) -> pl.DataFrame:
    """One SDTM/ADaM file (``.csv``, ``.parquet``, ``.xpt``, ``.json``/``.ndjson``) as text columns + :data:`ROW`.

    Raises :class:`InputErrors` (located at the file) if it cannot be read.  ``labels``:
    a dict that receives the file's :class:`~remission.io.tables.RowLabels` (CSV lines).
    """
    path = Path(path)
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            raw, row_labels = _read_csv(path, encoding)
            if labels is not None:
                labels[path.name] = row_labels
        elif ext == ".parquet":
            raw = _read_parquet(path)
        elif ext == ".xpt":
            raw = _read_xpt(path)
        elif ext in (".json", ".ndjson"):
            raw = _read_json(path)
        else:
            raise ValueError(f"unknown file type {ext!r}")
    except InputErrors:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader failure becomes a located error
        raise InputErrors(
            [InputError(path.name, None, None, None, None, f"a readable .csv, .parquet, .xpt or Dataset-JSON file ({exc})", "unreadable")]
        ) from exc
    try:
        return _clean(raw)
    except Exception as exc:  # noqa: BLE001 - e.g. a column of nested values
        raise InputErrors(
            [InputError(path.name, None, None, None, None, f"a table of text, number or date columns ({exc})".splitlines()[0], "unreadable")]
        ) from exc


def find_domain_files(
    folder: str | Path, *, needed: Iterable[str] = (), ignore_unknown: bool = False, mapped: Iterable[str] = ()
) -> tuple[dict[str, Path], list[InputError]]:
    """Domain -> file in ``folder`` (names matched in any case), and the layout errors
    (issue 14 item 3; :mod:`remission.io.layout`):

    * the same domain twice (``rs.csv`` and ``RS.xpt``): ``duplicate_domain``;
    * a domain file in a format that is not read (``rs.xlsx``, ``rs.sas7bdat``):
      ``UNKNOWN_FILE`` naming the formats that are;
    * a ``needed`` domain without a file (and not in ``mapped``, the ``--file`` domains)
      while a file looks like it (``rs_onco.csv``, ``RS1.csv``): ``UNKNOWN_FILE`` saying
      how to name it (``--file rs=rs_onco.csv``).

    Other files are not errors: an SDTM folder holds many domains (AE, CM, LB, ...) that
    ``remission adam`` does not read.  ``ignore_unknown`` turns the ``UNKNOWN_FILE``
    errors off."""
    from remission.io.layout import TABLE_LIKE, UNKNOWN_FILE

    folder = Path(folder)
    found: dict[str, list[Path]] = {}
    others: list[Path] = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith((".", "~$")):
            continue
        if p.suffix.lower() in EXTENSIONS:
            found.setdefault(p.stem.lower(), []).append(p)
        elif p.suffix.lower() in TABLE_LIKE:
            others.append(p)
    errors = [
        InputError(str(folder), None, None, None, ", ".join(x.name for x in ps), "one file per domain", "duplicate_domain")
        for name, ps in found.items()
        if len(ps) > 1 and name in DOMAINS
    ]
    if not ignore_unknown:
        readable = ", ".join(EXTENSIONS)
        for p in others:
            if p.stem.lower() in DOMAINS:
                errors.append(
                    InputError(p.name, None, None, None, p.name, f"domain {p.stem.lower()} as {readable} "
                               f"({p.suffix} is not read); or run with --ignore-unknown-files", UNKNOWN_FILE)  # fmt: skip
                )
        mapped = {m.lower() for m in mapped}
        for dom in needed:
            if dom in found or dom in mapped:
                continue
            look = [p for ps in found.values() for p in ps if _looks_like(p.stem.lower(), dom)]
            look += [p for p in others if _looks_like(p.stem.lower(), dom)]
            for p in look:
                errors.append(
                    InputError(p.name, None, None, None, p.name, f"no {dom} file is named {dom}.csv/.xpt/.json/.parquet: "
                               f"if this is the {dom.upper()} domain, name it so or pass --file {dom}={p.name}; "
                               "or run with --ignore-unknown-files", UNKNOWN_FILE)  # fmt: skip
                )
    return {name: ps[0] for name, ps in found.items()}, errors


def _looks_like(stem: str, domain: str) -> bool:
    """``rs_onco``, ``rs-2024``, ``rs1``, ``rs domain``: a file name that starts with the
    domain name and then a separator or digit."""
    import re

    return stem != domain and re.match(rf"^{re.escape(domain)}([_\-\s.\d]|$)", stem) is not None


def read_sdtm(
    folder: str | Path | None = None,
    *,
    files: Mapping[str, str | Path] | None = None,
    domains: Iterable[str] = DOMAINS,
    encoding: str = "utf-8",
    ignore_unknown_files: bool = False,
    needed: Iterable[str] = (),
) -> SdtmData:
    """Read the SDTM domains of ``folder``; ``files`` maps a domain to an explicit file
    (e.g. ``{"rs": "rs_onco_recist.csv", "adsl": "../adam/adsl.xpt"}``; relative paths are
    taken from ``folder``).  Absent domains are simply not in the result.  ``encoding``:
    of the CSV files.  ``needed``, ``ignore_unknown_files``: the layout checks of
    :func:`find_domain_files`.

    All problems (unreadable file, duplicate domain) are raised together as
    :class:`InputErrors`.
    """
    wanted = {d.lower() for d in domains}
    paths: dict[str, Path] = {}
    errors: list[InputError] = []
    if folder is not None:
        if not Path(folder).is_dir():
            raise InputErrors([InputError(str(folder), None, None, None, None, "an existing folder", "missing")])
        found, errors = find_domain_files(folder, needed=[d for d in needed if d != "adsl"],
                                          ignore_unknown=ignore_unknown_files, mapped=(files or {}).keys())
        paths.update({k: v for k, v in found.items() if k in wanted})
    for name, p in (files or {}).items():
        p = Path(p)
        if folder is not None and not p.is_absolute() and not p.exists():
            p = Path(folder) / p
        if not p.exists():
            errors.append(InputError(str(p), None, None, None, None, "an existing file", "missing"))
            continue
        paths[name.lower()] = p
    tables: dict[str, pl.DataFrame] = {}
    names: dict[str, str] = {}
    labels: dict = {}
    meta: dict[str, dict[str, ColumnMeta]] = {}
    for name, p in paths.items():
        try:
            tables[name] = read_table(p, encoding, labels)
            names[name] = p.name
            # the metadata is used for ADSL; a large SDTM Dataset-JSON file is not parsed twice
            if p.suffix.lower() != ".csv" and (name == "adsl" or p.suffix.lower() != ".json"):
                meta[name] = read_meta(p)
        except InputErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputErrors(errors)
    return _merge_supps(SdtmData(tables, names, labels=labels, meta=meta))


def as_sdtm(obj: "SdtmData | Mapping[str, object] | str | Path") -> SdtmData:
    """An :class:`SdtmData` from a folder, an ``SdtmData`` or a dict of domain -> frame/path.

    Frames (polars or pandas) are converted to text columns like the file readers do.
    """
    if isinstance(obj, SdtmData):
        return obj
    if isinstance(obj, (str, Path)):
        return read_sdtm(obj)
    tables: dict[str, pl.DataFrame] = {}
    names: dict[str, str] = {}
    meta: dict[str, dict[str, ColumnMeta]] = {}
    paths: dict[str, Path] = {}
    labels: dict = {}
    for key, value in obj.items():
        name = key.lower()
        if value is None:
            continue
        if isinstance(value, (str, Path)):
            paths[name] = Path(value)
            continue
        from remission.io.tables import _index_labels

        index = _index_labels(value)
        if index is not None:
            labels[f"{name} (data frame)"] = index
        frame = value if isinstance(value, pl.DataFrame) else pl.from_pandas(value.reset_index(drop=True))
        if ROW in frame.columns:
            frame = frame.drop(ROW)
        meta[name] = frame_meta(frame)
        tables[name] = _clean(frame)
        names[name] = f"{name} (data frame)"
    if paths:
        more = read_sdtm(None, files=paths)
        tables.update(more.tables)
        names.update(more.files)
        labels.update(more.labels)
        meta.update(more.meta)
    return _merge_supps(SdtmData(tables, names, labels=labels, meta=meta))


# --------------------------------------------------------------------------------------
# SUPP-- qualifiers
# --------------------------------------------------------------------------------------


def _norm_key(e: pl.Expr) -> pl.Expr:
    """``3``, ``3.0`` and `` 3`` are the same sequence number."""
    return e.str.strip_chars().str.replace(r"\.0+$", "")


def merge_supp(parent: pl.DataFrame, supp: pl.DataFrame) -> pl.DataFrame:
    """QNAM/QVAL of a ``SUPP--`` table as extra columns of its parent domain."""
    need = {"USUBJID", "QNAM", "QVAL"}
    if not need <= set(supp.columns):
        return parent
    supp = supp.with_columns(
        pl.col("IDVAR").fill_null("") if "IDVAR" in supp.columns else pl.lit("").alias("IDVAR"),
        _norm_key(pl.col("IDVARVAL")).fill_null("") if "IDVARVAL" in supp.columns else pl.lit("").alias("IDVARVAL"),
    )
    out = parent
    for idvar in supp["IDVAR"].unique().sort().to_list():
        part = supp.filter(pl.col("IDVAR") == idvar)
        wide = part.pivot(on="QNAM", index=["USUBJID", "IDVARVAL"], values="QVAL", aggregate_function="first")
        new = [c for c in wide.columns if c not in ("USUBJID", "IDVARVAL") and c not in out.columns]
        if not new:
            continue
        wide = wide.select("USUBJID", "IDVARVAL", *new)
        if idvar == "" or idvar not in out.columns:
            out = out.join(wide.drop("IDVARVAL"), on="USUBJID", how="left")
        else:
            out = (
                out.with_columns(_norm_key(pl.col(idvar)).alias("__key__"))
                .join(wide.rename({"IDVARVAL": "__key__"}), on=["USUBJID", "__key__"], how="left")
                .drop("__key__")
            )
    return out


def _merge_supps(data: SdtmData) -> SdtmData:
    tables = dict(data.tables)
    for name in list(tables):
        if name.startswith("supp") and name[4:] in tables:
            tables[name[4:]] = merge_supp(tables[name[4:]], tables[name])
    return SdtmData(tables, dict(data.files), labels=dict(data.labels), meta=dict(data.meta))


# --------------------------------------------------------------------------------------
# checks and dates
# --------------------------------------------------------------------------------------


def require_columns(frame: pl.DataFrame, columns: Iterable[str], file: str) -> list[InputError]:
    """A located error for every required column the table lacks."""
    return [
        InputError(file, None, None, c, None, f"a column {c}", "missing_column") for c in columns if c not in frame.columns
    ]


def impute_dtc(
    dtc: pl.Expr, *, date_imputation: str = "last", highest_imputation: str = "D"
) -> tuple[pl.Expr, pl.Expr]:
    """Date and imputation flag from an ISO 8601 ``--DTC`` text column, as admiral's
    ``derive_vars_dt(highest_imputation=..., date_imputation=...)``.

    * complete date (time part ignored) -> that date, flag null;
    * ``YYYY-MM`` -> day imputed (``last``: last day of the month; ``first``: day 1), flag ``D``;
    * ``YYYY`` (or a missing month) -> imputed only when ``highest_imputation`` is ``M``
      (``last``: 31 December, ``first``: 1 January), flag ``M``; otherwise null.
    * anything else -> null (reported by :func:`dtc_errors`).
    """
    if date_imputation not in ("first", "last"):
        raise ValueError("date_imputation must be 'first' or 'last'")
    if highest_imputation not in ("D", "M"):
        raise ValueError("highest_imputation must be 'D' or 'M'")
    datepart = dtc.str.strip_chars().str.split("T").list.first()
    full = pl.when(datepart.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(datepart.str.to_date("%Y-%m-%d", strict=False))
    ym = pl.when(datepart.str.contains(r"^\d{4}-\d{2}(-(-)?)?$")).then(
        (datepart.str.slice(0, 7) + "-01").str.to_date("%Y-%m-%d", strict=False)
    )
    ym_imp = ym.dt.month_end() if date_imputation == "last" else ym
    year = pl.when(datepart.str.contains(r"^\d{4}(-(-.*)?)?$")).then(
        (datepart.str.slice(0, 4) + ("-12-31" if date_imputation == "last" else "-01-01")).str.to_date(
            "%Y-%m-%d", strict=False
        )
    )
    date = pl.coalesce(full, ym_imp)
    flag = pl.when(full.is_not_null()).then(None).when(ym_imp.is_not_null()).then(pl.lit("D"))
    if highest_imputation == "M":
        date = pl.coalesce(date, year)
        flag = flag.when(year.is_not_null()).then(pl.lit("M"))
    return date, flag.otherwise(None).cast(pl.String)


def impute_dtc_columns(
    frame: pl.DataFrame,
    column: str,
    *,
    date_imputation: str = "last",
    highest_imputation: str = "D",
    names: tuple[str, str] = ("ADT", "ADTF"),
) -> pl.DataFrame:
    """:func:`impute_dtc` of ``frame[column]`` as a frame of two columns ``names`` (date,
    flag), one row per row of ``frame``.

    The imputation is a function of the text alone, so it is computed on the distinct
    values (a few thousand dates for millions of records) and mapped back to every row
    with a join; the parsing expressions are the costly part (~10x the join)."""
    date, flag = impute_dtc(pl.col(column), date_imputation=date_imputation, highest_imputation=highest_imputation)
    distinct = frame.select(pl.col(column).unique()).with_columns(date.alias(names[0]), flag.alias(names[1]))
    return (
        frame.select(column)
        .join(distinct, on=column, how="left", nulls_equal=True, maintain_order="left")
        .select(names[0], names[1])
    )


def dtc_errors(frame: pl.DataFrame, column: str, file: str, *, subject: str = "USUBJID") -> list[InputError]:
    """Located errors for ``--DTC`` values that are not ISO 8601 dates (complete or partial).

    Whether a value is valid depends on the value alone: the checks run on the distinct
    values, and only the records holding a bad one are then looked up (in file order)."""
    if column not in frame.columns:
        return []
    datepart = pl.col(column).str.split("T").list.first()
    full_ok = (
        datepart.str.contains(r"^\d{4}-\d{2}-\d{2}$").not_()
        | datepart.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    )
    month_ok = datepart.str.contains(r"^\d{4}-\d{2}").not_() | datepart.str.slice(5, 2).cast(pl.Int32, strict=False).is_between(1, 12)
    bad_values = (
        frame.select(pl.col(column).unique())
        .filter(pl.col(column).is_not_null() & (pl.col(column).str.contains(_DTC_RE).not_() | full_ok.not_() | month_ok.not_()))
        .get_column(column)
    )
    if bad_values.is_empty():
        return []
    bad = frame.filter(pl.col(column).is_in(bad_values.implode()))
    subj = subject if subject in frame.columns else None
    return [
        InputError(file, r[ROW], r[subj] if subj else None, column, r[column], "an ISO 8601 date (YYYY-MM-DD, or partial YYYY-MM / YYYY)", "invalid_date")
        for r in bad.select(ROW, column, *([subj] if subj else [])).iter_rows(named=True)
    ]


def parse_date_column(frame: pl.DataFrame, column: str, file: str, *, subject: str = "USUBJID") -> list[InputError]:
    """Located errors for an ADaM date column (``RANDDT``...): ``YYYY-MM-DD`` (a time part is allowed)."""
    if column not in frame.columns:
        return []
    parsed = pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    bad = frame.filter(pl.col(column).is_not_null() & parsed.is_null())
    subj = subject if subject in frame.columns else None
    return [
        InputError(file, r[ROW], r[subj] if subj else None, column, r[column], "a date YYYY-MM-DD", "invalid_date")
        for r in bad.select(ROW, column, *([subj] if subj else [])).iter_rows(named=True)
    ]


def date_expr(column: str) -> pl.Expr:
    """An ADaM date column (text ``YYYY-MM-DD``, possibly with a time) as ``pl.Date``."""
    return pl.col(column).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
