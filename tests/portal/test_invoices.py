"""Invoices (avier) and payments: the landlord's CSV import is all or nothing with line and
column errors; tenant 1 sees invoices with a valid OCR, the PDF, payments and rent debt;
tenant 2 sees none of it."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from dispatch.core.extensions import db
from dispatch.models.portal import Invoice, Payment
from dispatch.portal.invoices import import_file, money, postcode
from dispatch.portal.rules import ocr_number, valid_ocr
from tests.portal.conftest import csrf_of, log_in

HEADER = "fakturanummer;avtalsnummer;ocr;belopp;fakturadatum;forfallodatum;period\n"
OCR_NOV = ocr_number("2026110001")
OCR_DEC = ocr_number("2026120001", length_digit=True)


def invoice_file(*lines: str) -> bytes:
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


GOOD = invoice_file(f"2026110001;A-500;{OCR_NOV};8450,00;2026-10-15;2026-10-31;2026-11",
                    f"2026120001;A-500;{OCR_DEC};8 450,00;2026-11-15;2026-11-30;2026-12",
                    f"2026120002;A-600;{ocr_number('2026120002')};6200;2026-11-15;2026-11-30;")


@pytest.fixture
def billed(home, db_session):
    result = import_file(db_session, home.landlord, GOOD, actor="test")
    assert result.accepted, result.errors
    pay = ("betalningsreferens;ocr;belopp;betaldatum\n"
           f"BG-1;{OCR_NOV};8450,00;2026-10-30\n").encode()
    assert import_file(db_session, home.landlord, pay, actor="test").accepted
    return home


def test_a_good_invoice_file_is_imported_and_the_same_file_again_changes_nothing(
        home, db_session):
    first = import_file(db_session, home.landlord, GOOD, actor="test")
    assert (first.kind, first.added, first.errors) == ("invoices", 3, [])
    again = import_file(db_session, home.landlord, GOOD, actor="test")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    amounts = db_session.scalars(select(Invoice.amount_ore).order_by(Invoice.invoice_number))
    assert list(amounts) == [845000, 845000, 620000]


def test_one_bad_line_imports_nothing_and_names_every_error_by_line_and_column(
        home, db_session):
    bad = invoice_file(f"1;A-500;{OCR_NOV};8450,00;2026-10-15;2026-10-31;",
                       "2;A-999;1231;85,5,0;2026-13-01;2026-10-31;",
                       f"1;A-500;{OCR_NOV};100;2026-10-15;2026-10-01;")
    result = import_file(db_session, home.landlord, bad, actor="test")
    found = {(line, column) for line, column, _value, _reason in result.errors}
    assert found == {(3, "avtalsnummer"), (3, "ocr"), (3, "belopp"), (3, "fakturadatum"),
                     (4, "fakturanummer"), (4, "forfallodatum")}
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_file_with_unknown_columns_or_not_utf8_is_refused_whole(home, db_session):
    assert import_file(db_session, home.landlord, b"a;b\n1;2\n", actor="t").errors[0][0] == 1
    latin1 = invoice_file("1;A-500;1230;1;2026-01-01;2026-01-31;Göteborg").decode().encode(
        "latin-1")
    assert import_file(db_session, home.landlord, latin1, actor="t").errors
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_payment_for_an_unknown_ocr_imports_no_payment_at_all(billed, db_session):
    pay = ("betalningsreferens;ocr;belopp;betaldatum\n"
           f"BG-2;{OCR_DEC};8450,00;2026-11-29\n"
           f"BG-3;{ocr_number('999')};1,00;2026-11-29\n").encode()
    result = import_file(db_session, billed.landlord, pay, actor="test")
    assert [(e[0], e[1]) for e in result.errors] == [(3, "ocr")]
    assert db_session.scalar(select(func.count()).select_from(Payment)) == 1


def test_tenant_1_sees_invoices_with_a_valid_ocr_payments_and_rent_debt(client, billed):
    with time_machine.travel("2026-11-26 12:00:00+01:00", tick=False):
        log_in(client, billed.first)
        page = client.get("/portal/invoices").get_data(as_text=True)
    assert OCR_NOV in page and OCR_DEC in page
    assert valid_ocr(OCR_DEC, length_digit=True)
    assert "8\u00a0450,00\u00a0kr" in page
    assert "Betald" in page and "Att betala" in page
    # December's is not due yet
    assert 'Hyresskuld: <strong class="money">0,00\u00a0kr</strong>' in page
    assert ocr_number("2026120002") not in page  # the neighbour's invoice


def test_rent_debt_is_what_fell_due_less_what_was_paid(client, billed):
    with time_machine.travel("2026-12-02 12:00:00+01:00", tick=False):
        log_in(client, billed.first)
        page = client.get("/portal/invoices").get_data(as_text=True)
    assert 'Hyresskuld: <strong class="money">8\u00a0450,00\u00a0kr</strong>' in page
    assert "Förfallen" in page


@pytest.mark.parametrize("lang", ["sv", "fi", "en"])
def test_an_amount_and_its_currency_never_part(app, lang):
    with app.test_request_context(f"/?lang={lang}"), force_locale(lang):
        shown = money(222_550)
    assert " " not in shown and shown.endswith("\u00a0kr")


def test_a_partly_paid_invoice_shows_what_is_left_to_pay(client, billed, db_session):
    result = import_file(db_session, billed.landlord, invoice_file(
        f"2026100001;A-500;{ocr_number('2026100001')};12345,50;2026-09-15;2026-09-30;2026-10"),
        actor="test")
    assert result.accepted, result.errors
    pay = ("betalningsreferens;ocr;belopp;betaldatum\n"
           f"BG-9;{ocr_number('2026100001')};10000,00;2026-09-29\n").encode()
    assert import_file(db_session, billed.landlord, pay, actor="test").accepted
    with time_machine.travel("2026-11-26 12:00:00+01:00", tick=False):
        log_in(client, billed.first)
        page = client.get("/portal/invoices?lang=en").get_data(as_text=True)
    row = page[page.index("2026100001"):]
    row = row[:row.index("</tr>")]
    assert "Overdue" in row
    assert "2,345.50\u00a0kr left to pay" in row
    assert page.count("left to pay") == 1  # not on the paid nor the unpaid invoice


def test_tenant_2_sees_no_invoices_and_cannot_open_one(client, billed, db_session):
    log_in(client, billed.second)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert OCR_NOV not in page
    assert "visas bara för hyresgäst 1" in page
    invoice = db_session.scalars(select(Invoice).where(Invoice.ocr == OCR_NOV)).one()
    assert client.get(f"/portal/invoices/{invoice.id}.pdf").status_code == 404
    assert "Hyresskuld" not in client.get("/portal/").get_data(as_text=True)


def test_the_invoice_pdf_carries_ocr_amount_and_kundnummer(client, billed, db_session):
    log_in(client, billed.first)
    invoice = db_session.scalars(select(Invoice).where(Invoice.ocr == OCR_NOV)).one()
    response = client.get(f"/portal/invoices/{invoice.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert OCR_NOV in text and "K-1001" in text and "8 450,00 kr" in text.replace("\u00a0", " ")
    assert "Götgatan 12B, 118 46 Stockholm" in text


def test_the_pages_print_the_postcode_as_the_pdf_does(client, billed):
    log_in(client, billed.first)
    page = client.get("/portal/").get_data(as_text=True)
    assert 'Götgatan 12B, <span class="nobr">118 46</span> Stockholm' in page
    assert "11846" not in page


def test_a_swedish_postcode_is_printed_nnn_nn_and_a_finnish_one_as_registered():
    assert postcode("11646", "SE") == "116 46"
    assert postcode("00100", "FI") == "00100"


def test_staff_import_page_shows_the_errors_and_keeps_the_database(client, auth, home,
                                                                  create_user, db_session):
    create_user(role="landlord", landlord=home.landlord, email="staff@shem.se")
    auth.login("staff@shem.se")
    token = csrf_of(client, "/portal/staff/invoices")
    response = client.post("/portal/staff/invoices", data={
        "csrf_token": token, "file": (io.BytesIO(invoice_file("1;A-999;1230;1;2026-01-01;"
                                                               "2026-01-31;")), "avier.csv")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "1 fel: ingenting importerades." in page
    assert "Inget avtal med det numret i registret." in page
    response = client.post("/portal/staff/invoices", data={
        "csrf_token": token, "file": (io.BytesIO(GOOD), "avier.csv")})
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Invoice)) == 3


def test_the_command_imports_or_lists_errors_and_exits_1(runner, home, tmp_path):
    path = tmp_path / "avier.csv"
    path.write_bytes(invoice_file("1;A-999;1230;1;2026-01-01;2026-01-31;"))
    result = runner.invoke(args=["portal", "import-invoices", "--landlord", "SHEM", str(path)])
    assert result.exit_code == 1
    assert "rad 2, kolumn avtalsnummer: Inget avtal med det numret" in result.output
    path.write_bytes(GOOD)
    result = runner.invoke(args=["portal", "import-invoices", "--landlord", "SHEM", str(path)])
    assert result.exit_code == 0, result.output
    assert "avier: 3 tillagda" in result.output
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3
    assert date(2026, 10, 31) in set(db.session.scalars(select(Invoice.due_on)))
