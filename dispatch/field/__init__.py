"""Patrol tablets: the offline-first tablet app and its API (``routes``: the shift log-in with
its crew), the register read-only for a car on duty (``register_api``: search, object view,
the job's history), the ``/field`` websocket (``events``: connect, job delivery, statuses,
positions, call attempts, reports, re-sends; ``calls``: the call attempts' rules).
May import core, models, auth and the domain packages (jobs, register, reports.service)."""

from dispatch.field import register_api  # noqa: F401 (its routes join the tablet's API)
from dispatch.field.routes import bp

__all__ = ["bp"]
