"""Property tests (hypothesis): malformed inputs for every reader (issue 14 item 7).

Readers: ``assess`` CSV and Parquet folders and data frames (``remission.io``), ``adam``
CSV / XPT / Dataset-JSON (``remission.io.sdtm`` + ``remission.adam``), ``fhir import``
JSON / NDJSON (``remission.fhir.import_``), and the service's result upload
(``POST /api/patients/{id}/results``).

Malformed-input classes (``CLASSES``; the closing note lists how many examples each ran,
from ``pytest --hypothesis-show-statistics``):

* ``wrong_types``: a value of another type in a cell (text in numbers, numbers in dates,
  booleans, JSON objects where values are expected);
* ``huge_numbers``: 1e308, -1e308, 10**30, 1e400, denormals;
* ``extreme_dates``: years 1 and 9999 (valid ISO dates), 0000 and 10000 (not);
* ``control_long``: control characters, bidi marks, NUL, and ids of thousands of characters;
* ``columns``: a column missing or named twice;
* ``empty``: empty files, header-only files, whitespace-only files;
* ``truncated``: Parquet and XPT files cut at any byte;
* ``json_shape``: any node of a valid JSON document replaced by JSON of another shape.

Every example must end in one of two ways: a clean result, or located input errors
(:class:`~remission.errors.InputErrors`; exit code 2 on the command line) with nothing
written.  Any other exception fails the test.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import orjson
import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from remission import assess
from remission.cli import app
from remission.errors import InputError, InputErrors
from remission.io import from_frames

ROOT = Path(__file__).resolve().parents[1]
FHIR_DATA = ROOT / "tests" / "data" / "fhir"

#: examples per property (kept small: the fast suite runs on two shared cores; set
#: REMISSION_MALFORMED_EXAMPLES for a longer search)
EXAMPLES = int(os.environ.get("REMISSION_MALFORMED_EXAMPLES", "20"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

CLASSES = ("wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty", "truncated", "json_shape")

# ----------------------------------------------------------------------------- values

WRONG = st.sampled_from(["abc", "12,5", "1.2.3", "true", "NaN", "inf", "-inf", "{}", "[1]", "2024-03-01", "3 mm", "--", "∞"])
HUGE = st.sampled_from(["1e308", "-1e308", "1e400", "-1e400", str(10**30), "4.9e-324", "179769313486231570" + "0" * 300])
DATES = st.sampled_from(["0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "0001-12-31", "9999-01-01", "2024-02-30"])
CONTROL = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"]), min_size=1, max_size=8),
    st.text(alphabet="abcXYZ019_-", min_size=1000, max_size=4000),
    st.sampled_from(["\x00", "P1\x1b[31m", "\u202eP1", "P1\r", "\ufeffP1"]),
)
VALUES = {"wrong_types": WRONG, "huge_numbers": HUGE, "extreme_dates": DATES, "control_long": CONTROL}

# ----------------------------------------------------------------------------- outcome


def outcome(fn, *args, **kwargs):
    """``fn(...)``: the result, or the InputErrors raised (each located: it names a file)."""
    try:
        return fn(*args, **kwargs)
    except InputErrors as exc:
        assert exc.errors and all(isinstance(e, InputError) and e.file for e in exc.errors)
        return exc


def cli(args: list[str], out: Path):
    """Run the CLI: exit 0, or exit 2 with none of the command's outputs written."""
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:
        written = [p.name for p in out.iterdir()] if out.exists() else []
        assert not [n for n in written if n not in ("errors.csv",)], written
    return r


# ----------------------------------------------------------------------------- a dataset

