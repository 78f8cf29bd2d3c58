"""What the console shows about a flat holds only that flat's matters: its history has the
complaints from it, about it (as suspected source) and at its entrance, within retention,
never another address's; choosing a flat at an entrance offers only its active flats
(dispatch/register/premises.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs.dispatching import NewComplaint, create_complaint
from dispatch.models import RentalObject, utcnow
from dispatch.register.landlords import get_landlord
from dispatch.register.premises import entrance_view, history


def _row(objektsnummer, street, lgh):
    return {"objektsnummer": objektsnummer, "gatuadress": street, "postnummer": "11846",
            "ort": "Stockholm", "lagenhetsnummer": lgh, "lat": "59.3121", "lon": "18.0713"}


@pytest.fixture
def flats(create_landlord, build_register, db_session):
    """Götgatan 12 (1101, 1102, 1201) and Götgatan 14 (1101, 1102), by ``lgh@number``."""
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        _row("G12-1101", "Götgatan 12", "1101"), _row("G12-1102", "Götgatan 12", "1102"),
        _row("G12-1201", "Götgatan 12", "1201"), _row("G14-1101", "Götgatan 14", "1101"),
        _row("G14-1102", "Götgatan 14", "1102")])
    return {f"{o.lagenhetsnummer}@{o.objektsnummer[1:3]}": o
            for o in db_session.scalars(select(RentalObject))}


def _complain(db_session, category, at_flat, suspected=None, *, age=None):
    job = create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category=category, object_id=at_flat.id,
        suspected_object_id=suspected.id if suspected else None), user_id=None)
    if age is not None:
        job.complaint.created_at = utcnow() - age
        db_session.flush()
    return job.complaint


def _history(db_session, flat):
    return [(h["category"], h["role"]) for h in history(db_session, flat, retention_days=90)]


def test_a_flats_history_has_its_own_its_suspected_and_its_entrances_complaints(db_session,
                                                                                flats):
    _complain(db_session, "music", flats["1102@12"])
    _complain(db_session, "party", flats["1101@14"], suspected=flats["1102@12"])
    _complain(db_session, "smoke", flats["1201@12"])

    assert sorted(_history(db_session, flats["1102@12"])) == [
        ("music", "complainant"), ("party", "suspected_source"), ("smoke", "same_entrance")]


def test_a_complaint_at_another_address_about_another_flat_is_not_in_the_history(db_session,
                                                                                 flats):
    _complain(db_session, "music", flats["1101@14"])
    _complain(db_session, "party", flats["1101@14"], suspected=flats["1102@14"])

    assert _history(db_session, flats["1102@12"]) == []


def test_a_complaint_older_than_retention_is_not_in_the_history(db_session, flats):
    _complain(db_session, "music", flats["1102@12"], age=timedelta(days=90, minutes=1))
    _complain(db_session, "party", flats["1102@12"], age=timedelta(days=89, hours=23))

    assert _history(db_session, flats["1102@12"]) == [("party", "complainant")]


def test_the_history_is_newest_first(db_session, flats):
    for days, category in ((3, "music"), (1, "party"), (2, "smoke")):
        _complain(db_session, category, flats["1102@12"], age=timedelta(days=days))

    assert [c for c, _ in _history(db_session, flats["1102@12"])] == ["party", "smoke", "music"]


def test_choosing_a_flat_at_an_entrance_offers_only_its_active_flats(db_session, flats):
    flats["1101@12"].retired_at = utcnow()
    db_session.flush()

    view = entrance_view(db_session, flats["1102@12"].entrance)

    assert [o["lagenhetsnummer"] for o in view["objects"]] == ["1102", "1201"]
