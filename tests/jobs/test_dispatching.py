"""Recommendation, assignment, reassignment and the queue (dispatch/jobs/dispatching.py)."""

from datetime import timedelta

import pytest

from dispatch.jobs.dispatching import (
    DispatchError,
    NewComplaint,
    PatrolPositions,
    assign,
    create_complaint,
    dispatch_nearest,
    release_patrol,
)
from dispatch.models import Patrol, RentalObject, utcnow

GOTGATAN = (59.3121, 18.0713)
FRESH = timedelta(minutes=5)


def _patrol(db_session, call_sign, lat, lon, *, status="available", age_s=10):
    patrol = Patrol(call_sign=call_sign, name=call_sign, status=status, lat=lat, lon=lon,
                    position_at=utcnow() - timedelta(seconds=age_s))
    db_session.add(patrol)
    db_session.flush()
    return patrol


@pytest.fixture
def flat(create_landlord, build_register, db_session):
    landlord = create_landlord(code="ACME")
    build_register(landlord, [
        {"objektsnummer": "1-1102", "gatuadress": "Götgatan 12B", "postnummer": "118 46",
         "ort": "Stockholm", "lagenhetsnummer": "1102", "portkod": "1234",
         "lat": str(GOTGATAN[0]), "lon": str(GOTGATAN[1])},
        {"objektsnummer": "1-1202", "gatuadress": "Götgatan 12B", "postnummer": "118 46",
         "ort": "Stockholm", "lagenhetsnummer": "1202"},
    ])
    return db_session.query(RentalObject).filter_by(objektsnummer="1-1102").one()


def _complaint(db_session, flat, **kw):
    from dispatch.register.landlords import get_landlord

    data = NewComplaint(landlord=get_landlord(db_session, "ACME"), category="music",
                        object_id=flat.id, **kw)
    return create_complaint(db_session, data, user_id=None)


def test_nearest_patrols_come_first_with_distance_and_eta(db_session):
    near = _patrol(db_session, "near", 59.3140, 18.0720)  # ~200 m
    far = _patrol(db_session, "far", 59.3420, 18.0480)  # ~3.6 km
    result = PatrolPositions.available(db_session, max_age=FRESH).nearest(*GOTGATAN, limit=5)
    assert [c.patrol_id for c in result] == [near.id, far.id]
    assert 150 < result[0].distance_m < 300 and 3000 < result[1].distance_m < 4200
    assert result[0].eta_min < result[1].eta_min


def test_patrols_with_stale_positions_or_busy_or_off_duty_are_not_recommended(db_session):
    _patrol(db_session, "stale", 59.3121, 18.0713, age_s=600)
    _patrol(db_session, "busy", 59.3121, 18.0713, status="busy")
    _patrol(db_session, "home", 59.3121, 18.0713, status="off_duty")
    ok = _patrol(db_session, "ok", 59.33, 18.06)
    result = PatrolPositions.available(db_session, max_age=FRESH).nearest(*GOTGATAN)
    assert [c.patrol_id for c in result] == [ok.id]


def test_equal_distances_are_ordered_by_patrol_id(db_session):
    first = _patrol(db_session, "a", 59.32, 18.07)
    second = _patrol(db_session, "b", 59.32, 18.07)
    result = PatrolPositions.available(db_session, max_age=FRESH).nearest(*GOTGATAN)
    assert [c.patrol_id for c in result] == [first.id, second.id]


def test_a_complaint_copies_the_address_and_opens_a_queued_job(db_session, flat):
    job = _complaint(db_session, flat, description="Hög musik", caller_phone="070-174 06 05")
    c = job.complaint
    assert job.status == "queued"
    assert (c.address, c.lagenhetsnummer) == ("Götgatan 12B, 118 46 Stockholm", "1102")
    assert c.caller_phone == "+46701740605"
    assert [e.kind for e in job.events] == ["created"]


def test_a_complaint_needs_a_known_category_and_an_address_of_that_landlord(db_session, flat):
    with pytest.raises(DispatchError, match="priority"):
        _complaint(db_session, flat, priority=7)
    with pytest.raises(DispatchError, match="phone"):
        _complaint(db_session, flat, caller_phone="not a number")
    from dispatch.register.landlords import get_landlord, upsert_landlord

    other = upsert_landlord(db_session, code="OTHER", name="Other")
    with pytest.raises(DispatchError, match="no such object"):
        create_complaint(db_session, NewComplaint(landlord=other, category="music",
                                                  object_id=flat.id), user_id=None)
    with pytest.raises(DispatchError, match="category"):
        create_complaint(db_session, NewComplaint(landlord=get_landlord(db_session, "ACME"),
                                                  category="noise", object_id=flat.id),
                         user_id=None)


