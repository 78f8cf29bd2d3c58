"""What the operator and the patrol see about one object: who lives there, how to get in,
the neighbours (from the lägenhetsnummer) and the premise's history of complaints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.core.phones import display_phone
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Complaint,
    Entrance,
    Job,
    Person,
    RentalObject,
    utcnow,
)
from dispatch.register.addresses import format_postnummer
from dispatch.register.queries import full_address


@dataclass(frozen=True)
class Neighbour:
    """An object near another, by lägenhetsnummer: a suggestion, for the operator to confirm."""

    relation: str  # above, below, same_floor
    object_id: int
    objektsnummer: str
    lagenhetsnummer: str
    tenants: list[str]


def neighbour_numbers(lagenhetsnummer: str) -> dict[str, str]:
    """The lägenhetsnummer directly above and below (``1102`` → ``1202``, ``1002``).

    Floor 10 is the entrance level (LMFS 2013:5); 00 is not a floor, so there is nothing
    below ``0101`` (floor 01).
    """
    floor, position = int(lagenhetsnummer[:2]), lagenhetsnummer[2:]
    result = {}
    if floor < 99:
        result["above"] = f"{floor + 1:02d}{position}"
    if floor > 1:
        result["below"] = f"{floor - 1:02d}{position}"
    return result


def current_tenants(session: Session, object_ids: list[int], *, on: date | None = None
                    ) -> dict[int, list[Person]]:
    """The current tenants of each object (agreement and link in force today)."""
    if not object_ids:
        return {}
    on = on or date.today()
    rows = session.execute(
        select(AgreementObject.object_id, Person)
        .join(Agreement, Agreement.id == AgreementObject.agreement_id)
        .join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .join(Person, Person.id == AgreementParty.person_id)
        .where(AgreementObject.object_id.in_(object_ids))
        .where(or_(Agreement.starts_on.is_(None), Agreement.starts_on <= on))
        .where(or_(Agreement.ends_on.is_(None), Agreement.ends_on >= on))
        .where(or_(AgreementObject.ends_on.is_(None), AgreementObject.ends_on >= on))
        .order_by(AgreementParty.position)
    ).all()
    result: dict[int, list[Person]] = {}
    for object_id, person in rows:
        result.setdefault(object_id, []).append(person)
    return result


def tenant_phones(session: Session, obj: RentalObject) -> list[dict]:
    """The current tenants of ``obj`` who have a phone in the register (name, phone, and the
    phone as the tablet writes it): for the patrol when the caller did not leave a number."""
    return [{"name": p.name, "phone": p.phone, "phone_display": display_phone(p.phone)}
            for p in current_tenants(session, [obj.id]).get(obj.id, []) if p.phone]


def neighbours(session: Session, obj: RentalObject) -> list[Neighbour]:
    """Flats directly above and below and on the same floor of the same entrance."""
    if not obj.lagenhetsnummer:
        return []
    wanted = neighbour_numbers(obj.lagenhetsnummer)
    floor = obj.lagenhetsnummer[:2]
    rows = session.scalars(
        select(RentalObject).where(
            RentalObject.entrance_id == obj.entrance_id, RentalObject.retired_at.is_(None),
            RentalObject.id != obj.id,
            or_(RentalObject.lagenhetsnummer.in_(list(wanted.values())),
                RentalObject.lagenhetsnummer.like(f"{floor}%")),
        ).order_by(RentalObject.lagenhetsnummer)
    ).all()
    tenants = current_tenants(session, [r.id for r in rows])
    relation_of = {number: relation for relation, number in wanted.items()}
    order = {"above": 0, "below": 1, "same_floor": 2}
    found = [
        Neighbour(relation_of.get(r.lagenhetsnummer, "same_floor"), r.id, r.objektsnummer,
                  r.lagenhetsnummer, [p.name for p in tenants.get(r.id, [])])
        for r in rows
    ]
    return sorted(found, key=lambda n: (order[n.relation], n.lagenhetsnummer))


def history(session: Session, obj: RentalObject, *, retention_days: int,
            limit: int = 50) -> list[dict]:
    """Earlier complaints about this object (as complainant or as suspected source) and about
    its entrance, newest first, within the retention window."""
    since = utcnow() - timedelta(days=retention_days)
    rows = session.execute(
        select(Complaint.id, Complaint.created_at, Complaint.category, Complaint.object_id,
               Complaint.suspected_object_id, Complaint.lagenhetsnummer, Job.status)
        .outerjoin(Job, Job.complaint_id == Complaint.id)
        .where(Complaint.created_at >= since)
        .where(or_(Complaint.object_id == obj.id, Complaint.suspected_object_id == obj.id,
                   Complaint.entrance_id == obj.entrance_id))
        .order_by(Complaint.created_at.desc()).limit(limit)
    ).all()
    result = []
    for complaint_id, at, category, object_id, suspected_id, lgh, status in rows:
        if suspected_id == obj.id:
            role = "suspected_source"
        elif object_id == obj.id:
            role = "complainant"
        else:
            role = "same_entrance"
        result.append({
            "complaint_id": complaint_id, "at": at.isoformat(), "category": category,
            "role": role, "status": status, "lagenhetsnummer": lgh,
        })
    return result


def object_view(session: Session, obj: RentalObject, *, retention_days: int) -> dict:
    """Everything the console shows about one object."""
    entrance: Entrance = obj.entrance
    tenants = current_tenants(session, [obj.id]).get(obj.id, [])
    return {
        "object_id": obj.id, "objektsnummer": obj.objektsnummer,
        "object_type": obj.object_type, "landlord_id": obj.landlord_id,
        "entrance_id": entrance.id, "address": entrance.street_address,
        "full_address": full_address(entrance),
        "postnummer": format_postnummer(entrance.postnummer), "ort": entrance.ort,
        "lagenhetsnummer": obj.lagenhetsnummer, "floor": obj.floor,
        "door_code": entrance.door_code, "lat": entrance.lat, "lon": entrance.lon,
        "retired": obj.retired_at is not None,
        "tenants": [{"name": p.name, "phone": p.phone,
                     "phone_display": display_phone(p.phone) if p.phone else None}
                    for p in tenants],
        "neighbours": [n.__dict__ for n in neighbours(session, obj)],
        "history": history(session, obj, retention_days=retention_days),
    }


def entrance_view(session: Session, entrance: Entrance) -> dict:
    """An address with its objects, for choosing the flat."""
    objects = session.scalars(
        select(RentalObject).where(RentalObject.entrance_id == entrance.id,
                                   RentalObject.retired_at.is_(None))
        .order_by(RentalObject.lagenhetsnummer, RentalObject.objektsnummer)
    ).all()
    tenants = current_tenants(session, [o.id for o in objects])
    return {
        "entrance_id": entrance.id, "landlord_id": entrance.landlord_id,
        "address": entrance.street_address, "full_address": full_address(entrance),
        "lat": entrance.lat, "lon": entrance.lon,
        "objects": [{"object_id": o.id, "objektsnummer": o.objektsnummer,
                     "object_type": o.object_type, "lagenhetsnummer": o.lagenhetsnummer,
                     "floor": o.floor, "tenants": [p.name for p in tenants.get(o.id, [])]}
                    for o in objects],
    }
