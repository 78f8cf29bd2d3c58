"""The landlord's tenant-account policy on a staff page (issue 15; before, only the command
``dispatch tenant-account-policy``): a landlord's staff see and set whether tenants may register
from the signing of their agreement, for their own landlord only; every change is audited with
the staff member, and the rule takes effect for the next identification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.auth import tenants
from dispatch.auth.identity import Identity
from dispatch.models import Agreement, AgreementParty, AuditEvent, Person
from tests.portal.conftest import csrf_of
from tests.support.tenant_helpers import SIGNED


@pytest.fixture
def staff(client, auth, home, create_user):
    user = create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    return user


def _save(client, landlord_id, from_signing: bool):
    token = csrf_of(client, "/portal/staff/accounts")
    data = {"csrf_token": token, "landlord_id": str(landlord_id)}
    if from_signing:
        data["register_from_signing"] = "yes"
    return client.post("/portal/staff/accounts", data=data)


def _signed_tenant(db_session, landlord) -> None:
    person = Person(landlord_id=landlord.id, name="Siv Signed", kundnummer="K-3",
                    personnummer=SIGNED)
    db_session.add(person)
    db_session.flush()
    agreement = Agreement(landlord_id=landlord.id, avtalsnummer="A-900",
                          starts_on=date.today() + timedelta(days=30))
    agreement.parties = [AgreementParty(person_id=person.id, position=1)]
    db_session.add(agreement)
    db_session.flush()


def test_staff_turn_on_registration_from_signing_audited_and_a_signed_tenant_may_identify(
        client, db_session, home, staff):
    _signed_tenant(db_session, home.landlord)
    page = client.get("/portal/staff/accounts")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Hyresgästkonton" in text and "Stockholmshem" in text
    assert 'name="register_from_signing" type="checkbox" value="yes">' in text  # off
    refused = tenants.identify(db_session, Identity(SIGNED, "Siv", "SE"), "bankid",
                               today=date.today(), ip=None)
    assert refused.identification is None

    saved = _save(client, home.landlord.id, True)

    assert saved.status_code == 302
    shown = client.get("/portal/staff/accounts").get_data(as_text=True)
    assert "får registrera sig när avtalet är undertecknat" in shown  # the flash
    assert 'value="yes" checked>' in shown
    [event] = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "tenant.policy_changed")).all()
    assert event.user_id == staff.id
    assert event.subject == f"landlord-id:{home.landlord.id}"
    assert event.details == {"register_from_signing": True, "before": False}
    allowed = tenants.identify(db_session, Identity(SIGNED, "Siv", "SE"), "bankid",
                               today=date.today(), ip=None)
    assert allowed.identification is not None and allowed.tenancy.state == "signed"


def test_staff_turn_it_off_again_and_that_is_audited_too(client, db_session, home, staff):
    _save(client, home.landlord.id, True)
    assert _save(client, home.landlord.id, False).status_code == 302
    assert not tenants.register_from_signing(db_session, home.landlord.id)
    details = db_session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "tenant.policy_changed").order_by(AuditEvent.id)).all()
    assert details == [{"register_from_signing": True, "before": False},
                       {"register_from_signing": False, "before": True}]


def test_another_landlords_policy_is_neither_shown_nor_changed(
        client, db_session, home, staff, create_landlord):
    other = create_landlord(code="HEKA", name="Heka")
    assert "Heka" not in client.get("/portal/staff/accounts").get_data(as_text=True)
    assert _save(client, other.id, True).status_code == 404
    assert _save(client, 999_999, True).status_code == 404
    assert not tenants.register_from_signing(db_session, other.id)
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.policy_changed")) is None


def test_the_page_is_for_staff_only(client, tenant):
    assert client.get("/portal/staff/accounts").status_code in (302, 403)


def test_the_page_in_finnish(client, home, staff):
    from flask import g

    g.pop("_flask_babel", None)  # the tests' app context outlives the log-in request's language
    page = client.get("/portal/staff/accounts?lang=fi").get_data(as_text=True)
    assert "Asukkaiden tilit" in page and "allekirjoitettu" in page
