"""The acknowledgement timer as the web processes run it (callcenter/timers.py): in every web
process's upkeep, every ACK_CHECK_S; one pass is one unit of work; an unreachable database is
a warning and the next pass tries again."""

from datetime import timedelta

import sqlalchemy as sa

from dispatch.callcenter import timers
from dispatch.core.realtime import _UPKEEP
from dispatch.models import Job
from tests.callcenter.test_api import _job, acme, operator, patrols  # noqa: F401


def test_the_pass_is_in_the_upkeep_of_every_web_process(app):
    assert (timers.acceptance_pass, app.config["ACK_CHECK_S"]) in app.extensions[_UPKEEP]


def test_one_pass_raises_the_alarm_of_a_job_not_accepted_in_time(
        app, client, acme, operator, patrols, db_session):  # noqa: F811
    near, _far = patrols
    job_id = _job(client, operator)
    client.post(f"/api/v1/jobs/{job_id}/dispatch", headers=operator, json={"patrol_id": near.id})
    job = db_session.get(Job, job_id)
    job.dispatched_at -= timedelta(seconds=app.config["ACK_ALARM_AFTER_S"] + 5)
    db_session.flush()
    done = timers.acceptance_pass(app)
    assert done.alarms == [job_id]
    assert db_session.get(Job, job_id).alarm == "not_accepted"


def test_an_unreachable_database_is_a_warning_and_the_next_pass_tries_again(
        app, monkeypatch, caplog):
    def unreachable(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(timers, "check_acceptance", unreachable)
    assert timers.acceptance_pass(app) is None
    assert any(r.levelname == "WARNING" and "database unavailable" in r.getMessage()
               for r in caplog.records)
