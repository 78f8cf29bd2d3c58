"""The landlord staff's pages for Mina sidor, under ``/portal/staff/``: fault reports and their
status timeline (the tenant gets a mail at each change), messages both ways, the invoice and
payment import, laundry rooms and passes, the landlord's account policy (registration from
the signing of the agreement; audited). For landlord contacts (their own landlord's rows
only; another landlord's id answers 404) and admins (every landlord)."""

from __future__ import annotations

from datetime import time

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.auth import tenants
from dispatch.auth.access import roles_required
from dispatch.core.extensions import db
from dispatch.models import Landlord, Person, Property
from dispatch.models.portal import (
    FAULT_STATUSES,
    FaultPhoto,
    FaultReport,
    LaundryPass,
    LaundryRoom,
    PortalMessage,
    TenantContact,
)
from dispatch.portal import labels, service
from dispatch.portal.blueprint import bp
from dispatch.portal.invoices import REASONS, import_file
from dispatch.portal.pages import send_tenant_mail, text_field

staff_only = roles_required("landlord")


def _landlord_ids() -> list[int]:
    return service.staff_landlord_ids(db.session, current_user)


def _mine(row) -> None:
    if row is None or row.landlord_id not in _landlord_ids():
        abort(404)


@bp.get("/staff/")
@staff_only
def staff_home():
    ids = _landlord_ids()
    status = request.args.get("status") or None
    query = (select(FaultReport).where(FaultReport.landlord_id.in_(ids))
             .order_by(FaultReport.created_at.desc()).limit(200))
    if status in FAULT_STATUSES:
        query = query.where(FaultReport.status == status)
    faults = list(db.session.scalars(query))
    messages = list(db.session.scalars(
        select(PortalMessage).where(PortalMessage.landlord_id.in_(ids),
                                    PortalMessage.from_staff.is_(False),
                                    PortalMessage.fault_id.is_(None))
        .order_by(PortalMessage.created_at.desc()).limit(100)))
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(
        {f.person_id for f in faults} | {m.person_id for m in messages})))}
    contacts = {c.person_id: c for c in db.session.scalars(select(TenantContact).where(
        TenantContact.person_id.in_({m.person_id for m in messages
                                     if m.kind == "contact_change"})))}
    return render_template("portal/staff/home.html", faults=faults, messages=messages,
                           people=people, status=status, contacts=contacts,
                           contact_field_names=labels.CONTACT_FIELD_NAMES)


@bp.route("/staff/faults/<int:fault_id>", methods=["GET", "POST"])
@staff_only
def staff_fault(fault_id: int):
    report = db.session.get(FaultReport, fault_id)
    _mine(report)
    person = db.session.get(Person, report.person_id)
    form, errors = request.form.to_dict(), {}
    if request.method == "POST":
        action = form.get("action")
        if action == "status":
            note = text_field(form, errors, "note", required=False)
            try:
                changed = service.set_fault_status(db.session, report, form.get("status", ""),
                                                   user_id=current_user.id, note=note)
            except service.PortalError as exc:
                errors["status"] = exc.code
                changed = False
            if changed:
                sent = send_tenant_mail(person, "fault_status", report=report, note=note,
                                        by_staff=True)
                flash(_("The status is changed.") if sent else
                      _("The status is changed; the tenant has no e-mail address."), "info")
        elif action == "message":
            body = text_field(form, errors, "body")
            if not errors:
                db.session.add(PortalMessage(
                    landlord_id=report.landlord_id, person_id=report.person_id,
                    fault_id=report.id, kind="message", body=body, from_staff=True,
                    user_id=current_user.id))
                _tell_tenant(person, url_for("portal.fault", fault_id=report.id),
                             report=report)
        else:
            abort(400)
        if not errors:
            return redirect(url_for("portal.staff_fault", fault_id=report.id))
    thread = list(db.session.scalars(select(PortalMessage).where(
        PortalMessage.fault_id == report.id).order_by(PortalMessage.created_at)))
    return render_template("portal/staff/fault.html", report=report, person=person,
                           thread=thread, form=form, errors=errors,
                           statuses=FAULT_STATUSES), (400 if errors else 200)


