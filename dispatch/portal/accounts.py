"""Tenants' accounts: log-in (password, BankID, Finnish e-identification), registration through
strong identification, activation, password reset, the legacy PIN log-in, and the office
identification page for staff (issue 15). The rules are in ``dispatch.auth.tenants``; the
providers in ``dispatch.auth.identity``.

BankID in the browser: ``bankid_start`` (a form POST) makes the order and shows the page; its
script (``static/portal/account/bankid.js``) asks ``bankid_qr`` every second for the animated
QR code and ``bankid_collect`` every two seconds (our server collects from BankID), and
``bankid_cancel`` ends the order: the flow shared with the housing queue
(``auth.identity.flow``). The order (reference, QR token and secret) and a Finnish
e-identification's state, nonce and PKCE verifier are kept on the server
(``auth.identity.pending``), the session holding only a random id; a completed
identification is kept server-side too (``TenantIdentification``) and the session holds only
its id: the identity number never reaches the browser.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_date, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from dispatch.auth import tenants
from dispatch.auth.access import roles_required
from dispatch.auth.identity import Failed, oidc
from dispatch.auth.identity.flow import BankIDFlow, OIDCFlow
from dispatch.auth.identity.messages import failed_message
from dispatch.auth.identity.numbers import InvalidNumber, masked, normalise
from dispatch.auth.lockout import LockoutPolicy
from dispatch.core.extensions import db
from dispatch.core.mail import MailError, build_message, send_one, sender_address
from dispatch.models import Landlord, Person, utcnow
from dispatch.models.accounts import TenantAccount
from dispatch.portal import session as portal_session
from dispatch.portal.blueprint import bp

BANKID_KEY = "portal_bankid"  # the pending order's id (identity.pending)
OIDC_KEY = "portal_oidc"
IDENTIFIED_KEY = "portal_identification"
LANDLORD_KEY = "portal_landlord"


# --- forms ----------------------------------------------------------------------------------

class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Not a valid e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=512)])
    submit = SubmitField(_l("Log in"))


class RegisterForm(FlaskForm):
    email = EmailField(_l("E-mail (your username, it cannot be changed)"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Not a valid e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Choose a password.")), Length(max=512)])
    password2 = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password again.")),
        EqualTo("password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Create account"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Choose a password.")), Length(max=512)])
    password2 = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password again.")),
        EqualTo("password", _l("The two passwords differ."))])
    submit = SubmitField(_l("Save password"))


class ResetForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(_l("Enter your e-mail address.")),
        Email(_l("Not a valid e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Send link"))


class PinForm(FlaskForm):
    number = StringField(_l("Personal identity number"), validators=[
        DataRequired(_l("Enter your personal identity number.")), Length(max=20)])
    pin = PasswordField(_l("PIN code from an earlier invoice"), validators=[
        DataRequired(_l("Enter the PIN code.")), Length(max=20)])
    submit = SubmitField(_l("Continue"))


DOCUMENTS = [SelectChoice("id_card", _l("ID card")), SelectChoice("passport", _l("Passport")),
             SelectChoice("licence", _l("Driving licence"))]


class OfficeForm(FlaskForm):
    person_id = HiddenField()
    # The number typed instead of choosing a person from the search (the form's older way).
    number = StringField(_l("Personal identity number"), validators=[Length(max=20)])
    document = SelectField(_l("Identity document shown"), choices=DOCUMENTS)
    email = EmailField(_l("The tenant's e-mail (the username)"), validators=[
        DataRequired(_l("Enter the tenant's e-mail address.")),
        Email(_l("Not a valid e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Identity checked: send the link"))


# --- helpers --------------------------------------------------------------------------------

def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["DISPATCH_TZ"])).date()


def _ip() -> str | None:
    return request.remote_addr


def _policy() -> LockoutPolicy:
    return LockoutPolicy.from_config(current_app.config)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/portal/") or "//" in target:
        return None
    return target


def _home(queue_only: bool = False) -> str:
    """The portal's first page once it exists; the account page until then. A housing-queue
    applicant with no agreement in force: the queue's first page."""
    if queue_only and _has_endpoint("housing.index"):
        return url_for("housing.index")
    try:
        return url_for("portal.home")
    except BuildError:
        return url_for("portal.account")


def _has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


@bp.app_context_processor
def _account_context() -> dict:
    return {"portal_logout_available": _has_endpoint("portal.logout")}


