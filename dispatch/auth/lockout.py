"""Log-in attempt limits that slow a guesser down without locking the owner out.

Failures are counted from the audit log (``login.failed``), so the limits hold across web
processes and restarts. Two rules:

* **Per account and address pair**, with exponential back-off: the first
  ``LOGIN_FAILURES_BEFORE_BACKOFF`` failures of one e-mail address from one client address
  cost nothing; after that each further failure doubles the wait before the pair may try
  again (``LOGIN_BACKOFF_BASE_S``, 2×, 4×, … capped at ``LOGIN_BACKOFF_MAX_S``). The pair's
  failures are remembered for ``LOGIN_BACKOFF_MEMORY_HOURS`` (longer than the longest wait,
  so that a patient guesser stays at one try per wait) or until a log-in succeeds from the
  pair. Someone guessing at an account from one address cannot lock its owner out: the right
  password from any other address works at once.
* **Per address**, a much higher limit (``LOGIN_MAX_FAILURES_PER_ADDRESS`` within
  ``LOGIN_FAILURE_WINDOW_MINUTES``) against one address spraying guesses over many accounts;
  the address may try again when enough of its failures have aged out of the window.

The client address is ``request.remote_addr`` after ProxyFix (``TRUSTED_PROXIES``, see
``dispatch/core/security.py``): behind nginx, each user's own address, not the proxy's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import AuditEvent, utcnow

FAILED = "login.failed"
SUCCEEDED = "login.succeeded"


@dataclass(frozen=True)
class LockoutPolicy:
    """The limits (the defaults are the settings' defaults)."""

    failures_before_backoff: int = 5
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_max: timedelta = timedelta(minutes=15)
    max_per_address: int = 100
    window: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config: Mapping) -> LockoutPolicy:
        """The policy the app's settings describe (``LOGIN_*``, ``dispatch/core/settings.py``)."""
        return cls(
            failures_before_backoff=int(config["LOGIN_FAILURES_BEFORE_BACKOFF"]),
            backoff_base=timedelta(seconds=int(config["LOGIN_BACKOFF_BASE_S"])),
            backoff_max=timedelta(seconds=int(config["LOGIN_BACKOFF_MAX_S"])),
            max_per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
            window=timedelta(minutes=int(config["LOGIN_FAILURE_WINDOW_MINUTES"])),
            memory=timedelta(hours=int(config["LOGIN_BACKOFF_MEMORY_HOURS"])),
        )

    def backoff(self, failures: int) -> timedelta:
        """The wait after the pair's ``failures``-th failure (nothing before the threshold)."""
        extra = failures - self.failures_before_backoff
        if extra < 0:
            return timedelta(0)
        # 2**extra grows without bound; past the cap only the cap matters.
        factor = 2 ** min(extra, 40)
        return min(self.backoff_base * factor, self.backoff_max)


@dataclass(frozen=True)
class Lockout:
    """Why a log-in is refused before its password is checked, and until when."""

    scope: str  # "pair" (this account from this address) or "address" (spraying)
    until: datetime

    def retry_after(self, now: datetime | None = None) -> int:
        """Whole seconds to wait (at least 1), for ``Retry-After``."""
        seconds = (self.until - (now or utcnow())).total_seconds()
        return max(1, math.ceil(seconds))


def _failures(since: datetime, **where):
    query = select(AuditEvent.at).where(AuditEvent.action == FAILED, AuditEvent.at > since)
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return query


def _pair_lockout(session: Session, email: str, ip: str | None, policy: LockoutPolicy,
                  now: datetime) -> Lockout | None:
    since = now - policy.memory
    last_success = session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.action == SUCCEEDED, AuditEvent.subject == email, AuditEvent.ip == ip,
        AuditEvent.at > since))
    if last_success is not None:
        since = last_success
    failures = _failures(since, subject=email, ip=ip).subquery()
    count, last = session.execute(
        select(func.count(), func.max(failures.c.at)).select_from(failures)).one()
    wait = policy.backoff(count)
    if not count or not wait:
        return None
    until = last + wait
    return Lockout("pair", until) if until > now else None


def _address_lockout(session: Session, ip: str, policy: LockoutPolicy,
                     now: datetime) -> Lockout | None:
    since = now - policy.window
    failures = _failures(since, ip=ip).subquery()
    count = session.scalar(select(func.count()).select_from(failures)) or 0
    if count < policy.max_per_address:
        return None
    # Free again when all but max_per_address - 1 of the failures have left the window.
    oldest_to_go = session.scalar(
        _failures(since, ip=ip).order_by(AuditEvent.at)
        .offset(count - policy.max_per_address).limit(1))
    return Lockout("address", oldest_to_go + policy.window)


def lockout(session: Session, email: str, ip: str | None, policy: LockoutPolicy,
            *, now: datetime | None = None) -> Lockout | None:
    """Whether a log-in as ``email`` (normalised) from ``ip`` must wait, and until when; None
    if it may go ahead. The longer wait wins when both rules hold."""
    now = now or utcnow()
    found = [_pair_lockout(session, email, ip, policy, now)]
    if ip:
        found.append(_address_lockout(session, ip, policy, now))
    found = [lock for lock in found if lock is not None]
    return max(found, key=lambda lock: lock.until) if found else None
