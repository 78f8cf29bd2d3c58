"""Database set-up: SQLite tuned for one machine (WAL, foreign keys), PostgreSQL as it is;
and the unit of work: each entry point (request, socket event, scheduled job, command) commits
or rolls back in one place, ``unit_of_work``; everything below it only flushes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dispatch.core.extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def sqlite_timestamp(value: datetime) -> str:
    """A UTC instant as SQLAlchemy's SQLite DATETIME writes it, so that ORM reads agree."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# Raw statements (bulk inserts, text() updates) bind these types without SQLAlchemy's type
# processing: adapt them the way SQLAlchemy's SQLite types store them. Python's own default
# adapters write other text (and are deprecated from 3.12).
sqlite3.register_adapter(datetime, sqlite_timestamp)
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(Decimal, str)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit the session when the block ends normally, roll back when anything escapes it
    (an error, ``abort()``, ``sys.exit``). The one place an entry point's work is committed."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


class App(Flask):
    """Flask with one unit of work per request: the view's changes are committed when it
    returns and rolled back when anything escapes it (an error, ``abort``). Views, handlers
    and domain functions only flush."""

    def dispatch_request(self):
        with unit_of_work():
            return super().dispatch_request()


def transactional(function: Callable) -> Callable:
    """Decorate an entry point (socket event, scheduled job, command) as one unit of work."""

    @wraps(function)
    def wrapped(*args, **kwargs):
        with unit_of_work():
            return function(*args, **kwargs)

    return wrapped


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """Turn on WAL (readers never wait for the importer) and foreign keys, on SQLite only.

    The driver's own transaction handling is switched off and SQLAlchemy emits BEGIN itself
    (see ``_sqlite_begin``): pysqlite's implicit transactions break SAVEPOINT, which nested
    transactions and the test suite's roll-back-each-test rely on.
    """
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """Start SQLite transactions explicitly (pairs with ``isolation_level = None`` above)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy and Alembic (through Flask-Migrate, which gives ``dispatch db``)."""

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10})
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
