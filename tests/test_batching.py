"""Subject-batch streaming (remission.batching): results equal to one whole run.

The batched run must give, row for row, the outputs of :func:`remission.pipeline.assess`
on the same generated data (issue "Scale", item 2: "processed in subject batches
(streaming), with the same results"), including input errors with their whole-file row
numbers and ``--skip-invalid``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from remission.batching import _in_range, assess_batched, assess_to_files, boundaries, plan, ranges, read_batch
from remission.errors import InputErrors
from remission.io import load_dataset, read_dataset
from remission.options import AssessOptions
from remission.pipeline import assess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import synthetic  # noqa: E402

N = 400


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return synthetic.write(N, tmp_path_factory.mktemp("synthetic") / "data", sdtm=False)


@pytest.fixture(scope="module")
def whole(data):
    return assess(data)


def _same(a, b) -> None:
    for name in ("assessments", "episodes", "summary"):
        assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    for name, keys in (("timepoints", ["subject_id", "date"]), ("segments", ["subject_id", "line"]),
                       ("statuses", ["subject_id", "date", "source", "level"])):
        x, y = getattr(a, name), getattr(b, name)
        assert_frame_equal(x.sort(keys, nulls_last=True), y.sort(keys, nulls_last=True), check_exact=True)
    assert a.as_of == b.as_of
    assert a.errors == b.errors


@pytest.mark.parametrize("batch_size", [97, 150, N, 10 * N])
def test_batched_equals_whole(data, whole, batch_size):
    """Batches of any size give exactly the whole run's tables (as_of from all batches)."""
    batched = assess_batched(data, batch_size=batch_size)
    _same(whole, batched)


def test_batch_count_and_progress(data):
    seen = []
    assess_batched(data, batch_size=150, progress=lambda done, total, what: seen.append((done, total)))
    # 400 subjects / 150 = 3 batches, each validated then assessed
    assert seen == [(k, 6) for k in range(1, 7)]
    assert plan(data, 150).batches == 3


def test_batched_as_of_option(data):
    opts = AssessOptions(as_of=dt.date(2019, 6, 30))
    _same(assess(data, opts), assess_batched(data, opts, batch_size=120))


def test_assess_to_files_equals_write(data, whole, tmp_path):
    """Appending batch outputs to Parquet/CSV files gives the whole run's files."""
    whole.write(tmp_path / "whole", fmt="parquet")
    assess_to_files(data, tmp_path / "batched", "parquet", batch_size=130)
    for name in ("assessments", "episodes", "summary"):
        a = pl.read_parquet(tmp_path / "whole" / f"{name}.parquet")
        b = pl.read_parquet(tmp_path / "batched" / f"{name}.parquet")
        assert_frame_equal(a, b, check_exact=True)
    whole.write(tmp_path / "whole_csv", fmt="csv")
    assess_to_files(data, tmp_path / "batched_csv", "csv", batch_size=130)
    for name in ("assessments", "episodes", "summary"):
        assert (tmp_path / "whole_csv" / f"{name}.csv").read_bytes() == (tmp_path / "batched_csv" / f"{name}.csv").read_bytes()


def test_parallel_workers_equal_write(data, whole, tmp_path):
    """Two worker processes (spawned, one polars thread each) give byte-identical files to
    one whole run: outputs are appended in batch order whatever worker finishes first."""
    whole.write(tmp_path / "whole", fmt="csv")
    seen = []
    paths, single, errors = assess_to_files(
        data, tmp_path / "parallel", "csv", batch_size=70, workers=2,
        progress=lambda done, total, what: seen.append((done, total)),
    )
    assert single is None and errors == []
    # 400 subjects / 70 = 6 batches; Parquet with date columns: the as-of date is known
    # before validation, so each batch is validated and assessed in one step
    assert seen == [(k, 6) for k in range(1, 7)]
    for name in ("assessments", "episodes", "summary"):
        assert (tmp_path / "whole" / f"{name}.csv").read_bytes() == (tmp_path / "parallel" / f"{name}.csv").read_bytes()


