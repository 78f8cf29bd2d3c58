"""Tenants see only their own rows: every portal route with an id answers 404 for another
tenant's id (and the same for a landlord's staff and another landlord's id); every route
is listed here, and a new route with an id and no test here fails the last test."""

from __future__ import annotations

import io
from datetime import date, time

import pytest
from PIL import Image

from dispatch.models import Agreement, AgreementObject, AgreementParty, Person, Property
from dispatch.models.portal import (
    FaultPhoto,
    FaultReport,
    Invoice,
    LaundryBooking,
    LaundryPass,
    LaundryRoom,
)
from tests.portal.conftest import csrf_of, log_in


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def theirs(home, db_session, create_landlord):
    """The neighbour's rows (same landlord) and another landlord's fault report."""
    n = home.neighbour
    invoice = Invoice(landlord_id=home.landlord.id, agreement_id=home.neighbour_agreement.id,
                      invoice_number="N-1", ocr="1230", amount_ore=100,
                      issued_on=date(2026, 11, 1), due_on=date(2026, 11, 30))
    fault = FaultReport(landlord_id=home.landlord.id, person_id=n.id,
                        object_id=home.neighbour_flat.id, category="water", room="kitchen",
                        description="x")
    fault.photos = [FaultPhoto(data=_jpeg(), width=4, height=4)]
    room = LaundryRoom(landlord_id=home.landlord.id, property_id=home.property.id, name="T")
    room.passes = [LaundryPass(starts_at=time(7), ends_at=time(10))]
    db_session.add_all([invoice, fault, room])
    db_session.flush()
    booking = LaundryBooking(pass_id=room.passes[0].id, day=date(2099, 1, 1), person_id=n.id)
    db_session.add(booking)
    other = create_landlord(code="OTHER", name="Other AB")
    other_prop = Property(landlord_id=other.id, designation="Annan 1:1")
    other_person = Person(landlord_id=other.id, name="Olle")
    db_session.add_all([other_prop, other_person])
    db_session.flush()
    other_fault = FaultReport(landlord_id=other.id, person_id=other_person.id,
                              object_id=home.neighbour_flat.id, category="water",
                              room="kitchen", description="y")
    other_fault.photos = [FaultPhoto(data=_jpeg(), width=4, height=4)]
    other_room = LaundryRoom(landlord_id=other.id, property_id=other_prop.id, name="O")
    other_room.passes = [LaundryPass(starts_at=time(7), ends_at=time(10))]
    db_session.add_all([other_fault, other_room])
    db_session.flush()
    return {"invoice": invoice, "fault": fault, "photo": fault.photos[0], "booking": booking,
            "pass": room.passes[0], "agreement": home.neighbour_agreement,
            "other_fault": other_fault, "other_photo": other_fault.photos[0],
            "other_person": other_person, "other_room": other_room,
            "other_pass": other_room.passes[0]}


TENANT_GETS = [
    "/portal/invoices/{invoice}.pdf",
    "/portal/faults/{fault}",
    "/portal/faults/{fault}/photos/{photo}.jpg",
    "/portal/agreements/{agreement}/notice",
]
TENANT_POSTS = [
    ("/portal/faults/{fault}/messages", {"body": "hej"}),
    ("/portal/laundry/bookings/{booking}/cancel", {}),
    ("/portal/agreements/{agreement}/notice", {"confirm": "yes"}),
]
STAFF_GETS = [
    "/portal/staff/faults/{other_fault}",
    "/portal/staff/faults/{other_fault}/photos/{other_photo}.jpg",
]
STAFF_POSTS = [
    ("/portal/staff/faults/{other_fault}", {"action": "status", "status": "done"}),
    ("/portal/staff/people/{other_person}/messages", {"body": "hej"}),
    ("/portal/staff/laundry", {"action": "pass", "room_id": "{other_room}",
                               "starts_at": "10:00", "ends_at": "11:00"}),
    ("/portal/staff/laundry", {"action": "delete_pass", "pass_id": "{other_pass}"}),
]


