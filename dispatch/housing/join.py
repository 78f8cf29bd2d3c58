"""Joining the housing queue online (issue 16), for people who are not tenants too: strong
identification (BankID, the Finnish e-identification), then the account's e-mail and password
on ``/bostad/join/account``; the person is registered in the queue and logged in at once (the
identification just made says who they are), and the activation link is mailed so that the
e-mail address and password work for later log-ins on the portal's log-in page.

A person who already has an activated account is logged in by the identification (and
registered if they were not). BankID in the browser works as on the portal's pages (the same
script, ``static/portal/account/bankid.js``, pointed at this module's URLs), through the one
flow ``auth.identity.flow``: the order (and a Finnish e-identification's state, nonce and
verifier) is kept on the server with only its random id in the session, and a completed
identification is kept server-side with only its id in the session.
"""

from __future__ import annotations

from datetime import timedelta

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
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _

from dispatch.auth import tenants
from dispatch.auth.identity import Failed, oidc
from dispatch.auth.identity.flow import BankIDFlow, OIDCFlow
from dispatch.auth.identity.messages import failed_message
from dispatch.core import mail
from dispatch.core.extensions import db
from dispatch.housing import accounts, labels, service
from dispatch.housing.blueprint import bp
from dispatch.housing.views import queue_landlord, today
from dispatch.models import Person, utcnow
from dispatch.models.accounts import TenantAccount
from dispatch.portal import session as portal_session

BANKID_KEY = "housing_bankid"
IDENTIFIED_KEY = "housing_identification"
OIDC_KEY = "housing_oidc"


def _ip() -> str | None:
    return request.remote_addr


def _providers() -> dict:
    config = current_app.config
    return {"bankid": bool(config.get("BANKID_URL") and config.get("BANKID_CERT")),
            "fi": oidc.configured(config)}


def _log_in(account: TenantAccount) -> None:
    lang = session.get("lang") or account.locale
    queue_only = not accounts.is_tenant(db.session, account.person_id, today())
    portal_session.log_in(person_id=account.person_id, account_id=account.id,
                          queue_only=queue_only)
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang


@bp.get("/join")
def join_start():
    """How to identify to join the queue."""
    if portal_session.current_person_id() is not None:
        return redirect(url_for("housing.index"))
    return render_template("housing/join.html", providers=_providers(), logged_in=False)


def _identified(identity, method: str) -> str:
    """A provider's verified identity: where the browser goes on to."""
    try:
        found = accounts.identified(db.session, identity, method, today=today(), ip=_ip())
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return url_for("housing.join_start")
    if found.account is None:
        session[IDENTIFIED_KEY] = found.identification.id
        return url_for("housing.join_account")
    landlord_id = queue_landlord().id
    try:
        accounts.ensure_registered(db.session, found.person, landlord_id, today(),
                                   locale=session.get("lang"))
    except service.QueueError as exc:
        flash(labels.error(exc.code), "error")
        return url_for("housing.join_start")
    result = tenants.log_in_identified(db.session, found.account, method=method, ip=_ip(),
                                       today=today())
    found.identification.used_at = utcnow()
    if result.account is None:  # not activated, or refused: the e-mail log-in says why
        flash(_("Log in with your e-mail address and password."), "error")
        return url_for("portal.login")
    _log_in(found.account)
    flash(_("You are logged in. Your registration in the housing queue is renewed."), "info")
    return url_for("housing.index")


