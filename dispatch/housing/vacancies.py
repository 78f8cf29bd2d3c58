"""The landlord's vacancy file → listings (issue 16: "import of vacancies from the landlord's
system as a file, like the register"). A CSV (UTF-8 or Windows-1252; ``;``, ``,`` or TAB) or
XLSX (first sheet) with a header row and one vacant object a row:

============================  ==================================================
column (any of these names)   value
============================  ==================================================
``objektsnummer``             the object's number in the register (required)
``ledig_fran``                the move-in day, YYYY-MM-DD (required)
``hyra``                      the rent a month in kronor (optional: else the
                              register's rent of the object)
``publiceringsdagar``         days published, 1–60 (optional: else the setting
                              ``HOUSING_PUBLISH_DAYS``)
============================  ==================================================

(English names too: ``object_number``, ``available_from``, ``rent``, ``publish_days``.)

All or nothing: every row is checked first (the object exists for the landlord, is not retired
and not already published or listed twice in the file; the day, rent and days read), and any
error publishes nothing. Row errors are kept language-neutral (``RowError``: line, column, a
code and its parameters) and worded where they are shown, in the reader's language
(``MESSAGES``, through Flask-Babel), as the register import does (``imports/messages.py``).
Publishing goes through ``service.publish`` (audited each) and one audit line for the file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core import audit
from dispatch.housing import service
from dispatch.models import RentalObject
from dispatch.models.housing import HousingListing

MAX_BYTES = 5 << 20  # a vacancy file is a few hundred rows at most
MAX_ROWS = 5000
MAX_PUBLISH_DAYS = 60

COLUMNS = {
    "objektsnummer": "objektsnummer", "objektnummer": "objektsnummer",
    "object_number": "objektsnummer", "objekt": "objektsnummer",
    "ledig_fran": "ledig_fran", "ledig_från": "ledig_fran", "ledigt_fran": "ledig_fran",
    "ledigt_från": "ledig_fran", "available_from": "ledig_fran", "inflyttning": "ledig_fran",
    "hyra": "hyra", "rent": "hyra", "manadshyra": "hyra", "månadshyra": "hyra",
    "publiceringsdagar": "publiceringsdagar", "publish_days": "publiceringsdagar",
    "dagar": "publiceringsdagar",
}
REQUIRED = ("objektsnummer", "ledig_fran")

# What a row error or a refused file says, worded where it is shown.
MESSAGES = {
    "missing": _l("missing"),
    "unknown_object": _l("no object %(value)s in the register"),
    "retired": _l("object %(value)s is no longer in the register"),
    "already_published": _l("object %(value)s is already published"),
    "duplicate": _l("object %(value)s is also on line %(first)s"),
    "bad_date": _l("not a date (YYYY-MM-DD): %(value)s"),
    "bad_rent": _l("not a rent in kronor: %(value)s"),
    "bad_days": _l("not a number of days from 1 to %(limit)s: %(value)s"),
    "not_a_table": _l("the file is neither CSV nor XLSX"),
    "too_large": _l("the file is larger than %(limit)s MB"),
    "too_many_rows": _l("the file has more than %(limit)s rows"),
    "no_rows": _l("the file has a header but no rows"),
    "empty": _l("the file is empty"),
    "unreadable": _l("the XLSX file cannot be read"),
}


@dataclass(frozen=True)
class RowError:
    line: int  # 0: the file as a whole
    column: str
    code: str
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        return str(MESSAGES[self.code]) % self.params if self.params else str(
            MESSAGES[self.code])


def missing_columns_text(columns: list[str]) -> str:
    return ngettext("required column missing: %(columns)s",
                    "required columns missing: %(columns)s", len(columns),
                    columns=", ".join(columns))


class FileRefused(ValueError):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class Vacancy:
    line: int
    rental_object: RentalObject
    vacant_on: date
    rent: Decimal | None
    days: int


# --- reading --------------------------------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes) -> list[tuple[int, list[str]]]:
    """The file's rows as (line number, cells), the header first; FileRefused when it is not
    a table this import reads."""
    if not data.strip():
        raise FileRefused([RowError(0, "", "empty")])
    if len(data) > MAX_BYTES:
        raise FileRefused([RowError(0, "", "too_large", {"limit": MAX_BYTES >> 20})])
    if data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if b"\x00" in data:
        raise FileRefused([RowError(0, "", "not_a_table")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text.splitlines() else ""
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        raise FileRefused([RowError(0, "", "not_a_table")])
    rows = []
    for number, cells in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
        if number > MAX_ROWS + 1:
            raise FileRefused([RowError(0, "", "too_many_rows", {"limit": MAX_ROWS})])
        rows.append((number, [c.strip() for c in cells]))
    return rows


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise FileRefused([RowError(0, "", "unreadable")]) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            if number > MAX_ROWS + 1:
                raise FileRefused([RowError(0, "", "too_many_rows", {"limit": MAX_ROWS})])
            rows.append((number, [_cell(v) for v in values]))
        return rows
    finally:
        workbook.close()


def _canonical(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return COLUMNS.get(key, key)


# --- checking -------------------------------------------------------------------------------

def _rent(raw: str) -> Decimal:
    cleaned = raw.replace("\xa0", "").replace(" ", "").replace("kr", "").replace(",", ".")
    value = Decimal(cleaned)
    if not value.is_finite() or value < 0 or value >= Decimal("100000000"):
        raise InvalidOperation
    return value


def check(session: Session, landlord_id: int, data: bytes, *, default_days: int) \
        -> list[Vacancy]:
    """Every row checked; FileRefused with all the errors when any row has one."""
    rows = read_rows(data)
    if not rows:
        raise FileRefused([RowError(0, "", "empty")])
    (_, header), body = rows[0], [r for r in rows[1:] if any(r[1])]
    names = [_canonical(h) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileRefused([RowError(0, "", "columns", {"columns": missing})])
    if not body:
        raise FileRefused([RowError(0, "", "no_rows")])
    at = {name: names.index(name) for name in set(names) if name in COLUMNS.values()}
    numbers = [_get(cells, at, "objektsnummer") for _, cells in body]
    objects = {o.objektsnummer: o for o in session.scalars(select(RentalObject).where(
        RentalObject.landlord_id == landlord_id,
        RentalObject.objektsnummer.in_({n for n in numbers if n})))}
    published = set(session.scalars(select(HousingListing.object_id).where(
        HousingListing.object_id.in_([o.id for o in objects.values()]),
        HousingListing.status == "published")))
    errors: list[RowError] = []
    found: list[Vacancy] = []
    first_line: dict[str, int] = {}
    for line, cells in body:
        number = _get(cells, at, "objektsnummer")
        obj = objects.get(number)
        if not number:
            errors.append(RowError(line, "objektsnummer", "missing"))
        elif number in first_line:
            errors.append(RowError(line, "objektsnummer", "duplicate",
                                   {"value": number, "first": first_line[number]}))
        elif obj is None:
            errors.append(RowError(line, "objektsnummer", "unknown_object", {"value": number}))
        elif obj.retired_at is not None:
            errors.append(RowError(line, "objektsnummer", "retired", {"value": number}))
        elif obj.id in published:
            errors.append(RowError(line, "objektsnummer", "already_published",
                                   {"value": number}))
        if number:
            first_line.setdefault(number, line)
        raw_day = _get(cells, at, "ledig_fran")
        vacant_on = None
        if not raw_day:
            errors.append(RowError(line, "ledig_fran", "missing"))
        else:
            try:
                vacant_on = date.fromisoformat(raw_day[:10] if len(raw_day) > 10
                                               and raw_day[10] in " T" else raw_day)
            except ValueError:
                errors.append(RowError(line, "ledig_fran", "bad_date", {"value": raw_day}))
        raw_rent = _get(cells, at, "hyra")
        rent = None
        if raw_rent:
            try:
                rent = _rent(raw_rent)
            except (InvalidOperation, ValueError):
                errors.append(RowError(line, "hyra", "bad_rent", {"value": raw_rent}))
        raw_days = _get(cells, at, "publiceringsdagar")
        days = default_days
        if raw_days:
            try:
                days = int(raw_days)
                if not 1 <= days <= MAX_PUBLISH_DAYS:
                    raise ValueError
            except ValueError:
                errors.append(RowError(line, "publiceringsdagar", "bad_days",
                                       {"value": raw_days, "limit": MAX_PUBLISH_DAYS}))
        if obj is not None and vacant_on is not None:
            found.append(Vacancy(line, obj, vacant_on, rent, days))
    if errors:
        raise FileRefused(errors)
    return found


def _get(cells: list[str], at: dict, name: str) -> str:
    index = at.get(name)
    return cells[index].strip() if index is not None and index < len(cells) else ""


def import_vacancies(session: Session, landlord_id: int, data: bytes, *, now: datetime,
                     default_days: int, staff_user_id: int | None,
                     actor: str) -> list[HousingListing]:
    """Check the whole file, then publish every row (FileRefused: nothing is published)."""
    vacancies = check(session, landlord_id, data, default_days=default_days)
    listings = []
    for vacancy in vacancies:
        listing = service.publish(session, vacancy.rental_object, now=now,
                                  vacant_on=vacancy.vacant_on, days=vacancy.days,
                                  max_applicants=5, staff_user_id=staff_user_id)
        listing.rent_sek = vacancy.rent
        listings.append(listing)
    session.flush()
    audit.record(session, "housing.vacancies.imported", subject=f"landlord:{landlord_id}",
                 user_id=staff_user_id, details={"actor": actor, "rows": len(listings),
                                                 "listing_ids": [x.id for x in listings]})
    return listings


def error_text(error: RowError) -> str:
    """The error in the current language (a request's, or the CLI's default)."""
    if error.code == "columns":
        return missing_columns_text(error.params["columns"])
    return error.text()


__all__ = ["MESSAGES", "FileRefused", "RowError", "error_text", "import_vacancies"]
