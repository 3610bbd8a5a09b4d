"""Frames from anywhere (issue 17 item 4): ``assess()`` and ``adam()`` take any object with
the Arrow PyCapsule interface (pyarrow Table, DuckDB relation, polars, pandas) and give the
same results as from the files; results go back out through ``.to_pandas()`` /
``.to_arrow()``.  The DuckDB round trip is the one docs/tables.md shows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from polars.testing import assert_frame_equal

import remission
from remission import assess
from remission.adam import adam
from remission.errors import InputErrors

duckdb = pytest.importorskip("duckdb")

EXAMPLE = Path(remission.__file__).parent / "data" / "example"
TABLES = ("subjects", "lesions", "labs", "findings", "treatments", "responses")
SDTM = Path(__file__).parent / "data" / "oracle" / "pharmaverse" / "pharmaversesdtm"
ADSL = Path(__file__).parent / "data" / "oracle" / "pharmaverse" / "pharmaverseadam" / "adsl.csv"


@pytest.fixture(scope="module")
def reference():
    return assess(EXAMPLE)


def _same(a, b):
    for name in ("assessments", "episodes", "summary"):
        assert_frame_equal(getattr(a, name), getattr(b, name))


class _Stream:
    """A minimal foreign producer: only ``__arrow_c_stream__`` (no pandas, polars or pyarrow type)."""

    def __init__(self, table: pa.Table):
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def _arrow_tables():
    # pyarrow's own CSV reader types the columns itself (dates as date32, numbers as double)
    return {n: pacsv.read_csv(EXAMPLE / f"{n}.csv") for n in TABLES if (EXAMPLE / f"{n}.csv").exists()}


def test_pyarrow_tables(reference):
    tables = _arrow_tables()
    assert any(pa.types.is_date(f.type) for f in tables["lesions"].schema)  # typed, not text
    _same(assess(**tables), reference)


def test_any_pycapsule_producer(reference):
    _same(assess(**{n: _Stream(t) for n, t in _arrow_tables().items()}), reference)


def test_duckdb_relations_and_write_back(reference):
    con = duckdb.connect()
    for n in TABLES:
        if (EXAMPLE / f"{n}.csv").exists():
            con.execute(f"CREATE TABLE {n} AS SELECT * FROM read_csv_auto('{EXAMPLE / (n + '.csv')}')")
    # DuckDB's own types: DATE columns, DOUBLE / DECIMAL diameters
    assert "DATE" in {t for _, t in con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                                 "WHERE table_name = 'lesions'").fetchall()}
    result = assess(**{n: con.sql(f"SELECT * FROM {n}") for n in TABLES if (EXAMPLE / f"{n}.csv").exists()})
    _same(result, reference)
    # write back: a pyarrow Table is what DuckDB (and most tools) read
    summary = result.summary.to_arrow()
    con.register("summary_arrow", summary)
    con.execute("CREATE TABLE remission_summary AS SELECT * FROM summary_arrow")
    back = pl.DataFrame(con.sql("SELECT * FROM remission_summary ORDER BY subject_id"))
    assert_frame_equal(back, reference.summary, check_dtypes=False)
    assert con.sql("SELECT count(*) FROM remission_summary").fetchone()[0] == reference.summary.height


def test_pandas_out(reference):
    pdf = reference.summary.to_pandas()
    assert list(pdf.columns) == reference.summary.columns and len(pdf) == reference.summary.height


def test_an_unreadable_table_is_a_located_error():
    with pytest.raises(InputErrors) as exc:
        assess(subjects=_Stream(pa.table({"subject_id": ["A"]})), lesions=[1, 2, 3])
    (err,) = exc.value.errors
    assert err.file == "lesions (data frame)" and "__arrow_c_stream__" in err.expected and err.value == "list"


def test_a_broken_stream_is_a_located_error():
    class Broken:
        def __arrow_c_stream__(self, requested_schema=None):
            raise OSError("connection lost")

    with pytest.raises(InputErrors) as exc:
        assess(subjects=Broken())
    (err,) = exc.value.errors
    assert err.file == "subjects (data frame)" and "connection lost" in err.expected


def test_adam_from_duckdb(tmp_path):
    from_files = adam(SDTM, None, adsl=ADSL, files={"rs": "rs_onco_recist.csv", "tu": "tu_onco_recist.csv"})
    con = duckdb.connect()
    # every column as text, as SDTM transport files carry them
    def rel(path):
        return con.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true)")

    domains = {"rs": rel(SDTM / "rs_onco_recist.csv"), "dm": rel(SDTM / "dm.csv")}
    for name in ("tu", "ds"):
        path = SDTM / ("tu_onco_recist.csv" if name == "tu" else "ds.csv")
        if path.exists():
            domains[name] = rel(path)
    from_db = adam(domains, None, adsl=pa.Table.from_pandas(pl.read_csv(ADSL, infer_schema=False).to_pandas()))
    assert_frame_equal(from_db.adrs.drop("__row", strict=False), from_files.adrs.drop("__row", strict=False))
    assert_frame_equal(from_db.adtte, from_files.adtte)
