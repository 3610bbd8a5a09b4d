"""Reading a dataset folder as text, and the typed :class:`Dataset` (spec/tables.md).

A dataset is a folder; each table is ``NAME.csv`` or ``NAME.parquet`` with ``NAME`` one of
:data:`remission.schema.INPUT_TABLES`.  :func:`read_dataset` reads every column as text
(nothing is inferred, so a value is never silently changed by a reader), strips
whitespace, turns empty strings into nulls and numbers the data rows, so that every later
check can say *which* file and row is wrong.  Typing and checking are done by
:mod:`remission.io.validate`.

Choices (the spec does not say):

* ``row`` is the 1-based data record number (header = row 0).  For a CSV file without
  quoted line breaks that is the line number minus one; a record with a quoted line break
  still counts as one row.  For Parquet and data frames it is the 1-based row position.
* Completely empty records (blank CSV lines) carry no data and are skipped; the rows after
  them keep their own line-based numbers.
* Column names are stripped of surrounding whitespace, but their case is kept (the spec's
  names are fixed, lowercase).
* Problems while reading (unreadable file, both ``NAME.csv`` and ``NAME.parquet``, missing
  ``subjects``) are not raised here: they are :class:`~remission.errors.InputError`\\ s in
  :attr:`RawDataset.errors`, so that :func:`validate` reports them with all the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import polars as pl

from remission import schema
from remission.errors import InputError, InputErrors

#: Name of the 1-based data row number column added to every raw table.
ROW = "__row__"

#: Suffix of the pseudo file name of a table given as a data frame.
FRAME_SUFFIX = " (data frame)"


@dataclass(frozen=True)
class RowLabels:
    """Where the user's own tool shows data row ``r`` (1-based, header not counted):
    ``line r + offset`` of a CSV file (``values``: the line of each row when a quoted
    value holds a line break), or ``index <label>`` of a pandas frame (``values``: the
    index labels in row order)."""

    kind: str  # "line" | "index"
    offset: int = 1
    values: tuple | None = None

    def __call__(self, row: int | None) -> str | None:
        if row is None or row < 1:
            return None
        if self.values is None:
            return f"{self.kind} {row + self.offset}"
        if row > len(self.values):
            return None
        v = self.values[row - 1]
        return f"{self.kind} {v!r}" if isinstance(v, str) else f"{self.kind} {v}"


@dataclass(frozen=True)
class RawTable:
    """One input table as read: columns as text plus :data:`ROW` (``pl.Int64``).

    A Parquet file (or data frame) column that already has its schema dtype (``Date``,
    ``Float64``, ``Boolean``, ``Int32``; see :func:`typed_passthrough`) is kept typed: its
    text would only be parsed back to the same value by validation.
    """

    name: str
    file: str
    frame: pl.DataFrame
    labels: RowLabels | None = None


@dataclass(frozen=True)
class RawDataset:
    """The tables of a dataset as text, before validation."""

    tables: dict[str, RawTable]
    errors: tuple[InputError, ...] = ()


def _empty_frames() -> dict[str, pl.DataFrame]:
    return {name: schema.empty(cols) for name, cols in schema.INPUT_TABLES.items()}


@dataclass(frozen=True)
class Dataset:
    """The typed input tables (columns and dtypes of :data:`remission.schema.INPUT_TABLES`).

    Absent tables are empty frames with their schema.  ``files`` maps each table that was
    given to its file name (``lesions.csv``, ``lesions (data frame)``); absent tables are
    not in it.  ``rows`` (an extension) maps a table to the 1-based input row number of
    each of its rows, aligned with the frame, so that later layers can locate a problem
    (e.g. a lab unit that cannot be converted) in the user's file.
    """

    subjects: pl.DataFrame
    lesions: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.LESIONS))
    labs: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.LABS))
    findings: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.FINDINGS))
    treatments: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.TREATMENTS))
    responses: pl.DataFrame = field(default_factory=lambda: schema.empty(schema.RESPONSES))
    files: dict[str, str] = field(default_factory=dict)
    rows: dict[str, pl.Series] = field(default_factory=dict)
    #: set by :func:`remission.io.validate.validate`: every row of every table belongs to a
    #: subject of ``subjects`` and subject ids are unique (lets the pipeline skip filters)
    validated: bool = False

    @property
    def tables(self) -> dict[str, pl.DataFrame]:
        """Every input table by name, in :data:`schema.INPUT_TABLES` order."""
        return {name: getattr(self, name) for name in schema.INPUT_TABLES}

    @property
    def subject_ids(self) -> list[str]:
        """The distinct subject ids of ``subjects``, in input order."""
        return self.subjects.get_column("subject_id").drop_nulls().unique(maintain_order=True).to_list()

    def restrict(self, subject_ids: Iterable[str]) -> "Dataset":
        """A Dataset with only the rows of the given subjects, in every table."""
        keep = pl.Series("keep", list(subject_ids), dtype=pl.String)
        frames: dict[str, pl.DataFrame] = {}
        rows: dict[str, pl.Series] = {}
        for name, frame in self.tables.items():
            mask = frame.get_column("subject_id").is_in(keep.implode()).fill_null(False)
            frames[name] = frame.filter(mask)
            if name in self.rows:
                rows[name] = self.rows[name].filter(mask)
        return Dataset(**frames, files=dict(self.files), rows=rows, validated=self.validated)


# --------------------------------------------------------------------------------------
# Text conversion (shared by Parquet and data frames)
# --------------------------------------------------------------------------------------


def _text_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """Expression giving column ``name`` as text; dates as ISO ``YYYY-MM-DD``.

    A datetime at midnight is written as its date; any other datetime keeps its time
    (``2024-03-17T10:30:00``), which validation then reports as not a calendar date
    instead of silently dropping the time.
    """
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        midnight = col.dt.time() == pl.time(0, 0, 0)
        return (
            pl.when(midnight)
            .then(col.dt.strftime("%Y-%m-%d"))
            .otherwise(col.dt.strftime("%Y-%m-%dT%H:%M:%S"))
        )
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")).otherwise(None)
    return col.cast(pl.String)


#: tables at least this long check for padded/empty text on distinct values (see _clean)
_CLEAN_DISTINCT_MIN_ROWS = 100_000


def _clean(frame: pl.DataFrame, columns: list[str] | None = None) -> pl.DataFrame:
    """Strip every text column (or only ``columns``) and turn empty strings into nulls.

    One cheap read-only pass first finds the columns holding a padded or empty value;
    only those are rewritten (usually none: rewriting every string costs twice the check).
    On a long table the check runs on each column's distinct values (a column is dirty
    exactly when one of its distinct values is): codes, roles, dates as text... have few,
    and hashing a value is cheaper than stripping it.
    """
    names = [c for c in (frame.columns if columns is None else columns) if c != ROW]
    if not names or frame.height == 0:
        return frame

    def is_dirty(c: str) -> pl.Expr:
        return ((pl.col(c).str.strip_chars() != pl.col(c)) | (pl.col(c).str.len_bytes() == 0)).any().alias(c)

    if frame.height < _CLEAN_DISTINCT_MIN_ROWS:
        dirty = frame.select([is_dirty(c) for c in names]).row(0)
    else:
        dirty = tuple(
            pl.DataFrame(frame.get_column(c).unique()).select(is_dirty(c)).item() for c in names
        )
    exprs = []
    for name, needed in zip(names, dirty):
        if not needed:
            continue
        s = pl.col(name).str.strip_chars()
        exprs.append(pl.when(s == "").then(None).otherwise(s).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _drop_blank_records(frame: pl.DataFrame) -> pl.DataFrame:
    data_cols = [c for c in frame.columns if c != ROW]
    if not data_cols or frame.height == 0:
        return frame
    return frame.filter(~pl.all_horizontal([pl.col(c).is_null() for c in data_cols]))


def typed_passthrough(name: str | None) -> dict[str, pl.DataType]:
    """The columns of input table ``name`` that :func:`frame_to_text` may keep typed.

    Every non-text column of the table's schema (``Date``, ``Float64``, ``Boolean``,
    ``Int32``).  A column of exactly that dtype is kept as it is instead of being written
    as text and parsed back by :mod:`remission.io.validate`, which reads such a typed
    column directly.  This is equivalent: the text of a value of that dtype (ISO date,
    shortest round-trip float, ``true``/``false``, decimal integer) parses back to the same
    value, is never empty or padded, and an error quotes the value's text (``cast(String)``
    gives the same text).  Any other dtype (Datetime, Float32, Int64, ...) still goes
    through text.
    """
    if name is None or name not in schema.INPUT_TABLES:
        return {}
    return {c: t for c, t in schema.INPUT_TABLES[name].items() if t != pl.String}


def frame_to_text(
    frame: pl.DataFrame, file: str, keep_typed: dict[str, pl.DataType] | None = None
) -> tuple[pl.DataFrame | None, list[InputError]]:
    """A polars frame of any dtypes as a raw text table with :data:`ROW` numbers 1..n.

    A column that cannot be shown as text (nested types) is an input error.  Columns named
    in ``keep_typed`` whose dtype is exactly the one given there are kept typed (see
    :func:`typed_passthrough`); all others become text.
    """
    errors: list[InputError] = []
    renamed = {c: c.strip() for c in frame.columns if c != c.strip()}
    if renamed:
        frame = frame.rename(renamed)
    keep_typed = keep_typed or {}
    exprs = []
    text_cols = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
            errors.append(
                InputError(file, None, None, name, str(dtype), "a column of text, numbers, dates or booleans", "READ_ERROR")
            )
            continue
        if dtype in (pl.Float32, pl.Float64):  # NaN is how data frames write a missing number
            if keep_typed.get(name) == dtype:
                exprs.append(pl.col(name).fill_nan(None))
                continue
            text_cols.append(name)
            exprs.append(pl.col(name).fill_nan(None).cast(pl.String).alias(name))
            continue
        if keep_typed.get(name) == dtype:
            exprs.append(pl.col(name))
            continue
        text_cols.append(name)
        exprs.append(_text_expr(name, dtype).alias(name))
    if errors:
        return None, errors
    try:
        text = frame.select(exprs) if exprs else pl.DataFrame()
    except Exception as exc:  # polars raises many kinds; a reader must never traceback
        return None, [InputError(file, None, None, None, None, f"a readable table ({exc})", "READ_ERROR")]
    text = text.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    text = _drop_blank_records(_clean(text, text_cols))
    return text, errors


def pandas_to_polars(frame) -> pl.DataFrame:
    """A pandas frame as polars; object columns of mixed types are turned into text."""
    import pandas as pd

    frame = frame.reset_index(drop=True)
    try:
        return pl.from_pandas(frame)
    except Exception:
        fixed = frame.copy()
        for name in fixed.columns:
            col = fixed[name]
            if col.dtype == object:
                fixed[name] = col.map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else _py_text(v))
        return pl.from_pandas(fixed)


def _py_text(value) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def to_polars(frame) -> pl.DataFrame:
    """A polars frame from a polars or pandas frame (or a polars LazyFrame)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(frame, pd.DataFrame):
        return pandas_to_polars(frame)
    raise TypeError(f"expected a polars or pandas DataFrame, got {type(frame).__name__}")


