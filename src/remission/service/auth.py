"""Accounts, passwords and bearer tokens.

* Passwords are hashed with Argon2id (``argon2-cffi``'s current recommended parameters,
  RFC 9106); a hash made with older parameters is upgraded at the next successful sign-in.
* A token is 32 random bytes (``secrets.token_urlsafe``) given once to the client; the
  database keeps only its SHA-256, with an expiry (``REMISSION_TOKEN_TTL_MINUTES``,
  default 720 = 12 hours), so a copy of the database does not hold usable tokens.
* Roles (spec/service.md): ``admin`` sees every patient; ``clinician`` the patients
  assigned to them (:class:`~remission.service.db.Assignment`); ``patient`` only the
  subject their account is bound to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from remission.service.db import ROLES, Assignment, Patient, Token, User, utcnow

_hasher = PasswordHasher()
#: verified against when the user does not exist, so that timing does not tell
_DUMMY_HASH = _hasher.hash("remission-dummy-password")

MAX_PASSWORD_LENGTH = 1024


class AccountError(ValueError):
    """A user-management request that cannot be done (unknown user, wrong role, ...)."""


def token_ttl() -> dt.timedelta:
    return dt.timedelta(minutes=int(os.environ.get("REMISSION_TOKEN_TTL_MINUTES", "720")))


def hash_password(password: str) -> str:
    if not password or len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password of 1 to {MAX_PASSWORD_LENGTH} characters is required")
    return _hasher.hash(password)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else ``None`` (same work either way)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or len(password or "") > MAX_PASSWORD_LENGTH:
        try:
            _hasher.verify(_DUMMY_HASH, password or "-")
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(session: Session, user: User) -> str:
    """A new bearer token for ``user`` (only its hash is stored); expired tokens are purged."""
    now = utcnow()
    session.execute(delete(Token).where(Token.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(Token(token_hash=_sha256(token), user_id=user.id, created_at=now, expires_at=now + token_ttl()))
    return token


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user of an unexpired token, else ``None``."""
    if not token or len(token) > 256:
        return None
    row = session.execute(
        select(User, Token.expires_at).join(Token, Token.user_id == User.id).where(Token.token_hash == _sha256(token))
    ).first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at <= utcnow() or not user.active:
        return None
    return user


def revoke_token(session: Session, token: str) -> None:
    session.execute(delete(Token).where(Token.token_hash == _sha256(token)))


def add_user(session: Session, username: str, password: str, role: str, subject_id: str | None = None) -> User:
    """Create an account.  A ``patient`` account must name its subject; others must not."""
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise AccountError("a username of 1 to 150 characters is required")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "patient" and not subject_id:
        raise AccountError("a patient account is bound to one subject: give --patient SUBJECT_ID")
    if role != "patient" and subject_id:
        raise AccountError("only a patient account is bound to a subject (--patient)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role, subject_id=subject_id,
                active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def assign(session: Session, clinician: str, subject_id: str) -> None:
    """Give the clinician ``clinician`` (a username) the patient ``subject_id`` (idempotent)."""
    user = session.scalar(select(User).where(User.username == clinician))
    if user is None:
        raise AccountError(f"no user {clinician!r}")
    if user.role != "clinician":
        raise AccountError(f"user {clinician!r} is a {user.role}, not a clinician")
    if session.get(Assignment, (user.id, subject_id)) is None:
        session.add(Assignment(clinician_id=user.id, subject_id=subject_id))
        session.flush()


def may_see(session: Session, user: User, subject_id: str) -> bool:
    """Whether ``user`` may see the patient ``subject_id`` (which must exist)."""
    if session.get(Patient, subject_id) is None:
        return False
    if user.role == "admin":
        return True
    if user.role == "patient":
        return user.subject_id == subject_id
    if user.role == "clinician":
        return session.get(Assignment, (user.id, subject_id)) is not None
    return False


def visible_subjects_clause(user: User):
    """A WHERE clause on :class:`Patient` selecting the patients ``user`` may see."""
    if user.role == "admin":
        return Patient.subject_id.is_not(None)
    if user.role == "patient":
        return Patient.subject_id == (user.subject_id or "")
    if user.role == "clinician":
        return Patient.subject_id.in_(select(Assignment.subject_id).where(Assignment.clinician_id == user.id))
    return Patient.subject_id.is_(None)
