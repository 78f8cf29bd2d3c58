"""Sending the escalation's SMS (issue 19) through a 46elks-style gateway (a local fake):
basic auth, the form fields ``from``/``to``/``message``/``whendelivered``, the gateway's id
recorded; its delivery report (to a signed URL with nothing personal in it) marks the message
delivered; a gateway that fails is tried again a bounded number of times, one that refuses
for good (4xx) is not; a message whose alarm was handled before it could go is not sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch.callcenter.timers import check_sms_settings, sms_pass
from dispatch.core.sms import HttpBackend, SmsError, backend
from dispatch.jobs import escalation
from dispatch.models import JobEvent, PatrolAlarm, SmsMessage, utcnow
from tests.callcenter.test_api import acme, operator, patrols, sockets  # noqa: F401
from tests.jobs.test_escalation import CAR_PHONE, STEPS, dispatched, missed_check_in  # noqa: F401
from tests.support.sms_gateway import FakeSmsGateway


@pytest.fixture
def gateway(app):
    with FakeSmsGateway(user="elks-user", password="elks-secret") as fake:
        app.config.update(SMS_BACKEND="http", SMS_GATEWAY_URL=fake.url,
                          SMS_GATEWAY_USER="elks-user", SMS_GATEWAY_PASSWORD="elks-secret",
                          SMS_FROM="Jouren", SMS_GATEWAY_TIMEOUT_S=1, SMS_MAX_ATTEMPTS=3,
                          SMS_RETRY_S=0, BASE_URL="http://localhost")
        yield fake


@pytest.fixture
def queued(missed_check_in, db_session):  # noqa: F811
    """The car's SMS step queued for the missed check-in (its alarm backdated 40 s)."""
    job, alarm, _raised = missed_check_in
    alarm.raised_at = utcnow() - timedelta(seconds=40)
    [message] = escalation.escalate(db_session, **STEPS)
    db_session.commit()
    return job, alarm, message


def _history(db_session, job):
    return [e.kind for e in db_session.scalars(select(JobEvent).where(
        JobEvent.job_id == job.id).order_by(JobEvent.id))]


def test_the_gateway_gets_the_car_sms_with_basic_auth_and_a_signed_delivery_url(
        app, gateway, queued, db_session):
    _job, _alarm, message = queued
    assert sms_pass(app) == {message.id: "sent"}
    [sent] = gateway.taken
    assert (sent.sender, sent.to, sent.message) == ("Jouren", CAR_PHONE, message.text)
    assert sent.whendelivered.startswith("http://localhost/hooks/sms/delivery/")
    assert CAR_PHONE not in sent.whendelivered and "4670" not in sent.whendelivered
    db_session.expire_all()
    message = db_session.get(SmsMessage, message.id)
    assert (message.status, message.gateway_id, message.attempts) == ("sent", sent.id, 1)
    assert message.sent_at is not None
    assert sms_pass(app) == {}  # sent once


def test_the_delivery_report_marks_it_delivered_in_the_job_history(
        app, client, gateway, queued, db_session):
    job, _alarm, message = queued
    sms_pass(app)
    [sent] = gateway.taken
    path = sent.whendelivered.removeprefix("http://localhost")
    answer = client.post(path, data={"id": sent.id, "status": "delivered",
                                     "delivered": "2026-11-26T22:01:02.000000"})
    assert answer.status_code == 200 and answer.get_json() == {"changed": True}
    again = client.post(path, data={"id": sent.id, "status": "delivered"})
    assert again.get_json() == {"changed": False}
    db_session.expire_all()
    stored = db_session.get(SmsMessage, message.id)
    assert stored.status == "delivered" and stored.delivered_at is not None
    assert _history(db_session, job).count("sms_car_delivered") == 1


def test_a_delivery_report_with_a_token_we_did_not_sign_or_another_id_changes_nothing(
        app, client, gateway, queued, db_session):
    _job, _alarm, message = queued
    sms_pass(app)
    [sent] = gateway.taken
    forged = client.post(f"/hooks/sms/delivery/{message.id}", data={"id": sent.id,
                                                                    "status": "delivered"})
    assert forged.status_code == 404 and forged.get_json()["error"]["code"] == "not_found"
    path = sent.whendelivered.removeprefix("http://localhost")
    other = client.post(path, data={"id": "s-someone-else", "status": "delivered"})
    assert other.status_code == 409
    odd = client.post(path, data={"id": sent.id, "status": "lost"})
    assert odd.status_code == 400 and odd.get_json()["error"]["code"] == "invalid_status"
    db_session.expire_all()
    assert db_session.get(SmsMessage, message.id).status == "sent"


