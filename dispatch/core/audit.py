"""Writing to the audit log. Callers pass ids and e-mails, never personal data values."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    subject: str | None = None,
    ip: str | None = None,
    user_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Add one audit line in the caller's transaction (it lands when the caller commits)."""
    event = AuditEvent(action=action, subject=subject, ip=ip, user_id=user_id, details=details)
    session.add(event)
    return event
