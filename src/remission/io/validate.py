"""Typing and checking of the input tables (spec/tables.md "Input tables", "Bad input").

:func:`validate` turns a :class:`~remission.io.tables.RawDataset` (every column text) into
a typed :class:`~remission.io.tables.Dataset` with exactly the columns and dtypes of
:data:`remission.schema.INPUT_TABLES`, and returns **every** problem found as an
:class:`~remission.errors.InputError` (file, 1-based row, subject, column, value, what was
expected, a short stable ``code``).  Nothing stops at the first error.

All checks are vectorised: each rule is a polars expression, window or join that yields
the failing rows only; :class:`InputError` objects are built for those rows alone.

Normalisation (documented choices):

* text is stripped, an empty value is null; ``role``, ``status``, ``organ``,
  ``cancer_type``, ``criteria``, ``modality``, ``intent``, ``evidence``, lab ``test`` and
  ``finding`` codes are lowercased; ``method`` takes the canonical spelling of
  :data:`remission.schema.METHODS` (``ct`` -> ``CT``); a response code takes the canonical
  spelling of its criterion (``scr`` -> ``sCR``).
* ``nodal`` null is ``false`` (spec/tables.md, lesions.nodal "no (false)").
* a value that fails its check is null in the typed table (the error says why); a value
  out of range (a negative diameter, ``line`` 0) is kept as given.
* ``treatments.intent`` is *not* defaulted here: the timeline applies the spec's default
  (maintenance for modality maintenance, supportive for supportive, else active).
* finding values are normalised where the finding is checked: ``deauville`` and
  ``bone_scan_new_lesions`` as integer text (``"3.0"`` -> ``"3"``),
  ``extramedullary_disease`` as ``true``/``false``, ``symptoms``/``physical_exam``
  lowercased; other finding codes are kept as given and not checked.

Extension (spec/tables.md allows adding values, "extend, don't rename"): status
``not_evaluated`` is accepted on every role and means the lesion was not assessed at this
time point.  On a target row with an empty ``diameter_mm`` the status gives the value:
``absent`` = disappeared (0 mm), ``too_small`` = present but too small to measure (5 mm by
default, recist11.md §3.4), ``present`` or ``not_evaluated`` = no usable value (NE rules,
recist11.md §4.2).  The accepted statuses are :data:`LESION_STATUSES`.

Choices where the spec is silent:

* duplicate rows (subjects, lesions) are reported on every row after the first, with the
  first row named in ``expected``; a lesion changing role is reported on every row whose
  role differs from the role on the lesion's first date (ties by row order).
* dates after ``death_date`` are errors for lesions, labs, findings and responses dates and
  for treatment start dates (a treatment cannot start after death); a date equal to the
  death date is accepted.
* each criterion's own input checks (``Criterion.checks``, run on the target lesions of the
  subjects it assesses, their codes in ``Criterion.check_errors``): RECIST 1.1's target
  selection (recist11.md §3.2–3.3, shared by iRECIST and mRECIST), see
  :func:`remission.criteria.recist11.target_selection_checks`.
* the ``criteria`` argument, when unknown, is a fatal error with file ``--criteria``.
* every date (all date columns of every table, whichever reader gave it: text, Parquet
  ``date32``, data frames) lies in the plausible window :func:`date_window`, by default
  1900-01-01 to today + 365 days for observations and treatment starts
  (:data:`OBSERVATION_DATES`; a subject's dates and a planned treatment end may lie up to
  ten years ahead) (``REMISSION_EARLIEST_DATE``, ``REMISSION_LATEST_DATE``
  as ``YYYY-MM-DD`` or ``REMISSION_FUTURE_DAYS`` change it), else ``DATE_OUT_OF_RANGE``:
  a typo'd year (``2204``, ``0202``) is reported, and no derived date (a follow-up due
  date, a confirmation window) can pass 9999-12-31.
* response vocabularies (:data:`RESPONSE_CODES`): closed lists for recist1.1/mrecist and
  who; for the other criteria the CDISC codes of remission_model.md §10.2 and the category
  names of criteria/README.md.  Sponsor-specific codes not listed there (e.g. the
  ``CAR``/``PAR``/``SAD`` anatomic codes of some SDTM lymphoma data) are rejected.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Callable

import polars as pl

from remission import schema, units
from remission.errors import InputError
from remission.criteria import registry
from remission.criteria.base import FindingRule
from remission.io.tables import ROW, Dataset, RawDataset, RawTable

# --------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------

#: Lesion statuses accepted by the reader: the spec's plus ``not_evaluated`` (extension).
LESION_STATUSES = schema.STATUSES + ("not_evaluated",)

#: Accepted spellings of booleans (spec/tables.md: true/false, 1/0, yes/no, Y/N, any case).
TRUE_SPELLINGS = ("true", "1", "yes", "y")
FALSE_SPELLINGS = ("false", "0", "no", "n")

SYMPTOMS_VALUES = ("none", "improved", "stable", "worse")
PHYSICAL_EXAM_VALUES = ("no_evidence", "evidence")

def _response_codes() -> dict[str, tuple[str, ...]]:
    """Response codes accepted per criterion (canonical spelling, compared case-insensitively):
    each criterion's declared vocabulary (``Criterion.vocabulary.response_codes``)."""
    return {c.code: tuple(c.vocabulary.response_codes) for c in registry.all_criteria()}


#: criterion code -> the response codes a ``responses`` row may state (from the declarations)
RESPONSE_CODES: dict[str, tuple[str, ...]] = _response_codes()

_METHOD_CANON = {m.lower(): m for m in schema.METHODS}

