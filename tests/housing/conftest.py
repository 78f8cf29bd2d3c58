"""The housing queue's fixtures: Hammaröbostäder with two vacant flats, a current tenant (whose
flat had a released disturbance report), three applicants (test personnummer only), and a
client logged in through the portal's session keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dispatch.housing import service
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Complaint,
    Entrance,
    IncidentReport,
    Job,
    Person,
    RentalObject,
)
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY

TZ = ZoneInfo("Europe/Stockholm")
TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@dataclass
class Queue:
    landlord: object
    entrance: Entrance
    flat: RentalObject  # vacant, 3 rooms, 8,000 kr
    small: RentalObject  # vacant, 1 room
    tenant_flat: RentalObject
    tenant: Person  # on an agreement, with a released report on their flat
    agreement: Agreement
    report: IncidentReport
    older: Person  # born 1990-01-01
    younger: Person  # born 1999-08-07
    child: Person  # born 2017-01-01: too young to register


@pytest.fixture
def queue(db_session, create_landlord) -> Queue:
    landlord = create_landlord(code="HAMB", name="Hammaröbostäder")
    entrance = Entrance(landlord_id=landlord.id, street="Örsholmsvägen", street_number=3,
                        street_letter="", postnummer="66330", ort="Skoghall",
                        address_key="örsholmsvägen|3||66330", lat=59.32, lon=13.46,
                        position_source="file")
    db_session.add(entrance)
    db_session.flush()

    def obj(number, lgh, rooms, rent):
        row = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                           objektsnummer=number, lagenhetsnummer=lgh, floor=int(lgh[:2]) - 10,
                           rooms=Decimal(rooms), area_m2=Decimal("60"), rent_sek=Decimal(rent))
        db_session.add(row)
        return row

    flat, small, tenant_flat = obj("H-1101", "1101", 3, 8000), obj("H-1001", "1001", 1, 4500), \
        obj("H-1201", "1201", 2, 6000)
    tenant = Person(landlord_id=landlord.id, name="Tove Tenant", personnummer="200002292399",
                    email="tove@example.se")
    older = Person(name="Olle Older", personnummer="199001012385", email="olle@example.se")
    younger = Person(name="Ylva Younger", personnummer="199908072391", email="ylva@example.se")
    child = Person(name="Kim Child", personnummer="201701012393")
    db_session.add_all([tenant, older, younger, child])
    db_session.flush()
    agreement = Agreement(landlord_id=landlord.id, avtalsnummer="HB-100",
                          starts_on=date(2022, 1, 1))
    agreement.objects = [AgreementObject(object_id=tenant_flat.id)]
    agreement.parties = [AgreementParty(person_id=tenant.id, position=1)]
    db_session.add(agreement)
    db_session.flush()
    complaint = Complaint(landlord_id=landlord.id, object_id=flat.id, entrance_id=entrance.id,
                          address="Örsholmsvägen 3, 663 30 Skoghall", category="music",
                          suspected_object_id=tenant_flat.id,
                          call_received_at=datetime(2026, 11, 1, 22, 0, tzinfo=UTC))
    db_session.add(complaint)
    db_session.flush()
    job = Job(complaint_id=complaint.id, status="done")
    db_session.add(job)
    db_session.flush()
    report = IncidentReport(job_id=job.id, landlord_id=landlord.id, status="released",
                            released_at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC))
    db_session.add(report)
    db_session.flush()
    return Queue(landlord, entrance, flat, small, tenant_flat, tenant, agreement, report,
                 older, younger, child)


def registered(db_session, person, on: date, **wishes):
    applicant = service.register(db_session, person, person_landlord(db_session), on)
    for key, value in wishes.items():
        setattr(applicant, key, value)
    db_session.flush()
    return applicant


def person_landlord(db_session) -> int:
    """The queue's landlord (the tests have one: Hammaröbostäder)."""
    from sqlalchemy import select

    from dispatch.models import Landlord

    return db_session.scalar(select(Landlord.id).where(Landlord.code == "HAMB"))


def log_in(client, person) -> None:
    with client.session_transaction() as session:
        session[PERSON_KEY] = person.id
        session[ACCOUNT_KEY] = 1


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
