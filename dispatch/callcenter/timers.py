"""The acknowledgement timer's pass (``jobs.ack_timer``) and the check-in timer's
(``jobs.safety.check_on_site``, issue 19: ``CHECKIN_INTERVAL_S`` 600, ``CHECKIN_FIGHT_THREAT_S``
300, ``CHECKIN_GRACE_S`` 120) as the web processes' upkeep runs it
(``core.realtime.start_upkeep``, every ``ACK_CHECK_S``): in every web process, whether or not
a console is open; the pass itself makes sure each job is acted on once.

Then the escalation past the tablet (``jobs.escalation``, issue 19): ``escalation_pass`` queues
the SMS steps now due (one unit of work), ``sms_pass`` sends what is queued through the
``SMS_BACKEND`` (``core.sms``): each message claimed in a short unit of work, sent with no
transaction open, its result recorded in another."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from dispatch.core.database import unit_of_work
from dispatch.core.errors import database_unavailable
from dispatch.core.extensions import db
from dispatch.core.phones import normalise_phone
from dispatch.core.realtime import add_upkeep
from dispatch.core.sms import SmsError, backend
from dispatch.jobs import escalation
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


def escalation_pass(app: Flask) -> list[int] | None:
    """Queue the escalation's SMS steps now due (one unit of work), then send what is queued.
    Returns the ids of the messages queued; None if the database was away."""
    config = app.config
    with app.app_context():
        try:
            with unit_of_work():
                made = escalation.escalate(
                    db.session,
                    car_after=timedelta(seconds=config["ESCALATE_CAR_AFTER_S"]),
                    supervisor_after=timedelta(seconds=config["ESCALATE_SUPERVISOR_AFTER_S"]),
                    supervisor_to=config.get("SMS_SUPERVISOR_TO"),
                    locale=config.get("SMS_LOCALE") or "sv")
                made = [m.id for m in made]
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("escalation: database unavailable, trying again",
                        extra={"error": str(exc)[:300]})
            return None
        finally:
            db.session.remove()
    sms_pass(app)
    return made


def sms_pass(app: Flask) -> dict[int, str]:
    """Send the queued messages that are due: {sms id: status after the attempt}."""
    config = app.config
    sender = backend(config)
    done = {}
    with app.app_context():
        try:
            with unit_of_work():
                due = escalation.due_messages(db.session)
            for sms_id in due:
                with unit_of_work():
                    message = escalation.claim(db.session, sms_id)
                    if message is None:
                        continue
                    to, text = message.to_number, message.text
                callback = (f"{config['BASE_URL']}/hooks/sms/delivery/"
                            f"{escalation.callback_token(sms_id, config['SECRET_KEY'])}")
                try:
                    gateway_id, failure = sender.send(to, text, callback), None
                except SmsError as exc:
                    gateway_id, failure = None, exc
                with unit_of_work():
                    if failure is None:
                        message = escalation.record_sent(db.session, sms_id, gateway_id)
                    else:
                        message = escalation.record_failure(
                            db.session, sms_id, failure,
                            max_attempts=config["SMS_MAX_ATTEMPTS"],
                            retry_s=config["SMS_RETRY_S"])
                    done[sms_id] = message.status
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            log.warning("sms sending: database unavailable, trying again",
                        extra={"error": str(exc)[:300]})
        finally:
            db.session.remove()
    return done


def check_sms_settings(config) -> None:
    """The SMS settings make sense, or the process does not start (a wrong value found only
    when the first alarm escalates would be found too late)."""
    backend(config)
    supervisor = config.get("SMS_SUPERVISOR_TO")
    if supervisor and normalise_phone(supervisor) is None:
        raise RuntimeError("SMS_SUPERVISOR_TO is not a phone number")
    if (config.get("SMS_LOCALE") or "sv") not in config.get("LANGUAGES", ["sv", "en", "fi"]):
        raise RuntimeError("SMS_LOCALE must be one of LANGUAGES")


def init_app(app: Flask) -> None:
    """Put the passes in the app's upkeep (every ``ACK_CHECK_S`` seconds; 0: never)."""
    check_sms_settings(app.config)
    add_upkeep(app, acceptance_pass, every_s=app.config["ACK_CHECK_S"])
    add_upkeep(app, check_in_pass, every_s=app.config["ACK_CHECK_S"])
    add_upkeep(app, escalation_pass, every_s=app.config["ACK_CHECK_S"])