def test_a_failed_delivery_report_marks_it_failed(app, client, gateway, queued, db_session):
    job, _alarm, message = queued
    sms_pass(app)
    [sent] = gateway.taken
    client.post(sent.whendelivered.removeprefix("http://localhost"),
                data={"id": sent.id, "status": "failed"})
    db_session.expire_all()
    stored = db_session.get(SmsMessage, message.id)
    assert (stored.status, stored.error) == ("failed", "not_delivered")
    assert "sms_car_failed" in _history(db_session, job)


def test_a_gateway_error_is_tried_again_at_most_sms_max_attempts_then_failed(
        app, gateway, queued, db_session):
    job, _alarm, message = queued
    gateway.refuse_next(503, 502, 500)
    assert sms_pass(app) == {message.id: "queued"}
    assert sms_pass(app) == {message.id: "queued"}
    assert sms_pass(app) == {message.id: "failed"}
    assert sms_pass(app) == {}
    db_session.expire_all()
    stored = db_session.get(SmsMessage, message.id)
    assert (stored.status, stored.attempts, stored.error) == ("failed", 3, "http_500")
    assert len(gateway.requests) == 3 and gateway.taken == []
    assert _history(db_session, job).count("sms_car_failed") == 1


def test_a_second_attempt_after_a_gateway_error_gets_through(app, gateway, queued, db_session):
    _job, _alarm, message = queued
    gateway.refuse_next(503)
    sms_pass(app)
    assert sms_pass(app) == {message.id: "sent"}
    db_session.expire_all()
    assert db_session.get(SmsMessage, message.id).attempts == 2


def test_wrong_credentials_fail_at_once_without_retrying(app, gateway, queued, db_session):
    _job, _alarm, message = queued
    app.config["SMS_GATEWAY_PASSWORD"] = "wrong"
    assert sms_pass(app) == {message.id: "failed"}
    db_session.expire_all()
    stored = db_session.get(SmsMessage, message.id)
    assert (stored.status, stored.error, stored.attempts) == ("failed", "http_401", 1)


def test_a_gateway_that_does_not_answer_is_given_up_after_the_timeout():
    with FakeSmsGateway(user="u", password="p") as fake:
        fake.refuse_next(0)
        client = HttpBackend(fake.url, "u", "p", "Jouren", timeout_s=0.5)
        with pytest.raises(SmsError) as failure:
            client.send("+46701740699", "Test", None)
    assert (failure.value.code, failure.value.retry) == ("timeout", True)


def test_a_gateway_that_is_not_there_is_retryable():
    client = HttpBackend("http://127.0.0.1:9/a1", "u", "p", "Jouren", timeout_s=1)
    with pytest.raises(SmsError) as failure:
        client.send("+46701740699", "Test", None)
    assert failure.value.retry and failure.value.code.startswith("unreachable")


def test_the_log_backend_sends_nothing_and_logs_neither_number_nor_text(caplog):
    gateway_id = backend({"SMS_BACKEND": "log"}).send("+46701740699", "Larm på Götgatan")
    assert gateway_id.startswith("log-")
    assert "+46701740699" not in caplog.text and "Götgatan" not in caplog.text


@pytest.mark.parametrize("settings", [
    {"SMS_BACKEND": "pigeon"},
    {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "https://api.46elks.com/a1"},
    {"SMS_BACKEND": "log", "SMS_SUPERVISOR_TO": "12"},
    {"SMS_BACKEND": "log", "SMS_LOCALE": "de"},
], ids=["unknown backend", "http without credentials", "no supervisor number", "no language"])
def test_sms_settings_that_cannot_work_stop_the_start(settings):
    with pytest.raises(RuntimeError, match="SMS_"):
        check_sms_settings(settings)


def test_a_message_whose_alarm_was_acknowledged_before_it_could_go_is_not_sent(
        app, gateway, queued, db_session):
    _job, alarm, message = queued
    db_session.get(PatrolAlarm, alarm.id).acknowledged_at = utcnow()
    db_session.commit()
    assert sms_pass(app) == {}
    assert gateway.requests == []
    db_session.expire_all()
    stored = db_session.get(SmsMessage, message.id)
    assert (stored.status, stored.error) == ("failed", "handled_before_sending")


def test_the_number_is_never_in_the_log(app, gateway, queued, caplog):
    sms_pass(app)
    assert CAR_PHONE not in caplog.text and "070-174 06 99" not in caplog.text
