"""The recommendation's age limits are inclusive: a position exactly ``max_age`` old still
counts, and a tablet seen exactly ``seen_within`` ago is still present
(``PatrolPositions.available`` in dispatch/jobs/dispatching.py)."""

from datetime import timedelta

from dispatch.jobs.dispatching import PatrolPositions
from dispatch.models import Patrol, utcnow

MAX_AGE = timedelta(minutes=5)
GRACE = timedelta(seconds=60)
TICK = timedelta(microseconds=1)


def _now():
    return utcnow().replace(microsecond=500_000)


def _patrol(db_session, call_sign, *, position_at, last_seen_at=None):
    patrol = Patrol(call_sign=call_sign, name=call_sign, status="available", lat=59.31,
                    lon=18.07, position_at=position_at, last_seen_at=last_seen_at)
    db_session.add(patrol)
    db_session.flush()
    return patrol


def _available(db_session, now):
    return PatrolPositions.available(db_session, max_age=MAX_AGE, seen_within=GRACE,
                                     now=now).ids


def test_a_position_exactly_max_age_old_still_counts(db_session):
    now = _now()
    patrol = _patrol(db_session, "edge", position_at=now - MAX_AGE, last_seen_at=now)

    assert _available(db_session, now) == [patrol.id]


def test_a_position_a_microsecond_older_than_max_age_does_not_count(db_session):
    now = _now()
    _patrol(db_session, "stale", position_at=now - MAX_AGE - TICK, last_seen_at=now)

    assert _available(db_session, now) == []


def test_a_tablet_seen_exactly_seen_within_ago_is_still_present(db_session):
    now = _now()
    seen = _patrol(db_session, "seen", position_at=now - MAX_AGE, last_seen_at=now - GRACE)
    _patrol(db_session, "gone", position_at=now - MAX_AGE, last_seen_at=now - GRACE - TICK)

    assert _available(db_session, now) == [seen.id]


def test_a_position_sent_exactly_seen_within_ago_makes_the_car_present(db_session):
    now = _now()
    placed = _patrol(db_session, "placed", position_at=now - GRACE)
    _patrol(db_session, "quiet", position_at=now - GRACE - TICK)

    assert _available(db_session, now) == [placed.id]
