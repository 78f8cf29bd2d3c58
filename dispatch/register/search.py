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
import hashlib
import heapq
import math
import re
import threading
import zlib
from array import array
from dataclasses import dataclass, field, replace
from operator import itemgetter

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

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
_PREFIX_SCAN = 2000  # names looked at for them, when a landlord filter passes over others'
_CANDIDATES = 256  # a big register's streets, best-voted by trigram, that rapidfuzz scores
_COMMON_GRAM_SHARE = 0.25  # trigrams in more of the names than this get no vote
_VOTE_SHARE = 0.25  # a name with less than this share of the best vote is not a candidate
_VOTING_GRAM_SHARE = 0.05  # trigrams in more of the names than this get no vote either
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


@dataclass(slots=True)
class _Entrance:
    """One entrance with its active objects, as a register or a test hands it to the index."""

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


# -- the index as arrays ----------------------------------------------------------------------
#
# Every landlord's register in one structure: per entrance and per object a few numbers in
# numpy arrays (sorted so that a street's entrances are one slice and an entrance's objects are
# found by binary search), the texts (street names, orter, postnummer, landlord codes) once each
# in small tables. About 40 bytes an object instead of a Python dict entry, tuple and strings
# (some 340 bytes): see bench/README.md. The same arrays are what index_files writes to disk and
# every web process maps.

FORMAT = 1  # bump when the arrays change meaning: files of another format are rebuilt
_SEP = "\x1f"  # between the strings of a text table (no register text holds it)
_NO_NUMBER = -1
_NO_FLOOR = -32768
_KEY_BITS = 40  # an object's key: its entrance's position, then 40 bits of its lgh's hash
_KEY_MASK = (1 << _KEY_BITS) - 1


def _key40(key: str) -> int:
    """A stable 40-bit hash of a lägenhetsnummer (or objektsnummer): the same in every process."""
    raw = key.encode()
    return (zlib.crc32(raw) << 8) | (zlib.adler32(raw) & 0xFF)


def _hash64(text_: str) -> int:
    """A stable 64-bit hash (``hash`` differs between processes, and the index is shared)."""
    raw = text_.encode()
    return (zlib.crc32(raw) << 32) | zlib.adler32(raw)


def _table(items: list[str]) -> np.ndarray:
    return np.frombuffer("".join(item + _SEP for item in items).encode(), dtype=np.uint8)


def _untable(blob: np.ndarray, pause=None, chunk: int = 4096) -> list[str]:
    """The strings of a text table, ``pause()`` between every ``chunk`` of them."""
    if pause is None or len(blob) < 16 * chunk:
        return blob.tobytes().decode().split(_SEP)[:-1]
    ends = np.flatnonzero(blob == ord(_SEP))
    items: list[str] = []
    start = 0
    for last in ends[chunk - 1::chunk].tolist() + ([int(ends[-1])] if len(ends) else []):
        if last < start:
            continue
        items += blob[start:last].tobytes().decode().split(_SEP)
        start = last + 1
        pause()
    return items


def _indexed(items: list[str], pause, chunk: int = 4096) -> dict[str, int]:
    """``{item: position}``, ``pause()`` between every ``chunk`` of them."""
    found: dict[str, int] = {}
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        found.update(zip(part, range(start, start + len(part)), strict=True))
        pause()
    return found


