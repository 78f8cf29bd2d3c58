"""A landlord's first register on SQLite: parse in a second process, write in this one.

When a landlord has nothing in the register yet, every valid row of its file is a new object
and applying the file needs no diff. The general path (``Applier._run_rows``) does every step
for every row on one core. Here the work is split in two, so that a million-row first import
uses both cores of a small machine:

* a **stage process** (``python -m imports.first FILE DIR``) reads and parses the file and
  lays each chunk out as the rows of the register's tables, with ids counted from zero (the
  choices the general path makes for new rows: the first row of an entrance makes it, its
  last coordinates and door code win, an agreement's first row names its tenants, a
  kundnummer is one person). A plain UTF-8 CSV file is parsed a column at a time with polars
  (``imports.columnar``) and each chunk is written to DIR as a small SQLite file; any other
  file (XLSX, quoted cells, Windows-1252, ...) row by row with the general path's
  ``RowParser``, each chunk marshalled. Chunks are announced in frames on its stdout;
* the **writer**, in the calling process, owns the session's connection and transaction. It
  loads each chunk into an attached in-memory staging schema (``deserialize`` of the SQLite
  file, or ``executemany`` of the marshalled rows) and copies it into the register with one
  ``INSERT ... SELECT`` per table, adding the id offsets and the landlord, inside SQLite.

Tests import the same files both ways (and by both stages) and compare every table.
Everything happens in the caller's SAVEPOINT, so the rejection rules, dry runs and the
import record work as for any import.
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imports.rows import Row, RowError, RowParser, convert_sweref, duplicate

CHUNK_ROWS = 20_000
STAGE = "import_stage"  # the attached in-memory schema of the staging tables

# The staging tables: the register's own rows, minus what the writer adds (landlord, times),
# with ids from zero. Columns are untyped, so values reach the register's columns exactly as
# the general path binds them, and the register's column affinities apply the same way.
STAGING_TABLES = {
    "properties": "id, designation",
    "entrances": "id, property_id, street, street_number, street_letter, postnummer, ort, "
                 "address_key, lat, lon, position_source, door_code",
    "objects": "id, entrance_id, objektsnummer, object_type, lagenhetsnummer, floor, rooms, "
               "area_m2, rent_sek, row_hash, agreement_id, agreement_new, avtalsnummer, "
               "starts_on",
    "people": "id, name, phone, email, kundnummer",
    "parties": "agreement_id, person_id, position",
}

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
    f"NULL, NULL, :t FROM {STAGE}.objects WHERE agreement_new",
    f"INSERT INTO main.people (id, landlord_id, name, phone, email, kundnummer, personnummer, "  # noqa: S608
    f"created_at, updated_at) SELECT id + :h, :l, name, phone, email, kundnummer, NULL, :t, :t "
    f"FROM {STAGE}.people",
    f"INSERT INTO main.agreement_objects (agreement_id, object_id, ends_on) "  # noqa: S608
    f"SELECT agreement_id + :a, id + :o, NULL FROM {STAGE}.objects "
    f"WHERE agreement_id IS NOT NULL",
    f"INSERT INTO main.agreement_parties (agreement_id, person_id, position) "  # noqa: S608
    f"SELECT agreement_id + :a, person_id + :h, position FROM {STAGE}.parties",
)


class StageFailed(RuntimeError):
    """The stage process stopped without finishing the file."""


@dataclass
class Staged:
    """What the stage process found in the whole file, sent after the last chunk."""

    rows_total: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # address_key → [local id, lat, lon, position_source, door_code, rows, changed since staged]
    entrances: dict[str, list] = field(default_factory=dict)
    # local person id → (name, phone, email): a tenant named again under the same kundnummer
    person_updates: dict[int, tuple] = field(default_factory=dict)
    columnar: bool = False  # parsed a column at a time (imports.columnar), not row by row


# -- the stage process -------------------------------------------------------------------------

class Stager:
    """Reads and parses the file and lays it out chunk by chunk as staging rows."""

    def __init__(self, rows: Iterator[tuple[int, list[str]]], parser: RowParser,
                 position: Callable[[], int], chunk_rows: int = CHUNK_ROWS):
        self.rows, self.parser, self.position = rows, parser, position
        self.chunk_rows = chunk_rows
        self.result = Staged()
        self.properties: dict[str, int] = {}
        self.agreements: dict[str, int] = {}
        self.people: dict[str, int] = {}
        self.next = {"properties": 0, "entrances": 0, "objects": 0, "agreements": 0,
                     "people": 0}

    def chunks(self) -> Iterator[tuple[dict[str, list], int | None]]:
        """Yield (staging rows by table, bytes read so far or None) per chunk; fill
        ``result`` after the last. Rows are checked as the general path checks them."""
        out, parser = self.result, self.parser
        clean, objektsnummer, digest, parse = (parser.clean, parser.objektsnummer,
                                               parser.digest, parser.parse)
        seen: dict[str, int] = {}
        chunk: list[Row] = []
        for line, values in self.rows:
            out.rows_total += 1
            values = clean(values)
            number = objektsnummer(values)
            first = seen.get(number)
            if first is not None:
                out.errors.append(duplicate(line, first))
                continue
            try:
                row = parse(line, values, digest(values))
            except RowError as exc:
                out.errors.append((line, exc.column, exc.reason))
                continue
            seen[number] = line
            chunk.append(row)
            if len(chunk) >= self.chunk_rows:
                yield self._stage(chunk), self.position()
                chunk = []
        if chunk:
            yield self._stage(chunk), None  # the file is read to its end (and closed)
        out.counts = dict(self.next)

    def _stage(self, rows: list[Row]) -> dict[str, list]:
        convert_sweref(rows, self.result.errors)
        rows = [row for row in rows if row.line > 0]  # not those convert_sweref dropped
        count = len(rows)
        keys = [row.address_key for row in rows]
        known = self.result.entrances  # address_key → [id, lat, lon, source, door, rows, changed]
        next_id = self.next

        # Entrances first seen in this chunk, made from their first row (as the general path).
        first_row = dict(zip(reversed(keys), reversed(rows), strict=True))
        new_entrances, properties = [], []
        for key in dict.fromkeys(keys):  # in order of first appearance
            if key in known:
                continue
            row = first_row[key]
            property_id = None
            if row.designation is not None:
                property_id = self.properties.get(row.designation)
                if property_id is None:
                    property_id = self.properties[row.designation] = next_id["properties"]
                    next_id["properties"] += 1
                    properties.append((property_id, row.designation))
            known[key] = [next_id["entrances"], row.lat, row.lon,
                          "file" if row.lat is not None else None, row.door_code, 0, False]
            next_id["entrances"] += 1
            new_entrances.append((key, property_id, row))
        # The last coordinates and the last door code of an entrance in the file win.
        points = {row.address_key: (row.lat, row.lon) for row in rows if row.lat is not None}
        for key, (lat, lon) in points.items():
            entrance = known[key]
            if entrance[1] != lat or entrance[2] != lon:
                entrance[1], entrance[2], entrance[3], entrance[6] = lat, lon, "file", True
        doors = {row.address_key: row.door_code for row in rows if row.door_code is not None}
        for key, door in doors.items():
            entrance = known[key]
            if entrance[4] != door:
                entrance[4], entrance[6] = door, True
        for key, number in Counter(keys).items():
            known[key][5] += number
        staged_entrances = []
        for key, property_id, row in new_entrances:
            entrance = known[key]
            staged_entrances.append((
                entrance[0], property_id, row.street, row.street_number, row.street_letter,
                row.postnummer, row.ort, key, entrance[1], entrance[2], entrance[3],
                entrance[4]))
            entrance[6] = False  # staged as it is now: later changes are updates

        # Agreements: none for a vacant object without one; an agreement on several objects
        # is made by its first row, which also names its tenants; a kundnummer is one person.
        first_object = next_id["objects"]
        next_id["objects"] += count
        objects, people, parties = [], [], []
        agreements, persons = self.agreements, self.people
        person_updates = self.result.person_updates
        for object_id, row in enumerate(rows, start=first_object):
            number, agreement_id, made = row.avtalsnummer, None, 0
            if row.tenants or number is not None:
                if number is not None:
                    agreement_id = agreements.get(number)
                if agreement_id is None:
                    agreement_id, made = next_id["agreements"], 1
                    next_id["agreements"] += 1
                    if number is not None:
                        agreements[number] = agreement_id
                    for position, tenant in enumerate(row.tenants, start=1):
                        kundnummer = row.kundnummer if position == 1 else None
                        person_id = persons.get(kundnummer) if kundnummer else None
                        if person_id is None:
                            person_id = next_id["people"]
                            next_id["people"] += 1
                            people.append((person_id, tenant.name, tenant.phone, tenant.email,
                                           kundnummer))
                            if kundnummer:
                                persons[kundnummer] = person_id
                        else:
                            person_updates[person_id] = (tenant.name, tenant.phone,
                                                         tenant.email)
                        parties.append((agreement_id, person_id, position))
            objects.append((object_id, known[row.address_key][0], row.objektsnummer,
                            row.object_type, row.lagenhetsnummer, row.floor, row.rooms,
                            row.area_m2, row.rent_sek, row.digest, agreement_id, made, number,
                            row.starts_on))
        return {"properties": properties, "entrances": staged_entrances, "objects": objects,
                "people": people, "parties": parties}


# The stage process talks to the writer over its stdout in frames: one byte of kind, eight of
# length, then the payload. A chunk is marshalled (tuples of str, int, float and None: the
# fastest way across for them); the final summary and a failure are pickled.
_FRAME = struct.Struct(">cQ")
CHUNK, FILE, DONE, FAILED = b"c", b"s", b"d", b"f"


def _send(out, kind: bytes, payload: bytes) -> None:
    out.write(_FRAME.pack(kind, len(payload)))
    out.write(payload)


def _receive(stream) -> tuple[bytes, bytes] | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    kind, size = _FRAME.unpack(head)
    payload = stream.read(size)
    return (kind, payload) if len(payload) == size else None


def _stage_columnar(table, directory: str, out) -> Staged:
    """The file a column at a time (imports.columnar): chunks as SQLite files in
    ``directory``, each named in a FILE frame. Raises NotColumnar before the first."""
    from imports.columnar import CHUNK_BYTES, ColumnarStage, check_file

    check_file(table)
    table.close()
    # DISPATCH_IMPORT_BLOCK_BYTES: smaller blocks, for tests of what spans blocks.
    block = int(os.environ.get("DISPATCH_IMPORT_BLOCK_BYTES") or CHUNK_BYTES)
    stage = ColumnarStage(table, RowParser(table.header, as_text=True), Path(directory),
                          chunk_bytes=block)
    for chunk, position in stage.chunks():
        _send(out, FILE, marshal.dumps((str(chunk), position)))
        out.flush()
    stage.result.columnar = True
    return stage.result


def stage_main(path: str, directory: str | None = None) -> int:
    """The stage process: parse ``path`` and send its chunks, then the summary, to stdout.

    With ``directory``, a file polars reads exactly as csv does is parsed a column at a time
    and its chunks are written there as SQLite files; any other file row by row."""
    from imports.readers import open_table

    gc.disable()  # short-lived, and its millions of small objects make no cycles
    out = sys.stdout.buffer
    try:
        result = None
        if directory is not None and os.environ.get("DISPATCH_IMPORT_COLUMNAR", "1") != "0":
            from imports.columnar import NotColumnar

            table = open_table(Path(path))
            try:
                result = _stage_columnar(table, directory, out)
            except NotColumnar:
                pass
            finally:
                table.close()
        if result is None:
            table = open_table(Path(path))
            try:
                stager = Stager(table.rows, RowParser(table.header, as_text=True),
                                table.position)
                for rows, position in stager.chunks():
                    _send(out, CHUNK, marshal.dumps((rows, position)))
                    out.flush()
            finally:
                table.close()
            result = stager.result
        _send(out, DONE, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # handed to the writer, which raises it
        try:
            payload = pickle.dumps(exc)
            pickle.loads(payload)  # noqa: S301 (some exceptions pickle but cannot load)
        except Exception:
            payload = pickle.dumps(StageFailed(f"{type(exc).__name__}: {exc}"))
        _send(out, FAILED, payload)
    out.flush()
    return 0


# -- the writer ----------------------------------------------------------------------------------

def _start_stage(path: Path, directory: str, stderr) -> subprocess.Popen:
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "imports.first", str(path), directory],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env,
        bufsize=1 << 20,
    )


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
    """Run the stage process on ``path`` and copy every chunk into the register.

    ``raw`` is the session's DB-API connection, inside the caller's transaction.
    """
    inserts = {name: _insert_statement(name) for name in STAGING_TABLES}
    _prepare_stage(raw)
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: it cannot fill up and block
    directory = tempfile.TemporaryDirectory(prefix="dispatch-import-")
    process = _start_stage(path, directory.name, stderr)
    try:
        while True:
            frame = _receive(process.stdout)
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
            if kind == FILE:  # a chunk as a SQLite file: load it as the staging schema
                chunk, position = marshal.loads(payload)  # noqa: S302 (our own child)
                chunk = Path(chunk)
                raw.deserialize(chunk.read_bytes(), name=STAGE)
                chunk.unlink()
            else:
                rows, position = marshal.loads(payload)  # noqa: S302 (our own child process)
                for name, statement in inserts.items():
                    if rows[name]:
                        raw.executemany(statement, rows[name])
            for statement in COPY_STATEMENTS:
                raw.execute(statement, offsets)
            if kind == CHUNK:
                for name in STAGING_TABLES:
                    raw.execute(f"DELETE FROM {STAGE}.{name}")  # noqa: S608 (our names)
            if progress is not None and position is not None:
                progress(position)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
        stderr.close()
        directory.cleanup()


if __name__ == "__main__":
    # Run as imports.first, not __main__, so that what it pickles names its real module.
    from imports import first

    sys.exit(first.stage_main(*sys.argv[1:3]))
