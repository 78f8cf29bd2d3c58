"""Laundry booking (seed 000): staff define rooms and passes per property; a tenant sees the
next free passes, books, cancels; at most N future bookings; one booking per pass and day,
also when two requests come at once (PostgreSQL, separate sessions)."""

from __future__ import annotations

import threading
from datetime import date, datetime, time

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models.portal import LaundryBooking, LaundryPass, LaundryRoom
from dispatch.portal import service
from tests.portal.conftest import csrf_of, log_in

NOW = "2026-11-26 09:00:00+01:00"  # a Thursday morning in Stockholm


@pytest.fixture
def laundry(home, db_session):
    room = LaundryRoom(landlord_id=home.landlord.id, property_id=home.property.id,
                       name="Tvättstuga 1")
    room.passes = [LaundryPass(starts_at=time(7), ends_at=time(10)),
                   LaundryPass(starts_at=time(10), ends_at=time(13))]
    db_session.add(room)
    db_session.flush()
    return room


def book(client, pass_id, day):
    token = csrf_of(client, "/portal/laundry")
    return client.post("/portal/laundry/book", data={
        "csrf_token": token, "pass_id": str(pass_id), "day": day})


def test_the_next_free_passes_leave_out_begun_and_booked_ones(client, home, laundry,
                                                             db_session):
    early, late = laundry.passes
    db_session.add(LaundryBooking(pass_id=late.id, day=date(2026, 11, 27),
                                  person_id=home.neighbour.id))
    db_session.flush()
    now = datetime(2026, 11, 26, 9, 0)
    free = service.free_passes(db_session, home.first.id, now=now, days=2)
    assert [(f.day.day, f.laundry_pass.starts_at.hour) for f in free] == [
        (26, 10), (27, 7), (28, 7), (28, 10)]


def test_a_tenant_books_sees_and_cancels_a_pass(client, home, laundry, db_session):
    with time_machine.travel(NOW, tick=False):
        log_in(client, home.first)
        response = book(client, laundry.passes[0].id, "2026-11-27")
        assert response.status_code == 302
        page = client.get("/portal/laundry").get_data(as_text=True)
        assert "Tvättstuga 1: 27 nov. 2026 07:00–10:00" in page or "27 november 2026" in page
        booking = db_session.scalars(select(LaundryBooking)).one()
        token = csrf_of(client, "/portal/laundry")
        response = client.post(f"/portal/laundry/bookings/{booking.id}/cancel",
                               data={"csrf_token": token})
        assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(LaundryBooking)) == 0


def test_a_pass_someone_has_is_refused_with_a_clear_answer(client, home, laundry,
                                                           db_session):
    db_session.add(LaundryBooking(pass_id=laundry.passes[0].id, day=date(2026, 11, 27),
                                  person_id=home.neighbour.id))
    db_session.flush()
    with time_machine.travel(NOW, tick=False):
        log_in(client, home.first)
        response = book(client, laundry.passes[0].id, "2026-11-27")
    assert response.status_code == 409
    assert "Någon annan bokade just det här passet." in response.get_data(as_text=True)


def test_at_most_n_future_bookings(client, home, laundry, app):
    app.config["PORTAL_LAUNDRY_MAX_BOOKINGS"] = 2
    with time_machine.travel(NOW, tick=False):
        log_in(client, home.first)
        assert book(client, laundry.passes[0].id, "2026-11-27").status_code == 302
        assert book(client, laundry.passes[1].id, "2026-11-27").status_code == 302
        response = book(client, laundry.passes[0].id, "2026-11-28")
    assert response.status_code == 409
    assert "Du har redan så många bokningar som tillåts." in response.get_data(as_text=True)


def test_a_begun_pass_or_one_too_far_ahead_cannot_be_booked(client, home, laundry):
    with time_machine.travel(NOW, tick=False):
        log_in(client, home.first)
        assert book(client, laundry.passes[0].id, "2026-11-26").status_code == 409
        assert book(client, laundry.passes[0].id, "2027-06-01").status_code == 409


def test_staff_add_a_room_and_a_pass_for_their_property(client, auth, home, create_user,
                                                       db_session):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    token = csrf_of(client, "/portal/staff/laundry")
    assert client.post("/portal/staff/laundry", data={
        "csrf_token": token, "action": "room", "property_id": str(home.property.id),
        "name": "Tvättstuga Götgatan"}).status_code == 302
    room = db_session.scalars(select(LaundryRoom)).one()
    response = client.post("/portal/staff/laundry", data={
        "csrf_token": token, "action": "pass", "room_id": str(room.id),
        "starts_at": "13:00", "ends_at": "12:00"})
    assert response.status_code == 400
    assert "Ange tid som TT:MM, slutet efter början." in response.get_data(as_text=True)
    assert client.post("/portal/staff/laundry", data={
        "csrf_token": token, "action": "pass", "room_id": str(room.id),
        "starts_at": "13:00", "ends_at": "16:00"}).status_code == 302
    db_session.refresh(room)
    assert [(p.starts_at, p.ends_at) for p in room.passes] == [(time(13), time(16))]


@pytest.mark.postgres_only
def test_two_tenants_booking_the_same_pass_at_once_get_one_booking(app):
    """Eight sessions on their own connections try the same pass at the same moment: exactly
    one booking, the others told the pass is taken."""
    from dispatch.models import (
        Agreement,
        AgreementObject,
        AgreementParty,
        Entrance,
        Landlord,
        Person,
        Property,
        RentalObject,
    )

    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=10)
    with Session(engine) as setup:
        landlord = Landlord(code="RACE", name="Race AB")
        setup.add(landlord)
        setup.flush()
        prop = Property(landlord_id=landlord.id, designation="Race 1:1")
        setup.add(prop)
        setup.flush()
        entrance = Entrance(landlord_id=landlord.id, property_id=prop.id, street="Racegatan",
                            street_number=1, postnummer="11111", ort="Stockholm",
                            address_key="race")
        setup.add(entrance)
        setup.flush()
        people = []
        for n in range(8):
            obj = RentalObject(landlord_id=landlord.id, entrance_id=entrance.id,
                               objektsnummer=f"R-{n}")
            person = Person(landlord_id=landlord.id, name=f"Tenant {n}")
            setup.add_all([obj, person])
            setup.flush()
            agreement = Agreement(landlord_id=landlord.id, avtalsnummer=f"R-{n}")
            agreement.objects = [AgreementObject(object_id=obj.id)]
            agreement.parties = [AgreementParty(person_id=person.id, position=1)]
            setup.add(agreement)
            people.append(person.id)
        room = LaundryRoom(landlord_id=landlord.id, property_id=prop.id, name="R")
        room.passes = [LaundryPass(starts_at=time(7), ends_at=time(10))]
        setup.add(room)
        setup.commit()
        pass_id, landlord_id = room.passes[0].id, landlord.id
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def attempt(person_id: int) -> None:
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            try:
                service.book_pass(session, person_id, pass_id, date(2026, 11, 27),
                                  now=datetime(2026, 11, 26, 9), max_future=2, days=14)
                session.commit()
                outcomes.append("booked")
            except service.PortalError as exc:
                session.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in people]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["booked"] + ["pass_taken"] * (len(people) - 1)
        with Session(engine) as check:
            assert check.scalar(select(func.count()).select_from(LaundryBooking)
                                .where(LaundryBooking.pass_id == pass_id)) == 1
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(sa.delete(Landlord).where(Landlord.id == landlord_id))
            cleanup.commit()
        engine.dispose()
