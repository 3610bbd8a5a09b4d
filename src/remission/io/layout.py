"""Which file of a folder is which table: layout mistakes are input errors, never silence.

Every folder reader (``remission assess`` / ``import`` / ``fhir export`` dataset folders,
``remission fhir import`` folders, ``remission adam`` SDTM folders) looks at the files of
its folder through this module, so that a misnamed table is reported instead of being
read as absent (issue 14 item 3; spec/tables.md "Bad input": nothing is silently dropped).

Dataset folders (:func:`dataset_files`): every *table-like* file (:data:`TABLE_LIKE`
extensions) must be ``NAME.csv`` or ``NAME.parquet`` with ``NAME`` a known table.  Any
other table-like file is an ``UNKNOWN_FILE`` error naming the file and, where one is close
(same name in another case, an unsupported extension, a near spelling), the table it
probably meant.  ``ignore_unknown=True`` (``--ignore-unknown-files``) turns those errors
off; a table given twice (``lesions.csv`` and ``lesions.parquet``) stays an error.

Choices (the issue does not say):

* documents and hidden files are not table-like and are never reported: names starting
  with ``.`` or ``~$`` (editor lock files), and extensions outside :data:`TABLE_LIKE`
  (``README.md``, ``notes.txt``, ``protocol.pdf``); sub-folders are not looked into.
* the companion files :data:`COMPANION_FILES` are known and skipped: ``expected.csv``
  (the hand-derived results beside the bundled example datasets) and what
  ``remission fhir import --out DIR`` writes beside the tables it makes (``unmapped.csv``,
  ``errors.csv``, the run record ``run.json``), so that DIR can be assessed as it is.
* remission's assess outputs (``summary.csv``, ``assessments.csv``, ...) found in a
  dataset folder are reported with a hint to write ``--out`` elsewhere.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable

from remission.errors import InputError

#: Extensions of files that hold tables (compared in lower case).
TABLE_LIKE = (
    ".csv", ".tsv", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls", ".ods", ".json", ".ndjson", ".jsonl",
    ".feather", ".arrow", ".ipc", ".xpt", ".sas7bdat", ".sav", ".dta", ".rds", ".rda", ".xml",
)  # fmt: skip

#: Extensions a dataset table may have.
DATASET_EXTENSIONS = (".csv", ".parquet")

#: Table-like files a dataset folder may hold that are not input tables (skipped).
COMPANION_FILES = ("expected.csv", "unmapped.csv", "errors.csv", "run.json")

#: remission's own output tables (``remission assess --out``).
OUTPUT_TABLES = ("assessments", "episodes", "summary", "timepoints", "statuses", "options")

UNKNOWN_FILE = "UNKNOWN_FILE"


def _ignored(path: Path) -> bool:
    return path.name.startswith((".", "~$")) or not path.is_file() or path.suffix.lower() not in TABLE_LIKE


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` probably meant: same in another case, or a near spelling
    (``lesion`` -> ``lesions``, ``treatment`` -> ``treatments``, ``lab`` -> ``labs``)."""
    known = list(known)
    low = name.lower().strip()
    for k in known:
        if k.lower() == low:
            return k
    for k in known:  # singular / plural, a prefix: "lab" -> "labs", "subject" -> "subjects"
        if low and (k.lower().startswith(low) or low.startswith(k.lower())) and abs(len(k) - len(low)) <= 2:
            return k
    match = difflib.get_close_matches(low, [k.lower() for k in known], n=1, cutoff=0.75)
    if match:
        return next(k for k in known if k.lower() == match[0])
    return None


def dataset_files(
    folder: str | Path,
    tables: Iterable[str],
    *,
    ignore_unknown: bool = False,
    required: Iterable[str] = ("subjects",),
) -> tuple[dict[str, Path], list[InputError]]:
    """Table name -> file of a dataset folder, and every layout error.

    Errors: ``MISSING_TABLE`` (no folder, a required table absent; the message names a
    close file if there is one), ``DUPLICATE_TABLE`` (``NAME.csv`` and ``NAME.parquet``),
    ``UNKNOWN_FILE`` (a table-like file that is not a known table, unless
    ``ignore_unknown``).
    """
    folder = Path(folder)
    tables = list(tables)
    if not folder.is_dir():
        return {}, [InputError(str(folder), None, None, None, None, "a dataset folder", "MISSING_TABLE")]
    files: dict[str, Path] = {}
    errors: list[InputError] = []
    unknown: list[tuple[Path, str]] = []  # (file, what it probably is)
    for path in sorted(folder.iterdir()):
        if _ignored(path) or path.name in COMPANION_FILES:
            continue
        stem, ext = path.stem, path.suffix.lower()
        if stem in tables and ext in DATASET_EXTENSIONS:
            if stem in files:
                errors.append(
                    InputError(f"{stem}.csv", None, None, None, f"{stem}.parquet",
                               f"only one of {stem}.csv and {stem}.parquet", "DUPLICATE_TABLE")  # fmt: skip
                )
                continue
            files[stem] = path
            continue
        unknown.append((path, _guess(stem, ext, tables)))
    duplicated = {e.file[: -len(".csv")] for e in errors}
    for name in duplicated:
        files.pop(name, None)
    for name in required:
        if name not in files and name not in duplicated:
            near = [p.name for p, g in unknown if g.startswith(f"table {name}")]
            hint = f" (found {', '.join(near)}: see the error on it)" if near else ""
            errors.append(
                InputError(f"{name}.csv", None, None, None, None, f"a {name}.csv or {name}.parquet file{hint}", "MISSING_TABLE")
            )
    if not ignore_unknown:
        for path, guess in unknown:
            errors.append(InputError(path.name, None, None, None, path.name, guess, UNKNOWN_FILE))
    return files, errors


def _guess(stem: str, ext: str, tables: list[str]) -> str:
    """The ``expected`` text of an ``UNKNOWN_FILE`` error."""
    listing = ", ".join(tables)
    opt_out = "; or run with --ignore-unknown-files"
    if stem.lower() in OUTPUT_TABLES:
        return f"an input table ({listing}); {stem}{ext} is a remission output: write --out to another folder{opt_out}"
    near = closest(stem, tables)
    if near is not None and ext in DATASET_EXTENSIONS:
        return f"table {near} named exactly {near}{ext} (table names are lower case, plural){opt_out}"
    if near is not None:
        return f"table {near} as {near}.csv or {near}.parquet ({ext} is not read: save it as CSV){opt_out}"
    if ext not in DATASET_EXTENSIONS:
        return f"NAME.csv or NAME.parquet with NAME one of {listing} ({ext} is not read){opt_out}"
    return f"a known table name: {listing}{opt_out}"


def folder_files(
    folder: str | Path, extensions: Iterable[str], *, ignore_unknown: bool = False, what: str = "file"
) -> tuple[list[Path], list[InputError]]:
    """The files of ``folder`` with one of ``extensions`` (any case), and an
    ``UNKNOWN_FILE`` error for every other table-like file (unless ``ignore_unknown``)."""
    exts = tuple(e.lower() for e in extensions)
    keep: list[Path] = []
    errors: list[InputError] = []
    for path in sorted(Path(folder).iterdir()):
        if path.is_file() and path.suffix.lower() in exts and not path.name.startswith((".", "~$")):
            keep.append(path)
        elif not _ignored(path) and not ignore_unknown:
            errors.append(
                InputError(path.name, None, None, None, path.name,
                           f"a {what} ({', '.join(exts)}); {path.suffix or 'no extension'} is not read; "
                           "or run with --ignore-unknown-files", UNKNOWN_FILE)  # fmt: skip
            )
    return keep, errors
