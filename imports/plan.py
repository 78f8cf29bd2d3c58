"""An import's plan (SQLite): everything applying a file will write, gathered without the live
database's writer turn, then applied in one short transaction.

SQLite has one writer at a time. Reading, checking, comparing, geocoding and laying out a
million-row file takes seconds to minutes; a web write that waited that long for its turn
would fail. So on SQLite ``import_register`` runs the ``Applier`` in two phases:

1. **plan**, on a read snapshot of the register (a deferred transaction: no writer turn;
   web writes go on meanwhile): the Applier reads the register as it does always, but every
   write goes into a ``Plan`` instead of the database. Rows to insert go into tables of a
   staging SQLite file of their own next to the database (``plan_<table>``, untyped columns,
   so that values reach the register's columns exactly as a direct insert binds them); a
   first register's chunks from the stage process go into the staging tables of the same
   file (``imports.first.writer.stage_into``); updates and deletes are kept as statements.
   A rejected file (or a dry run) ends here: the register was never touched, except that a
   first register with an engine of its own (``live``: the CLI, the admin page's process)
   has each chunk copied into the register, hidden, in short turns as the stage sends it
   (``copy_chunk``), so that the stage and the copy overlap; a refused file's rows are then
   removed again (``remove_hidden``). That connection copies with its foreign keys off: each
   chunk's ids and references are checked set-wise against the import's own rows before it
   goes in (``_check_chunk``), not by a search in the parent table per row.
2. **apply**, in the writer's turn: the file is ATTACHed, the keys the plan counted on are
   checked to be free still (``RegisterMoved`` otherwise: the import plans again), and the
   steps run in their order, inserts as ``INSERT ... SELECT`` inside SQLite.

Imports of one database run one at a time (``import_lock``): a plan counts new keys up
from the largest in its snapshot, so two plans must not overlap.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dispatch.core.database import intent
from imports.bulk import TABLES
from imports.first.staging import STAGING_TABLES, StageFailed
from imports.first.writer import COPY_STATEMENTS, STAGE, WaitingStage

SCHEMA = "import_plan"  # the name the staging file is attached under at the apply
TURN_ROWS = 50_000  # rows of one table per write transaction in ``copy_in_turns``
# The same while the stage reads on (``copy_chunk``): the copy then shares the cores with the
# stage process, so a turn takes longer; smaller turns keep a waiting web write's wait short.
# But not too small: every turn writes (WAL, then checkpoint) each page it touched, and 10,000
# people with random phone numbers touch most leaf pages of ``ix_people_phone`` however few
# they are (1,000,000 rows: 15.0 s of CPU for the copy in turns of 10,000, 12.1 s in turns of
# 25,000, 10.5 s in turns of 50,000).
LIVE_TURN_ROWS = 25_000
# ``retired_at`` of the objects a first register copies in turns until its apply shows them.
HIDDEN = "0001-01-01 00:00:00.000000"



def _own(column: str, key: str, what: str) -> str:
    """``column`` + its offset if it is one of this chunk's new ids, else ``import_broken``."""
    return (f"CASE WHEN {column} BETWEEN :{key}_lo AND :{key}_hi THEN {column} + :{key} "
            f"ELSE import_broken('{what}') END")


def _reference(column: str, key: str, what: str, nullable: bool = False) -> str:
    """``column`` + its offset if it names a row of this import, else ``import_broken``."""
    inside = f"typeof({column}) = 'integer' AND {column} BETWEEN 0 AND :{key}_max"
    if nullable:
        inside = f"{column} IS NULL OR ({inside})"
    return f"CASE WHEN {inside} THEN {column} + :{key} ELSE import_broken('{what}') END"


# The live copy's statements (``Plan.copy_chunk``, foreign keys off) check what the foreign
# keys would: each ``COPY_STATEMENTS`` expression on the left becomes the one on the right.
CHECKED = {
    "SELECT id + :p, :l, designation":
        f"SELECT {_own('id', 'p', 'properties.id')}, :l, designation",
    "SELECT id + :e, :l, property_id + :p,":
        f"SELECT {_own('id', 'e', 'entrances.id')}, :l, "
        f"{_reference('property_id', 'p', 'entrances.property_id', nullable=True)},",
    "SELECT id + :o, :l, entrance_id + :e,":
        f"SELECT {_own('id', 'o', 'objects.id')}, :l, "
        f"{_reference('entrance_id', 'e', 'objects.entrance_id')},",
    "SELECT agreement_id + :a, :l, avtalsnummer":
        f"SELECT {_own('agreement_id', 'a', 'agreements.id')}, :l, avtalsnummer",
    "SELECT id + :h, :l, name": f"SELECT {_own('id', 'h', 'people.id')}, :l, name",
    "SELECT agreement_id + :a, id + :o, NULL":
        f"SELECT {_reference('agreement_id', 'a', 'agreement_objects.agreement_id')}, "
        f"id + :o, NULL",
    "SELECT agreement_id + :a, person_id + :h, position":
        f"SELECT {_reference('agreement_id', 'a', 'agreement_parties.agreement_id')}, "
        f"{_reference('person_id', 'h', 'agreement_parties.person_id')}, position",
}

