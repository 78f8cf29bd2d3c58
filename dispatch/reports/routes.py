"""Report pages: the landlord's reading (from the morning mail's link, through log-in), the print
view, PDF and CSV, and the operator's review and release. Thin: load, check access, call
the service, audit the read, commit, render."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from functools import wraps
from itertools import groupby

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from dispatch.auth.forms import LoginForm
from dispatch.auth.routes import _safe_next, client_ip
from dispatch.core.extensions import db
from dispatch.core.mail import MailError, build_message, send_one, sender_address
from dispatch.models import IncidentReport, MorningMail, utcnow
from dispatch.reports import bp
from dispatch.reports.codes import CODE_VALID, request_code, verify_code
from dispatch.reports.labels import (
    CATEGORY_NAMES,
    FIELD_NAMES,
    OUTCOME_NAMES,
    STATUS_NAMES,
    TIMELINE_NAMES,
    local,
    yes_no,
)
from dispatch.reports.morning import WARN_DAYS
from dispatch.reports.nights import latest_morning, morning_start, night_of, purge_day, zone
from dispatch.reports.retention import expiring
from dispatch.reports.service import (
    STAFF_ROLES,
    ReportError,
    correct_report,
    deleted_report,
    document,
    is_staff,
    mornings,
    readable_report,
    record_read,
    release_report,
    reports_of_morning,
    reports_of_nights,
    review_queue,
)

READER_ROLES = ("landlord", *STAFF_ROLES)
EXPORT_MAX_DAYS = 366


def _tz():
    return zone(current_app.config["DISPATCH_TZ"])


def _retention() -> int:
    return current_app.config["REPORT_RETENTION_DAYS"]


def reader_required(view):
    """Contact persons and staff; anyone else logs in first, on the page that also offers a
    one-time code (the way in from the morning mail)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("reports.login", next=request.full_path.rstrip("?")))
        if current_user.role not in READER_ROLES:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    """Operators and admins only."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.role not in STAFF_ROLES:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _audit(action: str, subject: str | None = None, **details) -> None:
    record_read(db.session, current_user, action, ip=client_ip(), subject=subject, **details)
    db.session.commit()


def _template_globals() -> dict:
    return {"category_names": CATEGORY_NAMES, "outcome_names": OUTCOME_NAMES,
            "timeline_names": TIMELINE_NAMES, "field_names": FIELD_NAMES,
            "status_names": STATUS_NAMES, "yes_no": yes_no,
            "local": lambda value, fmt="%Y-%m-%d %H:%M": local(value, _tz(), fmt),
            "retention_days": _retention()}


@bp.context_processor
def _labels() -> dict:
    return _template_globals()


# -- log-in from the mail --------------------------------------------------------------------

def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CodeRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[_strip], validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Not a valid e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Send me a code"))


class CodeVerifyForm(FlaskForm):
    email = HiddenField(validators=[DataRequired(), Length(max=254)])
    code = StringField(_l("Code from the mail"), validators=[
        DataRequired(_l("Enter the code from the mail.")), Length(max=12)])
    submit = SubmitField(_l("Log in"))


def _limits() -> dict:
    cfg = current_app.config
    return {"window": timedelta(minutes=cfg["LOGIN_FAILURE_WINDOW_MINUTES"]),
            "max_per_account": cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            "max_per_address": cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            "secret_key": cfg["SECRET_KEY"]}


@bp.get("/login")
def login():
    """Log in to read reports: with the password, or with a one-time code by mail."""
    target = _safe_next(request.args.get("next")) or url_for("reports.index")
    if current_user.is_authenticated:
        return redirect(target)
    return render_template("reports/login.html", form=LoginForm(), code_form=CodeRequestForm(),
                           next=target)


@bp.post("/login/code")
def login_code():
    """Mail a one-time code (the answer is the same whether or not the address is known)."""
    target = _safe_next(request.args.get("next")) or url_for("reports.index")
    form = CodeRequestForm()
    if not form.validate_on_submit():
        return render_template("reports/login.html", form=LoginForm(), code_form=form,
                               next=target), 400
    issued = request_code(db.session, form.email.data, ip=client_ip(), **_limits())
    db.session.commit()
    if issued.code is not None:
        _mail_code(issued.user.email, issued.code, issued.user.locale)
    verify = CodeVerifyForm(formdata=None, email=form.email.data.strip().lower())
    return render_template("reports/code.html", form=verify, next=target)


def _mail_code(to: str, code: str, locale: str | None) -> None:
    from flask_babel import force_locale

    env = current_app.jinja_env
    context = {"code": code, "minutes": int(CODE_VALID.total_seconds() // 60)}
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        msg = build_message(
            sender=sender_address(current_app.config), to=to,
            subject=env.get_template("reports/mail/code_subject.txt").render(context).strip(),
            text=env.get_template("reports/mail/code.txt").render(context),
            html=env.get_template("reports/mail/code.html").render(context),
            headers={"Auto-Submitted": "auto-generated"})
    try:
        send_one(current_app.config, msg)
    except MailError as exc:
        current_app.logger.warning("log-in code not sent", extra={"error": exc.code})


@bp.post("/login/code/verify")
def login_code_verify():
    """Check the code; on success go on to where the link pointed."""
    target = _safe_next(request.args.get("next")) or url_for("reports.index")
    form = CodeVerifyForm()
    if not form.validate_on_submit():
        return render_template("reports/code.html", form=form, next=target), 400
    result = verify_code(db.session, form.email.data, form.code.data, ip=client_ip(),
                         **_limits())
    db.session.commit()
    if result.user is not None:
        login_user(result.user)
        return redirect(target)
    if result.reason == "locked":
        flash(_("Too many failed attempts. Wait a few minutes and try again."), "error")
        return render_template("reports/code.html", form=form, next=target), 429
    flash(_("The code is wrong or no longer valid. Ask for a new one if needed."), "error")
    return render_template("reports/code.html", form=form, next=target), 401


# -- reading ---------------------------------------------------------------------------------

@bp.get("/m/<token>")
def mail_link(token: str):
    """The morning mail's link: after log-in, that morning's reports."""
    morning = _token_morning(token)
    row = db.session.scalar(select(MorningMail).where(MorningMail.link_token == token))
    if row is None:
        if morning is not None and morning_start(morning, _tz()) < utcnow() - timedelta(
                days=_retention()):
            return render_template("reports/deleted.html", morning=morning), 410
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("reports.login", next=request.path))
    if current_user.role not in READER_ROLES or not (
            is_staff(current_user) or current_user.landlord_id == row.landlord_id):
        abort(404)
    _audit("report.link_opened", subject=f"morning:{row.morning.isoformat()}")
    return redirect(url_for("reports.morning", day=row.morning.isoformat()))


def _token_morning(token: str) -> date | None:
    try:
        return date(int(token[:4]), int(token[4:6]), int(token[6:8]))
    except ValueError:
        return None


@bp.get("/")
@reader_required
def index():
    """The mornings with reports, newest first; operators start at the review queue."""
    if is_staff(current_user) and not request.args.get("all"):
        return redirect(url_for("reports.review"))
    days = mornings(db.session, current_user, _tz())
    _audit("report.list", scope="mornings", count=len(days))
    today = latest_morning(utcnow(), _tz())
    return render_template("reports/index.html", days=days, today=today)


def _group(docs: list[dict]) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """By night (newest first), then by property (or address)."""
    docs = sorted(docs, key=lambda d: (d["night"], d["property"] or d["address"], d["id"]))
    nights = []
    for night, in_night in groupby(docs, key=lambda d: d["night"]):
        places = [(place, list(items)) for place, items in
                  groupby(in_night, key=lambda d: d["property"] or d["address"])]
        nights.append((night, places))
    return sorted(nights, key=lambda n: n[0], reverse=True)


@bp.get("/morning/<day>")
@reader_required
def morning(day: str):
    """One morning's reports, by night and property."""
    when = _date_arg(day)
    if when is None:
        abort(404)
    tz = _tz()
    reports = reports_of_morning(db.session, current_user, when, tz)
    docs = [document(db.session, r, tz) for r in reports]
    _audit("report.list", subject=f"morning:{when.isoformat()}", count=len(docs),
           reports=[d["id"] for d in docs])
    deleted = morning_start(when, tz) < utcnow() - timedelta(days=_retention())
    return render_template("reports/morning.html", day=when, nights=_group(docs),
                           count=len(docs), deleted=deleted)


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _readable_or_gone(report_id: int):
    """(the report, None) if the user may read it; (None, a 410 page) if it was one of theirs
    and has been deleted after retention; else 404, as for one that never existed."""
    found = readable_report(db.session, current_user, report_id)
    if found is not None:
        return found, None
    gone = deleted_report(db.session, current_user, report_id)
    if gone is not None:
        return None, (render_template("reports/deleted.html", report_id=report_id,
                                      night=gone.night), 410)
    abort(404)


