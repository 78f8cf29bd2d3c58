"""The landlord's vacancy file (CSV or XLSX) becomes listings, all rows or none, with row
errors in the reader's language, on the staff page and with ``dispatch housing
import-vacancies``; each listing has its own page, which the subscription mail links to."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from dispatch.housing import service, vacancies
from dispatch.models import AuditEvent, utcnow
from dispatch.models.housing import HousingListing
from tests.housing.conftest import NOW, TZ, csrf_of, log_in

pytest_plugins = ["tests.support.reports"]

GOOD = (b"objektsnummer;ledig_fran;hyra;publiceringsdagar\n"
        b"H-1101;2027-01-01;8 500,00;10\n"
        b"H-1001;2027-02-01;;\n")


def _import(db_session, queue, data: bytes):
    return vacancies.import_vacancies(db_session, queue.landlord.id, data, now=NOW,
                                      default_days=7, staff_user_id=None, actor="test")


def test_a_csv_file_publishes_every_row_with_its_rent_and_days(db_session, queue):
    first, second = _import(db_session, queue, GOOD)
    assert (first.object_id, first.vacant_on, first.rent_sek) == (
        queue.flat.id, date(2027, 1, 1), Decimal("8500.00"))
    assert first.published_until == NOW + timedelta(days=10)
    assert (second.object_id, second.rent_sek, second.rent) == (
        queue.small.id, None, queue.small.rent_sek)  # no rent in the file: the register's
    assert second.published_until == NOW + timedelta(days=7)
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "housing.vacancies.imported"))
    assert event.details["listing_ids"] == [first.id, second.id]


def test_an_xlsx_file_with_date_cells_and_english_headers_is_read_too(db_session, queue):
    book = Workbook()
    sheet = book.active
    sheet.append(["Object number", "Available from", "Rent", "Publish days"])
    sheet.append(["H-1101", date(2027, 3, 1), 7900, 5])
    out = io.BytesIO()
    book.save(out)
    (listing,) = _import(db_session, queue, out.getvalue())
    assert (listing.vacant_on, listing.rent_sek) == (date(2027, 3, 1), Decimal("7900"))


def test_a_windows_1252_file_with_swedish_headers_is_read(db_session, queue):
    data = "Objektnummer;Ledig från;Månadshyra\nH-1101;2027-01-01;8000\n".encode("cp1252")
    (listing,) = _import(db_session, queue, data)
    assert listing.object_id == queue.flat.id


def test_any_row_error_publishes_nothing_and_names_every_row(db_session, queue):
    service.publish(db_session, queue.small, now=NOW, vacant_on=date(2027, 1, 1), days=7)
    data = (b"objektsnummer;ledig_fran;hyra;publiceringsdagar\n"
            b"H-1101;2027-01-01;8000;7\n"
            b"H-1101;2027-01-02;8000;7\n"
            b"H-9999;1 januari;mycket;90\n"
            b"H-1001;2027-01-01;;\n"
            b";;;\n"
            b"H-1201;;;\n")
    with pytest.raises(vacancies.FileRefused) as refused:
        _import(db_session, queue, data)
    assert [(e.line, e.column, e.code) for e in refused.value.errors] == [
        (3, "objektsnummer", "duplicate"),
        (4, "objektsnummer", "unknown_object"), (4, "ledig_fran", "bad_date"),
        (4, "hyra", "bad_rent"), (4, "publiceringsdagar", "bad_days"),
        (5, "objektsnummer", "already_published"),
        (7, "ledig_fran", "missing"),
    ]
    assert db_session.scalar(select(HousingListing).where(
        HousingListing.object_id == queue.flat.id)) is None


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"objektsnummer;hyra\nH-1101;8000\n", "columns"),
    (b"objektsnummer;ledig_fran\n", "no_rows"),
    (b"just some words\nand more\n", "not_a_table"),
    (b"PK\x03\x04 not really a workbook", "unreadable"),
])
def test_a_file_that_is_no_vacancy_table_is_refused_whole(db_session, queue, data, code):
    with pytest.raises(vacancies.FileRefused) as refused:
        _import(db_session, queue, data)
    assert [e.code for e in refused.value.errors] == [code]


# -- the page, the command and the listing's own page -----------------------------------------

@pytest.fixture
def officer(client, auth, create_user, queue, app):
    app.config["HOUSING_LANDLORD"] = "HAMB"
    user = create_user(role="landlord", landlord=queue.landlord)
    assert auth.login(user.email).status_code == 302
    return user


def test_the_page_shows_the_row_errors_in_swedish_and_publishes_nothing(client, db_session,
                                                                         queue, officer):
    token = csrf_of(client, "/bostad/staff/vacancies")
    bad = client.post("/bostad/staff/vacancies", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id),
        "file": (io.BytesIO(b"objektsnummer;ledig_fran\nH-9999;2027-01-01\n"), "lediga.csv")},
        content_type="multipart/form-data")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Filen importerades inte: 1 fel. Ingenting är publicerat." in page
    assert "inget objekt H-9999 i registret" in page
    assert db_session.scalar(select(HousingListing)) is None
    missing = client.post("/bostad/staff/vacancies", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id)},
        content_type="multipart/form-data")
    assert missing.status_code == 400 and 'id="file-error"' in missing.get_data(as_text=True)


def test_an_uploaded_file_publishes_and_the_subscribers_mail_links_the_listing(
        client, db_session, queue, officer, smtp):
    applicant = service.register(db_session, queue.older, queue.landlord.id,
                                 service.local_today(TZ))
    applicant.rooms_min = 3
    db_session.flush()
    token = csrf_of(client, "/bostad/staff/vacancies")
    done = client.post("/bostad/staff/vacancies", data={
        "csrf_token": token, "landlord_id": str(queue.landlord.id),
        "file": (io.BytesIO(GOOD), "lediga.csv")}, content_type="multipart/form-data")
    assert done.status_code == 303
    listing = db_session.scalar(select(HousingListing).where(
        HousingListing.object_id == queue.flat.id))
    (message,) = smtp.messages  # H-1001 has one room: no match
    body = message.get_payload(decode=True).decode()
    assert f"/bostad/listings/{listing.id}" in body
    log_in(client, queue.older)
    page = client.get(f"/bostad/listings/{listing.id}").get_data(as_text=True)
    assert "Örsholmsvägen 3" in page and "8\xa0500 kr" in page and "Anmäl intresse" in page
    token = csrf_of(client, f"/bostad/listings/{listing.id}")
    back = client.post(f"/bostad/listings/{listing.id}/interest",
                       data={"csrf_token": token, "back": "listing"})
    assert back.location.endswith(f"/bostad/listings/{listing.id}")


def test_a_listing_page_of_another_landlord_is_not_found(client, db_session, queue, app,
                                                         create_landlord):
    app.config["HOUSING_LANDLORD"] = "HAMB"
    listing = service.publish(db_session, queue.flat, now=utcnow() - timedelta(minutes=1),
                              vacant_on=date(2027, 1, 1), days=7)
    assert client.get(f"/bostad/listings/{listing.id}").status_code == 200
    other = create_landlord(code="OTHR", name="Annan")
    app.config["HOUSING_LANDLORD"] = other.code
    assert client.get(f"/bostad/listings/{listing.id}").status_code == 404


def test_the_command_publishes_a_file_and_mails_the_subscribers(runner, db_session, queue,
                                                                tmp_path, smtp, app):
    applicant = service.register(db_session, queue.older, queue.landlord.id,
                                 service.local_today(TZ))
    applicant.rooms_min = 1
    db_session.flush()
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD)
    result = runner.invoke(args=["housing", "import-vacancies", "--landlord", "HAMB",
                                 str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 annonser publicerade: ")  # the app's language
    db_session.expire_all()
    ids = sorted(db_session.scalars(select(HousingListing.id)))
    assert len(ids) == 2
    links = {m.get_payload(decode=True).decode().split()[-1] for m in smtp.messages}
    assert len(smtp.messages) == 2  # one mail a listing (the ids as text sort 10 before 9)
    assert links == {f"{app.config['BASE_URL']}/bostad/listings/{i}" for i in ids}


def test_the_command_says_which_rows_are_wrong_and_publishes_nothing(runner, db_session, queue,
                                                                    tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("objektsnummer;ledig_fran\nH-1101;2027-01-01\nH-1001;i morgon\n",
                   encoding="utf-8")
    result = runner.invoke(args=["housing", "import-vacancies", "--landlord", "HAMB", str(bad)])
    assert result.exit_code != 0
    assert "rad 3, ledig_fran: inte ett datum (ÅÅÅÅ-MM-DD): i morgon" in result.output
    assert "1 fel: ingenting publicerades" in result.output
