"""A mail to the tenant when the landlord's staff answer (issue 15), on a fault report or a
message: in the tenant's language (subject and plain text), with the link to read it on My
pages and nothing more: not the answer itself, no identity number, phone or door code."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from dispatch.models import Person
from dispatch.models.portal import FaultReport, PortalMessage
from tests.portal.conftest import csrf_of
from tests.portal.test_faults import report


@pytest.fixture
def staff(client, auth, home, create_user, app, tmp_path):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path), BASE_URL="https://hem.example")
    return auth


def _mails(tmp_path):
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(tmp_path.glob("*.eml"))]


def _answer_fault(client, staff, fault, body):
    staff.login("staff@shem.se")
    token = csrf_of(client, f"/portal/staff/faults/{fault.id}?lang=sv")
    return client.post(f"/portal/staff/faults/{fault.id}",
                       data={"csrf_token": token, "action": "message", "body": body})


def test_an_answer_on_a_fault_report_mails_the_tenant_a_link_but_not_the_answer(
        client, tenant, home, staff, db_session, tmp_path):
    home.first.personnummer = "199001012385"
    db_session.flush()
    report(tenant, home)
    fault = db_session.scalars(select(FaultReport)).one()

    answer = _answer_fault(client, staff, fault, "Portkod 4711, ring 070-1234567")

    assert answer.status_code == 302
    [mail] = _mails(tmp_path)
    text = mail.get_body(("plain",)).get_content()
    assert mail["To"] == "anna@example.se"
    assert mail["Subject"] == "Din hyresvärd har svarat dig på Mina sidor"
    assert "Hej Anna Andersson," in text and "om din felanmälan (" in text
    assert f"https://hem.example/portal/faults/{fault.id}" in text
    raw = mail.as_string()
    for secret in ("4711", "070-1234567", "199001012385", "900101", "+46701234567"):
        assert secret not in raw
    assert db_session.scalar(select(PortalMessage.body).where(
        PortalMessage.from_staff.is_(True))) == "Portkod 4711, ring 070-1234567"


@pytest.mark.parametrize(("country", "subject"), [
    ("FI", "Vuokranantajasi on vastannut sinulle Omilla sivuilla"),
    ("SE", "Din hyresvärd har svarat dig på Mina sidor")])
def test_an_answer_to_a_message_is_mailed_in_the_tenants_language_not_the_staffs(
        client, home, staff, db_session, tmp_path, country, subject):
    home.landlord.country = country
    db_session.flush()
    staff.login("staff@shem.se")
    token = csrf_of(client, "/portal/staff/?lang=en")

    answer = client.post(f"/portal/staff/people/{home.first.id}/messages",
                         data={"csrf_token": token, "subject": "Hyran", "body": "Vi har ändrat"})

    assert answer.status_code == 302
    [mail] = _mails(tmp_path)
    assert mail["Subject"] == subject
    text = mail.get_body(("plain",)).get_content()
    assert "https://hem.example/portal/messages" in text
    assert "Vi har ändrat" not in text and "Your landlord" not in text


def test_a_tenant_without_an_e_mail_address_gets_the_answer_and_the_staff_are_told(
        client, home, staff, db_session, tmp_path):
    db_session.get(Person, home.neighbour.id).email = None
    db_session.flush()
    staff.login("staff@shem.se")
    token = csrf_of(client, "/portal/staff/")

    answer = client.post(f"/portal/staff/people/{home.neighbour.id}/messages",
                         data={"csrf_token": token, "body": "Hej"}, follow_redirects=True)

    assert "hyresgästen har ingen e-postadress" in answer.get_data(as_text=True)
    assert _mails(tmp_path) == []
    assert db_session.scalar(select(PortalMessage.body).where(
        PortalMessage.person_id == home.neighbour.id)) == "Hej"