#: Every error code the reader and validator emit, with its meaning (stable names).
ERROR_CODES: dict[str, str] = {
    "UNKNOWN_TEST": "a lab test code not listed in remission.units.CANONICAL_UNITS",
    "UNKNOWN_UNIT": "a lab unit that cannot be converted to the test's canonical unit",
    "READ_ERROR": "file (or data frame column) cannot be read",
    "MISSING_TABLE": "subjects table (or the dataset folder) missing",
    "DUPLICATE_TABLE": "a table given both as NAME.csv and NAME.parquet",
    "UNKNOWN_FILE": "a file of the dataset folder that is not a known table (remission.io.layout)",
    "DUPLICATE_COLUMN": "a CSV header naming one column twice (remission.io.dialect)",
    "RAGGED_LINE": "a CSV line with more fields than the header",
    "EMPTY_FILE": "a CSV file without a header line",
    "BAD_ENCODING": "a CSV file that is not UTF-8 text",
    "MISSING_COLUMN": "a required column is absent",
    "MISSING_VALUE": "a required value is empty",
    "BAD_DATE": "not an ISO calendar date YYYY-MM-DD",
    "BAD_NUMBER": "not a finite number",
    "NEGATIVE_NUMBER": "a negative number where >= 0 is required",
    "BAD_INTEGER": "not an integer",
    "OUT_OF_RANGE": "an integer below its minimum (treatments.line >= 1)",
    "BAD_BOOLEAN": "not true/false, 1/0, yes/no, y/n",
    "UNKNOWN_ROLE": "lesion role not target/non_target/new",
    "UNKNOWN_STATUS": "lesion status not in LESION_STATUSES",
    "UNKNOWN_METHOD": "method not in schema.METHODS",
    "UNKNOWN_MODALITY": "modality not in schema.MODALITIES",
    "UNKNOWN_INTENT": "intent not in schema.INTENTS",
    "UNKNOWN_CRITERIA": "criteria code not registered (criteria.registry.codes())",
    "UNKNOWN_EVIDENCE": "evidence not in schema.EVIDENCE",
    "UNKNOWN_RESPONSE": "response code not known for the subject's criteria",
    "BAD_FINDING_VALUE": "finding value invalid for its finding code",
    "DUPLICATE_SUBJECT": "subject_id repeated in subjects",
    "DUPLICATE_LESION_ROW": "(subject_id, date, lesion_id) repeated in lesions",
    "UNKNOWN_SUBJECT": "row for a subject_id absent from subjects",
    "MISSING_STATUS": "non_target or new row without status",
    "STATUS_NOT_ALLOWED": "too_small on a non_target or new row",
    "ROLE_CHANGED": "a lesion's role differs from its first role",
    "END_BEFORE_START": "treatment end_date before start_date",
    "DEATH_BEFORE_DIAGNOSIS": "death_date before diagnosis_date",
    "AFTER_DEATH": "assessment, lab, finding or treatment start after death_date",
}
#: ... and each criterion's own check codes (``Criterion.check_errors``)
for _c in registry.all_criteria():
    for _code, _meaning in _c.check_errors.items():
        ERROR_CODES.setdefault(_code, _meaning)

_ERR_SCHEMA = {
    "row": pl.Int64,
    "subject_id": pl.String,
    "column": pl.String,
    "value": pl.String,
    "expected": pl.String,
    "code": pl.String,
}

DATE_EXPECTED = "an ISO date YYYY-MM-DD"


# --------------------------------------------------------------------------------------
# Column kinds
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    kind: str  # text | lower | date | number | int | bool | code | method | custom
    allowed: tuple[str, ...] = ()
    code: str = ""
    min_value: float | None = None
    #: codes known only when validating (the registered criteria, plug-ins included)
    allowed_now: Callable[[], tuple[str, ...]] | None = None

    def values(self) -> tuple[str, ...]:
        return self.allowed_now() if self.allowed_now is not None else self.allowed


_TEXT = _Kind("text")
_LOWER = _Kind("lower")
_DATE = _Kind("date")
_NONNEG = _Kind("number", min_value=0.0)

COLUMN_KINDS: dict[str, dict[str, _Kind]] = {
    "subjects": {
        "subject_id": _TEXT,
        "cancer_type": _LOWER,
        "criteria": _Kind("code", code="UNKNOWN_CRITERIA", allowed_now=registry.codes),
        "diagnosis_date": _DATE,
        "death_date": _DATE,
        "last_contact_date": _DATE,
        "sex": _Kind("code", schema.SEXES, "UNKNOWN_SEX"),
        "name": _TEXT,
    },
    "lesions": {
        "subject_id": _TEXT,
        "date": _DATE,
        "lesion_id": _TEXT,
        "role": _Kind("code", schema.ROLES, "UNKNOWN_ROLE"),
        "organ": _LOWER,
        "nodal": _Kind("bool"),
        "diameter_mm": _NONNEG,
        "perpendicular_mm": _NONNEG,
        "status": _Kind("code", LESION_STATUSES, "UNKNOWN_STATUS"),
        "method": _Kind("method", schema.METHODS, "UNKNOWN_METHOD"),
        "viable_diameter_mm": _NONNEG,
    },
    "labs": {
        "subject_id": _TEXT,
        "date": _DATE,
        "test": _LOWER,
        "value": _Kind("number"),
        "unit": _TEXT,
    },
    "findings": {
        "subject_id": _TEXT,
        "date": _DATE,
        "finding": _LOWER,
        "value": _Kind("custom"),
    },
    "treatments": {
        "subject_id": _TEXT,
        "start_date": _DATE,
        "end_date": _DATE,
        "modality": _Kind("code", schema.MODALITIES, "UNKNOWN_MODALITY"),
        "intent": _Kind("code", schema.INTENTS, "UNKNOWN_INTENT"),
        "line": _Kind("int", min_value=1),
        "name": _TEXT,
    },
    "responses": {
        "subject_id": _TEXT,
        "date": _DATE,
        "response": _Kind("custom"),
        "evidence": _Kind("code", schema.EVIDENCE, "UNKNOWN_EVIDENCE"),
    },
}


