"""Limits on a register file, and the check of a whole file against them before any parser
(csv, openpyxl, polars in the staged first import) sees it.

A hostile file must cost neither memory nor hours: one cell of 512 MiB packed into 523 KB of
XLSX, five million rows, a CSV of one 200 MB line, NUL bytes deep in the file (issue 14).
``check_file`` reads the file once, a block at a time (constant memory), and refuses it with
a StructureError that says which limit (in English, translated where it is shown:
``imports.messages``):

- CSV: no NUL byte anywhere, no line longer than ``line_bytes``, at most ``rows`` lines.
- XLSX: first the zip's directory (how many parts; each part's unpacked size and how tightly
  it is packed; parts openpyxl holds whole, such as the shared strings, at most
  ``xlsx_parts_bytes``), then every XML part unpacked as a stream, counting the bytes it
  really holds (a directory may lie), at most ``rows`` rows and row numbers per sheet, no
  shared string, text or tag longer than ``token_bytes`` (the XML parser would hold it
  whole), no DTD.

The readers (``imports.readers``) count rows and cell lengths again as they stream.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields
from pathlib import Path

from flask import current_app, has_app_context

from dispatch.core.settings import env_int

CHUNK = 1 << 20
MAX_COLUMNS = 1000  # a register has about 30; more is not a register (and costs per row)
MAX_PARTS = 10_000  # parts in one XLSX; Excel writes about ten
SMALL_PART = 1 << 20  # parts smaller than this may pack as tightly as they like
XML_SUFFIXES = (".xml", ".rels", ".vml")


def _(message: str, **values) -> str:
    """``message`` with its values, in English: an import's messages are kept so and
    translated where they are shown (``imports.messages.localise``; the stage process that
    makes many of them has no app and no user)."""
    return message % values if values else message


class StructureError(ValueError):
    """The file is not a table we can read: it is rejected whole. ``code`` says why
    (``structure``, ``too_large``, ``nul_byte``): the import summary's ``reason``."""

    def __init__(self, message: str, code: str = "structure"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Limits:
    """What a register file may hold (settings ``IMPORT_MAX_*``, dispatch/core/settings.py).

    The defaults let through twice the largest register register-format.md expects.
    """

    rows: int = 2_000_000
    cell_chars: int = 32_767  # Excel's own limit for one cell
    line_bytes: int = 1 << 20  # one CSV line
    xlsx_bytes: int = 4 << 30  # an XLSX unpacked (openpyxl writes ~1.2 KB a register row)
    xlsx_parts_bytes: int = 256 << 20  # one part openpyxl holds whole (shared strings ...)
    xlsx_ratio: int = 100  # unpacked / packed, one part; registers pack about 10 times

    @property
    def token_bytes(self) -> int:
        """The longest text or tag in an XLSX part: a cell at its limit, escaped, fits."""
        return max(1 << 20, 8 * self.cell_chars)


DEFAULT_LIMITS = Limits()
SETTINGS = {"rows": "IMPORT_MAX_ROWS", "cell_chars": "IMPORT_MAX_CELL_CHARS",
            "line_bytes": "IMPORT_MAX_LINE_BYTES", "xlsx_bytes": "IMPORT_MAX_XLSX_BYTES",
            "xlsx_parts_bytes": "IMPORT_MAX_XLSX_PART_BYTES",
            "xlsx_ratio": "IMPORT_MAX_XLSX_RATIO"}


def current_limits() -> Limits:
    """The app's settings; outside an app (the staged first import's stage process) the same
    settings from the environment it inherits."""
    if has_app_context():
        config = current_app.config
        return Limits(**{f.name: int(config.get(SETTINGS[f.name],
                                                getattr(DEFAULT_LIMITS, f.name)))
                         for f in fields(Limits)})
    return Limits(**{f.name: env_int(SETTINGS[f.name], getattr(DEFAULT_LIMITS, f.name))
                     for f in fields(Limits)})


def _mb(size: int) -> str:
    return f"{size / (1 << 20):g}"


def too_large(text: str) -> StructureError:
    return StructureError(text, "too_large")


def too_many_rows(limits: Limits) -> StructureError:
    return too_large(_("The file has more than %(limit)s rows.", limit=limits.rows))


def cell_too_long(line: int, limits: Limits) -> StructureError:
    return too_large(_("A cell on row %(line)s is longer than %(limit)s characters.",
                       line=line, limit=limits.cell_chars))


def line_too_long(line: int, limits: Limits) -> StructureError:
    return too_large(_("Line %(line)s is longer than %(limit)s bytes: not a register file.",
                       line=line, limit=limits.line_bytes))


def damaged() -> StructureError:
    return StructureError(_("The XLSX file is damaged and cannot be read."))


def check_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Read ``path`` once; raise StructureError if it breaks a limit."""
    with path.open("rb") as f:
        zipped = f.read(4) == b"PK\x03\x04"
    if zipped:
        _check_xlsx(path, limits)
    else:
        _check_csv(path, limits)


# -- CSV --------------------------------------------------------------------------------
def _check_csv(path: Path, limits: Limits) -> None:
    lines = 0  # lines ended before this block
    run = 0  # bytes of the line not ended yet
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            nul = block.find(b"\0")
            if nul >= 0:
                raise StructureError(
                    _("The file holds a NUL byte (line %(line)s): not a text file.",
                      line=lines + block.count(b"\n", 0, nul) + 1), "nul_byte")
            pieces = block.splitlines()  # on \n, \r and \r\n: what csv calls a line end
            lengths = [len(p) for p in pieces]
            lengths[0] += run
            if max(lengths) > limits.line_bytes:
                at = next(i for i, n in enumerate(lengths) if n > limits.line_bytes)
                raise line_too_long(lines + at + 1, limits)
            ended = block[-1] in b"\r\n"
            lines += len(pieces) if ended else len(pieces) - 1
            run = 0 if ended else lengths[-1]
            if lines > limits.rows + 1:  # + the header
                raise too_many_rows(limits)


# -- XLSX -------------------------------------------------------------------------------
# A row's start tag with any namespace prefix (<row r="7">, <x:row>), not <rowBreaks>.
ROW = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?row(?=[\s/>])([^>]*)>")
ROW_NUMBER = re.compile(rb"""\br\s*=\s*["']\s*(\d{1,12})""")
SHARED_STRING = re.compile(rb"<(/?)(?:[A-Za-z_][\w.\-]*:)?si(?=[\s/>])")
DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)")


