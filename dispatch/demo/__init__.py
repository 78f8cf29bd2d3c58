"""``dispatch demo``: fill an empty database with something an operator would recognise.

Three landlords with on-call numbers and contact persons, a register of a few thousand objects
on real Stockholm-area streets, tenants with fictional phone numbers, eight patrols across the
city, a user of every role, and a night's work (``demo.night``): jobs done with their reports
released or waiting for review, and a few open. Random but reproducible (fixed seed). The data is in
``demo.data``. Imports core, models, auth, the domain packages and the importer's service.
"""

from __future__ import annotations

import csv
import json
import random
import secrets
import time
from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import format_decimal, gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.auth.service import upsert_user
from dispatch.core.cli import CommandRefused
from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.core.i18n import in_default_locale
from dispatch.demo.data import (
    FIRST_NAMES,
    LAST_NAMES,
    PATROL_POSITIONS,
    STREETS,
    TEST_PERSONNUMMER,
    fictional_phone_numbers,
)
from dispatch.demo.night import seed_night
from dispatch.jobs.dispatching import record_status
from dispatch.jobs.patrols import upsert_patrol
from dispatch.models import (
    Job,
    Landlord,
    Patrol,
    PatrolPosition,
    Person,
    RentalObject,
    User,
    utcnow,
)
from dispatch.register.landlords import upsert_landlord
from imports.service import import_register

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


REGISTER_COLUMNS = [
    "objektsnummer", "objektstyp", "gatuadress", "postnummer", "ort", "fastighetsbeteckning",
    "lagenhetsnummer", "portkod", "lat", "lon", "rum", "yta", "hyra", "avtalsnummer",
    "kundnummer", "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost", "avtal_fran",
]


def demo_register_rows(landlord_index: int, rng: random.Random, phones: list[str]):
    """A landlord's register as the file rows a landlord would send (register-format.md)."""
    today = date.today()
    kundnummer = 100000 * (landlord_index + 1)
    prop_number = 0
    for street, number, letter, postnummer, ort, lat, lon in _entrances_for(landlord_index, rng):
        if letter in ("", "A"):
            prop_number += 1
            designation = f"{ort} {landlord_index + 1}{prop_number:03d}:{rng.randint(1, 40)}"
            door_code = f"{rng.randint(1000, 9999)}" if rng.random() < 0.8 else ""
        address = f"{street} {number}{letter}"
        for floor in range(rng.randint(3, 6)):
            for position in range(1, rng.randint(2, 4) + 1):
                lgh = f"{10 + floor:02d}{position:02d}"
                row = {
                    "objektsnummer": f"{landlord_index + 1}{prop_number:03d}-{letter or '0'}-{lgh}",
                    "objektstyp": "lägenhet", "gatuadress": address,
                    "postnummer": f"{postnummer[:3]} {postnummer[3:]}", "ort": ort,
                    "fastighetsbeteckning": designation, "lagenhetsnummer": lgh,
                    "portkod": door_code,
                    # Only the first flat of an entrance carries coordinates: the importer
                    # gives the others those of the same address, as it must for real files.
                    "lat": f"{lat}".replace(".", ",") if floor == 0 and position == 1 else "",
                    "lon": f"{lon}".replace(".", ",") if floor == 0 and position == 1 else "",
                    "rum": rng.choice([1, 1, 2, 2, 2, 3, 3, 4]),
                    "yta": f"{rng.randint(28, 110)},{rng.randint(0, 9)}",
                    "hyra": rng.randint(55, 160) * 100,
                }
                if rng.random() >= 0.05:  # 5 % vacant
                    kundnummer += 1
                    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                    row.update({
                        "avtalsnummer": f"A{kundnummer}", "kundnummer": str(kundnummer),
                        "hyresgast_namn": f"{first} {last}",
                        "hyresgast_telefon": phones.pop() if phones else "",
                        "hyresgast_epost": f"{first}.{last}.{kundnummer}@example.se".lower(),
                        "avtal_fran": (today - timedelta(days=rng.randint(30, 6000))).isoformat(),
                    })
                yield row


