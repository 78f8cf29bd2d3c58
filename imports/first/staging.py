"""A landlord's first register: parse in a second process, write in this one. This module is
what the two share: the staging tables, the ``Staged`` summary and the frames.

When a landlord has nothing in the register yet, every valid row of its file is a new object
and applying the file needs no diff. The general path (``Applier._run_rows``) does every step
for every row on one core. Here the work is split in two, so that a million-row first import
uses both cores of a small machine:

* a **stage process** (``python -m imports.first FILE DIR OUTPUT``,
  ``imports.first.stage``) reads and parses the file and lays each chunk out as the rows of
  the register's tables, with ids counted from zero (the choices the general path makes for
  new rows: the first row of an entrance makes it, its last coordinates and door code win,
  an agreement's first row names its tenants, a kundnummer is one person). A plain UTF-8
  CSV file is parsed a column at a time with polars (``imports.first.columnar``) and each
  chunk is written to DIR as a small SQLite file (or, for PostgreSQL, a folder of Arrow
  files); any other file (XLSX, quoted cells, Windows-1252, ...) row by row with the
  general path's ``RowParser``, each chunk marshalled. Chunks are announced in frames on
  its stdout;
* the **writer** (``imports.first.writer``), in the calling process, owns the session's
  connection and transaction. It loads each chunk into an attached in-memory staging schema
  (``deserialize`` of the SQLite file, or ``executemany`` of the marshalled rows) and copies
  it into the register with one ``INSERT ... SELECT`` per table, adding the id offsets and
  the landlord, inside SQLite. On PostgreSQL (``imports.first.postgres``) it maps the stage's
  numbers to ids drawn from the sequences and COPYs each table of the chunk.

Tests import the same files both ways (and by both stages) and compare every table.
On PostgreSQL everything happens in the caller's SAVEPOINT; on SQLite the chunks go into the
import's plan (``imports.plan``: a staging file, copied into the register once the whole file
has passed), so the rejection rules, dry runs and the import record work as for any import.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# The staging tables: the register's own rows, minus what the writer adds (landlord, times),
# with ids from zero. Columns are untyped, so values reach the register's columns exactly as
# the general path binds them, and the register's column affinities apply the same way.
STAGING_TABLES = {
    "properties": "id, designation",
    "entrances": "id, property_id, street, street_number, street_letter, postnummer, ort, "
                 "address_key, lat, lon, position_source, door_code",
    "objects": "id, entrance_id, objektsnummer, object_type, lagenhetsnummer, floor, rooms, "
               "area_m2, rent_sek, row_hash, agreement_id, agreement_new, avtalsnummer, "
               "starts_on, ends_on",
    "people": "id, name, phone, email, kundnummer, personnummer",
    "parties": "agreement_id, person_id, position",
}


# How a column stage hands over a chunk: a SQLite file with the staging tables (the writer on
# SQLite deserializes it) or a folder of Arrow IPC files, one per table (the writer on
# PostgreSQL reads them with polars and COPYs them).
OUTPUTS = ("sqlite", "arrow")

# The staging tables' columns as polars types: the column stage makes its frames so, and the
# writer on PostgreSQL makes a row stage's chunk into frames of the same types.
STAGING_TYPES = {
    "properties": {"id": "Int64", "designation": "String"},
    "entrances": {
        "id": "Int64", "property_id": "Int64", "street": "String", "street_number": "Int64",
        "street_letter": "String", "postnummer": "String", "ort": "String",
        "address_key": "String", "lat": "Float64", "lon": "Float64",
        "position_source": "String", "door_code": "String"},
    "objects": {
        "id": "Int64", "entrance_id": "Int64", "objektsnummer": "String",
        "object_type": "String", "lagenhetsnummer": "String", "floor": "Int64",
        "rooms": "String", "area_m2": "String", "rent_sek": "String", "row_hash": "String",
        "agreement_id": "Int64", "agreement_new": "Int64", "avtalsnummer": "String",
        "starts_on": "String", "ends_on": "String"},
    "people": {"id": "Int64", "name": "String", "phone": "String", "email": "String",
               "kundnummer": "String", "personnummer": "String"},
    "parties": {"agreement_id": "Int64", "person_id": "Int64", "position": "Int64"},
}


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
    # local person id → (name, phone, email, personnummer): a tenant named again under the
    # same kundnummer
    person_updates: dict[int, tuple] = field(default_factory=dict)
    columnar: bool = False  # parsed a column at a time (imports.first.columnar), not row by row


# The stage process talks to the writer over its stdout in frames: one byte of kind, eight of
# length, then the payload. A chunk is marshalled (tuples of str, int, float and None: the
# fastest way across for them); the final summary and a failure are pickled.
_FRAME = struct.Struct(">cQ")
CHUNK, FILE, DONE, FAILED = b"c", b"s", b"d", b"f"
# What a stage process started to wait (``writer.WaitingStage``) reads on its stdin before it
# parses the file; its stdin closed without it, it ends.
GO = b"g"


def send_frame(out, kind: bytes, payload: bytes) -> None:
    out.write(_FRAME.pack(kind, len(payload)))
    out.write(payload)


def receive_frame(stream) -> tuple[bytes, bytes] | None:
    """The next frame, or None when the stream ends before a whole one."""
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    kind, size = _FRAME.unpack(head)
    payload = stream.read(size)
    return (kind, payload) if len(payload) == size else None