def _check_xlsx(path: Path, limits: Limits) -> None:
    _check_directory_size(path)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if sum(p.file_size for p in parts) > limits.xlsx_bytes:
                raise _unpacks_to_more(limits.xlsx_bytes)
            for part in parts:
                _check_declared(part, limits)
            budget = [limits.xlsx_bytes]
            for part in parts:
                if part.filename.lower().endswith(XML_SUFFIXES):
                    _scan_part(archive, part, limits, budget)
    except StructureError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
            NotImplementedError, ValueError, struct.error) as exc:
        raise damaged() from exc


def _check_directory_size(path: Path) -> None:
    """Before zipfile reads the directory into memory: how many parts it lists."""
    try:
        with path.open("rb") as f:
            end = zipfile._EndRecData(f)  # the end record, ZIP64 too (no public API for it)
    except (OSError, struct.error, ValueError) as exc:
        raise damaged() from exc
    if end is None:
        raise damaged()
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_PARTS or size > MAX_PARTS * 1024:
        raise too_large(_("The XLSX file has more than %(limit)s parts.", limit=MAX_PARTS))


def _unpacks_to_more(limit: int) -> StructureError:
    return too_large(_("The XLSX file unpacks to more than %(limit)s MB.", limit=_mb(limit)))


def _whole_in_memory(name: str) -> bool:
    """Parts openpyxl reads whole (all but the sheets, which it streams)."""
    return not name.startswith("xl/worksheets/")


def _check_declared(part: zipfile.ZipInfo, limits: Limits) -> None:
    if _whole_in_memory(part.filename) and part.file_size > limits.xlsx_parts_bytes:
        raise _unpacks_to_more(limits.xlsx_parts_bytes)
    if part.file_size > SMALL_PART and part.file_size > limits.xlsx_ratio * max(
            part.compress_size, 1):
        raise too_large(_("The XLSX file is packed more than %(limit)s times tighter than a "
                          "spreadsheet can be: refused as a zip bomb.", limit=limits.xlsx_ratio))


def _scan_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: Limits,
               budget: list[int]) -> None:
    """Stream one XML part: its real size, rows, shared strings, the longest text or tag."""
    sheet = part.filename.startswith("xl/worksheets/")
    shared = part.filename.lower().endswith("sharedstrings.xml")
    most = limits.xlsx_parts_bytes if _whole_in_memory(part.filename) else limits.xlsx_bytes
    counted = rows = 0
    carry = b""  # from the last '<' of what was read: a tag or text not ended yet
    offset = 0  # where ``carry`` starts in the part
    open_si = None  # where the shared string being read started
    with archive.open(part) as stream:
        while block := stream.read(CHUNK):
            counted += len(block)
            budget[0] -= len(block)
            if counted > most or counted > part.file_size or budget[0] < 0:
                raise _unpacks_to_more(min(most, limits.xlsx_bytes))
            data = carry + block if carry else block
            cut = data.rfind(b"<")
            if cut <= 0:
                cut = 0
            scan, carry = data[:cut], data[cut:]
            if len(carry) > limits.token_bytes:
                raise too_large(_("The XLSX file holds a text or tag longer than %(limit)s "
                                  "bytes.", limit=limits.token_bytes))
            if DTD.search(scan):
                raise damaged()
            if sheet:
                for match in ROW.finditer(scan):
                    rows += 1
                    number = ROW_NUMBER.search(match.group(1))
                    if rows > limits.rows + 1 or (
                            number and int(number.group(1)) > limits.rows + 1):
                        raise too_many_rows(limits)
            if shared:
                for match in SHARED_STRING.finditer(scan):
                    if match.group(1):  # </si>
                        open_si = None
                    elif not scan[match.end():match.end() + 2].startswith(b"/"):
                        open_si = offset + match.start()
                if open_si is not None and offset + len(scan) - open_si > limits.token_bytes:
                    raise too_large(_("The XLSX file holds a text or tag longer than %(limit)s "
                                    "bytes.", limit=limits.token_bytes))
            offset += len(scan)
    if DTD.search(carry):
        raise damaged()
