"""No acknowledged write is lost: concurrent ``POST /api/patients/{id}/results`` against a
real server on 127.0.0.1 (threads, on SQLite and PostgreSQL).  Every 201 leaves its row in
the database, no request answers 500, and the derived tables are those of the stored rows.
Bounded: 8 writers x 5 posts, 60 s client timeout."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
from sqlalchemy import select

from test_service_fixtures import PASSWORD, database_url, live_server  # noqa: F401

WRITERS = 8
POSTS = 5


def _token(base: str, username: str) -> str:
    r = httpx.post(base + "/api/token", data={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_concurrent_writers_to_one_patient_lose_nothing(live_server):
    base = live_server.base
    from remission.service import db

    with live_server.sessions() as s:
        as_of_before = s.get(db.Patient, "EX01").as_of
    tokens = [_token(base, "admin"), _token(base, "doc1")]
    start = dt.date(2019, 11, 1)
    outcomes: list[tuple[int, str]] = []  # (status, date of the posted finding)
    lock = threading.Lock()
    barrier = threading.Barrier(WRITERS)

    def writer(k: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[k % 2]}"}
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            for j in range(POSTS):
                day = (start + dt.timedelta(days=k * POSTS + j)).isoformat()
                body = {"findings": [{"date": day, "finding": "symptoms", "value": "none"}]}
                try:
                    status = http.post("/api/patients/EX01/results", json=body, headers=headers).status_code
                except httpx.HTTPError as exc:  # a timeout or reset is a failure too
                    status = f"{type(exc).__name__}"
                with lock:
                    outcomes.append((status, day))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads)
    assert len(outcomes) == WRITERS * POSTS
    counts: dict[str, int] = {}
    for status, _ in outcomes:
        counts[str(status)] = counts.get(str(status), 0) + 1
    statuses = sorted(counts)
    acknowledged = {day for s, day in outcomes if s == 201}

    from remission.service import db, importer
    from remission.options import AssessOptions
    from remission.pipeline import assess

    with live_server.sessions() as s:
        stored = {d.isoformat() for d in s.scalars(
            select(db.FindingRow.date).where(db.FindingRow.subject_id == "EX01", db.FindingRow.finding == "symptoms"))}
        lost = sorted(acknowledged - stored)
        assert statuses == ["201"], f"statuses {counts}; lost {len(lost)} of {len(acknowledged)} acknowledged"
        assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged rows lost: {lost}"
        # the derived summary is the one of the stored rows
        p = s.get(db.Patient, "EX01")
        ds = importer.patient_dataset(s, "EX01")
        expected = assess(ds, AssessOptions(as_of=p.as_of)).summary
        assert p.as_of == max([as_of_before] + [dt.date.fromisoformat(d) for d in acknowledged])
        assert p.status == expected.item(0, "status")


def test_two_imports_of_the_same_subjects_at_once_serialise(database_url, tmp_path):
    """Issue 18 item 7: two ``remission import`` of the same new subjects at the same time
    (two processes' worth of sessions, here two threads with their own engines): both end
    cleanly, one stores the 50 subjects and the other then finds nothing changed."""
    from remission.service import db, importer
    from test_service_fixtures import EXAMPLE

    db.upgrade(database_url)
    engines = [db.make_engine(database_url) for _ in range(2)]
    reports: list = [None, None]
    failures: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(k: int) -> None:
        try:
            barrier.wait()
            reports[k] = importer.import_dataset(db.make_sessionmaker(engines[k]), EXAMPLE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    try:
        assert not failures, failures
        assert sorted(len(r.changed) for r in reports) == [0, 50]
        with engines[0].connect() as conn:
            from sqlalchemy import func

            assert conn.scalar(select(func.count()).select_from(db.Patient)) == 50
    finally:
        for e in engines:
            e.dispose()
