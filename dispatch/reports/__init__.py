"""Incident reports: review and release, morning mail, landlord reading, retention (issue 6)."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
