"""SQLite with one writer at a time (``dispatch.core.database``): a transaction that reads and
then writes never fails for "database is locked", readers never wait for writers, a safe
request that lost a write race runs again as a writer, other processes are waited for (and
under gevent without stopping the other greenlets), and the turn is given back however a
transaction ends. These engines are SQLite files of their own, on either pass of the suite.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from dispatch.core import database
from dispatch.core.database import App, WriteTimeout, intent, note_in_passing


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    yield engine
    engine.dispose()


@pytest.fixture
def short_wait(monkeypatch):
    """A turn that does not come within a second fails (instead of hanging the test)."""
    monkeypatch.setattr(database, "_write_wait_s", 1.0)


def _read(conn) -> int:
    return conn.execute(sa.text("SELECT n FROM counter WHERE id = 1")).scalar_one()


def _write(conn, n: int) -> None:
    conn.execute(sa.text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n})


def test_read_then_write_from_many_threads_never_fails_and_loses_nothing(engine):
    failures = []

    def increments():
        for _ in range(25):
            try:
                with engine.begin() as conn:  # read, then write what was read plus one
                    _write(conn, _read(conn) + 1)
            except Exception as exc:  # noqa: BLE001 (what the test counts)
                failures.append(exc)

    threads = [threading.Thread(target=increments) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with engine.connect() as conn:
        assert _read(conn) == 200  # one writer at a time: no increment lost


@contextmanager
def _another_thread_writing(engine):
    """While the block runs, another thread holds a write transaction (it wrote 7)."""
    writing, done = threading.Event(), threading.Event()

    def writer():
        with engine.begin() as conn:
            _write(conn, 7)
            writing.set()
            done.wait(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(timeout=30)
        yield
    finally:
        done.set()
        thread.join(timeout=30)


def test_a_reader_does_not_wait_for_a_writer(engine, short_wait):
    with _another_thread_writing(engine):
        with intent("read"), engine.begin() as conn:
            assert _read(conn) == 0  # WAL: the last committed value, at once


def test_a_safe_request_that_lost_a_write_race_runs_again_as_a_writer(engine):
    app = App(__name__)
    runs = []

    @app.get("/bump")
    def bump():
        with engine.connect() as conn, conn.begin():
            n = _read(conn)
            runs.append(database._intent.get())
            if len(runs) == 1:  # another writer commits between this read and this write
                other = threading.Thread(target=lambda: _commit(engine, 100))
                other.start()
                other.join(timeout=30)
            _write(conn, n + 1)
        return str(n + 1)

    response = app.test_client().get("/bump")
    assert response.status_code == 200 and response.text == "101"
    assert runs == ["read", "write"]


def _commit(engine, n: int) -> None:
    with engine.begin() as conn:
        _write(conn, n)


def test_another_process_writing_is_waited_for_then_a_clear_timeout(engine, short_wait, tmp_path):
    other = sqlite3.connect(tmp_path / "writers.db", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction: no lock of ours
    other.execute("UPDATE counter SET n = 5")
    with pytest.raises(WriteTimeout, match="another process"):
        with engine.begin() as conn:
            _write(conn, _read(conn) + 1)
    waiting = threading.Event()
    failures = []

    def write():
        waiting.set()
        try:
            with engine.begin() as conn:
                _write(conn, _read(conn) + 1)
        except Exception as exc:  # noqa: BLE001
            failures.append(exc)

    database._write_wait_s = 30.0
    thread = threading.Thread(target=write)
    thread.start()
    assert waiting.wait(timeout=30)
    other.execute("COMMIT")
    other.close()
    thread.join(timeout=30)
    assert failures == []
    with engine.connect() as conn:
        assert _read(conn) == 6


def test_the_turn_is_given_back_however_the_transaction_ends(engine, short_wait):
    conn = engine.connect()
    conn.begin()
    _read(conn)
    conn.close()  # given back with its transaction open
    conn = engine.connect()
    conn.begin()
    _read(conn)
    conn.invalidate()  # dropped
    with pytest.raises(sa.exc.OperationalError):
        with engine.begin() as conn:
            _write(conn, 1)
            conn.exec_driver_sql("INSERT INTO nowhere VALUES (1)")  # rolled back
    with engine.begin() as conn:  # would wait a second and fail if any turn were kept
        _write(conn, 3)
    with engine.connect() as conn:
        assert _read(conn) == 3


class _Base(DeclarativeBase):
    pass


class Counter(_Base):
    __tablename__ = "counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int]


def test_a_reader_notes_in_passing_only_when_nobody_writes_and_never_waits(engine, short_wait):
    with intent("read"), Session(engine) as session:
        row = session.get(Counter, 1)
        note_in_passing(session, row, n=5)  # nobody writes: on a connection of its own
        assert row.n == 5 and not session.dirty
        session.commit()
    with _another_thread_writing(engine):
        with intent("read"), Session(engine) as session:
            row = session.get(Counter, 1)
            note_in_passing(session, row, n=9)  # someone writes: not now, and no waiting
            assert row.n == 5 and not session.dirty
            session.commit()
    with Session(engine) as session:  # a writer: part of its own transaction
        row = session.get(Counter, 1)
        assert row.n == 7
        note_in_passing(session, row, n=11)
        assert row in session.dirty
        session.commit()
    with engine.connect() as conn:
        assert _read(conn) == 11


GEVENT_SCRIPT = r"""
from gevent import monkey
monkey.patch_all()
import sqlite3, sys
import gevent
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
import dispatch.core.database  # noqa: F401 (the events)

path = sys.argv[1]
engine = sa.create_engine(f"sqlite:///{path}")
ticks = [0]

def ticker():
    while True:
        ticks[0] += 1
        gevent.sleep(0.005)

def write(n):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE counter SET n = n + :n"), {"n": n})

def until(condition):
    while not condition():
        gevent.sleep(0.005)

gevent.spawn(ticker)
# Another greenlet holds this process's turn: a second writer waits without stopping the hub.
holding = engine.connect()
holding.begin()
holding.execute(sa.text("UPDATE counter SET n = n + 1"))
waiter = gevent.spawn(write, 10)
start = ticks[0]
until(lambda: ticks[0] > start + 20)  # the hub runs while the waiter waits
holding.commit()
holding.close()
waiter.get(timeout=30)
# Another process holds the database: BEGIN IMMEDIATE waits in gevent sleeps, not in SQLite.
other = sqlite3.connect(path, isolation_level=None, timeout=0)
other.execute("BEGIN IMMEDIATE")
other.execute("UPDATE counter SET n = n + 100")
waiter = gevent.spawn(write, 1000)
start = ticks[0]
until(lambda: ticks[0] > start + 20)
other.execute("COMMIT")
waiter.get(timeout=30)
with engine.connect() as conn:
    print(conn.execute(sa.text("SELECT n FROM counter")).scalar_one())
"""


def test_under_gevent_a_waiting_writer_lets_the_other_greenlets_run(engine, tmp_path):
    done = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, str(tmp_path / "writers.db")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "1111"
