"""A job as the consoles' board holds it: ``shapes.job_json`` and the acknowledgement timer's
alarm (``jobs.ack_timer``) while it stands. Every ``job.updated`` to the consoles is this."""

from __future__ import annotations

from dispatch.core.clock import iso
from dispatch.jobs.shapes import job_json
from dispatch.models import Job


def console_job(job: Job) -> dict:
    """The job for the board: its shape, plus ``alarm`` ("not_accepted", "no_car" or None)
    and since when."""
    return {**job_json(job), "alarm": job.alarm, "alarm_at": iso(job.alarm_at)}
