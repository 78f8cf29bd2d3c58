"""Incident reports: review and release, morning mail, landlord reading access, retention.

``bp`` holds the pages under /reports (routes.py); ``api.bp`` the /api/v1/reports endpoints.
The work is in plain modules: service (access, documents, review), morning (the mail),
codes (one-time log-in codes), retention (deletion), nights (Stockholm nights and mornings).
"""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from dispatch.reports import routes  # noqa: E402,F401  (registers the pages on bp)
