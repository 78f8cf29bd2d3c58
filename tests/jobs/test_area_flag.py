"""A complaint whose address is outside every car's area is flagged (issue 13): the job's
JSON says ``outside_areas`` (true outside, false inside any area, null when no car has an
area or the address has no position), computed with shapely ``contains`` on a prepared union
cached per process and rebuilt when an area changes, here or in another process."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from dispatch.jobs import areas
from dispatch.jobs.areas import outside_every_area, set_area
from dispatch.jobs.dispatching import NewComplaint, create_complaint
from dispatch.jobs.shapes import job_json
from dispatch.models import Patrol, RentalObject, utcnow
from dispatch.register.landlords import get_landlord

GOTGATAN = (59.3121, 18.0713)  # lat, lon
SODER = [[18.065, 59.308], [18.085, 59.308], [18.085, 59.318], [18.065, 59.318], [18.065, 59.308]]
KUNGSHOLMEN = [[18.00, 59.325], [18.04, 59.325], [18.04, 59.34], [18.00, 59.34], [18.00, 59.325]]


def area(ring) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture(autouse=True)
def _no_cached_areas():
    areas.forget()
    yield
    areas.forget()


@pytest.fixture
def cars(db_session):
    made = []
    for sign in ("Jour 11", "Jour 12"):
        patrol = Patrol(call_sign=sign, name=sign)
        db_session.add(patrol)
        made.append(patrol)
    db_session.flush()
    return made


@pytest.fixture
def job(create_landlord, build_register, db_session):
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        {"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B", "postnummer": "118 46",
         "ort": "Stockholm", "lagenhetsnummer": "1102",
         "lat": str(GOTGATAN[0]), "lon": str(GOTGATAN[1])}])
    flat = db_session.query(RentalObject).filter_by(objektsnummer="1-1102").one()
    return create_complaint(db_session, NewComplaint(
        landlord=get_landlord(db_session, "ACME"), category="music", object_id=flat.id),
        user_id=None)


def test_no_flag_while_no_car_has_an_area(db_session, cars, job):
    assert job_json(job)["outside_areas"] is None


def test_an_address_inside_one_cars_area_is_not_flagged(db_session, cars, job):
    set_area(db_session, cars[0], area(KUNGSHOLMEN))
    set_area(db_session, cars[1], area(SODER))
    assert job_json(job)["outside_areas"] is False


def test_an_address_outside_every_area_is_flagged(db_session, cars, job):
    set_area(db_session, cars[0], area(KUNGSHOLMEN))
    assert job_json(job)["outside_areas"] is True


def test_an_address_without_a_position_is_not_flagged(db_session, cars):
    set_area(db_session, cars[0], area(SODER))
    assert outside_every_area(db_session, None, None) is None


def test_the_flag_follows_an_area_changed_in_this_process_at_once(db_session, cars, job):
    set_area(db_session, cars[0], area(KUNGSHOLMEN))
    assert job_json(job)["outside_areas"] is True
    set_area(db_session, cars[0], area(SODER))
    assert job_json(job)["outside_areas"] is False
    set_area(db_session, cars[0], None)
    assert job_json(job)["outside_areas"] is None


def test_the_prepared_areas_are_built_once_and_reused(db_session, cars, monkeypatch):
    set_area(db_session, cars[0], area(SODER))
    builds = []
    build = areas._build
    monkeypatch.setattr(areas, "_build", lambda *a: builds.append(1) or build(*a))
    monkeypatch.setattr(areas, "RECHECK_S", 0.0)  # ask the database every time
    for _ in range(5):
        assert outside_every_area(db_session, *GOTGATAN) is False
    assert len(builds) == 1


def test_an_area_changed_by_another_process_is_seen_at_the_next_check(
        db_session, cars, monkeypatch):
    set_area(db_session, cars[0], area(SODER))
    assert outside_every_area(db_session, *GOTGATAN) is False
    # Another web process moves the area: this one's copy is not told, only the database.
    moved = json.dumps({"type": "Polygon", "coordinates": [KUNGSHOLMEN]})
    db_session.execute(update(Patrol).where(Patrol.id == cars[0].id)
                       .values(area_geojson=moved, area_changed_at=utcnow()))
    assert outside_every_area(db_session, *GOTGATAN) is False  # within RECHECK_S: the copy
    monkeypatch.setattr(areas, "RECHECK_S", 0.0)
    assert outside_every_area(db_session, *GOTGATAN) is True


def test_the_board_carries_the_flag(client, create_token, db_session, cars, job):
    set_area(db_session, cars[0], area(KUNGSHOLMEN))
    token, _ = create_token(role="operator")
    board = client.get("/api/v1/board", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [j["outside_areas"] for j in board["jobs"]] == [True]


def test_the_console_page_hands_the_map_every_cars_area(client, auth, create_user, db_session,
                                                        cars):
    set_area(db_session, cars[1], area(SODER))
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    page = client.get("/console/").get_data(as_text=True)
    config = json.loads(page.split('id="console-config"', 1)[1].split(">", 1)[1]
                        .split("</script>", 1)[0])
    features = config["areas"]["features"]
    assert [f["properties"]["call_sign"] for f in features] == ["Jour 12"]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert config["text"]["outside_areas"] == "Utanför alla bevakningsområden"