def test_parallel_workers_parquet_and_as_of(data, tmp_path):
    opts = AssessOptions(as_of=dt.date(2019, 6, 30))
    assess(data, opts).write(tmp_path / "whole", fmt="parquet")
    assess_to_files(data, tmp_path / "parallel", "parquet", opts, batch_size=150, workers=2)
    for name in ("assessments", "episodes", "summary"):
        a = pl.read_parquet(tmp_path / "whole" / f"{name}.parquet")
        b = pl.read_parquet(tmp_path / "parallel" / f"{name}.parquet")
        assert_frame_equal(a, b, check_exact=True)


@pytest.fixture(scope="module")
def bad_csv(tmp_path_factory, data) -> Path:
    """The data as CSV with a duplicated lesion row, a lesion date after death, an unknown
    subject and padded subject ids: errors in several batches."""
    folder = tmp_path_factory.mktemp("bad") / "data"
    folder.mkdir()
    tables = {n: pl.read_parquet(data / f"{n}.parquet") for n in ("subjects", "lesions", "treatments", "responses")}
    les = tables["lesions"]
    dup = les.filter(pl.col("subject_id") == "S0000350").head(1)
    unknown = les.head(1).with_columns(subject_id=pl.lit("X9"))
    les = pl.concat([les, dup, unknown]).with_columns(
        subject_id=pl.when(pl.col("subject_id") == "S0000123").then(pl.lit("  S0000123 ")).otherwise(pl.col("subject_id"))
    )
    dead = tables["subjects"].filter(pl.col("death_date").is_not_null()).get_column("subject_id")[0]
    les = les.with_columns(
        date=pl.when((pl.col("subject_id") == dead) & (pl.col("lesion_id") == "T1"))
        .then(pl.col("date") + pl.duration(days=3000))
        .otherwise(pl.col("date"))
    )
    tables["lesions"] = les
    for n, f in tables.items():
        f.write_csv(folder / f"{n}.csv")
    return folder


def test_errors_equal_whole_with_file_rows(bad_csv):
    """Input errors: the same list (rows of the whole file) as one run, raised together."""
    with pytest.raises(InputErrors) as whole_exc:
        load_dataset(bad_csv)
    with pytest.raises(InputErrors) as batch_exc:
        assess_batched(bad_csv, batch_size=90)
    assert batch_exc.value.errors == whole_exc.value.errors
    codes = {e.code for e in batch_exc.value.errors}
    assert {"DUPLICATE_LESION_ROW", "AFTER_DEATH", "UNKNOWN_SUBJECT"} <= codes


def test_parallel_errors_and_skip_invalid_equal_whole(bad_csv, tmp_path):
    """With two workers, input errors are the whole run's list (raised together), and
    --skip-invalid writes the whole run's outputs and errors file."""
    with pytest.raises(InputErrors) as whole_exc:
        load_dataset(bad_csv)
    with pytest.raises(InputErrors) as par_exc:
        assess_to_files(bad_csv, tmp_path / "fail", "csv", batch_size=90, workers=2)
    assert par_exc.value.errors == whole_exc.value.errors
    opts = AssessOptions(skip_invalid=True)
    whole = assess(bad_csv, opts)
    paths, _, errors = assess_to_files(bad_csv, tmp_path / "par", "csv", opts, batch_size=90, workers=2)
    assert errors == whole.errors and (tmp_path / "par" / "errors.csv") in paths
    whole.write(tmp_path / "whole", fmt="csv")
    for name in ("assessments", "episodes", "summary", "errors"):
        assert (tmp_path / "whole" / f"{name}.csv").read_bytes() == (tmp_path / "par" / f"{name}.csv").read_bytes()


def test_skip_invalid_equal_whole(bad_csv):
    opts = AssessOptions(skip_invalid=True)
    _same(assess(bad_csv, opts), assess_batched(bad_csv, opts, batch_size=90))


