"""Parsing a chunk of register rows column by column, for the staged first import.

``RowParser.parse`` takes one row at a time and is the rule book: which value is wrong, in
which order the checks run, what each error says. For a million rows, though, most of its
time goes to the Python around each value. ``ChunkParser`` does the same work a column at a
time, with C-level loops (``zip``, ``map``, ``str.strip``, dictionary look-ups of values
already seen) and is deliberately conservative: any row where one of its quick checks is not
sure goes through ``RowParser.parse``, whose verdict (a ``Row`` or a ``RowError``) is final.
A test compares the two on every kind of row the formats allow.
"""

from __future__ import annotations

import hashlib
from itertools import compress, repeat

from imports.normalise import fold
from imports.phones_fast import normalise_phone_fast
from imports.rows import KNOWN, OBJECT_TYPES, RowError, RowParser, _date, _remember

_MISS = object()


class Columns:
    """The kept rows of one chunk, one list per value, in file order."""

    __slots__ = ("line", "objektsnummer", "object_type", "street", "street_number",
                 "street_letter", "postnummer", "ort", "address_key", "designation",
                 "lagenhetsnummer", "floor", "door_code", "lat", "lon", "sweref", "rooms",
                 "area_m2", "rent_sek", "avtalsnummer", "kundnummer", "tenant1", "tenant2",
                 "starts_on", "digest")

    def __len__(self) -> int:
        return len(self.line)

    def keep(self, mask: list[bool]) -> None:
        """Keep the rows whose ``mask`` entry is true."""
        for name in self.__slots__:
            setattr(self, name, list(compress(getattr(self, name), mask)))


