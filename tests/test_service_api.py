"""The HTTP API of spec/service.md, on SQLite and PostgreSQL (fixtures in
test_service_fixtures.py): tokens, the derived tables as the pipeline gives them, adding
results with re-derivation of the whole history, located 422 errors, idempotent import,
size limit, no stack traces."""

from __future__ import annotations

import shutil

import orjson
import polars as pl
import pytest

from test_service_fixtures import (  # noqa: F401  (fixtures)
    EXAMPLE,
    PASSWORD,
    app,
    client,
    database_url,
    token_for,
)


@pytest.fixture(scope="module")
def pipeline_result():
    from remission.pipeline import assess

    return assess(EXAMPLE)


def _rows(frame: pl.DataFrame, subject_id: str) -> list[dict]:
    f = frame.filter(pl.col("subject_id") == subject_id)
    return [orjson.loads(r) for r in f.select(pl.struct(pl.all()).struct.json_encode()).to_series()]


def test_token_and_health(client):
    """spec/service.md: POST /api/token -> bearer token, 401 on bad credentials; health ok;
    every other /api request needs the token."""
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.post("/api/token", data={"username": "doc1", "password": "wrong"}).status_code == 401
    assert client.post("/api/token", data={"username": "nobody", "password": PASSWORD}).status_code == 401
    assert client.get("/api/patients").status_code == 401
    assert client.get("/api/patients/EX01", headers={"Authorization": "Bearer forged"}).status_code == 401
    h = token_for(client, "doc1")
    assert client.get("/api/patients", headers=h).status_code == 200
    assert "/api/patients/{subject_id}/episodes" in client.get("/openapi.json").json()["paths"]


def test_expired_token_is_refused(client, monkeypatch):
    """Tokens expire (auth.token_ttl): a token issued with a negative lifetime is refused."""
    import datetime as dt

    from remission.service import auth

    monkeypatch.setattr(auth, "token_ttl", lambda: dt.timedelta(minutes=-1))
    h = token_for(client, "doc1")
    assert client.get("/api/patients", headers=h).status_code == 401


def test_derived_tables_equal_the_pipeline(client, pipeline_result):
    """The stored summary, assessments and episodes of a patient are exactly the rows
    `remission assess` gives for the same folder (as_of = the dataset's latest date)."""
    h = token_for(client, "admin")
    for sid in ("EX01", "EX02", "EX03"):
        assert client.get(f"/api/patients/{sid}", headers=h).json() == _rows(pipeline_result.summary, sid)[0]
        assert client.get(f"/api/patients/{sid}/assessments", headers=h).json() == _rows(pipeline_result.assessments, sid)
        assert client.get(f"/api/patients/{sid}/episodes", headers=h).json() == _rows(pipeline_result.episodes, sid)


def test_warnings_are_the_pipeline_warnings(client, pipeline_result):
    """GET /api/patients/{id}/warnings (an addition to spec/service.md): the rows of
    warnings.csv for the patient, e.g. EX06's SINGLE_NODE_REAPPEARANCE (recist11.md §4.7)."""
    h = token_for(client, "admin")
    for sid in ("EX06", "EX01"):
        want = [{**w, "date": w["date"].isoformat()} for w in pipeline_result.warnings.filter(pl.col("subject_id") == sid).to_dicts()]
        assert client.get(f"/api/patients/{sid}/warnings", headers=h).json() == want
    assert any(w["warning"] == "SINGLE_NODE_REAPPEARANCE" for w in client.get("/api/patients/EX06/warnings", headers=h).json())
    assert client.get("/api/patients/NOPE/warnings", headers=h).status_code == 404


def test_explanation_is_the_plain_language_summary(client, pipeline_result):
    from remission.explain import patient_summary

    h = token_for(client, "pat1")
    body = client.get("/api/patients/EX01/explanation", headers=h).json()
    assert body == {"text": patient_summary(pipeline_result, "EX01")}


