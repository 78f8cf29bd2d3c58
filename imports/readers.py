"""Reading a register file: CSV (UTF-8 with or without BOM, or Windows-1252; ``;``, ``,`` or
TAB) or XLSX (first sheet, streamed). Yields rows as lists of strings, with line numbers.

The encoding is decided by scanning the whole file once with an incremental UTF-8 decoder
(constant memory): a file that is valid UTF-8 throughout is UTF-8, anything else is
Windows-1252, which is what Excel on Swedish Windows writes.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from imports.rows import canonical_column

CHUNK = 1 << 20
DELIMITERS = (";", ",", "\t")


class StructureError(ValueError):
    """The file is not a table we can read: it is rejected whole."""


@dataclass
class Table:
    """An opened register: its kind, encoding and delimiter, header, and an iterator of rows.

    ``rows`` yields ``(line_number, values)``; ``position()`` tells how far into the file the
    reader is (bytes for CSV, rows for XLSX), for progress reporting against ``size``.
    """

    kind: str
    encoding: str | None
    delimiter: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    size: int
    position: callable
    close: callable = lambda: None  # releases the file even when the rows were never read
    path: Path | None = None


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` if the file starts with a BOM, ``utf-8`` if it all decodes, else cp1252."""
    with path.open("rb") as f:
        head = f.read(3)
        if head == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def detect_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line into the most columns."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise StructureError("the first row has no ';', ',' or TAB: not a table")
    return best


def _is_xlsx(path: Path) -> bool:
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _looks_binary(path: Path) -> bool:
    with path.open("rb") as f:
        sample = f.read(4096)
    return b"\x00" in sample


def open_table(path: Path) -> Table:
    """Open ``path`` as CSV or XLSX; raise StructureError if it is not a table."""
    size = path.stat().st_size
    if size == 0:
        raise StructureError("the file is empty")
    if _is_xlsx(path):
        return _open_xlsx(path, size)
    if _looks_binary(path):
        raise StructureError("the file is neither CSV nor XLSX")
    return _open_csv(path, size)


def _open_csv(path: Path, size: int) -> Table:
    encoding = detect_encoding(path)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    first = text.readline()
    while first and not first.strip():
        first = text.readline()
    if not first.strip():
        raw.close()
        raise StructureError("the file has no rows")
    try:
        delimiter = detect_delimiter(first)
    except StructureError:
        raw.close()
        raise
    header = next(csv.reader([first], delimiter=delimiter))
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for values in reader:
                # A blank line or a row of empty cells is no row (the first cell decides fast).
                if values and (values[0].strip() or any(v.strip() for v in values)):
                    # csv counts physical lines; +1 for the header we read ourselves.
                    yield reader.line_num + 1, values
        finally:
            raw.close()

    return Table("csv", encoding, delimiter, header, rows(), size, raw.tell, raw.close, path)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_xlsx(path: Path, size: int) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise StructureError(f"the XLSX file cannot be read: {exc}") from exc
    sheet = workbook.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    line = 0
    header = None
    for values in it:
        line += 1
        if values and any(v not in (None, "") for v in values):
            header = [_cell(v) for v in values]
            break
    if header is None:
        workbook.close()
        raise StructureError("the first sheet has no rows")
    total = max((sheet.max_row or 1) - line, 1)
    state = {"done": 0}
    # Excel turns a postnummer typed as a number into one: Finland's 00100 becomes 100. A
    # Swedish postnummer never starts with 0, so a short numeric cell can only have lost zeros.
    zip_at = next((i for i, h in enumerate(header) if canonical_column(h) == "postnummer"), None)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = line
        try:
            for values in it:
                number += 1
                state["done"] += 1
                if values and any(v not in (None, "") for v in values):
                    cells = [_cell(v) for v in values]
                    if zip_at is not None and zip_at < len(values) and isinstance(
                            values[zip_at], int | float) and len(cells[zip_at]) < 5:
                        cells[zip_at] = cells[zip_at].zfill(5)
                    yield number, cells
        finally:
            workbook.close()

    return Table("xlsx", None, None, header, rows(), total, lambda: state["done"],
                 workbook.close, path)
