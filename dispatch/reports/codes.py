"""One-time log-in codes for landlords' contact persons: asked for with the e-mail address,
sent by mail, valid ten minutes, used once.

Only an HMAC of the code (keyed with SECRET_KEY) is stored, so a copy of the database does not
give six digits to try. A code allows five attempts; failures are audited as ``login.failed``
like password failures, so the same limits (``dispatch/auth/lockout.py``: back-off per account
and address pair, a higher limit per address) hold both ways in.
Asking for a code answers the same whether or not the address belongs to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.auth.lockout import LockoutPolicy, lockout
from dispatch.auth.service import normalise_email
from dispatch.core.audit import record
from dispatch.models import LoginCode, User, utcnow

CODE_VALID = timedelta(minutes=10)
ATTEMPTS_PER_CODE = 5
CODES_PER_WINDOW = 3  # codes one account may ask for within the failure window


@dataclass
class CodeRequest:
    """A code to mail (``code`` and ``user``), or None of either when nothing is sent."""

    user: User | None = None
    code: str | None = None


@dataclass
class CodeResult:
    """A checked code: the user, or why not (``invalid`` or ``locked``, then with the seconds
    to wait)."""

    user: User | None
    reason: str | None = None
    retry_after: int | None = None


def _digest(secret_key: str, user_id: int, code: str) -> str:
    return hmac.new(secret_key.encode(), f"{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(session: Session, email: str, *, ip: str | None, secret_key: str,
                 policy: LockoutPolicy = LockoutPolicy(), now: datetime | None = None
                 ) -> CodeRequest:
    """Make a code for an active contact person (the caller commits, then mails it). Earlier
    unused codes stop working. Unknown address, locked account or too many codes: nothing."""
    now = now or utcnow()
    email = normalise_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.active or user.role != "landlord":
        record(session, "login.code_refused", subject=email, ip=ip)
        return CodeRequest()
    since = now - policy.window
    recent = session.scalar(select(func.count(LoginCode.id)).where(
        LoginCode.user_id == user.id, LoginCode.created_at >= since)) or 0
    if recent >= CODES_PER_WINDOW or lockout(session, email, ip, policy, now=now):
        record(session, "login.code_refused", subject=email, ip=ip, user_id=user.id,
               details={"reason": "limit"})
        return CodeRequest()
    session.execute(update(LoginCode).where(LoginCode.user_id == user.id,
                                            LoginCode.used_at.is_(None))
                    .values(used_at=now), execution_options={"synchronize_session": False})
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(LoginCode(user_id=user.id, code_hash=_digest(secret_key, user.id, code),
                          created_at=now, expires_at=now + CODE_VALID))
    record(session, "login.code_sent", subject=email, ip=ip, user_id=user.id)
    session.flush()
    return CodeRequest(user=user, code=code)


def verify_code(session: Session, email: str, code: str, *, ip: str | None, secret_key: str,
                policy: LockoutPolicy = LockoutPolicy(), now: datetime | None = None
                ) -> CodeResult:
    """Check a code; on success it is used up. Every outcome is audited."""
    now = now or utcnow()
    email = normalise_email(email)
    code = "".join(ch for ch in code if ch.isdigit())
    locked = lockout(session, email, ip, policy, now=now)
    if locked is not None:
        record(session, "login.locked", subject=email, ip=ip,
               details={"method": "code", "scope": locked.scope})
        return CodeResult(None, "locked", retry_after=locked.retry_after(now))
    user = session.scalar(select(User).where(User.email == email))
    row = None
    if user is not None and user.active and user.role == "landlord":
        row = session.scalar(select(LoginCode).where(
            LoginCode.user_id == user.id, LoginCode.used_at.is_(None),
            LoginCode.expires_at > now).order_by(LoginCode.id.desc()).limit(1))
    if row is not None and row.attempts < ATTEMPTS_PER_CODE:
        row.attempts += 1
        if len(code) == 6 and hmac.compare_digest(row.code_hash,
                                                  _digest(secret_key, user.id, code)):
            row.used_at = now
            user.last_login_at = now
            record(session, "login.succeeded", subject=email, ip=ip, user_id=user.id,
                   details={"method": "code"})
            session.flush()
            return CodeResult(user)
    record(session, "login.failed", subject=email, ip=ip,
           user_id=user.id if user is not None else None, details={"method": "code"})
    session.flush()
    return CodeResult(None, "invalid")
