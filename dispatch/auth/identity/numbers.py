"""Identity numbers with python-stdnum: Swedish personnummer and samordningsnummer (stored as
12 digits ``YYYYMMDDNNNC``), Finnish henkilötunnus (stored as written, upper case), and the
masked form shown on pages (never the whole number)."""

from __future__ import annotations

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as _hetu
from stdnum.se import personnummer as _personnummer


class InvalidNumber(ValueError):
    """Not a valid identity number (the message never holds the number)."""


def swedish(raw: str) -> str:
    """A personnummer or samordningsnummer (``19900101-2385``, ``199001012385``,
    ``900101-2385``, ``701063-2391``) in its 12-digit form; InvalidNumber otherwise."""
    number = _personnummer.compact(raw or "")
    if len(number) == 12 and number.isdigit():  # 12 digits as BankID sends them
        number = f"{number[:8]}-{number[8:]}"
    try:
        if len(number) not in (11, 13) or number[-5] not in "-+":
            raise ValidationError
        day_at = len(number) - 7
        day = int(number[day_at:day_at + 2])
        if day > 60:  # samordningsnummer: the day of birth + 60
            luhn.validate((number[:-5] + number[-4:])[-10:])
            born = _personnummer.get_birth_date(
                f"{number[:day_at]}{day - 60:02d}{number[day_at + 2:]}")
        else:
            _personnummer.validate(number)
            born = _personnummer.get_birth_date(number)
    except (ValidationError, ValueError) as exc:
        raise InvalidNumber("not a valid personnummer or samordningsnummer") from exc
    month_day = number[4:8] if len(number) == 13 else number[2:6]
    return f"{born.year:04d}{month_day}{number[-4:]}"


def finnish(raw: str) -> str:
    """A henkilötunnus (``131052-308T``) as stored: validated, upper case. The 9xx test range
    (``allow_temporary``) is allowed: it is what the official test identities use."""
    try:
        return _hetu.validate((raw or "").strip(), allow_temporary=True)
    except ValidationError as exc:
        raise InvalidNumber("not a valid henkilötunnus") from exc


def normalise(raw: str) -> str:
    """Either kind, in its stored form."""
    try:
        return finnish(raw)
    except InvalidNumber:
        return swedish(raw)


def masked(number: str | None) -> str:
    """For display: the date of birth only (``19900101-****``, ``131052-****``)."""
    if not number:
        return ""
    if len(number) == 12 and number.isdigit():
        return f"{number[:8]}-****"
    return f"{number[:7]}****"
