"""The stage process (``python -m imports.first FILE DIR [OUTPUT]``): reads and parses a first
register's file and sends it to the writer chunk by chunk, laid out as the staging tables.

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
from imports.first.staging import CHUNK, DONE, FAILED, FILE, Staged, StageFailed, send_frame
from imports.readers import open_table
from imports.rows import Row, RowError, RowParser, convert_sweref, duplicate

CHUNK_ROWS = 20_000


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


def _stage_columnar(path: Path, directory: str, out, output: str) -> Staged:
    """The file a column at a time (imports.first.columnar): chunks as SQLite files or Arrow
    folders (``output``) in ``directory``, each named in a FILE frame. Raises NotColumnar
    before the first. (The writer checked the file against the limits before it started this
    process: ``open_plain`` reads only the header, ``check_file`` the rest once.)"""
    table = open_plain(path)
    check_file(table)
    # DISPATCH_IMPORT_BLOCK_BYTES: smaller blocks, for tests of what spans blocks.
    block = int(os.environ.get("DISPATCH_IMPORT_BLOCK_BYTES") or CHUNK_BYTES)
    stage = ColumnarStage(table, RowParser(table.header, as_text=True), Path(directory),
                          chunk_bytes=block, output=output)
    for chunk, position in stage.chunks():
        send_frame(out, FILE, marshal.dumps((str(chunk), position)))
        out.flush()
    stage.result.columnar = True
    return stage.result


def stage_main(path: str, directory: str | None = None, output: str = "sqlite") -> int:
    """The stage process: parse ``path`` and send its chunks, then the summary, to stdout.

    With ``directory``, a file polars reads exactly as csv does is parsed a column at a time
    and its chunks are written there as ``output`` (``staging.OUTPUTS``); any other file row
    by row."""
    gc.disable()  # short-lived, and its millions of small objects make no cycles
    out = sys.stdout.buffer
    try:
        result = None
        if directory is not None and os.environ.get("DISPATCH_IMPORT_COLUMNAR", "1") != "0":
            try:
                result = _stage_columnar(Path(path), directory, out, output)
            except NotColumnar:
                pass
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