@bp.before_request
def _landlord_language() -> None:
    """``?landlord=CODE`` (the landlord's own site links so): a Finnish landlord's tenants see
    Finnish until they choose another language."""
    code = request.args.get("landlord")
    if not code or request.args.get("lang"):
        return
    landlord = db.session.scalar(select(Landlord).where(Landlord.code == code[:40]))
    if landlord is None:
        return
    session[LANDLORD_KEY] = landlord.code
    if "lang" not in session and landlord.country == "FI":
        session["lang"] = "fi"


def _start_session(account: TenantAccount, queue_only: bool = False):
    """Rotate the session and log the tenant in (``portal.session``), keeping the language."""
    lang = session.get("lang") or account.locale
    portal_session.log_in(person_id=account.person_id, account_id=account.id,
                          queue_only=queue_only)
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    else:
        person = db.session.get(Person, account.person_id)
        landlord = db.session.get(Landlord, person.landlord_id) if person and \
            person.landlord_id else None
        if landlord is not None and landlord.country == "FI":
            session["lang"] = "fi"


def _refusal(result: tenants.LoginResult) -> str:
    if result.reason == "locked":
        return _("Too many failed attempts. Try again %(when)s.",
                 when=format_timedelta(timedelta(seconds=result.retry_after or 1), threshold=1,
                                       add_direction=True))
    if result.reason == "not_activated":
        return _("Your account is not activated yet. Use the link in the e-mail we sent you.")
    if result.reason == "ended":
        return _("Your rental agreement has ended, so you can no longer log in to My pages. "
                 "Contact your landlord if you think this is wrong.")
    if result.reason == "not_started":
        return _("My pages opens on %(date)s, the day your rental agreement starts.",
                 date=format_date(result.starts_on, "long"))
    return _("Wrong e-mail address or password.")


def _mail(account: TenantAccount, kind: str, link: str, hours: int) -> None:
    """Mail an activation (``activate``), choose-password (``choose``) or reset link after the
    request's commit. No identity number in it: only the link (the account's id, signed)."""
    config = current_app.config
    env = current_app.jinja_env
    locale = account.locale or session.get("lang") or config["BABEL_DEFAULT_LOCALE"]
    to = account.email
    context = {"link": link, "hours": hours}
    with force_locale(locale):
        msg = build_message(
            sender=sender_address(config), to=to,
            subject=env.get_template(f"portal/account/mail/{kind}_subject.txt")
            .render(context).strip(),
            text=env.get_template(f"portal/account/mail/{kind}.txt").render(context),
            headers={"Auto-Submitted": "auto-generated"})

    @after_this_request
    def _send(response):
        if response.status_code < 400:
            try:
                send_one(config, msg)
            except MailError as exc:
                current_app.logger.warning("tenant account mail not sent",
                                           extra={"error": exc.code, "kind": kind})
        return response


def _link(endpoint: str, token: str) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, token=token)


def _send_activation(account: TenantAccount) -> None:
    token = tenants.make_link_token(current_app.secret_key, "activate", account)
    _mail(account, "activate", _link("portal.activate", token),
          current_app.config["TENANT_ACTIVATION_HOURS"])


def _send_choose(account: TenantAccount) -> None:
    token = tenants.make_link_token(current_app.secret_key, "reset", account)
    _mail(account, "choose", _link("portal.reset_password", token),
          current_app.config["TENANT_ACTIVATION_HOURS"])


def _rule_errors(form, rule: str) -> None:
    """A form that failed on other fields says at once what the password lacks too."""
    if form.password.data and not form.password.errors:
        problems = tenants.password_problems(form.password.data, rule)
        if problems:
            form.password.errors = [*form.password.errors, " ".join(problems)]


def _identified_account_or_register(identification, purpose: str):
    """Where a completed strong identification leads: log-in of the person's account, or the
    registration form."""
    if purpose == "login":
        account = tenants.account_of_person(db.session, identification.person_id)
        if account is not None and account.activated_at is not None:
            result = tenants.log_in_identified(db.session, account, method=identification.method,
                                               ip=_ip(), today=_today())
            identification.used_at = utcnow()
            if result.account is None:
                flash(_refusal(result), "error")
                return url_for("portal.login")
            _start_session(account, result.queue_only)
            return _home(result.queue_only)
        flash(_("You have no account yet: choose your e-mail address and password."), "info")
    session[IDENTIFIED_KEY] = identification.id
    return url_for("portal.register_account")


