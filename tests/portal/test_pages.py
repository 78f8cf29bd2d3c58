"""Mina sidor as the tenant sees it: the first page, contact details, notice of termination,
messages, a written disturbance complaint, the Finnish default for a Finnish landlord."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import date

import time_machine
from sqlalchemy import select

from dispatch.models import AuditEvent, Complaint, Job, Person
from dispatch.models.portal import PortalMessage, TenantContact
from tests.portal.conftest import csrf_of, log_in


def test_a_visitor_without_a_session_is_sent_to_the_log_in(client):
    response = client.get("/portal/")
    assert response.status_code == 302
    assert "/portal/login" in response.headers["Location"]


def test_first_page_shows_the_agreement_its_objects_and_tenant_1s_kundnummer(tenant, home):
    page = tenant.get("/portal/").get_data(as_text=True)
    assert "A-500" in page
    assert "1-1102" in page and "Lägenhet" in page
    assert "1-F17" in page and "Förråd" in page
    assert "K-1001" in page
    assert "Söder 12:34" in page and "Götgatan 12B" in page
    assert "74,5" in page  # area from the register, decimal comma in Swedish
    assert "<span class=\"nobr\">118 46</span> Stockholm" in page  # as the invoice PDF
    assert "A-600" not in page  # the neighbour's agreement


def test_a_session_of_a_person_gone_from_the_register_goes_to_the_log_in(client):
    log_in(client, type("Gone", (), {"id": 987654})())
    response = client.get("/portal/")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]


def test_tenant_2_sees_the_agreement_with_tenant_1s_kundnummer(client, home):
    log_in(client, home.second)
    page = client.get("/portal/").get_data(as_text=True)
    assert "A-500" in page and "K-1001" in page
    assert "K-1002" not in page


def test_an_ended_agreement_is_not_on_the_first_page(tenant, home, db_session):
    home.agreement.ends_on = date(2021, 3, 31)
    db_session.flush()
    page = tenant.get("/portal/").get_data(as_text=True)
    assert "A-500" not in page


def test_finnish_landlords_tenants_see_finnish_until_they_choose(client, home, db_session):
    home.landlord.country = "FI"
    db_session.flush()
    log_in(client, home.first)
    page = client.get("/portal/").get_data(as_text=True)
    assert '<html lang="fi">' in page
    assert "Omat sivut" in page
    page = client.get("/portal/?lang=sv").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert '<html lang="sv">' in client.get("/portal/").get_data(as_text=True)


def test_swedish_landlords_tenants_see_swedish(tenant):
    assert '<html lang="sv">' in tenant.get("/portal/").get_data(as_text=True)


def test_contact_details_are_stored_in_e164_and_the_landlord_is_told(tenant, home,
                                                                      db_session):
    token = csrf_of(tenant, "/portal/contact")
    response = tenant.post("/portal/contact", data={
        "csrf_token": token, "email": "anna.ny@example.se", "phone": "070-765 43 21",
        "other_phone": "08-123 456 78"})
    assert response.status_code == 302
    person = db_session.get(Person, home.first.id)
    assert person.email == "anna.ny@example.se"
    assert person.phone == "+46707654321"
    assert db_session.get(TenantContact, person.id).other_phone == "+46812345678"
    told = db_session.scalars(select(PortalMessage).where(
        PortalMessage.person_id == person.id, PortalMessage.kind == "contact_change")).one()
    assert told.body == "email, phone, other_phone"


def test_a_bad_phone_keeps_what_was_typed_and_says_so_next_to_the_field(tenant, home,
                                                                         db_session):
    token = csrf_of(tenant, "/portal/contact")
    response = tenant.post("/portal/contact", data={
        "csrf_token": token, "email": "anna@example.se", "phone": "12", "other_phone": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="phone-error"' in page and "Inte ett telefonnummer." in page
    assert 'value="12"' in page
    assert db_session.get(Person, home.first.id).phone == "+46701234567"


def test_a_form_without_the_csrf_token_is_refused(tenant):
    response = tenant.post("/portal/contact", data={"email": "x@example.se"})
    assert response.status_code == 400


def test_notice_ends_the_agreement_by_hyreslagen_and_is_confirmed_by_mail(
        client, home, db_session, app, tmp_path):
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path))
    with time_machine.travel("2025-11-20 10:00:00+01:00", tick=False):
        log_in(client, home.first)
        page = client.get(f"/portal/agreements/{home.agreement.id}/notice").get_data(
            as_text=True)
        assert "28 februari 2026" in page
        token = csrf_of(client, "/portal/")
        response = client.post(f"/portal/agreements/{home.agreement.id}/notice",
                               data={"csrf_token": token, "confirm": "yes"})
    assert response.status_code == 302
    db_session.refresh(home.agreement)
    assert home.agreement.notice_given_on == date(2025, 11, 20)
    assert home.agreement.ends_on == date(2026, 2, 28)
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.notice"))
    assert audit.one().subject == f"agreement:{home.agreement.id}"
    [mail] = list(tmp_path.glob("*.eml"))
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "anna@example.se"
    assert message["Subject"] == "Din uppsägning är registrerad"
    text = message.get_body(("plain",)).get_content()
    assert "A-500" in text and "28 februari 2026" in text
    assert "K-1001" not in text and "+4670" not in text  # no numbers about the person


def test_notice_without_confirming_changes_nothing(tenant, home, db_session):
    token = csrf_of(tenant, "/portal/")
    response = tenant.post(f"/portal/agreements/{home.agreement.id}/notice",
                           data={"csrf_token": token})
    assert response.status_code == 400
    assert "Bekräfta att du säger upp avtalet." in response.get_data(as_text=True)
    db_session.refresh(home.agreement)
    assert home.agreement.notice_given_on is None


def test_a_message_a_service_request_and_one_to_rent_monitoring_reach_the_landlord(
        tenant, home, db_session):
    token = csrf_of(tenant, "/portal/messages")
    for kind in ("message", "service_request", "rent"):
        response = tenant.post("/portal/messages", data={
            "csrf_token": token, "kind": kind, "subject": "Hyra", "body": "Fråga om hyran"})
        assert response.status_code == 302
    kinds = db_session.scalars(select(PortalMessage.kind).where(
        PortalMessage.landlord_id == home.landlord.id)).all()
    assert sorted(kinds) == ["message", "rent", "service_request"]


def test_a_message_keeps_its_line_breaks_escaped_apart_from_its_subject(tenant, home,
                                                                        db_session):
    db_session.add(PortalMessage(landlord_id=home.landlord.id, person_id=home.first.id,
                                 from_staff=True, kind="message", subject="Fläkten",
                                 body="Vi kommer nästa vecka.\nMvh <Emil>"))
    db_session.flush()
    page = tenant.get("/portal/messages").get_data(as_text=True)
    assert ('<strong class="subject">Fläkten</strong> '
            '<span class="body">Vi kommer nästa vecka.\nMvh &lt;Emil&gt;</span>') in page


def test_an_empty_message_keeps_the_subject_and_shows_the_error(tenant):
    token = csrf_of(tenant, "/portal/messages")
    response = tenant.post("/portal/messages", data={
        "csrf_token": token, "kind": "message", "subject": "Hyra", "body": " "})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="body-error"' in page and 'value="Hyra"' in page


def test_a_written_complaint_becomes_a_queued_job_on_the_tenants_flat(tenant, home,
                                                                     db_session):
    token = csrf_of(tenant, "/portal/complaint")
    response = tenant.post("/portal/complaint", data={
        "csrf_token": token, "object_id": str(home.flat.id), "category": "music",
        "description": "Hög musik från lägenheten ovanför varje natt"})
    assert response.status_code == 302
    complaint = db_session.scalars(select(Complaint).where(
        Complaint.landlord_id == home.landlord.id)).one()
    assert complaint.object_id == home.flat.id
    assert complaint.category == "music"
    assert complaint.caller_name == "Anna Andersson"
    job = db_session.scalars(select(Job).where(Job.complaint_id == complaint.id)).one()
    assert job.status == "queued"


def test_a_complaint_on_someone_elses_object_is_refused(tenant, home, db_session):
    token = csrf_of(tenant, "/portal/complaint")
    response = tenant.post("/portal/complaint", data={
        "csrf_token": token, "object_id": str(home.neighbour_flat.id), "category": "music",
        "description": "x"})
    assert response.status_code == 400
    assert db_session.scalars(select(Complaint)).first() is None


def test_staff_see_a_tenants_changed_contact_details_and_notice_in_words(
        client, auth, home, create_user, db_session):
    log_in(client, home.first)
    token = csrf_of(client, "/portal/contact")
    client.post("/portal/contact", data={"csrf_token": token, "email": "anna@example.se",
                                         "phone": "070-765 43 21", "other_phone": ""})
    client.post(f"/portal/agreements/{home.agreement.id}/notice",
                data={"csrf_token": token, "confirm": "yes"})
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    page = client.get("/portal/staff/").get_data(as_text=True)
    assert "Ändrat: Mobiltelefon." in page
    assert "070-765 43 21" in page
    assert "Uppsägning av avtal A-500; avtalet upphör" in page


def test_english_on_request(tenant):
    page = tenant.get("/portal/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Customer number of tenant 1" in page and "Flat" in page


def test_an_admin_importing_for_several_landlords_must_choose_one(
        client, auth, home, create_user, create_landlord, db_session):
    create_landlord(code="OTHER", name="Other AB")
    create_user(role="admin", email="admin@jour.se")
    auth.login("admin@jour.se")
    token = csrf_of(client, "/portal/staff/invoices")
    response = client.post("/portal/staff/invoices", data={
        "csrf_token": token, "file": (io.BytesIO(b"x"), "avier.csv")})
    assert response.status_code == 400
    assert 'id="landlord_id-error"' in response.get_data(as_text=True)
