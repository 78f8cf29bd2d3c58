"""Mina sidor: the logged-in tenant's pages (agreements and the home, invoices, contact details,
fault reports, messages and service requests, a written disturbance complaint, laundry
booking, notice of termination). Every id in a URL is looked up through the tenant: another
tenant's id answers 404."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from dispatch.auth.tenants import tenancy_of_person
from dispatch.core import mail
from dispatch.core.extensions import db
from dispatch.core.phones import normalise_phone
from dispatch.core.templating import CATEGORY_NAMES
from dispatch.jobs.dispatching import DispatchError, NewComplaint, create_complaint
from dispatch.models import Landlord, Person, utcnow
from dispatch.models.accounts import TenantAccount
from dispatch.models.portal import (
    FAULT_CATEGORIES,
    FAULT_ROOMS,
    FaultPhoto,
    FaultReport,
    PortalMessage,
    TenantContact,
)
from dispatch.portal import labels, service
from dispatch.portal.blueprint import bp
from dispatch.portal.invoices import invoice_pdf, money, postal_address, postcode
from dispatch.portal.rules import notice_end_date
from dispatch.portal.service import PortalError, local_today
from dispatch.portal.session import (
    QUEUE_ONLY_KEY,
    current_person_id,
    log_out,
    queue_only,
    tenant_required,
)

MAX_PHOTOS = 3
TENANT_MESSAGE_KINDS = ("message", "service_request", "rent")  # what a tenant may write
TEXT_MAX = 4000


# -- shared ---------------------------------------------------------------------------------

def me() -> Person:
    person = db.session.get(Person, current_person_id())
    if person is None:  # the register no longer has this person: the session is stale
        log_out()
        abort(404)
    return person


def tenant_locale(person: Person, *, own_session: bool = True) -> str:
    """The language of mails to a tenant: the session's while they are here (``own_session``),
    else the one their account chose, else Finnish for a Finnish landlord's tenants and
    Swedish for the rest."""
    languages = current_app.config["LANGUAGES"]
    if own_session and session.get("lang") in languages:
        return session["lang"]
    chosen = db.session.scalar(select(TenantAccount.locale).where(
        TenantAccount.person_id == person.id, TenantAccount.locale.is_not(None)).limit(1))
    if chosen in languages:
        return chosen
    landlord = db.session.get(Landlord, person.landlord_id) if person.landlord_id else None
    return "fi" if landlord is not None and landlord.country == "FI" else "sv"


_WHO = (select(Person.name, Landlord.country)
        .outerjoin(Landlord, Landlord.id == Person.landlord_id)
        .where(Person.id == bindparam("person_id")))


@bp.before_request
def _finnish_for_finnish_landlords() -> None:
    """A Finnish landlord's tenant sees Finnish until choosing another language. The tenant's
    name is kept for the page (``g.portal_who``); a person gone from the register is logged
    out (and so sent to the log-in page)."""
    person_id = current_person_id()
    if person_id is None:
        return
    who = db.session.connection().execute(_WHO, {"person_id": person_id}).first()
    if who is None:
        log_out()
        return
    g.portal_who = who
    if who.country == "FI" and "lang" not in request.args and not session.get("lang"):
        session["lang"] = "fi"
    return _queue_only_page()


def _queue_only_page():
    """A housing-queue applicant with no agreement in force sees, on the tenant pages, that
    they have none (and the way to the queue), until an agreement is in force."""
    if not queue_only() or request.endpoint == "portal.logout":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or view.__module__ != __name__:
        return None
    if tenancy_of_person(db.session, current_person_id(), local_today()).state == "current":
        session.pop(QUEUE_ONLY_KEY, None)
        return None
    return render_template("portal/no_agreement.html"), 403


@bp.app_template_global()
def portal_money(ore: int) -> str:
    return money(ore)


@bp.app_template_global()
def portal_postcode(postnummer: str, country: str | None) -> str:
    return postcode(postnummer, country)


@bp.context_processor
def _portal_words() -> dict:
    return {"object_type_names": labels.OBJECT_TYPE_NAMES,
            "fault_category_names": labels.FAULT_CATEGORY_NAMES,
            "room_names": labels.ROOM_NAMES,
            "fault_status_names": labels.FAULT_STATUS_NAMES,
            "message_kind_names": labels.MESSAGE_KIND_NAMES,
            "error_names": labels.ERRORS}


def local_now() -> datetime:
    """Now as wall-clock time where the landlords are (laundry passes are wall-clock)."""
    return utcnow().astimezone(ZoneInfo(current_app.config["DISPATCH_TZ"])).replace(tzinfo=None)


def send_tenant_mail(person: Person, template: str, *, by_staff: bool = False,
                     **context) -> bool:
    """A mail to the tenant in their language (subject and plain text); False: no address or
    not sent (the page says so; the change stands). ``by_staff``: sent on a staff member's
    action, so not in the staff member's language."""
    if not person.email:
        return False
    with force_locale(tenant_locale(person, own_session=not by_staff)):
        subject = render_template(f"portal/mail/{template}.subject.txt", **context).strip()
        text = render_template(f"portal/mail/{template}.txt", person=person, **context)
    try:
        message = mail.build_message(sender=mail.sender_address(current_app.config),
                                     to=person.email, subject=subject, text=text)
        mail.send_one(current_app.config, message)
    except (mail.MailError, OSError):
        current_app.logger.warning("portal mail not sent", extra={"template": template,
                                                                  "person_id": person.id})
        return False
    return True


