"""Operator console: the page (``routes``), the call centre's HTTP API (``api``: screen pop,
address search, complaints, dispatch, the job actions: re-dispatch, cancel, back to the
queue), the ``/console`` websocket (``events``) and the acknowledgement timer's pass in the
web processes' upkeep (``timers``, with the SMS escalation's passes), and the SMS gateway's
delivery reports (``sms_hooks``, ``/hooks/sms/delivery/<signed id>``).
May import core, models, auth and the domain packages (register, jobs)."""

from dispatch.callcenter.routes import bp

__all__ = ["bp"]