class IndexBuilder:
    """Collects a register row by row (``add_row``) or entrance by entrance (``add_entrance``)
    into compact columns; ``arrays()`` sorts them into the index's arrays."""

    def __init__(self):
        self._codes: dict[str, int] = {}
        self._texts: dict[str, dict[str, int]] = {"written": {}, "letters": {}, "postnummer": {},
                                                   "orter": {}}
        self._entrances: dict[int, int] = {}
        self._e = {name: array(kind) for name, kind in (
            ("landlord", "i"), ("id", "q"), ("written", "i"), ("number", "i"), ("letter", "i"),
            ("postnummer", "i"), ("ort", "i"), ("lat", "d"), ("lon", "d"))}
        self._o = {name: array(kind) for name, kind in (
            ("entrance", "i"), ("key", "q"), ("id", "q"), ("floor", "i"), ("onr_at", "q"),
            ("onr_len", "i"))}
        self._onr = bytearray()

    def _text(self, table: str, value: str) -> int:
        ids = self._texts[table]
        found = ids.get(value)
        if found is None:
            found = ids[value] = len(ids)
        return found

    def _entrance(self, landlord, eid, street, number, letter, postnummer, ort, lat, lon,
                  key=None) -> int:
        """The entrance's position, added when ``key`` (its id) is new or None."""
        position = self._entrances.get(key) if key is not None else None
        if position is None:
            position = len(self._e["id"])
            if key is not None:
                self._entrances[key] = position
            code = self._codes.setdefault(landlord, len(self._codes))
            e = self._e
            e["landlord"].append(code)
            e["id"].append(eid)
            e["written"].append(self._text("written", street))
            e["number"].append(_NO_NUMBER if number is None else number)
            e["letter"].append(self._text("letters", letter or ""))
            e["postnummer"].append(self._text("postnummer", postnummer or ""))
            e["ort"].append(self._text("orter", ort or ""))
            e["lat"].append(math.nan if lat is None else lat)
            e["lon"].append(math.nan if lon is None else lon)
        return position

    def _object(self, entrance: int, key: str, oid: int, onr: str, floor: int | None) -> None:
        o = self._o
        o["entrance"].append(entrance)
        o["key"].append(_key40(key))
        o["id"].append(oid)
        o["floor"].append(_NO_FLOOR if floor is None else floor)
        raw = onr.encode()
        o["onr_at"].append(len(self._onr))
        o["onr_len"].append(len(raw))
        self._onr += raw

    def add_row(self, landlord, eid, street, number, letter, postnummer, ort, lat, lon,
                oid, onr, lgh, floor) -> None:
        """One active object with its entrance (the columns ``index_files`` selects)."""
        position = self._entrance(landlord, eid, street, number, letter, postnummer, ort,
                                  lat, lon, key=eid)
        self._object(position, lgh or onr, oid, onr, floor)

    def add_entrance(self, entrance: _Entrance) -> None:
        """One entrance as given, whatever its id (tests give two the same)."""
        position = self._entrance(
            entrance.landlord, entrance.id, entrance.street, entrance.number, entrance.letter,
            entrance.postnummer, entrance.ort, entrance.lat, entrance.lon)
        for key, (oid, onr, floor) in entrance.objects.items():
            self._object(position, key, oid, onr, floor)

    def arrays(self) -> dict[str, np.ndarray]:
        written = list(self._texts["written"])
        folded = [fold(name) for name in written]
        streets = sorted(set(folded))
        street_of = {name: i for i, name in enumerate(streets)}
        written_street = np.array([street_of[name] for name in folded], dtype=np.int32)
        e = {name: np.frombuffer(column, dtype=column.typecode) if len(column)
             else np.zeros(0, dtype=column.typecode) for name, column in self._e.items()}
        e_street = written_street[e["written"]] if len(e["written"]) else np.zeros(0, np.int32)
        # A street's entrances one slice, in the order the register has them.
        order = np.argsort(e_street, kind="stable")
        moved_to = np.empty_like(order)
        moved_to[order] = np.arange(len(order))
        out = {f"e_{name}": column[order] for name, column in e.items()}
        out["e_street"] = e_street[order].astype(np.int32)
        out["street_start"] = np.searchsorted(
            out["e_street"], np.arange(len(streets) + 1)).astype(np.int64)
        o = {name: np.frombuffer(column, dtype=column.typecode) if len(column)
             else np.zeros(0, dtype=column.typecode) for name, column in self._o.items()}
        keys = (moved_to[o["entrance"]].astype(np.int64) << _KEY_BITS) | o["key"]
        by_key = np.argsort(keys, kind="stable")
        out["o_key"] = keys[by_key]
        out["o_id"] = o["id"][by_key]
        out["o_floor"] = o["floor"][by_key].astype(np.int16)
        out["o_onr_at"] = o["onr_at"][by_key]
        out["o_onr_len"] = o["onr_len"][by_key].astype(np.int16)
        out["onr"] = np.frombuffer(bytes(self._onr), dtype=np.uint8)
        # One slip: every deletion of every name, hashed, sorted, with the name's number.
        deletes = [_deletes(name) for name in streets]
        hashes = np.fromiter((_hash64(d) for ds in deletes for d in ds), dtype=np.uint64)
        by_hash = np.argsort(hashes, kind="stable")
        out["del_hash"] = hashes[by_hash]
        out["del_street"] = np.repeat(np.arange(len(streets), dtype=np.int32),
                                      [len(ds) for ds in deletes])[by_hash]
        # Trigram postings (compressed rows): a gram's streets and the weight of its vote.
        grams: list[str] = []
        starts, ids, weights = [0], [], []
        if len(streets) > _CANDIDATES:
            postings: dict[str, list[int]] = {}
            for i, name in enumerate(streets):
                for gram in _trigrams(name):
                    postings.setdefault(gram, []).append(i)
            # A vote weighs more the rarer its trigram (inverse document frequency). Those of
            # "gatan" and "vägen" are in a good share of all names: they hardly tell streets
            # apart, and gathering their votes would be most of the work, so they get none.
            total = len(streets)
            for gram in sorted(postings):
                found = postings[gram]
                if len(found) <= _COMMON_GRAM_SHARE * total:
                    grams.append(gram)
                    ids.extend(found)
                    starts.append(len(ids))
                    weights.append(math.log(total / len(found)))
        out["gram_start"] = np.array(starts, dtype=np.int64)
        out["gram_street"] = np.array(ids, dtype=np.int32)
        out["gram_weight"] = np.array(weights, dtype=np.float64)
        # Which streets each landlord has: the landlord filter.
        pairs = np.unique(out["e_landlord"].astype(np.int64) * max(1, len(streets))
                          + out["e_street"])
        owners = pairs // max(1, len(streets))
        out["landlord_street"] = (pairs % max(1, len(streets))).astype(np.int32)
        out["landlord_start"] = np.searchsorted(
            owners, np.arange(len(self._codes) + 1)).astype(np.int64)
        for table, items in (("streets", streets), ("written", written), ("grams", grams),
                             ("letters", list(self._texts["letters"])),
                             ("postnummer", list(self._texts["postnummer"])),
                             ("orter", list(self._texts["orter"])),
                             ("landlords", list(self._codes))):
            out[f"t_{table}"] = _table(items)
        out["format"] = np.array([FORMAT], dtype=np.int64)
        return out


