"""Subject-batch streaming: ``remission assess`` on inputs larger than memory.

Every derivation of :func:`remission.pipeline.assess` is per subject: a subject's outputs
depend only on its own rows (and on ``as_of``).  So a dataset can be cut into *batches of
subjects*, each batch read, validated and assessed alone, and the batch outputs put
together give exactly the outputs of one whole run.  This module does that with bounded
memory:

1. **Boundaries.**  The distinct ``subject_id``\\ s of ``subjects`` (one text column, the
   only table read whole) are sorted and cut into ``B`` contiguous ranges of about
   ``batch_size`` subjects.  Choice: *ranges* of the sorted ids rather than a hash of the
   id (the usual Spark choice, used by :mod:`remission.spark`): every output table is
   sorted by ``subject_id`` first, so the batches' outputs, written in range order, are
   already in the global order (no global sort, no memory spike at the end), and a range
   predicate can skip Parquet row groups when the files are sorted.
2. **Pass 1 (validate).**  For each range, every table is scanned with the range as a
   predicate (``scan_parquet`` / ``scan_csv``, so only that range's rows are kept in
   memory), turned into text exactly as :func:`remission.io.tables.read_dataset` does, with
   each row's number in the *whole* file, and validated.  Input errors are collected over
   all batches; the typed batch is spilled to a temporary Parquet folder and its latest
   date noted.
3. **Pass 2 (assess).**  With ``as_of`` = the option, else the latest date over all batches
   (as in a whole run), each spilled batch is assessed and its outputs appended.

Input errors behave as in a whole run: without ``skip_invalid`` any error raises
:class:`~remission.errors.InputErrors` listing all of them (deduplicated, in the same
order), with ``skip_invalid`` the subjects named are dropped.  Row numbers are those of the
whole file.  Rows with a null ``subject_id`` go to the first batch.

The number of batches is ``ceil(subjects / batch_size)``; without a ``batch_size``
:func:`auto_batch_size` picks one from the estimated input size (see docs/scale.md).
"""

from __future__ import annotations

import datetime as dt
import contextlib
import math
import os
import sys
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from remission import schema
from remission.errors import InputError, InputErrors
from remission.io import Dataset, RawDataset, RawTable, validate
from remission.io.tables import ROW, _clean, _drop_blank_records, _text_expr, frame_to_text
from remission.options import AssessOptions

#: Progress callback: (step done, steps in total, what was done).
Progress = Callable[[int, int, str], None]

#: Lesion rows (the largest table) per batch above which :func:`auto_batch_size` splits:
#: about 4 GiB of peak memory per batch on the synthetic benchmark data (docs/scale.md).
DEFAULT_ROWS_PER_BATCH = 4_000_000

#: Lesion rows per batch when batches go to several worker processes.  Measured at 10^6
#: subjects (29 M lesion rows) on two cores: 32 batches of ~0.9 M rows took 61.2 s and
#: 1.6 GiB, 16 of ~1.8 M 62.9 s and 2.8 GiB, 8 of ~3.7 M 66.3 s and 4.5 GiB (smaller frames
#: fit the caches better; each batch's fixed cost is small).
WORKER_ROWS_PER_BATCH = 1_000_000

#: Upper bound of the automatic number of worker processes (``--workers`` may ask for more).
MAX_AUTO_WORKERS = 8

_SID = "__sid__"  # cleaned text subject id used for range filtering
_FILE_ROW = "__file_row__"


# --------------------------------------------------------------------------------------
# Files and boundaries
# --------------------------------------------------------------------------------------


def _table_files(folder: Path) -> tuple[dict[str, Path], list[InputError]]:
    """``NAME.csv`` / ``NAME.parquet`` of the folder, with the errors of
    :func:`remission.io.tables.read_dataset` (duplicate or missing tables); files that are
    not known tables are checked once per run by :func:`layout_errors`."""
    from remission.io.layout import dataset_files

    return dataset_files(folder, schema.INPUT_TABLES, ignore_unknown=True)


def layout_errors(folder: str | Path, options: AssessOptions) -> list[InputError]:
    """The ``UNKNOWN_FILE`` errors of the folder (:mod:`remission.io.layout`), unless
    ``options.ignore_unknown_files``; a batched run raises them before reading a batch."""
    from remission.io.layout import UNKNOWN_FILE, dataset_files

    if options.ignore_unknown_files or not Path(folder).is_dir():
        return []
    _, errors = dataset_files(folder, schema.INPUT_TABLES)
    return [e for e in errors if e.code == UNKNOWN_FILE]


def _scan(path: Path) -> pl.LazyFrame:
    """The file as a lazy frame with stripped column names and the 1-based file row."""
    if path.suffix.lower() == ".csv":
        lf = pl.scan_csv(path, infer_schema=False, encoding="utf8", separator=_csv_dialect(path).separator)
    else:
        lf = pl.scan_parquet(path)
    names = lf.collect_schema().names()
    renamed = {c: c.strip() for c in names if c != c.strip()}
    if renamed:
        lf = lf.rename(renamed)
    return lf.with_row_index(_FILE_ROW, offset=1)


