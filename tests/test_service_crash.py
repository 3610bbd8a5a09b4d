"""An import is one transaction: killed midway (SIGKILL of the importing process while its
transaction holds written rows) or failing midway (an error injected between two batches),
it leaves nothing partial: the database is exactly as before.  On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import polars as pl
import pytest
from sqlalchemy import func, select

from test_service_fixtures import EXAMPLE, ROOT, database_url  # noqa: F401

COPIES = 20  # 20 x 50 example subjects: about 9 400 lesion rows, two insert batches


def _big_dataset(folder):
    """The example dataset, plus a new finding for EX01 (so an existing patient changes),
    plus 20 renamed copies of every subject (``EX01-c0`` ...)."""
    folder.mkdir()
    for path in EXAMPLE.glob("*.csv"):
        if path.name == "expected.csv":
            continue
        frame = pl.read_csv(path, infer_schema=False)
        copies = [frame] + [frame.with_columns(pl.col("subject_id") + f"-c{k}") for k in range(COPIES)]
        out = pl.concat(copies)
        if path.stem == "findings":
            out = pl.concat([out, pl.DataFrame({"subject_id": ["EX01"], "date": ["2019-10-21"],
                                                "finding": ["symptoms"], "value": ["none"]})])
        out.write_csv(folder / path.name)
    return folder


def _state(url):
    """Every table's row count, and each patient's (version, input hash)."""
    from remission.service import db

    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            counts = {
                m.__tablename__: conn.scalar(select(func.count()).select_from(m))
                for m in [db.Patient, *db.INPUT_MODELS.values(), *db.DERIVED_MODELS.values()]
            }
            patients = {sid: (version, digest) for sid, version, digest in
                        conn.execute(select(db.Patient.subject_id, db.Patient.version, db.Patient.input_hash))}
    finally:
        engine.dispose()
    return counts, patients


@pytest.fixture
def imported(database_url):
    from remission.service import db, importer

    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    importer.import_dataset(db.make_sessionmaker(engine), EXAMPLE)
    engine.dispose()
    return database_url


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from remission.service import db, importer
    url, folder = sys.argv[1], sys.argv[2]
    sessions = db.make_sessionmaker(db.make_engine(url))

    def hook(table, n):
        print(f"WROTE {table} {n}", flush=True)
        if table == "lesions":
            time.sleep(120)  # inside the open transaction, rows already sent: wait for the kill

    importer.import_dataset(sessions, folder, progress=hook)
    print("COMMITTED", flush=True)
    """
)


def test_import_killed_midway_leaves_nothing_partial(imported, tmp_path):
    url = imported
    before = _state(url)
    big = _big_dataset(tmp_path / "big")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, url, str(big)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        seen = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
            if line.startswith("WROTE lesions"):
                break
        assert seen and seen[-1].startswith("WROTE lesions"), (seen, proc.stderr.read() if proc.poll() is not None else "")
        assert "WROTE patients 1001" in seen  # 1000 copies + the changed EX01 (49 unchanged skipped)
        if url.startswith("sqlite"):
            wal = url[len("sqlite:///"):] + "-wal"
            assert os.path.getsize(wal) > 0  # the uncommitted pages are in the write-ahead log
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    after = _state(url)
    assert after == before
    # the database is usable and still holds exactly the first import
    from remission.service import db, importer

    engine = db.make_engine(url)
    try:
        report = importer.import_dataset(db.make_sessionmaker(engine), EXAMPLE)
        assert report.changed == []
    finally:
        engine.dispose()


def test_import_failing_midway_rolls_back(imported, tmp_path):
    from remission.service import db, importer

    url = imported
    before = _state(url)
    big = _big_dataset(tmp_path / "big")
    calls = []

    def fail_after_first_lesion_batch(table, n):
        calls.append((table, n))
        if table == "lesions":
            raise RuntimeError("injected failure inside the import transaction")

    engine = db.make_engine(url)
    try:
        with pytest.raises(RuntimeError, match="injected failure"):
            importer.import_dataset(db.make_sessionmaker(engine), big, progress=fail_after_first_lesion_batch)
    finally:
        engine.dispose()
    assert ("patients", 1001) in calls and calls[-1][0] == "lesions"
    assert _state(url) == before
