"""Authorisation: every endpoint, as every role, against every patient (spec/service.md).

The routes are discovered from the application, so an endpoint added later without a case
here fails the test.  Expected visibility comes from ``visible()`` in
test_service_fixtures.py (the spec's rule written independently of the service).  For every
request: the status code (a subject the user may not see answers 404, exactly like one that
does not exist), no other patient's id in the body, and an audit row (who, what, which
subject, from where, outcome) written by that very request.
"""

from __future__ import annotations

import re

import orjson

import pytest
from sqlalchemy import func, select

from test_service_fixtures import ACCOUNTS, app, client, database_url, token_for, visible  # noqa: F401

SUBJECTS = ("EX01", "EX02", "EX03", "EX04", "EX99")  # EX99 does not exist
ALL_IDS = re.compile(r"EX\d\d")
#: body of the write endpoint (a valid finding: symptoms none, remission_model.md §5)
WRITE = {"findings": [{"date": "2026-01-05", "finding": "symptoms", "value": "none"}]}


def _subject_routes(application):
    """(method, path template) of every route that names one patient."""
    out = []
    for route in application.routes:
        path = getattr(route, "path", "").replace("{subject_id:path}", "{subject_id}")
        if "{subject_id}" in path or path == "/fhir/Observation":
            for method in sorted(getattr(route, "methods", ()) - {"HEAD", "OPTIONS"}):
                out.append((method, path))
    return out


def _audit_since(sessions, last_id):
    from remission.service.db import AuditRecord

    with sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id)))


def _last_audit_id(sessions):
    from remission.service.db import AuditRecord

    with sessions() as s:
        return s.scalar(select(func.max(AuditRecord.id))) or 0


def _request(client, method, template, sid, headers):
    if template == "/fhir/Observation":
        url = f"/fhir/Observation?subject=Patient/{sid}"
        resource = f"GET /fhir/Observation?subject=Patient/{sid}"
    else:
        url = template.replace("{subject_id}", sid)
        resource = f"{method} {url}"
    if method == "GET":
        return client.get(url, headers=headers, follow_redirects=False), resource
    if method == "POST" and template.endswith("/results"):
        return client.post(url, headers=headers, json=WRITE, follow_redirects=False), resource
    raise AssertionError(f"no authorisation case for {method} {template}: add one")


def test_every_endpoint_every_role_every_patient(app, client):
    sessions = app.state.sessions
    routes = _subject_routes(app)
    api = {("GET", "/api/patients/{subject_id}"), ("GET", "/api/patients/{subject_id}/assessments"),
           ("GET", "/api/patients/{subject_id}/episodes"), ("GET", "/api/patients/{subject_id}/explanation"),
           ("POST", "/api/patients/{subject_id}/results"), ("GET", "/patients/{subject_id}")}
    assert api <= set(routes)
    checked = 0
    for username, (role, _bound, _assigned) in ACCOUNTS.items():
        headers = token_for(client, username)
        cookie = {"Cookie": f"remission_session={headers['Authorization'].split()[1]}"}
        for method, template in routes:
            page = not template.startswith(("/api", "/fhir"))
            for sid in SUBJECTS:
                last = _last_audit_id(sessions)
                r, resource = _request(client, method, template, sid, cookie if page else headers)
                may = visible(username, sid) and sid != "EX99"
                if not may:
                    expected, outcome = 404, "not_found"
                elif method == "POST" and role == "patient":
                    expected, outcome = 403, "rejected"
                else:
                    expected, outcome = (201 if method == "POST" else 200), "ok"
                assert r.status_code == expected, (username, method, template, sid, r.status_code, r.text[:200])
                leaked = {m for m in ALL_IDS.findall(r.text) if m != sid}
                assert not leaked, (username, template, sid, leaked)
                if not may:
                    assert sid not in r.text or page  # a 404 body does not echo patient data
                rows = _audit_since(sessions, last)
                assert any(
                    a.username == username and a.role == role and a.subject_id == sid and a.resource == resource
                    and a.outcome == outcome and a.client and a.at is not None
                    for a in rows
                ), (username, resource, outcome, [(a.username, a.resource, a.outcome) for a in rows])
                checked += 1
    assert checked == len(ACCOUNTS) * len(routes) * len(SUBJECTS)


@pytest.mark.parametrize("path", ["/api/patients", "/api/cohort", "/patients"])
def test_lists_show_only_visible_patients_and_are_audited(app, client, path):
    sessions = app.state.sessions
    for username, (role, _bound, _assigned) in ACCOUNTS.items():
        headers = token_for(client, username)
        if path == "/patients":
            headers = {"Cookie": f"remission_session={headers['Authorization'].split()[1]}"}
        last = _last_audit_id(sessions)
        r = client.get(path, headers=headers, follow_redirects=False)
        if path == "/patients" and role == "patient":  # a patient lands on their own page
            assert r.status_code == 303 and r.headers["location"] == f"/patients/{ACCOUNTS[username][1]}"
            continue
        assert r.status_code == 200
        shown = set(ALL_IDS.findall(r.text))
        allowed = {f"EX{i:02d}" for i in range(1, 51) if visible(username, f"EX{i:02d}")}
        assert shown <= allowed, (username, shown - allowed)
        if path != "/api/cohort":
            assert shown == allowed
        # one audit row per list request, holding the ids it returned (issue 18 item 6)
        rows = [a for a in _audit_since(sessions, last) if a.action == "list" and a.username == username]
        assert len(rows) == 1 and rows[0].subject_id is None
        assert set(orjson.loads(rows[0].subject_ids)) == allowed
        # and the admin's audit of one patient finds that list request
        if allowed:
            sid = sorted(allowed)[0]
            found = [x for x in client.get(f"/api/audit?subject_id={sid}", headers=token_for(client, "admin")).json()
                     if x["id"] == rows[0].id]
            assert found and sid in found[0]["subject_ids"]


def test_unauthenticated_requests_get_nothing(app, client):
    for method, template in _subject_routes(app):
        r, _ = _request(client, method, template, "EX01", {})
        if template.startswith(("/api", "/fhir")):
            assert r.status_code == 401
        else:
            assert r.status_code == 303 and r.headers["location"] == "/"
        assert "EX01" not in r.text
    assert client.get("/api/audit").status_code == 401
    assert client.get("/api/cohort").status_code == 401
