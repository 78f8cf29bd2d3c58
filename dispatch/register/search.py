"""Address search over landlords' registers: typo tolerant, fast, never silently guessing.

The index lives in memory, one per web process, built from the register and rebuilt when a
landlord's ``register_version`` changes (an import bumps it), so a new register is found
without a restart. A query is taken apart into street, number, letter, lägenhetsnummer,
postnummer and ort. Street names (folded, abbreviations such as ``Storg.`` and ``v.``
expanded) are matched in three ways: the exact name; every name one slip away (a deletion in
common); and, in a big register, the few hundred names sharing the most rare trigrams, which
rapidfuzz then scores. While the name is still being typed its beginning is enough. The
entrances of the streets near the best are scored on every part. A house number is taken as
typed so far: the asked number first, then the numbers that begin with it in order ("2": 2,
24A, 24B, 26, 210), then the nearest others. Candidates come back best first with their
score and, when the asked number is not on the hit's street, that number (``missing_number``)
for the console to say so; when two are close, both are shown and the operator chooses.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import threading
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.models import Landlord
from dispatch.register.addresses import fold, format_postnummer

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

_STREET_CUTOFF = 60  # rapidfuzz ratio: two slips in a ten-letter name still pass
# Street names whose entrances are scored: those within a margin of the best (a slip can make
# another name look as good, and the number, ort or lgh then decide), at most so many.
_STREET_MARGIN = 15
_STREETS = 30
_PREFIXES = 10  # names beginning with what has been typed so far
_CANDIDATES = 256  # a big register's streets, best-voted by trigram, that rapidfuzz scores
_COMMON_GRAM_SHARE = 0.25  # trigrams in more of the names than this get no vote
# The house number: +20 for the asked one; a number that begins with the asked digits (the
# operator may still be typing: "2" of "24") gets up to +10, less the later it comes in order
# (2 points per further digit, under 1 within them), so 2, 24A, 24B, 26, 210 ...; any other
# number loses 2 and one per number away, at most 15.
_NUMBER_BONUS = 20
_CONTINUED_BONUS = 10
_WRONG_NUMBER_BASE, _WRONG_NUMBER_CAP = 2, 15


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
    street: str = ""
    # The house number asked ("2", "12B") when the hit's street has no entrance with it.
    missing_number: str | None = None

    def as_json(self) -> dict:
        return {
            "object_id": self.object_id, "objektsnummer": self.objektsnummer,
            "entrance_id": self.entrance_id, "landlord": self.landlord, "address": self.address,
            "postnummer": format_postnummer(self.postnummer), "ort": self.ort,
            "lagenhetsnummer": self.lagenhetsnummer, "floor": self.floor, "lat": self.lat,
            "lon": self.lon, "score": round(self.score, 3), "street": self.street,
            "missing_number": self.missing_number,
        }


class RegisterIndex:
    """The search index of one landlord's register (active objects only).

    Street names are kept folded, sorted (for prefix look-ups as the operator types) and, in a
    big register, indexed by trigram: a query's trigrams count votes for the streets that share
    them, and only the best-voted few hundred go to rapidfuzz. Scanning 30,000 names with
    rapidfuzz costs over a millisecond per pass; counting votes costs a tenth of that.
    """

    def __init__(self, code: str, version: int, entrances: list[_Entrance]):
        self.code, self.version = code, version
        self.by_street: dict[str, list[_Entrance]] = {}
        for entrance in entrances:
            self.by_street.setdefault(fold(entrance.street), []).append(entrance)
        self.streets = sorted(self.by_street)
        self.orter = {entrance.ort_folded for entrance in entrances}
        # One slip (a letter wrong, missing, doubled or two swapped) leaves a name and its
        # misspelling with a deletion in common ("storgatan", "stogratan": "stogatan"), so
        # every name with a deletion in common with the query is a candidate, however little
        # else it shares: short names with a slip near the start are just what trigram votes
        # miss. Kept as sorted hashes with the street's number: a few MB, not a dict of strings
        # (``hash`` differs between processes, and so does the index).
        deletes = [_deletes(name) for name in self.streets]
        keys = np.fromiter((hash(d) for ds in deletes for d in ds), dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._deletes = keys[order]
        self._deleted_from = np.repeat(
            np.arange(len(deletes), dtype=np.int32), [len(ds) for ds in deletes])[order]
        self._grams: dict[str, tuple[np.ndarray, float]] = {}
        if len(self.streets) > _CANDIDATES:
            postings: dict[str, list[int]] = {}
            for i, name in enumerate(self.streets):
                for gram in _trigrams(name):
                    postings.setdefault(gram, []).append(i)
            # A vote weighs more the rarer its trigram (inverse document frequency). Those of
            # "gatan" and "vägen" are in a good share of all names: they hardly tell streets
            # apart, and gathering their votes would be most of the work, so they get none.
            total = len(self.streets)
            self._grams = {gram: (np.array(ids, dtype=np.int32), math.log(total / len(ids)))
                           for gram, ids in postings.items()
                           if len(ids) <= _COMMON_GRAM_SHARE * total}

    @classmethod
    def load(cls, session: Session, landlord: Landlord) -> RegisterIndex:
        """The index of ``landlord``'s register as the database has it now (``landlord``: a
        Landlord, or any row with its ``id`` and ``code``)."""
        # The version is read before the rows: an import committed in between leaves an index
        # that looks older than it is (and is loaded again), never a stale one that looks
        # current. Read afresh, not from ``landlord``: an ORM object may predate the import.
        version = session.scalar(
            select(Landlord.register_version).where(Landlord.id == landlord.id))
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
        return cls(landlord.code, version or 0, list(entrances.values()))

    def candidates(self, street: str) -> list[str]:
        """The streets worth scoring against ``street`` (folded): all of a small register, the
        best-voted by shared trigrams of a big one."""
        if not self._grams:
            return self.streets
        postings = [self._grams[g] for g in _trigrams(street) if g in self._grams]
        if not postings:
            return self.streets  # only common trigrams ("gatan"): rare, so scan them all
        ids = np.concatenate([p[0] for p in postings])
        weights = np.repeat([p[1] for p in postings], [len(p[0]) for p in postings])
        votes = np.bincount(ids, weights=weights, minlength=len(self.streets))
        # Only streets with a vote go to the partition: numpy's argpartition crawls over
        # thousands of equal zeros (milliseconds instead of tens of microseconds).
        best = np.flatnonzero(votes)
        if len(best) > _CANDIDATES:
            best = best[np.argpartition(votes[best], -_CANDIDATES)[-_CANDIDATES:]]
        return [self.streets[i] for i in best.tolist()]

    def one_slip_away(self, street: str) -> list[str]:
        """Streets that share a deletion with ``street`` (folded): all those one slip away,
        and a few more (hash collisions included; the caller scores them)."""
        if not len(self._deletes):
            return []
        keys = np.fromiter((hash(d) for d in _deletes(street)), dtype=np.int64)
        starts = np.searchsorted(self._deletes, keys, "left")
        ends = np.searchsorted(self._deletes, keys, "right")
        found = {int(i) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
                 for i in self._deleted_from[a:b]}
        return [self.streets[i] for i in found]

    def similar_streets(self, query: Query) -> dict[str, float]:
        """Street names like the query's, with their similarity 0-100."""
        found: dict[str, float] = {}
        for name in {query.street_as_typed, query.street}:
            if name in self.by_street:
                found[name] = 100.0
        for name in self.one_slip_away(query.street):
            similarity = fuzz.ratio(query.street, name)
            if similarity >= _STREET_CUTOFF:
                found.setdefault(name, similarity)
        similar = process.extract(query.street, self.candidates(query.street),
                                  scorer=fuzz.ratio, limit=_STREETS, score_cutoff=_STREET_CUTOFF)
        if similar:
            floor = max(found.get(query.street, 0.0), found.get(query.street_as_typed, 0.0),
                        similar[0][1]) - _STREET_MARGIN
            for name, similarity, _ in similar:
                if similarity >= floor:
                    found.setdefault(name, similarity)
        prefix = query.street_as_typed
        if (query.number is None or prefix != query.street) and len(prefix) >= 3:
            # Still typing the name: "Drottn" is Drottninggatan's beginning, though few of its
            # letters. And "Storg." is Storgatan's as much as Storgången's. Scored by how much
            # of the name is typed, below a whole name.
            start = bisect.bisect_left(self.streets, prefix)
            for name in self.streets[start:start + _PREFIXES]:
                if not name.startswith(prefix):
                    break
                similarity = 70 + 30 * len(prefix) / len(name)
                found[name] = max(found.get(name, 0.0), similarity)
        return found