def test_patient_list_by_role_sorted_and_filtered(client):
    """admin: all 50; clinician: assigned; patient: self.  Sorting and the status filter."""
    lists = {u: client.get("/api/patients", headers=token_for(client, u)).json() for u in ("admin", "doc1", "pat1")}
    assert len(lists["admin"]) == 50
    assert [r["subject_id"] for r in lists["doc1"]] == ["EX01", "EX02"]
    assert [r["subject_id"] for r in lists["pat1"]] == ["EX01"]
    row = lists["doc1"][0]
    assert {"subject_id", "status", "status_date", "next_followup_due"} <= set(row)
    # example README: EX01 confirmed PR, open -> partial_remission; next check-up 2020-01-07,
    # long past, so overdue
    assert (row["status"], row["next_followup_due"], row["overdue"]) == ("partial_remission", "2020-01-07", True)
    h = token_for(client, "admin")
    desc = client.get("/api/patients?sort=subject_id&order=desc", headers=h).json()
    assert [r["subject_id"] for r in desc] == sorted((r["subject_id"] for r in lists["admin"]), reverse=True)
    prog = client.get("/api/patients?status=progression", headers=h).json()
    assert prog and all(r["status"] == "progression" for r in prog)
    assert len(prog) == sum(r["status"] == "progression" for r in lists["admin"])
    cohort = client.get("/api/cohort", headers=h).json()
    assert cohort["patients"] == 50 and sum(cohort["by_status"].values()) == 50


def test_adding_a_confirming_scan_rederives_the_history(client):
    """EX02 (example README: PR on 2025-09-08, never confirmed: confirmed BOR SD, episode
    not qualified).  A scan on 2025-11-03 with the same sizes (sum 34 mm, -32 % from 50 mm:
    PR, recist11.md §4.1) confirms the PR 56 days later (>= 28, recist11.md §5.4), so the
    earlier episode becomes confirmed on that date and the confirmed BOR becomes PR."""
    h = token_for(client, "doc1")
    before = client.get("/api/patients/EX02", headers=h).json()
    assert before["confirmed_best_response"] == "SD"
    rows = [
        {"date": "2025-11-03", "lesion_id": "T1", "role": "target", "organ": "breast", "nodal": False, "diameter_mm": 20, "method": "CT"},
        {"date": "2025-11-03", "lesion_id": "T2", "role": "target", "organ": "liver", "nodal": False, "diameter_mm": 14, "method": "CT"},
    ]
    r = client.post("/api/patients/EX02/results", headers=h, json={"lesions": rows})
    assert r.status_code == 201, r.text
    assert r.json()["added"]["lesions"] == 2
    after = client.get("/api/patients/EX02", headers=h).json()
    assert (after["best_response"], after["confirmed_best_response"]) == ("PR", "PR")
    ep = client.get("/api/patients/EX02/episodes", headers=h).json()
    assert (ep[0]["start_date"], ep[0]["confirmed_date"]) == ("2025-09-08", "2025-11-03")
    dates = [a["date"] for a in client.get("/api/patients/EX02/assessments", headers=h).json()]
    assert dates[-1] == "2025-11-03"


