"""The portal's plain rules, without database or request: OCR numbers (Bankgirot) and the end
date of a notice of termination (hyreslagen 12 kap. 4 §). Vectors: ``domain-rules.md``."""

from __future__ import annotations

import calendar
from datetime import date

from stdnum import luhn

OCR_MIN, OCR_MAX = 2, 25


def ocr_number(base: str, *, length_digit: bool = False) -> str:
    """The OCR number for ``base`` (digits): Luhn mod 10 from the right appended; with
    ``length_digit`` ("variabel längd") first the total length mod 10, included in the sum.
    ``123`` → ``1230``; with the length digit ``12351``."""
    if not base.isdigit():
        raise ValueError("an OCR base is digits only")
    if length_digit:
        base += str((len(base) + 2) % 10)
    number = base + luhn.calc_check_digit(base)
    if not OCR_MIN <= len(number) <= OCR_MAX:
        raise ValueError(f"an OCR number has {OCR_MIN}-{OCR_MAX} digits")
    return number


def valid_ocr(number: str, *, length_digit: bool = False) -> bool:
    """Whether ``number`` is an OCR number: 2-25 digits, Luhn, and with ``length_digit`` the
    second-to-last digit the length mod 10."""
    if not (number.isascii() and number.isdigit() and OCR_MIN <= len(number) <= OCR_MAX):
        return False
    if length_digit and (len(number) < 3 or int(number[-2]) != len(number) % 10):
        return False
    return luhn.is_valid(number)


def notice_end_date(given_on: date, *, months: int = 3) -> date:
    """The day the agreement ends after notice given on ``given_on``: the turn of the month
    that comes first after ``months`` months (the last day of the month ``months`` on)."""
    month_index = given_on.year * 12 + given_on.month - 1 + months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])
