"""The portal's rules against the vectors of domain-rules.md: OCR numbers per Bankgirot and the
end date of a notice by hyreslagen 12 kap. 4 §."""

from datetime import date

import pytest

from dispatch.portal.rules import notice_end_date, ocr_number, valid_ocr


@pytest.mark.parametrize(("base", "plain", "with_length"), [
    ("123", "1230", "12351"),
    ("1234567", "12345674", "123456790"),
])
def test_ocr_check_digit_is_luhn_from_the_right_with_optional_length_digit(base, plain,
                                                                            with_length):
    assert ocr_number(base) == plain
    assert ocr_number(base, length_digit=True) == with_length
    assert valid_ocr(plain)
    assert valid_ocr(with_length, length_digit=True)


@pytest.mark.parametrize("number", ["1231", "12352", "1", "12345678901234567890123456",
                                    "12a0", "", "１２３０"])
def test_ocr_with_a_wrong_check_digit_or_length_is_refused(number):
    assert not valid_ocr(number)


def test_ocr_length_digit_must_match_the_length():
    assert valid_ocr("1230")  # Luhn alone: fine
    assert not valid_ocr("1230", length_digit=True)  # but 3 is not its length 4


@pytest.mark.parametrize(("given", "ends"), [
    (date(2025, 1, 15), date(2025, 4, 30)),
    (date(2025, 1, 31), date(2025, 4, 30)),
    (date(2025, 2, 1), date(2025, 5, 31)),
    (date(2025, 11, 20), date(2026, 2, 28)),
    (date(2023, 11, 30), date(2024, 2, 29)),
])
def test_notice_ends_at_the_turn_of_the_month_after_three_months(given, ends):
    assert notice_end_date(given) == ends
