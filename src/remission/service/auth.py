"""Accounts, passwords and bearer tokens.

* Passwords are hashed with Argon2id (``argon2-cffi``'s current recommended parameters,
  RFC 9106); a hash made with older parameters is upgraded at the next successful sign-in.
* A token is 32 random bytes (``secrets.token_urlsafe``) given once to the client; the
  database keeps only its SHA-256, with an expiry (``REMISSION_TOKEN_TTL_MINUTES``,
  default 720 = 12 hours), so a copy of the database does not hold usable tokens.
* Password policy (:func:`check_password`, every new or reset password): at least
  :data:`MIN_PASSWORD_LENGTH` (12) characters, not the user name (nor containing it), not
  in the list of common passwords shipped with the package (``common_passwords.txt``,
  compared without case and without trailing digits or punctuation appended to a listed
  word).
* Failed sign-ins are audited (action ``sign_in``, outcome ``rejected``) and throttled
  (:func:`sign_in_wait`): after ``REMISSION_SIGNIN_MAX_ACCOUNT_FAILURES`` (default 5)
  failures of one account since its last successful sign-in, or
  ``REMISSION_SIGNIN_MAX_ADDRESS_FAILURES`` (default 20) failures from one client address,
  within ``REMISSION_SIGNIN_WINDOW_SECONDS`` (default 900), sign-in answers 429 with
  ``Retry-After`` until the oldest counted failure leaves the window.  The counts live in
  the audit table, so every server process sees the same ones.
* Revocation: ``POST /api/logout`` deletes the caller's token; deactivating a user or
  resetting their password deletes all their tokens, and a token of an inactive user is
  refused at once (checked at every request).
* Roles (spec/service.md): ``admin`` sees every patient; ``clinician`` the patients
  assigned to them (:class:`~remission.service.db.Assignment`); ``patient`` only the
  subject their account is bound to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import secrets
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from remission.service.db import ROLES, Assignment, AuditRecord, Patient, Token, User, utcnow

_hasher = PasswordHasher()
#: verified against when the user does not exist, so that timing does not tell
_DUMMY_HASH = _hasher.hash("remission-dummy-password")

MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A user-management request that cannot be done (unknown user, wrong role, ...)."""


def token_ttl() -> dt.timedelta:
    return dt.timedelta(minutes=int(os.environ.get("REMISSION_TOKEN_TTL_MINUTES", "720")))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    text = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str | None = None) -> None:
    """Raise :class:`AccountError` naming the rule a new password breaks (see module doc)."""
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if "\x00" in password:
        raise AccountError("a password may not contain NUL characters")
    low = password.lower()
    if username and username.strip() and username.strip().lower() in low:
        raise AccountError("a password may not be or contain the user name")
    listed = common_passwords()
    base = low.rstrip("0123456789!?.*#@$ ")
    if low in listed or (base and base in listed) or len(set(low)) <= 2:
        raise AccountError("this password is too common: choose another")


def hash_password(password: str, username: str | None = None) -> str:
    """The Argon2id hash of a new password that follows the policy (:func:`check_password`)."""
    check_password(password, username)
    return _hasher.hash(password)


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def sign_in_limits() -> tuple[int, int, int]:
    """(failures per account, failures per address, window in seconds)."""
    return (_int_env("REMISSION_SIGNIN_MAX_ACCOUNT_FAILURES", 5), _int_env("REMISSION_SIGNIN_MAX_ADDRESS_FAILURES", 20),
            _int_env("REMISSION_SIGNIN_WINDOW_SECONDS", 900))


