"""Shared fixtures: an app on a migrated test database, a transaction rolled back per test,
callable factories for the objects tests need, and a logged-in client helper.

The database is SQLite by default; set ``TEST_DATABASE_URL`` to a PostgreSQL server URL and
the same suite runs there (a fresh database is created and dropped around the run).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from dispatch import create_app
from dispatch.core.extensions import db


def _fresh_database_url(tmp_path_factory, name: str) -> tuple[str, callable]:
    """A new, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        path = tmp_path_factory.mktemp(name) / "test.db"
        return f"sqlite:///{path}", lambda: None
    url = sa.engine.make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    db_name = f"dispatch_{name}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{db_name}"'))

    def drop() -> None:
        try:
            _drop_database(admin, db_name)
        finally:
            admin.dispose()

    return url.set(database=db_name).render_as_string(hide_password=False), drop


def _drop_database(admin, db_name: str) -> None:
    """Drop a test database, ending the sessions still in it.

    ``WITH (FORCE)`` may only end sessions of roles the test role can signal. An autovacuum
    worker that happens to be in the database has no role, so the forced drop is refused
    while it runs (``scripts/test`` grants ``pg_signal_backend`` for that; a server set up
    otherwise still works): a plain ``DROP DATABASE`` then ends the autovacuum worker itself
    and waits for it to go (PostgreSQL's ``CountOtherDBBackends``), no wait of ours.
    """
    with admin.connect() as conn:
        try:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        except sa.exc.DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient privilege
                raise
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db_name}"'))


def make_app(database_url: str, instance: Path, **overrides):
    """An app for tests: given database, private instance folder, quick password checks."""
    os.environ["DISPATCH_INSTANCE"] = str(instance)
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "LOG_FORMAT": "text",
        "SERVER_NAME": None,
        # No background re-send thread in-process: tests call resend_due() themselves.
        "DELIVERY_RESEND_S": 0,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the run, on a database built by the migrations (which tests them too)."""
    url, drop = _fresh_database_url(tmp_path_factory, "suite")
    application = make_app(url, tmp_path_factory.mktemp("instance"))

    def explode():
        raise RuntimeError("secret internals")

    @application.before_request
    def _settle_test_setup():
        # Requests share the test's session; what the test set up is committed into the
        # outer transaction first, so that a request that rolls back undoes only its own work.
        db.session.commit()

    # For the error-handling tests: a page and an API route that crash.
    application.add_url_rule("/boom", "boom", explode)
    application.add_url_rule("/api/v1/boom", "api_boom", explode)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


class _TestSession(sa.orm.scoped_session):
    """The per-test session; ``remove()`` (called at every app-context teardown) keeps it."""

    def remove(self) -> None:
        self.registry().expire_all()


@pytest.fixture(autouse=True)
def _config_restored(app):
    """Whatever a test changes in the session-wide app's settings is put back as it was (not
    to a literal the test guessed), so that no test sees another's settings."""
    before = dict(app.config)
    yield
    if dict(app.config) != before:
        app.config.clear()
        app.config.update(before)


@pytest.fixture(autouse=True)
def _fresh_search_index():
    """The address search caches indexes per process, keyed by register version; every test
    starts from a rolled-back database, so it starts from an empty cache too."""
    from dispatch.register.search import address_search

    address_search._indexes.clear()
    yield


