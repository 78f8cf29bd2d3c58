"""One register row: from the file's strings to normalised values, or the reasons it is bad.

Column names are matched regardless of case, surrounding spaces, Swedish letters and
space/hyphen/underscore (``Lägenhetsnummer`` = ``lagenhetsnummer`` = `` LAGENHETSNUMMER ``).
"""

from __future__ import annotations

import hashlib
import operator
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from dispatch.register.addresses import address_key, fold, normalise_postnummer, split_street
from imports.phones_fast import normalise_phone_fast

REQUIRED = ("objektsnummer", "gatuadress", "postnummer", "ort")
OPTIONAL = (
    "objektstyp", "fastighetsbeteckning", "lagenhetsnummer", "vaning", "portkod", "lat", "lon",
    "sweref_n", "sweref_e", "rum", "yta", "hyra", "avtalsnummer", "kundnummer",
    "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost",
    "hyresgast2_namn", "hyresgast2_telefon", "hyresgast2_epost", "avtal_fran",
    # Newer columns go last: a file without them keeps the digests it had (KNOWN's order is
    # the digest's order), so re-importing an older export changes nothing.
    "avtal_till", "hyresgast_personnummer", "hyresgast2_personnummer",
)
KNOWN = REQUIRED + OPTIONAL
# The newer columns (the last of KNOWN): an export may leave them out, and then what the
# register holds stays. In a row's digest an empty cell of one counts as the column being
# absent (``RowParser.digest``): an export that adds them empty, or drops them again, leaves
# every row's digest as it was, so that only rows whose values differ count as changed.
NEWER = OPTIONAL[-3:]  # avtal_till, hyresgast_personnummer, hyresgast2_personnummer
# Columns whose values are personal data: an error report names the column, never the value.
PERSONAL = {"portkod", "hyresgast_namn", "hyresgast_telefon", "hyresgast_epost",
            "hyresgast2_namn", "hyresgast2_telefon", "hyresgast2_epost", "kundnummer",
            "hyresgast_personnummer", "hyresgast2_personnummer"}
# Identity numbers: a bad one is reported by line and column only, never with its value.
IDENTITY_COLUMNS = ("hyresgast_personnummer", "hyresgast2_personnummer")

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
    personnummer: str | None = None  # 12 digits (Swedish) or a hetu as written (Finnish)


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
    address_key: str
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
    ends_on: date | None = None
    object_id: int = 0  # set when the row is applied
    entrance_id: int = 0