@bp.get("/<int:report_id>")
@reader_required
def report(report_id: int):
    """One report."""
    found, gone = _readable_or_gone(report_id)
    if gone is not None:
        return gone
    doc = document(db.session, found, _tz())
    _audit("report.read", subject=f"report:{report_id}", format="html")
    return render_template("reports/report.html", doc=doc)


@bp.get("/<int:report_id>/print")
@reader_required
def print_view(report_id: int):
    """The report on its own, laid out for paper."""
    found, gone = _readable_or_gone(report_id)
    if gone is not None:
        return gone
    doc = document(db.session, found, _tz())
    _audit("report.read", subject=f"report:{report_id}", format="print")
    return render_template("reports/print.html", doc=doc,
                           printed_at=local(utcnow(), _tz()))


@bp.get("/<int:report_id>.pdf")
@reader_required
def pdf(report_id: int):
    """The report as a PDF download."""
    from dispatch.reports.pdf import render

    found, gone = _readable_or_gone(report_id)
    if gone is not None:
        return gone
    tz = _tz()
    doc = document(db.session, found, tz)
    body = render(doc, tz, printed_at=local(utcnow(), tz))
    _audit("report.read", subject=f"report:{report_id}", format="pdf")
    name = f"storningsrapport-{report_id}-{doc['night']}.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


