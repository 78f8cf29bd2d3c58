"""Address search over landlords' registers: typo tolerant, fast, never silently guessing.

The index lives in memory, one per web process, built from the register and rebuilt when a
landlord's ``register_version`` changes (an import bumps it), so a new register is found
without a restart. A query is taken apart into street, number, letter, lägenhetsnummer,
postnummer and ort; street names are matched with rapidfuzz over the distinct folded names
(after expanding abbreviations such as ``Storg.`` and ``v.``), and the entrances of the best
streets are scored on every part. Candidates come back best first with their score; when two
are close, both are shown and the operator chooses.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.models import Landlord
from imports.normalise import fold, format_postnummer

# Abbreviations operators and callers use, on folded tokens.
_SUFFIXES = {
    "g": "gatan", "gt": "gatan", "gat": "gatan", "v": "vagen", "vg": "vagen", "vag": "vagen",
    "gr": "grand", "pl": "platsen", "all": "allen", "st": "stigen", "br": "backen",
}
_WORDS = {"s:t": "sankt", "st.": "sankt", "s:ta": "sankta", "g:la": "gamla", "n.": "norra",
          "s.": "sodra", "v.": "vastra", "o.": "ostra"}
_LGH = re.compile(r"\b(?:lgh|lag|lagenhet|lagenhetsnummer|nr)\.?\s*(\d{4})\b")
_POSTNUMMER = re.compile(r"\b(\d{3})\s?(\d{2})\b")
_NUMBER = re.compile(r"^(\d{1,4})([a-z]?)$")
_LETTER = re.compile(r"^[a-z]$")


@dataclass(frozen=True)
class Query:
    """A search string taken apart."""

    street: str  # abbreviations expanded
    street_as_typed: str = ""
    number: int | None = None
    letter: str = ""
    lagenhetsnummer: str | None = None
    postnummer: str | None = None
    ort: str = ""


def _expand(token: str) -> str:
    """``storg.`` → ``storgatan``, ``ringv`` → ``ringvagen``, ``s:t`` → ``sankt``."""
    if token in _WORDS:
        return _WORDS[token]
    bare = token.rstrip(".")
    for short in sorted(_SUFFIXES, key=len, reverse=True):
        if bare.endswith(short) and len(bare) > len(short) + 1:
            if token.endswith(".") or short in ("g", "gt", "v", "vg"):
                return bare[: -len(short)] + _SUFFIXES[short]
    return bare


def parse_query(raw: str) -> Query:
    """Take ``Storg. 12 b lgh 1102, 118 46 Sthlm`` apart."""
    text_ = fold(raw.replace(",", " "))
    lgh = None
    match = _LGH.search(text_)
    if match:
        lgh = match.group(1)
        text_ = text_[: match.start()] + " " + text_[match.end():]
    postnummer = None
    match = _POSTNUMMER.search(text_)
    if match:
        postnummer = match.group(1) + match.group(2)
        text_ = text_[: match.start()] + " " + text_[match.end():]
    tokens = text_.split()
    street_tokens, rest = [], []
    number, letter = None, ""
    for i, token in enumerate(tokens):
        m = _NUMBER.match(token)
        if m and number is None and street_tokens:
            number, letter = int(m.group(1)), m.group(2)
            rest = tokens[i + 1:]
            break
        street_tokens.append(token)
    if rest and not letter and _LETTER.match(rest[0]):
        letter, rest = rest[0], rest[1:]
    if rest and lgh is None and re.fullmatch(r"\d{4}", rest[0]):
        lgh, rest = rest[0], rest[1:]
    street = " ".join(_expand(t) for t in street_tokens)
    as_typed = " ".join(t.rstrip(".") for t in street_tokens)
    return Query(street, as_typed, number, letter.upper(), lgh, postnummer, " ".join(rest))


@dataclass
class _Entrance:
    id: int
    landlord: str
    street: str  # as written
    number: int | None
    letter: str
    postnummer: str
    ort: str
    ort_folded: str
    lat: float | None
    lon: float | None
    objects: dict[str, tuple[int, str, int | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A search result: an object when the query named a flat, else the entrance."""

    object_id: int | None
    objektsnummer: str | None
    entrance_id: int
    landlord: str
    address: str
    postnummer: str
    ort: str
    lagenhetsnummer: str | None
    floor: int | None
    lat: float | None
    lon: float | None
    score: float

    def as_json(self) -> dict:
        return {
            "object_id": self.object_id, "objektsnummer": self.objektsnummer,
            "entrance_id": self.entrance_id, "landlord": self.landlord, "address": self.address,
            "postnummer": format_postnummer(self.postnummer), "ort": self.ort,
            "lagenhetsnummer": self.lagenhetsnummer, "floor": self.floor, "lat": self.lat,
            "lon": self.lon, "score": round(self.score, 3),
        }