def _deletes(name: str) -> set[str]:
    """``name`` and every string one letter shorter."""
    return {name, *(name[:i] + name[i + 1:] for i in range(len(name)))}


def _trigrams(name: str) -> set[str]:
    padded = f" {name} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


class AddressSearch:
    """Search over every landlord's register; indexes load lazily and reload on new imports."""

    def __init__(self):
        self._indexes: dict[str, RegisterIndex] = {}
        self._lock = threading.Lock()

    def _index(self, session: Session, landlord) -> RegisterIndex:
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
        # Columns, not ORM objects: a Landlord already in the session keeps the
        # register_version it was loaded with, and the index would not see the new import.
        statement = select(Landlord.id, Landlord.code, Landlord.register_version)
        if landlord:
            statement = statement.where(Landlord.code == landlord)
        hits: list[Hit] = []
        for owner in session.execute(statement).all():
            hits.extend(search_index(self._index(session, owner), query, limit))
        hits.sort(key=lambda h: (-h.score, h.address, h.landlord, h.lagenhetsnummer or ""))
        return hits[:limit]


def search_index(index: RegisterIndex, query: Query, limit: int) -> list[Hit]:
    """Score the entrances of the streets most like the query's street."""
    if not query.street:
        return []
    if query.number is None and not query.ort and " " in query.street:
        # "Götgatan Stockholm": without a number nothing marks where the street ends.
        head, _, last = query.street.rpartition(" ")
        if last in index.orter:
            query = replace(query, street=head, ort=last,
                            street_as_typed=query.street_as_typed.rpartition(" ")[0])
    ort_matches: dict[str, bool] = {}
    scored: list[tuple[float, int, _Entrance]] = []
    asked = str(query.number) if query.number is not None else ""
    streets_with_number: set[str] = set()
    for street, similarity in index.similar_streets(query).items():
        for entrance in index.by_street[street]:
            score = similarity
            continued = False
            if query.number is not None:
                if entrance.number == query.number:
                    score += _NUMBER_BONUS
                    if not query.letter or entrance.letter == query.letter:
                        streets_with_number.add(street)
                elif not query.letter and (later := _continues(asked, entrance)) is not None:
                    score += _CONTINUED_BONUS - later
                    continued = True
                else:
                    score -= min(_WRONG_NUMBER_CAP, _WRONG_NUMBER_BASE
                                 + abs((entrance.number or 0) - query.number))
            if query.letter:
                score += 6 if entrance.letter == query.letter else -6
            elif entrance.letter and not continued:
                score -= 1  # "12" asked, "12A" and "12B" exist: both stay, below a plain 12
            if query.postnummer:
                score += 10 if entrance.postnummer == query.postnummer else -10
            if query.ort:
                matches = ort_matches.get(entrance.ort_folded)
                if matches is None:
                    matches = ort_matches[entrance.ort_folded] = fuzz.partial_ratio(
                        query.ort, entrance.ort_folded) >= 80
                score += 8 if matches else -4
            if query.lagenhetsnummer:
                score += 5 if query.lagenhetsnummer in entrance.objects else -8
            scored.append((score, entrance.id, entrance))
    hits = []
    # Equal scores in house-number order ("12A" before "12B"), then as the register has them.
    for score, _, entrance in heapq.nsmallest(
            limit, scored, key=lambda x: (-x[0], x[2].number or 0, x[2].letter, x[1])):
        address = f"{entrance.street} {entrance.number or ''}{entrance.letter}".strip()
        obj = entrance.objects.get(query.lagenhetsnummer) if query.lagenhetsnummer else None
        missing = None
        if query.number is not None and fold(entrance.street) not in streets_with_number:
            missing = f"{query.number}{query.letter}"
        hits.append(Hit(
            obj[0] if obj else None, obj[1] if obj else None, entrance.id, entrance.landlord,
            address, entrance.postnummer, entrance.ort,
            query.lagenhetsnummer if obj else None, obj[2] if obj else None,
            entrance.lat, entrance.lon, max(0.0, min(1.0, score / 150)),
            entrance.street, missing,
        ))
    return hits


def _continues(asked: str, entrance: _Entrance) -> float | None:
    """How far down the order an entrance whose number begins with the ``asked`` digits comes
    (0 to under 6), or None when its number does not begin with them. "2" asked: 20 → 0,
    24A → 0.41, 24B → 0.41 and a little, 26 → 0.6, 200 → 2, 299 → 2.99, 2000 → 4."""
    if not entrance.number:
        return None
    digits = str(entrance.number)
    if len(digits) <= len(asked) or not digits.startswith(asked):
        return None
    more = len(digits) - len(asked)
    letter = entrance.letter.upper()
    letter_rank = ord(letter) - ord("A") + 1 if len(letter) == 1 and "A" <= letter <= "Z" else 0
    return 2 * (more - 1) + (int(digits[len(asked):]) + letter_rank / 27) / 10 ** more


address_search = AddressSearch()
