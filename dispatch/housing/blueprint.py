"""The housing queue's one blueprint; the route modules add to it."""

from flask import Blueprint

bp = Blueprint("housing", __name__, url_prefix="/bostad")
