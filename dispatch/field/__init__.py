"""Patrol tablets: the offline-first tablet app and its API (``routes``), the ``/field``
websocket (``events``: connect, job delivery, statuses, positions, re-sends).
May import core, models, auth and the domain packages (jobs, register, reports.service)."""

from dispatch.field.routes import bp

__all__ = ["bp"]
