"""The reports' HTTP API (../shared/CONTRACT.md): list a morning's reports, read one, release
one. A contact person sees only its own landlord's released reports; a report the caller may
not read answers 404, exactly as one that does not exist. Every read is audited; the request
commits it with the answer."""

from __future__ import annotations

from datetime import date

from flask import jsonify, request
from flask_login import current_user

from dispatch.api import api_blueprint
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.core.errors import ApiError
from dispatch.core.extensions import db
from dispatch.models import IncidentReport, utcnow
from dispatch.reports.nights import latest_morning, service_zone
from dispatch.reports.service import (
    READER_ROLES,
    STAFF_ROLES,
    document,
    readable_report,
    record_read,
    release_report,
    reports_of_morning,
    summary,
)

bp = api_blueprint("reports_api", __name__)


@bp.get("/reports")
@roles_required(*READER_ROLES)
def list_reports():
    """The reports of one morning's mail (``date``, default the latest morning)."""
    raw = request.args.get("date")
    tz = service_zone()
    if raw:
        try:
            morning = date.fromisoformat(raw)
        except ValueError:
            raise ApiError(400, "invalid_date", "date must be YYYY-MM-DD") from None
    else:
        morning = latest_morning(utcnow(), tz)
    reports = reports_of_morning(db.session, current_user, morning, tz)
    body = [summary(db.session, r, tz) for r in reports]
    record_read(db.session, current_user, "report.list", ip=client_ip(),
                subject=f"morning:{morning.isoformat()}", format="api", count=len(body),
                reports=[r["id"] for r in body])
    return jsonify(body)


@bp.get("/reports/<int:report_id>")
@roles_required(*READER_ROLES)
def get_report(report_id: int):
    """One report, whole."""
    found = readable_report(db.session, current_user, report_id)
    if found is None:
        raise ApiError(404, "not_found", "no such report")
    doc = document(db.session, found, service_zone())
    record_read(db.session, current_user, "report.read", ip=client_ip(),
                subject=f"report:{report_id}", format="api")
    return jsonify(doc)


@bp.post("/reports/<int:report_id>/release")
@roles_required(*STAFF_ROLES)
def release(report_id: int):
    """Release a reviewed report to the landlord; releasing again changes nothing."""
    found = db.session.get(IncidentReport, report_id)
    if found is None:
        raise ApiError(404, "not_found", "no such report")
    release_report(db.session, found, current_user)
    return jsonify(document(db.session, found, service_zone()))