def test_dispatch_to_nearest_assigns_and_makes_the_patrol_busy(db_session, flat):
    near = _patrol(db_session, "near", 59.3140, 18.0720)
    _patrol(db_session, "far", 59.3420, 18.0480)
    job, best = dispatch_nearest(db_session, _complaint(db_session, flat), user_id=None,
                                 max_age=FRESH)
    assert (job.patrol_id, job.status, best.patrol_id) == (near.id, "assigned", near.id)
    assert near.status == "busy" and job.dispatched_at is not None
    assert [e.kind for e in job.events] == ["created", "assigned"]


def test_with_no_patrol_available_the_job_waits_and_goes_to_the_next_free_patrol(
    db_session, flat
):
    busy = _patrol(db_session, "busy", 59.3140, 18.0720, status="busy")
    first = _complaint(db_session, flat)
    urgent = _complaint(db_session, flat, priority=1)
    job, best = dispatch_nearest(db_session, first, user_id=None, max_age=FRESH)
    assert best is None and job.status == "queued"
    taken = release_patrol(db_session, busy)
    assert taken is urgent  # the most urgent first, then the oldest
    assert urgent.status == "assigned" and urgent.patrol_id == busy.id


def test_reassigning_moves_the_job_and_frees_the_first_patrol(db_session, flat):
    a = _patrol(db_session, "a", 59.3140, 18.0720)
    b = _patrol(db_session, "b", 59.3420, 18.0480)
    job = _complaint(db_session, flat)
    assign(db_session, job, a, user_id=None)
    assign(db_session, job, b, user_id=None)
    assert job.patrol_id == b.id and (a.status, b.status) == ("available", "busy")
    assert [e.kind for e in job.events] == ["created", "assigned", "reassigned", "assigned"]


def test_a_finished_job_cannot_be_dispatched(db_session, flat):
    a = _patrol(db_session, "a", 59.3140, 18.0720)
    job = _complaint(db_session, flat)
    job.status = "done"
    with pytest.raises(DispatchError, match="done"):
        assign(db_session, job, a, user_id=None)


# -- presence: only cars whose tablet is there ------------------------------------------------

def _seen(db_session, patrol, seconds_ago, position_age_s=None):
    """The car's tablet was last seen ``seconds_ago`` (None: never connected), its last
    position ``position_age_s`` old (default: as old as the last sight, or two minutes)."""
    now = utcnow()
    patrol.last_seen_at = None if seconds_ago is None else now - timedelta(seconds=seconds_ago)
    age = position_age_s if position_age_s is not None else (
        seconds_ago if seconds_ago is not None else 120)
    patrol.position_at = now - timedelta(seconds=age)
    db_session.flush()
    return patrol


def test_a_car_is_recommended_only_while_its_tablet_is_there_or_was_within_the_grace(
        db_session):
    grace = timedelta(seconds=60)
    connected = _seen(db_session, _patrol(db_session, "connected", 59.3122, 18.0713), 5,
                      position_age_s=200)  # stamped by its web process; position quiet
    in_tunnel = _seen(db_session, _patrol(db_session, "tunnel", 59.3123, 18.0713), 45)
    reporting = _seen(db_session, _patrol(db_session, "reporting", 59.3124, 18.0713), None,
                      position_age_s=20)  # a position report is a sign of life too
    _seen(db_session, _patrol(db_session, "gone", 59.3121, 18.0713), 90)  # past the grace
    _seen(db_session, _patrol(db_session, "never", 59.3121, 18.0713), None)  # positions only
    result = PatrolPositions.available(db_session, max_age=FRESH, seen_within=grace).nearest(
        *GOTGATAN, limit=10)
    assert [c.patrol_id for c in result] == [connected.id, in_tunnel.id, reporting.id]
    longer = PatrolPositions.available(db_session, max_age=FRESH,
                                       seen_within=timedelta(seconds=100))
    assert len(longer.ids) == 4  # the grace is a setting (PRESENCE_GRACE_S)


def test_dispatch_to_nearest_skips_a_nearer_car_whose_tablet_is_gone(db_session, flat):
    gone = _seen(db_session, _patrol(db_session, "gone", *GOTGATAN), 120, position_age_s=100)
    there = _seen(db_session, _patrol(db_session, "there", 59.33, 18.06), 3, position_age_s=60)
    job = _complaint(db_session, flat)
    _, best = dispatch_nearest(db_session, job, user_id=None, max_age=FRESH,
                               seen_within=timedelta(seconds=60))
    assert best.patrol_id == there.id and job.patrol_id == there.id
    assert gone.status == "available"  # not off duty: it is back in the list when it returns


def test_marking_cars_seen_stamps_only_them_and_leaves_updated_at(db_session):
    from dispatch.jobs.patrols import is_present, mark_seen

    a, b = _patrol(db_session, "a", 59.3, 18.0), _patrol(db_session, "b", 59.3, 18.0)
    _seen(db_session, a, None, position_age_s=200)
    _seen(db_session, b, None, position_age_s=200)
    before = a.updated_at
    assert not is_present(a)
    assert mark_seen(db_session, [a.id, a.id]) == 1 and mark_seen(db_session, []) == 0
    db_session.expire_all()
    assert is_present(a) and not is_present(b)
    assert a.updated_at == before and b.last_seen_at is None


