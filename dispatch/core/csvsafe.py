"""CSV files that people open in a spreadsheet (the reports' export, an import's error
report): a text cell that starts like a formula is written as text.

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)`` leaks the sheet, ``+cmd|...`` runs a program), and treat a leading TAB or
CR the same way; what a patrol or a register file wrote must never do that. The OWASP rule:
such a cell gets a leading apostrophe, which the spreadsheet shows as text. A number is
written as it is, negative or not, and so is text that is nothing but a number (``-12``,
``+3,5``): it cannot run as a formula, and a figure read back from a stored CSV stays a figure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet may read it: text that starts like a formula (and is not
    just a number) gets ``'``."""
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose every cell goes through ``safe_cell``."""

    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **options) -> SafeWriter:
    """A CSV writer (same options as ``csv.writer``) that writes formula-like text as text."""
    return SafeWriter(out, **options)


def made_safe(text: str, delimiter: str = ",", lineterminator: str = "\r\n") -> str:
    """A CSV document already written (and stored) without the rule, rewritten with it."""
    out = io.StringIO()
    writer(out, delimiter=delimiter, lineterminator=lineterminator).writerows(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return out.getvalue()
