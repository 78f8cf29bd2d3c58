"""Questions asked of a landlord's register: who lives where, reached by which number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.core.phones import normalise_phone
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Person,
    RentalObject,
)
from dispatch.register.addresses import format_postnummer


@dataclass(frozen=True)
class TenantAtObject:
    """A current tenant and one object of theirs, as the screen pop shows it."""

    name: str
    phone: str | None
    object_id: int
    objektsnummer: str
    address: str
    lagenhetsnummer: str | None


def full_address(entrance: Entrance) -> str:
    """``Götgatan 12B, 118 46 Stockholm``."""
    return f"{entrance.street_address}, {format_postnummer(entrance.postnummer)} {entrance.ort}"


def tenants_by_phone(
    session: Session, landlord_id: int | None, caller: str, *, on: date | None = None
) -> list[TenantAtObject]:
    """Current tenants whose phone is ``caller`` (any format), with their objects in use.

    Only agreements in force on ``on`` (today) and objects not retired count: a tenant who
    moved out must not pop up. ``landlord_id`` None searches every landlord.
    """
    number = normalise_phone(caller)
    if number is None:
        return []
    on = on or date.today()
    query = (
        select(Person, RentalObject, Entrance)
        .join(AgreementParty, AgreementParty.person_id == Person.id)
        .join(Agreement, Agreement.id == AgreementParty.agreement_id)
        .join(AgreementObject, AgreementObject.agreement_id == Agreement.id)
        .join(RentalObject, RentalObject.id == AgreementObject.object_id)
        .join(Entrance, Entrance.id == RentalObject.entrance_id)
        .where(Person.phone == number)
        .where(RentalObject.retired_at.is_(None))
        .where(or_(Agreement.starts_on.is_(None), Agreement.starts_on <= on))
        .where(or_(Agreement.ends_on.is_(None), Agreement.ends_on >= on))
        .where(or_(AgreementObject.ends_on.is_(None), AgreementObject.ends_on >= on))
        .order_by(Person.name, RentalObject.objektsnummer)
    )
    if landlord_id is not None:
        query = query.where(Person.landlord_id == landlord_id)
    return [
        TenantAtObject(person.name, person.phone, obj.id, obj.objektsnummer,
                       full_address(entrance), obj.lagenhetsnummer)
        for person, obj, entrance in session.execute(query)
    ]
