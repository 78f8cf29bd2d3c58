"""The ``dispatch`` commands (../shared/CONTRACT.md), attached to the app by ``init_app`` so
that ``dispatch ...`` and ``flask --app dispatch ...`` both have them. Commands parse and check
arguments, call the domain functions and print; each is one unit of work (``transactional``:
committed when it ends, rolled back when it fails); they never print personal data.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from dispatch.admin.areas import patrol_area_command
from dispatch.auth.identity.bankid_testserver import bankid_test_server_command
from dispatch.auth.service import AuthError, create_token, upsert_user
from dispatch.core.database import transactional
from dispatch.core.extensions import db, socketio
from dispatch.core.i18n import in_default_locale
from dispatch.core.realtime import start_upkeep
from dispatch.demo import demo_command
from dispatch.jobs.patrols import upsert_patrol
from dispatch.models import Patrol, User
from dispatch.register.landlords import LandlordError, get_landlord, upsert_landlord
from dispatch.scheduler import (
    purge_reports_command,
    scheduler_command,
    send_morning_reports_command,
)
from imports.cli import import_register_command


def _fail(message: str, code: int = 1):
    click.echo(gettext("error: %(message)s", message=message), err=True)
    sys.exit(code)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Run the web server with websockets (one process; production uses the Procfile's web)."""
    from dispatch.register.index_files import start_warming

    start_warming(current_app._get_current_object())  # the address search's, in the background
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "sv")):  # not the server
        click.echo(gettext("Störningsjour listening on http://%(host)s:%(port)s/",
                           host=host, port=port))
    start_upkeep(current_app._get_current_object())  # the acknowledgement timer, ...
    # Flask refuses app.run() under its CLI unless told this is meant: it is, this command
    # *is* the server (socketio.run calls app.run in threading mode).
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(
        current_app,
        host=host,
        port=port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=False,
    )


@click.command("create-landlord")
@click.option("--code", required=True, help="Short stable code, e.g. STHLMHEM.")
@click.option("--name", required=True)
@click.option("--oncall-number", "oncall_numbers", multiple=True, help="On-call number (repeat).")
@click.option("--contact", "contacts", multiple=True, help="Contact person's e-mail (repeat).")
@with_appcontext
@in_default_locale
@transactional
def create_landlord_command(code, name, oncall_numbers, contacts) -> None:
    """Add a landlord, or update it: the same code again changes it."""

    try:
        landlord = upsert_landlord(
            db.session, code=code, name=name, oncall_numbers=oncall_numbers, contacts=contacts
        )
    except LandlordError as exc:
        _fail(str(exc), 2)
    click.echo(ngettext("landlord %(code)s: %(name)s, %(num)d on-call number",
                        "landlord %(code)s: %(name)s, %(num)d on-call numbers",
                        len(landlord.oncall_numbers), code=landlord.code, name=landlord.name))


@click.command("create-user")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "operator", "patrol", "landlord"])
)
@click.option("--email", required=True)
@click.option("--landlord", "landlord_code", help="Landlord code, for role landlord.")
@click.option("--name", default=None)
@click.option(
    "--password",
    default=None,
    envvar="DISPATCH_PASSWORD",
    help="Password (or DISPATCH_PASSWORD); asked for on a terminal, generated otherwise.",
)
@with_appcontext
@in_default_locale
@transactional
def create_user_command(role, email, landlord_code, name, password) -> None:
    """Add a user with a role (or change an existing one's role and password)."""

    landlord = None
    if landlord_code:
        landlord = get_landlord(db.session, landlord_code)
        if landlord is None:
            _fail(gettext("no landlord with code %(code)s", code=repr(landlord_code)), 2)
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        else:
            password, generated = secrets.token_urlsafe(12), True
    if len(password) < 10:
        _fail(gettext("password must be at least 10 characters"), 2)
    try:
        user = upsert_user(
            db.session, email=email, role=role, landlord=landlord, name=name, password=password
        )
    except AuthError as exc:
        _fail(str(exc), 2)
    click.echo(gettext("user %(email)s (%(role)s)", email=user.email, role=user.role))
    if generated:
        click.echo(gettext("password: %(password)s", password=password))


