"""The FastAPI application of ``remission serve`` (contract: ``../shared/spec/service.md``).

``create_app(database_url=None)`` builds the app on ``database_url`` (else
``REMISSION_DATABASE_URL``, else ``sqlite:///remission.db``), migrating the database first.

Access rules, applied by every patient endpoint and page through :func:`_open_patient`:
an ``admin`` sees every patient, a ``clinician`` the patients assigned to them, a
``patient`` only their own subject.  A subject the user may not see answers **404**, the
same as a subject that does not exist, so the existence of other patients is not disclosed.
Every access to patient data (allowed or not) writes an audit row first.

Hardening: request bodies above ``max_body_bytes`` (5 MB) get 413; an unexpected error gives
a generic 500 JSON body with an ``error_id`` (the traceback is logged under that id, never
sent); security headers on every response; no caching of patient data.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path
from typing import Any, Optional

import orjson
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
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


def create_app(database_url: str | None = None, *, migrate: bool = True, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The web service on ``database_url`` (see :func:`remission.service.db.database_url`);
    the database is migrated to the latest schema first unless ``migrate=False``."""
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
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)

    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)

    # ---------------------------------------------------------------- errors
    @app.exception_handler(InputErrors)
    async def _input_errors(_request: Request, exc: InputErrors):
        return _json(_input_errors_payload(exc), 422)

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
               outcome: str = "ok", detail: str | None = None):
        audit.record(session if session is not None else sessions, user=user, action=action, resource=_resource(request), subject_ids=subject_ids,
                     outcome=outcome, client=_client(request), detail=detail)

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
                         overdue: bool | None = None, today: dt.date | None = None) -> list[Patient]:
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
        return list(session.scalars(stmt))

    def list_item(p: Patient, today: dt.date) -> dict:
        item = {c: getattr(p, c) for c in LIST_COLUMNS}
        item["overdue"] = bool(p.next_followup_due and p.next_followup_due < today and p.death_date is None)
        return item

    # ---------------------------------------------------------------- API
    @app.post("/api/token", response_model=TokenOut, tags=["auth"])
    def token(username: str = Form(...), password: str = Form(...), session: Session = Depends(db_session)):
        """A bearer token for a username and password (form fields); 401 on bad credentials."""
        user = auth.authenticate(session, username, password)
        if user is None:
            raise HTTPException(401, "bad username or password", headers={"WWW-Authenticate": "Bearer"})
        tok = auth.issue_token(session, user)
        session.commit()
        return {"access_token": tok, "token_type": "bearer"}

    @app.get("/api/health", response_model=HealthOut, tags=["service"])
    def health(session: Session = Depends(db_session)):
        """``{"status": "ok"}`` when the database answers, else 503."""
        try:
            session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return _json({"status": "unavailable"}, 503)
        return {"status": "ok"}

    @app.get("/api/patients", tags=["patients"])
    def list_patients(
        request: Request,
        status: Optional[str] = Query(None, description="only this lifecycle status"),
        q: Optional[str] = Query(None, max_length=64, description="subject id contains"),
        sort: str = Query("subject_id", description=f"one of {', '.join(SORTABLE)}"),
        order: str = Query("asc", pattern="^(asc|desc)$"),
        overdue: Optional[bool] = Query(None, description="only (un)overdue follow-ups"),
        user: User = Depends(api_user),
        session: Session = Depends(db_session),
    ):
        """The patients the caller may see: admin all, clinician assigned, patient self."""
        today = dt.date.today()
        rows = visible_patients(session, user, status=status, q=q, sort=sort, order=order, overdue=overdue, today=today)
        record(request, session, user, "list", [p.subject_id for p in rows])
        return _json([list_item(p, today) for p in rows])

    @app.get("/api/cohort", tags=["patients"])
    def cohort(request: Request, user: User = Depends(api_user), session: Session = Depends(db_session)):
        """Cohort statistics over the patients the caller may see: counts by status, best
        and confirmed best response, overdue follow-ups."""
        today = dt.date.today()
        rows = visible_patients(session, user, status=None, q=None, sort="subject_id", order="asc")
        record(request, session, user, "list", [p.subject_id for p in rows])

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

    @app.get("/api/patients/{subject_id}", tags=["patients"])
    def patient_summary(subject_id: str, request: Request, user: User = Depends(api_user),
                        session: Session = Depends(db_session)):
        """The ``summary`` row of the tables contract."""
        p = require_patient(request, session, user, subject_id)
        return Response(p.summary or "{}", media_type="application/json")

    @app.get("/api/patients/{subject_id}/assessments", tags=["patients"])
    def patient_assessments(subject_id: str, request: Request, user: User = Depends(api_user),
                            session: Session = Depends(db_session)):
        """The ``assessments`` rows, by date."""
        require_patient(request, session, user, subject_id)
        rows = session.scalars(select(AssessmentRow.data).where(AssessmentRow.subject_id == subject_id).order_by(AssessmentRow.seq))
        return _raw_json_list(list(rows))

    @app.get("/api/patients/{subject_id}/episodes", tags=["patients"])
    def patient_episodes(subject_id: str, request: Request, user: User = Depends(api_user),
                         session: Session = Depends(db_session)):
        """The ``episodes`` rows, by episode number."""
        require_patient(request, session, user, subject_id)
        rows = session.scalars(select(EpisodeRow.data).where(EpisodeRow.subject_id == subject_id).order_by(EpisodeRow.seq))
        return _raw_json_list(list(rows))

    @app.get("/api/patients/{subject_id}/explanation", response_model=ExplanationOut, tags=["patients"])
    def patient_explanation(subject_id: str, request: Request, user: User = Depends(api_user),
                            session: Session = Depends(db_session)):
        """``{"text": ...}``: the plain-language summary (remission.explain)."""
        require_patient(request, session, user, subject_id)
        return {"text": _explanation(session, subject_id)}

    @app.post("/api/patients/{subject_id}/results", tags=["patients"])
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

    @app.get("/api/audit", tags=["service"])
    def audit_records(request: Request, subject_id: Optional[str] = None,
                      limit: int = Query(1000, ge=1, le=100000),
                      user: User = Depends(api_user), session: Session = Depends(db_session)):
        """The audit records (admin only), newest first; ``subject_id`` selects one patient's."""
        if user.role != "admin":
            raise HTTPException(403, "admin only")
        rows = audit.records(session, subject_id, limit)
        record(request, session, user, "audit", [subject_id])
        return _json(rows)

    def _explanation(session: Session, subject_id: str) -> str:
        from remission.explain import patient_summary as explain

        result = importer.patient_result(session, subject_id)
        return explain(result, subject_id)

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
        user = auth.authenticate(session, username, password)
        if user is None:
            return page(request, "login.html", 401, error="Unknown username or wrong password.", username=username)
        tok = auth.issue_token(session, user)
        session.commit()
        resp = RedirectResponse(home_of(user), status_code=303)
        resp.set_cookie(COOKIE, tok, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=int(auth.token_ttl().total_seconds()), path="/")
        return resp

    @app.post("/logout", include_in_schema=False)
    def sign_out(request: Request, session: Session = Depends(db_session)):
        tok = request.cookies.get(COOKIE)
        if tok:
            auth.revoke_token(session, tok)
            session.commit()
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/patients", response_class=HTMLResponse, include_in_schema=False)
    def patients_page(request: Request, status: str = "", q: str = Query("", max_length=64),
                      sort: str = "next_followup_due", order: str = Query("asc", pattern="^(asc|desc)$"),
                      session: Session = Depends(db_session)):
        user = page_user(request, session)
        if user is None:
            return RedirectResponse("/", status_code=303)
        if user.role == "patient":
            return RedirectResponse(home_of(user), status_code=303)
        today = dt.date.today()
        rows = visible_patients(session, user, status=status or None, q=q or None, sort=sort, order=order, today=today)
        record(request, session, user, "list", [p.subject_id for p in rows])
        statuses = sorted(s for s in session.scalars(
            select(Patient.status).where(auth.visible_subjects_clause(user)).distinct()) if s)
        return page(request, "patients.html", user=user, rows=[list_item(p, today) for p in rows], status=status, q=q,
                    sort=sort if sort in SORTABLE else "subject_id", order=order, statuses=statuses,
                    columns=LIST_COLUMNS, today=today, labels={"status_date": "results up to"})

    @app.get("/patients/{subject_id}", response_class=HTMLResponse, include_in_schema=False)
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
        result = importer.patient_result(session, subject_id)
        plot, plot_note, timeline_words = None, None, []
        try:
            from remission.report.html import _inline_svg
            from remission.report.plots import patient_timeline, timeline_text
        except ImportError:
            plot_note = "The timeline plot is not available in this installation."
        else:
            treatments = importer.patient_dataset(session, subject_id).treatments
            svg = patient_timeline(result, subject_id, fmt="svg", treatments=treatments)
            timeline_words = timeline_text(result, subject_id)
            plot = _inline_svg(svg, "timeline", title=f"Timeline of {subject_id}: test results, responses and remissions")
        from remission.explain import GLOSSARY, patient_dates
        from remission.explain import patient_summary as explain
        from remission.report.plots import criterion_label

        today = dt.date.today()
        explanation = explain(result, subject_id, today=today)
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
                    dates=patient_dates(result, subject_id, today=today),
                    criteria_label=criterion_label(summary.get("criteria")))

    return app


def _add_fhir(app: FastAPI, sessions, db_session, api_user, open_patient) -> None:
    """``GET /fhir/Observation?subject=...``: the patient's mCODE CancerDiseaseStatus
    Observations (remission.fhir.export), under the same access rules as the API."""
    try:
        from remission.fhir.export import observations_for_subject  # noqa: F401
    except ImportError:
        return

    @app.get("/fhir/Observation", tags=["fhir"])
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
