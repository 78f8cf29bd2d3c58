"""The SMS gateway's delivery reports (issue 19): 46elks posts ``id`` and ``status``
(``delivered`` / ``failed``) as a form to the ``whendelivered`` URL each message was sent
with, ``/hooks/sms/delivery/TOKEN``. TOKEN is our message's id signed with ``SECRET_KEY``
(``jobs.escalation.callback_token``): the gateway can send no header of ours, so the URL
carries the proof, and nothing personal. A report for another gateway id than the one we
recorded, or a token we did not sign, changes nothing (404 / 409, JSON errors)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dispatch.core.errors import ApiError
from dispatch.core.extensions import csrf, db
from dispatch.jobs.escalation import message_of_token, record_delivery

bp = Blueprint("sms_hooks", __name__, url_prefix="/hooks/sms")
csrf.exempt(bp)
STATUSES = ("delivered", "failed")


@bp.post("/delivery/<token>")
def delivery(token: str):
    """A delivery report: 200 ``{"changed": bool}``."""
    message = message_of_token(db.session, token, current_app.config["SECRET_KEY"])
    if message is None:
        raise ApiError(404, "not_found", "no such message")
    status = request.form.get("status") or (request.get_json(silent=True) or {}).get("status")
    gateway_id = request.form.get("id") or (request.get_json(silent=True) or {}).get("id")
    if status not in STATUSES:
        raise ApiError(400, "invalid_status", "status must be delivered or failed")
    if message.gateway_id and gateway_id and gateway_id != message.gateway_id:
        raise ApiError(409, "wrong_message", "the id is not this message's")
    if message.gateway_id is None and gateway_id:
        message.gateway_id = str(gateway_id)[:80]
    return jsonify({"changed": record_delivery(db.session, message, status=status)})
