"""CDISC interchange of the ADaM outputs (issue 16 items 8 and 9): ADSL variables keep their
type and label from CSV or XPT input alike; Dataset-JSON output validates against the
official v1.1 schema (tests/data/standards/dataset-json-1.1, CDISC, MIT) with numeric ADaM
dates (``targetDataType = "integer"``) and key variables (``keySequence``)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import polars as pl
import pyreadstat
import pytest

from remission.adam import adam
from remission.errors import InputErrors

HERE = Path(__file__).parent
ORACLE = HERE / "data" / "oracle" / "pharmaverse"
SDTM = ORACLE / "pharmaversesdtm"
ADSL = ORACLE / "pharmaverseadam" / "adsl.csv"
SCHEMA = json.loads((HERE / "data" / "standards" / "dataset-json-1.1" / "dataset.schema.json").read_text())
FILES = {"rs": "rs_onco_recist.csv", "tu": "tu_onco_recist.csv", "tr": "tr_onco_recist.csv"}


@pytest.fixture(scope="module")
def json_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("json")
    adam(SDTM, out, adsl=ADSL, files=FILES, fmt="json")
    return out


@pytest.mark.parametrize("name", ["adrs", "adtte", "adtr"])
def test_dataset_json_validates_against_the_official_v1_1_schema(json_out, name):
    doc = json.loads((json_out / f"{name}.json").read_text())
    jsonschema.Draft201909Validator(SCHEMA).validate(doc)
    assert doc["records"] == len(doc["rows"]) > 0


def test_schema_check_can_fail():
    """The validator rejects what spec 1.1 forbids (here: an unknown targetDataType)."""
    doc = {"datasetJSONCreationDateTime": "2026-01-01T00:00:00", "datasetJSONVersion": "1.1.0", "itemGroupOID": "IG.X",
           "records": 0, "name": "X", "label": "X", "rows": [],
           "columns": [{"itemOID": "IT.X.A", "name": "A", "label": "A", "dataType": "date", "targetDataType": "date"}]}  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(SCHEMA).validate(doc)


def test_adam_dates_are_numeric_targets_and_keys_are_sequenced(json_out):
    doc = json.loads((json_out / "adrs.json").read_text())
    cols = {c["name"]: c for c in doc["columns"]}
    for d in ("ADT", "RANDDT", "TRTSDT", "LSTALVDT"):
        assert (cols[d]["dataType"], cols[d]["targetDataType"], cols[d]["displayFormat"]) == ("date", "integer", "E8601DA.")
    assert (cols["TRTSDTM"]["dataType"], cols["TRTSDTM"]["targetDataType"]) == ("datetime", "integer")
    keys = sorted((c["keySequence"], n) for n, c in cols.items() if "keySequence" in c)
    assert keys == [(1, "STUDYID"), (2, "USUBJID"), (3, "PARAMCD"), (4, "ASEQ")]
    rows = [dict(zip(cols, r)) for r in doc["rows"]]
    assert len({(r["STUDYID"], r["USUBJID"], r["PARAMCD"], r["ASEQ"]) for r in rows}) == len(rows)  # keys are unique
    first = rows[0]
    assert isinstance(first["AGE"], int) and isinstance(first["ASEQ"], int) and isinstance(first["VISITNUM"], float)
    assert first["TRTSDTM"] == "2014-01-02T00:00:00"
    assert cols["AGE"]["dataType"] == "integer" and cols["AGE"]["label"] == "Age"
    assert cols["TRTDURD"]["label"] == "Total Treatment Duration (Days)"


def _adsl_xpt(path: Path) -> None:
    """The pharmaverse ADSL as SAS transport with numeric variables, SAS dates and labels;
    one label differs from admiral's so that the file's own label must win."""
    adsl = pl.read_csv(ADSL, infer_schema=False)
    dates = ["RANDDT", "TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT", "EOSDT", "SCRFDT", "FRVDT"]
    nums = ["AGE", "TRTDURD", "DMDY", "DTHADY", "LDDTHELD"]
    adsl = adsl.with_columns(
        *(pl.col(c).str.to_date() for c in dates),
        *(pl.col(c).cast(pl.Float64) for c in nums),
        *(pl.col(c).str.replace(" ", "T").str.to_datetime(strict=False).alias(c) for c in ("TRTSDTM", "TRTEDTM")),
    ).with_columns(
        pl.when(pl.col("TRTSDTM").is_null() & pl.col("TRTSDT").is_not_null()).then(pl.col("TRTSDT").cast(pl.Datetime("us")))
        .otherwise(pl.col("TRTSDTM")).alias("TRTSDTM")
    )  # fmt: skip
    fmt = {c: "DATE9" for c in dates} | {"TRTSDTM": "DATETIME20", "TRTEDTM": "DATETIME20"}
    labels = ["Age at Informed Consent" if c == "AGE" else c for c in adsl.columns]
    pyreadstat.write_xport(adsl, str(path), file_format_version=5, variable_format=fmt,
                           column_labels=labels, table_name="ADSL")  # fmt: skip


@pytest.mark.parametrize("fmt", ["xpt", "json"])
def test_adsl_variables_keep_type_and_label_from_csv_or_xpt_alike(tmp_path, fmt):
    xpt = tmp_path / "adsl.xpt"
    _adsl_xpt(xpt)
    a = adam(SDTM, tmp_path / "from_csv", adsl=ADSL, files=FILES, fmt=fmt)
    b = adam(SDTM, tmp_path / "from_xpt", adsl=xpt, files=FILES, fmt=fmt)
    for name in ("adrs", "adtte", "adtr"):
        fa, fb = getattr(a, name), getattr(b, name)
        for c in ("AGE", "TRTDURD", "DTHADY", "VISITNUM", "TRTSDTM", "TRTSDT"):
            if c in fa.columns:
                assert fa.schema[c] == fb.schema[c], (name, c)
        assert fa.schema["AGE"] == pl.Int64
    assert a.adrs.schema["TRTSDTM"] == pl.Datetime("us") and a.adrs.schema["VISITNUM"] == pl.Float64
    assert a.adrs.schema["RSSEQ"] == pl.Int64 and a.adrs.schema["DTHADY"] == pl.Int64
    if fmt == "xpt":
        df, meta = pyreadstat.read_xport(str(tmp_path / "from_xpt" / "adrs.xpt"))
        assert meta.column_names_to_labels["AGE"] == "Age at Informed Consent"  # the file's own label
        assert meta.original_variable_types["TRTSDTM"].startswith("DATETIME")  # numeric SAS datetime
        assert meta.readstat_variable_types["AGE"] == "double"
        _, meta_csv = pyreadstat.read_xport(str(tmp_path / "from_csv" / "adrs.xpt"), metadataonly=True)
        assert meta_csv.column_names_to_labels["AGE"] == "Age"  # admiral's metadata
        assert meta_csv.column_names_to_labels["TRTDURD"] == "Total Treatment Duration (Days)"
    else:
        doc = json.loads((tmp_path / "from_xpt" / "adtte.json").read_text())
        assert {c["name"]: c["label"] for c in doc["columns"]}["AGE"] == "Age at Informed Consent"
        # our own Dataset-JSON reads back with its types (numeric dates via targetDataType)
        from remission.io.sdtm import read_meta

        meta = read_meta(tmp_path / "from_csv" / "adtte.json")
        assert (meta["AGE"].kind, meta["ADT"].kind, meta["AVAL"].kind) == ("integer", "date", "number")


def test_a_value_that_does_not_fit_its_type_is_a_located_error(tmp_path):
    adsl = pl.read_csv(ADSL, infer_schema=False).with_columns(
        pl.when(pl.col("USUBJID") == "01-701-1015").then(pl.lit("sixty")).otherwise(pl.col("AGE")).alias("AGE")
    )
    adsl.write_csv(tmp_path / "adsl.csv")
    with pytest.raises(InputErrors) as exc:
        adam(SDTM, tmp_path / "out", adsl=tmp_path / "adsl.csv", files=FILES)
    (e,) = exc.value.errors
    assert (e.subject_id, e.column, e.value, e.row) == ("01-701-1015", "AGE", "sixty", 1)
    assert not (tmp_path / "out").exists()


def test_irecist_dataset_json_validates_too(tmp_path):
    from remission.adam.irecist import adam_irecist

    adam_irecist(SDTM, tmp_path, adsl=ADSL, files={"rs": "rs_onco_irecist.csv"}, fmt="json")
    doc = json.loads((tmp_path / "adrs.json").read_text())
    jsonschema.Draft201909Validator(SCHEMA).validate(doc)
    assert {c["name"]: c.get("targetDataType") for c in doc["columns"]}["ADT"] == "integer"
