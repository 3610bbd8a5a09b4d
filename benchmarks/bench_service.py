"""Bounded load test of the web service on loopback.

Starts ``uvicorn`` in a subprocess on 127.0.0.1 (a fresh SQLite file in a temporary folder,
or ``REMISSION_DATABASE_URL`` when set) holding the bundled example dataset, then runs
``--clients`` concurrent clients (httpx async, default 50) that share ``--requests``
requests (default 3000) as clinicians, patients and an admin: the read endpoints
(patient list, summary, assessments, episodes, explanation), the pages (the clinician's
list, the patient page with its timeline) and ``--write-share`` (default 5 %) writes
(``POST /api/patients/{id}/results``, one finding each, by the patient's clinician); stops
at ``--max-seconds``.  Before measuring, every patient page is opened once (``--no-warmup``:
not), so the run measures the service in use rather than its first drawing of each
timeline.  Prints latency percentiles (all, and per kind), throughput, the
error count and the acknowledged writes missing from the database afterwards; exits 1 on
any error or lost write.  Target (issue 18): p95 <= 1 s and 0 errors with 50 clients.

    .venv/bin/python benchmarks/bench_service.py [--clients 50] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import polars as pl
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "src" / "remission" / "data" / "example"
PASSWORD = "bench-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(url: str) -> dict[str, list[str]]:
    """Import the example and create accounts: admin, 5 clinicians of 10 patients each,
    10 patients.  Returns username -> the subjects it may see."""
    from remission.service import auth, db, importer

    db.upgrade(url)
    engine = db.make_engine(url)
    sessions = db.make_sessionmaker(engine)
    importer.import_dataset(sessions, EXAMPLE)
    ids = [f"EX{i:02d}" for i in range(1, 51)]
    access: dict[str, list[str]] = {"bench-admin": ids}
    with sessions() as s, s.begin():
        if s.scalar(select(db.User.id).where(db.User.username == "bench-admin")) is None:
            auth.add_user(s, "bench-admin", PASSWORD, "admin")
            for k in range(5):
                auth.add_user(s, f"bench-doc{k}", PASSWORD, "clinician")
                for sid in ids[k * 10 : (k + 1) * 10]:
                    auth.assign(s, f"bench-doc{k}", sid)
            for sid in ids[:10]:
                auth.add_user(s, f"bench-{sid}", PASSWORD, "patient", sid)
    for k in range(5):
        access[f"bench-doc{k}"] = ids[k * 10 : (k + 1) * 10]
    for sid in ids[:10]:
        access[f"bench-{sid}"] = [sid]
    engine.dispose()
    return access


async def _run(base: str, access: dict[str, list[str]], clients: int, total: int, max_seconds: float,
               write_share: float, warmup: bool = True):
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        tokens = {}
        for user in access:
            r = await http.post("/api/token", data={"username": user, "password": PASSWORD})
            r.raise_for_status()
            tokens[user] = r.json()["access_token"]
        if warmup:
            # each patient page once (the timeline is drawn once per patient version and then
            # cached): the measured run is the service in use, not its first minute
            for sid in access["bench-admin"]:
                r = await http.get(f"/patients/{sid}", headers={"Cookie": f"remission_session={tokens['bench-admin']}"},
                                   timeout=300)
                r.raise_for_status()
        deceased = set(pl.read_csv(EXAMPLE / "subjects.csv", infer_schema=False)
                       .filter(pl.col("death_date").is_not_null()).get_column("subject_id"))
        users = [u for u in access if u != "bench-admin"]
        clinicians = [u for u in users if u.startswith("bench-doc")]
        rng = random.Random(7)
        plan = []
        first_day = dt.date(2020, 1, 1)
        for i in range(total):
            if rng.random() < write_share:
                user = rng.choice(clinicians)
                alive = [x for x in access[user] if x not in deceased]  # no results after a death date
                sid = rng.choice(alive)
                day = (first_day + dt.timedelta(days=i)).isoformat()  # one distinct date per write
                plan.append(("write", tokens[user], f"/api/patients/{sid}/results",
                             {"findings": [{"date": day, "finding": "symptoms", "value": "none"}]}))
                continue
            user = rng.choice(users)
            sid = rng.choice(access[user])
            kind, path = rng.choice([
                ("list", "/api/patients"), ("read", f"/api/patients/{sid}"),
                ("read", f"/api/patients/{sid}/assessments"), ("read", f"/api/patients/{sid}/episodes"),
                ("read", f"/api/patients/{sid}/explanation"), ("page", f"/patients/{sid}"),
                ("page", "/patients" if user in clinicians else f"/patients/{sid}"),
            ])
            plan.append((kind, tokens[user], path, None))
        latencies: list[float] = []
        by_kind: dict[str, list[float]] = {}
        errors: list[str] = []
        acknowledged: list[tuple[str, str]] = []
        queue: asyncio.Queue = asyncio.Queue()
        for item in plan:
            queue.put_nowait(item)
        stop_at = time.monotonic() + max_seconds

        async def worker():
            while time.monotonic() < stop_at:
                try:
                    kind, token, path, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t0 = time.perf_counter()
                try:
                    if kind == "write":
                        r = await http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
                        ok = r.status_code == 201
                        if ok:
                            acknowledged.append((path.split("/")[3], body["findings"][0]["date"]))
                    elif kind == "page":
                        r = await http.get(path, headers={"Cookie": f"remission_session={token}"})
                        ok = r.status_code == 200
                    else:
                        r = await http.get(path, headers={"Authorization": f"Bearer {token}"})
                        ok = r.status_code == 200
                    if not ok:
                        errors.append(f"{r.status_code} {kind} {path}")
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__} {kind} {path}")
                dt_s = time.perf_counter() - t0
                latencies.append(dt_s)
                by_kind.setdefault(kind, []).append(dt_s)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, by_kind, errors, acknowledged, wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument("--write-share", type=float, default=0.05, help="share of requests that are writes")
    ap.add_argument("--no-warmup", action="store_true", help="do not open every patient page once before measuring")
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    url = os.environ.get("REMISSION_DATABASE_URL") or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    access = _prepare(url)
    port = _free_port()
    env = dict(os.environ, REMISSION_DATABASE_URL=url)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "remission.service.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-server-header",
         "--timeout-keep-alive", "75"],  # longer than any client idle gap: no keep-alive close race
        env=env, cwd=tmp.name,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("server did not start", file=sys.stderr)
                return 2
            time.sleep(0.2)
        lat, by_kind, errors, acknowledged, wall = asyncio.run(
            _run(base, access, args.clients, args.requests, args.max_seconds, args.write_share,
                 warmup=not args.no_warmup))
        lost = _lost_writes(url, acknowledged)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        tmp.cleanup()
    ms = sorted(x * 1000 for x in lat)

    def pct(values, p):
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")

    db_kind = url.split(":", 1)[0]
    print(f"service load test: {db_kind}, {args.clients} concurrent clients, {len(ms)} of {args.requests} requests "
          f"in {wall:.1f} s ({len(ms) / wall:.0f} req/s)")
    print(f"latency ms: p50 {pct(ms, 50):.1f}  p90 {pct(ms, 90):.1f}  p95 {pct(ms, 95):.1f}  p99 {pct(ms, 99):.1f}  "
          f"max {ms[-1] if ms else float('nan'):.1f}  mean {statistics.fmean(ms) if ms else float('nan'):.1f}")
    for kind in sorted(by_kind):
        k = sorted(x * 1000 for x in by_kind[kind])
        print(f"  {kind:5s} n={len(k):5d}  p50 {pct(k, 50):.1f}  p95 {pct(k, 95):.1f}  max {k[-1]:.1f}")
    print(f"errors: {len(errors)}" + (f" (first: {errors[:5]})" if errors else ""))
    print(f"writes acknowledged: {len(acknowledged)}, lost: {len(lost)}" + (f" (first: {lost[:5]})" if lost else ""))
    return 1 if errors or lost or len(ms) < args.requests else 0


def _lost_writes(url: str, acknowledged: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The acknowledged writes (subject, finding date) whose row is not in the database."""
    from remission.service import db

    engine = db.make_engine(url, pool=False)
    try:
        with engine.connect() as conn:
            stored = {(sid, d.isoformat()) for sid, d in conn.execute(
                select(db.FindingRow.subject_id, db.FindingRow.date).where(db.FindingRow.finding == "symptoms"))}
    finally:
        engine.dispose()
    return sorted(set(acknowledged) - stored)


if __name__ == "__main__":
    sys.exit(main())
