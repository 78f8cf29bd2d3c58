"""The default retention is 90 days: an app created without a ``REPORT_RETENTION_DAYS``
(neither in the environment nor as an override) keeps a night's reports 90 days and no
longer; the environment changes it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from dispatch import models
from dispatch.models import utcnow
from dispatch.reports.retention import purge


@pytest.fixture
def fresh_app(tmp_path):
    """Factory: the ``REPORT_RETENTION_DAYS`` of an app that ``create_app()`` makes from the
    environment (``env``: what to add to it), in a process of its own: a second app in this
    one would bind the shared extensions (Socket.IO, the database) to itself."""

    def factory(**env) -> int:
        environ = {k: v for k, v in os.environ.items() if k != "REPORT_RETENTION_DAYS"}
        environ.update(DISPATCH_INSTANCE=str(tmp_path / "instance"),
                       DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}", **env)
        environ.pop("REDIS_URL", None)
        out = subprocess.run(
            [sys.executable, "-c", "from dispatch import create_app; "
             "print(create_app().config['REPORT_RETENTION_DAYS'])"],
            env=environ, capture_output=True, text=True, timeout=120, check=True)
        return int(out.stdout.strip().splitlines()[-1])

    return factory


def _complaint(db_session, landlord, age: timedelta) -> int:
    at = utcnow() - age
    complaint = models.Complaint(landlord_id=landlord.id, address="Götgatan 12B",
                                 category="music", created_at=at, call_received_at=at)
    db_session.add(complaint)
    db_session.flush()
    return complaint.id


def test_an_app_without_a_setting_keeps_reports_90_days(fresh_app):
    assert fresh_app() == 90


def test_the_default_retention_keeps_a_complaint_of_89_days_and_deletes_one_of_91(
        fresh_app, db_session, create_landlord):
    landlord = create_landlord()
    kept = _complaint(db_session, landlord, timedelta(days=90) - timedelta(minutes=5))
    _complaint(db_session, landlord, timedelta(days=90) + timedelta(minutes=5))

    result = purge(db_session, retention_days=fresh_app())

    assert result.complaints == 1
    assert db_session.scalars(select(models.Complaint.id)).all() == [kept]


def test_the_environment_sets_another_retention(fresh_app):
    assert fresh_app(REPORT_RETENTION_DAYS="30") == 30