@bp.route("/join/account", methods=["GET", "POST"])
def join_account():
    """After identification: the account's e-mail (the username) and password; then the
    registration in the queue and the log-in."""
    identification = tenants.usable_identification(db.session, session.get(IDENTIFIED_KEY))
    if identification is None:
        flash(_("Identify yourself first; an identification is valid for 30 minutes."), "error")
        return redirect(url_for("housing.join_start"))
    person = db.session.get(Person, identification.person_id)
    errors: dict[str, str] = {}
    form = {"email": (person.email if person else None) or ""}
    if request.method == "POST":
        form = {"email": (request.form.get("email") or "").strip()}
        password = request.form.get("password") or ""
        if not form["email"]:
            errors["email"] = _("Enter your e-mail address.")
        if not password:
            errors["password"] = _("Choose a password.")
        elif password != (request.form.get("password2") or ""):
            errors["password2"] = _("The two passwords differ.")
        else:
            problems = tenants.password_problems(password, "eid")
            if problems:
                errors["password"] = " ".join(problems)
        if not errors:
            try:
                account, _applicant = accounts.join(
                    db.session, identification, landlord_id=queue_landlord().id,
                    email=form["email"], password=password, locale=session.get("lang"),
                    today=today(), ip=_ip())
            except tenants.AccountError as exc:
                errors[exc.field if exc.field in ("email", "password") else "email"] = \
                    exc.message
            except service.QueueError as exc:
                errors["email"] = labels.error(exc.code)
            else:
                session.pop(IDENTIFIED_KEY, None)
                _send_activation(account)
                _log_in(account)
                flash(_("You are registered in the housing queue. Your points count from "
                        "today. We have e-mailed you a link: open it to log in later with "
                        "your e-mail address and password."), "info")
                return redirect(url_for("housing.wishes"), 303)
    page = render_template("housing/join_account.html", form=form, errors=errors,
                           name=person.name if person else "", logged_in=False)
    return page, 400 if errors else 200


def _send_activation(account: TenantAccount) -> None:
    """The account's activation link, mailed after the request's commit (no identity number
    in it: only the link, the account's id signed)."""
    config = current_app.config
    token = tenants.make_link_token(current_app.secret_key, "activate", account)
    link = config["BASE_URL"] + url_for("portal.activate", token=token)
    hours = config["TENANT_ACTIVATION_HOURS"]
    env = current_app.jinja_env
    locale = account.locale or session.get("lang") or config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        message = mail.build_message(
            sender=mail.sender_address(config), to=account.email,
            subject=env.get_template("housing/mail/activate.subject.txt").render().strip(),
            text=env.get_template("housing/mail/activate.txt").render(link=link, hours=hours),
            headers={"Auto-Submitted": "auto-generated"})

    @after_this_request
    def _send(response):
        if response.status_code < 400:
            try:
                mail.send_one(config, message)
            except mail.MailError as exc:
                current_app.logger.warning("housing activation mail not sent",
                                           extra={"error": exc.code})
        return response


# --- BankID: the portal's flow (``auth.identity.flow``) on this module's addresses ---------

def _identification_limited(method: str):
    """None if this client address may start another strong identification (the limit
    shared with the portal's pages, ``tenants.start_identification``); else the join page
    with the reason (429, ``Retry-After``)."""
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
    page = render_template("housing/join.html", providers=_providers(), logged_in=False)
    return page, 429, {"Retry-After": str(wait)}


BANKID = BankIDFlow(
    BANKID_KEY,
    urls=lambda: {"qr": url_for("housing.join_bankid_qr"),
                  "collect": url_for("housing.join_bankid_collect"),
                  "cancel": url_for("housing.join_bankid_cancel")},
    back=lambda _purpose: url_for("housing.join_start"),
    done=lambda identity, _purpose: _identified(identity, "bankid"),
    layout="housing/base.html", context={"logged_in": False})
OIDC = OIDCFlow(OIDC_KEY)


@bp.post("/join/bankid")
def join_bankid():
    BANKID.provider()
    limited = _identification_limited("bankid")
    if limited is not None:
        return limited
    return BANKID.start("join", _ip())


@bp.get("/join/bankid/qr")
def join_bankid_qr():
    return BANKID.qr()


@bp.post("/join/bankid/collect")
def join_bankid_collect():
    return BANKID.collect()


@bp.post("/join/bankid/cancel")
def join_bankid_cancel():
    return BANKID.cancel()


# --- Finnish e-identification ---------------------------------------------------------------

@bp.get("/join/fi")
def join_fi():
    if not oidc.configured(current_app.config):
        abort(404)
    limited = _identification_limited("oidc")
    if limited is not None:
        return limited
    return OIDC.start(url_for("housing.join_fi_callback", _external=True), purpose="join",
                      locale=session.get("lang"))


@bp.get("/join/fi/callback")
def join_fi_callback():
    outcome, _purpose = OIDC.finish()
    if isinstance(outcome, Failed):
        flash(failed_message(outcome.reason), "error")
        return redirect(url_for("housing.join_start"))
    return redirect(_identified(outcome.identity, "oidc"))
