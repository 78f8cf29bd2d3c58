"""The acknowledgement timer's pass (``jobs.ack_timer``) as the web processes' upkeep runs it
(``core.realtime.start_upkeep``, every ``ACK_CHECK_S``): in every web process, whether or not
a console is open; the pass itself makes sure each job is acted on once."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.core.realtime import add_upkeep
from dispatch.jobs.ack_timer import TimerPass, check_acceptance


def acceptance_pass(app: Flask) -> TimerPass:
    """One pass, as one unit of work in its own app context and session."""
    config = app.config
    with app.app_context():
        try:
            with unit_of_work():
                return check_acceptance(
                    db.session,
                    alarm_after=timedelta(seconds=config["ACK_ALARM_AFTER_S"]),
                    redispatch_after=timedelta(seconds=config["ACK_REDISPATCH_AFTER_S"]),
                    max_age=timedelta(seconds=config["PATROL_POSITION_MAX_AGE_S"]),
                    seen_within=timedelta(seconds=config["PRESENCE_GRACE_S"]))
        finally:
            db.session.remove()


def init_app(app: Flask) -> None:
    """Put the pass in the app's upkeep (every ``ACK_CHECK_S`` seconds; 0: never)."""
    add_upkeep(app, acceptance_pass, every_s=app.config["ACK_CHECK_S"])