@bp.get("/staff/faults/<int:fault_id>/photos/<int:photo_id>.jpg")
@staff_only
def staff_fault_photo(fault_id: int, photo_id: int):
    report = db.session.get(FaultReport, fault_id)
    _mine(report)
    photo = db.session.get(FaultPhoto, photo_id)
    if photo is None or photo.fault_id != report.id:
        abort(404)
    return photo.data, 200, {"Content-Type": "image/jpeg", "Cache-Control": "private"}


@bp.post("/staff/people/<int:person_id>/messages")
@staff_only
def staff_reply(person_id: int):
    person = db.session.get(Person, person_id)
    _mine(person)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("Write a message first."), "error")
        return redirect(url_for("portal.staff_home"))
    db.session.add(PortalMessage(landlord_id=person.landlord_id, person_id=person.id,
                                 kind="message", subject=(request.form.get("subject") or "")[:200],
                                 body=body[:4000], from_staff=True, user_id=current_user.id))
    _tell_tenant(person, url_for("portal.messages"))
    return redirect(url_for("portal.staff_home"))


def _tell_tenant(person: Person, path: str, *, report: FaultReport | None = None) -> None:
    """Mail the tenant that staff answered (in the tenant's language): only that there is an
    answer and where to read it, never the answer itself (it may hold personal data); the
    staff member is told whether the mail went."""
    sent = person is not None and send_tenant_mail(
        person, "reply", by_staff=True, report=report,
        link=current_app.config["BASE_URL"] + path)
    flash(_("Your message is sent.") if sent else
          _("Your message is sent; the tenant has no e-mail address, so no mail tells them."),
          "info")


def _landlord_choice(form: dict, errors: dict) -> Landlord | None:
    ids = _landlord_ids()
    wanted = as_int(form.get("landlord_id")) if len(ids) > 1 else (ids[0] if ids else None)
    if wanted not in ids:
        errors["landlord_id"] = "invalid_choice"
        return None
    return db.session.get(Landlord, wanted)


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _landlords() -> list[Landlord]:
    return list(db.session.scalars(select(Landlord).where(Landlord.id.in_(_landlord_ids()))
                                   .order_by(Landlord.name)))


@bp.route("/staff/invoices", methods=["GET", "POST"])
@staff_only
def staff_invoices():
    form, errors, result = request.form.to_dict(), {}, None
    if request.method == "POST":
        landlord = _landlord_choice(form, errors)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors["file"] = "no_file"
        if not errors:
            result = import_file(db.session, landlord, upload.read(),
                                 actor=current_user.email)
            if result.accepted:
                flash(_("Imported: %(added)s added, %(updated)s updated, %(unchanged)s "
                        "unchanged.", added=result.added, updated=result.updated,
                        unchanged=result.unchanged), "info")
                if result.pins:
                    flash(ngettext("%(num)d PIN code set.", "%(num)d PIN codes set.",
                                   result.pins), "info")
                if result.pins_void:
                    flash(ngettext(
                        "%(num)d PIN code not kept: the person has registered with a password.",
                        "%(num)d PIN codes not kept: the people have registered with a "
                        "password.", result.pins_void), "info")
                return redirect(url_for("portal.staff_invoices"))
    return render_template("portal/staff/invoices.html", form=form, errors=errors,
                           result=result, landlords=_landlords(), reasons=REASONS), (
        400 if errors or (result and not result.accepted) else 200)


