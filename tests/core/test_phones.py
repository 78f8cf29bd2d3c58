"""Phone numbers normalised to E.164 whatever way landlords type them or switches send them."""

import pytest

from dispatch.core.phones import display_phone, normalise_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("070-123 45 67", "+46701234567"),
        ("+46701234567", "+46701234567"),
        ("08-123 456 78", "+46812345678"),
        ("0046 8 12345678", "+46812345678"),
        ("46812345678", "+46812345678"),  # switches often drop the plus
        (" 0701234567 ", "+46701234567"),
        ("+358 40 1234567", "+358401234567"),  # Finnish mobile
    ],
)
def test_numbers_are_normalised_to_e164(raw, e164):
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", None, "abc", "12", "070-12"])
def test_things_that_are_not_phone_numbers_give_none(raw):
    assert normalise_phone(raw) is None


def test_swedish_numbers_display_in_national_format_foreign_ones_internationally():
    assert display_phone("+46812345678") == "08-123 456 78"
    assert display_phone("+358401234567") == "+358 40 1234567"
    assert display_phone(None) == ""
