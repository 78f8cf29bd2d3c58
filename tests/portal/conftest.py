"""Mina sidor's fixtures: a landlord's register with two tenants on one agreement (flat and
storage) and a neighbour on another, a logged-in client (the session keys of
``portal.session``), the CSRF token of a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Person,
    Property,
    RentalObject,
)
from dispatch.portal.session import ACCOUNT_KEY, PERSON_KEY


@dataclass
class Home:
    landlord: object
    property: Property
    entrance: Entrance
    flat: RentalObject
    storage: RentalObject
    agreement: Agreement
    first: Person  # tenant 1
    second: Person  # tenant 2 on the same agreement
    neighbour: Person  # tenant 1 of another agreement, same property
    neighbour_agreement: Agreement
    neighbour_flat: RentalObject


@pytest.fixture
def home(db_session, create_landlord) -> Home:
    landlord = create_landlord(code="SHEM", name="Stockholmshem")
    prop = Property(landlord_id=landlord.id, designation="Söder 12:34")
    db_session.add(prop)
    db_session.flush()
    entrance = Entrance(landlord_id=landlord.id, property_id=prop.id, street="Götgatan",
                        street_number=12, street_letter="B", postnummer="11846",
                        ort="Stockholm", address_key="götgatan|12|b|11846", lat=59.31,
                        lon=18.07, position_source="file")
    db_session.add(entrance)
    db_session.flush()

    def obj(number, kind="lägenhet", lgh=None, rooms=None, area=None):
        row = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                           objektsnummer=number, object_type=kind, lagenhetsnummer=lgh,
                           rooms=rooms, area_m2=area)
        db_session.add(row)
        return row

    flat = obj("1-1102", lgh="1102", rooms=Decimal("3"), area=Decimal("74.5"))
    storage = obj("1-F17", kind="förråd")
    neighbour_flat = obj("1-1202", lgh="1202", rooms=Decimal("2"))
    first = Person(landlord_id=landlord.id, name="Anna Andersson", kundnummer="K-1001",
                   email="anna@example.se", phone="+46701234567")
    second = Person(landlord_id=landlord.id, name="Bo Andersson", kundnummer="K-1002",
                    email="bo@example.se")
    neighbour = Person(landlord_id=landlord.id, name="Cecilia Berg", kundnummer="K-2001",
                       email="cecilia@example.se")
    db_session.add_all([first, second, neighbour])
    db_session.flush()
    agreement = Agreement(landlord_id=landlord.id, avtalsnummer="A-500",
                          starts_on=date(2020, 4, 1))
    agreement.objects = [AgreementObject(object_id=flat.id), AgreementObject(object_id=storage.id)]
    agreement.parties = [AgreementParty(person_id=first.id, position=1),
                         AgreementParty(person_id=second.id, position=2)]
    other = Agreement(landlord_id=landlord.id, avtalsnummer="A-600", starts_on=date(2021, 1, 1))
    other.objects = [AgreementObject(object_id=neighbour_flat.id)]
    other.parties = [AgreementParty(person_id=neighbour.id, position=1)]
    db_session.add_all([agreement, other])
    db_session.flush()
    return Home(landlord, prop, entrance, flat, storage, agreement, first, second, neighbour,
                other, neighbour_flat)


def log_in(client, person) -> None:
    with client.session_transaction() as session:
        session[PERSON_KEY] = person.id
        session[ACCOUNT_KEY] = 1


@pytest.fixture
def tenant(client, home):
    """The client logged in as tenant 1 of the home."""
    log_in(client, home.first)
    return client


def csrf_of(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
