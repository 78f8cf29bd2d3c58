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
from dispatch.jobs.dispatching import end_shift
from dispatch.jobs.patrols import patrol_of_ended_session
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
    """Revoke one device session: the tablet is refused at its next connection (or event),
    and its car goes off duty if this was the car's current tablet session."""
    row = db.session.get(ApiToken, token_id)
    was_live = row is not None and row.revoked_at is None
    row = revoke_token_id(db.session, token_id, kind="device")
    if row is None:
        abort(404)
    patrol = patrol_of_ended_session(db.session, row) if was_live else None
    if patrol is not None:
        end_shift(db.session, patrol)
    record(db.session, "device.session_revoked", subject=row.user.email, ip=client_ip(),
           user_id=current_user.id, details={"token_id": row.id, "call_sign": row.label})
    flash(_("The session of %(call_sign)s (%(email)s) is revoked.", call_sign=row.label,
            email=row.user.email), "info")
    return redirect(url_for("admin.devices"))
