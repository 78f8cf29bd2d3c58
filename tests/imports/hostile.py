"""Hostile register files (issue 14, findings 3 and 9), written as streams so that even the
full-size ones cost no memory to make: the tests use them small (with small limits), and
``bench/hostile_files.py`` full size.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

HEADER = ["objektsnummer", "gatuadress", "postnummer", "ort"]
SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               b"<sheetData>")
SHEET_END = b"</sheetData></worksheet>"


def _cell(column: str, row: int, text: str) -> bytes:
    return f'<c r="{column}{row}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _header_row() -> bytes:
    cells = b"".join(_cell(chr(65 + i), 1, name) for i, name in enumerate(HEADER))
    return b'<row r="1">' + cells + b"</row>"


def _row(n: int, street: str | None = None) -> bytes:
    values = [f"A-{n}", street or f"Götgatan {n}", "118 46", "Stockholm"]
    cells = b"".join(_cell(chr(65 + i), n, v) for i, v in enumerate(values))
    return f'<row r="{n}">'.encode() + cells + b"</row>"


def xlsx_with_sheet(path: Path, write_sheet) -> Path:
    """An XLSX whose first sheet's XML ``write_sheet(stream)`` writes (the other parts from
    openpyxl)."""
    template = io.BytesIO()
    workbook = Workbook()
    workbook.active.append(HEADER)
    workbook.save(template)
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for part in source.infolist():
            if part.filename == SHEET:
                with target.open(SHEET, "w", force_zip64=True) as stream:
                    write_sheet(stream)
            else:
                target.writestr(part, source.read(part))
    return path


def xlsx_one_big_cell(path: Path, chars: int) -> Path:
    """Finding 3: one cell of ``chars`` characters (512 MiB packs into about 523 KB)."""
    def write(stream):
        stream.write(SHEET_START + _header_row() + b'<row r="2"><c r="A2" t="inlineStr"><is><t>')
        block = b"A" * (1 << 20)
        left = chars
        while left > 0:
            stream.write(block[:min(left, len(block))])
            left -= len(block)
        stream.write(b"</t></is></c></row>" + SHEET_END)
    return xlsx_with_sheet(path, write)


def xlsx_many_rows(path: Path, rows: int) -> Path:
    """Finding 3: ``rows`` small rows (5,000,000 pack into a few MB)."""
    def write(stream):
        stream.write(SHEET_START + _header_row())
        batch = []
        for n in range(2, rows + 2):
            batch.append(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>'.encode())
            if len(batch) == 10_000:
                stream.write(b"".join(batch))
                batch.clear()
        stream.write(b"".join(batch) + SHEET_END)
    return xlsx_with_sheet(path, write)


def xlsx_rows(path: Path, rows: int, street: str | None = None) -> Path:
    """A valid register of ``rows`` rows as XLSX (``street``: the last row's)."""
    def write(stream):
        stream.write(SHEET_START + _header_row())
        for n in range(2, rows + 2):
            stream.write(_row(n, street if n == rows + 1 else None))
        stream.write(SHEET_END)
    return xlsx_with_sheet(path, write)


def xlsx_lying_directory(path: Path, rows: int = 50) -> Path:
    """A valid XLSX whose zip directory says the sheet unpacks to far less than it does."""
    xlsx_rows(path, rows)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(SHEET)
    name = SHEET.encode()
    # The central directory entry: signature, then the name at offset 46.
    at = data.find(b"PK\x01\x02")
    while data[at + 46:at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 4)
    small = (100).to_bytes(4, "little")
    if info.file_size < 0xFFFFFFFF:
        data[at + 24:at + 28] = small  # uncompressed size
    path.write_bytes(bytes(data))
    return path


def csv_one_line(path: Path, size: int) -> Path:
    """Finding 3: one line of ``size`` bytes (200 MB took 1.7 GB and a traceback)."""
    with path.open("wb") as f:
        f.write(b"objektsnummer;gatuadress;postnummer;ort;")
        block = b"x;" * (1 << 19)
        left = size
        while left > 0:
            f.write(block[:min(left, len(block))])
            left -= len(block)
    return path


def csv_rows(rows: int, street_at: dict[int, str] | None = None) -> bytes:
    """A valid register of ``rows`` rows as UTF-8 CSV; ``street_at`` overrides streets."""
    street_at = street_at or {}
    lines = ["objektsnummer;gatuadress;postnummer;ort;lat;lon"]
    for n in range(1, rows + 1):
        street = street_at.get(n, f"Götgatan {n}")
        lines.append(f"A-{n};{street};118 46;Stockholm;59.{3100 + n % 100};18.0713")
    return ("\n".join(lines) + "\n").encode()


def csv_nul_late(path: Path, past: int = 300_000) -> Path:
    """Finding 9: a NUL inside a street, past the first ``past`` bytes."""
    rows = past // 50 + 100
    path.write_bytes(csv_rows(rows, {rows - 5: "\0\0Götgatan 6"}))
    assert path.read_bytes().index(b"\0") > past
    return path
