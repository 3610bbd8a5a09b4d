"""Located input errors (spec/tables.md "Bad input").

Every problem found in the input is an :class:`InputError` naming the file, the 1-based
data row (the header is row 0; for CSV files the line number is ``row + 1``), the subject,
the column, the offending value and what was expected.  Readers and validators collect
them all and raise one :class:`InputErrors` at the end, so a user sees every problem at
once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

import polars as pl


@dataclass(frozen=True, order=True)
class InputError:
    file: str
    row: int | None
    subject_id: str | None
    column: str | None
    value: str | None
    expected: str
    code: str = "invalid"
    #: where the user's own tool shows the row: ``line 7`` (the CSV line a text editor
    #: shows, header = line 1) or ``index 'b'`` (a pandas frame's index label); None when
    #: that is the row itself (Parquet, polars frames) or unknown
    label: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.label is not None:
            where += f" ({self.label})"
        if self.subject_id is not None:
            where += f", subject {self.subject_id}"
        if self.column is not None:
            where += f", column {self.column}"
        shown = "(empty)" if self.value in (None, "") else repr(self.value)
        return f"{where}: value {shown}: expected {self.expected} [{self.code}]"


ERRORS_SCHEMA = {
    "file": pl.String,
    "row": pl.Int64,
    "subject_id": pl.String,
    "column": pl.String,
    "value": pl.String,
    "expected": pl.String,
    "code": pl.String,
    "label": pl.String,
}


def errors_frame(errors: Iterable[InputError]) -> pl.DataFrame:
    """The ``errors.csv`` (and ``warnings.csv``, ``unmapped.csv``) table: one row per error,
    sorted by file, row, column.  ``code`` is spelt in one convention, upper case with
    underscores (``MISSING_COLUMN``, ``NOT_ANALYSED``), whichever reader raised it
    (docs/tables.md "errors"); ``label`` (added) is where the user's tool shows the row
    (``line 7``, ``index 'b'``)."""
    rows = [asdict(e) for e in sorted(set(errors), key=_sort_key)]
    return pl.DataFrame(rows, schema=ERRORS_SCHEMA).with_columns(pl.col("code").str.to_uppercase())


def _sort_key(e: InputError):
    return (e.file, e.row if e.row is not None else -1, e.column or "", e.code, e.value or "")


class InputErrors(ValueError):
    """Raised with every input error found; ``.errors`` holds them sorted."""

    def __init__(self, errors: Iterable[InputError]):
        self.errors = sorted(set(errors), key=_sort_key)
        lines = [f"{len(self.errors)} input error(s):"] + [f"  {e}" for e in self.errors[:200]]
        if len(self.errors) > 200:
            lines.append(f"  ... and {len(self.errors) - 200} more (see errors.csv)")
        super().__init__("\n".join(lines))

    @property
    def invalid_subjects(self) -> set[str]:
        return {e.subject_id for e in self.errors if e.subject_id is not None}
