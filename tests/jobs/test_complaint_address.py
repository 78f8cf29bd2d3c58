"""A complaint is logged only at an address of its own landlord's register: an object or an
entrance of another landlord, or one that does not exist, is refused with a stable code, and
so is a suspected neighbour's flat; the caller's name is kept trimmed, or not at all, and
the time the call came is kept (else the time it was logged)
(``create_complaint`` in dispatch/jobs/dispatching.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.jobs.dispatching import DispatchError, NewComplaint, create_complaint
from dispatch.models import Entrance, RentalObject, utcnow


@pytest.fixture
def two_landlords(create_landlord, build_register, db_session):
    """ACME and OTHER, each with one flat; returns (acme, other)."""
    acme, other = create_landlord(code="ACME"), create_landlord(code="OTHER", name="Other AB")
    for landlord, objektsnummer, street in ((acme, "A-1", "Götgatan 12B"),
                                            (other, "O-1", "Ringvägen 100")):
        build_register(landlord, [{"objektsnummer": objektsnummer, "gatuadress": street,
                                   "postnummer": "118 46", "ort": "Stockholm",
                                   "lagenhetsnummer": "1102", "lat": "59.31", "lon": "18.07"}])
    return acme, other


def _flat(db_session, objektsnummer) -> RentalObject:
    return db_session.scalar(select(RentalObject).where(
        RentalObject.objektsnummer == objektsnummer))


def _log(db_session, landlord, **address):
    return create_complaint(db_session, NewComplaint(landlord=landlord, category="music",
                                                     **address), user_id=None)


def test_a_complaint_at_an_entrance_of_its_landlord_is_logged(db_session, two_landlords):
    acme, _ = two_landlords
    entrance = _flat(db_session, "A-1").entrance

    job = _log(db_session, acme, entrance_id=entrance.id)

    assert job.complaint.address.startswith("Götgatan 12B")


def test_an_entrance_of_another_landlord_is_refused(db_session, two_landlords):
    acme, _ = two_landlords
    theirs = _flat(db_session, "O-1").entrance

    with pytest.raises(DispatchError) as refused:
        _log(db_session, acme, entrance_id=theirs.id)

    assert refused.value.code == "unknown_entrance"


def test_an_entrance_that_does_not_exist_is_refused(db_session, two_landlords):
    acme, _ = two_landlords
    missing = (db_session.scalar(select(Entrance.id).order_by(Entrance.id.desc())) or 0) + 1000

    with pytest.raises(DispatchError) as refused:
        _log(db_session, acme, entrance_id=missing)

    assert refused.value.code == "unknown_entrance"


def test_an_object_of_another_landlord_is_refused(db_session, two_landlords):
    acme, _ = two_landlords

    with pytest.raises(DispatchError) as refused:
        _log(db_session, acme, object_id=_flat(db_session, "O-1").id)

    assert refused.value.code == "unknown_object"


def test_a_suspected_flat_of_another_landlord_is_refused(db_session, two_landlords):
    acme, _ = two_landlords

    with pytest.raises(DispatchError):
        _log(db_session, acme, object_id=_flat(db_session, "A-1").id,
             suspected_object_id=_flat(db_session, "O-1").id)


def test_a_complaint_without_an_address_is_refused(db_session, two_landlords):
    acme, _ = two_landlords

    with pytest.raises(DispatchError) as refused:
        _log(db_session, acme)

    assert refused.value.code == "address_required"


@pytest.mark.parametrize("given, stored", [("  Anna Svensson ", "Anna Svensson"),
                                           ("   ", None), (None, None)])
def test_the_callers_name_is_kept_trimmed_or_not_at_all(db_session, two_landlords, given,
                                                        stored):
    acme, _ = two_landlords

    job = _log(db_session, acme, object_id=_flat(db_session, "A-1").id, caller_name=given)

    assert job.complaint.caller_name == stored


def test_a_complaint_keeps_the_time_the_call_came_or_else_the_time_it_was_logged(
        db_session, two_landlords):
    acme, _ = two_landlords
    flat = _flat(db_session, "A-1")
    rang = utcnow().replace(microsecond=0) - timedelta(minutes=3)

    given = _log(db_session, acme, object_id=flat.id, call_received_at=rang).complaint
    logged = _log(db_session, acme, object_id=flat.id).complaint

    assert given.call_received_at == rang
    assert logged.call_received_at == logged.created_at
