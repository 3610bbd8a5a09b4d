"""CSV files as users really write them (issue 14 item 4): separators, decimal marks,
byte-order marks, line ends, encodings, and the line number a text editor shows.

:func:`read_csv_text` is the one CSV reader of the dataset (``assess``) and SDTM
(``adam``) folder readers.  It reads every column as text and:

* **separator**: ``,`` unless the header line holds more ``;`` (European Excel's "CSV")
  or tabs than commas (outside quotes); then that one (:func:`sniff`).
* **decimal commas**: in a ``;``-separated file a number written ``12,5`` in one of the
  caller's numeric columns is read as ``12.5`` (European Excel writes decimal commas with
  ``;`` separators).  In a ``,``-separated file such a value can only be a quoted ``"12,5"``
  and stays an input error whose message says to use ``.`` (see
  :func:`remission.io.validate`).  Thousands separators (``1.234,5``) are never guessed.
* a UTF-8 **byte-order mark** (Excel's "CSV UTF-8") and **CRLF** line ends are read as
  if absent.
* **encoding**: UTF-8 by default; a byte that is not UTF-8 is a located error (file, line,
  the byte) saying which encoding to name (``--encoding cp1252`` for ``remission adam``).
* **duplicated header names** (``date,date``; also after stripping blanks) are an error
  (``DUPLICATE_COLUMN``) instead of polars' silent ``date_duplicated_0``.
* a record with **more fields than the header** is an error on its line
  (``RAGGED_LINE``); a record with fewer fields has empty trailing cells.
* an **empty file** (no header) is an error (``EMPTY_FILE``); a header-only file is a
  table without rows.

Line numbers: :func:`read_csv_text` also gives the first line of each record as a text
editor counts lines (the header is line 1; a quoted line break inside a value counts).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import polars as pl

from remission.errors import InputError, InputErrors

BOM = b"\xef\xbb\xbf"

#: A number written with a decimal comma (``12,5``, ``-0,75``): read in ``;`` files.
DECIMAL_COMMA = r"^[+-]?\d+,\d+$"


@dataclass(frozen=True)
class Dialect:
    separator: str = ","
    #: numeric columns may use a decimal comma (a ``;``-separated file)
    decimal_comma: bool = False


def _header_line(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _count_outside_quotes(line: str, ch: str) -> int:
    n, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            n += 1
    return n


def sniff(text: str) -> Dialect:
    """The separator of a CSV text from its header line (module docstring)."""
    header = _header_line(text)
    counts = {sep: _count_outside_quotes(header, sep) for sep in (",", ";", "\t")}
    if counts[";"] > counts[","] and counts[";"] >= counts["\t"]:
        return Dialect(";", True)
    if counts["\t"] > counts[","]:
        return Dialect("\t", False)
    return Dialect(",", False)


def decode(raw: bytes, file: str, encoding: str = "utf-8") -> str:
    """The text of a file; a byte the encoding cannot read is a located error."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        return raw.decode(encoding)
    except LookupError:
        raise InputErrors([InputError(file, None, None, None, encoding, "a known text encoding (utf-8, cp1252, latin-1, ...)", "READ_ERROR")])
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise InputErrors(
            [
                InputError(
                    file, None, None, None, f"byte 0x{byte} on line {line}",
                    f"{encoding} text: the file was saved in another encoding (save it as UTF-8, "
                    "e.g. Excel's \"CSV UTF-8\"; remission adam takes --encoding cp1252 or latin-1)",
                    "BAD_ENCODING",
                )
            ]
        ) from exc


def _header_names(text: str, dialect: Dialect) -> list[str]:
    reader = csv.reader(io.StringIO(text), delimiter=dialect.separator)
    return next(reader, [])


def _ragged_lines(text: str, dialect: Dialect, width: int, file: str) -> list[InputError]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.separator)
    errors: list[InputError] = []
    start = 1
    for row, record in enumerate(reader):
        if len(record) > width:
            errors.append(
                InputError(file, row, None, None, f"{len(record)} fields",
                           f"at most {width} fields per line, as in the header (a separator inside a value "
                           "needs quotes)", "RAGGED_LINE", label=f"line {start}")  # fmt: skip
            )
            if len(errors) >= 100:
                break
        start = reader.line_num + 1
    return errors


