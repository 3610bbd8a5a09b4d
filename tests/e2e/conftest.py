"""Small builders for the end-to-end tests of issue 13.

Every case is written in days from a fixed day 0 (``D0``) so that the intervals the specs
talk about (28-day confirmation, 42/56-day SD minimum, ...) can be read off the test.
Day 0 is the start of the first active treatment (the reference start, spec/tables.md
"summary"), unless a test says otherwise.

Tests get the builders through the fixture ``b``. Only the public API is used: ``remission.assess`` with data frames and ``AssessOptions``.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import polars as pl
import pytest

from remission import AssessOptions, assess

D0 = dt.date(2024, 1, 1)

LESION_COLS = [
    "subject_id", "date", "lesion_id", "role", "organ", "nodal",
    "diameter_mm", "perpendicular_mm", "status", "method",
]


def day(n: int | None) -> dt.date | None:
    """The calendar date ``n`` days after day 0."""
    return None if n is None else D0 + dt.timedelta(days=n)


def iso(n: int | None) -> str | None:
    return None if n is None else day(n).isoformat()


def les(
    sid: str,
    d: int,
    lid: str,
    role: str = "target",
    diam: float | None = None,
    perp: float | None = None,
    status: str | None = None,
    organ: str = "liver",
    nodal: bool = False,
    method: str = "CT",
    **extra: Any,
) -> dict:
    """One lesions row (spec/tables.md "lesions")."""
    row = {
        "subject_id": sid, "date": iso(d), "lesion_id": lid, "role": role, "organ": organ,
        "nodal": "true" if nodal else "false",
        "diameter_mm": None if diam is None else str(diam),
        "perpendicular_mm": None if perp is None else str(perp),
        "status": status, "method": method,
    }
    for k, v in extra.items():
        row[k] = None if v is None else str(v)
    return row


def target_series(sid: str, days_values: list[tuple[int, Any]], lid: str = "T1", **kw) -> list[dict]:
    """Rows of one target lesion: ``[(day, diameter or status string), ...]``."""
    rows = []
    for d, v in days_values:
        if isinstance(v, str):
            rows.append(les(sid, d, lid, "target", status=v, **kw))
        else:
            rows.append(les(sid, d, lid, "target", diam=v, **kw))
    return rows


def finding(sid: str, d: int, code: str, value: Any) -> dict:
    return {"subject_id": sid, "date": iso(d), "finding": code, "value": str(value)}


def treatment(
    sid: str,
    start: int = 0,
    end: int | None = 14,
    modality: str = "chemotherapy",
    intent: str | None = None,
    line: int | None = None,
    name: str | None = None,
) -> dict:
    return {
        "subject_id": sid, "start_date": iso(start), "end_date": iso(end), "modality": modality,
        "intent": intent, "line": None if line is None else str(line), "name": name,
    }


def subject(sid: str, criteria: str, cancer_type: str | None = None, death: int | None = None) -> dict:
    return {
        "subject_id": sid, "cancer_type": cancer_type, "criteria": criteria,
        "diagnosis_date": iso(-60), "death_date": iso(death), "last_contact_date": None,
    }


def _frame(rows: list[dict] | None) -> pl.DataFrame | None:
    if not rows:
        return None
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return pl.DataFrame([{c: r.get(c) for c in cols} for r in rows], schema={c: pl.Utf8 for c in cols})


def run(
    subjects: list[dict],
    lesions: list[dict] | None = None,
    treatments: list[dict] | None = None,
    findings: list[dict] | None = None,
    as_of: int | None = None,
    **options: Any,
):
    """``assess`` on the given rows; ``options`` are ``AssessOptions`` fields."""
    if as_of is not None:
        options["as_of"] = day(as_of)
    frames = {
        "subjects": _frame(subjects),
        "lesions": _frame(lesions),
        "treatments": _frame(treatments),
        "findings": _frame(findings),
    }
    return assess(options=AssessOptions(**options), **{k: v for k, v in frames.items() if v is not None})


def summary(r, sid: str) -> dict:
    rows = r.summary.filter(pl.col("subject_id") == sid).to_dicts()
    assert len(rows) == 1, f"summary rows for {sid}: {rows}"
    return rows[0]


def episodes(r, sid: str) -> list[dict]:
    return r.episodes.filter(pl.col("subject_id") == sid).sort("episode").to_dicts()


def row(r, sid: str, d: int) -> dict:
    rows = r.assessments.filter((pl.col("subject_id") == sid) & (pl.col("date") == day(d))).to_dicts()
    assert len(rows) == 1, f"assessment rows for {sid} day {d}: {rows}"
    return rows[0]


@pytest.fixture
def b():
    """These builders, as one namespace (``b.les``, ``b.run``, ``b.summary`` ...)."""
    return sys.modules[__name__]
