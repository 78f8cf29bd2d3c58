"""The vacancy file's page (``/bostad/staff/vacancies``) and command
(``dispatch housing import-vacancies FILE``): all rows published or none, the row errors in
the reader's language. The file's format and rules are in ``vacancies``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import select

from dispatch.core.cli import CommandRefused
from dispatch.core.database import transactional
from dispatch.core.extensions import db
from dispatch.core.i18n import in_default_locale
from dispatch.housing import service, vacancies
from dispatch.housing.blueprint import bp
from dispatch.housing.mails import send_subscriptions_many
from dispatch.housing.staff import landlord_ids, parse_int, staff_only
from dispatch.models import Landlord, utcnow


def _landlords() -> list[Landlord]:
    return list(db.session.scalars(select(Landlord).where(Landlord.id.in_(landlord_ids()))
                                   .order_by(Landlord.name)))


@bp.get("/staff/vacancies")
@staff_only
def vacancy_import(errors: list | None = None, form_errors: dict | None = None,
                   form: dict | None = None, status: int = 200):
    landlords = _landlords()
    return render_template(
        "housing/staff/vacancies.html", landlords=landlords, row_errors=errors or [],
        landlord_options=[(x.id, x.name) for x in landlords],
        errors=form_errors or {}, error_text=vacancies.error_text,
        form=form or {"landlord_id": str(landlords[0].id) if landlords else ""},
        default_days=service.setting(current_app.config, "HOUSING_PUBLISH_DAYS")), status


@bp.post("/staff/vacancies")
@staff_only
def vacancy_upload():
    form = request.form.to_dict()
    form_errors: dict = {}
    landlord_id = parse_int(form, form_errors, "landlord_id", 1, 2**62, 0)
    if landlord_id not in landlord_ids():
        form_errors["landlord_id"] = "invalid_choice"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form_errors["file"] = "required"
    if form_errors:
        return vacancy_import(form_errors=form_errors, form=form, status=400)
    data = upload.read(vacancies.MAX_BYTES + 1)
    try:
        listings = vacancies.import_vacancies(
            db.session, landlord_id, data, now=utcnow(),
            default_days=service.setting(current_app.config, "HOUSING_PUBLISH_DAYS"),
            staff_user_id=current_user.id, actor="web")
    except vacancies.FileRefused as refused:
        return vacancy_import(errors=refused.errors, form=form, status=400)
    send_subscriptions_many(db.session, listings, {
        x.id: url_for("housing.listing", listing_id=x.id, _external=True) for x in listings})
    flash(ngettext("%(num)d flat is published.", "%(num)d flats are published.",
                   len(listings)), "info")
    return redirect(url_for("housing.staff_home"), 303)


@bp.cli.command("import-vacancies")
@click.option("--landlord", "code", default=None,
              help="the landlord's code (default: HOUSING_LANDLORD, or the only landlord)")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@in_default_locale
def import_vacancies_command(code: str | None, path: Path) -> None:
    """Publish the vacant objects of a CSV or XLSX vacancy file: all of them or none."""

    @transactional
    def run():
        wanted = code or current_app.config.get("HOUSING_LANDLORD")
        if wanted:
            landlord = db.session.scalar(select(Landlord).where(Landlord.code == wanted))
        else:
            found = list(db.session.scalars(select(Landlord).limit(2)))
            landlord = found[0] if len(found) == 1 else None
        if landlord is None:
            raise CommandRefused(gettext("no such landlord: give --landlord CODE"))
        listings = vacancies.import_vacancies(
            db.session, landlord.id, path.read_bytes(), now=utcnow(),
            default_days=service.setting(current_app.config, "HOUSING_PUBLISH_DAYS"),
            staff_user_id=None, actor="cli")
        base = current_app.config["BASE_URL"].rstrip("/")
        send_subscriptions_many(db.session, listings,
                                {x.id: f"{base}/bostad/listings/{x.id}" for x in listings})
        return [x.id for x in listings]

    try:
        ids = run()
    except vacancies.FileRefused as refused:
        # Worded in the configured language (no request here), as the register import does.
        for error in refused.errors:
            text = vacancies.error_text(error)
            click.echo(gettext("line %(line)d, %(column)s: %(message)s", line=error.line,
                               column=error.column, message=text) if error.line else text,
                       err=True)
        num = len(refused.errors)
        raise CommandRefused(ngettext("%(num)d error: nothing was published",
                                      "%(num)d errors: nothing was published", num)) from None
    click.echo(ngettext("%(num)d listing published: %(ids)s",
                        "%(num)d listings published: %(ids)s", len(ids),
                        ids=", ".join(map(str, ids)) or "-"))
