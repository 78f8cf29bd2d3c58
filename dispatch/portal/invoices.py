"""Invoices (avier) and payments: the landlord's CSV import (``docs/invoice-format.md``) with
the register's all-or-nothing rule, the invoice as PDF, and the ``dispatch portal
import-invoices`` command.

A file with any bad line changes nothing and answers every error with its line and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fpdf import FPDF
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from dispatch.auth import tenants
from dispatch.auth.passwords import hash_pin
from dispatch.core.audit import record
from dispatch.core.cli import CommandRefused
from dispatch.core.database import outside_transaction, transactional
from dispatch.core.extensions import db
from dispatch.core.i18n import in_default_locale
from dispatch.models import Agreement, AgreementParty, Entrance, Landlord, Person, utcnow
from dispatch.models.portal import Invoice, Payment
from dispatch.portal.blueprint import bp
from dispatch.portal.rules import valid_ocr
from dispatch.register.addresses import format_postnummer

INVOICE_COLUMNS = ["fakturanummer", "avtalsnummer", "ocr", "belopp", "fakturadatum",
                   "forfallodatum", "period", "kundnummer", "pin"]
PAYMENT_COLUMNS = ["betalningsreferens", "ocr", "belopp", "betaldatum"]
OPTIONAL = {"period", "kundnummer", "pin"}
SECRET_COLUMNS = {"pin"}  # never echoed in an error, a log line or the audit log
AMOUNT = re.compile(r"^-?\d{1,9}(?:[.,]\d{1,2})?$")
PIN = re.compile(r"^\d{4,8}$")

REASONS = {
    "not_utf8": _l("The file is not UTF-8 text."),
    "unknown_header": _l("The first line must name the columns of an invoice file or a "
                         "payment file (see the format)."),
    "missing_column": _l("This column is missing."),
    "required": _l("A value is required."),
    "columns": _l("The line has a different number of fields than the header."),
    "bad_ocr": _l("Not an OCR number (2–25 digits with a valid check digit)."),
    "bad_amount": _l("Not an amount (e.g. 8450,00)."),
    "bad_date": _l("Not a date (YYYY-MM-DD)."),
    "due_before_issue": _l("The due date is before the invoice date."),
    "unknown_agreement": _l("No agreement with this number in the register."),
    "duplicate": _l("The same number appears earlier in the file."),
    "other_agreement": _l("This invoice number is already on another agreement."),
    "unknown_invoice": _l("No invoice with this OCR number."),
    "payment_changed": _l("A payment with this reference was imported with other values."),
    "too_many_rows": _l("The file has too many lines."),
    "bad_pin": _l("Not a PIN code (4 to 8 digits)."),
    "not_a_party": _l("No tenant of this agreement has this customer number."),
    "pin_differs": _l("This person has another PIN code on an earlier line."),
}


@dataclass
class ImportResult:
    kind: str = ""  # "invoices" or "payments"
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    pins: int = 0  # legacy PINs set (or replaced)
    pins_void: int = 0  # PINs of people who registered with a password already: not kept
    # line, column, value, reason (a code of REASONS)
    errors: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def _amount(text: str) -> int | None:
    text = text.replace(" ", "").replace("\u00a0", "")
    if not AMOUNT.match(text):
        return None
    whole, _sep, frac = text.replace(",", ".").partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int((frac + "00")[:2]))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def import_file(session: Session, landlord: Landlord, data: bytes, *, actor: str,
                max_rows: int = 2_000_000) -> ImportResult:
    """Read an invoice or payment file of ``landlord`` and apply it, or nothing at all."""
    result = ImportResult()

    def error(line: int, column: str, value: str, code: str) -> None:
        value = "" if column in SECRET_COLUMNS else value
        result.errors.append((line, column, value[:80], code))

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        error(1, "", "", "not_utf8")
        return result
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = [h.strip().lower() for h in next(rows, [])]
    if "fakturanummer" in header:
        result.kind, columns = "invoices", INVOICE_COLUMNS
    elif "betalningsreferens" in header:
        result.kind, columns = "payments", PAYMENT_COLUMNS
    else:
        error(1, "", ";".join(header), "unknown_header")
        return result
    for name in columns:
        if name not in header and name not in OPTIONAL:
            error(1, name, "", "missing_column")
    if result.errors:
        return result
    parsed = []
    for number, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue
        if number > max_rows + 1:
            error(number, "", "", "too_many_rows")
            break
        if len(cells) != len(header):
            error(number, "", "", "columns")
            continue
        parsed.append((number, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if result.kind == "invoices":
        _invoices(session, landlord, parsed, result, error)
    else:
        _payments(session, landlord, parsed, result, error)
    if result.errors:
        return result
    record(session, "portal.import", subject=f"landlord:{landlord.id}",
           details={"kind": result.kind, "actor": actor, "added": result.added,
                    "updated": result.updated, "unchanged": result.unchanged,
                    "pins": result.pins, "pins_void": result.pins_void})
    session.flush()
    return result


def _invoices(session, landlord, parsed, result, error) -> None:
    now = utcnow()
    agreements = dict(session.execute(
        select(Agreement.avtalsnummer, Agreement.id).where(Agreement.landlord_id == landlord.id,
                                                           Agreement.avtalsnummer.is_not(None))
    ).all())
    seen: set[str] = set()
    good = []
    for line, row in parsed:
        ok = True
        for name in ("fakturanummer", "avtalsnummer", "ocr", "belopp", "fakturadatum",
                     "forfallodatum"):
            if not row.get(name):
                error(line, name, "", "required")
                ok = False
        if not ok:
            continue
        if row["fakturanummer"] in seen:
            error(line, "fakturanummer", row["fakturanummer"], "duplicate")
            ok = False
        seen.add(row["fakturanummer"])
        agreement_id = agreements.get(row["avtalsnummer"])
        if agreement_id is None:
            error(line, "avtalsnummer", row["avtalsnummer"], "unknown_agreement")
            ok = False
        if not valid_ocr(row["ocr"]):
            error(line, "ocr", row["ocr"], "bad_ocr")
            ok = False
        amount = _amount(row["belopp"])
        if amount is None:
            error(line, "belopp", row["belopp"], "bad_amount")
            ok = False
        issued, due = _date(row["fakturadatum"]), _date(row["forfallodatum"])
        for name, value in (("fakturadatum", issued), ("forfallodatum", due)):
            if value is None:
                error(line, name, row[name], "bad_date")
                ok = False
        if issued and due and due < issued:
            error(line, "forfallodatum", row["forfallodatum"], "due_before_issue")
            ok = False
        if row.get("pin") and not PIN.match(row["pin"]):
            error(line, "pin", "", "bad_pin")
            ok = False
        if ok:
            good.append((line, row, agreement_id, amount, issued, due))
    pins = _pins(session, landlord, good, error)
    if result.errors:
        return
    # The PINs' hashes before the invoices are read (the hashing ends a reading transaction
    # on SQLite, so nothing read before it is used after it).
    pin_hashes, result.pins_void = _hash_pins(session, pins)
    existing = {}
    numbers = [row["fakturanummer"] for _l, row, *_rest in good]
    for start in range(0, len(numbers), 5000):
        existing.update({i.invoice_number: i for i in session.scalars(
            select(Invoice).where(Invoice.landlord_id == landlord.id,
                                  Invoice.invoice_number.in_(numbers[start:start + 5000])))})
    for line, row, agreement_id, _amount_ore, _issued, _due in good:
        old = existing.get(row["fakturanummer"])
        if old is not None and old.agreement_id != agreement_id:
            error(line, "fakturanummer", row["fakturanummer"], "other_agreement")
    if result.errors:
        return
    tenants.set_legacy_pins(session, pin_hashes)
    result.pins = len(pin_hashes)
    new = []
    for _line, row, agreement_id, amount, issued, due in good:
        values = {"agreement_id": agreement_id, "ocr": row["ocr"], "amount_ore": amount,
                  "issued_on": issued, "due_on": due, "period": row.get("period", "")}
        old = existing.get(row["fakturanummer"])
        if old is None:
            new.append({"landlord_id": landlord.id, "invoice_number": row["fakturanummer"],
                        "created_at": now, **values})
            result.added += 1
        elif any(getattr(old, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(old, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    for start in range(0, len(new), 5000):  # one INSERT per 5,000 rows, not an object each
        session.execute(insert(Invoice), new[start:start + 5000])


def _pins(session, landlord, good, error) -> dict[int, str]:
    """The PIN of each person the file gives one (``pin``): the invoice's recipient, the
    agreement's tenant with ``kundnummer`` or else tenant 1. One person, one PIN a file."""
    wanted = [(line, row, agreement_id) for line, row, agreement_id, *_rest in good
              if row.get("pin")]
    if not wanted:
        return {}
    agreement_ids = sorted({agreement_id for _line, _row, agreement_id in wanted})
    parties: dict[int, list[tuple[int, int, str | None]]] = {}
    for start in range(0, len(agreement_ids), 5000):
        for agreement_id, person_id, position, kundnummer in session.execute(
                select(AgreementParty.agreement_id, AgreementParty.person_id,
                       AgreementParty.position, Person.kundnummer)
                .join(Person, Person.id == AgreementParty.person_id)
                .where(AgreementParty.agreement_id.in_(agreement_ids[start:start + 5000]))):
            parties.setdefault(agreement_id, []).append((position, person_id, kundnummer))
    pins: dict[int, str] = {}
    for line, row, agreement_id in wanted:
        found = sorted(parties.get(agreement_id, []))
        if row.get("kundnummer"):
            person_id = next((p for _pos, p, k in found if k == row["kundnummer"]), None)
        else:
            person_id = found[0][1] if found else None
        if person_id is None:
            error(line, "kundnummer", row.get("kundnummer", ""), "not_a_party")
        elif pins.setdefault(person_id, row["pin"]) != row["pin"]:
            error(line, "pin", "", "pin_differs")
    return pins