def _csv_dialect(path: Path):
    """The CSV dialect of a file (:func:`remission.io.dialect.sniff` of its first 64 KiB)."""
    from remission.io.dialect import BOM, sniff

    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    return sniff(head.removeprefix(BOM).decode("utf-8", errors="replace"))


def _sid_expr(lf: pl.LazyFrame) -> pl.Expr | None:
    """The cleaned text ``subject_id`` (as validation sees it), or None without the column."""
    sch = lf.collect_schema()
    if "subject_id" not in sch:
        return None
    dtype = sch["subject_id"]
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
        return None
    s = _text_expr("subject_id", dtype).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def clean_ids(path: Path) -> bool:
    """True when the file's ``subject_id`` column can be range-filtered as stored: a Parquet
    text column whose every value is already its cleaned self (no surrounding blanks, no
    empty text).  Then the batch filter is put on the stored column, which lets the Parquet
    reader skip the row groups outside the range by their statistics (on files sorted by
    subject, as registries and the benchmark data are, a batch reads about its own share of
    the file instead of all of it); otherwise the cleaned expression is filtered after
    reading every row.  One scan of the column, done once per file by :func:`plan`."""
    if path.suffix.lower() != ".parquet":
        return False
    try:
        lf = pl.scan_parquet(path)
        names = lf.collect_schema()
        if names.get("subject_id") != pl.String:
            return False
        sid = pl.col("subject_id")
        bad = lf.select(((sid.str.strip_chars() != sid) | (sid == "")).any()).collect().item()
    except Exception:  # unreadable: the exact path reports it
        return False
    return bad is False


def count_rows(path: Path) -> int:
    """Number of data rows of a CSV or Parquet file (Parquet: from the footer)."""
    if path.suffix.lower() == ".csv":
        return pl.scan_csv(path, infer_schema=False).select(pl.len()).collect().item()
    return pl.scan_parquet(path).select(pl.len()).collect().item()


def auto_batch_size(
    folder: str | Path, rows_per_batch: int = DEFAULT_ROWS_PER_BATCH, *, workers: int = 1,
    worker_rows_per_batch: int = WORKER_ROWS_PER_BATCH,
) -> int | None:
    """Subjects per batch for the estimated input size, or None for one whole run.

    The estimate is the row count of the largest table (``lesions`` usually; Parquet
    footers, a CSV is counted): up to ``rows_per_batch`` rows the dataset is assessed in
    one run, above it in batches of ``subjects x rows_per_batch / rows`` subjects.  With
    ``workers`` > 1, batches above that threshold hold about ``worker_rows_per_batch`` rows
    and their number is a multiple of ``workers``, so that no worker idles at the end.
    """
    files, _ = _table_files(Path(folder))
    if "subjects" not in files:
        return None
    try:
        counts = {name: count_rows(p) for name, p in files.items()}
    except Exception:  # unreadable files are reported by validation, in one run
        return None
    largest = max(counts.values())
    subjects = counts["subjects"]
    if largest <= rows_per_batch or subjects == 0:
        return None
    if workers <= 1:
        return max(1, int(subjects * rows_per_batch / largest))
    batches = math.ceil(math.ceil(largest / worker_rows_per_batch) / workers) * workers
    return max(1, math.ceil(subjects / batches))


def boundaries(folder: str | Path, batch_size: int) -> list[str]:
    """Lower bounds (exclusive of the first batch) of the subject-id ranges: batch ``k``
    holds ids in ``[b[k-1], b[k])``, the first ``(-inf, b[0])`` with null ids, the last
    ``[b[-1], +inf)``.  Empty when one batch suffices."""
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    files, _ = _table_files(Path(folder))
    if "subjects" not in files:
        return []
    try:
        lf = _scan(files["subjects"])
        sid = _sid_expr(lf)
        if sid is None:
            return []
        ids = lf.select(sid.alias(_SID)).drop_nulls().unique().sort(_SID).collect().get_column(_SID)
    except Exception:
        return []
    return ids.gather(list(range(batch_size, ids.len(), batch_size))).to_list()


def _in_range(sid: pl.Expr, lo: str | None, hi: str | None) -> pl.Expr:
    cond = pl.lit(True)
    if lo is not None:
        cond = cond & (sid >= lo)
    if hi is not None:
        cond = cond & (sid < hi)
    if lo is None:  # rows without a subject go to the first batch
        cond = cond.fill_null(True) | sid.is_null()
    return cond.fill_null(False)


# --------------------------------------------------------------------------------------
# Reading one batch as text (as io.tables.read_dataset, rows numbered in the whole file)
# --------------------------------------------------------------------------------------


