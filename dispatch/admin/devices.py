"""The tablets' device sessions (shift log-ins): who, which car, when last used; an admin
revokes a lost tablet's here."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dispatch.admin.routes import bp
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.auth.service import device_sessions, revoke_token_id
from dispatch.core.audit import record
from dispatch.core.extensions import db
from dispatch.field.sessions import end_token_session
from dispatch.models import ApiToken, utcnow


@bp.get("/devices")
@roles_required("admin")
def devices():
    """The tablets' shift log-ins: who, which car, when last used; revoke a lost tablet's."""
    now = utcnow()
    rows = device_sessions(db.session)
    return render_template("admin/devices.html", rows=rows, now=now)


@bp.post("/devices/<int:token_id>/revoke")
@roles_required("admin")
def revoke_device(token_id: int):
    """Revoke one device session: the tablet is disconnected at once (and refused from then
    on), and if this was the car's current tablet session the car goes off duty and the jobs
    it had not acknowledged go back to the queue (``field.sessions``)."""
    row = db.session.get(ApiToken, token_id)
    was_live = row is not None and row.revoked_at is None
    row = revoke_token_id(db.session, token_id, kind="device")
    if row is None:
        abort(404)
    # The car off duty and its pending jobs withdrawn (if this was its current session), and
    # the tablet's sockets closed after commit on every web process.
    end_token_session(db.session, row, was_live=was_live)
    record(db.session, "device.session_revoked", subject=row.user.email, ip=client_ip(),
           user_id=current_user.id, details={"token_id": row.id, "call_sign": row.label})
    flash(_("The session of %(call_sign)s (%(email)s) is revoked.", call_sign=row.label,
            email=row.user.email), "info")
    return redirect(url_for("admin.devices"))