def _hash_pins(session, pins: dict[int, str]) -> tuple[dict[int, str], int]:
    """The hash of each PIN to keep, and how many are void (people who registered with a
    password already). The hashes take a while: made outside the transaction (SQLite)."""
    if not pins:
        return {}, 0
    void = tenants.has_password(session, list(pins))
    keep = {person_id: pin for person_id, pin in pins.items() if person_id not in void}
    with outside_transaction(session):
        hashes = {person_id: hash_pin(pin) for person_id, pin in keep.items()}
    return hashes, len(void)


def _payments(session, landlord, parsed, result, error) -> None:
    now = utcnow()
    seen: set[str] = set()
    good = []
    for line, row in parsed:
        ok = True
        for name in PAYMENT_COLUMNS:
            if not row.get(name):
                error(line, name, "", "required")
                ok = False
        if not ok:
            continue
        if row["betalningsreferens"] in seen:
            error(line, "betalningsreferens", row["betalningsreferens"], "duplicate")
            ok = False
        seen.add(row["betalningsreferens"])
        if not valid_ocr(row["ocr"]):
            error(line, "ocr", row["ocr"], "bad_ocr")
            ok = False
        amount = _amount(row["belopp"])
        if amount is None:
            error(line, "belopp", row["belopp"], "bad_amount")
            ok = False
        paid_on = _date(row["betaldatum"])
        if paid_on is None:
            error(line, "betaldatum", row["betaldatum"], "bad_date")
            ok = False
        if ok:
            good.append((line, row, amount, paid_on))
    ocrs = sorted({row["ocr"] for _l, row, *_r in good})
    invoices: dict[str, Invoice] = {}
    for start in range(0, len(ocrs), 5000):
        for invoice in session.scalars(
                select(Invoice).where(Invoice.landlord_id == landlord.id,
                                      Invoice.ocr.in_(ocrs[start:start + 5000]))
                .order_by(Invoice.due_on)):
            invoices.setdefault(invoice.ocr, invoice)
    refs = [row["betalningsreferens"] for _l, row, *_r in good]
    existing = {}
    for start in range(0, len(refs), 5000):
        existing.update({p.reference: p for p in session.scalars(
            select(Payment).where(Payment.landlord_id == landlord.id,
                                  Payment.reference.in_(refs[start:start + 5000])))})
    for line, row, amount, paid_on in good:
        invoice = invoices.get(row["ocr"])
        if invoice is None:
            error(line, "ocr", row["ocr"], "unknown_invoice")
            continue
        old = existing.get(row["betalningsreferens"])
        if old is not None and (old.ocr, old.amount_ore, old.paid_on) != (row["ocr"], amount,
                                                                          paid_on):
            error(line, "betalningsreferens", row["betalningsreferens"], "payment_changed")
    if result.errors:
        return
    new = []
    for _line, row, amount, paid_on in good:
        if row["betalningsreferens"] in existing:
            result.unchanged += 1
            continue
        invoice = invoices[row["ocr"]]
        new.append({"landlord_id": landlord.id, "agreement_id": invoice.agreement_id,
                    "invoice_id": invoice.id, "reference": row["betalningsreferens"],
                    "ocr": row["ocr"], "amount_ore": amount, "paid_on": paid_on,
                    "created_at": now})
        result.added += 1
    for start in range(0, len(new), 5000):
        session.execute(insert(Payment), new[start:start + 5000])