def _t(col: str) -> str:
    """Name of the typed working column of ``col``."""
    return f"{col}__t"


def _float(raw: pl.Expr) -> pl.Expr:
    v = raw.cast(pl.Float64, strict=False)
    return pl.when(v.is_finite()).then(v)


def _is_typed(kind: _Kind, dtype: pl.DataType) -> bool:
    """Whether a raw column of ``dtype`` already holds the typed values of ``kind``
    (a Parquet/data frame column kept typed by :func:`remission.io.tables.typed_passthrough`):
    a date or boolean column needs no parsing and can have no format error."""
    return (kind.kind == "date" and dtype == pl.Date) or (kind.kind == "bool" and dtype == pl.Boolean)


def _typed_expr(col: str, kind: _Kind, dtype: pl.DataType = pl.String) -> pl.Expr:
    """Typed working column of raw column ``col`` (text, or already typed: numbers need
    no change here since ``_float`` casts a numeric column as it parses text)."""
    raw = pl.col(col)
    if _is_typed(kind, dtype):
        out = raw
    elif kind.kind in ("text", "custom"):
        out = raw
    elif kind.kind == "lower":
        out = raw.str.to_lowercase()
    elif kind.kind == "date":
        out = pl.when(raw.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(raw.str.to_date("%Y-%m-%d", strict=False))
    elif kind.kind == "number":
        out = _float(raw)
    elif kind.kind == "int":
        v = _float(raw)
        out = pl.when((v == v.round(0)) & (v.abs() < 2**31)).then(v).cast(pl.Int64)
    elif kind.kind == "bool":
        low = raw.str.to_lowercase()
        out = pl.when(low.is_in(TRUE_SPELLINGS)).then(True).when(low.is_in(FALSE_SPELLINGS)).then(False)
        out = out.cast(pl.Boolean)
    elif kind.kind == "code":
        low = raw.str.to_lowercase()
        out = pl.when(low.is_in(kind.values())).then(low)
    elif kind.kind == "method":
        out = raw.str.to_lowercase().replace_strict(_METHOD_CANON, default=None, return_dtype=pl.String)
    else:  # pragma: no cover - programming error
        raise ValueError(kind.kind)
    return out.alias(_t(col))


#: tables shorter than this are typed row by row (mapping distinct values is not worth it)
_DISTINCT_MIN_ROWS = 10_000


def _typed_column(frame: pl.DataFrame, col: str, kind: _Kind, dtype: pl.DataType) -> pl.Expr:
    """:func:`_typed_expr`, computed once per distinct text when there are few of them.

    Every typing rule is a function of the single value, so typing the distinct values
    (codes, roles, methods, dates...) and mapping each row to its typed value gives the
    same column; lowercasing or parsing millions of rows costs more than one hash lookup.
    """
    if kind.kind in ("text", "custom") or dtype != pl.String or frame.height < _DISTINCT_MIN_ROWS:
        return _typed_expr(col, kind, dtype)
    values = frame.get_column(col).unique()
    if values.len() * 4 > frame.height:
        return _typed_expr(col, kind, dtype)
    typed = pl.DataFrame({col: values}).select(_typed_expr(col, kind, dtype)).to_series()
    if typed.dtype == pl.String and typed.equals(values, check_names=False, null_equal=True):
        return pl.col(col).alias(_t(col))  # every value is already in its typed form
    return pl.col(col).replace_strict(values, typed, default=None, return_dtype=typed.dtype).alias(_t(col))


def _expected_of(kind: _Kind) -> str:
    if kind.kind == "date":
        return DATE_EXPECTED
    if kind.kind == "number":
        return "a number" if kind.min_value is None else "a number >= 0"
    if kind.kind == "int":
        return f"an integer >= {int(kind.min_value)}" if kind.min_value is not None else "an integer"
    if kind.kind == "bool":
        return "a boolean (true/false, 1/0, yes/no, y/n)"
    return "one of " + ", ".join(kind.values())


#: a number written with a decimal comma (read only in ``;``-separated CSV files)
_DECIMAL_COMMA = r"^\s*[+-]?\d+,\d+\s*$"
#: a date with a time of day (``2024-03-17T10:30:00``, ``2024-03-17 10:30``)
_DATE_TIME = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d"


def _expected_hint(col: str, kind: _Kind, dtype: pl.DataType) -> str | pl.Expr:
    """``expected`` of a format error, with a hint for the usual ways a value was written
    (issue 14 items 2 and 4): a decimal comma, a date with a time of day."""
    base = _expected_of(kind)
    if dtype != pl.String:
        return base
    raw = pl.col(col)
    if kind.kind in ("number", "int"):
        return (
            pl.when(raw.str.contains(_DECIMAL_COMMA))
            .then(pl.lit(base + " with '.' as the decimal mark (decimal commas are read only in a file separated by ';')"))
            .otherwise(pl.lit(base))
        )
    if kind.kind == "date":
        return (
            pl.when(raw.str.contains(_DATE_TIME))
            .then(pl.lit(base + " without a time of day (a data frame column: pass .dt.date or .dt.normalize())"))
            .otherwise(pl.lit(base))
        )
    return base


def _bad_code(kind: _Kind) -> str:
    return {
        "date": "BAD_DATE",
        "number": "BAD_NUMBER",
        "int": "BAD_INTEGER",
        "bool": "BAD_BOOLEAN",
    }.get(kind.kind, kind.code)


# --------------------------------------------------------------------------------------
# Error frames
# --------------------------------------------------------------------------------------


def _fail(
    frame: pl.DataFrame,
    mask: pl.Expr,
    column: str,
    expected: str | pl.Expr,
    code: str,
    value: pl.Expr | None = None,
) -> pl.DataFrame:
    """The rows of ``frame`` where ``mask`` holds, as error rows (``_ERR_SCHEMA``)."""
    value = pl.col(column) if value is None else value
    expected = pl.lit(expected) if isinstance(expected, str) else expected
    return frame.filter(mask.fill_null(False)).select(
        pl.col(ROW).cast(pl.Int64).alias("row"),
        pl.col("subject_id").cast(pl.String).alias("subject_id"),
        pl.lit(column, pl.String).alias("column"),
        value.cast(pl.String).alias("value"),
        expected.cast(pl.String).alias("expected"),
        pl.lit(code, pl.String).alias("code"),
    )


@dataclass
class _Work:
    """Working state of one table: text columns, typed ``__t`` columns, error frames."""

    name: str
    file: str
    present: bool
    frame: pl.DataFrame
    missing: set[str] = field(default_factory=set)
    errors: list[pl.DataFrame] = field(default_factory=list)
    fatal: list[InputError] = field(default_factory=list)

    def add(self, err: pl.DataFrame) -> None:
        if err.height:
            self.errors.append(err)


def _prepare(name: str, raw: RawTable | None) -> _Work:
    """Text frame with every schema column present (absent optional columns null)."""
    cols = schema.INPUT_TABLES[name]
    if raw is None:
        frame = pl.DataFrame(schema={ROW: pl.Int64, **{c: pl.String for c in cols}})
        return _Work(name, f"{name}.csv", False, frame)
    frame = raw.frame
    work = _Work(name, raw.file, True, frame)
    missing = [c for c in cols if c not in frame.columns]
    for col in missing:
        if col in schema.REQUIRED_COLUMNS[name]:
            work.missing.add(col)
            work.fatal.append(
                InputError(raw.file, None, None, col, None, f"a column named {col} (required)", "MISSING_COLUMN")
            )
    if missing:
        frame = frame.with_columns([pl.lit(None, pl.String).alias(c) for c in missing])
    work.frame = frame.select([ROW, *cols])
    return work


#: dates of observations and of starts (the window's upper end is today + 365 days); the
#: other dates (diagnosis, death, last contact, a treatment's planned end) may lie up to
#: ten years ahead (or as far as the observation window, when that is set further)
OBSERVATION_DATES = frozenset({("lesions", "date"), ("labs", "date"), ("findings", "date"),
                               ("responses", "date"), ("treatments", "start_date")})


def date_window() -> tuple[dt.date, dt.date]:
    """The plausible dates of any input (see the module docstring): earliest, latest."""

    def env_date(name: str) -> dt.date | None:
        text = os.environ.get(name, "").strip()
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    earliest = env_date("REMISSION_EARLIEST_DATE") or dt.date(1900, 1, 1)
    latest = env_date("REMISSION_LATEST_DATE")
    if latest is None:
        try:
            days = int(os.environ.get("REMISSION_FUTURE_DAYS", "365"))
        except ValueError:
            days = 365
        latest = dt.date.today() + dt.timedelta(days=max(0, min(days, 3650)))
    return earliest, latest


def _type_columns(work: _Work) -> None:
    """Add typed columns and the generic per-column errors (required, format, code)."""
    kinds = COLUMN_KINDS[work.name]
    dtypes = work.frame.schema
    f = work.frame.with_columns([_typed_column(work.frame, c, k, dtypes[c]) for c, k in kinds.items()])
    work.frame = f
    for col in schema.REQUIRED_COLUMNS[work.name]:
        if col not in work.missing:
            work.add(_fail(f, pl.col(col).is_null(), col, f"a value in {col} (required)", "MISSING_VALUE"))
    for col, kind in kinds.items():
        if kind.kind in ("text", "lower", "custom"):
            continue
        if not _is_typed(kind, dtypes[col]):
            bad = pl.col(col).is_not_null() & pl.col(_t(col)).is_null()
            work.add(_fail(f, bad, col, _expected_hint(col, kind, dtypes[col]), _bad_code(kind)))
        if kind.kind == "date":
            lo, hi = date_window()
            if (work.name, col) not in OBSERVATION_DATES:  # a subject's dates, a planned end
                hi = max(hi, dt.date.today() + dt.timedelta(days=3650))
            typed = pl.col(_t(col))
            outside = (typed < pl.lit(lo)) | (typed > pl.lit(hi))
            work.add(_fail(f, outside, col, f"a date from {lo} to {hi}", "DATE_OUT_OF_RANGE",
                           value=typed.cast(pl.String)))
        if kind.kind in ("number", "int") and kind.min_value is not None:
            low = pl.col(_t(col)) < kind.min_value
            code = "NEGATIVE_NUMBER" if kind.kind == "number" else "OUT_OF_RANGE"
            work.add(_fail(f, low, col, _expected_of(kind), code))


# --------------------------------------------------------------------------------------
# Per-table rules
# --------------------------------------------------------------------------------------


def _subjects(work: _Work, forced: str | None) -> pl.DataFrame:
    """Subject rules and criteria resolution; returns per-subject info (first row wins)."""
    sid = pl.col("subject_id")
    # windows are computed on the whole table, before _fail filters the failing rows
    f = work.frame.with_columns(pl.col(ROW).first().over("subject_id").alias("__first_row"))
    first_row = pl.col("__first_row")
    dup = sid.is_not_null() & ~sid.is_first_distinct()
    work.add(
        _fail(
            f,
            dup,
            "subject_id",
            pl.format("a subject_id unique in subjects (first at row {})", first_row),
            "DUPLICATE_SUBJECT",
        )
    )
    # death before diagnosis
    work.add(
        _fail(
            f,
            pl.col(_t("death_date")) < pl.col(_t("diagnosis_date")),
            "death_date",
            pl.format("a date on or after diagnosis_date {}", pl.col(_t("diagnosis_date"))),
            "DEATH_BEFORE_DIAGNOSIS",
        )
    )
    # criteria resolution (spec/tables.md subjects.criteria): force > column > cancer default > fallback
    column_value = pl.col(_t("criteria"))
    column_bad = pl.col("criteria").is_not_null() & column_value.is_null()
    if forced is not None:
        resolved = pl.lit(forced, pl.String)
    else:
        by_cancer = pl.col(_t("cancer_type")).replace_strict(
            registry.default_criteria_by_cancer(), default=None, return_dtype=pl.String
        )
        resolved = (
            pl.when(column_bad)
            .then(pl.lit(None, pl.String))
            .otherwise(pl.coalesce(column_value, by_cancer, pl.lit(registry.FALLBACK)))
        )
    work.frame = f.with_columns(resolved.alias(_t("criteria")))
    info = (
        work.frame.filter(sid.is_not_null() & sid.is_first_distinct())
        .select(
            "subject_id",
            pl.col(_t("death_date")).alias("__death"),
            pl.col(_t("criteria")).alias("__criteria"),
        )
    )
    return info


def _subject_links(work: _Work, info: pl.DataFrame, subjects_present: bool, date_cols: tuple[str, ...]) -> None:
    """Rows for unknown subjects, and dates after the subject's death."""
    f = work.frame
    # one hash lookup per row: the subject's position in info (null: not listed), which
    # gives both the unknown-subject check and the subject's death date (by position)
    # Rows of one subject are usually contiguous: the lookup is done once per run of equal
    # subject_id (run values from rle(), rows mapped back by rle_id(); a run of nulls
    # looks up null like each of its rows would), ~4x cheaper than hashing every row.
    sids = f.get_column("subject_id")
    run_values = sids.rle().struct.field("value")
    run_position = pl.select(
        run_values.replace_strict(
            info.get_column("subject_id"),
            pl.int_range(info.height, dtype=pl.UInt32, eager=True),
            default=None,
            return_dtype=pl.UInt32,
        )
    ).to_series()
    f = f.with_columns(run_position.gather(sids.rle_id()).alias("__info_pos"))
    if subjects_present:
        unknown = pl.col("subject_id").is_not_null() & pl.col("__info_pos").is_null()
        work.add(_fail(f, unknown, "subject_id", "a subject_id listed in subjects", "UNKNOWN_SUBJECT"))
    if not date_cols:
        return
    # only subjects with a death date can fail (a comparison with a null date never does)
    death = info.get_column("__death").gather(f.get_column("__info_pos")).alias("__death")
    joined = f.with_columns(death)
    for col in date_cols:
        after = pl.col(_t(col)) > pl.col("__death")
        work.add(
            _fail(
                joined,
                after,
                col,
                pl.format("a date on or before death_date {}", pl.col("__death")),
                "AFTER_DEATH",
            )
        )


def _strictly_increasing(frame: pl.DataFrame, keys: list[str]) -> bool:
    """Whether every row's ``keys`` are non-null and lexicographically greater than the
    previous row's (then no two rows share their keys)."""
    if frame.height < 2:
        return frame.select(pl.all_horizontal([pl.col(k).is_not_null() for k in keys]).all()).item()
    greater = pl.lit(False)
    for k in reversed(keys):
        col, prev = pl.col(k), pl.col(k).shift(1)
        greater = (col > prev) | ((col == prev) & greater)
    first = pl.int_range(pl.len()) == 0
    nonnull = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
    return bool(frame.select((nonnull & (first | greater.fill_null(False))).all()).item())


def _lesions(work: _Work, info: pl.DataFrame) -> None:
    role, status = pl.col(_t("role")), pl.col(_t("status"))
    # spec/tables.md lesions.diameter_mm: on a target row "empty = not evaluated at this
    # assessment"; with no status either, the row is read as status not_evaluated
    unevaluated = (role == "target") & pl.col("diameter_mm").is_null() & pl.col("status").is_null()
    work.frame = work.frame.with_columns(
        pl.col(_t("nodal")).fill_null(False),
        pl.when(unevaluated).then(pl.lit("not_evaluated")).otherwise(status).alias(_t("status")),
    )
    keys = ["subject_id", _t("date"), "lesion_id"]
    keyed = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])

    # duplicate (subject_id, date, lesion_id): every row after the first
    # (rows are in input order and ROW is unique, so "after the first" = not the first ROW).
    # A table whose keys strictly increase row by row (the usual sorted file) has none:
    # that check is one cheap pass, the window over three keys is not.
    f = work.frame
    if not _strictly_increasing(f, keys):
        f = f.with_columns(pl.col(ROW).first().over(keys).alias("__first_row")).with_columns(
            (keyed & (pl.col(ROW) != pl.col("__first_row"))).alias("__dup"),
        )
        work.add(
            _fail(
                f,
                pl.col("__dup"),
                "lesion_id",
                pl.format("one row per subject, date and lesion_id (first at row {})", pl.col("__first_row")),
                "DUPLICATE_LESION_ROW",
            )
        )
    # spec/tables.md lesions: status required on non-target and new rows
    work.add(
        _fail(
            f,
            role.is_in(["non_target", "new"]) & pl.col("status").is_null(),
            "status",
            "a status on a non_target or new row",
            "MISSING_STATUS",
        )
    )
    # spec/tables.md: too_small is a target-row status
    work.add(
        _fail(
            f,
            role.is_in(["non_target", "new"]) & (status == "too_small"),
            "status",
            "too_small only on target rows",
            "STATUS_NOT_ALLOWED",
        )
    )
    # one hash group_by per (subject_id, lesion_id) serves the role and target rules
    typed_rows, lesions = _per_lesion(f.filter(keyed & role.is_not_null()))
    # a lesion keeps its role across dates (lesion_id is stable, spec/tables.md)
    first_role = role.sort_by([_t("date"), ROW]).first().over(["subject_id", "lesion_id"])
    # only lesions with more than one role can fail: find them first (cheaper than the window)
    n_t, n_new = pl.col("__n_target"), pl.col("__n_new")
    n_roles = (n_t > 0).cast(pl.Int8) + (n_new > 0).cast(pl.Int8) + (pl.col("__rows") > n_t + n_new).cast(pl.Int8)
    changed = lesions.filter(n_roles > 1).select("subject_id", "lesion_id")
    if changed.height:
        roles = typed_rows.join(changed, on=["subject_id", "lesion_id"], how="semi").with_columns(
            first_role.alias("__first_role")
        )
        work.add(
            _fail(
                roles,
                role != pl.col("__first_role"),
                "role",
                pl.format("the lesion's first role ({})", pl.col("__first_role")),
                "ROLE_CHANGED",
            )
        )
    _criterion_checks(work, info, typed_rows, lesions)


