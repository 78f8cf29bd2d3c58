"""``dispatch demo``: fill an empty database with something an operator would recognise.

Three landlords with on-call numbers and contact persons, a register of a few thousand objects
on real Stockholm-area streets, tenants with fictional phone numbers, eight patrols across the
city and a user of every role. Random but reproducible (fixed seed).
"""

from __future__ import annotations

import json
import random
import secrets
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.auth.service import upsert_user
from dispatch.demo_data import (
    FIRST_NAMES,
    LAST_NAMES,
    PATROL_POSITIONS,
    STREETS,
    TEST_PERSONNUMMER,
    fictional_phone_numbers,
)
from dispatch.extensions import db
from dispatch.landlords import upsert_landlord
from dispatch.models import (
    Agreement,
    AgreementObject,
    AgreementParty,
    Entrance,
    Landlord,
    Person,
    Property,
    RentalObject,
    utcnow,
)
from dispatch.patrols import upsert_patrol
from dispatch.phones import normalise_phone
from imports.normalise import address_key

LANDLORDS = [
    ("STHLMHEM", "Stockholmshem Demo AB", "08-46 500 401", 0),
    ("SODERBO", "Söderbo Fastigheter Demo", "08-46 500 402", 1),
    ("NORRBO", "Norrtull Bostäder Demo", "08-46 500 403", 2),
]


def _entrances_for(landlord_index: int, rng: random.Random):
    """Every third street-address block goes to one landlord, so their registers interleave."""
    for street_index, (street, postnummer, ort, start, end, highest) in enumerate(STREETS):
        for number in range(1 + landlord_index * 2, highest + 1, 23):
            if (street_index + number) % 3 == 2:
                continue
            t = number / highest
            lat = start[0] + (end[0] - start[0]) * t + rng.uniform(-0.0002, 0.0002)
            lon = start[1] + (end[1] - start[1]) * t + rng.uniform(-0.0003, 0.0003)
            letters = [""] if rng.random() < 0.7 else ["A", "B"]
            for letter in letters:
                yield street, number, letter, postnummer, ort, round(lat, 6), round(lon, 6)


def build_demo(session: Session, *, seed: int = 3) -> dict:
    """Create the demo data; return the log-ins (e-mail → password) to print once."""
    rng = random.Random(seed)
    phones = [n for n in fictional_phone_numbers() if n not in {x[2] for x in LANDLORDS}]
    rng.shuffle(phones)
    personnummer = list(TEST_PERSONNUMMER)
    logins: dict[str, tuple[str, str]] = {}

    def add_user(email: str, role: str, landlord: Landlord | None, name: str) -> None:
        password = secrets.token_urlsafe(9)
        upsert_user(
            session, email=email, role=role, landlord=landlord, name=name, password=password
        )
        logins[email] = (role, password)

    add_user("admin@demo.storningsjour.se", "admin", None, "Ada Admin")
    add_user("operator@demo.storningsjour.se", "operator", None, "Olle Operatör")
    add_user("patrol@demo.storningsjour.se", "patrol", None, "Petra Patrull")

    today = date.today()
    kundnummer = 100000
    for index, (code, name, oncall, _) in enumerate(LANDLORDS):
        landlord = upsert_landlord(session, code=code, name=name, oncall_numbers=[oncall])
        lower = code.lower()
        add_user(f"kontakt@{lower}.demo.se", "landlord", landlord, f"Kontakt {name}")
        add_user(f"forvaltare@{lower}.demo.se", "landlord", landlord, f"Förvaltare {name}")
        prop_number = 0
        for street, number, letter, postnummer, ort, lat, lon in _entrances_for(index, rng):
            if letter in ("", "A"):
                prop_number += 1
                prop = Property(
                    landlord_id=landlord.id,
                    designation=f"{ort} {index + 1}{prop_number:03d}:{rng.randint(1, 40)}",
                )
                session.add(prop)
            entrance = Entrance(
                landlord_id=landlord.id,
                real_property=prop,
                street=street,
                street_number=number,
                street_letter=letter,
                postnummer=postnummer,
                ort=ort,
                address_key=address_key(street, number, letter, postnummer),
                lat=lat,
                lon=lon,
                position_source="file",
                door_code=f"{rng.randint(1000, 9999)}" if rng.random() < 0.8 else None,
            )
            session.add(entrance)
            floors = rng.randint(3, 6)
            per_floor = rng.randint(2, 4)
            for floor in range(floors):
                for position in range(1, per_floor + 1):
                    lgh = f"{10 + floor:02d}{position:02d}"
                    obj = RentalObject(
                        landlord_id=landlord.id,
                        entrance=entrance,
                        objektsnummer=f"{index + 1}{prop_number:03d}-{letter or '0'}-{lgh}",
                        object_type="lägenhet",
                        lagenhetsnummer=lgh,
                        floor=floor,
                        rooms=Decimal(rng.choice([1, 1, 2, 2, 2, 3, 3, 4])),
                        area_m2=Decimal(rng.randint(28, 110)),
                        rent_sek=Decimal(rng.randint(55, 160) * 100),
                    )
                    session.add(obj)
                    if rng.random() < 0.05:
                        continue  # vacant
                    kundnummer += 1
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    tenant = Person(
                        landlord_id=landlord.id,
                        name=f"{first} {last}",
                        phone=normalise_phone(phones.pop()) if phones else None,
                        email=f"{first}.{last}.{kundnummer}@example.se".lower(),
                        kundnummer=str(kundnummer),
                        personnummer=personnummer.pop() if personnummer else None,
                    )
                    agreement = Agreement(
                        landlord_id=landlord.id,
                        avtalsnummer=f"A{kundnummer}",
                        starts_on=today - timedelta(days=rng.randint(30, 6000)),
                    )
                    agreement.objects.append(AgreementObject(rental_object=obj))
                    agreement.parties.append(AgreementParty(person=tenant, position=1))
                    session.add(agreement)
        session.flush()

    now = utcnow()
    for call_sign, area, lat, lon in PATROL_POSITIONS:
        patrol = upsert_patrol(session, call_sign=call_sign, name=f"{call_sign} ({area})")
        patrol.status, patrol.lat, patrol.lon, patrol.position_at = "available", lat, lon, now
    session.flush()
    return logins


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Fill an empty database with a realistic demo and print the log-ins once."""
    if db.session.scalar(select(func.count(Landlord.id))):
        raise click.ClickException(
            "the database already has landlords; demo fills only an empty one"
        )
    logins = build_demo(db.session)
    db.session.commit()
    objects = db.session.scalar(select(func.count(RentalObject.id)))
    click.echo(
        f"demo: {len(LANDLORDS)} landlords, {objects} objects, {len(PATROL_POSITIONS)} patrols"
    )
    path = Path(current_app.instance_path) / "demo-logins.json"
    path.write_text(json.dumps(logins, indent=1, ensure_ascii=False))
    path.chmod(0o600)
    click.echo("Demo log-ins (e-mail, role, password):")
    for email, (role, password) in logins.items():
        click.echo(f"  {email:40} {role:9} {password}")
