"""The pages for exchanges (bostadsbyte) and second-hand letting (andrahandsuthyrning):
the tenant's ``/bostad/tenancy`` (their agreements in force, their applications and the
decisions, a form for each kind) and the case officers' ``/bostad/staff/tenancy`` (the
applications, each with the tenant's agreement and earlier disturbances, and the decision with
its reason; approving an exchange credit-checks both parties). The rules are in ``tenancy``."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from dispatch.auth.identity.numbers import masked
from dispatch.core import audit
from dispatch.core.extensions import db
from dispatch.housing import credit, service, tenancy
from dispatch.housing.blueprint import bp
from dispatch.housing.mails import send_tenancy_decision
from dispatch.housing.staff import landlord_ids, mine, parse_day, parse_int, staff_only
from dispatch.housing.views import me, queue_landlord, today
from dispatch.models import Agreement, Person, utcnow
from dispatch.models.housing import SUBLET_REASONS, HousingTenancyApplication
from dispatch.portal.session import tenant_required

KIND_NAMES = {"exchange": _l("Exchange of flats"), "sublet": _l("Second-hand letting")}
STATUS_NAMES = {"pending": _l("Waiting for a decision"), "approved": _l("Approved"),
                "refused": _l("Refused")}
SUBLET_REASON_NAMES = {
    "studies": _l("Studies in another town"),
    "temporary_job": _l("Temporary work in another town"),
    "trial_cohabitation": _l("Trying out living together with a partner"),
    "abroad": _l("A long stay abroad"),
}


@bp.context_processor
def _tenancy_words() -> dict:
    return {"tenancy_kind_names": KIND_NAMES, "tenancy_status_names": STATUS_NAMES,
            "sublet_reason_names": SUBLET_REASON_NAMES}


def _text(form: dict, errors: dict, name: str, limit: int, required: bool = True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = "required"
    elif len(value) > limit:
        errors[name] = "too_long"
    return value


def agreement_label(agreement: Agreement) -> str:
    label = _("Agreement %(number)s", number=agreement.avtalsnummer or agreement.id)
    for link in agreement.objects:
        if link.rental_object is not None and link.rental_object.entrance is not None:
            return f"{label} · {link.rental_object.entrance.street_address}"
    return label


# -- the tenant's page ------------------------------------------------------------------------

# A refused form comes back with what was typed, the other party's personnummer too, to be
# corrected: the page is never cached. (The number goes only in the POST's body and this page,
# never in a URL nor a log.)
NO_STORE = {"Cache-Control": "private, no-store"}


@bp.get("/tenancy")
@tenant_required
def tenancy_page(form: dict | None = None, errors: dict | None = None, which: str = "",
                 status: int = 200):
    person = me()
    landlord = queue_landlord()
    day = today()
    agreements = tenancy.agreements_of(db.session, person.id, landlord.id, day)
    first = str(agreements[0].id) if agreements else ""
    later = (day + timedelta(days=30)).isoformat()
    defaults = {"agreement_id": first, "starts_on": later, "sublet_agreement_id": first,
                "sublet_starts_on": later}
    return render_template(
        "housing/tenancy.html", agreements=agreements,
        agreement_options=[(a.id, agreement_label(a)) for a in agreements],
        applications=tenancy.applications_of(db.session, person.id, landlord.id),
        form={**defaults, **(form or {})}, errors=errors or {}, which=which,
        reasons=[(r, SUBLET_REASON_NAMES[r]) for r in SUBLET_REASONS]), status, NO_STORE


def _common(form: dict, errors: dict, prefix: str = "") -> tuple[int | None, date | None, str]:
    """The fields both forms have (the second-hand form's named with ``sublet_``: one page).
    A field the form could not read comes back ``None``, its error in ``errors``."""
    agreement_id = parse_int(form, errors, f"{prefix}agreement_id", 1, 2**62, 0)
    starts_on = parse_day(form, errors, f"{prefix}starts_on")
    note = _text(form, errors, f"{prefix}note", 2000, required=False)
    if f"{prefix}agreement_id" in errors:
        agreement_id = None
    return agreement_id, starts_on, note


def _add(errors: dict, problems: dict, rename: dict | None = None) -> None:
    """The rules' problems beside the form's own errors (a field keeps its first error)."""
    for field, code in problems.items():
        errors.setdefault((rename or {}).get(field, field), code)


@bp.post("/tenancy/exchange")
@tenant_required
def apply_exchange():
    """Every error at once, each on its field: the form's own (required, dates) and the
    rules' (the agreement, the personnummer's check digit and age, consent)."""
    form = request.form.to_dict()
    errors: dict = {}
    agreement_id, starts_on, note = _common(form, errors)
    name = _text(form, errors, "counterpart_name", 200)
    address = _text(form, errors, "counterpart_address", 300)
    number = (form.get("counterpart_personnummer") or "").strip()
    consent = form.get("consent") == "on"
    person, landlord_id, day = me(), queue_landlord().id, today()
    _add(errors, tenancy.exchange_problems(
        db.session, person, landlord_id, agreement_id=agreement_id,
        counterpart_personnummer=number, exchange_on=starts_on, consent=consent, today=day))
    if not errors:
        try:
            tenancy.apply_exchange(
                db.session, person, landlord_id, agreement_id=agreement_id,
                counterpart_name=name, counterpart_personnummer=number,
                counterpart_address=address, exchange_on=starts_on, consent=consent,
                note=note, today=day)
        except tenancy.TenancyError as exc:
            _add(errors, exc.errors)
    if errors:
        return tenancy_page(form, errors, "exchange", 400)
    flash(_("Your exchange application is sent. We answer by e-mail."), "info")
    return redirect(url_for("housing.tenancy_page"), 303)


SUBLET_FIELDS = {"agreement_id": "sublet_agreement_id", "starts_on": "sublet_starts_on"}


@bp.post("/tenancy/sublet")
@tenant_required
def apply_sublet():
    """Every error at once, each on its field, as for an exchange: an end before the start
    shows beside a missing name."""
    form = request.form.to_dict()
    errors: dict = {}
    agreement_id, starts_on, note = _common(form, errors, "sublet_")
    ends_on = parse_day(form, errors, "ends_on")
    name = _text(form, errors, "subtenant_name", 200)
    reason = form.get("reason") or ""
    person, landlord_id, day = me(), queue_landlord().id, today()
    _add(errors, tenancy.sublet_problems(
        db.session, person, landlord_id, agreement_id=agreement_id, starts_on=starts_on,
        ends_on=ends_on, reason=reason, today=day), SUBLET_FIELDS)
    if not errors:
        try:
            tenancy.apply_sublet(db.session, person, landlord_id,
                                 agreement_id=agreement_id, subtenant_name=name,
                                 starts_on=starts_on, ends_on=ends_on, reason=reason, note=note,
                                 today=day)
        except tenancy.TenancyError as exc:
            _add(errors, exc.errors, SUBLET_FIELDS)
    if errors:
        return tenancy_page(form, errors, "sublet", 400)
    flash(_("Your application to let second-hand is sent. We answer by e-mail."), "info")
    return redirect(url_for("housing.tenancy_page"), 303)


# -- the case officers' pages -----------------------------------------------------------------

@bp.get("/staff/tenancy")
@staff_only
def staff_tenancy():
    rows = list(db.session.scalars(
        select(HousingTenancyApplication)
        .where(HousingTenancyApplication.landlord_id.in_(landlord_ids()))
        .order_by((HousingTenancyApplication.status == "pending").desc(),
                  HousingTenancyApplication.created_at.desc()).limit(500)))
    people = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.id.in_({r.person_id for r in rows})))} if rows else {}
    return render_template("housing/staff/tenancy_list.html", rows=rows, people=people)


@bp.get("/staff/tenancy/<int:application_id>")
@staff_only
def staff_tenancy_one(application_id: int, form: dict | None = None,
                      errors: dict | None = None, status: int = 200):
    row = mine(db.session.get(HousingTenancyApplication, application_id))
    person = db.session.get(Person, row.person_id)
    agreement = db.session.get(Agreement, row.agreement_id)
    found = service.disturbances(
        db.session, row.person_id, row.landlord_id,
        since=utcnow() - timedelta(days=current_app.config["REPORT_RETENTION_DAYS"]))
    if found:  # the officer sees earlier disturbances: audited as in the assessment
        audit.record(db.session, "housing.assessment.read", subject=f"tenancy:{row.id}",
                     user_id=current_user.id, ip=request.remote_addr,
                     details={"person_ids": [row.person_id]})
    return render_template(
        "housing/staff/tenancy_one.html", row=row, person=person, agreement=agreement,
        disturbances=found, masked=masked, form=form or {}, errors=errors or {}), status


@bp.post("/staff/tenancy/<int:application_id>/decision")
@staff_only
def decide_tenancy(application_id: int):
    row = mine(db.session.get(HousingTenancyApplication, application_id))
    form = request.form.to_dict()
    choice = form.get("decision")
    errors: dict = {}
    if choice not in ("approve", "refuse"):
        errors["decision_reason"] = "invalid_choice"
    else:
        try:
            tenancy.decide(db.session, row, approve=choice == "approve",
                           reason=(form.get("decision_reason") or "")[:2000],
                           credit=credit.provider(current_app.config),
                           staff_user_id=current_user.id)
        except tenancy.TenancyError as exc:
            errors[exc.field or "decision_reason"] = exc.code
    if errors:
        return staff_tenancy_one(application_id, form, errors, 400)
    send_tenancy_decision(db.session, row,
                          link=url_for("housing.tenancy_page", _external=True))
    flash(_("The decision is recorded and the tenant is told by e-mail."), "info")
    return redirect(url_for("housing.staff_tenancy_one", application_id=row.id), 303)
