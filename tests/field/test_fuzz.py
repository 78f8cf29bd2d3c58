"""Every /field event's payload, fuzzed (issue #14): whatever a tablet sends, it gets an
acknowledgement, no exception escapes and it is never ``internal_error``. The payloads are
JSON-shaped (what Socket.IO can carry), mixed with the keys each event reads and the ids of a
real job and delivery, so that the fuzz reaches past the first check."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dispatch.core.extensions import socketio
from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.models import Delivery, Patrol, RentalObject, utcnow
from dispatch.register.landlords import get_landlord

EVENTS = {
    "job.ack": ["delivery_id", "job_id"],
    "job.status": ["job_id", "status", "at", "event_id"],
    "position": ["lat", "lon", "accuracy_m", "at"],
    "patrol.status": ["status"],
    "job.report": ["job_id", "arrived_at", "left_at", "observations", "disturber_reached",
                   "disturber_response", "tenant_contacted", "actions", "outcome",
                   "can_testify", "text"],
    "ping": [],
}
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["accepted", "en_route", "on_site", "done", "available", "off_duty",
                     "stopped", "police_called", "2026-11-26T23:40:00+01:00",
                     "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "Z", ""]),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


@pytest.fixture
def world(app, client, create_token, create_landlord, build_register, db_session):
    """Jour 11's tablet on /field with a job of its own delivered; the ids it might name."""
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        {"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B", "postnummer": "118 46",
         "ort": "Stockholm", "lagenhetsnummer": "1102", "portkod": "4711",
         "lat": "59.3121", "lon": "18.0713"}])
    flat = db_session.scalars(select(RentalObject)).one()
    patrol = Patrol(call_sign="Jour 11", name="Jour 11", status="available", lat=59.31,
                    lon=18.07, position_at=utcnow())
    db_session.add(patrol)
    db_session.flush()
    job = create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music", object_id=flat.id),
        user_id=None)
    assign(db_session, job, patrol, user_id=None)
    db_session.commit()
    token, _ = create_token(role="patrol", kind="device", label="Jour 11")
    ws = socketio.test_client(app, namespace="/field", flask_test_client=client,
                              auth={"token": token, "call_sign": "Jour 11"})
    assert ws.is_connected("/field")
    delivery_id = db_session.scalar(select(Delivery.id).where(Delivery.job_id == job.id))
    yield ws, [job.id, delivery_id]
    if ws.is_connected("/field"):
        ws.disconnect(namespace="/field")


def _payloads(event):
    keys = EVENTS[event]

    @st.composite
    def payload(draw, ids):
        if draw(st.integers(0, 9)) == 0:  # now and then not an object at all
            return draw(json_values)
        value = st.one_of(json_values, st.sampled_from(ids))
        known = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(keys, value)))
        extra = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3))
        return {**extra, **known}

    return payload


def _assert_answered(ws, event, data):
    answer = ws.emit(event, data, namespace="/field", callback=True)
    assert isinstance(answer, dict) and isinstance(answer.get("ok"), bool), (event, data, answer)
    if not answer["ok"]:
        assert answer["error"]["code"] not in ("internal_error", "database_unavailable"), (
            event, data, answer)
    ws.get_received("/field")


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_no_payload_makes_a_field_event_fail_inside(event, world):
    ws, ids = world

    @FUZZ
    @given(data=st.data())
    def run(data):
        _assert_answered(ws, event, data.draw(_payloads(event)(ids)))

    run()
    assert ws.is_connected("/field")


def test_an_unknown_event_with_any_payload_is_answered(world):
    ws, _ = world

    @FUZZ
    @given(name=st.text(min_size=1, max_size=30).filter(
        lambda n: n not in EVENTS and n not in ("connect", "disconnect", "message")),
        data=json_values)
    def run(name, data):
        answer = ws.emit(name, data, namespace="/field", callback=True)
        assert answer["error"]["code"] == "unknown_event"

    run()
