"""Office identification (issue 15): staff find the tenant by name, kundnummer, address,
avtalsnummer or personnummer, see the number masked, choose one and mark that they showed ID
(audited with the staff member)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dispatch.auth import tenants
from dispatch.models import AuditEvent
from dispatch.models.accounts import TenantAccount
from tests.portal.conftest import csrf_of
from tests.support.tenant_helpers import CURRENT

pytest_plugins = ["tests.support.reports"]

TODAY = date(2026, 11, 26)


def names(found) -> list[str]:
    return [match.name for match in found]


def test_a_tenant_is_found_by_name_kundnummer_avtalsnummer_address_or_number(
        db_session, home):
    home.first.personnummer = CURRENT
    db_session.flush()
    assert names(tenants.find_tenants(db_session, "anna", TODAY)) == ["Anna Andersson"]
    assert names(tenants.find_tenants(db_session, "Andersson Anna", TODAY))[0] == \
        "Anna Andersson"
    assert names(tenants.find_tenants(db_session, "k-1001", TODAY)) == ["Anna Andersson"]
    assert sorted(names(tenants.find_tenants(db_session, "A-500", TODAY))) == [
        "Anna Andersson", "Bo Andersson"]
    assert sorted(names(tenants.find_tenants(db_session, "götgatan 12 B", TODAY))) == [
        "Anna Andersson", "Bo Andersson", "Cecilia Berg"]
    [anna] = tenants.find_tenants(db_session, "19900101-2385", TODAY)
    assert (anna.masked_number, anna.kundnummer, anna.avtalsnummer) == (
        "19900101-****", "K-1001", ("A-500",))
    assert anna.address == "Götgatan 12B, Stockholm"


def test_a_name_with_swedish_letters_is_found_whatever_its_case(db_session, home):
    home.neighbour.name = "Åsa Öberg"
    db_session.flush()
    for typed in ("åsa öberg", "ÅSA", "Öberg", "öberg åsa"):
        assert names(tenants.find_tenants(db_session, typed, TODAY)) == ["Åsa Öberg"], typed


def test_someone_without_an_agreement_in_force_is_not_offered(db_session, home):
    home.neighbour_agreement.ends_on = date(2026, 1, 31)
    db_session.flush()
    assert tenants.find_tenants(db_session, "Cecilia", TODAY) == []
    assert tenants.find_tenants(db_session, "%", TODAY) == []  # a wildcard is a character


def test_staff_search_choose_and_mark_identification_with_the_number_masked(
        client, db_session, auth, create_user, home, smtp):
    home.first.personnummer = CURRENT
    db_session.flush()
    operator = create_user(role="operator")
    auth.login(operator.email)
    page = client.get("/portal/office/identify?q=Anna").get_data(as_text=True)
    assert "Anna Andersson" in page and "19900101-****" in page
    assert CURRENT not in page and "2385" not in page
    chosen = client.get(f"/portal/office/identify?person={home.first.id}")
    text = chosen.get_data(as_text=True)
    assert "K-1001" in text and f'name="person_id" type="hidden" value="{home.first.id}"' in text
    token = csrf_of(client, "/portal/office/identify")
    done = client.post("/portal/office/identify", data={
        "csrf_token": token, "person_id": str(home.first.id), "document": "id_card",
        "email": "anna@example.se"})
    assert done.status_code == 302
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "tenant.office_identified"))
    assert (event.user_id, event.subject, event.details["document"]) == (
        operator.id, f"person:{home.first.id}", "id_card")
    account = db_session.scalar(select(TenantAccount).where(
        TenantAccount.email == "anna@example.se"))
    assert (account.person_id, account.identified_by) == (home.first.id, "office")
    assert smtp.to("anna@example.se")


def test_marking_without_choosing_a_tenant_keeps_what_was_typed_and_says_why(
        client, auth, create_user, home):
    auth.login(create_user(role="operator").email)
    token = csrf_of(client, "/portal/office/identify")
    answer = client.post("/portal/office/identify", data={
        "csrf_token": token, "document": "passport", "email": "anna@example.se"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Sök först fram hyresgästen och välj hen i listan." in page
    assert 'value="anna@example.se"' in page


def test_a_person_id_of_someone_without_an_agreement_is_refused(
        client, db_session, auth, create_user, home):
    home.neighbour_agreement.ends_on = date(2026, 1, 31)
    db_session.flush()
    auth.login(create_user(role="operator").email)
    token = csrf_of(client, "/portal/office/identify")
    answer = client.post("/portal/office/identify", data={
        "csrf_token": token, "person_id": str(home.neighbour.id), "document": "passport",
        "email": "cecilia@example.se"})
    assert answer.status_code == 400
    assert db_session.scalar(select(TenantAccount)) is None