def test_read_batch_rows_are_file_rows(bad_csv):
    """A batch's raw rows keep their 1-based row in the whole file (spec/tables.md)."""
    whole = read_dataset(bad_csv).tables["lesions"].frame
    b = boundaries(bad_csv, 100)
    parts = [read_batch(bad_csv, lo, hi).tables["lesions"].frame for lo, hi in ranges(b)]
    assert sum(p.height for p in parts) == whole.height
    got = pl.concat(parts).sort("__row__")
    assert_frame_equal(got, whole.sort("__row__"))


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.one_of(st.none(), st.text(alphabet="AB01 ", max_size=4)), min_size=1, max_size=30),
    bounds=st.lists(st.text(alphabet="AB01", min_size=1, max_size=3), max_size=4, unique=True),
)
def test_ranges_partition_every_id(ids, bounds):
    """Property: every subject id (null included) falls in exactly one batch range."""
    s = pl.DataFrame({"sid": ids}, schema={"sid": pl.String})
    counts = s.select(
        pl.sum_horizontal([_in_range(pl.col("sid"), lo, hi).cast(pl.Int32) for lo, hi in ranges(sorted(bounds))])
    ).to_series()
    assert counts.to_list() == [1] * len(ids)


def test_cli_workers_option(data, whole, tmp_path):
    """``remission assess --batch-size N --workers 2`` writes the whole run's files."""
    from typer.testing import CliRunner

    from remission.cli import app

    res = CliRunner().invoke(app, ["assess", str(data), "--out", str(tmp_path / "cli"), "--format", "parquet",
                                   "--batch-size", "120", "--workers", "2", "--quiet"])
    assert res.exit_code == 0, res.output
    whole.write(tmp_path / "whole", fmt="parquet")
    for name in ("assessments", "episodes", "summary"):
        a = pl.read_parquet(tmp_path / "whole" / f"{name}.parquet")
        b = pl.read_parquet(tmp_path / "cli" / f"{name}.parquet")
        assert_frame_equal(a, b, check_exact=True)


def test_clean_ids_range_read_equals_exact(data, tmp_path):
    """Parquet files whose ids are stored clean are range-filtered on the stored column (row
    groups skipped by statistics); the rows and file row numbers are those of the exact
    (cleaned-expression) filter.  A padded id makes the file not clean."""
    from remission.batching import clean_ids

    assert clean_ids(data / "lesions.parquet") and clean_ids(data / "subjects.parquet")
    b = boundaries(data, 90)
    assert plan(data, 90).clean >= {"subjects", "lesions", "treatments"}
    for lo, hi in ranges(b):
        fast = read_batch(data, lo, hi, frozenset({"subjects", "lesions", "treatments", "responses"}))
        exact = read_batch(data, lo, hi)
        for name, table in exact.tables.items():
            assert_frame_equal(fast.tables[name].frame, table.frame)
    padded = tmp_path / "padded"
    padded.mkdir()
    les = pl.read_parquet(data / "lesions.parquet")
    les.with_columns(subject_id=pl.when(pl.int_range(pl.len()) == 5).then(pl.lit(" S0000001")).otherwise(pl.col("subject_id"))).write_parquet(padded / "lesions.parquet")
    assert not clean_ids(padded / "lesions.parquet")
    les.with_columns(subject_id=pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("")).otherwise(pl.col("subject_id"))).write_parquet(padded / "l2.parquet")
    assert not clean_ids(padded / "l2.parquet")
    (tmp_path / "x.csv").write_text("subject_id\nA\n")
    assert not clean_ids(tmp_path / "x.csv")  # CSV: always the exact path


