"""The object view: neighbours from the lägenhetsnummer, tenants, premise history; figures."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatch.jobs.dispatching import NewComplaint, assign, create_complaint
from dispatch.jobs.figures import call_to_dispatch
from dispatch.models import Patrol, RentalObject, utcnow
from dispatch.register.premises import neighbour_numbers, neighbours


@pytest.mark.parametrize(("lgh", "expected"), [
    ("1102", {"above": "1202", "below": "1002"}),
    ("1001", {"above": "1101", "below": "0901"}),
    ("0101", {"above": "0201"}),
])
def test_directly_above_is_plus_100_and_below_minus_100(lgh, expected):
    assert neighbour_numbers(lgh) == expected


@pytest.fixture
def house(create_landlord, build_register, db_session):
    landlord = create_landlord(code="ACME")
    rows = []
    for floor in ("10", "11", "12"):
        for position in ("01", "02", "03"):
            lgh = floor + position
            rows.append({"objektsnummer": f"G12-{lgh}", "gatuadress": "Götgatan 12",
                         "postnummer": "11846", "ort": "Stockholm", "lagenhetsnummer": lgh,
                         "lat": "59.3121", "lon": "18.0713", "avtalsnummer": f"A{lgh}",
                         "hyresgast_namn": f"Hyresgäst {lgh}"})
    rows.append({"objektsnummer": "G14-1102", "gatuadress": "Götgatan 14", "postnummer": "11846",
                 "ort": "Stockholm", "lagenhetsnummer": "1102"})
    build_register(landlord, rows)
    return {o.lagenhetsnummer + o.objektsnummer[:3]: o for o in db_session.scalars(
        select(RentalObject))}


def test_neighbours_are_above_below_and_same_floor_of_the_same_entrance(db_session, house):
    found = neighbours(db_session, house["1102G12"])
    assert [(n.relation, n.lagenhetsnummer) for n in found] == [
        ("above", "1202"), ("below", "1002"), ("same_floor", "1101"), ("same_floor", "1103")]
    assert found[0].tenants == ["Hyresgäst 1202"]


def test_object_view_shows_tenants_door_code_neighbours_and_history(
    client, create_token, db_session, house
):
    from dispatch.register.landlords import get_landlord

    token, user = create_token(role="operator")
    landlord = get_landlord(db_session, "ACME")
    create_complaint(db_session, NewComplaint(landlord=landlord, category="music",
                                              object_id=house["1102G12"].id,
                                              suspected_object_id=house["1202G12"].id),
                     user_id=user.id)
    create_complaint(db_session, NewComplaint(landlord=landlord, category="party",
                                              object_id=house["1202G12"].id), user_id=user.id)
    view = client.get(f"/api/v1/objects/{house['1202G12'].id}",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert view["full_address"] == "Götgatan 12, 118 46 Stockholm"
    assert (view["lagenhetsnummer"], view["floor"]) == ("1202", 2)
    assert view["tenants"] == [{"name": "Hyresgäst 1202", "phone": None, "phone_display": None}]
    assert {n["relation"] for n in view["neighbours"]} == {"below", "same_floor"}
    assert [(h["category"], h["role"]) for h in view["history"]] == [
        ("party", "complainant"), ("music", "suspected_source")]


def test_entrance_lists_its_flats_for_choosing(client, create_token, db_session, house):
    token, _ = create_token(role="operator")
    entrance_id = house["1102G12"].entrance_id
    view = client.get(f"/api/v1/entrances/{entrance_id}",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [o["lagenhetsnummer"] for o in view["objects"]][:3] == ["1001", "1002", "1003"]


def test_unknown_object_is_a_json_404(client, create_token):
    token, _ = create_token(role="operator")
    response = client.get("/api/v1/objects/999999", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_call_to_dispatch_figures_count_the_share_within_60_seconds(db_session, house):
    from dispatch.register.landlords import get_landlord

    landlord = get_landlord(db_session, "ACME")
    patrol = Patrol(call_sign="P", name="P", status="available", lat=59.31, lon=18.07,
                    position_at=utcnow())
    db_session.add(patrol)
    tz = ZoneInfo("Europe/Stockholm")
    night = date(2026, 3, 28)  # the night daylight saving starts
    import time_machine

    for minutes_after, wait_s in ((60 * 10, 30), (60 * 13, 90)):  # 22:00 and 01:00
        called = datetime(2026, 3, 28, 12, tzinfo=tz) + timedelta(minutes=minutes_after)
        with time_machine.travel(called, tick=False):
            job = create_complaint(db_session, NewComplaint(
                landlord=landlord, category="music", object_id=house["1102G12"].id,
                call_received_at=called), user_id=None)
        with time_machine.travel(called + timedelta(seconds=wait_s), tick=False):
            assign(db_session, job, patrol, user_id=None)
        patrol.status = "available"
    figures = call_to_dispatch(db_session, night, "Europe/Stockholm")
    assert [j["seconds"] for j in figures["jobs"]] == [30.0, 90.0]
    assert (figures["within_60s"], figures["share_within_60s"]) == (1, 0.5)
    assert call_to_dispatch(db_session, night + timedelta(days=1),
                            "Europe/Stockholm")["jobs"] == []


def test_the_figures_page_shows_the_nights_share_within_60_seconds(
    auth, client, create_user, db_session, house
):
    from dispatch.register.landlords import get_landlord

    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    patrol = Patrol(call_sign="P", name="P", status="available", lat=59.31, lon=18.07,
                    position_at=utcnow())
    db_session.add(patrol)
    job = create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music",
        object_id=house["1102G12"].id), user_id=None)
    assign(db_session, job, patrol, user_id=None)
    db_session.commit()
    night = (datetime.now(ZoneInfo("Europe/Stockholm")) - timedelta(hours=12)).date()
    page = client.get(f"/console/figures?night={night.isoformat()}").get_data(as_text=True)
    assert "Samtal till utlarmning, natten" in page
    assert 'id="dispatched">1<' in page and "1 (100,0 %)" in page  # Swedish decimal comma
    assert client.get("/console/figures?night=not-a-date").status_code == 404
