"""Patrol tablets: the offline-first tablet app and the ``/field`` websocket (issue 5)."""

from flask import Blueprint

bp = Blueprint("field", __name__, url_prefix="/field")

from dispatch.field import routes  # noqa: E402,F401  (registers the views on bp)