def digest_of(text: str) -> str:
    """The digest of a row's known values joined by 0x1F (``RowParser.digest``)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def duplicate(line: int, first: int) -> tuple[int, str, str]:
    """The error of a row whose objektsnummer a valid row on line ``first`` already had."""
    return (line, "objektsnummer", f"duplicate objektsnummer, first on line {first}")


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


# Values that repeat (an address on every object of an entrance, a rent, a date) are parsed
# once and remembered. A cache that grows past this many entries starts again, so that a file
# of a million distinct values cannot fill the memory.
CACHE_LIMIT = 100_000


def _remember(cache: dict, key, value):
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


class RowParser:
    """Turns the raw values of one file's rows into ``Row`` objects, given its header.

    A row goes through ``clean`` once (every value stripped, missing trailing cells filled),
    then ``digest`` and ``parse`` read the cleaned list.
    """

    def __init__(self, header: list[str], *, as_text: bool = False):
        # as_text: rum, yta, hyra and avtal_fran come as the text SQLite is given for them
        # (str of the Decimal, ISO date) instead of Decimal and date: the staged first import
        # binds them straight into an untyped staging table.
        self.as_text = as_text
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
        # A cleaned row has one extra, empty cell at the end: absent columns read that one.
        self._width = len(header)
        self._padding = [""] * (self._width + 1)
        self._pick = operator.itemgetter(*(self.index.get(c, self._width) for c in KNOWN))
        # The known columns' positions in canonical order: the digest of a row does not change
        # when an export reorders its columns or adds ones we do not read.
        digest_positions = [self.index[c] for c in KNOWN if c in self.index]
        self._pick_digest = (
            operator.itemgetter(*digest_positions, self._width)  # always a tuple
            if digest_positions else (lambda values: ("",))
        )
        # How many of the newer columns the file has (they come last in the digest).
        self._newer = sum(1 for c in NEWER if c in self.index)
        self._objektsnummer_at = self.index.get("objektsnummer", self._width)
        self._addresses: dict = {}
        self._types: dict = {}
        self._floors: dict = {}
        self._points: dict = {}
        self._dates: dict = {}
        self._decimals: tuple[dict, dict, dict] = ({}, {}, {})
        self._designations: dict = {}

    def clean(self, values: list[str]) -> list[str]:
        """The row's values stripped, with one empty cell more than the header has."""
        cleaned = [v.strip() for v in values]
        missing = self._width + 1 - len(cleaned)
        if missing > 0:
            cleaned += self._padding[:missing]
        else:
            del cleaned[self._width:]  # cells past the header have no column: not read
            cleaned.append("")
        return cleaned

    def objektsnummer(self, cleaned: list[str]) -> str:
        """The row's objektsnummer as written, even when the rest of the row is bad."""
        return cleaned[self._objektsnummer_at]

    def digest(self, cleaned: list[str]) -> str:
        """A digest of the row's known values as written: equal digests, equal objects.

        The known columns the file has, in ``KNOWN``'s order, joined by 0x1F; trailing empty
        cells of the newer columns (``NEWER``, the last ones) are left out, as if the file had
        not had those columns: a row reads the same with them empty or without them. (A
        value never ends in 0x1F: cells are stripped, and ``str.strip`` strips it.)"""
        # The picker ends with the empty cell after the row (so that it always returns a
        # tuple): drop the separator it adds.
        return digest_of(self._digest_text(cleaned))

    def _digest_text(self, cleaned: list[str]) -> str:
        """The text ``digest`` hashes: trailing empty newer cells left out."""
        joined = "\x1f".join(self._pick_digest(cleaned))
        if not self._newer:
            return joined[:-1]
        # Up to one separator per newer column, and the padding's: no further (an older
        # column's empty cell before them stays in).
        kept = joined.rstrip("\x1f")
        if len(joined) - len(kept) > self._newer + 1:
            kept = joined[:-self._newer - 1]
        return kept

    def earlier_digests(self, cleaned: list[str]) -> tuple[str, ...]:
        """The digests earlier code stored for this row's values from a file that had the
        newer columns empty (before ``digest`` left such cells out): its text with one, two
        or three empty cells after it. A register row holding one of them holds these
        values; only asked for a row whose digest differs from the stored one."""
        kept = self._digest_text(cleaned)
        return tuple(digest_of(kept + "\x1f" * n) for n in range(1, len(NEWER) + 1))

    def parse(self, line: int, cleaned: list[str], digest: str | None = None) -> Row:
        """Parse one cleaned row; raise RowError for the first bad value."""
        (objektsnummer, address, raw_postnummer, raw_ort, raw_type, raw_designation, lgh,
         raw_floor, door_code, raw_lat, raw_lon, raw_north, raw_east, raw_rooms, raw_area,
         raw_rent, avtalsnummer, kundnummer, name1, phone1, email1, name2, phone2, email2,
         raw_date, raw_end, id1, id2) = self._pick(cleaned)
        if not objektsnummer:
            raise RowError("objektsnummer", "missing")
        place = self._addresses.get((address, raw_postnummer, raw_ort))
        if place is None:
            place = self._address(address, raw_postnummer, raw_ort)
        street, number, letter, postnummer, ort, key = place

        if raw_type:
            object_type = self._types.get(raw_type) or self.object_type(raw_type)
        else:
            object_type = "lägenhet"

        floor = None
        if lgh:
            floor = self._floors.get(lgh)
            if floor is None:
                floor = self.lgh_floor(lgh)
        else:
            lgh = None
            if raw_floor:
                floor = self.vaning(raw_floor)

        sweref = None
        if raw_lat or raw_lon:
            point = self._points.get((raw_lat, raw_lon))
            if point is None:
                point = self._point(raw_lat, raw_lon)
            lat, lon = point
        else:
            lat = lon = None
            if raw_north or raw_east:
                sweref = self._sweref(raw_north, raw_east)

        tenants = []
        if name1 or phone1 or email1 or id1:
            tenants.append(self._tenant("hyresgast", name1, phone1, email1, id1))
        if name2 or phone2 or email2 or id2:
            tenants.append(self._tenant("hyresgast2", name2, phone2, email2, id2))

        starts_on = ends_on = None
        if raw_date:
            starts_on = self._dates.get(raw_date) or self.starts_on(raw_date)
        if raw_end:
            ends_on = self._dates.get(raw_end) or self.ends_on(raw_end)

        rooms = self._decimal(0, raw_rooms, "rum") if raw_rooms else None
        area = self._decimal(1, raw_area, "yta") if raw_area else None
        rent = self._decimal(2, raw_rent, "hyra") if raw_rent else None
        designation = None
        if raw_designation:
            designation = (self._designations.get(raw_designation)
                           or self.designation(raw_designation))

        return Row(
            line, objektsnummer, object_type, street, number, letter, postnummer, ort, key,
            designation, lgh, floor, door_code or None, lat, lon, sweref, rooms, area, rent,
            avtalsnummer or None, kundnummer or None, tenants, starts_on,
            digest or self.digest(cleaned), ends_on,
        )

    # -- the slow paths, for a value not seen before (also what imports.first.columnar calls
    # for each distinct value of a column) -------------------------------------------------
    def object_type(self, raw: str) -> str:
        object_type = OBJECT_TYPES.get(fold(raw))
        if object_type is None:
            raise RowError("objektstyp", f"unknown type: {raw!r}")
        return _remember(self._types, raw, object_type)

    def lgh_floor(self, lgh: str) -> int:
        """The floor a lägenhetsnummer says (``1102`` → 1)."""
        if not _LGH.match(lgh):
            raise RowError("lagenhetsnummer", f"not four digits: {lgh!r}")
        return _remember(self._floors, lgh, int(lgh[:2]) - 10)

    @staticmethod
    def vaning(raw: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise RowError("vaning", f"not a whole number: {raw!r}") from None

    def starts_on(self, raw: str) -> date | str:
        starts_on = _date(raw, "avtal_fran")
        return _remember(self._dates, raw, starts_on.isoformat() if self.as_text else starts_on)

    def ends_on(self, raw: str) -> date | str:
        ends_on = _date(raw, "avtal_till")
        return _remember(self._dates, raw, ends_on.isoformat() if self.as_text else ends_on)

    def designation(self, raw: str) -> str:
        return _remember(self._designations, raw, " ".join(raw.split()))

    def _address(self, address: str, raw_postnummer: str, raw_ort: str) -> tuple:
        if not address:
            raise RowError("gatuadress", "missing")
        street, number, letter = split_street(address)
        if not raw_postnummer:
            raise RowError("postnummer", "missing")
        postnummer = normalise_postnummer(raw_postnummer)
        if postnummer is None:
            raise RowError("postnummer", f"not five digits: {raw_postnummer!r}")
        ort = " ".join(raw_ort.split())
        if not ort:
            raise RowError("ort", "missing")
        place = (street, number, letter, postnummer, ort,
                 address_key(street, number, letter, postnummer))
        return _remember(self._addresses, (address, raw_postnummer, raw_ort), place)

    def _point(self, raw_lat: str, raw_lon: str) -> tuple[float, float]:
        lat = _float(raw_lat, "lat")
        lon = _float(raw_lon, "lon")
        if (lat is None) != (lon is None):
            raise RowError("lat" if lat is None else "lon", "lat and lon must both be given")
        if not in_area(lat, lon):
            raise RowError("lat", f"outside Sweden and Finland: {lat}, {lon}")
        return _remember(self._points, (raw_lat, raw_lon), (lat, lon))

    @staticmethod
    def _sweref(raw_north: str, raw_east: str) -> tuple[float, float]:
        north = _float(raw_north, "sweref_n")
        east = _float(raw_east, "sweref_e")
        if (north is None) != (east is None):
            raise RowError("sweref_n" if north is None else "sweref_e",
                           "sweref_n and sweref_e must both be given")
        # SWEREF 99 TM spans roughly N 6.1-7.7 million, E 0.2-1.0 million metres.
        if not (6_000_000 <= north <= 7_800_000 and 100_000 <= east <= 1_100_000):
            raise RowError("sweref_n", f"outside SWEREF 99 TM: {north}, {east}")
        return (north, east)

    @staticmethod
    def _tenant(prefix: str, name: str, raw_phone: str, email: str,
                raw_identity: str = "") -> Tenant:
        phone = None
        if raw_phone:
            phone = normalise_phone_fast(raw_phone)
            if phone is None:
                raise RowError(f"{prefix}_telefon", "not a phone number")
        if email:
            if "@" not in email or " " in email:
                raise RowError(f"{prefix}_epost", "not an e-mail address")
            email = email.lower()
        personnummer = None
        if raw_identity:
            personnummer = identity_number(raw_identity, f"{prefix}_personnummer")
        return Tenant(" ".join(name.split()), phone, email or None, personnummer)

    def _decimal(self, which: int, raw: str, column: str) -> Decimal:
        cache = self._decimals[which]
        value = cache.get(raw)
        if value is None:
            value = _decimal(raw, column)
            value = _remember(cache, raw, str(value) if self.as_text else value)
        return value


def _date(raw: str, column: str) -> date:
    match = _DATE.match(raw)
    try:
        value = date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        value = None
    if value is None:
        raise RowError(column, f"not a date (YYYY-MM-DD): {raw!r}")
    return value


# A Swedish number as registers write it: (YY)YYMMDD, a hyphen or a plus or nothing, NNNC.
SWEDISH_NUMBER = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})$")


