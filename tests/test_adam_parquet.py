"""``remission adam`` with Parquet: SDTM input as Parquet (same values, checks and located
errors as the CSV copy), ADaM output as Parquet (same values and types as the frames), and
the ADRS written slice by slice (``keep_adrs=False``, what the CLI does) equal to a whole
write.  Data: pharmaverse ``rs_onco_recist`` (306 subjects) and the synthetic generator."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from remission.adam import adam, derive_adrs
from remission.errors import InputErrors
from remission.io.adam_write import open_adam_writer, write_adam
from remission.io.sdtm import ROW, read_sdtm, read_table

ORACLE = Path(__file__).parent / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"


def _csv_folder(tmp_path: Path) -> Path:
    src = tmp_path / "csv"
    src.mkdir()
    (src / "rs.csv").write_bytes((SDTM / "rs_onco_recist.csv").read_bytes())
    (src / "tu.csv").write_bytes((SDTM / "tu_onco_recist.csv").read_bytes())
    (src / "adsl.csv").write_bytes(ADSL.read_bytes())
    return src


def _parquet_folder(tmp_path: Path, typed: bool = False) -> Path:
    """The same domains as Parquet; ``typed``: RSSEQ as integers, as a writer
    that infers types would store them."""
    src = tmp_path / ("typed" if typed else "parquet")
    src.mkdir()
    for name, path in (("rs", SDTM / "rs_onco_recist.csv"), ("tu", SDTM / "tu_onco_recist.csv"), ("adsl", ADSL)):
        frame = pl.read_csv(path, infer_schema=False)
        if typed and name == "rs":
            frame = frame.with_columns(pl.col("RSSEQ").cast(pl.Int64))
        frame.write_parquet(src / f"{name}.parquet")
    return src


def _read_like(csv_path: Path, schema: pl.Schema) -> pl.DataFrame:
    """A CSV written by ``remission adam`` read with the types of the Parquet copy."""
    frame = pl.read_csv(csv_path, infer_schema=False)
    return frame.with_columns(
        pl.col(c).str.to_date() if t == pl.Date
        else pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit=t.time_unit) if isinstance(t, pl.Datetime)
        else pl.col(c).cast(t)
        for c, t in schema.items()
    )


@pytest.mark.parametrize("typed", [False, True])
def test_parquet_sdtm_reads_as_its_csv_copy(tmp_path, typed):
    csv = read_sdtm(_csv_folder(tmp_path))
    pq = read_sdtm(_parquet_folder(tmp_path, typed))
    assert sorted(pq.tables) == sorted(csv.tables) == ["adsl", "rs", "tu"]
    for name in csv.tables:
        assert_frame_equal(pq.get(name), csv.get(name), check_exact=True)
    assert pq.file("rs") == "rs.parquet"
    assert_frame_equal(derive_adrs(pq), derive_adrs(csv), check_exact=True)


def test_parquet_values_are_cleaned_and_dates_become_text(tmp_path):
    frame = pl.DataFrame(
        {"USUBJID": [" A ", "B"], "RSSTRESC": ["PR", ""], "RSDTC": [dt.date(2020, 1, 2), None], "RSSEQ": [1, 2]}
    )
    frame.write_parquet(tmp_path / "rs.parquet")
    got = read_table(tmp_path / "rs.parquet")
    assert got.rows() == [(1, "A", "PR", "2020-01-02", "1"), (2, "B", None, None, "2")]
    assert got.columns == [ROW, "USUBJID", "RSSTRESC", "RSDTC", "RSSEQ"]


def test_parquet_errors_are_located_as_for_csv(tmp_path):
    src = _parquet_folder(tmp_path)
    rs = pl.read_parquet(src / "rs.parquet")
    at = rs.with_row_index().filter(pl.col("RSTESTCD") == "OVRLRESP", pl.col("RSEVAL") == "INVESTIGATOR")["index"][3]
    rs.with_columns(
        pl.when(pl.int_range(pl.len()) == at).then(pl.lit("2020-13-45")).otherwise(pl.col("RSDTC")).alias("RSDTC")
    ).write_parquet(src / "rs.parquet")
    with pytest.raises(InputErrors) as exc:
        adam(src, tmp_path / "out", fmt="parquet")
    (err,) = [e for e in exc.value.errors if e.column == "RSDTC"]
    assert (err.file, err.row, err.value, err.code) == ("rs.parquet", at + 1, "2020-13-45", "invalid_date")
    assert not (tmp_path / "out").exists()


def test_same_domain_as_csv_and_parquet_is_an_error(tmp_path):
    src = _csv_folder(tmp_path)
    (src / "rs.parquet").write_bytes((_parquet_folder(tmp_path) / "rs.parquet").read_bytes())
    with pytest.raises(InputErrors) as exc:
        read_sdtm(src)
    assert [e.code for e in exc.value.errors] == ["duplicate_domain"]


@pytest.mark.parametrize("keep_adrs", [True, False])
def test_parquet_output_equals_csv_output(tmp_path, keep_adrs):
    src = _parquet_folder(tmp_path)
    res_csv = adam(src, tmp_path / "csv_out")
    res_pq = adam(src, tmp_path / "pq_out", fmt="parquet", keep_adrs=keep_adrs)
    assert [p.name for p in res_pq.files] == ["adrs.parquet", "adtte.parquet"]
    for name, frame in (("adrs", res_csv.adrs), ("adtte", res_csv.adtte)):
        back = pl.read_parquet(tmp_path / "pq_out" / f"{name}.parquet")
        assert back.schema == frame.schema  # the frames' own types
        assert_frame_equal(back, frame, check_exact=True)
        assert_frame_equal(back, _read_like(tmp_path / "csv_out" / f"{name}.csv", back.schema), check_exact=True)
    assert (res_pq.adrs is None) == (not keep_adrs)
    assert res_pq.adrs_records == res_csv.adrs_records == res_csv.adrs.height == 3694
    assert res_pq.adrs_subjects == res_csv.adrs_subjects == 306


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_streamed_slices_equal_the_whole_write(tmp_path, monkeypatch, fmt):
    """ADRS derived in slices of 7 subjects and appended to the file as they come (the
    whole ADRS never held) gives the file of one whole write: CSV byte for byte."""
    from remission.adam import adrs as adrs_mod

    src = _csv_folder(tmp_path)
    whole = adam(src, tmp_path / "whole", fmt=fmt)
    monkeypatch.setattr(adrs_mod, "ADRS_BATCH_SUBJECTS", 7)
    streamed = adam(src, tmp_path / "streamed", fmt=fmt, keep_adrs=False)
    assert streamed.adrs is None and streamed.adrs_records == whole.adrs.height
    assert_frame_equal(streamed.adtte, whole.adtte, check_exact=True)
    for name in ("adrs", "adtte"):
        a, b = tmp_path / "whole" / f"{name}.{fmt}", tmp_path / "streamed" / f"{name}.{fmt}"
        if fmt == "csv":
            assert a.read_bytes() == b.read_bytes()
        else:
            assert_frame_equal(pl.read_parquet(b), pl.read_parquet(a), check_exact=True)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.ParquetFile(tmp_path / "streamed" / "adrs.parquet").metadata.num_row_groups == 306 // 7 + 1


@pytest.mark.parametrize("background", [False, True])
def test_adam_writer_appends_pieces(tmp_path, background):
    frame = derive_adrs(read_sdtm(_csv_folder(tmp_path)))
    write_adam(frame, tmp_path / "whole", fmt="csv")
    for fmt in ("csv", "parquet"):
        w = open_adam_writer(tmp_path / f"pieces_{background}", fmt=fmt, background=background)
        for k in range(0, frame.height, 1000):
            w.write(frame.slice(k, 1000))
        path = w.close()
        assert w.rows == frame.height
        if fmt == "csv":
            assert path.read_bytes() == (tmp_path / "whole.csv").read_bytes()
        else:
            assert_frame_equal(pl.read_parquet(path), frame, check_exact=True)


def test_cli_adam_reads_and_writes_parquet(tmp_path):
    from typer.testing import CliRunner

    from remission.cli import app

    src = _parquet_folder(tmp_path)
    res = CliRunner().invoke(app, ["adam", str(src), "--out", str(tmp_path / "out"), "--format", "parquet"])
    assert res.exit_code == 0, res.output
    assert "ADRS: 3694 records for 306 subjects; ADTTE: 512 records." in res.output
    assert pl.read_parquet(tmp_path / "out" / "adrs.parquet").height == 3694


def test_synthetic_sdtm_parquet_equals_its_csv(tmp_path):
    """The generator writes the SDTM copy as Parquet (``sdtm/``) and CSV (``sdtm_csv/``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import synthetic

    folder = synthetic.write(300, tmp_path / "data")
    pq, csv = read_sdtm(folder / "sdtm"), read_sdtm(folder / "sdtm_csv")
    for name in ("rs", "adsl"):
        assert_frame_equal(pq.get(name), csv.get(name), check_exact=True)
    a = adam(folder / "sdtm", tmp_path / "a", fmt="parquet", keep_adrs=False)
    b = adam(folder / "sdtm_csv", tmp_path / "b")
    assert_frame_equal(pl.read_parquet(tmp_path / "a" / "adrs.parquet"), b.adrs, check_exact=True)


def test_records_in_any_order_give_the_same_adrs(tmp_path):
    """The OVR records are sorted by subject and date before the flags; a file in reverse
    order (no two records of a subject share date and RSSEQ) gives the same ADRS."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import synthetic

    tables = synthetic.generate(200)
    rs, adsl = tables["rs"], tables["adsl"]
    a = derive_adrs({"rs": rs, "adsl": adsl})
    b = derive_adrs({"rs": rs.reverse(), "adsl": adsl})
    assert_frame_equal(a, b, check_exact=True)