def _identified(identity, method: str, purpose: str) -> str:
    """A provider's verified identity: the URL to go on to (or back to the start, told why)."""
    found = tenants.identify(db.session, identity, method, today=_today(), ip=_ip())
    if found.identification is None:
        if found.reason == "ended":
            flash(_("Your rental agreement has ended, so you cannot use My pages."), "error")
        else:
            flash(_("We found no rental agreement in force for you. My pages is for current "
                    "tenants; contact your landlord if you think this is wrong."), "error")
        return url_for("portal.login" if purpose == "login" else "portal.register")
    return _identified_account_or_register(found.identification, purpose)


# --- log-in ---------------------------------------------------------------------------------

def _providers() -> dict:
    config = current_app.config
    return {"bankid": bool(config.get("BANKID_URL") and config.get("BANKID_CERT")),
            "fi": oidc.configured(config)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with e-mail and password, BankID or a Finnish e-identification."""
    if portal_session.current_person_id() is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or _home())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = tenants.authenticate(db.session, form.email.data, form.password.data,
                                      ip=_ip(), policy=_policy(), today=_today())
        if result.account is not None:
            _start_session(result.account, result.queue_only)
            if result.queue_only:
                return redirect(_home(queue_only=True))
            return redirect(_safe_next(request.args.get("next")) or _home())
        flash(_refusal(result), "error")
        status = {"locked": 429, "invalid": 401}.get(result.reason, 403)
        if result.reason == "locked":
            page = render_template("portal/account/login.html", form=form,
                                   providers=_providers())
            return page, 429, {"Retry-After": str(result.retry_after)}
    elif request.method == "POST":
        status = 400
    return render_template("portal/account/login.html", form=form,
                           providers=_providers()), status


@bp.get("/account")
@portal_session.tenant_required
def account():
    """The logged-in tenant's account: username, how identified, the number masked."""
    found = db.session.get(TenantAccount, session.get(portal_session.ACCOUNT_KEY))
    if found is None:
        portal_session.log_out()
        return redirect(url_for("portal.login"))
    person = db.session.get(Person, found.person_id) if found.person_id else None
    return render_template("portal/account/account.html", account=found,
                           masked_number=masked(person.personnummer if person else None))


# --- registration ---------------------------------------------------------------------------

@bp.get("/register")
def register():
    """Choose how to identify: BankID, a Finnish e-identification, or at the office."""
    return render_template("portal/account/register.html", providers=_providers())


@bp.route("/register/account", methods=["GET", "POST"])
def register_account():
    """After strong identification: e-mail and password (the rule of the route)."""
    identification = tenants.usable_identification(db.session, session.get(IDENTIFIED_KEY))
    if identification is None:
        flash(_("Identify yourself first; an identification is valid for 30 minutes."), "error")
        return redirect(url_for("portal.register"))
    rule = "office" if identification.method == "office" else "eid"
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            created = tenants.register(db.session, identification, email=form.email.data,
                                       password=form.password.data,
                                       locale=session.get("lang"), ip=_ip())
        except tenants.AccountError as exc:
            getattr(form, exc.field).errors.append(exc.message)
            status = 400
        else:
            session.pop(IDENTIFIED_KEY, None)
            _send_activation(created)
            return render_template("portal/account/registered.html",
                                   hours=current_app.config["TENANT_ACTIVATION_HOURS"])
    elif request.method == "POST":
        _rule_errors(form, rule)
        status = 400
    return render_template("portal/account/register_account.html", form=form,
                           rule=rule), status


@bp.get("/activate/<token>")
def activate(token: str):
    found, why = tenants.account_for_link(
        db.session, current_app.secret_key, "activate", token,
        timedelta(hours=current_app.config["TENANT_ACTIVATION_HOURS"]))
    if found is None:
        message = (_("The activation link has expired. Register again to get a new one.")
                   if why == "expired" else _("The activation link is not valid."))
        return render_template("portal/account/link_failed.html", message=message), 400
    tenants.activate(db.session, found, ip=_ip())
    flash(_("Your account is activated. Log in with your e-mail address and password."), "info")
    return redirect(url_for("portal.login"))


# --- password reset -------------------------------------------------------------------------

@bp.route("/reset", methods=["GET", "POST"])
def reset():
    """Ask for a reset link; the answer is the same whether or not the address has an
    account."""
    form = ResetForm()
    if form.validate_on_submit():
        found = db.session.scalar(select(TenantAccount).where(
            TenantAccount.email == form.email.data.strip().lower()))
        if found is not None and tenants.may_mail_reset(db.session, found, ip=_ip()):
            token = tenants.make_link_token(current_app.secret_key, "reset", found)
            _mail(found, "reset", _link("portal.reset_password", token),
                  current_app.config["TENANT_RESET_HOURS"])
        return render_template("portal/account/reset_sent.html",
                               hours=current_app.config["TENANT_RESET_HOURS"])
    status = 400 if request.method == "POST" else 200
    return render_template("portal/account/reset.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through a reset (or an office identification's) link."""
    found, why = tenants.account_for_link(
        db.session, current_app.secret_key, "reset", token,
        timedelta(hours=max(current_app.config["TENANT_RESET_HOURS"],
                            current_app.config["TENANT_ACTIVATION_HOURS"])))
    if found is not None and not found.must_choose_password:
        # An ordinary reset link lives TENANT_RESET_HOURS.
        found, why = tenants.account_for_link(
            db.session, current_app.secret_key, "reset", token,
            timedelta(hours=current_app.config["TENANT_RESET_HOURS"]))
    if found is None:
        message = (_("The link has expired. Ask for a new one on the log-in page.")
                   if why == "expired" else _("The link is not valid or was already used."))
        return render_template("portal/account/link_failed.html", message=message), 400
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            tenants.set_password(db.session, found, form.password.data, ip=_ip())
        except tenants.AccountError as exc:
            form.password.errors.append(exc.message)
            status = 400
        else:
            flash(_("Your password is saved. Log in with it."), "info")
            return redirect(url_for("portal.login"))
    elif request.method == "POST":
        _rule_errors(form, found.password_rule)
        status = 400
    return render_template("portal/account/password.html", form=form,
                           rule=found.password_rule), status


# --- legacy PIN -----------------------------------------------------------------------------

@bp.route("/login/pin", methods=["GET", "POST"])
def legacy_login():
    """Personnummer and the old PIN from earlier invoices: the first time only, then an e-mail
    address and a password of one's own (the PIN stops working)."""
    form = PinForm()
    status = 200
    if form.validate_on_submit():
        try:
            number = normalise(form.number.data)
        except InvalidNumber:
            form.number.errors.append(_("Not a valid personal identity number."))
            status = 400
        else:
            result = tenants.legacy_pin_login(
                db.session, number, form.pin.data, ip=_ip(), policy=_policy(),
                secret_key=current_app.secret_key, today=_today())
            if result.identification is not None:
                session[IDENTIFIED_KEY] = result.identification.id
                flash(_("Choose your e-mail address and a password: the PIN code works only "
                        "this once."), "info")
                return redirect(url_for("portal.register_account"))
            if result.reason == "invalid":
                form.pin.errors.append(_("Wrong personal identity number or PIN code."))
                status = 401
            else:
                flash(_refusal(result), "error")
                status = 429 if result.reason == "locked" else 403
    elif request.method == "POST":
        status = 400
    return render_template("portal/account/pin.html", form=form), status


# --- BankID ---------------------------------------------------------------------------------

def _identification_limited(method: str, purpose: str):
    """None if this client address may start another strong identification; else the page
    it came from with the reason (429, ``Retry-After``). See ``tenants.start_identification``."""
    config = current_app.config
    locked = tenants.start_identification(
        db.session, method, ip=_ip(),
        limit=int(config["TENANT_IDENTIFICATION_STARTS_PER_ADDRESS"]),
        window=timedelta(minutes=int(config["TENANT_IDENTIFICATION_WINDOW_MINUTES"])))
    if locked is None:
        return None
    wait = locked.retry_after()
    flash(_("Too many identifications were started from your connection. Try again %(when)s.",
            when=format_timedelta(timedelta(seconds=wait), threshold=1, add_direction=True)),
          "error")
    if purpose == "login":
        page = render_template("portal/account/login.html", form=LoginForm(formdata=None),
                               providers=_providers())
    else:
        page = render_template("portal/account/register.html", providers=_providers())
    return page, 429, {"Retry-After": str(wait)}


def _back(purpose: str) -> str:
    return url_for("portal.login" if purpose == "login" else "portal.register")


BANKID = BankIDFlow(
    BANKID_KEY,
    urls=lambda: {"qr": url_for("portal.bankid_qr"), "collect": url_for("portal.bankid_collect"),
                  "cancel": url_for("portal.bankid_cancel")},
    back=_back, done=lambda identity, purpose: _identified(identity, "bankid", purpose),
    layout="portal/account/base.html")
OIDC = OIDCFlow(OIDC_KEY)


@bp.post("/bankid/start")
def bankid_start():
    """Start a BankID order (the form's CSRF token checked) and show the QR page."""
    purpose = "login" if request.form.get("purpose") == "login" else "register"
    BANKID.provider()
    limited = _identification_limited("bankid", purpose)
    if limited is not None:
        return limited
    return BANKID.start(purpose, _ip())


@bp.get("/bankid/qr")
def bankid_qr():
    """The animated QR code of this second (the page's script asks every second)."""
    return BANKID.qr()


@bp.post("/bankid/collect")
def bankid_collect():
    """Collect the order from BankID (the page's script asks every two seconds)."""
    return BANKID.collect()


@bp.post("/bankid/cancel")
def bankid_cancel():
    return BANKID.cancel()


# --- Finnish e-identification (OpenID Connect) ----------------------------------------------

@bp.get("/fi/start")
def fi_start():
    if not oidc.configured(current_app.config):
        abort(404)
    purpose = "login" if request.args.get("purpose") == "login" else "register"
    limited = _identification_limited("oidc", purpose)
    if limited is not None:
        return limited
    return OIDC.start(url_for("portal.fi_callback", _external=True), purpose=purpose,
                      locale=session.get("lang"))


@bp.get("/fi/callback")
def fi_callback():
    outcome, purpose = OIDC.finish()
    if isinstance(outcome, Failed):
        flash(failed_message(outcome.reason), "error")
        return redirect(_back(purpose))
    return redirect(_identified(outcome.identity, "oidc", purpose))


# --- office identification (staff) ----------------------------------------------------------

@bp.route("/office/identify", methods=["GET", "POST"])
@roles_required("operator")
def office_identify():
    """Staff mark that a tenant showed ID at the office: they find the tenant (``q``: name,
    kundnummer, address, avtalsnummer or personnummer; the number shown masked), choose one
    (``person``), and an account is made for the e-mail given and a link to choose a password
    is mailed to it (the office rule: 8+ characters with an upper-case letter and a special
    character). Audited with the staff member."""
    from flask_login import current_user

    form = OfficeForm()
    status = 200
    query = (request.args.get("q") or "").strip()[:100]
    matches = tenants.find_tenants(db.session, query, _today()) if query else []
    chosen_id = request.args.get("person", type=int)
    if request.method == "POST":
        chosen_id = int(form.person_id.data) if (form.person_id.data or "").isdigit() else None
    chosen = tenants.tenant_match(db.session, chosen_id, _today()) if chosen_id else None
    if chosen is not None:
        form.person_id.data = str(chosen.person_id)
    if form.validate_on_submit():
        person_id = chosen.person_id if chosen is not None else None
        if person_id is None and form.number.data:
            try:
                number = normalise(form.number.data)
            except InvalidNumber:
                form.number.errors.append(_("Not a valid personal identity number."))
            else:
                person_id = tenants.tenancy_of_number(db.session, number, _today()).person_id
                if person_id is None:
                    form.number.errors.append(_("No tenant with an agreement in force has "
                                                "this personal identity number."))
        elif person_id is None:
            form.number.errors.append(_("Find the tenant first and choose them in the list."))
        if person_id is None:
            status = 400
        else:
            try:
                created = tenants.identify_at_office(
                    db.session, person_id=person_id, staff_user_id=current_user.id,
                    document=form.document.data, email=form.email.data, today=_today(),
                    ip=_ip())
            except tenants.AccountError as exc:
                target = form.email if exc.field == "email" else form.number
                target.errors.append(exc.message)
                status = 400
            else:
                _send_choose(created)
                flash(_("Identity recorded. The tenant gets an e-mail with a link to "
                        "choose a password."), "info")
                return redirect(url_for("portal.office_identify"))
    elif request.method == "POST":
        status = 400
    return render_template("portal/account/office.html", form=form, query=query,
                           matches=matches, chosen=chosen), status
