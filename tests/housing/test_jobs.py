"""The queue's scheduled work: renewal reminders 30 and 7 days before the last registered day
(translated, once per period, plural through ngettext), the sweep that removes lapsed
applicants, missed answers turned into refusals, and the subscription mail."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from dispatch import scheduler
from dispatch.housing import jobs, mails, service
from dispatch.models import utcnow
from dispatch.models.housing import HousingApplicant, HousingOffer
from tests.housing.conftest import TZ
from tests.support.reports_helpers import text_of

pytest_plugins = ["tests.support.reports"]


def _applicant(db_session, queue, person, renewed_on, **values):
    applicant = service.register(db_session, person, queue.landlord.id, renewed_on)
    for key, value in values.items():
        setattr(applicant, key, value)
    db_session.flush()
    return applicant


def test_the_queues_jobs_are_in_the_schedule():
    ids = {job.id for job in scheduler.SCHEDULE}
    assert {"housing-sweep", "housing-reminders", "housing-missed-offers"} <= ids


def test_reminders_go_30_and_7_days_before_once_each_in_the_applicants_language(
        app, db_session, queue, smtp):
    _applicant(db_session, queue, queue.older, date(2025, 2, 28))
    _applicant(db_session, queue, queue.younger, date(2025, 2, 28), locale="fi")
    assert jobs.remind(app, today=date(2026, 1, 29)) == {"sent_30": 2, "sent_7": 0}
    assert jobs.remind(app, today=date(2026, 1, 29)) == {"sent_30": 0, "sent_7": 0}
    (swedish,) = smtp.to("olle@example.se")
    assert swedish["Subject"] == "Din plats i intressebanken upphör om 30 dagar"
    assert "28 februari 2026" in text_of(swedish)
    assert "199001012385" not in text_of(swedish)
    (finnish,) = smtp.to("ylva@example.se")
    assert finnish["Subject"] == "Paikkasi asuntojonossa päättyy 30 päivän kuluttua"
    assert jobs.remind(app, today=date(2026, 2, 21)) == {"sent_30": 0, "sent_7": 2}
    assert smtp.to("olle@example.se")[-1]["Subject"] == \
        "Din plats i intressebanken upphör om 7 dagar"


def test_a_renewal_after_the_reminder_means_a_new_reminder_for_the_new_period(
        app, db_session, queue, smtp):
    applicant = _applicant(db_session, queue, queue.older, date(2025, 2, 28))
    jobs.remind(app, today=date(2026, 1, 29))
    applicant.renewed_on = date(2026, 2, 1)
    db_session.flush()
    assert jobs.remind(app, today=date(2027, 1, 2)) == {"sent_30": 1, "sent_7": 0}


def test_the_sweep_removes_the_lapsed_and_is_idempotent(app, db_session, queue):
    gone = _applicant(db_session, queue, queue.older, date(2025, 2, 28))
    kept = _applicant(db_session, queue, queue.younger, date(2025, 3, 1))
    assert jobs.sweep(app, today=date(2026, 3, 1))["removed"] == 1
    assert jobs.sweep(app, today=date(2026, 3, 1))["removed"] == 0
    db_session.expire_all()
    statuses = dict(db_session.execute(select(HousingApplicant.id, HousingApplicant.status)).all())
    assert statuses == {gone.id: "removed", kept.id: "active"}


def test_missed_offers_become_refusals(app, db_session, queue):
    today = service.local_today(TZ)
    applicant = _applicant(db_session, queue, queue.older, today)
    listing = service.publish(db_session, queue.flat, now=utcnow() - timedelta(minutes=1),
                              vacant_on=today + timedelta(days=30), days=7)
    service.register_interest(db_session, applicant, listing, now=utcnow(), tz=TZ)
    (offer,) = service.make_offers(db_session, listing, today=today, count=1,
                                   deadline=utcnow() - timedelta(seconds=1),
                                   staff_user_id=None, retention_days=90)
    assert jobs.settle_offers(app) == {"missed": 1}
    db_session.expire_all()
    assert db_session.get(HousingOffer, offer.id).answer == "missed"


def test_the_subscription_mail_goes_to_those_whose_wishes_match(app, db_session, queue, smtp):
    _applicant(db_session, queue, queue.older, date(2026, 11, 1), rooms_min=3,
               areas=["Skoghall"])
    _applicant(db_session, queue, queue.younger, date(2026, 11, 1), rooms_min=4)
    listing = service.publish(db_session, queue.flat, now=utcnow(), days=7,
                              vacant_on=date(2027, 1, 1))
    with app.test_request_context("/"):
        assert mails.send_subscriptions(db_session, listing, link="http://x/bostad/") == 1
    (message,) = smtp.messages
    assert message["To"] == "olle@example.se"
    assert message["Subject"].startswith("En lägenhet som matchar dina önskemål")
