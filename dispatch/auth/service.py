"""Authentication as plain functions: users, log-in with attempt limits (``lockout``), bearer
tokens.

Session and values in, values out. Views and the CLI call these; they commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from dispatch.auth.lockout import LockoutPolicy, lockout
from dispatch.auth.passwords import hash_password, needs_rehash, verify_password
from dispatch.core.audit import record
from dispatch.core.database import note_in_passing, outside_transaction
from dispatch.models import ROLES, ApiToken, Landlord, User, utcnow

TOKEN_PREFIX = "dsp_"  # noqa: S105 (a prefix, not a secret)


class AuthError(ValueError):
    """A request the auth layer refuses, with a message fit to show to an administrator
    (translated when shown)."""


def normalise_email(email: str) -> str:
    """E-mail addresses are compared and stored trimmed and lower-case."""
    return email.strip().lower()


def upsert_user(
    session: Session,
    *,
    email: str,
    role: str,
    landlord: Landlord | None = None,
    name: str | None = None,
    password: str | None = None,
) -> User:
    """Create the user, or update role, landlord, name and password of the existing one."""
    if role not in ROLES:
        raise AuthError(_l("unknown role %(role)s; choose one of %(roles)s",
                             role=repr(role), roles=", ".join(ROLES)))
    if role == "landlord" and landlord is None:
        raise AuthError(_l("a landlord user needs --landlord CODE"))
    if role != "landlord" and landlord is not None:
        raise AuthError(_l("only landlord users belong to a landlord"))
    email = normalise_email(email)
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise AuthError(_l("not an e-mail address: %(email)s", email=repr(email)))
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=role, name=name or "")
        session.add(user)
    user.role = role
    user.landlord = landlord
    if name is not None:
        user.name = name
    if password is not None:
        user.password_hash = hash_password(password)
    session.flush()
    return user


@dataclass
class LoginResult:
    """What a log-in attempt came to: the user, or why not (``invalid`` or ``locked``); a
    locked attempt says how many seconds to wait (``retry_after``)."""

    user: User | None
    reason: str | None = None
    retry_after: int | None = None


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    ip: str | None,
    policy: LockoutPolicy | None = None,
    max_per_account: int | None = None,
    max_per_address: int | None = None,
    window: timedelta | None = None,
    roles: tuple[str, ...] | None = None,
) -> LoginResult:
    """Check a log-in within the attempt limits (``dispatch/auth/lockout.py``: back-off per
    account and address pair, a higher limit per address) and audit the outcome. A locked
    attempt answers the same whether or not the password was right. Without ``policy``, the
    default one with ``max_per_account`` (failures of the pair before back-off),
    ``max_per_address`` and ``window`` where given."""
    email = normalise_email(email)
    if policy is None:
        given = {"failures_before_backoff": max_per_account, "max_per_address": max_per_address,
                 "window": window}
        policy = LockoutPolicy(**{k: v for k, v in given.items() if v is not None})
    locked = lockout(session, email, ip, policy)
    if locked is not None:
        record(session, "login.locked", subject=email, ip=ip, details={"scope": locked.scope})
        return LoginResult(None, "locked", retry_after=locked.retry_after())
    user = session.scalar(select(User).where(User.email == email))
    stored = user.password_hash if user else None
    # Most of a second of CPU: not while holding SQLite's one writer's turn (tablets' events
    # would wait behind every log-in of a shift start).
    with outside_transaction(session):
        ok = verify_password(stored, password)
        rehashed = hash_password(password) if ok and stored and needs_rehash(stored) else None
    if not ok or user is None or not user.active or (roles and user.role not in roles):
        record(session, "login.failed", subject=email, ip=ip, user_id=user.id if user else None)
        return LoginResult(None, "invalid")
    if rehashed is not None and user.password_hash == stored:  # not changed meanwhile
        user.password_hash = rehashed
    user.last_login_at = utcnow()
    record(session, "login.succeeded", subject=email, ip=ip, user_id=user.id)
    return LoginResult(user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    kind: str = "api",
    label: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Issue a bearer token for ``user``; return it (only its hash is stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user=user, token_hash=_digest(token), kind=kind, label=label, expires_at=expires_at
        )
    )
    session.flush()
    return token


def _token_with_user(session: Session, digest: str) -> ApiToken | None:
    """The token row with this digest and its user, in one statement (one round trip, not
    two): every tablet event and API request asks this; the check was about a third of a
    dispatch POST's samples on PostgreSQL (bench/README.md)."""
    return session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                          .where(ApiToken.token_hash == digest))


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to, or None if unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = _token_with_user(session, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if not row.user.active:
        return None
    # Write at most once a minute (a tablet's every event must not turn into an UPDATE), and
    # never make a reading request wait for SQLite's writer's turn (or run again) for it.
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        note_in_passing(session, row, last_used_at=now)
    return row.user


def token_digest(token: str) -> str:
    """The stored form of a token (its SHA-256), to recheck a long-lived connection later."""
    return _digest(token)


def digest_still_valid(session: Session, digest: str) -> bool:
    """Whether the token with this digest is still live (not revoked, not expired, user active)."""
    row = _token_with_user(session, digest)
    return (row is not None and row.revoked_at is None and row.user.active
            and (row.expires_at is None or row.expires_at > utcnow()))


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token; True if it existed and was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def device_sessions(session: Session, *, limit: int = 200) -> list[ApiToken]:
    """Tablets' shift log-ins (device tokens), newest first, with their users."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.kind == "device")
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(limit)))


def revoke_token_id(session: Session, token_id: int, *, kind: str | None = None
                    ) -> ApiToken | None:
    """Revoke a token by its id (an administrator ending a device session); the row, or None
    if there is no such token (of that ``kind``). Revoking twice keeps the first time."""
    row = session.get(ApiToken, token_id)
    if row is None or (kind is not None and row.kind != kind):
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