CSV_COLUMNS = ("id", "night", "landlord", "property", "address", "lagenhetsnummer",
               "objektsnummer", "category", "call", "dispatched", "acknowledged", "arrived",
               "left", "outcome", "disturber_reached", "tenant_contacted", "can_testify",
               "observations", "disturber_response", "actions", "text", "released_at")


@bp.get("/export.csv")
@reader_required
def export():
    """The reports of a period of nights as CSV (``from`` and ``to``, YYYY-MM-DD)."""
    tz = _tz()
    last = _date_arg(request.args.get("to")) or latest_morning(utcnow(), tz) - timedelta(days=1)
    first = _date_arg(request.args.get("from")) or last - timedelta(days=30)
    if first > last or (last - first).days > EXPORT_MAX_DAYS:
        abort(400)
    reports = reports_of_nights(db.session, current_user, first, last, tz)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    headings = {**{k: str(v) for k, v in FIELD_NAMES.items()},
                **{k: str(v) for k, v in TIMELINE_NAMES.items()}}
    writer.writerow([headings.get(c, c) for c in CSV_COLUMNS])
    for r in reports:
        d = document(db.session, r, tz)
        times = {step["event"]: local(step["at"], tz) for step in d["timeline"]}
        values = {**d, **times, "landlord": d["landlord"]["name"],
                  "category": str(CATEGORY_NAMES.get(d["category"], d["category"])),
                  "outcome": str(OUTCOME_NAMES.get(d["outcome"], d["outcome"] or "")),
                  "released_at": local(d["released_at"], tz),
                  **{k: yes_no(d[k]) for k in ("disturber_reached", "tenant_contacted",
                                               "can_testify")}}
        writer.writerow(["" if values.get(c) is None else values.get(c) for c in CSV_COLUMNS])
    _audit("report.export", subject=f"nights:{first.isoformat()}..{last.isoformat()}",
           format="csv", count=len(reports), reports=[r.id for r in reports])
    name = f"storningsrapporter-{first.isoformat()}-{last.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@bp.get("/expiring")
@reader_required
def expiring_soon():
    """Released reports that will be deleted within the warning period, soonest first."""
    tz = _tz()
    now = utcnow()
    rows = expiring(db.session, start=now, end=now + timedelta(days=WARN_DAYS + 1),
                    retention_days=_retention())
    if not is_staff(current_user):
        rows = [r for r in rows if r[1] == current_user.landlord_id]
    items = [{"id": rid, "night": night_of(called, tz),
              "goes_on": purge_day(created + timedelta(days=_retention()), tz)}
             for rid, _landlord, called, created in rows]
    items.sort(key=lambda i: (i["goes_on"], i["id"]))
    _audit("report.list", scope="expiring", count=len(items))
    return render_template("reports/expiring.html", items=items)


# -- review (operators) ----------------------------------------------------------------------

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
@staff_required
def review():
    """Reports waiting for an operator's review, oldest first."""
    tz = _tz()
    docs = [document(db.session, r, tz) for r in review_queue(db.session)]
    return render_template("reports/review.html", docs=docs)


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(report_id: int):
    """Correct a report before release, then release it; a released one is only shown."""
    found = db.session.get(IncidentReport, report_id) or abort(404)
    tz = _tz()
    if found.status == "released":
        return redirect(url_for("reports.report", report_id=report_id))
    form = ReviewForm()
    status = 200
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in
                   ("observations", "disturber_response", "actions", "text", "outcome")}
        changes.update({name: _bool_in(getattr(form, name).data) for name in
                        ("disturber_reached", "tenant_contacted", "can_testify")})
        try:
            correct_report(db.session, found, current_user, changes)
            if form.release.data:
                release_report(db.session, found, current_user)
            db.session.commit()
        except ReportError as exc:
            db.session.rollback()
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
        for name in ("observations", "disturber_response", "actions", "text", "outcome"):
            getattr(form, name).data = getattr(found, name)
        for name in ("disturber_reached", "tenant_contacted", "can_testify"):
            getattr(form, name).data = _bool_out(getattr(found, name))
    doc = document(db.session, found, tz)
    return render_template("reports/edit.html", doc=doc, form=form), status
