"""Register normalisation: street split, postnummer, address identity."""

import pytest

from dispatch.register.addresses import (
    address_key,
    fold,
    format_postnummer,
    normalise_postnummer,
    split_street,
)


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("Götgatan 12B", ("Götgatan", 12, "B")),
        ("Götgatan 12 b", ("Götgatan", 12, "B")),
        ("  Ringvägen   100 A ", ("Ringvägen", 100, "A")),
        ("Götgatan 12 lgh 1102", ("Götgatan", 12, "")),
        ("Sankt Eriksgatan 5", ("Sankt Eriksgatan", 5, "")),
        ("1:a Långgatan 4 C", ("1:a Långgatan", 4, "C")),
        ("Storgatan", ("Storgatan", None, "")),
    ],
)
def test_street_number_and_letter_are_split(raw, parts):
    assert split_street(raw) == parts


def test_same_address_written_two_ways_has_one_identity():
    a = address_key(*split_street("Götgatan 12 B")[:3], "11846")
    b = address_key(*split_street("GÖTGATAN 12b")[:3], "11846")
    assert a == b
    assert a != address_key("Götgatan", 12, "C", "11846")


def test_fold_drops_case_and_diacritics():
    assert fold("  Åsögatan  Ö ") == "asogatan o"


@pytest.mark.parametrize(
    ("raw", "norm"), [("118 46", "11846"), ("11846", "11846"), ("1184", None), ("118 4x", None)]
)
def test_postnummer_is_five_digits_with_an_optional_space(raw, norm):
    assert normalise_postnummer(raw) == norm


def test_postnummer_prints_with_a_space():
    assert format_postnummer("11846") == "118 46"
