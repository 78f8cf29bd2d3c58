"""The call centre's HTTP API (../shared/CONTRACT.md): calls, address search, complaints,
dispatch, jobs. Thin: parse, check access, call the domain, answer (the request commits)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from dispatch.api import api_blueprint
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.core.audit import record
from dispatch.core.clock import iso
from dispatch.core.errors import ApiError, found, storable
from dispatch.core.extensions import db
from dispatch.core.ids import MAX_ID, is_id
from dispatch.core.realtime import publish
from dispatch.jobs.board import console_job
from dispatch.jobs.calls import incoming_call, take_call, waiting_calls
from dispatch.jobs.dispatching import (
    DispatchError,
    NewComplaint,
    assign,
    cancel,
    create_complaint,
    dispatch_nearest,
    distance_m,
    nearest_available,
    open_jobs,
    redispatch,
    requeue,
)
from dispatch.jobs.figures import call_to_dispatch
from dispatch.jobs.patrols import list_patrols, patrol_json
from dispatch.jobs.safety import acknowledge_alarm, alarm_json, standing_alarms
from dispatch.jobs.supervisor import alarm_board
from dispatch.models import (
    Call,
    Complaint,
    Entrance,
    Job,
    Patrol,
    PatrolAlarm,
    RentalObject,
    User,
)
from dispatch.register.landlords import get_landlord
from dispatch.register.premises import entrance_view, object_view
from dispatch.register.search import address_search

bp = api_blueprint("callcenter_api", __name__)
MAX_REASON = 500


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    if not storable(body):
        raise ApiError(400, "invalid_text",
                       "text must be valid Unicode without NUL characters")
    return body


def _max_age() -> timedelta:
    return timedelta(seconds=current_app.config["PATROL_POSITION_MAX_AGE_S"])


def _grace() -> timedelta:
    """How long a car whose tablet went away is still recommended (PRESENCE_GRACE_S)."""
    return timedelta(seconds=current_app.config["PRESENCE_GRACE_S"])


@bp.post("/calls")
@roles_required("operator")
def calls():
    """The telephony webhook: a call rings; the consoles get the screen pop."""
    body = _body()
    dialled = body.get("dialled_number")
    if not isinstance(dialled, str) or not dialled.strip():
        raise ApiError(400, "dialled_number_required", "dialled_number is required")
    caller = body.get("caller_number")
    if caller is not None and not isinstance(caller, str):
        raise ApiError(400, "invalid_caller_number", "caller_number must be a string")
    call, pop = incoming_call(db.session, dialled, caller)
    # Every console is shown the callers' tenants: audited once per call, as a read.
    record(db.session, "call.screen_pop", subject=f"call:{call.id}", ip=client_ip(),
           user_id=current_user.id, details={"tenants": len(pop.get("tenants") or [])})
    return jsonify(pop), 201


@bp.post("/calls/<int:call_id>/take")
@roles_required("operator")
def take(call_id: int):
    """An operator takes the call (N on the console): off every console's waiting calls."""
    call = found(db.session.get(Call, call_id), "call", call_id)
    take_call(db.session, call, user_id=current_user.id, ip=client_ip())
    return jsonify({"call_id": call.id})


@bp.get("/addresses/search")
@roles_required("operator", "patrol")
def search():
    """Search the registers; best first, with scores."""
    q = (request.args.get("q") or "").strip()
    landlord = request.args.get("landlord") or None
    try:
        limit = min(max(int(request.args.get("limit", 5)), 1), 50)
    except ValueError:
        raise ApiError(400, "invalid_limit", "limit must be a whole number") from None
    if landlord and get_landlord(db.session, landlord) is None:
        raise ApiError(404, "unknown_landlord", f"no landlord with code {landlord!r}")
    if len(q) < 2:
        return jsonify([])
    hits = address_search.search(db.session, q, landlord=landlord.upper() if landlord else None,
                                 limit=limit)
    return jsonify([h.as_json() for h in hits])