def test_parallel_csv_two_passes_equal_write(data, whole, tmp_path):
    """CSV input: the as-of date is not known before validation, so batches are validated
    (all), then assessed: two steps per batch, the same files."""
    from remission.batching import UNKNOWN, predicted_latest

    csv = tmp_path / "csv"
    csv.mkdir()
    for name in ("subjects", "lesions", "treatments", "responses"):
        pl.read_parquet(data / f"{name}.parquet").write_csv(csv / f"{name}.csv")
    assert predicted_latest(csv) is UNKNOWN and predicted_latest(data) == whole.as_of
    seen = []
    assess_to_files(csv, tmp_path / "out", "csv", batch_size=150, workers=2,
                    progress=lambda done, total, what: seen.append((done, total)))
    assert seen == [(k, 6) for k in range(1, 7)]
    whole.write(tmp_path / "whole", fmt="csv")
    for name in ("assessments", "episodes", "summary"):
        assert (tmp_path / "whole" / f"{name}.csv").read_bytes() == (tmp_path / "out" / f"{name}.csv").read_bytes()


def test_parallel_wrong_prediction_falls_back(data, tmp_path):
    """With --skip-invalid, a dropped subject may hold the latest date: the one-pass
    prediction is then wrong, and the run falls back to two passes: still the whole run's
    outputs, as-of date and errors."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("subjects", "treatments", "responses"):
        (bad / f"{name}.parquet").write_bytes((data / f"{name}.parquet").read_bytes())
    les = pl.read_parquet(data / "lesions.parquet")
    late = les.head(1).with_columns(subject_id=pl.lit("S9999999"), date=pl.lit(dt.date(2035, 1, 1)))
    pl.concat([les, late]).write_parquet(bad / "lesions.parquet")
    opts = AssessOptions(skip_invalid=True)
    whole = assess(bad, opts)
    assert whole.errors and whole.as_of < dt.date(2035, 1, 1)
    seen = []
    paths, _, errors = assess_to_files(bad, tmp_path / "out", "parquet", opts, batch_size=150, workers=2,
                                       progress=lambda done, total, what: seen.append((done, total)))
    assert errors == whole.errors
    assert seen[-1] == (6, 6) and len(seen) == 3 + 6  # one pass (3 batches), then two passes
    whole.write(tmp_path / "whole", fmt="parquet")
    for name in ("assessments", "episodes", "summary", "errors"):
        a = pl.read_parquet(tmp_path / "whole" / f"{name}.parquet")
        b = pl.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert_frame_equal(a, b, check_exact=True)
    assert not list((tmp_path / "out").glob(".*partial"))


def test_parallel_input_errors_leave_no_output(bad_csv, data, tmp_path):
    """A run stopped by input errors writes no output files (one-pass route included)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("subjects", "treatments", "responses"):
        (bad / f"{name}.parquet").write_bytes((data / f"{name}.parquet").read_bytes())
    les = pl.read_parquet(data / "lesions.parquet")
    pl.concat([les, les.filter(pl.col("subject_id") == "S0000350").head(1)]).write_parquet(bad / "lesions.parquet")
    with pytest.raises(InputErrors) as exc:
        assess_to_files(bad, tmp_path / "out", "parquet", batch_size=150, workers=2)
    assert [e.code for e in exc.value.errors] == ["DUPLICATE_LESION_ROW"]
    with pytest.raises(InputErrors) as whole_exc:
        load_dataset(bad)
    assert exc.value.errors == whole_exc.value.errors
    assert list((tmp_path / "out").iterdir()) == []


def test_auto_batch_size_workers(data):
    """Above the one-run threshold, worker batches hold about worker_rows_per_batch rows
    and their number is a multiple of the workers (no worker idles at the end); below it,
    one whole run whatever the workers."""
    from remission.batching import auto_batch_size, batches_for

    rows = pl.read_parquet(data / "lesions.parquet").height  # the largest table
    assert auto_batch_size(data, rows_per_batch=rows, workers=2) is None
    for workers in (2, 3):
        size = auto_batch_size(data, rows_per_batch=100, workers=workers, worker_rows_per_batch=rows // 5)
        n = batches_for(N, size)
        assert n % workers == 0 and n >= 5
        assert plan(data, size).batches == n
    # one worker: the old rule, rows_per_batch per batch
    assert auto_batch_size(data, rows_per_batch=rows // 4) == int(N * (rows // 4) / rows)
