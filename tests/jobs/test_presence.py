"""Presence in a table of its own (issue 12): tablets' stamps and position reports write the
car's ``patrol_presence`` row (upserted), never its row in ``patrols``, so they never hold a
lock that a dispatch waits for, nor wait for one a dispatch holds."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dispatch.jobs.dispatching import update_position
from dispatch.jobs.patrols import is_present, mark_seen
from dispatch.models import Patrol, PatrolPosition, PatrolPresence, utcnow
from dispatch.models.base import Base
from tests.conftest import _fresh_database_url

GOTGATAN = (59.3121, 18.0713)


def _car(session, call_sign, **presence) -> Patrol:
    car = Patrol(call_sign=call_sign, name=call_sign, status="available", **presence)
    session.add(car)
    session.flush()
    return car


def _presence_rows(session, car) -> list[PatrolPresence]:
    return list(session.scalars(sa.select(PatrolPresence).where(
        PatrolPresence.patrol_id == car.id).execution_options(populate_existing=True)))


def test_a_stamp_and_a_position_report_write_the_presence_row_and_leave_the_car_row(
        db_session):
    car = _car(db_session, "Jour 11")
    before = car.updated_at
    assert mark_seen(db_session, [car.id]) == 1
    update_position(db_session, car, lat=GOTGATAN[0], lon=GOTGATAN[1], accuracy_m=8)
    db_session.expire_all()
    [row] = _presence_rows(db_session, car)  # one row per car, made by the first write
    assert (row.lat, row.lon, row.accuracy_m) == (GOTGATAN[0], GOTGATAN[1], 8)
    assert row.last_seen_at is not None and row.position_at is not None
    assert car.updated_at == before  # presence is not a change of the car's own row
    assert (car.lat, car.lon) == GOTGATAN and is_present(car)  # read through the car
    assert db_session.scalar(sa.select(sa.func.count(PatrolPosition.id)).where(
        PatrolPosition.patrol_id == car.id)) == 1  # the report is kept as before


def test_a_report_older_than_the_stored_position_changes_nothing_even_from_a_stale_read(
        db_session):
    now = utcnow()
    car = _car(db_session, "Jour 12", lat=59.30, lon=18.00, position_at=now - timedelta(minutes=5))
    # Another process wrote a newer position since this one read the car.
    db_session.execute(sa.update(PatrolPresence).where(PatrolPresence.patrol_id == car.id)
                       .values(lat=59.40, position_at=now))
    update_position(db_session, car, lat=59.35, lon=18.05, at=now - timedelta(minutes=1))
    db_session.expire_all()
    assert car.lat == 59.40 and car.position_at == now


def test_stamping_a_car_deleted_meanwhile_is_no_error_and_stamps_the_others(db_session):
    car = _car(db_session, "Jour 13")
    gone = _car(db_session, "Jour 14")
    gone_id = gone.id
    db_session.delete(gone)
    db_session.flush()
    assert mark_seen(db_session, [car.id, gone_id]) == 1
    assert db_session.get(PatrolPresence, gone_id) is None


def test_a_car_given_its_position_as_before_keeps_it_in_its_presence_row(db_session):
    car = _car(db_session, "Jour 15", lat=59.31, lon=18.07, position_at=utcnow())
    db_session.expire_all()
    [row] = _presence_rows(db_session, car)
    assert (row.lat, row.lon) == (59.31, 18.07)
    car.last_seen_at = utcnow()  # set on a stored car: the same row, not a second
    db_session.flush()
    assert len(_presence_rows(db_session, car)) == 1
    assert db_session.scalars(sa.select(Patrol).where(
        Patrol.position_at.is_not(None), Patrol.id == car.id)).one() is car


# -- two transactions at once (PostgreSQL: row locks) ------------------------------------------

@pytest.fixture
def own_database(tmp_path_factory):
    """An engine on a database of its own: two sessions at once need real commits."""
    url, drop = _fresh_database_url(tmp_path_factory, "presence")
    engine = sa.create_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop()


def _short_lock_wait(session: Session) -> None:
    session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))


@pytest.mark.postgres_only
def test_stamps_and_positions_do_not_wait_for_a_dispatch_holding_the_cars_row(own_database):
    assert os.environ.get("TEST_DATABASE_URL")
    with Session(own_database) as setup:
        placed = _car(setup, "A", lat=GOTGATAN[0], lon=GOTGATAN[1], position_at=utcnow())
        fresh = _car(setup, "B")  # no presence row yet: the stamp makes it
        setup.commit()
        ids = placed.id, fresh.id
    with Session(own_database) as dispatch, Session(own_database) as tablets:
        # A dispatch has taken both cars' rows (uncommitted, as in the middle of one).
        dispatch.execute(sa.update(Patrol).where(Patrol.id.in_(ids)).values(status="busy"))
        _short_lock_wait(tablets)
        assert mark_seen(tablets, ids) == 2
        update_position(tablets, tablets.get(Patrol, ids[0]), lat=59.32, lon=18.08)
        tablets.commit()
        dispatch.commit()
    with Session(own_database) as check:
        assert [check.get(Patrol, i).status for i in ids] == ["busy", "busy"]
        assert check.get(Patrol, ids[0]).lat == 59.32
        assert check.get(Patrol, ids[1]).last_seen_at is not None


@pytest.mark.postgres_only
def test_a_dispatch_does_not_wait_for_a_stamp_in_progress(own_database):
    assert os.environ.get("TEST_DATABASE_URL")
    with Session(own_database) as setup:
        car = _car(setup, "A", lat=GOTGATAN[0], lon=GOTGATAN[1], position_at=utcnow())
        setup.commit()
        car_id = car.id
    with Session(own_database) as tablets, Session(own_database) as dispatch:
        mark_seen(tablets, [car_id])  # the upkeep pass's stamp, not yet committed
        update_position(tablets, tablets.get(Patrol, car_id), lat=59.32, lon=18.08)
        _short_lock_wait(dispatch)
        dispatch.execute(sa.update(Patrol).where(Patrol.id == car_id).values(status="busy"))
        dispatch.commit()
        tablets.commit()


# -- the dispatch's claim of the car --------------------------------------------------------

def test_a_car_another_dispatch_took_since_the_read_is_passed_over_for_the_next_nearest(
        db_session, monkeypatch):
    from dispatch.jobs import dispatching

    now = utcnow()
    nearest = _car(db_session, "near", lat=GOTGATAN[0], lon=GOTGATAN[1], position_at=now)
    second = _car(db_session, "next", lat=59.3221, lon=18.0713, position_at=now)
    read = dispatching.nearest_available

    def read_then_lose_the_car(session, *args, **kwargs):
        found = read(session, *args, **kwargs)
        if found and found[0].patrol_id == nearest.id:  # another dispatch takes it now
            session.execute(sa.update(Patrol).where(Patrol.id == nearest.id)
                            .values(status="busy"))
        return found

    monkeypatch.setattr(dispatching, "nearest_available", read_then_lose_the_car)
    taken, best = dispatching.take_nearest(db_session, *GOTGATAN, max_age=timedelta(minutes=5))
    assert taken is second and best.patrol_id == second.id
    assert taken.status == "busy" and (taken.lat, taken.lon) == (59.3221, 18.0713)
    assert dispatching.claim(db_session, nearest.id) is None  # busy: not taken twice