def text_field(form: dict, errors: dict, name: str, *, required: bool = True,
               limit: int = TEXT_MAX) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = "required"
    elif len(value) > limit:
        errors[name] = "too_long"
    return value


def choice_field(form: dict, errors: dict, name: str, choices) -> str:
    value = form.get(name) or ""
    if value not in choices:
        errors[name] = "invalid_choice"
    return value


def int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- the first page -------------------------------------------------------------------------

@bp.get("/")
@tenant_required
def home():
    today = local_today()
    return render_template("portal/home.html", name=g.portal_who.name, today=today,
                           cards=service.first_page(db.session, current_person_id(), on=today))


@bp.post("/logout")
def logout():
    log_out()
    flash(_("You are logged out."), "info")
    return redirect(url_for("portal.login"))


# -- invoices -------------------------------------------------------------------------------

@bp.get("/invoices")
@tenant_required
def invoices():
    person = me()
    today = local_today()
    views = service.tenancies(db.session, person.id, on=today)
    mine = []
    for view in views:
        if view.position != 1:
            continue
        mine.append({"view": view,
                     "invoices": service.invoices_of(db.session, view.agreement),
                     "payments": service.payments_of(db.session, view.agreement),
                     "debt": service.rent_debt_ore(db.session, view.agreement, on=today)})
    others = [v for v in views if v.position != 1]
    return render_template("portal/invoices.html", mine=mine, others=others, today=today)


@bp.get("/invoices/<int:invoice_id>.pdf")
@tenant_required
def invoice_as_pdf(invoice_id: int):
    try:
        invoice = service.invoice_of(db.session, current_person_id(), invoice_id)
    except PortalError:
        abort(404)
    agreement = service.agreement_of(db.session, current_person_id(), invoice.agreement_id)
    first = next((p.person for p in agreement.parties if p.position == 1), None)
    objects = [link.rental_object for link in agreement.objects]
    flat = next((o for o in objects if o.object_type == "lägenhet"),
                objects[0] if objects else None)
    landlord = db.session.get(Landlord, invoice.landlord_id)
    address = postal_address(flat.entrance, landlord.country) if flat else ""
    body = invoice_pdf(invoice, agreement, landlord, first, address)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="avi-{invoice.invoice_number}.pdf"',
        "Cache-Control": "private, no-store"})


# -- contact details ------------------------------------------------------------------------

@bp.route("/contact", methods=["GET", "POST"])
@tenant_required
def contact():
    person = me()
    extra = db.session.get(TenantContact, person.id)
    errors: dict = {}
    if request.method == "GET":
        form = {"email": person.email or "", "phone": person.phone or "",
                "other_phone": (extra.other_phone if extra else "") or ""}
        return render_template("portal/contact.html", form=form, errors=errors)
    form = request.form.to_dict()
    email = text_field(form, errors, "email", required=False, limit=254)
    if email and ("@" not in email or " " in email or email.startswith("@")
                  or email.endswith("@")):
        errors["email"] = "bad_email"
    phones = {}
    for name in ("phone", "other_phone"):
        raw = text_field(form, errors, name, required=False, limit=40)
        region = "FI" if tenant_locale(person) == "fi" else "SE"
        phones[name] = normalise_phone(raw, region) if raw else None
        if raw and phones[name] is None:
            errors[name] = "bad_phone"
    if errors:
        return render_template("portal/contact.html", form=form, errors=errors), 400
    changed = []
    if (email or None) != person.email:
        changed.append("email")
        person.email = email or None
    if phones["phone"] != person.phone:
        changed.append("phone")
        person.phone = phones["phone"]
    if extra is None:
        extra = TenantContact(person_id=person.id)
        db.session.add(extra)
    if phones["other_phone"] != extra.other_phone:
        changed.append("other_phone")
        extra.other_phone = phones["other_phone"]
    if changed and person.landlord_id:
        # The landlord hears which details changed (the values are on the tenant's record).
        db.session.add(PortalMessage(landlord_id=person.landlord_id, person_id=person.id,
                                     kind="contact_change", body=", ".join(changed)))
    flash(_("Your contact details are saved.") if changed else _("Nothing was changed."),
          "info")
    return redirect(url_for("portal.contact"))


