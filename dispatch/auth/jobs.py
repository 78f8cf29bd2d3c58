"""The tenant accounts' scheduled jobs (listed in ``dispatch.scheduler``'s SCHEDULE), each one
unit of work in its own app context, each idempotent (issue 15).

* ``sweep_identifications``: every quarter of an hour, strong identifications under way that
  expired (``identity.pending``: a BankID order or a Finnish e-identification left behind by a
  closed tab) are deleted.
* ``purge_abandoned_people``: once a night, the people an identification made for the housing
  queue who never became an account or an application, after
  ``TENANT_ABANDONED_PERSON_DAYS`` (``tenants.purge_abandoned_people``; audited count).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from dispatch.auth import tenants
from dispatch.auth.identity import pending
from dispatch.core.database import unit_of_work
from dispatch.core.extensions import db


def _in_transaction(app: Flask, work: Callable[[], object]):
    with app.app_context():
        try:
            with unit_of_work():
                return work()
        finally:
            db.session.remove()


def sweep_identifications(app: Flask) -> dict:
    return _in_transaction(app, lambda: {"deleted": pending.sweep(db.session)})


def purge_abandoned_people(app: Flask) -> dict:
    days = int(app.config["TENANT_ABANDONED_PERSON_DAYS"])
    return _in_transaction(app, lambda: {"deleted": tenants.purge_abandoned_people(
        db.session, older_than_days=days)})
