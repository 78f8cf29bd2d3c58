"""Writing to the audit log. Callers pass ids and e-mails, never personal data values.

Besides ``record``, the log gets a line for every landlord, user, API token and patrol car
created, whichever way (a command, a page, the demo, a tablet's shift log-in): a listener on
the ORM's flush sees them go in and writes ``landlord.created``, ``user.created``,
``token.created`` or ``patrol.created`` in the same transaction, with who did it when that
was a logged-in user of a request (a command: ``"via": "command"``)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from dispatch.models import ApiToken, AuditEvent, Landlord, Patrol, User, utcnow


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


def _created(obj) -> tuple[str, str, dict] | None:
    """The action, subject and details of a new row worth auditing; None for any other."""
    if isinstance(obj, Landlord):
        return "landlord.created", f"landlord:{obj.code}", {"landlord_id": obj.id}
    if isinstance(obj, User):
        return "user.created", obj.email, {"role": obj.role, "new_user_id": obj.id}
    if isinstance(obj, ApiToken):
        owner = obj.user.email if obj.user is not None else None
        return "token.created", owner, {"kind": obj.kind, "label": obj.label,
                                        "token_id": obj.id}
    if isinstance(obj, Patrol):
        return "patrol.created", f"patrol:{obj.call_sign}", {"patrol_id": obj.id}
    return None


def _actor() -> tuple[int | None, str | None, dict]:
    if not has_request_context():
        return None, None, {"via": "command"}
    user_id = current_user.id if getattr(current_user, "is_authenticated", False) else None
    return user_id, request.remote_addr, {}


@event.listens_for(Session, "after_flush")
def _audit_creations(session: Session, _context) -> None:
    """One audit line per landlord, user, token or patrol this flush inserted."""
    found = [line for obj in session.new if (line := _created(obj)) is not None]
    if not found:
        return
    user_id, ip, via = _actor()
    now = utcnow()
    session.connection().execute(AuditEvent.__table__.insert(), [
        {"at": now, "user_id": user_id, "action": action, "subject": subject, "ip": ip,
         "details": {**details, **via}}
        for action, subject, details in found])
