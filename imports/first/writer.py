"""The writer: starts the stage process (``run_stage``) and copies each chunk it sends into
the register (``write_staged``) or, for an import on SQLite, which must not hold the live
database's writer turn while the file is read, into a staging file of the import's plan
(``stage_into``; ``imports.plan`` copies it into the register afterwards).

It runs in the calling process, on the session's DB-API connection and inside its
transaction. On SQLite (``write_staged``) each chunk goes into an attached in-memory staging
schema (``deserialize`` of a chunk's SQLite file, or ``executemany`` of its marshalled rows)
and from there into the register with one ``INSERT ... SELECT`` per table, adding the id
offsets and the landlord. PostgreSQL's writer (``imports.first.postgres``) runs the stage the
same way and COPYs each chunk.
"""

from __future__ import annotations

import marshal
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from imports.first.staging import (
    CHUNK,
    DONE,
    FAILED,
    FILE,
    GO,
    STAGING_TABLES,
    Staged,
    StageFailed,
    receive_frame,
)

STAGE = "import_stage"  # the attached in-memory schema of the staging tables

# One statement per register table, parents first. :p :e :o :a :h are the id offsets of
# properties, entrances, objects, agreements and people; NULL + offset stays NULL.
COPY_STATEMENTS = (
    f"INSERT INTO main.properties (id, landlord_id, designation) "  # noqa: S608
    f"SELECT id + :p, :l, designation FROM {STAGE}.properties",
    f"INSERT INTO main.entrances (id, landlord_id, property_id, street, street_number, "  # noqa: S608
    f"street_letter, postnummer, ort, address_key, lat, lon, position_source, door_code) "
    f"SELECT id + :e, :l, property_id + :p, street, street_number, street_letter, postnummer, "
    f"ort, address_key, lat, lon, position_source, door_code FROM {STAGE}.entrances",
    f"INSERT INTO main.objects (id, landlord_id, entrance_id, objektsnummer, object_type, "  # noqa: S608
    f"lagenhetsnummer, floor, rooms, area_m2, rent_sek, row_hash, retired_at, created_at, "
    f"updated_at) SELECT id + :o, :l, entrance_id + :e, objektsnummer, object_type, "
    f"lagenhetsnummer, floor, rooms, area_m2, rent_sek, row_hash, NULL, :t, :t "
    f"FROM {STAGE}.objects",
    f"INSERT INTO main.agreements (id, landlord_id, avtalsnummer, starts_on, ends_on, "  # noqa: S608
    f"notice_given_on, created_at) SELECT agreement_id + :a, :l, avtalsnummer, starts_on, "
    f"ends_on, NULL, :t FROM {STAGE}.objects WHERE agreement_new",
    f"INSERT INTO main.people (id, landlord_id, name, phone, email, kundnummer, personnummer, "  # noqa: S608
    f"created_at, updated_at) SELECT id + :h, :l, name, phone, email, kundnummer, "
    f"personnummer, :t, :t "
    f"FROM {STAGE}.people",
    f"INSERT INTO main.agreement_objects (agreement_id, object_id, ends_on) "  # noqa: S608
    f"SELECT agreement_id + :a, id + :o, NULL FROM {STAGE}.objects "
    f"WHERE agreement_id IS NOT NULL",
    f"INSERT INTO main.agreement_parties (agreement_id, person_id, position) "  # noqa: S608
    f"SELECT agreement_id + :a, person_id + :h, position FROM {STAGE}.parties",
)


def _start_stage(path: Path, directory: str, stderr, output: str,
                 wait: bool = False) -> subprocess.Popen:
    """``python -m imports.first FILE DIR OUTPUT [wait]`` (``imports.first.__main__``),
    importing this copy of the package. With ``wait`` it reads ``GO`` from its stdin before
    it parses (``WaitingStage``)."""
    package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds imports/
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "imports.first", str(path), directory, output,
         *(["wait"] if wait else [])],
        stdin=subprocess.PIPE if wait else subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=stderr, env=env, bufsize=1 << 20,
    )


