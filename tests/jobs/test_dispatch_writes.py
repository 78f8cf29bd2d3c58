"""A dispatch's writes (issue 12, the cluster's speed): on PostgreSQL the job moved to the car,
its history's ``assigned`` and the tablet's ``job.assigned`` in the outbox go in one statement,
with the check-in interval read on the way; the rows, the payload and the published events are
those of the ORM's three statements, and the tablet's interval follows the settings' rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from dispatch.core.realtime import _PENDING
from dispatch.jobs.checkins import Defaults, interval_s, set_interval
from dispatch.jobs.dispatching import dispatch_nearest
from dispatch.models import Delivery, Job, JobEvent, Patrol, utcnow
from tests.jobs.test_dispatching import FRESH, GOTGATAN, _complaint, flat  # noqa: F401


def _car(db_session, call_sign="Jour 21"):
    car = Patrol(call_sign=call_sign, name=call_sign, status="available", lat=59.3140,
                 lon=18.0720, position_at=utcnow() - timedelta(seconds=10))
    db_session.add(car)
    db_session.flush()
    return car


class Statements:
    """The SQL statements the session's connection runs inside the block."""

    def __init__(self, db_session):
        self.engine, self.seen = db_session.get_bind(), []

    def _record(self, _conn, _cursor, statement, *_args):
        self.seen.append(" ".join(statement.split()))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def writing(self) -> list[str]:
        return [s for s in self.seen if s.split()[0] in ("UPDATE", "INSERT", "WITH")]


def _dispatch(db_session, flat, category="music"):  # noqa: F811
    job = _complaint(db_session, flat)
    job.complaint.category = category
    db_session.flush()
    db_session.info.pop(_PENDING, None)  # the complaint's own events: not the dispatch's
    job, best = dispatch_nearest(db_session, job, user_id=None, max_age=FRESH)
    return job, best


@pytest.mark.postgres_only
def test_on_postgres_a_dispatch_writes_job_history_and_outbox_in_one_statement(
        db_session, flat):  # noqa: F811
    car = _car(db_session)
    job = _complaint(db_session, flat)
    db_session.flush()
    db_session.info.pop(_PENDING, None)  # the complaint's own events: not the dispatch's
    with Statements(db_session) as statements:
        job, best = dispatch_nearest(db_session, job, user_id=None, max_age=FRESH)
    writes = statements.writing()
    # The claim of the car, then one statement for the rest; no read of the check-in settings.
    assert len(writes) == 2, writes
    assert writes[0].startswith("UPDATE patrols") and writes[1].startswith("WITH moved AS")
    assert not any("FROM checkin_settings" in s for s in statements.seen
                   if not s.startswith("WITH"))
    pending = db_session.info[_PENDING]
    db_session.commit()
    db_session.expire_all()
    job = db_session.get(Job, job.id)
    assert (job.status, job.patrol_id) == ("assigned", car.id)
    assert job.dispatched_at is not None and job.acknowledged_at is None
    assert [(e.kind, e.patrol_id, e.details) for e in job.events] == [
        ("created", None, None), ("assigned", car.id, {"distance_m": round(best.distance_m)})]
    [outbox] = db_session.scalars(select(Delivery).where(Delivery.job_id == job.id))
    assert (outbox.patrol_id, outbox.event, outbox.sent_count, outbox.acked_at) == (
        car.id, "job.assigned", 0, None)
    assert outbox.payload["check_in_s"] == 600 and outbox.payload["portkod"] == "1234"
    assert outbox.payload["assigned_at"] == job.dispatched_at.isoformat()
    # What was published is what was stored: the tablet, then the consoles.
    assert [(e.name, e.to) for e in pending] == [
        ("job.assigned", f"patrol:{car.id}"), ("job.updated", None), ("patrol.updated", None)]
    assert pending[0].data == {**outbox.payload, "delivery_id": outbox.id}
    assert pending[1].data["status"] == "assigned"
    assert [h["kind"] for h in pending[1].data["history"]] == ["created", "assigned"]
    assert pending[2].data["status"] == "busy"


def test_the_job_in_hand_after_a_dispatch_is_what_the_database_holds(db_session, flat):  # noqa: F811
    car = _car(db_session)
    job, _best = _dispatch(db_session, flat)
    in_hand = (job.status, job.patrol_id, job.dispatched_at, [e.kind for e in job.events])
    assert db_session.scalar(select(JobEvent.kind).where(
        JobEvent.job_id == job.id).order_by(JobEvent.id.desc()).limit(1)) == "assigned"
    db_session.commit()
    db_session.expire_all()
    job = db_session.get(Job, job.id)
    assert (job.status, job.patrol_id, job.dispatched_at, [e.kind for e in job.events]) == (
        in_hand) == ("assigned", car.id, in_hand[2], ["created", "assigned"])


@pytest.mark.parametrize(("settings", "cases"), [
    ([], [("ACME", "music", 600), ("ACME", "fight_threat", 300)]),
    ([("ACME", None, 900)], [("ACME", "music", 900), ("ACME", "fight_threat", 300)]),
    ([("ACME", None, 900), (None, "music", 420)], [("ACME", "music", 420),
                                                    ("ACME", "party", 900)]),
    ([(None, "music", 420), ("ACME", "music", 180)], [("ACME", "music", 180)]),
    ([("ACME", "fight_threat", 240)], [("ACME", "fight_threat", 240), ("ACME", "music", 600)]),
    ([("OTHER", None, 1200), (None, "fight_threat", 360)], [("ACME", "music", 600),
                                                            ("ACME", "fight_threat", 360)]),
])
def test_the_tablet_is_told_the_interval_the_rule_gives(
        db_session, flat, create_landlord, settings, cases):  # noqa: F811
    from dispatch.register.landlords import get_landlord

    landlords = {"ACME": get_landlord(db_session, "ACME").id,
                 "OTHER": create_landlord(code="OTHER").id}
    for landlord, category, seconds in settings:
        set_interval(db_session, landlord_id=landlords.get(landlord), category=category,
                     interval_s=seconds, user_id=None)
    for n, (landlord, category, expected) in enumerate(cases):
        _car(db_session, f"Jour {30 + n}")
        job, _best = _dispatch(db_session, flat, category)
        payload = db_session.scalars(select(Delivery.payload).where(
            Delivery.job_id == job.id, Delivery.event == "job.assigned")).one()
        rule = interval_s(db_session, landlords[landlord], category, Defaults(600, 300))
        assert payload["check_in_s"] == rule == expected, (landlord, category)
