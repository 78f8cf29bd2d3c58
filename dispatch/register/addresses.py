"""Normalising register values: street addresses, postnummer, decimals, text keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_STREET_RE = re.compile(
    r"^\s*(?P<street>.*?[^\d\s])\s*(?P<number>\d{1,5})\s*(?P<letter>[A-Za-zÅÄÖåäö](?![A-Za-zÅÄÖåäö]))?"
    r"(?:\s*(?:-|,)?\s*(?P<rest>.*))?$"
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip diacritics (å→a, ö→o, é→e) and squeeze spaces: a comparison key."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_only.split())


def split_street(raw: str) -> tuple[str, int | None, str]:
    """Split ``Götgatan 12 B`` into (``Götgatan``, 12, ``B``); a street without number stays whole.

    ``Götgatan 12B`` and ``Götgatan 12 b`` give the same result. Anything after the letter
    (``Götgatan 12B, lgh 1102``) is dropped: the lägenhetsnummer has its own column.
    """
    text = " ".join(str(raw).split())
    match = _STREET_RE.match(text)
    if not match:
        return text, None, ""
    street = match.group("street").strip(" ,")
    letter = (match.group("letter") or "").upper()
    return street, int(match.group("number")), letter


def normalise_postnummer(raw: str) -> str | None:
    """``118 46`` → ``11846``; None when it is not five digits."""
    digits = "".join(str(raw).split())
    return digits if len(digits) == 5 and digits.isdigit() else None


def format_postnummer(postnummer: str) -> str:
    """``11846`` → ``118 46``, as Swedish addresses print it."""
    return f"{postnummer[:3]} {postnummer[3:]}" if len(postnummer) == 5 else postnummer


def address_key(street: str, number: int | None, letter: str, postnummer: str) -> str:
    """The identity of an address within a landlord: folded street, number, letter, postnummer."""
    return f"{fold(street)}|{'' if number is None else number}|{letter.upper()}|{postnummer}"
