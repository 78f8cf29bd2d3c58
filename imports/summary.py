"""What one import did: its counts, its errors and warnings, and the record of the import.

One type for the whole way: the ``Applier`` fills in what applying the file did (or, on a dry
run or a rejection, would have done), ``import_register`` the file, the status and the
record, and the CLI prints it (``--json``: ``as_json``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

# The keys of the ``--json`` object, in its order (../shared/CONTRACT.md).
JSON_KEYS = ("import_id", "landlord", "file", "sha256", "status", "dry_run", "forced", "rows",
             "added", "changed", "retired", "unchanged", "skipped", "not_placed", "reason",
             "message", "warnings", "errors", "error_count", "seconds")
JSON_ERRORS = 100  # errors in the --json object; all of them are in the error report


@dataclass
class Summary:
    """The outcome of one import, as the CLI prints it with ``--json``."""

    import_id: int | None = None
    landlord: str = ""
    file: str = ""
    sha256: str = ""
    status: str = "accepted"  # accepted, unchanged, rejected; with dry_run, what it would have been
    dry_run: bool = False
    forced: bool = False
    rows: int = 0
    added: int = 0
    changed: int = 0
    retired: int = 0
    unchanged: int = 0
    not_placed: int = 0
    reason: str | None = None
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # line, column, reason
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        """Rows left out: one per error."""
        return len(self.errors)

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def accepted(self) -> bool:
        return self.status in ("accepted", "unchanged")

    def error_csv(self) -> str:
        """The error report: one line per skipped row, with line number, column and reason."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(["rad", "kolumn", "fel"])
        writer.writerows(self.errors)
        return out.getvalue()

    def as_json(self) -> dict:
        """The ``--json`` object (the admin page reads it too), with the first errors."""
        data = {key: getattr(self, key) for key in JSON_KEYS}
        data["warnings"] = list(self.warnings)
        data["errors"] = [{"line": line, "column": column, "reason": reason}
                          for line, column, reason in self.errors[:JSON_ERRORS]]
        return data