@click.command("create-token")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "operator", "patrol", "landlord"])
)
@click.option("--email", default=None, help="The user the token acts as (created if missing).")
@click.option("--landlord", "landlord_code", default=None, help="For a new landlord user.")
@click.option("--label", default="", help="What the token is for, e.g. the switch's name.")
@click.option("--call-sign", default=None,
              help="For role patrol: the one car the token may be on the /field socket.")
@with_appcontext
@in_default_locale
@transactional
def create_token_command(role, email, landlord_code, label, call_sign) -> None:
    """Print a bearer token for the HTTP API and the websocket. A patrol token opens the
    /field socket only as the car named by --call-sign (without it, the HTTP API only)."""

    patrol = None
    if call_sign is not None:
        if role != "patrol":
            _fail(gettext("--call-sign is for --role patrol only"), 2)
        if label:
            _fail(gettext("a car's token is labelled by its call sign: leave out --label"), 2)
        patrol = db.session.scalar(select(Patrol).where(Patrol.call_sign == call_sign.strip()))
        if patrol is None:
            _fail(gettext("no patrol car with call sign %(call_sign)s",
                          call_sign=repr(call_sign.strip())), 2)

    email = (email or f"{role}-integration@tokens.invalid").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    try:
        if user is None:
            landlord = get_landlord(db.session, landlord_code) if landlord_code else None
            if landlord_code and landlord is None:
                _fail(gettext("no landlord with code %(code)s", code=repr(landlord_code)), 2)
            user = upsert_user(db.session, email=email, role=role, landlord=landlord)
        elif user.role != role:
            _fail(gettext("%(email)s is a %(role)s user, not %(wanted)s",
                          email=email, role=user.role, wanted=role), 2)
    except AuthError as exc:
        _fail(str(exc), 2)
    if patrol is not None:  # bound to one car (see dispatch/auth/sockets.py)
        token = create_token(db.session, user, kind="car", label=patrol.call_sign)
    else:
        token = create_token(db.session, user, label=label)
    click.echo(token)


@click.command("create-patrol")
@click.option("--call-sign", required=True, help="The car's call sign, e.g. 'Jour 11'.")
@click.option("--name", default=None, help="A longer name (default: the call sign).")
@with_appcontext
@in_default_locale
@transactional
def create_patrol_command(call_sign, name) -> None:
    """Add a patrol car (or rename it: the same call sign again changes it)."""

    call_sign = call_sign.strip()
    if not call_sign:
        _fail(gettext("the call sign must not be empty"), 2)
    patrol = upsert_patrol(db.session, call_sign=call_sign, name=(name or call_sign).strip())
    click.echo(gettext("patrol %(id)s: %(call_sign)s (%(name)s)", id=patrol.id,
                       call_sign=patrol.call_sign, name=patrol.name))


@click.command("tenant-account-policy")
@click.option("--landlord", "landlord_code", required=True, help="Landlord code.")
@click.option("--register-from-signing/--register-from-start", "from_signing", required=True,
              help="Whether a signed agreement may register for My pages before it starts "
                   "(log-in opens on the start day either way).")
@with_appcontext
@in_default_locale
@transactional
def tenant_account_policy_command(landlord_code, from_signing) -> None:
    """Set a landlord's rule for tenants' accounts (issue 15)."""
    from dispatch.auth.tenants import set_register_from_signing

    landlord = get_landlord(db.session, landlord_code)
    if landlord is None:
        _fail(gettext("no landlord with code %(code)s", code=repr(landlord_code)), 2)
    set_register_from_signing(db.session, landlord.id, from_signing)
    click.echo(gettext("%(code)s: registration from signing", code=landlord.code) if from_signing
               else gettext("%(code)s: registration from the start of the agreement",
                            code=landlord.code))


def init_app(app: Flask) -> None:
    """Attach the commands to the app's CLI (so ``flask --app dispatch`` has them too)."""

    for command in (
        run_command,
        create_landlord_command,
        create_user_command,
        create_token_command,
        create_patrol_command,
        patrol_area_command,
        demo_command,
        scheduler_command,
        purge_reports_command,
        import_register_command,
        send_morning_reports_command,
        bankid_test_server_command,
        tenant_account_policy_command,
    ):
        app.cli.add_command(command)