BASE = {
    "subjects": "subject_id,cancer_type,criteria,diagnosis_date,death_date,last_contact_date\n"
    "P1,nsclc,,2023-11-01,,2024-06-01\nP2,prostate,,2023-10-01,,2024-06-01\n",
    "lesions": "subject_id,date,lesion_id,role,organ,nodal,diameter_mm,status,method\n"
    "P1,2024-01-01,L1,target,lung,false,40,,CT\nP1,2024-01-01,N1,non_target,bone,,,present,CT\n"
    "P1,2024-03-01,L1,target,lung,false,20,,CT\nP1,2024-03-01,N1,non_target,bone,,,present,CT\n",
    "labs": "subject_id,date,test,value,unit\nP2,2024-01-01,psa,10,ng/mL\nP2,2024-03-01,psa,4,ng/mL\n",
    "treatments": "subject_id,start_date,end_date,modality,intent,line,name\nP1,2023-12-01,,chemotherapy,,1,x\n",
    "findings": "subject_id,date,finding,value\nP1,2024-03-01,symptoms,none\n",
}


def _cells(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip("\n").split("\n")]


def _join(rows: list[list[str]]) -> str:
    return "".join(",".join(r) + "\n" for r in rows)


@st.composite
def mutated_tables(draw, kind: str) -> dict[str, str]:
    """BASE with one change of the class ``kind`` (columns: a column dropped or doubled;
    empty: a file emptied or header-only; else 1-3 cells replaced)."""
    tables = dict(BASE)
    name = draw(st.sampled_from(sorted(tables)))
    rows = _cells(tables[name])
    if kind == "columns":
        j = draw(st.integers(0, len(rows[0]) - 1))
        if draw(st.booleans()):
            rows = [r[:j] + r[j + 1 :] for r in rows]
        else:
            rows = [r + [r[j]] for r in rows]
        tables[name] = _join(rows)
    elif kind == "empty":
        tables[name] = draw(st.sampled_from(["", "\n", "   \n\n", _join(rows[:1]), _join(rows[:1]) + "\n\n"]))
    else:
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(1, len(rows) - 1))
            j = draw(st.integers(0, len(rows[0]) - 1))
            value = draw(VALUES[kind])
            rows[i][j] = '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value
        tables[name] = _join(rows)
    return tables


def write_csv_folder(tables: dict[str, str]) -> Path:
    d = Path(tempfile.mkdtemp(prefix="malformed-"))
    for name, text in tables.items():
        (d / f"{name}.csv").write_text(text, encoding="utf-8")
    return d


def test_base_dataset_is_valid():
    """The mutations start from a valid dataset (so an error is the mutation's)."""
    d = write_csv_folder(BASE)
    try:
        res = assess(d)
        assert set(res.summary.get_column("subject_id")) == {"P1", "P2"}
    finally:
        shutil.rmtree(d)


# ----------------------------------------------------------------------------- assess CSV


@pytest.mark.parametrize("kind", ["wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty"])
@SETTINGS
@given(data=st.data())
def test_assess_csv(kind, data):
    d = write_csv_folder(data.draw(mutated_tables(kind)))
    try:
        outcome(assess, d)
    finally:
        shutil.rmtree(d)


@SETTINGS
@given(kind=st.sampled_from(["wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty"]), data=st.data())
def test_assess_csv_cli(kind, data):
    d = write_csv_folder(data.draw(mutated_tables(kind)))
    try:
        cli(["assess", d, "--out", d / "out", "-q"], d / "out")
    finally:
        shutil.rmtree(d)


# ----------------------------------------------------------------------------- assess Parquet


def _typed(name: str, text: str) -> pl.DataFrame:
    """A CSV table as a frame with the schema's dtypes where its values allow (a Parquet
    file as pandas/polars users write it); other columns stay text."""
    from remission import schema

    frame = pl.read_csv(io.StringIO(text), infer_schema=False) if text.strip() else pl.DataFrame()
    exprs = []
    for c in frame.columns:
        t = schema.INPUT_TABLES.get(name, {}).get(c, pl.String)
        if t == pl.Date:
            exprs.append(pl.col(c).str.to_date(strict=False))
        elif t == pl.Boolean:
            exprs.append(pl.col(c).str.to_lowercase().replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean))
        elif t != pl.String:
            exprs.append(pl.col(c).cast(t, strict=False))
        else:
            exprs.append(pl.col(c))
    return frame.select(exprs) if exprs else frame


