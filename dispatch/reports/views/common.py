"""The reports blueprint and what its pages share: the names, local times and retention every
template shows, the page for what retention deleted (410), and the audit of a read."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from werkzeug.exceptions import Gone

from dispatch.auth.routes import client_ip
from dispatch.core.extensions import db
from dispatch.models import utcnow
from dispatch.reports.labels import (
    CATEGORY_NAMES,
    FIELD_NAMES,
    OUTCOME_NAMES,
    REVISION_NAMES,
    STATUS_NAMES,
    TIMELINE_NAMES,
    call_line,
    calls_summary,
    local,
    night_name,
    step_name,
    yes_no,
)
from dispatch.reports.nights import morning_start, service_zone
from dispatch.reports.retention import deletion_due, retention_setting
from dispatch.reports.service import record_read

bp = Blueprint("reports", __name__, url_prefix="/reports")


class Deleted(Gone):
    """A report, or a morning's reports, deleted after retention: answered 410 with a page
    that says so (``page``: ``report_id`` and ``night``, or ``morning``)."""

    def __init__(self, **page):
        super().__init__()
        self.page = page


@bp.errorhandler(Deleted)
def _deleted(exc: Deleted):
    return render_template("reports/deleted.html", **exc.page), 410


def morning_deleted(day: date) -> bool:
    """Whether the reports of the morning ``day`` are past retention (deleted)."""
    return deletion_due(morning_start(day, service_zone()), retention_setting()) < utcnow()


def audit(action: str, subject: str | None = None, **details) -> None:
    """Audit what the logged-in user read (the request commits it with the page)."""
    record_read(db.session, current_user, action, ip=client_ip(), subject=subject, **details)


@bp.context_processor
def _labels() -> dict:
    """The names and helpers every reports template uses."""
    return {"category_names": CATEGORY_NAMES, "outcome_names": OUTCOME_NAMES,
            "timeline_names": TIMELINE_NAMES, "field_names": FIELD_NAMES,
            "status_names": STATUS_NAMES, "yes_no": yes_no, "night_name": night_name,
            "revision_names": REVISION_NAMES, "calls_summary": calls_summary,
            "step_name": step_name,
            "call_line": lambda attempt: call_line(attempt, service_zone()),
            "daytime_contact": current_app.config.get("DAYTIME_CONTACT") or "",
            "local": lambda value, fmt="%Y-%m-%d %H:%M": local(value, service_zone(), fmt),
            "retention_days": retention_setting()}
