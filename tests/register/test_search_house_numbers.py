"""A house number typed so far (dispatch/register/search.py): the numbers that begin with it
come right after the number itself, in order, before the nearest other numbers; a hit says
when the asked number is not on its street. On indexes built in memory, and once through the
API on a register the importer built."""

from __future__ import annotations

import pytest

from dispatch.register.search import RegisterIndex, _Entrance, parse_query, search_index


def street_of(name: str, *numbers: str, ort: str = "Stockholm") -> list[_Entrance]:
    """``street_of("Hornsgatan", "2", "24A")``: one entrance per house number."""
    built = []
    for spec in numbers:
        digits, letter = spec.rstrip("ABCDEFGH"), spec[len(spec.rstrip("ABCDEFGH")):]
        built.append((name, int(digits), letter, ort))
    return built


def index_of(*streets: list) -> RegisterIndex:
    entrances = []
    for i, (street, number, letter, ort) in enumerate(
            (e for s in streets for e in s), start=1):
        entrances.append(_Entrance(i, "T", street, number, letter, "11820", ort, ort.lower(),
                                   59.3, 18.0, {"1001": (100 + i, f"T-{i}", 1)}))
    return RegisterIndex("T", 1, entrances)


def hits(index: RegisterIndex, raw: str, limit: int = 10):
    return search_index(index, parse_query(raw), limit=limit)


def addresses(index: RegisterIndex, raw: str, limit: int = 10) -> list[str]:
    return [hit.address for hit in hits(index, raw, limit)]


HORNSGATAN = street_of("Hornsgatan", "26", "3", "24B", "1", "2", "210", "24A", "12", "32")


def test_the_numbers_that_begin_with_the_typed_number_come_right_after_it_in_order():
    index = index_of(HORNSGATAN)

    assert addresses(index, "Hornsgatan 2") == [
        "Hornsgatan 2", "Hornsgatan 24A", "Hornsgatan 24B", "Hornsgatan 26", "Hornsgatan 210",
        # then the nearest others, as before: 1 and 3 are one away, 12 and 32 far
        "Hornsgatan 1", "Hornsgatan 3", "Hornsgatan 12", "Hornsgatan 32"]


def test_numbers_beginning_with_the_typed_ones_lead_when_the_number_itself_is_not_there():
    index = index_of(street_of("Hornsgatan", "1", "3", "26", "24A"))

    assert addresses(index, "Hornsgatan 2") == [
        "Hornsgatan 24A", "Hornsgatan 26", "Hornsgatan 1", "Hornsgatan 3"]


def test_a_longer_typed_number_narrows_the_numbers_that_lead():
    index = index_of(HORNSGATAN)

    assert addresses(index, "Hornsgatan 24", limit=3) == [
        "Hornsgatan 24A", "Hornsgatan 24B", "Hornsgatan 26"]
    assert addresses(index, "Hornsgatan 21", limit=1) == ["Hornsgatan 210"]


def test_a_typed_letter_ends_the_number_so_nothing_is_taken_as_its_beginning():
    index = index_of(street_of("Hornsgatan", "24B", "2B", "3B"))

    assert addresses(index, "Hornsgatan 2B") == ["Hornsgatan 2B", "Hornsgatan 3B",
                                                 "Hornsgatan 24B"]


def test_a_number_beginning_with_the_typed_one_ranks_below_the_number_itself_on_a_near_street():
    # The exact number outweighs a number only begun, even on a street one slip away.
    index = index_of(street_of("Hornsgatan", "24"), street_of("Hornsgaten", "2"))

    assert addresses(index, "Hornsgatan 2") == ["Hornsgaten 2", "Hornsgatan 24"]


def test_a_begun_number_scores_between_the_number_itself_and_the_nearest_other():
    index = index_of(street_of("Hornsgatan", "2", "20", "29", "200", "3"))

    scores = {hit.address: hit.score * 150 for hit in hits(index, "Hornsgatan 2")}

    # 100 for the name; +20 for the number; +10 down to just above +5 for one that begins
    # with it (2 less per further digit); -3 for one away.
    assert scores["Hornsgatan 2"] == pytest.approx(120)
    assert scores["Hornsgatan 20"] == pytest.approx(110)
    assert 109 < scores["Hornsgatan 29"] < 110
    assert scores["Hornsgatan 200"] == pytest.approx(108)
    assert scores["Hornsgatan 3"] == pytest.approx(97)


# -- a number the street does not have ------------------------------------------------------


def test_a_hit_on_a_street_without_the_asked_number_names_the_missing_number():
    index = index_of(street_of("Hornsgatan", "1", "3", "24A"))

    found = hits(index, "Hornsgatan 99")

    assert {hit.missing_number for hit in found} == {"99"}
    assert {hit.street for hit in found} == {"Hornsgatan"}


def test_a_hit_on_a_street_with_the_asked_number_names_no_missing_number():
    index = index_of(HORNSGATAN)

    assert {hit.missing_number for hit in hits(index, "Hornsgatan 2")} == {None}
    assert {hit.missing_number for hit in hits(index, "Hornsgatan 24B")} == {None}


def test_a_number_only_begun_on_the_street_is_still_missing():
    # "Hornsgatan 2" with 24A there but no 2: the console says 2 is not on Hornsgatan.
    index = index_of(street_of("Hornsgatan", "24A"))

    [hit] = hits(index, "Hornsgatan 2")

    assert (hit.address, hit.missing_number) == ("Hornsgatan 24A", "2")


def test_the_asked_letter_is_part_of_the_missing_number():
    index = index_of(street_of("Hornsgatan", "2A"))

    [hit] = hits(index, "Hornsgatan 2C")

    assert hit.missing_number == "2C"


def test_each_street_is_judged_on_its_own_numbers():
    index = index_of(street_of("Hornsgatan", "5"), street_of("Hornsgaten", "7"))

    missing = {hit.address: hit.missing_number for hit in hits(index, "Hornsgatan 7")}

    assert missing == {"Hornsgaten 7": None, "Hornsgatan 5": "7"}


def test_without_a_number_asked_nothing_is_missing():
    index = index_of(HORNSGATAN)

    assert {hit.missing_number for hit in hits(index, "Hornsgatan")} == {None}


def test_the_api_hit_carries_the_street_and_the_missing_number(client, auth, create_user,
                                                              create_landlord, build_register):
    landlord = create_landlord(code="HORN")
    build_register(landlord, [
        {"objektsnummer": f"H-{n}", "gatuadress": f"Hornsgatan {n}", "postnummer": "118 20",
         "ort": "Stockholm", "lagenhetsnummer": "1001", "lat": "59.3", "lon": "18.0"}
        for n in ("24A", "26")])
    user = create_user(role="operator", email="op@example.se")
    auth.login(user.email)

    answer = client.get("/api/v1/addresses/search?q=Hornsgatan+2&landlord=HORN&limit=8")

    assert answer.status_code == 200
    assert [(h["address"], h["street"], h["missing_number"]) for h in answer.get_json()] == [
        ("Hornsgatan 24A", "Hornsgatan", "2"), ("Hornsgatan 26", "Hornsgatan", "2")]
