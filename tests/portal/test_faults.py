"""Fault reports: photos checked by content, EXIF stripped by re-encoding, size-limited; the
status timeline kept by the landlord's staff, with a mail to the tenant in their language at
each change; messages both ways."""

from __future__ import annotations

import email
import email.policy
import io

import pytest
from PIL import Image
from sqlalchemy import select

from dispatch.models.portal import FaultPhoto, FaultReport, PortalMessage
from tests.portal.conftest import csrf_of

GPS_TAG = 0x8825


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    exif[GPS_TAG] = {1: "N", 2: (59.0, 19.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def report(client, home, *, photos=(), **fields):
    token = csrf_of(client, "/portal/faults/new")
    data = {"csrf_token": token, "object_id": str(home.flat.id), "category": "water",
            "room": "bathroom", "description": "Droppande kran", "master_key": "yes",
            **fields}
    data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    return client.post("/portal/faults/new", data=data, content_type="multipart/form-data")


def test_a_fault_report_with_a_photo_keeps_the_photo_without_exif(tenant, home, db_session):
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif().get(0x010F) == "PhoneMaker"
    response = report(tenant, home, photos=[("kran.jpg", original)])
    assert response.status_code == 302
    fault = db_session.scalars(select(FaultReport)).one()
    assert (fault.status, fault.category, fault.room, fault.master_key_allowed) == (
        "received", "water", "bathroom", True)
    [photo] = fault.photos
    kept = Image.open(io.BytesIO(photo.data))
    assert kept.format == "JPEG" and kept.size == (64, 48)
    assert dict(kept.getexif()) == {}
    assert b"PhoneMaker" not in photo.data
    shown = tenant.get(f"/portal/faults/{fault.id}/photos/{photo.id}.jpg")
    assert shown.status_code == 200 and shown.data == photo.data


def test_a_file_that_is_not_a_photo_is_refused_whatever_its_name(tenant, home, db_session):
    response = report(tenant, home, photos=[("kran.jpg", b"%PDF-1.4 not an image")],
                      description="Trasig kran")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Bara foton (JPEG, PNG eller WebP) kan bifogas." in page
    assert "Trasig kran" in page  # what was typed is kept
    assert db_session.scalars(select(FaultReport)).first() is None


def test_a_photo_over_the_size_limit_is_refused(tenant, home, app, db_session):
    app.config["PORTAL_PHOTO_MAX_BYTES"] = 1000
    response = report(tenant, home, photos=[("kran.jpg", jpeg_with_exif() + b"\0" * 1000)])
    assert response.status_code == 400
    assert "Ett foto är för stort." in response.get_data(as_text=True)
    assert db_session.scalars(select(FaultPhoto)).first() is None


def test_a_small_file_that_would_unpack_to_gigabytes_is_refused(tenant, home, db_session):
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 megapixels in a few kB
    response = report(tenant, home, photos=[("bomb.png", out.getvalue())])
    assert response.status_code == 400
    assert "Ett foto är för stort." in response.get_data(as_text=True)
    assert db_session.scalars(select(FaultPhoto)).first() is None


def test_a_report_without_a_category_keeps_what_was_typed(tenant, home):
    response = report(tenant, home, category="", description="Elementet är kallt")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="category-error"' in page and "Elementet är kallt" in page


@pytest.fixture
def staff(client, auth, home, create_user):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    return auth


def test_staff_move_the_report_on_and_the_tenant_gets_a_mail_in_finnish(
        client, tenant, home, staff, db_session, app, tmp_path):
    home.landlord.country = "FI"
    db_session.flush()
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path))
    report(tenant, home)
    fault = db_session.scalars(select(FaultReport)).one()
    staff.login("staff@shem.se")
    token = csrf_of(client, f"/portal/staff/faults/{fault.id}?lang=sv")
    response = client.post(f"/portal/staff/faults/{fault.id}", data={
        "csrf_token": token, "action": "status", "status": "planned",
        "note": "Rörmokaren kommer tisdag"})
    assert response.status_code == 302
    db_session.refresh(fault)
    assert [e.status for e in fault.events] == ["received", "planned"]
    [sent] = list(tmp_path.glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "anna@example.se"
    assert message["Subject"] == "Vikailmoituksesi: Suunniteltu"
    assert "Rörmokaren kommer tisdag" in message.get_body(("plain",)).get_content()


def test_messages_go_both_ways_on_a_fault_report(client, tenant, home, staff, db_session):
    report(tenant, home)
    fault = db_session.scalars(select(FaultReport)).one()
    token = csrf_of(tenant, f"/portal/faults/{fault.id}")
    tenant.post(f"/portal/faults/{fault.id}/messages",
                data={"csrf_token": token, "body": "Jag är hemma efter 16"})
    staff.login("staff@shem.se")
    token = csrf_of(client, f"/portal/staff/faults/{fault.id}")
    page = client.get(f"/portal/staff/faults/{fault.id}").get_data(as_text=True)
    assert "Jag är hemma efter 16" in page
    client.post(f"/portal/staff/faults/{fault.id}",
                data={"csrf_token": token, "action": "message", "body": "Vi kommer 17"})
    bodies = db_session.scalars(select(PortalMessage.body).where(
        PortalMessage.fault_id == fault.id).order_by(PortalMessage.id)).all()
    assert bodies == ["Jag är hemma efter 16", "Vi kommer 17"]


def test_the_status_mail_follows_the_language_the_tenants_account_chose(
        client, tenant, home, staff, db_session, app, tmp_path):
    from dispatch.models.accounts import TenantAccount

    db_session.add(TenantAccount(email="anna@example.se", person_id=home.first.id,
                                 identified_by="bankid", locale="en"))
    db_session.flush()
    app.config.update(SMTP_URL=None, OUTBOX_DIR=str(tmp_path))
    report(tenant, home)
    fault = db_session.scalars(select(FaultReport)).one()
    staff.login("staff@shem.se")
    token = csrf_of(client, f"/portal/staff/faults/{fault.id}")
    client.post(f"/portal/staff/faults/{fault.id}", data={
        "csrf_token": token, "action": "status", "status": "done"})
    [sent] = list(tmp_path.glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "Your fault report: Done"
