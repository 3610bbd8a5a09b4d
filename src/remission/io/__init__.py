"""Reading and validating the canonical input tables (spec/tables.md).

* :func:`load_dataset` reads a dataset folder (``NAME.csv`` / ``NAME.parquet``);
* :func:`from_frames` does the same from pandas or polars data frames;
* both return a typed :class:`Dataset` and the list of :class:`~remission.errors.InputError`.

By default any input error raises :class:`~remission.errors.InputErrors` (the CLI exits
with code 2).  With ``skip_invalid=True`` every subject named in an error is dropped from
every table and the errors are returned; an error that names no subject (a missing
column, an unreadable file, a row without subject_id) cannot be confined to one subject
and still raises (spec/tables.md "Bad input").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from remission.errors import InputError, InputErrors
from remission.io.tables import Dataset, RawDataset, RawTable, raw_from_frames, read_dataset
from remission.io.validate import validate

__all__ = [
    "Dataset",
    "RawDataset",
    "RawTable",
    "from_frames",
    "load_dataset",
    "read_dataset",
    "validate",
]


def _finish(dataset: Dataset, errors: list[InputError], skip_invalid: bool) -> tuple[Dataset, list[InputError]]:
    if not errors:
        return dataset, errors
    if not skip_invalid or any(e.subject_id is None for e in errors):
        raise InputErrors(errors)
    invalid = {e.subject_id for e in errors}
    keep = [s for s in dataset.subject_ids if s not in invalid]
    # every row left belongs to a valid subject (rows of unknown subjects name them)
    return replace(dataset.restrict(keep), validated=True), errors


def load_dataset(
    path: str | Path, *, criteria: str | None = None, skip_invalid: bool = False, ignore_unknown_files: bool = False
) -> tuple[Dataset, list[InputError]]:
    """Read and validate a dataset folder.

    Raises :class:`InputErrors` when there is any error, unless ``skip_invalid`` is set
    and every error names a subject: then those subjects are dropped (all their rows in
    every table) and the errors are returned with the valid subjects' dataset.
    ``ignore_unknown_files``: files of the folder that are not known tables are not
    errors (:mod:`remission.io.layout`).
    """
    dataset, errors = validate(read_dataset(path, ignore_unknown_files=ignore_unknown_files), criteria=criteria)
    return _finish(dataset, errors, skip_invalid)


def from_frames(
    subjects,
    lesions=None,
    labs=None,
    findings=None,
    treatments=None,
    responses=None,
    *,
    criteria: str | None = None,
    skip_invalid: bool = False,
) -> tuple[Dataset, list[InputError]]:
    """:func:`load_dataset` for pandas or polars frames of any dtypes.

    Every column is converted to text first (dates and midnight datetimes as
    ``YYYY-MM-DD``), then validated exactly like a CSV file (a column already of its
    schema dtype is kept typed, which gives the same result: see
    :func:`remission.io.tables.typed_passthrough`).  Error and ``files`` names
    are ``subjects (data frame)``, ``lesions (data frame)``, ...; rows are 1-based
    positions in each frame.
    """
    raw: RawDataset = raw_from_frames(
        {
            "subjects": subjects,
            "lesions": lesions,
            "labs": labs,
            "findings": findings,
            "treatments": treatments,
            "responses": responses,
        }
    )
    dataset, errors = validate(raw, criteria=criteria)
    return _finish(dataset, errors, skip_invalid)
