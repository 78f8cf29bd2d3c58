"""Incident reports: the patrol's documentation, the operator's review and release, who may
read which report, and the one shape (``document``) every view of a report is built from.

Plain functions: session and values in, values out; they flush, the caller commits.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from dispatch.core.audit import record
from dispatch.core.clock import iso, parse_instant
from dispatch.jobs.dispatching import DispatchError, record_status
from dispatch.models import (
    OUTCOMES,
    Complaint,
    DeletedReport,
    IncidentReport,
    Job,
    JobEvent,
    Landlord,
    Patrol,
    ReportRevision,
    User,
    utcnow,
)
from dispatch.reports.nights import morning_of, morning_window, night_of, night_window

TEXT_FIELDS = ("observations", "disturber_response", "actions", "text")
BOOL_FIELDS = ("disturber_reached", "tenant_contacted", "can_testify")


def _time(value, name: str) -> datetime | None:
    """``parse_instant`` for the field ``name``, refused as ``invalid_time``."""
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise DispatchError("invalid_time", f"{name} {exc}") from None


def submit_report(session: Session, job: Job, *, patrol_id: int, data: dict,
                  crew: list[str] | None = None) -> IncidentReport:
    """Store the patrol's documentation (again: it replaces the last, until released) and
    close the job. ``crew``: the people on the car who wrote it (the shift log-in's names)."""
    if job.patrol_id != patrol_id:
        raise DispatchError("not_your_job", f"job {job.id} is not assigned to this patrol")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise DispatchError("invalid_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
    report = session.scalar(select(IncidentReport).where(IncidentReport.job_id == job.id))
    if report is not None and report.status == "released":
        raise DispatchError("report_released", "the report has been released and is read-only")
    if report is None:
        report = IncidentReport(job_id=job.id, landlord_id=job.complaint.landlord_id)
        session.add(report)
    report.patrol_id = patrol_id
    report.crew = list(crew) if crew else None
    report.arrived_at = _time(data.get("arrived_at"), "arrived_at") or job.arrived_at
    report.left_at = _time(data.get("left_at"), "left_at")
    for name in TEXT_FIELDS:
        setattr(report, name, str(data.get(name) or "")[:20000])
    for name in BOOL_FIELDS:
        value = data.get(name)
        setattr(report, name, None if value is None else bool(value))
    again = report.status == "submitted"
    report.outcome = outcome
    report.status = "submitted"
    report.submitted_at = utcnow()
    session.flush()
    record(session, "report.submitted", subject=f"report:{report.id}",
           details={"job_id": job.id, "patrol_id": patrol_id, "again": again})
    if job.status != "done":
        record_status(session, job, patrol_id=patrol_id, status="done",
                      at=report.left_at, event_id=f"report:{job.id}")
    return report


# -- reading ---------------------------------------------------------------------------------

class ReportError(ValueError):
    """A change the report rules refuse; ``code`` is stable, ``message`` readable."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


STAFF_ROLES = ("admin", "operator")
READER_ROLES = ("landlord", *STAFF_ROLES)  # who may open reports at all; ``readable``: which
EDITABLE_FIELDS = TEXT_FIELDS + BOOL_FIELDS + ("outcome", "arrived_at", "left_at")


def is_staff(user) -> bool:
    """Operators and admins read every report, released or not."""
    return user.role in STAFF_ROLES


def readable(user):
    """A select of the reports ``user`` may read: a contact person only its own landlord's
    released reports; operators and admins all; anyone else none."""
    query = select(IncidentReport)
    if is_staff(user):
        return query
    if user.role == "landlord" and user.landlord_id is not None:
        return query.where(IncidentReport.landlord_id == user.landlord_id,
                           IncidentReport.status == "released")
    return query.where(false())


def readable_report(session: Session, user, report_id: int) -> IncidentReport | None:
    """The report if ``user`` may read it; None whether it is someone else's or does not exist."""
    return session.scalar(readable(user).where(IncidentReport.id == report_id))


def deleted_report(session: Session, user, report_id: int) -> DeletedReport | None:
    """The trace of a report deleted after retention, if it was one ``user`` could have read."""
    row = session.get(DeletedReport, report_id)
    if row is None or not (is_staff(user) or row.landlord_id == user.landlord_id):
        return None
    return row


def reports_of_morning(session: Session, user, morning: date, tz: ZoneInfo
                       ) -> list[IncidentReport]:
    """The reports released for ``morning``'s mail (and, for operators, the ones still
    waiting for review that were submitted in that window)."""
    start, end = morning_window(morning, tz)
    released = (IncidentReport.status == "released") & (IncidentReport.released_at >= start) & (
        IncidentReport.released_at < end)
    waiting = (IncidentReport.status == "submitted") & (IncidentReport.submitted_at >= start) & (
        IncidentReport.submitted_at < end)
    condition = or_(released, waiting) if is_staff(user) else released
    return _with_context(session, readable(user).where(condition))


def reports_of_nights(session: Session, user, first: date, last: date, tz: ZoneInfo
                      ) -> list[IncidentReport]:
    """The readable reports of the nights ``first`` to ``last`` (by when the call came)."""
    start, _ = night_window(first, tz)
    _, end = night_window(last, tz)
    return _with_context(session, readable(user).join(Job).join(Complaint).where(
        Complaint.call_received_at >= start, Complaint.call_received_at < end))


def mornings(session: Session, user, tz: ZoneInfo, *, limit: int = 120) -> list[tuple[date, int]]:
    """The mornings with released reports the user may read, newest first, with counts."""
    rows = session.execute(
        readable(user).where(IncidentReport.status == "released")
        .with_only_columns(IncidentReport.released_at)
        .order_by(IncidentReport.released_at.desc()).limit(5000)
    ).scalars()
    counts: dict[date, int] = {}
    for released_at in rows:
        day = morning_of(released_at, tz)
        counts[day] = counts.get(day, 0) + 1
    return sorted(counts.items(), reverse=True)[:limit]


def review_queue(session: Session, *, limit: int = 200) -> list[IncidentReport]:
    """Reports the patrols submitted that no operator has released yet, oldest first."""
    return _with_context(session, select(IncidentReport)
                         .where(IncidentReport.status == "submitted")
                         .order_by(IncidentReport.submitted_at, IncidentReport.id).limit(limit))


def _with_context(session: Session, query) -> list[IncidentReport]:
    return list(session.scalars(query.order_by(IncidentReport.id)))


def _job(session: Session, report: IncidentReport) -> Job:
    return session.get(Job, report.job_id)


def document(session: Session, report: IncidentReport, tz: ZoneInfo) -> dict:
    """Everything a report says, in one dict for the page, the print view, the PDF, the CSV and
    the API: the patrol's documentation with the job's time line, the landlord, object and
    address. Not the caller's phone number nor the door code: those stay in the call centre."""
    job = _job(session, report)
    complaint = job.complaint
    landlord = session.get(Landlord, report.landlord_id)
    obj = complaint.rental_object
    entrance = complaint.entrance
    estate = entrance.real_property if entrance is not None else None
    patrol = session.get(Patrol, report.patrol_id) if report.patrol_id else None
    acknowledged = job.acknowledged_at
    timeline = [
        ("call", complaint.call_received_at),
        ("dispatched", job.dispatched_at),
        ("acknowledged", acknowledged),
        ("arrived", report.arrived_at or job.arrived_at),
        ("left", report.left_at or job.finished_at),
    ]
    steps = [{"event": name, "at": iso(at)} for name, at in timeline]
    steps = with_safety_steps(steps, safety_steps(session, job.id))
    revisions = session.scalars(select(ReportRevision).where(
        ReportRevision.report_id == report.id).order_by(ReportRevision.id)).all()
    crew = list(report.crew or [])
    return {
        "id": report.id,
        "case": complaint.id,
        "status": report.status,
        "night": night_of(complaint.call_received_at, tz).isoformat(),
        "landlord": {"code": landlord.code, "name": landlord.name},
        "property": estate.designation if estate is not None else None,
        "address": complaint.address,
        "lagenhetsnummer": complaint.lagenhetsnummer,
        "objektsnummer": obj.objektsnummer if obj is not None else None,
        "category": complaint.category,
        "priority": complaint.priority,
        "description": complaint.description,
        "disturbed_party": complaint.disturbed_party or complaint.caller_name,
        "suspected_source": complaint.suspected_source,
        "patrol": patrol.name if patrol is not None else None,
        # Issue 13: the people on the car, who wrote the report (the crew at submission)
        # and who can testify (that crew, when the patrol said it can).
        "crew": crew,
        "written_by": crew,
        "witnesses": crew if report.can_testify else [],
        # The patrol's calls to the disturbed tenant: when, and whether answered (not the
        # number: it stays in the call centre, as the caller's does).
        "call_attempts": call_attempts(session, job.id),
        # The job's steps, and between them (by time) the alarms and check-ins (issue 19).
        "timeline": steps,
        "observations": report.observations,
        "disturber_reached": report.disturber_reached,
        "disturber_response": report.disturber_response,
        "tenant_contacted": report.tenant_contacted,
        "actions": report.actions,
        "outcome": report.outcome,
        "can_testify": report.can_testify,
        "text": report.text,
        "submitted_at": iso(report.submitted_at),
        "released_at": iso(report.released_at),
        "revisions": [{"action": r.action, "at": iso(r.at), "user_id": r.user_id,
                       "fields": sorted((r.changes or {}).keys())} for r in revisions],
        "corrections": corrections(session, report, revisions),
    }


CALL_ATTEMPT = "call_attempt"  # the JobEvent kind the tablet's call button records
# The job's history steps that the report's own time line already says, or that are the call
# centre's business (who had the job when, the acknowledgement timer); every other step of the
# history (the alarms and check-ins of issue 19, and kinds added later, such as an SMS step)
# goes into the report's time line, said by its kind's name or, unknown, as a step of the job.
NOT_IN_REPORT = frozenset({"created", "assigned", "acknowledged", "accepted", "en_route",
                           "on_site", "done", "reassigned", "withdrawn", "queued", "cancelled",
                           "ack_alarm", CALL_ATTEMPT})


def safety_steps(session: Session, job_id: int) -> list[dict]:
    """A job's alarms, acknowledgements, check-ins and missed check-ins (and any later kind of
    step), oldest first: kind, time, the alarm's kind, and who acknowledged (an operator's
    name). Nothing else of the step's details: no door code, no number."""
    events = session.scalars(select(JobEvent).where(
        JobEvent.job_id == job_id, JobEvent.kind.not_in(NOT_IN_REPORT))
        .order_by(JobEvent.at, JobEvent.id)).all()
    names: dict[int, str] = {}
    steps = []
    for e in events:
        by = None
        if e.kind == "alarm_acknowledged" and e.user_id is not None:
            if e.user_id not in names:
                user = session.get(User, e.user_id)
                names[e.user_id] = (user.name or "") if user is not None else ""
            by = names[e.user_id] or None
        steps.append({"event": e.kind, "at": iso(e.at), "by": by,
                      "alarm_kind": (e.details or {}).get("alarm_kind")})
    return steps


def with_safety_steps(steps: list[dict], extra: list[dict]) -> list[dict]:
    """The fixed steps in their order, each extra step after the last fixed one not later than
    it (the call first always: the summary and the mail read it there)."""
    merged = list(steps)
    for step in extra:
        at = datetime.fromisoformat(step["at"])
        place = 1
        for i, before in enumerate(merged):
            if i and before["at"] is not None and datetime.fromisoformat(before["at"]) <= at:
                place = i + 1
        merged.insert(place, step)
    return merged


def call_attempts(session: Session, job_id: int) -> list[dict]:
    """A job's call attempts to the disturbed tenant, oldest first: when, answered or not."""
    events = session.scalars(select(JobEvent).where(
        JobEvent.job_id == job_id, JobEvent.kind == CALL_ATTEMPT)
        .order_by(JobEvent.at, JobEvent.id)).all()
    return [{"at": iso(e.at), "answered": bool((e.details or {}).get("answered"))}
            for e in events]


def corrections(session: Session, report: IncidentReport, revisions=None) -> dict:
    """The fields an operator changed, each with what the patrol wrote (``original``: the
    value before the first correction of that field), when and by whom (``by``: the
    operator's name, else "") it was last corrected. A field corrected back to the patrol's
    own value is no correction."""
    if revisions is None:
        revisions = session.scalars(select(ReportRevision).where(
            ReportRevision.report_id == report.id).order_by(ReportRevision.id)).all()
    found: dict[str, dict] = {}
    names: dict[int, str] = {}
    for revision in revisions:
        if revision.action != "corrected":
            continue
        if revision.user_id is not None and revision.user_id not in names:
            user = session.get(User, revision.user_id)
            names[revision.user_id] = (user.name or "") if user is not None else ""
        for name, (old, _new) in (revision.changes or {}).items():
            entry = found.setdefault(name, {"original": old})
            entry.update(at=iso(revision.at), by=names.get(revision.user_id, ""))
    return {name: entry for name, entry in sorted(found.items())
            if _jsonable(getattr(report, name, None)) != entry["original"]}


def summary(session: Session, report: IncidentReport, tz: ZoneInfo) -> dict:
    """The short form for lists: id, night, property, address, category, outcome, times."""
    doc = document(session, report, tz)
    return {k: doc[k] for k in ("id", "status", "night", "landlord", "property", "address",
                                "lagenhetsnummer", "category", "outcome", "released_at")} | {
        "call_received_at": doc["timeline"][0]["at"]}


def record_read(session: Session, user, action: str, *, ip: str | None,
                subject: str | None = None, **details) -> None:
    """Audit a read: ``report.read`` (one report, in some format), ``report.list``,
    ``report.export``. Ids, dates and counts only."""
    record(session, action, subject=subject, ip=ip, user_id=user.id, details=details or None)


# -- review and release ----------------------------------------------------------------------

def correct_report(session: Session, report: IncidentReport, user, changes: dict
                   ) -> ReportRevision | None:
    """An operator's corrections before release; each changed field is recorded with its old
    and new value. Nothing changed: no revision. A released report is read-only."""
    if report.status == "released":
        raise ReportError("report_released", "the report has been released and is read-only")
    diff = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ReportError("unknown_field", f"{name} cannot be corrected")
        if name == "outcome" and value not in OUTCOMES:
            raise ReportError("invalid_outcome", f"outcome must be one of {', '.join(OUTCOMES)}")
        if name in ("arrived_at", "left_at"):
            try:
                value = _time(value, name)
            except DispatchError as exc:
                raise ReportError(exc.code, exc.message) from None
        elif name in BOOL_FIELDS:
            value = None if value is None else bool(value)
        elif name in TEXT_FIELDS:
            value = str(value or "")[:20000]
        old = getattr(report, name)
        if old != value:
            diff[name] = [_jsonable(old), _jsonable(value)]
            setattr(report, name, value)
    if not diff:
        return None
    revision = ReportRevision(report_id=report.id, user_id=user.id, action="corrected",
                              changes=diff, at=utcnow())
    session.add(revision)
    record(session, "report.corrected", subject=f"report:{report.id}", user_id=user.id,
           details={"fields": sorted(diff)})
    session.flush()
    return revision


def release_report(session: Session, report: IncidentReport, user) -> IncidentReport:
    """Release a reviewed report to the landlord; from now on it is read-only. Releasing
    twice changes nothing."""
    if report.status == "released":
        return report
    now = utcnow()
    report.status = "released"
    report.released_at = now
    report.released_by_id = user.id
    session.add(ReportRevision(report_id=report.id, user_id=user.id, action="released", at=now))
    record(session, "report.released", subject=f"report:{report.id}", user_id=user.id)
    session.flush()
    return report


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value