def _read_batch_table(
    path: Path, name: str, lo: str | None, hi: str | None, clean: bool = False
) -> tuple[RawTable | None, list[InputError]]:
    """One table's rows of the batch; ``clean``: :func:`clean_ids` holds for the file (the
    range is then applied to the stored column, the same rows)."""
    file = path.name
    if path.suffix.lower() == ".csv":
        from remission.io.dialect import header_errors

        bad_header = header_errors(path)
        if bad_header:
            return None, bad_header
    try:
        lf = _scan(path)
        sid = _sid_expr(lf)
        if sid is not None and clean:
            lf = lf.filter(_in_range(pl.col("subject_id"), lo, hi))
        elif sid is not None:
            lf = lf.filter(_in_range(sid, lo, hi))
        elif lo is not None:  # no usable subject_id: every row in the first batch
            lf = lf.head(0)
        frame = lf.collect()
        file_rows = frame.get_column(_FILE_ROW)
        frame = frame.drop(_FILE_ROW)
        if path.suffix.lower() == ".csv":
            from remission.io.dialect import decimal_commas
            from remission.io.tables import numeric_columns

            if _csv_dialect(path).decimal_comma:
                frame = decimal_commas(frame, numeric_columns(name))
            text = frame.with_columns(file_rows.cast(pl.Int64).alias(ROW))
            text = _drop_blank_records(_clean(text))
            errors: list[InputError] = []
        else:
            from remission.io.tables import typed_passthrough  # (as read_table: typed columns kept)

            text, errors = frame_to_text(frame, file, typed_passthrough(name))
            if text is not None:  # positions in the batch -> rows of the file
                text = text.with_columns(file_rows.gather(text.get_column(ROW) - 1).cast(pl.Int64).alias(ROW))
    except Exception as exc:  # as read_table: an unreadable file is an input error
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, [InputError(file, None, None, None, None, f"a readable {path.suffix[1:]} file ({reason})", "READ_ERROR")]
    if text is None:
        return None, errors
    text = text.select([ROW] + [c for c in text.columns if c != ROW])
    labels = None
    if path.suffix.lower() == ".csv" and not _has_quotes(path):
        from remission.io.tables import RowLabels

        labels = RowLabels("line", 1)  # no quoted line break: record r is on line r + 1
    return RawTable(name, file, text, labels), errors


def _has_quotes(path: Path) -> bool:
    """Whether a file holds a ``"`` (only a quoted value can hold a line break, which would
    shift the line numbers of the records after it; batches then give no line labels)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            if b'"' in chunk:
                return True
    return False


def read_batch(folder: str | Path, lo: str | None, hi: str | None, clean: frozenset[str] = frozenset()) -> RawDataset:
    """The raw text tables of the subjects with ``lo <= subject_id < hi``; ``clean``: the
    tables whose files satisfy :func:`clean_ids` (see :attr:`BatchPlan.clean`)."""
    files, errors = _table_files(Path(folder))
    tables: dict[str, RawTable] = {}
    for name, path in files.items():
        table, errs = _read_batch_table(path, name, lo, hi, name in clean)
        errors.extend(errs)
        if table is not None:
            tables[name] = table
    return RawDataset(tables, tuple(errors))


def ranges(bounds: list[str]) -> list[tuple[str | None, str | None]]:
    """``[(None, b0), (b0, b1), ..., (b_last, None)]``."""
    edges: list[str | None] = [None, *bounds, None]
    return list(zip(edges[:-1], edges[1:]))


# --------------------------------------------------------------------------------------
# Spilling validated batches
# --------------------------------------------------------------------------------------


def _spill(ds: Dataset, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in ds.tables.items():
        if name in ds.rows:
            frame = frame.with_columns(ds.rows[name].alias(ROW))
        frame.write_parquet(folder / f"{name}.parquet", compression="lz4")  # temporary: fast over small


def _unspill(folder: Path, files: dict[str, str]) -> Dataset:
    frames: dict[str, pl.DataFrame] = {}
    rows: dict[str, pl.Series] = {}
    for name in schema.INPUT_TABLES:
        frame = pl.read_parquet(folder / f"{name}.parquet")
        if ROW in frame.columns:
            rows[name] = frame.get_column(ROW).alias("row")
            frame = frame.drop(ROW)
        frames[name] = frame
    # a spilled batch passed validation (invalid subjects already dropped)
    return Dataset(**frames, files=dict(files), rows=rows, validated=True)


def _latest(ds: Dataset) -> dt.date | None:
    from remission.pipeline import _latest_date

    return _latest_date(ds)


def _error_key(e: InputError):
    from remission.io.validate import _error_order

    return _error_order(e)


# --------------------------------------------------------------------------------------
# Batched assess
# --------------------------------------------------------------------------------------


@dataclass
class BatchPlan:
    """How a dataset is cut: subject-id ranges, in output order."""

    ranges: list[tuple[str | None, str | None]]
    #: tables whose stored subject ids can be range-filtered as they are (:func:`clean_ids`)
    clean: frozenset[str] = frozenset()

    @property
    def batches(self) -> int:
        return len(self.ranges)


def plan(folder: str | Path, batch_size: int | None = None) -> BatchPlan:
    """Ranges for ``batch_size`` subjects per batch (None: :func:`auto_batch_size`)."""
    if batch_size is None:
        batch_size = auto_batch_size(folder)
    if batch_size is None:
        return BatchPlan([(None, None)])
    cuts = ranges(boundaries(folder, batch_size))
    if len(cuts) == 1:
        return BatchPlan(cuts)
    files, _ = _table_files(Path(folder))
    return BatchPlan(cuts, frozenset(name for name, path in files.items() if clean_ids(path)))


def _validated_batches(
    folder: Path, batch_plan: BatchPlan, options: AssessOptions, spill: Path, progress: Progress | None, total: int
) -> tuple[list[tuple[Path, dict[str, str]]], list[InputError], dt.date | None]:
    """Pass 1: read, validate and spill every batch; the errors and the latest date."""
    spilled: list[tuple[Path, dict[str, str]]] = []
    all_errors: list[InputError] = []
    latest: dt.date | None = None
    for k, (lo, hi) in enumerate(batch_plan.ranges):
        part = spill / f"batch-{k:05d}"
        errors, files, d = _validate_job(str(folder), lo, hi, batch_plan.clean, options.criteria,
                                         options.skip_invalid, str(part))
        all_errors.extend(errors)
        spilled.append((part, files))
        latest = _later(latest, d)
        if progress is not None:
            progress(k + 1, total, f"validated batch {k + 1} of {batch_plan.batches}")
    return spilled, _run_errors(all_errors, options.skip_invalid), latest


def _blocking(errors: list[InputError], skip_invalid: bool) -> bool:
    """Input errors stop the run unless ``skip_invalid`` and each names its subject."""
    return bool(errors) and (not skip_invalid or any(e.subject_id is None for e in errors))


def _run_errors(errors: list[InputError], skip_invalid: bool) -> list[InputError]:
    """The input errors of all batches in a whole run's order; raised when they stop the run."""
    errors = sorted(set(errors), key=_error_key)
    if _blocking(errors, skip_invalid):
        raise InputErrors(errors)
    return errors


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    return a if b is None or (a is not None and a >= b) else b


