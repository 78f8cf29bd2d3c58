"""The customer assessment's case: a guarantor covers income below twice the annual rent when
their monthly income is at least five times the rent (18+, credit-checked with consent and
audited, two years and then nine months' notice), and previous landlords' references (remarks
disqualify; several accepting → the contract waits for an approved reference)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.housing import cases, service
from dispatch.housing.credit import LocalCreditCheck
from dispatch.models import AuditEvent, utcnow
from dispatch.models.housing import HousingGuarantor, HousingOffer, HousingReference
from tests.housing.conftest import NOW, TODAY, TZ, csrf_of, registered

CLEAN = LocalCreditCheck()
OLLE, YLVA, KIM, TOVE = "199001012385", "199908072391", "201701012393", "200002292399"


def _listing(db_session, queue):
    return service.publish(db_session, queue.flat, now=NOW - timedelta(hours=1),
                           vacant_on=date(2027, 1, 1), days=7)  # 8,000 kr a month


def _poor_applicant_with_interest(db_session, queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY,
                           yearly_income=150_000)  # below 192,000
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    return applicant, listing


def _guarantor(db_session, applicant, income, *, number=YLVA, credit=CLEAN,
               starts_on=date(2026, 1, 1)):
    return cases.add_guarantor(db_session, applicant, name="Ylva Younger", personnummer=number,
                               monthly_income=income, starts_on=starts_on, consent=True,
                               credit=credit, today=TODAY, staff_user_id=None)


def _assessed(db_session, listing):
    (row,) = service.ranked(db_session, listing, today=TODAY, retention_days=90, now=NOW)
    return row


def test_a_guarantor_earning_five_times_the_rent_covers_low_income(db_session, queue):
    applicant, listing = _poor_applicant_with_interest(db_session, queue)
    assert _assessed(db_session, listing).reasons == ["income"]
    guarantor = _guarantor(db_session, applicant, 40_000)  # 5 × 8,000
    row = _assessed(db_session, listing)
    assert row.approved and row.grounds == ["guarantor"] and row.guarantor.id == guarantor.id


def test_a_guarantor_earning_less_than_five_times_the_rent_does_not_cover(db_session, queue):
    applicant, listing = _poor_applicant_with_interest(db_session, queue)
    _guarantor(db_session, applicant, 39_999)
    row = _assessed(db_session, listing)
    assert not row.approved and row.reasons == ["income"]


def test_income_of_twice_the_annual_rent_passes_and_says_so(db_session, queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY,
                           yearly_income=192_000)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    row = _assessed(db_session, listing)
    assert row.approved and row.grounds == ["income"]


def test_the_guarantors_credit_check_is_audited_and_remarks_make_them_not_count(
        db_session, queue):
    applicant, listing = _poor_applicant_with_interest(db_session, queue)
    guarantor = _guarantor(db_session, applicant, 50_000,
                           credit=LocalCreditCheck(frozenset({YLVA})))
    assert guarantor.credit_approved is False
    assert _assessed(db_session, listing).reasons == ["income"]
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.credit.checked"))
    assert event.subject == f"guarantor:{guarantor.id}"
    assert event.details["consent"] == "guarantor" and event.details["approved"] is False
    assert YLVA not in str(event.details)


@pytest.mark.parametrize(("number", "consent", "code"), [
    (KIM, True, "guarantor_under_18"),
    ("199001012386", True, "bad_personnummer"),
    (YLVA, False, "consent_required"),
    (OLLE, True, "guarantor_is_applicant"),
])
def test_a_guarantor_must_be_an_adult_other_person_who_consents(db_session, queue, number,
                                                                 consent, code):
    applicant, _listing = _poor_applicant_with_interest(db_session, queue)
    with pytest.raises(cases.CaseError, match=code):
        cases.add_guarantor(db_session, applicant, name="X", personnummer=number,
                            monthly_income=90_000, starts_on=TODAY, consent=consent,
                            credit=CLEAN, today=TODAY, staff_user_id=None)
    assert db_session.scalar(select(HousingGuarantor)) is None


def test_the_guarantee_runs_two_years_then_ends_nine_months_after_notice(db_session, queue):
    applicant, _listing = _poor_applicant_with_interest(db_session, queue)
    early = _guarantor(db_session, applicant, 40_000, starts_on=date(2026, 1, 1))
    cases.guarantor_notice(db_session, early, given_on=date(2027, 3, 1), staff_user_id=None)
    assert early.ends_on == date(2028, 1, 1)  # exactly two years: notice in time for that
    late = _guarantor(db_session, applicant, 40_000, starts_on=date(2026, 1, 1))
    cases.guarantor_notice(db_session, late, given_on=date(2027, 12, 15), staff_user_id=None)
    assert late.ends_on == date(2028, 9, 15)
    assert cases.in_force(late, date(2028, 9, 15)) and not cases.in_force(late,
                                                                          date(2028, 9, 16))
    with pytest.raises(cases.CaseError, match="notice_already_given"):
        cases.guarantor_notice(db_session, late, given_on=date(2028, 1, 1), staff_user_id=None)


def test_an_ended_guarantee_no_longer_covers_the_income(db_session, queue):
    applicant, listing = _poor_applicant_with_interest(db_session, queue)
    guarantor = _guarantor(db_session, applicant, 40_000, starts_on=date(2023, 1, 1))
    cases.guarantor_notice(db_session, guarantor, given_on=date(2025, 1, 1),
                           staff_user_id=None)
    assert guarantor.ends_on == date(2025, 10, 1)
    assert _assessed(db_session, listing).reasons == ["income"]


def test_a_reference_with_remarks_disqualifies_and_an_approved_one_is_a_ground(db_session,
                                                                                 queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY,
                           yearly_income=300_000)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    with pytest.raises(cases.CaseError, match="remarks_required"):
        cases.add_reference(db_session, applicant, landlord_name="Karlstads Bostäder",
                            contact="Anna", answer="remarks", remarks=" ",
                            given_on=TODAY, staff_user_id=None)
    cases.add_reference(db_session, applicant, landlord_name="Karlstads Bostäder",
                        contact="Anna", answer="remarks", remarks="Late rent 2024",
                        given_on=date(2026, 11, 1), staff_user_id=None)
    assert _assessed(db_session, listing).reasons == ["reference_remarks"]
    cases.add_reference(db_session, applicant, landlord_name="Hyresvärden AB", contact="Bo",
                        answer="approved", remarks=None, given_on=TODAY, staff_user_id=None)
    row = _assessed(db_session, listing)
    assert row.approved and row.grounds == ["income", "reference"]
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.reference.recorded")) is not None


def _two_accepted(db_session, queue):
    older = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    younger = registered(db_session, queue.younger, date(2024, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    for applicant in (older, younger):
        service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    offers = service.make_offers(db_session, listing, today=TODAY, count=2,
                                 deadline=service.offer_deadline(TODAY, 5, TZ),
                                 staff_user_id=None, retention_days=90, now=NOW)
    for offer in offers:
        service.answer(db_session, offer, True, now=NOW, tz=TZ)
    return older, offers


def test_when_several_accept_the_contract_waits_for_an_approved_reference(db_session, queue):
    older, offers = _two_accepted(db_session, queue)
    with pytest.raises(service.QueueError, match="reference_required"):
        service.sign_contract(db_session, offers[0], avtalsnummer="HB-400", starts_on=None,
                              staff_user_id=None)
    cases.add_reference(db_session, older, landlord_name="Hyresvärden AB", contact="Bo",
                        answer="approved", remarks=None, given_on=TODAY, staff_user_id=None)
    agreement = service.sign_contract(db_session, offers[0], avtalsnummer="HB-400",
                                      starts_on=None, staff_user_id=None)
    assert [p.person_id for p in agreement.parties] == [queue.older.id]


def test_one_accepting_applicant_gets_the_contract_without_a_reference(db_session, queue):
    applicant = registered(db_session, queue.older, date(2021, 1, 1), renewed_on=TODAY)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=NOW, tz=TZ)
    (offer,) = service.make_offers(db_session, listing, today=TODAY, count=1,
                                   deadline=service.offer_deadline(TODAY, 5, TZ),
                                   staff_user_id=None, retention_days=90, now=NOW)
    service.answer(db_session, offer, True, now=NOW, tz=TZ)
    assert service.sign_contract(db_session, offer, avtalsnummer="HB-401", starts_on=None,
                                 staff_user_id=None).id is not None


# -- the staff pages ------------------------------------------------------------------------------

@pytest.fixture
def officer(client, auth, create_user, queue, app):
    app.config["HOUSING_LANDLORD"] = "HAMB"
    user = create_user(role="landlord", landlord=queue.landlord)
    assert auth.login(user.email).status_code == 302
    return user


def test_an_officer_adds_a_guarantor_and_a_refused_form_keeps_what_was_typed_uncached(
        client, db_session, queue, officer):
    applicant = service.register(db_session, queue.older, queue.landlord.id,
                                 service.local_today(TZ))
    path = f"/bostad/staff/applicants/{applicant.id}"
    token = csrf_of(client, path)
    form = {"csrf_token": token, "guarantor_name": "Ylva Younger",
            "guarantor_personnummer": YLVA, "guarantor_income": "45000",
            "guarantor_starts_on": "2026-11-26"}
    refused = client.post(f"{path}/guarantors", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="guarantor_consent-error"' in page
    assert 'value="Ylva Younger"' in page and 'value="45000"' in page
    assert f'value="{YLVA}"' in page and refused.headers["Cache-Control"] == "private, no-store"
    done = client.post(f"{path}/guarantors", data={**form, "guarantor_consent": "on"})
    assert done.status_code == 303
    page = client.get(path).get_data(as_text=True)
    assert "Ylva Younger" in page and "19990807-****" in page and YLVA not in page
    assert "täcker en månadshyra upp till 9\xa0000 kr" in page  # 45,000 / 5
    guarantor = db_session.scalar(select(HousingGuarantor))
    assert guarantor.person_id == queue.younger.id and guarantor.staff_user_id == officer.id
    notice = client.post(f"/bostad/staff/guarantors/{guarantor.id}/notice",
                         data={"csrf_token": token, "notice_given_on": "2028-12-01"})
    assert notice.status_code == 303
    db_session.refresh(guarantor)
    assert guarantor.ends_on == date(2029, 9, 1)


def test_an_officer_records_a_reference_and_the_assessment_shows_it(client, db_session, queue,
                                                                     officer):
    day = service.local_today(TZ)
    applicant = service.register(db_session, queue.older, queue.landlord.id, day)
    applicant.yearly_income = 300_000
    listing = service.publish(db_session, queue.flat, now=utcnow() - timedelta(minutes=1),
                              vacant_on=day + timedelta(days=30), days=7)
    service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    path = f"/bostad/staff/applicants/{applicant.id}"
    token = csrf_of(client, path)
    bad = client.post(f"{path}/references", data={
        "csrf_token": token, "reference_landlord": "Hyresvärden AB",
        "reference_contact": "Bo Berg", "reference_answer": "remarks",
        "reference_given_on": day.isoformat()})
    assert bad.status_code == 400 and 'id="reference_remarks-error"' in bad.get_data(
        as_text=True)
    assert 'value="Hyresvärden AB"' in bad.get_data(as_text=True)
    ok = client.post(f"{path}/references", data={
        "csrf_token": token, "reference_landlord": "Hyresvärden AB",
        "reference_contact": "Bo Berg", "reference_answer": "approved",
        "reference_given_on": day.isoformat()})
    assert ok.status_code == 303
    assert db_session.scalar(select(HousingReference)).staff_user_id == officer.id
    assert "Hyresvärden AB (Bo Berg)" in client.get(path).get_data(as_text=True)
    ranked = client.get(f"/bostad/staff/listings/{listing.id}").get_data(as_text=True)
    assert "Godkänd: inkomst minst två årshyror; godkänd referens från tidigare hyresvärd" \
        in ranked


def test_the_contract_page_says_a_reference_is_needed_when_several_accepted(
        client, db_session, queue, officer):
    _older, offers = _two_accepted(db_session, queue)
    token = csrf_of(client, "/bostad/staff/")
    response = client.post(f"/bostad/staff/offers/{offers[0].id}/contract",
                           data={"csrf_token": token, "avtalsnummer": "HB-500",
                                 "starts_on": "2027-01-01"})
    assert response.status_code == 400
    assert "referens" in response.get_data(as_text=True)
    assert db_session.scalar(select(HousingOffer.agreement_id).where(
        HousingOffer.id == offers[0].id)) is None
