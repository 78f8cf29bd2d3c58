"""One register row: from the file's strings to normalised values, or the reasons it is bad.

Column names are matched regardless of case, surrounding spaces, Swedish letters and
space/hyphen/underscore (``Lägenhetsnummer`` = ``lagenhetsnummer`` = `` LAGENHETSNUMMER ``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from imports.normalise import fold, normalise_postnummer, split_street
from imports.phones_fast import normalise_phone_fast

REQUIRED = ("objektsnummer", "gatuadress", "postnummer", "ort")
OPTIONAL = (
    "objektstyp", "fastighetsbeteckning", "lagenhetsnummer", "vaning", "portkod", "lat", "lon",
    "sweref_n", "sweref_e", "rum", "yta", "hyra", "avtalsnummer", "kundnummer",
    "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost",
    "hyresgast2_namn", "hyresgast2_telefon", "hyresgast2_epost", "avtal_fran",
)
KNOWN = REQUIRED + OPTIONAL
# Columns whose values are personal data: an error report names the column, never the value.
PERSONAL = {"portkod", "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost",
            "hyresgast2_namn", "hyresgast2_telefon", "hyresgast2_epost", "kundnummer"}

OBJECT_TYPES = {
    "lagenhet": "lägenhet", "lgh": "lägenhet", "bostad": "lägenhet",
    "lokal": "lokal",
    "parkering": "parkering", "p-plats": "parkering", "garage": "parkering",
    "forrad": "förråd",
    "allmant utrymme": "allmänt utrymme", "allmant_utrymme": "allmänt utrymme",
}

# Sweden and Finland as two boxes (see in_area): that catches swapped or mistyped
# coordinates, which is what a register's bad coordinates are in practice.

_LGH = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def canonical_column(name: str) -> str:
    """The canonical name of a header cell: ``' Lägenhets-nummer '`` → ``lagenhets_nummer``."""
    return re.sub(r"[\s\-_]+", "_", fold(str(name).strip().lstrip("\ufeff")))


def in_area(lat: float, lon: float) -> bool:
    """Whether a WGS84 point lies in Sweden or Finland (coarsely)."""
    return (55.0 <= lat <= 69.2 and 10.5 <= lon <= 24.3) or (
        59.5 <= lat <= 70.2 and 19.0 <= lon <= 31.7)


@dataclass(slots=True)
class Tenant:
    name: str
    phone: str | None
    email: str | None


@dataclass(slots=True)
class Row:
    """A valid register row, normalised."""

    line: int
    objektsnummer: str
    object_type: str
    street: str
    street_number: int | None
    street_letter: str
    postnummer: str
    ort: str
    designation: str | None
    lagenhetsnummer: str | None
    floor: int | None
    door_code: str | None
    lat: float | None
    lon: float | None
    sweref: tuple[float, float] | None
    rooms: Decimal | None
    area_m2: Decimal | None
    rent_sek: Decimal | None
    avtalsnummer: str | None
    kundnummer: str | None
    tenants: list[Tenant]
    starts_on: date | None
    digest: str
    object_id: int = 0  # set when the row is applied
    entrance_id: int = 0


class RowError(ValueError):
    """A bad value: which column and why."""

    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


def _decimal(text: str, column: str) -> Decimal | None:
    if not text:
        return None
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(column, f"not a number: {text!r}") from None
    if not value.is_finite():
        raise RowError(column, f"not a number: {text!r}")
    return value


def _float(text: str, column: str) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace(",", ".").replace(" ", ""))
    except ValueError:
        raise RowError(column, f"not a number: {text!r}") from None


class RowParser:
    """Turns the raw values of one file's rows into ``Row`` objects, given its header."""

    def __init__(self, header: list[str]):
        self.index: dict[str, int] = {}
        self.unknown: list[str] = []
        self.duplicate_columns: list[str] = []
        for position, name in enumerate(header):
            key = canonical_column(name)
            if not key:
                continue
            if key in KNOWN:
                if key in self.index:
                    self.duplicate_columns.append(str(name).strip())
                else:
                    self.index[key] = position
            else:
                self.unknown.append(str(name).strip())
        self.missing = [c for c in REQUIRED if c not in self.index]
        self._getters = {c: self._getter(c) for c in KNOWN}
        # The known columns' positions in canonical order: the digest of a row does not change
        # when an export reorders its columns or adds ones we do not read.
        self._digest_positions = [self.index[c] for c in KNOWN if c in self.index]
        self._digest_width = max(self._digest_positions, default=-1) + 1

    def digest(self, values: list[str]) -> str:
        """A digest of the row's known values as written: equal digests, equal objects."""
        if len(values) < self._digest_width:
            values = values + [""] * (self._digest_width - len(values))
        text = "\x1f".join([values[i].strip() for i in self._digest_positions])
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def _getter(self, column: str):
        position = self.index.get(column)
        if position is None:
            return lambda values: ""

        def get(values):
            return values[position].strip() if position < len(values) else ""

        return get

    def objektsnummer(self, values: list[str]) -> str:
        """The row's objektsnummer as written, even when the rest of the row is bad."""
        return self._getters["objektsnummer"](values)

    def parse(self, line: int, values: list[str], digest: str | None = None) -> Row:
        """Parse one row; raise RowError for the first bad value."""
        g = self._getters
        objektsnummer = g["objektsnummer"](values)
        if not objektsnummer:
            raise RowError("objektsnummer", "missing")
        address = g["gatuadress"](values)
        if not address:
            raise RowError("gatuadress", "missing")
        street, number, letter = split_street(address)
        raw_postnummer = g["postnummer"](values)
        if not raw_postnummer:
            raise RowError("postnummer", "missing")
        postnummer = normalise_postnummer(raw_postnummer)
        if postnummer is None:
            raise RowError("postnummer", f"not five digits: {raw_postnummer!r}")
        ort = " ".join(g["ort"](values).split())
        if not ort:
            raise RowError("ort", "missing")

        raw_type = g["objektstyp"](values)
        object_type = OBJECT_TYPES.get(fold(raw_type)) if raw_type else "lägenhet"
        if object_type is None:
            raise RowError("objektstyp", f"unknown type: {raw_type!r}")

        lgh = g["lagenhetsnummer"](values) or None
        floor = None
        if lgh is not None:
            if not _LGH.match(lgh):
                raise RowError("lagenhetsnummer", f"not four digits: {lgh!r}")
            floor = int(lgh[:2]) - 10
        raw_floor = g["vaning"](values)
        if raw_floor and floor is None:
            try:
                floor = int(raw_floor)
            except ValueError:
                raise RowError("vaning", f"not a whole number: {raw_floor!r}") from None

        lat = _float(g["lat"](values), "lat")
        lon = _float(g["lon"](values), "lon")
        sweref = None
        if (lat is None) != (lon is None):
            raise RowError("lat" if lat is None else "lon", "lat and lon must both be given")
        if lat is not None and not in_area(lat, lon):
            raise RowError("lat", f"outside Sweden and Finland: {lat}, {lon}")
        if lat is None:
            north = _float(g["sweref_n"](values), "sweref_n")
            east = _float(g["sweref_e"](values), "sweref_e")
            if (north is None) != (east is None):
                raise RowError("sweref_n" if north is None else "sweref_e",
                               "sweref_n and sweref_e must both be given")
            if north is not None:
                # SWEREF 99 TM spans roughly N 6.1-7.7 million, E 0.2-1.0 million metres.
                if not (6_000_000 <= north <= 7_800_000 and 100_000 <= east <= 1_100_000):
                    raise RowError("sweref_n", f"outside SWEREF 99 TM: {north}, {east}")
                sweref = (north, east)

        tenants = []
        for prefix in ("hyresgast", "hyresgast2"):
            name = g[f"{prefix}_namn"](values)
            raw_phone = g[f"{prefix}_telefon"](values)
            email = g[f"{prefix}_epost"](values) or None
            phone = None
            if raw_phone:
                phone = normalise_phone_fast(raw_phone)
                if phone is None:
                    raise RowError(f"{prefix}_telefon", "not a phone number")
            if email is not None and ("@" not in email or " " in email):
                raise RowError(f"{prefix}_epost", "not an e-mail address")
            if name or phone or email:
                tenants.append(Tenant(" ".join(name.split()), phone, email and email.lower()))

        raw_date = g["avtal_fran"](values)
        starts_on = None
        if raw_date:
            match = _DATE.match(raw_date)
            try:
                starts_on = date(int(match[1]), int(match[2]), int(match[3])) if match else None
            except ValueError:
                starts_on = None
            if starts_on is None:
                raise RowError("avtal_fran", f"not a date (YYYY-MM-DD): {raw_date!r}")

        rooms = _decimal(g["rum"](values), "rum")
        area = _decimal(g["yta"](values), "yta")
        rent = _decimal(g["hyra"](values), "hyra")
        designation = " ".join(g["fastighetsbeteckning"](values).split()) or None
        door_code = g["portkod"](values) or None
        avtalsnummer = g["avtalsnummer"](values) or None
        kundnummer = g["kundnummer"](values) or None

        return Row(
            line, objektsnummer, object_type, street, number, letter, postnummer, ort,
            designation, lgh, floor, door_code, lat, lon, sweref, rooms, area, rent,
            avtalsnummer, kundnummer, tenants, starts_on, digest or self.digest(values),
        )
