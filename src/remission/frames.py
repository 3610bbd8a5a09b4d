"""Data frames from any library, through the Arrow PyCapsule interface.

:func:`remission.assess` and :func:`remission.adam.adam` take their tables as polars or
pandas frames, or as **any object that exports an Arrow C stream** (``__arrow_c_stream__``,
the Arrow PyCapsule interface): a pyarrow ``Table`` or ``RecordBatchReader``, a DuckDB
relation (``con.sql("select ...")``), a polars or pandas frame, and the frames of other
libraries that implement the interface.  Such an object is read once into a polars frame
with its Arrow types (dates stay dates, numbers stay numbers) and then validated exactly
like a CSV file.

Results are polars frames: ``frame.to_pandas()`` gives pandas, ``frame.to_arrow()`` a
pyarrow Table, which DuckDB and most other tools read directly.
"""

from __future__ import annotations

from typing import Any, Mapping

import polars as pl

from remission.errors import InputError, InputErrors

#: what an input table may be, for error messages
ACCEPTED = (
    "a data frame: polars, pandas, or any object with the Arrow PyCapsule interface "
    "(__arrow_c_stream__: pyarrow Table, DuckDB relation, ...)"
)


def _is_pandas(obj: Any) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return False
    return isinstance(obj, pd.DataFrame)


def is_arrow_stream(obj: Any) -> bool:
    """True for an object exporting an Arrow C stream (the PyCapsule interface)."""
    return callable(getattr(obj, "__arrow_c_stream__", None))


def from_arrow_stream(obj: Any) -> pl.DataFrame:
    """A polars frame from an object with ``__arrow_c_stream__`` (read once, Arrow types kept)."""
    return pl.DataFrame(obj)


def as_frame(obj: Any, label: str) -> Any:
    """``obj`` as a table :mod:`remission.io` reads: polars frames, lazy frames and pandas
    frames unchanged (their own converters keep every dtype), any other Arrow stream as a
    polars frame; ``None`` unchanged.  Raises :class:`InputErrors` naming ``label`` (e.g.
    ``"lesions (data frame)"``) when ``obj`` is none of these or its stream cannot be read."""
    if obj is None or isinstance(obj, (pl.DataFrame, pl.LazyFrame)) or _is_pandas(obj):
        return obj
    if is_arrow_stream(obj):
        try:
            return from_arrow_stream(obj)
        except Exception as exc:  # the producer's own error, reported against the table
            raise InputErrors([InputError(label, None, None, None, type(obj).__name__,
                                          f"a readable Arrow stream ({exc})", "READ_ERROR")])
    raise InputErrors([InputError(label, None, None, None, type(obj).__name__, ACCEPTED, "READ_ERROR")])


def as_frames(frames: Mapping[str, Any], suffix: str = " (data frame)") -> dict[str, Any]:
    """:func:`as_frame` for every table of a mapping; every unreadable table is reported
    together (one :class:`InputErrors`)."""
    out: dict[str, Any] = {}
    errors: list[InputError] = []
    for name, obj in frames.items():
        try:
            out[name] = as_frame(obj, f"{name}{suffix}")
        except InputErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputErrors(errors)
    return out