# -- fault reports --------------------------------------------------------------------------

@bp.get("/faults")
@tenant_required
def faults():
    reports = db.session.scalars(select(FaultReport).where(
        FaultReport.person_id == current_person_id()).order_by(FaultReport.created_at.desc()))
    return render_template("portal/faults.html", reports=list(reports))


@bp.route("/faults/new", methods=["GET", "POST"])
@tenant_required
def new_fault():
    person = me()
    today = local_today()
    objects = service.objects_of(db.session, person.id, on=today)
    errors: dict = {}
    if request.method == "GET":
        form = {"object_id": str(objects[0].id) if len(objects) == 1 else ""}
        return render_template("portal/fault_new.html", form=form, errors=errors,
                               objects=objects)
    form = request.form.to_dict()
    category = choice_field(form, errors, "category", FAULT_CATEGORIES)
    room = choice_field(form, errors, "room", FAULT_ROOMS)
    description = text_field(form, errors, "description")
    object_id = int_or_none(form.get("object_id"))
    if object_id not in {o.id for o in objects}:
        errors["object_id"] = "unknown_object"
    photos = [f.read() for f in request.files.getlist("photos") if f and f.filename]
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = "too_many_photos"
    if not errors:
        try:
            fault = service.report_fault(
                db.session, person.id, object_id=object_id, category=category, room=room,
                description=description, master_key_allowed=form.get("master_key") == "yes",
                photos=photos, on=today)
        except PortalError as exc:
            errors[exc.field or "description"] = exc.code
    if errors:
        return render_template("portal/fault_new.html", form=form, errors=errors,
                               objects=objects), 400
    flash(_("Your fault report is received."), "info")
    return redirect(url_for("portal.fault", fault_id=fault.id))


@bp.get("/faults/<int:fault_id>")
@tenant_required
def fault(fault_id: int):
    try:
        report = service.fault_of(db.session, current_person_id(), fault_id)
    except PortalError:
        abort(404)
    thread = service.messages_of(db.session, current_person_id(), fault_id=report.id)
    return render_template("portal/fault.html", report=report, thread=thread[::-1],
                           form={}, errors={})


@bp.post("/faults/<int:fault_id>/messages")
@tenant_required
def fault_message(fault_id: int):
    try:
        report = service.fault_of(db.session, current_person_id(), fault_id)
    except PortalError:
        abort(404)
    form, errors = request.form.to_dict(), {}
    body = text_field(form, errors, "body")
    if errors:
        thread = service.messages_of(db.session, current_person_id(), fault_id=report.id)
        return render_template("portal/fault.html", report=report, thread=thread[::-1],
                               form=form, errors=errors), 400
    db.session.add(PortalMessage(landlord_id=report.landlord_id, person_id=report.person_id,
                                 fault_id=report.id, kind="message", body=body))
    flash(_("Your message is sent."), "info")
    return redirect(url_for("portal.fault", fault_id=report.id))


@bp.get("/faults/<int:fault_id>/photos/<int:photo_id>.jpg")
@tenant_required
def fault_photo(fault_id: int, photo_id: int):
    try:
        report = service.fault_of(db.session, current_person_id(), fault_id)
    except PortalError:
        abort(404)
    photo = db.session.get(FaultPhoto, photo_id)
    if photo is None or photo.fault_id != report.id:
        abort(404)
    return Response(photo.data, mimetype="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"})


# -- messages and service requests ----------------------------------------------------------

@bp.route("/messages", methods=["GET", "POST"])
@tenant_required
def messages():
    person = me()
    errors: dict = {}
    form = request.form.to_dict() if request.method == "POST" else {"kind": "message"}
    if request.method == "POST":
        kind = choice_field(form, errors, "kind", TENANT_MESSAGE_KINDS)
        subject = text_field(form, errors, "subject", limit=200)
        body = text_field(form, errors, "body")
        if not person.landlord_id:
            abort(404)
        if not errors:
            db.session.add(PortalMessage(landlord_id=person.landlord_id, person_id=person.id,
                                         kind=kind, subject=subject, body=body))
            flash(_("Your message is sent."), "info")
            return redirect(url_for("portal.messages"))
    thread = [m for m in service.messages_of(db.session, person.id)
              if m.kind in TENANT_MESSAGE_KINDS and m.fault_id is None]
    return render_template("portal/messages.html", form=form, errors=errors, thread=thread,
                           kinds=TENANT_MESSAGE_KINDS), (400 if errors else 200)


# -- written disturbance complaint ----------------------------------------------------------

