"""The FastAPI application of ``remission serve`` (contract: ``../shared/spec/service.md``).

``create_app(database_url=None)`` builds the app on ``database_url`` (else
``REMISSION_DATABASE_URL``, else ``sqlite:///remission.db``), migrating the database first.

Access rules, applied by every patient endpoint and page through :func:`_open_patient`:
an ``admin`` sees every patient, a ``clinician`` the patients assigned to them, a
``patient`` only their own subject.  A subject the user may not see answers **404**, the
same as a subject that does not exist, so the existence of other patients is not disclosed.
Every access to patient data (allowed or not) writes an audit row first.

Sign-in and access (:mod:`remission.service.auth`): failed sign-ins are audited and
throttled per account and per address (429 with ``Retry-After``); ``POST /api/logout``
revokes the caller's token; an inactive account's tokens stop working at once.  Behind a
reverse proxy, ``X-Forwarded-Proto``/``X-Forwarded-For`` are honoured only from the
addresses in ``trusted_proxies`` (``REMISSION_TRUSTED_PROXIES``, comma-separated IPs or
networks), so the session cookie is ``Secure`` when the proxy speaks TLS and the audit and
throttling see the real client address.

Load: the patient list is paginated (``limit``/``offset``, ``X-Total-Count`` and a
``Link: rel="next"`` header); a list request writes one audit row holding the ids it
returned; the patient page's timeline is rendered once per patient version and cached.

Subject ids may contain ``/`` (the patient routes take the rest of the path; the
sub-resources ``/assessments``, ``/episodes``, ``/explanation``, ``/results`` are matched
first).  A NUL character anywhere in the path or query is refused (422, audited).

Hardening: request bodies above ``max_body_bytes`` (5 MB) get 413; an unexpected error gives
a generic 500 JSON body with an ``error_id`` (the traceback is logged under that id, never
sent); security headers on every response; no caching of patient data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import urllib.parse
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any, Optional

import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordBearer
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from remission.errors import InputErrors
from remission.service import audit, auth, importer
from remission.service.db import AssessmentRow, EpisodeRow, Patient, User, make_engine, make_sessionmaker, upgrade

log = logging.getLogger("remission.service")

MAX_BODY_BYTES = 5 * 1024 * 1024
#: default and largest page of the patient list (``limit``)
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
TRUSTED_PROXIES_ENV = "REMISSION_TRUSTED_PROXIES"
COOKIE = "remission_session"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
DISCLAIMER = "This reports what the response criteria say the data show. It is not medical advice."

#: columns of the patient list (API and page), in order
LIST_COLUMNS = (
    "subject_id",
    "cancer_type",
    "criteria",
    "status",
    "status_date",
    "best_response",
    "confirmed_best_response",
    "next_followup_due",
)
SORTABLE = LIST_COLUMNS


# --------------------------------------------------------------------------------------
# Middleware: body size limit, security headers
# --------------------------------------------------------------------------------------


class BodyLimitMiddleware:
    """413 for a request body above ``max_bytes`` (declared length or bytes actually sent)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, "request body too large")
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await self._reject(send)

    async def _reject(self, send):
        body = orjson.dumps({"detail": f"request body larger than {self.max_bytes} bytes"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class SecurityHeadersMiddleware:
    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
        (b"content-security-policy",
         b"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.HEADERS if h[0] not in names]
            await send(message)

        await self.app(scope, receive, with_headers)


# --------------------------------------------------------------------------------------
# Request and response models (OpenAPI)
# --------------------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ResultsIn(BaseModel):
    """Rows to add for one patient: the columns of the tables contract (spec/tables.md);
    ``subject_id`` may be left out.  ``subject`` updates the patient's own row (e.g.
    ``last_contact_date``, ``death_date``)."""

    model_config = ConfigDict(extra="forbid")
    lesions: list[dict[str, Any]] = Field(default_factory=list)
    labs: list[dict[str, Any]] = Field(default_factory=list)
    findings: list[dict[str, Any]] = Field(default_factory=list)
    treatments: list[dict[str, Any]] = Field(default_factory=list)
    responses: list[dict[str, Any]] = Field(default_factory=list)
    subject: dict[str, Any] = Field(default_factory=dict)


class ExplanationOut(BaseModel):
    text: str


class LocatedError(BaseModel):
    """One located input error, as the command line reports it (spec/tables.md "Bad input")."""

    file: Optional[str] = Field(None, description="the table and origin, e.g. `labs (request)`, or `request`")
    row: Optional[int] = Field(None, description="1-based position in the posted list (or file row)")
    subject_id: Optional[str] = None
    column: Optional[str] = None
    value: Optional[str] = None
    expected: Optional[str] = None
    code: Optional[str] = None
    message: str


class LocatedErrors(BaseModel):
    """The body of every 422: the located errors."""

    detail: list[LocatedError]


class Detail(BaseModel):
    """The body of 401, 403, 404, 413 and 429 answers."""

    detail: str


class InternalError(BaseModel):
    detail: str
    error_id: str


#: status codes every authenticated API route may answer (declared in the OpenAPI document)
_ERR = {
    401: {"model": Detail, "description": "no valid bearer token"},
    413: {"model": Detail, "description": "request body larger than the limit (5 MB)"},
    422: {"model": LocatedErrors, "description": "bad input: located errors"},
    500: {"model": InternalError, "description": "unexpected error (details logged under error_id)"},
}
_ERR_PATIENT = {**_ERR, 404: {"model": Detail, "description": "no such patient, or one the caller may not see"}}
_ERR_WRITE = {**_ERR_PATIENT, 403: {"model": Detail, "description": "the caller's role may not add results"}}
_ERR_ADMIN = {**_ERR, 403: {"model": Detail, "description": "admin only"}}


class HealthOut(BaseModel):
    status: str


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status_code=status_code, media_type="application/json")


def _raw_json_list(items: list[str]) -> Response:
    """A JSON array from already-encoded JSON objects (stored rows), without re-encoding."""
    return Response("[" + ",".join(items) + "]", media_type="application/json")


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _resource(request: Request) -> str:
    q = f"?{request.url.query}" if request.url.query else ""
    return f"{request.method} {request.url.path}{q}"


def _validation_payload(exc: RequestValidationError) -> dict:
    """FastAPI's request validation errors in the located-errors shape of every 422."""
    out = []
    for e in exc.errors():
        loc = [str(x) for x in e.get("loc", ())]
        value = e.get("input")
        out.append({"file": "request", "row": None, "subject_id": None,
                    "column": ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else None),
                    "value": None if value is None or isinstance(value, (dict, list)) else str(value)[:200],
                    "expected": e.get("msg"), "code": e.get("type"), "message": f"{'.'.join(loc)}: {e.get('msg')}"})
    return {"detail": out}


def _has_nul(scope) -> bool:
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")
    return (b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope.get("path", "")
            or b"\x00" in query or b"%00" in query.lower())


def trusted_proxies(value: str | None = None) -> list[str]:
    """The addresses whose ``X-Forwarded-*`` headers are believed (``value``, else
    ``REMISSION_TRUSTED_PROXIES``; comma-separated IPs or networks; empty: none)."""
    value = os.environ.get(TRUSTED_PROXIES_ENV, "") if value is None else value
    return [x.strip() for x in value.split(",") if x.strip()]


class _LRU:
    """A small thread-safe LRU mapping (rendered timelines per patient version)."""

    def __init__(self, size: int = 256):
        self.size = size
        self.data: "OrderedDict[tuple, Any]" = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                self.hits += 1
                return self.data[key]
            self.misses += 1
            return None

    def put(self, key, value) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


def _input_errors_payload(exc: InputErrors) -> dict:
    return {
        "detail": [
            {"file": e.file, "row": e.row, "subject_id": e.subject_id, "column": e.column, "value": e.value,
             "expected": e.expected, "code": e.code, "message": str(e)}
            for e in exc.errors
        ]
    }


# --------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------


def create_app(database_url: str | None = None, *, migrate: bool = True, max_body_bytes: int = MAX_BODY_BYTES,
               proxies: str | list[str] | None = None) -> FastAPI:
    """The web service on ``database_url`` (see :func:`remission.service.db.database_url`);
    the database is migrated to the latest schema first unless ``migrate=False``.
    ``proxies``: the trusted reverse proxies (see :func:`trusted_proxies`)."""
    if migrate:
        upgrade(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    app = FastAPI(
        title="remission",
        version="0.1.0",
        description="Standards-based, explainable remission status from cancer test results over time. "
        "It reports what the response criteria say the data show; it never gives treatment advice.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.timelines = _LRU()
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    proxy_list = trusted_proxies(",".join(proxies) if isinstance(proxies, list) else proxies)
    app.state.trusted_proxies = proxy_list
    if proxy_list:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # outermost: the scheme and client address are set before anything else runs
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxy_list)

    @app.middleware("http")
    async def _refuse_nul(request: Request, call_next):
        """A NUL character in the path or query can be stored by neither database: 422."""
        if _has_nul(request.scope):
            body = {"detail": [{"file": "request", "row": None, "subject_id": None, "column": "path or query",
                                "value": None, "expected": "text without NUL characters", "code": "nul_character",
                                "message": "request: the path or query contains a NUL character"}]}
            resource = f"{request.method} {request.scope.get('raw_path', b'').decode('latin-1')}"
            await run_in_threadpool(audit.record, sessions, action="request", resource=resource, outcome="rejected",
                                    client=_client(request), detail="NUL character in path or query")
            return _json(body, 422)
        return await call_next(request)

    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)

    # ---------------------------------------------------------------- errors
    @app.exception_handler(InputErrors)
    async def _input_errors(_request: Request, exc: InputErrors):
        return _json(_input_errors_payload(exc), 422)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):
        sid = request.path_params.get("subject_id") if request.path_params else None
        await run_in_threadpool(audit.record, sessions, action="request", resource=_resource(request),
                                subject_ids=[sid], outcome="rejected", client=_client(request),
                                detail=f"{len(exc.errors())} invalid parameter(s)")
        return _json(_validation_payload(exc), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        error_id = uuid.uuid4().hex
        log.error("error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
        return _json({"detail": "internal server error", "error_id": error_id}, 500)

    # ---------------------------------------------------------------- dependencies
    def db_session():
        with sessions() as session:
            yield session

    def api_user(token: Optional[str] = Depends(oauth2), session: Session = Depends(db_session)) -> User:
        user = auth.user_for_token(session, token)
        if user is None:
            raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        session.expunge(user)
        return user

    def page_user(request: Request, session: Session) -> User | None:
        return auth.user_for_token(session, request.cookies.get(COOKIE))

    def record(request: Request, session: Session | None, user: User | None, action: str, subject_ids,
               outcome: str = "ok", detail: str | None = None, listed=None, username: str | None = None):
        audit.record(session if session is not None else sessions, user=user, action=action, resource=_resource(request), subject_ids=subject_ids,
                     outcome=outcome, client=_client(request), detail=detail, listed=listed, username=username)

    def sign_in_user(request: Request, session: Session, username: str, password: str):
        """(user or None, seconds to wait): throttled, audited sign-in (auth.sign_in_wait)."""
        wait = auth.sign_in_wait(session, username, _client(request))
        if wait:
            session.rollback()
            record(request, session, None, "sign_in", [None], "throttled", f"retry after {wait} s", username=username)
            return None, wait
        user = auth.authenticate(session, username, password)
        if user is None:
            session.rollback()
            record(request, session, None, "sign_in", [None], "rejected", "bad username or password", username=username)
            return None, 0
        tok = auth.issue_token(session, user)
        session.commit()
        record(request, session, user, "sign_in", [None], "ok")
        return (user, tok), 0

    def open_patient(request: Request, session: Session, user: User, subject_id: str, action: str = "read") -> Patient | None:
        """The patient if ``user`` may see them (audited either way), else ``None``."""
        allowed = auth.may_see(session, user, subject_id)
        record(request, session, user, action, [subject_id], "ok" if allowed else "not_found")
        return session.get(Patient, subject_id) if allowed else None

    def require_patient(request: Request, session: Session, user: User, subject_id: str, action: str = "read") -> Patient:
        p = open_patient(request, session, user, subject_id, action)
        if p is None:
            raise HTTPException(404, "no such patient")
        return p

    def visible_patients(session: Session, user: User, *, status: str | None, q: str | None, sort: str, order: str,
                         overdue: bool | None = None, today: dt.date | None = None,
                         limit: int | None = None, offset: int = 0, count: bool = False):
        """The visible patients matching the filters, sorted; with ``limit``/``offset`` one
        page; with ``count`` also the number of all matching patients."""
        stmt = select(Patient).where(auth.visible_subjects_clause(user))
        if status:
            stmt = stmt.where(Patient.status == status)
        if q:
            stmt = stmt.where(Patient.subject_id.contains(q, autoescape=True))
        if overdue is not None:
            today = today or dt.date.today()
            is_overdue = (Patient.next_followup_due < today) & (Patient.death_date.is_(None))
            stmt = stmt.where(is_overdue if overdue else ~is_overdue | Patient.next_followup_due.is_(None))
        col = getattr(Patient, sort if sort in SORTABLE else "subject_id")
        key = col.desc() if order == "desc" else col.asc()
        stmt = stmt.order_by(key.nulls_last(), Patient.subject_id)
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) if count else None
        if limit is not None:
            stmt = stmt.limit(limit).offset(offset)
        rows = list(session.scalars(stmt))
        return (rows, total) if count else rows

    def list_item(p: Patient, today: dt.date) -> dict:
        item = {c: getattr(p, c) for c in LIST_COLUMNS}
        item["overdue"] = bool(p.next_followup_due and p.next_followup_due < today and p.death_date is None)
        return item

    # ---------------------------------------------------------------- API
    @app.post("/api/token", response_model=TokenOut, tags=["auth"], responses={
        401: {"model": Detail, "description": "bad username or password"},
        422: {"model": LocatedErrors, "description": "missing form fields"},
        429: {"model": Detail, "description": "too many failed sign-ins for this account or address; see Retry-After"}})
    def token(request: Request, username: str = Form(..., max_length=1024), password: str = Form(..., max_length=1024),
              session: Session = Depends(db_session)):
        """A bearer token for a username and password (form fields); 401 on bad credentials,
        429 (with ``Retry-After``) after too many failed sign-ins."""
        got, wait = sign_in_user(request, session, username, password)
        if wait:
            raise HTTPException(429, "too many failed sign-ins: try again later", headers={"Retry-After": str(wait)})
        if got is None:
            raise HTTPException(401, "bad username or password", headers={"WWW-Authenticate": "Bearer"})
        return {"access_token": got[1], "token_type": "bearer"}

    @app.post("/api/logout", status_code=204, tags=["auth"], responses={401: _ERR[401]})
    def logout(request: Request, token: Optional[str] = Depends(oauth2), session: Session = Depends(db_session)):
        """Revoke the caller's bearer token (it stops working at once); 204."""
        user = auth.user_for_token(session, token)
        if user is None:
            raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
        auth.revoke_token(session, token)
        session.commit()
        record(request, session, user, "sign_out", [None])
        return Response(status_code=204)

    @app.get("/api/health", response_model=HealthOut, tags=["service"], responses={503: {"model": HealthOut, "description": "the database does not answer"}})
    def health(session: Session = Depends(db_session)):
        """``{"status": "ok"}`` when the database answers, else 503."""
        try:
            session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return _json({"status": "unavailable"}, 503)
        return {"status": "ok"}

    @app.get("/api/patients", tags=["patients"], responses=_ERR)
    def list_patients(
        request: Request,
        status: Optional[str] = Query(None, description="only this lifecycle status"),
        q: Optional[str] = Query(None, max_length=64, description="subject id contains"),
        sort: str = Query("subject_id", description=f"one of {', '.join(SORTABLE)}"),
        order: str = Query("asc", pattern="^(asc|desc)$"),
        overdue: Optional[bool] = Query(None, description="only (un)overdue follow-ups"),
        limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="page size"),
        offset: int = Query(0, ge=0, description="patients to skip"),
        user: User = Depends(api_user),
        session: Session = Depends(db_session),
    ):
        """The patients the caller may see: admin all, clinician assigned, patient self; one
        page (``limit``, ``offset``); ``X-Total-Count`` gives the number of all matching
        patients and ``Link: <...>; rel="next"`` the next page when there is one."""
        today = dt.date.today()
        rows, total = visible_patients(session, user, status=status, q=q, sort=sort, order=order, overdue=overdue,
                                       today=today, limit=limit, offset=offset, count=True)
        record(request, session, user, "list", [None], listed=[p.subject_id for p in rows])
        resp = _json([list_item(p, today) for p in rows])
        resp.headers["X-Total-Count"] = str(total)
        if offset + len(rows) < total:
            params = dict(request.query_params)
            params.update(offset=str(offset + limit), limit=str(limit))
            resp.headers["Link"] = f'<{request.url.path}?{urllib.parse.urlencode(params)}>; rel="next"'
        return resp

    @app.get("/api/cohort", tags=["patients"], responses=_ERR)
    def cohort(request: Request, user: User = Depends(api_user), session: Session = Depends(db_session)):
        """Cohort statistics over the patients the caller may see: counts by status, best
        and confirmed best response, overdue follow-ups."""
        today = dt.date.today()
        rows = visible_patients(session, user, status=None, q=None, sort="subject_id", order="asc")
        record(request, session, user, "list", [None], listed=[p.subject_id for p in rows])

        def counts(attr):
            out: dict[str, int] = {}
            for p in rows:
                k = getattr(p, attr) or "missing"
                out[k] = out.get(k, 0) + 1
            return dict(sorted(out.items()))

        return _json({
            "patients": len(rows),
            "by_status": counts("status"),
            "by_best_response": counts("best_response"),
            "by_confirmed_best_response": counts("confirmed_best_response"),
            "overdue_followups": sum(1 for p in rows if list_item(p, today)["overdue"]),
        })

    @app.get("/api/patients/{subject_id:path}/assessments", tags=["patients"], responses=_ERR_PATIENT)
    def patient_assessments(subject_id: str, request: Request, user: User = Depends(api_user),
                            session: Session = Depends(db_session)):
        """The ``assessments`` rows, by date."""
        require_patient(request, session, user, subject_id)
        rows = session.scalars(select(AssessmentRow.data).where(AssessmentRow.subject_id == subject_id).order_by(AssessmentRow.seq))
        return _raw_json_list(list(rows))

    @app.get("/api/patients/{subject_id:path}/warnings", tags=["patients"], responses=_ERR_PATIENT)
    def patient_warnings(subject_id: str, request: Request, user: User = Depends(api_user),
                         session: Session = Depends(db_session)):
        """The ``warnings`` rows of the patient (``subject_id, date, criteria, warning``, one
        per warning code of an assessment row, e.g. ``CR_THEN_PR``), by date; an addition
        to the service contract, the same rows as ``warnings.csv``."""
        require_patient(request, session, user, subject_id)
        rows = session.scalars(select(AssessmentRow.data).where(AssessmentRow.subject_id == subject_id).order_by(AssessmentRow.seq))
        out = []
        for raw in rows:
            a = orjson.loads(raw)
            for part in (a.get("warnings") or "").replace(",", ";").split(";"):
                code = part.strip()
                item = {"subject_id": a.get("subject_id"), "date": a.get("date"), "criteria": a.get("criteria"), "warning": code}
                if code and item not in out:
                    out.append(item)
        return _json(sorted(out, key=lambda w: (str(w["date"]), w["warning"])))

    @app.get("/api/patients/{subject_id:path}/episodes", tags=["patients"], responses=_ERR_PATIENT)
    def patient_episodes(subject_id: str, request: Request, user: User = Depends(api_user),
                         session: Session = Depends(db_session)):
        """The ``episodes`` rows, by episode number."""
        require_patient(request, session, user, subject_id)
        rows = session.scalars(select(EpisodeRow.data).where(EpisodeRow.subject_id == subject_id).order_by(EpisodeRow.seq))
        return _raw_json_list(list(rows))

    @app.get("/api/patients/{subject_id:path}/explanation", response_model=ExplanationOut, tags=["patients"],
             responses=_ERR_PATIENT)
    def patient_explanation(subject_id: str, request: Request, user: User = Depends(api_user),
                            session: Session = Depends(db_session)):
        """``{"text": ...}``: the plain-language summary (remission.explain)."""
        require_patient(request, session, user, subject_id)
        return {"text": _explanation(session, subject_id)}

    @app.post("/api/patients/{subject_id:path}/results", status_code=201, tags=["patients"], responses=_ERR_WRITE)
    def add_results(subject_id: str, body: ResultsIn, request: Request, user: User = Depends(api_user),
                    session: Session = Depends(db_session)):
        """Add lesion, lab, finding, treatment or response rows for the patient (admin or
        assigned clinician) and derive the patient's whole history again.  422 with
        located errors (as the command line reports them) on bad input; nothing is kept."""
        p = open_patient(request, session, user, subject_id, "write")
        if p is None:
            raise HTTPException(404, "no such patient")
        if user.role not in ("admin", "clinician"):
            record(request, session, user, "write", [subject_id], "rejected", "role may not write")
            raise HTTPException(403, "only an admin or the patient's clinician may add results")
        session.close()
        payload = body.model_dump(exclude_defaults=True)
        try:
            out = importer.add_results(sessions, subject_id, payload)
        except InputErrors as exc:
            record(request, None, user, "write", [subject_id], "rejected", f"{len(exc.errors)} input error(s)")
            raise
        record(request, None, user, "write", [subject_id], "ok",
               ", ".join(f"{k}: {v}" for k, v in out["added"].items() if v) or "subject row")
        return _json(out, 201)

    @app.get("/api/patients/{subject_id:path}", tags=["patients"], responses=_ERR_PATIENT)
    def patient_summary(subject_id: str, request: Request, user: User = Depends(api_user),
                        session: Session = Depends(db_session)):
        """The ``summary`` row of the tables contract."""
        p = require_patient(request, session, user, subject_id)
        return Response(p.summary or "{}", media_type="application/json")

    @app.get("/api/audit", tags=["service"], responses=_ERR_ADMIN)
    def audit_records(request: Request, subject_id: Optional[str] = None,
                      limit: int = Query(1000, ge=1, le=100000),
                      user: User = Depends(api_user), session: Session = Depends(db_session)):
        """The audit records (admin only), newest first; ``subject_id`` selects one patient's."""
        if user.role != "admin":
            raise HTTPException(403, "admin only")
        rows = audit.records(session, subject_id, limit)
        record(request, session, user, "audit", [subject_id])
        return _json(rows)

    render_lock = threading.Lock()  # one drawing at a time (CPU-bound; matplotlib state)
    key_locks: dict[tuple, threading.Lock] = {}
    key_locks_guard = threading.Lock()

    def page_parts(session: Session, subject_id: str, version: int, today: dt.date) -> tuple:
        """What the patient page shows that is derived from the stored result: the timeline
        (inline SVG with a title) and its text alternative, the plain-language summary and
        the page's dates (issue 15), made once per patient version and day; concurrent
        requests for the same version wait for the one drawing instead of drawing it again
        (issue 18 item 6), and matplotlib draws one figure at a time."""
        from remission.explain import patient_dates
        from remission.explain import patient_summary as explain

        key = (str(engine.url), subject_id, version, "page", today)
        parts = app.state.timelines.get(key)
        if parts is not None:
            return parts
        with key_locks_guard:
            lock = key_locks.setdefault(key, threading.Lock())
        with lock:
            parts = app.state.timelines.get(key)
            if parts is None:
                result = importer.patient_result(session, subject_id)
                plot, plot_note, words = None, None, []
                try:
                    from remission.report.html import _inline_svg
                    from remission.report.plots import patient_timeline, timeline_text
                except ImportError:
                    plot_note = "The timeline plot is not available in this installation."
                else:
                    treatments = importer.patient_dataset(session, subject_id).treatments
                    with render_lock:
                        svg = patient_timeline(result, subject_id, fmt="svg", treatments=treatments)
                    words = timeline_text(result, subject_id)
                    plot = _inline_svg(svg, "timeline", title=f"Timeline of {subject_id}: test results, responses and remissions")
                parts = (plot, plot_note, words, explain(result, subject_id, today=today),
                         patient_dates(result, subject_id, today=today))
                app.state.timelines.put(key, parts)
        with key_locks_guard:
            key_locks.pop(key, None)
        return parts

    def _explanation(session: Session, subject_id: str) -> str:
        """The plain-language summary, written once per patient version (cached)."""
        from remission.explain import patient_summary as explain

        version = session.scalar(select(Patient.version).where(Patient.subject_id == subject_id))
        key = (str(engine.url), subject_id, version, "explanation")
        text_ = app.state.timelines.get(key)
        if text_ is None:
            text_ = explain(importer.patient_result(session, subject_id), subject_id)
            app.state.timelines.put(key, text_)
        return text_

    # ---------------------------------------------------------------- FHIR
    _add_fhir(app, sessions, db_session, api_user, open_patient)

    # ---------------------------------------------------------------- pages
    def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        context.setdefault("user", None)
        context.setdefault("disclaimer", DISCLAIMER)
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)

    def home_of(user: User) -> str:
        return f"/patients/{user.subject_id}" if user.role == "patient" else "/patients"

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def sign_in_page(request: Request, session: Session = Depends(db_session)):
        user = page_user(request, session)
        if user is not None:
            return RedirectResponse(home_of(user), status_code=303)
        return page(request, "login.html")

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    def sign_in(request: Request, username: str = Form(""), password: str = Form(""),
                session: Session = Depends(db_session)):
        got, wait = sign_in_user(request, session, username[:1024], password[:1024])
        if wait:
            resp = page(request, "login.html", 429, error=f"Too many failed sign-ins. Try again in {wait} seconds.",
                        username=username[:150])
            resp.headers["Retry-After"] = str(wait)
            return resp
        if got is None:
            return page(request, "login.html", 401, error="Unknown username or wrong password.", username=username[:150])
        user, tok = got
        resp = RedirectResponse(home_of(user), status_code=303)
        resp.set_cookie(COOKIE, tok, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(auth.token_ttl().total_seconds()), path="/")
        return resp

    @app.post("/logout", include_in_schema=False)
    def sign_out(request: Request, session: Session = Depends(db_session)):
        tok = request.cookies.get(COOKIE)
        if tok:
            user = auth.user_for_token(session, tok)
            auth.revoke_token(session, tok)
            session.commit()
            if user is not None:
                record(request, session, user, "sign_out", [None])
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/patients", response_class=HTMLResponse, include_in_schema=False)
    def patients_page(request: Request, status: str = "", q: str = Query("", max_length=64),
                      sort: str = "next_followup_due", order: str = Query("asc", pattern="^(asc|desc)$"),
                      page_no: int = Query(1, ge=1, alias="page"), session: Session = Depends(db_session)):
        user = page_user(request, session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        if user.role == "patient":
            return RedirectResponse(home_of(user), status_code=303)
        today = dt.date.today()
        rows, total = visible_patients(session, user, status=status or None, q=q or None, sort=sort, order=order,
                                       today=today, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE, count=True)
        record(request, session, user, "list", [None], listed=[p.subject_id for p in rows])
        pages = max(1, -(-total // PAGE_SIZE))
        statuses = sorted(s for s in session.scalars(
            select(Patient.status).where(auth.visible_subjects_clause(user)).distinct()) if s)
        return page(request, "patients.html", user=user, rows=[list_item(p, today) for p in rows], status=status, q=q,
                    sort=sort if sort in SORTABLE else "subject_id", order=order, statuses=statuses,
                    columns=LIST_COLUMNS, today=today, page_no=page_no, pages=pages, total=total,
                    labels={"status_date": "results up to"})

    @app.get("/patients/{subject_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def patient_page(subject_id: str, request: Request, session: Session = Depends(db_session)):
        user = page_user(request, session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        p = open_patient(request, session, user, subject_id)
        if p is None:
            return page(request, "not_found.html", 404, user=user)
        summary = importer.loads(p.summary) or {}
        episodes = [orjson.loads(d) for d in session.scalars(
            select(EpisodeRow.data).where(EpisodeRow.subject_id == subject_id).order_by(EpisodeRow.seq))]
        assessments = [orjson.loads(d) for d in session.scalars(
            select(AssessmentRow.data).where(AssessmentRow.subject_id == subject_id).order_by(AssessmentRow.seq))]
        from remission.explain import GLOSSARY
        from remission.report.plots import criterion_label

        today = dt.date.today()
        plot, plot_note, timeline_words, explanation, dates = page_parts(session, subject_id, p.version, today)
        paragraphs = [x for x in explanation.split("\n\n") if x.strip()]
        glossary: list[tuple[str, str]] = []
        if user.role == "patient":  # the definitions go into their own list, once
            glossary = [(k.capitalize(), v) for k, v in GLOSSARY.items() if v in explanation]
            paragraphs = [x for x in paragraphs if not x.startswith("Words used here:")]
        from markupsafe import Markup

        from remission.explain.summary import html_paragraph

        paragraphs = [Markup(html_paragraph(x)) for x in paragraphs]
        return page(request, "patient.html", user=user, p=p, summary=summary, episodes=episodes,
                    assessments=assessments, plot=plot, plot_note=plot_note, explanation=explanation,
                    paragraphs=paragraphs, glossary=glossary, timeline_text=timeline_words,
                    dates=dates, criteria_label=criterion_label(summary.get("criteria")))

    return app


def _add_fhir(app: FastAPI, sessions, db_session, api_user, open_patient) -> None:
    """``GET /fhir/Observation?subject=...``: the patient's mCODE CancerDiseaseStatus
    Observations (remission.fhir.export), under the same access rules as the API."""
    try:
        from remission.fhir.export import observations_for_subject  # noqa: F401
    except ImportError:
        return

    @app.get("/fhir/Observation", tags=["fhir"], responses=_ERR_PATIENT)
    def fhir_observations(request: Request, subject: str = Query(..., description="Patient/ID or ID"),
                          user: User = Depends(api_user), session: Session = Depends(db_session)):
        """A FHIR searchset Bundle of the patient's CancerDiseaseStatus Observations."""
        from remission.fhir.export import observations_for_subject

        subject_id = subject.split("/", 1)[1] if subject.startswith("Patient/") else subject
        if open_patient(request, session, user, subject_id) is None:
            raise HTTPException(404, "no such patient")
        result = importer.patient_result(session, subject_id)
        obs = observations_for_subject(result, subject_id)
        entries = []
        for o in obs:
            res = o.model_dump(mode="json", exclude_none=True) if hasattr(o, "model_dump") else o
            entries.append({"resource": res, "search": {"mode": "match"}})
        bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
        return Response(orjson.dumps(bundle), media_type="application/fhir+json")