def test_bad_results_get_422_with_the_cli_located_errors(client, tmp_path):
    """A lab value that is not a number: the 422 names file, row, subject, column, value,
    expected and code, as the CLI's validation of the same value in labs.csv does; nothing
    is stored."""
    from remission.errors import InputErrors
    from remission.io import load_dataset

    h = token_for(client, "doc1")
    before = client.get("/api/patients/EX01/assessments", headers=h).json()
    r = client.post("/api/patients/EX01/results", headers=h,
                    json={"labs": [{"date": "2019-11-01", "test": "cea", "value": "high", "unit": "ng/mL"}]})
    assert r.status_code == 422
    (err,) = r.json()["detail"]
    # the same value through the command line's reader
    folder = tmp_path / "ds"
    shutil.copytree(EXAMPLE, folder)
    with open(folder / "labs.csv", "a") as f:
        f.write("EX01,2019-11-01,cea,high,ng/mL\n")
    with pytest.raises(InputErrors) as exc:
        load_dataset(folder)
    (cli,) = [e for e in exc.value.errors if e.value == "high"]
    assert (err["file"], err["row"]) == ("labs (request)", 1)
    assert (err["subject_id"], err["column"], err["value"], err["expected"], err["code"]) == (
        cli.subject_id, cli.column, cli.value, cli.expected, cli.code)
    assert err["message"].startswith("labs (request), row 1, subject EX01, column value")
    assert client.get("/api/patients/EX01/assessments", headers=h).json() == before
    # a row for another subject, an unknown column: located too
    r = client.post("/api/patients/EX01/results", headers=h,
                    json={"findings": [{"subject_id": "EX02", "date": "2019-11-01", "finding": "symptoms", "value": "none", "colour": "red"}]})
    assert r.status_code == 422
    assert {(e["code"], e["row"]) for e in r.json()["detail"]} == {("wrong_subject", 1), ("unknown_column", 1)}


def test_reimport_is_idempotent(app, client):
    """Importing the same folder again changes nothing (no subject re-derived, versions
    unchanged); a changed subject is the only one re-derived."""
    from sqlalchemy import func, select

    from remission.service import db, importer

    sessions = app.state.sessions
    with sessions() as s:
        before = dict(s.execute(select(db.Patient.subject_id, db.Patient.version)).all())
        n_lesions = s.scalar(select(func.count()).select_from(db.LesionRow))
    report = importer.import_dataset(sessions, EXAMPLE)
    assert (report.changed, report.unchanged) == ([], 50)
    with sessions() as s:
        assert dict(s.execute(select(db.Patient.subject_id, db.Patient.version)).all()) == before
        assert s.scalar(select(func.count()).select_from(db.LesionRow)) == n_lesions


def test_request_size_limit(client):
    h = token_for(client, "doc1")
    big = {"findings": [{"date": "2019-11-01", "finding": "symptoms", "value": "x" * 1000}] * 6000}
    r = client.post("/api/patients/EX01/results", headers=h, json=big)
    assert r.status_code == 413


def test_no_stack_trace_to_clients(client, monkeypatch):
    """An unexpected error: generic 500 JSON with an error id; no exception text."""
    from remission.service import importer

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(importer, "patient_result", boom)
    r = client.get("/api/patients/EX01/explanation", headers=token_for(client, "doc1"))
    assert r.status_code == 500
    body = r.json()
    assert body["detail"] == "internal server error" and len(body["error_id"]) == 32
    assert "secret" not in r.text and "Traceback" not in r.text


def test_patient_cannot_write_and_audit_is_admin_only(client):
    h = token_for(client, "pat1")
    r = client.post("/api/patients/EX01/results", headers=h,
                    json={"findings": [{"date": "2019-11-01", "finding": "symptoms", "value": "none"}]})
    assert r.status_code == 403
    assert client.get("/api/audit?subject_id=EX01", headers=token_for(client, "doc1")).status_code == 403
    rows = client.get("/api/audit?subject_id=EX01", headers=token_for(client, "admin")).json()
    assert any(r["username"] == "pat1" and r["action"] == "write" and r["outcome"] == "rejected" for r in rows)


def test_fhir_observations_of_one_patient(client, pipeline_result):
    """GET /fhir/Observation?subject=...: a searchset Bundle of the patient's mCODE
    CancerDiseaseStatus Observations (remission.fhir.export), same access rules."""
    fhir = pytest.importorskip("remission.fhir.export")
    h = token_for(client, "pat1")
    r = client.get("/fhir/Observation?subject=Patient/EX01", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "searchset")
    expected = orjson.loads(orjson.dumps(fhir.observations_for_subject(pipeline_result, "EX01")))
    assert [e["resource"] for e in bundle["entry"]] == expected and bundle["total"] == len(expected) > 0
    assert client.get("/fhir/Observation?subject=EX02", headers=h).status_code == 404