def _int_or_none(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not is_id(value):
        raise ApiError(400, f"invalid_{key}", f"{key} must be a whole number from 1 to {MAX_ID}")
    return value


@bp.post("/complaints")
@roles_required("operator")
def complaints():
    """Log a complaint; answer with the job and the nearest available patrols."""
    body = _body()
    landlord = get_landlord(db.session, str(body.get("landlord") or ""))
    if landlord is None:
        raise ApiError(400, "unknown_landlord", "landlord must be a known landlord code")
    caller = body.get("caller") or {}
    if not isinstance(caller, dict):
        raise ApiError(400, "invalid_caller", "caller must be an object {name, phone}")
    call_id = _int_or_none(body, "call_id")
    call = db.session.get(Call, call_id) if call_id else None
    data = NewComplaint(
        landlord=landlord, category=str(body.get("category") or ""),
        description=str(body.get("description") or ""),
        priority=_int_or_none(body, "priority") or 2,
        object_id=_int_or_none(body, "object_id"), entrance_id=_int_or_none(body, "entrance_id"),
        caller_name=caller.get("name"), caller_phone=caller.get("phone"),
        disturbed_party=body.get("disturbed_party"),
        suspected_object_id=_int_or_none(body, "suspected_object_id"),
        suspected_source=body.get("suspected_source"),
        call_id=call.id if call else None,
        call_received_at=call.received_at if call else None,
    )
    try:
        job = create_complaint(db.session, data, user_id=current_user.id)
    except DispatchError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    recommended = []
    if job.complaint.lat is not None:
        recommended = nearest_available(db.session, job.complaint.lat, job.complaint.lon,
                                        limit=3, max_age=_max_age(), seen_within=_grace())
    return jsonify({"complaint_id": job.complaint_id, "job_id": job.id,
                    "recommended": [c.as_json() for c in recommended]}), 201


def _load_job(job_id: int) -> Job | None:
    """A job with what dispatching it reads (complaint, entrance) in one query."""


    complaint = joinedload(Job.complaint)
    return db.session.get(Job, job_id, options=[
        complaint.joinedload(Complaint.entrance), complaint.joinedload(Complaint.rental_object),
        joinedload(Job.events)])


@bp.post("/jobs/<int:job_id>/dispatch")
@roles_required("operator")
def dispatch_job(job_id: int):
    """Send the job to the given patrol, or ({}) to the nearest available one."""
    job = found(_load_job(job_id), "job", job_id)
    body = _body()
    patrol_id = _int_or_none(body, "patrol_id")
    try:
        if patrol_id is None:
            job, best = dispatch_nearest(db.session, job, user_id=current_user.id,
                                         max_age=_max_age(), seen_within=_grace())
            distance = best.distance_m if best else None
        else:
            patrol = db.session.get(Patrol, patrol_id)
            if patrol is None:
                raise ApiError(400, "unknown_patrol", f"no patrol {patrol_id}")
            distance = distance_m(job.complaint, patrol)
            assign(db.session, job, patrol, user_id=current_user.id, distance_m=distance)
    except DispatchError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    return jsonify({"job_id": job.id, "patrol_id": job.patrol_id, "status": job.status,
                    "distance_m": round(distance) if distance is not None else None})


@bp.get("/jobs/<int:job_id>")
@roles_required("operator")
def get_job(job_id: int):
    """One job with its status history, and its full history (``events``: every kind, with
    the car, the operator and the details) for the console's job view."""
    job = found(db.session.get(Job, job_id), "job", job_id)
    return jsonify({**console_job(job), "events": _events(job)})


def _events(job: Job) -> list[dict]:
    patrols = {p.id: p for p in db.session.scalars(select(Patrol).where(Patrol.id.in_(
        {e.patrol_id for e in job.events if e.patrol_id})))}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {e.user_id for e in job.events if e.user_id})))}
    rows = []
    for e in job.events:
        patrol, user = patrols.get(e.patrol_id), users.get(e.user_id)
        rows.append({"kind": e.kind, "at": iso(e.at), "patrol_id": e.patrol_id,
                     "patrol": patrol.name if patrol else None, "user_id": e.user_id,
                     "user": (user.name or user.email) if user else None,
                     "details": e.details or {}})
    return rows


def _action_job(job_id: int) -> Job:
    job = found(_load_job(job_id), "job", job_id)
    if job.status in ("done", "cancelled"):
        raise ApiError(409, "job_closed", f"job {job.id} is {job.status}")
    return job


def _announce(job: Job, action: str, **extra) -> None:
    """Tell every console who did what (the board's state comes with ``job.updated``)."""
    publish(db.session, "job.action", {"job_id": job.id, "action": action,
                                       "user": current_user.name or current_user.email,
                                       **extra}, namespace="/console")


@bp.post("/jobs/<int:job_id>/redispatch")
@roles_required("operator")
def redispatch_job(job_id: int):
    """Move the job on: to ``patrol_id``, or ({}) to the nearest available car that has not
    had it. 409 ``no_patrol_available`` (nothing changed) when there is none."""
    job = _action_job(job_id)
    body = _body()
    patrol_id = _int_or_none(body, "patrol_id")
    patrol = None
    if patrol_id is not None:
        patrol = db.session.get(Patrol, patrol_id)
        if patrol is None:
            raise ApiError(400, "unknown_patrol", f"no patrol {patrol_id}")
    before = job.patrol_id
    try:
        best = redispatch(db.session, job, user_id=current_user.id, reason="operator",
                          max_age=_max_age(), seen_within=_grace(), patrol=patrol)
    except DispatchError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    if best is None:
        raise ApiError(409, "no_patrol_available",
                       "no other car is available: the job stays where it is")
    _announce(job, "redispatched", patrol_id=job.patrol_id, from_patrol_id=before)
    return jsonify({"job_id": job.id, "patrol_id": job.patrol_id, "status": job.status,
                    "distance_m": round(best.distance_m)})


