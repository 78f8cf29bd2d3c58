"""Exchanges (bostadsbyte) and second-hand letting (andrahandsuthyrning): a tenant applies on
the queue's pages; an exchange needs a year in the flat and both parties' consent, and its
approval credit-checks both (audited); second-hand letting needs a period and one of the seed's
reasons; staff decide with a reason, and the tenant gets the decision by mail in their
language."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.housing import service, tenancy
from dispatch.housing.credit import LocalCreditCheck
from dispatch.models import Agreement, AgreementObject, AgreementParty, AuditEvent
from dispatch.models.housing import HousingTenancyApplication
from tests.housing.conftest import TODAY, TZ, csrf_of, log_in

pytest_plugins = ["tests.support.reports"]

CLEAN = LocalCreditCheck()
OLLE, YLVA, KIM, TOVE = "199001012385", "199908072391", "201701012393", "200002292399"


def _exchange(db_session, queue, **changes):
    values = {"agreement_id": queue.agreement.id, "counterpart_name": "Olle Older",
              "counterpart_personnummer": OLLE, "counterpart_address": "Storgatan 1, Karlstad",
              "exchange_on": TODAY + timedelta(days=30), "consent": True, "note": None,
              "today": TODAY, **changes}
    return tenancy.apply_exchange(db_session, queue.tenant, queue.landlord.id, **values)


def _sublet(db_session, queue, **changes):
    values = {"agreement_id": queue.agreement.id, "subtenant_name": "Sam Subtenant",
              "starts_on": date(2027, 1, 1), "ends_on": date(2027, 6, 30), "reason": "studies",
              "note": None, "today": TODAY, **changes}
    return tenancy.apply_sublet(db_session, queue.tenant, queue.landlord.id, **values)


def _recent_agreement(db_session, queue, person, starts_on):
    agreement = Agreement(landlord_id=queue.landlord.id, avtalsnummer="HB-900",
                          starts_on=starts_on)
    agreement.objects = [AgreementObject(object_id=queue.small.id)]
    agreement.parties = [AgreementParty(person_id=person.id, position=1)]
    db_session.add(agreement)
    db_session.flush()
    return agreement


def test_an_exchange_needs_a_year_in_the_flat(db_session, queue):
    agreement = _recent_agreement(db_session, queue, queue.tenant, date(2025, 11, 27))
    with pytest.raises(tenancy.TenancyError, match="tenancy_too_short"):
        _exchange(db_session, queue, agreement_id=agreement.id)
    agreement.starts_on = date(2025, 11, 26)  # exactly a year on TODAY
    assert _exchange(db_session, queue, agreement_id=agreement.id).status == "pending"


@pytest.mark.parametrize(("changes", "code"), [
    ({"consent": False}, "exchange_consent_required"),
    ({"counterpart_personnummer": KIM}, "counterpart_under_18"),
    ({"counterpart_personnummer": "199001012386"}, "bad_personnummer"),
    ({"counterpart_personnummer": TOVE}, "counterpart_is_you"),
    ({"exchange_on": TODAY - timedelta(days=1)}, "date_in_past"),
])
def test_an_exchange_needs_an_adult_other_party_consent_and_a_coming_date(db_session, queue,
                                                                          changes, code):
    with pytest.raises(tenancy.TenancyError, match=code):
        _exchange(db_session, queue, **changes)
    assert db_session.scalar(select(HousingTenancyApplication)) is None


def test_only_a_party_to_an_agreement_in_force_may_apply(db_session, queue):
    other = _recent_agreement(db_session, queue, queue.older, date(2020, 1, 1))
    with pytest.raises(tenancy.TenancyError, match="not_your_agreement"):
        _sublet(db_session, queue, agreement_id=other.id)
    queue.agreement.ends_on = TODAY - timedelta(days=1)
    with pytest.raises(tenancy.TenancyError, match="not_your_agreement"):
        _sublet(db_session, queue)


@pytest.mark.parametrize(("changes", "code"), [
    ({"reason": "holiday"}, "invalid_choice"),
    ({"ends_on": date(2027, 1, 1)}, "end_before_start"),
    ({"starts_on": TODAY - timedelta(days=1)}, "date_in_past"),
])
def test_second_hand_letting_needs_a_period_and_a_reason_from_the_seed(db_session, queue,
                                                                       changes, code):
    with pytest.raises(tenancy.TenancyError, match=code):
        _sublet(db_session, queue, **changes)


def test_one_open_application_of_a_kind_per_agreement(db_session, queue):
    _sublet(db_session, queue)
    with pytest.raises(tenancy.TenancyError, match="already_pending"):
        _sublet(db_session, queue, reason="abroad")
    assert _exchange(db_session, queue).kind == "exchange"  # the other kind may be open


def test_approving_an_exchange_checks_both_parties_credit_audited(db_session, queue):
    row = _exchange(db_session, queue)
    with pytest.raises(tenancy.TenancyError, match="credit_remarks"):
        tenancy.decide(db_session, row, approve=True, reason="OK",
                       credit=LocalCreditCheck(frozenset({OLLE})), staff_user_id=None)
    assert (row.status, row.credit_approved) == ("pending", False)
    tenancy.decide(db_session, row, approve=True, reason="Båda skötsamma", credit=CLEAN,
                   staff_user_id=None)
    assert (row.status, row.credit_approved) == ("approved", True)
    checks = list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "housing.credit.checked").order_by(AuditEvent.id)))
    assert [(e.details["party"], e.details["approved"]) for e in checks] == [
        ("tenant", True), ("counterpart", False), ("tenant", True), ("counterpart", True)]
    assert all(e.details["consent"] == "exchange_application" for e in checks)
    with pytest.raises(tenancy.TenancyError, match="already_decided"):
        tenancy.decide(db_session, row, approve=False, reason="x", credit=CLEAN,
                       staff_user_id=None)


def test_a_decision_needs_a_reason_and_a_refusal_checks_no_credit(db_session, queue):
    row = _sublet(db_session, queue)
    with pytest.raises(tenancy.TenancyError, match="required"):
        tenancy.decide(db_session, row, approve=False, reason="  ", credit=CLEAN,
                       staff_user_id=None)
    tenancy.decide(db_session, row, approve=False, reason="Skälet styrks inte", credit=CLEAN,
                   staff_user_id=None)
    assert row.status == "refused" and row.credit_approved is None
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.credit.checked")) is None


# -- the pages ----------------------------------------------------------------------------------

@pytest.fixture
def hamb(app):
    app.config["HOUSING_LANDLORD"] = "HAMB"


def test_a_tenant_applies_to_let_second_hand_and_a_refused_form_keeps_what_was_typed(
        client, db_session, queue, hamb):
    log_in(client, queue.tenant)
    page = client.get("/bostad/tenancy").get_data(as_text=True)
    assert "Avtal HB-100 · Örsholmsvägen 3" in page
    token = csrf_of(client, "/bostad/tenancy")
    today = service.local_today(TZ)
    form = {"csrf_token": token, "sublet_agreement_id": str(queue.agreement.id),
            "reason": "temporary_job", "sublet_starts_on": (today + timedelta(days=10)).isoformat(),
            "ends_on": today.isoformat(), "subtenant_name": "Sam Subtenant"}
    bad = client.post("/bostad/tenancy/sublet", data=form)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="ends_on-error"' in text
    assert "Slutdatumet måste vara efter startdatumet." in text
    assert 'value="Sam Subtenant"' in text
    form["ends_on"] = (today + timedelta(days=200)).isoformat()
    assert client.post("/bostad/tenancy/sublet", data=form).status_code == 303
    row = db_session.scalar(select(HousingTenancyApplication))
    assert (row.kind, row.reason, row.person_id) == ("sublet", "temporary_job", queue.tenant.id)
    page = client.get("/bostad/tenancy").get_data(as_text=True)
    assert "Andrahandsuthyrning" in page and "Väntar på beslut" in page


def test_an_exchange_form_keeps_the_other_partys_number_as_typed_uncached(client, db_session,
                                                                         queue, hamb):
    log_in(client, queue.tenant)
    token = csrf_of(client, "/bostad/tenancy")
    bad = client.post("/bostad/tenancy/exchange", data={
        "csrf_token": token, "agreement_id": str(queue.agreement.id),
        "counterpart_name": "Olle Older", "counterpart_personnummer": "900101-2385",
        "counterpart_address": "Storgatan 1", "starts_on": "2030-01-01"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="consent-error"' in text
    assert 'value="Olle Older"' in text and 'value="900101-2385"' in text  # to be corrected
    assert bad.headers["Cache-Control"] == "private, no-store"


def test_an_exchange_form_shows_every_error_at_once_and_keeps_everything_typed(
        client, db_session, queue, hamb, caplog):
    log_in(client, queue.tenant)
    token = csrf_of(client, "/bostad/tenancy")
    typed = {"csrf_token": token, "agreement_id": str(queue.agreement.id),
             "counterpart_name": "Olle Older", "counterpart_personnummer": "900101-2384",
             "counterpart_address": "", "starts_on": "2030-01-01", "note": "Vi vill byta",
             "consent": "on"}
    caplog.set_level("DEBUG")
    bad = client.post("/bostad/tenancy/exchange", data=typed)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="counterpart_address-error"' in text and 'id="counterpart_personnummer-error"' \
        in text
    assert "Inte ett giltigt personnummer." in text
    assert 'value="900101-2384"' in text and 'value="Olle Older"' in text
    assert 'value="2030-01-01"' in text and ">Vi vill byta</textarea>" in text
    assert 'id="consent" name="consent" type="checkbox" checked' in text
    assert db_session.scalar(select(HousingTenancyApplication)) is None
    assert "900101" not in caplog.text and "199001012384" not in caplog.text
    events = list(db_session.scalars(select(AuditEvent)))
    assert not any("900101" in str(e.details) or "900101" in (e.subject or "") for e in events)
    typed.update(counterpart_personnummer="900101-2385", counterpart_address="Storgatan 1")
    assert client.post("/bostad/tenancy/exchange", data=typed).status_code == 303
    row = db_session.scalar(select(HousingTenancyApplication))
    assert (row.kind, row.counterpart_address) == ("exchange", "Storgatan 1")


def test_a_sublet_form_shows_end_before_start_with_the_missing_fields(client, db_session, queue,
                                                                      hamb):
    log_in(client, queue.tenant)
    token = csrf_of(client, "/bostad/tenancy")
    today = service.local_today(TZ)
    start, end = (today + timedelta(days=10)).isoformat(), (today + timedelta(days=5)).isoformat()
    bad = client.post("/bostad/tenancy/sublet", data={
        "csrf_token": token, "sublet_agreement_id": str(queue.agreement.id), "reason": "",
        "sublet_starts_on": start, "ends_on": end, "subtenant_name": "",
        "sublet_note": "Ett halvår"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for field in ("ends_on", "subtenant_name", "reason"):
        assert f'id="{field}-error"' in text
    assert "Slutdatumet måste vara efter startdatumet." in text
    assert f'value="{start}"' in text and f'value="{end}"' in text
    assert ">Ett halvår</textarea>" in text
    assert db_session.scalar(select(HousingTenancyApplication)) is None


def test_the_rules_report_every_problem_of_an_application_at_once(db_session, queue):
    with pytest.raises(tenancy.TenancyError) as refused:
        _exchange(db_session, queue, counterpart_personnummer="900101-2384", consent=False,
                  exchange_on=TODAY - timedelta(days=1))
    assert refused.value.errors == {"counterpart_personnummer": "bad_personnummer",
                                    "starts_on": "date_in_past",
                                    "consent": "exchange_consent_required"}
    with pytest.raises(tenancy.TenancyError) as refused:
        _sublet(db_session, queue, reason="holiday", starts_on=TODAY - timedelta(days=1),
                ends_on=TODAY - timedelta(days=2))
    assert refused.value.errors == {"reason": "invalid_choice", "starts_on": "date_in_past",
                                    "ends_on": "end_before_start"}


def test_a_person_without_an_agreement_is_told_the_pages_are_for_tenants(client, db_session,
                                                                         queue, hamb):
    log_in(client, queue.older)
    page = client.get("/bostad/tenancy").get_data(as_text=True)
    assert "Du har inget avtal hos oss" in page and "/bostad/tenancy/sublet" not in page


def test_staff_decide_and_the_tenant_gets_the_decision_by_mail(client, db_session, queue, hamb,
                                                               auth, create_user, smtp,
                                                               create_landlord):
    row = _sublet(db_session, queue, starts_on=service.local_today(TZ) + timedelta(days=5),
                  ends_on=date(2030, 6, 30))
    user = create_user(role="landlord", landlord=queue.landlord)
    assert auth.login(user.email).status_code == 302
    listing = client.get("/bostad/staff/tenancy").get_data(as_text=True)
    assert f"/bostad/staff/tenancy/{row.id}" in listing and "Tove Tenant" in listing
    page = client.get(f"/bostad/staff/tenancy/{row.id}").get_data(as_text=True)
    assert "Studier på annan ort" in page and "1 rapport" in page and TOVE not in page
    token = csrf_of(client, f"/bostad/staff/tenancy/{row.id}")
    missing = client.post(f"/bostad/staff/tenancy/{row.id}/decision",
                          data={"csrf_token": token, "decision": "approve"})
    assert missing.status_code == 400 and 'id="decision_reason-error"' in missing.get_data(
        as_text=True)
    done = client.post(f"/bostad/staff/tenancy/{row.id}/decision", data={
        "csrf_token": token, "decision": "approve", "decision_reason": "Studier styrkta"})
    assert done.status_code == 303
    db_session.refresh(row)
    assert (row.status, row.decided_by_user_id) == ("approved", user.id)
    (message,) = smtp.messages
    assert message["To"] == "tove@example.se"
    assert message["Subject"] == "Din ansökan om andrahandsuthyrning är godkänd"
    body = message.get_payload(decode=True).decode()
    assert "Skäl: Studier styrkta" in body and "/bostad/tenancy" in body
    other = create_landlord(code="OTHR", name="Annan")
    row.landlord_id = other.id
    db_session.flush()
    assert client.get(f"/bostad/staff/tenancy/{row.id}").status_code == 404


@pytest.mark.parametrize(("lang", "words"), [
    ("sv", "Ansök om att hyra ut i andra hand"), ("fi", "Hae lupaa edelleenvuokraukseen"),
    ("en", "Apply to let your flat second-hand")])
def test_the_tenancy_page_speaks_swedish_finnish_and_english(client, db_session, queue, hamb,
                                                             lang, words):
    log_in(client, queue.tenant)
    page = client.get(f"/bostad/tenancy?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and words in page