class RegisterIndex:
    """The search index over every landlord's register (active objects only).

    Street names are kept folded, sorted (for prefix look-ups as the operator types) and, in a
    big register, indexed by trigram: a query's trigrams count votes for the streets that share
    them, and only the best-voted few hundred go to rapidfuzz. Scanning 30,000 names with
    rapidfuzz costs over a millisecond per pass; counting votes costs a tenth of that. A
    landlord is a filter on this one structure: the streets it has (a sorted array each), and
    each entrance's landlord.

    ``RegisterIndex(code, version, entrances)`` builds one from entrances in memory (tests, the
    benchmark); ``RegisterIndex.from_arrays`` takes arrays built before (``IndexBuilder``),
    from a file or not.
    """

    def __init__(self, code: str, version: int | str, entrances: list[_Entrance]):
        builder = IndexBuilder()
        for entrance in entrances:
            builder.add_entrance(entrance)
        self._attach(builder.arrays())
        self.code, self.version = code, version

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], version: int | str = 0,
                    pause=None) -> RegisterIndex:
        """An index over ``arrays``; ``pause()`` is called between the steps that take a few
        milliseconds each (a gevent web process yields there)."""
        index = cls.__new__(cls)
        index._attach(arrays, pause)
        index.code, index.version = "*", version
        return index

    def _attach(self, a: dict[str, np.ndarray], pause=None) -> None:
        pause = pause or (lambda: None)
        if int(a["format"][0]) != FORMAT:
            raise ValueError(f"search index format {int(a['format'][0])}, expected {FORMAT}")
        self.arrays = a
        for name in ("e_landlord", "e_id", "e_written", "e_number", "e_letter", "e_postnummer",
                     "e_ort", "e_lat", "e_lon", "e_street", "street_start", "o_key", "o_id",
                     "o_floor", "o_onr_at", "o_onr_len", "onr", "del_hash", "del_street",
                     "gram_start", "gram_street", "gram_weight", "landlord_street",
                     "landlord_start"):
            setattr(self, name, a[name])
        self.streets = _untable(a["t_streets"], pause)
        self.written = _untable(a["t_written"], pause)
        self.letters = _untable(a["t_letters"])
        self.postnummer = _untable(a["t_postnummer"])
        self.orter_written = _untable(a["t_orter"])
        self.orter_folded = [fold(ort) for ort in self.orter_written]
        self.orter = set(self.orter_folded)
        self.landlords = _untable(a["t_landlords"])
        self.landlord_of = {code: i for i, code in enumerate(self.landlords)}
        self._street_of = _indexed(self.streets, pause)
        # Votes only from trigrams in at most this share of the names (and at least from the
        # rarest): in 60,000 names, gathering the votes of one in a few thousand costs more
        # than all the rest, for a vote that hardly tells names apart.
        cap = max(_CANDIDATES, _VOTING_GRAM_SHARE * len(self.streets))
        sizes = np.diff(self.gram_start).tolist()
        grams = _untable(a["t_grams"], pause)
        self._grams = {gram: i for i, gram in enumerate(grams) if sizes[i] <= cap}
        self._every = np.arange(len(self.streets))
        self.objects = len(self.o_key)

    # -- streets --------------------------------------------------------------------------

    def landlord_streets(self, code: str) -> np.ndarray | None:
        """The sorted numbers of the streets ``code`` has; None for a landlord not indexed."""
        i = self.landlord_of.get(code)
        if i is None:
            return None
        return self.landlord_street[self.landlord_start[i]:self.landlord_start[i + 1]]

    def candidates(self, street: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """The streets worth scoring against ``street`` (folded): all of a small register (or
        of a landlord's, when ``allowed``), the best-voted by shared trigrams of a big one."""
        if allowed is not None and len(allowed) <= _CANDIDATES:
            return allowed
        if len(self.streets) <= _CANDIDATES or not self._grams:
            return self._every if allowed is None else allowed
        found = [self._grams[g] for g in _trigrams(street) if g in self._grams]
        if not found:  # only common trigrams ("gatan"): rare, so scan them all
            return self._every if allowed is None else allowed
        starts, ends = self.gram_start[found], self.gram_start[np.array(found) + 1]
        ids = np.concatenate([self.gram_street[a:b] for a, b in zip(starts, ends, strict=True)])
        weights = np.repeat(self.gram_weight[found], ends - starts)
        votes = np.bincount(ids, weights=weights, minlength=len(self.streets))
        if allowed is not None:
            votes = votes[allowed]
        # Only streets with a good share of the best vote go to the partition: numpy's
        # argpartition crawls over thousands of small or equal votes (milliseconds instead of
        # tens of microseconds over 60,000 names). A slip costs a name at most three of its
        # trigrams: the name meant keeps far more than that share.
        best = np.flatnonzero(votes >= votes.max() * _VOTE_SHARE)
        if len(best) > _CANDIDATES:
            best = best[np.argpartition(votes[best], -_CANDIDATES)[-_CANDIDATES:]]
        return best if allowed is None else allowed[best]

    def one_slip_away(self, street: str, allowed: np.ndarray | None = None) -> list[int]:
        """Streets that share a deletion with ``street`` (folded): all those one slip away,
        and a few more (hash collisions included; the caller scores them)."""
        if not len(self.del_hash):
            return []
        keys = np.fromiter((_hash64(d) for d in _deletes(street)), dtype=np.uint64)
        starts = np.searchsorted(self.del_hash, keys, "left")
        ends = np.searchsorted(self.del_hash, keys, "right")
        found = {int(i) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
                 for i in self.del_street[a:b]}
        if allowed is not None and found:
            found = {i for i in found if _among(allowed, i)}
        return list(found)

    def similar_streets(self, query: Query, allowed: np.ndarray | None = None
                        ) -> dict[int, float]:
        """Streets (their numbers) like the query's, with their similarity 0-100."""
        found: dict[int, float] = {}
        for name in {query.street_as_typed, query.street}:
            i = self._street_of.get(name)
            if i is not None and (allowed is None or _among(allowed, i)):
                found[i] = 100.0
        for i in self.one_slip_away(query.street, allowed):
            similarity = fuzz.ratio(query.street, self.streets[i])
            if similarity >= _STREET_CUTOFF:
                found.setdefault(i, similarity)
        candidates = self.candidates(query.street, allowed).tolist()
        names = [self.streets[candidates[0]]] if len(candidates) == 1 else list(
            itemgetter(*candidates)(self.streets)) if candidates else []
        similar = process.extract(query.street, names,
                                  scorer=fuzz.ratio, limit=_STREETS, score_cutoff=_STREET_CUTOFF)
        if similar:
            floor = max(100.0 if found and max(found.values()) == 100.0 else 0.0,
                        similar[0][1]) - _STREET_MARGIN
            for _, similarity, at in similar:
                if similarity >= floor:
                    found.setdefault(candidates[at], similarity)
        prefix = query.street_as_typed
        if (query.number is None or prefix != query.street) and len(prefix) >= 3:
            # Still typing the name: "Drottn" is Drottninggatan's beginning, though few of its
            # letters. And "Storg." is Storgatan's as much as Storgången's. Scored by how much
            # of the name is typed, below a whole name.
            at = bisect.bisect_left(self.streets, prefix)
            taken = 0
            for i in range(at, min(len(self.streets), at + _PREFIX_SCAN)):
                name = self.streets[i]
                if not name.startswith(prefix) or taken == _PREFIXES:
                    break
                if allowed is not None and not _among(allowed, i):
                    continue
                taken += 1
                similarity = 70 + 30 * len(prefix) / len(name)
                found[i] = max(found.get(i, 0.0), similarity)
        return found


def _among(sorted_ids: np.ndarray, i: int) -> bool:
    at = int(np.searchsorted(sorted_ids, i))
    return at < len(sorted_ids) and int(sorted_ids[at]) == i


def _deletes(name: str) -> set[str]:
    """``name`` and every string one letter shorter."""
    return {name, *(name[:i] + name[i + 1:] for i in range(len(name)))}


def _trigrams(name: str) -> set[str]:
    padded = f" {name} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def search_index(index: RegisterIndex, query: Query, limit: int,
                 landlord: str | None = None) -> list[Hit]:
    """Score the entrances of the streets most like the query's street (of ``landlord``'s
    register only, when given)."""
    if not query.street:
        return []
    allowed = None
    if landlord is not None:
        allowed = index.landlord_streets(landlord)
        if allowed is None:
            return []
    if query.number is None and not query.ort and " " in query.street:
        # "Götgatan Stockholm": without a number nothing marks where the street ends.
        head, _, last = query.street.rpartition(" ")
        if last in index.orter:
            query = replace(query, street=head, ort=last,
                            street_as_typed=query.street_as_typed.rpartition(" ")[0])
    found = index.similar_streets(query, allowed)
    if not found:
        return []
    # The entrances of those streets, with their street's similarity: one gather per column.
    streets = np.fromiter(found, dtype=np.int64, count=len(found))
    starts = index.street_start[streets]
    lengths = index.street_start[streets + 1] - starts
    rows = (np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            + np.repeat(starts, lengths))
    street_of = np.repeat(streets, lengths)
    similarity_of = np.repeat(np.fromiter(found.values(), dtype=np.float64,
                                          count=len(found)), lengths)
    if landlord is not None:
        mine = index.e_landlord[rows] == index.landlord_of[landlord]
        rows, street_of, similarity_of = rows[mine], street_of[mine], similarity_of[mine]
    numbers = [None if n == _NO_NUMBER else n for n in index.e_number[rows].tolist()]
    letters = [index.letters[i] for i in index.e_letter[rows].tolist()]
    postnummer = [index.postnummer[i] for i in index.e_postnummer[rows].tolist()]
    orter = index.e_ort[rows].tolist()
    ids = index.e_id[rows].tolist()
    has_flat = [False] * len(ids)
    flat_at: list[int] = []
    if query.lagenhetsnummer:
        keys = (rows.astype(np.int64) << _KEY_BITS) | _key40(query.lagenhetsnummer)
        flat_at = np.searchsorted(index.o_key, keys).tolist()
        has_flat = [at < index.objects and int(index.o_key[at]) == int(key)
                    for at, key in zip(flat_at, keys.tolist(), strict=True)]
    street_list, similarity_list = street_of.tolist(), similarity_of.tolist()

    ort_matches: dict[int, bool] = {}
    scored: list[tuple[float, int, int]] = []
    asked = str(query.number) if query.number is not None else ""
    streets_with_number: set[int] = set()
    for i, number in enumerate(numbers):
        street, letter = street_list[i], letters[i]
        score = similarity_list[i]
        continued = False
        if query.number is not None:
            if number == query.number:
                score += _NUMBER_BONUS
                if not query.letter or letter == query.letter:
                    streets_with_number.add(street)
            elif not query.letter and (later := _continues(asked, number, letter)) is not None:
                score += _CONTINUED_BONUS - later
                continued = True
            else:
                score -= min(_WRONG_NUMBER_CAP, _WRONG_NUMBER_BASE
                             + abs((number or 0) - query.number))
        if query.letter:
            score += 6 if letter == query.letter else -6
        elif letter and not continued:
            score -= 1  # "12" asked, "12A" and "12B" exist: both stay, below a plain 12
        if query.postnummer:
            score += 10 if postnummer[i] == query.postnummer else -10
        if query.ort:
            ort = orter[i]
            matches = ort_matches.get(ort)
            if matches is None:
                matches = ort_matches[ort] = fuzz.partial_ratio(
                    query.ort, index.orter_folded[ort]) >= 80
            score += 8 if matches else -4
        if query.lagenhetsnummer:
            score += 5 if has_flat[i] else -8
        scored.append((score, ids[i], i))
    hits = []
    # Equal scores in house-number order ("12A" before "12B"), then as the register has them.
    for score, entrance_id, i in heapq.nsmallest(
            limit, scored, key=lambda x: (-x[0], numbers[x[2]] or 0, letters[x[2]], x[1])):
        row = int(rows[i])
        street = index.written[int(index.e_written[row])]
        address = f"{street} {numbers[i] or ''}{letters[i]}".strip()
        missing = None
        if query.number is not None and street_list[i] not in streets_with_number:
            missing = f"{query.number}{query.letter}"
        object_id = objektsnummer = floor = None
        if has_flat[i]:
            at = flat_at[i]
            object_id = int(index.o_id[at])
            offset = int(index.o_onr_at[at])
            objektsnummer = index.onr[offset:offset + int(index.o_onr_len[at])].tobytes().decode()
            floor = int(index.o_floor[at])
            floor = None if floor == _NO_FLOOR else floor
        lat, lon = float(index.e_lat[row]), float(index.e_lon[row])
        hits.append(Hit(
            object_id, objektsnummer, entrance_id,
            index.landlords[int(index.e_landlord[row])], address, postnummer[i],
            index.orter_written[orter[i]], query.lagenhetsnummer if has_flat[i] else None,
            floor, None if math.isnan(lat) else lat, None if math.isnan(lon) else lon,
            max(0.0, min(1.0, score / 150)), street, missing,
        ))
    return hits


