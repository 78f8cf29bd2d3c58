"""Operator console: the page (``routes``), the call centre's HTTP API (``api``: screen pop,
address search, complaints, dispatch) and the ``/console`` websocket (``events``).
May import core, models, auth and the domain packages (register, jobs)."""

from dispatch.callcenter.routes import bp

__all__ = ["bp"]