def _ids(theirs) -> dict:
    return {key: row.id for key, row in theirs.items()}


@pytest.mark.parametrize("path", TENANT_GETS)
def test_another_tenants_id_is_not_found(tenant, theirs, path):
    assert tenant.get(path.format(**_ids(theirs))).status_code == 404


@pytest.mark.parametrize(("path", "data"), TENANT_POSTS)
def test_another_tenants_id_cannot_be_changed(tenant, theirs, db_session, path, data):
    token = csrf_of(tenant, "/portal/")
    response = tenant.post(path.format(**_ids(theirs)), data={"csrf_token": token, **data})
    assert response.status_code == 404
    db_session.refresh(theirs["agreement"])
    assert theirs["agreement"].notice_given_on is None
    assert db_session.get(LaundryBooking, theirs["booking"].id) is not None


def test_a_pass_of_another_property_cannot_be_booked(tenant, theirs):
    token = csrf_of(tenant, "/portal/laundry")
    response = tenant.post("/portal/laundry/book", data={
        "csrf_token": token, "pass_id": str(theirs["other_pass"].id), "day": "2099-01-02"})
    assert response.status_code == 404


def test_a_former_tenant_of_the_agreement_sees_nothing_of_it(client, home, theirs,
                                                             db_session):
    former = Person(landlord_id=home.landlord.id, name="Före Detta")
    db_session.add(former)
    db_session.flush()
    ended = Agreement(landlord_id=home.landlord.id, avtalsnummer="A-1",
                      starts_on=date(2010, 1, 1), ends_on=date(2019, 12, 31))
    ended.objects = [AgreementObject(object_id=home.neighbour_flat.id)]
    ended.parties = [AgreementParty(person_id=former.id, position=1)]
    db_session.add(ended)
    db_session.flush()
    log_in(client, former)
    assert client.get(f"/portal/invoices/{theirs['invoice'].id}.pdf").status_code == 404
    assert "1-1202" not in client.get("/portal/").get_data(as_text=True)


@pytest.mark.parametrize("path", STAFF_GETS)
def test_another_landlords_id_is_not_found_for_staff(client, auth, home, create_user, theirs,
                                                     path):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    assert client.get(path.format(**_ids(theirs))).status_code == 404


@pytest.mark.parametrize(("path", "data"), STAFF_POSTS)
def test_another_landlords_id_cannot_be_changed_by_staff(client, auth, home, create_user,
                                                         theirs, db_session, path, data):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    token = csrf_of(client, "/portal/staff/")
    ids = _ids(theirs)
    filled = {k: v.format(**ids) for k, v in data.items()}
    response = client.post(path.format(**ids), data={"csrf_token": token, **filled})
    assert response.status_code == 404
    db_session.refresh(theirs["other_fault"])
    assert theirs["other_fault"].status == "received"
    assert db_session.get(LaundryPass, theirs["other_pass"].id) is not None


def test_staff_pages_are_for_landlord_staff_only(client, auth, create_user, tenant):
    assert tenant.get("/portal/staff/").status_code == 302  # a tenant is not staff
    create_user(role="operator", email="op@jour.se")
    auth.login("op@jour.se")
    assert client.get("/portal/staff/").status_code == 403


def test_every_portal_route_with_an_id_is_covered_here(app):
    covered = {p.split("{")[0] for p in TENANT_GETS + STAFF_GETS}
    covered |= {p.split("{")[0] for p, _d in TENANT_POSTS + STAFF_POSTS}
    with_ids = {rule.rule for rule in app.url_map.iter_rules()
                if rule.rule.startswith("/portal/") and rule.arguments
                and app.view_functions[rule.endpoint].__module__ in MINA_SIDOR}
    uncovered = {r for r in with_ids if r.split("<")[0] not in covered}
    assert uncovered == set()


# Mina sidor's modules; the account routes (tokens in links, not row ids) are tested there.
MINA_SIDOR = {"dispatch.portal.pages", "dispatch.portal.staff", "dispatch.portal.invoices"}
