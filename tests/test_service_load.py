"""Load (issue 18 item 6): the patient list is paginated, a list request writes one audit
row, the patient page's timeline is drawn once per patient version, and a bounded mixed
load (50 concurrent clients on 127.0.0.1: API reads, pages, 5 % writes) gets no error and
loses no acknowledged write.  No assertion on speed here: the latency figures come from
``benchmarks/bench_service.py``."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import httpx
from sqlalchemy import select

from test_service_fixtures import ACCOUNTS, PASSWORD, app, client, database_url, live_server, token_for  # noqa: F401


def test_patient_list_is_paginated(client):
    h = token_for(client, "admin")
    r = client.get("/api/patients?limit=20&sort=subject_id", headers=h)
    assert r.status_code == 200 and r.headers["X-Total-Count"] == "50"
    first = [p["subject_id"] for p in r.json()]
    assert first == [f"EX{i:02d}" for i in range(1, 21)]
    assert 'rel="next"' in r.headers["Link"] and "offset=20" in r.headers["Link"]
    pages, url = [first], r.headers["Link"].split(">")[0].lstrip("<")
    while url:
        r = client.get(url, headers=h)
        pages.append([p["subject_id"] for p in r.json()])
        url = r.headers["Link"].split(">")[0].lstrip("<") if "Link" in r.headers else None
    assert [len(p) for p in pages] == [20, 20, 10]
    assert sum(pages, []) == [f"EX{i:02d}" for i in range(1, 51)]
    assert len(client.get("/api/patients", headers=h).json()) == 50  # default page: 100
    # the list page pages too: 100 per page, so one page here
    cookie = {"Cookie": f"remission_session={h['Authorization'].split()[1]}"}
    assert "next page" not in client.get("/patients", headers=cookie).text


def test_timeline_is_drawn_once_per_patient_version(app, client):
    h = token_for(client, "doc1")
    cookie = {"Cookie": f"remission_session={h['Authorization'].split()[1]}"}
    cache = app.state.timelines
    first = client.get("/patients/EX02", headers=cookie)
    assert first.status_code == 200
    misses = cache.misses
    again = client.get("/patients/EX02", headers=cookie)
    assert again.text == first.text and cache.misses == misses  # served from the cache
    # a write re-derives the patient (new version): the page shows the new scan
    rows = [
        {"date": "2025-11-03", "lesion_id": "T1", "role": "target", "organ": "breast", "nodal": False, "diameter_mm": 20, "method": "CT"},
        {"date": "2025-11-03", "lesion_id": "T2", "role": "target", "organ": "liver", "nodal": False, "diameter_mm": 14, "method": "CT"},
    ]
    assert client.post("/api/patients/EX02/results", headers=h, json={"lesions": rows}).status_code == 201
    after = client.get("/patients/EX02", headers=cookie)
    assert cache.misses > misses and after.text != first.text and "2025-11-03" in after.text


CLIENTS = 50
REQUESTS = 300


def test_mixed_load_of_50_clients_has_no_error_and_loses_no_write(live_server):
    """50 concurrent clients, 300 requests: API reads, the list, pages and 5 % writes."""
    base = live_server.base
    access = {"admin": [f"EX{i:02d}" for i in range(1, 51)]}
    for name, (role, bound, assigned) in ACCOUNTS.items():
        if role != "admin":
            access[name] = [bound] if bound else list(assigned)
    rng = random.Random(18)

    async def main():
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as http:
            tokens = {}
            for name in access:
                r = await http.post("/api/token", data={"username": name, "password": PASSWORD})
                tokens[name] = r.json()["access_token"]
            plan = []
            for i in range(REQUESTS):
                user = rng.choice(list(access))
                sid = rng.choice(access[user])
                if i % 20 == 0:  # 5 % writes, by the admin or the patient's clinician
                    writer = "admin" if sid not in access["doc1"] else "doc1"
                    day = (dt.date(2021, 1, 1) + dt.timedelta(days=i)).isoformat()
                    plan.append(("POST", f"/api/patients/{sid}/results", tokens[writer],
                                 {"findings": [{"date": day, "finding": "symptoms", "value": "none"}]}, (sid, day)))
                    continue
                path = rng.choice([f"/api/patients/{sid}", f"/api/patients/{sid}/episodes", "/api/patients",
                                   f"/api/patients/{sid}/explanation", f"/patients/{sid}"])
                plan.append(("GET", path, tokens[user], None, None))
            queue: asyncio.Queue = asyncio.Queue()
            for item in plan:
                queue.put_nowait(item)
            outcomes: list[tuple] = []

            async def worker():
                while not queue.empty():
                    method, path, token, body, key = queue.get_nowait()
                    headers = ({"Cookie": f"remission_session={token}"} if path.startswith("/patients")
                               else {"Authorization": f"Bearer {token}"})
                    try:
                        r = await http.request(method, path, json=body, headers=headers)
                        outcomes.append((method, path, r.status_code, key))
                    except httpx.HTTPError as exc:
                        outcomes.append((method, path, type(exc).__name__, key))

            await asyncio.gather(*(worker() for _ in range(CLIENTS)))
            return outcomes

    outcomes = asyncio.run(main())
    assert len(outcomes) == REQUESTS
    bad = [o for o in outcomes if o[2] not in (200, 201)]
    assert not bad, bad[:10]
    acknowledged = {o[3] for o in outcomes if o[2] == 201}
    assert len(acknowledged) == REQUESTS // 20

    from remission.service import db

    with live_server.sessions() as s:
        stored = {(sid, d.isoformat()) for sid, d in s.execute(
            select(db.FindingRow.subject_id, db.FindingRow.date).where(db.FindingRow.finding == "symptoms",
                                                                       db.FindingRow.value == "none"))}
    assert acknowledged <= stored
