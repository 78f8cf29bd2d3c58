"""Operator console: screen pop, address search, complaint intake, dispatch board.

Pages and ``/console`` handlers arrive with issue 4; the blueprint is registered now so that
the URL space is fixed.
"""

from flask import Blueprint

bp = Blueprint("callcenter", __name__, url_prefix="/console")

from dispatch.callcenter import routes  # noqa: E402,F401  (registers the views on bp)