@bp.route("/staff/laundry", methods=["GET", "POST"])
@staff_only
def staff_laundry():
    ids = _landlord_ids()
    form, errors = request.form.to_dict(), {}
    if request.method == "POST":
        action = form.get("action")
        if action == "room":
            prop = db.session.get(Property, as_int(form.get("property_id")) or 0)
            if prop is None or prop.landlord_id not in ids:
                errors["property_id"] = "invalid_choice"
            name = text_field(form, errors, "name", limit=120)
            if not errors:
                db.session.add(LaundryRoom(landlord_id=prop.landlord_id, property_id=prop.id,
                                           name=name))
                flash(_("The laundry room is added."), "info")
        elif action == "pass":
            room = db.session.get(LaundryRoom, as_int(form.get("room_id")) or 0)
            _mine(room)
            try:
                starts, ends = (time.fromisoformat(form.get("starts_at", "")),
                                time.fromisoformat(form.get("ends_at", "")))
                if ends <= starts:
                    raise ValueError
            except ValueError:
                errors[f"pass-{room.id}"] = "bad_time"
            if not errors:
                db.session.add(LaundryPass(room_id=room.id, starts_at=starts, ends_at=ends))
                flash(_("The pass is added."), "info")
        elif action == "delete_pass":
            laundry_pass = db.session.get(LaundryPass, as_int(form.get("pass_id")) or 0)
            if laundry_pass is None:
                abort(404)
            _mine(laundry_pass.room)
            db.session.delete(laundry_pass)
            flash(_("The pass is removed."), "info")
        else:
            abort(400)
        if not errors:
            return redirect(url_for("portal.staff_laundry"))
    rooms = list(db.session.scalars(select(LaundryRoom).where(LaundryRoom.landlord_id.in_(ids))
                                    .options(selectinload(LaundryRoom.passes))
                                    .order_by(LaundryRoom.name)))
    properties = list(db.session.scalars(select(Property).where(Property.landlord_id.in_(ids))
                                         .order_by(Property.designation).limit(2000)))
    return render_template("portal/staff/laundry.html", rooms=rooms, properties=properties,
                           form=form, errors=errors), (400 if errors else 200)


@bp.route("/staff/accounts", methods=["GET", "POST"])
@staff_only
def staff_account_policy():
    """The landlord's rule for tenants' accounts: may a tenant whose agreement is signed but
    not started register (My pages opens on the start day either way)? Audited
    (``tenant.policy_changed``, with the staff member)."""
    landlords = _landlords()
    if request.method == "POST":
        landlord = db.session.get(Landlord, as_int(request.form.get("landlord_id")) or 0)
        if landlord is None or landlord.id not in _landlord_ids():
            abort(404)
        value = request.form.get("register_from_signing") == "yes"
        tenants.set_register_from_signing(db.session, landlord.id, value,
                                          user_id=current_user.id, ip=request.remote_addr)
        flash(_("Saved: the tenants of %(landlord)s may register when their agreement is "
                "signed.", landlord=landlord.name) if value else
              _("Saved: the tenants of %(landlord)s may register when their agreement "
                "starts.", landlord=landlord.name), "info")
        return redirect(url_for("portal.staff_account_policy"))
    rows = [(landlord, tenants.register_from_signing(db.session, landlord.id))
            for landlord in landlords]
    return render_template("portal/staff/accounts.html", rows=rows)


@bp.route("/staff/pins", methods=["GET", "POST"])
@staff_only
def staff_pins():
    """A tenant's legacy PIN code set by staff (for the first log-in with personnummer and
    PIN, ``/portal/login/pin``): find the tenant among the landlord's (``q``), choose one,
    type the code; kept as an Argon2id hash only, audited (``tenant.pin_set``, with the staff
    member, never the code). The invoice import sets codes in bulk (docs/invoice-format.md)."""
    ids = _landlord_ids()
    today = service.local_today()
    query = (request.args.get("q") or "").strip()[:100]
    matches = tenants.find_tenants(db.session, query, today, landlord_ids=ids) if query else []
    chosen_id = as_int(request.form.get("person_id") if request.method == "POST"
                       else request.args.get("person"))
    chosen = tenants.tenant_match(db.session, chosen_id, today) if chosen_id else None
    if chosen_id and (chosen is None or chosen.landlord_id not in ids):
        abort(404)
    form, errors = request.form.to_dict(), {}
    if request.method == "POST":
        try:
            tenants.set_legacy_pin_by_staff(db.session, chosen.person_id,
                                            (form.get("pin") or "").strip(),
                                            user_id=current_user.id, ip=request.remote_addr)
        except tenants.AccountError as exc:
            errors["pin"] = exc.message
        else:
            flash(_("PIN code saved for %(name)s. It works once, for the first log-in.",
                    name=chosen.name), "info")
            return redirect(url_for("portal.staff_pins"))
    return render_template("portal/staff/pins.html", query=query, matches=matches,
                           chosen=chosen, form=form, errors=errors), 400 if errors else 200
