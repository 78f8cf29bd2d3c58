"""The cars' phones for the escalation's SMS (issue 19), on /admin/devices: typed as people
write numbers, stored in E.164; an impossible number is refused next to its field with what
was typed kept; the audit log says the phone changed, never the number."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, Patrol


@pytest.fixture
def admin(auth, create_user):
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    return auth


@pytest.fixture
def car(db_session):
    patrol = Patrol(call_sign="Jour 11", name="Jour 11")
    db_session.add(patrol)
    db_session.flush()
    return patrol


def post_phone(client, admin, car, typed):
    prefix = f"car{car.id}"
    return client.post(f"/admin/devices/cars/{car.id}/phone", data={
        f"{prefix}-csrf_token": admin.csrf_token("/admin/devices"), f"{prefix}-phone": typed})


def test_a_car_phone_typed_nationally_is_stored_in_e164_and_shown_nationally(
        client, admin, car, db_session):
    answer = post_phone(client, admin, car, "070-174 06 99")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"#car-{car.id}")
    db_session.refresh(car)
    assert car.phone == "+46701740699"
    page = client.get("/admin/devices").get_data(as_text=True)
    assert 'value="070-174 06 99"' in page and "Bilarnas telefoner för SMS" in page
    [audit] = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "patrol.phone_changed")).all()
    assert audit.subject == "patrol:Jour 11" and audit.details == {"has_phone": True}
    assert "0701740699" not in str(audit.details) and "+4670" not in str(audit.details)


def test_an_impossible_number_is_refused_next_to_its_field_and_kept_as_typed(
        client, admin, car, db_session):
    answer = post_phone(client, admin, car, "12")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Det här är inte ett telefonnummer" in page
    assert f'id="car{car.id}-phone-error"' in page and 'value="12"' in page
    assert 'aria-invalid="true"' in page
    db_session.refresh(car)
    assert car.phone is None


def test_an_empty_field_removes_the_phone(client, admin, car, db_session):
    car.phone = "+46701740699"
    db_session.flush()
    assert post_phone(client, admin, car, "").status_code == 302
    db_session.refresh(car)
    assert car.phone is None


def test_only_admins_set_a_car_phone(auth, client, create_user, car):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert post_phone(client, auth, car, "070-174 06 99").status_code == 403