class RegisterIndex:
    """The search index of one landlord's register (active objects only)."""

    def __init__(self, code: str, version: int, entrances: list[_Entrance]):
        self.code, self.version = code, version
        self.by_street: dict[str, list[_Entrance]] = {}
        for entrance in entrances:
            self.by_street.setdefault(fold(entrance.street), []).append(entrance)
        self.streets = list(self.by_street)

    @classmethod
    def load(cls, session: Session, landlord: Landlord) -> RegisterIndex:
        rows = session.execute(text(
            "SELECT e.id, e.street, e.street_number, e.street_letter, e.postnummer, e.ort, "
            "e.lat, e.lon, o.id, o.objektsnummer, o.lagenhetsnummer, o.floor "
            "FROM objects o JOIN entrances e ON e.id = o.entrance_id "
            "WHERE o.landlord_id = :l AND o.retired_at IS NULL"), {"l": landlord.id})
        entrances: dict[int, _Entrance] = {}
        for eid, street, number, letter, postnummer, ort, lat, lon, oid, onr, lgh, floor in rows:
            entrance = entrances.get(eid)
            if entrance is None:
                entrance = entrances[eid] = _Entrance(
                    eid, landlord.code, street, number, letter or "", postnummer, ort,
                    fold(ort), lat, lon)
            entrance.objects[lgh or onr] = (oid, onr, floor)
        return cls(landlord.code, landlord.register_version, list(entrances.values()))


class AddressSearch:
    """Search over every landlord's register; indexes load lazily and reload on new imports."""

    def __init__(self):
        self._indexes: dict[str, RegisterIndex] = {}
        self._lock = threading.Lock()

    def _index(self, session: Session, landlord: Landlord) -> RegisterIndex:
        index = self._indexes.get(landlord.code)
        if index is None or index.version != landlord.register_version:
            with self._lock:
                index = self._indexes.get(landlord.code)
                if index is None or index.version != landlord.register_version:
                    index = RegisterIndex.load(session, landlord)
                    self._indexes[landlord.code] = index
        return index

    def search(self, session: Session, raw: str, *, landlord: str | None = None,
               limit: int = 5) -> list[Hit]:
        """The best ``limit`` candidates for ``raw``, best first."""
        query = parse_query(raw)
        if not query.street:
            return []
        landlords = session.scalars(
            select(Landlord).where(Landlord.code == landlord) if landlord else select(Landlord)
        ).all()
        hits: list[Hit] = []
        for owner in landlords:
            hits.extend(search_index(self._index(session, owner), query, limit))
        hits.sort(key=lambda h: (-h.score, h.address, h.lagenhetsnummer or ""))
        return hits[:limit]


def search_index(index: RegisterIndex, query: Query, limit: int) -> list[Hit]:
    """Score the entrances of the streets most like the query's street."""
    exact = next((s for s in (query.street_as_typed, query.street) if s in index.by_street), None)
    if exact is not None:
        # Near-identical names (Storgatan/Storgatan 2:a) still compete: no silent pick.
        streets = [(exact, 100.0)]
        streets += [(s, score) for s, score, _ in process.extract(
            exact, index.streets, scorer=fuzz.ratio, limit=3, score_cutoff=90) if s != exact]
    else:
        streets = [(s, score) for s, score, _ in process.extract(
            query.street, index.streets, scorer=fuzz.ratio, limit=5, score_cutoff=60)]
    scored: list[tuple[float, _Entrance]] = []
    for street, similarity in streets:
        for entrance in index.by_street[street]:
            score = similarity
            if query.number is not None:
                if entrance.number == query.number:
                    score += 20
                else:
                    score -= min(15, 2 + abs((entrance.number or 0) - query.number))
            if query.letter:
                score += 6 if entrance.letter == query.letter else -6
            elif entrance.letter:
                score -= 1  # "12" asked, "12A" and "12B" exist: both stay, below a plain 12
            if query.postnummer:
                score += 10 if entrance.postnummer == query.postnummer else -10
            if query.ort:
                score += 8 if fuzz.partial_ratio(query.ort, entrance.ort_folded) >= 80 else -4
            if query.lagenhetsnummer:
                score += 5 if query.lagenhetsnummer in entrance.objects else -8
            scored.append((score, entrance))
    scored.sort(key=lambda x: -x[0])
    hits = []
    for score, entrance in scored[:limit]:
        address = f"{entrance.street} {entrance.number or ''}{entrance.letter}".strip()
        obj = entrance.objects.get(query.lagenhetsnummer) if query.lagenhetsnummer else None
        hits.append(Hit(
            obj[0] if obj else None, obj[1] if obj else None, entrance.id, entrance.landlord,
            address, entrance.postnummer, entrance.ort,
            query.lagenhetsnummer if obj else None, obj[2] if obj else None,
            entrance.lat, entrance.lon, max(0.0, min(1.0, score / 150)),
        ))
    return hits


address_search = AddressSearch()