def read_csv_text(
    path: str | Path, *, numeric: Iterable[str] = (), encoding: str = "utf-8", file: str | None = None
) -> tuple[pl.DataFrame, Dialect, pl.Series | None]:
    """A CSV file as a polars frame of text columns (names stripped), its dialect, and the
    first line of each record as a text editor numbers lines (header = line 1), or None
    when no value holds a line break (record ``r`` is then on line ``r + 1``).

    ``numeric``: the columns whose decimal commas are read in a ``;`` file.  Raises
    :class:`~remission.errors.InputErrors` for the problems of the module docstring."""
    path = Path(path)
    file = file or path.name
    text = decode(path.read_bytes(), file, encoding)
    if not text.strip():
        raise InputErrors([InputError(file, None, None, None, None, "a header line naming the columns (the file is empty)", "EMPTY_FILE")])
    dialect = sniff(text)
    raw_names = _header_names(text, dialect)
    names = [n.strip() for n in raw_names]
    dup = _duplicate_names(names, file)
    if dup:
        raise InputErrors(dup)
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False, separator=dialect.separator)
    except pl.exceptions.ComputeError as exc:
        ragged = _ragged_lines(text, dialect, len(names), file)
        if ragged:
            raise InputErrors(ragged) from exc
        raise
    renamed = {c: c.strip() for c in frame.columns if c != c.strip()}
    if renamed:
        frame = frame.rename(renamed)
    lines = None
    if '"' in text:  # a line break inside a value needs quotes
        nl = frame.select(_embedded_newlines(frame)).to_series()
        header_nl = sum(n.count("\n") for n in raw_names)
        if nl.sum() or header_nl:
            lines = (pl.int_range(frame.height, eager=True, dtype=pl.Int64) + 2 + header_nl + (nl.cum_sum() - nl)).alias("line")
    if dialect.decimal_comma:
        frame = decimal_commas(frame, numeric)
    return frame, dialect, lines


def _embedded_newlines(frame: pl.DataFrame) -> pl.Expr:
    cols = [c for c in frame.columns if frame.schema[c] == pl.String]
    if not cols:
        return pl.lit(0, pl.Int64)
    return pl.sum_horizontal([pl.col(c).str.count_matches("\n").fill_null(0) for c in cols]).cast(pl.Int64)


def decimal_commas(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """``12,5`` -> ``12.5`` in the given columns (others and other values unchanged)."""
    exprs = []
    for c in columns:
        if c in frame.columns and frame.schema[c] == pl.String:
            v = pl.col(c).str.strip_chars()
            exprs.append(
                pl.when(v.str.contains(DECIMAL_COMMA)).then(v.str.replace(",", ".", literal=True)).otherwise(pl.col(c)).alias(c)
            )
    return frame.with_columns(exprs) if exprs else frame


def _duplicate_names(names: list[str], file: str) -> list[InputError]:
    seen: dict[str, int] = {}
    dup = []
    for i, n in enumerate(names):
        if n in seen and n:
            dup.append(InputError(file, 0, None, n, n, f"each column named once in the header (also column {seen[n] + 1})", "DUPLICATE_COLUMN"))
        seen.setdefault(n, i)
    return dup


def header_errors(path: str | Path) -> list[InputError]:
    """The header problems of a CSV file (empty file, a column named twice) from its first
    64 KiB: the check of :func:`read_csv_text` for readers that scan a file lazily
    (:mod:`remission.batching`)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.removeprefix(BOM).decode("utf-8", errors="replace")
    if not text.strip():
        return [InputError(path.name, None, None, None, None, "a header line naming the columns (the file is empty)", "EMPTY_FILE")]
    return _duplicate_names([n.strip() for n in _header_names(text, sniff(text))], path.name)
