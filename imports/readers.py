"""Reading a register file: CSV (UTF-8 with or without BOM, or Windows-1252; ``;``, ``,`` or
TAB) or XLSX (first sheet, streamed). Yields rows as lists of strings, with line numbers.

The encoding is decided by scanning the whole file once with an incremental UTF-8 decoder
(constant memory): a file that is valid UTF-8 throughout is UTF-8, anything else is
Windows-1252, which is what Excel on Swedish Windows writes.

``open_table`` first checks the whole file against the ``Limits`` (``imports.limits``: before
any parser sees it, the staged first import's polars stage included), then the readers count
rows and cell lengths again as they stream: whatever the bytes, a reader raises StructureError
and nothing else, and holds no more than a bounded part of the file.
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

from imports.limits import (
    DEFAULT_LIMITS,
    MAX_COLUMNS,
    Limits,
    StructureError,
    _,
    cell_too_long,
    check_file,
    current_limits,
    line_too_long,
    too_many_rows,
)
from imports.rows import canonical_column

__all__ = ["DEFAULT_LIMITS", "Limits", "StructureError", "Table", "open_table"]

CHUNK = 1 << 20
DELIMITERS = (";", ",", "\t")


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


def is_xlsx(path: Path) -> bool:
    """Whether ``path`` is a zip holding a workbook (else it is read as CSV)."""
    with path.open("rb") as f:
        if f.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return False


def _looks_binary(path: Path) -> bool:
    with path.open("rb") as f:
        sample = f.read(4096)
    return b"\x00" in sample


def open_table(path: Path, limits: Limits | None = None) -> Table:
    """Open ``path`` as CSV or XLSX; raise StructureError if it is not a table, or breaks a
    limit (``limits``, else the app's settings): the whole file is checked first, then the
    rows again as they are read."""
    size = path.stat().st_size
    if size == 0:
        raise StructureError("the file is empty")
    limits = limits or current_limits()
    check_file(path, limits)
    if is_xlsx(path):
        return _open_xlsx(path, size, limits)
    if _looks_binary(path):
        raise StructureError("the file is neither CSV nor XLSX")
    return _open_csv(path, size, limits)


def not_text() -> StructureError:
    return StructureError(_("The file is neither UTF-8 nor Windows-1252 text."))


def _open_csv(path: Path, size: int, limits: Limits) -> Table:
    encoding = detect_encoding(path)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    line = 0
    try:
        first = ""
        while not first.strip():
            # Bounded: a file of one endless line must not be read whole into memory.
            first = text.readline(limits.line_bytes + 1)
            line += 1
            if len(first) > limits.line_bytes:
                raise line_too_long(line, limits)
            if not first:
                raise StructureError("the file has no rows")
        delimiter = detect_delimiter(first)
    except UnicodeDecodeError:
        raw.close()
        raise not_text() from None
    except StructureError:
        raw.close()
        raise
    header = next(csv.reader([first], delimiter=delimiter))
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        count = 0
        try:
            for values in reader:
                # A blank line or a row of empty cells is no row (the first cell decides fast).
                if values and (values[0].strip() or any(v.strip() for v in values)):
                    count += 1
                    if count > limits.rows:
                        raise too_many_rows(limits)
                    # csv counts physical lines; +1 for the header we read ourselves.
                    yield reader.line_num + 1, values
        except UnicodeDecodeError:
            raise not_text() from None
        except csv.Error as exc:  # a field over csv's own limit, a stray quote ...
            raise StructureError(_("Line %(line)s cannot be read as CSV.",
                                   line=reader.line_num + line)) from exc
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


def _unreadable(exc: Exception) -> StructureError:
    return StructureError(f"the XLSX file cannot be read: {exc}"[:500])


def _open_xlsx(path: Path, size: int, limits: Limits) -> Table:
    from openpyxl import load_workbook

    # Our own file object: openpyxl leaves its own open when a broken file makes it raise.
    source = path.open("rb")

    def close() -> None:
        workbook.close()
        source.close()

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        source.close()
        raise _unreadable(exc) from exc
    try:
        return _xlsx_table(workbook, close, path, limits)
    except StructureError:
        close()
        raise
    except Exception as exc:
        close()
        raise _unreadable(exc) from exc


def _xlsx_table(workbook, close, path: Path, limits: Limits) -> Table:
    if not workbook.worksheets:
        raise StructureError("the first sheet has no rows")
    sheet = workbook.worksheets[0]
    declared_rows = sheet.max_row or 1
    # The sheet's declared size (<dimension>) is the file's word: rows are not padded to it.
    sheet.reset_dimensions()
    it = sheet.iter_rows(values_only=True)
    line = 0
    header = None
    for values in it:
        line += 1
        if line > limits.rows:
            raise too_many_rows(limits)
        if values and any(v not in (None, "") for v in values):
            header = [_cell(v) for v in values]
            break
    it.close()
    if header is None:
        raise StructureError("the first sheet has no rows")
    while header and not header[-1].strip():
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise StructureError(_("The first row has more than %(limit)s columns: not a register.",
                               limit=MAX_COLUMNS))
    if any(len(h) > limits.cell_chars for h in header):
        raise cell_too_long(line, limits)
    width = len(header)
    it = sheet.iter_rows(min_row=line + 1, max_col=width, values_only=True)
    total = min(max(declared_rows - line, 1), limits.rows)
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
                if state["done"] > limits.rows:
                    raise too_many_rows(limits)
                if values and any(v not in (None, "") for v in values):
                    cells = [_cell(v) for v in values]
                    if max(map(len, cells)) > limits.cell_chars:
                        raise cell_too_long(number, limits)
                    if zip_at is not None and zip_at < len(values) and isinstance(
                            values[zip_at], int | float) and len(cells[zip_at]) < 5:
                        cells[zip_at] = cells[zip_at].zfill(5)
                    yield number, cells
        except StructureError:
            raise
        except Exception as exc:  # openpyxl meets a broken sheet only as it streams it
            raise _unreadable(exc) from exc
        finally:
            close()

    return Table("xlsx", None, None, header, rows(), total, lambda: state["done"],
                 close, path)
