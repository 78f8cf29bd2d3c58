"""Rules of one register row (imports/rows.py, register-format.md): SWEREF 99 TM coordinates
are taken within N 6.0-7.8 and E 0.1-1.1 million metres, edges included; a tenant's e-mail needs
an @ and no space; placed points are stored as WGS84 rounded to 7 decimals."""

from __future__ import annotations

import pytest

from imports.rows import RowError, RowParser, place_sweref


@pytest.mark.parametrize("north, east", [("6000000", "500000"), ("7800000", "500000"),
                                         ("6500000", "100000"), ("6500000", "1100000")])
def test_sweref_coordinates_on_the_edge_of_the_range_are_taken(north, east):
    assert RowParser._sweref(north, east) == (float(north), float(east))


@pytest.mark.parametrize("north, east", [("5999999", "500000"), ("7800001", "500000"),
                                         ("6500000", "99999"), ("6500000", "1100001")])
def test_sweref_coordinates_beyond_the_range_are_a_bad_row(north, east):
    with pytest.raises(RowError) as bad:
        RowParser._sweref(north, east)

    assert bad.value.column == "sweref_n"


@pytest.mark.parametrize("email", ["anna.lindqvist.example.se", "anna lindqvist@example.se"])
def test_an_email_without_an_at_sign_or_with_a_space_is_a_bad_row(email):
    with pytest.raises(RowError) as bad:
        RowParser._tenant("hyresgast", "Anna Lindqvist", "", email)

    assert bad.value.column == "hyresgast_epost"


def test_an_email_is_kept_in_lower_case():
    tenant = RowParser._tenant("hyresgast", "Anna Lindqvist", "", "Anna.Lindqvist@Example.se")

    assert tenant.email == "anna.lindqvist@example.se"


def test_placed_sweref_points_are_stored_rounded_to_seven_decimals():
    points = place_sweref([(6580822.123, 674032.456), (6398983.311, 320050.177),
                           (7094613.731, 762133.913), (6640112.519, 524170.007)])

    values = [v for point in points for v in point]
    assert all(v == round(v, 7) for v in values)  # no more than 7 decimals
    assert any(v != round(v, 6) for v in values)  # and not fewer
