"""The operators' review: the queue of submitted reports, and correcting one and releasing it
to the landlord."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from dispatch.auth.access import roles_required
from dispatch.core.extensions import db
from dispatch.models import IncidentReport
from dispatch.reports.labels import FIELD_NAMES, OUTCOME_NAMES
from dispatch.reports.nights import service_zone
from dispatch.reports.service import (
    BOOL_FIELDS,
    STAFF_ROLES,
    TEXT_FIELDS,
    ReportError,
    correct_report,
    document,
    release_report,
    review_queue,
)
from dispatch.reports.views.common import bp

AS_TYPED = (*TEXT_FIELDS, "outcome")  # the form's value is the report's; BOOL_FIELDS: yes/no/""
BOOL_CHOICES = [SelectChoice("", "–"), SelectChoice("yes", _l("Yes")),
                SelectChoice("no", _l("No"))]


class ReviewForm(FlaskForm):
    observations = TextAreaField(FIELD_NAMES["observations"], validators=[Length(max=20000)])
    disturber_response = TextAreaField(FIELD_NAMES["disturber_response"],
                                       validators=[Length(max=20000)])
    actions = TextAreaField(FIELD_NAMES["actions"], validators=[Length(max=20000)])
    text = TextAreaField(FIELD_NAMES["text"], validators=[Length(max=20000)])
    outcome = SelectField(FIELD_NAMES["outcome"],
                          choices=[SelectChoice(k, v) for k, v in OUTCOME_NAMES.items()])
    disturber_reached = SelectField(FIELD_NAMES["disturber_reached"], choices=BOOL_CHOICES)
    tenant_contacted = SelectField(FIELD_NAMES["tenant_contacted"], choices=BOOL_CHOICES)
    can_testify = SelectField(FIELD_NAMES["can_testify"], choices=BOOL_CHOICES)
    save = SubmitField(_l("Save corrections"))
    release = SubmitField(_l("Save and release to the landlord"))


def _bool_in(value: str):
    return {"yes": True, "no": False}.get(value)


def _bool_out(value) -> str:
    return "" if value is None else ("yes" if value else "no")


@bp.get("/review")
@roles_required(*STAFF_ROLES)
def review():
    """Reports waiting for an operator's review, oldest first."""
    tz = service_zone()
    docs = [document(db.session, r, tz) for r in review_queue(db.session)]
    return render_template("reports/review.html", docs=docs)


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def edit(report_id: int):
    """Correct a report before release, then release it; a released one is only shown."""
    found = db.session.get(IncidentReport, report_id) or abort(404)
    if found.status == "released":
        return redirect(url_for("reports.report", report_id=report_id))
    form = ReviewForm()
    status = 200
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in AS_TYPED}
        changes.update({name: _bool_in(getattr(form, name).data) for name in BOOL_FIELDS})
        try:
            # A refused change leaves nothing half done: the request still commits (the
            # answer is a page), so the savepoint is what undoes it.
            with db.session.begin_nested():
                correct_report(db.session, found, current_user, changes)
                if form.release.data:
                    release_report(db.session, found, current_user)
        except ReportError as exc:
            flash(exc.message, "error")
            return redirect(url_for("reports.edit", report_id=report_id))
        if found.status == "released":
            flash(_("Report %(id)s is released to the landlord.", id=report_id), "info")
            return redirect(url_for("reports.review"))
        flash(_("The corrections are saved."), "info")
        return redirect(url_for("reports.edit", report_id=report_id))
    if form.is_submitted():
        status = 400
    else:
        for name in AS_TYPED:
            getattr(form, name).data = getattr(found, name)
        for name in BOOL_FIELDS:
            getattr(form, name).data = _bool_out(getattr(found, name))
    doc = document(db.session, found, service_zone())
    return render_template("reports/edit.html", doc=doc, form=form), status
