"""The tablets' device sessions (shift log-ins): who, which car, when last used; an admin
revokes a lost tablet's here. Below them, each car's phone number (issue 19): where the
escalation's SMS goes when the tablet does not answer; typed as people write numbers, stored in
E.164 (``core.phones``), an impossible number refused next to its field with what was typed
kept. The audit log says that a car's phone changed, never the number."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from dispatch.admin.routes import bp
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.auth.service import device_sessions, revoke_token_id
from dispatch.core.audit import record
from dispatch.core.extensions import db
from dispatch.core.phones import display_phone, normalise_phone
from dispatch.field.sessions import end_token_session
from dispatch.jobs.patrols import list_patrols
from dispatch.models import ApiToken, Patrol, utcnow


class CarPhoneForm(FlaskForm):
    """One car's phone; one form per car on the page (``prefix``: the car's id)."""

    phone = StringField(_l("Phone for SMS"), validators=[Length(max=40)])
    submit = SubmitField(_l("Save"))


def _page(failed: tuple[int, CarPhoneForm] | None = None, status: int = 200):
    now = utcnow()
    cars = []
    for patrol in list_patrols(db.session):
        if failed is not None and failed[0] == patrol.id:
            form = failed[1]
        else:
            form = CarPhoneForm(prefix=f"car{patrol.id}", formdata=None,
                                data={"phone": display_phone(patrol.phone)})
        cars.append((patrol, form))
    return render_template("admin/devices.html", rows=device_sessions(db.session), now=now,
                           cars=cars), status


@bp.get("/devices")
@roles_required("admin")
def devices():
    """The tablets' shift log-ins: who, which car, when last used; revoke a lost tablet's.
    The cars' phones for the escalation's SMS."""
    return _page()


@bp.post("/devices/cars/<int:patrol_id>/phone")
@roles_required("admin")
def set_car_phone(patrol_id: int):
    """Set (or, empty, remove) a car's phone for SMS."""
    patrol = db.session.get(Patrol, patrol_id)
    if patrol is None:
        abort(404)
    form = CarPhoneForm(prefix=f"car{patrol.id}")
    if not form.validate_on_submit():
        return _page((patrol.id, form), 400)
    typed = (form.phone.data or "").strip()
    number = normalise_phone(typed) if typed else None
    if typed and number is None:
        form.phone.errors = [*form.phone.errors,
                             _("This is not a phone number: write it as 070-123 45 67 or "
                               "+46 70 123 45 67.")]
        return _page((patrol.id, form), 400)
    if number != patrol.phone:
        patrol.phone = number
        record(db.session, "patrol.phone_changed", subject=f"patrol:{patrol.call_sign}",
               ip=client_ip(), user_id=current_user.id, details={"has_phone": bool(number)})
    if number:
        flash(_("The phone of %(call_sign)s is %(phone)s.", call_sign=patrol.call_sign,
                phone=display_phone(number)), "info")
    else:
        flash(_("%(call_sign)s has no phone for SMS.", call_sign=patrol.call_sign), "info")
    return redirect(url_for("admin.devices", _anchor=f"car-{patrol.id}"))


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
