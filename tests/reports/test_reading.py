"""Reading reports: the mailed link works after log-in and not before, a contact person reads
only its own landlord's reports whatever id, link or export it tries, every read is audited,
and the print view, PDF and CSV carry the report."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from dispatch.models import AuditEvent, MorningMail
from dispatch.reports.morning import send_morning_reports
from tests.support.reports_helpers import local, text_of

pytest_plugins = ["tests.support.reports"]

LINK = re.compile(r"https?://[^\s\"<>]+/reports/m/[A-Za-z0-9_-]+")
NOW = local(2026, 1, 15, 6, 0)


@pytest.fixture
def two_landlords(app, db_session, smtp, create_landlord, create_user, make_report):
    """ACME and BRAVO, one contact and one released report each, and the morning mail sent."""
    acme, bravo = create_landlord(code="ACME"), create_landlord(code="BRAVO", name="Bravo AB")
    create_user(role="landlord", landlord=acme, email="kontakt@acme.se")
    create_user(role="landlord", landlord=bravo, email="kontakt@bravo.se")
    a = make_report(acme, at=local(2026, 1, 14, 23, 10), released=local(2026, 1, 15, 1, 0),
                    text="Rapport för Acme: musiken sänktes åt öster.")
    b = make_report(bravo, at=local(2026, 1, 14, 22, 0), released=local(2026, 1, 15, 2, 0),
                    text="Rapport för Bravo.")
    send_morning_reports(app, db_session, now=NOW)
    links = {to: LINK.search(text_of(smtp.to(to)[0])).group(0)
             for to in ("kontakt@acme.se", "kontakt@bravo.se")}
    return {"acme": a, "bravo": b, "links": links}


def _path(url: str) -> str:
    return urlsplit(url).path


def _reads(db_session, action="report.read"):
    return db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).all()


def test_the_mailed_link_leads_to_log_in_first_and_then_to_that_mornings_reports(
        client, auth, two_landlords):
    link = _path(two_landlords["links"]["kontakt@acme.se"])
    before = client.get(link)
    assert before.status_code == 302
    assert urlsplit(before.headers["Location"]).path == "/reports/login"
    page = client.get(before.headers["Location"]).get_data(as_text=True)
    assert 'name="password"' in page and 'id="code-email"' in page
    assert client.get("/reports/morning/2026-01-15").status_code == 302
    assert client.get(f"/reports/{two_landlords['acme'].id}.pdf").status_code == 302

    login = auth.login("kontakt@acme.se")
    assert login.status_code == 302
    after = client.get(link)
    assert after.status_code == 302 and after.headers["Location"].endswith(
        "/reports/morning/2026-01-15")
    page = client.get(after.headers["Location"]).get_data(as_text=True)
    assert f"/reports/{two_landlords['acme'].id}" in page
    assert f"/reports/{two_landlords['bravo'].id}" not in page


def test_log_in_from_the_link_goes_back_to_the_link(client, auth, two_landlords):
    link = _path(two_landlords["links"]["kontakt@acme.se"])
    token = auth.csrf_token("/reports/login")
    answer = client.post(f"/login?next={link}", data={
        "email": "kontakt@acme.se", "password": "correct horse battery", "csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == link


def test_landlord_a_cannot_read_bs_report_by_id_link_or_export(
        client, auth, db_session, two_landlords):
    auth.login("kontakt@acme.se")
    theirs = two_landlords["bravo"].id
    for path in (f"/reports/{theirs}", f"/reports/{theirs}.pdf", f"/reports/{theirs}/print",
                 _path(two_landlords["links"]["kontakt@bravo.se"])):
        assert client.get(path).status_code == 404, path
    api = client.get(f"/api/v1/reports/{theirs}")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/reports/999999").get_json() == api.get_json()
    listed = client.get("/api/v1/reports?date=2026-01-15").get_json()
    assert [r["id"] for r in listed] == [two_landlords["acme"].id]
    export = client.get("/reports/export.csv?from=2026-01-01&to=2026-01-31")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert [r[0] for r in rows[1:]] == [str(two_landlords["acme"].id)]
    assert "Bravo" not in export.get_data(as_text=True)


def test_a_contact_does_not_see_reports_still_waiting_for_review(
        client, auth, acme, make_report):
    waiting = make_report(acme, at=local(2026, 1, 14, 23, 0), released=None)
    auth.login("kontakt@acme.se")
    assert client.get(f"/reports/{waiting.id}").status_code == 404
    assert client.get(f"/api/v1/reports/{waiting.id}").status_code == 404


def test_every_read_is_audited_with_who_what_and_how(client, auth, db_session, two_landlords):
    auth.login("kontakt@acme.se")
    mine = two_landlords["acme"].id
    client.get(_path(two_landlords["links"]["kontakt@acme.se"]))
    client.get("/reports/morning/2026-01-15")
    client.get(f"/reports/{mine}")
    client.get(f"/reports/{mine}/print")
    client.get(f"/reports/{mine}.pdf")
    client.get(f"/api/v1/reports/{mine}")
    client.get("/reports/export.csv?from=2026-01-14&to=2026-01-14")
    reads = _reads(db_session)
    assert [(r.subject, r.details["format"]) for r in reads] == [
        (f"report:{mine}", "html"), (f"report:{mine}", "print"), (f"report:{mine}", "pdf"),
        (f"report:{mine}", "api")]
    user_id = reads[0].user_id
    assert all(r.user_id == user_id and r.ip for r in reads)
    [listed] = _reads(db_session, "report.list")[-1:]
    assert listed.details["reports"] == [mine]
    [export] = _reads(db_session, "report.export")
    assert export.details["reports"] == [mine] and export.details["count"] == 1
    assert _reads(db_session, "report.link_opened")[0].subject == "morning:2026-01-15"


def test_the_report_page_print_view_and_pdf_carry_the_report(client, auth, two_landlords):
    auth.login("kontakt@acme.se")
    mine = two_landlords["acme"].id
    page = client.get(f"/reports/{mine}").get_data(as_text=True)
    assert "musiken sänktes åt öster" in page and "Götgatan 12B" in page
    assert "23:10" in page  # the call, in Stockholm time
    assert '<html lang="sv">' in page
    assert "070" not in page and "4711" not in page  # no phone number, no door code
    printed = client.get(f"/reports/{mine}/print").get_data(as_text=True)
    assert "musiken sänktes åt öster" in printed and 'media="print"' in printed
    pdf = client.get(f"/reports/{mine}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert b"DejaVuSans" in pdf.data  # the embedded font that has å, ä and ö


def test_operators_read_every_landlords_reports(client, auth, create_user, two_landlords):
    create_user(role="operator", email="op@jour.se")
    auth.login("op@jour.se")
    for report in (two_landlords["acme"], two_landlords["bravo"]):
        assert client.get(f"/api/v1/reports/{report.id}").status_code == 200
    assert len(client.get("/api/v1/reports?date=2026-01-15").get_json()) == 2


def test_a_patrol_cannot_read_reports(client, auth, create_user, two_landlords):
    create_user(role="patrol", email="car@jour.se")
    auth.login("car@jour.se")
    assert client.get(f"/reports/{two_landlords['acme'].id}").status_code == 403
    assert client.get(f"/api/v1/reports/{two_landlords['acme'].id}").status_code == 403


def test_the_api_lists_a_morning_with_the_contract_shape(client, auth, two_landlords):
    auth.login("kontakt@acme.se")
    [item] = client.get("/api/v1/reports?date=2026-01-15").get_json()
    assert item["id"] == two_landlords["acme"].id
    assert item["night"] == "2026-01-14" and item["landlord"]["code"] == "ACME"
    one = client.get(f"/api/v1/reports/{item['id']}").get_json()
    assert [s["event"] for s in one["timeline"]] == [
        "call", "dispatched", "acknowledged", "arrived", "left"]
    assert client.get("/api/v1/reports?date=15-01-2026").get_json()["error"]["code"] == (
        "invalid_date")


def test_the_mail_link_token_is_unique_per_contact_and_morning(db_session, two_landlords):
    tokens = db_session.scalars(select(MorningMail.link_token)).all()
    assert len(tokens) == len(set(tokens)) == 2
    assert all(t.startswith("20260115") for t in tokens)