@st.composite
def parquet_change(draw, kind: str):
    name = draw(st.sampled_from(sorted(BASE)))
    frame = _typed(name, BASE[name])
    if kind == "wrong_types":
        col = draw(st.sampled_from(frame.columns))
        value = draw(st.sampled_from([pl.lit([1, 2]), pl.lit(True), pl.lit(3.5), pl.lit(7, pl.Int64), pl.lit("x")]))
        frame = frame.with_columns(value.alias(col))
    elif kind == "huge_numbers":
        col = draw(st.sampled_from(frame.columns))
        v = draw(st.sampled_from([1e308, -1e308, float("inf"), float("nan"), 2**62, -(2**62)]))
        frame = frame.with_columns(pl.lit(v).alias(col))
    elif kind == "extreme_dates":
        cols = [c for c, t in frame.schema.items() if t == pl.Date] or frame.columns[:1]
        col = draw(st.sampled_from(cols))
        year = draw(st.sampled_from([1, 9999]))
        at = draw(st.sampled_from(["date", "datetime", "datetime_time"]))
        import datetime as dt

        v = {"date": dt.date(year, 1, 1), "datetime": dt.datetime(year, 1, 1), "datetime_time": dt.datetime(year, 1, 1, 13, 5)}[at]
        frame = frame.with_columns(pl.lit(v).alias(col))
    elif kind == "control_long":
        frame = frame.with_columns(pl.lit(draw(CONTROL)).alias(draw(st.sampled_from(frame.columns))))
    elif kind == "columns":
        col = draw(st.sampled_from(frame.columns))
        frame = frame.drop(col)
    elif kind == "empty":
        frame = frame.head(0) if draw(st.booleans()) else pl.DataFrame()
    return name, frame, kind


def _write_parquet_folder(name: str, frame: pl.DataFrame, cut: float | None = None, dup: bool = False) -> Path:
    d = Path(tempfile.mkdtemp(prefix="malformed-pq-"))
    for other, text in BASE.items():
        if other != name:
            _typed(other, text).write_parquet(d / f"{other}.parquet")
    path = d / f"{name}.parquet"
    if dup and frame.width:  # a column named twice (pyarrow allows it, polars does not)
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = frame.to_arrow()
        pq.write_table(pa.Table.from_arrays(t.columns + [t.columns[0]], names=t.column_names + [t.column_names[0]]), path)
    else:
        frame.write_parquet(path)
    if cut is not None:
        raw = path.read_bytes()
        path.write_bytes(raw[: int(len(raw) * cut)])
    return d


@pytest.mark.parametrize("kind", ["wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty"])
@SETTINGS
@given(data=st.data())
def test_assess_parquet(kind, data):
    name, frame, kind = data.draw(parquet_change(kind))
    d = _write_parquet_folder(name, frame, dup=kind == "columns" and data.draw(st.booleans()))
    try:
        outcome(assess, d)
    finally:
        shutil.rmtree(d)


@SETTINGS
@given(name=st.sampled_from(sorted(BASE)), cut=st.floats(0.0, 0.999))
def test_assess_parquet_truncated(name, cut):
    d = _write_parquet_folder(name, _typed(name, BASE[name]), cut=cut)
    try:
        res = outcome(assess, d)
        assert isinstance(res, InputErrors)  # a cut Parquet file is never read as data
        assert any(e.file == f"{name}.parquet" for e in res.errors)
    finally:
        shutil.rmtree(d)


# ----------------------------------------------------------------------------- data frames


