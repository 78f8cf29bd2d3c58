"""Patrol tablets: the offline-first tablet app and the ``/field`` websocket (issue 5)."""

from flask import Blueprint

bp = Blueprint("field", __name__, url_prefix="/field")