class ChunkParser:
    """Parses chunks of a file's rows; keeps the duplicate check and the errors across them."""

    def __init__(self, parser: RowParser):
        self.parser = parser
        self.width = parser._width
        self.padding = [""] * self.width
        self.positions = {c: parser.index[c] for c in KNOWN if c in parser.index}
        self.digest_columns = list(self.positions)  # KNOWN order, as RowParser.digest
        self.seen: dict[str, int] = {}
        self.errors: list[tuple[int, str, str]] = []
        self._types = {"": "lägenhet"}
        self._floors: dict = {}

    def parse(self, items: list[tuple[int, list[str]]]) -> Columns:
        """The chunk's valid, first-seen rows as columns; errors go to ``self.errors``."""
        n = len(items)
        width, padding = self.width, self.padding
        lines = [line for line, _ in items]
        raw = [v if len(v) >= width else v + padding[: width - len(v)] for _, v in items]
        # Rows longer than the header: their extra cells fall off (zip stops at the shortest).
        table = list(zip(*raw, strict=False)) if width else []

        def column(name: str) -> list[str]:
            position = self.positions.get(name)
            # An absent column is empty cells: a list of its own, as rows may be edited below.
            return [""] * n if position is None else list(map(str.strip, table[position]))

        values = {name: column(name) for name in KNOWN}
        suspect: set[int] = set()
        parser = self.parser

        # -- the digest, exactly as RowParser.digest ------------------------------------------
        joined = map("\x1f".join, zip(*[values[c] for c in self.digest_columns], strict=True))
        blake2b = hashlib.blake2b
        digests = [blake2b(text.encode(), digest_size=16).hexdigest() for text in joined]

        # -- address ---------------------------------------------------------------------
        objektsnummer = values["objektsnummer"]
        suspect.update(i for i, v in enumerate(objektsnummer) if not v)
        keys = list(zip(values["gatuadress"], values["postnummer"], values["ort"], strict=True))
        addresses = parser._addresses
        places = list(map(addresses.get, keys))
        if None in places:
            for i, place in enumerate(places):
                if place is None:
                    # Seen earlier in this chunk, maybe: only a new value is parsed.
                    place = addresses.get(keys[i])
                    try:
                        places[i] = place or parser._address(*keys[i])
                    except RowError:
                        suspect.add(i)

        # -- object type, lägenhetsnummer and floor ------------------------------------------
        types = self._lookup(self._types, values["objektstyp"], _object_type, suspect)
        lgh = values["lagenhetsnummer"]
        floors = self._lookup(self._floors, lgh, _floor, suspect)
        for i, raw_floor in enumerate(values["vaning"]):
            if raw_floor and not lgh[i]:
                try:
                    floors[i] = int(raw_floor)
                except ValueError:
                    suspect.add(i)

        # -- position --------------------------------------------------------------------
        known_points = parser._points
        points = list(map(known_points.get, zip(values["lat"], values["lon"], strict=True)))
        north, east = values["sweref_n"], values["sweref_e"]
        sweref: list = [None] * n
        if None in points:
            lat, lon = values["lat"], values["lon"]
            for i, point in enumerate(points):
                if point is not None:
                    continue
                try:
                    if lat[i] or lon[i]:
                        points[i] = (known_points.get((lat[i], lon[i]))
                                     or parser._point(lat[i], lon[i]))
                    elif north[i] or east[i]:
                        sweref[i] = parser._sweref(north[i], east[i])
                except RowError:
                    suspect.add(i)

        # -- tenants: (name, phone, email) -----------------------------------------------
        tenants = []
        for prefix in ("hyresgast", "hyresgast2"):
            names = values[f"{prefix}_namn"]
            phones = values[f"{prefix}_telefon"]
            emails = values[f"{prefix}_epost"]
            people: list = [None] * n
            named = list(compress(range(n), map(any, zip(names, phones, emails, strict=True))))
            raw_phones = [phones[i] for i in named]
            raw_emails = [emails[i] for i in named]
            fast = normalise_phone_fast
            e164 = [fast(phone) if phone else None for phone in raw_phones]
            suspect.update(i for i, raw, phone in zip(named, raw_phones, e164, strict=True)
                           if raw and phone is None)
            suspect.update(i for i, email in zip(named, raw_emails, strict=True)
                           if email and ("@" not in email or " " in email))
            lowered = [email.lower() if email else None for email in raw_emails]
            squeezed = map(" ".join, map(str.split, [names[i] for i in named]))
            for i, tenant in zip(named, zip(squeezed, e164, lowered, strict=True), strict=True):
                people[i] = tenant
            tenants.append(people)

        # -- dates, numbers, designation ----------------------------------------------------
        starts = self._lookup(parser._dates, values["avtal_fran"], parser_date(parser), suspect)
        numbers = [
            self._lookup(parser._decimals[k], values[c], parser_decimal(parser, k, c), suspect)
            for k, c in enumerate(("rum", "yta", "hyra"))
        ]
        designations = self._lookup(parser._designations, values["fastighetsbeteckning"],
                                    _designation, suspect)

        # -- rows any check doubted: RowParser decides ------------------------------------------
        errors: dict[int, tuple[int, str, str]] = {}
        for i in suspect:
            line, row_values = items[i]
            try:
                row = parser.parse(line, parser.clean(row_values), digests[i])
            except RowError as exc:
                errors[i] = (line, exc.column, exc.reason)
                continue
            places[i] = (row.street, row.street_number, row.street_letter, row.postnummer,
                         row.ort, row.address_key)
            types[i], floors[i], lgh[i] = row.object_type, row.floor, row.lagenhetsnummer
            points[i], sweref[i] = (row.lat, row.lon), row.sweref
            first, second = ([(t.name, t.phone, t.email) for t in row.tenants] + [None, None])[:2]
            tenants[0][i], tenants[1][i] = first, second
            starts[i] = row.starts_on
            numbers[0][i], numbers[1][i], numbers[2][i] = row.rooms, row.area_m2, row.rent_sek
            designations[i] = row.designation
            values["portkod"][i] = row.door_code or ""
            values["avtalsnummer"][i] = row.avtalsnummer or ""
            values["kundnummer"][i] = row.kundnummer or ""

        # -- duplicates, in file order, as the general path finds them ------------------------
        seen, keep = self.seen, [True] * n
        for i, number in enumerate(objektsnummer):
            first = seen.get(number)
            if first is not None:
                self.errors.append(
                    (lines[i], "objektsnummer", f"duplicate objektsnummer, first on line {first}")
                )
                keep[i] = False
            elif i in errors:
                self.errors.append(errors[i])
                keep[i] = False
            else:
                seen[number] = lines[i]

        def kept(values: list) -> list:
            return values if all_kept else list(compress(values, keep))

        all_kept = all(keep)
        out = Columns()
        out.line = kept(lines)
        out.objektsnummer = kept(objektsnummer)
        places = kept(places)
        (out.street, out.street_number, out.street_letter, out.postnummer, out.ort,
         out.address_key) = (list(c) for c in zip(*places, strict=True)) if places else ([],) * 6
        out.object_type = kept(types)
        out.lagenhetsnummer = [v or None for v in kept(lgh)]
        out.floor = kept(floors)
        out.door_code = [v or None for v in kept(values["portkod"])]
        points = [p if p is not None else (None, None) for p in kept(points)]
        out.lat, out.lon = (list(c) for c in zip(*points, strict=True)) if points else ([], [])
        out.sweref = kept(sweref)
        out.rooms, out.area_m2, out.rent_sek = (kept(c) for c in numbers)
        out.avtalsnummer = [v or None for v in kept(values["avtalsnummer"])]
        out.kundnummer = [v or None for v in kept(values["kundnummer"])]
        # The first tenant is the first one named: a row naming only the second has one.
        first, second = kept(tenants[0]), kept(tenants[1])
        for i, tenant in enumerate(first):
            if tenant is None and second[i] is not None:
                first[i], second[i] = second[i], None
        out.tenant1, out.tenant2 = first, second
        out.starts_on = kept(starts)
        out.digest = kept(digests)
        out.designation = kept(designations)
        return out

    @staticmethod
    def _lookup(cache: dict, raw: list[str], compute, suspect: set[int]) -> list:
        """``cache[value]`` for each value ("" is None), computing and remembering misses."""
        found = list(map(cache.get, raw, repeat(_MISS)))
        if _MISS in found:
            for i, value in enumerate(found):
                if value is _MISS:
                    if not raw[i]:
                        found[i] = None
                        continue
                    value = cache.get(raw[i], _MISS)  # seen earlier in this chunk, maybe
                    if value is not _MISS:
                        found[i] = value
                        continue
                    try:
                        found[i] = _remember(cache, raw[i], compute(raw[i]))
                    except RowError:
                        found[i] = None
                        suspect.add(i)
        return found


def _object_type(raw: str) -> str:
    value = OBJECT_TYPES.get(fold(raw))
    if value is None:
        raise RowError("objektstyp", "unknown")
    return value


def _floor(raw: str) -> int:
    if len(raw) != 4 or not raw.isdigit() or not raw.isascii():
        raise RowError("lagenhetsnummer", "not four digits")
    return int(raw[:2]) - 10


def _designation(raw: str) -> str:
    return " ".join(raw.split())


def parser_date(parser: RowParser):
    def compute(raw: str):
        value = _date(raw)
        return value.isoformat() if parser.as_text else value
    return compute


def parser_decimal(parser: RowParser, which: int, column: str):
    from imports.rows import _decimal

    def compute(raw: str):
        value = _decimal(raw, column)
        return str(value) if parser.as_text else value
    return compute
