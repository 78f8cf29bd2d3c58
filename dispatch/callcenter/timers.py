"""The acknowledgement timer's pass (``jobs.ack_timer``) and the check-in timer's
(``jobs.safety.check_on_site``, issue 19: ``CHECKIN_INTERVAL_S`` 600, ``CHECKIN_FIGHT_THREAT_S``
300, ``CHECKIN_GRACE_S`` 120) as the web processes' upkeep runs it
(``core.realtime.start_upkeep``, every ``ACK_CHECK_S``): in every web process, whether or not
a console is open; the pass itself makes sure each job is acted on once."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from dispatch.core.database import unit_of_work
from dispatch.core.errors import database_unavailable
from dispatch.core.extensions import db
from dispatch.core.realtime import add_upkeep
from dispatch.jobs.ack_timer import TimerPass, check_acceptance
from dispatch.jobs.safety import check_on_site

log = logging.getLogger(__name__)


def acceptance_pass(app: Flask) -> TimerPass | None:
    """One pass, as one unit of work in its own app context and session. A database that
    cannot be reached (or, on SQLite, is held by an import) is a warning: the next pass, a
    few seconds later, tries again."""
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
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("acknowledgement timer: database unavailable, trying again",
                        extra={"error": str(exc)[:300]})
            return None
        finally:
            db.session.remove()


def check_in_pass(app: Flask) -> list[int] | None:
    """One pass of the check-in timer, as one unit of work (a database away: next pass)."""
    config = app.config
    with app.app_context():
        try:
            with unit_of_work():
                return check_on_site(
                    db.session, default_s=int(config.get("CHECKIN_INTERVAL_S", 600)),
                    fight_threat_s=int(config.get("CHECKIN_FIGHT_THREAT_S", 300)),
                    grace_s=int(config.get("CHECKIN_GRACE_S", 120)))
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("check-in timer: database unavailable, trying again",
                        extra={"error": str(exc)[:300]})
            return None
        finally:
            db.session.remove()


def init_app(app: Flask) -> None:
    """Put the passes in the app's upkeep (every ``ACK_CHECK_S`` seconds; 0: never)."""
    add_upkeep(app, acceptance_pass, every_s=app.config["ACK_CHECK_S"])
    add_upkeep(app, check_in_pass, every_s=app.config["ACK_CHECK_S"])