@pytest.mark.parametrize("kind", ["wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty"])
@SETTINGS
@given(data=st.data())
def test_from_frames_pandas(kind, data):
    name, frame, kind = data.draw(parquet_change(kind))
    frames = {n: _typed(n, t).to_pandas() for n, t in BASE.items()}
    try:
        pdf = frame.to_pandas()
    except Exception:  # noqa: BLE001 - pandas cannot hold it (e.g. year 1 as datetime64): hand polars over
        pdf = frame
    if kind == "columns" and isinstance(pdf, pd.DataFrame) and pdf.shape[1] and data.draw(st.booleans()):
        pdf = pd.concat([pdf, pdf.iloc[:, :1]], axis=1)  # a column named twice
    if kind == "huge_numbers" and isinstance(pdf, pd.DataFrame) and pdf.shape[1]:
        pdf[pdf.columns[0]] = pd.Series([10**30] * len(pdf), dtype=object)  # beyond int64
    frames[name] = pdf
    outcome(from_frames, **frames)
    outcome(assess, **frames)


# ----------------------------------------------------------------------------- adam


ORACLE = ROOT / "tests" / "data" / "oracle" / "pharmaverse"
RS_TEXT = "\n".join((ORACLE / "pharmaversesdtm" / "rs_onco_recist.csv").read_text().splitlines()[:13]) + "\n"
_RS_SUBJECTS = pl.read_csv(io.StringIO(RS_TEXT), infer_schema=False).get_column("USUBJID").unique().to_list()
ADSL_TEXT = (
    pl.read_csv(ORACLE / "pharmaverseadam" / "adsl.csv", infer_schema=False)
    .filter(pl.col("USUBJID").is_in(_RS_SUBJECTS))
    .select("STUDYID", "USUBJID", "RANDDT", "TRTSDT", "DTHDT", "LSTALVDT")
    .write_csv()
)


