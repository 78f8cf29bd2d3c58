"""The portal's one blueprint; the route modules (``accounts``, ``pages``, …) add to it."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")