# --------------------------------------------------------------------------------------
# Reading a folder
# --------------------------------------------------------------------------------------


def numeric_columns(name: str | None) -> tuple[str, ...]:
    """The columns of input table ``name`` that hold numbers (decimal commas are read
    there in a ``;``-separated CSV file, :mod:`remission.io.dialect`)."""
    if name is None or name not in schema.INPUT_TABLES:
        return ()
    cols = tuple(c for c, t in schema.INPUT_TABLES[name].items() if t in (pl.Float64, pl.Int32, pl.Int64))
    return cols + (("value",) if name == "findings" else ())


def _read_csv(path: Path, name: str | None = None) -> tuple[pl.DataFrame, RowLabels]:
    from remission.io.dialect import read_csv_text

    frame, _dialect, lines = read_csv_text(path, numeric=numeric_columns(name))
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    labels = RowLabels("line", 1) if lines is None else RowLabels("line", 0, tuple(lines.to_list()))
    return _drop_blank_records(_clean(frame)), labels


def read_table(path: str | Path, name: str | None = None) -> tuple[RawTable | None, list[InputError]]:
    """Read one ``.csv`` or ``.parquet`` file as a :class:`RawTable` (all text)."""
    path = Path(path)
    name = name or path.stem
    file = path.name
    labels = None
    try:
        if path.suffix.lower() == ".csv":
            frame, labels = _read_csv(path, name)
            errors: list[InputError] = []
        else:
            frame, errors = frame_to_text(pl.read_parquet(path), file, typed_passthrough(name))
    except InputErrors as exc:  # located problems of the CSV dialect (remission.io.dialect)
        return None, list(exc.errors)
    except Exception as exc:  # an unreadable file is an input error, not a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [InputError(file, None, None, None, None, f"a readable {path.suffix[1:]} file ({reason})", "READ_ERROR")]
    if frame is None:
        return None, errors
    return RawTable(name, file, frame, labels), errors