def _read_validated(folder: str, lo: str | None, hi: str | None, clean: frozenset[str], criteria: str | None,
                    skip_invalid: bool) -> tuple[Dataset, list[InputError]]:
    """One batch read and validated; with non-blocking errors, without the invalid subjects."""
    ds, errors = validate(read_batch(folder, lo, hi, clean), criteria=criteria)
    if errors and not _blocking(errors, skip_invalid):
        invalid = {e.subject_id for e in errors}
        ds = replace(ds.restrict([s for s in ds.subject_ids if s not in invalid]), validated=True)
    return ds, list(errors)


def iter_batches(
    data: str | Path,
    options: AssessOptions | None = None,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
    spill_dir: str | Path | None = None,
    batch_plan: BatchPlan | None = None,
) -> Iterator["AssessResult"]:  # noqa: F821
    """The :class:`~remission.pipeline.AssessResult` of each batch, in subject-id order.

    Each batch result holds that batch's subjects only (``errors`` empty); the input
    errors of the whole dataset are on the first result.  ``as_of`` is the same for all.
    ``batch_plan``: a :func:`plan` already made for ``data`` (then ``batch_size`` is not used).
    """
    from remission.pipeline import assess

    if options is None:
        options = AssessOptions()
    elif isinstance(options, dict):
        options = AssessOptions(**options)
    folder = Path(data)
    unknown = layout_errors(folder, options)
    if unknown:
        raise InputErrors(unknown)
    if batch_plan is None:
        batch_plan = plan(folder, batch_size)
    total = 2 * batch_plan.batches
    tmp = Path(tempfile.mkdtemp(prefix="remission-batches-", dir=spill_dir))
    try:
        spilled, errors, latest = _validated_batches(folder, batch_plan, options, tmp, progress, total)
        run_options = options.model_copy(update={"as_of": options.as_of or latest, "skip_invalid": False})
        for k, (part, files) in enumerate(spilled):
            result = assess(_unspill(part, files), run_options)
            shutil.rmtree(part, ignore_errors=True)
            if k == 0:
                result.errors = list(errors)
            if progress is not None:
                progress(batch_plan.batches + k + 1, total, f"assessed batch {k + 1} of {batch_plan.batches}")
            yield result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def assess_batched(
    data: str | Path,
    options: AssessOptions | None = None,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
    spill_dir: str | Path | None = None,
):
    """:func:`remission.pipeline.assess` of a dataset folder, batch by batch, put together
    in memory: the same :class:`~remission.pipeline.AssessResult` as one whole run (the
    input still has to fit on disk, the outputs in memory; see :func:`assess_to_files`)."""
    from remission.pipeline import AssessResult

    parts = list(iter_batches(data, options, batch_size=batch_size, progress=progress, spill_dir=spill_dir))
    first = parts[0]

    def cat(attr: str, keys: list[str] | None = None) -> pl.DataFrame | None:
        frames = [getattr(p, attr) for p in parts if getattr(p, attr) is not None]
        if not frames:
            return None
        out = pl.concat(frames, how="vertical_relaxed") if len(frames) > 1 else frames[0]
        return out

    return AssessResult(
        assessments=cat("assessments"),
        episodes=cat("episodes"),
        summary=cat("summary"),
        errors=first.errors,
        timepoints=cat("timepoints"),
        statuses=cat("statuses"),
        segments=cat("segments"),
        as_of=first.as_of,
        as_of_given=first.as_of_given,
    )


