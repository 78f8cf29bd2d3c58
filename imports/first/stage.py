"""The stage process (``python -m imports.first FILE DIR [OUTPUT [wait]]``): reads and parses a
first register's file and sends it to the writer chunk by chunk, laid out as the staging tables
(with ``wait``, started early: it checks the file and waits for the writer's ``GO`` first).

A plain UTF-8 CSV file is parsed a column at a time (``imports.first.columnar``), each chunk
written to DIR as a small SQLite file (OUTPUT ``sqlite``, the default: the writer on SQLite
loads it whole) or as a folder of Arrow IPC files, one per staging table (``arrow``: the writer
on PostgreSQL reads them with polars), and named in a FILE frame; any other file (XLSX, quoted
cells, Windows-1252, ...) row by row here with the general path's ``RowParser``
(``Stager``), each chunk marshalled in a CHUNK frame. Then the ``Staged`` summary (DONE), or
the exception that stopped it (FAILED).
"""

from __future__ import annotations

import gc
import marshal
import os
import pickle
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from imports.first.columnar import (
    CHUNK_BYTES,
    ColumnarStage,
    NotColumnar,
    check_file,
    open_plain,
)
from imports.first.staging import (
    CHUNK,
    DONE,
    FAILED,
    FILE,
    GO,
    Staged,
    StageFailed,
    send_frame,
)
from imports.limits import current_limits
from imports.readers import Table, open_table
from imports.rows import Row, RowError, RowParser, convert_sweref, duplicate

CHUNK_ROWS = 20_000
# PostgreSQL's writer (OUTPUT arrow) holds up to three chunks at once, as frames and as their
# binary COPY data: 8 MB blocks keep it and this process within 1 GiB at 1,000,000 rows
# (bench/README.md, "Register importer on PostgreSQL"), for the same CPU seconds.
ARROW_CHUNK_BYTES = 8 << 20


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
                                           kundnummer, tenant.personnummer))
                            if kundnummer:
                                persons[kundnummer] = person_id
                        else:
                            person_updates[person_id] = (tenant.name, tenant.phone,
                                                         tenant.email, tenant.personnummer)
                        parties.append((agreement_id, person_id, position))
            objects.append((object_id, known[row.address_key][0], row.objektsnummer,
                            row.object_type, row.lagenhetsnummer, row.floor, row.rooms,
                            row.area_m2, row.rent_sek, row.digest, agreement_id, made, number,
                            row.starts_on, row.ends_on))
        return {"properties": properties, "entrances": staged_entrances, "objects": objects,
                "people": people, "parties": parties}


def _open_columnar(path: Path) -> Table:
    """``path`` opened for the column stage (``open_plain`` reads the header, ``check_file``
    the rest once); NotColumnar if it is not for it. The writer checks the file against the
    limits itself, before or while this runs (``WaitingStage``): here they only bound the
    check's own work, a file past them is left to the row stage, which refuses it."""
    limits = current_limits()
    table = open_plain(path, limits.line_bytes)
    check_file(table, limits)
    return table


def _stage_columnar(table: Table, directory: str, out, output: str) -> Staged:
    """The file a column at a time (imports.first.columnar), opened by ``_open_columnar``:
    chunks as SQLite files or Arrow folders (``output``) in ``directory``, each named in a
    FILE frame."""
    # DISPATCH_IMPORT_BLOCK_BYTES: smaller blocks, for tests of what spans blocks.
    block = int(os.environ.get("DISPATCH_IMPORT_BLOCK_BYTES")
                or (ARROW_CHUNK_BYTES if output == "arrow" else CHUNK_BYTES))
    stage = ColumnarStage(table, RowParser(table.header, as_text=True), Path(directory),
                          chunk_bytes=block, output=output)
    for chunk, position in stage.chunks():
        send_frame(out, FILE, marshal.dumps((str(chunk), position)))
        out.flush()
    stage.result.columnar = True
    return stage.result


def _ready() -> None:
    """Import what the column stage's chunks need, while waiting for ``GO`` anyway."""
    import adbc_driver_sqlite.dbapi  # noqa: F401
    import polars  # noqa: F401


def stage_main(path: str, directory: str | None = None, output: str = "sqlite",
               wait: str | None = None) -> int:
    """The stage process: parse ``path`` and send its chunks, then the summary, to stdout.

    With ``directory``, a file polars reads exactly as csv does is parsed a column at a time
    and its chunks are written there as ``output`` (``staging.OUTPUTS``); any other file row
    by row. With ``wait`` (``writer.WaitingStage``), it opens and checks the file for the
    column stage, then reads ``GO`` from stdin before it parses (and ends without a frame if
    its stdin closes first)."""
    gc.disable()  # short-lived, and its millions of small objects make no cycles
    out = sys.stdout.buffer
    try:
        result = table = failed = None
        if directory is not None and os.environ.get("DISPATCH_IMPORT_COLUMNAR", "1") != "0":
            try:
                table = _open_columnar(Path(path))
                if wait:
                    _ready()
            except NotColumnar:
                pass
            except Exception as exc:  # told after GO, as it would have been without waiting
                failed = exc
        if wait and sys.stdin.buffer.read(len(GO)) != GO:
            return 0  # not needed: the writer took another way
        if failed is not None:
            raise failed
        if table is not None:
            result = _stage_columnar(table, directory, out, output)
        if result is None:
            table = open_table(Path(path))
            try:
                stager = Stager(table.rows, RowParser(table.header, as_text=True),
                                table.position)
                for rows, position in stager.chunks():
                    send_frame(out, CHUNK, marshal.dumps((rows, position)))
                    out.flush()
            finally:
                table.close()
            result = stager.result
        send_frame(out, DONE, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:  # handed to the writer, which raises it
        try:
            payload = pickle.dumps(exc)
            pickle.loads(payload)  # noqa: S301 (some exceptions pickle but cannot load)
        except Exception:
            payload = pickle.dumps(StageFailed(f"{type(exc).__name__}: {exc}"))
        send_frame(out, FAILED, payload)
    out.flush()
    return 0