def _per_lesion(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per lesion (subject_id, lesion_id) of the lesion rows with keys and role: its number
    of rows, of target rows and of new rows (a role change shows as two of target /
    non_target / new present), and over its target rows the first date, the first row (by
    date, then row), the first row with an organ and with a diameter, and whether any says
    nodal.

    Rather than sorting by (subject, lesion, date, row) and taking firsts per group, each
    row gets one integer order key ``k = day * n + position`` (position in ``rows`` ordered
    by ROW, so ``k`` orders rows by date, then ROW, exactly and without overflow for any
    date range as n < 2**31), and a hash group_by takes plain minima of ``k`` (null on the
    rows that do not count, so every aggregate is a plain min/sum/any); the row of a
    minimum is ``k mod n`` (see :func:`_criterion_checks`).  Returns ``rows`` (ordered by
    ROW) and the per-lesion frame with ``__k_first``, ``__k_organ``, ``__k_base`` (null
    when the lesion has no such target row).
    """
    if not rows.get_column(ROW).is_sorted():
        rows = rows.sort(ROW)
    n = max(rows.height, 1)
    # days from the earliest date, on the dates' day numbers (a polars date of year 0 has no
    # Python date, so the minimum is never taken out of polars)
    day_no = pl.col(_t("date")).cast(pl.Int64)
    days = day_no - day_no.min()
    k = days * n + pl.int_range(pl.len(), dtype=pl.Int64)
    role = pl.col(_t("role"))
    target = role == "target"
    # Group key: with the rows (in ROW order) sorted by subject, each subject is one run, so
    # run number * distinct lesion ids + lesion id number is one integer per lesion, far
    # cheaper to hash than two texts; the texts are gathered back from a row of the group.
    int_key = rows.height > 0 and rows.get_column("subject_id").is_sorted()
    if int_key:
        lesion_ids = rows.get_column("lesion_id").unique()
        n_ids = lesion_ids.len()
        lesion_no = pl.col("lesion_id").replace_strict(
            lesion_ids, pl.int_range(n_ids, dtype=pl.Int64, eager=True), return_dtype=pl.Int64
        )
        group_cols = [(pl.col("subject_id").rle_id().cast(pl.Int64) * n_ids + lesion_no).alias("__g")]
    else:
        group_cols = [pl.col("subject_id"), pl.col("lesion_id")]
    keyed = rows.select(
        *group_cols,
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__pos"),
        target.alias("__target"),
        (role == "new").alias("__new"),
        pl.when(target).then(pl.col(_t("date"))).alias("__t_date"),
        pl.when(target).then(k).alias("__k_t"),
        pl.when(target & pl.col(_t("organ")).is_not_null()).then(k).alias("__k_o"),
        pl.when(target & pl.col(_t("diameter_mm")).is_not_null()).then(k).alias("__k_d"),
        (target & pl.col(_t("nodal"))).alias("__t_nodal"),
    )
    # maintain_order: the groups come out in order of first appearance, which polars
    # computes markedly faster single-threaded here (~3x) than the default hash order;
    # callers do not depend on the order of ``lesions`` (they filter, semi-join, sort).
    lesions = keyed.group_by("__g" if int_key else ["subject_id", "lesion_id"], maintain_order=True).agg(
        pl.col("__pos").min(),
        pl.len().alias("__rows"),
        pl.col("__target").sum().alias("__n_target"),
        pl.col("__new").sum().alias("__n_new"),
        pl.col("__t_date").min().alias("__first_date"),
        pl.col("__k_t").min().alias("__k_first"),
        pl.col("__k_o").min().alias("__k_organ"),
        pl.col("__k_d").min().alias("__k_base"),
        pl.col("__t_nodal").any().alias("__nodal"),
    )
    if int_key:
        pos = lesions.get_column("__pos")
        lesions = lesions.drop("__g").with_columns(
            rows.get_column("subject_id").gather(pos), rows.get_column("lesion_id").gather(pos)
        )
    return rows, lesions.drop("__pos")


def _criterion_checks(work: _Work, info: pl.DataFrame, rows: pl.DataFrame, lesions: pl.DataFrame) -> None:
    """Each criterion's own input checks (``Criterion.checks``) on the target lesions of the
    subjects it assesses.  Validation does the traversal: one frame of target lesions
    (``base.TARGET_CHECK_COLUMNS``) per distinct check, for the subjects of every criterion
    declaring it; the criterion declares the rule.

    ``rows``/``lesions`` are those of :func:`_per_lesion`: a target lesion's values are
    gathered from ``rows`` at the positions ``k mod n`` of its minimal order keys.
    """
    by_check: dict[object, list[str]] = {}
    for c in registry.all_criteria():
        if c.checks is not None:
            by_check.setdefault(c.checks, []).append(c.code)
    if not by_check:
        return
    grouped = lesions.filter(pl.col("__k_first").is_not_null())
    if grouped.height == 0:
        return
    n = max(rows.height, 1)
    row_no, organs = rows.get_column(ROW), rows.get_column(_t("organ"))
    base, base_raw = rows.get_column(_t("diameter_mm")), rows.get_column("diameter_mm")
    for check, codes in by_check.items():
        ids = info.filter(pl.col("__criteria").is_in(codes)).get_column("subject_id")
        mine = grouped.filter(pl.col("subject_id").is_in(ids.implode()))
        if mine.height == 0:
            continue
        pos_first = mine.get_column("__k_first") % n
        pos_organ = mine.get_column("__k_organ") % n  # null (no organ) gathers null
        pos_base = mine.get_column("__k_base") % n
        targets = pl.DataFrame(
            [
                mine.get_column("subject_id").cast(pl.String),
                mine.get_column("lesion_id").cast(pl.String),
                row_no.gather(pos_first).cast(pl.Int64).alias("row"),
                mine.get_column("__first_date").alias("first_date"),
                organs.gather(pos_organ).alias("organ"),
                mine.get_column("__nodal").alias("nodal"),
                base.gather(pos_base).cast(pl.Float64).alias("baseline_mm"),
                base_raw.gather(pos_base).alias("baseline_raw"),
                row_no.gather(pos_base).cast(pl.Int64).alias("baseline_row"),
            ]
        )
        work.add(check(targets).select(list(_ERR_SCHEMA)))


#: findings every criterion shares (remission_model.md §5 rules 2 and 6)
_LIFECYCLE_FINDINGS = {
    "symptoms": FindingRule(values=SYMPTOMS_VALUES),
    "physical_exam": FindingRule(values=PHYSICAL_EXAM_VALUES),
}


def _finding_rules() -> dict[str, FindingRule]:
    """Finding code -> accepted values: the lifecycle's, then each criterion's declared
    findings (``Criterion.vocabulary.findings``) in registry order; a code declared by
    several criteria keeps its first declaration."""
    rules = dict(_LIFECYCLE_FINDINGS)
    for c in registry.all_criteria():
        for code, rule in c.vocabulary.findings.items():
            rules.setdefault(code, rule)
    return rules


#: finding code -> its :class:`~remission.criteria.base.FindingRule`
FINDING_RULES: dict[str, FindingRule] = _finding_rules()


def _finding_ok(rule: FindingRule, v: pl.Expr) -> pl.Expr:
    if rule.number is not None:
        num = _float(v)
        integral = num == num.round(0)
        return {
            "int1-5": integral & num.is_between(1, 5),
            "int>=0": integral & (num >= 0),
            ">=0": num >= 0,
            ">0": num > 0,
        }[rule.number]
    low = (v.str.strip_chars() if rule.strip else v).str.to_lowercase()
    return low.is_in(rule.values)


def _finding_stored(rule: FindingRule, v: pl.Expr) -> pl.Expr:
    low = (v.str.strip_chars() if rule.strip else v).str.to_lowercase()
    if rule.store == "integer":
        return _float(v).cast(pl.Int64).cast(pl.String)
    if rule.store == "boolean":
        return pl.when(low.is_in(TRUE_SPELLINGS)).then(pl.lit("true")).otherwise(pl.lit("false"))
    if rule.store == "lower":
        return low
    return v


def _findings(work: _Work) -> None:
    """spec/tables.md findings: the values of every declared finding code
    (:data:`FINDING_RULES`); a valid value is stored as its rule says, others as given."""
    fnd, v = pl.col(_t("finding")), pl.col("value")
    ok: pl.Expr = pl.lit(True)
    stored: pl.Expr = v
    for code, rule in FINDING_RULES.items():
        ok = pl.when(fnd == code).then(_finding_ok(rule, v)).otherwise(ok)
        stored = pl.when(fnd == code).then(_finding_stored(rule, v)).otherwise(stored)
    ok = ok.fill_null(False)
    f = work.frame.with_columns(ok.alias("__ok"), pl.when(ok).then(stored).otherwise(v).alias(_t("value")))
    work.frame = f
    expected = fnd.replace_strict(
        {code: rule.expected_text() for code, rule in FINDING_RULES.items()}, default="", return_dtype=pl.String
    )
    work.add(_fail(f, v.is_not_null() & ~pl.col("__ok"), "value", expected, "BAD_FINDING_VALUE"))


def _labs(work: _Work) -> None:
    """spec/tables.md labs.unit: every value is converted to its test's canonical unit
    (:mod:`remission.units`); an unknown test code or a unit that cannot be converted is an
    input error (UNKNOWN_TEST, UNKNOWN_UNIT)."""
    f = work.frame
    conv = units.convert(
        f.select(ROW, pl.col(_t("test")).alias("test"), pl.col(_t("value")).alias("value"), pl.col("unit"))
    ).select(ROW, "unit_ok", "value_canonical", "unit_canonical")
    texts = pl.DataFrame(
        {"__test": list(units.CANONICAL_UNITS), "__expected_unit": [units.expected_units(t) for t in units.CANONICAL_UNITS]}
    )
    f = f.join(conv, on=ROW, how="left", maintain_order="left").join(
        texts, left_on=_t("test"), right_on="__test", how="left", maintain_order="left"
    )
    known = pl.col(_t("test")).is_in(list(units.CANONICAL_UNITS))
    expected_unit = pl.col("__expected_unit")
    work.add(
        _fail(
            f,
            pl.col(_t("test")).is_not_null() & ~known,
            "test",
            "a known test code (" + ", ".join(sorted(units.CANONICAL_UNITS)) + ")",
            "UNKNOWN_TEST",
        )
    )
    work.add(_fail(f, known & pl.col("unit").is_not_null() & ~pl.col("unit_ok"), "unit", expected_unit, "UNKNOWN_UNIT"))
    work.frame = f.with_columns(
        pl.when(pl.col("unit_ok")).then(pl.col("value_canonical")).otherwise(pl.col(_t("value"))).alias(_t("value")),
        pl.when(pl.col("unit_ok")).then(pl.col("unit_canonical")).otherwise(pl.col("unit")).alias(_t("unit")),
    ).drop("unit_ok", "value_canonical", "unit_canonical", "__expected_unit")


def _treatments(work: _Work) -> None:
    f = work.frame
    work.add(
        _fail(
            f,
            pl.col(_t("end_date")) < pl.col(_t("start_date")),
            "end_date",
            pl.format("a date on or after start_date {}", pl.col(_t("start_date"))),
            "END_BEFORE_START",
        )
    )


def _responses(work: _Work, info: pl.DataFrame) -> None:
    """Response codes known for the subject's criterion (spec/tables.md responses)."""
    lookup = pl.DataFrame(
        [(crit, code.upper(), code) for crit, codes in RESPONSE_CODES.items() for code in codes],
        schema={"__criteria": pl.String, "__key": pl.String, "__canon": pl.String},
        orient="row",
    )
    listing = pl.DataFrame(
        {"__criteria": list(RESPONSE_CODES), "__listing": [", ".join(c) for c in RESPONSE_CODES.values()]}
    )
    f = (
        work.frame.join(info.select("subject_id", "__criteria"), on="subject_id", how="left", maintain_order="left")
        .with_columns(pl.col("response").str.to_uppercase().alias("__key"))
        .join(lookup, on=["__criteria", "__key"], how="left", maintain_order="left")
        .join(listing, on="__criteria", how="left", maintain_order="left")
    )
    known_criteria = pl.col("__criteria").is_not_null()
    f = f.with_columns(pl.when(known_criteria).then(pl.col("__canon")).otherwise(pl.col("response")).alias(_t("response")))
    work.frame = f
    work.add(
        _fail(
            f,
            known_criteria & pl.col("response").is_not_null() & pl.col("__canon").is_null(),
            "response",
            pl.format("a {} response code: {}", pl.col("__criteria"), pl.col("__listing")),
            "UNKNOWN_RESPONSE",
        )
    )


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------

_DATE_COLS_AFTER_DEATH = {
    "lesions": ("date",),
    "labs": ("date",),
    "findings": ("date",),
    "treatments": ("start_date",),
    "responses": ("date",),
}


def validate(raw: RawDataset, *, criteria: str | None = None) -> tuple[Dataset, list[InputError]]:
    """Typed tables and every input error (spec/tables.md "Input tables", "Bad input").

    ``criteria`` forces one criterion for every subject (``remission assess --criteria``).
    """
    errors: list[InputError] = list(raw.errors)
    forced = None
    if criteria is not None:
        forced = criteria.strip().lower()
        if forced not in registry.codes():
            errors.append(
                InputError(
                    "--criteria",
                    None,
                    None,
                    "criteria",
                    criteria,
                    "one of " + ", ".join(registry.codes()),
                    "UNKNOWN_CRITERIA",
                )
            )
            forced = None

    works = {name: _prepare(name, raw.tables.get(name)) for name in schema.INPUT_TABLES}
    for work in works.values():
        _type_columns(work)

    subjects_present = works["subjects"].present
    info = _subjects(works["subjects"], forced)
    for name, date_cols in _DATE_COLS_AFTER_DEATH.items():
        if works[name].present:
            _subject_links(works[name], info, subjects_present, date_cols)
    if works["lesions"].present:
        _lesions(works["lesions"], info)
    if works["labs"].present:
        _labs(works["labs"])
    if works["findings"].present:
        _findings(works["findings"])
    if works["treatments"].present:
        _treatments(works["treatments"])
    if works["responses"].present:
        _responses(works["responses"], info)

    frames: dict[str, pl.DataFrame] = {}
    rows: dict[str, pl.Series] = {}
    files: dict[str, str] = {}
    for name, work in works.items():
        cols = schema.INPUT_TABLES[name]
        frames[name] = work.frame.select([pl.col(_t(c)).cast(dtype).alias(c) for c, dtype in cols.items()])
        if work.present:
            files[name] = work.file
            rows[name] = work.frame.get_column(ROW).alias("row")
        errors.extend(work.fatal)
        if work.errors:
            err = pl.concat(work.errors, how="vertical")
            table = raw.tables.get(name)
            label = table.labels if table is not None and table.labels is not None else (lambda _row: None)
            errors.extend(InputError(work.file, *r, label=label(r[0])) for r in err.select(list(_ERR_SCHEMA)).iter_rows())
    return Dataset(**frames, files=files, rows=rows, validated=not errors), sorted(set(errors), key=_error_order)


def _error_order(e: InputError):
    """Deterministic order of the returned errors: file, row, column, code."""
    return (e.file, -1 if e.row is None else e.row, e.column or "", e.code, e.value or "", e.expected)
