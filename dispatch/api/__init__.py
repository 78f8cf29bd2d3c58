"""The HTTP API under /api/v1 (../shared/CONTRACT.md): JSON in, JSON out, JSON errors.

Feature packages add their own API blueprints under the same prefix; this one holds what is
shared: CSRF for browser-session callers, the OpenAPI document, landlords, patrols, ``me``.
Imports core, models, auth and the domain packages; never a feature package.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from dispatch.api.openapi import document
from dispatch.auth import bearer_token, signed_in_by_cookie
from dispatch.auth.access import roles_required
from dispatch.core.errors import ApiError
from dispatch.core.extensions import csrf, db
from dispatch.jobs.patrols import list_patrols, patrol_json
from dispatch.register.landlords import landlord_json, list_landlords


def csrf_for_browser_sessions() -> None:
    """Every unsafe request must send the CSRF token, but one that comes with a bearer token
    and no cookie that logs someone in: a cross-site page cannot set the Authorization header,
    whereas a browser adds its cookies to any request. A bearer token beside such a cookie
    excuses nothing (issue 14: ``Bearer junk`` and the cookie skipped the check)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if bearer_token() and not signed_in_by_cookie():
        return
    csrf.protect()


def api_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /api/v1 with the API's CSRF rule (every feature's API uses one)."""
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1")
    csrf.exempt(blueprint)
    blueprint.before_request(csrf_for_browser_sessions)
    return blueprint


bp = api_blueprint("api", __name__)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""

    return jsonify(document())


@bp.get("/me")
@roles_required("admin", "operator", "patrol", "landlord")
def me():
    """Who the caller is: id, e-mail, role and landlord code."""
    return jsonify(
        {
            "id": current_user.id,
            "email": current_user.email,
            "role": current_user.role,
            "landlord": current_user.landlord.code if current_user.landlord else None,
        }
    )


@bp.post("/me/locale")
@roles_required("admin", "operator", "patrol", "landlord")
def set_locale():
    """Store the caller's language (``sv``, ``en`` or ``fi``) on the account."""
    languages = current_app.config["LANGUAGES"]
    body = request.get_json(silent=True)
    locale = body.get("locale") if isinstance(body, dict) else None
    if locale not in languages:
        raise ApiError(400, "invalid_locale", f"locale must be one of {', '.join(languages)}")
    current_user.locale = locale
    return jsonify({"locale": locale})


@bp.get("/landlords")
@roles_required("operator", "patrol")
def landlords():
    """Every landlord with its on-call numbers."""
    return jsonify([landlord_json(x) for x in list_landlords(db.session)])


@bp.get("/patrols")
@roles_required("operator", "patrol")
def patrols():
    """Every patrol with status and last position."""
    return jsonify([patrol_json(p) for p in list_patrols(db.session)])