class WaitingStage:
    """A stage process started before the writer knows it will need it: it starts Python,
    imports polars and ADBC and makes the column stage's check of the file (bounded by the
    limits: it stops at a line or a row count past them), then waits for ``GO`` before it
    parses anything. The importing process starts one for a landlord with nothing in the
    register while it checks the file itself (its SHA-256, the limits, the encoding), so
    that the two overlap; ``run_stage`` then sends ``GO``. Unused, ``close`` ends it (it
    sent nothing and wrote nothing but its temporary folder, which goes with it). With
    ``wait=False`` it parses at once: ``run_stage``'s own, when none was started early."""

    def __init__(self, path: Path, output: str = "sqlite", *, wait: bool = True):
        self.path, self.output = Path(path), output
        self.stderr = tempfile.TemporaryFile()  # a file, not a pipe: it cannot fill up
        self.directory = tempfile.TemporaryDirectory(prefix="dispatch-import-")
        self.process = _start_stage(self.path, self.directory.name, self.stderr, output,
                                    wait=wait)
        self.used = not wait  # one not told to wait is running already

    def fits(self, path: Path, output: str) -> bool:
        return not self.used and self.output == output and Path(path) == self.path

    def go(self) -> None:
        self.used = True
        try:
            self.process.stdin.write(GO)
            self.process.stdin.close()
        except OSError:  # it ended already: run_stage reads why from its stderr
            pass

    def close(self) -> None:
        """End the process if it still runs (closing its stdin without ``GO`` ends it)."""
        self.used = True
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.stderr.close()
        self.directory.cleanup()


def run_stage(path: Path, output: str, load: Callable[[Path | None, dict | None], None],
              progress: Callable[[int], None] | None = None,
              started: WaitingStage | None = None) -> Staged:
    """Run the stage process on ``path`` and hand each chunk to ``load``; return its summary.

    ``output`` is the form of a column stage's chunks (``staging.OUTPUTS``): ``load(path,
    None)`` gets each as a file (deleted when ``load`` returns); a row stage's chunks come as
    ``load(None, rows)``, the staging rows by table. The writers on SQLite (``write_staged``)
    and PostgreSQL (``imports.first.postgres``) both run the stage this way. ``started``: a
    stage process already started on ``path`` (``WaitingStage``), told to go on.
    """
    if started is not None and started.fits(path, output):
        started.go()
        stage = started
    else:
        stage = WaitingStage(path, output, wait=False)
    process, stderr = stage.process, stage.stderr
    try:
        while True:
            frame = receive_frame(process.stdout)
            if frame is None:
                process.wait()
                stderr.seek(0)
                detail = stderr.read().decode(errors="replace").strip()
                raise StageFailed(
                    f"the stage process ended early (exit {process.returncode}): "
                    f"{detail[-2000:]}"
                )
            kind, payload = frame
            if kind == DONE:
                return pickle.loads(payload)  # noqa: S301 (from our own child process)
            if kind == FAILED:
                raise pickle.loads(payload)  # noqa: S301
            if kind == FILE:  # a chunk as a file (SQLite) or a folder of files (Arrow)
                chunk, position = marshal.loads(payload)  # noqa: S302 (our own child)
                chunk = Path(chunk)
                try:
                    load(chunk, None)
                finally:
                    if chunk.is_dir():
                        shutil.rmtree(chunk, ignore_errors=True)
                    else:
                        chunk.unlink(missing_ok=True)
            elif kind == CHUNK:
                rows, position = marshal.loads(payload)  # noqa: S302 (our own child process)
                load(None, rows)
            else:
                raise StageFailed(f"unknown frame {kind!r} from the stage process")
            if progress is not None and position is not None:
                progress(position)
    finally:
        stage.close()


