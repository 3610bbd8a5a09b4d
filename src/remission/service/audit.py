"""The audit trail: every read and write of patient data (who, when, what, from where).

A record is committed at once, in its own short transaction (on the request's session, so a
request needs one database connection; the request's later work runs in a new
transaction), before the response is sent: it is kept even when the request's own work
fails or is rolled back.  Denied requests
(the 404 a user gets for a patient they may not see) are recorded too, with outcome
``not_found``.

A list request (``GET /api/patients``, ``/api/cohort``, the list page) writes **one** row
whose ``subject_ids`` holds the ids it returned (JSON array), not one row per patient;
:func:`records` of one subject finds those rows too.  Sign-ins (``sign_in``: ``ok`` or
``rejected``, with the username tried and the client address), sign-outs and account
changes are recorded with ``subject_id`` null.
"""

from __future__ import annotations

from typing import Iterable

import orjson
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from remission.service.db import AuditRecord, utcnow

OUTCOMES = ("ok", "not_found", "rejected", "throttled", "error")


def _clean(text: str | None, size: int | None = None) -> str | None:
    """Text as both databases can store it: NUL characters shown as ``\\0``, cut to ``size``."""
    if text is None:
        return None
    text = text.replace("\x00", "\\0")
    return text[:size] if size else text


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
    listed: Iterable[str] | None = None,
    username: str | None = None,
) -> None:
    """Write one audit row per subject in ``subject_ids``; with ``listed`` (a list request)
    one row holding every id listed.  ``username`` names the account tried when there is no
    ``user`` (a failed sign-in)."""
    now = utcnow()
    if listed is not None:
        subject_ids = [None]
    listed_json = None if listed is None else orjson.dumps(list(listed)).decode()
    rows = [
        dict(
            at=now,
            user_id=getattr(user, "id", None),
            username=_clean(getattr(user, "username", None) or username or "", 150) or None,
            role=getattr(user, "role", None),
            action=action,
            resource=_clean(resource, 255),
            subject_id=sid,
            outcome=outcome,
            client=_clean(client or "", 64) or None,
            detail=_clean(detail),
            subject_ids=listed_json,
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
        listed = '%' + orjson.dumps(subject_id).decode().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '%'
        q = q.where(or_(AuditRecord.subject_id == subject_id,
                        AuditRecord.subject_ids.like(listed, escape="\\")))
    out = []
    for r in session.scalars(q):
        out.append(
            dict(id=r.id, at=r.at.isoformat() + "Z", user_id=r.user_id, username=r.username, role=r.role,
                 action=r.action, resource=r.resource, subject_id=r.subject_id, outcome=r.outcome,
                 client=r.client, detail=r.detail,
                 subject_ids=None if r.subject_ids is None else orjson.loads(r.subject_ids))
        )
    return out