def _validate_job(folder: str, lo: str | None, hi: str | None, clean: frozenset[str], criteria: str | None,
                  skip_invalid: bool, part: str) -> tuple[list[InputError], dict[str, str], dt.date | None]:
    """Pass 1 for one batch (in this process or a worker): read, validate, restrict, spill."""
    ds, errors = _read_validated(folder, lo, hi, clean, criteria, skip_invalid)
    _spill(ds, Path(part))
    return errors, dict(ds.files), _latest(ds)


def _hand_over(frames: tuple[pl.DataFrame, ...], folder: Path) -> tuple[str, ...]:
    """Write a worker's output frames as uncompressed Arrow IPC files for the main process,
    which memory-maps them (:func:`_take_over`): cheaper than pickling them through the
    pool's pipe (two copies and a decode fewer)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, frame in enumerate(frames):
        path = folder / f"out-{k}.arrow"
        frame.write_ipc(path, compression="uncompressed")
        paths.append(str(path))
    return tuple(paths)


def _take_over(paths: tuple[str, ...]) -> tuple:
    """The frames :func:`_hand_over` wrote, as memory-mapped Arrow tables (no copy; the
    Parquet writer takes them as they are).  The files may be unlinked once written out."""
    import pyarrow as pa

    return tuple(pa.ipc.open_file(pa.memory_map(p)).read_all() for p in paths)


def _assess_job(part: str, files: dict[str, str], options: AssessOptions) -> tuple[str, ...]:
    """Pass 2 for one batch (run in a worker process): the three output tables, handed over
    as files in ``part/out``."""
    from remission.pipeline import assess

    result = assess(_unspill(Path(part), files), options)
    for spilled in Path(part).glob("*.parquet"):
        spilled.unlink()
    return _hand_over((result.assessments, result.episodes, result.summary), Path(part) / "out")


def _one_pass_job(folder: str, lo: str | None, hi: str | None, clean: frozenset[str], options: AssessOptions,
                  assess_it: bool, handoff: str) -> tuple[list[InputError], dt.date | None, tuple[str, ...] | None]:
    """Both passes for one batch at once (run in a worker process), when ``as_of`` is known
    beforehand: read, validate, restrict, and assess unless an error blocks the run (or
    ``assess_it`` is False: an earlier batch already failed)."""
    from remission.pipeline import assess

    ds, errors = _read_validated(folder, lo, hi, clean, options.criteria, options.skip_invalid)
    latest = _latest(ds)
    if _blocking(errors, options.skip_invalid) or not assess_it:
        return errors, latest, None
    result = assess(ds, options.model_copy(update={"skip_invalid": False}))
    return errors, latest, _hand_over((result.assessments, result.episodes, result.summary), Path(handoff))


#: the latest date cannot be read from the files' metadata (see :func:`predicted_latest`)
UNKNOWN = object()


def predicted_latest(folder: str | Path):
    """The latest date of the dataset as validation will see it, read before validating, or
    :data:`UNKNOWN`.

    Known when every table is Parquet and each date column the as-of date is taken from
    (:data:`remission.pipeline.LATEST_DATE_COLUMNS`) is stored as a date: validation keeps
    such columns as they are, so a dataset without input errors has the same latest date.
    It lets :func:`assess_to_files` validate and assess each batch in one pass; the
    prediction is checked against the validated batches' latest date afterwards (it can
    differ only when ``skip_invalid`` drops subjects), and the two-pass route is taken when
    it was wrong.
    """
    from remission.pipeline import LATEST_DATE_COLUMNS

    files, errors = _table_files(Path(folder))
    if errors or "subjects" not in files:
        return UNKNOWN
    best: dt.date | None = None
    try:
        for name, path in files.items():
            if path.suffix.lower() != ".parquet":
                return UNKNOWN
            lf = pl.scan_parquet(path)
            sch = lf.collect_schema()
            cols = [c for c in LATEST_DATE_COLUMNS.get(name, ()) if c in sch]
            if any(sch[c] != pl.Date for c in cols):
                return UNKNOWN
            if cols:
                for v in lf.select(pl.max_horizontal(*[pl.col(c).max() for c in cols])).collect().row(0):
                    if v is not None and (best is None or v > best):
                        best = v
    except Exception:  # unreadable: the two-pass route reports it
        return UNKNOWN
    return best


def default_workers(batches: int) -> int:
    """Worker processes for ``batches`` batches: one per CPU core (at most
    :data:`MAX_AUTO_WORKERS`), at most one per batch."""
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS, batches))


def _polars_threads(_: int) -> int:
    return pl.thread_pool_size()


def _die_with_parent(parent: int) -> None:
    """Worker initializer: the worker ends when the process that started it ends, however it
    ends (SIGKILL included): on Linux the kernel sends SIGKILL at the parent's death
    (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread checks the parent every
    second and exits when it is gone."""
    import signal
    import threading
    import time

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="remission-parent-watch", daemon=True).start()


#: Environment of the worker processes.  With polars' allocator (jemalloc, configured
#: through ``_RJEM_MALLOC_CONF``) left as built, about a fifth of a worker's time was system
#: time (page faults on memory freed and allocated again, batch after batch); these decay
#: times cut the system time of ``assess`` at 10^6 subjects by a third (42 -> 29 CPU s) and
#: its wall time by a tenth, measured on the benchmark data (docs/scale.md).
_WORKER_ENV = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:5000,muzzy_decay_ms:5000"}


class _Pool:
    """A process pool whose workers run polars on ``threads`` threads each.

    Workers are started with the ``spawn`` method (polars' thread pool does not survive a
    ``fork``); ``POLARS_MAX_THREADS`` (and :data:`_WORKER_ENV`) are set in the environment
    they inherit, since polars reads them once, when it is imported in the worker.
    """

    def __init__(self, workers: int, threads: int = 1):
        import concurrent.futures as cf
        import multiprocessing as mp

        saved = {k: os.environ.get(k) for k in (*_WORKER_ENV, "POLARS_MAX_THREADS")}
        os.environ["POLARS_MAX_THREADS"] = str(threads)
        for k, v in _WORKER_ENV.items():
            os.environ.setdefault(k, v)  # a setting of the user's is kept
        try:
            self.pool = cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                               initializer=_die_with_parent, initargs=(os.getpid(),))
            # with ``spawn`` every worker is started at the first submission: do it now,
            # while the environment holds the thread count
            self.threads = list(self.pool.map(_polars_threads, range(workers)))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def ordered(self, fn, jobs: list[tuple], window: int) -> Iterator:
        """``fn(*job)`` for every job, results yielded in job order, at most ``window``
        jobs submitted ahead of the one being consumed (bounded memory)."""
        pending: list = []
        it = iter(jobs)
        for job in it:
            pending.append(self.pool.submit(fn, *job))
            if len(pending) >= window:
                break
        while pending:
            result = pending.pop(0).result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(self.pool.submit(fn, *nxt))
            yield result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """End the workers now (the run failed or was stopped): nothing is left running."""
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.join(timeout=5)


def _assess_parallel(
    folder: Path, batch_plan: BatchPlan, options: AssessOptions, workers: int, progress: Progress | None,
    spill_dir: str | Path | None,
) -> Iterator[tuple[list[InputError], tuple[str, ...]]]:
    """Both passes with ``workers`` processes; yields ``(errors, output files)`` per batch in order
    (the whole dataset's input errors with the first batch, as :func:`iter_batches`)."""
    total = 2 * batch_plan.batches
    tmp = Path(tempfile.mkdtemp(prefix="remission-batches-", dir=spill_dir))
    pool = _Pool(workers)
    try:
        jobs = [(str(folder), lo, hi, batch_plan.clean, options.criteria, options.skip_invalid, str(tmp / f"batch-{k:05d}"))
                for k, (lo, hi) in enumerate(batch_plan.ranges)]
        all_errors: list[InputError] = []
        spilled: list[tuple[str, dict[str, str]]] = []
        latest: dt.date | None = None
        for k, (errs, files, d) in enumerate(pool.ordered(_validate_job, jobs, window=2 * workers)):
            all_errors.extend(errs)
            spilled.append((jobs[k][-1], files))
            latest = _later(latest, d)
            if progress is not None:
                progress(k + 1, total, f"validated batch {k + 1} of {batch_plan.batches}")
        errors = _run_errors(all_errors, options.skip_invalid)
        run_options = options.model_copy(update={"as_of": options.as_of or latest, "skip_invalid": False})
        # one batch being written by this process and one more ready per worker
        window = workers + 1
        for k, outputs in enumerate(pool.ordered(_assess_job, [(p, f, run_options) for p, f in spilled], window)):
            if progress is not None:
                progress(batch_plan.batches + k + 1, total, f"assessed batch {k + 1} of {batch_plan.batches}")
            yield (errors if k == 0 else []), outputs
    except BaseException:
        pool.abort()
        raise
    else:
        pool.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class _Fallback(Exception):
    """The predicted as-of date was not the validated data's: run the two passes."""


def _assess_one_pass(
    folder: Path, batch_plan: BatchPlan, options: AssessOptions, as_of: dt.date | None, workers: int,
    progress: Progress | None, tmp: Path,
) -> Iterator[tuple[str, ...]]:
    """Validate and assess each batch in one job (``as_of`` known beforehand); yields each
    batch's outputs in order.  Input errors are known only at the end: the caller must
    treat what was yielded as provisional until this generator finishes; it then raises
    :class:`~remission.errors.InputErrors` (blocking errors) or :class:`_Fallback`, or
    returns the (sorted) errors of skipped subjects as ``StopIteration.value``."""
    run_options = options.model_copy(update={"as_of": as_of})
    pool = _Pool(workers)
    failed = False

    def jobs():
        for k, (lo, hi) in enumerate(batch_plan.ranges):
            yield (str(folder), lo, hi, batch_plan.clean, run_options, not failed, str(tmp / f"out-{k:05d}"))

    all_errors: list[InputError] = []
    latest: dt.date | None = None
    try:
        for k, (errs, d, outputs) in enumerate(pool.ordered(_one_pass_job, jobs(), window=workers + 1)):
            all_errors.extend(errs)
            latest = _later(latest, d)
            if outputs is None:
                failed = True
            if progress is not None:
                progress(k + 1, batch_plan.batches, f"assessed batch {k + 1} of {batch_plan.batches}")
            if not failed:
                yield outputs
    except BaseException:
        pool.abort()
        raise
    else:
        pool.close()
    errors = _run_errors(all_errors, options.skip_invalid)
    if options.as_of is None and latest != as_of:
        raise _Fallback()
    return errors


def assess_to_files(
    data: str | Path,
    out_dir: str | Path,
    fmt: str = "parquet",
    options: AssessOptions | None = None,
    *,
    batch_size: int | None = None,
    progress: Progress | None = None,
    spill_dir: str | Path | None = None,
    workers: int | None = 1,
) -> tuple[list[Path], "AssessResult | None", list[InputError]]:  # noqa: F821
    """Assess batch by batch and append each batch's outputs to ``out_dir`` (the files
    ``assessments``, ``episodes``, ``summary`` and ``errors`` when any, as
    :meth:`AssessResult.write` writes them), holding one batch in memory at a time.

    ``workers``: processes that read, validate and assess batches side by side (``None``:
    :func:`default_workers`).  With more than one, each worker runs polars on one thread
    and this process appends the outputs in batch order, so the files are the same as with
    one; about ``workers + 1`` batches are in memory at a time.

    Returns the paths written, the result itself when there was a single batch assessed in
    this process (else None) and the input errors.
    """
    from remission.errors import errors_frame

    if options is None:
        options = AssessOptions()
    elif isinstance(options, dict):
        options = AssessOptions(**options)
    unknown = layout_errors(data, options)
    if unknown:
        raise InputErrors(unknown)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = "parquet" if fmt == "parquet" else "csv"
    names = ("assessments", "episodes", "summary")
    writers: dict[str, object] = {}
    paths = [out / f"{n}.{ext}" for n in names]
    single = None
    errors: list[InputError] = []
    n = 0
    batch_plan = plan(Path(data), batch_size)
    if workers is None:
        workers = default_workers(batch_plan.batches)
    workers = max(1, min(workers, batch_plan.batches))
    try:
        if workers > 1:
            n, errors = _parallel_to_files(Path(data), out, ext, names, batch_plan, options, workers, progress, spill_dir)
        else:
            for n, result in enumerate(iter_batches(data, options, progress=progress, spill_dir=spill_dir,
                                                    batch_plan=batch_plan), start=1):
                if n == 1:
                    errors = result.errors
                    single = result
                else:
                    single = None
                for name in names:
                    _append(writers, out / f"{name}.{ext}", getattr(result, name), ext)
    finally:
        for w in writers.values():
            w.close()
    if errors:
        path = out / f"errors.{ext}"
        frame = errors_frame(errors)
        frame.write_parquet(path) if ext == "parquet" else frame.write_csv(path)
        paths.append(path)
    # the warnings of the assessment rows (as AssessResult.write writes them), read back
    # from the written assessments file: only its key and warnings columns
    from remission.pipeline import warnings_table

    written = out / f"assessments.{ext}"
    if written.exists():
        cols = ["subject_id", "date", "criteria", "warnings"]
        lf = pl.scan_parquet(written) if ext == "parquet" else pl.scan_csv(written, infer_schema=False)
        if all(c in lf.collect_schema().names() for c in cols):
            warnings = warnings_table(lf.select(cols))
            if warnings.height:
                path = out / f"warnings.{ext}"
                warnings.write_parquet(path) if ext == "parquet" else warnings.write_csv(path)
                paths.append(path)
    return paths, (single if n == 1 else None), errors


def _parallel_to_files(
    folder: Path, out: Path, ext: str, names: tuple[str, ...], batch_plan: BatchPlan, options: AssessOptions,
    workers: int, progress: Progress | None, spill_dir: str | Path | None,
) -> tuple[int, list[InputError]]:
    """The worker-process route of :func:`assess_to_files`: one pass per batch when the
    as-of date is known beforehand (given, or :func:`predicted_latest`), else (or when the
    prediction proves wrong) validate-all-then-assess.  Outputs are appended to hidden
    partial files renamed when the run succeeds, so a failed run leaves no output."""
    partial = {name: out / f".{name}.{ext}.partial" for name in names}

    def run(batches: Iterator[tuple[str, ...]]) -> int:
        writers: dict[str, object] = {}
        n = 0
        try:
            for n, paths in enumerate(batches, start=1):
                for name, frame in zip(names, _take_over(paths)):
                    _append(writers, partial[name], frame, ext)
                for path in paths:
                    Path(path).unlink(missing_ok=True)
        finally:
            for w in writers.values():
                w.close()
        return n

    tmp = Path(tempfile.mkdtemp(prefix="remission-outputs-", dir=spill_dir))
    try:
        as_of = options.as_of if options.as_of is not None else predicted_latest(folder)
        errors = None
        if as_of is not UNKNOWN:
            gen = _assess_one_pass(folder, batch_plan, options, as_of, workers, progress, tmp)
            try:
                n = run(_returning(gen, box := []))
                errors = box[0]
            except _Fallback:
                errors = None
        if errors is None:
            two = _assess_parallel(folder, batch_plan, options, workers, progress, spill_dir)
            first: list[list[InputError]] = []

            def outputs_of():
                for k, (errs, outputs) in enumerate(two):
                    if k == 0:
                        first.append(errs)
                    yield outputs

            n = run(outputs_of())
            errors = first[0] if first else []
        for name in names:
            if partial[name].exists():
                partial[name].replace(out / f"{name}.{ext}")
        return n, errors
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for path in partial.values():
            path.unlink(missing_ok=True)


def _returning(gen, box: list):
    """Iterate ``gen`` and put its return value in ``box``."""
    box.append((yield from gen))


class _CsvAppender:
    def __init__(self, path: Path):
        self.fh = open(path, "wb")
        self.header = True

    def write(self, frame) -> None:
        if not isinstance(frame, pl.DataFrame):  # an Arrow table (:func:`_take_over`)
            frame = pl.from_arrow(frame)
        frame.write_csv(self.fh, include_header=self.header)
        self.header = False

    def close(self) -> None:
        self.fh.close()


class _ParquetAppender:
    def __init__(self, path: Path):
        self.path = path
        self.writer = None

    def write(self, frame) -> None:
        import pyarrow.parquet as pq

        table = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        else:
            table = table.cast(self.writer.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _append(writers: dict, path: Path, frame: pl.DataFrame, ext: str) -> None:
    w = writers.get(str(path))
    if w is None:
        w = _CsvAppender(path) if ext == "csv" else _ParquetAppender(path)
        writers[str(path)] = w
    w.write(frame)


def batches_for(subjects: int, batch_size: int) -> int:
    """Number of batches of ``batch_size`` subjects (at least one)."""
    return max(1, math.ceil(subjects / batch_size))


__all__ = [
    "DEFAULT_ROWS_PER_BATCH",
    "WORKER_ROWS_PER_BATCH",
    "BatchPlan",
    "assess_batched",
    "assess_to_files",
    "auto_batch_size",
    "batches_for",
    "default_workers",
    "boundaries",
    "clean_ids",
    "iter_batches",
    "plan",
    "predicted_latest",
    "ranges",
    "read_batch",
]


# --------------------------------------------------------------------------------------
# CLI helpers: a rich progress bar, silent when not a terminal
# --------------------------------------------------------------------------------------


class progress_bar:
    """Context manager giving a :data:`Progress` callback that draws a rich progress bar on
    ``console`` (stderr in the CLI); nothing is drawn when the console is not a terminal
    (pipes, files, CI logs)."""

    def __init__(self, console, description: str = "Assessing"):
        self.console = console
        self.description = description
        self._progress = None
        self._task = None

    def __enter__(self) -> Progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn
        from rich.progress import TimeRemainingColumn

        self._progress = RichProgress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=True, disable=not self.console.is_terminal,
        )
        self._progress.__enter__()
        self._task = self._progress.add_task(self.description, total=None)

        def update(done: int, total: int, what: str) -> None:
            self._progress.update(self._task, completed=done, total=total, description=what)

        return update

    def __exit__(self, *exc) -> None:
        self._progress.__exit__(*exc)


def run_cli(dataset: Path, out: Path, fmt: str, options: AssessOptions, batch_size: int | None, console,
            workers: int | None = None):
    """What ``remission assess`` runs: one whole run (spinner on a terminal) when the data
    are small and no ``--batch-size`` is given, else batches appended to the output files,
    assessed by ``workers`` processes (None: :func:`default_workers`; with several workers
    the automatic batches are smaller, :data:`WORKER_ROWS_PER_BATCH`, and a multiple of
    the workers in number).
    Returns (paths written, the result when held in memory else None, input errors)."""
    from remission.pipeline import assess

    size = batch_size
    if size is None and Path(dataset).is_dir():
        cores = workers if workers is not None else min(os.cpu_count() or 1, MAX_AUTO_WORKERS)
        size = auto_batch_size(dataset, workers=cores)
    if size is None:
        with progress_bar(console) as progress:
            result = assess(dataset, options, progress=progress)
        return result.write(out, fmt), result, result.errors
    with progress_bar(console) as progress:
        return assess_to_files(dataset, out, fmt, options, batch_size=size, progress=progress, workers=workers)
