"""Storage of the service: SQLAlchemy 2 models, engine and sessions, migrations.

The database is ``REMISSION_DATABASE_URL`` (any SQLAlchemy URL; PostgreSQL through the
psycopg 3 driver, ``postgresql+psycopg://user:password@host/db``), else the SQLite file
``remission.db`` in the working directory.  The schema is created and changed only by the
Alembic migrations in :mod:`remission.service.migrations` (:func:`upgrade`), never by
``create_all``, so that a deployed database and a test database have the same history.

What is stored, per patient (``subject_id``):

* the canonical input rows of ``spec/tables.md`` as typed columns: the ``subjects`` row in
  :class:`Patient`, and :class:`LesionRow`, :class:`LabRow`, :class:`FindingRow`,
  :class:`TreatmentRow`, :class:`ResponseRow` (``seq`` keeps the input order; columns
  that :mod:`remission.schema` gains later, e.g. ``viable_diameter_mm``, are kept in the
  JSON column ``extra`` until a migration gives them their own column); these are
  the *validated* rows (labs already in canonical units), so re-deriving needs no
  re-validation;
* the derived tables: the ``summary`` row (as JSON in ``Patient.summary`` plus typed copies
  of the columns the clinician's list sorts and filters on), the ``assessments`` and
  ``episodes`` rows (:class:`AssessmentRow`, :class:`EpisodeRow`, one JSON object per row,
  every column the pipeline gives, so new output columns need no migration);
* accounts (:class:`User`), bearer tokens (:class:`Token`, only a SHA-256 of the token is
  stored), clinician-patient assignments (:class:`Assignment`) and the audit trail
  (:class:`AuditRecord`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

DEFAULT_SQLITE_FILE = "remission.db"
ENV_URL = "REMISSION_DATABASE_URL"

#: SQLite has 64-bit INTEGER primary keys only under the name INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    """Current UTC time, naive (stored the same way on SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


# --------------------------------------------------------------------------------------
# Accounts, tokens, assignments, audit
# --------------------------------------------------------------------------------------

ROLES = ("admin", "clinician", "patient")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the subject a ``patient`` account is bound to (not a foreign key: an account may be
    #: created before the patient's data are imported)
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)


class Assignment(Base):
    __tablename__ = "assignments"
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class AuditRecord(Base):
    """One access to patient data (who, when, what, from where, and how it ended)."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str | None] = mapped_column(String(150), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # read | list | write | import | sign_in | sign_out | account
    resource: Mapped[str] = mapped_column(String(255), nullable=False)  # e.g. "GET /api/patients/X/episodes"
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)  # ok | not_found | rejected | error
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: a list request: the subject ids it returned (JSON array; ``subject_id`` is then null)
    subject_ids: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (
        Index("ix_audit_user_action_at", "username", "action", "at"),
        Index("ix_audit_client_action_at", "client", "action", "at"),
    )


# --------------------------------------------------------------------------------------
# Patients: canonical input rows (typed) and derived tables
# --------------------------------------------------------------------------------------


class Patient(Base):
    """The ``subjects`` row of a patient, plus the state of its derivation."""

    __tablename__ = "patients"
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cancer_type: Mapped[str | None] = mapped_column(String(64))
    criteria: Mapped[str | None] = mapped_column(String(32))
    diagnosis_date: Mapped[dt.date | None] = mapped_column(Date)
    death_date: Mapped[dt.date | None] = mapped_column(Date)
    last_contact_date: Mapped[dt.date | None] = mapped_column(Date)
    #: the date the derived tables are "as of" (pipeline ``as_of``)
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    #: SHA-256 of the patient's canonical input rows and as_of (re-import detects no change)
    input_hash: Mapped[str | None] = mapped_column(String(64))
    #: increases at every re-derivation (cache key)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # typed copies of summary columns used by the clinician's list
    status: Mapped[str | None] = mapped_column(String(64), index=True)
    status_date: Mapped[dt.date | None] = mapped_column(Date)
    best_response: Mapped[str | None] = mapped_column(String(32))
    confirmed_best_response: Mapped[str | None] = mapped_column(String(32))
    next_followup_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    #: the whole summary row (spec/tables.md ``summary``), JSON
    summary: Mapped[str | None] = mapped_column(Text)
    #: other ``subjects`` columns (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


def _subject_fk() -> Mapped[str]:
    return mapped_column(String(64), ForeignKey("patients.subject_id", ondelete="CASCADE"), nullable=False)


class LesionRow(Base):
    __tablename__ = "lesions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    lesion_id: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    organ: Mapped[str | None] = mapped_column(String(64))
    nodal: Mapped[bool | None] = mapped_column(Boolean)
    diameter_mm: Mapped[float | None] = mapped_column(Float)
    perpendicular_mm: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str | None] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(16))
    #: other columns of the table (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_lesions_subject", "subject_id", "seq"),)


class LabRow(Base):
    __tablename__ = "labs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    test: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(32))
    #: other columns of the table (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_labs_subject", "subject_id", "seq"),)


class FindingRow(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    finding: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[str | None] = mapped_column(String(255))
    #: other columns of the table (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_findings_subject", "subject_id", "seq"),)


class TreatmentRow(Base):
    __tablename__ = "treatments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    start_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    modality: Mapped[str] = mapped_column(String(32), nullable=False)
    intent: Mapped[str | None] = mapped_column(String(32))
    line: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255))
    #: other columns of the table (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_treatments_subject", "subject_id", "seq"),)


class ResponseRow(Base):
    __tablename__ = "responses"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    response: Mapped[str] = mapped_column(String(32), nullable=False)
    evidence: Mapped[str | None] = mapped_column(String(32))
    #: other columns of the table (added to the contract after this migration), JSON
    extra: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_responses_subject", "subject_id", "seq"),)


class AssessmentRow(Base):
    """One row of the ``assessments`` output table (all pipeline columns, JSON)."""

    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    date: Mapped[dt.date | None] = mapped_column(Date)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (Index("ix_assessments_subject", "subject_id", "seq"),)


class EpisodeRow(Base):
    """One row of the ``episodes`` output table (all pipeline columns, JSON)."""

    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = _subject_fk()
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[str] = mapped_column(Text, nullable=False)
    __table_args__ = (Index("ix_episodes_subject", "subject_id", "seq"),)


#: canonical input table name -> model (the ``subjects`` row lives in :class:`Patient`)
INPUT_MODELS = {
    "lesions": LesionRow,
    "labs": LabRow,
    "findings": FindingRow,
    "treatments": TreatmentRow,
    "responses": ResponseRow,
}
DERIVED_MODELS = {"assessments": AssessmentRow, "episodes": EpisodeRow}
SUBJECT_COLUMNS = ("subject_id", "cancer_type", "criteria", "diagnosis_date", "death_date", "last_contact_date")


# --------------------------------------------------------------------------------------
# Engine, sessions, migrations
# --------------------------------------------------------------------------------------


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``REMISSION_DATABASE_URL``, else ``sqlite:///remission.db``
    in the working directory.  A bare ``postgresql://`` URL gets the psycopg 3 driver."""
    url = url or os.environ.get(ENV_URL) or f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, *, pool: bool = True) -> Engine:
    """An engine for ``url`` (see :func:`database_url`).  SQLite: WAL journal (readers do not
    wait for the writer), a 30 s busy timeout (writers queue instead of failing), foreign
    keys on, usable from the server's worker threads."""
    url = database_url(url)
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    if pool:
        # a request holds one connection; the server runs up to 40 requests at once
        # (anyio's thread limit) and a write opens a second session
        kwargs.update(pool_size=10, max_overflow=40, pool_timeout=60)
    if not pool:
        kwargs["poolclass"] = NullPool
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every sqlite test
            cur = dbapi_conn.cursor()
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def alembic_config(url: str | None = None):
    """An Alembic configuration for the packaged migrations, without an ``alembic.ini``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "remission.service:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Apply the migrations to the database (created when it is an absent SQLite file);
    returns the URL migrated (password hidden)."""
    from alembic import command
    from sqlalchemy.engine import make_url

    url = database_url(url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
    return make_url(url).render_as_string(hide_password=True)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# --------------------------------------------------------------------------------------
# Writers: locks and retries
# --------------------------------------------------------------------------------------
#
# Every write of a patient's data runs in one transaction that first takes the patient's
# lock, so that two writers of one patient are serialised and the second one reads what
# the first one stored (no lost update):
#
# * SQLite has one writer at a time: the transaction starts with ``BEGIN IMMEDIATE`` (the
#   write lock is taken before anything is read; a second writer waits, up to the 30 s
#   busy timeout, and then reads the committed rows).
# * PostgreSQL: ``SELECT ... FOR UPDATE`` of the patient row (READ COMMITTED: the statements
#   after the lock see the rows the previous writer committed).  An import also takes a
#   transaction-level advisory lock (two imports of the same new subjects serialise instead
#   of failing on the primary key) and locks the patients it may replace in key order.
#
# Deadlocks and serialisation failures (SQLSTATE 40P01, 40001) and SQLite's "database is
# locked" end the transaction; :func:`with_retry` runs it again (bounded).

RETRY_ATTEMPTS = 6


def begin_write(session) -> None:
    """Make the session's (new) transaction a writer's: ``BEGIN IMMEDIATE`` on SQLite."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_patient(session, subject_id: str) -> "Patient | None":
    """Begin a write of one patient: the write lock (SQLite) or the patient row locked
    ``FOR UPDATE`` (PostgreSQL).  ``None`` when there is no such patient."""
    begin_write(session)
    return session.get(Patient, subject_id, with_for_update=True, populate_existing=True)


def lock_import(session, subject_ids: list[str]) -> None:
    """Begin an import: the write lock (SQLite); an advisory lock per schema and the stored
    patients among ``subject_ids`` locked in key order (PostgreSQL)."""
    from sqlalchemy import select, text

    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('remission.import:' || current_schema()))"))
        ids = sorted(set(subject_ids))
        for i in range(0, len(ids), 500):
            session.execute(
                select(Patient.subject_id).where(Patient.subject_id.in_(ids[i : i + 500]))
                .order_by(Patient.subject_id).with_for_update()
            ).all()


def is_retryable(exc: BaseException) -> bool:
    """A deadlock, serialisation failure or busy database: the transaction may be re-run."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in ("40001", "40P01"):
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def with_retry(fn, attempts: int = RETRY_ATTEMPTS):
    """``fn()`` (one whole transaction), re-run after a retryable failure (backoff with jitter)."""
    import random
    import time

    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