_memory_lock = threading.Lock()  # imports into an in-memory database (tests): one at a time


class RegisterMoved(Exception):
    """The register changed between the plan and its apply (keys the plan counted on are
    taken, or the landlord's register was imported meanwhile): plan again."""


def database_file(session: Session) -> str | None:
    """The SQLite file the session works on (None: in memory)."""
    bind = session.get_bind()
    path = getattr(bind, "engine", bind).url.database
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return path


@contextmanager
def import_lock(database: str | None) -> Iterator[None]:
    """One import at a time on one SQLite database, across processes: a lock on a file next
    to it (``<database>.import-lock``). A second import waits, polling, for the first."""
    if database is None:
        with _memory_lock:
            yield
        return
    with open(f"{database}.import-lock", "a+b") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                time.sleep(0.05)  # gevent's sleep in a gevent worker; flock itself would block it
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Plan:
    """The writes of one import, in order, with their rows in a staging file."""

    # Called after each turn of ``copy_in_turns`` has committed, while the writer's turn is
    # free (a seam for tests: other writers go on between the turns).
    after_turn: Callable[[], None] | None = None

    def __init__(self, directory: str | Path):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f".import-{os.getpid()}-{uuid.uuid4().hex[:12]}.stage"
        # Written only by this import, read once at the apply: no journal, no syncs.
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("BEGIN")
        # ("insert", table, columns, first rowid, last rowid) | ("execute", statement, params)
        # | ("staged", offsets): a first register's staging tables, with the keys' offsets
        self.steps: list[tuple] = []
        self._rows: dict[str, int] = {}
        self.staged_entrances: int | None = None  # the entrances' key offset of staged rows
        self.version: int | None = None  # the landlord's register_version in the snapshot
        self.bases: dict[str, int] = {}  # table → the first free key in the snapshot
        self.copied = False  # a first register's staged rows are in, hidden (copy_in_turns)
        # Set (engine, landlord id) to copy a first register's chunks into the register as the
        # stage sends them (``copy_chunk``), hidden, instead of all of them after the stage.
        self.live: tuple[Engine, int] | None = None
        self._live_connection = None
        # A stage process started while the file was being checked (``import_register``, for
        # a landlord with nothing in the register), for a first register's stage to use.
        self.stage: WaitingStage | None = None
        # How many rows of each table the live copy has put in so far (ids from zero):
        # the references of the next chunk must point below these (``_check_chunk``).
        self._live_counts = dict.fromkeys("peoah", 0)

    # -- gathering -----------------------------------------------------------------------
    def insert(self, table: str, columns: Sequence[str], rows: list[Sequence]) -> int:
        if table not in TABLES:
            raise ValueError(f"not a register table: {table!r}")
        if not rows:
            return 0
        if table not in self._rows:
            self.db.execute(f"CREATE TABLE plan_{table} ({', '.join(columns)})")
            self._rows[table] = 0
        marks = ", ".join("?" * len(columns))
        self.db.executemany(f"INSERT INTO plan_{table} VALUES ({marks})", rows)  # noqa: S608
        first = self._rows[table] + 1
        self._rows[table] += len(rows)
        self.steps.append(("insert", table, tuple(columns), first, self._rows[table]))
        return len(rows)

    def execute(self, statement, params) -> None:
        self.steps.append(("execute", statement, params))

    def copy_staged(self, offsets: dict[str, object]) -> None:
        self.staged_entrances = int(offsets["e"])
        self.steps.append(("staged", dict(offsets)))

    def entrance_addresses(self, ids: list[int]) -> dict[int, tuple]:
        """(street, number, letter, postnummer, ort) of entrances this plan inserts."""
        found: dict[int, tuple] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            marks = ", ".join("?" * len(part))
            if "entrances" in self._rows:
                for row in self.db.execute(
                        "SELECT id, street, street_number, street_letter, postnummer, ort "  # noqa: S608
                        f"FROM plan_entrances WHERE id IN ({marks})", part):
                    found[row[0]] = row[1:]
            if self.staged_entrances is not None:
                base = self.staged_entrances
                for row in self.db.execute(
                        "SELECT id, street, street_number, street_letter, postnummer, ort "  # noqa: S608
                        f"FROM entrances WHERE id IN ({marks})", [i - base for i in part]):
                    found[row[0] + base] = row[1:]
        return found

    def finish(self) -> None:
        """The staging file is complete: commit it (the apply reads it from another
        connection) and close it."""
        if self.db is not None:
            self.db.execute("COMMIT")
            self.db.close()
            self.db = None

    def close(self) -> None:
        """Drop the staging file (whether or not it was applied)."""
        self._end_live()
        if self.db is not None:
            self.db.close()
            self.db = None
        self.path.unlink(missing_ok=True)

    # -- a first register, chunk by chunk while the stage reads on ---------------------------
    def copy_chunk(self, offsets: dict[str, object], chunk: Path | None,
                   rows: dict | None) -> None:
        """One chunk of a first register from the stage (a chunk's SQLite file, or a row
        stage's rows) into the register, hidden, in short write turns on a connection of its
        own (``live``): the stage process reads the next chunk meanwhile, so that the import
        takes about as long as the longer of the two, not both. ``apply`` shows them."""
        engine, landlord_id = self.live
        if self._live_connection is None:
            connection = engine.connect()
            self._live_connection = connection
            raw = connection.connection.driver_connection
            # This connection's foreign keys are checked set-wise, a chunk at a time, before
            # it goes in (``_check_chunk``: the stage's ids against the rows copied so far),
            # not by a B-tree search in the parent per row (1.8 s of CPU at 1,000,000 rows).
            # Per connection and outside a transaction; ``_end_live`` turns them on again.
            raw.execute("PRAGMA foreign_keys = OFF")
            attached = {row[1] for row in raw.execute("PRAGMA database_list")}
            if STAGE not in attached:
                raw.execute(f"ATTACH DATABASE ':memory:' AS {STAGE}")
            with intent("write"), connection.begin():
                self._check(connection.exec_driver_sql, landlord_id)
        connection = self._live_connection
        raw = connection.connection.driver_connection
        if chunk is not None:  # loaded without the writer's turn: a schema of its own
            raw.deserialize(chunk.read_bytes(), name=STAGE)
        else:
            for name, columns in STAGING_TABLES.items():
                raw.execute(f"CREATE TABLE IF NOT EXISTS {STAGE}.{name} ({columns})")
                raw.execute(f"DELETE FROM {STAGE}.{name}")  # noqa: S608 (our names)
                if rows[name]:
                    marks = ", ".join("?" * len(columns.split(",")))
                    raw.executemany(f"INSERT INTO {STAGE}.{name} VALUES ({marks})",  # noqa: S608
                                    rows[name])
        bounds = self._check_chunk(raw)
        self.copied = True  # from here on, hidden rows may be in the register
        broken: list[str] = []

        def import_broken(what: str) -> None:
            broken.append(what)
            raise ValueError(what)

        raw.create_function("import_broken", 1, import_broken)
        try:
            self._copy_turns(connection, raw, STAGE, {**offsets, "r": HIDDEN, **bounds},
                             min(LIVE_TURN_ROWS, TURN_ROWS), checked=True)
        except sqlite3.OperationalError as exc:
            if broken:
                raise StageFailed(f"a chunk of the stage points at no row of this import: "
                                  f"{broken[0]}") from exc
            raise

    def _check_chunk(self, raw) -> dict:
        """What the foreign keys would check, for the chunk in ``STAGE``, set-wise, inside
        the copy's own statements (``CHECKED``: no scan of its own): each table's new ids are
        this import's next ones, ``lo`` to ``hi`` (the primary key refuses a repeated one, so
        they are exactly those), and every reference is an integer that points at a row this
        import has copied by the end of this chunk (parents first). A row that breaks that
        calls ``import_broken``, which stops the turn (rolled back; the turns before are
        removed with the rest of the import). Here: the bounds (how many rows of each table
        the chunk has: b-tree counts, and one scan for the agreements it makes). The landlord
        is the plan's own, checked to exist before the first chunk and again at the apply."""
        counts = self._live_counts
        sizes = {key: raw.execute(f"SELECT count(*) FROM {STAGE}.{table}").fetchone()[0]  # noqa: S608 (our names)
                 for key, table in (("p", "properties"), ("e", "entrances"), ("o", "objects"),
                                    ("h", "people"))}
        sizes["a"] = raw.execute(
            f"SELECT count(*) FROM {STAGE}.objects WHERE agreement_new").fetchone()[0]  # noqa: S608
        after = {key: counts[key] + sizes[key] for key in counts}
        bounds = {}
        for key in counts:
            bounds[f"{key}_lo"], bounds[f"{key}_hi"] = counts[key], after[key] - 1
            bounds[f"{key}_max"] = after[key] - 1  # the largest id a reference may name
        self._live_counts = after
        return bounds

    def _end_live(self) -> None:
        if self._live_connection is not None:
            connection, self._live_connection = self._live_connection, None
            raw = connection.connection.driver_connection
            try:
                raw.execute(f"DETACH DATABASE {STAGE}")
            except sqlite3.Error:
                pass
            try:
                if raw.in_transaction:  # stopped inside a turn: it is not committed
                    raw.execute("ROLLBACK")
                raw.execute("PRAGMA foreign_keys = ON")  # back to the pool as it came
            except sqlite3.Error:
                connection.invalidate()  # not back to the pool without its foreign keys
            connection.close()

    # -- applying -------------------------------------------------------------------------
    def apply(self, session: Session, landlord_id: int) -> None:
        """Run the steps in the session's transaction (the writer's turn); raise
        ``RegisterMoved`` if the keys or the register it was made on changed since."""
        self.finish()
        session.flush()
        if not self.copied:
            self._check(session.connection().exec_driver_sql, landlord_id)
        elif session.connection().exec_driver_sql(
                "SELECT 1 FROM landlords WHERE id = ?", (landlord_id,)).scalar() is None:
            # The turns' rows went in without the foreign keys' own checks (_check_chunk):
            # a landlord removed meanwhile would leave them pointing at nothing.
            raise LookupError("the landlord was removed while its register was imported")
        raw = session.connection().connection.driver_connection
        # A bigger page cache keeps the indexes' B-trees in memory while the rows go in.
        raw.execute("PRAGMA cache_size = -65536")
        # Only a plan that inserts rows has tables in its file (else the file is empty).
        schema = _attach(raw, self.path) if self._rows or self.staged_entrances is not None else ""
        # The first register's copy statements, reading the staging file's tables.
        copy = [statement.replace(f"{STAGE}.", f"{schema}.") for statement in COPY_STATEMENTS]
        for step in self.steps:
            kind = step[0]
            if kind == "insert":
                _, table, columns, first, last = step
                names = ", ".join(columns)
                raw.execute(
                    f"INSERT INTO main.{table} ({names}) SELECT {names} "  # noqa: S608
                    f"FROM {schema}.plan_{table} WHERE rowid BETWEEN ? AND ?", (first, last))
            elif kind == "execute":
                session.execute(step[1], step[2])
            elif self.copied:  # copied in turns already: what is left is to show them
                # By the rowid range the import took (``+``: not by the landlord's
                # objektsnummer index, which would visit the rows out of their order).
                raw.execute("UPDATE objects SET retired_at = NULL WHERE id >= ? "
                            "AND +landlord_id = ? AND retired_at = ?",
                            (step[1]["o"], landlord_id, HIDDEN))
            else:
                for statement in copy:
                    raw.execute(statement, step[1])

    def _check(self, run, landlord_id: int) -> None:
        version = run("SELECT register_version FROM landlords WHERE id = ?",
                      (landlord_id,)).scalar()
        if version != self.version:
            raise RegisterMoved("the landlord's register was imported meanwhile")
        for table, base in self.bases.items():
            now = (run(f"SELECT max(id) FROM {table}").scalar() or 0) + 1  # noqa: S608
            if table not in TABLES or now != base:
                raise RegisterMoved(f"new {table} were added meanwhile")

    def copy_in_turns(self, engine: Engine, landlord_id: int,
                      turn_rows: int | None = None) -> None:
        """A first register's staged rows into the register in short write transactions of
        at most ``turn_rows`` rows of one table each, parents first, releasing the writer's
        turn between them: a million rows would hold it for seconds in one. The objects go
        in hidden (``retired_at`` = ``HIDDEN``, which every reader of the register takes as
        retired) and ``apply`` shows them all in its one short transaction. (Rows of an
        import that stops between the two are removed by the next: ``remove_hidden``.)"""
        staged = [step for step in self.steps if step[0] == "staged"]
        if not staged or self.copied:  # none, or copied chunk by chunk already
            self._end_live()
            return
        self.finish()
        offsets = {**staged[0][1], "r": HIDDEN}
        turn_rows = turn_rows or TURN_ROWS
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            raw.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(self.path),))
            try:
                with connection.begin():
                    self._check(connection.exec_driver_sql, landlord_id)
                self._copy_turns(connection, raw, SCHEMA, offsets, turn_rows)
            finally:
                raw.execute(f"DETACH DATABASE {SCHEMA}")
        self.copied = True

    def _copy_turns(self, connection, raw, schema: str, offsets: dict,
                    turn_rows: int | None = None, checked: bool = False) -> None:
        """The staging tables in ``schema`` into the register, objects hidden (``offsets``'
        ``r``), parents first, at most ``turn_rows`` rows of one table per write turn;
        ``checked``: with the references checked in the statements (``CHECKED``, the bounds
        in ``offsets``)."""
        turn_rows = turn_rows or TURN_ROWS
        for statement in COPY_STATEMENTS:
            if checked:
                for plain, guarded in CHECKED.items():
                    statement = statement.replace(plain, guarded)
            statement = statement.replace(f"{STAGE}.", f"{schema}.")
            if "row_hash, NULL, :t, :t" in statement:
                statement = statement.replace("row_hash, NULL, :t, :t", "row_hash, :r, :t, :t")
            table = statement.rsplit(f"FROM {schema}.", 1)[1].split()[0]
            rows = raw.execute(f"SELECT max(rowid) FROM {schema}.{table}").fetchone()[0]  # noqa: S608
            statement += (" AND" if " WHERE " in statement.rsplit("FROM", 1)[1]
                          else " WHERE") + " rowid BETWEEN :lo AND :hi"
            for lo in range(1, (rows or 0) + 1, turn_rows):
                with intent("write"), connection.begin():  # the writer's turn; commit
                    raw.execute("PRAGMA cache_size = -65536")
                    raw.execute(statement, {**offsets, "lo": lo, "hi": lo + turn_rows - 1})
                if self.after_turn is not None:
                    self.after_turn()