# -- the registers in the database ------------------------------------------------------------

ROWS_SQL = (
    "SELECT l.code, e.id, e.street, e.street_number, e.street_letter, e.postnummer, e.ort, "
    "e.lat, e.lon, o.id, o.objektsnummer, o.lagenhetsnummer, o.floor "
    "FROM objects o JOIN entrances e ON e.id = o.entrance_id "
    "JOIN landlords l ON l.id = o.landlord_id WHERE o.retired_at IS NULL")


def register_state(connection) -> str:
    """A short key for the registers as the database holds them now: the index format and
    every landlord's id, code and ``register_version`` (an import bumps it)."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for lid, code, version in connection.execute(text(
            "SELECT id, code, register_version FROM landlords ORDER BY id")):
        digest.update(f"|{lid}:{code}:{version or 0}".encode())
    return digest.hexdigest()[:20]


def build_arrays(connection, batch: int = 20_000, pause=None) -> tuple[str, dict]:
    """The register state and the index's arrays, read through ``connection`` (a Session or a
    Connection). The state is read before the rows: an import committed in between leaves an
    index that looks older than it is (and is built again), never a stale one that looks
    current."""
    state = register_state(connection)
    builder = IndexBuilder()
    result = connection.execute(text(ROWS_SQL).execution_options(yield_per=batch))
    while rows := result.fetchmany(batch):
        for row in rows:
            builder.add_row(*row)
        if pause:
            pause()
    return state, builder.arrays()


def _like_pattern(street: str) -> str:
    """``gotgatan`` → ``g_tg%``: the first four letters, any vowel may carry a diacritic."""
    head = re.sub(r"[%_\\]", "", street)[:4]
    return re.sub(r"[aeiouy]", "_", head) + "%"


def plain_search(session: Session, query: Query, *, landlord: str | None,
                 limit: int) -> list[Hit]:
    """A search straight in the database, while this process's index is still being built:
    the entrances whose street begins like the query's (lower-cased; a vowel may carry a
    diacritic), scored as the index would. A slip in the first four letters is not forgiven:
    that is the index's work."""
    statement = text("SELECT id FROM entrances WHERE lower(street) LIKE :p LIMIT 2000")
    ids = [row[0] for row in session.execute(statement, {"p": _like_pattern(query.street)})]
    if not ids:
        return []
    rows = session.execute(text(ROWS_SQL + " AND e.id IN :ids").bindparams(
        bindparam("ids", expanding=True)), {"ids": ids})
    builder = IndexBuilder()
    for row in rows:
        builder.add_row(*row)
    return search_index(RegisterIndex.from_arrays(builder.arrays()), query, limit,
                        landlord=landlord)


