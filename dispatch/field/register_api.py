"""The register on the tablet (issue 13: "the staff in the cars have the same system"): read
only, for a car on duty. The same search and object view as the console (``register.search``,
``register.premises``), under ``/api/v1/field/...`` with the device token of a shift log-in (or
a car's integration token) as a bearer token, and the history of one of the car's own jobs.

Who may read: a token bound to a call sign (``auth.sockets.bound_call_sign``) whose car is on
duty; an off-duty car is refused ``off_duty``, a token that is no car's ``not_a_car``. Reads of
tenant data are audited as the console's are (``object.viewed``, ``entrance.viewed``, with the
car's call sign). The door code is not in the object view here: it reaches a car only with
the job it is assigned (``jobs.shapes.job_for_tablet``).
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from dispatch.auth import bearer_token
from dispatch.auth.routes import client_ip
from dispatch.auth.service import token_digest, user_for_token
from dispatch.auth.sockets import bound_call_sign
from dispatch.core.audit import record
from dispatch.core.clock import iso
from dispatch.core.errors import ApiError, found
from dispatch.core.extensions import db
from dispatch.field.routes import api
from dispatch.models import ApiToken, Entrance, Job, Patrol, RentalObject
from dispatch.register.premises import entrance_view, object_view
from dispatch.register.search import address_search

SEARCH_LIMIT = 10


def car_on_duty() -> Patrol:
    """The car this request is (its bearer token's call sign), if it is on duty; else a JSON
    401 (no or a dead token), 403 ``not_a_car`` or 403 ``off_duty``."""
    token = bearer_token()
    user = user_for_token(db.session, token) if token else None
    if user is None:
        raise ApiError(401, "unauthorized", "send the device token as a bearer token")
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    call_sign = bound_call_sign(row)
    patrol = (db.session.scalar(select(Patrol).where(Patrol.call_sign == call_sign))
              if call_sign else None)
    if patrol is None or user.role != "patrol":
        raise ApiError(403, "not_a_car", "only a patrol car's tablet may read the register here")
    if patrol.status == "off_duty":
        raise ApiError(403, "off_duty", "the register is open to a car on duty only")
    g.field_user = user
    return patrol


def _private(body):
    """A JSON answer the tablet's browser keeps in no cache (tenant data stays on the server)."""
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _audit(action: str, subject: str, patrol: Patrol, **details) -> None:
    record(db.session, action, subject=subject, ip=client_ip(), user_id=g.field_user.id,
           details={"call_sign": patrol.call_sign, **details})


@api.get("/search")
def search():
    """The console's register search (``q``, at least two characters), best first."""
    car_on_duty()
    q = (request.args.get("q") or "").strip()
    if len(q) > 200:
        raise ApiError(400, "invalid_query", "the search is at most 200 characters")
    if len(q) < 2:
        return _private([])
    hits = address_search.search(db.session, q, limit=SEARCH_LIMIT)
    # No score on the tablet's screen: the order says it.
    return _private([{k: v for k, v in h.as_json().items() if k != "score"} for h in hits])


@api.get("/entrances/<int:entrance_id>")
def entrance(entrance_id: int):
    """An address with its flats and their tenants' names (a search hit opened)."""
    patrol = car_on_duty()
    found_entrance = found(db.session.get(Entrance, entrance_id), "entrance", entrance_id)
    view = entrance_view(db.session, found_entrance)
    _audit("entrance.viewed", f"entrance:{found_entrance.id}", patrol)
    return _private(view)


@api.get("/objects/<int:object_id>")
def rental_object(object_id: int):
    """The object view: address, flat, tenants with phones, neighbours above and below, the
    premise history of the object and its entrance. No door code."""
    patrol = car_on_duty()
    obj = found(db.session.get(RentalObject, object_id), "object", object_id)
    view = object_view(db.session, obj,
                       retention_days=current_app.config["REPORT_RETENTION_DAYS"])
    view.pop("door_code", None)
    _audit("object.viewed", f"object:{obj.id}", patrol, tenants=len(view["tenants"]))
    return _private(view)


@api.get("/jobs/<int:job_id>/history")
def job_history(job_id: int):
    """The history of a job this car has now (oldest first): each step with its time, the
    car's call sign and, for a call attempt, the number and whether it was answered."""
    patrol = car_on_duty()
    job = db.session.get(Job, job_id)
    if job is None or job.patrol_id != patrol.id:
        raise ApiError(404, "unknown_job", "this job is not one of this car's")
    ids = {e.patrol_id for e in job.events if e.patrol_id is not None}
    signs = dict(db.session.execute(
        select(Patrol.id, Patrol.call_sign).where(Patrol.id.in_(ids))).all()) if ids else {}
    events = []
    for event in sorted(job.events, key=lambda e: (e.at, e.id)):
        item = {"kind": event.kind, "at": iso(event.at),
                "call_sign": signs.get(event.patrol_id)}
        if event.kind == "call_attempt" and event.details:
            item["answered"] = bool(event.details.get("answered"))
            item["number"] = event.details.get("number")
        events.append(item)
    return _private({"job_id": job.id, "status": job.status, "events": events})
