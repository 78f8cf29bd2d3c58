"""Patrol areas (issue 13): an admin gives a car its area by pasting GeoJSON or uploading a
file (a Feature, a FeatureCollection of polygons or a bare Polygon/MultiPolygon), or takes it
away; the command ``dispatch patrol-area CALL_SIGN FILE`` does the same from a shell. The
checks are ``jobs.areas``'s; here they are said in the admin's language, and what was typed
stays in the form."""

from __future__ import annotations

import sys

import click
from flask import abort, flash, redirect, render_template, url_for
from flask.cli import with_appcontext
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from dispatch.admin.routes import bp
from dispatch.auth.access import roles_required
from dispatch.auth.routes import client_ip
from dispatch.core.audit import record
from dispatch.core.database import transactional
from dispatch.core.extensions import db
from dispatch.core.i18n import in_default_locale
from dispatch.jobs.areas import MAX_TEXT_BYTES, AreaError, area_km2, parse_area, set_area
from dispatch.jobs.patrols import list_patrols
from dispatch.models import Patrol

# jobs.areas's error codes in the admin's words (the details from the error's params).
AREA_ERRORS = {
    "missing": _l("Paste GeoJSON or choose a file."),
    "not_utf8": _l("The file is not text (UTF-8): export the area as GeoJSON."),
    "invalid_json": _l("This is not valid JSON (see line %(line)s)."),
    "not_geojson": _l("This is not GeoJSON: give a Feature, a FeatureCollection or a Polygon."),
    "no_polygon": _l("The GeoJSON holds no area: it needs a Polygon or a MultiPolygon."),
    "not_polygon": _l("A %(kind)s is not an area: draw a Polygon or a MultiPolygon."),
    "bad_coordinates": _l("The coordinates are not closed rings of [longitude, latitude] "
                          "pairs."),
    "out_of_range": _l("The coordinates are not WGS 84 degrees (longitude −180 to 180, "
                       "latitude −90 to 90): export the area in EPSG:4326."),
    "invalid_polygon": _l("The polygon is not valid (%(reason)s): its edges must not cross "
                          "or touch each other."),
    "empty": _l("The area is empty."),
    "too_large": _l("The area is %(km2)s km²; a car's area may be at most %(limit)s km²."),
    "too_many_vertices": _l("The area has more than %(limit)s corners: simplify it."),
    "too_long": _l("The GeoJSON is larger than %(limit)s kB."),
}


def area_error_text(exc: AreaError) -> str:
    """The error said in the current language."""
    message = AREA_ERRORS.get(exc.code)
    if message is None:
        return exc.message
    return str(message) % {key: ("" if value is None else value)
                           for key, value in exc.params.items()} if exc.params else str(message)


class AreaForm(FlaskForm):
    patrol = SelectField(_l("Patrol"), validators=[DataRequired(_l("Choose a patrol."))])
    geojson = TextAreaField(_l("Area as GeoJSON (longitude, latitude in WGS 84)"))
    file = FileField(_l("…or a GeoJSON file"))
    submit = SubmitField(_l("Save the area"))


def _text_of(form: AreaForm) -> str:
    """The GeoJSON to check: the uploaded file's if one was chosen (then it is put in the text
    field, so that an error keeps it), else the text field's."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(MAX_TEXT_BYTES + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise AreaError("not_utf8", "the file is not UTF-8 text") from None
        form.geojson.data = text
        return text
    return form.geojson.data or ""


@bp.route("/areas", methods=["GET", "POST"])
@roles_required("admin")
def areas():
    """Every car and its area; set a car's area from GeoJSON (pasted or a file)."""
    patrols = list_patrols(db.session)
    form = AreaForm()
    form.patrol.choices = [("", "—")] + [(str(p.id), p.call_sign) for p in patrols]
    status = 200
    if form.validate_on_submit():
        patrol = db.session.get(Patrol, int(form.patrol.data))
        try:
            text = _text_of(form)
            set_area(db.session, patrol, text)
        except AreaError as exc:
            form.geojson.errors = [*form.geojson.errors, area_error_text(exc)]
        else:
            record(db.session, "patrol.area_set", subject=patrol.call_sign, ip=client_ip(),
                   user_id=current_user.id)
            flash(_("The area of %(call_sign)s is saved.", call_sign=patrol.call_sign), "info")
            return redirect(url_for("admin.areas"))
    if form.is_submitted():
        status = 400
    sizes = {p.id: area_km2(parse_area(p.area_geojson)) for p in patrols if p.area_geojson}
    return render_template("admin/areas.html", form=form, patrols=patrols, sizes=sizes), status


@bp.post("/areas/<int:patrol_id>/remove")
@roles_required("admin")
def remove_area(patrol_id: int):
    """Take a car's area away."""
    patrol = db.session.get(Patrol, patrol_id) or abort(404)
    set_area(db.session, patrol, None)
    record(db.session, "patrol.area_removed", subject=patrol.call_sign, ip=client_ip(),
           user_id=current_user.id)
    flash(_("%(call_sign)s has no area now.", call_sign=patrol.call_sign), "info")
    return redirect(url_for("admin.areas"))


@click.command("patrol-area")
@click.argument("call_sign")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"), required=False)
@click.option("--remove", is_flag=True, help="Take the car's area away (no FILE).")
@with_appcontext
@in_default_locale
@transactional
def patrol_area_command(call_sign: str, file, remove: bool) -> None:
    """Give the car CALL_SIGN the area in FILE (GeoJSON: a Feature, a FeatureCollection or a
    Polygon/MultiPolygon in WGS 84; '-' reads standard input), or take it away (--remove)."""

    def fail(message: str, code: int):
        click.echo(_("error: %(message)s", message=message), err=True)
        sys.exit(code)

    patrol = db.session.scalar(select(Patrol).where(Patrol.call_sign == call_sign.strip()))
    if patrol is None:
        fail(_("no patrol with call sign %(call_sign)s", call_sign=repr(call_sign)), 2)
    if remove == (file is not None):
        fail(_("give FILE or --remove (one of them)"), 2)
    try:
        text = None if remove else file.read(MAX_TEXT_BYTES + 1)
    except UnicodeDecodeError:
        fail(area_error_text(AreaError("not_utf8", "the file is not UTF-8 text")), 1)
    try:
        set_area(db.session, patrol, text)
    except AreaError as exc:
        fail(area_error_text(exc), 1)
    record(db.session, "patrol.area_removed" if remove else "patrol.area_set",
           subject=patrol.call_sign)
    if remove:
        click.echo(_("%(call_sign)s: no area", call_sign=patrol.call_sign))
    else:
        click.echo(_("%(call_sign)s: area of %(km2)s km²", call_sign=patrol.call_sign,
                     km2=format_decimal(area_km2(parse_area(text)), "0.00")))
