"""The service commands of spec/service.md: ``remission db upgrade``, ``users add`` (password
from standard input), ``users assign``, ``import`` (idempotent; exit 2 with located errors
and nothing written on bad input), on SQLite and PostgreSQL (REMISSION_DATABASE_URL)."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select
from typer.testing import CliRunner

from test_service_fixtures import EXAMPLE, database_url  # noqa: F401


def test_service_commands(database_url, tmp_path, monkeypatch):
    from remission.cli import app
    from remission.service import auth, db

    monkeypatch.setenv("REMISSION_DATABASE_URL", database_url)
    run = CliRunner().invoke
    r = run(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    r = run(app, ["import", str(EXAMPLE)])
    assert r.exit_code == 0 and "50 changed" in r.output, r.output
    r = run(app, ["import", str(EXAMPLE)])
    assert r.exit_code == 0 and "0 changed" in r.output and "50 unchanged" in r.output
    assert run(app, ["users", "add", "doc", "--role", "clinician"], input="s3cret pass phrase\n").exit_code == 0
    assert run(app, ["users", "add", "p1", "--role", "patient", "--patient", "EX01"], input="patient one long pass\n").exit_code == 0
    r = run(app, ["users", "add", "p2", "--role", "patient"], input="pw\n")
    assert r.exit_code == 2  # a patient account must name its subject
    assert run(app, ["users", "add", "doc", "--role", "clinician"], input="x\n").exit_code == 2  # exists
    assert run(app, ["users", "assign", "doc", "EX01"]).exit_code == 0
    assert run(app, ["users", "assign", "p1", "EX02"]).exit_code == 2  # not a clinician

    bad = tmp_path / "bad"
    shutil.copytree(EXAMPLE, bad)
    with open(bad / "lesions.csv", "a") as f:
        f.write("EX01,2019-13-01,T1,target,lung,false,40,,,CT\n")
    r = run(app, ["import", str(bad)])
    assert r.exit_code == 2

    engine = db.make_engine(database_url)
    try:
        with db.make_sessionmaker(engine)() as s:
            assert s.scalar(select(func.count()).select_from(db.Patient)) == 50
            # the password is the stdin line without its newline
            assert auth.authenticate(s, "doc", "s3cret pass phrase") is not None
            assert auth.authenticate(s, "doc", "s3cret pass phrase\n") is None
            doc = s.scalar(select(db.User).where(db.User.username == "doc"))
            assert auth.may_see(s, doc, "EX01") and not auth.may_see(s, doc, "EX02")
            imports = s.scalars(select(db.AuditRecord).where(db.AuditRecord.action == "import")).all()
            assert len(imports) == 50 + 1  # one row per changed subject, then one for the no-op
    finally:
        engine.dispose()
