"""Admin views for register imports: thin, the work is in imports/ and admin/imports.py."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SubmitField
from wtforms.validators import DataRequired

from dispatch.admin.imports import (
    ALLOWED_SUFFIXES,
    run_dir,
    run_state,
    shown_record,
    shown_report,
    start_import,
)
from dispatch.auth.access import roles_required
from dispatch.core import csvsafe
from dispatch.core.extensions import db
from dispatch.models import Landlord, RegisterImport
from dispatch.register.landlords import get_landlord, list_landlords

bp = Blueprint("admin", __name__, url_prefix="/admin")


class ImportForm(FlaskForm):
    landlord = SelectField(_l("Landlord"), validators=[DataRequired(_l("Choose a landlord."))])
    file = FileField(_l("Register file (CSV or XLSX)"), validators=[
        FileRequired(_l("Choose the file to import.")),
        FileAllowed([s.lstrip(".") for s in ALLOWED_SUFFIXES],
                    _l("Only CSV and XLSX files can be imported.")),
    ])
    dry_run = BooleanField(_l("Dry run: only show what the import would do"))
    force = BooleanField(_l("Import even if more than a fifth of the register would be retired"))
    submit = SubmitField(_l("Import"))


def _history(limit: int = 50):
    return db.session.execute(
        select(RegisterImport, Landlord.code)
        .join(Landlord, Landlord.id == RegisterImport.landlord_id)
        .order_by(RegisterImport.id.desc()).limit(limit)
    ).all()


@bp.route("/imports", methods=["GET", "POST"])
@roles_required("admin")
def imports():
    """Upload a register file; the history of imports below."""
    form = ImportForm()
    form.landlord.choices = [("", "—")] + [
        (x.code, f"{x.name} ({x.code})") for x in list_landlords(db.session)]
    status = 200
    if form.validate_on_submit():
        landlord = get_landlord(db.session, form.landlord.data)
        if landlord is None:
            form.landlord.errors.append(_l("Choose a landlord."))
        else:
            token = start_import(
                instance_path=current_app.instance_path,
                database_url=current_app.config["SQLALCHEMY_DATABASE_URI"],
                upload=form.file.data, landlord_code=landlord.code, actor=current_user.email,
                user_id=current_user.id, force=form.force.data, dry_run=form.dry_run.data,
            )
            return redirect(url_for("admin.import_run", token=token))
    if form.is_submitted():
        status = 400
    return render_template("admin/imports.html", form=form, history=_history()), status


@bp.get("/imports/run/<token>")
@roles_required("admin")
def import_run(token: str):
    """The page of a started import: progress while it runs, then the summary."""
    if run_dir(current_app.instance_path, token) is None:
        abort(404)
    return render_template("admin/import_run.html", token=token)


@bp.get("/imports/run/<token>.json")
@roles_required("admin")
def import_run_state(token: str):
    """Progress of a started import, polled by its page."""
    folder = run_dir(current_app.instance_path, token)
    if folder is None:
        abort(404)
    state = run_state(folder)
    body = {"state": state.state, "done": state.done, "total": state.total}
    if state.result is not None:
        body["result"] = state.result
        body["url"] = url_for("admin.import_detail", import_id=state.result["import_id"])
    return jsonify(body)


@bp.get("/imports/<int:import_id>")
@roles_required("admin")
def import_detail(import_id: int):
    """One import: who, when, which file, what it did, its warnings and errors."""
    row = db.session.get(RegisterImport, import_id) or abort(404)
    landlord = db.session.get(Landlord, row.landlord_id)
    shown = shown_record(row.message, row.warnings, row.error_report)
    return render_template("admin/import_detail.html", imp=row, landlord=landlord,
                           shown=shown, errors=shown.errors)


@bp.get("/imports/<int:import_id>/errors.csv")
@roles_required("admin")
def import_errors(import_id: int):
    """The error report of an import, again, as CSV (line; column; reason)."""
    row = db.session.get(RegisterImport, import_id) or abort(404)
    if not row.error_report:
        abort(404)
    name = f"fel-import-{row.id}.csv"
    # Rewritten on the way out, so that reports stored before the rule are safe too: a cell
    # from the register file that starts like a formula stays text in the spreadsheet.
    body = csvsafe.made_safe(shown_report(row.error_report), delimiter=";",
                             lineterminator="\n")
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
