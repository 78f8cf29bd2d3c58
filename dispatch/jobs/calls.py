"""Incoming calls: the telephony system's webhook becomes a screen pop on the consoles; the
calls still waiting, oldest first, for the board: a call waits until an operator takes it
(N on the console: ``take_call``, audited as ``call.taken``) or a complaint is logged from it,
for ``WAITING_FOR`` at the most."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.core.phones import display_phone, normalise_phone
from dispatch.core.realtime import publish
from dispatch.models import AuditEvent, Call, Complaint, Landlord, utcnow
from dispatch.register.landlords import landlord_for_number
from dispatch.register.queries import tenants_by_phone

# A call no complaint was logged from is shown as waiting this long (then the caller has
# long since hung up or rung again).
WAITING_FOR = timedelta(minutes=30)


def incoming_call(session: Session, dialled: str, caller: str | None) -> tuple[Call, dict]:
    """Record the call and work out the screen pop: whose on-call number, which tenants.

    Numbers come in whatever format the switch sends (``0046812345678``, ``46812345678``,
    ``08-123 456 78``). A caller that matches nobody still pops up, with no tenants.
    """
    landlord = landlord_for_number(session, dialled)
    caller_e164 = normalise_phone(caller) if caller else None
    call = Call(landlord_id=landlord.id if landlord else None,
                dialled_number=normalise_phone(dialled) or dialled.strip()[:32],
                caller_number=caller_e164 or (caller or "").strip()[:32] or None,
                received_at=utcnow())
    session.add(call)
    session.flush()
    pop = screen_pop(session, call, landlord)
    publish(session, "call.incoming", pop, namespace="/console", to="operators")
    return call, pop


def screen_pop(session: Session, call: Call, landlord: Landlord | None) -> dict:
    """What the consoles show of a call: the number, whose on-call line, which tenants."""
    caller_e164 = normalise_phone(call.caller_number) if call.caller_number else None
    tenants = (tenants_by_phone(session, landlord.id, caller_e164)
               if landlord and caller_e164 else [])
    return {
        "call_id": call.id,
        "received_at": call.received_at.isoformat(),
        "caller_number": caller_e164,
        # As the tablet writes numbers (``display_phone``): one format on every screen.
        "caller_number_display": display_phone(caller_e164) if caller_e164 else None,
        "landlord": ({"code": landlord.code, "name": landlord.name} if landlord else None),
        "tenants": [{"name": t.name, "phone": t.phone,
                     "phone_display": display_phone(t.phone) if t.phone else None,
                     "object_id": t.object_id,
                     "objektsnummer": t.objektsnummer, "address": t.address,
                     "lagenhetsnummer": t.lagenhetsnummer} for t in tenants],
    }


def take_call(session: Session, call: Call, *, user_id: int | None, ip: str | None = None
              ) -> None:
    """An operator takes the call (N): it waits no more, on any console."""
    record(session, "call.taken", subject=_subject(call.id), ip=ip, user_id=user_id)
    publish(session, "call.taken", {"call_id": call.id}, namespace="/console")


def _subject(call_id: int) -> str:
    return f"call:{call_id}"


def waiting_calls(session: Session, *, now=None, within: timedelta = WAITING_FOR) -> list[dict]:
    """Screen pops of the calls within ``within`` that nobody took and no complaint was
    logged from, oldest first (the order they are taken in)."""
    since = (now or utcnow()) - within
    calls = session.scalars(
        select(Call).where(Call.received_at >= since,
                           ~select(Complaint.id).where(Complaint.call_id == Call.id).exists())
        .order_by(Call.received_at, Call.id)).all()
    if calls:
        taken = set(session.scalars(select(AuditEvent.subject).where(
            AuditEvent.action == "call.taken",
            AuditEvent.subject.in_([_subject(c.id) for c in calls]))))
        calls = [c for c in calls if _subject(c.id) not in taken]
    landlords = {}
    pops = []
    for call in calls:
        if call.landlord_id is not None and call.landlord_id not in landlords:
            landlords[call.landlord_id] = session.get(Landlord, call.landlord_id)
        pops.append(screen_pop(session, call, landlords.get(call.landlord_id)))
    return pops
