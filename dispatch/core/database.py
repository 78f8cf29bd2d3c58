"""Database set-up: SQLite tuned for one machine (WAL, foreign keys, one writer at a time),
PostgreSQL as it is; and the unit of work: each entry point (request, socket event, scheduled
job, command) commits or rolls back in one place, ``unit_of_work``; everything below it only
flushes.

SQLite allows one writer at a time, and a transaction that has read and then wants to write
gets SQLITE_BUSY at once, without waiting, when another writer is busy or committed after it
read (its snapshot is stale): ``busy_timeout`` does not help there. So on SQLite:

- every transaction writes-to-be unless its entry point says it reads: it takes the
  process's writer lock (``_WriterLock``, a ``threading.Lock``: gevent's in the gunicorn
  worker, so a waiting greenlet lets the others run) and starts with ``BEGIN IMMEDIATE``,
  which waits (cooperatively, up to ``SQLITE_WRITE_WAIT_S``) while another process (the
  scheduler, an import) writes. It can no longer fail half-way for "database is locked".
- a request with a safe method (GET, HEAD, OPTIONS) reads: a deferred ``BEGIN`` and no lock,
  so searches and the board never wait for writers nor each other. If it writes after all
  (a token's ``last_used_at``, at most once a minute), it takes the writer lock at its first
  write; should SQLite still refuse (another writer committed since it read), the request
  runs again as a writer (``App.dispatch_request``).
- the lock is released when the transaction ends: commit, rollback, or the pool's reset of a
  connection given back with a transaction open.

PostgreSQL keeps its plain transactions: nothing here runs for it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path

from flask import Flask, request
from sqlalchemy import ColumnElement, Integer, any_, bindparam, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import Pool

from dispatch.core.extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
BUSY_TIMEOUT_MS = 10_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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


# -- what a transaction means to do (SQLite only) ------------------------------------------

# "write" (the default: socket events, scheduled jobs, commands), "read" (safe requests), or
# "now" (a write that takes the turn at once or not at all: ``note_in_passing``).
_intent: ContextVar[str] = ContextVar("dispatch_sqlite_intent", default="write")


@contextmanager
def intent(kind: str) -> Iterator[None]:
    """Within the block, SQLite transactions begin as readers (``"read"``: deferred, no lock)
    or as writers (``"write"``: the writer lock and ``BEGIN IMMEDIATE``)."""
    token = _intent.set(kind)
    try:
        yield
    finally:
        _intent.reset(token)


def lost_write_race(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite refusing a reader's first write (SQLITE_BUSY or
    SQLITE_BUSY_SNAPSHOT): the work can run again as a writer and will then succeed."""
    orig = getattr(exc, "orig", exc)
    return (isinstance(orig, sqlite3.OperationalError)
            and getattr(orig, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY)


class App(Flask):
    """Flask with one unit of work per request: the view's changes are committed when it
    returns and rolled back when anything escapes it (an error, ``abort``). Views, handlers
    and domain functions only flush. A safe request (GET, HEAD, OPTIONS) reads on SQLite;
    one that wrote and lost the race to another writer runs once more, as a writer."""

    def full_dispatch_request(self):
        with intent("read" if request.method in SAFE_METHODS else "write"):
            return super().full_dispatch_request()

    def dispatch_request(self):
        if _intent.get() == "read":
            try:
                with unit_of_work():
                    return super().dispatch_request()
            except OperationalError as exc:
                if not lost_write_race(exc):
                    raise
            db.session.rollback()
        with intent("write"), unit_of_work():
            return super().dispatch_request()


def transactional(function: Callable) -> Callable:
    """Decorate an entry point (socket event, scheduled job, command) as one unit of work."""

    @wraps(function)
    def wrapped(*args, **kwargs):
        with unit_of_work():
            return function(*args, **kwargs)

    return wrapped


# -- SQLite: WAL, and one writer at a time ---------------------------------------------------

class WriteTimeout(OperationalError):
    """No turn to write within ``SQLITE_WRITE_WAIT_S``: something held the database that long
    (another process's long transaction, such as an import). An OperationalError as
    SQLAlchemy raises them, so that it is answered as the database being unavailable just
    now (503, ``database_unavailable``: send it again), not as a fault."""

    def __init__(self, message: str):
        super().__init__(None, None, sqlite3.OperationalError(message))


class _WriterLock:
    """One writer at a time on one database file, in this process. ``owner`` is the thread
    (greenlet, under gevent) that took it, so that a second connection of that same thread
    does not wait for itself."""

    def __init__(self) -> None:
        # Looked up when first needed, after gunicorn's gevent worker has patched threading.
        self._lock = threading.Lock()
        self.owner: int | None = None

    def acquire(self, timeout: float) -> bool:
        if not self._lock.acquire(timeout=max(timeout, 0)):
            return False
        self.owner = threading.get_ident()
        return True

    def release(self) -> None:
        self.owner = None
        self._lock.release()


_locks: dict[str, _WriterLock] = {}
_HELD = "dispatch.sqlite_writer_lock"  # in a DB-API connection's info: the lock it holds
_WROTE = "dispatch.sqlite_wrote"  # ... and whether its transaction has written
_write_wait_s = 30.0
_READS = ("SELECT", "PRAGMA", "EXPLAIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


def _writer_lock(connection: Connection) -> _WriterLock | None:
    """The lock of the connection's database file (None for an in-memory database)."""
    path = connection.engine.url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    lock = _locks.get(path)
    if lock is None:
        lock = _locks.setdefault(path, _WriterLock())
    return lock


def _take_turn(connection: Connection, lock: _WriterLock) -> float:
    """Wait for this process's writer lock; return the deadline for the database's own.
    (Not at all under ``intent("now")``: the turn now or a WriteTimeout.)"""
    wait = 0.0 if _intent.get() == "now" else _write_wait_s
    deadline = time.monotonic() + wait
    if not lock.acquire(timeout=wait):
        raise WriteTimeout(f"no turn to write within {wait:g} s: another thread of "
                           "this process held the database that long")
    connection.info[_HELD] = lock
    return deadline


def _release(info: dict) -> None:
    info.pop(_WROTE, None)
    lock = info.pop(_HELD, None)
    if lock is not None:
        lock.release()


def _begin_immediate(raw, deadline: float) -> None:
    """``BEGIN IMMEDIATE``, waiting while another process writes: in short sleeps rather than
    in SQLite's busy handler, which would block every greenlet of a gevent worker."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        delay = 0.001
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not lost_write_race(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    raise WriteTimeout(
                        "no turn to write in time: another process held the database's "
                        "write lock") from exc
            time.sleep(delay)  # gevent's sleep in the gunicorn worker
            delay = min(delay * 2, 0.05)
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


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
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Connection) -> None:
    """Start SQLite transactions explicitly (pairs with ``isolation_level = None`` above): a
    writer takes its turn first and begins IMMEDIATE; a reader begins deferred."""
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    lock = _writer_lock(connection)
    if (lock is None or _intent.get() == "read" or _HELD in connection.info
            or lock.owner == threading.get_ident()):
        # A reader; or a second connection of a thread that already writes on another (it
        # would wait for itself): as before, deferred, and SQLite's busy_timeout applies.
        raw.execute("BEGIN")
        return
    deadline = _take_turn(connection, lock)
    try:
        _begin_immediate(raw, deadline)
    except BaseException:
        _release(connection.info)
        raise


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write(connection: Connection, _cursor, statement: str, *_args) -> None:
    """Note that the transaction wrote; a reader's first write takes the writer lock, so
    that in this process it waits for the writer in turn instead of failing against it."""
    if (connection.dialect.name != "sqlite" or connection.info.get(_WROTE)
            or statement.lstrip()[:9].upper().startswith(_READS)
            or not connection.in_transaction()):
        return
    connection.info[_WROTE] = True
    if _HELD in connection.info:
        return
    lock = _writer_lock(connection)
    if lock is not None and lock.owner != threading.get_ident():
        _take_turn(connection, lock)


def _reading(session: Session) -> bool:
    """Whether ``session`` is in a SQLite transaction that reads (a safe request's): one
    that does not hold the writer's turn."""
    if not session.in_transaction():
        return _intent.get() == "read" and session.get_bind().dialect.name == "sqlite"
    connection = session.connection()
    return connection.dialect.name == "sqlite" and _HELD not in connection.info


def note_in_passing(session: Session | scoped_session, row, **values) -> None:
    """Set bookkeeping columns of ``row`` (a token's last use) without making a reading
    request write. In a transaction that writes anyway, and on PostgreSQL, they are part of
    it. In a SQLite reader they are written in a transaction of their own on another
    connection, and only if nobody is writing at this moment (else not now: the next use
    will); the reader neither waits nor has to run again."""
    if isinstance(session, scoped_session):
        session = session()
    if not _reading(session):
        for name, value in values.items():
            setattr(row, name, value)
        return
    mapper = sa_inspect(row).mapper
    key = zip(mapper.primary_key, mapper.primary_key_from_instance(row), strict=True)
    statement = mapper.local_table.update().where(*(column == value for column, value in key))
    try:
        with intent("now"), session.get_bind().begin() as connection:
            connection.execute(statement.values(
                {mapper.get_property(name).columns[0]: value for name, value in values.items()}))
    except WriteTimeout:
        return
    for name, value in values.items():
        set_committed_value(row, name, value)


@contextmanager
def outside_transaction(session: Session | scoped_session) -> Iterator[None]:
    """Run slow work that needs no database (a password hash: most of a second) without
    keeping other writers waiting. On SQLite, a transaction that holds the writer lock and
    has not written yet ends first (its reads are done; objects load again when next used),
    and the next statement begins a new one. Otherwise (PostgreSQL, something written or
    pending, a nested transaction) the block just runs inside the transaction."""
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        connection = session.connection()
        if (connection.dialect.name == "sqlite" and _HELD in connection.info
                and not connection.info.get(_WROTE)
                and not connection.in_nested_transaction()):
            session.rollback()
    yield


def release_turn(session: Session | scoped_session) -> bool:
    """Make way for long reading work (an import's plan, ``imports.plan``) on SQLite: end
    the session's transaction if it has written nothing and nothing is pending, so that the
    work can read on a snapshot of its own (under ``intent("read")``) without the writer's
    turn. Whether the session is now outside a transaction; False (the work must run inside
    the caller's transaction) when something is written or pending, in a nested
    transaction, or on PostgreSQL."""
    if isinstance(session, scoped_session):
        session = session()
    if session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return session.get_bind().dialect.name == "sqlite"
    connection = session.connection()
    if (connection.dialect.name != "sqlite" or connection.info.get(_WROTE)
            or connection.in_nested_transaction()):
        return False
    session.rollback()
    return True


def end_reading(session: Session | scoped_session) -> None:
    """End the snapshot of work that only read after ``release_turn`` (or that must start
    again from the database as it is): nothing was written, nothing is lost."""
    session.rollback()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_end(connection: Connection) -> None:
    """The transaction ends: the next writer may go. (This runs just before the COMMIT; a
    writer of another thread that gets in first waits in ``_begin_immediate`` for it.)"""
    if connection.dialect.name == "sqlite":
        _release(connection.info)


def _given_back(record) -> None:
    if record is not None:
        _release(record.info)


# A connection given back to the pool, or dropped, with its transaction open lets go of the lock.
@event.listens_for(Pool, "reset")
def _sqlite_reset(_dbapi_connection, record, _reset_state) -> None:
    _given_back(record)


@event.listens_for(Pool, "checkin")
@event.listens_for(Pool, "detach")
@event.listens_for(Pool, "close")
def _sqlite_checkin(_dbapi_connection, record) -> None:
    _given_back(record)


@event.listens_for(Pool, "invalidate")
def _sqlite_invalidate(_dbapi_connection, record, _exception) -> None:
    _given_back(record)


def _body_before_the_transaction() -> None:
    """A write request's form and uploads are read off the network before its first
    statement: a writer holds SQLite's one turn from there to its commit, and a register
    file on a slow line can take minutes. (JSON bodies are small: read when asked for.)"""
    if request.method not in SAFE_METHODS:
        request.form  # noqa: B018 (parses the form, spools uploads to disk)


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy and Alembic (through Flask-Migrate, which gives ``dispatch db``)."""
    global _write_wait_s

    _write_wait_s = float(app.config.get("SQLITE_WRITE_WAIT_S", _write_wait_s))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10})
    db.init_app(app)
    app.before_request(_body_before_the_transaction)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)


def among(session: Session, column, ids) -> ColumnElement[bool]:
    """``column IN ids`` for a web process's thousands of cars or tokens: on PostgreSQL one
    array parameter (``= ANY(:ids)``), which SQLAlchemy compiles once and caches, where an IN
    list of 3,000 bound values costs ~10 ms of the process's CPU per statement, every pass."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)
