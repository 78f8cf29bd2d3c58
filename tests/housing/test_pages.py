"""The queue's pages as applicants and case officers use them: registration, wishes that keep
what was typed, interest, offers and answers, the ranked list with earlier disturbances (read
audited), the contract; every route with an id answers 404 for another applicant's or another
landlord's row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dispatch.housing import service
from dispatch.models import Agreement, AuditEvent, Person, utcnow
from dispatch.models.housing import HousingApplicant, HousingInterest, HousingOffer
from tests.housing.conftest import TZ, csrf_of, log_in


@pytest.fixture(autouse=True)
def _the_queue_of_hammarobostader(app):
    app.config["HOUSING_LANDLORD"] = "HAMB"


def _today():
    return service.local_today(TZ)


def _applicant(db_session, queue, person, **values):
    applicant = service.register(db_session, person, queue.landlord.id, _today())
    for key, value in values.items():
        setattr(applicant, key, value)
    db_session.flush()
    return applicant


def _listing(db_session, queue, obj=None, **kwargs):
    return service.publish(db_session, obj or queue.flat, now=utcnow() - timedelta(minutes=1),
                           vacant_on=_today() + timedelta(days=30), days=7, **kwargs)


def test_a_visitor_sees_the_open_listings_and_how_to_register(client, db_session, queue):
    _listing(db_session, queue)
    page = client.get("/bostad/").get_data(as_text=True)
    assert "1 lägenhet går att söka." in page and "Logga in" in page
    listings = client.get("/bostad/listings").get_data(as_text=True)
    assert "Örsholmsvägen 3" in listings and "Anmäl intresse" not in listings
    assert "Örsholmsvägen 3, 663 30 Skoghall" in listings  # the postcode as on the invoices


def test_a_logged_in_person_registers_and_gets_zero_points_today(client, db_session, queue):
    log_in(client, queue.older)
    token = csrf_of(client, "/bostad/")
    response = client.post("/bostad/register", data={"csrf_token": token})
    assert response.status_code == 303 and response.location.endswith("/bostad/wishes")
    applicant = db_session.scalar(select(HousingApplicant))
    assert (applicant.person_id, applicant.registered_on) == (queue.older.id, _today())
    assert "data-points>0 poäng" in client.get("/bostad/").get_data(as_text=True)


def test_under_16_is_refused_registration_with_a_message(client, db_session, queue):
    log_in(client, queue.child)
    token = csrf_of(client, "/bostad/")
    response = client.post("/bostad/register", data={"csrf_token": token},
                           follow_redirects=True)
    assert "16 år" in response.get_data(as_text=True)
    assert db_session.scalar(select(HousingApplicant)) is None


def test_wishes_with_a_bad_number_keep_what_was_typed_and_say_what_is_wrong(
        client, db_session, queue):
    applicant = _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    token = csrf_of(client, "/bostad/wishes")
    data = {"csrf_token": token, "name": "Olle Older", "areas": "Skoghall, Hammarö",
            "rooms_min": "tre", "max_rent": "9000", "adults": "2", "children": "1",
            "income_kinds": ["employment", "child_allowance"], "subscribes": "on"}
    response = client.post("/bostad/wishes", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Skoghall, Hammarö"' in page and 'value="9000"' in page
    assert 'id="rooms_min-error"' in page
    assert applicant.areas == []
    data["rooms_min"] = "3"
    assert client.post("/bostad/wishes", data=data).status_code == 303
    db_session.expire_all()
    assert (applicant.areas, applicant.rooms_min, applicant.max_rent, applicant.income_kinds) \
        == (["Skoghall", "Hammarö"], 3, 9000, ["employment", "child_allowance"])


def _wishes(client, **changes):
    """A wishes form as typed, everything valid unless changed."""
    token = csrf_of(client, "/bostad/wishes")
    return {"csrf_token": token, "name": "Olle Older", "email": "olle@example.se",
            "phone": "070-123 45 67", "areas": "Skoghall", "rooms_min": "2", "max_rent": "9000",
            "lowest_floor": "1", "highest_floor": "4", "adults": "1", "children": "0",
            "yearly_income": "300000", "income_kinds": ["employment"], **changes}


def test_wishes_refuse_an_email_address_without_a_domain_and_keep_what_was_typed(
        client, db_session, queue):
    applicant = _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    response = client.post("/bostad/wishes", data=_wishes(client, email="per@",
                                                          areas="Skoghall, Hammarö"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="email-error"' in page and "Det är inte en giltig e-postadress." in page
    assert 'value="per@"' in page and 'value="Skoghall, Hammarö"' in page
    db_session.expire_all()
    assert (queue.older.email, applicant.areas) == ("olle@example.se", [])


def test_an_officer_cannot_register_a_caller_with_an_email_address_without_a_domain(
        client, db_session, queue, officer):
    token = csrf_of(client, "/bostad/staff/applicants/new")
    bad = client.post("/bostad/staff/applicants/new", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id), "name": "Nils Ny",
        "personnummer": "900101-2385", "email": "nils@", "phone": ""})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'id="email-error"' in page
    assert "Det är inte en giltig e-postadress." in page
    assert db_session.scalar(select(HousingApplicant)) is None


def test_wishes_refuse_a_highest_floor_below_the_lowest_on_the_highest_floor_field(
        client, db_session, queue):
    applicant = _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    client.get("/bostad/?lang=en")
    response = client.post("/bostad/wishes", data=_wishes(client, lowest_floor="5",
                                                          highest_floor="2"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<p class="field-error" id="highest_floor-error" role="alert">The highest floor ' \
        'cannot be below the lowest floor.</p>' in page
    assert 'value="5"' in page and 'value="2"' in page
    db_session.expire_all()
    assert (applicant.lowest_floor, applicant.highest_floor) == (None, None)
    ok = client.post("/bostad/wishes", data=_wishes(client, lowest_floor="2",
                                                    highest_floor="2"))
    assert ok.status_code == 303


@pytest.mark.parametrize(("field", "typed", "words"), [
    ("rooms_min", "11", "Give a number between 1 and 10."),
    ("lowest_floor", "60", "Give a number between -5 and 50."),
    ("yearly_income", "200 000 000", "Give a number between 0 and 100,000,000."),
])
def test_a_number_out_of_range_says_the_allowed_range(client, db_session, queue, field, typed,
                                                      words):
    _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    client.get("/bostad/?lang=en")
    response = client.post("/bostad/wishes", data=_wishes(client, **{field: typed}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<p class="field-error" id="{field}-error" role="alert">{words}</p>' in page
    assert f'value="{typed}"' in page


@pytest.mark.parametrize("space", [" ", "\u00a0", "\u202f"])
def test_amounts_typed_in_groups_of_digits_with_spaces_are_saved_as_numbers(
        client, db_session, queue, space):
    applicant = _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    response = client.post("/bostad/wishes", data=_wishes(
        client, yearly_income=f"300{space}000", max_rent=f"9{space}500"))
    assert response.status_code == 303
    db_session.expire_all()
    assert (applicant.yearly_income, applicant.max_rent) == (300_000, 9_500)


def test_an_amount_that_is_not_a_number_is_refused_not_emptied(client, db_session, queue):
    applicant = _applicant(db_session, queue, queue.older, yearly_income=250_000)
    log_in(client, queue.older)
    page = client.get("/bostad/wishes").get_data(as_text=True)
    # A text field: a browser's number field would send "300 000" as an empty value.
    assert 'name="yearly_income" type="text" inputmode="numeric" value="250000"' in page
    response = client.post("/bostad/wishes", data=_wishes(client, yearly_income="300 000 kr"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="yearly_income-error"' in page and "Ange ett heltal." in page
    assert 'value="300 000 kr"' in page
    db_session.expire_all()
    assert applicant.yearly_income == 250_000


@pytest.mark.parametrize("lang", ["sv", "fi", "en"])
def test_the_income_support_choice_names_no_municipality(client, db_session, queue, lang):
    _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    page = client.get(f"/bostad/wishes?lang={lang}").get_data(as_text=True)
    assert 'id="income-social_assistance"' in page
    assert "Hammarö" not in page and "Hammarön" not in page


def test_the_income_support_choice_says_confirmed_by_the_municipality(client, db_session,
                                                                      queue):
    _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    page = client.get("/bostad/wishes?lang=en").get_data(as_text=True)
    assert '<label for="income-social_assistance">Income support confirmed by the ' \
        'municipality</label>' in page


def test_interest_offer_and_acceptance_through_the_pages(client, db_session, queue):
    applicant = _applicant(db_session, queue, queue.older)
    listing = _listing(db_session, queue)
    log_in(client, queue.older)
    token = csrf_of(client, "/bostad/listings")
    response = client.post(f"/bostad/listings/{listing.id}/interest",
                           data={"csrf_token": token})
    assert response.status_code == 303
    assert db_session.scalar(select(HousingInterest.applicant_id)) == applicant.id
    service.make_offers(db_session, listing, today=_today(), count=1,
                        deadline=service.offer_deadline(_today(), 5, TZ), staff_user_id=None,
                        retention_days=90)
    offer = db_session.scalar(select(HousingOffer))
    page = client.get("/bostad/offers").get_data(as_text=True)
    assert f'data-offer="{offer.id}"' in page
    response = client.post(f"/bostad/offers/{offer.id}/answer",
                           data={"csrf_token": token, "answer": "accept"})
    assert response.status_code == 303
    db_session.expire_all()
    assert offer.answer == "accepted"


def test_another_applicants_offer_answers_404(client, db_session, queue):
    _applicant(db_session, queue, queue.older)
    other = _applicant(db_session, queue, queue.younger)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, other, listing, now=utcnow(), tz=TZ)
    (offer,) = service.make_offers(db_session, listing, today=_today(), count=1,
                                   deadline=service.offer_deadline(_today(), 5, TZ),
                                   staff_user_id=None, retention_days=90)
    log_in(client, queue.older)
    token = csrf_of(client, "/bostad/listings")
    response = client.post(f"/bostad/offers/{offer.id}/answer",
                           data={"csrf_token": token, "answer": "refuse"})
    assert response.status_code == 404
    assert f'data-offer="{offer.id}"' not in client.get("/bostad/offers").get_data(as_text=True)
    db_session.expire_all()
    assert offer.answer is None


def test_another_landlords_listing_answers_404_to_an_interest(
        client, db_session, queue, create_landlord):
    from dispatch.models import RentalObject

    other = create_landlord(code="OTHR", name="Annan Bostad")
    obj = RentalObject(landlord_id=other.id, entrance_id=queue.entrance.id,
                       objektsnummer="O-1", lagenhetsnummer="1101")
    db_session.add(obj)
    db_session.flush()
    listing = _listing(db_session, queue, obj=obj)
    _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    token = csrf_of(client, "/bostad/listings")
    assert client.post(f"/bostad/listings/{listing.id}/interest",
                       data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize(("lang", "words"), [("fi", "Asuntojono"), ("en", "Housing queue"),
                                             ("sv", "Intressebanken")])
def test_the_queue_speaks_swedish_finnish_and_english(client, db_session, queue, lang, words):
    _applicant(db_session, queue, queue.older)
    log_in(client, queue.older)
    page = client.get(f"/bostad/?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}">' in page and words in page


# -- staff --------------------------------------------------------------------------------------

@pytest.fixture
def officer(client, auth, create_user, queue):
    user = create_user(role="landlord", landlord=queue.landlord)
    assert auth.login(user.email).status_code == 302
    return user


def test_an_officer_publishes_a_vacant_flat_from_the_register(client, db_session, queue,
                                                                officer):
    page = client.get("/bostad/staff/").get_data(as_text=True)
    assert "H-1101" in page and "H-1201" not in page  # H-1201 is let
    token = csrf_of(client, "/bostad/staff/")
    response = client.post("/bostad/staff/listings", data={
        "csrf_token": token, "object_id": str(queue.flat.id), "vacant_on": "2027-01-01",
        "days": "7", "min_applicants": "1", "max_applicants": "3"})
    assert response.status_code == 303
    bad = client.post("/bostad/staff/listings", data={
        "csrf_token": token, "object_id": str(queue.small.id), "vacant_on": "1 januari",
        "days": "7", "min_applicants": "1", "max_applicants": "3"})
    assert bad.status_code == 400 and 'id="vacant_on-error"' in bad.get_data(as_text=True)
    assert 'value="1 januari"' in bad.get_data(as_text=True)


def test_the_ranked_list_shows_disturbances_and_its_read_is_audited(
        client, db_session, queue, officer):
    tenant = _applicant(db_session, queue, queue.tenant, yearly_income=400_000)
    older = _applicant(db_session, queue, queue.older, yearly_income=400_000)
    listing = _listing(db_session, queue)
    for applicant in (tenant, older):
        service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    page = client.get(f"/bostad/staff/listings/{listing.id}").get_data(as_text=True)
    assert f"/reports/{queue.report.id}" in page
    assert "1 rapport" in page
    assert "200002292399" not in page and "20000229-****" in page
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.assessment.read"))
    assert event.user_id == officer.id and event.details["applicant_ids"] == [tenant.id]


def test_offers_answer_and_contract_through_the_staff_pages(client, db_session, queue, officer):
    older = _applicant(db_session, queue, queue.older, yearly_income=400_000)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, older, listing, now=utcnow(), tz=TZ)
    token = csrf_of(client, "/bostad/staff/")
    response = client.post(f"/bostad/staff/listings/{listing.id}/offers",
                           data={"csrf_token": token, "count": "1", "deadline_days": "5"})
    assert response.status_code == 303
    offer = db_session.scalar(select(HousingOffer))
    assert client.post(f"/bostad/staff/offers/{offer.id}/answer",
                       data={"csrf_token": token, "answer": "accept"}).status_code == 303
    response = client.post(f"/bostad/staff/offers/{offer.id}/contract",
                           data={"csrf_token": token, "avtalsnummer": "HB-300",
                                 "starts_on": "2027-01-01"})
    assert response.status_code == 303
    agreement = db_session.scalar(select(Agreement).where(Agreement.avtalsnummer == "HB-300"))
    assert agreement.starts_on == date(2027, 1, 1)
    assert [p.person_id for p in agreement.parties] == [queue.older.id]


def test_an_officer_registers_a_caller_and_a_refused_form_keeps_the_typed_number_uncached(
        client, db_session, queue, officer):
    token = csrf_of(client, "/bostad/staff/applicants/new")
    bad = client.post("/bostad/staff/applicants/new", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id), "name": "Nils Ny",
        "personnummer": "199001012386", "email": "nils@example.se", "phone": "070-123 45 67"})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'value="199001012386"' in page and 'value="Nils Ny"' in page  # to be corrected
    assert bad.headers["Cache-Control"] == "private, no-store"
    ok = client.post("/bostad/staff/applicants/new", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id), "name": "Nils Ny",
        "personnummer": "900101-2385", "email": "nils@example.se", "phone": "070-123 45 67"})
    assert ok.status_code == 303
    applicant = db_session.scalar(select(HousingApplicant))
    person = db_session.get(Person, applicant.person_id)
    assert person.personnummer == "199001012385" and applicant.registered_by_user_id == officer.id


def test_a_block_for_false_information_needs_a_reason(client, db_session, queue, officer):
    applicant = _applicant(db_session, queue, queue.older)
    token = csrf_of(client, f"/bostad/staff/applicants/{applicant.id}")
    assert client.post(f"/bostad/staff/applicants/{applicant.id}/block",
                       data={"csrf_token": token, "note": ""}).status_code == 400
    assert client.post(f"/bostad/staff/applicants/{applicant.id}/block",
                       data={"csrf_token": token, "note": "Falskt intyg"}).status_code == 303


def test_another_landlords_rows_answer_404_to_staff(client, db_session, queue, create_landlord,
                                                    create_user, auth):
    other = create_landlord(code="OTHR", name="Annan Bostad")
    user = create_user(role="landlord", landlord=other)
    applicant = _applicant(db_session, queue, queue.older)
    listing = _listing(db_session, queue)
    service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    (offer,) = service.make_offers(db_session, listing, today=_today(), count=1,
                                   deadline=service.offer_deadline(_today(), 5, TZ),
                                   staff_user_id=None, retention_days=90)
    auth.login(user.email)
    token = csrf_of(client, "/bostad/staff/")
    assert client.get(f"/bostad/staff/listings/{listing.id}").status_code == 404
    assert client.get(f"/bostad/staff/applicants/{applicant.id}").status_code == 404
    for path, data in ((f"/bostad/staff/listings/{listing.id}/offers", {"count": "1"}),
                       (f"/bostad/staff/offers/{offer.id}/answer", {"answer": "accept"}),
                       (f"/bostad/staff/offers/{offer.id}/contract",
                        {"avtalsnummer": "X", "starts_on": "2027-01-01"}),
                       (f"/bostad/staff/applicants/{applicant.id}/block", {"note": "x"})):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 404, path


def test_staff_pages_need_a_staff_log_in(client, queue):
    assert client.get("/bostad/staff/").status_code == 302


def test_an_officer_decides_priority_and_the_quota_refusal_is_shown(client, db_session, queue,
                                                                     officer):
    applicant = _applicant(db_session, queue, queue.older)
    token = csrf_of(client, f"/bostad/staff/applicants/{applicant.id}")
    bad = client.post(f"/bostad/staff/applicants/{applicant.id}/priority", data={
        "csrf_token": token, "group": "medical", "urgency": "3", "reason": "Rullstol"})
    assert bad.status_code == 400
    assert "läkarintyg" in bad.get_data(as_text=True) and "Rullstol" in bad.get_data(as_text=True)
    ok = client.post(f"/bostad/staff/applicants/{applicant.id}/priority", data={
        "csrf_token": token, "group": "business", "urgency": "3", "reason": "Ny anställning"})
    assert ok.status_code == 303
    priority = service.active_priority(db_session, applicant.id)
    listing = _listing(db_session, queue)
    page = client.get(f"/bostad/staff/listings/{listing.id}").get_data(as_text=True)
    assert f'data-priority="{priority.id}"' in page and "Näringslivsförtur" in page
    refused = client.post(f"/bostad/staff/listings/{listing.id}/priority/{priority.id}",
                          data={"csrf_token": token}, follow_redirects=True)
    assert "20 procent" in refused.get_data(as_text=True)
    assert db_session.scalar(select(HousingOffer)) is None


def test_another_landlords_priority_routes_answer_404(client, db_session, queue,
                                                      create_landlord, create_user, auth):
    applicant = _applicant(db_session, queue, queue.older)
    priority = service.decide_priority(db_session, applicant, group="business", urgency=1,
                                       reason="x", certificate=False, today=_today(),
                                       staff_user_id=None)
    listing = _listing(db_session, queue)
    other = create_landlord(code="OTHR", name="Annan Bostad")
    auth.login(create_user(role="landlord", landlord=other).email)
    token = csrf_of(client, "/bostad/staff/")
    assert client.post(f"/bostad/staff/applicants/{applicant.id}/priority", data={
        "csrf_token": token, "group": "business", "urgency": "1",
        "reason": "x"}).status_code == 404
    assert client.post(f"/bostad/staff/listings/{listing.id}/priority/{priority.id}",
                       data={"csrf_token": token}).status_code == 404


def test_an_officer_records_an_internal_move_exception_with_a_reason(client, db_session, queue,
                                                                      officer):
    applicant = _applicant(db_session, queue, queue.tenant)
    path = f"/bostad/staff/applicants/{applicant.id}"
    token = csrf_of(client, path)
    assert client.post(f"{path}/move-exception",
                       data={"csrf_token": token, "exception_reason": ""}).status_code == 400
    assert client.post(f"{path}/move-exception", data={
        "csrf_token": token, "exception_reason": "Familjebildning"}).status_code == 303
    assert service.excepted(db_session, applicant) == {applicant.id}


def test_another_landlords_move_exception_route_answers_404(client, db_session, queue,
                                                            create_landlord, create_user, auth):
    applicant = _applicant(db_session, queue, queue.tenant)
    other = create_landlord(code="OTHR", name="Annan Bostad")
    auth.login(create_user(role="landlord", landlord=other).email)
    token = csrf_of(client, "/bostad/staff/")
    assert client.post(f"/bostad/staff/applicants/{applicant.id}/move-exception", data={
        "csrf_token": token, "exception_reason": "x"}).status_code == 404
