"""The housing queue's scheduled jobs (listed in ``dispatch.scheduler``'s SCHEDULE): each runs
as one unit of work in its own app context, and each is idempotent (a second run the same day
finds nothing left to do).

* ``sweep``: after midnight, remove every applicant whose registration lapsed (points lost)
  and count missed answers as refusals.
* ``remind``: in the morning, the renewal reminders 30 and 7 days before the last registered
  day, each once per renewal period.
* ``settle_offers``: every quarter of an hour, offers past their deadline become refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from flask import Flask

from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db
from dispatch.housing import mails, service
from dispatch.models import utcnow


def _in_transaction(app: Flask, work: Callable[[], object]):
    with app.app_context():
        try:
            with unit_of_work():
                return work()
        finally:
            db.session.remove()


def _today(app: Flask) -> date:
    return service.local_today(ZoneInfo(app.config["DISPATCH_TZ"]))


def sweep(app: Flask, today: date | None = None) -> dict:
    tz = ZoneInfo(app.config["DISPATCH_TZ"])

    def work():
        missed = service.settle_missed(db.session, now=utcnow(), tz=tz)
        removed = service.remove_lapsed(db.session, today or _today(app))
        return {"removed": removed, "missed": missed}

    return _in_transaction(app, work)


def remind(app: Flask, today: date | None = None) -> dict:
    link = f"{app.config['BASE_URL']}/bostad/"

    def work():
        sent = mails.send_reminders(db.session, today or _today(app), link=link)
        return {"sent_30": sent[30], "sent_7": sent[7]}

    return _in_transaction(app, work)


def settle_offers(app: Flask) -> dict:
    tz = ZoneInfo(app.config["DISPATCH_TZ"])
    return _in_transaction(app, lambda: {
        "missed": service.settle_missed(db.session, now=utcnow(), tz=tz)})
