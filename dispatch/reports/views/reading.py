"""Reading reports, for contact persons (their own landlord's, released) and staff: the
mornings, one morning's reports, one report as a page, for print and as PDF, a period as CSV,
and what retention will delete soon. Every read is audited. Whoever is not logged in goes to
the reports' own log-in page (password or a code by mail), and comes back."""

from __future__ import annotations

import io
from datetime import date, timedelta
from itertools import groupby

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from dispatch.auth.access import roles_required
from dispatch.core import csvsafe
from dispatch.core.extensions import db
from dispatch.models import utcnow
from dispatch.reports.labels import FIELD_NAMES, TIMELINE_NAMES, as_shown, local
from dispatch.reports.morning import WARN_DAYS
from dispatch.reports.nights import latest_morning, night_of, purge_day, service_zone
from dispatch.reports.retention import deletion_due, expiring, retention_setting
from dispatch.reports.service import (
    READER_ROLES,
    deleted_report,
    document,
    is_staff,
    mornings,
    readable_report,
    reports_of_morning,
    reports_of_nights,
)
from dispatch.reports.views.common import Deleted, audit, bp, morning_deleted

EXPORT_MAX_DAYS = 366
CSV_COLUMNS = ("id", "case", "night", "landlord", "property", "address", "lagenhetsnummer",
               "objektsnummer", "category", "description", "suspected_source", "patrol",
               "crew", "call", "dispatched", "acknowledged", "arrived", "left",
               "call_attempts", "safety", "outcome", "disturber_reached", "tenant_contacted",
               "can_testify", "witnesses", "observations", "disturber_response", "actions",
               "text", "written_by", "corrected", "original", "released_at")


@bp.get("/")
@roles_required(*READER_ROLES, login="reports.login")
def index():
    """The mornings with reports, newest first; operators start at the review queue."""
    if is_staff(current_user) and not request.args.get("all"):
        return redirect(url_for("reports.review"))
    tz = service_zone()
    days = mornings(db.session, current_user, tz)
    audit("report.list", scope="mornings", count=len(days))
    today = latest_morning(utcnow(), tz)
    return render_template("reports/index.html", days=days, today=today)


def _group(docs: list[dict]) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """By night (newest first), then by property (or address)."""
    docs = sorted(docs, key=lambda d: (d["night"], d["property"] or d["address"], d["id"]))
    nights = []
    for night, in_night in groupby(docs, key=lambda d: d["night"]):
        places = [(place, list(items)) for place, items in
                  groupby(in_night, key=lambda d: d["property"] or d["address"])]
        nights.append((night, places))
    return sorted(nights, key=lambda n: n[0], reverse=True)


@bp.get("/morning/<day>")
@roles_required(*READER_ROLES, login="reports.login")
def morning(day: str):
    """One morning's reports, by night and property."""
    when = _date_arg(day)
    if when is None:
        abort(404)
    tz = service_zone()
    reports = reports_of_morning(db.session, current_user, when, tz)
    docs = [document(db.session, r, tz) for r in reports]
    audit("report.list", subject=f"morning:{when.isoformat()}", count=len(docs),
          reports=[d["id"] for d in docs])
    return render_template("reports/morning.html", day=when, nights=_group(docs),
                           count=len(docs), deleted=morning_deleted(when))


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _read(report_id: int, fmt: str) -> dict:
    """The report's document, if the user may read it, the read audited as ``fmt``. One of
    theirs that retention deleted: 410, saying so; any other: 404, as for one that never was."""
    found = readable_report(db.session, current_user, report_id)
    if found is None:
        gone = deleted_report(db.session, current_user, report_id)
        if gone is None:
            abort(404)
        raise Deleted(report_id=report_id, night=gone.night)
    audit("report.read", subject=f"report:{report_id}", format=fmt)
    return document(db.session, found, service_zone())


@bp.get("/<int:report_id>")
@roles_required(*READER_ROLES, login="reports.login")
def report(report_id: int):
    """One report."""
    return render_template("reports/report.html", doc=_read(report_id, "html"))


@bp.get("/<int:report_id>/print")
@roles_required(*READER_ROLES, login="reports.login")
def print_view(report_id: int):
    """The report on its own, laid out for paper."""
    return render_template("reports/print.html", doc=_read(report_id, "print"),
                           printed_at=local(utcnow(), service_zone()))


@bp.get("/<int:report_id>.pdf")
@roles_required(*READER_ROLES, login="reports.login")
def pdf(report_id: int):
    """The report as a PDF download."""
    from dispatch.reports.pdf import render  # fpdf2 is loaded on the first download

    doc = _read(report_id, "pdf")
    tz = service_zone()
    body = render(doc, tz, printed_at=local(utcnow(), tz),
                  daytime_contact=current_app.config.get("DAYTIME_CONTACT") or "")
    name = f"storningsrapport-{report_id}-{doc['night']}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@bp.get("/export.csv")
@roles_required(*READER_ROLES, login="reports.login")
def export():
    """The reports of a period of nights as CSV (``from`` and ``to``, YYYY-MM-DD)."""
    tz = service_zone()
    last = _date_arg(request.args.get("to")) or latest_morning(utcnow(), tz) - timedelta(days=1)
    first = _date_arg(request.args.get("from")) or last - timedelta(days=30)
    if first > last or (last - first).days > EXPORT_MAX_DAYS:
        abort(400)
    reports = reports_of_nights(db.session, current_user, first, last, tz)
    out = io.StringIO()
    # Report texts are the patrol's words: a formula in them stays text in the spreadsheet.
    writer = csvsafe.writer(out, delimiter=";")
    headings = {**{k: str(v) for k, v in FIELD_NAMES.items()},
                **{k: str(v) for k, v in TIMELINE_NAMES.items()}}
    writer.writerow([headings.get(c, c) for c in CSV_COLUMNS])
    for r in reports:
        values = as_shown(document(db.session, r, tz), tz)
        values["landlord"] = values["landlord"]["name"]
        writer.writerow(["" if values.get(c) is None else values.get(c) for c in CSV_COLUMNS])
    audit("report.export", subject=f"nights:{first.isoformat()}..{last.isoformat()}",
          format="csv", count=len(reports), reports=[r.id for r in reports])
    name = f"storningsrapporter-{first.isoformat()}-{last.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@bp.get("/expiring")
@roles_required(*READER_ROLES, login="reports.login")
def expiring_soon():
    """Released reports that will be deleted within the warning period, soonest first."""
    tz, days, now = service_zone(), retention_setting(), utcnow()
    rows = expiring(db.session, start=now, end=now + timedelta(days=WARN_DAYS + 1),
                    retention_days=days)
    if not is_staff(current_user):
        rows = [r for r in rows if r[1] == current_user.landlord_id]
    items = [{"id": rid, "night": night_of(called, tz),
              "goes_on": purge_day(deletion_due(created, days), tz)}
             for rid, _landlord, called, created in rows]
    items.sort(key=lambda i: (i["goes_on"], i["id"]))
    audit("report.list", scope="expiring", count=len(items))
    return render_template("reports/expiring.html", items=items)
