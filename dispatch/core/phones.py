"""Phone numbers as landlords type them and switches send them, normalised to E.164."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str | None, region: str = "SE") -> str | None:
    """Return ``raw`` in E.164 (``+46701234567``), or None when it is not a possible number.

    ``region`` is the country a number without a country code is read in: ``070-123 45 67``
    and ``0046 8 12345678`` are both Swedish numbers.
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str | None) -> str:
    """A number for people to read: national format at home, international abroad."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164  # not a number in E.164 (an old row): shown as it is
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region in ("SE",)
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