def identity_number(raw: str, column: str) -> str:
    """A tenant's identity number as the register stores it, checked with python-stdnum:
    a Swedish personnummer or samordningsnummer (``19900101-2385``, ``900101-2385``,
    ``701063-2391``) in its 12-digit form ``YYYYMMDDNNNC``; a Finnish henkilötunnus
    (``131052-308T``) as written (upper case). A bad one raises RowError without the value
    (it must reach no error report or log)."""
    from stdnum import luhn
    from stdnum.exceptions import ValidationError
    from stdnum.fi import hetu
    from stdnum.se import personnummer

    # The usual shapes straight away (python-stdnum's check digit and century rule, without
    # its several passes over the text: a register has a million of them).
    match = SWEDISH_NUMBER.match(raw)
    if match is not None:
        century, yy, mm, dd, sign, tail = match.groups()
        if century is None:  # stdnum's rule: the latest such year, a + for a hundred more
            this_year = date.today().year
            year = this_year - (this_year - int(yy)) % 100 - (100 if sign == "+" else 0)
        else:
            year = int(century + yy)
        day = int(dd)
        try:
            date(year, int(mm), day - 60 if day > 60 else day)  # samordningsnummer: day + 60
        except ValueError:
            pass
        else:
            if luhn.is_valid(yy + mm + dd + tail):
                return f"{year:04d}{mm}{dd}{tail}"
        raise RowError(column, IDENTITY_REASON)
    try:
        return hetu.validate(raw, allow_temporary=True)  # 9xx: the official test range
    except ValidationError:
        pass
    try:  # other ways of writing a Swedish number (spaces ...), through stdnum itself
        number = personnummer.compact(raw)
        if SWEDISH_NUMBER.match(number):
            return identity_number(number, column)
    except (ValidationError, ValueError):
        pass
    raise RowError(column, IDENTITY_REASON)


