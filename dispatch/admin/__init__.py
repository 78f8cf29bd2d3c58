"""Administration pages: register imports (upload, progress, history, error reports)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from dispatch.admin import routes  # noqa: E402,F401  (registers the views on bp)