@bp.post("/jobs/<int:job_id>/cancel")
@roles_required("operator")
def cancel_job(job_id: int):
    """Cancel the job; ``reason`` (1–500 characters) is required."""
    job = _action_job(job_id)
    reason = _body().get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(400, "reason_required", "reason is required: say why it is cancelled")
    if len(reason.strip()) > MAX_REASON:
        raise ApiError(400, "reason_too_long", f"reason is at most {MAX_REASON} characters")
    before = job.patrol_id
    try:
        cancel(db.session, job, user_id=current_user.id, reason=reason.strip())
    except DispatchError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    _announce(job, "cancelled", from_patrol_id=before)
    return jsonify({"job_id": job.id, "status": job.status})


@bp.post("/jobs/<int:job_id>/requeue")
@roles_required("operator")
def requeue_job(job_id: int):
    """Take the job from its car and put it back in the queue (409 ``already_queued``)."""
    job = _action_job(job_id)
    _body()
    before = job.patrol_id
    try:
        requeue(db.session, job, user_id=current_user.id, reason="operator")
    except DispatchError as exc:
        raise ApiError(409, exc.code, exc.message) from None
    _announce(job, "requeued", from_patrol_id=before)
    return jsonify({"job_id": job.id, "status": job.status})


@bp.get("/objects/<int:object_id>")
@roles_required("operator")
def get_object(object_id: int):
    """The object view: address, flat, tenants, door code, neighbours, premise history."""

    obj = found(db.session.get(RentalObject, object_id), "object", object_id)
    view = object_view(db.session, obj, retention_days=current_app.config["REPORT_RETENTION_DAYS"])
    # The door code only on an explicit, audited "show" (``routes.door_code``).
    view["door_code_known"] = bool(view.pop("door_code", None))
    record(db.session, "object.viewed", subject=f"object:{obj.id}", ip=client_ip(),
           user_id=current_user.id, details={"tenants": len(view["tenants"])})
    return jsonify(view)


@bp.get("/entrances/<int:entrance_id>")
@roles_required("operator")
def get_entrance(entrance_id: int):
    """An address with its objects, to choose the flat."""

    entrance = found(db.session.get(Entrance, entrance_id), "entrance", entrance_id)
    view = entrance_view(db.session, entrance)
    # A search hit opened: the address's flats and their tenants are read.
    record(db.session, "entrance.viewed", subject=f"entrance:{entrance.id}", ip=client_ip(),
           user_id=current_user.id)
    return jsonify(view)


@bp.get("/board")
@roles_required("operator")
def board():
    """The live board's starting state: open jobs and every patrol (then /console events)."""

    return jsonify({
        "jobs": [console_job(j) for j in open_jobs(db.session)],
        "patrols": [patrol_json(p) for p in list_patrols(db.session)],
        "calls": waiting_calls(db.session),
        "ack_alarm_after_s": current_app.config["ACK_ALARM_AFTER_S"],
        "ack_redispatch_after_s": current_app.config["ACK_REDISPATCH_AFTER_S"],
    })


@bp.get("/alarms")
@roles_required("operator")
def alarms():
    """The cars' alarms no operator has acknowledged (issue 19), oldest first: what a console
    shows above everything else when it (re)loads; then ``patrol.alarm`` events."""
    return jsonify([alarm_json(db.session, a) for a in standing_alarms(db.session)])


@bp.get("/alarms/board")
@roles_required("operator")
def alarms_board():
    """The supervisor's view (issue 19): every alarm standing (a car's alarm, a missed
    check-in, a job not accepted in time), oldest first, and the ones handled tonight (noon to
    noon), newest first, with who handled them, when and how."""
    return jsonify(alarm_board(db.session, current_app.config["DISPATCH_TZ"]))


@bp.post("/alarms/<int:alarm_id>/acknowledge")
@roles_required("operator")
def acknowledge(alarm_id: int):
    """An operator has the car's alarm: recorded, audited, told to every console and the
    car's tablet. Acknowledging one already acknowledged changes nothing (200, ``changed``
    false, who had it)."""
    if not is_id(alarm_id):
        raise ApiError(404, "not_found", f"no alarm {alarm_id}")
    alarm = found(db.session.get(PatrolAlarm, alarm_id), "alarm", alarm_id)
    _body()
    changed = acknowledge_alarm(db.session, alarm, user_id=current_user.id, ip=client_ip())
    return jsonify({**alarm_json(db.session, alarm), "changed": changed})


@bp.get("/figures/call-to-dispatch")
@roles_required("operator")
def figures():
    """Call-to-dispatch seconds per job and the share within 60 s, for one night."""


    raw = request.args.get("night")
    try:
        night = date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ApiError(400, "invalid_night", "night must be YYYY-MM-DD") from None
    if night is None:

        now = datetime.now(ZoneInfo(current_app.config["DISPATCH_TZ"]))
        night = (now - timedelta(hours=12)).date()
    return jsonify(call_to_dispatch(db.session, night, current_app.config["DISPATCH_TZ"]))