_ALL = "*"


class AddressSearch:
    """Search over every landlord's register, through one index.

    Without a warmer (tests, commands) the index is built in the caller's session when the
    registers' state has changed. With one (``index_files.start_warming``, in the web
    processes) no request ever builds: the warmer builds in a child process, at start and
    after every import, and swaps the new index in whole; until the first is ready a search
    goes straight to the database (``plain_search``)."""

    def __init__(self):
        self._indexes: dict[str, RegisterIndex] = {}  # _ALL: the index serving now
        self._lock = threading.Lock()
        self.warmer = None

    @property
    def index(self) -> RegisterIndex | None:
        return self._indexes.get(_ALL)

    def swap(self, index: RegisterIndex) -> None:
        """Serve ``index`` from now on (one assignment: a search has the old or the new)."""
        self._indexes[_ALL] = index

    def status(self) -> str:
        """``warming`` until a warmer's first index is ready, then ``ready``; ``inline``
        without a warmer."""
        if self.warmer is None:
            return "inline"
        return "ready" if self.index is not None else "warming"

    def search(self, session: Session, raw: str, *, landlord: str | None = None,
               limit: int = 5) -> list[Hit]:
        """The best ``limit`` candidates for ``raw``, best first."""
        query = parse_query(raw)
        if not query.street:
            return []
        state = register_state(session)
        index = self.index
        if self.warmer is not None:
            if index is None or index.version != state:
                self.warmer.notice(state)  # built in the background; this request goes on
            if index is None:
                return plain_search(session, query, landlord=landlord, limit=limit)
            if index.version != state:
                # A new register is being indexed. The old index answers; where it knows
                # nothing (a landlord's first register, a street the import added) the
                # database does, so a new address is found at once, not after the build.
                return (search_index(index, query, limit, landlord=landlord)
                        or plain_search(session, query, landlord=landlord, limit=limit))
        elif index is None or index.version != state:
            with self._lock:
                index = self.index
                if index is None or index.version != state:
                    built, arrays = build_arrays(session)
                    index = RegisterIndex.from_arrays(arrays, built)
                    self.swap(index)
        return search_index(index, query, limit, landlord=landlord)


def _continues(asked: str, number: int | None, letter: str) -> float | None:
    """How far down the order an entrance whose number begins with the ``asked`` digits comes
    (0 to under 6), or None when its number does not begin with them. "2" asked: 20 → 0,
    24A → 0.41, 24B → 0.41 and a little, 26 → 0.6, 200 → 2, 299 → 2.99, 2000 → 4."""
    if not number:
        return None
    digits = str(number)
    if len(digits) <= len(asked) or not digits.startswith(asked):
        return None
    more = len(digits) - len(asked)
    letter = letter.upper()
    letter_rank = ord(letter) - ord("A") + 1 if len(letter) == 1 and "A" <= letter <= "Z" else 0
    return 2 * (more - 1) + (int(digits[len(asked):]) + letter_rank / 27) / 10 ** more


address_search = AddressSearch()
