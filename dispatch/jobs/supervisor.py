"""The supervisor's view of the night's alarms (issue 19): every alarm standing, above
everything on every console until handled, and the ones handled tonight with who handled them
and when. Three kinds of alarm stand together:

* a car's alarm (``alarm``, ``silent``) and a missed check-in (``checkin_missed``): the
  ``PatrolAlarm`` rows, handled when an operator acknowledges them (``resolution``
  ``operator``), or, for a missed check-in, when the crew checks in (``check_in``) or the job
  leaves the site (``left_site``);
* a job its car has not accepted in time (``not_accepted``; ``no_car`` when it went back to the
  queue with no car free): the acknowledgement timer's (``jobs.ack_timer``), kept on the job
  (``Job.alarm``) and in its history (``ack_alarm``). It is handled by the next step of the
  history that is not the timer's own: the car accepting (or going on), an operator sending it
  elsewhere, putting it back in the queue or cancelling it, or the server sending it to the next
  car. Read from the history, so nothing is stored twice.

A night runs from noon to noon in the service's time zone, as on ``/console/figures``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.clock import iso
from dispatch.jobs.figures import night_bounds
from dispatch.jobs.safety import alarm_json
from dispatch.models import Job, JobEvent, Patrol, PatrolAlarm, User, utcnow

NOT_ACCEPTED = "not_accepted"
ACTIVE = ("queued", "assigned", "accepted", "en_route", "on_site")
# The steps that end a job's "not accepted" alarm, and how they are named (``how``).
CAR_STEPS = ("accepted", "en_route", "on_site", "done")
ENDING = {**dict.fromkeys(CAR_STEPS, "accepted"), "assigned": "moved",
          "reassigned": "moved", "cancelled": "cancelled", "queued": "queued",
          "withdrawn": "withdrawn"}


def current_night(tz: str, now: datetime | None = None) -> date:
    """The night (noon to noon) that ``now`` is in."""
    return ((now or utcnow()).astimezone(ZoneInfo(tz)) - timedelta(hours=12)).date()


def _timers_own(event: JobEvent) -> bool:
    """The timer's withdrawal and requeue of a job nobody accepted: its alarm goes on."""
    return (event.kind in ("withdrawn", "queued") and event.user_id is None
            and (event.details or {}).get("reason") == NOT_ACCEPTED)


def _starts(event: JobEvent) -> bool:
    return event.kind == "ack_alarm" or (event.kind == "queued" and _timers_own(event))


def job_alarm_episodes(events: list[JobEvent]) -> list[dict]:
    """A job's "not accepted" alarms from its history (ordered as written): each with the
    event that raised it, the last kind it had, and the event that ended it (None: standing)."""
    episodes, current = [], None
    for i, event in enumerate(events):
        if current is None:
            if _starts(event):
                current = {"start": event, "kind": "no_car" if event.kind == "queued"
                           else NOT_ACCEPTED, "end": None}
                episodes.append(current)
            continue
        if _timers_own(event):
            if event.kind == "queued":
                current["kind"] = "no_car"
            continue
        if event.kind in ENDING:
            current["end"], current["how"] = event, ENDING[event.kind]
            if event.kind == "withdrawn" and i + 1 < len(events) \
                    and events[i + 1].kind in ("assigned", "queued"):
                # An operator took it from the car: sent on (moved) or back to the queue.
                current["how"] = ENDING[events[i + 1].kind]
            current = None
    return episodes


def _names(session: Session, ids: set[int], model) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.scalars(select(model).where(model.id.in_(ids)))
    if model is User:
        return {u.id: u.name or u.email for u in rows}
    return {p.id: p.call_sign for p in rows}


def _patrol_item(session: Session, alarm: PatrolAlarm, handled: bool) -> dict:
    shown = alarm_json(session, alarm)
    item = {**shown, "key": f"alarm:{alarm.id}", "source": "patrol",
            "handled_at": shown["acknowledged_at"], "handled_by": shown["acknowledged_by"],
            "how": alarm.resolution or ("operator" if alarm.acknowledged_at else None)}
    if handled:
        item.pop("portkod", None)  # what is over needs no door code
    return item


def _job_items(session: Session, since: datetime) -> tuple[list[dict], list[dict]]:
    """Standing "not accepted" alarms, and those handled since ``since``."""
    standing_ids = set(session.scalars(select(Job.id).where(
        Job.alarm.is_not(None), Job.status.in_(ACTIVE))))
    recent_ids = set(session.scalars(select(JobEvent.job_id).where(
        JobEvent.at >= since - timedelta(hours=1),
        JobEvent.kind.in_(("ack_alarm", "queued")))))
    ids = standing_ids | recent_ids
    if not ids:
        return [], []
    events: dict[int, list[JobEvent]] = {}
    for event in session.scalars(select(JobEvent).where(JobEvent.job_id.in_(ids))
                                 .order_by(JobEvent.job_id, JobEvent.id)):
        events.setdefault(event.job_id, []).append(event)
    jobs = {j.id: j for j in session.scalars(select(Job).where(Job.id.in_(ids)))}
    episodes = [(job_id, e) for job_id in sorted(ids)
                for e in job_alarm_episodes(events.get(job_id, []))]
    users = _names(session, {e["end"].user_id for _j, e in episodes
                             if e["end"] is not None and e["end"].user_id}, User)
    cars = _names(session, {ev.patrol_id for _j, e in episodes for ev in (e["start"], e["end"])
                            if ev is not None and ev.patrol_id}, Patrol)
    standing, handled = [], []
    for job_id, episode in episodes:
        job, start, end = jobs[job_id], episode["start"], episode["end"]
        complaint = job.complaint
        item = {"key": f"job:{job_id}:{start.id}", "source": "job", "kind": episode["kind"],
                "job_id": job_id, "address": complaint.address,
                "lagenhetsnummer": complaint.lagenhetsnummer,
                "patrol_id": start.patrol_id, "call_sign": cars.get(start.patrol_id),
                "raised_at": iso(start.at), "handled_at": None, "handled_by": None,
                "how": None}
        if end is None:
            if job_id in standing_ids:
                item["kind"] = job.alarm if job.alarm in (NOT_ACCEPTED, "no_car") \
                    else item["kind"]
                standing.append(item)
            continue
        if end.at < since and start.at < since:
            continue
        how = episode["how"]
        by = users.get(end.user_id) if end.user_id else (
            cars.get(end.patrol_id) if how == "accepted" else None)
        item.update(handled_at=iso(max(end.at, start.at)), handled_by=by, how=how)
        handled.append(item)
    return standing, handled


