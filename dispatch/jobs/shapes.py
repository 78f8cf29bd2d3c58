"""What a job looks like on the wire: to consoles and the API (``job_json``) and to the
assigned car's tablet (``job_for_tablet``, the only shape with the door code)."""

from __future__ import annotations

from sqlalchemy.orm import object_session

from dispatch.core.clock import iso
from dispatch.core.phones import display_phone
from dispatch.jobs.areas import outside_every_area
from dispatch.jobs.checkins import interval_s
from dispatch.models import Job, RentalObject
from dispatch.register.premises import history, tenant_phones


def job_json(job: Job) -> dict:
    """The job as the console and the API show it, with its status history."""
    c = job.complaint
    return {
        "job_id": job.id, "complaint_id": c.id, "status": job.status,
        "patrol_id": job.patrol_id, "landlord_id": c.landlord_id, "category": c.category,
        "priority": c.priority, "address": c.address, "lagenhetsnummer": c.lagenhetsnummer,
        "lat": c.lat, "lon": c.lon, "description": c.description,
        # Issue 13: true when the address is outside every car's area (None: no areas).
        "outside_areas": outside_every_area(object_session(job), c.lat, c.lon),
        "call_received_at": iso(c.call_received_at), "created_at": iso(job.created_at),
        "dispatched_at": iso(job.dispatched_at), "acknowledged_at": iso(job.acknowledged_at),
        "arrived_at": iso(job.arrived_at), "finished_at": iso(job.finished_at),
        "history": [{"kind": e.kind, "at": iso(e.at), "patrol_id": e.patrol_id}
                    for e in job.events],
    }


def job_for_tablet(job: Job, *, earlier_limit: int = 5, retention_days: int = 90,
                   check_in: bool = True) -> dict:
    """What the assigned patrol's tablet gets (the door code only goes here). Kept small (a
    few hundred bytes): it travels over 4G and is stored on the tablet. ``check_in`` False:
    without ``check_in_s``, which the caller fills in (``dispatching.assign`` reads it in the
    statement that writes the assignment, on PostgreSQL)."""
    c = job.complaint
    entrance = c.entrance
    flat, suspected = c.rental_object, None
    if c.suspected_object_id is not None:
        obj = object_session(job).get(RentalObject, c.suspected_object_id)
        suspected = {"lagenhetsnummer": obj.lagenhetsnummer, "floor": obj.floor} if obj else None
    earlier = []
    if flat is not None and earlier_limit:
        earlier = [{"at": h["at"], "category": h["category"], "role": h["role"],
                    "lagenhetsnummer": h["lagenhetsnummer"]}
                   for h in history(object_session(job), flat, retention_days=retention_days,
                                    limit=earlier_limit + 1)
                   if h["complaint_id"] != c.id][:earlier_limit]
    payload = {
        "job_id": job.id, "address": c.address, "lagenhetsnummer": c.lagenhetsnummer,
        "floor": flat.floor if flat is not None else None,
        "portkod": entrance.door_code if entrance else None, "category": c.category,
        "priority": c.priority, "description": c.description,
        "caller": {"name": c.caller_name, "phone": c.caller_phone,
                   "phone_display": display_phone(c.caller_phone) if c.caller_phone else None},
        "lat": c.lat, "lon": c.lon, "suspected_source": c.suspected_source,
        "suspected": suspected, "earlier": earlier,
        "disturbed_party": c.disturbed_party, "call_received_at": iso(c.call_received_at),
        "assigned_at": iso(job.dispatched_at),
        # Issue 13: the object (for the tablet's object view) and, when the caller left no
        # number, the disturbed flat's tenants' phones from the register.
        "object_id": c.object_id,
        "tenants": (tenant_phones(object_session(job), flat)
                    if flat is not None and not c.caller_phone else []),
    }
    if check_in:
        # Issue 19: how often the tablet asks "all well?" on site (the landlord's and the
        # category's setting, as the server's timer counts it).
        payload["check_in_s"] = interval_s(object_session(job), c.landlord_id, c.category)
    return payload