def _attach(raw, path: Path) -> str:
    """Make the staging file readable on the live connection; return the schema's name.

    Normally it is ATTACHed as ``SCHEMA`` (after detaching an earlier import's file, which
    this transaction has not used). Inside a transaction that has used that name already
    (several imports in one transaction, as in the tests) it cannot be detached: the file's
    content is then loaded into the in-memory schema ``STAGE`` instead."""
    attached = {row[1] for row in raw.execute("PRAGMA database_list")}
    if SCHEMA in attached:
        try:
            raw.execute(f"DETACH DATABASE {SCHEMA}")
        except sqlite3.OperationalError:
            if STAGE not in attached:
                raw.execute(f"ATTACH DATABASE ':memory:' AS {STAGE}")
            raw.deserialize(path.read_bytes(), name=STAGE)
            return STAGE
    raw.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(path),))
    return SCHEMA



def remove_hidden(engine: Engine, landlord_id: int) -> int:
    """Remove what a first import that stopped between ``copy_in_turns`` and its apply left
    (hidden objects, and with them the rest of that register, which had nothing before);
    return how many hidden objects there were. Runs under ``import_lock``."""
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        hidden = run("SELECT count(*) FROM objects WHERE landlord_id = ? AND retired_at = ?",
                     (landlord_id, HIDDEN)).scalar()
        if not hidden:
            return 0
        shown = run("SELECT count(*) FROM objects WHERE landlord_id = ? AND "
                    "(retired_at IS NULL OR retired_at != ?)", (landlord_id, HIDDEN)).scalar()
        run("DELETE FROM objects WHERE landlord_id = ? AND retired_at = ?", (landlord_id, HIDDEN))
        if not shown:  # the whole register was the stopped first import's
            mine = "(SELECT id FROM agreements WHERE landlord_id = ?)"
            run(f"DELETE FROM agreement_parties WHERE agreement_id IN {mine}", (landlord_id,))  # noqa: S608
            run(f"DELETE FROM agreement_objects WHERE agreement_id IN {mine}", (landlord_id,))  # noqa: S608
            for table in ("agreements", "people", "entrances", "properties"):
                run(f"DELETE FROM {table} WHERE landlord_id = ?", (landlord_id,))  # noqa: S608
    return hidden
