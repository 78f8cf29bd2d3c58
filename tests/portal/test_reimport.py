"""A re-import of the register never breaks a tenant's account (issue 15): the account made on
an imported register still logs in and sees its agreement after the landlord imports the
register again with changes (phone, rent, another tenant) or with the tenant's row unchanged;
when the agreement leaves the register, the log-in says so clearly (no 500)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from dispatch.auth import tenants
from dispatch.auth.identity import Identity
from dispatch.models import Person
from dispatch.models.accounts import TenantAccount
from tests.imports.test_formats import assert_accepted, register_row, run_import, write_register
from tests.support.reports_helpers import forget_request_state
from tests.support.tenant_helpers import CURRENT, SECOND, csrf_of

GOOD = "Hyra#2026"


def _rows(**changes) -> list[dict]:
    """Ten objects; object 3 is Tove's flat (agreement A00003, her personnummer)."""
    rows = [register_row(i) for i in range(1, 11)]
    rows[2] = register_row(3, hyresgast_namn="Tove Tenant", hyresgast_personnummer=CURRENT,
                           **changes)
    return rows


@pytest.fixture
def imported(db_session, create_landlord, tmp_path):
    landlord = create_landlord(code="HEMMA", name="Hemma Bostäder")
    assert_accepted(run_import(db_session, landlord, write_register(tmp_path, _rows())))
    found = tenants.identify(db_session, Identity(CURRENT, "Tove Tenant", "SE"), "bankid",
                             today=date.today(), ip=None)
    assert found.identification is not None, found.reason
    account = tenants.register(db_session, found.identification, email="tove@example.se",
                               password=GOOD, locale=None, ip=None)
    tenants.activate(db_session, account, ip=None)
    db_session.commit()
    return landlord


def _reimport(db_session, landlord, tmp_path, rows, name):
    summary = run_import(db_session, landlord, write_register(tmp_path, rows, name=name))
    assert_accepted(summary)
    db_session.commit()
    return summary


def _log_in(client):
    forget_request_state()
    token = csrf_of(client, "/portal/login")
    return client.post("/portal/login", data={"csrf_token": token, "email": "tove@example.se",
                                              "password": GOOD})


def _sees_her_agreement(app) -> str:
    forget_request_state()
    client = app.test_client()  # a new browser for each log-in
    answer = _log_in(client)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = client.get("/portal/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "A00003" in text and "1234-01-0003" in text
    return text


@pytest.mark.parametrize("change", [
    {"hyresgast_telefon": "073-987 65 43"},
    {"hyra": "9100"},
    {"hyresgast2_namn": "Bo Tenant", "hyresgast2_personnummer": SECOND},
    {},  # the tenant's row unchanged
], ids=["phone", "rent", "second-tenant", "unchanged"])
def test_an_account_still_logs_in_and_sees_its_agreement_after_a_reimport(
        app, db_session, imported, tmp_path, change):
    _sees_her_agreement(app)
    rows = _rows(**change)
    rows[6] = register_row(7, hyra="9999")  # someone else's row changes in every re-import
    _reimport(db_session, imported, tmp_path, rows, "second")

    text = _sees_her_agreement(app)
    if "hyresgast2_namn" in change:
        assert "Bo Tenant" in text
    people = db_session.scalars(select(Person).where(Person.personnummer == CURRENT)).all()
    assert len(people) == 1  # the same person, updated, not a copy


def test_a_second_reimport_in_a_row_keeps_the_account_too(app, db_session, imported,
                                                          tmp_path):
    _reimport(db_session, imported, tmp_path, _rows(hyresgast_telefon="073-987 65 43"), "b")
    _reimport(db_session, imported, tmp_path, _rows(hyra="9100"), "c")
    _sees_her_agreement(app)


@pytest.mark.parametrize("gone", ["emptied", "new-tenant"])
def test_when_the_agreement_leaves_the_register_the_log_in_says_it_has_ended(
        client, db_session, imported, tmp_path, gone):
    rows = _rows()
    if gone == "emptied":
        rows[2] = register_row(3, avtalsnummer=None, kundnummer=None, hyresgast_namn=None,
                               hyresgast_telefon=None)
    else:
        rows[2] = register_row(3, avtalsnummer="A90003", kundnummer="K90003",
                               hyresgast_namn="Bertil Nyberg",
                               avtal_fran=date.today().isoformat())
    _reimport(db_session, imported, tmp_path, rows, "second")

    answer = _log_in(client)

    assert answer.status_code == 403
    text = answer.get_data(as_text=True)
    assert "avtal har upphört" in text or "har upphört" in text, text
    assert client.get("/portal/").status_code == 302  # not logged in


def test_a_new_kundnummer_or_a_renewed_agreement_keeps_the_account(app, db_session, imported,
                                                                   tmp_path):
    """The register may give the tenant a new row (another kundnummer, a new avtalsnummer):
    the account follows the identity number to the person the register now holds."""
    _reimport(db_session, imported, tmp_path, _rows(kundnummer="K99003"), "b")
    _sees_her_agreement(app)
    rows = _rows(kundnummer="K99003", avtalsnummer="A90003", avtal_fran=date.today().isoformat())
    _reimport(db_session, imported, tmp_path, rows, "c")
    client = app.test_client()
    assert _log_in(client).status_code == 302
    assert "A90003" in client.get("/portal/").get_data(as_text=True)
    account = db_session.scalar(select(TenantAccount))
    db_session.refresh(account)
    person = db_session.get(Person, account.person_id)
    assert person.personnummer == CURRENT
