"""Check-in intervals (issue 19): how often a car on site is asked "all well?", per landlord,
per category, or for one landlord's jobs of one category (``jobs.checkins`` says which rule
wins). An admin sets or removes an override here; each change is audited. What was typed stays
in the form when it is refused, the error beside its field."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField

from dispatch.admin.routes import bp
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.core.extensions import db
from dispatch.core.templating import CATEGORY_NAMES
from dispatch.jobs.checkins import (
    MAX_S,
    MIN_S,
    SettingError,
    defaults_from_config,
    remove_setting,
    set_interval,
    settings,
)
from dispatch.models import CATEGORIES
from dispatch.models.safety import CheckInSetting
from dispatch.register.landlords import list_landlords


class CheckInForm(FlaskForm):
    landlord = SelectField(_l("Landlord"))
    category = SelectField(_l("Category"))
    minutes = StringField(_l("Ask every (minutes)"))
    submit = SubmitField(_l("Save the interval"))


def _minutes(text: str) -> int | None:
    """Whole minutes from what was typed ("5", " 7 "), else None."""
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) < 6 else None


@bp.route("/check-ins", methods=["GET", "POST"])
@roles_required("admin")
def checkins():
    """The defaults, the overrides, and a form to set one."""
    landlords = list_landlords(db.session)
    form = CheckInForm()
    form.landlord.choices = [("", _("Every landlord"))] + [
        (str(landlord.id), landlord.name) for landlord in landlords]
    form.category.choices = [("", _("Every category"))] + [
        (code, str(CATEGORY_NAMES.get(code, code))) for code in CATEGORIES]
    status = 200
    if form.validate_on_submit():
        minutes = _minutes(form.minutes.data)
        landlord_id = int(form.landlord.data) if form.landlord.data else None
        category = form.category.data or None
        if minutes is None or not MIN_S <= minutes * 60 <= MAX_S:
            form.minutes.errors = [*form.minutes.errors, _(
                "Give whole minutes, from %(low)s to %(high)s.", low=MIN_S // 60,
                high=MAX_S // 60)]
        else:
            try:
                set_interval(db.session, landlord_id=landlord_id, category=category,
                             interval_s=minutes * 60, user_id=current_user.id, ip=client_ip())
            except SettingError as exc:
                message = (_("Choose a landlord, a category or both.")
                           if exc.code == "nothing_chosen" else exc.message)
                getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, message]
            else:
                flash(_("The check-in interval is saved."), "info")
                return redirect(url_for("admin.checkins"))
    if form.is_submitted():
        status = 400
    names = {landlord.id: landlord.name for landlord in landlords}
    defaults = defaults_from_config()
    return render_template(
        "admin/checkins.html", form=form, rows=settings(db.session), landlord_names=names,
        category_names=CATEGORY_NAMES, defaults=defaults,
        grace_s=int(current_app.config.get("CHECKIN_GRACE_S", 120))), status


@bp.post("/check-ins/<int:setting_id>/remove")
@roles_required("admin")
def remove_checkin(setting_id: int):
    """Take an override away: the next rule applies again."""
    row = db.session.get(CheckInSetting, setting_id) or abort(404)
    remove_setting(db.session, row, user_id=current_user.id, ip=client_ip())
    flash(_("The check-in interval is removed."), "info")
    return redirect(url_for("admin.checkins"))
