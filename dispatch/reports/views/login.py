"""The way in for a landlord's contact person: the morning mail's link, and the log-in page
that offers the password or a one-time code by mail."""

from __future__ import annotations

from datetime import date

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms import EmailField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from dispatch.auth.access import has_role
from dispatch.auth.forms import LoginForm
from dispatch.auth.lockout import LockoutPolicy
from dispatch.auth.routes import _safe_next, client_ip, locked_message
from dispatch.core.extensions import db
from dispatch.core.mail import MailError, build_message, send_one, sender_address
from dispatch.models import MorningMail, User
from dispatch.reports.codes import CODE_VALID, request_code, verify_code
from dispatch.reports.service import READER_ROLES, is_staff
from dispatch.reports.views.common import Deleted, audit, bp, morning_deleted


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
    return {"policy": LockoutPolicy.from_config(cfg), "secret_key": cfg["SECRET_KEY"]}


def _target() -> str:
    return _safe_next(request.args.get("next")) or url_for("reports.index")


HINT_SALT = "reports.login-hint"
HINT_MAX_AGE_S = 14 * 24 * 3600  # a morning mail's link pre-fills the address this long


def _hints() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=HINT_SALT)


def login_hint(user_id: int) -> str:
    """A signed token naming the contact a mail went to (an id, no address in the URL)."""
    return _hints().dumps(user_id)


def _hinted_email() -> str | None:
    """The e-mail of the contact whose mail link led here, if the hint is genuine and fresh."""
    token = request.args.get("hint")
    if not token:
        return None
    try:
        user_id = _hints().loads(token, max_age=HINT_MAX_AGE_S)
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user.email if user is not None and user.active else None


@bp.get("/login")
def login():
    """Log in to read reports: with the password, or with a one-time code by mail. From a
    morning mail's link, the contact's address is filled in already."""
    target = _target()
    if current_user.is_authenticated:
        return redirect(target)
    form, code_form = LoginForm(), CodeRequestForm()
    email = _hinted_email()
    if email:
        form.email.data = code_form.email.data = email
    return render_template("reports/login.html", form=form, code_form=code_form, next=target)


@bp.post("/login/code")
def login_code():
    """Mail a one-time code (the answer is the same whether or not the address is known)."""
    target = _target()
    form = CodeRequestForm()
    if not form.validate_on_submit():
        return render_template("reports/login.html", form=LoginForm(), code_form=form,
                               next=target), 400
    issued = request_code(db.session, form.email.data, ip=client_ip(), **_limits())
    if issued.code is not None:
        to, code, locale = issued.user.email, issued.code, issued.user.locale

        @after_this_request
        def mail_after_commit(response):
            # After the request's commit: the code is stored before it is mailed, and no
            # transaction waits on the SMTP server.
            if response.status_code == 200:
                _mail_code(to, code, locale)
            return response

    verify = CodeVerifyForm(formdata=None, email=form.email.data.strip().lower())
    return render_template("reports/code.html", form=verify, next=target)


def _mail_code(to: str, code: str, locale: str | None) -> None:
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
    """Check the code; on success go on to where the link pointed. A failure is answered, not
    raised, so that its audit line (which the attempt limit counts) is committed."""
    target = _target()
    form = CodeVerifyForm()
    if not form.validate_on_submit():
        return render_template("reports/code.html", form=form, next=target), 400
    result = verify_code(db.session, form.email.data, form.code.data, ip=client_ip(),
                         **_limits())
    if result.user is not None:
        login_user(result.user)
        return redirect(target)
    if result.reason == "locked":
        flash(locked_message(result.retry_after), "error")
        return (render_template("reports/code.html", form=form, next=target), 429,
                {"Retry-After": str(result.retry_after)})
    flash(_("The code is wrong or no longer valid. Ask for a new one if needed."), "error")
    return render_template("reports/code.html", form=form, next=target), 401


@bp.get("/m/<token>")
def mail_link(token: str):
    """The morning mail's link: after log-in, that morning's reports. A link whose morning is
    past retention says so (410) even before log-in; one the user may not follow is not found.
    """
    morning = _token_morning(token)
    row = db.session.scalar(select(MorningMail).where(MorningMail.link_token == token))
    if row is None:
        if morning is not None and morning_deleted(morning):
            raise Deleted(morning=morning)
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("reports.login", next=request.full_path.rstrip("?"),
                                hint=login_hint(row.user_id)))
    if not has_role(current_user, *READER_ROLES) or not (
            is_staff(current_user) or current_user.landlord_id == row.landlord_id):
        abort(404)
    audit("report.link_opened", subject=f"morning:{row.morning.isoformat()}")
    return redirect(url_for("reports.morning", day=row.morning.isoformat()))


def _token_morning(token: str) -> date | None:
    """The morning a link token names (its first eight characters, YYYYMMDD)."""
    try:
        return date(int(token[:4]), int(token[4:6]), int(token[6:8]))
    except ValueError:
        return None
