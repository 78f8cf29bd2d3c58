"""Strong identifications under way, kept on the server (``PendingIdentification``): a BankID
order (its reference, QR start token and secret, when it started, how often it was collected)
or a Finnish e-identification (its state, nonce, PKCE verifier and return address). The
browser's session holds only the row's random id (``secrets.token_urlsafe``), so the signed but
readable session cookie gives away nothing of the order. A row is deleted when its
identification completes or is cancelled; one left behind (a closed tab) expires after
``PENDING_VALID`` and ``sweep`` deletes it (the scheduler, and every new start).

Session and values in, values out; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from dispatch.models import utcnow
from dispatch.models.accounts import PendingIdentification

# A BankID order lives at most a few minutes at BankID; a provider's log-in page may take
# the user a while longer.
PENDING_VALID = {"bankid": timedelta(minutes=10), "oidc": timedelta(minutes=30)}


def create(session: Session, kind: str, data: dict, *,
           now: datetime | None = None) -> PendingIdentification:
    now = now or utcnow()
    row = PendingIdentification(id=secrets.token_urlsafe(32), kind=kind, data=dict(data),
                                created_at=now, expires_at=now + PENDING_VALID[kind])
    session.add(row)
    session.flush()
    return row


def get(session: Session, pending_id: object, kind: str, *,
        now: datetime | None = None) -> PendingIdentification | None:
    """The row with this id and kind if it has not expired; None for anything else (a
    missing, forged or old id)."""
    if not isinstance(pending_id, str) or not pending_id or len(pending_id) > 64:
        return None
    row = session.get(PendingIdentification, pending_id)
    if row is None or row.kind != kind or row.expires_at <= (now or utcnow()):
        return None
    return row


def update(row: PendingIdentification, **changes) -> None:
    row.data = {**row.data, **changes}  # a new dict: the JSON column sees the change


def remove(session: Session, pending_id: object) -> None:
    if isinstance(pending_id, str) and pending_id:
        session.execute(delete(PendingIdentification)
                        .where(PendingIdentification.id == pending_id)
                        .execution_options(synchronize_session="fetch"))


def sweep(session: Session, *, now: datetime | None = None) -> int:
    """Delete the expired rows; how many."""
    result = session.execute(delete(PendingIdentification)
                             .where(PendingIdentification.expires_at <= (now or utcnow()))
                             .execution_options(synchronize_session=False))
    return result.rowcount or 0