# -- the invoice as PDF ---------------------------------------------------------------------

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def money(ore: int) -> str:
    """An amount in the current language: ``8 450,00 kr``, its spaces no-break ones (the
    amount and its currency stay on one line, on the pages as in the PDF)."""
    return _("%(amount)s kr", amount=format_decimal(ore / 100, format="#,##0.00")).replace(
        " ", "\u00a0")


def postcode(postnummer: str, country: str | None) -> str:
    """A postcode as the country prints it: Swedish ``116 46`` (format_postnummer), Finnish
    and any other as registered (``00100``)."""
    return format_postnummer(postnummer) if (country or "SE") == "SE" else postnummer


def postal_address(entrance: Entrance, country: str | None) -> str:
    """``Götgatan 12B, 116 46 Stockholm``: the address on the invoice PDF and the pages."""
    return f"{entrance.street_address}, {postcode(entrance.postnummer, country)} {entrance.ort}"


def invoice_pdf(invoice: Invoice, agreement: Agreement, landlord: Landlord,
                first_tenant: Person | None, address: str) -> bytes:
    pdf = FPDF(format="A4")
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        family = "body"
    else:  # pragma: no cover - Debian's fonts-dejavu-core is installed by scripts/setup
        family = "helvetica"
    title = _("Invoice %(number)s", number=invoice.invoice_number)
    pdf.set_title(title)
    pdf.set_author(landlord.name)
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 11)
    pdf.cell(0, 7, landlord.name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    rows = [
        (_("Customer number"), first_tenant.kundnummer or "" if first_tenant else ""),
        (_("Tenant"), first_tenant.name if first_tenant else ""),
        (_("Agreement number"), agreement.avtalsnummer or ""),
        (_("Address"), address),
        (_("Period"), invoice.period),
        (_("Invoice date"), format_date(invoice.issued_on)),
        (_("Due date"), format_date(invoice.due_on)),
        (_("Amount to pay"), money(invoice.amount_ore)),
        (_("OCR number"), invoice.ocr),
    ]
    for label, value in rows:
        pdf.set_font(family, "B", 11)
        pdf.cell(55, 8, label)
        pdf.set_font(family, "", 11)
        pdf.cell(0, 8, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(family, "", 9)
    pdf.multi_cell(0, 5, _("Pay with the OCR number as the reference, or the payment cannot be "
                           "matched to this invoice."))
    return bytes(pdf.output())


# -- command line ---------------------------------------------------------------------------

@bp.cli.command("import-invoices")
@click.option("--landlord", "code", required=True, help="the landlord's code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@in_default_locale
def import_invoices_command(code: str, path: Path) -> None:
    """Import an invoice or payment file (CSV, docs/invoice-format.md): all of it or nothing."""

    @transactional
    def run() -> ImportResult:
        landlord = db.session.scalar(select(Landlord).where(Landlord.code == code))
        if landlord is None:
            raise CommandRefused(_("no landlord with code %(code)s", code=code))
        return import_file(db.session, landlord, path.read_bytes(), actor="cli",
                           max_rows=current_app.config.get("IMPORT_MAX_ROWS", 2_000_000))

    result = run()
    if result.errors:
        for line, column, value, code in result.errors:
            click.echo(_("line %(line)d, column %(column)s: %(message)s [%(value)s]", line=line,
                         column=column or "-", message=str(REASONS[code]), value=value),
                       err=True)
        num = len(result.errors)
        raise CommandRefused(ngettext("%(num)d error: nothing was imported",
                                      "%(num)d errors: nothing was imported", num))
    kind = _("invoices") if result.kind == "invoices" else _("payments")
    click.echo(_("%(kind)s: %(added)s added, %(updated)s updated, %(unchanged)s unchanged",
                 kind=kind, added=format_decimal(result.added),
                 updated=format_decimal(result.updated),
                 unchanged=format_decimal(result.unchanged)))
    if result.pins or result.pins_void:
        click.echo(_("PIN codes: %(set)s set, %(void)s not kept (the person has registered "
                     "with a password)", set=result.pins, void=result.pins_void))