IDENTITY_REASON = "not a valid personnummer, samordningsnummer or henkilötunnus"


_to_wgs84 = None


def sweref_to_wgs84(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """SWEREF 99 TM (EPSG:3006) northing/easting in metres → WGS84 (lat, lon), with pyproj."""
    global _to_wgs84
    if _to_wgs84 is None:
        from pyproj import Transformer

        _to_wgs84 = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
    eastings = [e for _, e in points]
    northings = [n for n, _ in points]
    lons, lats = _to_wgs84.transform(eastings, northings)
    return list(zip(lats, lons, strict=True))


def place_sweref(points: list[tuple[float, float]]) -> list[tuple[float, float] | None]:
    """SWEREF 99 TM points as the register stores them: WGS84 rounded to 7 decimals, or None
    for a point outside Sweden and Finland (its row is then an error: ``SWEREF_OFF_MAP``)."""
    return [(round(lat, 7), round(lon, 7)) if in_area(lat, lon) else None
            for lat, lon in sweref_to_wgs84(points)]


SWEREF_OFF_MAP = ("sweref_n", "SWEREF coordinates outside Sweden and Finland")


def convert_sweref(rows: list[Row], errors: list[tuple[int, str, str]]) -> list[Row]:
    """Give rows with SWEREF 99 TM coordinates their WGS84 position, in one pyproj call.

    A row whose position falls outside Sweden and Finland gets an error and is dropped: its
    ``line`` turns negative. Returns the dropped rows.
    """
    pending = [r for r in rows if r.lat is None and r.sweref is not None]
    if not pending:
        return []
    dropped = []
    for row, place in zip(pending, place_sweref([r.sweref for r in pending]), strict=True):
        if place is not None:
            row.lat, row.lon = place
        else:
            errors.append((row.line, *SWEREF_OFF_MAP))
            row.line = -row.line  # marks the row as dropped
            row.sweref = None
            dropped.append(row)
    return dropped