@pytest.fixture(autouse=True)
def db_session(app):
    """Run each test inside a transaction that is rolled back afterwards.

    Code under test may commit: its commits end SAVEPOINTs inside the outer transaction.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session bound to the connection (Flask-SQLAlchemy's own would pick the engine
        # by table and bypass the outer transaction), shared by the test and the requests it
        # makes, and kept open across their app-context teardowns.
        factory = sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        db.session = _TestSession(factory)
        try:
            yield db.session
        finally:
            db.session.registry().close()
            db.session = original
            if outer.is_active:
                outer.rollback()
            connection.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The Procfile's web process (gunicorn, gevent) on its own fresh, migrated database,
    with one user of every role (password ``correct horse battery``)."""
    from tests.support.servers import LiveServer

    url, drop = _fresh_database_url(tmp_path_factory, "live")
    # The whole run shares this server: a job one module leaves with a car nobody accepts on
    # would otherwise be moved by the server's timer (issue 13) to a later module's car. The
    # timer itself is tested on servers of its own (tests/browser/test_ack_timer.py).
    server = LiveServer(url, tmp_path_factory.mktemp("live-instance"),
                        extra_env={"ACK_REDISPATCH_AFTER_S": "86400"}).start()
    server.cli("create-landlord", "--code", "ACME", "--name", "Acme Bostäder",
               "--oncall-number", "08-46 500 401")
    for role in ("admin", "operator", "patrol", "landlord"):
        extra = ["--landlord", "ACME"] if role == "landlord" else []
        server.cli("create-user", "--role", role, "--email", f"{role}@live.example.se",
                   "--password", "correct horse battery", *extra)
    yield server
    server.stop()
    drop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page, closed after the test."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_landlord(db_session):
    """Factory: ``create_landlord(code="ACME", oncall_numbers=[...], contacts=[...])``."""
    from dispatch.register.landlords import upsert_landlord

    def factory(code="ACME", name="Acme Bostäder", oncall_numbers=(), contacts=()):
        landlord = upsert_landlord(
            db_session, code=code, name=name, oncall_numbers=oncall_numbers, contacts=contacts
        )
        db_session.flush()
        return landlord

    return factory


@pytest.fixture
def create_user(db_session):
    """Factory: ``create_user(role="operator", email=..., password=..., landlord=...)``."""
    from dispatch.auth.service import upsert_user

    counter = iter(range(1, 1_000_000))

    def factory(role="operator", email=None, password="correct horse battery", landlord=None):
        email = email or f"{role}{next(counter)}@example.se"
        return upsert_user(db_session, email=email, role=role, landlord=landlord, password=password)

    return factory


@pytest.fixture
def create_token(db_session, create_user):
    """Factory: a bearer token for a new user of ``role`` (returns ``(token, user)``)."""
    from dispatch.auth.service import create_token as issue

    def factory(role="operator", landlord=None, **kwargs):
        user = create_user(role=role, landlord=landlord)
        return issue(db_session, user, **kwargs), user

    return factory


REGISTER_COLUMNS = ["objektsnummer", "gatuadress", "postnummer", "ort", "lagenhetsnummer",
                    "portkod", "lat", "lon", "avtalsnummer", "kundnummer", "hyresgast_namn",
                    "hyresgast_telefon"]


@pytest.fixture
def build_register(db_session, tmp_path):
    """Factory: import ``rows`` (dicts of register columns) as ``landlord``'s register."""
    import csv

    from imports.service import import_register

    counter = iter(range(1, 1000))

    def factory(landlord, rows):
        path = tmp_path / f"register-{landlord.code}-{next(counter)}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=REGISTER_COLUMNS, delimiter=";")
            writer.writeheader()
            writer.writerows(rows)
        summary = import_register(db_session, landlord, path, actor="test")
        assert summary.status == "accepted", summary
        return summary

    return factory


class AuthActions:
    """Log a test client in and out through the real form, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def csrf_token(self, path="/login") -> str:
        import re

        page = self._client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            r'name="csrf-token" content="([^"]+)"', page
        )
        assert match, "no CSRF token on the page"
        return match.group(1)

    def login(self, email, password="correct horse battery", follow_redirects=False, **env):
        token = self.csrf_token()
        return self._client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
            **env,
        )


@pytest.fixture
def auth(client):
    return AuthActions(client)


def pytest_collection_modifyitems(config, items):
    """Tests about one database run in that database's pass only, and browser tests once (in
    the SQLite pass): deselected (not skipped) in the other, so that a skip never hides
    anything."""
    on_postgres = bool(os.environ.get("TEST_DATABASE_URL"))
    other = ("sqlite_only", "browser") if on_postgres else ("postgres_only",)

    def elsewhere(item) -> bool:
        return any(item.get_closest_marker(name) for name in other)

    deselected = [item for item in items if elsewhere(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not elsewhere(item)]
