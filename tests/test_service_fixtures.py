"""Shared fixtures of the service tests (imported by the other ``test_service_*`` files) and
the migration tests.

``database_url`` is parametrised: every service test runs on SQLite **and** on PostgreSQL.
PostgreSQL comes from ``REMISSION_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://remission_test:remission_test@127.0.0.1/remission_svc``); each test
gets its own schema (``search_path``), dropped afterwards, so parallel workers do not meet.
Without the variable the PostgreSQL cases are skipped locally and FAIL when ``CI=true``.
The PostgreSQL cases carry the ``postgres`` marker, so ``make test`` runs them in its second
(serial) group, after the fast group.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
PG_ENV = "REMISSION_TEST_POSTGRES_URL"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_base_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        msg = f"{PG_ENV} is not set: no PostgreSQL server to test the service against"
        if IN_CI:
            pytest.fail(msg + " (CI=true: the PostgreSQL tests must run)")
        pytest.skip(msg)
    from remission.service.db import database_url

    return database_url(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database URL (SQLite file or a private PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = _pg_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def app(database_url):
    """The application on a migrated database holding the example dataset."""
    from remission.service import importer
    from remission.service.app import create_app

    application = create_app(database_url)
    importer.import_dataset(application.state.sessions, EXAMPLE)
    yield application
    application.state.engine.dispose()


#: accounts of the service tests: username -> (role, bound subject, assigned subjects)
ACCOUNTS = {
    "admin": ("admin", None, ()),
    "doc1": ("clinician", None, ("EX01", "EX02")),
    "doc2": ("clinician", None, ("EX03",)),
    "pat1": ("patient", "EX01", ()),
    "pat3": ("patient", "EX03", ()),
}
PASSWORD = "correct horse battery staple"


def add_accounts(sessions) -> None:
    from remission.service import auth

    with sessions() as s, s.begin():
        for name, (role, subject, _assigned) in ACCOUNTS.items():
            auth.add_user(s, name, PASSWORD, role, subject)
        for name, (_role, _subject, assigned) in ACCOUNTS.items():
            for sid in assigned:
                auth.assign(s, name, sid)


def visible(username: str, subject_id: str) -> bool:
    """The access rule of spec/service.md, written independently of the service code."""
    role, subject, assigned = ACCOUNTS[username]
    if role == "admin":
        return True
    if role == "patient":
        return subject == subject_id
    return subject_id in assigned


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    add_accounts(app.state.sessions)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def token_for(client, username: str) -> dict[str, str]:
    r = client.post("/api/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


# --------------------------------------------------------------------------------------
# Migrations
# --------------------------------------------------------------------------------------


def test_upgrade_creates_the_schema_of_the_models_and_is_repeatable(database_url):
    """`remission db upgrade` twice: the schema equals the SQLAlchemy models (no pending
    autogenerate difference) and the revision is the head."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from remission.service import db

    db.upgrade(database_url)
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, db.Base.metadata) == []
        assert db.current_revision(engine) == "0002_signin_and_list_audit"
    finally:
        engine.dispose()


def test_default_database_is_remission_db_in_working_directory(tmp_path, monkeypatch):
    """spec/service.md: without REMISSION_DATABASE_URL the database is ./remission.db,
    created and migrated on first start."""
    from remission.service import db
    from remission.service.app import create_app

    monkeypatch.delenv("REMISSION_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    application = create_app()
    try:
        assert (tmp_path / "remission.db").is_file()
        assert db.current_revision(application.state.engine) == "0002_signin_and_list_audit"
    finally:
        application.state.engine.dispose()
    assert db.database_url("postgresql://u:p@h/d") == "postgresql+psycopg://u:p@h/d"


# --------------------------------------------------------------------------------------
# A real server on loopback (concurrency, fault and load tests)
# --------------------------------------------------------------------------------------


class LiveServer:
    """``uvicorn`` serving :func:`remission.service.app.create_app` in a subprocess on
    127.0.0.1 (a free port), on ``url`` (already migrated and filled by the caller)."""

    def __init__(self, url: str, cwd: Path, extra_env: dict[str, str] | None = None):
        import socket
        import subprocess
        import sys

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, REMISSION_DATABASE_URL=url, PYTHONPATH=str(ROOT / "src"), **(extra_env or {}))
        self.log = open(cwd / "server.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "remission.service.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        import time

        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.base + "/api/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.log.seek(0)
        raise RuntimeError("server did not start: " + self.log.read()[-2000:])

    def stop(self) -> str:
        import subprocess

        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.seek(0)
        out = self.log.read()
        self.log.close()
        return out


@pytest.fixture
def live_server(database_url, tmp_path):
    """A real server on 127.0.0.1 holding the example dataset and :data:`ACCOUNTS`."""
    from remission.service import db, importer

    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    sessions = db.make_sessionmaker(engine)
    importer.import_dataset(sessions, EXAMPLE)
    add_accounts(sessions)
    server = LiveServer(database_url, tmp_path)
    try:
        server.wait_ready()
        server.sessions = sessions
        yield server
    finally:
        server.log_text = server.stop()
        engine.dispose()


@pytest.fixture
def server(app):  # noqa: F811 - ``app`` is this module's fixture
    """The service on a free 127.0.0.1 port in a thread (real HTTP for the browser tests),
    with the test accounts; yields its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    add_accounts(app.state.sessions)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