@st.composite
def sdtm_tables(draw, kind: str) -> dict[str, str]:
    tables = {"rs": RS_TEXT, "adsl": ADSL_TEXT}
    name = draw(st.sampled_from(sorted(tables)))
    rows = [r.split(",") for r in tables[name].strip("\n").split("\n")]
    if kind == "columns":
        j = draw(st.integers(0, len(rows[0]) - 1))
        rows = [r[:j] + r[j + 1 :] for r in rows] if draw(st.booleans()) else [r + [r[j]] for r in rows]
        tables[name] = _join(rows)
    elif kind == "empty":
        tables[name] = draw(st.sampled_from(["", "\n", _join(rows[:1])]))
    else:
        for _ in range(draw(st.integers(1, 3))):
            i, j = draw(st.integers(1, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
            value = draw(VALUES[kind])
            rows[i][j] = '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n\r') else value
        tables[name] = _join(rows)
    return tables


def _adam_run(d: Path):
    from remission.adam import adam

    return adam(d, None)


@pytest.mark.parametrize("kind", ["wrong_types", "huge_numbers", "extreme_dates", "control_long", "columns", "empty"])
@SETTINGS
@given(data=st.data())
def test_adam_csv(kind, data):
    d = Path(tempfile.mkdtemp(prefix="malformed-sdtm-"))
    try:
        for name, text in data.draw(sdtm_tables(kind)).items():
            (d / f"{name}.csv").write_text(text, encoding="utf-8")
        outcome(_adam_run, d)
    finally:
        shutil.rmtree(d)


@SETTINGS
@given(kind=st.sampled_from(["wrong_types", "extreme_dates", "columns", "empty"]), data=st.data())
def test_adam_csv_cli(kind, data):
    d = Path(tempfile.mkdtemp(prefix="malformed-sdtm-"))
    try:
        for name, text in data.draw(sdtm_tables(kind)).items():
            (d / f"{name}.csv").write_text(text, encoding="utf-8")
        cli(["adam", d, "--out", d / "out"], d / "out")
    finally:
        shutil.rmtree(d)


def _xpt_bytes() -> bytes:
    import pyreadstat

    frame = pl.read_csv(io.StringIO(ADSL_TEXT), infer_schema=False).to_pandas()
    frame["RANDDT"] = pd.to_datetime(frame["RANDDT"])
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "adsl.xpt"
        pyreadstat.write_xport(frame, str(p), table_name="ADSL")
        return p.read_bytes()


XPT = _xpt_bytes()


@SETTINGS
@given(cut=st.integers(0, len(XPT) - 1), flip=st.one_of(st.none(), st.integers(0, len(XPT) - 1)))
def test_adam_xpt_truncated_or_damaged(cut, flip):
    """A transport file cut at any byte (or with one byte changed and then cut)."""
    d = Path(tempfile.mkdtemp(prefix="malformed-xpt-"))
    try:
        raw = bytearray(XPT)
        if flip is not None:
            raw[flip] ^= 0xFF
        (d / "adsl.xpt").write_bytes(bytes(raw[:cut]))
        (d / "rs.csv").write_text(RS_TEXT)
        outcome(_adam_run, d)
    finally:
        shutil.rmtree(d)


def _dataset_json() -> dict:
    frame = pl.read_csv(io.StringIO(RS_TEXT), infer_schema=False)
    return {
        "datasetJSONVersion": "1.1",
        "name": "RS",
        "columns": [{"itemOID": f"IT.RS.{c}", "name": c, "dataType": "string"} for c in frame.columns],
        "rows": [list(r) for r in frame.rows()],
    }


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _replace(doc, path, value):
    if not path:
        return value
    doc = json.loads(json.dumps(doc))
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return doc


@st.composite
def reshaped(draw, doc):
    """``doc`` with one node (any depth, the root included) replaced by other JSON."""
    paths = list(_paths(doc))
    path = draw(st.sampled_from(paths))
    return _replace(doc, path, draw(JSON_VALUES))


DATASET_JSON = _dataset_json()


@SETTINGS
@given(doc=reshaped(DATASET_JSON), ndjson=st.booleans())
def test_adam_dataset_json_wrong_shape(doc, ndjson):
    d = Path(tempfile.mkdtemp(prefix="malformed-djson-"))
    try:
        if ndjson and isinstance(doc, dict):
            meta = {k: v for k, v in doc.items() if k != "rows"}
            rows = doc.get("rows") if isinstance(doc.get("rows"), list) else [doc.get("rows")]
            (d / "rs.ndjson").write_text("\n".join(json.dumps(x) for x in [meta, *rows]) + "\n")
        else:
            (d / "rs.json").write_text(json.dumps(doc))
        (d / "adsl.csv").write_text(ADSL_TEXT)
        outcome(_adam_run, d)
    finally:
        shutil.rmtree(d)


# ----------------------------------------------------------------------------- fhir import

BUNDLE = orjson.loads((FHIR_DATA / "mcode_small_bundle.json").read_bytes())
NDJSON_LINES = [orjson.loads(x) for x in (FHIR_DATA / "prostate_small.ndjson").read_bytes().splitlines() if x.strip()]


def _fhir_run(path: Path):
    from remission.fhir.import_ import read_fhir

    return read_fhir(path)


@SETTINGS
@given(doc=reshaped(BUNDLE))
def test_fhir_bundle_wrong_shape(doc):
    d = Path(tempfile.mkdtemp(prefix="malformed-fhir-"))
    try:
        (d / "b.json").write_text(json.dumps(doc))  # json: integers beyond 64 bits too
        outcome(_fhir_run, d / "b.json")
    finally:
        shutil.rmtree(d)


@SETTINGS
@given(k=st.integers(0, len(NDJSON_LINES) - 1), data=st.data())
def test_fhir_ndjson_wrong_shape(k, data):
    lines = list(NDJSON_LINES)
    lines[k] = data.draw(reshaped(lines[k]))
    d = Path(tempfile.mkdtemp(prefix="malformed-fhir-"))
    try:
        (d / "r.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
        outcome(_fhir_run, d / "r.ndjson")
    finally:
        shutil.rmtree(d)


@SETTINGS
@given(k=st.integers(0, len(NDJSON_LINES) - 1), kind=st.sampled_from(["huge_numbers", "extreme_dates", "control_long", "wrong_types"]), data=st.data())
def test_fhir_ndjson_values(k, kind, data):
    """A leaf value of one resource replaced by a value of the class (as text or number)."""
    lines = list(NDJSON_LINES)
    leaves = [p for p in _paths(lines[k]) if p and not isinstance(_get(lines[k], p), (dict, list))]
    path = data.draw(st.sampled_from(leaves))
    value = data.draw(VALUES[kind])
    if kind == "huge_numbers" and data.draw(st.booleans()):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    lines[k] = _replace(lines[k], path, value)
    d = Path(tempfile.mkdtemp(prefix="malformed-fhir-"))
    try:
        (d / "r.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
        outcome(_fhir_run, d / "r.ndjson")
    finally:
        shutil.rmtree(d)


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


# ----------------------------------------------------------------------------- service upload


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from fastapi.testclient import TestClient

    from remission.service import auth, importer
    from remission.service.app import create_app

    tmp = tmp_path_factory.mktemp("svc")
    ds = write_csv_folder(BASE)
    application = create_app(f"sqlite:///{tmp / 'svc.db'}")
    importer.import_dataset(application.state.sessions, ds)
    shutil.rmtree(ds)
    with application.state.sessions() as s, s.begin():
        auth.add_user(s, "admin", "a long enough password", "admin", None)
    with TestClient(application, raise_server_exceptions=False) as client:
        r = client.post("/api/token", data={"username": "admin", "password": "a long enough password"})
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield client, headers
    application.state.engine.dispose()


UPLOAD = {
    "lesions": [{"date": "2024-05-01", "lesion_id": "L1", "role": "target", "organ": "lung", "diameter_mm": 15, "method": "CT"}],
    "labs": [{"date": "2024-05-01", "test": "psa", "value": 3.5, "unit": "ng/mL"}],
    "subject": {"last_contact_date": "2024-06-15"},
}


@SETTINGS
@given(doc=reshaped(UPLOAD), kind=st.sampled_from(["json_shape", "wrong_types", "huge_numbers", "extreme_dates", "control_long"]), data=st.data())
def test_service_result_upload(service, doc, kind, data):
    """A malformed upload is 422 with located errors (or 201 when it is valid), never 500."""
    client, headers = service
    if kind != "json_shape":  # a leaf value replaced by a value of the class
        doc = UPLOAD
        leaves = [p for p in _paths(doc) if p and not isinstance(_get(doc, p), (dict, list))]
        doc = _replace(doc, data.draw(st.sampled_from(leaves)), data.draw(VALUES[kind]))
    r = client.post("/api/patients/P1/results", json=doc, headers=headers)
    assert r.status_code in (201, 422), (r.status_code, r.text)
    if r.status_code == 422:
        assert r.json()


def test_base_sdtm_and_documents_are_valid(tmp_path):
    """The adam, Dataset-JSON and FHIR mutations start from valid inputs."""
    for name, text in {"rs": RS_TEXT, "adsl": ADSL_TEXT}.items():
        (tmp_path / f"{name}.csv").write_text(text)
    res = _adam_run(tmp_path)
    assert res.adrs.height > 0 and res.adtte.height > 0
    (tmp_path / "rs.csv").unlink()
    (tmp_path / "rs.json").write_text(json.dumps(DATASET_JSON))
    assert _adam_run(tmp_path).adrs.equals(res.adrs)
    (tmp_path / "b.json").write_bytes(orjson.dumps(BUNDLE))
    assert _fhir_run(tmp_path / "b.json").dataset.subjects.height > 0