def _prepare_stage(raw) -> None:
    """Attach the in-memory staging schema (once per connection) and create its tables."""
    attached = {row[1] for row in raw.execute("PRAGMA database_list")}
    if STAGE not in attached:
        raw.execute(f"ATTACH DATABASE ':memory:' AS {STAGE}")
    for name, columns in STAGING_TABLES.items():
        raw.execute(f"CREATE TABLE IF NOT EXISTS {STAGE}.{name} ({columns})")
        raw.execute(f"DELETE FROM {STAGE}.{name}")  # noqa: S608 (our names)


def _insert_statement(name: str) -> str:
    marks = ", ".join("?" * len(STAGING_TABLES[name].split(",")))
    return f"INSERT INTO {STAGE}.{name} VALUES ({marks})"  # noqa: S608 (our names)


def write_staged(raw, path: Path, offsets: dict[str, object],
                 progress: Callable[[int], None] | None = None) -> Staged:
    """SQLite: run the stage process on ``path`` and copy every chunk into the register.

    ``raw`` is the session's DB-API connection, inside the caller's transaction.
    """
    inserts = {name: _insert_statement(name) for name in STAGING_TABLES}
    _prepare_stage(raw)

    def load(chunk: Path | None, rows: dict | None) -> None:
        if chunk is not None:  # a chunk as a SQLite file: load it as the staging schema
            raw.deserialize(chunk.read_bytes(), name=STAGE)
        else:
            for name, statement in inserts.items():
                if rows[name]:
                    raw.executemany(statement, rows[name])
        for statement in COPY_STATEMENTS:
            raw.execute(statement, offsets)
        if chunk is None:
            for name in STAGING_TABLES:
                raw.execute(f"DELETE FROM {STAGE}.{name}")  # noqa: S608 (our names)

    return run_stage(path, "sqlite", load, progress)


def stage_into(db, path: Path, progress: Callable[[int], None] | None = None,
               also: Callable[[Path | None, dict | None], None] | None = None,
               started: WaitingStage | None = None) -> Staged:
    """SQLite, without the live database: run the stage process on ``path`` and gather every
    chunk into the staging tables of ``db`` (a staging file's own connection, in a
    transaction), ids from zero. ``imports.plan`` copies them into the register at its apply
    with ``COPY_STATEMENTS`` (the file attached as ``STAGE``). ``also`` gets each chunk too,
    while the stage process reads on (``Plan.copy_chunk``: into the register, hidden); the
    staging file then keeps only the entrances (their addresses, for the geocoder): the rest
    of each chunk is in the register already and would be written there for nothing."""
    chunk_schema = "import_chunk"
    attached = {row[1] for row in db.execute("PRAGMA database_list")}
    if chunk_schema not in attached:
        db.execute(f"ATTACH DATABASE ':memory:' AS {chunk_schema}")
    for name, columns in STAGING_TABLES.items():
        db.execute(f"CREATE TABLE IF NOT EXISTS main.{name} ({columns})")
    marks = {name: ", ".join("?" * len(columns.split(",")))
             for name, columns in STAGING_TABLES.items()}

    kept = ("entrances",) if also is not None else tuple(STAGING_TABLES)

    def load(chunk: Path | None, rows: dict | None) -> None:
        if chunk is not None:  # a chunk as a SQLite file: loaded whole, then appended
            db.deserialize(chunk.read_bytes(), name=chunk_schema)
            for name in kept:
                columns = STAGING_TABLES[name]
                db.execute(f"INSERT INTO main.{name} ({columns}) "  # noqa: S608 (our names)
                           f"SELECT {columns} FROM {chunk_schema}.{name}")
        else:
            for name in kept:
                if rows[name]:
                    db.executemany(f"INSERT INTO main.{name} VALUES ({marks[name]})", rows[name])  # noqa: S608
        if also is not None:
            also(chunk, rows)

    return run_stage(path, "sqlite", load, progress, started=started)