def test_ending_a_shift_takes_the_car_off_duty_even_with_a_job_and_tells_the_consoles(
        db_session, flat):
    from dispatch.core.realtime import _PENDING
    from dispatch.jobs.dispatching import end_shift

    car = _patrol(db_session, "car", 59.3122, 18.0713)
    job = _complaint(db_session, flat)
    assign(db_session, job, car, user_id=None)
    db_session.info.pop(_PENDING, None)
    end_shift(db_session, car)
    assert car.status == "off_duty" and job.patrol_id == car.id and job.status == "assigned"
    events = [(e.name, e.data["status"]) for e in db_session.info.pop(_PENDING)]
    assert events == [("patrol.updated", "off_duty")]
    end_shift(db_session, car)  # again: nothing more to say
    assert _PENDING not in db_session.info


# -- the nearest-car read: a box around the address, the same answer as reading every car ------

def test_every_point_outside_the_box_is_farther_than_its_radius_even_near_poles_and_180():
    import random

    import numpy as np

    from dispatch.core.geo import haversine_m
    from dispatch.jobs.dispatching import box_around

    rng = random.Random(12)
    centres = [(59.31, 18.07), (89.9, 10.0), (-89.5, -40.0), (65.0, 179.99), (0.0, -179.9),
               (69.0, 20.0)] + [(rng.uniform(-89, 89), rng.uniform(-180, 180)) for _ in range(40)]
    for lat, lon in centres:
        for radius in (5.0, 800.0, 30_000.0, 900_000.0, 8_000_000.0):
            box = box_around(lat, lon, radius)
            lats = np.array([lat + rng.uniform(-1, 1) * min(90, radius / 50_000 + 0.01)
                             for _ in range(400)]).clip(-90, 90)
            lons = np.array([(lon + rng.uniform(-1, 1) * min(180, radius / 20_000 + 0.01)
                              + 180) % 360 - 180 for _ in range(400)])
            near = haversine_m(lat, lon, lats, lons) <= radius
            if box is None:
                continue
            inside = (lats >= box.lat[0]) & (lats <= box.lat[1])
            if box.lon is not None:
                inside &= (lons >= box.lon[0]) & (lons <= box.lon[1])
            assert not (near & ~inside).any(), (lat, lon, radius)


def test_the_box_read_recommends_exactly_what_reading_every_car_recommends(db_session):
    import random

    from dispatch.jobs.dispatching import nearest_available

    rng = random.Random(7)
    for n in range(150):  # a city's fleet, some busy, off duty or stale; a few cars far away
        lat, lon = 59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3
        _patrol(db_session, f"c{n}", lat, lon, status=rng.choice(["available"] * 4 + ["busy"]),
                age_s=rng.choice([10, 10, 10, 900]))
    for n, (lat, lon) in enumerate([(57.7, 11.97), (67.85, 20.22), (60.17, 24.94)]):
        _patrol(db_session, f"far{n}", lat, lon)
    _patrol(db_session, "twin-a", 59.30, 18.00)
    _patrol(db_session, "twin-b", 59.30, 18.00)  # the same spot: the lower id first
    every = PatrolPositions.available(db_session, max_age=FRESH)
    points = [(59.30, 18.00), (59.0, 17.5), (55.6, 13.0), (68.0, 21.0), (-33.9, 151.2)] + [
        (59.25 + rng.random() * 0.15, 17.9 + rng.random() * 0.3) for _ in range(60)]
    for lat, lon in points:
        for limit in (1, 3):
            assert nearest_available(db_session, lat, lon, limit=limit, max_age=FRESH) == \
                every.nearest(lat, lon, limit=limit), (lat, lon, limit)


def test_a_dispatch_reads_the_cars_around_the_address_not_the_whole_fleet(
        db_session, flat, monkeypatch):
    import random

    from dispatch.jobs import dispatching

    rng = random.Random(3)
    for n in range(300):  # spread over a region 100 km across
        _patrol(db_session, f"c{n}", 59.0 + rng.random(), 17.5 + rng.random() * 1.5)
    near = _patrol(db_session, "near", 59.3140, 18.0720)
    read = []
    original = dispatching.PatrolPositions.__init__

    def counting(self, patrols):
        read.append(len(patrols))
        original(self, patrols)

    monkeypatch.setattr(dispatching.PatrolPositions, "__init__", counting)
    job, best = dispatch_nearest(db_session, _complaint(db_session, flat), user_id=None,
                                 max_age=FRESH)
    assert best.patrol_id == near.id and job.patrol_id == near.id
    assert sum(read) < 30


def test_the_only_available_car_is_dispatched_however_far_away_it_is(db_session, flat):
    kiruna = _patrol(db_session, "kiruna", 67.85, 20.22)  # 960 km from the address
    job, best = dispatch_nearest(db_session, _complaint(db_session, flat), user_id=None,
                                 max_age=FRESH)
    assert best.patrol_id == kiruna.id and 900_000 < best.distance_m < 1_000_000
