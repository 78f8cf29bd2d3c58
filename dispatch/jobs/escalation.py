"""Escalation past the tablet (issue 19): an alarm on the consoles that nobody handles goes on
by SMS, first to the car's phone, as a last step to the duty supervisor.

What escalates (a *subject*), from when, and what stops it:

- a job nobody on the car accepted: the acknowledgement timer's alarm (``Job.alarm``, from
  ``Job.alarm_at``); stopped when the alarm ends (a person on the car accepts, the operator
  moves, requeues or cancels it, the timer moves it on). ``no_car`` (taken from the car, no
  other free) has no car to text: the supervisor's step only;
- a missed check-in on site (``PatrolAlarm`` of kind ``checkin_missed``, from ``raised_at``);
  stopped when it is acknowledged on the console or cleared (a check-in, the job done);
- a car's alarm no operator acknowledged (``alarm``, ``silent``); stopped by the console's
  acknowledgement. A *silent* alarm is never texted to the car (its phone would sound): the
  supervisor's step only.

``escalate`` is one pass: ``ESCALATE_CAR_AFTER_S`` after a subject began, an SMS to the car
(``patrols.phone``); ``ESCALATE_SUPERVISOR_AFTER_S`` after, to the supervisor
(``SMS_SUPERVISOR_TO``). Each step is an ``SmsMessage`` row, queued, inserted once: the
subjects are read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite: one writer at a time) and
``(escalation_key, recipient_kind)`` is unique, so two web processes or a restart do not send a
step twice. Each step is in the job's history (``sms_to_car``, ``sms_to_supervisor``; then
``sms_*_delivered`` or ``sms_*_failed``) and announced to the consoles (``job.updated``).

Sending is apart from the pass, so that no database lock is held while the gateway answers:
``claim`` takes a due message for ``SEND_LEASE`` (a conditional update: one process wins), the
caller sends it (``core.sms``) with no transaction open, then ``record_sent`` or
``record_failure`` (tried again ``SMS_RETRY_S`` × attempts later, at most ``SMS_MAX_ATTEMPTS``;
a failure retrying cannot help fails at once). A message whose subject was handled before it
could be sent is not sent (failed, ``handled_before_sending``). A sender that dies while the
gateway has the message lets it go when the lease ends: that message may go twice, never a
step.

The texts are short, in ``SMS_LOCALE``: the address of the job and the car's call sign, never
a door code, a name, a personal number or a tenant's phone. The number is never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dispatch.core.phones import normalise_phone
from dispatch.core.realtime import publish
from dispatch.core.sms import SmsError
from dispatch.jobs.board import console_job
from dispatch.jobs.dispatching import ACTIVE_STATUSES
from dispatch.models import Job, JobEvent, Patrol, PatrolAlarm, SmsMessage, utcnow

log = logging.getLogger(__name__)

JOB_NOT_ACCEPTED, CHECKIN_MISSED, ALARM = "job_not_accepted", "checkin_missed", \
    "alarm_not_acknowledged"
CAR, SUPERVISOR = "car", "supervisor"
# Alarms older than this are not escalated (a database restored or a first start with old
# alarms standing must not text anyone about last week).
STALE_AFTER = timedelta(hours=12)
SEND_LEASE = timedelta(seconds=60)
HANDLED = "handled_before_sending"


@dataclass
class Subject:
    """Something standing that may escalate."""

    reason: str
    key: str
    started_at: datetime
    job: Job | None
    alarm: PatrolAlarm | None
    patrol: Patrol | None
    car_step: bool  # False: no car to text (no_car, a silent alarm)


def _job_key(job_id: int, alarm_at: datetime) -> str:
    return f"job:{job_id}:{alarm_at.strftime('%Y%m%dT%H%M%S%f')}"


def _subjects(session: Session, now: datetime, first_after: timedelta) -> list[Subject]:
    due, stale = now - first_after, now - STALE_AFTER
    found = []
    for job in session.scalars(
            select(Job).where(Job.alarm.is_not(None), Job.status.in_(ACTIVE_STATUSES),
                              Job.alarm_at <= due, Job.alarm_at > stale)
            .order_by(Job.id).with_for_update(skip_locked=True, of=Job)):
        patrol = session.get(Patrol, job.patrol_id) if job.patrol_id else None
        found.append(Subject(JOB_NOT_ACCEPTED, _job_key(job.id, job.alarm_at), job.alarm_at,
                             job, None, patrol, car_step=patrol is not None))
    for alarm in session.scalars(
            select(PatrolAlarm).where(PatrolAlarm.acknowledged_at.is_(None),
                                      PatrolAlarm.raised_at <= due,
                                      PatrolAlarm.raised_at > stale)
            .order_by(PatrolAlarm.id).with_for_update(skip_locked=True, of=PatrolAlarm)):
        job = session.get(Job, alarm.job_id) if alarm.job_id else None
        reason = CHECKIN_MISSED if alarm.kind == "checkin_missed" else ALARM
        found.append(Subject(reason, f"alarm:{alarm.id}", alarm.raised_at, job, alarm,
                             session.get(Patrol, alarm.patrol_id),
                             car_step=alarm.kind != "silent"))
    return found


def sms_text(subject: Subject, recipient: str) -> str:
    """The message, in the current locale: the address and the call sign, nothing personal."""
    address = subject.job.complaint.address if subject.job is not None else None
    call_sign = subject.patrol.call_sign if subject.patrol is not None else ""
    if recipient == CAR:
        if subject.reason == JOB_NOT_ACCEPTED:
            return _("Job at %(address)s is waiting for you: accept it on the tablet or call "
                     "the dispatch centre.", address=address)
        if subject.reason == CHECKIN_MISSED:
            return _("Check-in missed at %(address)s: check in on the tablet or call the "
                     "dispatch centre.", address=address)
        return _("Your alarm is not acknowledged yet: call the dispatch centre, in danger 112.")
    if subject.reason == JOB_NOT_ACCEPTED:
        if subject.patrol is None:
            return _("The job at %(address)s was not accepted and no car is free.",
                     address=address)
        return _("%(call_sign)s has not accepted the job at %(address)s.",
                 call_sign=call_sign, address=address)
    if subject.reason == CHECKIN_MISSED:
        return _("%(call_sign)s missed its check-in at %(address)s; not handled on the "
                 "console.", call_sign=call_sign, address=address)
    if address:
        return _("Alarm from %(call_sign)s at %(address)s not acknowledged on the console.",
                 call_sign=call_sign, address=address)
    return _("Alarm from %(call_sign)s not acknowledged on the console.", call_sign=call_sign)


def escalate(session: Session, *, car_after: timedelta, supervisor_after: timedelta,
             supervisor_to: str | None, locale: str = "sv",
             now: datetime | None = None) -> list[SmsMessage]:
    """One pass (see the module's text): the steps now due, each queued once. Flushes; the
    caller commits. Returns the messages it made (a step with no number to send to is made
    too, failed at once with ``no_number``, so that the console sees it)."""
    now = now or utcnow()
    made = []
    for subject in _subjects(session, now, min(car_after, supervisor_after)):
        for recipient, after, step in ((CAR, car_after, 1), (SUPERVISOR, supervisor_after, 2)):
            if now < subject.started_at + after or (recipient == CAR and not subject.car_step):
                continue
            if session.scalar(select(SmsMessage.id).where(
                    SmsMessage.escalation_key == subject.key,
                    SmsMessage.recipient_kind == recipient)):
                continue
            number = (subject.patrol.phone if recipient == CAR
                      else normalise_phone(supervisor_to))
            with force_locale(locale):
                text = sms_text(subject, recipient)
            message = SmsMessage(
                recipient_kind=recipient, to_number=number, reason=subject.reason,
                escalation_key=subject.key, step=step,
                job_id=subject.job.id if subject.job else None,
                alarm_id=subject.alarm.id if subject.alarm else None,
                patrol_id=subject.patrol.id if subject.patrol else None, text=text,
                status="queued" if number else "failed", error=None if number else "no_number",
                created_at=now, next_attempt_at=now, failed_at=None if number else now)
            session.add(message)
            session.flush()
            _history(session, message, f"sms_to_{recipient}", now)
            if number is None:
                _history(session, message, f"sms_{recipient}_failed", now)
            log.warning("escalation: sms to the %s", recipient,
                        extra={"sms_id": message.id, "reason": subject.reason,
                               "job_id": message.job_id, "alarm_id": message.alarm_id,
                               "patrol_id": message.patrol_id, "status": message.status})
            made.append(message)
    return made


def _history(session: Session, message: SmsMessage, kind: str, at: datetime) -> None:
    """The step in the job's history (an alarm raised off a job has none) and on the
    consoles' board."""
    if message.job_id is None:
        return
    job = session.get(Job, message.job_id)
    if job is None:
        return
    details = {"sms_id": message.id, "why": message.reason, "status": message.status}
    if message.error:
        details["error"] = message.error
    job.events.append(JobEvent(kind=kind, at=at, patrol_id=message.patrol_id, details=details))
    session.flush()
    publish(session, "job.updated", console_job(job), namespace="/console")


# -- sending ---------------------------------------------------------------------------------

def due_messages(session: Session, *, now: datetime | None = None, limit: int = 50) -> list[int]:
    """Ids of queued messages whose attempt is due and that no sender holds."""
    now = now or utcnow()
    return list(session.scalars(
        select(SmsMessage.id).where(SmsMessage.status == "queued",
                                    SmsMessage.next_attempt_at <= now,
                                    or_(SmsMessage.claimed_until.is_(None),
                                        SmsMessage.claimed_until < now))
        .order_by(SmsMessage.next_attempt_at, SmsMessage.id).limit(limit)))


def still_standing(session: Session, message: SmsMessage) -> bool:
    """Whether what the message is about is still unhandled."""
    if message.alarm_id is not None:
        alarm = session.get(PatrolAlarm, message.alarm_id)
        return alarm is not None and alarm.acknowledged_at is None
    job = session.get(Job, message.job_id) if message.job_id else None
    return (job is not None and job.alarm is not None and job.alarm_at is not None
            and _job_key(job.id, job.alarm_at) == message.escalation_key)


def claim(session: Session, sms_id: int, *, now: datetime | None = None) -> SmsMessage | None:
    """Take a due message for ``SEND_LEASE`` and count the attempt; None if another sender has
    it or it is no longer due. One whose subject was handled meanwhile is closed (failed,
    ``handled_before_sending``) and not returned. Flushes; commit before sending."""
    now = now or utcnow()
    taken = session.execute(
        update(SmsMessage).where(SmsMessage.id == sms_id, SmsMessage.status == "queued",
                                 SmsMessage.next_attempt_at <= now,
                                 or_(SmsMessage.claimed_until.is_(None),
                                     SmsMessage.claimed_until < now))
        .values(claimed_until=now + SEND_LEASE, attempts=SmsMessage.attempts + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return None
    message = session.get(SmsMessage, sms_id, populate_existing=True)
    if not still_standing(session, message):
        message.attempts -= 1  # nothing was tried
        _fail(session, message, HANDLED, now)
        return None
    return message


def record_sent(session: Session, sms_id: int, gateway_id: str, *,
                now: datetime | None = None) -> SmsMessage:
    """The gateway took it. (Its delivery report may have come first: that status stays.)"""
    now = now or utcnow()
    message = session.get(SmsMessage, sms_id, populate_existing=True)
    message.gateway_id, message.claimed_until, message.error = gateway_id, None, None
    message.sent_at = message.sent_at or now
    if message.status == "queued":
        message.status = "sent"
    session.flush()
    log.info("sms handed to the gateway", extra={"sms_id": sms_id, "gateway_id": gateway_id,
                                                  "attempts": message.attempts})
    return message


def record_failure(session: Session, sms_id: int, error: SmsError, *, max_attempts: int,
                   retry_s: int, now: datetime | None = None) -> SmsMessage:
    """The gateway did not take it: tried again later, or failed for good (the attempts used
    up, or an answer retrying cannot change)."""
    now = now or utcnow()
    message = session.get(SmsMessage, sms_id, populate_existing=True)
    message.claimed_until, message.error = None, error.code[:200]
    if error.retry and message.attempts < max_attempts:
        message.next_attempt_at = now + timedelta(seconds=retry_s * message.attempts)
        session.flush()
        log.warning("sms not taken by the gateway: trying again",
                    extra={"sms_id": sms_id, "error": error.code, "attempts": message.attempts})
    else:
        _fail(session, message, error.code, now)
    return message


def _fail(session: Session, message: SmsMessage, code: str, now: datetime) -> None:
    message.status, message.error, message.failed_at = "failed", code[:200], now
    message.claimed_until = None
    session.flush()
    log.warning("sms failed", extra={"sms_id": message.id, "error": code,
                                     "attempts": message.attempts})
    if code != HANDLED:
        _history(session, message, f"sms_{message.recipient_kind}_failed", now)


# -- the gateway's delivery report -----------------------------------------------------------
# The gateway posts it to the URL we gave it (``whendelivered``): ``/hooks/sms/delivery/TOKEN``,
# TOKEN our message's id signed with SECRET_KEY (no number or anything personal in the URL).

def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="sms-delivery")


def callback_token(sms_id: int, secret: str) -> str:
    return _signer(secret).dumps(sms_id)


def message_of_token(session: Session, token: str, secret: str) -> SmsMessage | None:
    """The message a delivery URL's token names; None for a token we did not sign."""
    try:
        sms_id = _signer(secret).loads(token)
    except BadSignature:
        return None
    return session.get(SmsMessage, sms_id) if isinstance(sms_id, int) else None


def record_delivery(session: Session, message: SmsMessage, *, status: str,
                    now: datetime | None = None) -> bool:
    """The gateway's report: ``delivered`` or ``failed``. True if it changed the message; a
    report repeated (or for a message already failed) changes nothing."""
    now = now or utcnow()
    if status == "delivered" and message.status in ("queued", "sent"):
        message.status, message.delivered_at = "delivered", now
        session.flush()
        log.info("sms delivered", extra={"sms_id": message.id})
        _history(session, message, f"sms_{message.recipient_kind}_delivered", now)
        return True
    if status == "failed" and message.status in ("queued", "sent"):
        _fail(session, message, "not_delivered", now)
        return True
    return False