def _when(text: str | None) -> datetime:
    return datetime.fromisoformat(text) if text else datetime.min.replace(tzinfo=ZoneInfo("UTC"))


def alarm_board(session: Session, tz: str, now: datetime | None = None) -> dict:
    """Every alarm standing (oldest first), and those handled tonight (newest first)."""
    night = current_night(tz, now)
    since, _end = night_bounds(night, tz)
    standing = [_patrol_item(session, a, False) for a in session.scalars(
        select(PatrolAlarm).where(PatrolAlarm.acknowledged_at.is_(None))
        .order_by(PatrolAlarm.raised_at, PatrolAlarm.id))]
    handled = [_patrol_item(session, a, True) for a in session.scalars(
        select(PatrolAlarm).where(PatrolAlarm.acknowledged_at >= since)
        .order_by(PatrolAlarm.acknowledged_at.desc(), PatrolAlarm.id.desc()).limit(500))]
    job_standing, job_handled = _job_items(session, since)
    standing = sorted(standing + job_standing, key=lambda i: (_when(i["raised_at"]), i["key"]))
    handled = sorted(handled + job_handled, key=lambda i: _when(i["handled_at"]), reverse=True)
    return {"night": night.isoformat(), "standing": standing, "handled": handled}


FIGURE_KINDS = ("alarm", "silent", "checkin_missed", NOT_ACCEPTED)


def _seconds(start: datetime, end: datetime) -> float:
    return round(max(0.0, (end - start).total_seconds()), 1)


def alarm_figures(session: Session, night: date, tz: str) -> dict:
    """The night's alarms by kind (a car's alarm, a silent one, a missed check-in, a job not
    accepted in time: ``no_car`` counts as not accepted), each with how many were
    acknowledged and the time to acknowledge (median, max, seconds): for the cars' alarms and
    missed check-ins until an operator acknowledged them (a check-in that cleared one is not
    an operator's acknowledgement and is counted apart), for a job not accepted until it was
    taken or moved."""
    start, end = night_bounds(night, tz)
    times: dict[str, list[float]] = {kind: [] for kind in FIGURE_KINDS}
    counts = dict.fromkeys(FIGURE_KINDS, 0)
    cleared = dict.fromkeys(FIGURE_KINDS, 0)
    for alarm in session.scalars(select(PatrolAlarm).where(
            PatrolAlarm.raised_at >= start, PatrolAlarm.raised_at < end)):
        kind = alarm.kind if alarm.kind in counts else "alarm"
        counts[kind] += 1
        if alarm.acknowledged_at is None:
            continue
        if alarm.acknowledged_by_id is not None or alarm.resolution == "operator":
            times[kind].append(_seconds(alarm.raised_at, alarm.acknowledged_at))
        else:
            cleared[kind] += 1
    job_ids = set(session.scalars(select(JobEvent.job_id).where(
        JobEvent.at >= start, JobEvent.at < end, JobEvent.kind.in_(("ack_alarm", "queued")))))
    events: dict[int, list[JobEvent]] = {}
    if job_ids:
        for event in session.scalars(select(JobEvent).where(JobEvent.job_id.in_(job_ids))
                                     .order_by(JobEvent.job_id, JobEvent.id)):
            events.setdefault(event.job_id, []).append(event)
    for job_events in events.values():
        for episode in job_alarm_episodes(job_events):
            if not start <= episode["start"].at < end:
                continue
            counts[NOT_ACCEPTED] += 1
            if episode["end"] is not None:
                times[NOT_ACCEPTED].append(_seconds(episode["start"].at, episode["end"].at))
    rows = []
    for kind in FIGURE_KINDS:
        found = sorted(times[kind])
        rows.append({"kind": kind, "count": counts[kind], "acknowledged": len(found),
                     "cleared": cleared[kind],
                     "median_seconds": round(median(found), 1) if found else None,
                     "max_seconds": found[-1] if found else None})
    every = sorted(t for kind in FIGURE_KINDS for t in times[kind])
    return {"night": night.isoformat(), "kinds": rows, "total": sum(counts.values()),
            "median_seconds": round(median(every), 1) if every else None,
            "max_seconds": every[-1] if every else None}