def sign_in_wait(session: Session, username: str, client: str | None) -> int:
    """Seconds until ``username`` may try to sign in from ``client`` again (0: now)."""
    per_account, per_address, window = sign_in_limits()
    now = utcnow()
    since = now - dt.timedelta(seconds=window)
    username = (username or "").replace("\x00", "\\0")[:150]  # as the audit stores it (PostgreSQL text has no NUL)
    waits = [0]
    last_ok = session.scalar(select(func.max(AuditRecord.at)).where(
        AuditRecord.username == username, AuditRecord.action == "sign_in", AuditRecord.outcome == "ok"))
    acc_since = max(since, last_ok) if last_ok is not None else since
    for col, value, limit, start in ((AuditRecord.username, username, per_account, acc_since),
                                     (AuditRecord.client, (client or "")[:64] or None, per_address, since)):
        if value is None:
            continue
        times = session.scalars(
            select(AuditRecord.at).where(col == value, AuditRecord.action == "sign_in", AuditRecord.outcome == "rejected",
                                         AuditRecord.at > start).order_by(AuditRecord.at.desc()).limit(limit)
        ).all()
        if len(times) >= limit:
            waits.append(math.ceil((times[-1] + dt.timedelta(seconds=window) - now).total_seconds()))
    return max(0, max(waits))


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else ``None`` (same work either way)."""
    if "\x00" in (username or "") or len(username or "") > 150:
        user = None
    else:
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


def revoke_token(session: Session, token: str) -> bool:
    """Delete one token; whether it existed."""
    return session.execute(delete(Token).where(Token.token_hash == _sha256(token))).rowcount > 0


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def revoke_all(session: Session, user: User) -> int:
    """Delete every token of ``user``; how many there were."""
    return session.execute(delete(Token).where(Token.user_id == user.id)).rowcount


def set_active(session: Session, username: str, active: bool) -> User:
    """(De)activate an account; deactivation also deletes its tokens (signed out at once)."""
    user = _user(session, username)
    user.active = active
    if not active:
        revoke_all(session, user)
    session.flush()
    return user


def reset_password(session: Session, username: str, password: str) -> User:
    """Give an account a new password (policy checked); its tokens are deleted."""
    user = _user(session, username)
    user.password_hash = hash_password(password, user.username)
    revoke_all(session, user)
    session.flush()
    return user


def unassign(session: Session, clinician: str, subject_id: str) -> bool:
    """Take the patient ``subject_id`` from the clinician; whether it was assigned."""
    user = _user(session, clinician)
    if user.role != "clinician":
        raise AccountError(f"user {clinician!r} is a {user.role}, not a clinician")
    done = session.execute(delete(Assignment).where(Assignment.clinician_id == user.id,
                                                    Assignment.subject_id == subject_id)).rowcount > 0
    session.flush()
    return done


def list_users(session: Session) -> list[dict]:
    """Every account: username, role, bound subject, active, assigned subjects, live tokens."""
    now = utcnow()
    assigned: dict[int, list[str]] = {}
    for cid, sid in session.execute(select(Assignment.clinician_id, Assignment.subject_id).order_by(Assignment.subject_id)):
        assigned.setdefault(cid, []).append(sid)
    tokens = dict(session.execute(select(Token.user_id, func.count()).where(Token.expires_at > now).group_by(Token.user_id)).all())
    return [
        dict(username=u.username, role=u.role, subject_id=u.subject_id, active=u.active,
             assigned=assigned.get(u.id, []), tokens=tokens.get(u.id, 0))
        for u in session.scalars(select(User).order_by(User.username))
    ]


def add_user(session: Session, username: str, password: str, role: str, subject_id: str | None = None) -> User:
    """Create an account.  A ``patient`` account must name its subject; others must not."""
    username = (username or "").strip()
    if not username or len(username) > 150 or any(ord(ch) < 32 for ch in username):
        raise AccountError("a username of 1 to 150 printable characters is required")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "patient" and not subject_id:
        raise AccountError("a patient account is bound to one subject: give --patient SUBJECT_ID")
    if role != "patient" and subject_id:
        raise AccountError("only a patient account is bound to a subject (--patient)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password, username), role=role, subject_id=subject_id,
                active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    return user


def assign(session: Session, clinician: str, subject_id: str) -> None:
    """Give the clinician ``clinician`` (a username) the patient ``subject_id`` (idempotent)."""
    user = _user(session, clinician)
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
