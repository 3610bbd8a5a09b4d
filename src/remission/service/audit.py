"""The audit trail: every read and write of patient data (who, when, what, from where).

A record is committed at once, in its own short transaction (on the request's session, so a
request needs one database connection; the request's later work runs in a new
transaction), before the response is sent: it is kept even when the request's own work
fails or is rolled back.  Denied requests
(the 404 a user gets for a patient they may not see) are recorded too, with outcome
``not_found``.
"""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from remission.service.db import AuditRecord, utcnow

OUTCOMES = ("ok", "not_found", "rejected", "error")


def record(
    sessions: sessionmaker | Session,
    *,
    user=None,
    action: str,
    resource: str,
    subject_ids: Iterable[str | None] = (None,),
    outcome: str = "ok",
    client: str | None = None,
    detail: str | None = None,
) -> None:
    """Write one audit row per subject in ``subject_ids`` (a list access writes one row per
    patient listed, so that ``GET /api/audit?subject_id=X`` shows every access to X)."""
    now = utcnow()
    rows = [
        dict(
            at=now,
            user_id=getattr(user, "id", None),
            username=getattr(user, "username", None),
            role=getattr(user, "role", None),
            action=action,
            resource=resource[:255],
            subject_id=sid,
            outcome=outcome,
            client=(client or "")[:64] or None,
            detail=detail,
        )
        for sid in subject_ids
    ]
    if not rows:
        return
    if isinstance(sessions, Session):
        sessions.commit()  # end the request's read transaction first (nothing pending in it)
        sessions.execute(insert(AuditRecord), rows)
        sessions.commit()
        return
    with sessions() as session, session.begin():
        session.execute(insert(AuditRecord), rows)


def records(session: Session, subject_id: str | None = None, limit: int = 1000) -> list[dict]:
    """Audit rows, newest first (optionally of one subject)."""
    q = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if subject_id is not None:
        q = q.where(AuditRecord.subject_id == subject_id)
    out = []
    for r in session.scalars(q):
        out.append(
            dict(id=r.id, at=r.at.isoformat() + "Z", user_id=r.user_id, username=r.username, role=r.role,
                 action=r.action, resource=r.resource, subject_id=r.subject_id, outcome=r.outcome,
                 client=r.client, detail=r.detail)
        )
    return out