def read_dataset(path: str | Path, *, ignore_unknown_files: bool = False) -> RawDataset:
    """Read every ``NAME.csv`` / ``NAME.parquet`` of a dataset folder as text.

    Only ``subjects`` is required.  The folder's layout is checked by
    :func:`remission.io.layout.dataset_files`: a table given both as CSV and as Parquet
    (``DUPLICATE_TABLE``), a missing ``subjects`` table (``MISSING_TABLE``) and any other
    table-like file that is not a known table (``UNKNOWN_FILE``, off with
    ``ignore_unknown_files``) are errors.
    """
    from remission.io.layout import dataset_files

    files, layout_errors = dataset_files(path, schema.INPUT_TABLES, ignore_unknown=ignore_unknown_files)
    errors: list[InputError] = list(layout_errors)
    tables: dict[str, RawTable] = {}
    for name in schema.INPUT_TABLES:
        if name not in files:
            continue
        table, errs = read_table(files[name], name)
        errors.extend(errs)
        if table is not None:
            tables[name] = table
    return RawDataset(tables, tuple(errors))


def raw_from_frames(frames: dict[str, object]) -> RawDataset:
    """A :class:`RawDataset` from polars/pandas frames (``None`` = table absent)."""
    errors: list[InputError] = []
    tables: dict[str, RawTable] = {}
    for name, frame in frames.items():
        if frame is None:
            if name == "subjects":
                errors.append(InputError(f"subjects{FRAME_SUFFIX}", None, None, None, None, "a subjects table", "MISSING_TABLE"))
            continue
        file = f"{name}{FRAME_SUFFIX}"
        labels = _index_labels(frame)
        try:
            polars_frame = to_polars(frame)
        except Exception as exc:
            errors.append(InputError(file, None, None, None, None, f"a readable data frame ({exc})", "READ_ERROR"))
            continue
        text, errs = frame_to_text(polars_frame, file, typed_passthrough(name))
        errors.extend(errs)
        if text is not None:
            tables[name] = RawTable(name, file, text, labels)
    return RawDataset(tables, tuple(errors))


def _index_labels(frame) -> RowLabels | None:
    """A pandas frame's index labels (errors name them: issue 14 item 5); None otherwise."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return None
    if not isinstance(frame, pd.DataFrame):
        return None
    values = tuple(v.item() if hasattr(v, "item") else v for v in frame.index.tolist())
    return RowLabels("index", 0, values)