@bp.route("/complaint", methods=["GET", "POST"])
@tenant_required
def complaint():
    person = me()
    today = local_today()
    objects = service.objects_of(db.session, person.id, on=today)
    errors: dict = {}
    if request.method == "GET":
        form = {"object_id": str(objects[0].id) if len(objects) == 1 else ""}
        return render_template("portal/complaint.html", form=form, errors=errors,
                               objects=objects, categories=CATEGORY_NAMES)
    form = request.form.to_dict()
    category = choice_field(form, errors, "category", CATEGORY_NAMES)
    description = text_field(form, errors, "description")
    object_id = int_or_none(form.get("object_id"))
    obj = next((o for o in objects if o.id == object_id), None)
    if obj is None:
        errors["object_id"] = "unknown_object"
    if not errors:
        landlord = db.session.get(Landlord, obj.landlord_id)
        try:
            create_complaint(db.session, NewComplaint(
                landlord=landlord, category=category, description=description,
                object_id=obj.id, caller_name=person.name, caller_phone=person.phone,
                disturbed_party="tenant"), user_id=None)
        except DispatchError:
            errors["description"] = "required"
    if errors:
        return render_template("portal/complaint.html", form=form, errors=errors,
                               objects=objects, categories=CATEGORY_NAMES), 400
    flash(_("Your complaint is sent to the on-call service."), "info")
    return redirect(url_for("portal.home"))


# -- laundry --------------------------------------------------------------------------------

def _laundry_page(errors: dict | None = None, status: int = 200):
    person_id = current_person_id()
    now = local_now()
    days = current_app.config["PORTAL_LAUNDRY_DAYS_AHEAD"]
    return render_template(
        "portal/laundry.html",
        rooms=service.rooms_of(db.session, person_id, on=now.date()),
        free=service.free_passes(db.session, person_id, now=now, days=days),
        bookings=service.bookings_of(db.session, person_id, from_day=now.date()),
        max_bookings=current_app.config["PORTAL_LAUNDRY_MAX_BOOKINGS"],
        errors=errors or {}), status


@bp.get("/laundry")
@tenant_required
def laundry():
    return _laundry_page()


@bp.post("/laundry/book")
@tenant_required
def book_laundry():
    pass_id = int_or_none(request.form.get("pass_id"))
    try:
        day = datetime.strptime(request.form.get("day", ""), "%Y-%m-%d").date()
    except ValueError:
        day = None
    if pass_id is None or day is None:
        abort(404)
    try:
        service.book_pass(db.session, current_person_id(), pass_id, day, now=local_now(),
                          max_future=current_app.config["PORTAL_LAUNDRY_MAX_BOOKINGS"],
                          days=current_app.config["PORTAL_LAUNDRY_DAYS_AHEAD"])
    except PortalError as exc:
        if exc.code == "not_found":
            abort(404)
        return _laundry_page({"booking": exc.code}, 409)
    flash(_("The pass is booked."), "info")
    return redirect(url_for("portal.laundry"))


@bp.post("/laundry/bookings/<int:booking_id>/cancel")
@tenant_required
def cancel_laundry(booking_id: int):
    try:
        service.cancel_booking(db.session, current_person_id(), booking_id, now=local_now())
    except PortalError as exc:
        if exc.code == "not_found":
            abort(404)
        return _laundry_page({"booking": exc.code}, 409)
    flash(_("The booking is cancelled."), "info")
    return redirect(url_for("portal.laundry"))


# -- notice of termination ------------------------------------------------------------------

@bp.route("/agreements/<int:agreement_id>/notice", methods=["GET", "POST"])
@tenant_required
def notice(agreement_id: int):
    person = me()
    today = local_today()
    try:
        agreement = service.agreement_of(db.session, person.id, agreement_id)
    except PortalError:
        abort(404)
    errors: dict = {}
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            errors["confirm"] = "confirm"
        else:
            try:
                service.give_notice(db.session, person.id, agreement.id, on=today)
            except PortalError as exc:
                errors["confirm"] = exc.code
        if not errors:
            sent = send_tenant_mail(person, "notice", agreement=agreement)
            flash(_("Your notice is registered. The agreement ends on %(date)s.",
                    date=format_day(agreement.ends_on)), "info")
            if not sent:
                flash(_("We could not send a confirmation by e-mail."), "error")
            return redirect(url_for("portal.home"))
    return render_template("portal/notice.html", agreement=agreement, today=today,
                           ends_on=notice_end_date(today), errors=errors), (
        400 if errors else 200)


def format_day(day) -> str:
    return format_date(day, format="long")


@bp.app_template_filter("portal_iso_day")
def _portal_iso_day(text: str) -> str:
    try:
        return format_day(date.fromisoformat(text))
    except ValueError:
        return text


@bp.app_template_filter("portal_day")
def _portal_day(day) -> str:
    return "" if day is None else format_day(day)