def write_register(path: Path, rows) -> int:
    """Write rows as a semicolon CSV in UTF-8 with BOM, as Excel exports it; return the count."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=REGISTER_COLUMNS, delimiter=";")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def build_demo(session: Session, folder: Path, *, seed: int = 3) -> dict:
    """Create the demo data through the register importer; return the log-ins to print once."""
    rng = random.Random(seed)
    phones = [n for n in fictional_phone_numbers() if n not in {x[2] for x in LANDLORDS}]
    rng.shuffle(phones)
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

    folder.mkdir(parents=True, exist_ok=True)
    for index, (code, name, oncall, _) in enumerate(LANDLORDS):
        landlord = upsert_landlord(session, code=code, name=name, oncall_numbers=[oncall])
        lower = code.lower()
        add_user(f"kontakt@{lower}.demo.se", "landlord", landlord, f"Kontakt {name}")
        add_user(f"forvaltare@{lower}.demo.se", "landlord", landlord, f"Förvaltare {name}")
        path = folder / f"register-{lower}.csv"
        write_register(path, demo_register_rows(index, rng, phones))
        summary = import_register(session, landlord, path, actor="demo")
        if summary.status != "accepted":
            raise RuntimeError(f"demo register rejected: {summary.message}")

    # Personnummer are not in the register file; a few tenants get Skatteverket's test numbers
    # so that the field is seen in use.
    tenants = session.scalars(select(Person).order_by(Person.id).limit(len(TEST_PERSONNUMMER)))
    for person, number in zip(tenants, TEST_PERSONNUMMER, strict=False):
        person.personnummer = number

    now = utcnow()
    for call_sign, area, lat, lon in PATROL_POSITIONS:
        patrol = upsert_patrol(session, call_sign=call_sign, name=f"{call_sign} ({area})")
        patrol.status, patrol.lat, patrol.lon, patrol.position_at = "available", lat, lon, now
        patrol.last_seen_at = now
    session.flush()
    # (The registers' statistics are fresh: a first import on PostgreSQL ANALYZEs them.)
    # A night's work before now: jobs done and reported (most released, a few waiting for
    # review) and a few open on the board, so that every page has something to show.
    operator = session.scalar(select(User).where(User.email == "operator@demo.storningsjour.se"))
    seed_night(session, rng, now=now, operator=operator)
    return logins


# The demo cars have no tablet: kept present (PRESENCE_GRACE_S) with a fresh position
# (PATROL_POSITION_MAX_AGE_S) by ``demo --keep-cars-present``, as a tablet would keep them.
KEEP_PRESENT_EVERY_S = 5
STILL_FOR = timedelta(seconds=45)  # a car whose position is younger has a tablet of its own
ACCEPT_AFTER = timedelta(seconds=5)  # a demo crew accepts a job sent to it after this


def stamp_demo_cars(session: Session, *, now=None) -> int:
    """Stamp the demo cars (not off duty, no position for ``STILL_FOR``) as seen and placed
    now, where they stand; a car with a tablet sending positions is left to it. Returns how
    many were stamped."""
    now = now or utcnow()
    call_signs = [call_sign for call_sign, *_ in PATROL_POSITIONS]
    stale = session.scalars(select(Patrol).where(
        Patrol.call_sign.in_(call_signs), Patrol.status != "off_duty",
        Patrol.lat.is_not(None),
        (Patrol.position_at.is_(None)) | (Patrol.position_at < now - STILL_FOR))).all()
    for patrol in stale:
        patrol.position_at = patrol.last_seen_at = now
    session.flush()
    # Their crews take what they are sent (a person accepts on a tablet), well before the
    # server's acknowledgement timer would raise the alarm and move the job on. A car whose
    # tablet reported a position lately is left to its crew.
    with_tablet = select(PatrolPosition.patrol_id).where(PatrolPosition.at >= now - STILL_FOR)
    sent = session.scalars(select(Job).join(Patrol, Patrol.id == Job.patrol_id).where(
        Patrol.call_sign.in_(call_signs), Patrol.id.not_in(with_tablet),
        Job.status == "assigned", Job.dispatched_at <= now - ACCEPT_AFTER)).all()
    for job in sent:
        record_status(session, job, patrol_id=job.patrol_id, status="accepted", at=now)
    return len(stale)


@click.command("demo")
@click.option("--keep-cars-present", is_flag=True,
              help="Do not fill: keep the demo cars recommended (seen, with a fresh position) "
                   f"every {KEEP_PRESENT_EVERY_S} s until stopped, as tablets would, and "
                   "accept the jobs sent to them, as their crews would.")
@with_appcontext
@in_default_locale
def demo_command(keep_cars_present: bool = False) -> None:
    """Fill an empty database with a realistic demo and print the log-ins once."""
    if keep_cars_present:
        while True:
            with unit_of_work():
                stamp_demo_cars(db.session)
            db.session.remove()
            time.sleep(KEEP_PRESENT_EVERY_S)
    if db.session.scalar(select(func.count(Landlord.id))):
        raise CommandRefused(
            gettext("the database already has landlords; demo fills only an empty one"))
    with unit_of_work():
        logins = build_demo(db.session, Path(current_app.instance_path) / "demo")
    objects = db.session.scalar(select(func.count(RentalObject.id)))
    click.echo(gettext("demo: %(landlords)s landlords, %(objects)s objects, %(patrols)s patrols",
                       landlords=len(LANDLORDS), objects=format_decimal(objects),
                       patrols=len(PATROL_POSITIONS)))
    path = Path(current_app.instance_path) / "demo-logins.json"
    path.write_text(json.dumps(logins, indent=1, ensure_ascii=False))
    path.chmod(0o600)
    click.echo(gettext("Demo log-ins (e-mail, role, password):"))
    for email, (role, password) in logins.items():
        click.echo(f"  {email:40} {role:9} {password}")
