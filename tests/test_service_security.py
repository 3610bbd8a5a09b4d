"""Sign-in and access (issue 18 item 5), on SQLite and PostgreSQL: the password policy,
throttled and audited failed sign-ins (429 with Retry-After), logout and token revocation,
the account commands (list, deactivate, reset-password, unassign), the Secure cookie
behind a trusted proxy only, and the smaller items of issue 18 item 7 that concern the API
(subject ids with ``/``, the OpenAPI status codes and 422 shape, NUL characters refused)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from test_service_fixtures import (  # noqa: F401  (fixtures)
    EXAMPLE,
    PASSWORD,
    add_accounts,
    app,
    client,
    database_url,
    token_for,
)


def _audit(sessions, **where):
    from remission.service.db import AuditRecord

    with sessions() as s:
        q = select(AuditRecord).order_by(AuditRecord.id)
        for k, v in where.items():
            q = q.where(getattr(AuditRecord, k) == v)
        return list(s.scalars(q))


# --------------------------------------------------------------------------------------
# Password policy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, username, reason",
    [
        ("short-pass1", "alice", "at least 12"),
        ("alice-the-clinician", "alice", "user name"),
        ("ALICEALICE1234", "Alice", "user name"),
        ("password1234", "bob", "common"),
        ("Qwertyuiop123", "bob", "common"),
        ("remission1234!!", "bob", "common"),  # a listed word with digits and marks appended
        ("aaaaaaaaaaaaaaaa", "bob", "common"),
    ],
)
def test_password_policy_refuses(password, username, reason):
    from remission.service import auth

    with pytest.raises(auth.AccountError, match=reason):
        auth.check_password(password, username)


def test_password_policy_accepts_a_long_unlisted_password():
    from remission.service import auth

    auth.check_password("tulip-orbit-vessel-42", "alice")
    assert len(auth.common_passwords()) > 100  # the list ships with the package


# --------------------------------------------------------------------------------------
# Throttling and audit of failed sign-ins
# --------------------------------------------------------------------------------------


def test_failed_sign_ins_are_audited_and_throttled_per_account(app, client, monkeypatch):
    monkeypatch.setenv("REMISSION_SIGNIN_MAX_ACCOUNT_FAILURES", "3")
    monkeypatch.setenv("REMISSION_SIGNIN_WINDOW_SECONDS", "600")
    sessions = app.state.sessions
    token_for(client, "doc1")  # a success first: failures are counted after the last one
    for _ in range(3):
        r = client.post("/api/token", data={"username": "doc1", "password": "wrong password here"})
        assert r.status_code == 401
    # the fourth attempt is refused even with the right password, for a while
    r = client.post("/api/token", data={"username": "doc1", "password": PASSWORD})
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 600
    # the page sign-in form is throttled the same way
    r = client.post("/", data={"username": "doc1", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 429 and "Retry-After" in r.headers
    # another account from the same address is not affected (per-address limit is higher)
    assert client.post("/api/token", data={"username": "doc2", "password": PASSWORD}).status_code == 200
    rejected = _audit(sessions, action="sign_in", outcome="rejected")
    assert [(a.username, a.user_id) for a in rejected] == [("doc1", None)] * 3
    assert all(a.client and a.at for a in rejected)
    assert len(_audit(sessions, action="sign_in", outcome="throttled", username="doc1")) == 2
    # an unknown account's failures are audited under the name tried
    client.post("/api/token", data={"username": "nobody", "password": "x"})
    assert _audit(sessions, action="sign_in", outcome="rejected", username="nobody")


def test_failed_sign_ins_are_throttled_per_address(app, client, monkeypatch):
    monkeypatch.setenv("REMISSION_SIGNIN_MAX_ADDRESS_FAILURES", "4")
    for k in range(4):
        r = client.post("/api/token", data={"username": f"guess{k}", "password": "wrong password here"})
        assert r.status_code == 401
    r = client.post("/api/token", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # from another address the account signs in
    with TestClient(app, client=("10.1.2.3", 4000), raise_server_exceptions=False) as other:
        assert other.post("/api/token", data={"username": "admin", "password": PASSWORD}).status_code == 200


# --------------------------------------------------------------------------------------
# Logout, revocation, account commands
# --------------------------------------------------------------------------------------


def test_logout_revokes_the_token(app, client):
    h = token_for(client, "doc1")
    assert client.get("/api/patients/EX01", headers=h).status_code == 200
    assert client.post("/api/logout", headers=h).status_code == 204
    assert client.get("/api/patients/EX01", headers=h).status_code == 401
    assert client.post("/api/logout", headers=h).status_code == 401
    assert _audit(app.state.sessions, action="sign_out", username="doc1")


def test_account_commands_take_access_away_at_once(app, client, database_url, monkeypatch):
    from remission.cli import app as cli

    monkeypatch.setenv("REMISSION_DATABASE_URL", database_url)
    run = CliRunner().invoke
    doc = token_for(client, "doc1")
    pat = token_for(client, "pat1")
    assert client.get("/api/patients/EX02", headers=doc).status_code == 200

    r = run(cli, ["users", "list"])
    assert r.exit_code == 0 and "doc1" in r.output and "EX01 EX02" in r.output, r.output

    # unassign: the clinician's next request no longer sees the patient
    assert run(cli, ["users", "unassign", "doc1", "EX02"]).exit_code == 0
    assert client.get("/api/patients/EX02", headers=doc).status_code == 404
    assert client.get("/api/patients/EX01", headers=doc).status_code == 200
    assert run(cli, ["users", "unassign", "pat1", "EX01"]).exit_code == 2  # not a clinician

    # deactivate: the token stops working at once, and sign-in fails
    r = run(cli, ["users", "deactivate", "doc1"])
    assert r.exit_code == 0, r.output
    assert client.get("/api/patients/EX01", headers=doc).status_code == 401
    assert client.post("/api/token", data={"username": "doc1", "password": PASSWORD}).status_code == 401
    assert run(cli, ["users", "deactivate", "nobody"]).exit_code == 2
    assert run(cli, ["users", "activate", "doc1"]).exit_code == 0
    assert client.get("/api/patients/EX01", headers=doc).status_code == 401  # old tokens stay revoked
    token_for(client, "doc1")

    # reset-password: policy checked (exit 2, nothing changed), then the old tokens end
    r = run(cli, ["users", "reset-password", "pat1"], input="short\n")
    assert r.exit_code == 2 and "12" in r.output
    assert client.get("/api/patients/EX01", headers=pat).status_code == 200
    r = run(cli, ["users", "reset-password", "pat1"], input="a brand new passphrase\n")
    assert r.exit_code == 0, r.output
    assert client.get("/api/patients/EX01", headers=pat).status_code == 401
    assert client.post("/api/token", data={"username": "pat1", "password": "a brand new passphrase"}).status_code == 200
    assert {a.resource for a in _audit(app.state.sessions, action="account")} >= {
        "remission users unassign doc1", "remission users deactivate doc1", "remission users reset-password pat1"}


def test_users_add_applies_the_password_policy(database_url, monkeypatch):
    from remission.cli import app as cli

    monkeypatch.setenv("REMISSION_DATABASE_URL", database_url)
    run = CliRunner().invoke
    r = run(cli, ["users", "add", "carol", "--role", "clinician"], input="password1234\n")
    assert r.exit_code == 2 and "common" in r.output
    r = run(cli, ["users", "add", "carol", "--role", "clinician"], input="carol-is-my-name\n")
    assert r.exit_code == 2 and "user name" in r.output
    assert run(cli, ["users", "add", "carol", "--role", "clinician"], input="lantern quarry 77\n").exit_code == 0


# --------------------------------------------------------------------------------------
# Cookie behind a trusted proxy
# --------------------------------------------------------------------------------------


def test_secure_cookie_only_behind_a_trusted_proxy(database_url):
    from remission.service import importer
    from remission.service.app import create_app

    application = create_app(database_url, proxies="10.0.0.5")
    try:
        importer.import_dataset(application.state.sessions, EXAMPLE)
        add_accounts(application.state.sessions)
        form = {"username": "doc1", "password": PASSWORD}
        https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        with TestClient(application, client=("10.0.0.5", 1000)) as proxy:
            r = proxy.post("/", data=form, headers=https, follow_redirects=False)
            assert r.status_code == 303
            cookie = r.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
            r = proxy.post("/", data=form, follow_redirects=False)  # the proxy spoke plain http
            assert "secure" not in r.headers["set-cookie"].lower()
        with TestClient(application, client=("198.51.100.9", 1000)) as direct:  # not a trusted proxy
            r = direct.post("/", data=form, headers=https, follow_redirects=False)
            assert r.status_code == 303 and "secure" not in r.headers["set-cookie"].lower()
        clients = [a.client for a in _audit(application.state.sessions, action="sign_in", outcome="ok")]
        assert clients == ["203.0.113.7", "10.0.0.5", "198.51.100.9"]  # the real client behind the proxy
    finally:
        application.state.engine.dispose()


# --------------------------------------------------------------------------------------
# Item 7 (API part): ids with "/", OpenAPI, NUL
# --------------------------------------------------------------------------------------


def test_a_subject_id_with_a_slash_can_be_opened(app, client):
    from remission.service import importer
    import shutil, tempfile  # noqa: E401
    from pathlib import Path

    import polars as pl

    folder = Path(tempfile.mkdtemp()) / "slash"
    shutil.copytree(EXAMPLE, folder)
    for path in folder.glob("*.csv"):
        if path.name == "expected.csv":
            continue
        frame = pl.read_csv(path, infer_schema=False)
        frame.with_columns(pl.col("subject_id").str.replace("^EX01$", "SITE/01")).write_csv(path)
    importer.import_dataset(app.state.sessions, folder)
    h = token_for(client, "admin")
    for tail in ("", "/assessments", "/episodes", "/explanation"):
        r = client.get(f"/api/patients/SITE/01{tail}", headers=h)
        assert r.status_code == 200, (tail, r.text)
    assert client.get("/api/patients/SITE/01", headers=h).json()["subject_id"] == "SITE/01"
    r = client.post("/api/patients/SITE/01/results", headers=h,
                    json={"findings": [{"date": "2019-10-21", "finding": "symptoms", "value": "none"}]})
    assert r.status_code == 201, r.text
    cookie = {"Cookie": f"remission_session={h['Authorization'].split()[1]}"}
    page = client.get("/patients/SITE/01", headers=cookie)
    assert page.status_code == 200 and "SITE/01" in page.text
    assert client.get("/api/patients/SITE", headers=h).status_code == 404


def test_openapi_declares_every_status_code_and_the_422_shape(app):
    doc = app.openapi()
    paths = doc["paths"]
    patient = "/api/patients/{subject_id}"
    for path in (patient, patient + "/assessments", patient + "/episodes", patient + "/explanation"):
        assert {"200", "401", "404", "413", "422"} <= set(paths[path]["get"]["responses"]), path
    assert {"201", "401", "403", "404", "413", "422"} <= set(paths[patient + "/results"]["post"]["responses"])
    assert {"200", "401", "403"} <= set(paths["/api/audit"]["get"]["responses"])
    assert {"200", "401", "429"} <= set(paths["/api/token"]["post"]["responses"])
    ref = paths[patient + "/results"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    shape = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    item = doc["components"]["schemas"][shape["properties"]["detail"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert {"file", "row", "subject_id", "column", "value", "expected", "code", "message"} <= set(item["properties"])


def test_every_422_has_the_located_shape_and_nul_is_refused(app, client):
    h = token_for(client, "admin")
    r = client.get("/api/patients?limit=0", headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0]["file"] == "request" and r.json()["detail"][0]["column"] == "limit"
    for url in ("/api/patients/EX%0001", "/api/patients?q=a%00b", "/patients/EX%00"):
        r = client.get(url, headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["code"] == "nul_character", url
    assert client.post("/api/token", data={"username": "ad\x00min", "password": PASSWORD}).status_code == 401
    assert len(_audit(app.state.sessions, action="request", outcome="rejected")) == 4
